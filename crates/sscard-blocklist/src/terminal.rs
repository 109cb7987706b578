//! The list a terminal holds: loaded from a signed full file, updated by signed deltas, looked
//! up during the validity check of part 7 §5.4 (part 8 §7.2: the single cards and the ranges).

use std::collections::BTreeMap;

use sscard_core::data::{BcdDate, CardIdentificationCode, CardNumber};

use crate::entry::{self, CardRange, Entry, Mark, WideKey};
use crate::error::{Error, Result};
use crate::format::{self, Header, Kind, Part, Trust};
use crate::keys::TrustedKey;
use crate::table::{self, CardTable};

/// Why a card is refused: the entry that matched and its mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The single card or the range that matched.
    pub entry: Entry,
    /// Reason and date.
    pub mark: Mark,
    /// The version of the list that said so.
    pub version: u64,
}

impl Hit {
    /// The operator's explanation, e.g. `reported lost on 20261120 (single card; blocklist
    /// version 18)`.
    pub fn describe(&self) -> String {
        let what = match &self.entry {
            Entry::Card { .. } => "single card".to_owned(),
            Entry::Range(r) => format!("card-number range {r}"),
        };
        format!(
            "{} on {} ({what}; blocklist version {})",
            self.mark.reason.describe(),
            self.mark.date,
            self.version
        )
    }
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Full or delta.
    pub kind: Kind,
    /// The version held before.
    pub from: u64,
    /// The version held now.
    pub to: u64,
    /// Entries added (or whose mark changed).
    pub added: u64,
    /// Entries removed.
    pub removed: u64,
}

/// Counts of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Single cards (narrow and wide).
    pub cards: u64,
    /// Card-number ranges.
    pub ranges: u64,
}

/// The terminal's list: an immutable compact table from the last full file, the changes of the
/// deltas applied since (small sorted vectors), the rare wide cards and the ranges.
#[derive(Debug, Clone)]
pub struct TerminalList {
    header: Header,
    base: CardTable,
    /// Permuted keys added or re-marked by deltas, sorted, with their marks.
    added: Vec<u128>,
    added_marks: Vec<u32>,
    /// How many of `added` are not in `base`.
    added_new: u64,
    /// Permuted keys of `base` removed by deltas, sorted.
    removed: Vec<u128>,
    wide: BTreeMap<WideKey, u32>,
    ranges: Vec<(CardRange, u32)>,
    /// Largest last card number of the ranges up to each index.
    range_max: Vec<u64>,
}

fn check_period(header: &Header, today: Option<BcdDate>) -> Result<()> {
    let Some(today) = today else {
        return Ok(());
    };
    if let Some(until) = header.valid_until {
        if today > until {
            return Err(Error::Expired {
                version: header.version,
                valid_until: until,
                today,
            });
        }
    }
    if let Some(from) = header.valid_from {
        if today < from {
            return Err(Error::NotYetValid {
                version: header.version,
                valid_from: from,
                today,
            });
        }
    }
    Ok(())
}

/// Flag in `added_marks`: the key is also in the base table (a changed mark, not a new card).
const IN_BASE: u32 = 1 << 31;

/// The sorted union of two sorted sequences without repeats.
fn merge_sorted(a: impl Iterator<Item = u128>, b: Vec<u128>) -> Vec<u128> {
    let mut out = Vec::with_capacity(b.len());
    let mut a = a.peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x <= y => a.next(),
            (_, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => break,
        };
        if let Some(v) = next {
            if out.last() != Some(&v) {
                out.push(v);
            }
        }
    }
    out
}

fn range_max(ranges: &[(CardRange, u32)]) -> Vec<u64> {
    let mut max = 0u64;
    ranges
        .iter()
        .map(|(r, _)| {
            max = max.max(r.values().1);
            max
        })
        .collect()
}

impl TerminalList {
    /// Loads a signed full list. `today` checks its validity period (`None`: not checked).
    pub fn from_full(
        bytes: Vec<u8>,
        key: &TrustedKey,
        today: Option<BcdDate>,
    ) -> Result<TerminalList> {
        let file = format::parse_kind(bytes, Trust::Key(key), Kind::Full, "a full list")?;
        check_period(&file.header, today)?;
        TerminalList::of_file(file)
    }

    /// A full list without checking its signature (showing a file without its key; never for
    /// the validity check).
    pub fn from_full_unverified(bytes: Vec<u8>) -> Result<TerminalList> {
        let file = format::parse_kind(bytes, Trust::Unverified, Kind::Full, "a full list")?;
        TerminalList::of_file(file)
    }

