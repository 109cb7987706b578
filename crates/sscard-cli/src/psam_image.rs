//! Simulated PSAM image files (`sscard sim new-psam`, `--psam sim:FILE`): master keys of one
//! algorithm and a terminal number. They hold master keys in the clear, so like key files they
//! are written with mode 0600 and refused when others can read them.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sscard_core::keyholder::KeyFile;
use sscard_core::Algorithm;
use sscard_sim::SimPsam;
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};

/// Schema name of a PSAM image.
pub const PSAM_IMAGE_FORMAT: &str = "sscard.psam-image/1";

#[derive(Serialize, Deserialize)]
struct PsamImage {
    format: String,
    warning: String,
    algorithm: Algorithm,
    terminal_number: String,
    keys: serde_json::Value,
}

/// Writes a PSAM image holding `keys`' master keys for `algorithm`.
pub fn save(
    path: &Path,
    keys: &KeyFile,
    algorithm: Algorithm,
    terminal_number: &str,
) -> CliResult<()> {
    // validates the terminal number and that the keys exist
    SimPsam::from_key_file(keys, algorithm, terminal_number)
        .map_err(|e| CliError::BadInput(format!("PSAM: {e}")))?;
    let keys_json = keys.to_json();
    let keys_value: serde_json::Value = serde_json::from_str(&keys_json)
        .map_err(|e| CliError::Other(format!("PSAM image: {e}")))?;
    let image = PsamImage {
        format: PSAM_IMAGE_FORMAT.into(),
        warning: "simulated PSAM: the master keys below are in the clear; development only".into(),
        algorithm,
        terminal_number: terminal_number.into(),
        keys: keys_value,
    };
    let text = Zeroizing::new(
        serde_json::to_string_pretty(&image)
            .map_err(|e| CliError::Other(format!("PSAM image: {e}")))?,
    );
    crate::context::write_private(path, text.as_bytes())
        .map_err(|e| crate::error::io_err("cannot write", path, e))
}

/// Loads a PSAM image, refusing files others can read.
pub fn load(path: &Path) -> CliResult<SimPsam> {
    check_private(path)?;
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| CliError::NoCard(format!("PSAM image {}: {e}", path.display())))?,
    );
    let image: PsamImage = serde_json::from_str(&text)
        .map_err(|e| CliError::KeyHolder(format!("PSAM image {}: {e}", path.display())))?;
    if image.format != PSAM_IMAGE_FORMAT {
        return Err(CliError::KeyHolder(format!(
            "PSAM image {}: format {:?}, expected {PSAM_IMAGE_FORMAT:?}",
            path.display(),
            image.format
        )));
    }
    let keys_text = Zeroizing::new(image.keys.to_string());
    let keys = KeyFile::from_json(&keys_text)
        .map_err(|e| CliError::KeyHolder(format!("PSAM image {}: {e}", path.display())))?;
    SimPsam::from_key_file(&keys, image.algorithm, &image.terminal_number)
        .map_err(|e| CliError::KeyHolder(format!("PSAM image {}: {e}", path.display())))
}

/// Refuses a secret file that group or others may access.
pub fn check_private(path: &Path) -> CliResult<()> {
    sscard::keyfile::check_private_file(path).map_err(|e| CliError::KeyHolder(e.to_string()))
}
