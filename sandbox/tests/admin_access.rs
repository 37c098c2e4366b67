//! Who may use the sandbox: `/admin` only with the per-run admin token, and both HTTP
//! ports only for requests addressed to loopback with their own port, so that neither
//! another local process nor a web page (DNS rebinding) can revoke grants, inject faults
//! or read the mailbox. Refused requests change nothing.

mod common;

use std::net::SocketAddr;

use common::{Harness, SCOPES};
use postern_sandbox::{start, SandboxConfig, SandboxError};
use reqwest::header::{HOST, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ME: &str = "owner@example.com";

fn http_port(h: &Harness) -> u16 {
    url::Url::parse(&h.ep().admin_endpoint)
        .unwrap()
        .port()
        .unwrap()
}

fn https_port(h: &Harness) -> u16 {
    url::Url::parse(&h.ep().issuer).unwrap().port().unwrap()
}

/// Revocation, a fault and the mailbox, each asked for through `request` (which adds or
/// leaves out credentials): all refused with `want`, and the grant and the token endpoint
/// are as before.
async fn refused_changes_nothing(
    h: &Harness,
    refresh: &str,
    want: StatusCode,
    request: impl Fn(Method, &str) -> reqwest::RequestBuilder,
) -> Vec<reqwest::Response> {
    let mut answers = Vec::new();
    for (method, path, body) in [
        (Method::POST, "/revoke", json!({"email": ME})),
        (Method::POST, "/faults/token-500", json!({"times": 5})),
        (
            Method::POST,
            "/clock/advance",
            json!({"seconds": 400 * 86_400}),
        ),
        (Method::GET, "/mailbox", Value::Null),
        (Method::GET, "/no-such-control", Value::Null),
    ] {
        let mut req = request(method.clone(), path);
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), want, "{method} /admin{path}");
        answers.push(resp);
    }
    assert_eq!(h.sandbox.live_grants(ME), 1, "the grant is still live");
    let (status, _) = h.refresh(refresh).await;
    assert_eq!(
        status, 200,
        "no fault was injected and the clock did not move"
    );
    answers
}

