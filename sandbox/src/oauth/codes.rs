//! Authorization codes: issued on Allow, single-use, 10 minutes (docs/google.md,
//! "Code exchange and refresh").

use super::grants::{Issued, Store};
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

impl Store {
    pub(crate) fn issue_code(&mut self, code: AuthCode) -> String {
        let value = random::auth_code();
        self.codes.insert(value.clone(), code);
        value
    }

    /// Looks a code up without using it; the caller checks client, redirect and PKCE.
    pub(crate) fn peek_code(&self, code: &str, now: i64) -> Result<AuthCode, CodeProblem> {
        match self.codes.get(code) {
            Some(c) if now - c.issued_at > CODE_SECS => Err(CodeProblem::Expired),
            Some(c) => Ok(c.clone()),
            None if code.starts_with("4/") => Err(CodeProblem::UsedOrUnknown),
            None => Err(CodeProblem::Malformed),
        }
    }

    /// Uses a code up and issues the tokens it was worth.
    pub(crate) fn redeem_code(&mut self, code: &str, now: i64) -> Option<Issued> {
        let c = self.codes.remove(code)?;
        let key = (c.client_id.clone(), c.email.clone());
        let first_consent = self.consented.insert(key);
        let access_token = self.new_access(&c.client_id, &c.email, &c.scopes, &c.access_type, now);
        let grant = (first_consent || c.prompt_consent).then(|| self.new_grant(&c, now));
        Some(Issued {
            access_token,
            expires_in: self.access_secs,
            refresh_token_expires_in: grant.as_ref().and_then(|g| g.access_until.map(|t| t - now)),
            refresh_token: grant.map(|g| g.token),
            scopes: c.scopes,
            email: c.email,
        })
    }
}
