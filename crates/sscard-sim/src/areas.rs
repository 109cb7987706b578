//! The data areas of a simulated card (V2.0 notice §5.3-5.7, §6): the DFs `DF01`-`DF04` and
//! `DF07` below SSSE (and appendix B's `DF05` and `DF06` when asked for), regional extension DFs
//! and EFs, with their keys and file contents, as part of the [`crate::CardImage`].
//!
//! ```json
//! "areas": {
//!   "DF01": { "keys": { "RK1DF01": { … }, "UK1DF01": { … }, … },
//!             "files": { "EF05": ["2002313100…"], "EF16": "", … } },
//!   "DF02": { "keys": { … }, "files": { "EF07": { "capacity": 4, "records": [] }, … } }
//! },
//! "extensions": { "dfs": [ … ], "files": [ … ], "items": [ … ] }
//! ```
//!
//! - `keys`: the card keys of the DF by role: every key the DF's files name, its STK and LK
//!   (reader interface appendix B), diversified from the national roots like SSSE's
//!   (\[design\] D1, D20);
//! - `files`: a record file's records (whole SIMPLE-TLVs, creation order); a cyclic file's
//!   capacity and records, newest first (part 3 §5.3.2: record 1 is the newest); a transparent
//!   file's content (trailing `00` may be left out);
//! - `extensions`: the region's declarations ([`Extensions`], checked against §6); SSSE's
//!   regional EFs are kept under `"SSSE"` (files only: SSSE's keys are the card's).
//!
//! Structures, rules and items come from [`sscard_core::profile::areas`]: the image holds
//! contents, the profile says what they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use sscard_core::crypto::CardFactors;
use sscard_core::keys::{KeyRole, RootKeys, AREA_KEYS};
use sscard_core::profile::areas::{
    AreaProfile, DfId, DfSpec, Extensions, FileId, FileSpec, Structure,
};
use sscard_core::Algorithm;

use crate::account::{AccountImage, AccountSpec};
use crate::card_key::{diversified_keys, CardKey, DEFAULT_KEY_VERSION};
use crate::error::SimError;
use crate::secret::HexBytes;

/// What a file of a data area holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FileContent {
    /// A variable or fixed record file: whole SIMPLE-TLV records in creation order.
    Records(Vec<HexBytes>),
    /// A cyclic file: how many records it keeps, and its records, newest first.
    Cyclic {
        /// The number of records kept (at least the notice's minimum).
        capacity: usize,
        /// The records, record 1 (the newest) first.
        records: Vec<HexBytes>,
    },
    /// A transparent file's content (bytes past it read as `00`).
    Binary(HexBytes),
}

/// One DF of the data areas: its keys and its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AreaImage {
    /// The card keys by role name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, CardKey>,
    /// The files by EF name (`EF05`).
    #[serde(default)]
    pub files: BTreeMap<String, FileContent>,
    /// DF04's medical account (the COS-internal amounts file, [`crate::account`]); none on
    /// other DFs and on cards made without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountImage>,
}

impl AreaImage {
    /// The key of `role`.
    pub fn key(&self, role: KeyRole) -> Option<&CardKey> {
        self.keys.get(role.name())
    }

    /// The content of EF `ef`.
    pub fn file(&self, ef: u16) -> Option<&FileContent> {
        self.files.get(&ef_name(ef))
    }

    /// The content of EF `ef`, for changing it.
    pub(crate) fn file_mut(&mut self, ef: u16) -> Option<&mut FileContent> {
        self.files.get_mut(&ef_name(ef))
    }
}

/// `EF05`.
pub(crate) fn ef_name(ef: u16) -> String {
    format!("{ef:04X}")
}

/// Which data areas a new card carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataAreas {
    /// Also DF05 生命与健康 (V2.0 notice appendix B, informative).
    pub health: bool,
    /// Also DF06 社会救助与优待抚恤 (V2.0 notice appendix B tables B6-B8, informative).
    pub assistance: bool,
    /// The region's extensions.
    pub extensions: Extensions,
    /// Records kept by cyclic files, by file name (`DF02EF07`), where more than the notice's
    /// minimum (§6: cyclic files may take more records).
    pub capacities: BTreeMap<String, usize>,
    /// DF04's medical account (offline mode, V2.0 notice §7), when the card has one.
    pub account: Option<AccountSpec>,
}

