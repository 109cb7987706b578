//! Loading a development key file from disk, refusing files that others can read.
//!
//! Key files hold root keys in the clear and are for development and tests only (the test
//! keys under `fixtures/keys/` say so). In the field a PSAM or an HSM holds the keys.

use std::path::{Path, PathBuf};

use sscard_core::keyholder::KeyFile;
use thiserror::Error;

/// Why a key file was not loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Group or others may access the file.
    #[error(
        "{path} holds secrets and is accessible by other users (mode {mode:04o}): run `chmod 600 {path}`"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file's content is not a valid key file.
    #[error("key file {path}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: sscard_core::keys::KeyFileError,
    },
}

/// Reads and parses a key file, refusing it when group or others have any access to it.
pub fn load_key_file(path: &Path) -> Result<KeyFile, KeyFileError> {
    check_private_file(path)?;
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
        KeyFileError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?);
    KeyFile::from_json(&text).map_err(|source| KeyFileError::Invalid {
        path: path.to_path_buf(),
        source,
    })
}

/// Refuses a file holding secrets (a key file, a PSAM image) when group or others have any
/// access to it.
#[cfg(unix)]
pub fn check_private_file(path: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Refuses a file holding secrets when others may read it (no check off Unix).
#[cfg(not(unix))]
pub fn check_private_file(_path: &Path) -> Result<(), KeyFileError> {
    Ok(())
}
