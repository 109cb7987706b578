//! The medical insurance personal account on the card (卡内基本医疗保险个人帐户, CIA), without
//! I/O: amounts, times, terminal numbers, the commands of part 5 §7 and of part 9 §9.9-9.10,
//! their responses, the transaction detail records of DF04 EF08 (V2.0 notice §8.5.3) and the
//! typed errors of an account transaction.
//!
//! The flows that use them are [`crate::lifecycle::account`]; the cryptograms (SESLK, SESPK,
//! MAC1, MAC2, TAC) are [`crate::crypto::account`]; the keys' holders
//! [`crate::keyholder::account`]. `docs/card-os.md` §8 is the protocol with its sources,
//! `docs/interop-profile.md` D31-D37 the choices where the specification is silent.

mod amount;
pub mod commands;
mod records;

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::{BcdDate, CardIdentificationCode, CardNumber};

pub use amount::{AmountError, Fen};
pub use records::{ri_debit_records, DetailRecord};

/// The AID (DF name) of DF04 社会保险信息区 2, which holds the account (V2.0 notice §5.1
/// table 2).
pub const DF04_AID: [u8; 6] = [0xD1, 0x56, 0x00, 0x00, 0x05, 0x03];
/// The file identifier of DF04.
pub const DF04: u16 = 0xDF04;
/// The SFI of the transaction detail file DF04 EF08 (医疗交易明细文件, V2.0 notice table 7).
pub const DETAIL_SFI: u8 = 0x08;
/// The card key id of DSK, the key of UPDATE STARTING DAY: part 9 table B1 leaves it to the
/// provinces; sscard takes the next id after DF04's UK2 (`86`) **\[design D34\]**.
pub const DSK_KEY_ID: u8 = 0x87;
/// The key index (密钥索引号) terminals send unless told otherwise: the card's first DLK/DPK,
/// version 1 (reader interface appendix B.1: DPK versions 1-3) **\[design D34\]**.
pub const DEFAULT_KEY_INDEX: u8 = 0x01;
/// The highest transaction serial: a card at it answers `9402` (part 5 table 68, 72).
pub const MAX_SERIAL: u16 = 0xFFFF;

/// The two account transactions. Their byte is the "交易类型标识" inside MAC1, MAC2 and TAC
/// (part 7 §11-12) and P2 of GET TRANSACTION PROOF (part 5 table 61); the detail record
/// holds the same code as one `an` character (V2.0 notice table 51) **\[design D31\]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum TransactionKind {
    /// 帐户划入: the holder's online account credited to the card (part 7 §11), `01`.
    Credit,
    /// 医疗消费 / 医疗结算: an offline purchase (part 7 §12), `02`.
    Purchase,
}

impl TransactionKind {
    /// The type byte of the cryptograms and of GET TRANSACTION PROOF: `01`, `02`.
    pub fn type_byte(self) -> u8 {
        match self {
            TransactionKind::Credit => 0x01,
            TransactionKind::Purchase => 0x02,
        }
    }

    /// The transaction kind of a type byte.
    pub fn from_type_byte(byte: u8) -> Option<TransactionKind> {
        match byte {
            0x01 => Some(TransactionKind::Credit),
            0x02 => Some(TransactionKind::Purchase),
            _ => None,
        }
    }

    /// The code of the detail record (V2.0 notice table 51): `'1'` 账户划入, `'2'` 医疗结算.
    pub fn record_code(self) -> u8 {
        match self {
            TransactionKind::Credit => b'1',
            TransactionKind::Purchase => b'2',
        }
    }

    /// The kind of a detail record's code.
    pub fn from_record_code(code: u8) -> Option<TransactionKind> {
        match code {
            b'1' => Some(TransactionKind::Credit),
            b'2' => Some(TransactionKind::Purchase),
            _ => None,
        }
    }

