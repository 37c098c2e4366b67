//! The one error type of the sandbox's public API.

use std::path::PathBuf;

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A port could not be bound (already in use, or not permitted).
    #[error(
        "could not bind {what} on 127.0.0.1:{port}: {source}; choose another port, or 0 for any free port"
    )]
    Bind {
        /// Which server, e.g. "the HTTPS server".
        what: &'static str,
        /// The port asked for (0 = any).
        port: u16,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The state directory could not be created or written.
    #[error(
        "could not write the sandbox state directory {path}: {source}; pass a writable --state-dir"
    )]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Generating the CA, the server certificate or the signing key failed.
    #[error("could not create the sandbox's keys or certificates: {0}; this is a bug in postern-sandbox")]
    Crypto(String),
    /// The admin token given in the configuration is too short or has characters a header
    /// cannot carry.
    #[error(
        "the sandbox's admin token must be at least {min_len} visible ASCII characters without spaces; leave it unset for a random one"
    )]
    AdminToken {
        /// The shortest token accepted.
        min_len: usize,
    },
}
