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

/// The most a PIN file is read: a PIN line has at most 16 digits and a line end; a file
/// longer than this is not a PIN file (`/dev/zero`, a device, a wrong file).
pub const MAX_PIN_FILE_BYTES: u64 = 64;

/// The environment variable that accepts PIN files others can read (file systems that keep no
/// modes); documented in docs/cli.md and docs/security.md.
pub const ANY_MODE_ENV: &str = "SSCARD_PIN_FILE_ANY_MODE";

/// Refuses a regular PIN file that the group or others can read (unless [`ANY_MODE_ENV`] is
/// `1`): a PIN is as secret as a key.
fn check_private(path: &Path, what: &str) -> CliResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| CliError::BadInput(format!("{what} file {}: {e}", path.display())))?;
        let mode = meta.permissions().mode() & 0o777;
        let allowed = std::env::var(ANY_MODE_ENV).is_ok_and(|v| v == "1");
        if meta.is_file() && mode & 0o044 != 0 && !allowed {
            return Err(CliError::BadInput(format!(
                "{what} file {} can be read by others (mode {mode:04o}): chmod 600 {} (or set {ANY_MODE_ENV}=1 where the file system keeps no modes)",
                path.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

/// The first line of a file, read up to [`MAX_PIN_FILE_BYTES`].
fn from_file(path: &Path, what: &str) -> CliResult<Pin> {
    check_private(path, what)?;
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::BadInput(format!("{what} file {}: {e}", path.display())))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_PIN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::BadInput(format!("{what} file {}: {e}", path.display())))?;
    let first_line_ends = bytes.iter().position(|&b| b == b'\n');
    if first_line_ends.is_none() && bytes.len() as u64 > MAX_PIN_FILE_BYTES {
        return Err(CliError::BadInput(format!(
            "{what} file {}: longer than a PIN line ({MAX_PIN_FILE_BYTES} bytes read, no line end): not a PIN file",
            path.display()
        )));
    }
    let line = bytes
        .get(..first_line_ends.unwrap_or(bytes.len()))
        .unwrap_or_default();
    let text = Zeroizing::new(String::from_utf8_lossy(line).into_owned());
    parse(&text, &format!("{what} file {}", path.display()))
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
