//! The imperative shell: mailboxes, senders, the SQLite store, timers, the CLI's work.

pub mod compose;
pub mod config;
pub mod desk;
pub mod render;
pub mod samples;
pub mod store;
pub mod clock;
pub mod db;
pub mod sender;
pub mod source;
pub mod service;
pub mod check;
pub mod demo;
pub mod tls;
