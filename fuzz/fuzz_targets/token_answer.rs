//! Token endpoint answers: the first two bytes are the HTTP status, the rest the body. Only a
//! 400 may delete tokens; 5xx and 429 stay transient; a lifetime is always in range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_core::fuzzing::{self, EXPIRES_IN_RANGE};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_le_bytes([data[0], data[1]]) % 1000;
    let body = String::from_utf8_lossy(&data[2..]);
    match fuzzing::token_answer(status, &body) {
        Ok(secs) => {
            assert_eq!(status, 200);
            assert!(secs >= EXPIRES_IN_RANGE.0 && secs <= EXPIRES_IN_RANGE.1);
        }
        Err(r) => {
            assert!(
                !r.deletes_tokens || status == 400,
                "{status} deletes tokens"
            );
            assert!(r.transient || !(status >= 500 || status == 429));
        }
    }
});
