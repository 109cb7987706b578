//! The medical account of a simulated card: the COS-internal amounts file of DF04 (V2.0 notice
//! §7, after table 9: "医疗保险金额文件是 COS 内部操作文件": online counter 2, offline counter 2,
//! balance 4, SPIP 4, SPFP 4, payment year 2, starting day 2), its keys DLK, DPK, DTK, DSK, and
//! the proofs part 7 §14 keeps. It lives in DF04's part of the image:
//!
//! ```json
//! "DF04": { "keys": { … }, "files": { "EF08": { "capacity": 30, "records": [] }, … },
//!   "account": { "keys": { "DLK": { … }, "DPK": { … }, "DTK": { … }, "DSK": { … } },
//!     "key_index": 1, "record_len": 28, "online_serial": 0, "offline_serial": 0,
//!     "balance": 0, "self_pay_total": 0, "pooled_total": 0, "payment_year": "0000",
//!     "starting_day": "0101", "balance_limit": 4294967295, "proofs": [] } }
//! ```
//!
//! The transaction details are DF04 EF08's records (28 bytes, or 20 for a card that keeps the
//! personal account only, part 7 §12). The card OS's commands are in `card::account`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use sscard_core::account::{to_bcd2, ProcessingMode};
use sscard_core::crypto::CardFactors;
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::Algorithm;

use crate::card_key::{diversified_keys, CardKey, DEFAULT_KEY_VERSION};
use crate::error::SimError;
use crate::secret::SecretBytes;

/// The account's keys (part 6 table 3: 医疗保险交易密钥; DSK for the starting day).
pub const ACCOUNT_ROLES: [KeyRole; 4] = [KeyRole::Dlk, KeyRole::Dpk, KeyRole::Dtk, KeyRole::Dsk];

/// How a card's account is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSpec {
    /// The detail records' length: 28 (V2.0 notice, three amounts) or 20 (account only).
    pub mode: ProcessingMode,
    /// The key index INITIALIZE accepts (its DLK and DPK have this version).
    pub key_index: u8,
    /// The balance the card starts with, in fen (0 for a card as issued).
    pub balance: u32,
    /// The highest balance a credit may reach (\[design\] D35).
    pub balance_limit: u32,
    /// The starting day of the payment year, `mmdd` (default 01-01).
    pub starting_day: u16,
}

impl Default for AccountSpec {
    /// Three amounts, key index 1, balance 0, no limit but 4 bytes, starting on 01-01.
    fn default() -> AccountSpec {
        AccountSpec {
            mode: ProcessingMode::ThreeAmounts,
            key_index: sscard_core::account::DEFAULT_KEY_INDEX,
            balance: 0,
            balance_limit: u32::MAX,
            starting_day: 101,
        }
    }
}

impl AccountSpec {
    /// A card that keeps the personal account only (20-byte records).
    pub fn account_only(mut self) -> AccountSpec {
        self.mode = ProcessingMode::AccountOnly;
        self
    }

    /// A card that starts with `fen` in its account.
    pub fn with_balance(mut self, fen: u32) -> AccountSpec {
        self.balance = fen;
        self
    }

    /// A card whose balance may not exceed `fen`.
    pub fn with_limit(mut self, fen: u32) -> AccountSpec {
        self.balance_limit = fen;
        self
    }
}

/// The proof of the last transaction of one kind (part 7 §14): kept with the amounts, in the
/// same write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredProof {
    /// The type byte: `01` credit, `02` purchase.
    pub kind: u8,
    /// The card serial of the transaction.
    pub serial: u16,
    /// The MAC (MAC2).
    pub mac: SecretBytes,
    /// The TAC.
    pub tac: SecretBytes,
}

/// The account's persistent state (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountImage {
    /// DLK, DPK, DTK, DSK by role name; DLK's and DPK's version is the key index.
    pub keys: BTreeMap<String, CardKey>,
    /// The key index INITIALIZE FOR LOAD / PURCHASE accept (`9403` otherwise).
    pub key_index: u8,
    /// The detail records' length, 20 or 28 (the processing mode).
    pub record_len: usize,
    /// 基本医疗保险个人账户联网交易计数器: the credit serial.
    pub online_serial: u16,
    /// 脱网交易计数器: the purchase serial.
    pub offline_serial: u16,
    /// CIA: the balance in fen.
    pub balance: u32,
    /// SPIP: the payment year's self-pay total.
    pub self_pay_total: u32,
    /// SPFP: the payment year's pooled-fund total.
    pub pooled_total: u32,
    /// 支付年度, 4 digits (`"0000"` before the first purchase).
    pub payment_year: String,
    /// 年度起始日期, `mmdd`.
    pub starting_day: String,
    /// The highest balance a credit may reach (`6985`, \[design\] D35).
    pub balance_limit: u32,
    /// The proof of the last credit and of the last purchase.
    #[serde(default)]
    pub proofs: Vec<StoredProof>,
}

