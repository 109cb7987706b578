//! Development master keys from a JSON key file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{KeyHolder, KeyHolderError};
use crate::algorithm::UnsupportedAlgorithm;
use crate::crypto::{self, KeyId, SecretKey};
use crate::Algorithm;

/// The JSON shape of a key file.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawKeyFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    #[serde(default)]
    test_keys: bool,
    algorithms: BTreeMap<String, BTreeMap<String, String>>,
}

impl Drop for RawKeyFile {
    fn drop(&mut self) {
        for keys in self.algorithms.values_mut() {
            for key in keys.values_mut() {
                key.zeroize();
            }
        }
    }
}

/// Master keys held in memory, parsed from a JSON key file: a development [`KeyHolder`].
///
/// ```json
/// {
///   "warning": "TEST KEYS ONLY ...",
///   "test_keys": true,
///   "algorithms": {
///     "3des": { "00": "<32 hex digits>", "04": "...", "0A": "..." },
///     "sm4":  { "00": "..." },
///     "aes":  { "00": "..." }
///   }
/// }
/// ```
///
/// Algorithm names are `3des`, `sm4`, `aes`; key ids are two hex digits; keys are 16 bytes
/// as 32 hex digits. `warning` and `test_keys` are optional. The core does no file I/O: the
/// caller reads the file (the `sscard` crate's loader refuses files others can read).
///
/// Master keys in a file are for development and tests only; in the field a PSAM holds them.
/// `Debug` lists the algorithms and key ids, never the keys.
#[derive(Clone, Default)]
pub struct KeyFile {
    warning: Option<String>,
    test_keys: bool,
    keys: HashMap<(Algorithm, KeyId), SecretKey>,
    /// Recently derived keys (most recent last), so that the card and region levels of a
    /// diversification path are computed once per card rather than once per cryptogram.
    derived: Vec<Derived>,
}

/// How many derived keys [`KeyFile`] keeps: one card's working keys with their card and
/// region levels fit (about 15 in a whole lifecycle).
const DERIVED_CACHE: usize = 24;

/// A key derived from master key `id` of `alg` along the diversification path `path`.
#[derive(Clone)]
struct Derived {
    alg: Algorithm,
    id: KeyId,
    path: Vec<[u8; 8]>,
    key: SecretKey,
}

fn invalid(reason: impl Into<String>) -> KeyHolderError {
    KeyHolderError::KeyFile(reason.into())
}

/// A JSON error without the offending value (which could be key material).
fn describe_json_error(e: &serde_json::Error) -> String {
    let position = format!("line {} column {}", e.line(), e.column());
    let text = e.to_string();
    match e.classify() {
        serde_json::error::Category::Data
            if text.starts_with("unknown field") || text.starts_with("missing field") =>
        {
            text
        }
        serde_json::error::Category::Data => format!(
            "unexpected structure at {position} (expected {{\"warning\": text, \"test_keys\": \
             true|false, \"algorithms\": {{\"3des\"|\"sm4\"|\"aes\": {{\"<key id>\": \"<32 hex \
             digits>\"}}}}}})"
        ),
        serde_json::error::Category::Eof => {
            format!("unexpected end of the JSON text at {position}")
        }
        _ => format!("malformed JSON at {position}"),
    }
}

impl KeyFile {
    /// An empty key file (no keys), e.g. to fill with [`KeyFile::insert`].
    pub fn new() -> KeyFile {
        KeyFile::default()
    }

    /// Parses the JSON text of a key file.
    ///
    /// Errors name what is wrong (an unknown algorithm, a malformed key id, which key is not
    /// 32 hex digits, a duplicate key) without repeating key material.
    pub fn from_json(text: &str) -> Result<KeyFile, KeyHolderError> {
        let raw: RawKeyFile =
            serde_json::from_str(text).map_err(|e| invalid(describe_json_error(&e)))?;
        let mut file = KeyFile {
            warning: raw.warning.clone(),
            test_keys: raw.test_keys,
            keys: HashMap::new(),
            derived: Vec::new(),
        };
        for (alg_name, keys) in &raw.algorithms {
            let alg: Algorithm = alg_name.parse().map_err(|e| match e {
                UnsupportedAlgorithm::Ssf33 => {
                    invalid("algorithm \"ssf33\" is not supported (use 3des, sm4 or aes)")
                }
                _ => invalid(format!(
                    "unknown algorithm {alg_name:?} (use 3des, sm4 or aes)"
                )),
            })?;
            for (id_text, hex_key) in keys {
                let id = parse_key_id(id_text).ok_or_else(|| {
                    invalid(format!("{alg}: key id {id_text:?} is not two hex digits"))
                })?;
                let key = SecretKey::from_hex(hex_key).map_err(|_| {
                    invalid(format!("{alg} key {id}: not 32 hex digits (a 16-byte key)"))
                })?;
                if file.keys.insert((alg, id), key).is_some() {
                    return Err(invalid(format!("{alg} key {id} is given twice")));
                }
            }
        }
        if file.keys.is_empty() {
            return Err(invalid("the key file holds no keys"));
        }
        Ok(file)
    }

