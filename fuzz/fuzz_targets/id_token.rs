//! id_token claims: any text is read or refused; an address comes out only with an `@`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_core::fuzzing;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for now in [0, 1_800_000_000, i64::MAX, i64::MIN] {
        if let Ok(email) =
            fuzzing::id_token_email(&text, Some("https://accounts.google.com"), "me", now)
        {
            assert!(email.contains('@'));
        }
    }
    // The payload as the fuzzer wrote it, too (so it need not discover base64url).
    let jwt = format!("e30.{}.sig", base64url(data));
    let _ = fuzzing::id_token_email(
        &jwt,
        Some("https://accounts.google.com"),
        "me",
        1_800_000_000,
    );
});

fn base64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}
