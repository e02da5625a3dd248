//! Where mail goes: `.eml` files (the embedded default) or an SMTP relay. A sender says
//! whether a failure is worth retrying; the outbox worker decides when.

pub mod file;
pub mod smtp;

use crate::core::domain::Address;
use std::future::Future;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later: a 4xx, a dropped connection, a timeout, a full disk.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The relay refused for good (5xx): retrying cannot help.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

pub trait Sender: Send + Sync + 'static {
    /// Delivers the rendered bytes to `to`, with `from` as the envelope sender.
    fn send(&self, from: &Address, to: &[Address], raw: &[u8]) -> impl Future<Output = Result<(), SendError>> + Send;
}
