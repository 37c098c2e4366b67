//! Every error of the authorization and token endpoints in Google's shape (codes,
//! descriptions, HTTP statuses), and malformed HTTP input, with an independent client.

mod common;

use common::{pkce, Harness, REDIRECT, SCOPES};
use serde_json::Value;

#[tokio::test]
async fn codes_are_single_use_and_the_verifier_is_checked() {
    let h = Harness::start().await;
    let ep = h.ep().clone();
    let (code, verifier) = h.code_for(&ep.client_id, SCOPES, "c@example.com").await;
    let exchange = |verifier: Option<String>, code: String| {
        let h = &h;
        let ep = ep.clone();
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("client_id", ep.client_id.clone()),
                ("client_secret", ep.client_secret.clone()),
                ("redirect_uri", REDIRECT.to_owned()),
            ];
            if let Some(v) = verifier {
                form.push(("code_verifier", v));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            h.token(&form).await
        }
    };
    let (s, b) = exchange(None, code.clone()).await;
    assert_eq!(
        (s, b["error"].as_str(), b["error_description"].as_str()),
        (400, Some("invalid_grant"), Some("Missing code verifier."))
    );
    let (wrong, _) = pkce();
    let (s, b) = exchange(Some(wrong), code.clone()).await;
    assert_eq!(
        (s, b["error"].as_str(), b["error_description"].as_str()),
        (400, Some("invalid_grant"), Some("Invalid code verifier."))
    );
    let (s, _) = exchange(Some(verifier.clone()), code.clone()).await;
    assert_eq!(s, 200);
    let (s, b) = exchange(Some(verifier.clone()), code.clone()).await;
    assert_eq!(
        (s, b["error"].as_str(), b["error_description"].as_str()),
        (400, Some("invalid_grant"), Some("Bad Request")),
        "reuse"
    );
    let (s, b) = exchange(Some(verifier), "not-a-code".into()).await;
    assert_eq!(
        (s, b["error_description"].as_str()),
        (400, Some("Malformed auth code."))
    );

    // Codes are short-lived.
    let (code, verifier) = h.code_for(&ep.client_id, SCOPES, "c@example.com").await;
    h.sandbox
        .advance_clock(std::time::Duration::from_secs(11 * 60));
    let (s, b) = exchange(Some(verifier), code).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired code"
    );
}

#[tokio::test]
async fn token_endpoint_client_errors_have_googles_codes_and_statuses() {
    let h = Harness::start().await;
    let ep = h.ep().clone();
    let (code, verifier) = h.code_for(&ep.client_id, SCOPES, "d@example.com").await;
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let id: &'static str = Box::leak(ep.client_id.clone().into_boxed_str());
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            with(&[("client_id", id)]),
            400,
            "invalid_request",
            "client_secret is missing.",
        ),
        (
            with(&[("client_id", id), ("client_secret", "GOCSPX-wrong")]),
            401,
            "invalid_client",
            "Unauthorized",
        ),
        (
            with(&[
                ("client_id", "123-x.apps.googleusercontent.com"),
                ("client_secret", "x"),
            ]),
            401,
            "invalid_client",
            "The OAuth client was not found.",
        ),
    ];
    for (form, status, error, description) in cases {
        let (s, b) = h.token(&form).await;
        assert_eq!(
            (s, b["error"].as_str(), b["error_description"].as_str()),
            (status, Some(error), Some(description))
        );
    }
    let (s, b) = h
        .token(&[
            ("grant_type", "password"),
            ("client_id", id),
            ("client_secret", &ep.client_secret),
        ])
        .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let mut form = base.to_vec();
    form[2] = ("redirect_uri", "http://127.0.0.1:1/other");
    form.push(("client_id", id));
    form.push(("client_secret", &ep.client_secret));
    let (s, b) = h.token(&form).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("redirect_uri_mismatch"))
    );

    // HTTP Basic authentication works too.
    let resp = h
        .http
        .post(&ep.token_endpoint)
        .basic_auth(&ep.client_id, Some(&ep.client_secret))
        .form(&base)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["access_token"].is_string());
    assert!(
        !body.to_string().contains("GOCSPX-"),
        "no secret is echoed back"
    );
}

