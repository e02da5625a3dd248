//! The IMAP source: the desk's mailbox on a real server (Dovecot, Zimbra, Exchange, Gmail).
//!
//! - Mail is read with `BODY.PEEK[]`: loket never sets a human's `\Seen` flag.
//! - The session is held by value: any error drops it and the next call reconnects
//!   (chatmail/core's pattern), so no half-broken connection is ever reused.
//! - UIDVALIDITY and the last decided UID are kept per folder in SQLite. Each new session
//!   re-scans the folder from the start (decided mail is moved out, so the folder holds
//!   only what waits) and a UIDVALIDITY change does the same; the Message-ID record makes
//!   a re-scan answer nothing twice.
//! - IDLE is re-issued every 25 minutes (RFC 2177 asks for less than 29); every other
//!   command runs under a timeout, because async-imap only times out IDLE.

use crate::shell::config::{InboxConfig, ServerConfig, Tls};
use crate::shell::db::Db;
use crate::shell::desk::Disposition;
use crate::shell::source::{Incoming, Source, SourceError};
use async_imap::Session;
use futures::TryStreamExt;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

/// A connection, plain or TLS, behind one type.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync + Debug> Io for T {}
type Conn = Box<dyn Io>;

const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const IDLE_TIMEOUT: Duration = Duration::from_secs(25 * 60);
/// Mails fetched at once: bounds memory when a backlog is large.
const BATCH: usize = 50;

pub struct ImapSource {
    server: ServerConfig,
    folder: String,
    processed: String,
    failed: String,
    idle: bool,
    poll: Duration,
    tls: Arc<tokio_rustls::rustls::ClientConfig>,
    db: Db,
    session: Option<Live>,
}

/// A logged-in session with the inbox selected.
struct Live {
    session: Session<Conn>,
    uidvalidity: u32,
    /// Highest UID handed out in this session; the scan goes on from it.
    scanned: u32,
    can_idle: bool,
    can_move: bool,
    can_uidplus: bool,
}

fn imap_err(e: impl std::fmt::Display) -> SourceError {
    SourceError::Imap(e.to_string())
}

impl ImapSource {
    pub fn new(inbox: &InboxConfig, db: Db) -> Result<ImapSource, SourceError> {
        let InboxConfig::Imap { server, folder, processed_folder, failed_folder, idle, poll_seconds } = inbox else {
            return Err(SourceError::Imap("ImapSource needs [inbox] kind = \"imap\"".into()));
        };
        let tls =
            crate::shell::tls::client_config(server.ca_file.as_deref()).map_err(|e| SourceError::Tls(e.to_string()))?;
        Ok(ImapSource {
            server: server.clone(),
            folder: folder.clone(),
            processed: processed_folder.clone(),
            failed: failed_folder.clone(),
            idle: *idle,
            poll: Duration::from_secs(*poll_seconds),
            tls,
            db,
            session: None,
        })
    }

    async fn timed<T, E: std::fmt::Display>(
        &self,
        during: &'static str,
        f: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, SourceError> {
        match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
            Ok(r) => r.map_err(|e| SourceError::Imap(format!("{during}: {e}"))),
            Err(_) => Err(SourceError::Timeout {
                host: self.server.host.clone(),
                port: self.server.port,
                seconds: COMMAND_TIMEOUT.as_secs(),
                during,
            }),
        }
    }

    async fn tls_wrap(&self, tcp: TcpStream) -> Result<Conn, SourceError> {
        let name = ServerName::try_from(self.server.host.clone())
            .map_err(|e| SourceError::Tls(format!("{}: {e}", self.server.host)))?;
        let tls = self.timed("TLS handshake", TlsConnector::from(self.tls.clone()).connect(name, tcp)).await?;
        Ok(Box::new(tls))
    }

