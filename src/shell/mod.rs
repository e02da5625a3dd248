//! The imperative shell: mailboxes, senders, the SQLite store, timers, the CLI's work.

pub mod config;
pub mod store;
pub mod compose;
pub mod render;
pub mod samples;
