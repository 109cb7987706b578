//! A minimal BER-TLV walk (ISO/IEC 7816-4 §5.2): the FCI of SELECT and the records of the
//! financial application are BER-TLV.

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

/// The value of the first TLV with tag `wanted` (its tag bytes) in `data`, searching depth first
/// through constructed TLVs. Fails on a truncated tag, length or value.
pub fn find<'a>(data: &'a [u8], wanted: &[u8]) -> Result<Option<&'a [u8]>, String> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_padding() {
        let data = hex::decode("00FF6F0A8402AABBA5045A02ABCD").unwrap();
        assert_eq!(find(&data, &[0x84]), Ok(Some(&[0xAA, 0xBB][..])));
        assert_eq!(find(&data, &[0x5A]), Ok(Some(&[0xAB, 0xCD][..])));
        assert_eq!(find(&data, &[0x50]), Ok(None));
        assert!(find(&hex::decode("9F").unwrap(), &[0x84]).is_err());
        assert!(find(&hex::decode("6F83000000").unwrap(), &[0x84]).is_err());
        let long = hex::decode("7081035A0112").unwrap();
        assert_eq!(find(&long, &[0x5A]), Ok(Some(&[0x12][..])));
    }
}
