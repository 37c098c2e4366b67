//! The grant store: authorization codes, refresh tokens, access tokens, and every rule
//! that kills them (§10): revocation, 6 months unused, password change, Testing's 7 days,
//! the per client+account count limit.

use std::collections::{HashMap, HashSet};

use super::clients::Client;
use super::scopes;
use crate::random;

pub(crate) const ACCESS_TOKEN_SECS: i64 = 3599;
pub(crate) const CODE_SECS: i64 = 600;
const TESTING_REFRESH_SECS: i64 = 7 * 86_400;
const IDLE_REFRESH_SECS: i64 = 183 * 86_400;
pub(crate) const DEFAULT_REFRESH_LIMIT: usize = 100;

#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) client_id: String,
    pub(crate) email: String,
    pub(crate) redirect_uri: String,
    /// Granted scopes, aliases expanded.
    pub(crate) scopes: Vec<String>,
    pub(crate) code_challenge: String,
    pub(crate) issued_at: i64,
    pub(crate) prompt_consent: bool,
    pub(crate) access_type: String,
}

#[derive(Debug, Clone)]
struct RefreshToken {
    token: String,
    client_id: String,
    email: String,
    scopes: Vec<String>,
    last_used: i64,
    dies_at: Option<i64>,
    access_type: String,
}

/// A live or expired access token.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub(crate) client_id: String,
    pub(crate) email: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: i64,
    pub(crate) access_type: String,
}

/// What the token endpoint hands out.
#[derive(Debug)]
pub(crate) struct Issued {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) email: String,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CodeProblem {
    Malformed,
    UsedOrUnknown,
    Expired,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RefreshProblem {
    /// Issued once, now dead: "Token has been expired or revoked."
    Dead,
    /// Never issued: "Bad Request".
    Unknown,
    /// Issued to another client: 401 unauthorized_client.
    OtherClient,
}

#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) clients: Vec<Client>,
    pub(crate) refresh_limit: usize,
    codes: HashMap<String, AuthCode>,
    refresh: Vec<RefreshToken>,
    access: HashMap<String, AccessToken>,
    dead: HashSet<String>,
    consented: HashSet<(String, String)>,
}

impl Store {
    pub(crate) fn new(first: Client) -> Self {
        Self {
            clients: vec![first],
            refresh_limit: DEFAULT_REFRESH_LIMIT,
            codes: HashMap::new(),
            refresh: Vec::new(),
            access: HashMap::new(),
            dead: HashSet::new(),
            consented: HashSet::new(),
        }
    }

