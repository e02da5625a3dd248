//! The imperative shell: mailboxes, senders, the SQLite store, timers, the CLI's work.
