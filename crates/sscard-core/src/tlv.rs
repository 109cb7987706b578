//! TLV framing (ISO/IEC 7816-4 §5.2), the one walker of the workspace: the terminal, the
//! simulated card and the fuzz targets all frame and split TLVs here.
//!
//! - SIMPLE-TLV: the records of the SSSE files and of the data areas (part 3 §5.3; part 5
//!   §6.10, §6.13): a one-byte tag `01`-`FE`, a length of one byte (`00`-`FE`) or three
//!   (`FF hi lo`), the value. [`simple`], [`try_simple`], [`parse_simple`].
//! - BER-TLV: the FCI of SELECT (part 5 tables 36-38) and the records of the financial
//!   application: tags of one to three bytes, definite lengths in one, two (`81 xx`) or three
//!   (`82 hi lo`) bytes, constructed objects nested. [`ber`], [`find_ber`], and the data object
//!   lists (DOL: tag and length without value) of [`parse_dol`].
//!
//! Every function is total: malformed framing is a [`TlvError`] saying where, never a panic.
//! What a value means is the business of the callers ([`crate::codec`] for data items).

use thiserror::Error;

/// Why bytes are not the TLVs they should be. Offsets count from the start of the bytes given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TlvError {
    /// The data ends in the middle of a TLV.
    #[error(
        "TLV data truncated at offset {offset}: {needed} more bytes needed, {available} present"
    )]
    Truncated {
        /// Offset of the TLV (or of its length field) that is cut short.
        offset: usize,
        /// Bytes the TLV's header announces (or its length field needs).
        needed: usize,
        /// Bytes actually left.
        available: usize,
    },
    /// A SIMPLE-TLV tag `00` or `FF`, which ISO/IEC 7816-4 does not allow.
    #[error("TLV data has the invalid tag {tag:02X} at offset {offset}")]
    InvalidTag {
        /// Offset of the tag byte.
        offset: usize,
        /// The tag byte.
        tag: u8,
    },
    /// A BER-TLV tag longer than three bytes.
    #[error("BER-TLV tag longer than 3 bytes at offset {offset}")]
    TagTooLong {
        /// Offset of the tag.
        offset: usize,
    },
    /// A BER-TLV length form this protocol never uses (indefinite, or more than two bytes).
    #[error("BER-TLV length byte {byte:02X} at offset {offset} is not supported")]
    UnsupportedLength {
        /// Offset of the length byte.
        offset: usize,
        /// The length byte.
        byte: u8,
    },
    /// A value longer than the TLV's length field can announce.
    #[error("a {0}-byte value does not fit a SIMPLE-TLV (at most 65535 bytes)")]
    ValueTooLong(usize),
}

/// A SIMPLE-TLV: `tag ‖ length ‖ value`, with a 1-byte length up to 254 bytes and the 3-byte
/// form `FF hi lo` above. Values longer than 65535 bytes cannot be encoded and are cut to 65535
/// bytes (no card element is longer than a few hundred); use [`try_simple`] to be told.
pub fn simple(tag: u8, value: &[u8]) -> Vec<u8> {
    let value = value.get(..usize::from(u16::MAX)).unwrap_or(value);
    let mut out = Vec::with_capacity(value.len() + 4);
    out.push(tag);
    match u8::try_from(value.len()) {
        Ok(len) if len < 0xFF => out.push(len),
        _ => {
            let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
            out.push(0xFF);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(value);
    out
}

/// Like [`simple`], but an error for a value longer than 65535 bytes or the invalid tags
/// `00`/`FF`.
pub fn try_simple(tag: u8, value: &[u8]) -> Result<Vec<u8>, TlvError> {
    if tag == 0x00 || tag == 0xFF {
        return Err(TlvError::InvalidTag { offset: 0, tag });
    }
    if value.len() > usize::from(u16::MAX) {
        return Err(TlvError::ValueTooLong(value.len()));
    }
    Ok(simple(tag, value))
}

/// Splits a concatenation of SIMPLE-TLVs (what READ RECORD answers: one record, or all records
/// from a number on) into `(tag, value)` pairs, in order. Empty input gives none.
pub fn parse_simple(bytes: &[u8]) -> Result<Vec<(u8, &[u8])>, TlvError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut offset = 0usize;
    while let Some((&tag, after_tag)) = rest.split_first() {
        if tag == 0x00 || tag == 0xFF {
            return Err(TlvError::InvalidTag { offset, tag });
        }
        let (len, header, after_len) = match after_tag.split_first() {
            None => {
                return Err(TlvError::Truncated {
                    offset,
                    needed: 1,
                    available: 0,
                })
            }
            Some((0xFF, long)) => match long {
                [hi, lo, tail @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), 4, tail),
                _ => {
                    return Err(TlvError::Truncated {
                        offset,
                        needed: 2,
                        available: long.len(),
                    })
                }
            },
            Some((&len, tail)) => (usize::from(len), 2, tail),
        };
        let (value, tail) = split_value(after_len, len, offset)?;
        out.push((tag, value));
        rest = tail;
        offset += header + len;
    }
    Ok(out)
}

