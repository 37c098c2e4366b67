//! The browser part of the authorization-code flow: bind the loopback listener, build the
//! consent URL on oauth2 (PKCE S256, `state`, `access_type=offline`, and `prompt=consent` with
//! `login_hint` when authorizing an account again), hand it to a [`Launcher`], and wait for
//! one valid redirect, a cancel or the timeout. One flow at a time.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2::{AuthType, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use tokio::sync::{oneshot, Notify};

use crate::auth::loopback::{Catch, Caught, Loopback, PageResult, Redirect};
use crate::auth::oauth;
use crate::error::{Error, Result};
use crate::events::{AuthorizePhase, AuthorizeProgress, Event, Events};
use crate::provider::Provider;
use crate::secret::Secret;

/// Opens the consent URL in a browser. Tests drive a real browser through it.
pub trait Launcher: Send + Sync {
    /// Opens `url`; an error means no browser could be opened (the flow then keeps waiting
    /// and shows the URL so the person can open it, or paste the redirect address).
    fn open(&self, url: &str) -> Result<()>;
}

/// The system browser through the `open` crate; `$BROWSER` (its first entry) wins when set.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLauncher;

impl Launcher for SystemLauncher {
    fn open(&self, url: &str) -> Result<()> {
        let browser = std::env::var("BROWSER").unwrap_or_default();
        let first = browser.split(':').map(str::trim).find(|s| !s.is_empty());
        let result = match first {
            Some(cmd) => open::with_detached(url, cmd),
            None => open::that_detached(url),
        };
        // The launcher's error quotes its command line, which holds the URL and its `state`.
        result.map_err(|e| Error::BrowserLaunch {
            why: e.to_string().replace(url, "<the consent address>"),
        })
    }
}

struct Active {
    cancel: Arc<Notify>,
    catch: Option<Arc<Catch>>,
}

/// The flow in progress, if any (for cancel and paste).
#[derive(Default)]
pub(crate) struct FlowSlot {
    active: Mutex<Option<Active>>,
}

/// Clears the slot when the flow ends, however it ends.
struct SlotGuard<'a>(&'a FlowSlot);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.lock() = None;
    }
}

impl FlowSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn begin(&self) -> Result<(SlotGuard<'_>, Arc<Notify>)> {
        let mut a = self.lock();
        if a.is_some() {
            return Err(Error::AuthorizationBusy);
        }
        let cancel = Arc::new(Notify::new());
        *a = Some(Active {
            cancel: cancel.clone(),
            catch: None,
        });
        Ok((SlotGuard(self), cancel))
    }

    /// Ends the flow in progress with "cancelled" (nothing when none runs).
    pub(crate) fn cancel(&self) {
        if let Some(a) = self.lock().as_ref() {
            a.cancel.notify_one();
        }
    }

    /// The paste fallback.
    pub(crate) fn complete(&self, pasted: &str) -> Result<()> {
        let catch = self
            .lock()
            .as_ref()
            .and_then(|a| a.catch.clone())
            .ok_or(Error::NoAuthorizationInProgress)?;
        catch.accept_pasted(pasted)
    }
}

/// What the flow needs to know.
pub(crate) struct FlowRequest<'a> {
    pub(crate) provider: &'a Provider,
    pub(crate) client_id: &'a str,
    pub(crate) login_hint: Option<&'a str>,
    pub(crate) again: bool,
    pub(crate) port: Option<u16>,
    pub(crate) timeout: Duration,
}

/// A caught code, ready for the exchange.
pub(crate) struct FlowOutcome {
    pub(crate) code: Secret,
    pub(crate) scope: Option<String>,
    pub(crate) redirect_uri: String,
    pub(crate) verifier: Secret,
    /// Tells the browser tab how it ended.
    pub(crate) reply: Option<oneshot::Sender<PageResult>>,
}

/// The consent URL, built by oauth2: `response_type=code`, the client, `state`, the PKCE
/// S256 challenge, the loopback `redirect_uri` and the scopes, plus Google's
/// `access_type=offline`, and `prompt=consent` and `login_hint` when authorizing again
/// (docs/google.md, "The authorization request"). The client secret never goes in it.
pub(crate) fn consent_url(
    req: &FlowRequest<'_>,
    redirect_uri: &str,
    challenge: PkceCodeChallenge,
    state: &Secret,
) -> Result<String> {
    let client = oauth::client(req.provider, req.client_id, None, AuthType::RequestBody)?;
    let redirect_uri = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| Error::Internal {
        why: format!("the loopback redirect address is not a URL: {e}"),
    })?;
    let state = CsrfToken::new(state.expose().to_owned());
    let mut request = client
        .authorize_url(|| state)
        .set_redirect_uri(Cow::Owned(redirect_uri))
        .add_scopes(req.provider.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge)
        .add_extra_param("access_type", "offline");
    if req.again {
        request = request.add_extra_param("prompt", "consent");
    }
    if let Some(hint) = req.login_hint {
        request = request.add_extra_param("login_hint", hint);
    }
    Ok(request.url().0.to_string())
}

/// A one-time CSRF `state`: 24 random octets, base64url, compared in constant time when the
/// redirect comes back.
fn one_time_state() -> Secret {
    Secret::new(CsrfToken::new_random_len(24).into_secret())
}

/// RFC 9207: a redirect's `iss` must name the provider asked; a provider that advertises
/// the parameter must send it.
fn check_issuer(provider: &Provider, iss: Option<&str>) -> Result<()> {
    let Some(expected) = provider.issuer.as_deref() else {
        return Ok(());
    };
    match iss {
        Some(got) if got == expected => Ok(()),
        None if !provider.authorization_response_iss => Ok(()),
        got => Err(Error::IssuerMismatch {
            expected: expected.to_owned(),
            got: got.unwrap_or("(none)").to_owned(),
        }),
    }
}

