//! HTML bodies turned into the text a person reads, keeping what the readers need:
//! one line per paragraph or row, a table row as "first cell: other cells" (Outlook
//! request forms are two-column tables: "Hari/Tanggal | Senin, 9 Februari 2026"), quoted
//! blocks marked with "> ", and Outlook's reply separator kept as a line of underscores
//! so the quote cutter sees it. A single linear pass; no DOM is built.

use super::text::MAX_TEXT_BYTES;

const BLOCK_TAGS: &[&str] = &[
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "dt", "dd", "section", "article",
    "header", "footer", "center", "address", "form", "fieldset", "tbody", "thead", "tfoot", "caption",
];
const SKIP_TAGS: &[&str] = &["style", "script", "head", "title", "xml", "template", "noscript"];

#[derive(Default)]
struct Row {
    cells: Vec<String>,
    cell: String,
    in_cell: bool,
}

struct Out {
    text: String,
    quote_depth: usize,
    at_line_start: bool,
    pending_space: bool,
    rows: Vec<Row>,
}

impl Out {
    fn sink(&mut self) -> &mut String {
        match self.rows.last_mut() {
            Some(r) if r.in_cell => &mut r.cell,
            _ => &mut self.text,
        }
    }

    fn in_cell(&self) -> bool {
        self.rows.last().is_some_and(|r| r.in_cell)
    }

    fn push_text(&mut self, s: &str) {
        for c in s.chars() {
            if c.is_whitespace() {
                self.pending_space = true;
                continue;
            }
            if self.in_cell() {
                let space = self.pending_space;
                let cell = self.sink();
                if space && !cell.is_empty() {
                    cell.push(' ');
                }
                cell.push(c);
                self.pending_space = false;
                continue;
            }
            if self.at_line_start {
                for _ in 0..self.quote_depth {
                    self.text.push_str("> ");
                }
                self.at_line_start = false;
            } else if self.pending_space {
                self.text.push(' ');
            }
            self.pending_space = false;
            self.text.push(c);
        }
    }

    /// Ends the current line. A block that held only blanks (Outlook's empty
    /// `<p>&nbsp;</p>`) leaves an empty line, as it shows on screen.
    fn newline(&mut self) {
        let blank_block = self.pending_space && self.at_line_start;
        self.pending_space = false;
        if self.in_cell() {
            self.pending_space = true;
            return;
        }
        if !self.at_line_start {
            self.text.push('\n');
            self.at_line_start = true;
        } else if blank_block {
            self.blank_line();
        }
    }

    /// `<br>`: a line break, and a second one makes an empty line.
    fn br(&mut self) {
        if self.in_cell() {
            self.pending_space = true;
            return;
        }
        if self.at_line_start {
            self.blank_line();
        } else {
            self.text.push('\n');
            self.at_line_start = true;
        }
        self.pending_space = false;
    }

    fn blank_line(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn line(&mut self, s: &str) {
        self.pending_space = false;
        self.newline();
        self.push_text(s);
        self.newline();
    }

    fn end_cell(&mut self) {
        if let Some(r) = self.rows.last_mut()
            && r.in_cell
        {
            let c = std::mem::take(&mut r.cell);
            r.cells.push(c.trim().to_string());
            r.in_cell = false;
        }
    }

    fn end_row(&mut self) {
        self.end_cell();
        let Some(r) = self.rows.last_mut() else { return };
        let cells: Vec<String> = std::mem::take(&mut r.cells).into_iter().filter(|c| !c.is_empty()).collect();
        let line = match cells.as_slice() {
            [] => return,
            [one] => one.clone(),
            [first, rest @ ..] => {
                let sep = if first.ends_with(':') { " " } else { ": " };
                format!("{first}{sep}{}", rest.join(", "))
            }
        };
        // A row of an inner table lands in the outer cell.
        if self.rows.len() > 1 {
            let n = self.rows.len();
            if let Some(parent) = self.rows.get_mut(n - 2) {
                if !parent.cell.is_empty() {
                    parent.cell.push(' ');
                }
                parent.cell.push_str(&line);
                return;
            }
        }
        self.line(&line);
    }
}

fn tag_name(tag: &str) -> (bool, String) {
    let t = tag.trim_start();
    let (closing, t) = match t.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let name: String =
        t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':').collect::<String>().to_ascii_lowercase();
    (closing, name)
}

