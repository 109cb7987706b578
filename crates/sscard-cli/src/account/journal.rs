//! The terminal's journal of its own account transactions (`--journal FILE`): one JSON object
//! per line, appended and synced to disk before the card is asked to write and again when its
//! answer is known, so that a crash at any moment leaves a record of every transaction whose
//! outcome the terminal might not know.
//!
//! ```text
//! {"v":1,"event":"pending","seq":3,"at":"20240615093001","transaction":{…}}
//! {"v":1,"event":"done","seq":3,"tac":"12FE935F","mac":"DA3B5D29","balance_after":"187.50","source":"card","mac2_check":"verified"}
//! {"v":1,"event":"void","seq":4,"reason":"not applied (GET TRANSACTION PROOF 9406)"}
//! ```
//!
//! A `pending` entry without its `done` or `void` is a transaction whose answer was lost:
//! before the next transaction on the same card — and with `sscard account proof --journal` —
//! it is reconciled with the card (part 7 §14: GET TRANSACTION PROOF; the proof means done,
//! `9406` void). A last line cut by a crash (no line end) is an entry that was never complete:
//! it is dropped before the next append. Any other unreadable line stops the command: a
//! terminal does not move money on a journal it cannot read.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use sscard_core::account::{Fen, PendingTransaction, TerminalNumber};
use sscard_core::data::CardIdentificationCode;
use sscard_core::keyholder::account::Mac2Check;

use crate::error::{io_err, CliError, CliResult};

/// The journal format version.
const VERSION: u32 = 1;

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The card's answer to DEBIT / CREDIT.
    Card,
    /// GET TRANSACTION PROOF after the answer was lost.
    Proof,
}

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// Written (and synced) before DEBIT FOR PURCHASE / CREDIT FOR LOAD.
    Pending {
        /// The format version.
        v: u32,
        /// The entry's number in this journal.
        seq: u64,
        /// When (the transaction time of the terminal or host).
        at: String,
        /// The transaction.
        transaction: PendingTransaction,
    },
    /// The card applied it.
    Done {
        /// The format version.
        v: u32,
        /// The pending entry.
        seq: u64,
        /// The TAC.
        tac: String,
        /// MAC2.
        mac: String,
        /// The balance after.
        balance_after: String,
        /// Where the proof came from.
        source: Source,
        /// Whether the key holder checked MAC2.
        mac2_check: Mac2Check,
    },
    /// The card did not apply it.
    Void {
        /// The format version.
        v: u32,
        /// The pending entry.
        seq: u64,
        /// Why.
        reason: String,
    },
}

/// A pending transaction with its state.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its number.
    pub seq: u64,
    /// The transaction.
    pub transaction: PendingTransaction,
    /// `None` while unresolved; the done or void entry.
    pub outcome: Option<Entry>,
}

