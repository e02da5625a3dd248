-- The first schema. Times are UTC, RFC 3339 with seconds and a Z ("2026-01-12T02:00:00Z"),
-- so text order is time order. STRICT tables: a wrong type is an error, not a surprise.

CREATE TABLE requests (
    reference      TEXT PRIMARY KEY,            -- LKT-YYYY-NNNN
    year           INTEGER NOT NULL,
    number         INTEGER NOT NULL,
    status         TEXT NOT NULL,
    requester      TEXT NOT NULL,
    requester_name TEXT,
    title          TEXT,
    subject        TEXT NOT NULL,
    thread_root    TEXT NOT NULL,               -- Message-ID of the mail that opened it
    participants   INTEGER,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    decided_by     TEXT,
    reason         TEXT,
    partial_json   TEXT NOT NULL DEFAULT '{}',  -- what an incomplete request has so far
    UNIQUE (year, number)
) STRICT;
CREATE INDEX requests_by_root ON requests (thread_root);
CREATE INDEX requests_by_status ON requests (status);

-- One row per meeting slot; a booking when its request's status holds an account.
CREATE TABLE sessions (
    reference      TEXT NOT NULL REFERENCES requests (reference),
    idx            INTEGER NOT NULL,
    start_utc      TEXT NOT NULL,
    end_utc        TEXT NOT NULL,
    offset_minutes INTEGER NOT NULL,            -- the zone the mail wrote it in (WIB 420)
    open_ended     INTEGER NOT NULL,
    account        TEXT,
    PRIMARY KEY (reference, idx),
    CHECK (end_utc > start_utc)
) STRICT;
CREATE INDEX sessions_by_account ON sessions (account, start_utc);

CREATE TABLE approval_asks (
    reference  TEXT NOT NULL REFERENCES requests (reference),
    approver   TEXT NOT NULL,
    token_hash BLOB NOT NULL,                   -- SHA-256 of the token; the token itself is not kept
    expires_at TEXT NOT NULL,
    used       INTEGER NOT NULL,
    PRIMARY KEY (reference, approver)
) STRICT;

-- Every mail that reached the desk, with what was decided about it.
CREATE TABLE mails_in (
    id          INTEGER PRIMARY KEY,
    message_id  TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    sender      TEXT,
    subject     TEXT,
    intent      TEXT,
    outcome     TEXT NOT NULL,
    detail      TEXT,
    reference   TEXT,
    seen_count  INTEGER NOT NULL DEFAULT 1,
    raw         BLOB NOT NULL
) STRICT;
CREATE INDEX mails_in_by_sender ON mails_in (sender, received_at);

-- Every mail the desk writes, rendered once with a fixed Message-ID, then delivered.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    reference       TEXT,
    kind            TEXT NOT NULL,
    recipients      TEXT NOT NULL,              -- space-separated envelope recipients
    subject         TEXT NOT NULL,
    raw             BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL,              -- pending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE timers (
    id        INTEGER PRIMARY KEY,
    reference TEXT NOT NULL REFERENCES requests (reference),
    kind      TEXT NOT NULL,
    n         INTEGER NOT NULL,
    due_at    TEXT NOT NULL,
    done_at   TEXT,
    UNIQUE (reference, kind, n)
) STRICT;
CREATE INDEX timers_due ON timers (done_at, due_at);

-- The record of every decision: who, when, what, why.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    reference TEXT,
    source    TEXT NOT NULL,                    -- mail:<Message-ID> | timer:<kind> | cli:<command> | outbox:<id>
    actor     TEXT,
    outcome   TEXT NOT NULL,
    detail    TEXT
) STRICT;

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    last_used_at TEXT,
    password     TEXT,                          -- set by `loket accounts set-password`; wins over the config
    password_set_at TEXT
) STRICT;

CREATE TABLE counters (
    year        INTEGER PRIMARY KEY,
    last_number INTEGER NOT NULL
) STRICT;

-- IMAP cursor per folder: a UIDVALIDITY change means the UIDs start over.
CREATE TABLE mailbox_state (
    folder      TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL
) STRICT;
