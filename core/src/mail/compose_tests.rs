use super::*;
use base64::engine::general_purpose::STANDARD;
use mail_parser::{MessageParser, MimeHeaders};

const GMAIL: u64 = 35_882_577;

fn draft() -> Draft {
    Draft {
        from: "Ann Example <ann@example.com>".into(),
        to: "bob@example.org, \"Doe, Carl\" <carl@example.net>".into(),
        cc: "".into(),
        bcc: "dora@example.com".into(),
        subject: "Grüße".into(),
        text: "Hello".into(),
        html: None,
        attachments: vec![],
    }
}

#[test]
fn builds_a_plain_message_with_id_date_and_no_bcc_header() {
    let c = compose(&draft(), GMAIL).unwrap();
    assert_eq!(c.account, "ann@example.com");
    assert_eq!(
        c.recipients,
        ["bob@example.org", "carl@example.net", "dora@example.com"]
    );
    assert_eq!(c.to, ["bob@example.org", "carl@example.net"]);
    assert!(c.message_id.ends_with("@example.com"));
    let m = MessageParser::default().parse(&c.raw).unwrap();
    assert_eq!(m.message_id(), Some(c.message_id.as_str()));
    assert_eq!(m.subject(), Some("Grüße"));
    assert!(m.date().is_some());
    assert!(m.bcc().is_none());
    assert!(!String::from_utf8_lossy(&c.raw).contains("dora"));
    assert_eq!(m.body_text(0).unwrap().trim(), "Hello");
}

#[test]
fn html_alternative_and_attachments_make_mixed_and_alternative_parts() {
    let mut d = draft();
    d.html = Some("<p>Hello</p>".into());
    let pdf = vec![0x25, 0x50, 0x44, 0x46, 0, 1, 2, 255];
    d.attachments = vec![
        Attachment {
            name: "report.pdf".into(),
            content_type: "".into(),
            data_base64: STANDARD.encode(&pdf),
            ..Default::default()
        },
        Attachment {
            name: "data".into(),
            content_type: "text/csv".into(),
            data_base64: STANDARD.encode(b"a,b\n1,2\n"),
            ..Default::default()
        },
    ];
    let c = compose(&d, GMAIL).unwrap();
    let text = String::from_utf8_lossy(&c.raw);
    assert!(text.contains("multipart/mixed"), "{text}");
    assert!(text.contains("multipart/alternative"), "{text}");
    let m = MessageParser::default().parse(&c.raw).unwrap();
    assert_eq!(m.body_html(0).unwrap().trim(), "<p>Hello</p>");
    let atts: Vec<_> = m.attachments().collect();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0].attachment_name(), Some("report.pdf"));
    assert_eq!(atts[0].content_type().unwrap().subtype(), Some("pdf"));
    assert_eq!(atts[0].contents(), &pdf[..]);
    assert_eq!(atts[1].content_type().unwrap().subtype(), Some("csv"));
    assert_eq!(atts[1].contents(), b"a,b\n1,2\n");
}

#[test]
fn a_bad_address_is_named_in_the_error() {
    let mut d = draft();
    d.to = "bob@example.org, bob@".into();
    let e = compose(&d, GMAIL).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("“bob@” in To is not an email address: "),
        "{msg}"
    );
    assert_eq!(e.explain().kind, "invalid_address");

    d.to = "bob@example.org".into();
    d.cc = "carl at example.net".into();
    let msg = compose(&d, GMAIL).unwrap_err().to_string();
    assert!(msg.contains("“carl at example.net” in Cc"), "{msg}");
    assert!(msg.contains("no @"), "{msg}");
}

#[test]
fn no_recipient_is_refused() {
    let mut d = draft();
    d.to = " , ".into();
    d.bcc = "".into();
    assert!(matches!(compose(&d, GMAIL), Err(Error::NoRecipients)));
}

#[test]
fn an_oversize_attachment_is_refused_with_size_and_limit() {
    let mut d = draft();
    d.attachments = vec![Attachment {
        name: "big.bin".into(),
        content_type: "".into(),
        data_base64: STANDARD.encode(vec![7u8; 3000]),
        ..Default::default()
    }];
    let e = compose(&d, 2000).unwrap_err();
    match &e {
        Error::AttachmentTooLarge { name, size, .. } => {
            assert_eq!(name, "big.bin");
            assert_eq!(*size, 3000);
        }
        other => panic!("unexpected {other}"),
    }
    // Small attachments that together exceed the limit are refused too.
    d.attachments = (0..3)
        .map(|i| Attachment {
            name: format!("part{i}.bin"),
            content_type: "".into(),
            data_base64: STANDARD.encode(vec![1u8; 1000]),
            ..Default::default()
        })
        .collect();
    let e = compose(&d, 3000).unwrap_err();
    assert!(
        matches!(e, Error::MessageTooLarge { limit: 3000, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("limit of 3000"));
}

#[test]
fn bad_base64_and_bad_content_type_are_explained() {
    let mut d = draft();
    d.attachments = vec![Attachment {
        name: "x.txt".into(),
        content_type: "".into(),
        data_base64: "not base64!!".into(),
        ..Default::default()
    }];
    assert!(compose(&d, GMAIL)
        .unwrap_err()
        .to_string()
        .contains("x.txt"));
    d.attachments[0].data_base64 = STANDARD.encode(b"x");
    d.attachments[0].content_type = "no-slash".into();
    assert!(compose(&d, GMAIL)
        .unwrap_err()
        .to_string()
        .contains("not a content type"));
}

#[test]
fn draft_uses_the_ipc_field_names() {
    let json = serde_json::json!({
        "from": "ann@example.com", "to": "b@example.org", "cc": "", "bcc": "",
        "subject": "s", "text": "t", "html": null,
        "attachments": [{"name": "a.txt", "contentType": "text/plain", "dataBase64": "eA=="}]
    });
    let d: Draft = serde_json::from_value(json).unwrap();
    assert_eq!(d.attachments[0].data_base64, "eA==");
}
