//! Authorization: the loopback PKCE flow, the code exchange, validation, refresh and
//! revocation.

pub(crate) mod exchange;
pub mod flow;
mod grant;
pub(crate) mod grant_lock;
pub(crate) mod loopback;
pub mod pkce;
pub(crate) mod refresher;
mod revocation;
pub(crate) mod revoke;
pub(crate) mod token_cache;
pub(crate) mod validate;

pub use flow::{Launcher, SystemLauncher};
