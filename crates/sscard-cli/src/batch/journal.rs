//! The batch journal: an SQLite database (WAL, `synchronous=FULL`: every entry is on disk
//! before the next card step) holding an append-only list of entries, each chained to the
//! previous one by SHA-256, the first one to the input file's hash.
//!
//! A person's state is its latest entry: `started` (a card was taken for them and may be
//! written), `done`, `failed` (the card was certainly not finished), `undecided` (the card left
//! the reader mid-personalization: it is never personalized again automatically).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::error::{CliError, CliResult};

/// Journal layout version. Version 1 (sscard before the specification protocol) knew cards by
/// an invented chip serial; version 2 knows them by their card identification code.
const SCHEMA: &str = "sscard.batch-journal/2";
/// The layout of version 1, refused with an explanation.
const SCHEMA_V1: &str = "sscard.batch-journal/1";

/// What happened to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A card was taken for the person.
    Started,
    /// The card is personalized.
    Done,
    /// Personalization failed and the card is not finished.
    Failed,
    /// Unknown whether the card was finished; the card is not at hand.
    Undecided,
}

impl Event {
    fn as_str(self) -> &'static str {
        match self {
            Event::Started => "started",
            Event::Done => "done",
            Event::Failed => "failed",
            Event::Undecided => "undecided",
        }
    }

    fn parse(s: &str) -> Option<Event> {
        Some(match s {
            "started" => Event::Started,
            "done" => Event::Done,
            "failed" => Event::Failed,
            "undecided" => Event::Undecided,
            _ => return None,
        })
    }
}

/// One journal entry.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// Input line of the person.
    pub line: u64,
    /// The person's SSN.
    pub ssn: String,
    /// The reader.
    pub reader: String,
    /// The card identification code of the card (EF05 tag 01, unique to the card): known from
    /// `started` on.
    pub card_id: String,
    /// ATR, hex.
    pub atr: String,
    /// Card number (done).
    pub card_number: String,
    /// Error or note.
    pub detail: String,
}

/// The latest state of a person.
#[derive(Debug, Clone)]
pub struct State {
    /// The latest event.
    pub event: Event,
    /// The latest entry.
    pub entry: Entry,
}

/// An open journal.
pub struct Journal {
    conn: Connection,
    head: String,
    count: u64,
}

fn db(e: rusqlite::Error) -> CliError {
    CliError::Other(format!("journal: {e}"))
}

