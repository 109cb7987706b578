//! The batch journal: an SQLite database in WAL mode holding an append-only list of entries, each chained to the
//! previous one by HMAC-SHA-256 under the station key ([`StationKey`]), the first one to the
//! input file's hash; the chain's length and head are kept, under the same key, in `meta`.
//! Whoever can write the file but does not hold the station key cannot change, insert, remove
//! or cut off an entry, nor drop a table, without the next run refusing the journal.
//!
//! The journal is locked for the whole run (`<journal>.lock`): one journal, one run. Its files
//! (with `-wal` and `-shm`) are readable by their owner only: they hold every SSN and name.
//!
//! Durability ([`Journal::append`], [`WalSync`]): every entry is committed at once (SQLite's
//! `synchronous=NORMAL`: written to the write-ahead log, no fsync); an entry that must be on
//! the disk before the card is written (`started`) is then made durable by an fsync of the
//! write-ahead log that covers every entry committed before it, by whichever worker gets there
//! first (a group commit with a commit delay, [`super::wal_sync`]: readers at work share an
//! fsync). The other
//! entries reach the disk with the next such fsync, before a PC/SC worker lets a card go, and
//! at the end of the run; a power loss can at worst forget that a card was finished, which the
//! next run treats as an interrupted card (never personalized twice). Checkpoints are the
//! journal's own (every [`CHECKPOINT_EVERY`] entries). So a card costs one fsync of the
//! journal, and [`WalSync::syncs`] counts them all.
//!
//! A person's state is its latest entry: `started` (a card was taken for them and may be
//! written), `done`, `failed` (the card was certainly not finished), `undecided` (the card left
//! the reader mid-personalization: it is never personalized again automatically).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::Sha256;
use sscard_files::FileLock;
use zeroize::Zeroizing;

use super::wal_sync::WalSync;
use crate::error::{CliError, CliResult};

/// Journal layout version. Version 1 (sscard before the specification protocol) knew cards by
/// an invented chip serial; version 2 knows them by their card identification code, chained by
/// plain SHA-256; version 3 keys the chain with the station key.
const SCHEMA: &str = "sscard.batch-journal/3";
/// The layout of version 1, refused with an explanation.
const SCHEMA_V1: &str = "sscard.batch-journal/1";
/// The unkeyed layout of version 2, refused with advice.
const SCHEMA_V2: &str = "sscard.batch-journal/2";

/// The columns of `entries`, in order.
const ENTRY_COLUMNS: [&str; 11] = [
    "seq",
    "event",
    "line",
    "ssn",
    "reader",
    "card_id",
    "atr",
    "card_number",
    "detail",
    "at",
    "hash",
];

type HmacSha256 = Hmac<Sha256>;

/// The format name of a station key file.
pub const STATION_KEY_FORMAT: &str = "sscard-station-key";

/// The station key: 32 secret bytes under the station's control (a file of mode 0600, never a
/// command-line value) that key the journal's chain. Journals written with one key are
/// resumed only with it.
pub struct StationKey {
    key: Zeroizing<[u8; 32]>,
}

impl StationKey {
    /// A new random key.
    pub fn generate() -> StationKey {
        StationKey {
            key: Zeroizing::new(rand::random()),
        }
    }

    /// The key file's JSON text.
    pub fn to_json(&self, test_key: bool) -> Zeroizing<String> {
        Zeroizing::new(
            serde_json::json!({
                "format": STATION_KEY_FORMAT,
                "version": 1,
                "key": hex::encode_upper(self.key.as_slice()),
                "test_key": test_key,
            })
            .to_string(),
        )
    }

