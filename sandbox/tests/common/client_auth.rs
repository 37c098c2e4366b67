//! Revocation and introspection requests with each client authentication method.

use base64::Engine;
use serde_json::Value;

use super::Harness;

/// How a client authenticates at revocation and introspection.
#[derive(Clone, Copy, Debug)]
pub enum ClientAuth<'a> {
    None,
    /// `client_secret_basic`: HTTP Basic with the form-urlencoded id and secret.
    Basic(&'a str, &'a str),
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    Post(&'a str, &'a str),
}

/// An answer: status, headers, body text.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Harness {
    /// POSTs a form to an HTTPS endpoint with the given client authentication.
    pub async fn post_authenticated(
        &self,
        url: &str,
        auth: ClientAuth<'_>,
        form: &[(&str, &str)],
    ) -> Answer {
        let mut form: Vec<(&str, &str)> = form.to_vec();
        let mut req = self.http.post(url);
        match auth {
            ClientAuth::None => {}
            ClientAuth::Basic(id, secret) => {
                let pair = format!("{}:{}", form_encode(id), form_encode(secret));
                let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
                req = req.header("authorization", format!("Basic {b64}"));
            }
            ClientAuth::Post(id, secret) => {
                form.push(("client_id", id));
                form.push(("client_secret", secret));
            }
        }
        let resp = req.form(&form).send().await.expect("an HTTP answer");
        Answer {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    /// `POST /revoke` with `token` and the given client authentication.
    pub async fn revoke(&self, token: &str, auth: ClientAuth<'_>) -> Answer {
        let url = self.ep().revocation_endpoint.clone();
        self.post_authenticated(&url, auth, &[("token", token)])
            .await
    }

    /// `POST /introspect` (RFC 7662) as the default client.
    pub async fn introspect(&self, token: &str) -> Value {
        let ep = self.ep().clone();
        let url = self.sandbox.introspection_endpoint();
        let a = self
            .post_authenticated(
                &url,
                ClientAuth::Basic(&ep.client_id, &ep.client_secret),
                &[("token", token)],
            )
            .await;
        assert_eq!(a.status, 200, "introspection: {}", a.text);
        a.json()
    }
}
