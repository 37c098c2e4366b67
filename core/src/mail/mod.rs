//! Mail: composing messages (addresses, attachments, size limits) and sending them over SMTP
//! with OAUTHBEARER or XOAUTH2 through a pooled, TLS-verified transport per account.

pub mod compose;
pub mod endpoint;
pub mod input;
mod pool;
pub mod raw;
pub mod reply;
pub mod sign_in;
pub mod smtp;

pub use compose::{compose, compose_owned, Attachment, Composed, Draft};
pub use endpoint::SmtpEndpoint;
pub use raw::parse_raw;
pub use sign_in::OAuthMechanism;
pub use smtp::{Accepted, Mailer};
