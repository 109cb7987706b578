//! The issuer's side: a working list to add cards and ranges to and remove them from, and its
//! publication as a signed full list and the delta from the previous version.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sscard_core::data::BcdDate;

use crate::entry::{self, CardRange, Entry, Mark, WideKey};
use crate::error::{Error, Result};
use crate::format::{self, EncodedPart, Header, Kind, Part, Trust};
use crate::keys::{IssuerKey, KeyId};

/// An entry's exact key, in file order (single cards by permuted key, wide cards, ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Card(u128),
    Wide(WideKey),
    Range(CardRange),
}

fn key_of(entry: &Entry) -> Key {
    match entry {
        Entry::Card {
            card_id,
            card_number,
        } => match entry::narrow_key(card_id, card_number) {
            Some(k) => Key::Card(entry::permute(k)),
            None => Key::Wide(entry::wide_key(card_id, card_number)),
        },
        Entry::Range(r) => Key::Range(*r),
    }
}

fn entry_of(key: &Key) -> Option<Entry> {
    Some(match key {
        Key::Card(p) => {
            let (card_id, card_number) = entry::narrow_card(entry::unpermute(*p))?;
            Entry::Card {
                card_id,
                card_number,
            }
        }
        Key::Wide(w) => {
            let (card_id, card_number) = entry::wide_card(w)?;
            Entry::Card {
                card_id,
                card_number,
            }
        }
        Key::Range(r) => Entry::Range(*r),
    })
}

fn encode_part<'a>(items: impl Iterator<Item = (&'a Key, u32)>) -> EncodedPart {
    let (mut cards, mut wide, mut ranges) = (Vec::new(), Vec::new(), Vec::new());
    for (k, m) in items {
        match k {
            Key::Card(p) => cards.push((*p, m)),
            Key::Wide(w) => wide.push((*w, m)),
            Key::Range(r) => ranges.push((*r, m)),
        }
    }
    EncodedPart::new(&cards, &wide, &ranges)
}

fn keys_of(part: &Part) -> impl Iterator<Item = (Key, u32)> + '_ {
    part.cards
        .iter()
        .map(|(k, m)| (Key::Card(k), m))
        .chain(part.wide.iter().map(|(w, m)| (Key::Wide(*w), *m)))
        .chain(part.ranges.iter().map(|(r, m)| (Key::Range(*r), *m)))
}

/// The validity period and issue day of a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The day it is published.
    pub issued: BcdDate,
    /// First valid day.
    pub valid_from: BcdDate,
    /// Last valid day.
    pub valid_until: BcdDate,
}

fn header(kind: Kind, version: u64, period: Period, key: &IssuerKey) -> Result<Header> {
    if period.valid_from > period.valid_until {
        return Err(Error::BadEntry(format!(
            "validity period {}-{} ends before it starts",
            period.valid_from, period.valid_until
        )));
    }
    if version == 0 {
        return Err(Error::BadEntry("list versions start at 1".into()));
    }
    Ok(Header {
        kind,
        version,
        base: if kind == Kind::Delta { version - 1 } else { 0 },
        issued: Some(period.issued),
        valid_from: Some(period.valid_from),
        valid_until: Some(period.valid_until),
        key_id: key.public()?.key_id(),
    })
}

fn sorted_keys(entries: impl IntoIterator<Item = (Entry, u32)>) -> Result<Vec<(Key, u32)>> {
    let mut keys: Vec<(Key, u32)> = entries.into_iter().map(|(e, m)| (key_of(&e), m)).collect();
    keys.sort_unstable_by_key(|k| k.0);
    if let Some(w) = keys.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::BadEntry(format!(
            "{} is listed twice",
            entry_of(&w[0].0).map(|e| e.to_string()).unwrap_or_default()
        )));
    }
    Ok(keys)
}

/// Signs a full list of `entries` in one go (an issuer migrating an existing list, or
/// benchmarks): no working list needed. An entry given twice is refused.
pub fn sign_full(
    key: &IssuerKey,
    version: u64,
    period: Period,
    entries: impl IntoIterator<Item = (Entry, Mark)>,
) -> Result<Vec<u8>> {
    let keys = sorted_keys(entries.into_iter().map(|(e, m)| (e, m.pack())))?;
    let header = header(Kind::Full, version, period, key)?;
    format::encode(
        &header,
        &[encode_part(keys.iter().map(|(k, m)| (k, *m)))],
        Some(key),
    )
}

/// Signs the delta producing `version` from `version - 1`: entries added (or re-marked) and
/// entries removed. An entry in both is refused.
pub fn sign_delta(
    key: &IssuerKey,
    version: u64,
    period: Period,
    added: impl IntoIterator<Item = (Entry, Mark)>,
    removed: impl IntoIterator<Item = Entry>,
) -> Result<Vec<u8>> {
    let added = sorted_keys(added.into_iter().map(|(e, m)| (e, m.pack())))?;
    let removed = sorted_keys(removed.into_iter().map(|e| (e, 0)))?;
    if let Some((k, _)) = removed
        .iter()
        .find(|(k, _)| added.binary_search_by(|(a, _)| a.cmp(k)).is_ok())
    {
        return Err(Error::BadEntry(format!(
            "{} is both added and removed",
            entry_of(k).map(|e| e.to_string()).unwrap_or_default()
        )));
    }
    let header = header(Kind::Delta, version, period, key)?;
    format::encode(
        &header,
        &[
            encode_part(added.iter().map(|(k, m)| (k, *m))),
            encode_part(removed.iter().map(|(k, m)| (k, *m))),
        ],
        Some(key),
    )
}

