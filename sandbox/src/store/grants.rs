//! The grant store: authorization codes, grants (one per refresh token), access tokens, and
//! every rule that ends a grant (docs/google.md, "Why a grant ends"): revocation, 6 months
//! unused, password change, Testing's 7 days, time-based access, the per client+account count
//! limit, and (strict profile) reuse of a rotated-out refresh token.

use std::collections::{HashMap, HashSet};

use super::clients::Client;
use super::codes::{AuthCode, CodeProblem, Codes};
use super::scopes;
use crate::random;

pub(crate) const DEFAULT_ACCESS_TOKEN_SECS: i64 = 3599;

/// An access token lifetime in whole seconds, at least one.
pub(crate) fn lifetime_secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4).max(1)
}
const TESTING_REFRESH_SECS: i64 = 7 * 86_400;
const IDLE_REFRESH_SECS: i64 = 183 * 86_400;
pub(crate) const DEFAULT_REFRESH_LIMIT: usize = 100;

/// What a person consented to once, and the refresh token that currently stands for it.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    id: u64,
    pub(super) token: String,
    client_id: String,
    email: String,
    scopes: Vec<String>,
    last_used: i64,
    /// Testing's end: consent + 7 days.
    testing_end: Option<i64>,
    /// Time-based access's end: consent + the chosen duration.
    pub(super) access_until: Option<i64>,
    access_type: String,
}

impl Grant {
    fn alive(&self, now: i64) -> bool {
        self.end().is_none_or(|t| now < t) && now - self.last_used < IDLE_REFRESH_SECS
    }

    /// The fixed end of the grant, if it has one (idleness aside).
    fn end(&self) -> Option<i64> {
        match (self.testing_end, self.access_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
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
    pub(crate) expires_in: i64,
    pub(crate) refresh_token: Option<String>,
    /// Seconds left of time-based access, when the person chose it.
    pub(crate) refresh_token_expires_in: Option<i64>,
    pub(crate) scopes: Vec<String>,
    pub(crate) email: String,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RefreshProblem {
    /// Issued once, now dead: "Token has been expired or revoked."
    Dead,
    /// Never issued: "Bad Request".
    Unknown,
    /// Issued to another client: 401 unauthorized_client.
    OtherClient,
    /// A refresh token already replaced by rotation: the grant was revoked just now.
    Reused,
}

/// The result of a revocation request that named a token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// The grant behind the token ended.
    Revoked,
    /// Unknown, expired or already revoked: nothing to do.
    AlreadyDead,
    /// The token belongs to another client; nothing was revoked.
    OtherClient,
}

/// What introspection may say about a live token.
#[derive(Debug)]
pub(crate) struct TokenFacts {
    pub(crate) client_id: String,
    pub(crate) email: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) exp: i64,
    pub(crate) refresh: bool,
}

#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) clients: Vec<Client>,
    pub(crate) refresh_limit: usize,
    /// Lifetime of new access tokens.
    pub(crate) access_secs: i64,
    /// Strict profile: every refresh replaces the refresh token.
    rotate: bool,
    codes: Codes,
    grants: Vec<Grant>,
    /// Refresh tokens replaced by rotation, and the grant each belonged to.
    rotated: HashMap<String, u64>,
    access: HashMap<String, AccessToken>,
    dead: HashSet<String>,
    pub(super) consented: HashSet<(String, String)>,
    /// Addresses whose `email_verified` is false (every other address is verified).
    unverified: HashSet<String>,
    next_grant: u64,
}

