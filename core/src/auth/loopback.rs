//! The loopback listener (RFC 8252 §7.3): axum on 127.0.0.1, bound only while a flow is in
//! flight. Exactly one redirect with the right `state` ends the flow; stray requests
//! (favicon, other paths, a wrong `state`) get a small page and change nothing. The tab
//! shows a friendly page once core knows whether the grant was stored.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, Explanation, Result};
use crate::secret::{constant_time_eq, Secret};

/// What the one valid redirect said.
pub(crate) enum Redirect {
    /// Consent given.
    Code {
        code: Secret,
        /// Granted scopes as the provider listed them.
        scope: Option<String>,
    },
    /// `error=access_denied`.
    Denied,
    /// Another `error=`.
    Refused { code: String, description: String },
}

/// How the flow ended, for the page in the browser tab.
pub(crate) type PageResult = std::result::Result<String, Explanation>;

/// A redirect plus the channel to tell the waiting tab how it ended.
pub(crate) struct Caught {
    pub(crate) redirect: Redirect,
    /// RFC 9207 `iss`, when the provider sent one.
    pub(crate) iss: Option<String>,
    pub(crate) reply: Option<oneshot::Sender<PageResult>>,
}

/// The part shared by the HTTP handler and the paste fallback.
pub(crate) struct Catch {
    state: Secret,
    tx: Mutex<Option<oneshot::Sender<Caught>>>,
}

enum Verdict {
    Accepted(oneshot::Receiver<PageResult>),
    WrongState,
    AlreadyDone,
    NotARedirect,
}

impl Catch {
    pub(crate) fn new(state: Secret, tx: Mutex<Option<oneshot::Sender<Caught>>>) -> Catch {
        Catch { state, tx }
    }

    /// Whether the redirect with this query ended the flow.
    pub(crate) fn judge_query(&self, query: &str) -> bool {
        matches!(self.judge(query), Verdict::Accepted(_))
    }

    fn judge(&self, query: &str) -> Verdict {
        let mut state = None;
        let (mut code, mut scope, mut error, mut description) = (None, None, None, None);
        let mut iss = None;
        // A parameter given twice makes the redirect ambiguous (which `state` vouches for which
        // `code`?), so such a redirect is never accepted.
        let mut repeated = false;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "state" => repeated |= state.replace(v.into_owned()).is_some(),
                "code" => repeated |= code.replace(Secret::new(v.into_owned())).is_some(),
                "scope" => scope = Some(v.into_owned()),
                "error" => repeated |= error.replace(v.into_owned()).is_some(),
                "error_description" => description = Some(v.into_owned()),
                "iss" => repeated |= iss.replace(v.into_owned()).is_some(),
                _ => {}
            }
        }
        if code.is_none() && error.is_none() {
            return Verdict::NotARedirect;
        }
        let Some(state) = state.filter(|_| !repeated) else {
            return Verdict::WrongState;
        };
        if !constant_time_eq(state.as_bytes(), self.state.expose().as_bytes()) {
            return Verdict::WrongState;
        }
        let redirect = match (error.as_deref(), code) {
            (Some("access_denied"), _) => Redirect::Denied,
            (Some(e), _) => Redirect::Refused {
                code: e.to_owned(),
                description: description.unwrap_or_default(),
            },
            (None, Some(code)) => Redirect::Code { code, scope },
            (None, None) => return Verdict::NotARedirect,
        };
        let Some(tx) = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return Verdict::AlreadyDone;
        };
        let (reply, rx) = oneshot::channel();
        if tx
            .send(Caught {
                redirect,
                iss,
                reply: Some(reply),
            })
            .is_err()
        {
            return Verdict::AlreadyDone;
        }
        Verdict::Accepted(rx)
    }

    /// The paste fallback: the address the browser was sent to, typed back by the person.
    pub(crate) fn accept_pasted(&self, pasted: &str) -> Result<()> {
        let url = url::Url::parse(pasted.trim()).map_err(|_| Error::RedirectInvalid {
            why: "it is not an address".to_owned(),
        })?;
        match self.judge(url.query().unwrap_or_default()) {
            Verdict::Accepted(_) => Ok(()),
            Verdict::WrongState => Err(Error::RedirectInvalid {
                why: "its state does not match (it belongs to another sign-in)".to_owned(),
            }),
            Verdict::AlreadyDone => Err(Error::RedirectInvalid {
                why: "this sign-in already has its answer".to_owned(),
            }),
            Verdict::NotARedirect => Err(Error::RedirectInvalid {
                why: "it carries neither a code nor an error".to_owned(),
            }),
        }
    }
}