impl DataAreas {
    /// DF01-DF04 and DF07 of the V2.0 notice, cyclic files with their minimum records.
    pub fn national() -> DataAreas {
        DataAreas {
            health: false,
            assistance: false,
            extensions: Extensions::default(),
            capacities: BTreeMap::new(),
            account: None,
        }
    }

    /// Adds DF05 (appendix B).
    pub fn with_health(mut self) -> DataAreas {
        self.health = true;
        self
    }

    /// Adds DF06 (appendix B): social assistance (EF05) and special care (EF06), read with
    /// RK1DF06, written with UK1DF06 and UK2DF06.
    pub fn with_assistance(mut self) -> DataAreas {
        self.assistance = true;
        self
    }

    /// Adds every DF of appendix B: DF05 and DF06.
    pub fn with_appendix_b(self) -> DataAreas {
        self.with_health().with_assistance()
    }

    /// Whether a new card carries the DF `df` of the table (the informative DFs of appendix B
    /// only when asked for).
    pub fn includes(&self, df: &DfSpec) -> bool {
        match df.id {
            _ if !df.informative => true,
            DfId::Df(0xDF05) => self.health,
            DfId::Df(0xDF06) => self.assistance,
            _ => false,
        }
    }

    /// Adds a region's extensions.
    pub fn with_extensions(mut self, extensions: Extensions) -> DataAreas {
        self.extensions = extensions;
        self
    }

    /// Gives DF04 the medical account ([`crate::account`]).
    pub fn with_account(mut self, account: AccountSpec) -> DataAreas {
        self.account = Some(account);
        self
    }

    /// Makes the cyclic file `file` keep `records` records.
    pub fn with_capacity(mut self, file: FileId, records: usize) -> DataAreas {
        self.capacities.insert(file.to_string(), records);
        self
    }
}

impl Default for DataAreas {
    fn default() -> Self {
        DataAreas::national()
    }
}

/// The keys a DF holds: those its files name, and its STK and LK.
fn df_roles(df: &DfSpec) -> Vec<KeyRole> {
    let mut roles = df.file_keys();
    if let DfId::Df(fid) = df.id {
        for k in AREA_KEYS.iter().filter(|k| k.df == fid) {
            if !roles.contains(&k.role) {
                roles.push(k.role);
            }
        }
    }
    roles
}

/// The card keys of `roles` for a card of `alg` with `factors`.
fn keys_for(
    keys: &RootKeys,
    alg: Algorithm,
    factors: &CardFactors,
    roles: &[KeyRole],
) -> Result<BTreeMap<String, CardKey>, SimError> {
    diversified_keys(
        keys,
        alg,
        factors,
        roles,
        |_| DEFAULT_KEY_VERSION,
        ", which the data areas need (regenerate the key file with `sscard keys new`)",
    )
}

/// The empty content of a file.
fn empty(file: &FileSpec, capacities: &BTreeMap<String, usize>) -> FileContent {
    match file.structure {
        Structure::Variable | Structure::Fixed => FileContent::Records(Vec::new()),
        Structure::Cyclic { min_records, .. } => FileContent::Cyclic {
            capacity: capacities
                .get(&file.id.to_string())
                .copied()
                .unwrap_or(min_records)
                .max(min_records),
            records: Vec::new(),
        },
        Structure::Transparent { .. } => FileContent::Binary(HexBytes::default()),
    }
}