fn entry_hash(prev: &str, seq: u64, event: &str, e: &Entry, at: i64) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        event,
        &e.line.to_string(),
        &e.ssn,
        &e.reader,
        &e.card_id,
        &e.atr,
        &e.card_number,
        &e.detail,
        &at.to_string(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl Journal {
    /// Opens (or creates) the journal of the input file with hash `input_sha256`, verifying the
    /// whole chain.
    pub fn open(path: &Path, input_sha256: &str) -> CliResult<Journal> {
        let conn = Connection::open(path)
            .map_err(|e| CliError::Other(format!("journal {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .map_err(db)?;
        let schema: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        match schema.as_deref() {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?1), ('input_sha256', ?2)",
                    params![SCHEMA, input_sha256],
                )
                .map_err(db)?;
            }
            Some(SCHEMA) => {}
            Some(SCHEMA_V1) => {
                return Err(CliError::BadInput(format!(
                    "journal {} was written by an sscard before the specification protocol (layout {SCHEMA_V1}); the cards it records cannot be completed by this sscard: start a new journal (another --journal file)",
                    path.display()
                )))
            }
            Some(other) => {
                return Err(CliError::BadInput(format!(
                    "journal {}: unknown layout {other:?}",
                    path.display()
                )))
            }
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS entries (
               seq INTEGER PRIMARY KEY, event TEXT NOT NULL, line INTEGER NOT NULL,
               ssn TEXT NOT NULL, reader TEXT NOT NULL, card_id TEXT NOT NULL,
               atr TEXT NOT NULL, card_number TEXT NOT NULL,
               detail TEXT NOT NULL, at INTEGER NOT NULL, hash TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS entries_card ON entries (card_id);",
        )
        .map_err(db)?;
        let bound: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'input_sha256'",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if bound != input_sha256 {
            return Err(CliError::BadInput(format!(
                "journal {} belongs to another input file (SHA-256 {bound}); the input changed or the wrong journal was given",
                path.display()
            )));
        }
        let mut journal = Journal {
            conn,
            head: input_sha256.to_owned(),
            count: 0,
        };
        journal.verify(path)?;
        Ok(journal)
    }

    /// Recomputes the hash chain; any edited, inserted or removed entry breaks it.
    fn verify(&mut self, path: &Path) -> CliResult<()> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, event, line, ssn, reader, card_id, atr, card_number,
                        detail, at, hash FROM entries ORDER BY seq",
            )
            .map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        let mut prev = self.head.clone();
        let mut expected_seq = 1u64;
        while let Some(r) = rows.next().map_err(db)? {
            let seq: i64 = r.get(0).map_err(db)?;
            let event: String = r.get(1).map_err(db)?;
            let line: i64 = r.get(2).map_err(db)?;
            let e = Entry {
                line: line as u64,
                ssn: r.get(3).map_err(db)?,
                reader: r.get(4).map_err(db)?,
                card_id: r.get(5).map_err(db)?,
                atr: r.get(6).map_err(db)?,
                card_number: r.get(7).map_err(db)?,
                detail: r.get(8).map_err(db)?,
            };
            let at: i64 = r.get(9).map_err(db)?;
            let hash: String = r.get(10).map_err(db)?;
            let seq = seq as u64;
            if seq != expected_seq
                || Event::parse(&event).is_none()
                || entry_hash(&prev, seq, &event, &e, at) != hash
            {
                return Err(CliError::BadInput(format!(
                    "journal {}: the hash chain is broken at entry {expected_seq}: the journal was modified",
                    path.display()
                )));
            }
            prev = hash;
            expected_seq += 1;
        }
        self.head = prev;
        self.count = expected_seq - 1;
        Ok(())
    }

    /// Appends an entry (committed to disk before returning).
    pub fn append(&mut self, event: Event, entry: &Entry) -> CliResult<()> {
        let seq = self.count + 1;
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let hash = entry_hash(&self.head, seq, event.as_str(), entry, at);
        self.conn
            .execute(
                "INSERT INTO entries (seq, event, line, ssn, reader, card_id, atr,
                   card_number, detail, at, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    seq as i64,
                    event.as_str(),
                    entry.line as i64,
                    entry.ssn,
                    entry.reader,
                    entry.card_id,
                    entry.atr,
                    entry.card_number,
                    entry.detail,
                    at,
                    hash
                ],
            )
            .map_err(db)?;
        self.head = hash;
        self.count = seq;
        Ok(())
    }

    /// The latest state of every person that has entries, by input line.
    pub fn states(&self) -> CliResult<std::collections::HashMap<u64, State>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT event, line, ssn, reader, card_id, atr, card_number, detail
                 FROM entries ORDER BY seq",
            )
            .map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        let mut out = std::collections::HashMap::new();
        while let Some(r) = rows.next().map_err(db)? {
            let event: String = r.get(0).map_err(db)?;
            let line: i64 = r.get(1).map_err(db)?;
            let entry = Entry {
                line: line as u64,
                ssn: r.get(2).map_err(db)?,
                reader: r.get(3).map_err(db)?,
                card_id: r.get(4).map_err(db)?,
                atr: r.get(5).map_err(db)?,
                card_number: r.get(6).map_err(db)?,
                detail: r.get(7).map_err(db)?,
            };
            if let Some(event) = Event::parse(&event) {
                out.insert(entry.line, State { event, entry });
            }
        }
        Ok(out)
    }

    /// The latest entry about the card with this card identification code.
    pub fn latest_for_card(&self, card_id: &str) -> CliResult<Option<State>> {
        self.conn
            .query_row(
                "SELECT event, line, ssn, reader, card_id, atr, card_number, detail
                 FROM entries WHERE card_id = ?1 ORDER BY seq DESC LIMIT 1",
                params![card_id],
                |r| {
                    let event: String = r.get(0)?;
                    let line: i64 = r.get(1)?;
                    Ok((
                        event,
                        Entry {
                            line: line as u64,
                            ssn: r.get(2)?,
                            reader: r.get(3)?,
                            card_id: r.get(4)?,
                            atr: r.get(5)?,
                            card_number: r.get(6)?,
                            detail: r.get(7)?,
                        },
                    ))
                },
            )
            .optional()
            .map_err(db)
            .map(|o| {
                o.and_then(|(event, entry)| {
                    Event::parse(&event).map(|event| State { event, entry })
                })
            })
    }

    /// The hash of the latest entry (the chain head): record it elsewhere to detect a
    /// journal truncated afterwards.
    pub fn head(&self) -> &str {
        &self.head
    }

    /// Number of entries.
    pub fn len(&self) -> u64 {
        self.count
    }
}
