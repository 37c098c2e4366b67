//! The consent walker: answers the sandbox's consent page the way a person would (type the
//! address, untick scopes, choose time-based access, press Allow or Deny), either in the real
//! Chromium ([`walk`]) or, where no browser is wanted, by posting the form as the Allow
//! button does ([`by_form`]).

use std::time::Duration;

use fantoccini::{Client, Locator};
use postern_sandbox::Endpoints;

use crate::sandbox::https_client;

/// Allow or Deny on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Grant what was asked (less the unticked scopes).
    Allow,
    /// Refuse.
    Deny,
}

/// What the person does in the browser.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Typed into `#email` (replacing what is there); `None` keeps the prefilled value.
    pub email: Option<String>,
    /// Scopes whose checkbox is unticked.
    pub untick: Vec<String>,
    /// Allow or Deny.
    pub decision: Decision,
    /// Before consenting, visit the loopback with a forged redirect and a favicon request.
    pub forge_first: bool,
    /// Time-based access: the value chosen in `#access-duration` ("86400" is one day);
    /// `None` leaves "Until I revoke access".
    pub access_duration: Option<&'static str>,
}

impl Plan {
    /// Allow as `email`.
    pub fn allow(email: &str) -> Plan {
        Plan {
            email: Some(email.to_owned()),
            untick: Vec::new(),
            decision: Decision::Allow,
            forge_first: false,
            access_duration: None,
        }
    }
}

/// What the browser ended up showing.
#[derive(Debug, Clone, Default)]
pub struct Landing {
    /// The `#title` of the loopback page the flow ended on.
    pub title: String,
    /// Its `#message`.
    pub message: String,
    /// Titles of the stray pages visited before (forged redirect, favicon).
    pub stray_titles: Vec<String>,
    /// The address the browser was finally sent to.
    pub url: String,
}

async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

fn redirect_uri_of(consent: &str) -> Result<String, String> {
    url::Url::parse(consent)
        .map_err(|e| format!("the consent URL {consent:?}: {e}"))?
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| "the consent URL has no redirect_uri".to_owned())
}

fn failed(what: &str) -> impl Fn(fantoccini::error::CmdError) -> String {
    let what = what.to_owned();
    move |err| format!("{what}: {err}")
}

/// Opens the consent page at `consent` in the browser of `c`, answers it by `plan`, and waits
/// for the loopback page the flow ends on (its `#title`).
pub async fn walk(c: &Client, consent: &str, plan: &Plan) -> Result<Landing, String> {
    let e = failed;
    let mut landing = Landing {
        stray_titles: answer(c, consent, plan).await?,
        ..Landing::default()
    };
    let title = c
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("#title"))
        .await
        .map_err(e("the loopback page"))?;
    landing.title = title.text().await.map_err(e("title"))?;
    landing.message = text_of(c, "#message").await;
    landing.url = c.current_url().await.map_err(e("url"))?.to_string();
    Ok(landing)
}

/// Opens the consent page at `consent` and answers it by `plan`, up to pressing Allow or Deny;
/// returns the titles of the stray pages visited first (see [`Plan::forge_first`]).
pub async fn answer(c: &Client, consent: &str, plan: &Plan) -> Result<Vec<String>, String> {
    let e = failed;
    let mut stray_titles = Vec::new();
    if plan.forge_first {
        let redirect = redirect_uri_of(consent)?;
        c.goto(&format!("{redirect}?code=forged-code&state=forged-state"))
            .await
            .map_err(e("forged redirect"))?;
        stray_titles.push(text_of(c, "#title").await);
        c.goto(&format!("{redirect}favicon.ico"))
            .await
            .map_err(e("favicon"))?;
        stray_titles.push(text_of(c, "#title").await);
    }
    c.goto(consent).await.map_err(e("consent page"))?;
    let email = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#email"))
        .await
        .map_err(e("the consent page's #email"))?;
    if let Some(addr) = &plan.email {
        email.clear().await.map_err(e("clear #email"))?;
        email.send_keys(addr).await.map_err(e("type #email"))?;
    }
    for scope in &plan.untick {
        let sel = format!("input.scope[value=\"{scope}\"]");
        let cb = c.find(Locator::Css(&sel)).await.map_err(e(&sel))?;
        if cb.is_selected().await.map_err(e("checkbox"))? {
            cb.click().await.map_err(e("untick"))?;
        }
    }
    if let Some(secs) = plan.access_duration {
        c.find(Locator::Css("#access-duration"))
            .await
            .map_err(e("the consent page's #access-duration"))?
            .select_by_value(secs)
            .await
            .map_err(e("choose the access duration"))?;
    }
    let button = match plan.decision {
        Decision::Allow => "#allow",
        Decision::Deny => "#deny",
    };
    c.find(Locator::Css(button))
        .await
        .map_err(e(button))?
        .click()
        .await
        .map_err(e("click"))?;
    Ok(stray_titles)
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The consent page's hidden fields, as a browser would submit them.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" ").skip(1) {
        let name = chunk
            .split("name=\"")
            .nth(1)
            .and_then(|s| s.split('"').next());
        let value = chunk
            .split("value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next());
        if let (Some(n), Some(v)) = (name, value) {
            out.push((unescape(n), unescape(v)));
        }
    }
    out
}

/// What a browser does on the consent page at `url` without one: loads it, fills in `email`,
/// leaves every scope ticked and presses Allow. Returns the redirect (loopback) address with
/// the code.
pub async fn by_form(ep: &Endpoints, url: &str, email: &str) -> String {
    let client = https_client(ep);
    let page = client.get(url).send().await.unwrap();
    assert!(
        page.status().is_success(),
        "consent page: {}",
        page.status()
    );
    let html = page.text().await.unwrap();
    let mut form = hidden_fields(&html);
    form.push(("email".into(), email.into()));
    let requested = form
        .iter()
        .find(|(k, _)| k == "requested_scope")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    for s in requested.split(' ') {
        form.push(("scope".into(), s.into()));
    }
    form.push(("decision".into(), "allow".into()));
    let answer = client
        .post(&ep.authorization_endpoint)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 302, "consent decision");
    answer.headers()["location"].to_str().unwrap().to_string()
}