    fn of_file(file: format::File) -> Result<TerminalList> {
        let part = file.parts.into_iter().next().unwrap_or_else(Part::empty);
        let ranges = part.ranges;
        Ok(TerminalList {
            header: file.header,
            base: part.cards,
            added: Vec::new(),
            added_marks: Vec::new(),
            added_new: 0,
            removed: Vec::new(),
            wide: part.wide.into_iter().collect(),
            range_max: range_max(&ranges),
            ranges,
        })
    }

    /// Applies a signed update: a full list newer than the one held, or the delta from the
    /// version held to the next. Anything else — tampered, truncated, another key, another
    /// format version, older or equal (rollback), a gap, expired or not yet valid — is refused
    /// and the list stays exactly as it was.
    pub fn apply(
        &mut self,
        bytes: Vec<u8>,
        key: &TrustedKey,
        today: Option<BcdDate>,
    ) -> Result<Applied> {
        let file = format::parse(bytes, Trust::Key(key))?;
        self.apply_file(file, today)
    }

    pub(crate) fn apply_file(
        &mut self,
        file: format::File,
        today: Option<BcdDate>,
    ) -> Result<Applied> {
        let held = self.header.version;
        let offered = file.header.version;
        match file.header.kind {
            Kind::Working => {
                return Err(Error::WrongKind(
                    "the issuer's working list is not for terminals: publish it".into(),
                ))
            }
            _ if offered < held => return Err(Error::Rollback { held, offered }),
            _ if offered == held => return Err(Error::NotNewer { held }),
            Kind::Delta if file.header.base != held => {
                return Err(Error::Gap {
                    held,
                    base: file.header.base,
                    offered,
                })
            }
            _ => {}
        }
        check_period(&file.header, today)?;
        if file.header.kind == Kind::Full {
            let next = TerminalList::of_file(file)?;
            let added = next.len();
            *self = next;
            return Ok(Applied {
                kind: Kind::Full,
                from: held,
                to: offered,
                added,
                removed: 0,
            });
        }
        let mut parts = file.parts.into_iter();
        let (Some(add), Some(remove)) = (parts.next(), parts.next()) else {
            return Err(Error::Malformed("a delta without its two parts".into()));
        };
        let applied = Applied {
            kind: Kind::Delta,
            from: held,
            to: offered,
            added: add.len(),
            removed: remove.len(),
        };
        let next = self.merged(&add, &remove, file.header)?;
        *self = next;
        if self.added.len() + self.removed.len() > (self.base.len() as usize / 8).max(1 << 16) {
            self.compact();
        }
        Ok(applied)
    }

    /// The list after a delta (self unchanged). Costs a look-up in the base table per entry of
    /// the delta and a linear merge of the (small) change vectors; the base table is shared.
    fn merged(&self, add: &Part, remove: &Part, header: Header) -> Result<TerminalList> {
        let adds: Vec<(u128, u32)> = add
            .cards
            .iter()
            .map(|(k, m)| {
                let flag = if self.base.get(k).is_some() {
                    IN_BASE
                } else {
                    0
                };
                (k, m | flag)
            })
            .collect();
        let removes: Vec<u128> = remove.cards.iter().map(|(k, _)| k).collect();
        let in_adds = |k: &u128| adds.binary_search_by(|(a, _)| a.cmp(k)).is_ok();
        if removes.iter().any(in_adds) {
            return Err(Error::Malformed(
                "a delta adds and removes the same card".into(),
            ));
        }
        // added: the old changes, the delta's adds winning, without the delta's removals
        let mut added = Vec::with_capacity(self.added.len() + adds.len());
        let mut marks = Vec::with_capacity(self.added.len() + adds.len());
        let (mut i, mut j) = (0, 0);
        loop {
            let old = self.added.get(i).copied();
            let new = adds.get(j).copied();
            let (key, mark) = match (old, new) {
                (Some(o), Some((n, m))) if n <= o => {
                    j += 1;
                    if n == o {
                        i += 1;
                    }
                    (n, m)
                }
                (Some(o), _) => {
                    let m = self.added_marks.get(i).copied().unwrap_or(0);
                    i += 1;
                    (o, m)
                }
                (None, Some((n, m))) => {
                    j += 1;
                    (n, m)
                }
                (None, None) => break,
            };
            if removes.binary_search(&key).is_err() {
                added.push(key);
                marks.push(mark);
            }
        }
        // removed: base keys removed by any delta and not added back since
        let fresh: Vec<u128> = removes
            .iter()
            .copied()
            .filter(|k| self.base.get(*k).is_some())
            .collect();
        let kept = self.removed.iter().copied().filter(|k| !in_adds(k));
        let removed = merge_sorted(kept, fresh);
        let added_new = marks.iter().filter(|m| *m & IN_BASE == 0).count() as u64;
        let mut wide = self.wide.clone();
        for (k, _) in &remove.wide {
            wide.remove(k);
        }
        for (k, m) in &add.wide {
            wide.insert(*k, *m);
        }
        let mut ranges: BTreeMap<CardRange, u32> = self.ranges.iter().copied().collect();
        for (r, _) in &remove.ranges {
            ranges.remove(r);
        }
        for (r, m) in &add.ranges {
            ranges.insert(*r, *m);
        }
        let ranges: Vec<(CardRange, u32)> = ranges.into_iter().collect();
        Ok(TerminalList {
            header,
            base: self.base.clone(),
            added,
            added_marks: marks,
            added_new,
            removed,
            wide,
            range_max: range_max(&ranges),
            ranges,
        })
    }