    /// Parses a key file's text.
    pub fn from_json(text: &str) -> Result<StationKey, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(STATION_KEY_FORMAT)
            || value.get("version").and_then(|v| v.as_u64()) != Some(1)
        {
            return Err(format!(
                "not a station key file (\"format\": \"{STATION_KEY_FORMAT}\", \"version\": 1)"
            ));
        }
        let hex_key = Zeroizing::new(
            value
                .get("key")
                .and_then(|k| k.as_str())
                .unwrap_or_default()
                .to_owned(),
        );
        let bytes = Zeroizing::new(hex::decode(hex_key.as_str()).unwrap_or_default());
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| "\"key\" is not 64 hex digits".to_owned())?;
        Ok(StationKey {
            key: Zeroizing::new(key),
        })
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length: this cannot fail
        <HmacSha256 as KeyInit>::new_from_slice(self.key.as_slice())
            .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()))
    }

    /// A MAC over length-prefixed parts.
    fn tag(&self, parts: &[&str]) -> String {
        let mut m = self.mac();
        for part in parts {
            m.update(&(part.len() as u64).to_be_bytes());
            m.update(part.as_bytes());
        }
        hex::encode(m.finalize().into_bytes())
    }

    /// The key's public name: a MAC of a fixed text (says which key, reveals nothing of it).
    pub fn id(&self) -> String {
        self.tag(&["sscard station key id"])
            .get(..16)
            .unwrap_or_default()
            .to_owned()
    }
}

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

/// Entries between two checkpoints of the write-ahead log into the database (SQLite's own
/// automatic checkpoints are off: each costs two fsyncs, counted in [`WalSync::syncs`]).
pub const CHECKPOINT_EVERY: u64 = 512;

/// An open journal (locked for this process).
pub struct Journal {
    conn: Connection,
    key: StationKey,
    head: String,
    count: u64,
    since_checkpoint: u64,
    wal: Arc<WalSync>,
    _lock: FileLock,
}

/// The entry in the columns `line, ssn, reader, card_id, atr, card_number, detail` of a row,
/// `line` at column `first`.
fn entry_at(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Entry> {
    let line: i64 = r.get(first)?;
    Ok(Entry {
        line: line as u64,
        ssn: r.get(first + 1)?,
        reader: r.get(first + 2)?,
        card_id: r.get(first + 3)?,
        atr: r.get(first + 4)?,
        card_number: r.get(first + 5)?,
        detail: r.get(first + 6)?,
    })
}

fn db(e: rusqlite::Error) -> CliError {
    CliError::Other(format!("journal: {e}"))
}

fn entry_hash(key: &StationKey, prev: &str, seq: u64, event: &str, e: &Entry, at: i64) -> String {
    key.tag(&[
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
    ])
}

/// The MAC of the chain's state (length and head), kept in `meta`: a journal cut short is seen.
fn head_mac(key: &StationKey, count: u64, head: &str) -> String {
    key.tag(&["head", &count.to_string(), head])
}

/// Makes `path` readable by its owner only (the journal's files hold every SSN and name).
fn make_private(path: &Path) -> CliResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| crate::error::io_err("journal: cannot restrict", path, e))?;
        }
    }
    Ok(())
}

/// The files SQLite keeps beside the journal.
pub fn sidecar_files(path: &Path) -> [std::path::PathBuf; 3] {
    let with = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    [with("-wal"), with("-shm"), with(".lock")]
}

fn tampered(path: &Path, what: &str) -> CliError {
    CliError::BadInput(format!(
        "journal {}: {what}: the journal was modified outside sscard (or is no sscard journal); it is not used. Keep it for the record; its cards are recognised as not blank",
        path.display()
    ))
}

/// The layout a `meta` table names, read leniently (an older journal's tables differ).
fn older_layout(conn: &Connection) -> CliResult<Option<String>> {
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(db)?
        > 0;
    if !has_meta {
        return Ok(None);
    }
    conn.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
        r.get(0)
    })
    .optional()
    .map_err(db)
}

/// Checks that the database holds exactly the journal's tables, with their columns: `None` for
/// an empty database (a new journal), `Some(false)` when only `meta` is there (a journal of an
/// older layout may be so; this one's never), `Some(true)` for the whole set.
fn check_tables(conn: &Connection, path: &Path) -> CliResult<Option<bool>> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .map_err(db)?;
    let objects: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    if objects.is_empty() {
        return Ok(None); // a new journal
    }
    let names: Vec<&str> = objects.iter().map(|(_, n)| n.as_str()).collect();
    let meta_only = names == ["meta"];
    if !meta_only && names != ["entries", "entries_card", "meta"] {
        let missing: Vec<&str> = ["entries", "meta"]
            .into_iter()
            .filter(|t| !names.contains(t))
            .collect();
        let what = if missing.is_empty() {
            format!("unexpected tables ({})", names.join(", "))
        } else {
            format!("table {} is missing", missing.join(" and "))
        };
        return Err(tampered(path, &what));
    }
    if !meta_only {
        let mut stmt = conn.prepare("PRAGMA table_info(entries)").map_err(db)?;
        let columns: Vec<String> = stmt
            .query_map([], |r| r.get(1))
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?;
        if columns != ENTRY_COLUMNS {
            return Err(tampered(path, "the table of entries has other columns"));
        }
    }
    Ok(Some(!meta_only))
}

