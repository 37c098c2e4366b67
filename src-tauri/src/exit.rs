//! Exit codes of the command line (documented in `cli::EXIT_CODES` and the README), and the
//! one way errors are printed: core's plain explanation and its fix, on standard error.

use postern_core::Error;

/// Prints the error the way the window shows it and returns its exit code.
pub fn report(error: &Error) -> i32 {
    let e = error.explain();
    eprintln!("postern: {}\n  What to do: {}", e.message, e.fix);
    code(error)
}

/// The exit code for an error, by kind.
pub fn code(error: &Error) -> i32 {
    match error.code() {
        "invalid_address"
        | "no_recipients"
        | "attachment_too_large"
        | "message_too_large"
        | "invalid_input"
        | "unknown_provider"
        | "provider_config"
        | "google_client_missing"
        | "port_in_use" => 2,
        "unknown_account"
        | "invalid_grant"
        | "scope_missing"
        | "secret_missing"
        | "access_denied"
        | "authorization_timeout"
        | "authorization_cancelled"
        | "authorization_refused"
        | "address_mismatch"
        | "audience_mismatch"
        | "id_token_invalid"
        | "invalid_client"
        | "browser_launch" => 3,
        "keychain_unavailable" | "keychain_locked" | "keychain_rejected" => 4,
        "network" | "token_endpoint" | "smtp_temporary" | "smtp_connection" => 5,
        "smtp_auth_rejected" | "smtp_quota" | "smtp_too_large" | "smtp_rejected" | "tls"
        | "revoke_failed" => 6,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_documented_code() {
        assert_eq!(code(&Error::NoRecipients), 2);
        assert_eq!(
            code(&Error::UnknownAccount {
                address: "a@b.c".into()
            }),
            3
        );
        assert_eq!(code(&Error::KeychainLocked), 4);
        let busy = Error::SmtpTemporary {
            code: 421,
            text: "try later".into(),
        };
        assert_eq!(code(&busy), 5);
        let quota = Error::SmtpQuota {
            code: 550,
            text: "limit".into(),
        };
        assert_eq!(code(&quota), 6);
        assert_eq!(code(&Error::Internal { why: "x".into() }), 1);
    }

    #[test]
    fn every_code_is_documented() {
        for n in 0..=6 {
            assert!(
                crate::cli::EXIT_CODES.contains(&format!("  {n}  ")),
                "exit code {n}"
            );
        }
    }
}
