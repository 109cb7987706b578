//! Key diversification and the card-side computations of `docs/card-os.md` §4.

use zeroize::Zeroizing;

use super::{encipher, CardFactors, CryptoError, KeyId, SecretKey, KEY_LEN};
use crate::Algorithm;

/// `Div(K, f)`: diversifies the 16-byte `key` by the 8-byte factor `f`.
///
/// - 8-byte blocks (3DES): `E_K(f) ‖ E_K(NOT f)`;
/// - 16-byte blocks (SM4, AES): `E_K(f ‖ NOT f)`.
///
/// Both are the ECB encipherment of the 16 bytes `f ‖ NOT f`.
pub fn diversify(
    alg: Algorithm,
    key: &SecretKey,
    factor: &[u8; 8],
) -> Result<SecretKey, CryptoError> {
    let mut input = Zeroizing::new([0u8; KEY_LEN]);
    for (i, byte) in factor.iter().enumerate() {
        if let Some(slot) = input.get_mut(i) {
            *slot = *byte;
        }
        if let Some(slot) = input.get_mut(i + 8) {
            *slot = !*byte;
        }
    }
    let derived = encipher(alg, key, input.as_slice())?;
    SecretKey::from_bytes(&derived)
}

/// Diversifies `master` by each factor in order: `Div(…Div(Div(master, f1), f2)…, fn)`.
/// An empty path gives the master key itself.
pub fn diversify_path(
    alg: Algorithm,
    master: &SecretKey,
    factors: &[[u8; 8]],
) -> Result<SecretKey, CryptoError> {
    let mut key = master.clone();
    for factor in factors {
        key = diversify(alg, &key, factor)?;
    }
    Ok(key)
}

/// The diversification factors of card key `key`, in order: the card factor only for the
/// nationwide keys (07, 08, 0A), the card factor then the city factor for the issuer keys
/// (00, 04, 06, 0D, 20 and any other id).
pub fn key_factors(key: KeyId, card: &[u8; 8], city: &[u8; 8]) -> Vec<[u8; 8]> {
    if key.is_nationwide() {
        vec![*card]
    } else {
        vec![*card, *city]
    }
}

/// The card key `CK_id` the manufacturer loads into a card: master key `key` (`MK_id`)
/// diversified by the factors of [`key_factors`].
pub fn card_key(
    alg: Algorithm,
    key: KeyId,
    master: &SecretKey,
    factors: &CardFactors,
) -> Result<SecretKey, CryptoError> {
    diversify_path(alg, master, &key_factors(key, &factors.card, &factors.city))
}

/// The first 8 bytes of a block, as a diversification factor.
fn first_eight(data: &[u8]) -> Option<[u8; 8]> {
    data.get(..8).and_then(|head| head.try_into().ok())
}

fn check_one_block(alg: Algorithm, what: &'static str, data: &[u8]) -> Result<(), CryptoError> {
    let block = alg.block_len();
    if data.len() != block {
        return Err(CryptoError::NotOneBlock {
            what,
            len: data.len(),
            block,
        });
    }
    Ok(())
}

/// The EXTERNAL AUTHENTICATE cryptogram for challenge `R` (one block): `E_SK(R)` with the
/// session key `SK = Div(CK, R[0..8])`.
pub fn external_auth_cryptogram(
    alg: Algorithm,
    card_key: &SecretKey,
    challenge: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_one_block(alg, "the challenge", challenge)?;
    let factor = first_eight(challenge).ok_or(CryptoError::NotOneBlock {
        what: "the challenge",
        len: challenge.len(),
        block: alg.block_len(),
    })?;
    let session = diversify(alg, card_key, &factor)?;
    encipher(alg, &session, challenge)
}

