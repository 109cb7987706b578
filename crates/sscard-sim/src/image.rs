//! The simulated card's persistent memory (its "EEPROM"): everything that survives a reset,
//! serialized as JSON so a card can be saved, inspected and loaded again.
//!
//! The image holds secrets (card keys, the PIN): they live in [`SecretBytes`], which is zeroized
//! on drop and prints `REDACTED` in `Debug`. A saved image file is as secret as the card keys.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use sscard_core::data::RegionCode;
use sscard_core::profile::{Ef, Generation};
use sscard_core::Algorithm;

use crate::error::SimError;

/// Version of the JSON layout of [`CardImage`]; [`CardImage::from_json`] refuses other versions.
pub const IMAGE_FORMAT: u32 = 1;

/// Largest PIN try counter the card can report (`63Cx` carries one nibble).
pub const MAX_PIN_TRIES: u8 = 15;

pub use sscard_core::lifecycle::{AppState, BlockState};

/// Secret bytes (a card key, a PIN): zeroized on drop, `REDACTED` in `Debug`, hex in JSON,
/// compared in constant time.
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps `bytes`.
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> SecretBytes {
        SecretBytes(bytes)
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes.to_vec()))
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "REDACTED({} bytes)", self.0.len())
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_slice().ct_eq(other.0.as_slice()))
    }
}

impl Eq for SecretBytes {}

impl Serialize for SecretBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(hex::encode_upper(self.0.as_slice()));
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        let bytes = hex::decode(text.as_str())
            .map(Zeroizing::new)
            .map_err(|e| serde::de::Error::custom(format!("secret: {e}")))?;
        Ok(SecretBytes(bytes))
    }
}

/// Public bytes, hex in JSON (record contents).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

impl std::fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode_upper(&self.0))
    }
}

impl Serialize for HexBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(&self.0))
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text)
            .map(HexBytes)
            .map_err(|e| serde::de::Error::custom(format!("hex: {e}")))
    }
}

/// The PIN as the card stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinState {
    /// The PIN, packed BCD, odd lengths filled with `F` (docs/card-os.md §4).
    pub bcd: SecretBytes,
    /// Tries left before the PIN blocks (`63Cx`); 0 = blocked (`6983`).
    pub tries_left: u8,
    /// The counter value a successful VERIFY or a PIN reload restores.
    pub max_tries: u8,
    /// Whether this PIN was set by the issuer (PIN RELOAD) and not yet changed by the holder.
    pub initial: bool,
}

/// Build-time options of the card OS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardOptions {
    /// T=0 behaviour: response data only through `61xx` + GET RESPONSE (docs/card-os.md §3).
    pub t0_mode: bool,
    /// READ RECORD mode `101` (all records from P1) is supported; without it: `6A86`.
    pub all_records_mode: bool,
    /// The try counter of PINs set on this card (PIN RELOAD), 1 to 15.
    pub pin_max_tries: u8,
}

impl Default for CardOptions {
    fn default() -> Self {
        CardOptions {
            t0_mode: false,
            all_records_mode: true,
            pin_max_tries: 3,
        }
    }
}

/// The persistent state of a simulated card.
///
/// Fields are public so tests and tools can inspect a card; a running [`crate::SimCard`] changes
/// its image only through its one persistence point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardImage {
    /// Layout version, [`IMAGE_FORMAT`].
    pub format: u32,
    /// The chip's profile (record layout, read conditions); FCI `DF03`.
    pub generation: Generation,
    /// The card's symmetric algorithm; FCI `9F0C`.
    pub algorithm: Algorithm,
    /// The chip serial number: the last 4 ATR historical bytes.
    #[serde(with = "serial_hex")]
    pub chip_serial: [u8; 4],
    /// The region code the issuer keys were diversified for (city factor).
    pub region: RegionCode,
    /// The card keys `CK_id`, by key id in two hex digits (`"04"`, `"0A"`).
    pub keys: BTreeMap<String, SecretBytes>,
    /// The records of each EF, whole SIMPLE-TLVs, in record-number order.
    pub files: BTreeMap<Ef, Vec<HexBytes>>,
    /// Application state (`DF01`).
    pub app_state: AppState,
    /// Application block state (`DF02`).
    pub block_state: BlockState,
    /// Card blocked by CARD BLOCK: every command answers `9303`.
    pub card_blocked: bool,
    /// The PIN, once set by PIN RELOAD.
    pub pin: Option<PinState>,
    /// Card OS options.
    pub options: CardOptions,
}

/// The JSON key of key id `id` in [`CardImage::keys`].
pub fn key_name(id: u8) -> String {
    format!("{id:02X}")
}

