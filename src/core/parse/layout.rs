//! The shape of a mail body: "label : value" lines, and which of them belong to a letter
//! or mail header rather than to the meeting.
//!
//! A nota dinas opens with Nomor / Yth. / Dari / Hal / Tanggal: that "Tanggal" is the day
//! the memo was signed, usually the day it is sent, and never the meeting. Forwarded and
//! quoted mails carry the same kind of block (From / Date / Subject / To). Yet an Outlook
//! table that says "Tanggal | 26 Februari 2026" next to "Waktu" IS the meeting. So a
//! date-labelled line is a header date only when its neighbours are header labels and
//! none of them is a meeting label.

use super::text::lines_with_offsets;

const HEADER_LABELS: &[&str] = &[
    "nomor",
    "no",
    "nomor surat",
    "sifat",
    "lampiran",
    "yth",
    "kepada",
    "kepada yth",
    "dari",
    "hal",
    "perihal",
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "subjek",
    "reply-to",
    "balas ke",
    "pengirim",
    "penerima",
];
const DATE_HEADER_LABELS: &[&str] =
    &["tanggal", "tgl", "date", "sent", "dikirim", "dated", "tertanggal", "terkirim", "waktu kirim", "tanggal surat"];
const MEETING_LABELS: &[&str] = &[
    "pukul",
    "waktu",
    "jam",
    "hari",
    "hari/tanggal",
    "hari / tanggal",
    "hari, tanggal",
    "hari dan tanggal",
    "tempat",
    "acara",
    "kegiatan",
    "nama kegiatan",
    "peserta",
    "jumlah peserta",
    "agenda",
    "when",
    "time",
    "where",
    "lokasi",
    "venue",
    "event",
    "topik",
    "media",
    "jam mulai",
    "jam selesai",
];
/// Lines that only ever carry a letter's or a mail's own identity.
const ALWAYS_MASKED: &[&str] =
    &["nomor", "no", "nomor surat", "sent", "dikirim", "terkirim", "waktu kirim", "nip", "tanggal surat"];

/// The label of a "label : value" line (lowercased, squeezed), and where its value starts.
pub fn label_of(line: &str) -> Option<(String, usize)> {
    // The first colon that is not inside a clock time ("pukul 09:00").
    let b = line.as_bytes();
    let colon = line
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| !(i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit)))?;
    let raw = line[..colon].trim();
    if raw.is_empty() || raw.len() > 40 || raw.contains('@') || raw.contains('<') || raw.contains("http") {
        return None;
    }
    let words = raw.split_whitespace().count();
    if words > 5 || !raw.chars().next().is_some_and(|c| c.is_alphabetic()) {
        return None;
    }
    let mut label = String::with_capacity(raw.len());
    for w in raw.split_whitespace() {
        if !label.is_empty() {
            label.push(' ');
        }
        label.push_str(&w.to_lowercase());
    }
    let label = label.trim_end_matches('.').trim().to_string();
    Some((label, colon + 1))
}

#[derive(Debug, Clone)]
struct LabelLine {
    start: usize,
    end: usize,
    label: String,
}

