//! The embedded default sender: every mail becomes one `.eml` file in the outbox folder,
//! named after its Message-ID, written to a temporary name and renamed, so a re-send after
//! a crash replaces the same file instead of making a second one.

use crate::core::domain::Address;
use crate::shell::sender::{SendError, Sender};
use std::path::{Path, PathBuf};

pub struct FileSender {
    dir: PathBuf,
}

impl FileSender {
    pub fn new(dir: &Path) -> std::io::Result<FileSender> {
        std::fs::create_dir_all(dir)?;
        Ok(FileSender { dir: dir.to_path_buf() })
    }
}

/// The file name of a mail: its Message-ID's safe characters.
pub fn file_name(raw: &[u8]) -> String {
    let head = String::from_utf8_lossy(&raw[..raw.len().min(8192)]);
    let id = head
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Message-ID:").map(str::trim))
        .unwrap_or("no-message-id");
    let safe: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')).collect();
    format!("{safe}.eml")
}

impl Sender for FileSender {
    async fn send(&self, _from: &Address, to: &[Address], raw: &[u8]) -> Result<(), SendError> {
        if to.is_empty() {
            return Err(SendError::Permanent("no recipients".into()));
        }
        let name = file_name(raw);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let dest = self.dir.join(&name);
        let transient = |e: std::io::Error| SendError::Transient(format!("{}: {e}", dest.display()));
        tokio::fs::write(&tmp, raw).await.map_err(transient)?;
        tokio::fs::rename(&tmp, &dest).await.map_err(transient)?;
        Ok(())
    }
}
