//! Test harness: a sandbox, an independent HTTPS client that trusts only the sandbox's
//! CA, a browser-like walk through the consent form, and a Python smtplib runner.
#![allow(dead_code)]

use std::process::Command;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use postern_sandbox::{start, Endpoints, Sandbox, SandboxConfig};
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
        let sandbox = start(SandboxConfig::default())
            .await
            .expect("sandbox starts");
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
        let (verifier, challenge) = pkce();
        let r = self
            .consent(&Authorize {
                client_id,
                scope,
                login_hint: Some(email),
                prompt: Some("consent"),
                untick: &[],
                deny: false,
                challenge: &challenge,
            })
            .await;
        (r.param("code").expect("a code"), verifier)
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

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.ep().admin_endpoint))
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
        self.http
            .get(format!("{}{path}", self.ep().admin_endpoint))
            .send()
            .await
            .unwrap()
    }

    /// Runs a Python 3 script (after a prelude defining `E`, `ctx`, `rec`, `Raw`,
    /// `xoauth2`, ...) on a blocking thread, so the sandbox keeps serving, and returns
    /// the JSON list `out` that it printed.
    pub async fn python(&self, env: &[(&str, &str)], body: &str) -> Value {
        let script = format!("{PRELUDE}\n{body}\nprint(json.dumps(out))\n");
        let mut cmd = Command::new("python3");
        cmd.arg("-c")
            .arg(script)
            .env("SANDBOX", serde_json::to_string(self.ep()).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "python failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!("python printed {}", String::from_utf8_lossy(&output.stdout))
        })
    }
}

const PRELUDE: &str = r#"
import base64, json, os, re, smtplib, socket, ssl, time
E = json.loads(os.environ['SANDBOX'])
ctx = ssl.create_default_context(cafile=E['ca_cert'])
out = []
def norm(s):
    s = re.sub(r'[0-9a-f]{13}-[0-9a-f]{11}sm[0-9]{8}ad[.][0-9]+', '<sid>', s)
    return re.sub(r'OK  [0-9]+ <sid>', 'OK  <time> <sid>', s)
def rec(r):
    if isinstance(r, tuple):
        r = '%d %s' % (r[0], r[1].decode('utf-8', 'replace'))
    out.append(norm(r))
    return r
def xoauth2(user, token):
    return base64.b64encode(('user=%s\x01auth=Bearer %s\x01\x01' % (user, token)).encode()).decode()
def oauthbearer(user, token):
    raw = 'n,a=%s,\x01host=127.0.0.1\x01port=465\x01auth=Bearer %s\x01\x01' % (user, token)
    return base64.b64encode(raw.encode()).decode()
def smtps():
    return smtplib.SMTP_SSL(E['smtp_host'], E['smtp_tls_port'], context=ctx, timeout=20)
def submission():
    s = smtplib.SMTP(E['smtp_host'], E['smtp_starttls_port'], timeout=20)
    s.ehlo(); s.starttls(context=ctx); s.ehlo()
    return s
class Raw:
    """A byte-exact SMTP client: replies come back as the wire text (CRLF-joined)."""
    def __init__(self, implicit=True):
        port = E['smtp_tls_port'] if implicit else E['smtp_starttls_port']
        self.sock = socket.create_connection((E['smtp_host'], port), timeout=20)
        if implicit:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=E['smtp_host'])
        self.buf = b''
        self.greeting = self.reply()
    def line(self):
        while b'\r\n' not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError('connection closed')
            self.buf += d
        l, self.buf = self.buf.split(b'\r\n', 1)
        return l.decode('utf-8', 'replace')
    def reply(self):
        lines = []
        while True:
            l = self.line()
            lines.append(l)
            if len(l) < 4 or l[3] != '-':
                return norm('\r\n'.join(lines))
    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())
    def cmd(self, c):
        self.send((c if isinstance(c, bytes) else c.encode()) + b'\r\n')
        return self.reply()
    def starttls(self):
        r = self.cmd('STARTTLS')
        self.sock = ctx.wrap_socket(self.sock, server_hostname=E['smtp_host'])
        return r
    def closed(self):
        """True when the server closes the connection (whatever it sends first)."""
        self.sock.settimeout(5)
        try:
            while self.sock.recv(4096) != b'':
                pass
            return True
        except socket.timeout:
            return False
        except (ConnectionError, ssl.SSLError, OSError):
            return True
"#;

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn input_tags(html: &str) -> Vec<&str> {
    html.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .collect()
}

/// `name`/`value` of every hidden input, as a browser would submit them.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    input_tags(html)
        .into_iter()
        .filter(|t| t.contains("type=\"hidden\""))
        .filter_map(|t| Some((attr(t, "name")?, attr(t, "value")?)))
        .collect()
}

pub fn input_value(html: &str, id: &str) -> Option<String> {
    input_tags(html)
        .into_iter()
        .find(|t| attr(t, "id").as_deref() == Some(id))
        .and_then(|t| attr(t, "value"))
}

/// The values of the `.scope` checkboxes that are checked.
pub fn checkbox_values(html: &str) -> Vec<String> {
    input_tags(html)
        .into_iter()
        .filter(|t| t.contains("class=\"scope\"") && t.contains("checked"))
        .filter_map(|t| attr(t, "value"))
        .collect()
}