/// Byte ranges of `text` whose dates and times are not the meeting's: the letter date
/// and number of a memo header, the Date/Sent lines of quoted and forwarded headers.
pub fn masked_ranges(text: &str) -> Vec<(usize, usize)> {
    // Groups of label lines that stand together: blank lines and indented continuation
    // lines ("          u.p. PJK TIP") keep a group open, any other line closes it.
    let mut groups: Vec<Vec<LabelLine>> = vec![Vec::new()];
    for (off, line) in lines_with_offsets(text) {
        let trimmed = line.trim();
        if let Some((label, _)) = label_of(line) {
            if let Some(g) = groups.last_mut() {
                g.push(LabelLine { start: off, end: off + line.len(), label });
            }
        } else if trimmed.is_empty()
            || line.starts_with("    ")
            || trimmed.chars().all(|c| c == '_' || c == '-' || c == '=') && trimmed.len() < 3
        {
            continue;
        } else if groups.last().is_some_and(|g| !g.is_empty()) {
            groups.push(Vec::new());
        }
    }
    let mut out = Vec::new();
    for g in &groups {
        let has_header = g.iter().any(|l| HEADER_LABELS.contains(&l.label.as_str()));
        let has_meeting = g.iter().any(|l| MEETING_LABELS.contains(&l.label.as_str()));
        for (n, l) in g.iter().enumerate() {
            let label = l.label.as_str();
            if ALWAYS_MASKED.contains(&label) {
                out.push((l.start, l.end));
                continue;
            }
            if !DATE_HEADER_LABELS.contains(&label) {
                continue;
            }
            // Neighbours within two label lines decide.
            let lo = n.saturating_sub(2);
            let hi = (n + 3).min(g.len());
            let near = &g[lo..hi];
            let near_header = near.iter().filter(|x| HEADER_LABELS.contains(&x.label.as_str())).count();
            let near_meeting = near.iter().filter(|x| MEETING_LABELS.contains(&x.label.as_str())).count();
            if near_header > near_meeting || has_header && !has_meeting {
                out.push((l.start, l.end));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked_lines(text: &str) -> Vec<String> {
        masked_ranges(text).iter().map(|&(s, e)| text[s..e].trim().to_string()).collect()
    }

    #[test]
    fn labels_are_read_from_label_value_lines() {
        for (line, want) in [
            ("Hari/Tanggal : Senin, 12 Januari 2026", Some("hari/tanggal")),
            ("    pukul        : 09.00 - 12.00 WIB", Some("pukul")),
            ("Yth.    : Kepala Bagian Umum", Some("yth")),
            ("Jam  Mulai: 09:00", Some("jam mulai")),
            ("pukul 09:00 WIB", None),
            ("https://zoom.us/j/1", None),
            ("Dari: Rina <rina@bps.test>", Some("dari")),
        ] {
            assert_eq!(label_of(line).map(|(l, _)| l).as_deref(), want, "{line}");
        }
    }

    #[test]
    fn the_memo_date_is_masked_but_a_table_date_is_not() {
        let memo = "NOTA DINAS\nNomor   : B-024/17000/VS.100/01/2026\nYth.    : Kepala Bagian Umum\n          u.p. PJK TIP\nDari    : Ketua Tim\nHal     : Permohonan\nTanggal : 5 Januari 2026\n______\n\nSehubungan dengan rapat:\n\n    hari/tanggal : Senin, 12 Januari 2026\n    pukul        : 09.00 - 12.00 WIB\n";
        assert_eq!(masked_lines(memo), ["Nomor   : B-024/17000/VS.100/01/2026", "Tanggal : 5 Januari 2026"]);

        let table = "Kegiatan: Pembinaan\nTanggal: 26 Februari 2026\nWaktu: 10:00 - 12:00 WIB\n";
        assert!(masked_lines(table).is_empty());

        let pdf = "Hal : Permohonan\n\nTanggal : 23 April 2026\n\nSehubungan dengan pelaksanaan\n\nKegiatan : Rapat\n\nHari/Tanggal : Senin, 27 April 2026\n";
        assert_eq!(masked_lines(pdf), ["Tanggal : 23 April 2026"]);

        let fwd =
            "From: Dr. Win <win@bps.test>\nDate: Wed, Feb 4, 2026 at 8:54 AM\nSubject: Undangan\nTo: <x@bps.test>\n";
        assert_eq!(masked_lines(fwd), ["Date: Wed, Feb 4, 2026 at 8:54 AM"]);

        let outlook = "Dari: Loket <loket@bps.test>\nDikirim: Kamis, 11 Juni 2026 13.22\nKepada: a@bps.test\n";
        assert_eq!(masked_lines(outlook), ["Dikirim: Kamis, 11 Juni 2026 13.22"]);
    }
}
