//! libsscard's log: one line per call (function and result code; the message of a failure),
//! and with `log = debug` every APDU to the card and the PSAM as the library's channel formats
//! it (PINs, keys and cryptograms redacted). Output strings are never logged: they carry the
//! holder's data, and a PIN reload's step 2 output carries the new PIN for the HSM.

use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use sscard_core::channel::{TraceEvent, Tracer};

use crate::config::{Config, LogLevel};

fn write_line(file: Option<&PathBuf>, line: &str) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    let text = format!("[libsscard {} {secs:.3}] {line}\n", std::process::id());
    match file {
        Some(path) => {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = f.write_all(text.as_bytes());
            }
        }
        None => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}

/// Logs `line` when the configuration's level is at least `level`.
pub fn log(config: &Config, level: LogLevel, line: &str) {
    if config.log_level >= level && level > LogLevel::Off {
        write_line(config.log_file.as_ref(), line);
    }
}

/// A tracer writing every APDU of `who` (card, PSAM) to the log, with `log = debug`.
pub fn tracer(config: &Config, who: &'static str) -> Option<Tracer> {
    if config.log_level < LogLevel::Debug {
        return None;
    }
    let file = config.log_file.clone();
    Some(Box::new(move |event: &TraceEvent| {
        write_line(file.as_ref(), &format!("[{who}] {event}"));
    }))
}
