//! The controls of a running sandbox: clock, publishing status, faults, limits, counters,
//! the mailbox, and the truth about grants.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::mailbox::StoredMessage;
use crate::store::clients::Client;
use crate::store::grants::lifetime_secs;
use crate::{Profile, Sandbox};

impl Sandbox {
    /// Moves the sandbox clock forward (tokens, codes and quotas age accordingly).
    pub fn advance_clock(&self, d: Duration) {
        self.shared.clock.advance(d);
    }

    /// Sandbox time in Unix seconds.
    pub fn now(&self) -> i64 {
        self.shared.clock.now()
    }

    /// Sets a client's publishing status; under "Testing" new refresh tokens with
    /// non-Sign-In scopes die 7 days after consent.
    pub fn set_testing(&self, client_id: &str, testing: bool) {
        self.shared.store().set_testing(client_id, testing);
    }

    /// Registers another Desktop client; returns its (id, secret).
    pub fn register_client(&self, testing: bool) -> (String, String) {
        let client = Client::generate(testing);
        let pair = (client.id.clone(), client.secret.clone());
        self.shared.store().clients.push(client);
        pair
    }

    /// Removes every grant of the account, as when the person removes the app's access.
    pub fn revoke_grants(&self, email: &str) {
        self.shared.store().revoke_grants(email);
    }

    /// The account's password changed: grants carrying a Gmail scope die.
    pub fn password_changed(&self, email: &str) {
        self.shared.store().password_changed(email);
    }

    /// The number of live refresh tokens per client and account (Google: 100).
    pub fn set_refresh_token_limit(&self, n: usize) {
        self.shared.store().refresh_limit = n.max(1);
    }

    /// The next `times` SMTP transactions lose their connection in the middle of DATA.
    pub fn fault_smtp_drop_in_data(&self, times: usize) {
        self.shared.faults.set_smtp_drop_in_data(clamp(times));
    }

    /// After the end of DATA the message is stored at once but the `250` is sent `delay`
    /// later (zero: at once), so a test can act while the client waits for it.
    pub fn fault_smtp_slow_accept(&self, delay: Duration) {
        self.shared.faults.set_smtp_accept_delay(delay);
    }

    /// The next `commands` SMTP commands get `421 4.7.0` and the connection closes.
    pub fn fault_smtp_421(&self, commands: usize) {
        self.shared.faults.set_smtp_421(clamp(commands));
    }

    /// The next `commands` SMTP commands get no reply, and neither does anything after them
    /// on that connection: a server that hangs with the connection open.
    pub fn fault_smtp_silent(&self, commands: usize) {
        self.shared.faults.set_smtp_silent(clamp(commands));
    }

    /// The next `times` token requests get HTTP 500.
    pub fn fault_token_500(&self, times: usize) {
        self.shared.faults.set_token_500(clamp(times));
    }

    /// Every token request waits `d` before answering (zero turns it off).
    pub fn fault_token_delay(&self, d: Duration) {
        self.shared.faults.set_token_delay(d);
    }

    /// How often the named event happened (see the README for the names).
    pub fn count(&self, name: &str) -> u64 {
        self.shared.counts.get(name)
    }

    /// Sets every counter back to zero.
    pub fn reset_counts(&self) {
        self.shared.counts.reset();
    }

    /// Recipients per account over a rolling 24 h (default 500); beyond it, `550 5.4.5`.
    pub fn set_daily_recipient_limit(&self, n: usize) {
        self.shared.daily_recipient_limit.store(n, Ordering::SeqCst);
    }

    /// The message size limit in bytes, advertised in EHLO's SIZE (default 35882577).
    pub fn set_max_message_size(&self, n: usize) {
        self.shared.max_message_size.store(n, Ordering::SeqCst);
    }

    /// Whether SMTP offers OAUTHBEARER (default true, as Gmail). When false, EHLO's AUTH line
    /// leaves it out and `AUTH OAUTHBEARER` gets `504 5.7.4 Unrecognized Authentication Type`.
    pub fn set_oauthbearer_offered(&self, offered: bool) {
        self.shared
            .oauthbearer_offered
            .store(offered, Ordering::SeqCst);
    }

    /// Every message accepted so far, oldest first.
    pub fn mailbox(&self) -> Vec<StoredMessage> {
        self.shared.mailbox().clone()
    }

    /// The provider this sandbox plays, fixed at start.
    pub fn profile(&self) -> Profile {
        self.shared.profile
    }

    /// The RFC 7662 introspection endpoint (`POST`, client authentication required).
    /// Served in both profiles; only the strict discovery document advertises it.
    pub fn introspection_endpoint(&self) -> String {
        format!(
            "{}{}",
            self.endpoints().issuer,
            crate::oauth::INTROSPECT_PATH
        )
    }

    /// The lifetime of access tokens issued from now on (at least one second).
    pub fn set_access_token_lifetime(&self, d: Duration) {
        self.shared.store().access_secs = lifetime_secs(d);
    }

    /// Whether the address counts as verified (`email_verified`) in the id_token
    /// (Google profile), tokeninfo and UserInfo. Every address is verified by default.
    pub fn set_email_verified(&self, email: &str, verified: bool) {
        self.shared.store().set_email_verified(email, verified);
    }

    /// While `on`, every connection that reaches the revocation endpoint is reset without
    /// an HTTP answer, as with a provider that cannot be reached.
    pub fn fault_revoke_unreachable(&self, on: bool) {
        self.shared.faults.set_revoke_unreachable(on);
    }

    /// The next `times` revocation requests get 503 with `Retry-After: 1`; nothing is
    /// revoked.
    pub fn fault_revoke_503(&self, times: usize) {
        self.shared.faults.set_revoke_503(clamp(times));
    }

    /// Grants of the address (any client) whose refresh token still works: the truth a
    /// test compares with what a client claims.
    pub fn live_grants(&self, email: &str) -> usize {
        let now = self.shared.clock.now();
        self.shared.store().live_grants(email, now)
    }
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