/// The data areas of a blank card (every file empty, every key loaded), with the profile
/// they follow.
pub(crate) fn blank_areas(
    areas: &DataAreas,
    keys: &RootKeys,
    alg: Algorithm,
    factors: &CardFactors,
) -> Result<BTreeMap<String, AreaImage>, SimError> {
    let profile = AreaProfile::with_extensions(&areas.extensions)
        .map_err(|e| SimError::InvalidSpec(e.to_string()))?;
    for name in areas.capacities.keys() {
        let known = FileId::parse(name)
            .and_then(|id| profile.file(id))
            .is_some_and(|f| f.structure.is_cyclic());
        if !known {
            return Err(SimError::InvalidSpec(format!(
                "capacity for {name}: not a cyclic file"
            )));
        }
    }
    let mut out = BTreeMap::new();
    for df in profile.dfs() {
        if !areas.includes(df) {
            continue;
        }
        let mut image = AreaImage::default();
        if df.id != DfId::Ssse {
            image.keys = keys_for(keys, alg, factors, &df_roles(df))?;
        }
        for file in df.files.iter() {
            // SSSE's own files are the image's ef05 … ef08
            if df.id == DfId::Ssse && file.id.ef < 0xEF0C {
                continue;
            }
            image
                .files
                .insert(ef_name(file.id.ef), empty(file, &areas.capacities));
        }
        if df.id == DfId::Ssse && image.files.is_empty() {
            continue;
        }
        if let (DfId::Df(0xDF04), Some(spec)) = (df.id, &areas.account) {
            image.account = Some(AccountImage::new(spec, keys, alg, factors)?);
        }
        out.insert(df.id.name(), image);
    }
    Ok(out)
}

/// Checks the data areas of an image against `profile`: DFs and files it has, keys of the
/// right roles and lengths, records that are items of their file with their lengths and
/// occurrences (a value may have the 1.0 length of an item appendix C redefined), cyclic
/// files within their capacity, transparent files within their size.
pub(crate) fn validate(
    areas: &BTreeMap<String, AreaImage>,
    profile: &AreaProfile,
    alg: Algorithm,
) -> Result<(), SimError> {
    let bad = |what: String| Err(SimError::InvalidImage(what));
    for (df_name, area) in areas {
        let Some(df) = DfId::parse(df_name).and_then(|id| profile.df(id)) else {
            return bad(format!(
                "areas: {df_name:?} is no DF of the notice or the extensions"
            ));
        };
        let roles = df_roles(df);
        for (name, key) in &area.keys {
            let role = KeyRole::from_name(name)
                .filter(|r| roles.contains(r) && r.name() == name)
                .ok_or_else(|| {
                    SimError::InvalidImage(format!("{df_name}: no key role {name:?} in this DF"))
                })?;
            let len = role.key_len(alg);
            if key.value.len() != len {
                return bad(format!(
                    "{df_name} key {name} has {} bytes, a {alg} {name} key has {len}",
                    key.value.len()
                ));
            }
            if key.max_tries == 0 || key.tries_left > key.max_tries || key.max_tries > 15 {
                return bad(format!("{df_name} key {name}: counter out of range"));
            }
        }
        if let Some(account) = &area.account {
            if df.id != DfId::Df(0xDF04) {
                return bad(format!("{df_name}: only DF04 holds the medical account"));
            }
            account.validate(alg)?;
        }
        for (ef_name, content) in &area.files {
            let file = u16::from_str_radix(ef_name, 16)
                .ok()
                .filter(|_| ef_name.len() == 4)
                .and_then(|ef| df.file(ef))
                .ok_or_else(|| SimError::InvalidImage(format!("{df_name}: no file {ef_name:?}")))?;
            // an account that keeps the personal account only has 20-byte details (part 7 §12)
            let mut file = file.clone();
            if let (Some(account), Structure::Cyclic { min_records, .. }) =
                (&area.account, file.structure)
            {
                if file.id.ef == 0xEF08 {
                    file.structure = Structure::Cyclic {
                        record_len: account.record_len,
                        min_records,
                    };
                }
            }
            check_content(&file, content)?;
        }
    }
    Ok(())
}

