//! The simulated card's persistent memory (its EEPROM): everything that survives a reset, as
//! JSON so a card can be saved, inspected and loaded again.
//!
//! ```json
//! { "format": "sscard-card-image", "version": 2,
//!   "generation": "3.0", "algorithm": "sm4", "t0": true,
//!   "historical_bytes": "0081…", "region": "519900",
//!   "keys": { "IRK": { "value": "…", "version": 1, "tries_left": 3, "max_tries": 3 }, … },
//!   "ef05": ["0110…"], "ef06": [], "ef07": "", "ef08": "",
//!   "pin": { "value": "", "tries_left": 3, "max_tries": 3 },
//!   "ssse_blocked": false, "card_blocked": false, "financial": null }
//! ```
//!
//! - `keys`: the card keys of SSSE by role (part 9 appendix B, \[design\] D2), each with its key
//!   version (group 1 = `01`, \[design\] D3) and try counter (\[design\] D4);
//! - `ef05`, `ef06`: the records of the two record files, whole SIMPLE-TLVs in record-number
//!   order (the order they were created, part 3 §5.3.2);
//! - `ef07`, `ef08`: the contents of the transparent files of 2.0 and 3.0 cards (absent on 1.0
//!   cards); bytes past the stored ones read as `00`, so trailing `00` bytes may be left out;
//! - `pin`: the PIN in `cn` (empty: no PIN, part 5 §6.8.3) and its try counter.
//!
//! The image holds secrets (card keys, the PIN) in [`SecretBytes`]: wiped on drop, `REDACTED`
//! in `Debug`. A saved image file is as secret as the card keys; [`CardImage::save`] writes it
//! with mode 0600.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use sscard_core::crypto::{CardFactors, Pin};
use sscard_core::data::RegionCode;
use sscard_core::keys::KeyRole;
use sscard_core::profile::{self, Ef, Generation};
use sscard_core::Algorithm;

use sscard_core::profile::areas::{AreaProfile, DfId, Extensions};

use crate::areas::AreaImage;
use crate::atr::{self, HistoricalBytes, HISTORICAL_LEN};
use crate::card_key::{check_counter, CardKey, DEFAULT_TRIES};
use crate::error::SimError;
use crate::financial::FinancialApp;
pub use crate::secret::{HexBytes, SecretBytes};

/// The `format` of a card image.
pub const CARD_IMAGE_FORMAT: &str = "sscard-card-image";
/// The `version` of the image layout this simulator reads and writes.
pub const IMAGE_VERSION: u64 = 2;

/// The PIN and its try counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinRecord {
    /// The PIN in `cn` (packed digits, one `F` nibble when the count is odd, part 5 §6.3.1);
    /// empty when the card has no PIN (the empty PIN of part 5 §6.8.3 and §6.14.5).
    pub value: SecretBytes,
    /// Tries left before the PIN blocks (`6983`).
    pub tries_left: u8,
    /// The value a correct PIN, a PIN change and the PIN CHANGE/UNBLOCK command restore.
    pub max_tries: u8,
}

impl PinRecord {
    /// The empty PIN with a full counter (\[design\] D14).
    pub fn empty() -> PinRecord {
        PinRecord {
            value: SecretBytes::default(),
            tries_left: DEFAULT_TRIES,
            max_tries: DEFAULT_TRIES,
        }
    }
}