impl Store {
    pub(crate) fn new(first: Client, rotate: bool, access_secs: i64) -> Self {
        Self {
            clients: vec![first],
            refresh_limit: DEFAULT_REFRESH_LIMIT,
            access_secs,
            rotate,
            codes: Codes::default(),
            grants: Vec::new(),
            rotated: HashMap::new(),
            access: HashMap::new(),
            dead: HashSet::new(),
            consented: HashSet::new(),
            unverified: HashSet::new(),
            next_grant: 1,
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

    pub(crate) fn set_email_verified(&mut self, email: &str, verified: bool) {
        let email = email.to_ascii_lowercase();
        if verified {
            self.unverified.remove(&email);
        } else {
            self.unverified.insert(email);
        }
    }

    pub(crate) fn email_verified(&self, email: &str) -> bool {
        !self.unverified.contains(&email.to_ascii_lowercase())
    }

    pub(crate) fn issue_code(&mut self, code: AuthCode) -> String {
        self.codes.issue(code)
    }

    /// Looks a code up without using it; the caller checks client, redirect and PKCE.
    pub(crate) fn peek_code(&self, code: &str, now: i64) -> Result<AuthCode, CodeProblem> {
        self.codes.peek(code, now)
    }

    /// Uses a code up and issues the tokens it was worth.
    pub(crate) fn redeem_code(&mut self, code: &str, now: i64) -> Option<Issued> {
        let c = self.codes.take(code)?;
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
                expires_at: now + self.access_secs,
                access_type: access_type.to_owned(),
            },
        );
        token
    }

    fn new_grant(&mut self, c: &AuthCode, now: i64) -> Grant {
        let testing = self.client(&c.client_id).is_some_and(|cl| cl.testing);
        let testing_end = (testing && !scopes::only_identity(&c.scopes))
            .then_some(c.issued_at + TESTING_REFRESH_SECS);
        let grant = Grant {
            id: self.next_grant,
            token: random::refresh_token(),
            client_id: c.client_id.clone(),
            email: c.email.clone(),
            scopes: c.scopes.clone(),
            last_used: now,
            testing_end,
            access_until: c.access_duration.map(|d| c.issued_at + d),
            access_type: c.access_type.clone(),
        };
        self.next_grant += 1;
        self.grants.push(grant.clone());
        self.enforce_limit(&c.client_id, &c.email);
        grant
    }

    /// The 101st refresh token silently invalidates the oldest.
    fn enforce_limit(&mut self, client_id: &str, email: &str) {
        let mine = |g: &Grant| g.client_id == client_id && g.email == email;
        let excess = self
            .grants
            .iter()
            .filter(|g| mine(g))
            .count()
            .saturating_sub(self.refresh_limit);
        let oldest: Vec<u64> = self
            .grants
            .iter()
            .filter(|g| mine(g))
            .take(excess)
            .map(|g| g.id)
            .collect();
        self.drop_grants(|g| oldest.contains(&g.id));
    }

    /// The refresh-token grant: a new access token, and (strict) a new refresh token.
    pub(crate) fn use_refresh(
        &mut self,
        token: &str,
        client_id: &str,
        now: i64,
    ) -> Result<Issued, RefreshProblem> {
        let Some(pos) = self.grants.iter().position(|g| g.token == token) else {
            return Err(self.refresh_problem(token, client_id));
        };
        if self.grants[pos].client_id != client_id {
            return Err(RefreshProblem::OtherClient);
        }
        if !self.grants[pos].alive(now) {
            let id = self.grants[pos].id;
            self.drop_grants(|g| g.id == id);
            return Err(RefreshProblem::Dead);
        }
        let rotated = self.rotate.then(random::refresh_token);
        let g = &mut self.grants[pos];
        g.last_used = now;
        if let Some(new) = &rotated {
            let old = std::mem::replace(&mut g.token, new.clone());
            self.rotated.insert(old, g.id);
        }
        let g = self.grants[pos].clone();
        let access_token = self.new_access(&g.client_id, &g.email, &g.scopes, &g.access_type, now);
        Ok(Issued {
            access_token,
            expires_in: self.access_secs,
            refresh_token: rotated,
            refresh_token_expires_in: g.access_until.map(|t| t - now),
            scopes: g.scopes,
            email: g.email,
        })
    }