fn check_content(file: &FileSpec, content: &FileContent) -> Result<(), SimError> {
    let bad = |what: String| Err(SimError::InvalidImage(format!("{}: {what}", file.id)));
    match (file.structure, content) {
        (Structure::Variable | Structure::Fixed, FileContent::Records(records)) => {
            let mut seen: BTreeMap<u8, u8> = BTreeMap::new();
            for (i, r) in records.iter().enumerate() {
                let (tag, value) = match r.0.as_slice() {
                    [tag, len, value @ ..] if usize::from(*len) == value.len() && *len < 0xFF => {
                        (*tag, value)
                    }
                    _ => return bad(format!("record {} is not one SIMPLE-TLV", i + 1)),
                };
                let Some(item) = file.item(tag) else {
                    return bad(format!(
                        "record {}: tag {tag:02X} is no item of the file",
                        i + 1
                    ));
                };
                let fits = if file.structure == Structure::Fixed {
                    value.len() == item.len
                } else {
                    value.len() <= item.len || value.len() == item.legacy_len
                };
                if !fits {
                    return bad(format!(
                        "tag {tag:02X}: {} bytes, the item has {}",
                        value.len(),
                        item.len
                    ));
                }
                let n = seen.entry(tag).or_default();
                *n += 1;
                if *n > item.occurs {
                    return bad(format!("tag {tag:02X} more than {} times", item.occurs));
                }
            }
            Ok(())
        }
        (
            Structure::Cyclic {
                record_len,
                min_records,
            },
            FileContent::Cyclic { capacity, records },
        ) => {
            if *capacity < min_records || *capacity > 0xFE {
                return bad(format!(
                    "keeps {capacity} records, the notice asks for at least {min_records}"
                ));
            }
            if records.len() > *capacity {
                return bad(format!("{} records, it keeps {capacity}", records.len()));
            }
            if let Some(r) = records.iter().find(|r| r.0.len() != record_len) {
                return bad(format!(
                    "a record of {} bytes, its records have {record_len}",
                    r.0.len()
                ));
            }
            Ok(())
        }
        (Structure::Transparent { size }, FileContent::Binary(b)) => {
            if b.0.len() > size {
                return bad(format!("{} bytes, its size is {size}", b.0.len()));
            }
            Ok(())
        }
        _ => bad("the content does not match the file's structure".into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::test_support::keys;

    fn factors() -> CardFactors {
        CardFactors {
            province: [1; 8],
            city: [2; 8],
            card: [3; 8],
        }
    }

    /// Appendix B's DFs are on a new card only when asked for; DF06 then holds the five keys
    /// of table B2 and its two record files, empty.
    #[test]
    fn appendix_b_dfs_when_asked_for() {
        for alg in [Algorithm::Tdes, Algorithm::Sm4] {
            let national = blank_areas(&DataAreas::national(), &keys(), alg, &factors()).unwrap();
            assert!(!national.contains_key("DF05") && !national.contains_key("DF06"));
            assert!(national.contains_key("DF07"));
            let areas = DataAreas::national().with_assistance();
            let with = blank_areas(&areas, &keys(), alg, &factors()).unwrap();
            assert!(!with.contains_key("DF05"));
            let df06 = with.get("DF06").unwrap();
            let names: Vec<&str> = df06.keys.keys().map(String::as_str).collect();
            assert_eq!(
                names,
                ["LKDF06", "RK1DF06", "STKDF06", "UK1DF06", "UK2DF06"]
            );
            assert_eq!(
                df06.key(KeyRole::StkDf06).unwrap().value.len(),
                KeyRole::StkDf06.key_len(alg)
            );
            assert_eq!(df06.files.len(), 2);
            assert_eq!(df06.file(0xEF05), Some(&FileContent::Records(Vec::new())));
            assert_eq!(df06.file(0xEF06), Some(&FileContent::Records(Vec::new())));
            let both = DataAreas::national().with_appendix_b();
            let both = blank_areas(&both, &keys(), alg, &factors()).unwrap();
            assert!(both.contains_key("DF05") && both.contains_key("DF06"));
            validate(&both, &AreaProfile::national(), alg).unwrap();
        }
    }
}
