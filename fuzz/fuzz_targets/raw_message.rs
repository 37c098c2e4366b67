//! `postern send --raw`: CRLF conversion, then Bcc removal. No panic; no bare LF and no Bcc
//! header in what would be sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail_parser::{HeaderName, MessageParser};
use postern_core::fuzzing;

fuzz_target!(|data: &[u8]| {
    let crlf = fuzzing::to_crlf(data);
    assert!(crlf
        .iter()
        .enumerate()
        .all(|(i, b)| *b != b'\n' || (i > 0 && crlf[i - 1] == b'\r')));
    if let Ok(c) = fuzzing::parse_raw("ann@example.com", data, 35_882_577) {
        assert!(!c.recipients.is_empty());
        if let Some(h) = MessageParser::default().parse_headers(&c.raw) {
            assert!(!h
                .headers()
                .iter()
                .any(|h| matches!(h.name, HeaderName::Bcc)));
        }
    }
});
