//! The redaction guard: anything shaped like a token is replaced with `[redacted]` before text
//! from a server (an SMTP reply, a token endpoint's description) is stored, logged or shown.
//! Errors, the activity log and the outbox all pass their words through [`redact`].

use std::sync::LazyLock;

use regex::Regex;

/// Characters a token is made of (base64, base64url, JWT dots, Google's `/` and `~`).
const TOKEN_CHARS: &str = r"[A-Za-z0-9\-._~+/]";

/// Google's shapes, wherever they start (inside a word too): access tokens `ya29.`, refresh
/// tokens `1//`, client secrets `GOCSPX-`, and JWTs (id_tokens).
static GOOGLE_SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:ya29\.|1//|GOCSPX-){TOKEN_CHARS}*|eyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*"
    ))
    .expect("a valid pattern")
});

/// Any token of 20 or more characters after a word that announces one: `Bearer`,
/// `access_token=`, `refresh_token=`, `code=`, `client_secret=`, `token=`, and the same names
/// as JSON keys. Line breaks count as spaces.
static ANNOUNCED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)(?:bearer\s+|(?:access_token|refresh_token|id_token|client_secret|secret|code|token|password)\s*[=:]\s*|"(?:access_token|refresh_token|id_token|client_secret|code|token)"\s*:\s*")({TOKEN_CHARS}{{20,}})"#
    ))
    .expect("a valid pattern")
});

/// Runs of token characters long enough to be a token of some other shape.
static LONG_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("{TOKEN_CHARS}{{24,}}")).expect("a valid pattern"));

const REDACTED: &str = "[redacted]";

/// Whether a run of token characters (found by [`LONG_RUN`]) is a token rather than a path,
/// a host or an address: it mixes letters and digits, and is not next to `@` or after `://`.
fn long_run_is_token(text: &str, start: usize, end: usize) -> bool {
    let run = &text[start..end];
    let before = &text[..start];
    if run.starts_with('/') || before.ends_with('@') || text[end..].starts_with('@') {
        return false;
    }
    run.chars().any(|c| c.is_ascii_digit()) && run.chars().any(|c| c.is_ascii_alphabetic())
}

/// Whether `word` looks like a token or secret (see [`redact`]).
pub fn looks_like_secret(word: &str) -> bool {
    redact_quietly(word) != word
}

fn redact_quietly(text: &str) -> String {
    let text = GOOGLE_SHAPES.replace_all(text, REDACTED);
    let text = ANNOUNCED.replace_all(&text, |c: &regex::Captures<'_>| {
        let whole = c.get(0).map_or("", |m| m.as_str());
        let token = c.get(1).map_or("", |m| m.as_str());
        format!("{}{REDACTED}", &whole[..whole.len() - token.len()])
    });
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in LONG_RUN.find_iter(&text) {
        if long_run_is_token(&text, m.start(), m.end()) {
            out.push_str(&text[last..m.start()]);
            out.push_str(REDACTED);
            last = m.end();
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Replaces everything token-shaped with `[redacted]`, wherever it stands: Google's shapes even
/// inside a word, a token of 20+ characters after `Bearer`, `access_token=`, `code=`, … or a
/// JSON `"access_token":"…"`, and any other run of 24+ token characters that mixes letters
/// and digits. Text from servers goes through this before it is stored or shown.
pub fn redact(text: &str) -> String {
    let out = redact_quietly(text);
    if out != text {
        tracing::warn!("a token-shaped text was redacted");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stripped_and_plain_words_kept() {
        let s = redact(
            "refreshed ya29.a0AfH6SMBx for a@b.com with 1//0gLx and eyJhbGciOi.eyJzdWIi.sig",
        );
        assert_eq!(
            s,
            "refreshed [redacted] for a@b.com with [redacted] and [redacted]"
        );
        let long = "token Zx9kQ2mP4vT7rW1yB3nL6hJ8gF5dS0aE done";
        assert_eq!(redact(long), "token [redacted] done");
        let plain =
            "Valid for 54 minutes; scopes https://mail.google.com/ granted to tester@sandbox.test";
        assert_eq!(redact(plain), plain);
    }

    #[test]
    fn tokens_joined_by_newlines_or_inside_words_are_stripped() {
        let s = redact("535 5.7.8 refused\nya29.a0AfH6SMBxQ2mP4vT7\r\nnext line");
        assert_eq!(s, "535 5.7.8 refused\n[redacted]\r\nnext line");
        let s = redact("status:ya29.a0AfH6SMBx,refresh=1//0gLxAbCdEfGh;GOCSPX-abcDEF123");
        assert!(
            !s.contains("a0AfH6") && !s.contains("0gLx") && !s.contains("abcDEF"),
            "{s}"
        );
        let s = redact("reply:\nZx9kQ2mP4vT7rW1yB3nL6hJ8gF5dS0aE");
        assert_eq!(s, "reply:\n[redacted]");
    }

    #[test]
    fn non_google_tokens_after_their_names_are_stripped() {
        let secret = "abcdefghijklmnopqrstuvwxyz";
        for planted in [
            format!("Authorization: Bearer {secret}"),
            format!("Authorization: bearer\n{secret}"),
            format!("https://x.test/cb?access_token={secret}&state=1"),
            format!("refresh_token={secret}"),
            format!("code={secret}"),
            format!("client_secret = {secret}"),
            format!("token={secret}"),
            format!(r#"{{"access_token":"{secret}","expires_in":3599}}"#),
            format!(r#"{{"refresh_token": "{secret}"}}"#),
        ] {
            let s = redact(&planted);
            assert!(!s.contains(secret), "{planted:?} became {s:?}");
            assert!(s.contains("[redacted]"), "{s}");
        }
        // Short values and ordinary words stay.
        assert_eq!(redact("code=535 token=short"), "code=535 token=short");
    }

    #[test]
    fn paths_hosts_and_addresses_are_kept() {
        for plain in [
            "cannot open /home/someone/.local/share/postern/postern.db: denied",
            "see https://accounts.google.com/o/oauth2/v2/auth?x=1",
            "sent to someone.with.a.long.name2024@example-mail-provider.test",
            "Message-ID <e3b0c442-98fc-1c14-9afb-f4c8996fb924@postern.local>",
        ] {
            assert_eq!(redact(plain), plain);
        }
    }
}
