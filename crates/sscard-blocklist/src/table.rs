//! The compact tables of the file and of memory (one layout for both):
//!
//! - the **card table**: single cards by their exact 128-bit key, permuted ([`permute`]) and
//!   sorted; the top `t` bits of a permuted key pick a bucket of a directory of `2^t + 1`
//!   cumulative counts, and each record stores only the other `128 - t` bits and the 17-bit
//!   mark, bit-packed. `t` is chosen per table to minimise its size (about `log2(n / 22)`), so
//!   a record of 10 million takes 126 bits and the directory 1.7 bits per entry;
//! - the **wide table**: cards whose key does not fit 128 bits (28 bytes each, sorted);
//! - the **range table**: card-number ranges (16 bytes each, sorted).
//!
//! [`permute`]: crate::entry

use crate::entry::{CardRange, WideKey};
use crate::error::{Error, Result};

/// Bits of a mark (reason and day).
pub(crate) const MARK_BITS: u32 = 17;
const MARK_MASK: u32 = (1 << MARK_BITS) - 1;
/// Bytes of a wide record: 25-byte key, 3-byte mark.
pub(crate) const WIDE_RECORD: usize = 28;
/// Bytes of a range record.
pub(crate) const RANGE_RECORD: usize = 16;

/// Big-endian bit writer.
struct BitWriter {
    out: Vec<u8>,
    acc: u128,
    bits: u32,
}

impl BitWriter {
    fn new(capacity: usize) -> BitWriter {
        BitWriter {
            out: Vec::with_capacity(capacity),
            acc: 0,
            bits: 0,
        }
    }

    /// Appends the low `n` (≤ 64) bits of `value`.
    fn push(&mut self, value: u64, n: u32) {
        if n == 0 {
            return;
        }
        let masked = if n == 64 {
            value
        } else {
            value & ((1u64 << n) - 1)
        };
        self.acc = (self.acc << n) | u128::from(masked);
        self.bits += n;
        while self.bits >= 8 {
            self.bits -= 8;
            self.out.push((self.acc >> self.bits) as u8);
        }
    }

    fn push_u128(&mut self, value: u128, n: u32) {
        if n > 64 {
            self.push((value >> 64) as u64, n - 64);
            self.push(value as u64, 64);
        } else {
            self.push(value as u64, n);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            self.out.push((self.acc << (8 - self.bits)) as u8);
        }
        self.out
    }
}

/// `n` (≤ 64) bits of `buf` at bit `pos`, big-endian; bits past the end read as zero.
#[inline]
fn read_bits(buf: &[u8], pos: u64, n: u32) -> u64 {
    if n == 0 {
        return 0;
    }
    let byte = (pos >> 3) as usize;
    let shift = (pos & 7) as u32;
    let window = match buf.get(byte..byte.saturating_add(16)) {
        Some(w) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(w);
            u128::from_be_bytes(a)
        }
        None => {
            let mut a = [0u8; 16];
            if let Some(tail) = buf.get(byte..) {
                for (slot, b) in a.iter_mut().zip(tail) {
                    *slot = *b;
                }
            }
            u128::from_be_bytes(a)
        }
    };
    ((window << shift) >> (128 - n)) as u64
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = buf.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_be_bytes(a)
}

/// Total bits of a card table of `count` records with `t` bucket bits.
fn table_bits(count: u64, t: u32) -> u128 {
    u128::from(count) * u128::from(128 - t + MARK_BITS) + 32 * ((1u128 << t) + 1)
}

/// The bucket bits that make the smallest table.
fn best_t(count: u64) -> u32 {
    (0..=24u32)
        .min_by_key(|t| table_bits(count, *t))
        .unwrap_or(0)
}

