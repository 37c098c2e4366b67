//! SMTP replies as they come off the wire: EHLO mechanisms, SASL error challenges, refusals.
//! A challenge names nothing but a plain status word; no token survives into a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_core::fuzzing;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(r) = fuzzing::smtp_reply(&text) {
        assert!(r
            .challenge
            .strip_prefix(": status ")
            .map_or(r.challenge.is_empty(), |s| s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')));
        assert!(!r.refusal.1.contains("ya29."));
    }
});
