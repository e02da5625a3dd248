//! loket: an email-driven desk that lends an office's Zoom licenses.
//!
//! Layout (a functional core and an imperative shell):
//! - [`core::domain`]: types that cannot hold invalid values (`Reference`, `Session`, `Address`).
//! - [`core::parse`]: a raw mail into intent, sessions and head count.
//! - [`shell`]: everything that touches the world.

pub mod core;
pub mod shell;