    /// `credit`, `purchase`.
    pub fn name(self) -> &'static str {
        match self {
            TransactionKind::Credit => "credit",
            TransactionKind::Purchase => "purchase",
        }
    }
}

impl fmt::Display for TransactionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The processing mode of the card's account, given by the record length of the detail file
/// (part 7 §12): 20 bytes, the personal account only; 28 bytes (the V2.0 notice's), account,
/// self-pay and pooled fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum ProcessingMode {
    /// 仅支持个人帐户处理模式: records of 20 bytes; self-pay, pooled, payment year and
    /// starting day are meaningless.
    AccountOnly,
    /// 个人帐户、个人自付、统筹基金支付三种医疗消费同时存在的处理模式: records of 28 bytes.
    ThreeAmounts,
}

impl ProcessingMode {
    /// The mode of a detail record length; `None` for a length part 7 §12 does not define.
    pub fn from_record_len(len: usize) -> Option<ProcessingMode> {
        match len {
            20 => Some(ProcessingMode::AccountOnly),
            28 => Some(ProcessingMode::ThreeAmounts),
            _ => None,
        }
    }

    /// The detail record length.
    pub fn record_len(self) -> usize {
        match self {
            ProcessingMode::AccountOnly => 20,
            ProcessingMode::ThreeAmounts => 28,
        }
    }
}

/// A terminal number (终端机编号, 6 bytes cn: 12 digits, V2.0 notice §8.5.3.3; a PSAM's
/// EF 0016, part 9 §5.3). Serialized as the 12 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct TerminalNumber(pub [u8; 6]);

impl TerminalNumber {
    /// "000000000000": the terminal number of a terminal without a PSAM (reader interface
    /// §8.2.2(4) note).
    pub const NONE: TerminalNumber = TerminalNumber([0; 6]);

    /// Parses 12 digits.
    pub fn parse(text: &str) -> Result<TerminalNumber, AccountError> {
        let t = text.trim();
        if t.len() != 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AccountError::BadInput(format!(
                "terminal number {t:?}: 12 digits"
            )));
        }
        let mut out = [0u8; 6];
        for (o, pair) in out.iter_mut().zip(t.as_bytes().chunks(2)) {
            *o = ((pair[0] - b'0') << 4) | (pair[1] - b'0');
        }
        Ok(TerminalNumber(out))
    }

    /// The 6 bytes of a card or PSAM, checked to be 12 BCD digits.
    pub fn from_bytes(bytes: [u8; 6]) -> Option<TerminalNumber> {
        bytes
            .iter()
            .all(|b| b >> 4 <= 9 && b & 0x0F <= 9)
            .then_some(TerminalNumber(bytes))
    }
}

impl fmt::Display for TerminalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

crate::data::text_conversions!(TerminalNumber, AccountError, TerminalNumber::parse);

/// A transaction time (交易时间, cn 7: `YYYYMMDDHHMMSS` packed BCD; V2.0 notice §8.5.3.4):
/// the host's for a credit, the terminal's for a purchase. A real date and time of day.
/// Serialized as the 14 digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct TransactionTime {
    bcd: [u8; 7],
    date: BcdDate,
}

impl TransactionTime {
    /// Parses `YYYYMMDDHHMMSS`.
    pub fn parse(text: &str) -> Result<TransactionTime, AccountError> {
        let t = text.trim();
        let bad =
            || AccountError::BadInput(format!("time {t:?}: YYYYMMDDHHMMSS, a real date and time"));
        if t.len() != 14 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let bytes: [u8; 7] = hex::decode(t)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(bad)?;
        TransactionTime::from_bcd(bytes).ok_or_else(bad)
    }

