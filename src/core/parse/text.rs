//! Text normalisation and the tokenizer every reader below shares.
//!
//! Mail text arrives with typographic dashes, non-breaking spaces, smart quotes and
//! zero-width characters that people never see but that break naive matching: a date
//! range typed in Word is "30 Januari – 2 Februari", a time is "09.00&nbsp;–&nbsp;11.00".
//! Everything is folded to plain ASCII punctuation once, here, so each rule downstream
//! is written once.

/// The most text any single source (a body part, an attachment) contributes. Meeting
/// facts sit in the first screen of a mail; a 100,000-line body is hostile or a log, and
/// scanning all of it would only cost time. Chosen well above any real request.
pub const MAX_TEXT_BYTES: usize = 200 * 1024;

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Folds look-alike characters to ASCII and line ends to `\n`, and caps the length.
pub fn normalize(s: &str) -> String {
    let s = truncate(s, MAX_TEXT_BYTES);
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\t' | '\u{a0}' | '\u{2002}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => out.push(' '),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe58}' | '\u{fe63}' | '\u{ff0d}' => out.push('-'),
            '\u{2018}' | '\u{2019}' | '\u{201b}' | '\u{2032}' | '`' | '\u{b4}' => out.push('\''),
            '\u{201c}' | '\u{201d}' | '\u{201e}' => out.push('"'),
            '\u{22c5}' | '\u{2022}' | '\u{b7}' | '\u{25cf}' | '\u{25aa}' => out.push(' '),
            '\u{ff1a}' => out.push(':'),
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}' => {}
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Word,
    Num,
    Punct,
    Newline,
}

/// One token. `lower` is the ASCII-lowercased text (same byte offsets as the source).
#[derive(Debug, Clone, Copy)]
pub struct Tok<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub lower: &'a str,
    pub start: usize,
    pub end: usize,
    /// True when whitespace or a line break stands right before this token.
    pub spaced: bool,
}

impl Tok<'_> {
    pub fn is(&self, w: &str) -> bool {
        self.lower == w
    }
    pub fn is_any(&self, ws: &[&str]) -> bool {
        ws.contains(&self.lower)
    }
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.starts_with(c)
    }
    pub fn num(&self) -> Option<u32> {
        if self.kind == Kind::Num && self.text.len() <= 9 { self.text.parse().ok() } else { None }
    }
}

/// A text split into tokens, keeping the lowercased copy the tokens borrow from.
pub struct Tokens<'a> {
    pub toks: Vec<Tok<'a>>,
}

/// Splits `text` (already normalised) into words, numbers, punctuation and line breaks.
/// `lower` must be `text.to_ascii_lowercase()`. Linear in the text.
pub fn tokenize<'a>(text: &'a str, lower: &'a str) -> Tokens<'a> {
    let mut toks = Vec::with_capacity(text.len() / 4);
    let bytes = text.as_bytes();
    let mut spaced = true;
    let mut i = 0;
    while i < text.len() {
        let Some(c) = text[i..].chars().next() else { break };
        let len = c.len_utf8();
        if c == '\n' {
            toks.push(Tok {
                kind: Kind::Newline,
                text: &text[i..i + 1],
                lower: &lower[i..i + 1],
                start: i,
                end: i + 1,
                spaced,
            });
            spaced = true;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            spaced = true;
            i += len;
            continue;
        }
        let start = i;
        let kind = if c.is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            Kind::Num
        } else if c.is_alphabetic() {
            i += len;
            while i < text.len() {
                let Some(d) = text[i..].chars().next() else { break };
                if d.is_alphabetic() {
                    i += d.len_utf8();
                } else if d == '\'' && text[i + 1..].chars().next().is_some_and(|e| e.is_alphabetic()) {
                    i += 1;
                } else {
                    break;
                }
            }
            Kind::Word
        } else {
            i += len;
            Kind::Punct
        };
        toks.push(Tok { kind, text: &text[start..i], lower: &lower[start..i], start, end: i, spaced });
        spaced = false;
    }
    Tokens { toks }
}

/// Splits a text into lines with their byte offsets.
/// Reads mentions left to right over `len` tokens: where `at(i)` finds one, the scan goes
/// on after it (`end(m)`), else from the next token. `usable(i)` says whether token `i`
/// may start a mention (tokens of masked header lines may not).
pub fn scan_mentions<M>(
    len: usize,
    usable: &dyn Fn(usize) -> bool,
    mut at: impl FnMut(usize) -> Option<M>,
    end: impl Fn(&M) -> usize,
) -> Vec<M> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < len {
        if usable(i)
            && let Some(m) = at(i)
        {
            i = end(&m).max(i + 1);
            out.push(m);
            continue;
        }
        i += 1;
    }
    out
}

pub fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut off = 0;
    text.split('\n').map(move |l| {
        let here = off;
        off += l.len() + 1;
        (here, l)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_fold_to_ascii() {
        for (input, want) in [
            ("09.00\u{a0}\u{2013}\u{a0}11.00", "09.00 - 11.00"),
            ("Jum\u{2019}at", "Jum'at"),
            ("a\r\nb\rc", "a\nb\nc"),
            ("x\u{200b}y", "xy"),
            ("Selasa 19 Mei \u{22c5} 09.00", "Selasa 19 Mei   09.00"),
        ] {
            assert_eq!(normalize(input), want, "{input:?}");
        }
    }

    #[test]
    fn tokens_split_words_numbers_and_punctuation() {
        let t = "Jum'at, 13 Feb pk.08.30 8th";
        let lower = t.to_ascii_lowercase();
        let toks = tokenize(t, &lower);
        let got: Vec<&str> = toks.toks.iter().map(|t| t.text).collect();
        assert_eq!(got, ["Jum'at", ",", "13", "Feb", "pk", ".", "08", ".", "30", "8", "th"]);
        assert!(!toks.toks[10].spaced);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("ab\u{e9}", 3), "ab");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