/// The INTERNAL AUTHENTICATE answer: `E_{Div(CK_08, process factor)}(data)`, `data` one block.
pub fn internal_auth_response(
    alg: Algorithm,
    card_key_08: &SecretKey,
    process_factor: &[u8; 8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    check_one_block(alg, "the internal authentication data", data)?;
    let process_key = diversify(alg, card_key_08, process_factor)?;
    encipher(alg, &process_key, data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use cipher::{Block, BlockCipherEncrypt, KeyInit};
    use proptest::prelude::*;

    fn key(text: &str) -> SecretKey {
        SecretKey::from_hex(text).unwrap()
    }

    const MK: &str = "404142434445464748494A4B4C4D4E4F";

    /// The definition of §4 written out with the block ciphers directly.
    fn div_by_hand(alg: Algorithm, k: &[u8], f: [u8; 8]) -> Vec<u8> {
        let not_f: Vec<u8> = f.iter().map(|b| !b).collect();
        fn enc<C: BlockCipherEncrypt + KeyInit>(k: &[u8], data: &[u8]) -> Vec<u8> {
            let c = C::new_from_slice(k).unwrap();
            let mut b = Block::<C>::default();
            b.copy_from_slice(data);
            c.encrypt_block(&mut b);
            b.to_vec()
        }
        match alg {
            Algorithm::Tdes => {
                [enc::<des::TdesEde2>(k, &f), enc::<des::TdesEde2>(k, &not_f)].concat()
            }
            Algorithm::Sm4 => enc::<sm4::Sm4>(k, &[&f[..], &not_f].concat()),
            Algorithm::Aes128 => enc::<aes::Aes128>(k, &[&f[..], &not_f].concat()),
            #[allow(unreachable_patterns)]
            _ => unreachable!(),
        }
    }

    #[test]
    fn diversify_matches_definition() {
        let f = [0x86, 0x97, 0x15, 0x99, 0x00, 0xBF, 0x7C, 0x7A];
        for alg in Algorithm::ALL {
            let mk = key(MK);
            let got = diversify(alg, &mk, &f).unwrap();
            assert_eq!(
                got.expose_bytes().to_vec(),
                div_by_hand(alg, mk.expose_bytes(), f)
            );
        }
    }

    #[test]
    fn path_and_key_factors() {
        let card = [1, 2, 3, 4, 5, 6, 7, 8];
        let city = *b"639900sx";
        let factors = CardFactors { card, city };
        for alg in Algorithm::ALL {
            let mk = key(MK);
            assert_eq!(diversify_path(alg, &mk, &[]).unwrap(), mk);
            let once = diversify(alg, &mk, &card).unwrap();
            let twice = diversify(alg, &once, &city).unwrap();
            assert_eq!(diversify_path(alg, &mk, &[card, city]).unwrap(), twice);
            assert_eq!(card_key(alg, KeyId::READ, &mk, &factors).unwrap(), once);
            assert_eq!(card_key(alg, KeyId::UPDATE, &mk, &factors).unwrap(), twice);
        }
        for id in KeyId::ALL {
            let path = key_factors(id, &card, &city);
            if matches!(id, KeyId::MAINTENANCE | KeyId::INTERNAL_AUTH | KeyId::READ) {
                assert_eq!(path, vec![card]);
            } else {
                assert_eq!(path, vec![card, city]);
            }
        }
    }

    #[test]
    fn external_and_internal_authentication() {
        for alg in Algorithm::ALL {
            let ck = key("00112233445566778899AABBCCDDEEFF");
            let b = alg.block_len();
            let r: Vec<u8> = (0..b as u8).map(|i| i * 3 + 1).collect();
            let sk = diversify(alg, &ck, &r[..8].try_into().unwrap()).unwrap();
            let expected = encipher(alg, &sk, &r).unwrap();
            assert_eq!(external_auth_cryptogram(alg, &ck, &r).unwrap(), expected);
            assert!(external_auth_cryptogram(alg, &ck, &r[..b - 1]).is_err());
            assert!(external_auth_cryptogram(alg, &ck, &[r.clone(), r.clone()].concat()).is_err());

            let pf = [9u8; 8];
            let pk = diversify(alg, &ck, &pf).unwrap();
            assert_eq!(
                internal_auth_response(alg, &ck, &pf, &r).unwrap(),
                encipher(alg, &pk, &r).unwrap()
            );
            assert!(internal_auth_response(alg, &ck, &pf, &[]).is_err());
        }
    }

    fn any_alg() -> impl Strategy<Value = Algorithm> {
        prop_oneof![
            Just(Algorithm::Tdes),
            Just(Algorithm::Sm4),
            Just(Algorithm::Aes128)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn different_factors_give_different_keys(
            alg in any_alg(),
            k in prop::array::uniform16(any::<u8>()),
            f1 in prop::array::uniform8(any::<u8>()),
            f2 in prop::array::uniform8(any::<u8>()),
        ) {
            prop_assume!(f1 != f2);
            let k = SecretKey::from_bytes(&k).unwrap();
            prop_assert_ne!(diversify(alg, &k, &f1).unwrap(), diversify(alg, &k, &f2).unwrap());
        }
    }
}
