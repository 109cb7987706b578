//! ECB over whole blocks, generic over the `cipher` 0.5 block cipher traits, and the one
//! dispatch from [`Algorithm`] to a cipher type.

use aes::Aes128;
use cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, BlockSizeUser, KeyInit};
use des::TdesEde2;
use sm4::Sm4;
use zeroize::{Zeroize, Zeroizing};

use super::{CryptoError, SecretKey};
use crate::Algorithm;

/// A block cipher of the card: the `cipher` traits plus the card's MAC algorithm over it.
pub(crate) trait CardCipher: BlockCipherEncrypt + BlockCipherDecrypt + KeyInit {
    /// The full-block MAC of `padded` (a non-empty whole number of blocks, already padded and
    /// with the IV already XORed into its first block) under the 16-byte `key`.
    fn mac_blocks(key: &[u8], padded: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError>;
}

impl CardCipher for TdesEde2 {
    /// ISO 9797-1 MAC algorithm 3 (retail MAC): single DES CBC with the left key half, the last
    /// block deciphered with the right half and enciphered with the left half again.
    fn mac_blocks(key: &[u8], padded: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        super::mac::retail_mac(key, padded)
    }
}

impl CardCipher for Sm4 {
    /// ISO 9797-1 MAC algorithm 1 (CBC-MAC).
    fn mac_blocks(key: &[u8], padded: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        super::mac::cbc_mac::<Sm4>(key, padded)
    }
}

impl CardCipher for Aes128 {
    /// ISO 9797-1 MAC algorithm 1 (CBC-MAC).
    fn mac_blocks(key: &[u8], padded: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        super::mac::cbc_mac::<Aes128>(key, padded)
    }
}

/// An operation run on one concrete cipher type: the way the generic code is reached from a
/// runtime [`Algorithm`].
pub(crate) trait WithCipher {
    /// What the operation gives.
    type Output;
    /// Runs the operation with cipher `C`.
    fn run<C: CardCipher>(self) -> Self::Output;
}

/// Runs `op` with the cipher type of `alg`. This is the only match on [`Algorithm`] that picks
/// a cipher.
pub(crate) fn dispatch<W: WithCipher>(alg: Algorithm, op: W) -> W::Output {
    match alg {
        Algorithm::Tdes => op.run::<TdesEde2>(),
        Algorithm::Sm4 => op.run::<Sm4>(),
        Algorithm::Aes128 => op.run::<Aes128>(),
    }
}

/// Builds cipher `C` from a 16-byte key.
pub(crate) fn new_cipher<C: KeyInit>(key: &[u8]) -> Result<C, CryptoError> {
    C::new_from_slice(key).map_err(|_| CryptoError::KeyLength { len: key.len() })
}

/// Checks that `data` is a non-empty whole number of `block`-byte blocks.
pub(crate) fn check_whole_blocks(data: &[u8], block: usize) -> Result<(), CryptoError> {
    if data.is_empty() || data.len() % block != 0 {
        return Err(CryptoError::NotWholeBlocks {
            len: data.len(),
            block,
        });
    }
    Ok(())
}

/// ECB-enciphers (or deciphers) whole blocks with cipher `C`.
pub(crate) fn ecb<C: BlockCipherEncrypt + BlockCipherDecrypt + KeyInit>(
    key: &[u8],
    data: &[u8],
    decrypt: bool,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let block_len = <C as BlockSizeUser>::block_size();
    check_whole_blocks(data, block_len)?;
    let cipher: C = new_cipher(key)?;
    let mut out = Zeroizing::new(Vec::with_capacity(data.len()));
    let mut block = Block::<C>::default();
    for chunk in data.chunks_exact(block_len) {
        block.copy_from_slice(chunk);
        if decrypt {
            cipher.decrypt_block(&mut block);
        } else {
            cipher.encrypt_block(&mut block);
        }
        out.extend_from_slice(&block);
    }
    block.as_mut_slice().zeroize();
    Ok(out)
}

struct Ecb<'a> {
    key: &'a SecretKey,
    data: &'a [u8],
    decrypt: bool,
}

impl WithCipher for Ecb<'_> {
    type Output = Result<Zeroizing<Vec<u8>>, CryptoError>;
    fn run<C: CardCipher>(self) -> Self::Output {
        ecb::<C>(self.key.expose_bytes(), self.data, self.decrypt)
    }
}

/// ECB-enciphers `data` (a non-empty whole number of blocks) with `key`.
pub fn encipher(
    alg: Algorithm,
    key: &SecretKey,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    dispatch(
        alg,
        Ecb {
            key,
            data,
            decrypt: false,
        },
    )
}

