//! A Maildir inbox (the embedded default): mail is read from `new/` and `cur/`; a decided
//! mail moves to the `.Processed` sub-folder, one that is not mail at all to `.Failed`
//! (Maildir++ layout, so a mail client shows them as folders). A rename is atomic, so a
//! mail is either still waiting or moved, never both.

use crate::shell::desk::Disposition;
use crate::shell::source::{Incoming, Source, SourceError};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Maildir {
    root: PathBuf,
    poll: Duration,
    batch: usize,
}

/// Large enough for a day's mail; small enough that a shutdown waits for little.
const BATCH: usize = 50;

fn io(path: &Path) -> impl Fn(std::io::Error) -> SourceError + '_ {
    move |source| SourceError::Io { path: path.display().to_string(), source }
}

/// Creates `cur/`, `new/`, `tmp/` under `dir`.
pub fn create(dir: &Path) -> Result<(), SourceError> {
    for sub in ["cur", "new", "tmp"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(io(&p))?;
    }
    Ok(())
}

/// Delivers `raw` into the Maildir at `dir` the way an MDA does (tmp/ then rename into
/// new/), so a reader never sees half a file. Used by the demo and the tests.
pub fn deliver(dir: &Path, raw: &[u8]) -> Result<PathBuf, SourceError> {
    create(dir)?;
    let name = unique_name();
    let tmp = dir.join("tmp").join(&name);
    std::fs::write(&tmp, raw).map_err(io(&tmp))?;
    let new = dir.join("new").join(&name);
    std::fs::rename(&tmp, &new).map_err(io(&new))?;
    Ok(new)
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!(
        "{}.M{}P{}Q{}.loket",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

impl Maildir {
    pub fn open(root: &Path, poll: Duration) -> Result<Maildir, SourceError> {
        create(root)?;
        create(&root.join(".Processed"))?;
        create(&root.join(".Failed"))?;
        Ok(Maildir { root: root.to_path_buf(), poll, batch: BATCH })
    }

    /// The waiting mails, oldest first (Maildir names start with the delivery time).
    pub fn scan(&self) -> Result<Vec<PathBuf>, SourceError> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.root.join(sub);
            for e in std::fs::read_dir(&dir).map_err(io(&dir))? {
                let e = e.map_err(io(&dir))?;
                let name = e.file_name();
                if name.to_string_lossy().starts_with('.') || !e.file_type().map_err(io(&dir))?.is_file() {
                    continue;
                }
                files.push((name, e.path()));
            }
        }
        files.sort();
        Ok(files.into_iter().map(|(_, p)| p).take(self.batch).collect())
    }
}

impl Source for Maildir {
    async fn next(&mut self) -> Result<Vec<Incoming>, SourceError> {
        loop {
            let mut out = Vec::new();
            for path in self.scan()? {
                match tokio::fs::read(&path).await {
                    Ok(raw) => out.push(Incoming { key: path.display().to_string(), raw }),
                    // Moved by another reader between the scan and the read: not ours now.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(&path)(e)),
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn finish(&mut self, done: &[(Incoming, Disposition)]) -> Result<(), SourceError> {
        for (mail, how) in done {
            self.finish_one(mail, *how).await?;
        }
        Ok(())
    }
}

impl Maildir {
    async fn finish_one(&self, mail: &Incoming, how: Disposition) -> Result<(), SourceError> {
        let from = PathBuf::from(&mail.key);
        let folder = match how {
            Disposition::Processed => ".Processed",
            Disposition::Failed => ".Failed",
        };
        let Some(name) = from.file_name() else { return Ok(()) };
        let mut name = name.to_string_lossy().into_owned();
        // Maildir's "seen" flag, so a client shows it read: info suffix ":2,S".
        if !name.contains(":2,") {
            name.push_str(":2,S");
        }
        let to = self.root.join(folder).join("cur").join(name);
        match tokio::fs::rename(&from, &to).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&to)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn mails_are_read_oldest_first_and_moved_by_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("inbox");
        let mut md = Maildir::open(&root, Duration::from_millis(10)).unwrap();
        deliver(&root, b"Subject: one\r\n\r\n1").unwrap();
        deliver(&root, b"Subject: two\r\n\r\n2").unwrap();
        let got = md.next().await.unwrap();
        assert_eq!(
            got.iter().map(|m| m.raw.clone()).collect::<Vec<_>>(),
            vec![b"Subject: one\r\n\r\n1".to_vec(), b"Subject: two\r\n\r\n2".to_vec()]
        );
        md.finish(&[(got[0].clone(), Disposition::Processed), (got[1].clone(), Disposition::Failed)]).await.unwrap();
        // Finishing twice (a restart after the move) is harmless.
        md.finish(&[(got[1].clone(), Disposition::Failed)]).await.unwrap();
        assert!(md.scan().unwrap().is_empty());
        assert_eq!(std::fs::read_dir(root.join(".Processed/cur")).unwrap().count(), 1);
        assert_eq!(std::fs::read_dir(root.join(".Failed/cur")).unwrap().count(), 1);
    }
}
