use super::*;

#[test]
fn every_error_explains_itself_with_a_fix() {
    let e = Error::PortInUse { port: 8400 };
    let x = e.explain();
    assert_eq!(x.kind, "port_in_use");
    assert_eq!(x.message, "Port 8400 on 127.0.0.1 is already in use.");
    assert!(x.fix.contains("8400"));
}

#[test]
fn a_timeout_fix_names_the_time_actually_allowed() {
    let fix = |secs| Error::AuthorizationTimedOut { secs }.explain().fix;
    assert!(fix(300).ends_with("within 5 minutes."), "{}", fix(300));
    assert!(fix(60).ends_with("within a minute."), "{}", fix(60));
    assert!(fix(45).ends_with("within 45 seconds."), "{}", fix(45));
}

#[test]
fn invalid_grant_is_explained_by_its_cause() {
    let e = Error::InvalidGrant {
        cause: RevokedCause::TestingModeExpiry,
        description: "Token has been expired or revoked.".into(),
        provider: "Google (Gmail)".into(),
    };
    let x = e.explain();
    assert!(x.message.contains("7 days"));
    assert!(x.fix.contains("Publish"));
}

#[test]
fn a_certificate_error_at_a_custom_profile_names_its_extra_ca_pem() {
    let tls = || Error::Tls {
        host: "smtp.corp.test".into(),
        why: "unknown issuer".into(),
        profile: None,
    };
    let mut corp = crate::provider::google();
    corp.name = "corp".into();
    let fix = tls().in_profile(&corp).explain().fix;
    assert!(
        fix.contains("extra_ca_pem") && fix.contains("\"corp\""),
        "{fix}"
    );
    let fix = tls().in_profile(&crate::provider::google()).explain().fix;
    assert!(
        !fix.contains("extra_ca_pem"),
        "Google never needs one: {fix}"
    );
}

#[test]
fn grant_words_name_the_provider_not_google() {
    let x = Error::InvalidGrant {
        cause: RevokedCause::Unknown,
        description: "Token has been expired or revoked.".into(),
        provider: "Corp mail".into(),
    }
    .explain();
    assert!(
        x.message.starts_with("Corp mail no longer accepts"),
        "{}",
        x.message
    );
    assert!(!x.message.contains("Google"), "{}", x.message);
}

#[test]
fn serialises_as_its_explanation() {
    let v = serde_json::to_value(Error::AuthorizationDenied).unwrap();
    assert_eq!(v["kind"], "access_denied");
    assert!(v["fix"].as_str().unwrap().contains("Allow"));
}

#[test]
fn the_class_decides_what_passes_by_itself() {
    let class = |e: Error| e.class();
    assert_eq!(
        class(Error::SmtpTemporary {
            code: 421,
            text: "busy".into()
        }),
        ErrorClass::Transient
    );
    assert_eq!(class(Error::KeychainLocked), ErrorClass::Keychain);
    assert_eq!(
        class(Error::SecretMissing {
            what: "refresh token".into(),
            account: "a@b.c".into()
        }),
        ErrorClass::NeedsPerson
    );
    assert_eq!(class(Error::NoRecipients), ErrorClass::BadInput);
    assert_eq!(
        class(Error::Storage { why: "full".into() }),
        ErrorClass::Internal
    );
    let passing: Vec<ErrorClass> = [
        ErrorClass::Transient,
        ErrorClass::NeedsPerson,
        ErrorClass::Refused,
        ErrorClass::BadInput,
        ErrorClass::Keychain,
        ErrorClass::Internal,
    ]
    .into_iter()
    .filter(|c| c.passes_by_itself())
    .collect();
    assert_eq!(passing, [ErrorClass::Transient, ErrorClass::Keychain]);
}

#[test]
fn a_token_endpoint_answer_is_transient_only_when_its_status_may_pass() {
    let answer = |status| Error::TokenEndpoint {
        status,
        error: "x".into(),
        description: String::new(),
    };
    for status in [500, 503, 429, 403] {
        assert!(answer(status).is_transient(), "{status}");
    }
    assert_eq!(answer(400).class(), ErrorClass::Refused);
    assert_eq!(answer(400).code(), "token_endpoint");
}
