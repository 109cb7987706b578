//! What a blocklist holds: the two record kinds of part 8 §7.1 (a single card by card
//! identification code and card number; a card-number range), each with a reason and a date,
//! and their exact compact keys.

use std::fmt;
use std::str::FromStr;

use sscard_core::data::{BcdDate, CardIdentificationCode, CardNumber, RegionCode};

use crate::error::{Error, Result};

/// Why a card is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The holder reported the card lost (挂失).
    Lost,
    /// The card is damaged and was (or will be) replaced.
    Damaged,
    /// A new card replaced this one (补换卡).
    Replaced,
    /// The issuer revoked the card (注销).
    Revoked,
}

impl Reason {
    /// Every reason, in code order.
    pub const ALL: [Reason; 4] = [
        Reason::Lost,
        Reason::Damaged,
        Reason::Replaced,
        Reason::Revoked,
    ];

    /// The 2-bit code in the file format.
    pub fn code(self) -> u32 {
        match self {
            Reason::Lost => 0,
            Reason::Damaged => 1,
            Reason::Replaced => 2,
            Reason::Revoked => 3,
        }
    }

    /// The reason of a 2-bit code (only the low two bits count).
    pub fn from_code(code: u32) -> Reason {
        match code & 3 {
            0 => Reason::Lost,
            1 => Reason::Damaged,
            2 => Reason::Replaced,
            _ => Reason::Revoked,
        }
    }

    /// The command-line name: `lost`, `damaged`, `replaced`, `revoked`.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Lost => "lost",
            Reason::Damaged => "damaged",
            Reason::Replaced => "replaced",
            Reason::Revoked => "revoked",
        }
    }

    /// What a terminal tells the operator.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Lost => "reported lost",
            Reason::Damaged => "reported damaged",
            Reason::Replaced => "replaced by a new card",
            Reason::Revoked => "revoked by the issuer",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Reason {
    type Err = Error;
    fn from_str(s: &str) -> Result<Reason> {
        Reason::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::BadEntry(format!(
                    "{s:?} is not a reason (lost, damaged, replaced, revoked)"
                ))
            })
    }
}

/// The first day a mark can carry (day 0 of the 15-bit day count): 2000-01-01, 10957 days
/// after 1970-01-01.
const EPOCH: i64 = 10_957;
/// Days a mark can count: 2000-01-01 to 2089-09-17.
const DAYS: u32 = 1 << 15;

/// The reason and date of an entry (17 bits in the file: reason in 2, days since 2000-01-01 in
/// 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mark {
    /// Why.
    pub reason: Reason,
    /// When it was reported (2000-01-01 to 2089-09-17).
    pub date: BcdDate,
}

impl Mark {
    /// A mark; the date must lie between 2000-01-01 and 2089-09-17.
    pub fn new(reason: Reason, date: BcdDate) -> Result<Mark> {
        day_of(date)?;
        Ok(Mark { reason, date })
    }

    /// The 17-bit packed value.
    pub(crate) fn pack(&self) -> u32 {
        // the date was checked when the mark was made
        let day = day_of(self.date).unwrap_or(0);
        (self.reason.code() << 15) | day
    }

    /// The mark of a 17-bit packed value (bits above 17 ignored). Every 15-bit day is a date
    /// between 2000 and 2089, so this is `None` only if the date type refused one.
    pub(crate) fn unpack(packed: u32) -> Option<Mark> {
        let reason = Reason::from_code(packed >> 15);
        let date = BcdDate::from_days_since_epoch(EPOCH + i64::from(packed & (DAYS - 1))).ok()?;
        Some(Mark { reason, date })
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.reason, self.date)
    }
}

fn day_of(date: BcdDate) -> Result<u32> {
    let days = date.days_since_epoch() - EPOCH;
    u32::try_from(days)
        .ok()
        .filter(|d| *d < DAYS)
        .ok_or_else(|| {
            Error::BadEntry(format!(
                "date {date}: a blocklist date lies between 20000101 and 20890917"
            ))
        })
}