/// What one publication produced.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The new version.
    pub version: u64,
    /// The signed full list of that version.
    pub full: Vec<u8>,
    /// The signed delta from the previous version (none for version 1).
    pub delta: Option<Vec<u8>>,
    /// Entries the delta adds or re-marks.
    pub added: usize,
    /// Entries the delta removes.
    pub removed: usize,
}

/// The issuer's working list: the entries, the version last published, and what changed since.
#[derive(Debug, Clone, Default)]
pub struct IssuerList {
    version: u64,
    entries: BTreeMap<Key, u32>,
    changed: BTreeSet<Key>,
    removed: BTreeSet<Key>,
}

impl IssuerList {
    /// An empty list, never published.
    pub fn new() -> IssuerList {
        IssuerList::default()
    }

    /// The version last published (0: never).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Entries listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Changes since the last publication: (added or re-marked, removed).
    pub fn pending(&self) -> (usize, usize) {
        (self.changed.len(), self.removed.len())
    }

    /// Lists an entry (or changes its mark). Returns the previous mark, if it was listed.
    pub fn add(&mut self, entry: &Entry, mark: Mark) -> Option<Mark> {
        let key = key_of(entry);
        let previous = self.entries.insert(key, mark.pack());
        if previous != Some(mark.pack()) {
            self.changed.insert(key);
        }
        self.removed.remove(&key);
        previous.and_then(Mark::unpack)
    }

    /// Takes an entry off the list (a card found again, a report made in error).
    pub fn remove(&mut self, entry: &Entry) -> Result<Mark> {
        let key = key_of(entry);
        let mark = self
            .entries
            .remove(&key)
            .ok_or_else(|| Error::NotListed(entry.to_string()))?;
        self.changed.remove(&key);
        self.removed.insert(key);
        Mark::unpack(mark).ok_or_else(|| Error::Malformed("a mark out of range".into()))
    }

    /// The mark of an entry, if listed.
    pub fn get(&self, entry: &Entry) -> Option<Mark> {
        self.entries
            .get(&key_of(entry))
            .copied()
            .and_then(Mark::unpack)
    }

    /// Every entry with its mark, in file order.
    pub fn entries(&self) -> impl Iterator<Item = (Entry, Mark)> + '_ {
        self.entries
            .iter()
            .filter_map(|(k, m)| Some((entry_of(k)?, Mark::unpack(*m)?)))
    }

    /// Signs the next version: the full list and the delta from the previous version (changes
    /// since the last publication). The list remembers the publication only when both are made.
    pub fn publish(
        &mut self,
        key: &IssuerKey,
        issued: BcdDate,
        valid_from: BcdDate,
        valid_until: BcdDate,
    ) -> Result<Publication> {
        let period = Period {
            issued,
            valid_from,
            valid_until,
        };
        let version = self.version + 1;
        let header = header(Kind::Full, version, period, key)?;
        let full = format::encode(
            &header,
            &[encode_part(self.entries.iter().map(|(k, m)| (k, *m)))],
            Some(key),
        )?;
        let delta = if self.version == 0 {
            None
        } else {
            let added = encode_part(
                self.changed
                    .iter()
                    .filter_map(|k| Some((k, *self.entries.get(k)?))),
            );
            let removed = encode_part(self.removed.iter().map(|k| (k, 0)));
            let header = Header {
                kind: Kind::Delta,
                base: self.version,
                ..header
            };
            Some(format::encode(&header, &[added, removed], Some(key))?)
        };
        let publication = Publication {
            version,
            full,
            delta,
            added: self.changed.len(),
            removed: self.removed.len(),
        };
        self.version = version;
        self.changed.clear();
        self.removed.clear();
        Ok(publication)
    }

    /// The working-list file (unsigned, with an SM3 checksum).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = Header {
            kind: Kind::Working,
            version: self.version,
            base: 0,
            issued: None,
            valid_from: None,
            valid_until: None,
            key_id: KeyId([0; 8]),
        };
        format::encode(
            &header,
            &[
                encode_part(self.entries.iter().map(|(k, m)| (k, *m))),
                encode_part(self.changed.iter().map(|k| (k, 0))),
                encode_part(self.removed.iter().map(|k| (k, 0))),
            ],
            None,
        )
    }

    /// Reads a working-list file.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<IssuerList> {
        let file = format::parse_kind(
            bytes,
            Trust::Unverified,
            Kind::Working,
            "the issuer's working list",
        )?;
        let [list, changed, removed] = <[Part; 3]>::try_from(file.parts)
            .map_err(|_| Error::Malformed("a working list has three parts".into()))?;
        let entries: BTreeMap<Key, u32> = keys_of(&list).collect();
        let changed: BTreeSet<Key> = keys_of(&changed).map(|(k, _)| k).collect();
        let removed: BTreeSet<Key> = keys_of(&removed).map(|(k, _)| k).collect();
        if !changed.iter().all(|k| entries.contains_key(k))
            || removed.iter().any(|k| entries.contains_key(k))
        {
            return Err(Error::Malformed(
                "the working list's changes do not match its entries".into(),
            ));
        }
        Ok(IssuerList {
            version: file.header.version,
            entries,
            changed,
            removed,
        })
    }

    /// Reads a working-list file from disk.
    pub fn load(path: &Path) -> Result<IssuerList> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        IssuerList::from_bytes(bytes)
    }

    /// Writes the working list atomically (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::store::write_atomic(path, &self.to_bytes()?)
    }
}