/// Converts HTML to text (see the module doc). Linear in the input.
pub fn html_to_text(html: &str) -> String {
    let html = super::text::truncate(html, MAX_TEXT_BYTES * 4);
    let lower = html.to_ascii_lowercase();
    let mut out = Out {
        text: String::with_capacity(html.len() / 3),
        quote_depth: 0,
        at_line_start: true,
        pending_space: false,
        rows: Vec::new(),
    };
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < html.len() {
        if bytes[i] != b'<' {
            let next = html[i..].find('<').map(|k| i + k).unwrap_or(html.len());
            out.push_text(&decode_entities(&html[i..next]));
            i = next;
            continue;
        }
        if lower[i..].starts_with("<!--") {
            i = lower[i + 4..].find("-->").map(|k| i + 4 + k + 3).unwrap_or(html.len());
            continue;
        }
        let Some(close) = html[i..].find('>').map(|k| i + k) else {
            break;
        };
        let inner = &html[i + 1..close];
        let inner_lower = &lower[i + 1..close];
        let (closing, name) = tag_name(inner);
        i = close + 1;
        if !closing && SKIP_TAGS.contains(&name.as_str()) && !inner.trim_end().ends_with('/') {
            let end_tag = format!("</{name}");
            i = lower[i..].find(&end_tag).map(|k| i + k).unwrap_or(html.len());
            continue;
        }
        match name.as_str() {
            "tr" => {
                if closing {
                    out.end_row();
                    if let Some(r) = out.rows.last_mut() {
                        r.cells.clear();
                    }
                } else {
                    if out.rows.last().is_some_and(|r| !r.cells.is_empty() || r.in_cell) {
                        out.end_row();
                    }
                    if out.rows.is_empty() {
                        out.rows.push(Row::default());
                    }
                }
            }
            "td" | "th" => {
                if closing {
                    out.end_cell();
                } else {
                    if out.rows.is_empty() {
                        out.rows.push(Row::default());
                    }
                    out.end_cell();
                    if let Some(r) = out.rows.last_mut() {
                        r.in_cell = true;
                    }
                }
            }
            "table" => {
                if closing {
                    out.end_row();
                    if out.rows.len() > 1 || !out.in_cell() {
                        out.rows.pop();
                    }
                } else if out.in_cell() {
                    out.rows.push(Row::default());
                } else {
                    out.rows.clear();
                    out.newline();
                }
            }
            "blockquote" => {
                out.newline();
                if closing {
                    out.quote_depth = out.quote_depth.saturating_sub(1);
                } else if out.quote_depth < 20 {
                    out.quote_depth += 1;
                }
                out.at_line_start = true;
            }
            "hr" => out.line("________________________________"),
            "br" => out.br(),
            "div"
                if !closing
                    && (inner_lower.contains("divrplyfwdmsg")
                        || inner_lower.contains("appendonsend")
                        || inner_lower.contains("mail-editor-reference-message-container")) =>
            {
                out.line("________________________________");
            }
            n if BLOCK_TAGS.contains(&n) => out.newline(),
            _ => {}
        }
    }
    out.end_row();
    let mut text = out.text;
    text.truncate(super::text::truncate(&text, MAX_TEXT_BYTES).len());
    text
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" | "rsquo" | "lsquo" | "prime" => '\'',
        "ldquo" | "rdquo" | "bdquo" => '"',
        "ndash" | "mdash" | "minus" | "hyphen" => '-',
        "hellip" => '\u{2026}',
        "bull" | "middot" | "sdot" => ' ',
        "plusmn" => '\u{b1}',
        "times" => 'x',
        "deg" => '\u{b0}',
        "laquo" => '\u{ab}',
        "raquo" => '\u{bb}',
        "copy" => '\u{a9}',
        "reg" => '\u{ae}',
        "zwnj" | "zwj" | "shy" | "lrm" | "rlm" => '\u{200b}',
        "eacute" => '\u{e9}',
        "egrave" => '\u{e8}',
        "aacute" => '\u{e1}',
        "agrave" => '\u{e0}',
        "ouml" => '\u{f6}',
        "uuml" => '\u{fc}',
        "auml" => '\u{e4}',
        _ => return None,
    })
}

/// Decodes character references: named (the common ones), decimal and hexadecimal.
pub fn decode_entities(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').filter(|&k| k > 0 && k <= 10);
        let decoded = semi.and_then(|k| {
            let name = &after[..k];
            let c = if let Some(num) = name.strip_prefix('#') {
                let v = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                v.and_then(char::from_u32)
            } else {
                entity(name)
            };
            c.map(|c| (c, k))
        });
        match decoded {
            Some((c, k)) => {
                out.push(c);
                rest = &after[k + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_become_label_value_lines() {
        let html = "<html><head><style>p {x:y}</style></head><body><p>Yth. PJK TIP,</p><table><tr><td><p class=MsoNormal>Kegiatan<o:p></o:p></p></td><td><p>Rapat Persiapan</p></td></tr><tr><td>Hari/Tanggal</td><td>Senin, 9 Februari 2026</td></tr><tr><td>Pukul</td><td>13.00&nbsp;&ndash;&nbsp;15.30 WIB</td></tr></table><p>Salam,</p></body></html>";
        let text = html_to_text(html);
        assert_eq!(
            text.trim(),
            "Yth. PJK TIP,\nKegiatan: Rapat Persiapan\nHari/Tanggal: Senin, 9 Februari 2026\nPukul: 13.00 - 15.30 WIB\nSalam,"
        );
    }

    #[test]
    fn breaks_quotes_comments_and_entities() {
        for (html, want) in [
            ("Hari/tanggal&nbsp;: Kamis<br>Pukul : 09.00", "Hari/tanggal : Kamis\nPukul : 09.00"),
            (
                "<div>SETUJU</div><blockquote>Balas SETUJU<br>atau TOLAK</blockquote>",
                "SETUJU\n> Balas SETUJU\n> atau TOLAK",
            ),
            ("<div>TOLAK</div><div><br></div><div>bentrok</div>", "TOLAK\n\nbentrok"),
            ("<p>Yth.</p><p>&nbsp;</p><p>Mohon</p>", "Yth.\n\nMohon"),
            ("a<!--[if gte mso 9]><xml>x</xml><![endif]-->b", "ab"),
            ("&#177; 30 &amp; &#x2013; &bogus; &", "\u{b1} 30 & \u{2013} &bogus; &"),
            (
                "OK<div id=\"divRplyFwdMsg\"><b>From:</b> Loket</div>",
                "OK\n________________________________\nFrom: Loket",
            ),
            ("<p>unclosed <b", "unclosed"),
        ] {
            assert_eq!(html_to_text(html).trim(), want, "{html}");
        }
    }
}