/// A range of card numbers (卡号区段, part 8 §7.1): every card number whose first eight
/// characters lie between `first` and `last` (inclusive, in the order of `0-9` then `A-Z`, the
/// base-36 order). The ninth character, the check character, follows from the first eight and
/// plays no part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardRange {
    first: u64,
    last: u64,
}

/// 36^8: the number of 8-character card-number bodies.
const BODIES: u64 = 2_821_109_907_456;

impl CardRange {
    /// A range from two card numbers or 8-character prefixes (`first` ≤ `last`).
    pub fn new(first: &str, last: &str) -> Result<CardRange> {
        let a = body_value(first)?;
        let b = body_value(last)?;
        if a > b {
            return Err(Error::BadEntry(format!(
                "range {first}-{last}: the first card number comes after the last"
            )));
        }
        Ok(CardRange { first: a, last: b })
    }

    /// A range of body values (each below 36^8, `first` ≤ `last`).
    pub(crate) fn from_values(first: u64, last: u64) -> Option<CardRange> {
        (first <= last && last < BODIES).then_some(CardRange { first, last })
    }

    pub(crate) fn values(&self) -> (u64, u64) {
        (self.first, self.last)
    }

    /// Whether the card number lies in the range.
    pub fn contains(&self, number: &CardNumber) -> bool {
        body_value(number.as_str()).is_ok_and(|v| self.first <= v && v <= self.last)
    }

    /// The first eight characters of the first card number.
    pub fn first(&self) -> String {
        body_text(self.first)
    }

    /// The first eight characters of the last card number.
    pub fn last(&self) -> String {
        body_text(self.last)
    }
}

impl fmt::Display for CardRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first(), self.last())
    }
}

fn char_value(c: u8) -> Option<u64> {
    match c {
        b'0'..=b'9' => Some(u64::from(c - b'0')),
        b'A'..=b'Z' => Some(u64::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u64::from(c - b'a') + 10),
        _ => None,
    }
}

fn char_of(v: u64) -> char {
    match v {
        0..=9 => char::from(b'0' + v as u8),
        10..=35 => char::from(b'A' + (v - 10) as u8),
        _ => '?',
    }
}

/// The base-36 value of the first eight characters of a card number (8 or 9 characters given).
pub(crate) fn body_value(text: &str) -> Result<u64> {
    let bytes = text.trim().as_bytes();
    let bad = || {
        Error::BadEntry(format!(
            "{text:?}: a card number is 9 characters (or 8 without the check character) of 0-9 and A-Z"
        ))
    };
    if bytes.len() != 8 && bytes.len() != 9 {
        return Err(bad());
    }
    let mut value = 0u64;
    for (i, &c) in bytes.iter().enumerate() {
        let v = char_value(c).ok_or_else(bad)?;
        if i < 8 {
            value = value * 36 + v;
        }
    }
    Ok(value)
}

