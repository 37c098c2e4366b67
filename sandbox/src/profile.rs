//! Which provider the sandbox plays: Google (its documented and observed deviations from the
//! RFCs) or a strict, standards-conformant OAuth 2.0 / OpenID Connect provider.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The provider behaviour chosen at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Google's shapes: unauthenticated revocation answering 400 for a dead token, the
    /// address in the id_token, tokeninfo, refresh tokens that never rotate.
    #[default]
    Google,
    /// RFC 7009 revocation with client authentication, RFC 7662 introspection, the address
    /// only at UserInfo, rotated refresh tokens with reuse detection, RFC 9207 `iss`.
    Strict,
}

impl Profile {
    /// `"google"` or `"strict"`, as in the JSON line and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Google => "google",
            Profile::Strict => "strict",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile name that is neither `google` nor `strict`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sandbox profile {0:?}; use \"google\" or \"strict\"")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "google" => Ok(Profile::Google),
            "strict" => Ok(Profile::Strict),
            _ => Err(UnknownProfile(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for p in [Profile::Google, Profile::Strict] {
            assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{p}\""));
            assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), p);
        }
        assert_eq!("Strict".parse::<Profile>(), Ok(Profile::Strict));
        assert!("okta"
            .parse::<Profile>()
            .unwrap_err()
            .to_string()
            .contains("strict"));
        assert_eq!(Profile::default(), Profile::Google);
    }
}
