//! A minimal BER-TLV walk over a SELECT response (FCI), enough to find the PSAM's algorithm
//! `9F0C 03 86 01 xx` wherever it sits.

/// One TLV: its tag bytes and value.
struct Tlv<'a> {
    tag: &'a [u8],
    value: &'a [u8],
}

/// Splits `data` into its top-level TLVs. `00` and `FF` bytes between TLVs are padding
/// (ISO/IEC 7816-4). Fails on a truncated tag, length or value.
fn parse(data: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((&first, _)) = rest.split_first() {
        if first == 0x00 || first == 0xFF {
            rest = rest.get(1..).unwrap_or_default();
            continue;
        }
        // tag: one byte, or more when the low five bits are all set (then while bit 8 is set)
        let mut tag_len = 1;
        if first & 0x1F == 0x1F {
            loop {
                let b = *rest.get(tag_len).ok_or("truncated tag")?;
                tag_len += 1;
                if b & 0x80 == 0 {
                    break;
                }
                if tag_len > 3 {
                    return Err("tag longer than 3 bytes".into());
                }
            }
        }
        let (tag, after_tag) = rest.split_at_checked(tag_len).ok_or("truncated tag")?;
        let (&len_byte, after_len) = after_tag.split_first().ok_or("missing length")?;
        let (len, after_len) = match len_byte {
            0x00..=0x7F => (usize::from(len_byte), after_len),
            0x81 => {
                let (&l, r) = after_len.split_first().ok_or("truncated length")?;
                (usize::from(l), r)
            }
            0x82 => {
                let (l, r) = after_len.split_at_checked(2).ok_or("truncated length")?;
                let hi = usize::from(*l.first().ok_or("truncated length")?);
                let lo = usize::from(*l.get(1).ok_or("truncated length")?);
                ((hi << 8) | lo, r)
            }
            other => return Err(format!("unsupported length byte {other:02X}")),
        };
        let (value, next) = after_len
            .split_at_checked(len)
            .ok_or_else(|| format!("value of tag {} truncated", hex::encode_upper(tag)))?;
        out.push(Tlv { tag, value });
        rest = next;
    }
    Ok(out)
}

/// The value of the first TLV with tag `wanted` in `data`, searching depth first through
/// constructed TLVs.
pub(crate) fn find<'a>(data: &'a [u8], wanted: &[u8]) -> Result<Option<&'a [u8]>, String> {
    for tlv in parse(data)? {
        if tlv.tag == wanted {
            return Ok(Some(tlv.value));
        }
        let constructed = tlv.tag.first().is_some_and(|b| b & 0x20 != 0);
        if constructed {
            if let Some(found) = find(tlv.value, wanted)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// The algorithm byte of an FCI: `86 01 xx` inside `9F0C`; `None` when `9F0C` is absent.
pub(crate) fn algorithm_byte(fci: &[u8]) -> Result<Option<u8>, String> {
    let Some(info) = find(fci, &[0x9F, 0x0C])? else {
        return Ok(None);
    };
    match find(info, &[0x86])? {
        Some([byte]) => Ok(Some(*byte)),
        Some(other) => Err(format!(
            "algorithm (86) has {} bytes instead of 1",
            other.len()
        )),
        None => Err("9F0C without an algorithm (86)".into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_algorithm() {
        let fci = hex::decode("6F0E8406D15600000590A5049F0C03860103").unwrap();
        // A5 announces 4 bytes but 9F0C 03 86 01 03 is 6: truncated
        assert!(algorithm_byte(&fci).is_err());
        let fci = hex::decode("6F108406D15600000590A5069F0C03860103").unwrap();
        assert_eq!(algorithm_byte(&fci), Ok(Some(0x03)));
        let fci = hex::decode("6F0A8406D15600000590A500").unwrap();
        assert_eq!(algorithm_byte(&fci), Ok(None));
        assert_eq!(algorithm_byte(&[]), Ok(None));
        let fci = hex::decode("6F81089F0C0386010400FF").unwrap();
        assert_eq!(algorithm_byte(&fci), Ok(Some(0x04)));
        let fci = hex::decode("9F0C028600").unwrap();
        assert!(algorithm_byte(&fci).is_err());
        assert!(algorithm_byte(&hex::decode("9F").unwrap()).is_err());
        assert!(algorithm_byte(&hex::decode("6F83000000").unwrap()).is_err());
    }
}
