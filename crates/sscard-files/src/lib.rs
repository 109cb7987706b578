//! # sscard-files
//!
//! The files sscard writes and the secret files it reads, in one place: the simulator's card
//! images, the command line's outputs, journals and keys, the blocklist's signing key and store,
//! the facade's development key files.
//!
//! - [`write_atomically`] (on [`AtomicFile`]): a temporary file with an unpredictable name
//!   created exclusively (`O_EXCL`, never following a link planted at its name) with mode `0600`
//!   in the target's own folder, written, fsynced, renamed over the target, and the folder
//!   fsynced. A target that is a symbolic link is written through: the link stays, the file it
//!   points to is replaced. A crash leaves the old file or the new one, never a mix. A quick
//!   write (no fsync, [`Durability::Quick`]) exchanges the two names instead of renaming where
//!   it can, and removes the old file. [`AtomicFile`] gives the same steps one by one, for a
//!   writer that simulates a crash between them, and files without secrets
//!   ([`Access::Shared`]).
//! - [`create_private`]: a new file (never an existing one), mode `0600`, fsynced.
//! - [`check_private`]: refuses a file holding secrets (a key file, a PSAM image, a signing
//!   key) when group or others have any access to it; each caller says it in its own words.
//!   [`read_secret`]: the check, then the text, wiped from memory when dropped: how every key
//!   file is loaded.
//! - [`FileLock`]: an exclusive `flock(2)` lock on a sidecar file (`card.json.lock`), holding
//!   the pid and the purpose of its holder, so that a process that finds it taken can say who
//!   holds it. A file replaced by renames (a card image) cannot carry the lock itself. The
//!   holder removes the lock file before it lets go, so none is left beside the file.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

/// Whether a write must reach the disk before it returns (fsync of the file and its folder),
/// or only survive a killed process (a rename of a complete file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the file and its folder: survives a power loss.
    Durable,
    /// No fsync: survives a killed process, which is what a simulated card's EEPROM must
    /// survive; for card feeders that save many cards a second.
    Quick,
}

/// Who may read a file written by an [`AtomicFile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Its owner only: mode `0600`, whatever the umask (keys, PINs' tries, card images,
    /// journals, personal data).
    Private,
    /// Mode `0666` less the umask, as a file created the ordinary way: for files without
    /// secrets that other users may have to read (a signed blocklist).
    Shared,
}

/// The file a write to `path` lands in: `path` itself, or, when `path` is a symbolic link,
/// the file it points to (resolved completely).
pub fn write_target(path: &Path) -> std::io::Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path),
        _ => Ok(path.to_path_buf()),
    }
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The suffix of every temporary file name (see [`temporary_target`]).
const TEMP_SUFFIX: &str = ".tmp";

fn temp_in(target: &Path, access: Access) -> std::io::Result<tempfile::NamedTempFile> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    if access == Access::Shared {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let file = builder.tempfile_in(folder_of(target))?;
    if access == Access::Private {
        set_private(file.as_file())?;
    }
    Ok(file)
}

/// The name of the file a temporary file named `name` was to replace, when `name` has the
/// form of the temporary names [`AtomicFile`] gives (`.<target>.<random>.tmp`); a process
/// killed while writing leaves one behind, which its owner may remove by this.
pub fn temporary_target(name: &str) -> Option<&str> {
    let inner = name.strip_prefix('.')?.strip_suffix(TEMP_SUFFIX)?;
    let (target, random) = inner.rsplit_once('.')?;
    (!target.is_empty() && !random.is_empty()).then_some(target)
}

#[cfg(unix)]
fn set_private(file: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// fsyncs a folder, so that a rename or a new file in it is on the disk.
pub fn sync_folder(folder: &Path) -> std::io::Result<()> {
    File::open(folder)?.sync_all()
}

/// Writes `bytes` to `path` atomically, readable by its owner only (see the crate
/// documentation). A symbolic link at `path` is written through.
pub fn write_atomically(path: &Path, bytes: &[u8], durability: Durability) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path, Access::Private)?;
    file.write_all(bytes)?;
    file.commit(durability)
}

/// A file being written atomically: a temporary file beside the file `path` finally names
/// (see [`write_target`]), put in its place by [`AtomicFile::commit`]. Dropped without a
/// commit, the temporary file is removed and the target is unchanged.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    synced: bool,
}

