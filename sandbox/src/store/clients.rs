//! Registered OAuth clients (Desktop type): id, secret, publishing status.

use crate::random;

#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secret: String,
    /// Publishing status "Testing": refresh tokens die 7 days after consent.
    pub(crate) testing: bool,
}

impl Client {
    pub(crate) fn generate(testing: bool) -> Self {
        Self {
            id: random::client_id(),
            secret: random::client_secret(),
            testing,
        }
    }
}
