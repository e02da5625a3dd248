//! The configuration file, in two steps (as ripgrep does it): the raw TOML as written,
//! then a validated [`Config`] whose every value is usable. Every error names the key and
//! says how to fix it; secrets are read from the environment when the file names a
//! variable, and never printed.

use crate::core::domain::{Address, parse_duration};
use crate::core::rules::{AccountSpec, Language, Limits, OfficeHours, Policy, Reminders, Roles, Rules, Trust};
use chrono::{Duration, NaiveTime, Weekday};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read the configuration {path}: {source} (copy examples/loket.toml to ./loket.toml to start)")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the configuration {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), message: message.into() }
}

/// A password or other secret. Its `Debug` never shows the value, so a config printed in
/// a log line or a panic message leaks nothing.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}
impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// How a connection to a mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
    /// Plain, upgraded with STARTTLS before anything is sent.
    Starttls,
    /// No TLS. Allowed only to a loopback host, where nobody can listen in.
    None,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone)]
pub enum InboxConfig {
    Maildir {
        path: PathBuf,
        poll_seconds: u64,
    },
    Imap {
        server: ServerConfig,
        folder: String,
        processed_folder: String,
        failed_folder: String,
        idle: bool,
        poll_seconds: u64,
    },
}

#[derive(Debug, Clone)]
pub enum OutboxConfig {
    File { path: PathBuf },
    Smtp { server: ServerConfig },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub rules: Rules,
    pub database: PathBuf,
    pub inbox: InboxConfig,
    pub outbox: OutboxConfig,
    pub templates_dir: Option<PathBuf>,
    /// Account passwords from the file or the environment; `loket accounts set-password`
    /// stores a newer one in the database, which wins.
    pub account_passwords: BTreeMap<String, Secret>,
    /// Outgoing mail that fails this long is given up and the admins are told.
    pub retry_horizon: Duration,
}

// ---- the raw file ----------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    desk: RawDesk,
    storage: RawStorage,
    inbox: RawBox,
    outbox: RawBox,
    #[serde(default)]
    accounts: Vec<RawAccount>,
    roles: RawRoles,
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    reminders: RawReminders,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    trust: RawTrust,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDesk {
    address: String,
    name: String,
    #[serde(default = "default_timezone")]
    timezone: String,
    #[serde(default = "default_language")]
    language: String,
    templates_dir: Option<PathBuf>,
}
fn default_timezone() -> String {
    "Asia/Jakarta".into()
}
fn default_language() -> String {
    "id".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    database: PathBuf,
}

