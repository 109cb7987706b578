//! The blocklist file: a 64-byte header, sections, and a trailer (the SM2 signature of
//! everything before it; an SM3 checksum for the issuer's unsigned working list). All integers
//! are big-endian. docs/blocklist.md describes the layout byte by byte.

use sm3::{Digest, Sm3};
use sscard_core::data::BcdDate;

use crate::entry::{CardRange, WideKey};
use crate::error::{Error, Result};
use crate::keys::{IssuerKey, KeyId, TrustedKey, SIGNATURE_LEN};
use crate::table::{self, CardTable};

/// The first four bytes.
pub const MAGIC: [u8; 4] = *b"SSBL";
/// The format version this library writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes of the header.
pub const HEADER_LEN: usize = 64;
const SECTION_HEADER: usize = 16;
const CHECKSUM_LEN: usize = 32;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A complete list of one version.
    Full,
    /// The changes from version N to N+1.
    Delta,
    /// The issuer's working list (unsigned; entries and the changes since the last publication).
    Working,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::Full => 1,
            Kind::Delta => 2,
            Kind::Working => 3,
        }
    }

    fn from_code(code: u8) -> Option<Kind> {
        match code {
            1 => Some(Kind::Full),
            2 => Some(Kind::Delta),
            3 => Some(Kind::Working),
            _ => None,
        }
    }

    /// The section types, in order (role in the high two bits, table in the low ones).
    fn sections(self) -> &'static [u8] {
        match self {
            Kind::Full => &[0x01, 0x02, 0x03],
            Kind::Delta => &[0x41, 0x42, 0x43, 0x81, 0x82, 0x83],
            Kind::Working => &[0x01, 0x02, 0x03, 0xC1, 0xC2, 0xC3, 0x81, 0x82, 0x83],
        }
    }

    fn trailer_len(self) -> usize {
        match self {
            Kind::Working => CHECKSUM_LEN,
            _ => SIGNATURE_LEN,
        }
    }

    /// `full`, `delta` or `working`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Delta => "delta",
            Kind::Working => "working",
        }
    }
}

/// The header's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Full, delta or working.
    pub kind: Kind,
    /// The list version the file holds (full) or produces (delta); the last published one
    /// (working).
    pub version: u64,
    /// The version a delta applies to (`version - 1`); 0 otherwise.
    pub base: u64,
    /// The day it was published (none in a working list).
    pub issued: Option<BcdDate>,
    /// First valid day.
    pub valid_from: Option<BcdDate>,
    /// Last valid day.
    pub valid_until: Option<BcdDate>,
    /// The signer's key id (zero in a working list).
    pub key_id: KeyId,
}

/// The three tables of one role (list, added, removed, changed).
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub(crate) cards: CardTable,
    pub(crate) wide: Vec<(WideKey, u32)>,
    pub(crate) ranges: Vec<(CardRange, u32)>,
}

