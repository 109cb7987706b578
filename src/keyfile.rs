//! Loading a development key file from disk, refusing files that others can read.
//!
//! Key files hold root keys in the clear and are for development and tests only (the test
//! keys under `fixtures/keys/` say so). In the field a PSAM or an HSM holds the keys.
//!
//! Errors are [`KeyFileError`]s, which convert into [`crate::Error`].

use std::path::Path;

use sscard_core::keyholder::KeyFile;
use sscard_core::keys::KeyFileError;
use sscard_files::PrivateFileError;

/// Reads and parses a key file, refusing it when group or others have any access to it.
pub fn load_key_file(path: &Path) -> Result<KeyFile, KeyFileError> {
    let text = sscard_files::read_secret(path).map_err(|e| refused(path, e))?;
    KeyFile::from_json(&text).map_err(|e| e.in_file(path))
}

/// Refuses a file holding secrets (a key file, a PSAM image) when group or others have any
/// access to it ([`sscard_files::check_private`]; no check off Unix).
pub fn check_private_file(path: &Path) -> Result<(), KeyFileError> {
    sscard_files::check_private(path).map_err(|e| refused(path, e))
}

fn refused(path: &Path, e: PrivateFileError) -> KeyFileError {
    match e.shared_mode() {
        Some(mode) => KeyFileError::NotPrivate {
            path: path.to_path_buf(),
            mode,
        },
        None => {
            let e = std::io::Error::from(e);
            KeyFileError::Unreadable {
                path: path.to_path_buf(),
                kind: e.kind(),
                reason: e.to_string(),
            }
        }
    }
}