/// ECB-deciphers `data` (a non-empty whole number of blocks) with `key`.
pub fn decipher(
    alg: Algorithm,
    key: &SecretKey,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    dispatch(
        alg,
        Ecb {
            key,
            data,
            decrypt: true,
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn key(text: &str) -> SecretKey {
        SecretKey::from_hex(text).unwrap()
    }

    fn enc(alg: Algorithm, k: &str, p: &str) -> String {
        hex::encode_upper(
            encipher(alg, &key(k), &hex::decode(p).unwrap())
                .unwrap()
                .as_slice(),
        )
    }

    fn dec(alg: Algorithm, k: &str, c: &str) -> String {
        hex::encode_upper(
            decipher(alg, &key(k), &hex::decode(c).unwrap())
                .unwrap()
                .as_slice(),
        )
    }

    /// GB/T 32907-2016 (SM4), Appendix A example 1: key = plaintext =
    /// 0123456789ABCDEFFEDCBA9876543210.
    #[test]
    fn sm4_gbt32907_example_1() {
        let k = "0123456789ABCDEFFEDCBA9876543210";
        assert_eq!(
            enc(Algorithm::Sm4, k, k),
            "681EDF34D206965E86B3E94F536E4246"
        );
        assert_eq!(
            dec(Algorithm::Sm4, k, "681EDF34D206965E86B3E94F536E4246"),
            k
        );
    }

    /// FIPS 197, Appendix C.1 (AES-128).
    #[test]
    fn aes128_fips197_c1() {
        let k = "000102030405060708090A0B0C0D0E0F";
        let p = "00112233445566778899AABBCCDDEEFF";
        assert_eq!(
            enc(Algorithm::Aes128, k, p),
            "69C4E0D86A7B0430D8CDB78070B4C55A"
        );
        assert_eq!(
            dec(Algorithm::Aes128, k, "69C4E0D86A7B0430D8CDB78070B4C55A"),
            p
        );
    }

    /// Two-key 3DES with K1 = K2 is single DES (E_K D_K E_K = E_K), so published single-DES
    /// vectors apply:
    /// - NIST SP 800-20, Table A.1 (variable plaintext known answer test), first entry:
    ///   key 0101010101010101, plaintext 8000000000000000 -> 95F8A5E5DD31D900;
    /// - J. Orlin Grabbe, "The DES Algorithm Illustrated": key 133457799BBCDFF1, plaintext
    ///   0123456789ABCDEF -> 85E813540F0AB405.
    #[test]
    fn tdes_degenerate_single_des_published_vectors() {
        assert_eq!(
            enc(
                Algorithm::Tdes,
                "01010101010101010101010101010101",
                "8000000000000000"
            ),
            "95F8A5E5DD31D900"
        );
        assert_eq!(
            enc(
                Algorithm::Tdes,
                "133457799BBCDFF1133457799BBCDFF1",
                "0123456789ABCDEF"
            ),
            "85E813540F0AB405"
        );
    }

    /// A real two-key vector, checked against an independent computation path: single DES
    /// (`des::Des`) composed by hand as E_K1(D_K2(E_K1(P))), per SP 800-67 keying option 2.
    #[test]
    fn tdes_two_key_matches_des_composition() {
        use des::Des;
        let k1 = hex::decode("0123456789ABCDEF").unwrap();
        let k2 = hex::decode("FEDCBA9876543210").unwrap();
        let p = hex::decode("4E6F772069732074").unwrap(); // "Now is t"
        let mut expected = Block::<Des>::default();
        expected.copy_from_slice(&p);
        let c1 = Des::new_from_slice(&k1).unwrap();
        let c2 = Des::new_from_slice(&k2).unwrap();
        c1.encrypt_block(&mut expected);
        c2.decrypt_block(&mut expected);
        c1.encrypt_block(&mut expected);
        let k = key("0123456789ABCDEFFEDCBA9876543210");
        let got = encipher(Algorithm::Tdes, &k, &p).unwrap();
        assert_eq!(got.as_slice(), expected.as_slice());
        assert_eq!(
            decipher(Algorithm::Tdes, &k, &got).unwrap().as_slice(),
            p.as_slice()
        );
    }

    #[test]
    fn ecb_is_blockwise_and_checks_lengths() {
        for alg in Algorithm::ALL {
            let k = key("00112233445566778899AABBCCDDEEFF");
            let b = alg.block_len();
            let one = encipher(alg, &k, &vec![7u8; b]).unwrap();
            let two = encipher(alg, &k, &vec![7u8; 2 * b]).unwrap();
            assert_eq!(&two[..b], one.as_slice());
            assert_eq!(&two[b..], one.as_slice());
            assert_eq!(
                encipher(alg, &k, &vec![0u8; b + 1]),
                Err(CryptoError::NotWholeBlocks {
                    len: b + 1,
                    block: b
                })
            );
            assert!(encipher(alg, &k, &[]).is_err());
            assert!(decipher(alg, &k, &[1, 2, 3]).is_err());
        }
    }
}
