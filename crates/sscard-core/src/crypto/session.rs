//! Process keys (过程密钥) and authentication data (鉴别数据): part 4 §8.4 and §9.3.

use zeroize::Zeroizing;

use super::block::CardCipher;
use super::{CryptoError, SecretKey};
use crate::Algorithm;

/// Length of authentication data and of the original data it is computed over (part 4 §9.1).
pub const AUTH_LEN: usize = 8;

/// The process key of `key` for the process factor `input` (part 4 §8.4; part 9 §7.1.5,
/// §7.2.5).
///
/// The input (a card challenge, or the data part 7 prescribes for a transaction) is
/// right-padded with `00` to one block. With 8-byte blocks the key enciphers it with DES (an
/// 8-byte key, figure 7) or 3DES (a 16-byte key, figure 8) and the 8-byte result is a
/// single-length DES key; with 16-byte blocks the result of the encipherment is the 16-byte
/// process key (figure 9).
pub fn process_key(
    alg: Algorithm,
    key: &SecretKey,
    input: &[u8],
) -> Result<SecretKey, CryptoError> {
    let block = alg.block_len();
    if input.is_empty() || input.len() > block {
        return Err(CryptoError::ProcessFactor {
            len: input.len(),
            block,
        });
    }
    let mut data = Zeroizing::new(vec![0u8; block]);
    data[..input.len()].copy_from_slice(input);
    CardCipher::new(alg, key)?.encrypt(&mut data)?;
    SecretKey::from_bytes(&data)
}

/// Authentication data (part 4 §9.3) of the 8-byte `original` under the process key `session`:
/// with 8-byte blocks `E_SK(original)` (figure 10); with 16-byte blocks the encipherment of
/// `original ‖ 00…00` (16 bytes) with its left and right halves XORed (figure 11).
///
/// This is what INTERNAL AUTHENTICATION answers and what EXTERNAL AUTHENTICATION carries.
pub fn auth_data(
    alg: Algorithm,
    session: &SecretKey,
    original: &[u8; AUTH_LEN],
) -> Result<[u8; AUTH_LEN], CryptoError> {
    let mut block = Zeroizing::new(vec![0u8; alg.block_len()]);
    block[..AUTH_LEN].copy_from_slice(original);
    CardCipher::new(alg, session)?.encrypt(&mut block)?;
    let mut out = [0u8; AUTH_LEN];
    for (i, byte) in block.iter().enumerate() {
        out[i % AUTH_LEN] ^= byte;
    }
    Ok(out)
}

/// Authentication data of `original` under `key` with the process factor `process_factor`:
/// [`auth_data`] with the [`process_key`] of `key`. What a card computes for INTERNAL
/// AUTHENTICATION (IRK, the process factor of the command) and checks for EXTERNAL
/// AUTHENTICATION (the authenticated key, its own challenge as the process factor, part 7 §6.6).
pub fn authenticate(
    alg: Algorithm,
    key: &SecretKey,
    process_factor: &[u8],
    original: &[u8; AUTH_LEN],
) -> Result<[u8; AUTH_LEN], CryptoError> {
    let session = process_key(alg, key, process_factor)?;
    auth_data(alg, &session, original)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::crypto::encipher;

    fn key(text: &str) -> SecretKey {
        SecretKey::from_hex(text).unwrap()
    }

    const R: [u8; 8] = [0x98, 0xB4, 0xD2, 0x93, 0xD0, 0x91, 0xC3, 0x31];
    const ORIG: [u8; 8] = [0xE6, 0x03, 0xE2, 0xCA, 0xAD, 0xAF, 0x02, 0xB6];

    #[test]
    fn process_key_3des_is_single_length() {
        let k = key("404142434445464748494A4B4C4D4E4F");
        let sk = process_key(Algorithm::Tdes, &k, &R).unwrap();
        assert_eq!(sk.len(), 8);
        assert_eq!(
            sk.expose_bytes(),
            encipher(Algorithm::Tdes, &k, &R).unwrap().as_slice()
        );
        // a 4-byte random is padded with 00 00 00 00
        let sk4 = process_key(Algorithm::Tdes, &k, &R[..4]).unwrap();
        let padded = [&R[..4], &[0, 0, 0, 0]].concat();
        assert_eq!(
            sk4.expose_bytes(),
            encipher(Algorithm::Tdes, &k, &padded).unwrap().as_slice()
        );
        // a single-length key enciphers with DES (figure 7)
        let k8 = key("4041424344454647");
        let sk = process_key(Algorithm::Tdes, &k8, &R).unwrap();
        assert_eq!(
            sk.expose_bytes(),
            encipher(Algorithm::Tdes, &k8, &R).unwrap().as_slice()
        );
        assert!(process_key(Algorithm::Tdes, &k, &[0; 16]).is_err());
        assert!(process_key(Algorithm::Tdes, &k, &[]).is_err());
    }

    #[test]
    fn process_key_sm4_pads_to_sixteen() {
        let k = key("404142434445464748494A4B4C4D4E4F");
        let sk = process_key(Algorithm::Sm4, &k, &R).unwrap();
        let padded = [&R[..], &[0u8; 8]].concat();
        assert_eq!(
            sk.expose_bytes(),
            encipher(Algorithm::Sm4, &k, &padded).unwrap().as_slice()
        );
        assert_eq!(sk.len(), 16);
    }

    #[test]
    fn auth_data_by_block_length() {
        let sk8 = key("0123456789ABCDEF");
        assert_eq!(
            auth_data(Algorithm::Tdes, &sk8, &ORIG).unwrap().as_slice(),
            encipher(Algorithm::Tdes, &sk8, &ORIG).unwrap().as_slice()
        );
        let sk16 = key("00112233445566778899AABBCCDDEEFF");
        let full = encipher(Algorithm::Sm4, &sk16, &[&ORIG[..], &[0u8; 8]].concat()).unwrap();
        let folded: Vec<u8> = full[..8]
            .iter()
            .zip(&full[8..])
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(
            auth_data(Algorithm::Sm4, &sk16, &ORIG).unwrap().as_slice(),
            folded
        );
        let k = key("404142434445464748494A4B4C4D4E4F");
        for alg in Algorithm::ALL {
            let sk = process_key(alg, &k, &R).unwrap();
            assert_eq!(
                authenticate(alg, &k, &R, &ORIG).unwrap(),
                auth_data(alg, &sk, &ORIG).unwrap()
            );
        }
    }
}