    /// The 7 BCD bytes, checked to be a real date (1900-2199) and time of day.
    pub fn from_bcd(bytes: [u8; 7]) -> Option<TransactionTime> {
        let d = |b: u8| (b >> 4 <= 9 && b & 0x0F <= 9).then(|| (b >> 4) * 10 + (b & 0x0F));
        let [c, y, m, day, hh, mm, ss] = bytes;
        let (c, y, m, day, hh, mm, ss) = (d(c)?, d(y)?, d(m)?, d(day)?, d(hh)?, d(mm)?, d(ss)?);
        let date = BcdDate::new(u16::from(c) * 100 + u16::from(y), m, day).ok()?;
        (hh < 24 && mm < 60 && ss < 60).then_some(TransactionTime { bcd: bytes, date })
    }

    /// The time from its parts.
    pub fn new(date: BcdDate, hour: u8, minute: u8, second: u8) -> Result<Self, AccountError> {
        TransactionTime::parse(&format!("{date}{hour:02}{minute:02}{second:02}"))
    }

    /// The 7 BCD bytes.
    pub fn to_bcd(self) -> [u8; 7] {
        self.bcd
    }

    /// The date part.
    pub fn date(self) -> BcdDate {
        self.date
    }
}

impl fmt::Debug for TransactionTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionTime({self})")
    }
}

impl fmt::Display for TransactionTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.bcd))
    }
}

crate::data::text_conversions!(TransactionTime, AccountError, TransactionTime::parse);

/// The three amounts of a purchase (part 5 table 70; part 7 §12.3): paid from the card's
/// personal account (个人帐户支付金额), the self-paid part within the pooled fund's scope
/// (个人自付金额, cash and account), paid by the pooled fund (统筹基金支付金额).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct PurchaseAmounts {
    /// Debited from the card's account balance.
    pub account: Fen,
    /// Added to the year's self-pay total (SPIP).
    pub self_pay: Fen,
    /// Added to the year's pooled-fund total (SPFP).
    pub pooled: Fen,
}

impl PurchaseAmounts {
    /// A purchase paid from the personal account alone.
    pub fn account_only(account: Fen) -> PurchaseAmounts {
        PurchaseAmounts {
            account,
            ..PurchaseAmounts::default()
        }
    }

    /// The 12 bytes of the commands and cryptograms: account ‖ self-pay ‖ pooled.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..4].copy_from_slice(&self.account.to_bytes());
        out[4..8].copy_from_slice(&self.self_pay.to_bytes());
        out[8..].copy_from_slice(&self.pooled.to_bytes());
        out
    }

    /// The amounts of 12 bytes.
    pub fn from_bytes(bytes: &[u8; 12]) -> PurchaseAmounts {
        let f = |i: usize| Fen::from_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        PurchaseAmounts {
            account: f(0),
            self_pay: f(4),
            pooled: f(8),
        }
    }

    /// Whether all three are zero.
    pub fn is_zero(self) -> bool {
        self.account.is_zero() && self.self_pay.is_zero() && self.pooled.is_zero()
    }
}

/// The reader interface's `pPayInfo` (§8.1.2(3)): `本次消费总金额|个人账户交易金额和统筹基金支付
/// 金额相加的总金额|交易时间|` — two amounts in yuan (at most two decimals, below 42949672.95)
/// and `YYYYMMDDHHMMSS`. They become the card's last two amounts (self-pay ‖ pooled), the
/// account amount 0: the interface's HSM line and answers carry those two only (§8.2.2(4),
/// "交易金额…后两个金额拼接组成") **\[design D36\]**.
pub fn ri_pay_info(text: &str) -> Result<(PurchaseAmounts, TransactionTime), AccountError> {
    let fields: Vec<&str> = text.strip_suffix('|').unwrap_or(text).split('|').collect();
    let [total, second, time] = fields.as_slice() else {
        return Err(AccountError::BadInput(format!(
            "pPayInfo has {} fields, expected 3: total|account and pooled total|YYYYMMDDHHMMSS|",
            fields.len()
        )));
    };
    let amounts = PurchaseAmounts {
        account: Fen::ZERO,
        self_pay: Fen::parse_yuan(total)?,
        pooled: Fen::parse_yuan(second)?,
    };
    if amounts.is_zero() {
        return Err(AccountError::BadInput(
            "pPayInfo: both amounts are 0.00".into(),
        ));
    }
    Ok((amounts, TransactionTime::parse(time)?))
}