    pub(crate) fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// Sets a client's publishing status; false when the client does not exist.
    pub(crate) fn set_testing(&mut self, client_id: &str, testing: bool) -> bool {
        match self.clients.iter_mut().find(|c| c.id == client_id) {
            Some(c) => {
                c.testing = testing;
                true
            }
            None => false,
        }
    }

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
        let refresh_token = (first_consent || c.prompt_consent).then(|| self.new_refresh(&c, now));
        Some(Issued {
            access_token,
            refresh_token,
            scopes: c.scopes,
            email: c.email,
        })
    }

    fn new_access(
        &mut self,
        client_id: &str,
        email: &str,
        scopes: &[String],
        access_type: &str,
        now: i64,
    ) -> String {
        let token = random::access_token();
        self.access.insert(
            token.clone(),
            AccessToken {
                client_id: client_id.to_owned(),
                email: email.to_owned(),
                scopes: scopes.to_vec(),
                expires_at: now + ACCESS_TOKEN_SECS,
                access_type: access_type.to_owned(),
            },
        );
        token
    }

    fn new_refresh(&mut self, c: &AuthCode, now: i64) -> String {
        let testing = self.client(&c.client_id).is_some_and(|cl| cl.testing);
        let dies_at =
            (testing && !scopes::only_identity(&c.scopes)).then_some(now + TESTING_REFRESH_SECS);
        let token = random::refresh_token();
        self.refresh.push(RefreshToken {
            token: token.clone(),
            client_id: c.client_id.clone(),
            email: c.email.clone(),
            scopes: c.scopes.clone(),
            last_used: now,
            dies_at,
            access_type: c.access_type.clone(),
        });
        self.enforce_limit(&c.client_id, &c.email);
        token
    }

    /// The 101st refresh token silently invalidates the oldest.
    fn enforce_limit(&mut self, client_id: &str, email: &str) {
        loop {
            let mine = |r: &RefreshToken| r.client_id == client_id && r.email == email;
            if self.refresh.iter().filter(|r| mine(r)).count() <= self.refresh_limit {
                return;
            }
            let Some(pos) = self.refresh.iter().position(mine) else {
                return;
            };
            let old = self.refresh.remove(pos);
            self.dead.insert(old.token);
        }
    }

    fn refresh_alive(r: &RefreshToken, now: i64) -> bool {
        r.dies_at.is_none_or(|t| now < t) && now - r.last_used < IDLE_REFRESH_SECS
    }

    /// The refresh-token grant: a new access token, no new refresh token.
    pub(crate) fn use_refresh(
        &mut self,
        token: &str,
        client_id: &str,
        now: i64,
    ) -> Result<Issued, RefreshProblem> {
        let Some(pos) = self.refresh.iter().position(|r| r.token == token) else {
            return Err(if self.dead.contains(token) {
                RefreshProblem::Dead
            } else {
                RefreshProblem::Unknown
            });
        };
        if self.refresh[pos].client_id != client_id {
            return Err(RefreshProblem::OtherClient);
        }
        if !Self::refresh_alive(&self.refresh[pos], now) {
            let r = self.refresh.remove(pos);
            self.dead.insert(r.token);
            return Err(RefreshProblem::Dead);
        }
        self.refresh[pos].last_used = now;
        let r = self.refresh[pos].clone();
        let access_token = self.new_access(&r.client_id, &r.email, &r.scopes, &r.access_type, now);
        Ok(Issued {
            access_token,
            refresh_token: None,
            scopes: r.scopes,
            email: r.email,
        })
    }

    /// A live (unexpired, unrevoked) access token.
    pub(crate) fn live_access(&self, token: &str, now: i64) -> Option<&AccessToken> {
        self.access.get(token).filter(|a| now < a.expires_at)
    }

    /// Revokes the whole grant behind a live access or refresh token; false when the
    /// token is unknown or already dead.
    pub(crate) fn revoke_token(&mut self, token: &str, now: i64) -> bool {
        let grant = if let Some(a) = self.live_access(token, now) {
            (a.client_id.clone(), a.email.clone())
        } else if let Some(r) = self
            .refresh
            .iter()
            .find(|r| r.token == token && Self::refresh_alive(r, now))
        {
            (r.client_id.clone(), r.email.clone())
        } else {
            return false;
        };
        self.kill(|client, email, _| client == grant.0 && email == grant.1);
        true
    }

    /// As when the person removes the app's access in their Google Account.
    pub(crate) fn revoke_grants(&mut self, email: &str) {
        self.kill(|_, e, _| e.eq_ignore_ascii_case(email));
    }

    /// A password change kills grants that carry a Gmail scope.
    pub(crate) fn password_changed(&mut self, email: &str) {
        self.kill(|_, e, s| e.eq_ignore_ascii_case(email) && scopes::has_mail(s));
    }

    fn kill(&mut self, doomed: impl Fn(&str, &str, &[String]) -> bool) {
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.refresh)
            .into_iter()
            .partition(|r| doomed(&r.client_id, &r.email, &r.scopes));
        self.refresh = kept;
        for r in gone {
            self.consented
                .remove(&(r.client_id.clone(), r.email.clone()));
            self.dead.insert(r.token);
        }
        let access_gone: Vec<String> = self
            .access
            .iter()
            .filter(|(_, a)| doomed(&a.client_id, &a.email, &a.scopes))
            .map(|(t, _)| t.clone())
            .collect();
        for t in access_gone {
            if let Some(a) = self.access.remove(&t) {
                self.consented.remove(&(a.client_id, a.email));
            }
            self.dead.insert(t);
        }
    }
}
