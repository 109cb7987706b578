//! Enciphered command data (数据加密), part 4 §8.3: `LD ‖ data ‖ padding` enciphered in ECB mode
//! with a process key, as PIN CHANGE/UNBLOCK carries a new PIN.

use zeroize::Zeroizing;

use super::{decipher, encipher, CryptoError, SecretKey};
use crate::Algorithm;

/// The plaintext blocks of part 4 §8.3.3 for `plain`: the length byte LD, the data, then `80`
/// and `00` bytes only when the last block is short. What a terminal hands a PSAM's CIPHER DATA.
pub fn ld_blocks(alg: Algorithm, plain: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let ld = u8::try_from(plain.len()).map_err(|_| CryptoError::DataTooLong(plain.len()))?;
    let block = alg.block_len();
    let mut data = Zeroizing::new(Vec::with_capacity(plain.len() + block + 1));
    data.push(ld);
    data.extend_from_slice(plain);
    if data.len() % block != 0 {
        data.push(0x80);
        let padded = data.len().div_ceil(block) * block;
        data.resize(padded, 0x00);
    }
    Ok(data)
}

/// Formats `plain` with [`ld_blocks`] and enciphers it in ECB mode with the process key
/// `session` (part 4 §8.3.3).
pub fn encipher_data(
    alg: Algorithm,
    session: &SecretKey,
    plain: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    encipher(alg, session, &ld_blocks(alg, plain)?)
}

/// Deciphers data enciphered by [`encipher_data`] and recovers the plaintext from LD
/// (part 4 §8.3.4). Fails when LD exceeds the data or the padding is not `80 00…` shorter than
/// a block.
pub fn decipher_data(
    alg: Algorithm,
    session: &SecretKey,
    enciphered: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let plain = decipher(alg, session, enciphered)?;
    let (&ld, rest) = plain.split_first().ok_or(CryptoError::EncipheredData)?;
    let ld = usize::from(ld);
    let data = rest.get(..ld).ok_or(CryptoError::EncipheredData)?;
    let padding = rest.get(ld..).ok_or(CryptoError::EncipheredData)?;
    let padding_ok = match padding.split_first() {
        None => true,
        Some((&first, zeros)) => {
            first == 0x80 && zeros.iter().all(|&b| b == 0) && padding.len() < alg.block_len()
        }
    };
    if !padding_ok {
        return Err(CryptoError::EncipheredData);
    }
    Ok(Zeroizing::new(data.to_vec()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(text: &str) -> SecretKey {
        SecretKey::from_hex(text).unwrap()
    }

    /// The PIN `123456` of the field trace: `03 12 34 56 80 00…`, one block.
    #[test]
    fn layout_of_a_pin() {
        let sk = key("0123456789ABCDEF");
        let got = encipher_data(Algorithm::Tdes, &sk, &[0x12, 0x34, 0x56]).unwrap();
        let expected = encipher(
            Algorithm::Tdes,
            &sk,
            &[0x03, 0x12, 0x34, 0x56, 0x80, 0x00, 0x00, 0x00],
        )
        .unwrap();
        assert_eq!(got.as_slice(), expected.as_slice());
        let sk16 = key("00112233445566778899AABBCCDDEEFF");
        let got = encipher_data(Algorithm::Sm4, &sk16, &[0x12, 0x34, 0x56]).unwrap();
        assert_eq!(got.len(), 16);
        let plain = decipher(Algorithm::Sm4, &sk16, &got).unwrap();
        assert_eq!(&plain[..5], [0x03, 0x12, 0x34, 0x56, 0x80]);
        assert!(plain[5..].iter().all(|&b| b == 0));
    }

    /// A full last block is not padded (part 4 §8.3.3.1 step three).
    #[test]
    fn full_block_has_no_padding() {
        let sk = key("0123456789ABCDEF");
        let got = encipher_data(Algorithm::Tdes, &sk, &[1, 2, 3, 4, 5, 6, 7]).unwrap();
        assert_eq!(got.len(), 8);
        let got = encipher_data(Algorithm::Tdes, &sk, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        assert_eq!(got.len(), 16);
        assert_eq!(
            decipher_data(Algorithm::Tdes, &sk, &got)
                .unwrap()
                .as_slice(),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
    }

    #[test]
    fn malformed_data_is_refused() {
        let sk = key("0123456789ABCDEF");
        // LD larger than the data
        let bad = encipher(Algorithm::Tdes, &sk, &[0x09, 1, 2, 3, 0x80, 0, 0, 0]).unwrap();
        assert_eq!(
            decipher_data(Algorithm::Tdes, &sk, &bad),
            Err(CryptoError::EncipheredData)
        );
        // padding that is not 80 00…
        let bad = encipher(Algorithm::Tdes, &sk, &[0x03, 1, 2, 3, 0x81, 0, 0, 0]).unwrap();
        assert!(decipher_data(Algorithm::Tdes, &sk, &bad).is_err());
        // a whole extra block of padding
        let bad = encipher(
            Algorithm::Tdes,
            &sk,
            &[0x07, 1, 2, 3, 4, 5, 6, 7, 0x80, 0, 0, 0, 0, 0, 0, 0],
        )
        .unwrap();
        assert!(decipher_data(Algorithm::Tdes, &sk, &bad).is_err());
        assert!(decipher_data(Algorithm::Tdes, &sk, &[0; 5]).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip(data in prop::collection::vec(any::<u8>(), 0..40)) {
            let k = key("00112233445566778899AABBCCDDEEFF");
            for alg in Algorithm::ALL {
                let c = encipher_data(alg, &k, &data).unwrap();
                prop_assert_eq!(c.len() % alg.block_len(), 0);
                let back = decipher_data(alg, &k, &c).unwrap();
                prop_assert_eq!(back.as_slice(), data.as_slice());
            }
        }
    }
}
