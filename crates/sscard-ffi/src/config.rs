//! libsscard's configuration: which reader holds the contact card, the contactless card and the
//! PSAM, where PINs come from, the output encoding and logging. Read from a file and from
//! environment variables (which win), on every call, so a terminal program needs no change and
//! no restart. `crates/sscard-ffi/sscard.conf.example` documents every key.
//!
//! The file is the first of `$SSCARD_CONFIG`, `$XDG_CONFIG_HOME/sscard/sscard.conf` (or
//! `~/.config/sscard/sscard.conf`) and `/etc/sscard/sscard.conf` that exists. Lines are
//! `key = value`; `#` and `;` start comments (also after a value, following whitespace); a `[section]` line is ignored. An unknown key or
//! a bad value is an error (`-5`, naming the file and line): a typo must not silently send PINs
//! to the wrong place.

use std::path::{Path, PathBuf};

use crate::codes::Failure;
use crate::text::TextEncoding;

/// `-5` 加载动态库错: the library cannot be set up (configuration).
pub const CONFIG_ERROR: i32 = -5;

/// Where `iVerifyPIN`, `iChangePIN` and `iReloadPIN` get PINs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinSource {
    /// The reader's PIN pad when it offers secure PIN entry, else the registered callback, else
    /// a prompt on the terminal.
    Auto,
    /// The reader's PIN pad only (an error when the reader has none).
    PinPad,
    /// The callback registered with `iSetPinCallback` only.
    Callback,
    /// A prompt without echo on the controlling terminal only.
    Prompt,
}

/// How much libsscard logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Nothing (the default).
    Off,
    /// Failed calls: function, code and message.
    Error,
    /// Every call: function and result code.
    Info,
    /// Also every APDU to the card and the PSAM (PINs and keys redacted; card data in clear).
    Debug,
}

/// The configuration in force for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The contact card's reader (`iType` 1, 3, 4): an exact name, a name fragment or an index.
    /// `None`: the first reader holding a card that is not the PSAM's or the contactless one.
    pub contact_reader: Option<String>,
    /// The contactless card's reader (`iType` 2, 3, 4). `None`: there is none.
    pub contactless_reader: Option<String>,
    /// The PSAM's reader. `None`: no PSAM (the plain functions answer `-2201`).
    pub psam_reader: Option<String>,
    /// Where PINs come from.
    pub pin_source: PinSource,
    /// Seconds the PIN pad waits for the holder.
    pub pin_timeout: u8,
    /// How many digits the holder types on a PIN pad (\[design\] D25).
    pub pinpad_pin_length: u8,
    /// The encoding of every string libsscard writes (and of `pWriteData`).
    pub encoding: TextEncoding,
    /// How much to log.
    pub log_level: LogLevel,
    /// Where to log (appended). `None`: standard error.
    pub log_file: Option<PathBuf>,
    /// The terminal device number (终端设备号) of `iReadCardBas`; empty by default.
    pub device_number: String,
    /// The file the configuration came from, if any.
    pub file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            contact_reader: None,
            contactless_reader: None,
            psam_reader: None,
            pin_source: PinSource::Auto,
            pin_timeout: 30,
            pinpad_pin_length: 6,
            encoding: if cfg!(windows) {
                TextEncoding::Gbk
            } else {
                TextEncoding::Utf8
            },
            log_level: LogLevel::Off,
            log_file: None,
            device_number: String::new(),
            file: None,
        }
    }
}

/// Every key: (file key, environment variable).
pub const KEYS: &[(&str, &str)] = &[
    ("contact_reader", "SSCARD_CONTACT_READER"),
    ("contactless_reader", "SSCARD_CONTACTLESS_READER"),
    ("psam_reader", "SSCARD_PSAM_READER"),
    ("pin_source", "SSCARD_PIN_SOURCE"),
    ("pin_timeout", "SSCARD_PIN_TIMEOUT"),
    ("pinpad_pin_length", "SSCARD_PINPAD_PIN_LENGTH"),
    ("encoding", "SSCARD_ENCODING"),
    ("log", "SSCARD_LOG"),
    ("log_file", "SSCARD_LOG_FILE"),
    ("device_number", "SSCARD_DEVICE_NUMBER"),
];

