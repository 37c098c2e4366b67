//! The one error type of the sandbox's public API.

use std::path::PathBuf;

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A port could not be bound (already in use, or not permitted).
    #[error("could not bind {what} on 127.0.0.1:{port}: {source}")]
    Bind {
        what: &'static str,
        port: u16,
        source: std::io::Error,
    },
    /// The state directory could not be created or written.
    #[error("could not write the sandbox state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Generating the CA, the server certificate or the signing key failed.
    #[error("could not create the sandbox's keys or certificates: {0}")]
    Crypto(String),
}