/// An open journal.
pub struct Journal {
    path: PathBuf,
    file: File,
    records: Vec<Record>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens (or creates, mode 0600) the journal at `path`, reading every entry.
    pub fn open(path: &Path) -> CliResult<Journal> {
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(path)
            .map_err(|e| io_err("account journal", path, e))?;
        let bytes = std::fs::read(path).map_err(|e| io_err("account journal", path, e))?;
        // a last line without its line end was cut by a crash before it was synced: drop it
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < bytes.len() {
            file.set_len(complete as u64)
                .map_err(|e| io_err("account journal", path, e))?;
            file.sync_all()
                .map_err(|e| io_err("account journal", path, e))?;
        }
        let text = String::from_utf8(bytes[..complete].to_vec()).map_err(|_| {
            CliError::Other(format!(
                "account journal {}: not UTF-8 text; no transaction is made on a journal that cannot be read",
                path.display()
            ))
        })?;
        let mut records: Vec<Record> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |why: String| {
                CliError::Other(format!(
                    "account journal {} line {}: {why}; no transaction is made on a journal that cannot be read",
                    path.display(),
                    n + 1
                ))
            };
            let entry: Entry = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
            match entry {
                Entry::Pending {
                    v,
                    seq,
                    transaction,
                    ..
                } => {
                    if v != VERSION || records.iter().any(|r| r.seq == seq) {
                        return Err(bad(format!("entry {seq}: version {v} or number repeated")));
                    }
                    records.push(Record {
                        seq,
                        transaction,
                        outcome: None,
                    });
                }
                Entry::Done { seq, .. } | Entry::Void { seq, .. } => {
                    let record = records
                        .iter_mut()
                        .find(|r| r.seq == seq && r.outcome.is_none())
                        .ok_or_else(|| bad(format!("an outcome of no pending entry {seq}")))?;
                    record.outcome = Some(entry);
                }
            }
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            records,
        })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every transaction, oldest first.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The unresolved transactions of `card`.
    pub fn unresolved_of(&self, card: &CardIdentificationCode) -> Vec<Record> {
        self.records
            .iter()
            .filter(|r| r.outcome.is_none() && &r.transaction.card_id == card)
            .cloned()
            .collect()
    }

    /// The unresolved transactions of other cards.
    pub fn unresolved_elsewhere(&self, card: &CardIdentificationCode) -> Vec<Record> {
        self.records
            .iter()
            .filter(|r| r.outcome.is_none() && &r.transaction.card_id != card)
            .cloned()
            .collect()
    }

    /// The next transaction serial of a terminal without PSAM numbered `terminal`: one past
    /// the highest it used in this journal.
    pub fn next_terminal_serial(&self, terminal: TerminalNumber) -> u32 {
        self.records
            .iter()
            .filter(|r| {
                r.transaction.terminal == terminal
                    && r.transaction.kind == sscard_core::account::TransactionKind::Purchase
            })
            .map(|r| r.transaction.terminal_serial.saturating_add(1))
            .max()
            .unwrap_or(0)
    }

    fn append(&mut self, entry: &Entry) -> CliResult<()> {
        let mut line = serde_json::to_string(entry)
            .map_err(|e| CliError::Other(format!("account journal: {e}")))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_all())
            .map_err(|e| io_err("account journal", &self.path, e))
    }

    /// Writes a pending transaction (synced); its number.
    pub fn pending(&mut self, transaction: &PendingTransaction, at: String) -> CliResult<u64> {
        let seq = self.records.iter().map(|r| r.seq).max().unwrap_or(0) + 1;
        self.append(&Entry::Pending {
            v: VERSION,
            seq,
            at,
            transaction: transaction.clone(),
        })?;
        self.records.push(Record {
            seq,
            transaction: transaction.clone(),
            outcome: None,
        });
        Ok(seq)
    }

    /// Writes that transaction `seq` was applied.
    pub fn done(
        &mut self,
        seq: u64,
        tac: [u8; 4],
        mac: [u8; 4],
        balance_after: Fen,
        source: Source,
        mac2_check: Mac2Check,
    ) -> CliResult<()> {
        let entry = Entry::Done {
            v: VERSION,
            seq,
            tac: hex::encode_upper(tac),
            mac: hex::encode_upper(mac),
            balance_after: balance_after.yuan(),
            source,
            mac2_check,
        };
        self.append(&entry)?;
        if let Some(r) = self.records.iter_mut().find(|r| r.seq == seq) {
            r.outcome = Some(entry);
        }
        Ok(())
    }

    /// Writes that transaction `seq` was not applied.
    pub fn void(&mut self, seq: u64, reason: &str) -> CliResult<()> {
        let entry = Entry::Void {
            v: VERSION,
            seq,
            reason: reason.to_owned(),
        };
        self.append(&entry)?;
        if let Some(r) = self.records.iter_mut().find(|r| r.seq == seq) {
            r.outcome = Some(entry);
        }
        Ok(())
    }
}