/// The persistent state of a simulated card.
///
/// Fields are public so tests and tools can inspect and prepare cards; a running
/// [`crate::SimCard`] changes its image only through its one persistence point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardImage {
    /// [`CARD_IMAGE_FORMAT`].
    pub format: String,
    /// [`IMAGE_VERSION`].
    pub version: u64,
    /// The generation: record layout of EF06, EF07/EF08, read rules (V2.0 notice §5.2).
    pub generation: Generation,
    /// The algorithm the SSSE FCI announces (`9F0C 03 86 01 xx`, part 5 table 36).
    pub algorithm: Algorithm,
    /// Whether the ATR announces T=0 (the default) rather than T=1 ([`crate::atr`]).
    pub t0: bool,
    /// The 13 historical bytes of the ATR (part 2 table 16).
    pub historical_bytes: HexBytes,
    /// The issuing region: the first bytes of the card identification code; the province and
    /// city diversification factors.
    pub region: RegionCode,
    /// The card keys of SSSE by role name (`IRK`, `RKSSSE`, `UKSSSE`, `PUK`, `STKSSSE`, `BK`).
    pub keys: BTreeMap<String, CardKey>,
    /// The records of EF05, whole SIMPLE-TLVs in record-number order.
    pub ef05: Vec<HexBytes>,
    /// The records of EF06, whole SIMPLE-TLVs in record-number order.
    pub ef06: Vec<HexBytes>,
    /// EF07 (fingerprint, `0300` bytes), 2.0 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ef07: Option<HexBytes>,
    /// EF08 (photo, `1000` bytes), 2.0 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ef08: Option<HexBytes>,
    /// The PIN.
    pub pin: PinRecord,
    /// SSSE was blocked by APPLICATION BLOCK (part 5 §6.1): permanent.
    pub ssse_blocked: bool,
    /// The card was blocked by CARD BLOCK (part 5 §6.2): every command answers `6A81`.
    pub card_blocked: bool,
    /// The financial application of a bank-issued card ([`crate::financial`]).
    #[serde(default)]
    pub financial: Option<FinancialApp>,
    /// The data areas below SSSE by DF (`DF01` …; `SSSE` for SSSE's regional EFs), see
    /// [`crate::areas`]. None on cards made without them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub areas: BTreeMap<String, AreaImage>,
    /// The region's extensions of the file structure (V2.0 notice §6).
    #[serde(default, skip_serializing_if = "Extensions::is_empty")]
    pub extensions: Extensions,
}

impl CardImage {
    /// The 13 historical bytes, split into their fields.
    pub fn historical(&self) -> Result<HistoricalBytes, SimError> {
        let bytes: &[u8; HISTORICAL_LEN] =
            self.historical_bytes.0.as_slice().try_into().map_err(|_| {
                SimError::InvalidImage(format!(
                    "the ATR has {} historical bytes, the card needs {HISTORICAL_LEN}",
                    self.historical_bytes.0.len()
                ))
            })?;
        Ok(HistoricalBytes::from_bytes(bytes))
    }

    /// The ATR ([`crate::atr`]).
    pub fn atr(&self) -> Vec<u8> {
        atr::atr(&self.historical_bytes.0, self.t0)
    }

    /// The diversification factors of the card (part 9 §7.3, \[design\] D5).
    pub fn factors(&self) -> Result<CardFactors, SimError> {
        Ok(CardFactors {
            province: sscard_core::crypto::province_factor(&self.region),
            city: sscard_core::crypto::city_factor(&self.region),
            card: self.historical()?.card_factor(),
        })
    }

    /// The key of `role`.
    pub fn key(&self, role: KeyRole) -> Option<&CardKey> {
        self.keys.get(role.name())
    }

    /// The state a simulated card must keep at once, even in the middle of an operation
    /// ([`crate::transport::FileCard`]): every try counter (the PIN's, the keys' of SSSE and of
    /// the data areas, the medical account's keys') and the medical account's balance and
    /// serials. A terminal that could stop a process before these reached the file would get
    /// PIN or key tries, or a purchase, for free.
    pub fn guarded(&self) -> Guarded {
        let mut tries = vec![self.pin.tries_left];
        tries.extend(self.keys.values().map(|k| k.tries_left));
        let mut account = Vec::new();
        for area in self.areas.values() {
            tries.extend(area.keys.values().map(|k| k.tries_left));
            if let Some(a) = &area.account {
                tries.extend(a.keys.values().map(|k| k.tries_left));
                account.push((a.balance, a.online_serial, a.offline_serial));
            }
        }
        Guarded { tries, account }
    }

    /// The records of a record file (empty for the transparent files).
    pub fn records(&self, ef: Ef) -> &[HexBytes] {
        match ef {
            Ef::Ef05 => &self.ef05,
            Ef::Ef06 => &self.ef06,
            Ef::Ef07 | Ef::Ef08 => &[],
        }
    }

    /// The value of the record with tag `tag` in `ef`.
    pub fn record_value(&self, ef: Ef, tag: u8) -> Option<&[u8]> {
        self.records(ef).iter().find_map(|r| match r.0.as_slice() {
            [t, _, value @ ..] if *t == tag => Some(value),
            _ => None,
        })
    }

