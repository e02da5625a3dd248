//! The `loket` command line. Errors end here, as `anyhow` with context that says what to
//! do next.

use anyhow::{Context, Result};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use clap::{Parser, Subcommand};
use loket::core::parse::{self, ParseOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "loket", version, about = "An email desk that lends the office's Zoom licenses")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loket: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Parse { file, config: _, now } => {
            let raw = std::fs::read(&file)
                .with_context(|| format!("cannot read {}: check the path and its permissions", file.display()))?;
            let now: DateTime<FixedOffset> = match now {
                Some(s) => DateTime::parse_from_rfc3339(&s)
                    .with_context(|| format!("--now {s:?} is not RFC 3339, e.g. 2026-01-12T09:00:00+07:00"))?,
                None => Utc::now().fixed_offset(),
            };
            let opts = ParseOptions {
                timezone: chrono_tz::Asia::Jakarta,
                open_ended_hours: 4,
                now,
            };
            let p = parse::parse(&raw, &opts);
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
            });
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
