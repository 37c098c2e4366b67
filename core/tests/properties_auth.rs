//! Properties of the parsers on the authorization side, over generated input: the loopback
//! redirect catcher and the pasted-address parser, token endpoint answers, id_token claims,
//! providers.toml and Google's client JSON. Pure functions: no sandbox, browser or keychain.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use postern_core::fuzzing::{self, EXPIRES_IN_RANGE};
use proptest::prelude::*;

const STATE: &str = "Zm9vYmFyc3RhdGUxMjM0NQ";

/// A query parameter: mostly the interesting names, sometimes the right state.
fn param() -> impl Strategy<Value = (String, String)> {
    let key = prop_oneof![
        Just("state".to_owned()),
        Just("code".to_owned()),
        Just("error".to_owned()),
        Just("scope".to_owned()),
        Just("error_description".to_owned()),
        "[a-z_%=&]{0,8}",
    ];
    let value = prop_oneof![
        Just(STATE.to_owned()),
        Just(format!("{STATE} ")),
        Just(STATE[1..].to_owned()),
        "[A-Za-z0-9/%+=&_.-]{0,24}",
    ];
    (key, value)
}

fn query(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// What the catcher must do: accept only one exact `state`, given once, with a code or an
/// error given once.
fn acceptable(params: &[(String, String)]) -> bool {
    let count = |k: &str| params.iter().filter(|(n, _)| n == k).count();
    let states: Vec<_> = params.iter().filter(|(n, _)| n == "state").collect();
    states.len() == 1
        && states[0].1 == STATE
        && count("code") <= 1
        && count("error") <= 1
        && count("code") + count("error") >= 1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_redirect_catcher_takes_only_the_exact_state_and_at_most_once(
        requests in proptest::collection::vec(proptest::collection::vec(param(), 0..6), 1..6)
    ) {
        let queries: Vec<String> = requests.iter().map(|p| query(p)).collect();
        let refs: Vec<&str> = queries.iter().map(String::as_str).collect();
        let got = fuzzing::redirect_queries(STATE, &refs);
        prop_assert!(got.accepted.iter().filter(|a| **a).count() <= 1);
        let first = requests.iter().position(|p| acceptable(p));
        for (i, accepted) in got.accepted.iter().enumerate() {
            prop_assert_eq!(*accepted, Some(i) == first, "request {}: {}", i, &queries[i]);
        }
        if let Some(i) = first {
            let code = requests[i].iter().find(|(k, _)| k == "code").map(|(_, v)| v.clone());
            let error = requests[i].iter().any(|(k, _)| k == "error");
            prop_assert_eq!(got.code, if error { None } else { code });
        }
    }

    #[test]
    fn a_pasted_address_is_taken_only_with_the_exact_state(
        params in proptest::collection::vec(param(), 0..6),
        prefix in prop_oneof![Just("http://127.0.0.1:8765/?"), Just("http://localhost/cb?"), Just("127.0.0.1?"), Just(" http://[::1]:1/x?")],
    ) {
        let pasted = format!("{prefix}{}", query(&params));
        let got = fuzzing::pasted_addresses(STATE, &[&pasted, &pasted]);
        let expected = acceptable(&params) && url::Url::parse(pasted.trim()).is_ok();
        prop_assert_eq!(got.accepted, vec![expected, false]);
    }

    #[test]
    fn any_pasted_text_or_raw_query_is_judged_without_panicking(text in "\\PC{0,200}") {
        let got = fuzzing::pasted_addresses(STATE, &[&text]);
        prop_assert!(!got.accepted[0] || text.contains(STATE));
        let got = fuzzing::redirect_queries(STATE, &[&text]);
        prop_assert!(!got.accepted[0] || text.contains("state="));
    }

    #[test]
    fn only_a_400_invalid_grant_may_delete_tokens(
        status in prop_oneof![Just(400u16), Just(401), Just(403), Just(429), Just(500), Just(503), 100u16..600],
        error in prop_oneof![
            Just("invalid_grant".to_owned()),
            Just("admin_policy_enforced".to_owned()),
            Just("invalid_client".to_owned()),
            Just("unauthorized_client".to_owned()),
            "[a-z_]{0,16}",
        ],
        description in "\\PC{0,60}",
        json in any::<bool>(),
    ) {
        let body = if json {
            serde_json::json!({"error": error, "error_description": description}).to_string()
        } else {
            format!("<html>{error} {description}</html>")
        };
        match fuzzing::token_answer(status, &body) {
            Ok(_) => prop_assert_eq!(status, 200),
            Err(r) => {
                let dead = status == 400 && json
                    && (error == "invalid_grant" || error == "admin_policy_enforced");
                prop_assert_eq!(r.deletes_tokens, dead, "{} {}", status, &body);
                if status >= 500 || status == 429 {
                    prop_assert!(r.transient, "{} {}", status, &body);
                }
            }
        }
    }

    #[test]
    fn any_token_answer_is_read_without_panicking_and_its_lifetime_is_bounded(
        status in prop_oneof![Just(200u16), 0u16..1000],
        expires_in in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), any::<f64>().prop_map(|f| format!("{f:?}")), "\\PC{0,12}".prop_map(|s| format!("{s:?}"))],
        junk in "\\PC{0,80}",
    ) {
        let body = format!(r#"{{"access_token":"ya29.x","expires_in":{expires_in}}}"#);
        if let Ok(secs) = fuzzing::token_answer(status, &body) {
            prop_assert!(secs >= EXPIRES_IN_RANGE.0 && secs <= EXPIRES_IN_RANGE.1, "{}", secs);
            let _ = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
        }
        let _ = fuzzing::token_answer(status, &junk);
    }

    #[test]
    fn id_token_claims_name_an_address_only_when_every_check_passes(
        iss in prop_oneof![Just(serde_json::json!("https://accounts.google.com")), Just(serde_json::json!("accounts.google.com")), Just(serde_json::json!("https://evil.test")), Just(serde_json::json!(5))],
        aud in prop_oneof![Just(serde_json::json!("me")), Just(serde_json::json!(["x", "me"])), Just(serde_json::json!("other")), Just(serde_json::json!(null))],
        exp in prop_oneof![any::<i64>(), Just(i64::MAX), Just(i64::MIN), 1_000_000_000i64..2_000_000_000],
        email in prop_oneof![Just("Ann@Example.com".to_owned()), "\\PC{0,12}"],
        now in 1_000_000_000i64..2_000_000_000,
    ) {
        let claims = serde_json::json!({"iss": iss, "aud": aud, "exp": exp, "email": email});
        let jwt = format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims.to_string()));
        let got = fuzzing::id_token_email(&jwt, Some("https://accounts.google.com"), "me", now);
        let iss_ok = iss == "https://accounts.google.com" || iss == "accounts.google.com";
        let aud_ok = aud == "me" || aud.as_array().is_some_and(|a| a.contains(&serde_json::json!("me")));
        let fresh = exp.saturating_add(300) >= now;
        let ok = iss_ok && aud_ok && fresh && email.contains('@');
        prop_assert_eq!(got.is_ok(), ok, "{:?}", got);
        if let Ok(addr) = got {
            prop_assert_eq!(addr, email.to_ascii_lowercase());
        }
    }

    #[test]
    fn any_id_token_text_is_refused_or_read_without_panicking(text in "\\PC{0,200}", now in any::<i64>()) {
        let _ = fuzzing::id_token_email(&text, Some("https://accounts.google.com"), "me", now);
        let _ = fuzzing::id_token_email(&text, None, "", now);
    }

    #[test]
    fn an_unknown_key_in_providers_toml_is_refused_by_name(key in "[a-z][a-z_]{2,12}", at_smtp in any::<bool>()) {
        prop_assume!(![
            "name", "label", "authorization_endpoint", "token_endpoint", "revocation_endpoint",
            "tokeninfo_endpoint", "userinfo_endpoint", "issuer", "scopes", "smtp", "extra_ca_pem",
            "client_id", "max_message_bytes", "host", "port", "security",
        ].contains(&key.as_str()));
        let extra = format!("{key} = \"x\"\n");
        let (top, smtp) = if at_smtp { (String::new(), extra) } else { (extra, String::new()) };
        let text = format!(
            "[[provider]]\nname = \"corp\"\nlabel = \"Corp\"\n\
             authorization_endpoint = \"https://id.corp.test/auth\"\n\
             token_endpoint = \"https://id.corp.test/token\"\n\
             revocation_endpoint = \"https://id.corp.test/revoke\"\n\
             scopes = [\"openid\"]\n{top}[provider.smtp]\nhost = \"smtp.corp.test\"\n\
             port = 465\nsecurity = \"implicit_tls\"\n{smtp}"
        );
        let e = fuzzing::providers(&text).unwrap_err();
        prop_assert_eq!(e.code(), "provider_config");
        prop_assert!(e.to_string().contains(&format!("unknown field `{key}`")), "{}", e);
    }

    #[test]
    fn any_providers_toml_or_client_json_is_read_without_panicking(text in "\\PC{0,300}") {
        let _ = fuzzing::providers(&text);
        if let Err(e) = fuzzing::google_client_json(&text) {
            prop_assert_eq!(e.code(), "invalid_input");
        }
    }

    #[test]
    fn an_unknown_key_in_the_client_json_is_refused_without_quoting_the_secret(
        key in "[a-z][a-z_]{2,12}",
        inside in any::<bool>(),
    ) {
        prop_assume!(!["client_id", "client_secret", "project_id", "auth_uri", "token_uri",
            "auth_provider_x509_cert_url", "redirect_uris", "installed", "web"].contains(&key.as_str()));
        let mut v = serde_json::json!({"installed": {"client_id": "1-a.apps.googleusercontent.com", "client_secret": concat!("GOCSPX", "-secretvalue")}});
        if inside { v["installed"][&key] = "GOCSPX-x".into() } else { v[&key] = "GOCSPX-x".into() }
        let e = fuzzing::google_client_json(&v.to_string()).unwrap_err();
        prop_assert!(e.to_string().contains(&key), "{}", e);
        prop_assert!(!e.to_string().contains("GOCSPX"), "{}", e);
    }
}
