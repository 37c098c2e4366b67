//! Mail: composing messages (addresses, attachments, size limits) and sending them over SMTP
//! with XOAUTH2 through a pooled, TLS-verified transport per account.

pub mod compose;
mod pool;
pub mod raw;
pub mod smtp;

pub use compose::{compose, Attachment, Composed, Draft};
pub use raw::parse_raw;
pub use smtp::{Accepted, Mailer, Security, SmtpEndpoint};
