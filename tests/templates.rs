//! Story: every mail the desk sends reads right, in both languages.
//!
//! Each mail kind is rendered from its sample (`loket::shell::samples`) with the built-in
//! templates and compared with a golden file a person has read: `tests/golden/<lang>/<kind>.txt`
//! (subject and plain text) and `.html`. A few variants cover the branches the samples do
//! not take (no password yet, a cancel that came too late, a request changed under the
//! approver...). After a deliberate change, regenerate them with
//!
//!     UPDATE_GOLDEN=1 cargo test --test templates
//!
//! and read the diff. The other tests check what a golden file cannot: that no mail but
//! the confirmation carries a password, that every subject carries the reference, that
//! text is never HTML-escaped and HTML always is.

use chrono::NaiveDate;
use loket::core::domain::{Address, Mailbox, Session};
use loket::core::parse::{Intent, Partial, Problem};
use loket::core::present::{self, Credentials};
use loket::core::rules::{Language, Rules};
use loket::core::workflow::{MailKind, Status};
use loket::shell::render::{Templates, Words};
use loket::shell::samples::{self, Sample};
use std::path::{Path, PathBuf};

const LANGS: [Language; 2] = [Language::Id, Language::En];
const PASSWORD: &str = "Sandi-Contoh-123";

fn rules(lang: Language) -> Rules {
    let mut r = Rules::example();
    r.language = lang;
    r
}

fn render(t: &Templates, rules: &Rules, s: &Sample) -> Words {
    let ctx = present::context(&s.mail, rules, s.credentials.as_ref());
    t.render(s.mail.kind, &ctx).unwrap_or_else(|e| panic!("{} ({}): {e}", s.mail.kind.name(), rules.language.code()))
}

fn sample(rules: &Rules, kind: MailKind) -> Sample {
    samples::all(rules).into_iter().find(|s| s.mail.kind == kind).expect("a sample of every kind")
}

fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
    Mailbox { name: name.map(str::to_string), address: Address::parse(address).expect("test address") }
}

/// Situations the samples do not show, each a golden file of its own under `variants/`.
fn variants(rules: &Rules) -> Vec<(&'static str, Sample)> {
    let mut out = Vec::new();

    let mut s = sample(rules, MailKind::Confirmed);
    s.credentials = Some(Credentials { login: "zoom2@bps.test".into(), password: None });
    s.mail.facts.actor = None;
    out.push(("confirmed_without_password", s));

    let mut s = sample(rules, MailKind::TooLate);
    s.mail.facts.status = None;
    out.push(("too_late_cancel", s));

    let mut s = sample(rules, MailKind::CancelNotice);
    let r = s.mail.request.as_mut().expect("request");
    r.status = Status::Declined;
    r.reason = Some("changed".into());
    r.accounts.clear();
    s.mail.facts.actor = None;
    s.mail.facts.reason = Some("changed".into());
    out.push(("cancel_notice_changed", s));

    let mut s = sample(rules, MailKind::DecisionNoted);
    s.mail.to = vec![mailbox(None, "kabag@bps.test")];
    let r = s.mail.request.as_mut().expect("request");
    r.status = Status::Rejected;
    r.reason = Some("bentrok dengan rapat pimpinan".into());
    s.mail.facts.reason = Some("bentrok dengan rapat pimpinan".into());
    out.push(("decision_noted_to_another_approver", s));

    let mut s = sample(rules, MailKind::AssignmentNotice);
    s.mail.facts.actor = None;
    s.mail.to = vec![mailbox(None, "ti@bps.test")];
    out.push(("assignment_notice_auto_approved", s));

    let mut s = sample(rules, MailKind::Clash);
    s.mail.facts.alternatives.clear();
    out.push(("clash_without_alternatives", s));

    let mut s = sample(rules, MailKind::Incomplete);
    let r = s.mail.request.as_mut().expect("request");
    r.sessions.clear();
    r.accounts.clear();
    r.participants = None;
    s.mail.facts.partial = Partial::default();
    s.mail.facts.problems.clear();
    out.push(("incomplete_nothing_found", s));

    let mut s = sample(rules, MailKind::Incomplete);
    s.mail.facts.problems = vec![
        Problem::WeekdayMismatch {
            text: "Senin, 13 Januari 2026".into(),
            date: NaiveDate::from_ymd_opt(2026, 1, 13).expect("date"),
        },
        Problem::RangeTooLong { text: "1 Januari s.d. 30 Juni 2026".into() },
        Problem::PastDate,
        Problem::UnreadableAttachment { name: "undangan.pdf".into() },
        Problem::MissingTime,
        Problem::Ambiguous { commands: vec![Intent::Cancel, Intent::Approve] },
    ];
    out.push(("incomplete_other_problems", s));

    let mut s = sample(rules, MailKind::Confirmed);
    s.mail.request.as_mut().expect("request").accounts = vec!["zoom2".into(), "zoom3".into()];
    out.push(("confirmed_two_accounts", s));

    let mut s = sample(rules, MailKind::Ack);
    let r = s.mail.request.as_mut().expect("request");
    r.sessions.truncate(1);
    r.accounts.truncate(1);
    r.participants = None;
    r.title = None;
    s.mail.to = vec![mailbox(None, "rizki.pratama@bps.test")];
    r.requester = mailbox(None, "rizki.pratama@bps.test");
    out.push(("ack_one_session_unnamed", s));

    out
}

