//! Scope rules: identity (Sign-In) scopes, alias expansion, granular consent.

use crate::MAIL_SCOPE;

pub(crate) const USERINFO_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
pub(crate) const USERINFO_PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";

/// `openid`, `email`, `profile` and their URL aliases.
pub(crate) fn is_identity(scope: &str) -> bool {
    matches!(
        scope,
        "openid" | "email" | "profile" | USERINFO_EMAIL | USERINFO_PROFILE
    )
}

/// Splits a space-delimited scope parameter, dropping empties and duplicates.
pub(crate) fn split(param: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in param.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// Granted scopes as Google reports them: `email` also brings its URL alias (and
/// `profile` its own), order kept, no duplicates.
pub(crate) fn expand(granted: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    for s in granted {
        push(s);
        match s.as_str() {
            "email" => push(USERINFO_EMAIL),
            "profile" => push(USERINFO_PROFILE),
            _ => {}
        }
    }
    out
}

/// Granular consent (docs/google.md, "The loopback redirect"): checkboxes when Sign-In scopes
/// come with another scope, or when two or more non-Sign-In scopes are requested; otherwise
/// all-or-nothing.
pub(crate) fn is_granular(requested: &[String]) -> bool {
    let identity = requested.iter().filter(|s| is_identity(s)).count();
    let other = requested.len() - identity;
    (identity > 0 && other > 0) || other >= 2
}

pub(crate) fn has_identity(scopes: &[String]) -> bool {
    scopes.iter().any(|s| is_identity(s))
}

pub(crate) fn has_email(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "email" || s == USERINFO_EMAIL)
}

pub(crate) fn has_mail(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == MAIL_SCOPE)
}

/// True when every scope is a Sign-In scope (exempt from Testing's 7-day death).
pub(crate) fn only_identity(scopes: &[String]) -> bool {
    scopes.iter().all(|s| is_identity(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        split(s)
    }

    #[test]
    fn granular_consent_follows_the_rule() {
        assert!(is_granular(&v("openid email https://mail.google.com/")));
        assert!(is_granular(&v("https://mail.google.com/ https://x/y")));
        assert!(!is_granular(&v("https://mail.google.com/")));
        assert!(!is_granular(&v("openid email")));
    }

    #[test]
    fn email_expands_to_its_alias() {
        assert_eq!(
            expand(&v("email openid")),
            v("email https://www.googleapis.com/auth/userinfo.email openid")
        );
    }
}
