//! Reading a message or an attachment from a stream with the size checked while reading:
//! `--attach /dev/zero` or an endless standard input is refused once it passes the limit,
//! before more memory is spent on it.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Reads `reader` to its end, or `Ok(None)` as soon as it holds more than `limit` bytes.
pub fn read_at_most(reader: impl Read, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    read_sized(reader, limit, 0)
}

/// [`read_at_most`] into a buffer made for `expected` bytes (a file's known size), so a large
/// file is not read through a buffer that doubles (and is copied) as it grows.
fn read_sized(reader: impl Read, limit: u64, expected: u64) -> std::io::Result<Option<Vec<u8>>> {
    let room = usize::try_from(expected.min(limit).saturating_add(1)).unwrap_or(0);
    let mut buf = Vec::with_capacity(room);
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= limit).then_some(buf))
}

/// An I/O error in plain words, without the OS error number.
fn words(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Reads all of `reader` (standard input, say), refused with a clear error once it passes
/// `limit` bytes.
pub fn read_input(reader: impl Read, what: &str, limit: u64) -> Result<Vec<u8>> {
    read_at_most(reader, limit)
        .map_err(|e| Error::InvalidInput {
            what: what.to_owned(),
            why: format!("cannot read it: {}", words(&e)),
        })?
        .ok_or_else(|| Error::InvalidInput {
            what: what.to_owned(),
            why: format!("it is larger than {limit} bytes, the most Postern takes"),
        })
}

/// Reads a file to attach; refused as soon as it passes what one attachment may be in a
/// message of `max_message_bytes` (its base64 form must fit).
pub fn read_attachment(path: &Path, max_message_bytes: u64) -> Result<Vec<u8>> {
    let limit = super::compose::largest_attachment(max_message_bytes);
    let name = path.display().to_string();
    let unreadable = |e: std::io::Error| Error::InvalidInput {
        what: name.clone(),
        why: format!("cannot read it to attach: {}", words(&e)),
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let too_large = |size: u64| Error::AttachmentTooLarge {
        name: name.clone(),
        size,
        limit,
    };
    // A regular file's size is known: refuse it without reading.
    let mut expected = 0;
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > limit {
            return Err(too_large(meta.len()));
        }
        expected = if meta.is_file() { meta.len() } else { 0 };
    }
    read_sized(file, limit, expected)
        .map_err(unreadable)?
        .ok_or_else(|| too_large(limit.saturating_add(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_stream_is_refused_after_the_limit() {
        let e = read_input(std::io::repeat(b'a'), "the message", 1 << 20).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("larger than 1048576 bytes"), "{e}");
        assert_eq!(
            read_input(&b"hello"[..], "the message", 5).unwrap(),
            b"hello"
        );
        assert_eq!(
            read_input(&b"hello!"[..], "x", 5).unwrap_err().code(),
            "invalid_input"
        );
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_refused_as_an_attachment_without_reading_it_whole() {
        let e = read_attachment(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(e.code(), "attachment_too_large");
    }

    #[test]
    fn a_large_regular_file_is_refused_by_its_size_and_a_small_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.bin");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(10 << 20)
            .unwrap();
        let e = read_attachment(&big, 1 << 20).unwrap_err();
        assert!(matches!(e, Error::AttachmentTooLarge { size, .. } if size == 10 << 20));
        let small = dir.path().join("small.txt");
        std::fs::write(&small, b"hi").unwrap();
        assert_eq!(read_attachment(&small, 1 << 20).unwrap(), b"hi");
        let missing = read_attachment(&dir.path().join("none"), 1 << 20).unwrap_err();
        assert_eq!(missing.code(), "invalid_input");
        assert!(!missing.to_string().contains("os error"), "{missing}");
    }
}
