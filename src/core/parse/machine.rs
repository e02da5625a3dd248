//! Machine mail: auto-replies, bounces, lists and system notifications. The desk never
//! answers these (answering an out-of-office reply with "could not read your date"
//! starts a mail loop), so each is recognised by the marks machines leave, strongest
//! first, and the reason is kept for the record.

/// What the detector needs from the headers, already decoded.
#[derive(Debug, Default)]
pub struct Headers<'a> {
    pub auto_submitted: Option<&'a str>,
    pub content_type: Option<String>,
    pub return_path_empty: bool,
    pub from_address: Option<&'a str>,
    pub precedence: Option<&'a str>,
    pub list_id: bool,
    pub list_unsubscribe: bool,
    pub x_autoreply: bool,
    pub subject: &'a str,
}

const AUTO_SUBJECTS: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto:",
    "auto response",
    "automatic response",
    "balasan otomatis",
    "balas otomatis",
    "jawaban otomatis",
    "pesan otomatis",
    "sedang cuti",
    "cuti:",
    "di luar kantor",
    "tidak di kantor",
    "sedang tidak di kantor",
    "on leave",
    "away from office",
    "abwesend",
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "mail delivery failed",
    "returned mail",
    "delivery failure",
    "failure notice",
    "gagal terkirim",
    "pesan tidak terkirim",
];
const SYSTEM_SENDER_PARTS: &[&str] = &[
    "no-reply",
    "noreply",
    "do-not-reply",
    "donotreply",
    "notification",
    "notifications",
    "calendar-notification",
    "mailer",
];
const BOUNCE_SENDERS: &[&str] = &["mailer-daemon", "postmaster", "mail-daemon"];

/// Why the mail is machine mail, or None for a person's mail.
pub fn machine_reason(h: &Headers) -> Option<String> {
    if let Some(v) = h.auto_submitted {
        let v = v.trim().to_ascii_lowercase();
        if !v.is_empty() && v != "no" && !v.starts_with("no;") && !v.starts_with("no ") {
            return Some(format!("Auto-Submitted: {v}"));
        }
    }
    if let Some(ct) = &h.content_type
        && ct.starts_with("multipart/report")
    {
        return Some("delivery or read report (multipart/report)".into());
    }
    if h.return_path_empty {
        return Some("empty Return-Path (a bounce)".into());
    }
    if let Some(addr) = h.from_address {
        let local = addr.split('@').next().unwrap_or("").to_ascii_lowercase();
        if BOUNCE_SENDERS.iter().any(|b| local == *b) {
            return Some(format!("sent by {local} (a bounce)"));
        }
        if SYSTEM_SENDER_PARTS.iter().any(|p| local.contains(p)) {
            return Some(format!("sent by a system address ({addr})"));
        }
    }
    if let Some(p) = h.precedence {
        let p = p.trim().to_ascii_lowercase();
        if p == "bulk" || p == "list" || p == "junk" || p == "auto_reply" {
            return Some(format!("Precedence: {p}"));
        }
    }
    if h.list_id {
        return Some("mailing list (List-Id)".into());
    }
    if h.list_unsubscribe {
        return Some("mailing list (List-Unsubscribe)".into());
    }
    if h.x_autoreply {
        return Some("auto-reply header (X-Autoreply/X-Autorespond)".into());
    }
    let subject = h.subject.trim().to_lowercase();
    let stripped = strip_reply_prefixes(&subject);
    if let Some(s) = AUTO_SUBJECTS.iter().find(|s| stripped.starts_with(*s) || subject.starts_with(*s)) {
        return Some(format!("auto-reply subject ({s})"));
    }
    None
}

