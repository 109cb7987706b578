//! A card key as the images keep it (SSSE's, a data area's, the medical account's): its value,
//! its version and its try counter; and the card keys diversified from national roots.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use sscard_core::crypto::CardFactors;
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::Algorithm;

use crate::error::SimError;
use crate::secret::SecretBytes;

/// Tries of the PIN and of each counted key (\[design\] D4).
pub const DEFAULT_TRIES: u8 = 3;
/// The largest try counter `63Cx` can show.
pub const MAX_TRIES: u8 = 15;
/// The version byte of the card's keys: key group 1 (\[design\] D3).
pub const DEFAULT_KEY_VERSION: u8 = 0x01;

/// One card key with its version and try counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardKey {
    /// The key: 16 bytes, 8 for STKSSSE on 3DES cards (single DES, \[design\] D2).
    pub value: SecretBytes,
    /// The key version a command may name in its optional version byte (\[design\] D3).
    pub version: u8,
    /// Tries left before the key locks (`6983`).
    pub tries_left: u8,
    /// The value a successful authentication restores.
    pub max_tries: u8,
}

/// The card keys of `roles` for a card of `alg` with `factors`, by role name: each role's
/// national root diversified by the province, city and card factors (part 9 §7.3, \[design\]
/// D1), with the version `version` gives it and a full counter. A role the root keys lack is
/// an error; `needed_by` ends its message (`", which the data areas need"`).
pub(crate) fn diversified_keys(
    keys: &RootKeys,
    alg: Algorithm,
    factors: &CardFactors,
    roles: &[KeyRole],
    version: impl Fn(KeyRole) -> u8,
    needed_by: &str,
) -> Result<BTreeMap<String, CardKey>, SimError> {
    let mut out = BTreeMap::new();
    for &role in roles {
        let key = keys.card_key(alg, role, factors)?.ok_or_else(|| {
            SimError::Keys(format!("the root keys have no {alg} {role} key{needed_by}"))
        })?;
        out.insert(
            role.name().to_owned(),
            CardKey {
                value: SecretBytes::from_slice(key.expose_bytes()),
                version: version(role),
                tries_left: DEFAULT_TRIES,
                max_tries: DEFAULT_TRIES,
            },
        );
    }
    Ok(out)
}

/// A try counter must be 1 ≤ max ≤ 15 and tries ≤ max.
pub(crate) fn check_counter(what: &str, tries: u8, max: u8) -> Result<(), SimError> {
    if max == 0 || max > MAX_TRIES || tries > max {
        return Err(SimError::InvalidImage(format!(
            "{what}: counter {tries} of {max} (the maximum is 1 to {MAX_TRIES})"
        )));
    }
    Ok(())
}
