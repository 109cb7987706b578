//! The terminal's store on disk: a directory holding the signed full list, the signed deltas
//! applied since, and `CURRENT`, the file naming them in order. An update is verified
//! completely before anything is written; it is then written to a temporary file, flushed to
//! disk (fsync), renamed into place, and only then does a new `CURRENT` (written the same way)
//! point to it. A crash at any moment leaves `CURRENT` naming either the old chain or the new
//! one, each file of which is complete and signed. The files are written by
//! [`sscard_files::AtomicFile`] (unpredictable temporary names, created exclusively); they hold
//! no secret and keep the ordinary mode (`0666` less the umask), for terminals reading a store
//! another user updates.

use std::fs;
use std::path::{Path, PathBuf};

use sscard_files::{Access, AtomicFile, Durability};

use sscard_core::data::BcdDate;

use crate::crash::CrashPoint;
use crate::error::{Error, Result};
use crate::format::{self, Kind, Trust};
use crate::keys::TrustedKey;
use crate::terminal::{Applied, TerminalList};

/// The file naming the chain.
pub const POINTER: &str = "CURRENT";
const POINTER_HEADER: &str = "sscard-blocklist-store 1";

fn crash(at: Option<CrashPoint>, here: CrashPoint) -> Result<()> {
    if at == Some(here) {
        return Err(Error::Crash(here));
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
/// directory ([`sscard_files::AtomicFile`], [`Access::Shared`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_crashing(
        path,
        bytes,
        None,
        (CrashPoint::UpdateTorn, CrashPoint::UpdateWritten),
    )
}

fn write_atomic_crashing(
    path: &Path,
    bytes: &[u8],
    at: Option<CrashPoint>,
    (torn, written): (CrashPoint, CrashPoint),
) -> Result<()> {
    let io = |e| Error::io(path, e);
    let mut file = AtomicFile::create(path, Access::Shared).map_err(io)?;
    if at == Some(torn) {
        let half = bytes.get(..bytes.len() / 2).unwrap_or_default();
        file.write_all(half).map_err(io)?;
        file.abandon().map_err(io)?;
        return Err(Error::Crash(torn));
    }
    file.write_all(bytes)
        .and_then(|()| file.sync())
        .map_err(io)?;
    if at == Some(written) {
        file.abandon().map_err(io)?;
        return Err(Error::Crash(written));
    }
    file.commit(Durability::Durable).map_err(io)
}

/// A terminal's blocklist store.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    key: TrustedKey,
    list: TerminalList,
    chain: Vec<String>,
}

fn file_name(kind: Kind, version: u64) -> String {
    format!("{}-{version:010}.ssbl", kind.name())
}

impl Store {
    /// Starts a store in `dir` (created if missing) from a signed full list. Refuses a
    /// directory that holds a store already.
    pub fn create(
        dir: &Path,
        full: Vec<u8>,
        key: &TrustedKey,
        today: Option<BcdDate>,
    ) -> Result<Store> {
        if dir.join(POINTER).exists() {
            return Err(Error::Store {
                path: dir.to_path_buf(),
                message: "a store exists here already: apply updates to it".into(),
            });
        }
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let list = TerminalList::from_full(full.clone(), key, today)?;
        let name = file_name(Kind::Full, list.version());
        write_atomic(&dir.join(&name), &full)?;
        let chain = vec![name];
        write_atomic(&dir.join(POINTER), pointer_text(&chain).as_bytes())?;
        Ok(Store {
            dir: dir.to_path_buf(),
            key: key.clone(),
            list,
            chain,
        })
    }

