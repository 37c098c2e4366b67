//! Properties of the parsers on the mail side, over generated input: `--raw` messages (CRLF
//! conversion, Bcc removal with the rest of the header block intact), address lists, SMTP
//! replies and SASL challenges, and redaction. Pure functions: no sandbox or keychain.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mail_parser::{HeaderName, MessageParser};
use postern_core::fuzzing;
use proptest::prelude::*;

const LIMIT: u64 = 35_882_577;

fn strip_cr(b: &[u8]) -> Vec<u8> {
    b.iter().copied().filter(|c| *c != b'\r').collect()
}

/// A header line of the message (not Bcc): name and value, possibly folded.
fn header() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("Subject"),
        Just("X-Mailer"),
        Just("Reply-To"),
        Just("Comments"),
        Just("X-Bcc-Note"),
        Just("In-Reply-To"),
    ];
    (name, "[ -~]{0,30}", any::<bool>()).prop_map(|(n, v, fold)| {
        let v = v.replace(':', " ");
        if fold {
            format!("{n}: {v}\n\t{v}")
        } else {
            format!("{n}: {v}")
        }
    })
}

/// A Bcc field in one of the spellings and layouts a script may write.
fn bcc() -> impl Strategy<Value = String> {
    let name = prop_oneof![Just("Bcc"), Just("BCC"), Just("bcc"), Just("bCc")];
    let addrs = proptest::collection::vec("[a-z]{1,8}@hidden[0-9]\\.test", 1..4);
    (name, addrs, any::<bool>()).prop_map(|(n, a, fold)| {
        if fold && a.len() > 1 {
            format!("{n}: {},\n {}", a[0], a[1..].join(",\n "))
        } else {
            format!("{n}: {}", a.join(", "))
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn crlf_conversion_leaves_no_bare_lf_and_changes_nothing_else(input in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), any::<u8>()], 0..300)) {
        let out = fuzzing::to_crlf(&input);
        for (i, b) in out.iter().enumerate() {
            if *b == b'\n' {
                prop_assert!(i > 0 && out[i - 1] == b'\r', "bare LF at {}", i);
            }
        }
        prop_assert_eq!(strip_cr(&out), strip_cr(&input));
        let bare = input.iter().enumerate().filter(|(i, b)| **b == b'\n' && (*i == 0 || input[i - 1] != b'\r')).count();
        prop_assert_eq!(out.len(), input.len() + bare);
    }

    #[test]
    fn no_bcc_header_survives_and_the_other_headers_stay_as_they_were(
        before in proptest::collection::vec(header(), 0..4),
        bccs in proptest::collection::vec(bcc(), 1..3),
        after in proptest::collection::vec(header(), 0..4),
        body in "[ -~\n]{0,200}",
        lf in any::<bool>(),
    ) {
        let mut lines = vec!["From: Ann <ann@example.com>".to_owned(), "To: bob@example.org".to_owned()];
        lines.extend(before.iter().cloned());
        lines.extend(bccs.iter().cloned());
        lines.extend(after.iter().cloned());
        let eol = if lf { "\n" } else { "\r\n" };
        let text = format!("{}{eol}{eol}{body}", lines.join(eol).replace('\n', eol).replace("\r\r", "\r"));
        let c = fuzzing::parse_raw("ann@example.com", text.as_bytes(), LIMIT).unwrap();
        let parsed = MessageParser::default().parse_headers(&c.raw).unwrap();
        prop_assert!(!parsed.headers().iter().any(|h| matches!(h.name, HeaderName::Bcc)));
        let raw = String::from_utf8(c.raw.clone()).unwrap();
        prop_assert!(!raw.to_ascii_lowercase().contains("\nbcc:") && !raw.to_ascii_lowercase().starts_with("bcc:"), "{}", raw);
        // Every other header line is still there, in order, byte for byte (CRLF).
        let kept: Vec<String> = ["From: Ann <ann@example.com>", "To: bob@example.org"]
            .iter().map(|s| s.to_string()).chain(before).chain(after)
            .map(|h| h.replace('\n', "\r\n")).collect();
        let expected_block = format!("{}\r\n\r\n", kept.join("\r\n"));
        prop_assert!(raw.contains(&expected_block), "{:?} not in {:?}", expected_block, raw);
        let tail = format!("\r\n\r\n{}", body.replace('\n', "\r\n"));
        prop_assert!(raw.ends_with(&tail), "{:?}", raw);
        for b in &bccs {
            for addr in b.split([':', ',']).skip(1) {
                let addr = addr.trim();
                prop_assert!(c.recipients.iter().any(|r| r == addr), "{} not in the envelope", addr);
                prop_assert!(!raw.contains(addr), "{} left in the message", addr);
            }
        }
    }

    #[test]
    fn any_raw_message_is_read_or_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(c) = fuzzing::parse_raw("ann@example.com", &bytes, LIMIT) {
            let parsed = MessageParser::default().parse_headers(&c.raw);
            prop_assert!(parsed.is_none_or(|p| !p.headers().iter().any(|h| matches!(h.name, HeaderName::Bcc))));
            prop_assert!(!c.recipients.is_empty());
        }
    }

    #[test]
    fn address_lists_give_back_the_addresses_they_were_made_of(
        addrs in proptest::collection::vec(("[a-z][a-z0-9.+_-]{0,10}[a-z0-9]", "[a-z]{1,10}\\.(test|org|com)", proptest::option::of("[A-Za-z ]{1,12}")), 1..6),
        sep in prop_oneof![Just(","), Just(", "), Just(";"), Just(" ,\n")],
    ) {
        prop_assume!(addrs.iter().all(|(l, _, _)| !l.contains("..")));
        let text: Vec<String> = addrs.iter().map(|(l, d, n)| match n {
            Some(n) if !n.trim().is_empty() => format!("\"{}\" <{l}@{d}>", n.trim()),
            _ => format!("{l}@{d}"),
        }).collect();
        let list = fuzzing::parse_list("to", &text.join(sep)).unwrap();
        let got: Vec<String> = list.iter().map(|m| m.email.to_string()).collect();
        let want: Vec<String> = addrs.iter().map(|(l, d, _)| format!("{l}@{d}")).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn any_address_list_is_parsed_or_refused_by_name_without_panicking(text in "\\PC{0,120}") {
        match fuzzing::parse_list("to", &text) {
            Ok(list) => prop_assert!(list.iter().all(|m| m.email.to_string().contains('@'))),
            Err(e) => prop_assert_eq!(e.code(), "invalid_address"),
        }
    }

    #[test]
    fn ehlo_replies_yield_exactly_the_mechanisms_offered(
        mechs in proptest::collection::vec("[A-Za-z0-9-]{1,12}", 0..6),
        old_form in any::<bool>(),
        other in proptest::collection::vec("[A-Z0-9 ]{1,20}", 0..3),
    ) {
        let mut lines = vec!["smtp.test at your service".to_owned()];
        lines.extend(other.iter().filter(|o| !o.trim_start().starts_with("AUTH")).cloned());
        if !mechs.is_empty() {
            lines.push(if old_form { format!("AUTH={}", mechs.join(" ")) } else { format!("AUTH {}", mechs.join(" ")) });
        }
        let n = lines.len();
        let text: String = lines.iter().enumerate()
            .map(|(i, l)| format!("250{}{l}\r\n", if i + 1 == n { ' ' } else { '-' }))
            .collect();
        let r = fuzzing::smtp_reply(&text).expect("a well-formed reply");
        prop_assert_eq!(r.code, 250);
        let want: Vec<String> = mechs.iter().map(|m| m.to_ascii_uppercase()).collect();
        prop_assert_eq!(r.mechanisms, want);
    }

    #[test]
    fn a_sasl_challenge_names_only_a_plain_status_and_never_anything_else(
        status in prop_oneof![Just("invalid_token".to_owned()), "\\PC{0,30}"],
        extra in "\\PC{0,30}",
    ) {
        let json = serde_json::json!({"status": status, "schemes": "Bearer", "scope": extra});
        let text = format!("334 {}\r\n", STANDARD.encode(json.to_string()));
        let r = fuzzing::smtp_reply(&text).expect("a well-formed reply");
        if status.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            prop_assert_eq!(r.challenge, format!(": status {status}"));
        } else {
            prop_assert_eq!(r.challenge, "");
        }
    }

    #[test]
    fn any_smtp_reply_text_is_read_without_panicking_and_tokens_in_it_are_redacted(
        text in "\\PC{0,200}",
        code in 200u16..600,
        token in "[A-Za-z0-9_-]{20,40}",
    ) {
        let _ = fuzzing::smtp_reply(&text);
        let planted = format!("{code} {text} ya29.{token}\r\n");
        if let Some(r) = fuzzing::smtp_reply(&planted) {
            prop_assert!(!r.refusal.1.contains(&token), "{}", r.refusal.1);
        }
    }

    #[test]
    fn planted_tokens_never_survive_redaction(
        before in "\\PC{0,40}",
        after in "\\PC{0,40}",
        token in "[A-Za-z0-9_-]{20,60}",
        shape in 0usize..12,
        sep in prop_oneof![Just(" "), Just("\n"), Just("\r\n"), Just(""), Just("\t")],
    ) {
        let planted = match shape {
            0 => format!("ya29.{token}"),
            1 => format!("1//{token}"),
            2 => format!("GOCSPX-{token}"),
            3 => format!("Bearer{}{token}", if sep.is_empty() { " " } else { sep }),
            4 => format!("access_token={token}"),
            5 => format!("refresh_token={token}"),
            6 => format!("code={token}"),
            7 => format!("client_secret={token}"),
            8 => format!("token={token}"),
            9 => format!("\"access_token\":\"{token}\""),
            10 => format!("\"refresh_token\": \"{token}\""),
            _ => format!("eyJ{token}.eyJ{token}.{token}"),
        };
        let text = format!("{before}{sep}{planted}{sep}{after}");
        let out = fuzzing::redact(&text);
        prop_assert!(!out.contains(&token), "{:?} -> {:?}", text, out);
    }

    #[test]
    fn plain_words_pass_redaction_unchanged(words in proptest::collection::vec("[A-Za-z]{1,12}|[0-9]{1,6}|[.,;:!?]", 0..30)) {
        let text = words.join(" ");
        prop_assert_eq!(fuzzing::redact(&text), text);
    }
}