fn body_text(mut v: u64) -> String {
    let mut out = [b'0'; 8];
    for slot in out.iter_mut().rev() {
        *slot = char_of(v % 36) as u8;
        v /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An entry of the list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entry {
    /// One card: its card identification code and card number (part 7 §5.4: the terminal
    /// checks both).
    Card {
        /// The card identification code (EF05 01).
        card_id: CardIdentificationCode,
        /// The card number (EF05 07).
        card_number: CardNumber,
    },
    /// A card-number range.
    Range(CardRange),
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Card {
                card_id,
                card_number,
            } => write!(f, "card {card_id} {card_number}"),
            Entry::Range(r) => write!(f, "range {r}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// exact keys

/// Province-level codes in the order of their index (the same list `RegionCode` accepts).
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];
/// Region indexes: 34 provinces × 10 000 codes below each.
const REGIONS: u64 = 340_000;
/// Card-number codes of the narrow key: 36^8 bodies × 11 check characters (`0-9`, `X`).
const NUMBERS: u64 = BODIES * 11;
/// The low half of a narrow key stays below this (340 000 × 36^8 × 11 < 2^64).
pub(crate) const LO_LIMIT: u64 = REGIONS * NUMBERS;

/// The exact 128-bit key of a single card, when the card fits it: the serial and
/// authentication code in the high 64 bits, the region index and card-number code in the low
/// 64 (`region_index × 36^8 × 11 + body × 11 + check`). Cards whose check character is neither
/// a digit nor `X`, which no GB 11714 (mod 11) check produces, do not fit and go to the wide
/// table.
pub(crate) fn narrow_key(card_id: &CardIdentificationCode, number: &CardNumber) -> Option<u128> {
    let digits = card_id.region.ascii();
    let province = PROVINCES
        .iter()
        .position(|p| *p == card_id.region.province())?;
    let mut below = 0u64;
    for d in digits.get(2..6)? {
        below = below * 10 + u64::from(d.checked_sub(b'0')?);
    }
    let region_index = province as u64 * 10_000 + below;
    let bytes = number.as_str().as_bytes();
    let body = body_value(number.as_str()).ok()?;
    let check = match bytes.get(8)? {
        c @ b'0'..=b'9' => u64::from(c - b'0'),
        b'X' => 10,
        _ => return None,
    };
    let lo = region_index * NUMBERS + body * 11 + check;
    let hi = u64::from(u32::from_be_bytes(card_id.serial)) << 32
        | u64::from(u32::from_be_bytes(card_id.auth_code));
    Some((u128::from(hi) << 64) | u128::from(lo))
}

/// The card of a narrow key; `None` for a value no card produces.
pub(crate) fn narrow_card(key: u128) -> Option<(CardIdentificationCode, CardNumber)> {
    let hi = (key >> 64) as u64;
    let lo = key as u64;
    if lo >= LO_LIMIT {
        return None;
    }
    let region_index = lo / NUMBERS;
    let code = lo % NUMBERS;
    let province = PROVINCES.get(usize::try_from(region_index / 10_000).ok()?)?;
    let region = RegionCode::parse(&format!("{province:02}{:04}", region_index % 10_000)).ok()?;
    let check = match code % 11 {
        10 => 'X',
        c => char::from(b'0' + c as u8),
    };
    let mut text = body_text(code / 11);
    text.push(check);
    let card_number = CardNumber::from_card(&text).ok()?;
    let card_id = CardIdentificationCode {
        region,
        serial: ((hi >> 32) as u32).to_be_bytes(),
        auth_code: (hi as u32).to_be_bytes(),
    };
    Some((card_id, card_number))
}

/// The exact key of a card that does not fit the narrow key: the 16-byte card identification
/// code and the 9 characters of the card number.
pub(crate) type WideKey = [u8; 25];

pub(crate) fn wide_key(card_id: &CardIdentificationCode, number: &CardNumber) -> WideKey {
    let mut key = [0u8; 25];
    let (id, rest) = key.split_at_mut(16);
    id.copy_from_slice(&card_id.to_bytes());
    for (slot, c) in rest.iter_mut().zip(number.as_str().bytes()) {
        *slot = c;
    }
    key
}

pub(crate) fn wide_card(key: &WideKey) -> Option<(CardIdentificationCode, CardNumber)> {
    let (id, number) = key.split_at(16);
    let card_id = CardIdentificationCode::from_slice(id).ok()?;
    let number = CardNumber::from_card(std::str::from_utf8(number).ok()?).ok()?;
    Some((card_id, number))
}

// ---------------------------------------------------------------------------------------------
// the permutation

const ROUNDS: [u64; 4] = [
    0x9E37_79B9_7F4A_7C15,
    0xD1B5_4A32_D192_ED03,
    0xABC9_8388_FB8F_AC03,
    0x8CB9_2BA7_2F3D_8DD7,
];

fn round(x: u64, k: u64) -> u64 {
    // splitmix64's finalizer
    let mut z = x ^ k;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A fixed bijection of the 128-bit keys (a four-round Feistel network): it spreads keys that
/// cluster (consecutive serials, one region) evenly over the buckets of the table. Being a
/// bijection, it loses nothing: the table stores permuted keys exactly.
pub(crate) fn permute(key: u128) -> u128 {
    let (mut hi, mut lo) = ((key >> 64) as u64, key as u64);
    for k in ROUNDS {
        (hi, lo) = (lo, hi ^ round(lo, k));
    }
    (u128::from(hi) << 64) | u128::from(lo)
}

/// The inverse of [`permute`].
pub(crate) fn unpermute(value: u128) -> u128 {
    let (mut hi, mut lo) = ((value >> 64) as u64, value as u64);
    for k in ROUNDS.into_iter().rev() {
        (hi, lo) = (lo ^ round(hi, k), hi);
    }
    (u128::from(hi) << 64) | u128::from(lo)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn id(text: &str) -> CardIdentificationCode {
        text.parse().unwrap()
    }

    #[test]
    fn narrow_keys_are_exact_and_distinct() {
        let cards = [
            ("639900D15600000500BF7C7A48FB4966", "KD5578904"),
            ("639900D15600000500BF7C7A48FB4966", "KD5578913"),
            ("639901D15600000500BF7C7A48FB4966", "KD5578904"),
            ("110000D156000005FFFFFFFFFFFFFFFF", "ZZZZZZZZX"),
            ("829999D1560000050000000000000000", "000000000"),
        ];
        let mut keys = std::collections::BTreeSet::new();
        for (i, n) in cards {
            let card_id = id(i);
            let number = CardNumber::from_card(n).unwrap();
            let key = narrow_key(&card_id, &number).unwrap();
            assert_eq!(narrow_card(key), Some((card_id, number.clone())), "{i} {n}");
            assert_eq!(unpermute(permute(key)), key);
            assert!(keys.insert(key), "{i} {n} collides");
        }
        assert_eq!(keys.len(), cards.len());
        // the largest region index and card-number code stay below 2^64
        let top = id("829999D156000005FFFFFFFFFFFFFFFF");
        let key = narrow_key(&top, &CardNumber::from_card("ZZZZZZZZX").unwrap()).unwrap();
        assert_eq!(key as u64, LO_LIMIT - 1);
        assert!(narrow_card(key + 1).is_none());
    }

    #[test]
    fn check_characters_outside_the_mod_11_alphabet_are_wide() {
        let card_id = id("639900D15600000500BF7C7A48FB4966");
        let number = CardNumber::from_card("KD557890A").unwrap();
        assert_eq!(narrow_key(&card_id, &number), None);
        let key = wide_key(&card_id, &number);
        assert_eq!(wide_card(&key), Some((card_id, number)));
    }

    #[test]
    fn marks_round_trip_every_day_and_refuse_others() {
        for packed in [0u32, 1, 365, 9_000, DAYS - 1, (3 << 15) | 12_345] {
            let mark = Mark::unpack(packed).unwrap();
            assert_eq!(mark.pack(), packed);
        }
        let first = Mark::unpack(0).unwrap();
        assert_eq!(first.date.to_string(), "20000101");
        assert_eq!(first.date.days_since_epoch(), EPOCH);
        assert_eq!(Mark::unpack(DAYS - 1).unwrap().date.to_string(), "20890917");
        assert!(Mark::new(Reason::Lost, "19991231".parse().unwrap()).is_err());
        assert!(Mark::new(Reason::Lost, "20890918".parse().unwrap()).is_err());
        let m = Mark::new(Reason::Replaced, "20261201".parse().unwrap()).unwrap();
        assert_eq!(Mark::unpack(m.pack()), Some(m));
    }

    #[test]
    fn ranges_compare_the_first_eight_characters() {
        let r = CardRange::new("KD5578000", "KD557899").unwrap();
        assert_eq!(r.to_string(), "KD557800-KD557899");
        assert!(r.contains(&CardNumber::from_card("KD5578904").unwrap()));
        assert!(r.contains(&CardNumber::from_card("KD557800Z").unwrap()));
        assert!(!r.contains(&CardNumber::from_card("KD5579004").unwrap()));
        assert!(CardRange::new("KD557899", "KD557800").is_err());
        assert!(CardRange::new("KD55-7899", "KD557800").is_err());
        assert_eq!(
            "Damaged".parse::<Reason>().unwrap(),
            Reason::Damaged,
            "reasons are case-insensitive"
        );
        assert!("stolen".parse::<Reason>().is_err());
    }
}