fn digits4(text: &str) -> Option<u16> {
    (text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

impl AccountImage {
    /// A new account for a card of `alg` with `factors`: the account keys diversified from the
    /// national roots like every card key (\[design\] D1), the amounts of `spec`.
    pub fn new(
        spec: &AccountSpec,
        keys: &RootKeys,
        alg: Algorithm,
        factors: &CardFactors,
    ) -> Result<AccountImage, SimError> {
        let out = diversified_keys(
            keys,
            alg,
            factors,
            &ACCOUNT_ROLES,
            |role| match role {
                KeyRole::Dlk | KeyRole::Dpk => spec.key_index,
                _ => DEFAULT_KEY_VERSION,
            },
            ", which the medical account needs",
        )?;
        let image = AccountImage {
            keys: out,
            key_index: spec.key_index,
            record_len: spec.mode.record_len(),
            online_serial: 0,
            offline_serial: 0,
            balance: spec.balance,
            self_pay_total: 0,
            pooled_total: 0,
            payment_year: "0000".into(),
            starting_day: format!("{:04}", spec.starting_day),
            balance_limit: spec.balance_limit,
            proofs: Vec::new(),
        };
        image.validate(alg)?;
        Ok(image)
    }

    /// The processing mode of its record length.
    pub fn mode(&self) -> Option<ProcessingMode> {
        ProcessingMode::from_record_len(self.record_len)
    }

    /// The key of `role`.
    pub fn key(&self, role: KeyRole) -> Option<&CardKey> {
        self.keys.get(role.name())
    }

    /// The payment year as a number.
    pub fn payment_year_value(&self) -> u16 {
        digits4(&self.payment_year).unwrap_or(0)
    }

    /// The starting day as `mmdd`.
    pub fn starting_day_value(&self) -> u16 {
        digits4(&self.starting_day).unwrap_or(101)
    }

    /// The payment year's 2 BCD bytes.
    pub fn payment_year_bcd(&self) -> [u8; 2] {
        to_bcd2(self.payment_year_value())
    }

    /// The proof kept for `kind`.
    pub fn proof(&self, kind: u8) -> Option<&StoredProof> {
        self.proofs.iter().find(|p| p.kind == kind)
    }

    /// Checks the keys (roles, lengths, counters), the mode, the numbers and the proofs.
    pub fn validate(&self, alg: Algorithm) -> Result<(), SimError> {
        let bad = |what: String| Err(SimError::InvalidImage(format!("DF04 account: {what}")));
        for (name, key) in &self.keys {
            let Some(role) = KeyRole::from_name(name).filter(|r| ACCOUNT_ROLES.contains(r)) else {
                return bad(format!("{name:?} is not DLK, DPK, DTK or DSK"));
            };
            if key.value.len() != role.key_len(alg) {
                return bad(format!(
                    "key {name} has {} bytes, a {alg} key has {}",
                    key.value.len(),
                    role.key_len(alg)
                ));
            }
            if key.max_tries == 0 || key.tries_left > key.max_tries || key.max_tries > 15 {
                return bad(format!("key {name}: counter out of range"));
            }
        }
        if self.mode().is_none() {
            return bad(format!(
                "record_len {}: 20 (account only) or 28 (three amounts)",
                self.record_len
            ));
        }
        if digits4(&self.payment_year).is_none() {
            return bad(format!("payment_year {:?}: 4 digits", self.payment_year));
        }
        let day = digits4(&self.starting_day)
            .filter(|d| (1..=12).contains(&(d / 100)) && (1..=31).contains(&(d % 100)));
        if day.is_none() {
            return bad(format!("starting_day {:?}: mmdd", self.starting_day));
        }
        if self.balance > self.balance_limit {
            return bad("the balance is above the balance limit".into());
        }
        for p in &self.proofs {
            if !matches!(p.kind, 1 | 2) || p.mac.len() != 4 || p.tac.len() != 4 {
                return bad("a proof is kind 1 or 2 with a 4-byte MAC and TAC".into());
            }
        }
        if self.proofs.iter().filter(|p| p.kind == 1).count() > 1
            || self.proofs.iter().filter(|p| p.kind == 2).count() > 1
        {
            return bad("one proof per kind".into());
        }
        Ok(())
    }
}