    /// Folds the deltas' changes into a new compact table (memory only; the signed files stay
    /// what they are).
    pub fn compact(&mut self) {
        let items = self.card_items();
        let bytes = table::encode_cards(&items);
        if let Ok(table) = CardTable::parse(bytes, 0, None, items.len() as u32, false) {
            self.base = table;
            self.added = Vec::new();
            self.added_marks = Vec::new();
            self.added_new = 0;
            self.removed = Vec::new();
        }
    }

    /// Every (permuted key, packed mark) of the narrow cards, in key order.
    fn card_items(&self) -> Vec<(u128, u32)> {
        let mut out = Vec::with_capacity(self.base.len() as usize + self.added.len());
        let mut base = self.base.iter().peekable();
        let mut i = 0;
        loop {
            let b = base.peek().copied();
            let a = self.added.get(i).copied();
            match (b, a) {
                (Some((bk, bm)), Some(ak)) if bk < ak => {
                    base.next();
                    if self.removed.binary_search(&bk).is_err() {
                        out.push((bk, bm));
                    }
                }
                (_, Some(ak)) => {
                    if b.is_some_and(|(bk, _)| bk == ak) {
                        base.next();
                    }
                    out.push((ak, self.added_marks.get(i).copied().unwrap_or(0)));
                    i += 1;
                }
                (Some((bk, bm)), None) => {
                    base.next();
                    if self.removed.binary_search(&bk).is_err() {
                        out.push((bk, bm));
                    }
                }
                (None, None) => break,
            }
        }
        out
    }

    /// Looks a card up: first as a single card (exact card identification code and card
    /// number), then in the ranges.
    pub fn lookup(
        &self,
        card_id: &CardIdentificationCode,
        card_number: &CardNumber,
    ) -> Option<Hit> {
        let version = self.header.version;
        let card = || Entry::Card {
            card_id: *card_id,
            card_number: card_number.clone(),
        };
        let single = match entry::narrow_key(card_id, card_number) {
            Some(key) => {
                let p = entry::permute(key);
                match self.added.binary_search(&p) {
                    Ok(i) => self.added_marks.get(i).copied(),
                    Err(_) if self.removed.binary_search(&p).is_ok() => None,
                    Err(_) => self.base.get(p),
                }
            }
            None => self
                .wide
                .get(&entry::wide_key(card_id, card_number))
                .copied(),
        };
        if let Some(mark) = single.and_then(Mark::unpack) {
            return Some(Hit {
                entry: card(),
                mark,
                version,
            });
        }
        self.lookup_range(card_number)
    }

    fn lookup_range(&self, card_number: &CardNumber) -> Option<Hit> {
        let value = entry::body_value(card_number.as_str()).ok()?;
        // ranges starting at or before the number
        let end = self.ranges.partition_point(|(r, _)| r.values().0 <= value);
        let mut i = end;
        while i > 0 {
            i -= 1;
            if self.range_max.get(i).is_none_or(|m| *m < value) {
                return None;
            }
            if let Some((r, m)) = self.ranges.get(i) {
                if r.values().1 >= value {
                    return Some(Hit {
                        entry: Entry::Range(*r),
                        mark: Mark::unpack(*m)?,
                        version: self.header.version,
                    });
                }
            }
        }
        None
    }

