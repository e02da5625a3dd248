//! Where mail comes from: a local Maildir (the embedded default) or an IMAP mailbox. Both
//! hand out mails and move each away only after its outcome is committed.

pub mod imap;
pub mod maildir;

use crate::shell::desk::Disposition;
use std::future::Future;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SourceError {
    #[error("mailbox I/O on {path}: {source} (check the folder exists and loket may write to it)")]
    Io { path: String, source: std::io::Error },
    #[error("IMAP: {0}")]
    Imap(String),
    #[error("IMAP server {host}:{port} did not answer within {seconds} s during {during}")]
    Timeout { host: String, port: u16, seconds: u64, during: &'static str },
    #[error("TLS setup: {0} (check ca_file and the server's certificate)")]
    Tls(String),
}

/// One mail as it sits in the mailbox.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Where it is (a file name, an IMAP UID): what `finish` needs to move it.
    pub key: String,
    pub raw: Vec<u8>,
}

pub trait Source: Send {
    /// The mails waiting now; waits (IDLE or polling) until there is at least one. Safe
    /// to cancel: nothing is changed until `finish`.
    fn next(&mut self) -> impl Future<Output = Result<Vec<Incoming>, SourceError>> + Send;

    /// Mails handed out by `next` but not decided (the store failed) must come again:
    /// the next call starts over from the oldest waiting mail.
    fn undecided(&mut self) {}

    /// Moves decided mails out of the inbox, each to the folder its disposition names.
    fn finish(&mut self, done: &[(Incoming, Disposition)]) -> impl Future<Output = Result<(), SourceError>> + Send;
}