/// GET BALANCE's three values (part 5 §7.3): P2 `01`, `02`, `03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BalanceKind {
    /// CIA 余额: the personal account's balance (P2 `01`, Le `04`).
    Account,
    /// SPIP: the year's self-pay total (年度个人自付累计金额, P2 `02`, Le `06`).
    SelfPayTotal,
    /// SPFP: the year's pooled-fund total (年度统筹基金支付累计金额, P2 `03`, Le `06`).
    PooledTotal,
}

impl BalanceKind {
    /// P2 of GET BALANCE.
    pub fn p2(self) -> u8 {
        match self {
            BalanceKind::Account => 0x01,
            BalanceKind::SelfPayTotal => 0x02,
            BalanceKind::PooledTotal => 0x03,
        }
    }

    /// Le of GET BALANCE: the amount, and the payment year for the totals.
    pub fn le(self) -> usize {
        match self {
            BalanceKind::Account => 4,
            _ => 6,
        }
    }
}

/// A payment year (支付年度, 2 bytes) or starting day (年度起始日期, `mmdd`, 2 bytes), both
/// packed BCD **\[design D33\]**: the value as a number (`2024`, `101` for 01-01).
pub fn bcd2(bytes: [u8; 2]) -> Option<u16> {
    let d = |b: u8| {
        (b >> 4 <= 9 && b & 0x0F <= 9).then(|| u16::from(b >> 4) * 10 + u16::from(b & 0x0F))
    };
    Some(d(bytes[0])? * 100 + d(bytes[1])?)
}

/// The 2 BCD bytes of a number below 10000.
pub fn to_bcd2(value: u16) -> [u8; 2] {
    let v = value % 10000;
    let b = |n: u16| u8::try_from(((n / 10) << 4) | (n % 10)).unwrap_or(0);
    [b(v / 100), b(v % 100)]
}

/// What INITIALIZE FOR LOAD answers (part 5 table 67).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadInit {
    /// The balance before the credit.
    pub balance: Fen,
    /// The credit serial (CIA 划入交易序号) of this transaction: the card's online counter.
    pub serial: u16,
    /// The DLK version (密钥版本号).
    pub key_version: u8,
    /// The algorithm identifier (算法标识, the FCI's byte, **\[design D33\]**).
    pub algorithm: u8,
    /// The card's random (伪随机数 ICC).
    pub random: [u8; 4],
    /// MAC1: the card proves itself to the host (part 7 §11.2).
    pub mac1: [u8; 4],
}

impl LoadInit {
    /// Parses the 16 bytes.
    pub fn parse(data: &[u8]) -> Option<LoadInit> {
        let d: &[u8; 16] = data.try_into().ok()?;
        Some(LoadInit {
            balance: Fen::from_bytes([d[0], d[1], d[2], d[3]]),
            serial: u16::from_be_bytes([d[4], d[5]]),
            key_version: d[6],
            algorithm: d[7],
            random: [d[8], d[9], d[10], d[11]],
            mac1: [d[12], d[13], d[14], d[15]],
        })
    }

    /// The 16 bytes (the simulated card's answer).
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&self.balance.to_bytes());
        out[4..6].copy_from_slice(&self.serial.to_be_bytes());
        out[6] = self.key_version;
        out[7] = self.algorithm;
        out[8..12].copy_from_slice(&self.random);
        out[12..].copy_from_slice(&self.mac1);
        out
    }
}

