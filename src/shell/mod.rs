//! The imperative shell: mailboxes, senders, the SQLite store, timers, the CLI's work.

pub mod check;
pub mod clock;
pub mod compose;
pub mod config;
pub mod db;
pub mod demo;
pub mod desk;
pub mod render;
pub mod samples;
pub mod sender;
pub mod service;
pub mod source;
pub mod store;
pub mod tls;