    async fn connect(&self) -> Result<Live, SourceError> {
        let s = &self.server;
        let tcp = self.timed("connect", TcpStream::connect((s.host.as_str(), s.port))).await?;
        let _ = tcp.set_nodelay(true);
        let conn: Conn = match s.tls {
            Tls::Implicit => self.tls_wrap(tcp).await?,
            Tls::None => Box::new(tcp),
            Tls::Starttls => {
                let mut client = async_imap::Client::new(tcp);
                self.timed("greeting", async { client.read_response().await.map(|_| ()) }).await?;
                self.timed("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
                self.tls_wrap(client.into_inner()).await?
            }
        };
        let mut client = async_imap::Client::new(conn);
        if s.tls != Tls::Starttls {
            self.timed("greeting", async { client.read_response().await.map(|_| ()) }).await?;
        }
        let mut session =
            match tokio::time::timeout(COMMAND_TIMEOUT, client.login(&s.username, s.password.expose())).await {
                Ok(Ok(session)) => session,
                // Never the password: only who tried, and the server's words.
                Ok(Err((e, _))) => return Err(SourceError::Imap(format!("login as {} refused: {e}", s.username))),
                Err(_) => {
                    return Err(SourceError::Timeout {
                        host: s.host.clone(),
                        port: s.port,
                        seconds: COMMAND_TIMEOUT.as_secs(),
                        during: "login",
                    });
                }
            };
        let caps = self.timed("CAPABILITY", session.capabilities()).await?;
        let can_idle = caps.has_str("IDLE");
        let can_move = caps.has_str("MOVE");
        let can_uidplus = caps.has_str("UIDPLUS");
        for folder in [&self.processed, &self.failed] {
            let existing: Vec<_> = self
                .timed("LIST", async { session.list(None, Some(folder)).await?.try_collect::<Vec<_>>().await })
                .await?;
            if existing.is_empty() {
                self.timed("CREATE", session.create(folder)).await?;
                tracing::info!(folder = %folder, "created IMAP folder");
            }
        }
        let mailbox = self.timed("SELECT", session.select(&self.folder)).await?;
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        let folder = self.folder.clone();
        let stored = self.db.call(move |s| s.read(|tx| tx.mailbox_state(&folder))).await.map_err(imap_err)?;
        if let Some((old, _)) = stored
            && old != uidvalidity
        {
            tracing::warn!(
                old,
                new = uidvalidity,
                "UIDVALIDITY changed: re-scanning the folder; the Message-ID record prevents double answers"
            );
        }
        let folder = self.folder.clone();
        let last = stored.filter(|(v, _)| *v == uidvalidity).map(|(_, u)| u).unwrap_or(0);
        self.db
            .call(move |s| s.write(|tx| tx.set_mailbox_state(&folder, uidvalidity, last)))
            .await
            .map_err(imap_err)?;
        tracing::info!(host = %s.host, folder = %self.folder, idle = can_idle && self.idle, "IMAP session ready");
        Ok(Live { session, uidvalidity, scanned: 0, can_idle, can_move, can_uidplus })
    }

    /// Mails with a UID above what this session handed out, oldest first.
    async fn fetch_new(&self, live: &mut Live) -> Result<Vec<Incoming>, SourceError> {
        let from = live.scanned + 1;
        let found = self.timed("UID SEARCH", live.session.uid_search(format!("UID {from}:*"))).await?;
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u >= from).collect();
        uids.sort_unstable();
        uids.truncate(BATCH);
        if uids.is_empty() {
            return Ok(vec![]);
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let fetched: Vec<_> = self
            .timed("UID FETCH", async {
                live.session.uid_fetch(&set, "(UID BODY.PEEK[])").await?.try_collect::<Vec<_>>().await
            })
            .await?;
        let mut out: Vec<Incoming> = fetched
            .iter()
            .filter_map(|f| Some(Incoming { key: f.uid?.to_string(), raw: f.body()?.to_vec() }))
            .collect();
        out.sort_by_key(|m| m.key.parse::<u32>().unwrap_or(0));
        live.scanned = uids.last().copied().unwrap_or(live.scanned);
        Ok(out)
    }

    /// Waits for the server to say something changed (IDLE), or for the poll interval.
    async fn wait(&self, mut live: Live) -> Result<Live, SourceError> {
        if !(self.idle && live.can_idle) {
            tokio::time::sleep(self.poll).await;
            self.timed("NOOP", live.session.noop()).await?;
            return Ok(live);
        }
        let mut handle = live.session.idle();
        self.timed("IDLE", handle.init()).await?;
        let (wait, stop) = handle.wait_with_timeout(IDLE_TIMEOUT);
        let woke = wait.await.map_err(|e| SourceError::Imap(format!("IDLE: {e}")));
        drop(stop);
        woke?;
        live.session = self.timed("DONE", handle.done()).await?;
        Ok(live)
    }
}

impl Source for ImapSource {
    async fn next(&mut self) -> Result<Vec<Incoming>, SourceError> {
        loop {
            let mut live = match self.session.take() {
                Some(l) => l,
                None => self.connect().await?,
            };
            let mails = self.fetch_new(&mut live).await?;
            if !mails.is_empty() {
                self.session = Some(live);
                return Ok(mails);
            }
            // Dropped here on error (or on cancellation): the next call reconnects.
            let live = self.wait(live).await?;
            self.session = Some(live);
        }
    }

    fn undecided(&mut self) {
        if let Some(live) = &mut self.session {
            live.scanned = 0;
        }
    }

    async fn finish(&mut self, done: &[(Incoming, Disposition)]) -> Result<(), SourceError> {
        let Some(mut live) = self.session.take() else {
            return Err(SourceError::Imap("not connected: the mail is moved after the next scan".into()));
        };
        for (how, target) in
            [(Disposition::Processed, self.processed.clone()), (Disposition::Failed, self.failed.clone())]
        {
            let set = done.iter().filter(|(_, d)| *d == how).map(|(m, _)| m.key.as_str()).collect::<Vec<_>>().join(",");
            if !set.is_empty() {
                self.move_set(&mut live, &set, &target).await?;
            }
        }
        let (folder, validity) = (self.folder.clone(), live.uidvalidity);
        let uid = done.iter().filter_map(|(m, _)| m.key.parse::<u32>().ok()).max().unwrap_or(0);
        self.db
            .call(move |s| {
                s.write(|tx| {
                    let last = tx.mailbox_state(&folder)?.filter(|(v, _)| *v == validity).map(|(_, u)| u).unwrap_or(0);
                    tx.set_mailbox_state(&folder, validity, last.max(uid))
                })
            })
            .await
            .map_err(imap_err)?;
        self.session = Some(live);
        Ok(())
    }
}

impl ImapSource {
    /// Moves the UIDs in `set` to `target`: MOVE (RFC 6851) where the server has it, else
    /// COPY, flag \Deleted and expunge just those.
    async fn move_set(&self, live: &mut Live, set: &str, target: &str) -> Result<(), SourceError> {
        if live.can_move {
            return self.timed("UID MOVE", live.session.uid_mv(set, target)).await;
        }
        self.timed("UID COPY", live.session.uid_copy(set, target)).await?;
        self.timed("UID STORE", async {
            live.session.uid_store(set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect::<Vec<_>>().await
        })
        .await?;
        // Without UIDPLUS, EXPUNGE would also remove what a human flagged \Deleted.
        if live.can_uidplus {
            self.timed("UID EXPUNGE", async { live.session.uid_expunge(set).await?.try_collect::<Vec<_>>().await })
                .await?;
        } else {
            self.timed("EXPUNGE", async { live.session.expunge().await?.try_collect::<Vec<_>>().await }).await?;
        }
        Ok(())
    }
}