/// What INITIALIZE FOR PURCHASE answers (part 5 table 71).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseInit {
    /// The balance before the purchase.
    pub balance: Fen,
    /// SPIP: the year's self-pay total so far.
    pub self_pay_total: Fen,
    /// SPFP: the year's pooled-fund total so far.
    pub pooled_total: Fen,
    /// The payment year of the totals (BCD, [`bcd2`]).
    pub payment_year: [u8; 2],
    /// The purchase serial (医疗消费交易序号) of this transaction: the card's offline counter.
    pub serial: u16,
    /// The DPK version (密钥版本号).
    pub key_version: u8,
    /// The algorithm identifier.
    pub algorithm: u8,
    /// The card's random.
    pub random: [u8; 4],
}

impl PurchaseInit {
    /// Parses the 22 bytes.
    pub fn parse(data: &[u8]) -> Option<PurchaseInit> {
        let d: &[u8; 22] = data.try_into().ok()?;
        let f = |i: usize| Fen::from_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
        Some(PurchaseInit {
            balance: f(0),
            self_pay_total: f(4),
            pooled_total: f(8),
            payment_year: [d[12], d[13]],
            serial: u16::from_be_bytes([d[14], d[15]]),
            key_version: d[16],
            algorithm: d[17],
            random: [d[18], d[19], d[20], d[21]],
        })
    }

    /// The 22 bytes (the simulated card's answer).
    pub fn to_bytes(&self) -> [u8; 22] {
        let mut out = [0u8; 22];
        out[..4].copy_from_slice(&self.balance.to_bytes());
        out[4..8].copy_from_slice(&self.self_pay_total.to_bytes());
        out[8..12].copy_from_slice(&self.pooled_total.to_bytes());
        out[12..14].copy_from_slice(&self.payment_year);
        out[14..16].copy_from_slice(&self.serial.to_be_bytes());
        out[16] = self.key_version;
        out[17] = self.algorithm;
        out[18..].copy_from_slice(&self.random);
        out
    }
}

/// The proof of a transaction: its MAC and TAC (GET TRANSACTION PROOF, part 5 table 63). For a
/// purchase the MAC is the card's MAC2, for a credit the host's MAC2 the card accepted
/// **\[design D32\]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Proof {
    /// MAC (4 bytes).
    #[serde(with = "hex4")]
    #[cfg_attr(feature = "schemars", schemars(with = "String"))]
    pub mac: [u8; 4],
    /// TAC (4 bytes): what the host checks with DTK.
    #[serde(with = "hex4")]
    #[cfg_attr(feature = "schemars", schemars(with = "String"))]
    pub tac: [u8; 4],
}

/// Serde of 4 bytes as 8 hex digits.
pub(crate) mod hex4 {
    use serde::{Deserialize, Deserializer};

    pub(crate) use crate::codec::serialize_hex as serialize;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 4], D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(&text)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| serde::de::Error::custom("4 bytes as 8 hex digits"))
    }
}

/// A transaction sent to a card whose outcome the terminal has not seen yet: what a
/// terminal's journal keeps before the writing command (DEBIT FOR PURCHASE, CREDIT FOR LOAD),
/// and what [`crate::lifecycle::account::recover`] asks the card about (part 7 §14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct PendingTransaction {
    /// Credit or purchase.
    pub kind: TransactionKind,
    /// The card (part 7 §14: the terminal checks the card identification code …).
    pub card_id: CardIdentificationCode,
    /// … and the card number.
    pub card_number: CardNumber,
    /// The card's serial of the transaction (INITIALIZE's answer).
    pub card_serial: u16,
    /// The terminal (PSAM) serial of a purchase; 0 for a credit.
    pub terminal_serial: u32,
    /// The terminal number.
    pub terminal: TerminalNumber,
    /// The amounts (a credit's amount is `account`).
    pub amounts: PurchaseAmounts,
    /// The transaction time (terminal's or host's).
    pub time: TransactionTime,
    /// The balance before.
    pub balance_before: Fen,
}