    /// The version held.
    pub fn version(&self) -> u64 {
        self.header.version
    }

    /// The header of the last file applied (its validity period is the list's).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Refuses a list past (or before) its validity period.
    pub fn check_current(&self, today: BcdDate) -> Result<()> {
        check_period(&self.header, Some(today))
    }

    /// Single cards and ranges held.
    pub fn counts(&self) -> Counts {
        Counts {
            cards: u64::from(self.base.len()) - self.removed.len() as u64
                + self.added_new
                + self.wide.len() as u64,
            ranges: self.ranges.len() as u64,
        }
    }

    /// Entries held.
    pub fn len(&self) -> u64 {
        let c = self.counts();
        c.cards + c.ranges
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes the list occupies (capacities of its buffers; the map nodes of the rare wide
    /// cards estimated at 64 bytes each).
    pub fn heap_bytes(&self) -> usize {
        self.base.heap_bytes()
            + self.added.capacity() * 16
            + self.added_marks.capacity() * 4
            + self.removed.capacity() * 16
            + self.wide.len() * 64
            + self.ranges.capacity() * std::mem::size_of::<(CardRange, u32)>()
            + self.range_max.capacity() * 8
    }

    /// Every entry with its mark: single cards ordered by card identification code and card
    /// number, then ranges.
    pub fn entries(&self) -> Vec<(Entry, Mark)> {
        let mut cards: Vec<(CardIdentificationCode, CardNumber, Mark)> = self
            .card_items()
            .into_iter()
            .filter_map(|(k, m)| {
                let (id, number) = entry::narrow_card(entry::unpermute(k))?;
                Some((id, number, Mark::unpack(m)?))
            })
            .chain(self.wide.iter().filter_map(|(k, m)| {
                let (id, number) = entry::wide_card(k)?;
                Some((id, number, Mark::unpack(*m)?))
            }))
            .collect();
        cards.sort_by(|a, b| (a.0.to_bytes(), &a.1).cmp(&(b.0.to_bytes(), &b.1)));
        cards
            .into_iter()
            .map(|(card_id, card_number, mark)| {
                (
                    Entry::Card {
                        card_id,
                        card_number,
                    },
                    mark,
                )
            })
            .chain(
                self.ranges
                    .iter()
                    .filter_map(|(r, m)| Some((Entry::Range(*r), Mark::unpack(*m)?))),
            )
            .collect()
    }
}

/// The contents of a delta file.
#[derive(Debug, Clone)]
pub struct Delta {
    /// Its header.
    pub header: Header,
    /// Entries added or re-marked, with their marks.
    pub added: Vec<(Entry, Mark)>,
    /// Entries removed.
    pub removed: Vec<Entry>,
}

fn part_entries(part: &Part) -> Vec<(Entry, u32)> {
    let cards = part.cards.iter().filter_map(|(k, m)| {
        let (card_id, card_number) = entry::narrow_card(entry::unpermute(k))?;
        Some((
            Entry::Card {
                card_id,
                card_number,
            },
            m,
        ))
    });
    let wide = part.wide.iter().filter_map(|(k, m)| {
        let (card_id, card_number) = entry::wide_card(k)?;
        Some((
            Entry::Card {
                card_id,
                card_number,
            },
            *m,
        ))
    });
    let ranges = part.ranges.iter().map(|(r, m)| (Entry::Range(*r), *m));
    cards.chain(wide).chain(ranges).collect()
}

/// Reads a delta file (showing it, checking it without a list of its base version).
pub fn read_delta(bytes: Vec<u8>, trust: Trust<'_>) -> Result<Delta> {
    let file = format::parse_kind(bytes, trust, Kind::Delta, "a delta")?;
    let mut parts = file.parts.iter();
    let (Some(add), Some(remove)) = (parts.next(), parts.next()) else {
        return Err(Error::Malformed("a delta without its two parts".into()));
    };
    Ok(Delta {
        header: file.header,
        added: part_entries(add)
            .into_iter()
            .filter_map(|(e, m)| Some((e, Mark::unpack(m)?)))
            .collect(),
        removed: part_entries(remove).into_iter().map(|(e, _)| e).collect(),
    })
}

impl sscard_core::lifecycle::Blocklist for TerminalList {
    fn lookup(&self, card_id: &CardIdentificationCode, card_number: &CardNumber) -> Option<String> {
        TerminalList::lookup(self, card_id, card_number).map(|h| h.describe())
    }
}
