//! The simulated PSAM's persistent content (part 9 §5, §6) and how it is built from root keys.
//!
//! ```json
//! { "format": "sscard-psam-image", "version": 2, "algorithm": "sm4",
//!   "issuer_id": 1, "serial": "<20 digits>", "psam_version": 1, "key_card_type": 0,
//!   "fci_data": "0000", "terminal_number": "<12 digits>", "transaction_serial": 0,
//!   "keys": [ { "usage": 103, "id": 8, "algorithm": 3, "value": "…" }, … ] }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use sscard_core::crypto::{city_factor, province_factor, CardFactors, KeyLevel};
use sscard_core::data::RegionCode;
use sscard_core::keys::{AreaKeyKind, KeyRole, RootKeys, AREA_KEYS};
use sscard_core::Algorithm;

use crate::error::SimError;
use crate::image::{parse_image, write_atomically, HexBytes, SecretBytes, IMAGE_VERSION};

/// The `format` of a PSAM image.
pub const PSAM_IMAGE_FORMAT: &str = "sscard-psam-image";

/// The PSAM algorithm byte of a key record (part 9 §6.2): `00` Triple-DES (16-byte key), `01`
/// DES (8-byte key); `03` SM4 and `04` AES are sscard's (\[design\]: part 9 predates SM4, the
/// bytes follow the FCI's algorithm bytes).
pub fn key_algorithm_byte(alg: Algorithm, key_len: usize) -> u8 {
    match (alg, key_len) {
        (Algorithm::Tdes, 8) => 0x01,
        (Algorithm::Tdes, _) => 0x00,
        (Algorithm::Sm4, _) => 0x03,
        (Algorithm::Aes128, _) => 0x04,
    }
}

/// One key record of the PSAM's key files (part 9 §6.1, format 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsamKey {
    /// The usage byte: the number of diversifications in b8-b6, the key type in b5-b1 (part 9
    /// §6.2, §6.3: `07` encipherment, `08` MAC and encipherment, …).
    pub usage: u8,
    /// The key identifier (the P2 of DELIVERY SESSION KEY).
    pub id: u8,
    /// The algorithm byte ([`key_algorithm_byte`]).
    pub algorithm: u8,
    /// The key.
    pub value: SecretBytes,
}

impl PsamKey {
    /// How many times the key is diversified into a card key (b8-b6 of the usage).
    pub fn levels(&self) -> u8 {
        self.usage >> 5
    }

    /// The key type (b5-b1 of the usage).
    pub fn key_type(&self) -> u8 {
        self.usage & 0x1F
    }
}

/// The persistent content of a simulated PSAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsamImage {
    /// [`PSAM_IMAGE_FORMAT`].
    pub format: String,
    /// [`crate::image::IMAGE_VERSION`].
    pub version: u64,
    /// The algorithm of the PSAM's environment; its FCIs announce it.
    pub algorithm: Algorithm,
    /// EF 0015 byte 1: the issuer identifier.
    pub issuer_id: u8,
    /// EF 0015 bytes 2-11: the PSAM serial, 20 digits (cn).
    pub serial: String,
    /// EF 0015 byte 12: the PSAM version.
    pub psam_version: u8,
    /// EF 0015 byte 13: the key card type.
    pub key_card_type: u8,
    /// EF 0015 bytes 14-15: the issuer's own data.
    pub fci_data: HexBytes,
    /// EF 0016: the terminal number, 12 digits (cn); the first six are the region (part 9
    /// §7.3.3).
    pub terminal_number: String,
    /// EF 0019: the terminal transaction serial.
    pub transaction_serial: u32,
    /// The key records of DF01.
    pub keys: Vec<PsamKey>,
}

/// What a PSAM is made from: its algorithm, numbers, and the level of each key it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsamSpec {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The terminal number, 12 digits.
    pub terminal_number: String,
    /// The PSAM serial, 20 digits.
    pub serial: String,
    /// The region whose province (and city) the keys below the national level belong to.
    pub region: Option<RegionCode>,
    /// The level of each SSSE key held (part 9 §7.3 figure 12, §8); national by default.
    pub levels: BTreeMap<KeyRole, KeyLevel>,
}