    /// The key file as JSON text (keys as uppercase hex), readable by [`KeyFile::from_json`].
    pub fn to_json(&self) -> Zeroizing<String> {
        let mut raw = RawKeyFile {
            warning: self.warning.clone(),
            test_keys: self.test_keys,
            algorithms: BTreeMap::new(),
        };
        for ((alg, id), key) in &self.keys {
            raw.algorithms
                .entry(alg.name().to_owned())
                .or_default()
                .insert(id.to_string(), hex::encode_upper(key.expose_bytes()));
        }
        // serializing maps of strings cannot fail; fall back to an empty text regardless
        Zeroizing::new(serde_json::to_string_pretty(&raw).unwrap_or_default())
    }

    /// Adds (or replaces) master key `id` of `alg`.
    pub fn insert(&mut self, alg: Algorithm, id: KeyId, key: SecretKey) {
        self.derived.retain(|d| (d.alg, d.id) != (alg, id));
        self.keys.insert((alg, id), key);
    }

    /// Sets the warning text and the test-keys flag written by [`KeyFile::to_json`].
    pub fn set_warning(&mut self, warning: Option<String>, test_keys: bool) {
        self.warning = warning;
        self.test_keys = test_keys;
    }

    /// The file's `warning` text, if any.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// Whether the file declares itself test keys (`"test_keys": true`).
    pub fn is_test_keys(&self) -> bool {
        self.test_keys
    }

    /// The algorithms the file has keys for, in [`Algorithm::ALL`] order.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(|alg| self.keys.keys().any(|(a, _)| a == alg))
            .collect()
    }

    /// The key ids the file has for `alg`, ascending.
    pub fn key_ids(&self, alg: Algorithm) -> Vec<KeyId> {
        let mut ids: Vec<KeyId> = self
            .keys
            .keys()
            .filter(|(a, _)| *a == alg)
            .map(|(_, id)| *id)
            .collect();
        ids.sort();
        ids
    }

    /// Master key `id` of `alg`; an error naming the key when the file does not have it.
    pub fn master_key(&self, alg: Algorithm, id: KeyId) -> Result<&SecretKey, KeyHolderError> {
        self.keys.get(&(alg, id)).ok_or(KeyHolderError::UnknownKey {
            algorithm: alg,
            key: id,
        })
    }

    /// Master key `id` of `alg` diversified along `factors`: `diversify_path`, continued from
    /// the longest prefix of `factors` derived recently (every level is remembered, the least
    /// recently used forgotten first).
    fn working_key(
        &mut self,
        alg: Algorithm,
        id: KeyId,
        factors: &[[u8; 8]],
    ) -> Result<SecretKey, KeyHolderError> {
        let master = self.master_key(alg, id)?;
        let cached = self
            .derived
            .iter()
            .enumerate()
            .filter(|(_, d)| d.alg == alg && d.id == id && factors.starts_with(&d.path))
            .max_by_key(|(_, d)| d.path.len())
            .map(|(i, _)| i);
        let (mut done, mut key) = match cached {
            Some(i) => {
                let hit = self.derived.remove(i);
                let found = (hit.path.len(), hit.key.clone());
                self.derived.push(hit);
                found
            }
            None => (0, master.clone()),
        };
        while let Some(factor) = factors.get(done) {
            key = crypto::diversify(alg, &key, factor)?;
            done += 1;
            if self.derived.len() >= DERIVED_CACHE {
                self.derived.remove(0);
            }
            self.derived.push(Derived {
                alg,
                id,
                path: factors.get(..done).unwrap_or_default().to_vec(),
                key: key.clone(),
            });
        }
        Ok(key)
    }
}

