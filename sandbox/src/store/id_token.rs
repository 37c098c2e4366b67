//! id_tokens: JWTs signed with jsonwebtoken (ES256, a P-256 key generated at start by
//! ring) and published as a JWKS. Google signs with RS256; ES256 is used here because ring
//! cannot generate RSA keys and a pure-Rust RSA key generation takes many seconds in
//! debug builds. Clients that read the algorithm from the JWKS/discovery work with both.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::random;
use crate::SandboxError;

/// How long an id_token is valid, whatever the access token's lifetime.
pub(crate) const LIFETIME_SECS: i64 = 3600;

pub(crate) struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The public point's coordinates, base64url.
    x: String,
    y: String,
    kid: String,
}

impl Signer {
    pub(crate) fn generate() -> Result<Self, SandboxError> {
        let rng = SystemRandom::new();
        let crypto = |e: &dyn std::fmt::Display| SandboxError::Crypto(e.to_string());
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|e| crypto(&e))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|e| crypto(&e))?;
        // An uncompressed P-256 point: 0x04 || x (32) || y (32).
        let point = key.public_key().as_ref();
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|e| crypto(&e))?;
        Ok(Self {
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            decoding,
            x,
            y,
            kid: random::digits(12),
        })
    }

    /// A compact JWS over `claims`.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("ES256 signing of JSON claims with a freshly generated key does not fail")
    }

    /// Verifies the signature of one of our own JWTs and returns its claims (expiry is
    /// checked by the caller against the sandbox clock).
    pub(crate) fn verify(&self, jwt: &str) -> Option<Value> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(jwt, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }

    pub(crate) fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": self.kid,
            "x": self.x, "y": self.y,
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