impl PendingTransaction {
    /// The balance after, if the card applies the transaction.
    pub fn balance_after(&self) -> Option<Fen> {
        match self.kind {
            TransactionKind::Credit => self.balance_before.checked_add(self.amounts.account),
            TransactionKind::Purchase => self.balance_before.checked_sub(self.amounts.account),
        }
    }
}

/// Why an account transaction or read did not happen. Nothing was written unless the variant
/// says otherwise ([`AccountError::Interrupted`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The card has no medical account (no DF04, or its DF04 has no account: the command class
    /// `B0` unknown, `6E00`/`6D00`/`6A81`).
    #[error("this card has no medical insurance account (DF04 with the offline account of V2.0 notice §7): {0}")]
    NoAccount(String),
    /// An amount or other input is invalid (nothing was sent to the card).
    #[error("{0}")]
    BadInput(String),
    /// An amount in yuan could not be read.
    #[error(transparent)]
    Amount(#[from] AmountError),
    /// The purchase takes more from the account than its balance (`9401`, part 7 §12.2).
    #[error("insufficient balance: the purchase takes {amount} yuan from the account{balance}",
        balance = .balance.map(|b| format!(", which holds {b} yuan")).unwrap_or_default())]
    InsufficientBalance {
        /// The account amount asked for.
        amount: Fen,
        /// The balance, when known.
        balance: Option<Fen>,
    },
    /// A credit would take the balance beyond what the card accepts (4 bytes, or the card's
    /// own limit: `6985` to INITIALIZE FOR LOAD, **\[design D35\]**).
    #[error("the credit of {amount} yuan would exceed the card's balance limit{balance}",
        balance = .balance.map(|b| format!(" (balance {b} yuan)")).unwrap_or_default())]
    BalanceLimit {
        /// The amount asked for.
        amount: Fen,
        /// The balance, when known.
        balance: Option<Fen>,
    },
    /// The card does not support the key index (`9403`).
    #[error("the card does not support key index {0:02X} (9403)")]
    KeyIndex(u8),
    /// The card's transaction counter is at its maximum (`9402`): no more transactions of
    /// this kind.
    #[error("the card's {0} counter is at its maximum (9402): the card can make no more such transactions")]
    CounterAtMaximum(TransactionKind),
    /// The card asks for the holder's PIN (`6982`) and none was given.
    #[error("the card asks for the holder's PIN for this account operation (6982)")]
    PinRequired,
    /// The card refused the PSAM's (or HSM's) MAC1 (`9302`): nothing was debited; the key
    /// holder's DPK does not match the card.
    #[error("the card refused MAC1 of the purchase (9302): nothing was debited; the PSAM's purchase key does not match this card")]
    Mac1Refused,
    /// The card's MAC1 of a credit is wrong: the host refuses the credit (part 7 §11.3-11.4).
    #[error("the card's MAC1 is wrong: the host refuses the credit (the card is not genuine, or the key holder's DLK does not match it); nothing was credited")]
    CardMac1Invalid,
    /// The card refused the host's MAC2 of a credit (`9302`): nothing was credited.
    #[error("the card refused the host's MAC2 (9302): nothing was credited")]
    Mac2Refused,
    /// The card answered `6901`: it was not in the state the command needs (part 5 table 49);
    /// nothing was written.
    #[error("the card was not in the state {0} needs (6901): nothing was written, start the transaction again")]
    NotAccepted(&'static str),
    /// Self-pay or pooled amounts for a card that keeps the personal account only (20-byte
    /// detail records, part 7 §12).
    #[error("this card keeps the personal account only (20-byte transaction records, part 7 §12): self-pay and pooled amounts cannot be recorded")]
    AccountOnlyCard,
    /// The detail file's record length is neither 20 nor 28 bytes: a processing mode part 7
    /// §12 does not define.
    #[error("the card's transaction records have {0} bytes: an unknown processing mode (part 7 §12 defines 20 and 28)")]
    UnknownMode(usize),
    /// The card in the reader is not the card of the transaction being recovered.
    #[error("this is not the card of the pending transaction ({0})")]
    OtherCard(String),
    /// The writing command's answer never arrived (card removed, reset, reader failure): the
    /// card may or may not have applied the transaction. Run
    /// [`crate::lifecycle::account::recover`] with `pending` once the card is back.
    #[error("the card's answer to the {kind} was lost ({reason}): whether it was applied is decided by recovery (GET TRANSACTION PROOF, card serial {serial})",
        kind = .pending.kind, serial = .pending.card_serial)]
    Interrupted {
        /// The transaction to recover.
        pending: Box<PendingTransaction>,
        /// What happened.
        reason: String,
    },
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn terminal_numbers_and_times() {
        let t = TerminalNumber::parse("639900000042").unwrap();
        assert_eq!(t.0, [0x63, 0x99, 0x00, 0x00, 0x00, 0x42]);
        assert_eq!(t.to_string(), "639900000042");
        assert!(TerminalNumber::parse("63990000004").is_err());
        assert!(TerminalNumber::parse("63990000004A").is_err());
        assert_eq!(TerminalNumber::from_bytes([0x6A; 6]), None);

        let time = TransactionTime::parse("20240615093000").unwrap();
        assert_eq!(time.to_bcd(), [0x20, 0x24, 0x06, 0x15, 0x09, 0x30, 0x00]);
        assert_eq!(time.to_string(), "20240615093000");
        assert_eq!(time.date(), BcdDate::new(2024, 6, 15).unwrap());
        for bad in [
            "20240230093000",
            "20241315093000",
            "20240615250000",
            "2024061509300",
            "2024061509300X",
        ] {
            assert!(TransactionTime::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&time).unwrap(), "\"20240615093000\"");
    }

    #[test]
    fn reader_interface_pay_info() {
        let (a, t) = ri_pay_info("100.00|50.5|20140801120001|").unwrap();
        assert_eq!(
            (a.account, a.self_pay, a.pooled),
            (Fen(0), Fen(10_000), Fen(5_050))
        );
        assert_eq!(t.to_string(), "20140801120001");
        for bad in [
            "100.00|50.00|",
            "100.00|50.00|2014080112000|",
            "100.001|50.00|20140801120001|",
            "-1|50.00|20140801120001|",
            "0|0.00|20140801120001|",
            "100|50|20140801120001|x|",
        ] {
            assert!(ri_pay_info(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn init_answers_round_trip() {
        let load = LoadInit {
            balance: Fen(1),
            serial: 2,
            key_version: 1,
            algorithm: 3,
            random: [4, 5, 6, 7],
            mac1: [8, 9, 10, 11],
        };
        assert_eq!(LoadInit::parse(&load.to_bytes()), Some(load));
        assert_eq!(LoadInit::parse(&[0; 15]), None);
        let purchase = PurchaseInit {
            balance: Fen(100),
            self_pay_total: Fen(2),
            pooled_total: Fen(3),
            payment_year: [0x20, 0x24],
            serial: 9,
            key_version: 1,
            algorithm: 1,
            random: [1, 2, 3, 4],
        };
        assert_eq!(PurchaseInit::parse(&purchase.to_bytes()), Some(purchase));
        assert_eq!(bcd2([0x20, 0x24]), Some(2024));
        assert_eq!(bcd2([0x01, 0x01]), Some(101));
        assert_eq!(bcd2([0x1A, 0x01]), None);
        assert_eq!(to_bcd2(2024), [0x20, 0x24]);
        assert_eq!(to_bcd2(1231), [0x12, 0x31]);
        let a = PurchaseAmounts {
            account: Fen(1),
            self_pay: Fen(2),
            pooled: Fen(0x0102_0304),
        };
        assert_eq!(PurchaseAmounts::from_bytes(&a.to_bytes()), a);
    }
}