impl PsamSpec {
    /// A PSAM of `algorithm` holding the six SSSE keys as national roots (three
    /// diversifications each), serial `00000000` ‖ terminal number.
    pub fn new(algorithm: Algorithm, terminal_number: &str) -> PsamSpec {
        PsamSpec {
            algorithm,
            terminal_number: terminal_number.to_owned(),
            serial: format!("00000000{terminal_number}"),
            region: None,
            levels: KeyRole::SSSE
                .into_iter()
                .map(|r| (r, KeyLevel::National))
                .collect(),
        }
    }

    /// Holds `role` at `level` instead.
    pub fn with_level(mut self, role: KeyRole, level: KeyLevel) -> PsamSpec {
        self.levels.insert(role, level);
        self
    }

    /// Also holds the medical account's keys at the national level: DPK (purchase, type
    /// `02`, id `01` = key version 1, part 9 table B1) for INIT SAM FOR PURCHASE, and DLK
    /// (type `08`, id `4B`, reader interface table B.2) for a credit's MACs through DELIVERY
    /// SESSION KEY.
    pub fn with_account_keys(mut self) -> PsamSpec {
        self.levels.insert(KeyRole::Dpk, KeyLevel::National);
        self.levels.insert(KeyRole::Dlk, KeyLevel::National);
        self
    }

    /// Also holds the data areas' read and update keys at the national level: RKn and UKn of
    /// DF01-DF04, DF07 and appendix B's DF05 and DF06 (`sscard_core::keys::AREA_KEYS`), each
    /// under its PSAM type and id (reader interface appendix B; DF06's are \[design\] D38),
    /// for EXTERNAL AUTHENTICATION in the data areas through DELIVERY SESSION KEY and CIPHER
    /// DATA.
    pub fn with_area_keys(mut self) -> PsamSpec {
        for k in AREA_KEYS
            .iter()
            .filter(|k| matches!(k.kind, AreaKeyKind::Rk | AreaKeyKind::Uk))
        {
            self.levels.insert(k.role, KeyLevel::National);
        }
        self
    }

    /// Holds every key at `level`.
    pub fn with_all_levels(mut self, level: KeyLevel) -> PsamSpec {
        for l in self.levels.values_mut() {
            *l = level;
        }
        self
    }

    /// The region of the province and city keys.
    pub fn with_region(mut self, region: RegionCode) -> PsamSpec {
        self.region = Some(region);
        self
    }
}

fn digits(text: &str, n: usize) -> bool {
    text.len() == n && text.bytes().all(|b| b.is_ascii_digit())
}

impl PsamImage {
    /// A PSAM holding, for each role of `spec.levels`, the root of `keys` diversified down to
    /// its level (`RootKeys::key_at`): national keys take three factors in DELIVERY SESSION
    /// KEY, province keys two, city keys one (\[design\] D6). Keys below the national level
    /// need `spec.region`.
    pub fn from_root_keys(keys: &RootKeys, spec: &PsamSpec) -> Result<PsamImage, SimError> {
        let alg = spec.algorithm;
        let mut records = Vec::new();
        for (&role, &level) in &spec.levels {
            if level == KeyLevel::Card {
                return Err(SimError::InvalidSpec(format!(
                    "a PSAM holds root keys, not the card key of {role}"
                )));
            }
            let factors = match (level, spec.region) {
                (KeyLevel::National, _) => CardFactors {
                    province: [0; 8],
                    city: [0; 8],
                    card: [0; 8],
                },
                (_, Some(region)) => CardFactors {
                    province: province_factor(&region),
                    city: city_factor(&region),
                    card: [0; 8],
                },
                (_, None) => {
                    return Err(SimError::InvalidSpec(format!(
                        "a {level:?} {role} key needs the PSAM's region"
                    )))
                }
            };
            let key = keys
                .key_at(alg, role, level, &factors)?
                .ok_or_else(|| SimError::Keys(format!("the root keys have no {alg} {role} key")))?;
            records.push(PsamKey {
                usage: (level.diversifications() << 5) | role.psam_key_type(),
                id: role.psam_key_id(),
                algorithm: key_algorithm_byte(alg, key.len()),
                value: SecretBytes::new(Zeroizing::new(key.expose_bytes().to_vec())),
            });
        }
        let image = PsamImage {
            format: PSAM_IMAGE_FORMAT.into(),
            version: IMAGE_VERSION,
            algorithm: alg,
            issuer_id: 0x01,
            serial: spec.serial.clone(),
            psam_version: 0x01,
            key_card_type: 0x00,
            fci_data: HexBytes(vec![0x00, 0x00]),
            terminal_number: spec.terminal_number.clone(),
            transaction_serial: 0,
            keys: records,
        };
        image.validate()?;
        Ok(image)
    }