#[tokio::test]
async fn authorization_errors_are_error_pages_not_redirects() {
    let h = Harness::start().await;
    let (_, challenge) = pkce();
    let id = h.ep().client_id.clone();
    let good = [
        ("client_id", id.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let replace = |k: &'static str, v: Option<&'static str>| {
        let mut p: Vec<(&str, &str)> = good.iter().filter(|(n, _)| *n != k).cloned().collect();
        if let Some(v) = v {
            p.push((k, v));
        }
        p
    };
    let cases = [
        (
            replace("client_id", Some("1-nope.apps.googleusercontent.com")),
            401,
            "invalid_client",
        ),
        (replace("client_id", None), 400, "invalid_request"),
        (
            replace("redirect_uri", Some("https://127.0.0.1:5000/")),
            400,
            "redirect_uri_mismatch",
        ),
        (
            replace("redirect_uri", Some("http://example.com/cb")),
            400,
            "redirect_uri_mismatch",
        ),
        (
            replace("redirect_uri", Some("urn:ietf:wg:oauth:2.0:oob")),
            400,
            "invalid_request",
        ),
        (replace("response_type", None), 400, "invalid_request"),
        (
            replace("response_type", Some("token")),
            400,
            "invalid_request",
        ),
        (replace("scope", None), 400, "invalid_request"),
        (replace("code_challenge", None), 400, "invalid_request"),
        (
            replace("code_challenge_method", Some("plain")),
            400,
            "invalid_request",
        ),
    ];
    for (params, status, code) in cases {
        let resp = h.http.get(h.auth_url(&params)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{params:?}");
        assert!(resp.headers().get("location").is_none(), "never a redirect");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(&format!("Error {status}: {code}")),
            "{params:?}: {html}"
        );
    }
    for ok in [
        "http://localhost:8080/",
        "http://[::1]:9/cb",
        "http://127.0.0.1:1",
    ] {
        let params = replace(
            "redirect_uri",
            Some(Box::leak(ok.to_owned().into_boxed_str())),
        );
        let resp = h.http.get(h.auth_url(&params)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{ok} is a loopback redirect");
    }
}

#[tokio::test]
async fn malformed_http_requests_get_answers_not_panics() {
    let h = Harness::start().await;
    let resp = h
        .http
        .post(&h.ep().token_endpoint)
        .body(vec![0xff, 0xfe, 0x00, b'=', b'&'])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = h
        .http
        .get(format!("{}/nowhere", h.ep().issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let long = "x".repeat(20_000);
    let resp = h
        .http
        .get(h.auth_url(&[("client_id", &long)]))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());

    // Raw garbage on the TLS port, then a client that vanishes mid-request.
    use tokio::io::AsyncWriteExt;
    let port = h.ep().issuer.rsplit(':').next().unwrap().to_owned();
    let mut tcp = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    tcp.write_all(b"\x16\x03\x01garbage\r\n\r\n").await.unwrap();
    drop(tcp);
    let http_port = h
        .ep()
        .admin_endpoint
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut tcp = tokio::net::TcpStream::connect(format!("127.0.0.1:{http_port}"))
        .await
        .unwrap();
    let vanishing = format!(
        "POST /admin/clock/advance HTTP/1.1\r\nHost: 127.0.0.1:{http_port}\r\n\
         Authorization: Bearer {}\r\nContent-Length: 100\r\n\r\n{{\"sec",
        h.sandbox.admin_token()
    );
    tcp.write_all(vanishing.as_bytes()).await.unwrap();
    drop(tcp);
    // An over-long request line gets an HTTP error, not a hang.
    use tokio::io::AsyncReadExt;
    let mut tcp = tokio::net::TcpStream::connect(format!("127.0.0.1:{http_port}"))
        .await
        .unwrap();
    let line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(1_000_000));
    let _ = tcp.write_all(line.as_bytes()).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_to_end(&mut answer),
    );
    let _ = read
        .await
        .expect("the server answers or closes, never hangs");
    if !answer.is_empty() {
        assert!(
            answer.starts_with(b"HTTP/1.1 4"),
            "{}",
            String::from_utf8_lossy(&answer[..answer.len().min(100)])
        );
    }
    // Still serving.
    assert_eq!(h.admin_get("/counts").await.status(), 200);
    let resp = h
        .admin_request(reqwest::Method::POST, "/clock/advance")
        .body("not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "a body that is not JSON");
}
