//! Text of PDF attachments (a scanned-in nota dinas exported from Word). `pdf-extract`
//! panics on some malformed files, so it runs under `catch_unwind` and a panic reads as
//! "no text". The panic message itself goes through the process's panic hook, which is
//! the shell's to configure: the core installs no global hooks.

/// PDFs larger than this are not read: a request memo is a few kilobytes, and the time a
/// hostile 25 MB file could take is better spent on the next mail.
pub const MAX_PDF_BYTES: usize = 4 * 1024 * 1024;

/// The text of a PDF, or None when it is too large, not a PDF, or unreadable.
pub fn pdf_text(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_PDF_BYTES {
        return None;
    }
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return None;
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pdf_extract::extract_text_from_mem(bytes)));
    match result {
        Ok(Ok(text)) => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_no_text() {
        assert_eq!(pdf_text(b""), None);
        assert_eq!(pdf_text(b"hello"), None);
        assert_eq!(pdf_text(b"%PDF-1.4\n1 0 obj garbage"), None);
        assert_eq!(pdf_text(&vec![b'%'; MAX_PDF_BYTES + 1]), None);
    }
}