fn optional(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty() && !v.eq_ignore_ascii_case("none")).then(|| v.to_owned())
}

impl Config {
    /// Sets `key` to `value`; the error says what is accepted.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let v = value.trim();
        match key {
            "contact_reader" => self.contact_reader = optional(v),
            "contactless_reader" => self.contactless_reader = optional(v),
            "psam_reader" => self.psam_reader = optional(v),
            "pin_source" => {
                self.pin_source = match v.to_ascii_lowercase().as_str() {
                    "auto" => PinSource::Auto,
                    "pinpad" => PinSource::PinPad,
                    "callback" => PinSource::Callback,
                    "prompt" => PinSource::Prompt,
                    _ => {
                        return Err(format!(
                            "pin_source {v:?}: auto, pinpad, callback or prompt"
                        ))
                    }
                }
            }
            "pin_timeout" => {
                self.pin_timeout = v
                    .parse::<u8>()
                    .ok()
                    .filter(|s| *s >= 1)
                    .ok_or_else(|| format!("pin_timeout {v:?}: seconds, 1-255"))?
            }
            "pinpad_pin_length" => {
                self.pinpad_pin_length = v
                    .parse::<u8>()
                    .ok()
                    .filter(|n| (4..=16).contains(n))
                    .ok_or_else(|| format!("pinpad_pin_length {v:?}: 4-16 digits"))?
            }
            "encoding" => {
                self.encoding =
                    TextEncoding::parse(v).ok_or_else(|| format!("encoding {v:?}: gbk or utf-8"))?
            }
            "log" => {
                self.log_level = match v.to_ascii_lowercase().as_str() {
                    "off" | "none" | "" => LogLevel::Off,
                    "error" => LogLevel::Error,
                    "info" => LogLevel::Info,
                    "debug" => LogLevel::Debug,
                    _ => return Err(format!("log {v:?}: off, error, info or debug")),
                }
            }
            "log_file" => self.log_file = optional(v).map(PathBuf::from),
            "device_number" => {
                if v.contains('|') || v.len() > 32 {
                    return Err(format!("device_number {v:?}: at most 32 characters, no |"));
                }
                self.device_number = v.to_owned()
            }
            other => {
                let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
                return Err(format!(
                    "unknown key {other:?} (known: {})",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Applies the lines of a configuration file.
    pub fn apply_file_text(&mut self, text: &str, origin: &Path) -> Result<(), Failure> {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') {
                continue;
            }
            let at = |why: String| {
                Failure::new(
                    CONFIG_ERROR,
                    format!("configuration {} line {}: {why}", origin.display(), n + 1),
                )
            };
            // an inline comment starts at whitespace followed by # or ;
            let line = [" #", "\t#", " ;", "\t;"]
                .iter()
                .filter_map(|m| line.find(m))
                .min()
                .map_or(line, |at| line[..at].trim_end());
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| at("expected key = value".into()))?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            self.set(key.trim(), value).map_err(at)?;
        }
        Ok(())
    }

    /// The configuration file to read: `$SSCARD_CONFIG` (which must exist), else the first
    /// existing of the per-user and the system file.
    pub fn file_path(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<PathBuf>, Failure> {
        if let Some(p) = env("SSCARD_CONFIG").filter(|p| !p.trim().is_empty()) {
            let path = PathBuf::from(p);
            if !path.is_file() {
                return Err(Failure::new(
                    CONFIG_ERROR,
                    format!(
                        "SSCARD_CONFIG names {}, which is not a file",
                        path.display()
                    ),
                ));
            }
            return Ok(Some(path));
        }
        let user = env("XDG_CONFIG_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| Path::new(&h).join(".config")))
            .map(|d| d.join("sscard").join("sscard.conf"));
        let system = PathBuf::from("/etc/sscard/sscard.conf");
        Ok(user.into_iter().chain([system]).find(|p| p.is_file()))
    }

    /// The configuration from the file and the environment as `env` reports it.
    pub fn load_with(env: &dyn Fn(&str) -> Option<String>) -> Result<Config, Failure> {
        let mut config = Config::default();
        if let Some(path) = Config::file_path(env)? {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Failure::new(
                    CONFIG_ERROR,
                    format!("configuration {}: {e}", path.display()),
                )
            })?;
            config.apply_file_text(&text, &path)?;
            config.file = Some(path);
        }
        for (key, var) in KEYS {
            if let Some(value) = env(var) {
                config.set(key, &value).map_err(|why| {
                    Failure::new(CONFIG_ERROR, format!("environment variable {var}: {why}"))
                })?;
            }
        }
        // the variable the sscard command line uses names the card reader too
        if config.contact_reader.is_none() {
            config.contact_reader = env("SSCARD_READER").and_then(|v| optional(&v));
        }
        Ok(config)
    }

    /// The configuration from the file and the process environment.
    pub fn load() -> Result<Config, Failure> {
        Config::load_with(&|var| std::env::var(var).ok())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    /// The example file shipped with the crate is valid and says what it shows.
    #[test]
    fn the_example_file() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sscard.conf.example");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut c = Config::default();
        c.apply_file_text(&text, &path).unwrap();
        assert_eq!(c.contact_reader.as_deref(), Some("Virtual PCD 00 00"));
        assert_eq!(c.psam_reader.as_deref(), Some("Virtual PCD 00 01"));
        assert_eq!(c.contactless_reader, None);
        assert_eq!(c.pin_source, PinSource::Auto);
        assert_eq!(c.encoding, TextEncoding::Gbk);
        // every key of KEYS is documented in it
        for (key, var) in KEYS {
            assert!(text.contains(key), "{key} is documented");
            assert!(text.contains(var), "{var} is documented");
        }
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = std::env::temp_dir().join(format!("sscard-ffi-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.conf");
        std::fs::write(
            &file,
            "[sscard]\npsam_reader = \"PSAM reader\"\nencoding=gbk\n",
        )
        .unwrap();
        let f = file.to_string_lossy().into_owned();
        let c = Config::load_with(&env_of(&[
            ("SSCARD_CONFIG", f.as_str()),
            ("SSCARD_ENCODING", "utf-8"),
            ("SSCARD_READER", "ACS"),
        ]))
        .unwrap();
        assert_eq!(c.psam_reader.as_deref(), Some("PSAM reader"));
        assert_eq!(c.encoding, TextEncoding::Utf8);
        assert_eq!(c.contact_reader.as_deref(), Some("ACS"));
        assert_eq!(c.file.as_deref(), Some(file.as_path()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mistakes_are_errors_naming_the_line() {
        let mut c = Config::default();
        let e = c
            .apply_file_text("# ok\npin_sorce = prompt\n", Path::new("x.conf"))
            .unwrap_err();
        assert_eq!(e.code, -5);
        assert!(e.detail.contains("x.conf line 2"), "{}", e.detail);
        assert!(e.detail.contains("pin_sorce"));
        let e = c
            .apply_file_text("encoding = latin1", Path::new("x.conf"))
            .unwrap_err();
        assert!(e.detail.contains("gbk or utf-8"));
        let e = Config::load_with(&env_of(&[("SSCARD_CONFIG", "/nonexistent/sscard.conf")]))
            .unwrap_err();
        assert_eq!(e.code, -5);
        let e = Config::load_with(&env_of(&[("SSCARD_PIN_SOURCE", "keyboard")])).unwrap_err();
        assert!(e.detail.contains("SSCARD_PIN_SOURCE"));
    }
}
