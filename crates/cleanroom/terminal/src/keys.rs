//! Keys by role, and the key service (the "HSM") the terminal asks for every computation.
//!
//! The terminal never touches keys itself: it asks a [`KeyService`] for authentication data
//! and secure-messaging data, as a terminal asks a PSAM or an encryption machine (RI §1.2,
//! §6.2-§6.4). [`RootKeys`] is the software service of this crate: it holds root keys and
//! diversifies them per card (P9 §7.3). A test can plug in another service, for example one
//! that replays an HSM's answers from a field trace.

use std::collections::BTreeMap;
use std::fmt;

use crate::crypto::{self, Algorithm, CryptoError};
use crate::error::TerminalError;

/// The SSSE-level keys a terminal uses (part 6 table 3; profile D2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyRole {
    /// Internal authentication key (authenticates the issuer; INTERNAL AUTHENTICATION P2 `00`).
    Irk,
    /// Read key of the SSSE (3.0 cards: EF06, EF07, EF08); card key id `0A`.
    RkSsse,
    /// Update key of EF05-EF08 (UKSSSE = UKMF); card key id `04`.
    UkSsse,
    /// PIN unblock / reload key; card key id `06`.
    Puk,
    /// Maintenance key: MAC and encipherment of PIN and blocking commands; card key id `02`.
    StkSsse,
    /// Blocking key (application and card block); card key id `05`.
    Bk,
}

impl KeyRole {
    /// The name used in key files and in the root map (`"IRK"`, `"RKSSSE"`, …).
    pub fn name(self) -> &'static str {
        match self {
            KeyRole::Irk => "IRK",
            KeyRole::RkSsse => "RKSSSE",
            KeyRole::UkSsse => "UKSSSE",
            KeyRole::Puk => "PUK",
            KeyRole::StkSsse => "STKSSSE",
            KeyRole::Bk => "BK",
        }
    }

    /// The key identifier sent in P2 of EXTERNAL AUTHENTICATION (INTERNAL AUTHENTICATION for
    /// IRK), profile D2 (part 9 appendix B and the field trace).
    pub fn card_key_id(self) -> u8 {
        match self {
            KeyRole::Irk => 0x00,
            KeyRole::RkSsse => 0x0A,
            KeyRole::UkSsse => 0x04,
            KeyRole::Puk => 0x06,
            KeyRole::StkSsse => 0x02,
            KeyRole::Bk => 0x05,
        }
    }

    /// The encryption-machine key address of group 1 (RI appendix B, tables B.1 and B.2).
    pub fn hsm_address(self) -> &'static str {
        match self {
            KeyRole::Irk => "0170",
            KeyRole::RkSsse => "004C",
            KeyRole::UkSsse => "0094",
            KeyRole::Puk => "0090",
            KeyRole::StkSsse => "0173",
            KeyRole::Bk => "0091",
        }
    }

    /// All roles, in declaration order.
    pub fn all() -> [KeyRole; 6] {
        [
            KeyRole::Irk,
            KeyRole::RkSsse,
            KeyRole::UkSsse,
            KeyRole::Puk,
            KeyRole::StkSsse,
            KeyRole::Bk,
        ]
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What identifies the card for its keys: everything an HSM request carries (RI §1.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardContext {
    /// The card's algorithm (from the SSSE FCI, RI §10.1).
    pub algorithm: Algorithm,
    /// The region code: the first six digits of the card identification code (P9 §7.3.1).
    pub region: String,
    /// The whole answer to reset.
    pub atr: Vec<u8>,
    /// The card identification code (EF05 item `01`, 16 bytes).
    pub card_id: Vec<u8>,
}

impl CardContext {
    /// The province, city and card factors of this card (P9 §7.3; profile D5).
    pub fn factors(&self) -> Result<[[u8; 8]; 3], TerminalError> {
        let conv = |e: CryptoError| TerminalError::InvalidInput(e.to_string());
        Ok([
            crypto::province_factor(&self.region).map_err(conv)?,
            crypto::city_factor(&self.region).map_err(conv)?,
            crypto::card_factor(&self.atr).map_err(conv)?,
        ])
    }
}

/// The computations a terminal delegates to its security module.
pub trait KeyService {
    /// Authentication data (P4 §9.3) of the 8-byte `original`, with the process key derived
    /// (P4 §8.4) from `process_factor` and the card key of `role`.
    ///
    /// Used to check INTERNAL AUTHENTICATION (role IRK) and to build EXTERNAL AUTHENTICATION.
    fn auth_data(
        &mut self,
        role: KeyRole,
        card: &CardContext,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], TerminalError>;

    /// The data field of a secure-messaging command (P4 §8.1-§8.3): `encipher(plain) ‖ MAC`,
    /// or just the MAC when `plain` is `None`. One process key, from `process_factor` and the
    /// card key of `role`, serves both (profile D9). `header` is `CLA INS P1 P2 Lc`, Lc
    /// counting the whole data field including the MAC.
    fn secure_message(
        &mut self,
        role: KeyRole,
        card: &CardContext,
        process_factor: &[u8],
        header: &[u8; 5],
        plain: Option<&[u8]>,
    ) -> Result<Vec<u8>, TerminalError>;
}

/// How many diversifications separate the root keys from the card keys (P9 §8, profile D1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RootLevel {
    /// National roots: province, city and card factors (three levels).
    #[default]
    National,
    /// Province-level keys: city and card factors.
    Province,
    /// City-level keys: card factor only.
    City,
}

/// The software key service: root keys by role, diversified for each card.
#[derive(Clone, Default)]
pub struct RootKeys {
    any: BTreeMap<String, Vec<u8>>,
    by_algorithm: BTreeMap<Algorithm, BTreeMap<String, Vec<u8>>>,
    level: RootLevel,
}

impl fmt::Debug for RootKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key values.
        f.debug_struct("RootKeys")
            .field("roles", &self.any.keys().collect::<Vec<_>>())
            .field("algorithms", &self.by_algorithm.keys().collect::<Vec<_>>())
            .field("level", &self.level)
            .finish()
    }
}

