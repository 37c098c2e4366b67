//! Test harness: a sandbox, an independent HTTPS client that trusts only the sandbox's
//! CA, a browser-like walk through the consent form, and a Python smtplib runner.
#![allow(dead_code)]

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use postern_sandbox::{start, Endpoints, Profile, Sandbox, SandboxConfig};
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const MAIL: &str = "https://mail.google.com/";
pub const SCOPES: &str = "openid email https://mail.google.com/";
pub const REDIRECT: &str = "http://127.0.0.1:53682/callback";

pub struct Harness {
    pub sandbox: Arc<Sandbox>,
    pub http: reqwest::Client,
}

/// A PKCE pair: 32 random octets as the verifier, its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand_bytes());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn rand_bytes() -> [u8; 32] {
    rand::random()
}

/// The outcome of one consent: what came back to the loopback redirect.
#[derive(Debug)]
pub struct Redirect {
    pub location: url::Url,
}

impl Redirect {
    pub fn param(&self, name: &str) -> Option<String> {
        self.location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// Options for one authorization.
pub struct Authorize<'a> {
    pub client_id: &'a str,
    pub scope: &'a str,
    pub login_hint: Option<&'a str>,
    pub prompt: Option<&'a str>,
    /// Scopes to untick on the consent page.
    pub untick: &'a [&'a str],
    pub deny: bool,
    pub challenge: &'a str,
}

pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
    pub body: Value,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(SandboxConfig::default()).await
    }

    pub async fn strict() -> Self {
        Self::start_with(SandboxConfig {
            profile: Profile::Strict,
            ..SandboxConfig::default()
        })
        .await
    }

    pub async fn start_with(config: SandboxConfig) -> Self {
        let sandbox = start(config).await.expect("sandbox starts");
        let pem = std::fs::read(&sandbox.endpoints().ca_cert).expect("ca.pem written");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA parses"))
            .tls_built_in_root_certs(false)
            .redirect(Policy::none())
            .build()
            .expect("client builds");
        Self {
            sandbox: Arc::new(sandbox),
            http,
        }
    }

    pub fn ep(&self) -> &Endpoints {
        self.sandbox.endpoints()
    }

    pub fn auth_url(&self, pairs: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(&self.ep().authorization_endpoint).unwrap();
        url.query_pairs_mut().extend_pairs(pairs);
        url.to_string()
    }

    /// GETs the consent page like a browser, fills it in, and submits it.
    pub async fn consent(&self, a: &Authorize<'_>) -> Redirect {
        self.consent_choosing(a, None).await
    }

    /// As [`Harness::consent`], choosing an `#access-duration` option (seconds as text).
    pub async fn consent_choosing(&self, a: &Authorize<'_>, duration: Option<&str>) -> Redirect {
        let mut pairs = vec![
            ("client_id", a.client_id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", a.scope),
            ("code_challenge", a.challenge),
            ("code_challenge_method", "S256"),
            ("state", "st-123"),
            ("access_type", "offline"),
        ];
        if let Some(h) = a.login_hint {
            pairs.push(("login_hint", h));
        }
        if let Some(p) = a.prompt {
            pairs.push(("prompt", p));
        }
        let page = self.http.get(self.auth_url(&pairs)).send().await.unwrap();
        assert_eq!(page.status(), 200, "consent page shown");
        let html = page.text().await.unwrap();
        let mut form: Vec<(String, String)> = hidden_inputs(&html);
        let email = input_value(&html, "email").expect("an #email input");
        form.push(("email".into(), email));
        for scope in checkbox_values(&html) {
            if !a.untick.contains(&scope.as_str()) {
                form.push(("scope".into(), scope));
            }
        }
        assert!(html.contains("id=\"allow\"") && html.contains("id=\"deny\""));
        assert!(html.contains("<select id=\"access-duration\" name=\"access_duration\">"));
        if let Some(d) = duration {
            form.push(("access_duration".into(), d.into()));
        }
        let decision = if a.deny { "deny" } else { "allow" };
        form.push(("decision".into(), decision.into()));
        let resp = self
            .http
            .post(&self.ep().authorization_endpoint)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 302, "consent redirects");
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        Redirect {
            location: url::Url::parse(&location).unwrap(),
        }
    }

    /// Consent with defaults for the given client; returns the code and the verifier.
    pub async fn code_for(&self, client_id: &str, scope: &str, email: &str) -> (String, String) {
        self.code_choosing(client_id, scope, email, None).await
    }

    /// Consent choosing time-based access (`Some("3600")`) or not; code and verifier.
    pub async fn code_choosing(
        &self,
        client_id: &str,
        scope: &str,
        email: &str,
        duration: Option<&str>,
    ) -> (String, String) {
        let (verifier, challenge) = pkce();
        let r = self
            .consent_choosing(
                &Authorize {
                    client_id,
                    scope,
                    login_hint: Some(email),
                    prompt: Some("consent"),
                    untick: &[],
                    deny: false,
                    challenge: &challenge,
                },
                duration,
            )
            .await;
        (r.param("code").expect("a code"), verifier)
    }

    /// A full flow for the default client with time-based access chosen on the page.
    pub async fn login_choosing(&self, email: &str, scope: &str, duration: &str) -> Tokens {
        let ep = self.ep().clone();
        let (code, verifier) = self
            .code_choosing(&ep.client_id, scope, email, Some(duration))
            .await;
        self.exchange(&ep.client_id, &ep.client_secret, &code, &verifier)
            .await
    }

    /// Trades a code for tokens; panics unless the answer is 200.
    pub async fn exchange(&self, id: &str, secret: &str, code: &str, verifier: &str) -> Tokens {
        let (status, body) = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", id),
                ("client_secret", secret),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ])
            .await;
        assert_eq!(status, 200, "code exchange: {body}");
        Tokens {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().map(str::to_owned),
            body,
        }
    }

    /// The discovery document.
    pub async fn discovery(&self) -> Value {
        let url = format!("{}/.well-known/openid-configuration", self.ep().issuer);
        let resp = self.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    /// The claims of an id_token, after checking its signature against the JWKS the
    /// discovery document names, its `iss` and its `aud`.
    pub async fn id_token_claims(&self, jwt: &str) -> Value {
        let jwks_uri = self.discovery().await["jwks_uri"]
            .as_str()
            .unwrap()
            .to_owned();
        let jwks: Value = self
            .http
            .get(jwks_uri)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = &jwks["keys"][0];
        let decoding = jsonwebtoken::DecodingKey::from_ec_components(
            key["x"].as_str().unwrap(),
            key["y"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&[&self.ep().client_id]);
        validation.set_issuer(&[&self.ep().issuer]);
        // exp is sandbox time; tests that move the clock check it themselves.
        validation.validate_exp = false;
        jsonwebtoken::decode::<Value>(jwt, &decoding, &validation)
            .expect("id_token verifies against the JWKS")
            .claims
    }

    /// The default client's credentials, for [`ClientAuth`].
    pub fn me(&self) -> (String, String) {
        (self.ep().client_id.clone(), self.ep().client_secret.clone())
    }

    /// UserInfo with a Bearer token: status and body.
    pub async fn userinfo(&self, access: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(&self.ep().userinfo_endpoint)
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(&self.ep().token_endpoint)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// A full flow for the default client; returns the tokens.
    pub async fn login(&self, email: &str, scope: &str) -> Tokens {
        let ep = self.ep().clone();
        self.login_with(&ep.client_id, &ep.client_secret, email, scope)
            .await
    }

    pub async fn login_with(&self, id: &str, secret: &str, email: &str, scope: &str) -> Tokens {
        let (code, verifier) = self.code_for(id, scope, email).await;
        let (status, body) = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", id),
                ("client_secret", secret),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ])
            .await;
        assert_eq!(status, 200, "code exchange: {body}");
        Tokens {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().map(str::to_owned),
            body,
        }
    }

    pub async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        let ep = self.ep().clone();
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", &ep.client_id),
            ("client_secret", &ep.client_secret),
        ])
        .await
    }

    pub async fn tokeninfo(&self, access: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(&self.ep().tokeninfo_endpoint)
            .query(&[("access_token", access)])
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// A request to `<admin_endpoint>PATH` carrying the sandbox's admin token.
    pub fn admin_request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.ep().admin_endpoint))
            .bearer_auth(self.sandbox.admin_token())
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let resp = self
            .admin_request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "admin {path}: {}",
            resp.status()
        );
        resp.json().await.unwrap()
    }

    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.admin_request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
    }
}

mod client_auth;
mod html;
mod python;

#[allow(unused_imports)]
pub use client_auth::{Answer, ClientAuth};
#[allow(unused_imports)]
pub use html::{checkbox_values, hidden_inputs, input_value};