impl Journal {
    /// Opens (or creates) the journal of the input file with hash `input_sha256`, locking it
    /// for this process and verifying the table set and the whole keyed chain. `station_key`
    /// gives the key once the layout is known to be this one's (true: a new journal).
    pub fn open(
        path: &Path,
        input_sha256: &str,
        station_key: impl FnOnce(bool) -> CliResult<StationKey>,
    ) -> CliResult<Journal> {
        let lock_path = sidecar_files(path)[2].clone();
        let lock = match FileLock::try_lock(&lock_path, "sscard batch") {
            Ok(Ok(lock)) => lock,
            Ok(Err(holder)) => {
                return Err(CliError::Other(format!(
                    "journal {} is in use by another sscard batch ({holder}): one journal, one run at a time; wait for it to end, or use another journal for another input",
                    path.display()
                )))
            }
            Err(e) => return Err(crate::error::io_err("journal: cannot lock", &lock_path, e)),
        };
        if !path.exists() {
            sscard_files::create_private(path, b"")
                .map_err(|e| crate::error::io_err("journal: cannot create", path, e))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| CliError::Other(format!("journal {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        // the journal is this process's alone (its lock file above): SQLite takes its file
        // locks once and keeps them, instead of a dozen fcntl calls a card
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(db)?;
        // an older journal is named as such below, whatever tables it has
        let tables = match older_layout(&conn)?.as_deref() {
            Some(SCHEMA_V1 | SCHEMA_V2) => Some(false),
            _ => check_tables(&conn, path)?,
        };
        let existing = tables.is_some();
        let schema: Option<String> = if existing {
            conn.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?
        } else {
            None
        };
        match schema.as_deref() {
            Some(SCHEMA) if tables == Some(true) => {}
            Some(SCHEMA) => return Err(tampered(path, "table entries is missing")),
            Some(SCHEMA_V1) => {
                return Err(CliError::BadInput(format!(
                    "journal {} was written by an sscard before the specification protocol (layout {SCHEMA_V1}); the cards it records cannot be completed by this sscard: start a new journal (another --journal file)",
                    path.display()
                )))
            }
            Some(SCHEMA_V2) => {
                return Err(CliError::BadInput(format!(
                    "journal {} is unkeyed (layout {SCHEMA_V2}, from an sscard before the station key): anyone could have rewritten it, so it is not resumed. Finish it with the sscard that started it, or start a new journal (another --journal file) for the persons not yet done: the cards it personalized are not blank and are refused",
                    path.display()
                )))
            }
            Some(other) => {
                return Err(CliError::BadInput(format!(
                    "journal {}: unknown layout {other:?}",
                    path.display()
                )))
            }
            None if existing => return Err(tampered(path, "the layout record is missing")),
            None => {}
        }
        let key = station_key(!existing)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        // durability is the journal's own (WalSync): commits write the log, fsyncs are ours
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db)?;
        let seed = key.tag(&[SCHEMA, input_sha256]);
        if !existing {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE entries (
                   seq INTEGER PRIMARY KEY, event TEXT NOT NULL, line INTEGER NOT NULL,
                   ssn TEXT NOT NULL, reader TEXT NOT NULL, card_id TEXT NOT NULL,
                   atr TEXT NOT NULL, card_number TEXT NOT NULL,
                   detail TEXT NOT NULL, at INTEGER NOT NULL, hash TEXT NOT NULL);
                 CREATE INDEX entries_card ON entries (card_id);",
            )
            .map_err(db)?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema', ?1), ('input_sha256', ?2),
                   ('station_key', ?3), ('head', ?4)",
                params![SCHEMA, input_sha256, key.id(), head_mac(&key, 0, &seed)],
            )
            .map_err(db)?;
            conn.execute_batch("COMMIT;").map_err(db)?;
        }
        for file in std::iter::once(path.to_path_buf()).chain(sidecar_files(path)) {
            make_private(&file)?;
        }
        let meta = |name: &str| -> CliResult<String> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?
            .ok_or_else(|| tampered(path, &format!("the {name} record is missing")))
        };
        let bound = meta("input_sha256")?;
        if bound != input_sha256 {
            return Err(CliError::BadInput(format!(
                "journal {} belongs to another input file (SHA-256 {bound}); the input changed or the wrong journal was given",
                path.display()
            )));
        }
        let key_id = meta("station_key")?;
        if key_id != key.id() {
            return Err(CliError::BadInput(format!(
                "journal {} was written with another station key (id {key_id}; the key given has id {}): resume it with the station key it was started with (--station-key FILE or $SSCARD_STATION_KEY)",
                path.display(),
                key.id()
            )));
        }
        let recorded_head = meta("head")?;
        let wal_path = &sidecar_files(path)[0];
        let wal = File::open(wal_path)
            .map_err(|e| crate::error::io_err("journal: cannot open", wal_path, e))?;
        let mut journal = Journal {
            conn,
            key,
            head: seed,
            count: 0,
            since_checkpoint: 0,
            wal: Arc::new(WalSync::new(wal)),
            _lock: lock,
        };
        journal.verify(path)?;
        journal.wal.committed_through(journal.count);
        // a new journal's tables (and anything an earlier run left in the log) on the disk
        journal.wal.sync_all()?;
        if head_mac(&journal.key, journal.count, &journal.head) != recorded_head {
            return Err(tampered(
                path,
                &format!(
                    "its {} entries do not end where the journal says it ends (entries were removed at the end)",
                    journal.count
                ),
            ));
        }
        Ok(journal)
    }

    /// Recomputes the keyed chain; any edited, inserted or removed entry breaks it.
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
            let e = entry_at(r, 2).map_err(db)?;
            let at: i64 = r.get(9).map_err(db)?;
            let hash: String = r.get(10).map_err(db)?;
            let seq = seq as u64;
            if seq != expected_seq
                || Event::parse(&event).is_none()
                || entry_hash(&self.key, &prev, seq, &event, &e, at) != hash
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

    /// Appends an entry with the chain's new head: committed (in the write-ahead log) before
    /// returning, durable once [`WalSync::sync_through`] its number (the new [`Journal::len`])
    /// returned.
    pub fn append(&mut self, event: Event, entry: &Entry) -> CliResult<()> {
        let seq = self.count + 1;
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let hash = entry_hash(&self.key, &self.head, seq, event.as_str(), entry, at);
        let head = head_mac(&self.key, seq, &hash);
        let tx = self.conn.transaction().map_err(db)?;
        // (cached statements: the lock other readers wait for is held for less time)
        tx.prepare_cached(
            "INSERT INTO entries (seq, event, line, ssn, reader, card_id, atr,
               card_number, detail, at, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
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
            ])
        })
        .map_err(db)?;
        tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'head'")
            .and_then(|mut update| update.execute(params![head]))
            .map_err(db)?;
        tx.commit().map_err(db)?;
        self.head = hash;
        self.count = seq;
        self.wal.committed_through(seq);
        self.since_checkpoint += 1;
        if self.since_checkpoint >= CHECKPOINT_EVERY {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Copies the write-ahead log into the database (SQLite fsyncs the log before and the
    /// database after): the log then starts over instead of growing for the whole batch.
    fn checkpoint(&mut self) -> CliResult<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(db)?;
        self.wal.checkpointed(self.count, 2);
        self.since_checkpoint = 0;
        Ok(())
    }

    /// What makes this journal's entries durable, for use outside its lock.
    pub fn wal_sync(&self) -> Arc<WalSync> {
        Arc::clone(&self.wal)
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
            let entry = entry_at(r, 1).map_err(db)?;
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
                |r| Ok((r.get::<_, String>(0)?, entry_at(r, 1)?)),
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