    /// The contents of a transparent file, padded with `00` to its size; `None` when the card
    /// does not have the file.
    pub fn binary(&self, ef: Ef) -> Option<Vec<u8>> {
        let stored = match ef {
            Ef::Ef07 => self.ef07.as_ref(),
            Ef::Ef08 => self.ef08.as_ref(),
            Ef::Ef05 | Ef::Ef06 => None,
        }?;
        let mut out = stored.0.clone();
        out.resize(ef.size().max(out.len()), 0x00);
        Some(out)
    }

    /// The file structure of the card's data areas: the notice's and the region's
    /// extensions.
    pub fn area_profile(&self) -> Result<AreaProfile, SimError> {
        AreaProfile::with_extensions(&self.extensions)
            .map_err(|e| SimError::InvalidImage(e.to_string()))
    }

    /// The data area `df` (`DfId::Ssse` holds SSSE's regional EFs only).
    pub fn area(&self, df: DfId) -> Option<&AreaImage> {
        self.areas.get(&df.name())
    }

    /// The card identification code (EF05 tag `01`), if written.
    pub fn card_id(&self) -> Option<&[u8]> {
        self.record_value(Ef::Ef05, profile::tag::CARD_ID)
    }

    /// Checks the image: format and version, ATR, key roles and lengths, records (one
    /// SIMPLE-TLV each, a data item of the file's generation, no longer than the item, no tag
    /// twice), transparent files, PIN and counters, financial application.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |what: String| Err(SimError::InvalidImage(what));
        if self.format != CARD_IMAGE_FORMAT || self.version != IMAGE_VERSION {
            return Err(SimError::Unsupported {
                format: Some(self.format.clone()),
                version: Some(self.version),
                expected: CARD_IMAGE_FORMAT,
            });
        }
        let historical = self.historical()?;
        let [r0, r1, _] = self.region.to_bcd();
        if historical.region != [r0, r1] {
            return bad(format!(
                "historical bytes T8-T9 are {}, the region {} needs {:02X}{:02X} (part 2 table 16)",
                hex::encode_upper(historical.region),
                self.region,
                r0,
                r1
            ));
        }
        for (name, key) in &self.keys {
            let role = KeyRole::from_name(name)
                .filter(|r| KeyRole::SSSE.contains(r) && r.name() == name)
                .ok_or_else(|| SimError::InvalidImage(format!("unknown card key role {name:?}")))?;
            let len = role.key_len(self.algorithm);
            if key.value.len() != len {
                return bad(format!(
                    "key {name} has {} bytes, a {} {name} key has {len}",
                    key.value.len(),
                    self.algorithm
                ));
            }
            check_counter(&format!("key {name}"), key.tries_left, key.max_tries)?;
        }
        for ef in Ef::RECORD_FILES {
            let mut seen = Vec::new();
            for (i, record) in self.records(ef).iter().enumerate() {
                let (tag, value) = match record.0.as_slice() {
                    [tag, len, value @ ..] if usize::from(*len) == value.len() && *len < 0xFF => {
                        (*tag, value)
                    }
                    _ => return bad(format!("{ef} record {} is not one SIMPLE-TLV", i + 1)),
                };
                let spec = profile::records(self.generation, ef)
                    .iter()
                    .find(|s| s.tag == tag)
                    .ok_or_else(|| {
                        SimError::InvalidImage(format!(
                            "{ef} record {}: tag {tag:02X} is no data item of {ef} on a {} card",
                            i + 1,
                            self.generation
                        ))
                    })?;
                if value.len() > spec.len {
                    return bad(format!(
                        "{ef} tag {tag:02X}: {} bytes, the item has {}",
                        value.len(),
                        spec.len
                    ));
                }
                if seen.contains(&tag) {
                    return bad(format!("{ef}: tag {tag:02X} twice"));
                }
                seen.push(tag);
            }
        }
        let has = self.generation.has_transparent_files();
        for (ef, content) in [(Ef::Ef07, &self.ef07), (Ef::Ef08, &self.ef08)] {
            match content {
                Some(_) if !has => return bad(format!("a {} card has no {ef}", self.generation)),
                None if has => return bad(format!("a {} card has {ef}", self.generation)),
                Some(c) if c.0.len() > ef.size() => {
                    return bad(format!(
                        "{ef} holds {} bytes, its size is {}",
                        c.0.len(),
                        ef.size()
                    ))
                }
                _ => {}
            }
        }
        if !self.pin.value.is_empty() && !is_pin_cn(self.pin.value.expose()) {
            return bad("the PIN is not 4 to 16 digits in cn".into());
        }
        check_counter("the PIN", self.pin.tries_left, self.pin.max_tries)?;
        if !self.areas.is_empty() || !self.extensions.is_empty() {
            crate::areas::validate(&self.areas, &self.area_profile()?, self.algorithm)?;
        }
        if let Some(app) = &self.financial {
            app.validate()
                .map_err(|e| SimError::InvalidImage(e.to_string()))?;
        }
        Ok(())
    }

    /// The image as pretty JSON. The text contains the card keys and the PIN.
    pub fn to_json(&self) -> Result<Zeroizing<String>, SimError> {
        Ok(Zeroizing::new(serde_json::to_string_pretty(self)?))
    }

    /// Parses and validates an image. A version-1 image (sscard before the specification
    /// protocol) is [`SimError::VersionOne`]: convert it with [`CardImage::convert_v1`].
    pub fn from_json(text: &str) -> Result<CardImage, SimError> {
        parse_image(text, CARD_IMAGE_FORMAT, CardImage::validate)
    }

    /// Writes the image to `path` atomically (a temporary sibling file with mode 0600, then a
    /// rename).
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