/// Encodes a card table from permuted keys in strictly increasing order with their packed
/// marks.
pub(crate) fn encode_cards(items: &[(u128, u32)]) -> Vec<u8> {
    let count = items.len() as u64;
    let t = best_t(count);
    let rem_bits = 128 - t;
    let buckets = 1usize << t;
    let bytes = 4
        + 4 * (buckets + 1)
        + ((count as u128 * u128::from(rem_bits + MARK_BITS)) as usize).div_ceil(8);
    let mut out = Vec::with_capacity(bytes);
    out.extend_from_slice(&[t as u8, 0, 0, 0]);
    // cumulative counts: dir[q] = records in buckets before q
    let mut next = 0usize;
    for q in 0..=buckets {
        while next < items.len() && bucket_of(items[next].0, t) < q as u64 {
            next += 1;
        }
        out.extend_from_slice(&(next as u32).to_be_bytes());
    }
    let mut w = BitWriter::new(bytes - out.len());
    for (key, mark) in items {
        w.push_u128(*key, rem_bits);
        w.push(u64::from(*mark & MARK_MASK), MARK_BITS);
    }
    out.extend_from_slice(&w.finish());
    out
}

#[inline]
fn bucket_of(permuted: u128, t: u32) -> u64 {
    if t == 0 {
        0
    } else {
        (permuted >> (128 - t)) as u64
    }
}

/// A card table inside a byte buffer (the loaded file, or a table rebuilt in memory).
/// Cloning shares the buffer.
#[derive(Debug, Clone)]
pub(crate) struct CardTable {
    bytes: std::sync::Arc<Vec<u8>>,
    /// Offset of the directory.
    dir: usize,
    /// Bit offset of the first record.
    rec: u64,
    count: u32,
    t: u32,
}

impl CardTable {
    /// An empty table.
    pub(crate) fn empty() -> CardTable {
        CardTable::parse(encode_cards(&[]), 0, None, 0, false).unwrap_or(CardTable {
            bytes: std::sync::Arc::new(vec![0; 12]),
            dir: 4,
            rec: 96,
            count: 0,
            t: 0,
        })
    }

    /// The table of the section `bytes[start..end]`, holding `count` records; with
    /// `removals`, every mark must be zero. Checks the layout completely: directory, order,
    /// padding.
    pub(crate) fn parse(
        bytes: Vec<u8>,
        start: usize,
        end: Option<usize>,
        count: u32,
        removals: bool,
    ) -> Result<CardTable> {
        let end = end.unwrap_or(bytes.len());
        let section = bytes
            .get(start..end)
            .ok_or_else(|| Error::Malformed("card table outside the file".into()))?;
        let (&t, _) = section
            .split_first()
            .ok_or_else(|| Error::Malformed("empty card table".into()))?;
        let t = u32::from(t);
        if t > 24 || section.get(1..4) != Some(&[0, 0, 0][..]) {
            return Err(Error::Malformed(format!("card table: bucket bits {t}")));
        }
        let buckets = 1u64 << t;
        let rec_bits = u64::from(128 - t + MARK_BITS);
        let expected = 4 + 4 * (buckets + 1) + (u64::from(count) * rec_bits).div_ceil(8);
        if section.len() as u64 != expected {
            return Err(Error::Malformed(format!(
                "card table of {count} records: {} bytes, expected {expected}",
                section.len()
            )));
        }
        let table = CardTable {
            dir: start + 4,
            rec: ((start + 4 + 4 * (buckets as usize + 1)) as u64) * 8,
            count,
            t,
            bytes: std::sync::Arc::new(bytes),
        };
        table.check(removals, end)?;
        Ok(table)
    }

    fn check(&self, removals: bool, end: usize) -> Result<()> {
        let buckets = 1usize << self.t;
        let mut previous = 0u32;
        if self.dir_at(0) != 0 || self.dir_at(buckets) != self.count {
            return Err(Error::Malformed(
                "card table directory: wrong bounds".into(),
            ));
        }
        for q in 1..=buckets {
            let d = self.dir_at(q);
            if d < previous {
                return Err(Error::Malformed(format!(
                    "card table directory: bucket {q} goes back"
                )));
            }
            previous = d;
        }
        for q in 0..buckets {
            let (a, b) = (self.dir_at(q), self.dir_at(q + 1));
            let mut last: Option<u128> = None;
            for i in a..b {
                let (r, mark) = self.record(i);
                if last.is_some_and(|l| l >= r) {
                    return Err(Error::Malformed(format!(
                        "card table: record {i} out of order or repeated"
                    )));
                }
                if removals && mark != 0 {
                    return Err(Error::Malformed(format!(
                        "card table: removal {i} carries a mark"
                    )));
                }
                last = Some(r);
            }
        }
        // padding bits after the last record are zero
        let used = self.rec + u64::from(self.count) * u64::from(128 - self.t + MARK_BITS);
        let pad = (8 - (used % 8) as u32) % 8;
        if pad > 0 && read_bits(&self.bytes[..end.min(self.bytes.len())], used, pad) != 0 {
            return Err(Error::Malformed("card table: padding bits set".into()));
        }
        Ok(())
    }