/// Both `[inbox]` and `[outbox]`: which keys apply depends on `kind`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBox {
    kind: String,
    path: Option<PathBuf>,
    host: Option<String>,
    port: Option<u16>,
    tls: Option<Tls>,
    ca_file: Option<PathBuf>,
    username: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
    folder: Option<String>,
    processed_folder: Option<String>,
    failed_folder: Option<String>,
    idle: Option<bool>,
    poll_seconds: Option<u64>,
    retry_horizon: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    id: String,
    login: String,
    password: Option<String>,
    password_env: Option<String>,
    capacity: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoles {
    approvers: Vec<String>,
    admins: Vec<String>,
    #[serde(default)]
    requester_domains: Vec<String>,
    #[serde(default)]
    auto_approve: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPolicy {
    turnaround_minutes: i64,
    booking_window_days: i64,
    min_lead_minutes: i64,
    max_duration_hours: i64,
    office_hours: String,
    office_days: String,
    approval_timeout_hours: i64,
    open_ended_hours: i64,
}
impl Default for RawPolicy {
    fn default() -> Self {
        RawPolicy {
            turnaround_minutes: 60,
            booking_window_days: 180,
            min_lead_minutes: 30,
            max_duration_hours: 12,
            office_hours: "07:00-18:00".into(),
            office_days: "mon-fri".into(),
            approval_timeout_hours: 24,
            open_ended_hours: 4,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawReminders {
    before: Option<Vec<String>>,
    recording_after_end: Option<String>,
    closure_after_end: Option<String>,
    closure_escalate_after: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLimits {
    per_sender_per_hour: u32,
}
impl Default for RawLimits {
    fn default() -> Self {
        RawLimits { per_sender_per_hour: 10 }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawTrust {
    authserv_id: Option<String>,
}

// ---- validation ------------------------------------------------------------------------

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Config::from_toml(&text, path, &|k| std::env::var(k).ok())
    }

    /// `env` looks variables up, so tests need not touch the process environment.
    pub fn from_toml(text: &str, path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| ConfigError::Syntax { path: path.to_path_buf(), message: e.to_string() })?;
        build(raw, env)
    }
}

fn address(key: &str, s: &str) -> Result<Address, ConfigError> {
    Address::parse(s).map_err(|e| invalid(key, e.to_string()))
}

fn addresses(key: &str, list: &[String]) -> Result<Vec<Address>, ConfigError> {
    list.iter().map(|s| address(key, s)).collect()
}

fn duration(key: &str, s: &str) -> Result<Duration, ConfigError> {
    let d = parse_duration(s).map_err(|m| invalid(key, m))?;
    if d < Duration::zero() { Err(invalid(key, "must not be negative")) } else { Ok(d) }
}

fn positive(key: &str, n: i64, unit: &str) -> Result<i64, ConfigError> {
    if n < 0 { Err(invalid(key, format!("must be zero or more {unit}"))) } else { Ok(n) }
}

fn secret(
    key: &str,
    value: Option<String>,
    var: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    match (value, var) {
        (Some(_), Some(_)) => Err(invalid(key, "give either `password` or `password_env`, not both")),
        (Some(v), None) => Ok(Some(Secret(v))),
        (None, Some(var)) => match env(&var) {
            Some(v) if !v.is_empty() => Ok(Some(Secret(v))),
            _ => Err(invalid(
                format!("{key}_env"),
                format!("the environment variable {var} is not set: export it before starting loket"),
            )),
        },
        (None, None) => Ok(None),
    }
}

fn office_hours(s: &str) -> Result<Option<OfficeHours>, ConfigError> {
    let key = "policy.office_hours";
    if s.trim().eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    let bad = || invalid(key, format!("{s:?} is not HH:MM-HH:MM (e.g. \"07:00-18:00\") or \"any\""));
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let open = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
    let close = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
    if close <= open {
        return Err(invalid(key, "closing time must come after opening time"));
    }
    Ok(Some(OfficeHours { open, close }))
}

fn office_days(s: &str) -> Result<Option<Vec<Weekday>>, ConfigError> {
    let key = "policy.office_days";
    if s.trim().eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    let bad =
        || invalid(key, format!("{s:?} is not a day range like \"mon-fri\", a list like \"mon,wed,fri\" or \"any\""));
    let day = |d: &str| d.trim().parse::<Weekday>().map_err(|_| bad());
    let mut days = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (mut d, end) = (day(a)?, day(b)?);
                days.push(d);
                while d != end {
                    d = d.succ();
                    days.push(d);
                }
            }
            None => days.push(day(part)?),
        }
    }
    Ok(Some(days))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn server(
    section: &str,
    b: &RawBox,
    default_port: fn(Tls) -> u16,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerConfig, ConfigError> {
    let host = b.host.clone().ok_or_else(|| invalid(format!("{section}.host"), "required for this kind"))?;
    let tls = b.tls.unwrap_or(Tls::Implicit);
    if tls == Tls::None && !is_loopback(&host) {
        return Err(invalid(
            format!("{section}.tls"),
            format!(
                "\"none\" would send the password in clear to {host}: use \"implicit\" or \"starttls\" (\"none\" is only for a loopback host)"
            ),
        ));
    }
    let username =
        b.username.clone().ok_or_else(|| invalid(format!("{section}.username"), "required for this kind"))?;
    let password = secret(&format!("{section}.password"), b.password.clone(), b.password_env.clone(), env)?
        .ok_or_else(|| invalid(format!("{section}.password"), "give `password` or `password_env`"))?;
    Ok(ServerConfig {
        port: b.port.unwrap_or(default_port(tls)),
        host,
        tls,
        ca_file: b.ca_file.clone(),
        username,
        password,
    })
}

fn build(raw: RawConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let desk_address = address("desk.address", &raw.desk.address)?;
    let timezone: chrono_tz::Tz = raw.desk.timezone.parse().map_err(|_| {
        invalid("desk.timezone", format!("{:?} is not an IANA zone such as Asia/Jakarta", raw.desk.timezone))
    })?;
    let language = match raw.desk.language.as_str() {
        "id" => Language::Id,
        "en" => Language::En,
        other => return Err(invalid("desk.language", format!("{other:?}: use \"id\" or \"en\""))),
    };

    let mut accounts = Vec::new();
    let mut account_passwords = BTreeMap::new();
    for (i, a) in raw.accounts.into_iter().enumerate() {
        let key = format!("accounts[{i}]");
        if a.id.trim().is_empty() || accounts.iter().any(|x: &AccountSpec| x.id == a.id) {
            return Err(invalid(format!("{key}.id"), "every account needs a unique, non-empty id"));
        }
        if a.capacity == 0 {
            return Err(invalid(format!("{key}.capacity"), "must be at least 1 participant"));
        }
        if let Some(p) = secret(&format!("{key}.password"), a.password, a.password_env, env)? {
            account_passwords.insert(a.id.clone(), p);
        }
        accounts.push(AccountSpec { id: a.id, login: a.login, capacity: a.capacity });
    }
    if accounts.is_empty() {
        return Err(invalid("accounts", "add at least one [[accounts]] table: the desk has nothing to lend"));
    }

    let roles = Roles {
        approvers: addresses("roles.approvers", &raw.roles.approvers)?,
        admins: addresses("roles.admins", &raw.roles.admins)?,
        requester_domains: raw.roles.requester_domains.iter().map(|d| d.trim().to_lowercase()).collect(),
        auto_approve: addresses("roles.auto_approve", &raw.roles.auto_approve)?,
    };
    if roles.approvers.is_empty() {
        return Err(invalid("roles.approvers", "name at least one approver (PJK TIP)"));
    }
    if roles.admins.is_empty() {
        return Err(invalid("roles.admins", "name at least one admin (PJK TI)"));
    }

    let p = raw.policy;
    let turnaround = Duration::minutes(positive("policy.turnaround_minutes", p.turnaround_minutes, "minutes")?);
    let open_ended = Duration::hours(positive("policy.open_ended_hours", p.open_ended_hours, "hours")?.max(1));
    let policy = Policy {
        turnaround,
        booking_window: Duration::days(positive("policy.booking_window_days", p.booking_window_days, "days")?),
        min_lead: Duration::minutes(positive("policy.min_lead_minutes", p.min_lead_minutes, "minutes")?),
        max_duration: Duration::hours(positive("policy.max_duration_hours", p.max_duration_hours, "hours")?),
        office_hours: office_hours(&p.office_hours)?,
        office_days: office_days(&p.office_days)?,
        approval_timeout: Duration::hours(positive(
            "policy.approval_timeout_hours",
            p.approval_timeout_hours,
            "hours",
        )?),
        open_ended,
    };

    let r = raw.reminders;
    let before = r
        .before
        .unwrap_or_else(|| vec!["1d".into(), "1h".into()])
        .iter()
        .map(|s| duration("reminders.before", s))
        .collect::<Result<Vec<_>, _>>()?;
    let reminders = Reminders {
        before,
        recording_after_end: duration(
            "reminders.recording_after_end",
            r.recording_after_end.as_deref().unwrap_or("0m"),
        )?,
        closure_after_end: match r.closure_after_end {
            Some(s) => duration("reminders.closure_after_end", &s)?,
            None => turnaround,
        },
        closure_escalate_after: duration(
            "reminders.closure_escalate_after",
            r.closure_escalate_after.as_deref().unwrap_or("24h"),
        )?,
    };
    if raw.limits.per_sender_per_hour == 0 {
        return Err(invalid("limits.per_sender_per_hour", "must be at least 1, or nobody gets an answer"));
    }

    let inbox = match raw.inbox.kind.as_str() {
        "maildir" => InboxConfig::Maildir {
            path: raw.inbox.path.clone().ok_or_else(|| invalid("inbox.path", "required for kind = \"maildir\""))?,
            poll_seconds: raw.inbox.poll_seconds.unwrap_or(2).max(1),
        },
        "imap" => InboxConfig::Imap {
            server: server("inbox", &raw.inbox, |t| if t == Tls::Implicit { 993 } else { 143 }, env)?,
            folder: raw.inbox.folder.clone().unwrap_or_else(|| "INBOX".into()),
            processed_folder: raw.inbox.processed_folder.clone().unwrap_or_else(|| "Processed".into()),
            failed_folder: raw.inbox.failed_folder.clone().unwrap_or_else(|| "Failed".into()),
            idle: raw.inbox.idle.unwrap_or(true),
            poll_seconds: raw.inbox.poll_seconds.unwrap_or(30).max(1),
        },
        other => return Err(invalid("inbox.kind", format!("{other:?}: use \"maildir\" or \"imap\""))),
    };
    let outbox = match raw.outbox.kind.as_str() {
        "file" => OutboxConfig::File {
            path: raw.outbox.path.clone().ok_or_else(|| invalid("outbox.path", "required for kind = \"file\""))?,
        },
        "smtp" => OutboxConfig::Smtp {
            server: server("outbox", &raw.outbox, |t| if t == Tls::Implicit { 465 } else { 587 }, env)?,
        },
        other => return Err(invalid("outbox.kind", format!("{other:?}: use \"file\" or \"smtp\""))),
    };
    let retry_horizon = duration("outbox.retry_horizon", raw.outbox.retry_horizon.as_deref().unwrap_or("24h"))?;

    Ok(Config {
        rules: Rules {
            desk_address,
            desk_name: raw.desk.name,
            timezone,
            language,
            accounts,
            roles,
            policy,
            reminders,
            limits: Limits { per_sender_per_hour: raw.limits.per_sender_per_hour },
            trust: Trust { authserv_id: raw.trust.authserv_id },
        },
        database: raw.storage.database,
        inbox,
        outbox,
        templates_dir: raw.desk.templates_dir,
        account_passwords,
        retry_horizon,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/loket.toml");

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("test.toml"), &|k| (k == "LOKET_TEST_SECRET").then(|| "s3cret".to_string()))
    }

    #[test]
    fn the_example_config_is_valid_and_keeps_its_defaults() {
        let c = load(EXAMPLE).expect("examples/loket.toml must load");
        assert_eq!(c.rules.desk_address.as_str(), "zoom@bps.test");
        assert_eq!(c.rules.policy.turnaround, Duration::minutes(60));
        assert_eq!(c.rules.reminders.closure_after_end, Duration::minutes(60));
        assert!(matches!(c.inbox, InboxConfig::Maildir { .. }));
        assert!(matches!(c.outbox, OutboxConfig::File { .. }));
        assert!(!c.rules.accounts.is_empty());
    }

    #[test]
    fn mistakes_are_named_by_key() {
        let cases = [("[desk]\naddress = \"zoom@bps.test\"", "desk.name"), ("policy]", "not valid TOML")];
        for (text, want) in cases {
            let e = load(text).expect_err("must fail").to_string();
            assert!(e.contains(want) || e.contains("missing field"), "{e}");
        }
        let swap = |from: &str, to: &str| {
            assert!(EXAMPLE.contains(from), "example lacks {from}");
            load(&EXAMPLE.replace(from, to)).expect_err("must fail").to_string()
        };
        assert!(swap("timezone = \"Asia/Jakarta\"", "timezone = \"Mars/Base\"").contains("desk.timezone"));
        assert!(
            swap("office_hours = \"07:00-18:00\"", "office_hours = \"18:00-07:00\"").contains("policy.office_hours")
        );
        assert!(swap("office_days = \"mon-fri\"", "office_days = \"weekdays\"").contains("policy.office_days"));
        assert!(swap("before = [\"1d\", \"1h\"]", "before = [\"1w\"]").contains("reminders.before"));
        assert!(swap("language = \"id\"", "language = \"jv\"").contains("desk.language"));
        assert!(swap("[policy]", "[policy]\ntypo_key = 1").contains("typo_key"));
    }

    #[test]
    fn secrets_come_from_the_environment_and_never_print() {
        let text = EXAMPLE.replace("password = \"ganti-sandi-zoom1\"", "password_env = \"LOKET_TEST_SECRET\"");
        let c = load(&text).expect("loads");
        assert_eq!(c.account_passwords["zoom1"].expose(), "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
        let missing = EXAMPLE.replace("password = \"ganti-sandi-zoom1\"", "password_env = \"LOKET_NOT_SET\"");
        assert!(load(&missing).unwrap_err().to_string().contains("LOKET_NOT_SET is not set"));
    }

    #[test]
    fn no_password_travels_in_clear_except_to_loopback() {
        let imap = |host: &str, tls: &str| {
            EXAMPLE
                .lines()
                .map(|l| match l.split_whitespace().take(3).collect::<Vec<_>>()[..] {
                    ["kind", "=", "\"maildir\""] => format!(
                        "kind = \"imap\"\nhost = \"{host}\"\ntls = \"{tls}\"\nusername = \"zoom\"\npassword = \"x\""
                    ),
                    ["path", "=", "\"var/mail/inbox\""] | ["poll_seconds", "=", _] => String::new(),
                    _ => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(load(&imap("mail.bps.test", "none")).unwrap_err().to_string().contains("inbox.tls"));
        assert!(load(&imap("127.0.0.1", "none")).is_ok());
        let c = load(&imap("mail.bps.test", "implicit")).unwrap();
        assert!(matches!(c.inbox, InboxConfig::Imap { ref server, .. } if server.port == 993));
    }

    #[test]
    fn office_days_read_ranges_and_lists() {
        assert_eq!(office_days("mon-fri").unwrap().unwrap().len(), 5);
        assert_eq!(office_days("sat-mon").unwrap().unwrap(), vec![Weekday::Sat, Weekday::Sun, Weekday::Mon]);
        assert_eq!(office_days("mon,wed").unwrap().unwrap(), vec![Weekday::Mon, Weekday::Wed]);
        assert_eq!(office_days("any").unwrap(), None);
    }
}
