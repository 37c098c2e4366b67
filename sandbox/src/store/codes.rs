//! Authorization codes: issued on Allow, single-use, 10 minutes (docs/google.md,
//! "Code exchange and refresh").

use std::collections::HashMap;

use crate::random;

pub(crate) const CODE_SECS: i64 = 600;

#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) client_id: String,
    pub(crate) email: String,
    pub(crate) redirect_uri: String,
    /// Granted scopes, aliases expanded.
    pub(crate) scopes: Vec<String>,
    pub(crate) code_challenge: String,
    /// The moment of consent.
    pub(crate) issued_at: i64,
    pub(crate) prompt_consent: bool,
    pub(crate) access_type: String,
    /// Time-based access chosen on the consent page, in seconds.
    pub(crate) access_duration: Option<i64>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CodeProblem {
    Malformed,
    UsedOrUnknown,
    Expired,
}

/// The codes issued and not yet used.
#[derive(Debug, Default)]
pub(crate) struct Codes(HashMap<String, AuthCode>);

impl Codes {
    pub(crate) fn issue(&mut self, code: AuthCode) -> String {
        let value = random::auth_code();
        self.0.insert(value.clone(), code);
        value
    }

    /// Looks a code up without using it; the caller checks client, redirect and PKCE.
    pub(crate) fn peek(&self, code: &str, now: i64) -> Result<AuthCode, CodeProblem> {
        match self.0.get(code) {
            Some(c) if now - c.issued_at > CODE_SECS => Err(CodeProblem::Expired),
            Some(c) => Ok(c.clone()),
            None if code.starts_with("4/") => Err(CodeProblem::UsedOrUnknown),
            None => Err(CodeProblem::Malformed),
        }
    }

    /// Takes a code out: it can be used once.
    pub(crate) fn take(&mut self, code: &str) -> Option<AuthCode> {
        self.0.remove(code)
    }
}