impl AtomicFile {
    /// Starts writing `path`: creates the temporary file (exclusively, with an unpredictable
    /// name, in the target's folder) with the given access.
    pub fn create(path: &Path, access: Access) -> std::io::Result<AtomicFile> {
        let target = write_target(path)?;
        let tmp = temp_in(&target, access)?;
        Ok(AtomicFile {
            tmp,
            target,
            synced: false,
        })
    }

    /// Appends `bytes` to the temporary file.
    pub fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.synced = false;
        self.tmp.write_all(bytes)
    }

    /// fsyncs the temporary file (a [`Durability::Durable`] commit does it when not done).
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.tmp.as_file().sync_all()?;
        self.synced = true;
        Ok(())
    }

    /// Puts the temporary file in the target's place: with [`Durability::Durable`], the file
    /// fsynced, renamed over the target, the folder fsynced; with [`Durability::Quick`], no
    /// fsync, the names exchanged where the system can (the old file removed), else a rename.
    pub fn commit(mut self, durability: Durability) -> std::io::Result<()> {
        if durability == Durability::Durable && !self.synced {
            self.sync()?;
        }
        if durability == Durability::Quick && exchange(&self.tmp, &self.target) {
            // the old file now bears the temporary name: dropping `tmp` removes it
            return Ok(());
        }
        self.tmp.persist(&self.target).map_err(|e| e.error)?;
        if durability == Durability::Durable {
            sync_folder(folder_of(&self.target))?;
        }
        Ok(())
    }

    /// Stops here as a killed process would: the temporary file stays on the disk as it is,
    /// the target unchanged; returns its path (tests of crash recovery).
    pub fn abandon(self) -> std::io::Result<PathBuf> {
        let (_, path) = self.tmp.keep().map_err(|e| e.error)?;
        Ok(path)
    }
}

/// Puts the complete file `tmp` in the place of the regular file `target` by an atomic
/// exchange of the two names (Linux `renameat2(RENAME_EXCHANGE)`); false when there is no
/// such file or the file system cannot exchange (then a rename does it).
///
/// Why not a rename over `target`: ext4 (its default `auto_da_alloc`) writes the data of a
/// file renamed over another out to the disk at once, in the renaming thread. A
/// [`Durability::Quick`] writer does not ask for that: the exchange leaves the new data to
/// the kernel's background writeback, and the old file, removed right after, often never
/// reaches the disk at all (a card image saved twice within a second). A killed process
/// still leaves the old file or the new one at `target`, as with the rename.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(tmp: &tempfile::NamedTempFile, target: &Path) -> bool {
    use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
    let regular = std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_file());
    regular
        && renameat2(
            AT_FDCWD,
            tmp.path(),
            AT_FDCWD,
            target,
            RenameFlags::RENAME_EXCHANGE,
        )
        .is_ok()
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exchange(_tmp: &tempfile::NamedTempFile, _target: &Path) -> bool {
    false
}

/// Checks that a file can be written atomically at `path` later: its folder exists and takes a
/// temporary file (created and removed again), and `path` is not a folder.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    let target = write_target(path)?;
    if target.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a folder",
        ));
    }
    let tmp = temp_in(&target, Access::Private)?;
    tmp.close()
}

/// Creates a new file at `path` (failing when anything exists there, a link included), mode
/// `0600`, with `bytes`, fsynced with its folder.
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    set_private(&file)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    sync_folder(folder_of(path))
}

/// Why [`check_private`] refuses a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrivateFileError {
    /// The file's metadata cannot be read (no such file, no permission …).
    #[error("{0}")]
    Unreadable(#[from] std::io::Error),
    /// Group or others have some access to the file.
    #[error("accessible by other users (mode {mode:04o})")]
    Shared {
        /// Its permission bits (`mode & 0o7777`).
        mode: u32,
    },
}

impl PrivateFileError {
    /// The permission bits of a file refused because group or others have access to it;
    /// `None` when the refusal is of another kind (then the error converts into the
    /// [`std::io::Error`] it carries).
    pub fn shared_mode(&self) -> Option<u32> {
        match self {
            PrivateFileError::Shared { mode } => Some(*mode),
            PrivateFileError::Unreadable(_) => None,
        }
    }
}

impl From<PrivateFileError> for std::io::Error {
    fn from(e: PrivateFileError) -> std::io::Error {
        match e {
            PrivateFileError::Unreadable(e) => e,
            shared @ PrivateFileError::Shared { .. } => {
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, shared.to_string())
            }
        }
    }
}

