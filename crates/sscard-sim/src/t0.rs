//! Response data on T=0, shared by the card and the PSAM (part 2 §9.3.1-§9.3.3, part 5 §6.6).
//!
//! A case 4 command cannot carry its response on T=0: the chip answers `61xx` and keeps the
//! data for GET RESPONSE (part 2 §9.3.2.2). GET RESPONSE `00C0 0000 Le`:
//!
//! - Le equal to the data length: the data and `9000`;
//! - Le smaller: the first Le bytes and `61xx` for the rest (part 2 §9.3.1.4: P3 ≤ xx);
//! - Le larger, or `00` when fewer than 256 bytes wait: `6Cxx` with the length, the data kept
//!   (part 5 §6.6.4, table 21);
//! - nothing waiting: `6F00` (part 5 §6.6.4).
//!
//! Any other command drops the waiting data.

use zeroize::Zeroizing;

use crate::apdu::{sw, Apdu};

/// Keeps `data` for GET RESPONSE and answers `61xx`.
pub(crate) fn announce(
    pending: &mut Option<Zeroizing<Vec<u8>>>,
    data: Zeroizing<Vec<u8>>,
) -> Vec<u8> {
    let status = sw::more_data(data.len());
    *pending = Some(data);
    status.to_be_bytes().to_vec()
}

/// GET RESPONSE over the waiting data (see the module documentation).
pub(crate) fn get_response(
    pending: &mut Option<Zeroizing<Vec<u8>>>,
    apdu: &Apdu<'_>,
) -> Result<Vec<u8>, u16> {
    apdu.p1p2(0, 0)?;
    apdu.no_data()?;
    let data = pending.take().ok_or(sw::NO_DATA)?;
    let available = data.len();
    // without Le the T=0 header still carries P3 = 00, which asks for 256
    let le = apdu.le.unwrap_or(256);
    let take = if le <= available {
        le
    } else {
        *pending = Some(data);
        return Err(sw::wrong_le(available));
    };
    let (now, rest) = data.split_at(take);
    let mut out = Vec::with_capacity(take + 2);
    out.extend_from_slice(now);
    if rest.is_empty() {
        out.extend_from_slice(&sw::OK.to_be_bytes());
    } else {
        out.extend_from_slice(&sw::more_data(rest.len()).to_be_bytes());
        *pending = Some(Zeroizing::new(rest.to_vec()));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn gr(pending: &mut Option<Zeroizing<Vec<u8>>>, bytes: &[u8]) -> Result<Vec<u8>, u16> {
        get_response(pending, &Apdu::parse(bytes).unwrap())
    }

    #[test]
    fn exact_short_long_and_nothing() {
        let mut p = None;
        assert_eq!(
            announce(&mut p, Zeroizing::new(vec![1, 2, 3])),
            [0x61, 0x03]
        );
        assert_eq!(gr(&mut p, &[0, 0xC0, 0, 0, 4]), Err(0x6C03));
        assert_eq!(gr(&mut p, &[0, 0xC0, 0, 0, 0]), Err(0x6C03));
        assert_eq!(gr(&mut p, &[0, 0xC0, 1, 0, 3]), Err(0x6A86));
        assert_eq!(gr(&mut p, &[0, 0xC0, 0, 0, 2]).unwrap(), [1, 2, 0x61, 0x01]);
        assert_eq!(gr(&mut p, &[0, 0xC0, 0, 0, 1]).unwrap(), [3, 0x90, 0x00]);
        assert_eq!(gr(&mut p, &[0, 0xC0, 0, 0, 1]), Err(0x6F00));
        announce(&mut p, Zeroizing::new(vec![7; 256]));
        let all = gr(&mut p, &[0, 0xC0, 0, 0, 0]).unwrap();
        assert_eq!(all.len(), 258);
    }
}