impl CardImage {
    /// The card key `CK_id`, if loaded.
    pub fn key(&self, id: u8) -> Option<&SecretBytes> {
        self.keys.get(&key_name(id))
    }

    /// The records of `ef` (empty if the EF is missing).
    pub fn records(&self, ef: Ef) -> &[HexBytes] {
        self.files.get(&ef).map(Vec::as_slice).unwrap_or_default()
    }

    /// The value of the first record of `ef` with tag `tag` (without tag and length).
    pub fn record_value(&self, ef: Ef, tag: u8) -> Option<&[u8]> {
        self.records(ef).iter().find_map(|r| match r.0.as_slice() {
            [t, _len, value @ ..] if *t == tag => Some(value),
            _ => None,
        })
    }

    /// Checks the image for consistency: format version, key lengths and names, records that
    /// are single SIMPLE-TLVs with one-byte lengths, PIN encoding and
    /// counters. (The region code is checked when parsed.)
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |what: String| Err(SimError::InvalidImage(what));
        if self.format != IMAGE_FORMAT {
            return bad(format!(
                "image format {} (this simulator reads format {IMAGE_FORMAT})",
                self.format
            ));
        }
        for (name, key) in &self.keys {
            let ok_name = u8::from_str_radix(name, 16).is_ok_and(|id| key_name(id) == *name);
            if !ok_name {
                return bad(format!(
                    "key name {name:?} is not two upper-case hex digits"
                ));
            }
            if key.len() != 16 {
                return bad(format!("key {name} has {} bytes, not 16", key.len()));
            }
        }
        for (ef, records) in &self.files {
            for (i, record) in records.iter().enumerate() {
                match record.0.as_slice() {
                    [tag, len, value @ ..]
                        if *tag != 0x00 && *tag != 0xFF && usize::from(*len) == value.len() => {}
                    _ => {
                        return bad(format!(
                            "{ef:?} record {} is not one SIMPLE-TLV with a short length",
                            i + 1
                        ))
                    }
                }
            }
        }
        if self.options.pin_max_tries == 0 || self.options.pin_max_tries > MAX_PIN_TRIES {
            return bad(format!(
                "PIN max tries {} not in 1..=15",
                self.options.pin_max_tries
            ));
        }
        if let Some(pin) = &self.pin {
            if pin.max_tries == 0 || pin.max_tries > MAX_PIN_TRIES {
                return bad(format!("PIN max tries {} not in 1..=15", pin.max_tries));
            }
            if pin.tries_left > pin.max_tries {
                return bad("PIN tries left exceed max tries".into());
            }
            if !is_pin_bcd(pin.bcd.expose()) {
                return bad("PIN is not 4-12 packed BCD digits".into());
            }
        }
        Ok(())
    }

    /// Serializes the image as pretty JSON. The text contains the card keys and the PIN.
    pub fn to_json(&self) -> Result<Zeroizing<String>, SimError> {
        Ok(Zeroizing::new(serde_json::to_string_pretty(self)?))
    }

    /// Parses and validates an image from JSON.
    pub fn from_json(text: &str) -> Result<CardImage, SimError> {
        let image: CardImage = serde_json::from_str(text)?;
        image.validate()?;
        Ok(image)
    }

    /// Writes the image to `path` atomically: a temporary file in the same folder (mode 0600 on
    /// Unix), then a rename over `path`.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        let text = self.to_json()?;
        write_atomically(path, text.as_bytes())
    }

    /// Reads and validates an image file.
    pub fn load(path: &Path) -> Result<CardImage, SimError> {
        let text = Zeroizing::new(std::fs::read_to_string(path)?);
        CardImage::from_json(&text)
    }
}

/// Writes `bytes` to `path` through a temporary sibling file and a rename, so a crash leaves
/// either the old or the new file, never a torn one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    use std::io::Write;
    let file_name = path
        .file_name()
        .ok_or_else(|| SimError::InvalidPath(path.display().to_string()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| -> Result<(), SimError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

mod serial_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(serial: &[u8; 4], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(serial))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 4], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 4];
        hex::decode_to_slice(&text, &mut out)
            .map_err(|e| serde::de::Error::custom(format!("chip serial: {e}")))?;
        Ok(out)
    }
}

/// Whether `bcd` is a PIN of 4 to 12 digits in packed BCD as the card stores and compares it
/// (`F`-filled to a whole byte; [`sscard_core::crypto::Pin::from_bcd`]).
pub(crate) fn is_pin_bcd(bcd: &[u8]) -> bool {
    sscard_core::crypto::Pin::from_bcd(bcd).is_ok()
}
