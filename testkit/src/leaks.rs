//! Looking for tokens on disk after an app run: every file under the given folders, for the
//! exact tokens a run produced and for anything shaped like a sandbox (or Google) secret.

use std::path::PathBuf;

use crate::checks::{collect_files, contains};

/// Fails when any file under `roots` holds one of `tokens` or a token-shaped string.
pub fn assert_no_tokens(roots: &[PathBuf], tokens: &[String]) {
    assert!(!tokens.is_empty(), "no tokens were collected to look for");
    for token in tokens {
        // The shape check below would catch these very tokens.
        assert!(
            token_shaped(token.as_bytes()).is_some(),
            "a token of an unknown shape"
        );
    }
    let mut files = Vec::new();
    for root in roots {
        collect_files(root, &mut files);
    }
    assert!(
        files.iter().any(|f| f.ends_with("postern.db")),
        "the scan did not reach the app's database: {files:?}"
    );
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        for token in tokens {
            assert!(
                !contains(&bytes, token.as_bytes()),
                "{} holds a token the run produced",
                file.display()
            );
        }
        if let Some(prefix) = token_shaped(&bytes) {
            panic!(
                "{} holds a token-shaped string starting {prefix:?}",
                file.display()
            );
        }
    }
}

/// The prefix of the first string shaped like a sandbox (or Google) secret: access token,
/// refresh token, authorization code, client secret, each followed by 16+ token characters.
fn token_shaped(bytes: &[u8]) -> Option<&'static str> {
    const PREFIXES: [&str; 4] = ["ya29.", "1//0", "4/0A", "GOCSPX-"];
    let tokenish = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_' || *b == b'.';
    for prefix in PREFIXES {
        let p = prefix.as_bytes();
        for (i, w) in bytes.windows(p.len()).enumerate() {
            if w == p
                && bytes[i + p.len()..]
                    .iter()
                    .take_while(|b| tokenish(b))
                    .count()
                    >= 16
            {
                return Some(prefix);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_finds_a_planted_token_and_passes_a_clean_folder() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("data/postern.db");
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        std::fs::write(&db, b"SQLite format 3\0 address pat@example.com").unwrap();
        let roots = [dir.path().to_path_buf()];
        let mine = format!("ya29.a0{}", "Qx_9-".repeat(20));
        assert_no_tokens(&roots, std::slice::from_ref(&mine));

        let other = format!("1//0{}", "gHk3_".repeat(20));
        let log = dir.path().join("data/sandbox.log");
        std::fs::write(&log, format!("refreshing with {other} now")).unwrap();
        let caught =
            std::panic::catch_unwind(|| assert_no_tokens(&roots, std::slice::from_ref(&mine)));
        assert!(caught.is_err(), "a token-shaped string went unnoticed");

        std::fs::write(&log, format!("sent with {mine}")).unwrap();
        let caught =
            std::panic::catch_unwind(|| assert_no_tokens(&roots, std::slice::from_ref(&mine)));
        assert!(caught.is_err(), "a token of the run went unnoticed");
    }
}
