//! ES256 id_tokens signed with a P-256 key generated at start, published as a JWKS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::random;
use crate::SandboxError;

pub(crate) struct Signer {
    key: EcdsaKeyPair,
    kid: String,
    rng: SystemRandom,
}

impl Signer {
    pub(crate) fn generate() -> Result<Self, SandboxError> {
        let rng = SystemRandom::new();
        let crypto = |e: ring::error::Unspecified| SandboxError::Crypto(e.to_string());
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(crypto)?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|e| SandboxError::Crypto(e.to_string()))?;
        Ok(Self {
            key,
            kid: random::digits(12),
            rng,
        })
    }

    /// A compact JWS over `claims`.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .key
            .sign(&self.rng, input.as_bytes())
            .expect("ECDSA signing with a valid key does not fail");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// Verifies one of our own JWTs and returns its claims (for tokeninfo?id_token=).
    pub(crate) fn verify(&self, jwt: &str) -> Option<Value> {
        let (input, sig) = jwt.rsplit_once('.')?;
        let (_, payload) = input.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            self.key.public_key().as_ref(),
        );
        public.verify(input.as_bytes(), &sig).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    pub(crate) fn jwks(&self) -> Value {
        // An uncompressed P-256 point: 0x04 || x (32) || y (32).
        let point = self.key.public_key().as_ref();
        json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }]})
    }
}

/// A stable, Google-shaped numeric `sub` for an address.
pub(crate) fn subject(email: &str) -> String {
    let digest = Sha256::digest(email.to_ascii_lowercase().as_bytes());
    let mut n: u128 = 0;
    for b in &digest[..12] {
        n = (n << 8) | u128::from(*b);
    }
    format!("1{:020}", n % 100_000_000_000_000_000_000)
}

/// OIDC `at_hash`: the left half of SHA-256 of the access token, base64url.
pub(crate) fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_and_tampered_ones_do_not() {
        let signer = Signer::generate().unwrap();
        let jwt = signer.sign(&json!({"sub": "1"}));
        assert_eq!(signer.verify(&jwt).unwrap()["sub"], "1");
        let tampered = jwt.replacen('.', ".e30", 1);
        assert!(signer.verify(&tampered).is_none());
    }

    #[test]
    fn subject_is_stable_and_numeric() {
        assert_eq!(subject("a@b.c"), subject("A@b.c"));
        assert_eq!(subject("a@b.c").len(), 21);
        assert!(subject("a@b.c").chars().all(|c| c.is_ascii_digit()));
    }
}