/// Out-of-office wording in what the sender wrote now. Only phrases that a person asking
/// for Zoom would not write: "pesan ini dikirim otomatis" (outside a quote: the desk's own
/// footer says the same and is cut off before this runs), "I am out of the office".
pub fn auto_reply_body(new_text: &str) -> Option<String> {
    let low = new_text.to_lowercase();
    let low = low.split_whitespace().collect::<Vec<_>>().join(" ");
    const STRONG: &[&str] = &[
        "dikirim otomatis",
        "dikirim secara otomatis",
        "balasan otomatis",
        "pesan otomatis",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "i am out of the office",
        "i'm out of the office",
        "i am out of office",
        "i'm currently out of",
        "i am currently out of",
        "currently on leave",
        "i am on leave",
        "i'm on leave",
        "will not be forwarded",
    ];
    if let Some(p) = STRONG.iter().find(|p| low.contains(*p)) {
        return Some(format!("auto-reply wording ({p})"));
    }
    let away = [
        "sedang cuti",
        "sedang dinas luar",
        "sedang tidak berada di kantor",
        "sedang berada di luar kantor",
        "tidak berada di kantor",
        "out of office",
    ];
    let back = [
        "setelah kembali",
        "akan saya balas",
        "akan dibalas",
        "kembali bertugas",
        "kembali ke kantor",
        "will return",
        "will be back",
        "upon my return",
    ];
    if let Some(a) = away.iter().find(|p| low.contains(*p))
        && back.iter().any(|p| low.contains(p))
    {
        return Some(format!("out-of-office wording ({a})"));
    }
    None
}

/// "re: fwd: aw: ..." removed from the front of a lowercased subject.
pub fn strip_reply_prefixes(subject: &str) -> &str {
    let mut s = subject.trim_start();
    loop {
        let low = s.to_ascii_lowercase();
        let cut = ["re:", "re :", "fwd:", "fw:", "aw:", "tr:", "balas:", "bls:", "wg:", "antw:", "sv:", "vs:"]
            .iter()
            .find(|p| low.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => {
                // "[LKT-2026-0001]" or "RE[2]:" style tags stay; only prefixes go.
                return s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_subject(subject: &str) -> Option<String> {
        machine_reason(&Headers { subject, ..Default::default() })
    }

    #[test]
    fn machine_marks_are_recognised() {
        assert!(machine_reason(&Headers { auto_submitted: Some("auto-replied"), ..Default::default() }).is_some());
        assert!(machine_reason(&Headers { auto_submitted: Some("no"), ..Default::default() }).is_none());
        assert!(
            machine_reason(&Headers { content_type: Some("multipart/report".into()), ..Default::default() }).is_some()
        );
        assert!(
            machine_reason(&Headers { from_address: Some("MAILER-DAEMON@bps.test"), ..Default::default() }).is_some()
        );
        assert!(machine_reason(&Headers { from_address: Some("no-reply@zoom.test"), ..Default::default() }).is_some());
        assert!(machine_reason(&Headers { precedence: Some("bulk"), ..Default::default() }).is_some());
        assert!(machine_reason(&Headers { list_unsubscribe: true, ..Default::default() }).is_some());
        assert!(machine_reason(&Headers { from_address: Some("rina@bps.test"), ..Default::default() }).is_none());
    }

    #[test]
    fn auto_reply_subjects_in_both_languages() {
        for s in [
            "Automatic reply: [LKT-2026-0042] x",
            "Balasan Otomatis: x",
            "Out of Office: x",
            "Auto: x",
            "RE: Sedang cuti",
            "Undelivered Mail Returned to Sender",
        ] {
            assert!(with_subject(s).is_some(), "{s}");
        }
        for s in ["Re: [LKT-2026-0001] Permohonan persetujuan", "Pinjam Zoom", "Automasi data"] {
            assert!(with_subject(s).is_none(), "{s}");
        }
    }

    #[test]
    fn out_of_office_bodies() {
        assert!(
            auto_reply_body("Saat ini saya sedang cuti sampai dengan Jumat. Email ini dikirim otomatis;").is_some()
        );
        assert!(
            auto_reply_body("Saya sedang dinas luar sampai 20 Februari. Email Anda akan saya balas setelah kembali.")
                .is_some()
        );
        assert!(auto_reply_body("Mohon dipinjamkan Zoom untuk rapat tanggal 12 Januari pukul 9.").is_none());
    }
}