/// Refuses a file holding secrets (a key file, a PSAM image, a signing key) when group or
/// others have any access to it (any of the bits `0o077`); links are followed. Off Unix, where
/// there are no such modes, every file passes.
#[cfg(unix)]
pub fn check_private(path: &Path) -> Result<(), PrivateFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(PrivateFileError::Shared { mode });
    }
    Ok(())
}

/// Refuses a file holding secrets when group or others have any access to it: off Unix, every
/// file passes.
#[cfg(not(unix))]
pub fn check_private(_path: &Path) -> Result<(), PrivateFileError> {
    Ok(())
}

/// The text of a file holding secrets (a key file), refused by [`check_private`] first; the
/// text is wiped from memory when dropped. A file that cannot be read, or is not UTF-8, is
/// [`PrivateFileError::Unreadable`].
pub fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<String>, PrivateFileError> {
    check_private(path)?;
    Ok(zeroize::Zeroizing::new(std::fs::read_to_string(path)?))
}

/// Who holds a [`FileLock`], as its holder wrote it into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockHolder {
    /// The holder's process id, when it had written it yet.
    pub pid: Option<u32>,
    /// What the holder is doing (`sim serve`, `batch`, `pin verify` …).
    pub purpose: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.pid, self.purpose.is_empty()) {
            (Some(pid), false) => write!(f, "{} (pid {pid})", self.purpose),
            (Some(pid), true) => write!(f, "pid {pid}"),
            (None, _) => f.write_str("another process"),
        }
    }
}

/// An exclusive advisory lock, held until dropped (or the process ends, whatever way).
#[derive(Debug)]
pub struct FileLock {
    _lock: Flock<File>,
    path: PathBuf,
}

/// The lock file that guards `path`: `<path>.lock` beside the file `path` finally names
/// (symbolic links followed), so that every name of one file shares one lock.
pub fn lock_file_for(path: &Path) -> std::io::Result<PathBuf> {
    let target = write_target(path)?;
    let folder = std::fs::canonicalize(folder_of(&target))?;
    let mut name = target
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?
        .to_os_string();
    name.push(".lock");
    Ok(folder.join(name))
}

