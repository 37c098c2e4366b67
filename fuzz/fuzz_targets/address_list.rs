//! Address lists as typed in To, Cc and Bcc: parsed or refused by name, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_core::fuzzing;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match fuzzing::parse_list("to", &text) {
        Ok(list) => assert!(list.iter().all(|m| m.email.to_string().contains('@'))),
        Err(e) => assert_eq!(e.code(), "invalid_address"),
    }
});