/// The guarded part of a card's state ([`CardImage::guarded`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Guarded {
    tries: Vec<u8>,
    account: Vec<(u32, u16, u16)>,
}

impl Guarded {
    /// Whether `after` lost a try somewhere, or moved the medical account, compared with
    /// `self`: then it must be saved at once. A try counter restored (a right PIN) may wait
    /// for the end of the operation.
    pub fn must_save_now(&self, after: &Guarded) -> bool {
        self.account != after.account
            || self.tries.len() != after.tries.len()
            || self.tries.iter().zip(&after.tries).any(|(b, a)| a < b)
    }
}

/// Whether `cn` is a PIN of 4 to 16 digits as part 5 §6.3.1 encodes it.
pub(crate) fn is_pin_cn(cn: &[u8]) -> bool {
    cn.len() <= 8 && Pin::from_bcd(cn).is_ok()
}

/// Parses an image file's JSON: its `format` must be `format` version 2 ([`check_format`]), its
/// content what `validate` accepts.
pub(crate) fn parse_image<I: serde::de::DeserializeOwned>(
    text: &str,
    format: &'static str,
    validate: impl FnOnce(&I) -> Result<(), SimError>,
) -> Result<I, SimError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    check_format(&value, format)?;
    let image: I = serde_json::from_value(value)?;
    validate(&image)?;
    Ok(image)
}

/// Refuses JSON that is not `expected` version 2; recognises the version-1 card images.
fn check_format(value: &serde_json::Value, expected: &'static str) -> Result<(), SimError> {
    let obj = value
        .as_object()
        .ok_or_else(|| SimError::InvalidImage("the top level is not an object".into()))?;
    let format = obj.get("format");
    let version = obj.get("version").and_then(|v| v.as_u64());
    match format.and_then(|f| f.as_str()) {
        Some(f) if f == expected && version == Some(IMAGE_VERSION) => Ok(()),
        None if expected == CARD_IMAGE_FORMAT && is_version_one(value) => Err(SimError::VersionOne),
        f => Err(SimError::Unsupported {
            format: f.map(str::to_owned),
            version,
            expected,
        }),
    }
}

/// Whether `value` looks like a version-1 card image: a numeric `format` 1 (or none) and the
/// version-1 fields.
pub(crate) fn is_version_one(value: &serde_json::Value) -> bool {
    let Some(obj) = value.as_object() else {
        return false;
    };
    let numeric = match obj.get("format") {
        None => true,
        Some(f) => f.as_u64() == Some(1),
    };
    numeric && obj.contains_key("chip_serial") && obj.contains_key("files")
}

/// Writes `bytes` to `path` atomically and durably, mode 0600, through a symbolic link to its
/// target ([`sscard_files::write_atomically`]): a crash leaves either the old or the new file,
/// never a torn one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    if path.file_name().is_none() {
        return Err(SimError::InvalidPath(path.display().to_string()));
    }
    sscard_files::write_atomically(path, bytes, sscard_files::Durability::Durable)?;
    Ok(())
}