impl RootKeys {
    /// Root keys by role name (`"IRK"`, `"RKSSSE"`, `"UKSSSE"`, `"PUK"`, `"STKSSSE"`, `"BK"`),
    /// used whatever the card's algorithm.
    pub fn new(roots: BTreeMap<String, Vec<u8>>) -> RootKeys {
        RootKeys {
            any: roots,
            ..RootKeys::default()
        }
    }

    /// Adds a key set used only for cards of `algorithm` (takes precedence over the general set).
    pub fn with_algorithm(
        mut self,
        algorithm: Algorithm,
        roots: BTreeMap<String, Vec<u8>>,
    ) -> RootKeys {
        self.by_algorithm.insert(algorithm, roots);
        self
    }

    /// Sets the level of the roots (default: national).
    pub fn with_level(mut self, level: RootLevel) -> RootKeys {
        self.level = level;
        self
    }

    fn root(&self, algorithm: Algorithm, role: KeyRole) -> Result<&[u8], TerminalError> {
        self.by_algorithm
            .get(&algorithm)
            .and_then(|set| set.get(role.name()))
            .or_else(|| self.any.get(role.name()))
            .map(Vec::as_slice)
            .ok_or(TerminalError::MissingKey(role))
    }

    /// The card key of `role` for this card: the root diversified by the factors of its level.
    pub fn card_key(&self, role: KeyRole, card: &CardContext) -> Result<Vec<u8>, TerminalError> {
        let root = self.root(card.algorithm, role)?;
        let factors = card.factors()?;
        let used: &[[u8; 8]] = match self.level {
            RootLevel::National => &factors,
            RootLevel::Province => &factors[1..],
            RootLevel::City => &factors[2..],
        };
        crypto::diversify_chain(card.algorithm, root, used).map_err(|e| crypto_error(e, role))
    }
}

/// Maps a crypto error on a key of `role` to the terminal's error.
pub(crate) fn crypto_error(e: CryptoError, role: KeyRole) -> TerminalError {
    match e {
        CryptoError::UnsupportedAlgorithm(c) => TerminalError::UnsupportedAlgorithm(c),
        CryptoError::BadKeyLength(len) => TerminalError::BadKeyLength { role, len },
        CryptoError::BadInput(what) => TerminalError::InvalidInput(what.to_string()),
    }
}

impl KeyService for RootKeys {
    fn auth_data(
        &mut self,
        role: KeyRole,
        card: &CardContext,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], TerminalError> {
        let key = self.card_key(role, card)?;
        let session = crypto::session_key(card.algorithm, &key, process_factor)
            .map_err(|e| crypto_error(e, role))?;
        crypto::auth_data(card.algorithm, &session, original).map_err(|e| crypto_error(e, role))
    }

    fn secure_message(
        &mut self,
        role: KeyRole,
        card: &CardContext,
        process_factor: &[u8],
        header: &[u8; 5],
        plain: Option<&[u8]>,
    ) -> Result<Vec<u8>, TerminalError> {
        let key = self.card_key(role, card)?;
        let alg = card.algorithm;
        let session =
            crypto::session_key(alg, &key, process_factor).map_err(|e| crypto_error(e, role))?;
        let mut data = match plain {
            Some(p) => crypto::encipher(alg, &session, p).map_err(|e| crypto_error(e, role))?,
            None => Vec::new(),
        };
        let mut message = header.to_vec();
        message.extend_from_slice(&data);
        let mac = crypto::mac(alg, &session, &message).map_err(|e| crypto_error(e, role))?;
        data.extend_from_slice(&mac);
        Ok(data)
    }
}
