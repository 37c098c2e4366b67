//! providers.toml and Google's client JSON: read or refused with a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_core::fuzzing;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(ps) = fuzzing::providers(&text) {
        for p in ps {
            assert!(p.validate().is_ok());
        }
    }
    if let Err(e) = fuzzing::google_client_json(&text) {
        assert_eq!(e.code(), "invalid_input");
    }
});