impl Part {
    pub(crate) fn empty() -> Part {
        Part {
            cards: CardTable::empty(),
            wide: Vec::new(),
            ranges: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> u64 {
        u64::from(self.cards.len()) + self.wide.len() as u64 + self.ranges.len() as u64
    }
}

/// The same tables, encoded.
pub(crate) struct EncodedPart {
    pub(crate) cards: (u32, Vec<u8>),
    pub(crate) wide: (u32, Vec<u8>),
    pub(crate) ranges: (u32, Vec<u8>),
}

impl EncodedPart {
    /// Encodes sorted permuted card keys, wide cards and ranges with their packed marks.
    pub(crate) fn new(
        cards: &[(u128, u32)],
        wide: &[(WideKey, u32)],
        ranges: &[(CardRange, u32)],
    ) -> EncodedPart {
        EncodedPart {
            cards: (cards.len() as u32, table::encode_cards(cards)),
            wide: (wide.len() as u32, table::encode_wide(wide)),
            ranges: (ranges.len() as u32, table::encode_ranges(ranges)),
        }
    }
}

/// How a file's trailer is checked.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// The SM2 signature must verify with this key.
    Key(&'a TrustedKey),
    /// The trailer is not checked (showing a file without its key; fuzzing the parser).
    Unverified,
}

fn date_u32(date: Option<BcdDate>) -> u32 {
    date.and_then(|d| d.to_string().parse().ok()).unwrap_or(0)
}

fn date_of(value: u32, what: &str) -> Result<BcdDate> {
    format!("{value:08}")
        .parse()
        .map_err(|_| Error::Malformed(format!("{what} {value} is not a date")))
}

/// Writes a file: header, the parts' sections in the kind's order, and the trailer (signature
/// with `key`, or the checksum of a working list).
pub(crate) fn encode(
    header: &Header,
    parts: &[EncodedPart],
    key: Option<&IssuerKey>,
) -> Result<Vec<u8>> {
    let body: usize = parts
        .iter()
        .map(|p| 3 * SECTION_HEADER + p.cards.1.len() + p.wide.1.len() + p.ranges.1.len())
        .sum();
    let mut out = Vec::with_capacity(HEADER_LEN + body + header.kind.trailer_len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.push(header.kind.code());
    out.push(0);
    out.extend_from_slice(&header.version.to_be_bytes());
    out.extend_from_slice(&header.base.to_be_bytes());
    out.extend_from_slice(&date_u32(header.issued).to_be_bytes());
    out.extend_from_slice(&date_u32(header.valid_from).to_be_bytes());
    out.extend_from_slice(&date_u32(header.valid_until).to_be_bytes());
    out.extend_from_slice(&header.key_id.0);
    out.extend_from_slice(&(body as u64).to_be_bytes());
    let types = header.kind.sections();
    if types.len() != parts.len() * 3 {
        return Err(Error::Malformed(format!(
            "a {} file has {} sections",
            header.kind.name(),
            types.len()
        )));
    }
    out.push(types.len() as u8);
    out.resize(HEADER_LEN, 0);
    for (part, roles) in parts.iter().zip(types.chunks(3)) {
        for ((count, bytes), ty) in [&part.cards, &part.wide, &part.ranges]
            .into_iter()
            .zip(roles)
        {
            out.push(*ty);
            out.extend_from_slice(&[0, 0, 0]);
            out.extend_from_slice(&count.to_be_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        }
    }
    match (header.kind, key) {
        (Kind::Working, _) => {
            let digest = Sm3::digest(&out);
            out.extend_from_slice(&digest);
        }
        (_, Some(key)) => {
            let signature = key.sign(&out)?;
            out.extend_from_slice(&signature);
        }
        (_, None) => {
            return Err(Error::Key(
                "a full list or delta needs the signing key".into(),
            ))
        }
    }
    Ok(out)
}

fn be_u64(bytes: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = bytes.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_be_bytes(a)
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = bytes.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_be_bytes(a)
}

/// Reads the header and checks the file's size, format version and trailer. The checks run in
/// this order: magic, format version, kind, size (truncated, trailing bytes), signer key id,
/// signature (or checksum), header fields.
pub fn read_header(bytes: &[u8], trust: Trust<'_>) -> Result<Header> {
    if bytes.len() < HEADER_LEN {
        let n = bytes.len().min(4);
        return if bytes.get(..n) == MAGIC.get(..n) && !bytes.is_empty() {
            Err(Error::Truncated {
                expected: HEADER_LEN as u64,
                actual: bytes.len() as u64,
            })
        } else {
            Err(Error::NotBlocklist)
        };
    }
    if bytes.get(..4) != Some(&MAGIC[..]) {
        return Err(Error::NotBlocklist);
    }
    let format = u16::from_be_bytes([bytes[4], bytes[5]]);
    if format != FORMAT_VERSION {
        return Err(Error::FormatVersion {
            found: format,
            supported: FORMAT_VERSION,
        });
    }
    let kind = Kind::from_code(bytes[6])
        .ok_or_else(|| Error::Malformed(format!("unknown file kind {}", bytes[6])))?;
    let body = be_u64(bytes, 44);
    let expected = (HEADER_LEN as u64)
        .checked_add(body)
        .and_then(|n| n.checked_add(kind.trailer_len() as u64))
        .ok_or_else(|| Error::Malformed("impossible body length".into()))?;
    let actual = bytes.len() as u64;
    if actual < expected {
        return Err(Error::Truncated { expected, actual });
    }
    if actual > expected {
        return Err(Error::TrailingData {
            extra: actual - expected,
        });
    }
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&bytes[36..44]);
    let key_id = KeyId(key_id);
    let signed_len = bytes.len() - kind.trailer_len();
    let (signed, trailer) = bytes.split_at(signed_len);
    match (kind, trust) {
        (Kind::Working, _) => {
            if Sm3::digest(signed).as_slice() != trailer {
                return Err(Error::BadChecksum);
            }
        }
        (_, Trust::Key(trusted)) => {
            if trusted.key_id() != key_id {
                return Err(Error::WrongKey {
                    found: key_id.to_string(),
                    trusted: trusted.key_id().to_string(),
                });
            }
            if !trusted.verify(signed, trailer) {
                return Err(Error::BadSignature);
            }
        }
        (_, Trust::Unverified) => {}
    }
    if bytes[7] != 0 || bytes[53..HEADER_LEN].iter().any(|b| *b != 0) {
        return Err(Error::Malformed("reserved header bytes are set".into()));
    }
    if usize::from(bytes[52]) != kind.sections().len() {
        return Err(Error::Malformed(format!(
            "{} sections in a {} file",
            bytes[52],
            kind.name()
        )));
    }
    let version = be_u64(bytes, 8);
    let base = be_u64(bytes, 16);
    let (issued, from, until) = (be_u32(bytes, 24), be_u32(bytes, 28), be_u32(bytes, 32));
    let (issued, valid_from, valid_until) = if kind == Kind::Working {
        if issued != 0 || from != 0 || until != 0 || base != 0 {
            return Err(Error::Malformed("dates or base in a working list".into()));
        }
        (None, None, None)
    } else {
        let from = date_of(from, "valid-from date")?;
        let until = date_of(until, "valid-until date")?;
        if from > until {
            return Err(Error::Malformed(format!(
                "validity period {from}-{until} ends before it starts"
            )));
        }
        (
            Some(date_of(issued, "issue date")?),
            Some(from),
            Some(until),
        )
    };
    match kind {
        Kind::Full if version == 0 || base != 0 => {
            return Err(Error::Malformed(format!(
                "full list version {version} with base {base}"
            )))
        }
        Kind::Delta if version == 0 || base.checked_add(1) != Some(version) => {
            return Err(Error::Malformed(format!(
                "delta from version {base} to {version}"
            )))
        }
        _ => {}
    }
    Ok(Header {
        kind,
        version,
        base,
        issued,
        valid_from,
        valid_until,
        key_id,
    })
}

/// A parsed file: the header and its parts (full: the list; delta: added, removed; working:
/// the list, the keys changed since publication, the keys removed since publication).
#[derive(Debug, Clone)]
pub(crate) struct File {
    pub(crate) header: Header,
    pub(crate) parts: Vec<Part>,
}

/// [`parse`] of a file that must be of `kind` (`needed` names that kind in the error, "a full
/// list").
pub(crate) fn parse_kind(
    bytes: Vec<u8>,
    trust: Trust<'_>,
    kind: Kind,
    needed: &str,
) -> Result<File> {
    let file = parse(bytes, trust)?;
    if file.header.kind != kind {
        return Err(Error::WrongKind(format!(
            "a {} file where {needed} is needed",
            file.header.kind.name()
        )));
    }
    Ok(file)
}

/// Parses and checks a whole file. The first card table keeps `bytes` as its storage (no copy
/// of a large list); the others copy their sections.
pub(crate) fn parse(bytes: Vec<u8>, trust: Trust<'_>) -> Result<File> {
    let header = read_header(&bytes, trust)?;
    let types = header.kind.sections();
    let end = bytes.len() - header.kind.trailer_len();
    let mut at = HEADER_LEN;
    let mut spans = Vec::with_capacity(types.len());
    for ty in types {
        let h = bytes
            .get(at..at + SECTION_HEADER)
            .ok_or_else(|| Error::Malformed("section header past the end".into()))?;
        if h[0] != *ty || h[1..4] != [0, 0, 0] {
            return Err(Error::Malformed(format!(
                "section type {:02X} where {ty:02X} belongs",
                h[0]
            )));
        }
        let count = be_u32(h, 4);
        let len = be_u64(h, 8);
        let start = at + SECTION_HEADER;
        let stop = u64::try_from(start)
            .ok()
            .and_then(|s| s.checked_add(len))
            .filter(|s| *s <= end as u64)
            .ok_or_else(|| Error::Malformed(format!("section {ty:02X} runs past the end")))?
            as usize;
        spans.push((*ty, count, start, stop));
        at = stop;
    }
    if at != end {
        return Err(Error::Malformed(format!(
            "{} bytes between the last section and the trailer",
            end - at
        )));
    }
    let mut parts: Vec<Part> = Vec::with_capacity(types.len() / 3);
    let mut first_cards = None;
    for group in spans.chunks(3) {
        let [(cty, ccount, cstart, cstop), (_, wcount, wstart, wstop), (_, rcount, rstart, rstop)] =
            group
        else {
            return Err(Error::Malformed("incomplete section group".into()));
        };
        let no_marks = cty & 0x80 != 0;
        let wide = table::parse_wide(&bytes[*wstart..*wstop], *wcount, no_marks)?;
        let ranges = table::parse_ranges(&bytes[*rstart..*rstop], *rcount, no_marks)?;
        let cards = if first_cards.is_none() {
            first_cards = Some((*ccount, *cstart, *cstop, no_marks));
            CardTable::empty()
        } else {
            CardTable::parse(bytes[*cstart..*cstop].to_vec(), 0, None, *ccount, no_marks)?
        };
        parts.push(Part {
            cards,
            wide,
            ranges,
        });
    }
    if let (Some((count, start, stop, no_marks)), Some(first)) = (first_cards, parts.first_mut()) {
        first.cards = CardTable::parse(bytes, start, Some(stop), count, no_marks)?;
    }
    Ok(File { header, parts })
}
