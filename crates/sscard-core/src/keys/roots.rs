//! Development root keys from a key file (version 2): national root keys by algorithm and role.
//!
//! ```json
//! { "format": "sscard-keys", "version": 2, "test_keys": true,
//!   "roots": { "sm4": { "IRK": "<32 hex digits>", "RKSSSE": "…", … }, "3des": { … } } }
//! ```
//!
//! Every key is a national root (一级根密钥); the card key of a card is the root diversified by
//! the card's province, city and card factors (part 9 §7.3). The core does no file I/O: the
//! `sscard` crate reads the file and refuses one that others can read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::KeyRole;
use crate::crypto::{diversify_path, CardFactors, CryptoError, KeyLevel, SecretKey};
use crate::Algorithm;

/// The value of a key file's `format` field.
pub const KEY_FILE_FORMAT: &str = "sscard-keys";
/// The key file version this sscard reads.
pub const KEY_FILE_VERSION: u64 = 2;

/// Why a key file cannot be used. Messages never contain key bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Not JSON.
    #[error("the key file is not JSON: {0}")]
    Json(String),
    /// A version-1 key file: master keys by invented key ids (sscard before the national
    /// specification).
    #[error("this is a version-1 key file (keys by id 00/04/06/…), written before sscard spoke the national specification; its keys belong to cards that no spec terminal can use. Create a version-2 file of root keys by role (see fixtures/keys/README.md; `sscard keys new` writes one)")]
    VersionOne,
    /// Another format or version.
    #[error("unsupported key file: format {}, version {} (this sscard reads format \"{KEY_FILE_FORMAT}\" version {KEY_FILE_VERSION})", .format.as_deref().unwrap_or("none"), .version.map_or("none".to_owned(), |v| v.to_string()))]
    Unsupported {
        /// The `format` field, if any.
        format: Option<String>,
        /// The `version` field, if any.
        version: Option<u64>,
    },
    /// The structure is wrong.
    #[error("invalid key file: {0}")]
    Structure(String),
    /// A key is not hex of the right length for its role and algorithm.
    #[error("key {role} for {algorithm}: must be {len} bytes as {digits} hex digits", digits = .len * 2)]
    Key {
        /// The algorithm section.
        algorithm: Algorithm,
        /// The role.
        role: KeyRole,
        /// The length the role needs.
        len: usize,
    },
    /// The file could not be read (reported by whoever reads it: the `sscard` crate).
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        kind: std::io::ErrorKind,
        /// Its message.
        reason: String,
    },
    /// Group or others may access the file, which holds secrets.
    #[error(
        "{path} holds secrets and is accessible by other users (mode {mode:04o}): run `chmod 600 {path}`"
    )]
    NotPrivate {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The content of the file at `path` is not a key file.
    #[error("key file {path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        source: Box<KeyFileError>,
    },
}

impl KeyFileError {
    /// The same error, said of the file at `path`.
    pub fn in_file(self, path: &Path) -> KeyFileError {
        KeyFileError::InFile {
            path: path.to_path_buf(),
            source: Box::new(self),
        }
    }
}

/// National root keys by algorithm and role.
#[derive(Clone, Default)]
pub struct RootKeys {
    keys: BTreeMap<(Algorithm, KeyRole), SecretKey>,
    test_keys: bool,
}

impl std::fmt::Debug for RootKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootKeys")
            .field("roles", &self.keys.keys().collect::<Vec<_>>())
            .field("test_keys", &self.test_keys)
            .finish()
    }
}