/// Every rendered mail of one language: (golden name, sample, words).
fn rendered(lang: Language) -> Vec<(String, Sample, Words)> {
    let rules = rules(lang);
    let t = Templates::load(lang, None).expect("built-in templates load");
    let mut out: Vec<(String, Sample, Words)> = samples::all(&rules)
        .into_iter()
        .map(|s| {
            let w = render(&t, &rules, &s);
            (s.mail.kind.name().to_string(), s, w)
        })
        .collect();
    for (name, s) in variants(&rules) {
        let w = render(&t, &rules, &s);
        out.push((format!("variants/{name}"), s, w));
    }
    out
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Where two texts first part, with a few lines of each around it.
fn difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let i = w.iter().zip(&g).position(|(a, b)| a != b).unwrap_or(w.len().min(g.len()));
    let show =
        |v: &[&str]| v.iter().skip(i.saturating_sub(2)).take(5).map(|l| format!("    | {l}")).collect::<Vec<_>>();
    format!(
        "first difference at line {}:\n  golden:\n{}\n  rendered:\n{}",
        i + 1,
        show(&w).join("\n"),
        show(&g).join("\n")
    )
}

#[test]
fn every_mail_matches_its_golden_file() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for lang in LANGS {
        for (name, _, w) in rendered(lang) {
            let base = golden_dir().join(lang.code()).join(&name);
            let text = format!("Subject: {}\n\n{}", w.subject, w.text);
            for (ext, got) in [("txt", &text), ("html", &w.html)] {
                let path = base.with_extension(ext);
                if update {
                    std::fs::create_dir_all(path.parent().expect("parent")).expect("create golden dir");
                    std::fs::write(&path, got).expect("write golden file");
                    continue;
                }
                match std::fs::read_to_string(&path) {
                    Ok(want) if want == *got => {}
                    Ok(want) => failures.push(format!("{}: {}", path.display(), difference(&want, got))),
                    Err(e) => failures.push(format!("{}: {e}", path.display())),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rendered mail(s) differ from the golden files (after a deliberate change, run \
         UPDATE_GOLDEN=1 cargo test --test templates and read the diff):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_kind_renders_in_both_languages_and_the_check_passes() {
    for lang in LANGS {
        let rules = rules(lang);
        let t = Templates::load(lang, None).expect("built-in templates load");
        t.check(&rules).expect("Templates::check passes");
        let kinds: Vec<MailKind> = samples::all(&rules).iter().map(|s| s.mail.kind).collect();
        assert_eq!(kinds, MailKind::ALL.to_vec(), "one sample per kind");
        for (name, _, w) in rendered(lang) {
            assert!(!w.subject.is_empty(), "{name} ({}): empty subject", lang.code());
            assert!(!w.text.trim().is_empty() && !w.html.trim().is_empty(), "{name} ({}): empty body", lang.code());
            assert!(w.text.contains(&rules.desk_name), "{name} ({}): signed by the desk", lang.code());
            assert!(w.html.contains(&rules.desk_name), "{name} ({}): signed by the desk (HTML)", lang.code());
        }
    }
}

#[test]
fn every_subject_names_the_request_and_the_approval_request_its_token() {
    for lang in LANGS {
        for (name, s, w) in rendered(lang) {
            if let Some(r) = &s.mail.request {
                let reference = r.reference.to_string();
                assert!(w.subject.contains(&reference), "{name} ({}): {:?} lacks {reference}", lang.code(), w.subject);
            }
            assert!(!w.subject.contains('\n'), "{name}: one line");
            if let Some(token) = &s.mail.token {
                let code = token.reveal();
                assert_eq!(s.mail.kind, MailKind::ApprovalRequest);
                assert!(w.subject.contains(&code), "{name} ({}): {:?} lacks the token", lang.code(), w.subject);
                assert!(w.text.contains(&code), "{name}: the body explains the code");
            }
        }
    }
}

#[test]
fn only_the_confirmation_carries_the_password() {
    for lang in LANGS {
        for (name, s, w) in rendered(lang) {
            let carries = w.subject.contains(PASSWORD) || w.text.contains(PASSWORD) || w.html.contains(PASSWORD);
            let has_password = s.credentials.as_ref().is_some_and(|c| c.password.is_some());
            if s.mail.kind == MailKind::Confirmed && has_password {
                assert!(w.text.contains(PASSWORD) && w.html.contains(PASSWORD), "{name}: the borrower needs it");
                assert!(!w.subject.contains(PASSWORD), "{name}: never in the subject");
            } else {
                assert!(!carries, "{name} ({}) must not carry the password", lang.code());
            }
        }
    }
}

#[test]
fn a_missing_password_is_announced_not_left_blank() {
    for lang in LANGS {
        let (_, _, w) = rendered(lang)
            .into_iter()
            .find(|(n, _, _)| n == "variants/confirmed_without_password")
            .expect("variant rendered");
        assert!(w.text.contains("zoom2@bps.test"));
        assert!(w.text.contains("PJK TI"), "{}: says who will send it", lang.code());
    }
}

#[test]
fn text_is_never_escaped_and_reads_clean() {
    for lang in LANGS {
        for (name, s, w) in rendered(lang) {
            for bad in ["&amp;", "&lt;", "&gt;", "&quot;", "&#x27;", "&#x3D;"] {
                assert!(!w.text.contains(bad) && !w.subject.contains(bad), "{name} ({}): {bad} in text", lang.code());
            }
            if let Some(title) = s.mail.request.as_ref().and_then(|r| r.title.as_ref())
                && w.text.contains("Sensus Ekonomi")
            {
                assert!(w.text.contains(title.as_str()), "{name}: the title with its & as written");
            }
            for (part, body) in [("text", &w.text), ("html", &w.html)] {
                for artefact in ["null", "undefined", "[object", "{{", "}}", "Some(", "None"] {
                    assert!(!body.contains(artefact), "{name} ({} {part}): {artefact:?}", lang.code());
                }
            }
            assert!(!w.text.contains("\n\n\n"), "{name} ({}): a stray blank line in the text", lang.code());
            assert!(!w.text.starts_with('\n') && w.text.ends_with('\n'), "{name} ({}): text edges", lang.code());
            for line in w.text.lines().filter(|l| *l != "-- ") {
                assert_eq!(line, line.trim_end(), "{name} ({}): trailing space in {line:?}", lang.code());
            }
        }
    }
}

#[test]
fn html_escapes_what_people_wrote() {
    for lang in LANGS {
        let rules = rules(lang);
        let t = Templates::load(lang, None).expect("built-in templates load");
        let hostile = "<script>alert(1)</script>";
        let mut shown = 0;
        for mut s in samples::all(&rules) {
            let Some(r) = s.mail.request.as_mut() else { continue };
            r.title = Some(hostile.into());
            let w = render(&t, &rules, &s);
            let name = s.mail.kind.name();
            assert!(!w.html.to_lowercase().contains("<script"), "{name} ({}): raw script in HTML", lang.code());
            if w.text.contains(hostile) {
                assert!(
                    w.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                    "{name} ({}): shown escaped",
                    lang.code()
                );
                shown += 1;
            }
        }
        assert!(shown >= 20, "{}: the title is shown in most mails, escaped ({shown})", lang.code());
        // The HTML of every mail is a page of its own without outside resources.
        for (name, _, w) in rendered(lang) {
            let html = w.html.to_lowercase();
            assert!(html.starts_with("<!doctype html>"), "{name}: a whole document");
            for outside in ["<script", "<link", "<img", "src=", "http://", "https://", "url("] {
                assert!(!html.contains(outside), "{name} ({}): {outside}", lang.code());
            }
        }
    }
}

#[test]
fn a_session_left_open_says_what_was_assumed() {
    for lang in LANGS {
        let (_, s, w) = rendered(lang).into_iter().find(|(n, _, _)| n == "ack").expect("ack");
        let r = s.mail.request.as_ref().expect("request");
        assert!(r.sessions.iter().any(Session::open_ended));
        assert!(w.text.contains(if lang == Language::Id { "4 jam" } else { "4 hours" }), "{}", lang.code());
    }
}

#[test]
fn a_broken_override_is_refused_with_its_file_name() {
    for lang in LANGS {
        let dir = tempfile::tempdir().expect("temp dir");
        let lang_dir = dir.path().join(lang.code());
        std::fs::create_dir_all(&lang_dir).expect("lang dir");

        // Does not parse: refused at load.
        std::fs::write(lang_dir.join("ack.txt.hbs"), "Subject: [{{ref}}] x\n{{#if request}}unclosed\n")
            .expect("write override");
        let err = Templates::load(lang, Some(dir.path())).err().expect("a broken template is refused");
        assert!(err.to_string().contains("ack.txt"), "{err}");

        // Parses but names a variable no mail has: refused by the check.
        std::fs::write(lang_dir.join("ack.txt.hbs"), "Subject: [{{ref}}] x\n{{request.no_such_thing}}\n")
            .expect("write override");
        let t = Templates::load(lang, Some(dir.path())).expect("it parses");
        let err = t.check(&rules(lang)).expect_err("the check renders every mail");
        assert!(err.to_string().contains("ack.txt"), "{err}");

        // A good override replaces the built-in file, and only that file.
        std::fs::write(lang_dir.join("ack.txt.hbs"), "Subject: [{{ref}}] Diterima\nIsi kantor.\n")
            .expect("write override");
        let t = Templates::load(lang, Some(dir.path())).expect("a good override loads");
        t.check(&rules(lang)).expect("and passes the check");
        let rules = rules(lang);
        let w = render(&t, &rules, &sample(&rules, MailKind::Ack));
        assert_eq!((w.subject.as_str(), w.text.as_str()), ("[LKT-2026-0042] Diterima", "Isi kantor.\n"));
        assert!(w.html.contains("LKT-2026-0042"), "the built-in HTML still renders");
    }
}
