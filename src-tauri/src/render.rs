//! What the command line prints: plain lines for people, `--json` (docs/ipc.md shapes) for
//! scripts. Results on standard output, explanations on standard error.

use std::path::Path;

use postern_core::mail::compose::Attachment;
use postern_core::outbox::{OutboxItem, OutboxState};
use postern_core::status::{Account, TokenStatus};
use postern_core::Error;

fn json<T: serde::Serialize>(value: &T) -> Result<i32, Error> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Error::Internal { why: e.to_string() })?;
    println!("{text}");
    Ok(0)
}

/// `postern accounts`
pub fn accounts(list: &[Account], as_json: bool) -> Result<i32, Error> {
    if as_json {
        return json(&list);
    }
    if list.is_empty() {
        println!("No accounts yet. Add one with: postern authorize");
    }
    for a in list {
        println!("{}\t{}\t{}", a.address, a.provider, a.status.headline);
    }
    Ok(0)
}

/// `postern status` without an address: every account.
pub fn statuses(list: &[Account], as_json: bool) -> Result<i32, Error> {
    if as_json {
        let all: Vec<&TokenStatus> = list.iter().map(|a| &a.status).collect();
        return json(&all);
    }
    if list.is_empty() {
        println!("No accounts yet. Add one with: postern authorize");
    }
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_status(&a.status);
    }
    Ok(0)
}

/// `postern status ADDRESS`, and the result of authorize and revoke.
pub fn status(s: &TokenStatus, as_json: bool) -> Result<i32, Error> {
    if as_json {
        return json(s);
    }
    print_status(s);
    Ok(0)
}

fn print_status(s: &TokenStatus) {
    println!("{} ({})", s.address, s.provider);
    println!("  {}", s.headline);
    if let Some(at) = &s.expires_at {
        println!("  access token expires {}", short_time(at));
    }
    if s.scopes_granted.is_empty() {
        println!("  scopes granted: none");
    } else {
        println!("  scopes granted: {}", s.scopes_granted.join(" "));
    }
    if !s.scopes_missing.is_empty() {
        println!("  scopes missing: {}", s.scopes_missing.join(" "));
    }
    if let Some(at) = &s.last_refresh {
        println!("  last refresh {}", short_time(at));
    }
    if let (Some(at), Some(left)) = (&s.grant_ends_at, s.grant_seconds_left) {
        let soon = if s.grant_ending_soon { " (soon)" } else { "" };
        println!(
            "  grant ends {} — in {}{soon}",
            short_time(at),
            countdown(left)
        );
    }
    if let Some(note) = &s.grant_note {
        println!("  note: {note}");
    }
    if let Some(at) = s.revocation_next_try() {
        println!("  revocation retried {}", short_time(at));
    }
    if let Some(cause) = s.revoked_cause() {
        println!("  why: {cause}");
    }
    if let Some(e) = &s.last_error {
        println!("  last error: {}\n  what to do: {}", e.message, e.fix);
    }
}

/// "2 days 3 hours", "5 hours 10 minutes", "40 seconds".
fn countdown(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    let unit = |n: i64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (d, h, m) {
        (0, 0, 0) => unit(secs, "second"),
        (0, 0, m) => unit(m, "minute"),
        (0, h, m) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
        (d, h, _) => format!("{} {}", unit(d, "day"), unit(h, "hour")),
    }
}

/// An RFC 3339 time to the second, for people (`--json` keeps core's full value).
fn short_time(at: &str) -> String {
    match (at.find('.'), at.rfind(['Z', '+'])) {
        (Some(dot), Some(zone)) if dot < zone => format!("{}{}", &at[..dot], &at[zone..]),
        _ => at.to_string(),
    }
}

/// `postern outbox`
pub fn outbox(items: &[OutboxItem], as_json: bool) -> Result<i32, Error> {
    if as_json {
        return json(&items);
    }
    if items.is_empty() {
        println!("The outbox is empty.");
    }
    for item in items {
        print_item(item);
    }
    Ok(0)
}

/// One outbox message (after a retry).
pub fn outbox_item(item: &OutboxItem, as_json: bool) -> Result<i32, Error> {
    if as_json {
        return json(item);
    }
    print_item(item);
    Ok(0)
}

fn print_item(item: &OutboxItem) {
    let state = serde_json::to_value(item.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    println!(
        "{}\t{}\t{}\t{} → {}\t{}",
        item.id,
        state,
        item.account,
        item.subject,
        item.to.join(", "),
        item.message_id
    );
    if let Some(e) = &item.last_error {
        println!("\t{}  What to do: {}", e.message, e.fix);
    }
}

/// The outcome of `postern send`: the exit code follows the message's state.
pub fn sent(item: &OutboxItem) -> Result<i32, Error> {
    let why = item
        .last_error
        .as_ref()
        .map(|e| format!("\n  {}\n  What to do: {}", e.message, e.fix))
        .unwrap_or_default();
    match item.state {
        OutboxState::Sent => {
            println!("{}", item.message_id);
            eprintln!("Sent to {} recipient(s).", item.to.len());
            Ok(0)
        }
        OutboxState::Queued | OutboxState::Sending => {
            println!("{}", item.message_id);
            eprintln!(
                "Queued as outbox message {}; Postern will keep trying.{why}",
                item.id
            );
            Ok(if item.last_error.is_some() { 5 } else { 0 })
        }
        OutboxState::Waiting => {
            eprintln!(
                "Kept in the outbox (message {}): the account needs authorizing again.{why}",
                item.id
            );
            Ok(3)
        }
        OutboxState::Failed => {
            eprintln!("Not sent; kept in the outbox as message {}.{why}", item.id);
            Ok(6)
        }
    }
}

/// An I/O failure in plain words: "No such file or directory", without Rust's "(os error 2)".
pub fn io_words(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// A file to attach, refused while reading once it passes the largest attachment a message
/// may hold; its type is told from its name.
pub fn attachment(path: &Path, max_message_bytes: u64) -> Result<Attachment, Error> {
    let data = postern_core::mail::input::read_attachment(path, max_message_bytes)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "attachment".into());
    // The bytes go to core as they are: a base64 copy would be a third larger again.
    Ok(Attachment {
        name,
        bytes: Some(data),
        ..Attachment::default()
    })
}

#[cfg(test)]
mod tests {
    use super::{io_words, short_time};

    #[test]
    fn file_errors_read_as_words_without_os_error_numbers() {
        let e = std::fs::read("/nonexistent/postern-file").unwrap_err();
        assert_eq!(io_words(&e), "No such file or directory");
        let plain = std::io::Error::other("it broke");
        assert_eq!(io_words(&plain), "it broke");
    }

    #[test]
    fn times_for_people_stop_at_the_second() {
        assert_eq!(
            short_time("2026-11-25T13:34:48.546918552Z"),
            "2026-11-25T13:34:48Z"
        );
        assert_eq!(
            short_time("2026-11-25T13:34:48+01:00"),
            "2026-11-25T13:34:48+01:00"
        );
        assert_eq!(
            short_time("2026-11-25T13:34:48.5+01:00"),
            "2026-11-25T13:34:48+01:00"
        );
    }
}
