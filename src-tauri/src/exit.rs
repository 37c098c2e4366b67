//! Exit codes of the command line (documented in `cli::EXIT_CODES` and the README), and the
//! one way errors are printed: core's plain explanation and its fix, on standard error.

use postern_core::error::ErrorClass;
use postern_core::Error;

/// Prints the error the way the window shows it and returns its exit code.
pub fn report(error: &Error) -> i32 {
    let (message, fix) = words(error);
    eprintln!("postern: {message}\n  What to do: {fix}");
    code(error)
}

/// The message and fix printed for an error. Core's words, except that on the command line
/// provider "sandbox" exists only while `postern sandbox` runs, so its absence says that.
pub fn words(error: &Error) -> (String, String) {
    if let Error::UnknownProvider { name } = error {
        if name == crate::startup::SANDBOX_PROVIDER {
            return (
                "The sandbox is not running.".into(),
                "Start it with `postern sandbox` in another terminal. It forgets its grants \
                 when it stops, so authorize again after starting it."
                    .into(),
            );
        }
    }
    let e = error.explain();
    (e.message, e.fix)
}

/// The exit code for an error, by its class: every class has its code, so a new kind of
/// error gets the code of the class core gives it.
pub fn code(error: &Error) -> i32 {
    match error.class() {
        ErrorClass::Internal => 1,
        ErrorClass::BadInput => 2,
        ErrorClass::NeedsPerson => 3,
        ErrorClass::Keychain => 4,
        ErrorClass::Transient => 5,
        ErrorClass::Refused => 6,
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
    fn outbox_mistakes_are_bad_input_and_a_slow_send_is_temporary() {
        assert_eq!(code(&Error::OutboxNotFound { id: 9 }), 2);
        let sent = Error::OutboxWrongState {
            id: 1,
            state: "sent".into(),
            action: "retried".into(),
        };
        assert_eq!(code(&sent), 2);
        assert_eq!(code(&Error::SendTimedOut { id: 1, secs: 120 }), 5);
        assert_eq!(code(&Error::NoAuthorizationInProgress), 2);
    }

    #[test]
    fn the_code_follows_the_class_core_gives_the_error() {
        let bad_grant = Error::InvalidGrant {
            cause: postern_core::RevokedCause::Unknown,
            description: String::new(),
            provider: "Google (Gmail)".into(),
        };
        assert_eq!(code(&bad_grant), 3);
        assert_eq!(code(&Error::GoogleClientMissing), 3, "mail waits for it");
        let refused = Error::TokenEndpoint {
            status: 400,
            error: "invalid_request".into(),
            description: String::new(),
        };
        assert_eq!(code(&refused), 6);
        assert_eq!(code(&Error::Storage { why: "full".into() }), 1);
    }

    #[test]
    fn a_missing_sandbox_is_explained_as_not_running() {
        let (message, fix) = words(&Error::UnknownProvider {
            name: "sandbox".into(),
        });
        assert_eq!(message, "The sandbox is not running.");
        assert!(fix.contains("postern sandbox"), "{fix}");
        let (message, _) = words(&Error::UnknownProvider {
            name: "nosuch".into(),
        });
        assert!(message.contains("nosuch"), "{message}");
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
