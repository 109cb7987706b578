//! Where PINs come from: a file, a file descriptor, or a prompt without echo on the terminal.
//! Never the command line or the environment. PINs stay in [`Pin`] (wiped on drop) and no
//! message ever repeats one.

use std::io::Read;
use std::path::{Path, PathBuf};

use sscard_core::crypto::Pin;
use zeroize::Zeroizing;

use crate::cli::{NewPinSource, PinSource};
use crate::error::{CliError, CliResult};

fn parse(text: &str, origin: &str) -> CliResult<Pin> {
    Pin::new(text.trim_end_matches(['\r', '\n']))
        .map_err(|e| CliError::BadInput(format!("{origin}: {e}")))
}

/// The first line of a file.
fn from_file(path: &Path, what: &str) -> CliResult<Pin> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| CliError::BadInput(format!("{what} file {}: {e}", path.display())))?,
    );
    let line = text.lines().next().unwrap_or("");
    parse(line, &format!("{what} file {}", path.display()))
}

/// One line from a file descriptor, read byte by byte so that a second PIN on the same
/// descriptor stays for the next read.
fn from_fd(fd: i32, what: &str) -> CliResult<Pin> {
    let path = PathBuf::from(format!("/dev/fd/{fd}"));
    let mut file = std::fs::File::open(&path)
        .map_err(|e| CliError::BadInput(format!("{what} file descriptor {fd}: {e}")))?;
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    loop {
        match file.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => {
                if line.len() > 64 {
                    return Err(CliError::BadInput(format!(
                        "{what} file descriptor {fd}: line too long"
                    )));
                }
                line.push(byte[0]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(CliError::BadInput(format!(
                    "{what} file descriptor {fd}: {e}"
                )))
            }
        }
    }
    let text = Zeroizing::new(String::from_utf8_lossy(&line).into_owned());
    parse(&text, &format!("{what} file descriptor {fd}"))
}

fn prompt(label: &str) -> CliResult<Pin> {
    let text = Zeroizing::new(rpassword::prompt_password(label).map_err(|e| {
        CliError::BadInput(format!(
            "cannot prompt for the PIN ({e}): give --pin-file/--pin-fd (--new-pin-file/--new-pin-fd)"
        ))
    })?);
    parse(&text, "PIN")
}

/// The current PIN: `--pin-file`, `--pin-fd`, else `default`, else a prompt.
pub fn current_pin(source: &PinSource, default: Option<Pin>, label: &str) -> CliResult<Pin> {
    if let Some(path) = &source.pin_file {
        return from_file(path, "PIN");
    }
    if let Some(fd) = source.pin_fd {
        return from_fd(fd, "PIN");
    }
    if let Some(pin) = default {
        return Ok(pin);
    }
    prompt(label)
}

/// A new PIN: `--new-pin-file`, `--new-pin-fd`, else typed twice without echo.
pub fn new_pin(source: &NewPinSource) -> CliResult<Pin> {
    if let Some(path) = &source.new_pin_file {
        return from_file(path, "new PIN");
    }
    if let Some(fd) = source.new_pin_fd {
        return from_fd(fd, "new PIN");
    }
    let first = prompt("New PIN: ")?;
    let second = prompt("New PIN again: ")?;
    if !first.ct_eq(&second) {
        return Err(CliError::BadInput("the two new PINs differ".into()));
    }
    Ok(first)
}