/// A TLV's value, the `len` bytes starting `rest`, and what follows it (`offset`: the TLV's, for
/// the error when `rest` is shorter).
fn split_value(rest: &[u8], len: usize, offset: usize) -> Result<(&[u8], &[u8]), TlvError> {
    rest.split_at_checked(len).ok_or(TlvError::Truncated {
        offset,
        needed: len,
        available: rest.len(),
    })
}

/// A BER-TLV object with a definite length: short form below 128 bytes, `81 xx` below 256,
/// `82 hi lo` above (values longer than 65535 bytes are cut to 65535).
pub fn ber(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let value = value.get(..usize::from(u16::MAX)).unwrap_or(value);
    let mut out = Vec::with_capacity(tag.len() + value.len() + 3);
    out.extend_from_slice(tag);
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        Ok(one) => out.extend_from_slice(&[0x81, one]),
        Err(_) => {
            out.push(0x82);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(value);
    out
}

/// The BER tag starting `rest` (at `offset` of the whole): one byte, or more when the low
/// five bits are all set (then while bit 8 is set), at most three.
fn ber_tag(rest: &[u8], offset: usize) -> Result<(&[u8], &[u8]), TlvError> {
    let truncated = |needed| TlvError::Truncated {
        offset,
        needed,
        available: rest.len(),
    };
    let first = *rest.first().ok_or(truncated(1))?;
    let mut tag_len = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *rest.get(tag_len).ok_or(truncated(tag_len + 1))?;
            tag_len += 1;
            if b & 0x80 == 0 {
                break;
            }
            if tag_len >= 3 {
                return Err(TlvError::TagTooLong { offset });
            }
        }
    }
    rest.split_at_checked(tag_len).ok_or(truncated(tag_len))
}

/// The BER length starting `rest` (at `offset`): `00`-`7F`, `81 xx`, `82 hi lo`.
fn ber_length(rest: &[u8], offset: usize) -> Result<(usize, &[u8]), TlvError> {
    let truncated = |needed| TlvError::Truncated {
        offset,
        needed,
        available: rest.len(),
    };
    match rest {
        [] => Err(truncated(1)),
        [b @ 0x00..=0x7F, tail @ ..] => Ok((usize::from(*b), tail)),
        [0x81, l, tail @ ..] => Ok((usize::from(*l), tail)),
        [0x82, hi, lo, tail @ ..] => Ok((usize::from(u16::from_be_bytes([*hi, *lo])), tail)),
        [0x81] => Err(truncated(2)),
        [0x82, ..] => Err(truncated(3)),
        [byte, ..] => Err(TlvError::UnsupportedLength {
            offset,
            byte: *byte,
        }),
    }
}

/// A BER-TLV as `(tag bytes, value)`.
type BerTlv<'a> = (&'a [u8], &'a [u8]);