    /// Opens a store: the full list and every delta `CURRENT` names, each signature checked
    /// (validity periods are not: the deltas were current when applied; see
    /// [`TerminalList::check_current`]).
    pub fn open(dir: &Path, key: &TrustedKey) -> Result<Store> {
        let store_err = |message: String| Error::Store {
            path: dir.to_path_buf(),
            message,
        };
        let pointer = dir.join(POINTER);
        let text = fs::read_to_string(&pointer).map_err(|e| {
            store_err(format!(
                "cannot read {POINTER} ({e}): not a blocklist store, or not created yet"
            ))
        })?;
        let mut lines = text.lines();
        if lines.next() != Some(POINTER_HEADER) {
            return Err(store_err(format!("{POINTER} is not a store pointer")));
        }
        let chain: Vec<String> = lines.map(str::to_owned).filter(|l| !l.is_empty()).collect();
        let mut names = chain.iter();
        let first = names
            .next()
            .ok_or_else(|| store_err(format!("{POINTER} names no full list")))?;
        let read = |name: &String| -> Result<Vec<u8>> {
            if name.contains('/') || name.contains('\\') || name.starts_with('.') {
                return Err(store_err(format!("{POINTER} names {name:?}")));
            }
            fs::read(dir.join(name)).map_err(|e| store_err(format!("{name}: {e}")))
        };
        let mut list = TerminalList::from_full(read(first)?, key, None)
            .map_err(|e| store_err(format!("{first}: {e}")))?;
        for name in names {
            let file = format::parse(read(name)?, Trust::Key(key))
                .map_err(|e| store_err(format!("{name}: {e}")))?;
            if file.header.kind != Kind::Delta {
                return Err(store_err(format!("{name} is not a delta")));
            }
            list.apply_file(file, None)
                .map_err(|e| store_err(format!("{name}: {e}")))?;
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            key: key.clone(),
            list,
            chain,
        })
    }

    /// The list held.
    pub fn list(&self) -> &TerminalList {
        &self.list
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files of the chain, full list first.
    pub fn chain(&self) -> &[String] {
        &self.chain
    }

    /// Applies a signed update (see [`TerminalList::apply`]) and records it on disk
    /// atomically. On any refusal or I/O error the store, on disk and in memory, is unchanged.
    pub fn apply(&mut self, bytes: Vec<u8>, today: Option<BcdDate>) -> Result<Applied> {
        self.apply_inner(bytes, today, None)
    }

    /// [`Store::apply`] stopped at `at` as a crash would stop it (tests).
    #[doc(hidden)]
    pub fn apply_crashing(
        &mut self,
        bytes: Vec<u8>,
        today: Option<BcdDate>,
        at: CrashPoint,
    ) -> Result<Applied> {
        self.apply_inner(bytes, today, Some(at))
    }

    fn apply_inner(
        &mut self,
        bytes: Vec<u8>,
        today: Option<BcdDate>,
        at: Option<CrashPoint>,
    ) -> Result<Applied> {
        let file = format::parse(bytes.clone(), Trust::Key(&self.key))?;
        let kind = file.header.kind;
        let version = file.header.version;
        let mut next = self.list.clone();
        let applied = next.apply_file(file, today)?;
        let name = file_name(kind, version);
        write_atomic_crashing(
            &self.dir.join(&name),
            &bytes,
            at,
            (CrashPoint::UpdateTorn, CrashPoint::UpdateWritten),
        )?;
        crash(at, CrashPoint::UpdateRenamed)?;
        let chain = if kind == Kind::Full {
            vec![name]
        } else {
            let mut c = self.chain.clone();
            c.push(name);
            c
        };
        write_atomic_crashing(
            &self.dir.join(POINTER),
            pointer_text(&chain).as_bytes(),
            at,
            (CrashPoint::PointerTorn, CrashPoint::PointerWritten),
        )?;
        self.list = next;
        self.chain = chain;
        crash(at, CrashPoint::PointerRenamed)?;
        self.clean();
        Ok(applied)
    }

    /// Removes files the chain no longer names (best effort).
    fn clean(&self) {
        let Ok(read) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in read.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // a temporary file a crash left (or one of the fixed names of earlier versions)
            let left = sscard_files::temporary_target(&name)
                .or_else(|| name.strip_suffix(".tmp"))
                .is_some_and(|target| target.ends_with(".ssbl") || target == POINTER);
            let ours = name.ends_with(".ssbl") || left;
            if ours && !self.chain.contains(&name) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn pointer_text(chain: &[String]) -> String {
    let mut text = String::from(POINTER_HEADER);
    text.push('\n');
    for name in chain {
        text.push_str(name);
        text.push('\n');
    }
    text
}

/// The list a terminal uses: a store directory, or a single signed full-list file. Either must
/// be current on `today`.
pub fn load(path: &Path, key: &TrustedKey, today: BcdDate) -> Result<TerminalList> {
    let list = if path.is_dir() {
        Store::open(path, key)?.list
    } else {
        let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
        TerminalList::from_full(bytes, key, None)?
    };
    list.check_current(today)?;
    Ok(list)
}