/// Refuses a key file whose JSON names something twice in one object (a key role in a section,
/// an algorithm in `roots`): JSON parsers keep the last silently, and a key file must say one
/// thing. The message names the duplicate, never a key value.
fn reject_duplicate_names(text: &str) -> Result<(), KeyFileError> {
    use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

    struct Unique;
    struct UniqueVisitor;

    impl<'de> Deserialize<'de> for Unique {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Unique, D::Error> {
            d.deserialize_any(UniqueVisitor)
        }
    }

    impl<'de> Visitor<'de> for UniqueVisitor {
        type Value = Unique;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> std::result::Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_i64<E>(self, _: i64) -> std::result::Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_u64<E>(self, _: u64) -> std::result::Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_f64<E>(self, _: f64) -> std::result::Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_str<E>(self, _: &str) -> std::result::Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_unit<E>(self) -> std::result::Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Unique, A::Error> {
            while seq.next_element::<Unique>()?.is_some() {}
            Ok(Unique)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Unique, A::Error> {
            let mut seen = std::collections::BTreeSet::new();
            while let Some(name) = map.next_key::<String>()? {
                if !seen.insert(name.clone()) {
                    return Err(A::Error::custom(format!(
                        "{name:?} appears twice in one object (which one counts would be a guess)"
                    )));
                }
                map.next_value::<Unique>()?;
            }
            Ok(Unique)
        }
    }

    serde_json::from_str::<Unique>(text)
        .map(|_| ())
        .map_err(|e| {
            if e.is_data() {
                KeyFileError::Structure(e.to_string())
            } else {
                KeyFileError::Json(e.to_string())
            }
        })
}

impl RootKeys {
    /// No keys.
    pub fn new() -> RootKeys {
        RootKeys::default()
    }

    /// Parses a version-2 key file.
    pub fn from_json(text: &str) -> Result<RootKeys, KeyFileError> {
        reject_duplicate_names(text)?;
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| KeyFileError::Json(e.to_string()))?;
        let obj = value
            .as_object()
            .ok_or_else(|| KeyFileError::Structure("the top level is not an object".into()))?;
        let format = obj.get("format").and_then(|v| v.as_str());
        let version = obj.get("version").and_then(|v| v.as_u64());
        if format.is_none() && obj.contains_key("algorithms") {
            return Err(KeyFileError::VersionOne);
        }
        if format != Some(KEY_FILE_FORMAT) || version != Some(KEY_FILE_VERSION) {
            return Err(KeyFileError::Unsupported {
                format: format.map(str::to_owned),
                version,
            });
        }
        let roots = obj
            .get("roots")
            .and_then(|v| v.as_object())
            .ok_or_else(|| KeyFileError::Structure("no \"roots\" object".into()))?;
        let mut keys = RootKeys {
            keys: BTreeMap::new(),
            test_keys: obj.get("test_keys").and_then(|v| v.as_bool()) == Some(true),
        };
        for (alg_name, section) in roots {
            let alg: Algorithm = alg_name.parse().map_err(|_| {
                KeyFileError::Structure(format!("unknown algorithm {alg_name:?} in \"roots\""))
            })?;
            let section = section.as_object().ok_or_else(|| {
                KeyFileError::Structure(format!("\"roots\".{alg_name:?} is not an object"))
            })?;
            for (role_name, key) in section {
                let role = KeyRole::from_name(role_name).ok_or_else(|| {
                    KeyFileError::Structure(format!(
                        "unknown key role {role_name:?} (expected one of {})",
                        KeyRole::ALL.map(KeyRole::name).join(", ")
                    ))
                })?;
                let len = role.key_len(alg);
                let bad = || KeyFileError::Key {
                    algorithm: alg,
                    role,
                    len,
                };
                let text = key.as_str().ok_or_else(bad)?;
                let secret = SecretKey::from_hex(text).map_err(|_| bad())?;
                if secret.len() != len {
                    return Err(bad());
                }
                keys.keys.insert((alg, role), secret);
            }
        }
        Ok(keys)
    }

    /// Adds (or replaces) a root key.
    pub fn insert(&mut self, alg: Algorithm, role: KeyRole, key: SecretKey) {
        self.keys.insert((alg, role), key);
    }

    /// Whether the file says its keys are test keys (`"test_keys": true`).
    pub fn are_test_keys(&self) -> bool {
        self.test_keys
    }

    /// Whether there is any key for `alg`.
    pub fn supports(&self, alg: Algorithm) -> bool {
        self.keys.keys().any(|(a, _)| *a == alg)
    }

    /// The roles held for `alg`.
    pub fn roles(&self, alg: Algorithm) -> Vec<KeyRole> {
        self.keys
            .keys()
            .filter(|(a, _)| *a == alg)
            .map(|(_, r)| *r)
            .collect()
    }

    /// The national root of `role` for `alg`.
    pub fn root(&self, alg: Algorithm, role: KeyRole) -> Option<&SecretKey> {
        self.keys.get(&(alg, role))
    }

    /// The key of `role` at `level` for the card with these factors: the root diversified down
    /// to that level (a PSAM holding a province key holds `key_at(…, Province, …)`).
    pub fn key_at(
        &self,
        alg: Algorithm,
        role: KeyRole,
        level: KeyLevel,
        factors: &CardFactors,
    ) -> Result<Option<SecretKey>, CryptoError> {
        let Some(root) = self.root(alg, role) else {
            return Ok(None);
        };
        let path: Vec<[u8; 8]> = factors
            .path_from(KeyLevel::National)
            .into_iter()
            .take(usize::from(3 - level.diversifications()))
            .collect();
        diversify_path(alg, root, &path).map(Some)
    }

    /// The card key of `role`: the root diversified by the province, city and card factors.
    pub fn card_key(
        &self,
        alg: Algorithm,
        role: KeyRole,
        factors: &CardFactors,
    ) -> Result<Option<SecretKey>, CryptoError> {
        self.key_at(alg, role, KeyLevel::Card, factors)
    }

    /// The key file text of these keys (used to write new development key files).
    pub fn to_json(&self) -> String {
        let mut roots = serde_json::Map::new();
        for ((alg, role), key) in &self.keys {
            let section = roots
                .entry(alg.name())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            if let Some(map) = section.as_object_mut() {
                map.insert(
                    role.name().to_owned(),
                    serde_json::Value::String(hex::encode_upper(key.expose_bytes())),
                );
            }
        }
        let mut top = serde_json::Map::new();
        top.insert("format".into(), KEY_FILE_FORMAT.into());
        top.insert("version".into(), KEY_FILE_VERSION.into());
        top.insert("test_keys".into(), self.test_keys.into());
        top.insert("roots".into(), serde_json::Value::Object(roots));
        serde_json::to_string_pretty(&serde_json::Value::Object(top)).unwrap_or_default()
    }

    /// New random root keys for every role and for `algorithms`, marked as test keys.
    pub fn generate(algorithms: &[Algorithm]) -> RootKeys {
        use rand::RngCore;
        let mut keys = RootKeys {
            keys: BTreeMap::new(),
            test_keys: true,
        };
        let mut rng = rand::rng();
        for &alg in algorithms {
            for role in KeyRole::ALL {
                let mut bytes = zeroize::Zeroizing::new(vec![0u8; role.key_len(alg)]);
                rng.fill_bytes(&mut bytes);
                if let Ok(key) = SecretKey::from_bytes(&bytes) {
                    keys.insert(alg, role, key);
                }
            }
        }
        keys
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::crypto::diversify;
    use crate::data::RegionCode;

    const FIXTURE: &str = include_str!("../../../../fixtures/keys/test-keys.json");
    const LEGACY: &str = include_str!("../../../../fixtures/keys/legacy-v1-test-keys.json");

    #[test]
    fn fixture_parses_with_every_role() {
        let keys = RootKeys::from_json(FIXTURE).unwrap();
        assert!(keys.are_test_keys());
        for alg in Algorithm::ALL {
            assert_eq!(keys.roles(alg).len(), KeyRole::ALL.len());
        }
        assert_eq!(
            keys.root(Algorithm::Tdes, KeyRole::Stkssse).unwrap().len(),
            8
        );
        assert!(!format!("{keys:?}").contains("4929A2BF"));
        let again = RootKeys::from_json(&keys.to_json()).unwrap();
        assert_eq!(
            again.root(Algorithm::Sm4, KeyRole::Irk),
            keys.root(Algorithm::Sm4, KeyRole::Irk)
        );
    }

    #[test]
    fn version_one_and_garbage_are_refused_clearly() {
        let err = RootKeys::from_json(LEGACY).unwrap_err();
        assert_eq!(err, KeyFileError::VersionOne);
        assert!(err.to_string().contains("version-1"));
        assert!(matches!(
            RootKeys::from_json("{\"format\":\"x\",\"version\":2}"),
            Err(KeyFileError::Unsupported { .. })
        ));
        assert!(matches!(
            RootKeys::from_json("[1]"),
            Err(KeyFileError::Structure(_))
        ));
        assert!(matches!(
            RootKeys::from_json("{"),
            Err(KeyFileError::Json(_))
        ));
        let short = r#"{"format":"sscard-keys","version":2,"roots":{"3des":{"STKSSSE":"00112233445566778899AABBCCDDEEFF"}}}"#;
        let err = RootKeys::from_json(short).unwrap_err();
        assert!(matches!(err, KeyFileError::Key { len: 8, .. }));
        assert!(!err.to_string().contains("0011"));
        let role = r#"{"format":"sscard-keys","version":2,"roots":{"sm4":{"XK":"00"}}}"#;
        assert!(RootKeys::from_json(role)
            .unwrap_err()
            .to_string()
            .contains("XK"));
    }

    #[test]
    fn card_keys_go_through_three_levels() {
        let keys = RootKeys::from_json(FIXTURE).unwrap();
        let atr = hex::decode("3B6D000000814A444686605199000001AC").unwrap();
        let factors = CardFactors::new(&atr, &RegionCode::parse("519900").unwrap()).unwrap();
        for alg in Algorithm::ALL {
            let root = keys.root(alg, KeyRole::Irk).unwrap();
            let p = diversify(alg, root, &factors.province).unwrap();
            let c = diversify(alg, &p, &factors.city).unwrap();
            let card = diversify(alg, &c, &factors.card).unwrap();
            assert_eq!(
                keys.card_key(alg, KeyRole::Irk, &factors).unwrap(),
                Some(card)
            );
            assert_eq!(
                keys.key_at(alg, KeyRole::Irk, KeyLevel::Province, &factors)
                    .unwrap(),
                Some(p)
            );
            assert_eq!(
                keys.key_at(alg, KeyRole::Irk, KeyLevel::City, &factors)
                    .unwrap(),
                Some(c)
            );
        }
        assert_eq!(
            RootKeys::new()
                .card_key(Algorithm::Sm4, KeyRole::Irk, &factors)
                .unwrap(),
            None
        );
    }

    #[test]
    fn generated_keys_have_role_lengths() {
        let keys = RootKeys::generate(&[Algorithm::Tdes, Algorithm::Sm4]);
        assert!(keys.are_test_keys());
        assert_eq!(
            keys.root(Algorithm::Tdes, KeyRole::Stkssse).unwrap().len(),
            8
        );
        assert_eq!(
            keys.root(Algorithm::Sm4, KeyRole::Stkssse).unwrap().len(),
            16
        );
        assert!(!keys.supports(Algorithm::Aes128));
    }
}