impl FileLock {
    /// Takes the lock of `lock_path` at once, or says who holds it.
    pub fn try_lock(
        lock_path: &Path,
        purpose: &str,
    ) -> std::io::Result<Result<FileLock, LockHolder>> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        loop {
            if let Some(taken) = FileLock::take(options.open(lock_path)?, lock_path, purpose)? {
                return Ok(taken);
            }
        }
    }

    /// Locks `file`, opened on `lock_path`. A holder removes the lock file before it lets go
    /// (see `Drop`), so a lock got on a file that no longer has this name guards nothing:
    /// `None`, open the name again.
    fn take(
        file: File,
        lock_path: &Path,
        purpose: &str,
    ) -> std::io::Result<Option<Result<FileLock, LockHolder>>> {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut lock) => {
                if !names_same_file(lock_path, &lock)? {
                    return Ok(None);
                }
                lock.set_len(0)?;
                lock.rewind()?;
                writeln!(lock, "{} {purpose}", std::process::id())?;
                lock.flush()?;
                Ok(Some(Ok(FileLock {
                    _lock: lock,
                    path: lock_path.to_path_buf(),
                })))
            }
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(Some(Err(holder(lock_path)))),
            Err((_, e)) => Err(std::io::Error::from(e)),
        }
    }

    /// Takes the lock of `lock_path`, waiting while `wait_for(holder)` says to wait and at most
    /// `timeout`; `Err(holder)` when it stays taken.
    pub fn lock(
        lock_path: &Path,
        purpose: &str,
        timeout: Duration,
        mut wait_for: impl FnMut(&LockHolder) -> bool,
    ) -> std::io::Result<Result<FileLock, LockHolder>> {
        let deadline = Instant::now() + timeout;
        loop {
            match FileLock::try_lock(lock_path, purpose)? {
                Ok(lock) => return Ok(Ok(lock)),
                Err(h) if !wait_for(&h) || Instant::now() >= deadline => return Ok(Err(h)),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    /// Removes the lock file while the lock is still held (the lock goes with the file
    /// descriptor right after), so that no lock file is left beside the file it guarded. A
    /// process that opened the old file meanwhile finds, once it gets the lock, that the name
    /// no longer leads to it, and opens the name again ([`FileLock::try_lock`]).
    fn drop(&mut self) {
        // Best effort: a lock file left behind (a folder made read-only meanwhile) only stays
        // as clutter; the next holder takes and removes it.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether `path` still names the file `file` is open on.
fn names_same_file(path: &Path, file: &File) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(named) => Ok(named.dev() == open.dev() && named.ino() == open.ino()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn holder(lock_path: &Path) -> LockHolder {
    let mut text = String::new();
    let read = File::open(lock_path).and_then(|f| f.take(256).read_to_string(&mut text));
    if read.is_err() {
        return LockHolder::default();
    }
    let line = text.lines().next().unwrap_or("");
    let (pid, purpose) = line.split_once(' ').unwrap_or((line, ""));
    LockHolder {
        pid: pid.parse().ok(),
        purpose: purpose.trim().to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn is_link(path: &Path) -> bool {
        std::fs::symlink_metadata(path)
            .unwrap()
            .file_type()
            .is_symlink()
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn atomic_writes_are_private_and_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomically(&link, b"new", Durability::Durable).unwrap();
        assert!(is_link(&link));
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(mode_of(&real), 0o600);
        // nothing else is left in the folder
        assert_eq!(entries(dir.path()), 2);
        assert!(check_writable(&dir.path().join("missing/x")).is_err());
        assert!(check_writable(dir.path()).is_err());
        check_writable(&real).unwrap();
        create_private(&dir.path().join("new"), b"x").unwrap();
        assert!(create_private(&link, b"x").is_err());
    }

    #[test]
    fn quick_writes_replace_whole_files_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        // a new file, then a file replaced (by the exchange where the system has it)
        write_atomically(&real, b"first", Durability::Quick).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomically(&real, b"second, longer", Durability::Quick).unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "second, longer");
        assert_eq!(mode_of(&real), 0o600, "the new file is private");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomically(&link, b"third", Durability::Quick).unwrap();
        assert!(is_link(&link));
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "third");
        // the old files (under the temporary names after an exchange) are gone
        assert_eq!(entries(dir.path()), 2);
        // a folder in the target's place is never swapped away
        let folder = dir.path().join("folder");
        std::fs::create_dir(&folder).unwrap();
        assert!(write_atomically(&folder, b"x", Durability::Quick).is_err());
        assert!(folder.is_dir());
        assert_eq!(entries(dir.path()), 3);
    }

    #[test]
    fn an_abandoned_write_leaves_the_target_and_a_temporary_file_named_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("CURRENT");
        std::fs::write(&target, "old").unwrap();
        let mut file = AtomicFile::create(&target, Access::Private).unwrap();
        file.write_all(b"ne").unwrap();
        let left = file.abandon().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(std::fs::read_to_string(&left).unwrap(), "ne");
        let name = left.file_name().unwrap().to_str().unwrap();
        assert_eq!(temporary_target(name), Some("CURRENT"));
        for other in ["CURRENT", "CURRENT.tmp", ".CURRENT.tmp", "..x.tmp", ".x.y"] {
            assert_eq!(temporary_target(other), None, "{other}");
        }
        // a write dropped without a commit leaves nothing
        let mut dropped = AtomicFile::create(&target, Access::Private).unwrap();
        dropped.write_all(b"x").unwrap();
        drop(dropped);
        assert_eq!(entries(dir.path()), 2);
    }

    #[test]
    fn shared_files_take_the_umask_and_private_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("list.ssbl");
        let mut file = AtomicFile::create(&shared, Access::Shared).unwrap();
        file.write_all(b"signed").unwrap();
        file.sync().unwrap();
        file.commit(Durability::Durable).unwrap();
        // what File::create gives under the same umask
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        assert_eq!(mode_of(&shared), mode_of(&plain));
        assert_eq!(std::fs::read_to_string(&shared).unwrap(), "signed");
        write_atomically(&shared, b"again", Durability::Durable).unwrap();
        assert_eq!(mode_of(&shared), 0o600);
    }

    #[test]
    fn secret_files_that_others_may_access_are_refused_with_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        create_private(&key, b"secret").unwrap();
        check_private(&key).unwrap();
        for mode in [0o640, 0o604, 0o610, 0o601, 0o660] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            match check_private(&key) {
                Err(PrivateFileError::Shared { mode: m }) => assert_eq!(m, mode),
                other => panic!("mode {mode:o}: {other:?}"),
            }
        }
        // the owner's own bits are nobody else's business
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
        check_private(&key).unwrap();
        let missing = check_private(&dir.path().join("missing")).unwrap_err();
        assert!(
            matches!(&missing, PrivateFileError::Unreadable(e) if e.kind() == std::io::ErrorKind::NotFound),
            "{missing:?}"
        );
        assert_eq!(missing.shared_mode(), None);
        assert_eq!(
            std::io::Error::from(missing).kind(),
            std::io::ErrorKind::NotFound
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let shared = check_private(&key).unwrap_err();
        assert_eq!(shared.shared_mode(), Some(0o644));
        let io = std::io::Error::from(shared);
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(io.to_string(), "accessible by other users (mode 0644)");
    }

    #[test]
    fn secrets_are_read_only_from_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.json");
        create_private(&key, b"{\"secret\": 1}").unwrap();
        assert_eq!(read_secret(&key).unwrap().as_str(), "{\"secret\": 1}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(read_secret(&key).unwrap_err().shared_mode(), Some(0o640));
        // private but not text
        let binary = dir.path().join("binary");
        create_private(&binary, &[0xFF, 0xFE, 0x00]).unwrap();
        assert!(matches!(
            read_secret(&binary),
            Err(PrivateFileError::Unreadable(e)) if e.kind() == std::io::ErrorKind::InvalidData
        ));
        // a private folder is no key file
        let folder = dir.path().join("folder");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(matches!(
            read_secret(&folder),
            Err(PrivateFileError::Unreadable(_))
        ));
    }

    #[test]
    fn a_lock_is_held_once_and_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("card.json");
        let lock_path = lock_file_for(&image).unwrap();
        assert_eq!(lock_path.file_name().unwrap(), "card.json.lock");
        let held = FileLock::try_lock(&lock_path, "sim serve")
            .unwrap()
            .unwrap();
        assert_eq!(held.path(), lock_path);
        let other = FileLock::try_lock(&lock_path, "pin verify")
            .unwrap()
            .unwrap_err();
        assert_eq!(other.pid, Some(std::process::id()));
        assert_eq!(
            other.to_string(),
            format!("sim serve (pid {})", std::process::id())
        );
        let waited = FileLock::lock(&lock_path, "x", Duration::from_millis(50), |_| true).unwrap();
        assert!(waited.is_err());
        drop(held);
        assert!(FileLock::try_lock(&lock_path, "pin verify")
            .unwrap()
            .is_ok());
    }

    #[test]
    fn no_lock_file_is_left_and_a_stale_one_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let lock_path = dir.path().join("journal.db.lock");
        drop(FileLock::try_lock(&lock_path, "batch").unwrap().unwrap());
        assert!(!lock_path.exists(), "the lock file goes with the lock");
        // a process killed while it held the lock left its file: the next one takes it
        std::fs::write(&lock_path, "4242 sscard batch\n").unwrap();
        let held = FileLock::try_lock(&lock_path, "sscard batch")
            .unwrap()
            .unwrap();
        let text = std::fs::read_to_string(&lock_path).unwrap();
        assert_eq!(text, format!("{} sscard batch\n", std::process::id()));
        drop(held);
        assert_eq!(entries(dir.path()), 0);
    }

    #[test]
    fn a_lock_got_on_a_removed_lock_file_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let lock_path = dir.path().join("card.json.lock");
        let first = FileLock::try_lock(&lock_path, "a").unwrap().unwrap();
        // a second process opens the lock file just before the first lets go of it ...
        let opened_late = File::options()
            .read(true)
            .write(true)
            .open(&lock_path)
            .unwrap();
        drop(first);
        // ... and a third takes the lock on a new lock file
        let third = FileLock::try_lock(&lock_path, "c").unwrap().unwrap();
        // the second's lock on the old, removed file would guard nothing: it opens again
        assert!(FileLock::take(opened_late, &lock_path, "b")
            .unwrap()
            .is_none());
        let again = FileLock::try_lock(&lock_path, "b").unwrap().unwrap_err();
        assert_eq!(again.purpose, "c");
        drop(third);
    }

    #[test]
    fn a_lock_file_removed_by_its_holder_still_excludes() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let lock_path = Arc::new(dir.path().join("card.json.lock"));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (lock_path, inside) = (Arc::clone(&lock_path), Arc::clone(&inside));
                std::thread::spawn(move || {
                    for _ in 0..150 {
                        let held =
                            FileLock::lock(&lock_path, "t", Duration::from_secs(30), |_| true)
                                .unwrap()
                                .unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                        drop(held);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(entries(dir.path()), 0);
    }
}