fn parse_key_id(text: &str) -> Option<KeyId> {
    if text.len() != 2 {
        return None;
    }
    u8::from_str_radix(text, 16).ok().map(KeyId)
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<(Algorithm, Vec<String>)> = self
            .algorithms()
            .into_iter()
            .map(|alg| {
                let ids = self.key_ids(alg).iter().map(KeyId::to_string).collect();
                (alg, ids)
            })
            .collect();
        f.debug_struct("KeyFile")
            .field("test_keys", &self.test_keys)
            .field("key_ids", &keys)
            .finish_non_exhaustive()
    }
}

impl KeyHolder for KeyFile {
    fn supports(&self, alg: Algorithm) -> bool {
        self.keys.keys().any(|(a, _)| *a == alg)
    }

    fn encipher(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyHolderError> {
        let working = self.working_key(alg, key, factors)?;
        Ok(crypto::encipher(alg, &working, data)?)
    }

    fn mac(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        iv: &[u8],
        message: &[u8],
    ) -> Result<[u8; 4], KeyHolderError> {
        let working = self.working_key(alg, key, factors)?;
        Ok(crypto::mac(alg, &working, iv, message)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../../fixtures/keys/test-keys.json");

    #[test]
    fn fixture_has_every_key_for_every_algorithm() {
        let file = KeyFile::from_json(FIXTURE).unwrap();
        assert!(file.is_test_keys());
        assert!(file.warning().unwrap().contains("TEST KEYS ONLY"));
        assert_eq!(file.algorithms(), Algorithm::ALL.to_vec());
        for alg in Algorithm::ALL {
            assert!(file.supports(alg));
            assert_eq!(file.key_ids(alg), KeyId::ALL.to_vec());
        }
        // all keys differ
        let mut seen: Vec<[u8; 16]> = Vec::new();
        for alg in Algorithm::ALL {
            for id in KeyId::ALL {
                let k = *file.master_key(alg, id).unwrap().expose_bytes();
                assert!(!seen.contains(&k));
                seen.push(k);
            }
        }
    }

    #[test]
    fn debug_never_prints_keys() {
        let file = KeyFile::from_json(FIXTURE).unwrap();
        let debug = format!("{file:?}");
        assert!(debug.contains("0A"));
        for alg in Algorithm::ALL {
            for id in KeyId::ALL {
                let hex_key = hex::encode_upper(file.master_key(alg, id).unwrap().expose_bytes());
                assert!(!debug.to_uppercase().contains(&hex_key));
            }
        }
    }

    #[test]
    fn computes_with_diversified_keys() {
        let mut file = KeyFile::from_json(FIXTURE).unwrap();
        let card = [1, 2, 3, 4, 5, 6, 7, 8];
        let city = *b"639900sx";
        for alg in Algorithm::ALL {
            let mk = file.master_key(alg, KeyId::UPDATE).unwrap().clone();
            let ck = crypto::diversify_path(alg, &mk, &[card, city]).unwrap();
            let data = vec![0x5A; alg.block_len()];
            assert_eq!(
                file.encipher(alg, KeyId::UPDATE, &[card, city], &data)
                    .unwrap(),
                crypto::encipher(alg, &ck, &data).unwrap()
            );
            let iv = vec![0x11; alg.block_len()];
            assert_eq!(
                file.mac(
                    alg,
                    KeyId::UPDATE,
                    &[card, city],
                    &iv,
                    b"\x84\x1E\x00\x00\x04"
                )
                .unwrap(),
                crypto::mac(alg, &ck, &iv, b"\x84\x1E\x00\x00\x04").unwrap()
            );
            // no factors: the master key itself
            assert_eq!(
                file.encipher(alg, KeyId::UPDATE, &[], &data).unwrap(),
                crypto::encipher(alg, &mk, &data).unwrap()
            );
        }
    }

    #[test]
    fn remembered_derivations_give_the_same_keys() {
        let mut file = KeyFile::from_json(FIXTURE).unwrap();
        let data = [0x5A; 16];
        for alg in [Algorithm::Sm4, Algorithm::Tdes] {
            let data = &data[..alg.block_len()];
            for card in 0..40u8 {
                let c = [card; 8];
                let city = *b"639900sx";
                let paths: [&[[u8; 8]]; 5] = [
                    &[c, city],
                    &[c, city, [card ^ 0x55; 8]],
                    &[c],
                    &[c, [7; 8]],
                    &[c, city],
                ];
                for id in [KeyId::UPDATE, KeyId::INTERNAL_AUTH] {
                    for path in paths {
                        let mk = file.master_key(alg, id).unwrap().clone();
                        let expected = crypto::diversify_path(alg, &mk, path).unwrap();
                        assert_eq!(
                            file.encipher(alg, id, path, data).unwrap(),
                            crypto::encipher(alg, &expected, data).unwrap()
                        );
                    }
                }
            }
            // a replaced master key forgets what was derived from the old one
            let path = [[1u8; 8], [2u8; 8]];
            file.encipher(alg, KeyId::UPDATE, &path, data).unwrap();
            let new = SecretKey::from_bytes(&[0x33; 16]).unwrap();
            file.insert(alg, KeyId::UPDATE, new.clone());
            let expected = crypto::diversify_path(alg, &new, &path).unwrap();
            assert_eq!(
                file.encipher(alg, KeyId::UPDATE, &path, data).unwrap(),
                crypto::encipher(alg, &expected, data).unwrap()
            );
        }
        assert!(file.derived.len() <= DERIVED_CACHE);
    }

    #[test]
    fn unknown_key_is_named() {
        let mut file = KeyFile::from_json(
            r#"{"algorithms": {"sm4": {"0a": "000102030405060708090a0b0c0d0e0f"}}}"#,
        )
        .unwrap();
        assert!(!file.is_test_keys());
        assert!(file.supports(Algorithm::Sm4));
        assert!(!file.supports(Algorithm::Tdes));
        assert!(file
            .encipher(Algorithm::Sm4, KeyId::READ, &[], &[0; 16])
            .is_ok());
        let err = file
            .encipher(Algorithm::Sm4, KeyId::UPDATE, &[], &[0; 16])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the key holder has no sm4 master key 04 (EF05/EF06 update key)"
        );
        let err = file
            .mac(Algorithm::Tdes, KeyId::READ, &[], &[0; 8], b"")
            .unwrap_err();
        assert!(err.to_string().contains("no 3des master key 0A"));
    }

    #[test]
    fn invalid_files_give_clear_errors_without_key_material() {
        let secret = "00112233445566778899AABBCCDDEEFF";
        let cases = [
            (r#"{"algorithms": {}}"#.to_owned(), "no keys"),
            (
                format!(r#"{{"algorithms": {{"des": {{"00": "{secret}"}}}}}}"#),
                "unknown algorithm \"des\"",
            ),
            (
                format!(r#"{{"algorithms": {{"ssf33": {{"00": "{secret}"}}}}}}"#),
                "ssf33",
            ),
            (
                format!(r#"{{"algorithms": {{"sm4": {{"0": "{secret}"}}}}}}"#),
                "key id \"0\"",
            ),
            (
                r#"{"algorithms": {"sm4": {"04": "0011"}}}"#.to_owned(),
                "sm4 key 04: not 32 hex digits",
            ),
            (
                format!(r#"{{"algorithms": {{"sm4": {{"0a": "{secret}", "0A": "{secret}"}}}}}}"#),
                "given twice",
            ),
            (
                format!(r#"{{"algorithm": {{"sm4": {{"0A": "{secret}"}}}}}}"#),
                "unknown field `algorithm`",
            ),
            (
                format!(r#"{{"algorithms": {{"sm4": "{secret}"}}}}"#),
                "unexpected structure",
            ),
            (
                format!(r#"{{"algorithms": {{"sm4": {{"0A": "{secret}""#),
                "end of the JSON",
            ),
            ("not json".to_owned(), "malformed JSON"),
        ];
        for (text, expected) in cases {
            let err = KeyFile::from_json(&text).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
            assert!(
                !err.contains(secret) && !err.contains("0011"),
                "{err:?} leaks key material"
            );
        }
    }

    #[test]
    fn json_round_trip() {
        let file = KeyFile::from_json(FIXTURE).unwrap();
        let again = KeyFile::from_json(&file.to_json()).unwrap();
        assert_eq!(again.warning(), file.warning());
        for alg in Algorithm::ALL {
            for id in KeyId::ALL {
                assert_eq!(
                    again.master_key(alg, id).unwrap(),
                    file.master_key(alg, id).unwrap()
                );
            }
        }
        let mut built = KeyFile::new();
        built.insert(
            Algorithm::Aes128,
            KeyId::READ,
            SecretKey::from_bytes(&[7; 16]).unwrap(),
        );
        built.set_warning(Some("TEST KEYS ONLY".into()), true);
        let parsed = KeyFile::from_json(&built.to_json()).unwrap();
        assert!(parsed.is_test_keys());
        assert_eq!(parsed.key_ids(Algorithm::Aes128), vec![KeyId::READ]);
    }
}