fn progress(events: &Events, phase: AuthorizePhase, url: Option<&str>, error: Option<&Error>) {
    events.publish(Event::Authorize(AuthorizeProgress {
        phase,
        url: url.map(str::to_owned),
        error: error.map(Error::explain),
    }));
}

/// Runs the browser part; returns the caught code or why there is none.
pub(crate) async fn run(
    slot: &FlowSlot,
    events: &Events,
    req: FlowRequest<'_>,
    launcher: Arc<dyn Launcher>,
) -> Result<FlowOutcome> {
    let (guard, cancel) = slot.begin()?;
    let state = one_time_state();
    // A verifier of 32 random octets (43 characters) and its S256 challenge.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut loopback = match Loopback::bind(req.port, state.clone()).await {
        Ok(l) => l,
        Err(e) => {
            progress(events, AuthorizePhase::Failed, None, Some(&e));
            return Err(e);
        }
    };
    if let Some(a) = slot.lock().as_mut() {
        a.catch = Some(loopback.catch.clone());
    }
    let url = consent_url(&req, &loopback.redirect_uri, challenge, &state)?;
    tracing::info!(port = loopback.port, "loopback listener bound on 127.0.0.1");
    progress(events, AuthorizePhase::Listening, Some(&url), None);
    match launcher.open(&url) {
        Ok(()) => progress(events, AuthorizePhase::BrowserOpened, Some(&url), None),
        Err(e) => {
            tracing::warn!("no browser could be opened; waiting for the person: {e}");
            progress(events, AuthorizePhase::Waiting, Some(&url), Some(&e));
        }
    }
    // Some(Some(..)) caught, Some(None) cancelled, None timed out.
    let ended = tokio::select! {
        c = &mut loopback.caught => Some(c.ok()),
        _ = cancel.notified() => Some(None),
        _ = tokio::time::sleep(req.timeout) => None,
    };
    let Some(ended) = ended else {
        loopback.close().await;
        let e = Error::AuthorizationTimedOut {
            secs: req.timeout.as_secs(),
        };
        progress(events, AuthorizePhase::Failed, None, Some(&e));
        return Err(e);
    };
    let redirect_uri = loopback.redirect_uri.clone();
    loopback.close().await;
    drop(guard);
    let Some(Caught {
        redirect,
        iss,
        reply,
    }) = ended
    else {
        progress(events, AuthorizePhase::Cancelled, None, None);
        return Err(Error::AuthorizationCancelled);
    };
    let fail = |e: Error, reply: Option<oneshot::Sender<PageResult>>| {
        if let Some(r) = reply {
            let _ = r.send(Err(e.explain()));
        }
        progress(events, AuthorizePhase::Failed, None, Some(&e));
        Err(e)
    };
    if let Err(e) = check_issuer(req.provider, iss.as_deref()) {
        return fail(e, reply);
    }
    match redirect {
        Redirect::Denied => fail(Error::AuthorizationDenied, reply),
        Redirect::Refused { code, description } => {
            fail(Error::AuthorizationRefused { code, description }, reply)
        }
        Redirect::Code { code, scope } => Ok(FlowOutcome {
            code,
            scope,
            redirect_uri,
            verifier: Secret::new(verifier.into_secret()),
            reply,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use oauth2::PkceCodeVerifier;

    use super::*;

    fn query(url: &str) -> HashMap<String, String> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    fn request<'a>(provider: &'a Provider, again: bool, hint: Option<&'a str>) -> FlowRequest<'a> {
        FlowRequest {
            provider,
            client_id: "1-abc.apps.googleusercontent.com",
            login_hint: hint,
            again,
            port: None,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_consent_url_carries_the_s256_challenge_state_and_googles_parameters() {
        let p = crate::provider::google();
        let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let req = request(&p, true, Some("ann@example.com"));
        let url = consent_url(&req, "http://127.0.0.1:5/", challenge, &Secret::new("st8")).unwrap();
        assert!(
            url.starts_with("https://accounts.google.com/o/oauth2/v2/auth?"),
            "{url}"
        );
        let q = query(&url);
        // RFC 7636 Appendix B's vector.
        assert_eq!(
            q["code_challenge"],
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "1-abc.apps.googleusercontent.com");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:5/");
        assert_eq!(q["scope"], p.scopes.join(" "));
        assert_eq!(q["state"], "st8");
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["login_hint"], "ann@example.com");
        assert!(!q.contains_key("client_secret"));
        assert!(!q.contains_key("code_verifier"));

        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let first = query(
            &consent_url(
                &request(&p, false, None),
                "http://127.0.0.1:5/",
                challenge,
                &Secret::new("s"),
            )
            .unwrap(),
        );
        assert!(!first.contains_key("prompt") && !first.contains_key("login_hint"));
    }

    #[test]
    fn verifiers_are_43_chars_and_fresh() {
        let (a, av) = PkceCodeChallenge::new_random_sha256();
        let (_, bv) = PkceCodeChallenge::new_random_sha256();
        assert_eq!(av.secret().len(), 43);
        assert_eq!(a.as_str().len(), 43);
        assert_ne!(av.secret(), bv.secret());
        assert_eq!(
            PkceCodeChallenge::from_code_verifier_sha256(&av).as_str(),
            a.as_str()
        );
        assert_eq!(one_time_state().len(), 32);
        assert_ne!(one_time_state(), one_time_state());
    }
}