    /// Why a token that stands for no grant was refused; reuse of a rotated-out token
    /// ends the grant it belonged to (RFC 9700 §4.14.2).
    fn refresh_problem(&mut self, token: &str, client_id: &str) -> RefreshProblem {
        let Some(&id) = self.rotated.get(token) else {
            return if self.dead.contains(token) {
                RefreshProblem::Dead
            } else {
                RefreshProblem::Unknown
            };
        };
        let Some(g) = self.grants.iter().find(|g| g.id == id) else {
            return RefreshProblem::Dead;
        };
        if g.client_id != client_id {
            return RefreshProblem::OtherClient;
        }
        let (client, email) = (g.client_id.clone(), g.email.clone());
        self.kill(|c, e, _| c == client && e == email);
        RefreshProblem::Reused
    }

    /// A live (unexpired, unrevoked) access token.
    pub(crate) fn live_access(&self, token: &str, now: i64) -> Option<&AccessToken> {
        self.access.get(token).filter(|a| now < a.expires_at)
    }

    fn live_grant(&self, token: &str, now: i64) -> Option<&Grant> {
        self.grants
            .iter()
            .find(|g| g.token == token && g.alive(now))
    }

    /// Grants of the address whose refresh token still works.
    pub(crate) fn live_grants(&self, email: &str, now: i64) -> usize {
        self.grants
            .iter()
            .filter(|g| g.email.eq_ignore_ascii_case(email) && g.alive(now))
            .count()
    }

    /// What a live access or refresh token stands for.
    pub(crate) fn facts(&self, token: &str, now: i64) -> Option<TokenFacts> {
        if let Some(a) = self.live_access(token, now) {
            return Some(TokenFacts {
                client_id: a.client_id.clone(),
                email: a.email.clone(),
                scopes: a.scopes.clone(),
                exp: a.expires_at,
                refresh: false,
            });
        }
        let g = self.live_grant(token, now)?;
        let idle_end = g.last_used + IDLE_REFRESH_SECS;
        Some(TokenFacts {
            client_id: g.client_id.clone(),
            email: g.email.clone(),
            scopes: g.scopes.clone(),
            exp: g.end().map_or(idle_end, |t| t.min(idle_end)),
            refresh: true,
        })
    }

    /// Revokes the whole grant behind a live access or refresh token. With `client_id`
    /// (an authenticated revocation) a token of another client is refused.
    pub(crate) fn revoke_token(
        &mut self,
        token: &str,
        client_id: Option<&str>,
        now: i64,
    ) -> Revocation {
        let Some(facts) = self.facts(token, now) else {
            return Revocation::AlreadyDead;
        };
        if client_id.is_some_and(|c| c != facts.client_id) {
            return Revocation::OtherClient;
        }
        self.kill(|c, e, _| c == facts.client_id && e == facts.email);
        Revocation::Revoked
    }

    /// As when the person removes the app's access in their Google Account.
    pub(crate) fn revoke_grants(&mut self, email: &str) {
        self.kill(|_, e, _| e.eq_ignore_ascii_case(email));
    }

    /// A password change kills grants that carry a Gmail scope.
    pub(crate) fn password_changed(&mut self, email: &str) {
        self.kill(|_, e, s| e.eq_ignore_ascii_case(email) && scopes::has_mail(s));
    }

    /// Ends the matching grants and access tokens; the next consent is a first consent.
    fn kill(&mut self, doomed: impl Fn(&str, &str, &[String]) -> bool) {
        let gone: Vec<(String, String)> = self
            .grants
            .iter()
            .filter(|g| doomed(&g.client_id, &g.email, &g.scopes))
            .map(|g| (g.client_id.clone(), g.email.clone()))
            .collect();
        self.drop_grants(|g| doomed(&g.client_id, &g.email, &g.scopes));
        for key in gone {
            self.consented.remove(&key);
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

    /// Removes grants; their current and rotated-out refresh tokens become dead.
    fn drop_grants(&mut self, doomed: impl Fn(&Grant) -> bool) {
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.grants)
            .into_iter()
            .partition(doomed);
        self.grants = kept;
        for g in gone {
            let old: Vec<String> = self
                .rotated
                .iter()
                .filter(|(_, id)| **id == g.id)
                .map(|(t, _)| t.clone())
                .collect();
            for t in old {
                self.rotated.remove(&t);
                self.dead.insert(t);
            }
            self.dead.insert(g.token);
        }
    }
}
