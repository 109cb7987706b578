//! Key diversification (密钥分散), part 9 §7.1.1, §7.2.1 and §7.3.

use zeroize::Zeroizing;

use super::block::CardCipher;
use super::{CryptoError, SecretKey};
use crate::Algorithm;

/// `Div(K, f)`: the subkey of `key` for the 8-byte factor `f`.
///
/// - a single-length key (8 bytes, 3DES cards): `DES_K(f)` (part 9 figure 2);
/// - a double-length key on a card with 8-byte blocks: `3DES_K(f) ‖ 3DES_K(NOT f)` (figure 3);
/// - 16-byte blocks (SM4, AES): `E_K(f ‖ NOT f)` (figure 8).
///
/// The subkey has the length of `key`.
pub fn diversify(
    alg: Algorithm,
    key: &SecretKey,
    factor: &[u8; 8],
) -> Result<SecretKey, CryptoError> {
    let cipher = CardCipher::new(alg, key)?;
    let mut out = Zeroizing::new(Vec::with_capacity(key.len()));
    out.extend_from_slice(factor);
    if key.len() > factor.len() {
        out.extend(factor.iter().map(|b| !b));
    }
    if alg.block_len() == 16 || key.is_single_length() {
        cipher.encrypt(&mut out)?;
    } else {
        for half in out.chunks_mut(8) {
            cipher.encrypt(half)?;
        }
    }
    SecretKey::from_bytes(&out)
}

/// Diversifies `root` by each factor in order: `Div(…Div(Div(root, f1), f2)…, fn)`. Part 9
/// figure 12: a national root goes through the province, city and card factors in this order.
/// An empty path gives the root itself.
pub fn diversify_path(
    alg: Algorithm,
    root: &SecretKey,
    factors: &[[u8; 8]],
) -> Result<SecretKey, CryptoError> {
    let mut key = root.clone();
    for factor in factors {
        key = diversify(alg, &key, factor)?;
    }
    Ok(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::crypto::encipher;
    use proptest::prelude::*;

    fn key(text: &str) -> SecretKey {
        SecretKey::from_hex(text).unwrap()
    }

    const F: [u8; 8] = [0x86, 0x60, 0x51, 0x99, 0x00, 0x00, 0x01, 0xAC];

    fn not(f: &[u8]) -> Vec<u8> {
        f.iter().map(|b| !b).collect()
    }

    #[test]
    fn double_length_3des_is_two_separate_encipherments() {
        let k = key("404142434445464748494A4B4C4D4E4F");
        let got = diversify(Algorithm::Tdes, &k, &F).unwrap();
        let left = encipher(Algorithm::Tdes, &k, &F).unwrap();
        let right = encipher(Algorithm::Tdes, &k, &not(&F)).unwrap();
        assert_eq!(got.expose_bytes(), [left.as_slice(), &right].concat());
    }

    #[test]
    fn single_length_des_is_one_encipherment() {
        let k = key("4041424344454647");
        let got = diversify(Algorithm::Tdes, &k, &F).unwrap();
        assert_eq!(got.len(), 8);
        assert_eq!(
            got.expose_bytes(),
            encipher(Algorithm::Tdes, &k, &F).unwrap().as_slice()
        );
    }

    #[test]
    fn sixteen_byte_blocks_encipher_factor_and_complement_together() {
        let k = key("404142434445464748494A4B4C4D4E4F");
        for alg in [Algorithm::Sm4, Algorithm::Aes128] {
            let got = diversify(alg, &k, &F).unwrap();
            let input = [&F[..], &not(&F)].concat();
            assert_eq!(
                got.expose_bytes(),
                encipher(alg, &k, &input).unwrap().as_slice()
            );
        }
    }

    #[test]
    fn paths_apply_factors_in_order() {
        let k = key("404142434445464748494A4B4C4D4E4F");
        let (a, b) = ([1u8; 8], [2u8; 8]);
        for alg in Algorithm::ALL {
            assert_eq!(diversify_path(alg, &k, &[]).unwrap(), k);
            let once = diversify(alg, &k, &a).unwrap();
            let twice = diversify(alg, &once, &b).unwrap();
            assert_eq!(diversify_path(alg, &k, &[a, b]).unwrap(), twice);
            assert_ne!(diversify_path(alg, &k, &[b, a]).unwrap(), twice);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn different_factors_give_different_keys(
            k in prop::array::uniform16(any::<u8>()),
            f1 in prop::array::uniform8(any::<u8>()),
            f2 in prop::array::uniform8(any::<u8>()),
        ) {
            prop_assume!(f1 != f2);
            let k = SecretKey::from_bytes(&k).unwrap();
            for alg in Algorithm::ALL {
                prop_assert_ne!(diversify(alg, &k, &f1).unwrap(), diversify(alg, &k, &f2).unwrap());
            }
        }
    }
}
