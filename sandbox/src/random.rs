//! Random strings shaped like Google's identifiers and tokens.

use rand::Rng;

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn from_charset(charset: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| charset[rng.gen_range(0..charset.len())] as char)
        .collect()
}

pub(crate) fn url_safe(len: usize) -> String {
    from_charset(URL_SAFE, len)
}

pub(crate) fn digits(len: usize) -> String {
    from_charset(b"0123456789", len)
}

pub(crate) fn client_id() -> String {
    let first = rand::thread_rng().gen_range(1..10);
    format!(
        "{first}{}-{}.apps.googleusercontent.com",
        digits(11),
        from_charset(LOWER_ALNUM, 32)
    )
}

pub(crate) fn client_secret() -> String {
    format!("GOCSPX-{}", url_safe(28))
}

pub(crate) fn access_token() -> String {
    format!("ya29.a0{}", url_safe(100))
}

pub(crate) fn refresh_token() -> String {
    format!("1//0{}", url_safe(99))
}

pub(crate) fn auth_code() -> String {
    format!("4/0A{}", url_safe(70))
}

/// A Gmail-like session id, e.g. `d9443c01a7336-2ba038ae95csm27882055ad.46`.
pub(crate) fn smtp_session_id() -> String {
    format!(
        "{}-{}sm{}ad.{}",
        from_charset(b"0123456789abcdef", 13),
        from_charset(b"0123456789abcdef", 11),
        digits(8),
        rand::thread_rng().gen_range(1..100)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_google() {
        let id = client_id();
        let (num, rest) = id.split_once('-').unwrap();
        assert!(num.len() == 12 && num.chars().all(|c| c.is_ascii_digit()));
        assert!(rest.ends_with(".apps.googleusercontent.com"));
        assert!(client_secret().starts_with("GOCSPX-"));
        assert!(access_token().starts_with("ya29."));
        assert!(refresh_token().starts_with("1//0"));
        assert!(auth_code().starts_with("4/0A"));
        assert!(auth_code().len() <= 256);
    }
}