    #[inline]
    fn dir_at(&self, q: usize) -> u32 {
        read_u32(&self.bytes, self.dir + 4 * q)
    }

    /// The remainder and mark of record `i`.
    #[inline]
    fn record(&self, i: u32) -> (u128, u32) {
        let rem_bits = 128 - self.t;
        let pos = self.rec + u64::from(i) * u64::from(rem_bits + MARK_BITS);
        let hi_bits = rem_bits.saturating_sub(64);
        let hi = read_bits(&self.bytes, pos, hi_bits);
        let lo = read_bits(&self.bytes, pos + u64::from(hi_bits), rem_bits.min(64));
        let mark = read_bits(&self.bytes, pos + u64::from(rem_bits), MARK_BITS) as u32;
        ((u128::from(hi) << 64) | u128::from(lo), mark)
    }

    /// The packed mark of a permuted key, if listed.
    pub(crate) fn get(&self, permuted: u128) -> Option<u32> {
        let q = bucket_of(permuted, self.t) as usize;
        let rem = if self.t == 0 {
            permuted
        } else {
            permuted & (u128::MAX >> self.t)
        };
        let (mut lo, mut hi) = (self.dir_at(q), self.dir_at(q + 1));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (r, mark) = self.record(mid);
            match r.cmp(&rem) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mark),
            }
        }
        None
    }

    /// Records held.
    pub(crate) fn len(&self) -> u32 {
        self.count
    }

    /// Every (permuted key, packed mark), in increasing key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        let buckets = 1usize << self.t;
        (0..buckets).flat_map(move |q| {
            let (a, b) = (self.dir_at(q), self.dir_at(q + 1));
            (a..b).map(move |i| {
                let (r, mark) = self.record(i);
                let key = if self.t == 0 {
                    r
                } else {
                    ((q as u128) << (128 - self.t)) | r
                };
                (key, mark)
            })
        })
    }

    /// Heap bytes (the buffer's capacity).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
    }
}

// ---------------------------------------------------------------------------------------------
// wide cards and ranges