#[tokio::test]
async fn admin_requests_without_the_token_are_refused_and_say_where_it_is() {
    let h = Harness::start().await;
    let t = h.login(ME, SCOPES).await;
    let refresh = t.refresh.unwrap();
    let answers = refused_changes_nothing(&h, &refresh, StatusCode::UNAUTHORIZED, |m, p| {
        h.http.request(m, format!("{}{p}", h.ep().admin_endpoint))
    })
    .await;
    for resp in answers {
        assert_eq!(
            resp.headers()[WWW_AUTHENTICATE],
            "Bearer realm=\"postern-sandbox admin\""
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
        let why = body["error_description"].as_str().unwrap();
        assert!(
            why.contains("Authorization: Bearer")
                && why.contains("`admin_token`")
                && why.contains(&format!("{}/counts", h.ep().admin_endpoint)),
            "the refusal says how to get and send the token: {why}"
        );
        assert!(!why.contains(h.sandbox.admin_token()));
    }
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_changes_nothing() {
    let h = Harness::start().await;
    let refresh = h.login(ME, SCOPES).await.refresh.unwrap();
    let real = h.sandbox.admin_token().to_owned();
    // One character off, the right token under another scheme, and the right token's prefix.
    let mut off = real.clone().into_bytes();
    off[10] = if off[10] == b'A' { b'B' } else { b'A' };
    let off = String::from_utf8(off).unwrap();
    let wrong = [
        format!("Bearer {off}"),
        format!("Basic {real}"),
        format!("Bearer {}", &real[..real.len() - 1]),
        real.clone(),
    ];
    for authorization in wrong {
        let answers = refused_changes_nothing(&h, &refresh, StatusCode::UNAUTHORIZED, |m, p| {
            h.http
                .request(m, format!("{}{p}", h.ep().admin_endpoint))
                .header("authorization", &authorization)
        })
        .await;
        let body: Value = answers.into_iter().next().unwrap().json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
    }
}

#[tokio::test]
async fn with_the_token_the_admin_api_works() {
    let h = Harness::start().await;
    h.login(ME, SCOPES).await;
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let resp = h
        .http
        .post(format!("{}/revoke", h.ep().admin_endpoint))
        .header(
            "authorization",
            format!("bearer {}", h.sandbox.admin_token()),
        )
        .json(&json!({"email": ME}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(h.sandbox.live_grants(ME), 0);
    let unknown = h.admin_get("/no-such-control").await;
    assert_eq!(
        unknown.status(),
        404,
        "with the token, an unknown route is 404"
    );
}

/// A web page whose name was rebound to 127.0.0.1: the browser connects to the sandbox
/// but sends the page's own name in Host.
fn rebound_client(port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .resolve("evil.example", SocketAddr::from(([127, 0, 0, 1], port)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_rebound_name_is_refused_even_with_the_token() {
    let h = Harness::start().await;
    let refresh = h.login(ME, SCOPES).await.refresh.unwrap();
    let port = http_port(&h);
    let evil = rebound_client(port);
    let token = h.sandbox.admin_token().to_owned();
    let answers = refused_changes_nothing(&h, &refresh, StatusCode::MISDIRECTED_REQUEST, |m, p| {
        evil.request(m, format!("http://evil.example:{port}/admin{p}"))
            .bearer_auth(&token)
    })
    .await;
    let text = answers.into_iter().next().unwrap().text().await.unwrap();
    assert!(
        text.contains(&format!("127.0.0.1:{port}")) && text.contains("\"evil.example:"),
        "the refusal names the addresses it answers and the Host it got: {text}"
    );
}

#[tokio::test]
async fn the_consent_page_is_refused_to_another_host_name() {
    let h = Harness::start().await;
    let port = http_port(&h);
    let (_, challenge) = common::pkce();
    let url = h.auth_url(&[
        ("client_id", &h.ep().client_id),
        ("redirect_uri", common::REDIRECT),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let rebound = url.replace("127.0.0.1", "evil.example");
    let resp = rebound_client(port).get(&rebound).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::MISDIRECTED_REQUEST);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let resp = h
        .http
        .get(&url)
        .header(HOST, "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::MISDIRECTED_REQUEST);
    // The same page, addressed as a loopback name, is shown; only those were counted.
    for host in [format!("localhost:{port}"), format!("[::1]:{port}")] {
        let resp = h.http.get(&url).header(HOST, host).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(h.sandbox.count("consent"), 2);
}

#[tokio::test]
async fn the_https_port_answers_only_its_own_loopback_address() {
    let h = Harness::start().await;
    let port = https_port(&h);
    let discovery = format!("{}/.well-known/openid-configuration", h.ep().issuer);
    for (host, want) in [
        ("evil.example".to_owned(), 421),
        (format!("evil.example:{port}"), 421),
        (format!("127.0.0.1:{}", port.wrapping_add(1)), 421),
        (format!("localhost:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
    ] {
        let resp = h
            .http
            .get(&discovery)
            .header(HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), want, "Host: {host}");
    }
}

#[tokio::test]
async fn a_request_without_a_host_header_is_refused() {
    let h = Harness::start().await;
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", http_port(&h)))
        .await
        .unwrap();
    let request = format!(
        "GET /admin/counts HTTP/1.0\r\nAuthorization: Bearer {}\r\n\r\n",
        h.sandbox.admin_token()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.0 421"), "{answer}");
    assert!(answer.contains("there was no Host header"), "{answer}");
}

#[tokio::test]
async fn each_start_draws_its_own_token_and_a_configured_one_is_used() {
    let (a, b) = (Harness::start().await, Harness::start().await);
    assert_ne!(a.sandbox.admin_token(), b.sandbox.admin_token());
    let resp = b
        .http
        .get(format!("{}/counts", b.ep().admin_endpoint))
        .bearer_auth(a.sandbox.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "another sandbox's token");
    let line: Value = serde_json::from_str(&a.sandbox.json_line()).unwrap();
    assert_eq!(line["admin_token"], a.sandbox.admin_token());

    let chosen = "a-test-token-of-32-characters-00";
    let config = SandboxConfig {
        admin_token: Some(chosen.to_owned()),
        ..SandboxConfig::default()
    };
    assert!(
        !format!("{config:?}").contains(chosen),
        "a logged configuration leaves the token out"
    );
    let c = Harness::start_with(config).await;
    assert_eq!(c.sandbox.admin_token(), chosen);
    assert_eq!(c.admin_get("/counts").await.status(), 200);

    for weak in ["", "short", "sixteen or more but with spaces"] {
        let err = start(SandboxConfig {
            admin_token: Some(weak.to_owned()),
            ..SandboxConfig::default()
        })
        .await
        .unwrap_err();
        assert!(
            matches!(err, SandboxError::AdminToken { .. }),
            "{weak:?}: {err}"
        );
        assert!(err.to_string().contains("at least 16"), "{err}");
    }
}
