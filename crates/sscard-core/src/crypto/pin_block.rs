//! The PIN block of PIN RELOAD (`8424 0001`, `docs/card-os.md` §4):
//! `n ‖ PIN as BCD (F-filled) ‖ 80 00…` to one block, `n` the number of digits; the key holder
//! enciphers it with `CK_06`.

use zeroize::Zeroizing;

use super::{CryptoError, Pin};
use crate::Algorithm;

/// The plaintext PIN block of `pin` for `alg` (one block: 8 bytes for 3DES, 16 for SM4/AES).
///
/// A 12-digit PIN fills an 8-byte block exactly: `0C` + 6 BCD bytes + `80`.
pub fn pin_block(alg: Algorithm, pin: &Pin) -> Zeroizing<Vec<u8>> {
    let block = alg.block_len();
    let bcd = pin.to_bcd();
    let mut out = Zeroizing::new(Vec::with_capacity(block));
    // a Pin has at most 12 digits
    out.push(u8::try_from(pin.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&bcd);
    out.push(0x80);
    out.resize(block, 0x00);
    out
}

/// Parses a deciphered PIN block: one block, a digit count of 4 to 12, the BCD digits, `80`,
/// then `00` bytes.
pub fn parse_pin_block(alg: Algorithm, plain: &[u8]) -> Result<Pin, CryptoError> {
    let block = alg.block_len();
    if plain.len() != block {
        return Err(CryptoError::NotOneBlock {
            what: "a PIN block",
            len: plain.len(),
            block,
        });
    }
    let (&n, rest) = plain.split_first().ok_or(CryptoError::PinBlock)?;
    let n = usize::from(n);
    if !(4..=12).contains(&n) {
        return Err(CryptoError::PinBlock);
    }
    let (bcd, tail) = rest
        .split_at_checked(n.div_ceil(2))
        .ok_or(CryptoError::PinBlock)?;
    match tail.split_first() {
        Some((0x80, zeros)) if zeros.iter().all(|b| *b == 0) => {}
        _ => return Err(CryptoError::PinBlock),
    }
    let pin = Pin::from_bcd(bcd).map_err(|_| CryptoError::PinBlock)?;
    if pin.len() != n {
        return Err(CryptoError::PinBlock);
    }
    Ok(pin)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::crypto::{decipher, encipher, SecretKey};
    use proptest::prelude::*;

    #[test]
    fn layout() {
        let pin = Pin::new("12345").unwrap();
        assert_eq!(
            hex::encode_upper(pin_block(Algorithm::Tdes, &pin).as_slice()),
            "0512345F80000000"
        );
        assert_eq!(
            hex::encode_upper(pin_block(Algorithm::Sm4, &pin).as_slice()),
            "0512345F800000000000000000000000"
        );
        let pin = Pin::new("123456789012").unwrap();
        assert_eq!(
            hex::encode_upper(pin_block(Algorithm::Tdes, &pin).as_slice()),
            "0C12345678901280"
        );
    }

    #[test]
    fn malformed_blocks() {
        let bad = |h: &str| parse_pin_block(Algorithm::Tdes, &hex::decode(h).unwrap()).is_err();
        assert!(bad("0612345680000000FF")); // too long
        assert!(bad("0612345680000001")); // trailing non-zero
        assert!(bad("0612345600000000")); // no 80
        assert!(bad("0312380000000000")); // 3 digits
        assert!(bad("0D12345678901280")); // 13 digits
        assert!(bad("0512345680000000")); // count 5, 6 digits
        assert!(bad("061234A680000000")); // not BCD
        assert!(!bad("0612345680000000"));
    }

    fn any_alg() -> impl Strategy<Value = Algorithm> {
        prop_oneof![
            Just(Algorithm::Tdes),
            Just(Algorithm::Sm4),
            Just(Algorithm::Aes128)
        ]
    }

    proptest! {
        #[test]
        fn parse_of_build_is_identity(alg in any_alg(), digits in "[0-9]{4,12}") {
            let pin = Pin::new(&digits).unwrap();
            let block = pin_block(alg, &pin);
            prop_assert_eq!(block.len(), alg.block_len());
            prop_assert_eq!(parse_pin_block(alg, &block).unwrap(), pin.clone());
            // and through the cipher, as the card sees it
            let key = SecretKey::from_bytes(&[0x42; 16]).unwrap();
            let plain = decipher(alg, &key, &encipher(alg, &key, &block).unwrap()).unwrap();
            prop_assert_eq!(parse_pin_block(alg, &plain).unwrap(), pin);
        }
    }
}