/// The top-level BER-TLVs of `data`. `00` and `FF` bytes between TLVs are padding (ISO/IEC
/// 7816-4).
fn parse_ber(data: &[u8]) -> Result<Vec<BerTlv<'_>>, TlvError> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(&first) = rest.first() {
        let offset = data.len() - rest.len();
        if first == 0x00 || first == 0xFF {
            rest = rest.get(1..).unwrap_or_default();
            continue;
        }
        let (tag, after_tag) = ber_tag(rest, offset)?;
        let (len, after_len) = ber_length(after_tag, offset + tag.len())?;
        let (value, next) = split_value(after_len, len, offset)?;
        out.push((tag, value));
        rest = next;
    }
    Ok(out)
}

/// The value of the first BER-TLV with tag `wanted` (its tag bytes) in `data`, searching depth
/// first through constructed TLVs.
pub fn find_ber<'a>(data: &'a [u8], wanted: &[u8]) -> Result<Option<&'a [u8]>, TlvError> {
    for (tag, value) in parse_ber(data)? {
        if tag == wanted {
            return Ok(Some(value));
        }
        let constructed = tag.first().is_some_and(|b| b & 0x20 != 0);
        if constructed {
            if let Some(found) = find_ber(value, wanted)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// The entries of a data object list (a PDOL, JR/T 0025): BER tags each followed by the
/// one-byte length of the value asked for, without values.
pub fn parse_dol(dol: &[u8]) -> Result<Vec<(&[u8], u8)>, TlvError> {
    let mut out = Vec::new();
    let mut rest = dol;
    while !rest.is_empty() {
        let offset = dol.len() - rest.len();
        let (tag, after_tag) = ber_tag(rest, offset)?;
        let (&len, after_len) = after_tag.split_first().ok_or(TlvError::Truncated {
            offset,
            needed: tag.len() + 1,
            available: tag.len(),
        })?;
        out.push((tag, len));
        rest = after_len;
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn simple_forms() {
        assert_eq!(simple(0x05, &[0x20, 0x25]), [0x05, 0x02, 0x20, 0x25]);
        assert_eq!(simple(0x4E, &[]), [0x4E, 0x00]);
        let long = vec![0xAB; 300];
        let t = simple(0x10, &long);
        assert_eq!(&t[..4], &[0x10, 0xFF, 0x01, 0x2C]);
        assert_eq!(t.len(), 304);
        assert_eq!(simple(0x10, &[0; 254])[1], 0xFE);
        assert_eq!(&simple(0x10, &[0; 255])[1..4], &[0xFF, 0x00, 0xFF]);
        assert_eq!(
            try_simple(0x00, &[]),
            Err(TlvError::InvalidTag { offset: 0, tag: 0 })
        );
        assert_eq!(
            try_simple(0x01, &vec![0; 70_000]),
            Err(TlvError::ValueTooLong(70_000))
        );
        assert_eq!(simple(0x01, &vec![0; 70_000]).len(), 65_535 + 4);
        assert_eq!(parse_simple(&t).unwrap(), vec![(0x10, &long[..])]);
    }

    #[test]
    fn simple_records_and_their_errors() {
        let data = hex::decode("0201330304322E30300504201507110700").unwrap();
        assert_eq!(
            parse_simple(&data).unwrap(),
            vec![
                (0x02, &b"3"[..]),
                (0x03, &b"2.00"[..]),
                (0x05, &[0x20, 0x15, 0x07, 0x11][..]),
                (0x07, &[][..]),
            ]
        );
        assert_eq!(parse_simple(&[]).unwrap(), vec![]);
        let truncated = |offset, needed, available| {
            Err(TlvError::Truncated {
                offset,
                needed,
                available,
            })
        };
        assert_eq!(parse_simple(&[0x02, 0x01, 0x33, 0x03]), truncated(3, 1, 0));
        assert_eq!(parse_simple(&[0x02, 0x05, 0x33]), truncated(0, 5, 1));
        assert_eq!(parse_simple(&[0x02, 0xFF, 0x00]), truncated(0, 2, 1));
        assert_eq!(
            parse_simple(&[0x02, 0x00, 0x00, 0x01]),
            Err(TlvError::InvalidTag {
                offset: 2,
                tag: 0x00
            })
        );
        assert!(matches!(
            parse_simple(&[0xFF, 0x00]),
            Err(TlvError::InvalidTag { tag: 0xFF, .. })
        ));
    }

    #[test]
    fn ber_nested_padding_and_errors() {
        let data = hex::decode("00FF6F0A8402AABBA5045A02ABCD").unwrap();
        assert_eq!(find_ber(&data, &[0x84]), Ok(Some(&[0xAA, 0xBB][..])));
        assert_eq!(find_ber(&data, &[0x5A]), Ok(Some(&[0xAB, 0xCD][..])));
        assert_eq!(find_ber(&data, &[0x50]), Ok(None));
        assert!(matches!(
            find_ber(&hex::decode("9F").unwrap(), &[0x84]),
            Err(TlvError::Truncated { offset: 0, .. })
        ));
        assert_eq!(
            find_ber(&hex::decode("6F83000000").unwrap(), &[0x84]),
            Err(TlvError::UnsupportedLength {
                offset: 1,
                byte: 0x83
            })
        );
        assert_eq!(
            find_ber(&hex::decode("9FFFFF0100").unwrap(), &[0x84]),
            Err(TlvError::TagTooLong { offset: 0 })
        );
        let long = hex::decode("7081035A0112").unwrap();
        assert_eq!(find_ber(&long, &[0x5A]), Ok(Some(&[0x12][..])));
        // the encoder's three length forms, found again
        for n in [0usize, 0x7F, 0x80, 0xFF, 0x100, 300] {
            let value = vec![0x5A; n];
            let encoded = ber(&[0x5F, 0x24], &value);
            assert_eq!(
                find_ber(&encoded, &[0x5F, 0x24]),
                Ok(Some(&value[..])),
                "{n}"
            );
        }
        assert_eq!(ber(&[0x70], &[0; 200])[..3], [0x70, 0x81, 200]);
        assert_eq!(ber(&[0x70], &[0; 300])[..4], [0x70, 0x82, 0x01, 0x2C]);
    }

    #[test]
    fn dol_entries() {
        // a PDOL: 9F66 04, 9F02 06, 5F2A 02, 9A 03
        let pdol = hex::decode("9F66049F02065F2A029A03").unwrap();
        let entries: Vec<(Vec<u8>, u8)> = parse_dol(&pdol)
            .unwrap()
            .into_iter()
            .map(|(t, l)| (t.to_vec(), l))
            .collect();
        assert_eq!(
            entries,
            vec![
                (vec![0x9F, 0x66], 4),
                (vec![0x9F, 0x02], 6),
                (vec![0x5F, 0x2A], 2),
                (vec![0x9A], 3)
            ]
        );
        assert!(parse_dol(&hex::decode("9F66").unwrap()).is_err());
        assert_eq!(parse_dol(&[]).unwrap(), vec![]);
    }

    proptest! {
        #[test]
        fn parse_simple_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(records) = parse_simple(&bytes) {
                // re-encoding gives the input back when every length used the short form
                let again: Vec<u8> = records.iter().flat_map(|(t, v)| simple(*t, v)).collect();
                let total: usize = records.iter().map(|(_, v)| v.len()).sum();
                prop_assert!(total <= bytes.len());
                if records.iter().all(|(_, v)| v.len() < 0xFF) && again.len() == bytes.len() {
                    prop_assert_eq!(again, bytes);
                }
            }
        }

        #[test]
        fn simple_round_trips(tag in 1u8..0xFF, value in proptest::collection::vec(any::<u8>(), 0..400)) {
            let encoded = simple(tag, &value);
            prop_assert_eq!(parse_simple(&encoded).unwrap(), vec![(tag, &value[..])]);
        }

        #[test]
        fn ber_and_dol_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), tag in proptest::collection::vec(any::<u8>(), 1..3)) {
            let _ = find_ber(&bytes, &tag);
            let _ = parse_dol(&bytes);
        }
    }
}