pub(crate) fn encode_wide(items: &[(WideKey, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() * WIDE_RECORD);
    for (key, mark) in items {
        out.extend_from_slice(key);
        out.extend_from_slice(&(mark & MARK_MASK).to_be_bytes()[1..]);
    }
    out
}

/// The `count` records of `size` bytes of a `what` table section, each decoded by `decode`
/// (its index and bytes), in strictly increasing order.
fn parse_records<K: PartialOrd>(
    section: &[u8],
    count: u32,
    size: usize,
    what: &str,
    mut decode: impl FnMut(usize, &[u8]) -> Result<(K, u32)>,
) -> Result<Vec<(K, u32)>> {
    if section.len() as u64 != u64::from(count) * size as u64 {
        return Err(Error::Malformed(format!(
            "{what} table of {count} records: {} bytes",
            section.len()
        )));
    }
    let mut out: Vec<(K, u32)> = Vec::with_capacity(count as usize);
    for (i, rec) in section.chunks_exact(size).enumerate() {
        let (key, mark) = decode(i, rec)?;
        if out.last().is_some_and(|(k, _)| *k >= key) {
            return Err(Error::Malformed(format!(
                "{what} record {i} out of order or repeated"
            )));
        }
        out.push((key, mark));
    }
    Ok(out)
}

pub(crate) fn parse_wide(
    section: &[u8],
    count: u32,
    removals: bool,
) -> Result<Vec<(WideKey, u32)>> {
    parse_records(section, count, WIDE_RECORD, "wide", |i, rec| {
        let mut key = [0u8; 25];
        key.copy_from_slice(&rec[..25]);
        let mark = u32::from_be_bytes([0, rec[25], rec[26], rec[27]]);
        if mark > MARK_MASK || (removals && mark != 0) {
            return Err(Error::Malformed(format!("wide record {i}: bad mark")));
        }
        match crate::entry::wide_card(&key) {
            None => return Err(Error::Malformed(format!("wide record {i}: not a card"))),
            // a card the compact table can hold belongs there (the look-up searches it there)
            Some((id, number)) if crate::entry::narrow_key(&id, &number).is_some() => {
                return Err(Error::Malformed(format!(
                    "wide record {i}: a card of the compact table"
                )))
            }
            // canonical: what the look-up computes for that card (capital letters)
            Some((id, number)) if crate::entry::wide_key(&id, &number) != key => {
                return Err(Error::Malformed(format!(
                    "wide record {i}: not in canonical form"
                )))
            }
            Some(_) => {}
        }
        Ok((key, mark))
    })
}

pub(crate) fn encode_ranges(items: &[(CardRange, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() * RANGE_RECORD);
    for (range, mark) in items {
        let (a, b) = range.values();
        let v =
            (u128::from(a) << 86) | (u128::from(b) << 44) | (u128::from(mark & MARK_MASK) << 27);
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

pub(crate) fn parse_ranges(
    section: &[u8],
    count: u32,
    removals: bool,
) -> Result<Vec<(CardRange, u32)>> {
    parse_records(section, count, RANGE_RECORD, "range", |i, rec| {
        let mut a = [0u8; 16];
        a.copy_from_slice(rec);
        let v = u128::from_be_bytes(a);
        let first = (v >> 86) as u64;
        let last = ((v >> 44) as u64) & ((1 << 42) - 1);
        let mark = ((v >> 27) as u32) & MARK_MASK;
        if v & ((1 << 27) - 1) != 0 || (removals && mark != 0) {
            return Err(Error::Malformed(format!(
                "range record {i}: reserved bits set"
            )));
        }
        let range = CardRange::from_values(first, last).ok_or_else(|| {
            Error::Malformed(format!("range record {i}: not a range of card numbers"))
        })?;
        Ok((range, mark))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn keys(n: u64, step: u128) -> Vec<(u128, u32)> {
        let mut v: Vec<(u128, u32)> = (0..n)
            .map(|i| {
                (
                    crate::entry::permute(u128::from(i) * step + 7),
                    (i % 131_072) as u32,
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn every_key_is_found_and_no_other() {
        for n in [0u64, 1, 2, 100, 5_000] {
            let items = keys(n, 1 << 40);
            let bytes = encode_cards(&items);
            let table = CardTable::parse(bytes, 0, None, n as u32, false).unwrap();
            assert_eq!(table.len() as u64, n);
            for (k, m) in &items {
                assert_eq!(table.get(*k), Some(*m));
                assert_eq!(table.get(k ^ 1), None);
            }
            assert_eq!(table.iter().collect::<Vec<_>>(), items);
        }
    }

    #[test]
    fn layout_damage_is_refused() {
        let items = keys(300, 3);
        let bytes = encode_cards(&items);
        // a count that does not match
        assert!(CardTable::parse(bytes.clone(), 0, None, 299, false).is_err());
        // records swapped: out of order
        let mut swapped = items.clone();
        swapped.swap(0, 1);
        let same_bucket =
            bucket_of(swapped[0].0, best_t(300)) == bucket_of(swapped[1].0, best_t(300));
        if same_bucket {
            assert!(CardTable::parse(encode_cards(&swapped), 0, None, 300, false).is_err());
        }
        // a directory going back
        let mut bad = bytes.clone();
        bad[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(CardTable::parse(bad, 0, None, 300, false).is_err());
        // marks in a removal table
        assert!(CardTable::parse(bytes, 0, None, 300, true).is_err());
    }

    #[test]
    fn ten_million_entries_fit_sixteen_bytes() {
        let t = best_t(10_000_000);
        let bits = table_bits(10_000_000, t) as f64 / 1e7;
        assert!(bits <= 128.0, "{bits} bits per entry (t = {t})");
    }
}