    /// Checks the numbers and the key records (algorithm bytes, lengths, levels, no usage type
    /// and id twice).
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |what: String| Err(SimError::InvalidImage(format!("PSAM: {what}")));
        if self.format != PSAM_IMAGE_FORMAT || self.version != IMAGE_VERSION {
            return Err(SimError::Unsupported {
                format: Some(self.format.clone()),
                version: Some(self.version),
                expected: PSAM_IMAGE_FORMAT,
            });
        }
        if !digits(&self.terminal_number, 12) {
            return bad(format!(
                "terminal number {:?} is not 12 digits",
                self.terminal_number
            ));
        }
        if !digits(&self.serial, 20) {
            return bad(format!("serial {:?} is not 20 digits", self.serial));
        }
        if self.fci_data.0.len() != 2 {
            return bad("fci_data has 2 bytes".into());
        }
        let mut seen = Vec::new();
        for key in &self.keys {
            let expected = key_algorithm_byte(self.algorithm, key.value.len());
            let len_ok = match key.algorithm {
                0x01 => key.value.len() == 8,
                _ => key.value.len() == 16,
            };
            if key.algorithm != expected || !len_ok {
                return bad(format!(
                    "key {:02X}: algorithm byte {:02X} with {} bytes on a {} PSAM",
                    key.id,
                    key.algorithm,
                    key.value.len(),
                    self.algorithm
                ));
            }
            if key.levels() > 3 {
                return bad(format!(
                    "key {:02X}: {} diversifications",
                    key.id,
                    key.levels()
                ));
            }
            if seen.contains(&(key.key_type(), key.id)) {
                return bad(format!(
                    "key {:02X} of type {:02X} twice",
                    key.id,
                    key.key_type()
                ));
            }
            seen.push((key.key_type(), key.id));
        }
        Ok(())
    }

    /// EF 0015 (part 9 table 2), 15 bytes.
    pub fn card_info(&self) -> Vec<u8> {
        let mut out = vec![self.issuer_id];
        out.extend(hex::decode(&self.serial).unwrap_or_default());
        out.push(self.psam_version);
        out.push(self.key_card_type);
        out.extend_from_slice(&self.fci_data.0);
        out
    }

    /// EF 0016 (part 9 table 3): the terminal number, 6 bytes cn.
    pub fn terminal_info(&self) -> Vec<u8> {
        hex::decode(&self.terminal_number).unwrap_or_default()
    }

    /// The key record with key type `key_type` and identifier `id`.
    pub fn key(&self, key_type: u8, id: u8) -> Option<&PsamKey> {
        self.keys
            .iter()
            .find(|k| k.key_type() == key_type && k.id == id)
    }

    /// The image as pretty JSON (contains the keys).
    pub fn to_json(&self) -> Result<Zeroizing<String>, SimError> {
        Ok(Zeroizing::new(serde_json::to_string_pretty(self)?))
    }

    /// Parses and validates an image.
    pub fn from_json(text: &str) -> Result<PsamImage, SimError> {
        parse_image(text, PSAM_IMAGE_FORMAT, PsamImage::validate)
    }

    /// Writes the image to `path` atomically with mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        let text = self.to_json()?;
        write_atomically(path, text.as_bytes())
    }

    /// Reads and validates an image file.
    pub fn load(path: &Path) -> Result<PsamImage, SimError> {
        let text = Zeroizing::new(std::fs::read_to_string(path)?);
        PsamImage::from_json(&text)
    }
}
