//! The `loket` command line. Errors end here, as `anyhow` with context that says what to
//! do next.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};
use clap::{Parser, Subcommand};
use loket::core::parse::{self, ParseOptions};
use loket::shell::clock::SystemClock;
use loket::shell::config::{Config, InboxConfig, OutboxConfig};
use loket::shell::db::Db;
use loket::shell::desk::Desk;
use loket::shell::sender::Sender;
use loket::shell::sender::file::FileSender;
use loket::shell::sender::smtp::SmtpSender;
use loket::shell::service::{self, RunOptions};
use loket::shell::source::Source;
use loket::shell::source::imap::ImapSource;
use loket::shell::source::maildir::Maildir;
use loket::shell::store::Store;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "loket", version, about = "An email desk that lends the office's Zoom licenses")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the desk until SIGINT or SIGTERM, then stop after the mail in hand.
    Serve {
        /// The configuration file [default: ./loket.toml].
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Read one mail and print, as one JSON object, what the desk understands of it.
    Parse {
        /// The mail, as an .eml file (RFC 5322).
        file: PathBuf,
        /// The configuration (for the time zone and the open-ended length).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The moment relative dates count from when the mail has no Date header (RFC 3339).
        #[arg(long)]
        now: Option<String>,
    },
    /// Play the whole story (request, approval, clash, cancellation, reminders, closure)
    /// on a simulated clock in a temporary directory, printing every mail.
    Demo {
        /// The language of the desk's mails: id or en.
        #[arg(long, default_value = "id")]
        language: String,
        /// How many lines of each mail's body to print.
        #[arg(long, default_value_t = 6)]
        lines: usize,
        /// Keep the directory (database, Maildir, .eml files) here instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// List the bookings between two dates (default: from today, 30 days).
    Bookings {
        #[arg(long)]
        config: Option<PathBuf>,
        /// First day, YYYY-MM-DD, in the desk's zone.
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (inclusive), YYYY-MM-DD.
        #[arg(long)]
        to: Option<NaiveDate>,
    },
    /// List the Zoom accounts, or set one's password.
    Accounts {
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: Option<AccountAction>,
    },
    /// Check the configuration and the templates, and say what would run.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Verify the database's invariants; exits 1 listing each breach.
    CheckDb {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AccountAction {
    /// Read the account's new password from stdin (one line) and store it: the next
    /// borrower gets it. Run it after every reset (SOP step 5).
    SetPassword {
        /// The account's id, as in the configuration.
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints the story on stdout; its log would only repeat it.
    let default = match cli.command {
        Command::Demo { .. } | Command::Parse { .. } => "warn",
        _ => "info,async_imap=warn,lettre=warn",
    };
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("LOKET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Whatever LOKET_LOG asks for, these libraries never log below info: at debug and
    // trace they write the wire (AUTH, LOGIN) or the templates' data (the password).
    for quiet in ["async_imap=info", "lettre=info", "rustls=info", "tokio_rustls=info", "handlebars=info"] {
        if let Ok(d) = quiet.parse() {
            filter = filter.add_directive(d);
        }
    }
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loket: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loket: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load(config: Option<PathBuf>) -> Result<Config> {
    let path = config.unwrap_or_else(|| PathBuf::from("loket.toml"));
    if !path.exists() {
        bail!(
            "no configuration at {}: copy examples/loket.toml to ./loket.toml (or pass --config FILE), then run `loket check-config`",
            path.display()
        );
    }
    Ok(Config::load(&path)?)
}

fn open_store(config: &Config) -> Result<Store> {
    Store::open(&config.database).with_context(|| format!("opening the database {}", config.database.display()))
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => {
            let stop = StopSignal::listen()?;
            serve(load(config)?, stop).await
        }
        Command::Parse { file, config, now } => parse_command(&file, config, now),
        Command::Demo { language, lines, keep } => {
            if language != "id" && language != "en" {
                bail!("--language {language:?}: use id or en");
            }
            let temp = tempfile::tempdir().context("creating a temporary directory")?;
            let dir = match &keep {
                Some(d) => {
                    std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
                    d.clone()
                }
                None => temp.path().to_path_buf(),
            };
            let mut out = std::io::stdout();
            loket::shell::demo::run(&dir, &language, lines, &mut out).await?;
            if let Some(d) = keep {
                println!("\nThe database and the mail folders are kept in {}.", d.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bookings { config, from, to } => bookings(load(config)?, from, to),
        Command::Accounts { config, action } => accounts(load(config)?, action),
        Command::CheckConfig { config } => {
            let c = load(config)?;
            Desk::new(&c).context("the templates do not render")?;
            println!(
                "configuration OK: desk {} ({}), {} account(s), {} approver(s), {} admin(s)",
                c.rules.desk_address,
                c.rules.language.code(),
                c.rules.accounts.len(),
                c.rules.roles.approvers.len(),
                c.rules.roles.admins.len()
            );
            println!("inbox: {}", describe_inbox(&c.inbox));
            println!("outbox: {}", describe_outbox(&c.outbox));
            println!("database: {}", c.database.display());
            for a in &c.rules.accounts {
                if !c.account_passwords.contains_key(&a.id) {
                    println!(
                        "note: account {} has no password in the configuration; set it with `loket accounts set-password {}`",
                        a.id, a.id
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckDb { config } => {
            let c = load(config)?;
            let mut store = open_store(&c)?;
            let breaches =
                loket::shell::check::check(&mut store, c.rules.policy.turnaround, c.retry_horizon, Utc::now())?;
            if breaches.is_empty() {
                println!("database OK: {}", c.database.display());
                Ok(ExitCode::SUCCESS)
            } else {
                for b in &breaches {
                    println!("BREACH: {}", b.0);
                }
                Ok(ExitCode::from(1))
            }
        }
    }
}

fn describe_inbox(i: &InboxConfig) -> String {
    match i {
        InboxConfig::Maildir { path, poll_seconds } => format!("maildir {} (every {poll_seconds} s)", path.display()),
        InboxConfig::Imap { server, folder, idle, .. } => {
            format!("imap {}@{}:{} {folder} ({:?}, idle {idle})", server.username, server.host, server.port, server.tls)
        }
    }
}

fn describe_outbox(o: &OutboxConfig) -> String {
    match o {
        OutboxConfig::File { path } => format!("files in {}", path.display()),
        OutboxConfig::Smtp { server } => {
            format!("smtp {}@{}:{} ({:?})", server.username, server.host, server.port, server.tls)
        }
    }
}

/// SIGINT and SIGTERM, listened for from the first moment of `serve`: a stop asked for
/// while loket is still starting is honoured once it runs, instead of killing it.
struct StopSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn listen() -> Result<StopSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignal {
                term: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
                int: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stop requested");
    }
}

async fn serve(config: Config, stop: StopSignal) -> Result<ExitCode> {
    let store = open_store(&config)?;
    let desk = Arc::new(Desk::new(&config).context("the templates do not render")?);
    let db = Db::new(store);
    tracing::info!(inbox = %describe_inbox(&config.inbox), outbox = %describe_outbox(&config.outbox), "loket serving");
    match &config.outbox {
        OutboxConfig::File { path } => {
            let sender =
                FileSender::new(path).with_context(|| format!("creating the outbox folder {}", path.display()))?;
            serve_with(&config, desk, db, Arc::new(sender), stop).await
        }
        OutboxConfig::Smtp { server } => serve_with(&config, desk, db, Arc::new(SmtpSender::new(server)?), stop).await,
    }
}

async fn serve_with<T: Sender>(
    config: &Config,
    desk: Arc<Desk>,
    db: Db,
    sender: Arc<T>,
    stop: StopSignal,
) -> Result<ExitCode> {
    match &config.inbox {
        InboxConfig::Maildir { path, poll_seconds } => {
            let source = Maildir::open(path, std::time::Duration::from_secs(*poll_seconds))?;
            go(desk, db, source, sender, stop).await
        }
        InboxConfig::Imap { .. } => {
            let source = ImapSource::new(&config.inbox, db.clone())?;
            go(desk, db, source, sender, stop).await
        }
    }
}

async fn go<S: Source, T: Sender>(
    desk: Arc<Desk>,
    db: Db,
    source: S,
    sender: Arc<T>,
    stop: StopSignal,
) -> Result<ExitCode> {
    service::run(desk, db, source, sender, Arc::new(SystemClock), RunOptions::default(), stop.wait()).await;
    Ok(ExitCode::SUCCESS)
}

fn parse_command(file: &Path, config: Option<PathBuf>, now: Option<String>) -> Result<ExitCode> {
    let raw = std::fs::read(file)
        .with_context(|| format!("cannot read {}: check the path and its permissions", file.display()))?;
    let now: DateTime<FixedOffset> = match now {
        Some(s) => DateTime::parse_from_rfc3339(&s)
            .with_context(|| format!("--now {s:?} is not RFC 3339, e.g. 2026-01-12T09:00:00+07:00"))?,
        None => Utc::now().fixed_offset(),
    };
    let (timezone, open_ended_hours) = match config {
        Some(path) => {
            let c = Config::load(&path)?;
            (c.rules.timezone, u32::try_from(c.rules.policy.open_ended.num_hours()).unwrap_or(4))
        }
        None => (chrono_tz::Asia::Jakarta, 4),
    };
    let p = parse::parse(&raw, &ParseOptions { timezone, open_ended_hours, now });
    let sessions: Vec<_> = p
        .sessions
        .iter()
        .map(|s| {
            serde_json::json!({
                "start": s.start().to_rfc3339_opts(SecondsFormat::Secs, false),
                "end": s.end().to_rfc3339_opts(SecondsFormat::Secs, false),
                "open_ended": s.open_ended(),
            })
        })
        .collect();
    let out = serde_json::json!({
        "intent": p.intent.as_str(),
        "sessions": sessions,
        "participants": p.participants,
        "reason": p.reason,
        "title": p.title,
        "problems": p.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn bookings(config: Config, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<ExitCode> {
    let tz = config.rules.timezone;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let from = from.unwrap_or(today);
    let to = to.unwrap_or(from + chrono::Duration::days(30));
    if to < from {
        bail!("--to {to} comes before --from {from}");
    }
    let start = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.to_utc())
            .unwrap_or_default()
    };
    let mut store = open_store(&config)?;
    let rows = store.read(|tx| tx.bookings(start(from), start(to + chrono::Duration::days(1))))?;
    if rows.is_empty() {
        println!("no bookings from {from} to {to}");
    }
    for b in rows {
        let s = b.session;
        println!(
            "{}  {}–{} {}  {:<10} {:<8} {}  {}",
            s.start().format("%Y-%m-%d %a %H:%M"),
            s.end().format("%H:%M"),
            loket::core::present::zone(*s.start().offset()),
            if s.open_ended() { "(open)" } else { "" },
            b.status,
            b.account.unwrap_or_else(|| "-".into()),
            b.reference,
            format_args!("{} {}", b.requester, b.title.unwrap_or_default()),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn accounts(config: Config, action: Option<AccountAction>) -> Result<ExitCode> {
    let mut store = open_store(&config)?;
    match action {
        None => {
            let list = store.read(|tx| tx.accounts(&config.rules.accounts))?;
            for (a, spec) in list.iter().zip(&config.rules.accounts) {
                let stored = store.read(|tx| tx.account_password(&a.id))?.is_some();
                let password = if stored {
                    "set (database)"
                } else if config.account_passwords.contains_key(&a.id) {
                    "set (config)"
                } else {
                    "NOT SET"
                };
                let last =
                    a.last_used.map(|t| t.with_timezone(&config.rules.timezone).format("%Y-%m-%d %H:%M").to_string());
                println!(
                    "{:<10} {:<28} capacity {:>5}  last lent {:<16}  password {password}",
                    a.id,
                    spec.login,
                    a.capacity,
                    last.as_deref().unwrap_or("never")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(AccountAction::SetPassword { id }) => {
            if !config.rules.accounts.iter().any(|a| a.id == id) {
                bail!("no account {id:?} in the configuration: `loket accounts` lists them");
            }
            if std::io::stdin().is_terminal() {
                eprintln!("new password for {id} (one line, then Enter):");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.trim().is_empty() {
                bail!("empty password: nothing changed");
            }
            store.write(|tx| {
                tx.set_account_password(&id, password, Utc::now())?;
                tx.log_event(Utc::now(), None, "cli:accounts set-password", None, "password_set", Some(&id))
            })?;
            println!("password of {id} stored; the next borrower gets it");
            Ok(ExitCode::SUCCESS)
        }
    }
}
