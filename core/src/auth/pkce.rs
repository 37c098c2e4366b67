//! PKCE (RFC 7636, S256) and the CSRF `state`: both random, both kept as [`Secret`]s.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// A code verifier and its S256 challenge.
pub struct Pkce {
    /// 32 random octets, base64url (43 characters). Sent only to the token endpoint.
    pub verifier: Secret,
    /// `BASE64URL(SHA256(verifier))`, sent in the consent URL.
    pub challenge: String,
}

fn random_b64(octets: usize) -> String {
    let mut buf = vec![0u8; octets];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Pkce {
    /// A fresh verifier and challenge.
    pub fn generate() -> Pkce {
        let verifier = random_b64(32);
        let challenge = challenge_of(&verifier);
        Pkce {
            verifier: Secret::new(verifier),
            challenge,
        }
    }
}

/// A fresh random `state` (compared in constant time when the redirect comes back).
pub fn random_state() -> Secret {
    Secret::new(random_b64(24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc_7636_vector() {
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_43_chars_and_fresh() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        assert_eq!(a.verifier.len(), 43);
        assert_eq!(a.challenge.len(), 43);
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(challenge_of(a.verifier.expose()), a.challenge);
        assert_ne!(random_state(), random_state());
    }
}