/// A bound listener waiting for the redirect.
pub(crate) struct Loopback {
    pub(crate) port: u16,
    pub(crate) redirect_uri: String,
    pub(crate) catch: Arc<Catch>,
    pub(crate) caught: oneshot::Receiver<Caught>,
    task: JoinHandle<()>,
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} - Postern</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#202124}}\
h1{{font-size:1.4rem;font-weight:500}}p{{line-height:1.5}}</style></head>\
<body><h1 id=\"title\">{title}</h1><p id=\"message\">{body}</p></body></html>"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn handle(State(catch): State<Arc<Catch>>, uri: Uri, RawQuery(q): RawQuery) -> Response {
    if uri.path() != "/" {
        let html = page(
            "Not here",
            "This address belongs to Postern's sign-in and has nothing else.",
        );
        return (StatusCode::NOT_FOUND, Html(html)).into_response();
    }
    match catch.judge(q.as_deref().unwrap_or_default()) {
        Verdict::Accepted(rx) => {
            let html = match tokio::time::timeout(Duration::from_secs(60), rx).await {
                Ok(Ok(Ok(address))) => page(
                    "Postern is authorized",
                    &format!(
                        "{} can now send mail from Postern. You can close this tab.",
                        escape(&address)
                    ),
                ),
                Ok(Ok(Err(e))) => page(
                    "Authorization did not finish",
                    &format!(
                        "{} {} You can close this tab.",
                        escape(&e.message),
                        escape(&e.fix)
                    ),
                ),
                _ => page(
                    "Answer received",
                    "Postern received the answer. Return to Postern; you can close this tab.",
                ),
            };
            Html(html).into_response()
        }
        Verdict::WrongState => {
            tracing::warn!("loopback: a redirect with a wrong state was ignored");
            let html = page(
                "Not the sign-in Postern is waiting for",
                "This answer does not belong to the sign-in in progress, so it was ignored. Finish the sign-in in the tab Postern opened.",
            );
            (StatusCode::BAD_REQUEST, Html(html)).into_response()
        }
        Verdict::AlreadyDone => Html(page(
            "Already done",
            "Postern already has its answer. You can close this tab.",
        ))
        .into_response(),
        Verdict::NotARedirect => {
            let html = page(
                "Waiting for the sign-in",
                "Postern is waiting for the sign-in to finish in the other tab.",
            );
            (StatusCode::BAD_REQUEST, Html(html)).into_response()
        }
    }
}

impl Loopback {
    /// Binds 127.0.0.1 on `port` (a free one when `None`) and starts answering.
    pub(crate) async fn bind(port: Option<u16>, state: Secret) -> Result<Loopback> {
        let wanted = port.unwrap_or(0);
        let listener = TcpListener::bind(("127.0.0.1", wanted))
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => Error::PortInUse { port: wanted },
                _ => Error::Internal {
                    why: format!("cannot listen on 127.0.0.1:{wanted}: {e}"),
                },
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Internal { why: e.to_string() })?
            .port();
        let (tx, caught) = oneshot::channel();
        let catch = Arc::new(Catch {
            state,
            tx: Mutex::new(Some(tx)),
        });
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(catch.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!("loopback listener ended: {e}");
            }
        });
        Ok(Loopback {
            port,
            redirect_uri: format!("http://127.0.0.1:{port}/"),
            catch,
            caught,
            task,
        })
    }

    /// Stops listening and waits until the port is released.
    pub(crate) async fn close(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catch(state: &str) -> (Catch, oneshot::Receiver<Caught>) {
        let (tx, rx) = oneshot::channel();
        (
            Catch {
                state: Secret::new(state),
                tx: Mutex::new(Some(tx)),
            },
            rx,
        )
    }

    #[test]
    fn only_the_right_state_is_accepted_and_only_once() {
        let (c, mut rx) = catch("s1");
        assert!(matches!(c.judge("code=x&state=s2"), Verdict::WrongState));
        assert!(matches!(c.judge("code=x"), Verdict::WrongState));
        assert!(matches!(c.judge("foo=bar"), Verdict::NotARedirect));
        assert!(matches!(
            c.judge("code=x&state=s1&state=s2"),
            Verdict::WrongState
        ));
        assert!(matches!(
            c.judge("code=x&state=s2&state=s1"),
            Verdict::WrongState
        ));
        assert!(matches!(
            c.judge("code=x&state=s1&code=y"),
            Verdict::WrongState
        ));
        assert!(rx.try_recv().is_err());
        assert!(matches!(
            c.judge("code=4%2F0A&state=s1&scope=email"),
            Verdict::Accepted(_)
        ));
        assert!(matches!(c.judge("code=y&state=s1"), Verdict::AlreadyDone));
        match rx.try_recv().unwrap().redirect {
            Redirect::Code { code, scope } => {
                assert_eq!(code.expose(), "4/0A", "decoded exactly once");
                assert_eq!(scope.as_deref(), Some("email"));
            }
            _ => panic!("expected a code"),
        }
    }

    #[test]
    fn denial_and_paste() {
        let (c, mut rx) = catch("s1");
        let e = c
            .accept_pasted("http://127.0.0.1:5/?error=access_denied&state=nope")
            .unwrap_err();
        assert_eq!(e.code(), "redirect_invalid");
        c.accept_pasted("http://127.0.0.1:5/?error=access_denied&state=s1")
            .unwrap();
        assert!(matches!(rx.try_recv().unwrap().redirect, Redirect::Denied));
    }

    #[tokio::test]
    async fn a_taken_port_is_named_in_the_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let e = Loopback::bind(Some(port), Secret::new("s"))
            .await
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            format!("port {port} on 127.0.0.1 is already in use")
        );
    }
}
