//! The block ciphers of the card and ECB over whole blocks.
//!
//! The algorithm of a card (part 7 §5.3: the FCI's `9F0C`) and the length of a key pick the
//! cipher: 8-byte blocks take single DES for 8-byte keys and two-key 3DES (EDE) for 16-byte keys
//! (part 9 §6.2: `01h` DES, `00h` Triple-DES); 16-byte blocks take SM4 (GB/T 32907), or AES-128
//! for sscard's extension.

use aes::Aes128;
use cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::{Des, TdesEde2};
use sm4::Sm4;
use zeroize::{Zeroize, Zeroizing};

use super::{CryptoError, SecretKey};
use crate::Algorithm;

/// A keyed block cipher of one of the card's algorithms.
pub(crate) enum CardCipher {
    /// Single DES (8-byte key).
    Des(Box<Des>),
    /// Two-key 3DES, EDE (16-byte key).
    Tdes(Box<TdesEde2>),
    /// SM4 (16-byte key).
    Sm4(Box<Sm4>),
    /// AES-128 (16-byte key), sscard's extension.
    Aes(Box<Aes128>),
}

fn keyed<C: KeyInit>(key: &[u8]) -> Result<Box<C>, CryptoError> {
    C::new_from_slice(key)
        .map(Box::new)
        .map_err(|_| CryptoError::KeyLength { len: key.len() })
}

fn run<C: BlockCipherEncrypt + BlockCipherDecrypt>(
    cipher: &C,
    data: &mut [u8],
    decrypt: bool,
) -> Result<(), CryptoError> {
    let mut block = Block::<C>::default();
    if data.len() != block.len() {
        return Err(CryptoError::NotWholeBlocks {
            len: data.len(),
            block: block.len(),
        });
    }
    block.copy_from_slice(data);
    if decrypt {
        cipher.decrypt_block(&mut block);
    } else {
        cipher.encrypt_block(&mut block);
    }
    data.copy_from_slice(&block);
    block.as_mut_slice().zeroize();
    Ok(())
}

impl CardCipher {
    /// The cipher of algorithm `alg` keyed with `key`: DES or 3DES by key length for
    /// [`Algorithm::Tdes`], SM4 or AES with 16-byte keys only.
    pub(crate) fn new(alg: Algorithm, key: &SecretKey) -> Result<CardCipher, CryptoError> {
        let bytes = key.expose_bytes();
        Ok(match (alg, bytes.len()) {
            (Algorithm::Tdes, 8) => CardCipher::Des(keyed(bytes)?),
            (Algorithm::Tdes, _) => CardCipher::Tdes(keyed(bytes)?),
            (Algorithm::Sm4, _) => CardCipher::Sm4(keyed(bytes)?),
            (Algorithm::Aes128, _) => CardCipher::Aes(keyed(bytes)?),
        })
    }

    /// Enciphers one block in place.
    pub(crate) fn encrypt(&self, block: &mut [u8]) -> Result<(), CryptoError> {
        self.apply(block, false)
    }

    fn apply(&self, block: &mut [u8], decrypt: bool) -> Result<(), CryptoError> {
        match self {
            CardCipher::Des(c) => run(c.as_ref(), block, decrypt),
            CardCipher::Tdes(c) => run(c.as_ref(), block, decrypt),
            CardCipher::Sm4(c) => run(c.as_ref(), block, decrypt),
            CardCipher::Aes(c) => run(c.as_ref(), block, decrypt),
        }
    }
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

fn ecb(
    alg: Algorithm,
    key: &SecretKey,
    data: &[u8],
    decrypt: bool,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let block = alg.block_len();
    check_whole_blocks(data, block)?;
    let cipher = CardCipher::new(alg, key)?;
    let mut out = Zeroizing::new(data.to_vec());
    for chunk in out.chunks_mut(block) {
        cipher.apply(chunk, decrypt)?;
    }
    Ok(out)
}

/// ECB-enciphers `data` (a non-empty whole number of blocks) with `key`: DES or 3DES by key
/// length on 3DES cards (part 9 figure 4), SM4 (part 4 figure 4), AES.
pub fn encipher(
    alg: Algorithm,
    key: &SecretKey,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    ecb(alg, key, data, false)
}

/// ECB-deciphers `data` (a non-empty whole number of blocks) with `key`.
pub fn decipher(
    alg: Algorithm,
    key: &SecretKey,
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    ecb(alg, key, data, true)
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

    /// GB/T 32907-2016 appendix A, example 1.
    #[test]
    fn sm4_standard_example() {
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

    /// FIPS 46-3 / NIST SP 800-20 known answers for single DES (8-byte keys on 3DES cards).
    #[test]
    fn des_known_answers() {
        // SP 800-20 table A.1 (variable plaintext), first entry: key 0101…01
        assert_eq!(
            enc(Algorithm::Tdes, "0101010101010101", "8000000000000000"),
            "95F8A5E5DD31D900"
        );
        // the classic worked example: key 133457799BBCDFF1
        assert_eq!(
            enc(Algorithm::Tdes, "133457799BBCDFF1", "0123456789ABCDEF"),
            "85E813540F0AB405"
        );
        assert_eq!(
            dec(Algorithm::Tdes, "133457799BBCDFF1", "85E813540F0AB405"),
            "0123456789ABCDEF"
        );
    }

    /// Two-key EDE with K1 = K2 is single DES; with K1 ≠ K2 it is E(K1) D(K2) E(K1).
    #[test]
    fn tdes_is_ede() {
        assert_eq!(
            enc(
                Algorithm::Tdes,
                "133457799BBCDFF1133457799BBCDFF1",
                "0123456789ABCDEF"
            ),
            "85E813540F0AB405"
        );
        let k1 = "0123456789ABCDEF";
        let k2 = "FEDCBA9876543210";
        let p = "0011223344556677";
        let step1 = enc(Algorithm::Tdes, k1, p);
        let step2 = dec(Algorithm::Tdes, k2, &step1);
        let step3 = enc(Algorithm::Tdes, k1, &step2);
        assert_eq!(enc(Algorithm::Tdes, &format!("{k1}{k2}"), p), step3);
    }

    /// FIPS 197 appendix C.1.
    #[test]
    fn aes_standard_example() {
        assert_eq!(
            enc(
                Algorithm::Aes128,
                "000102030405060708090A0B0C0D0E0F",
                "00112233445566778899AABBCCDDEEFF"
            ),
            "69C4E0D86A7B0430D8CDB78070B4C55A"
        );
    }

    #[test]
    fn ecb_lengths_and_key_lengths() {
        let k = key("00112233445566778899AABBCCDDEEFF");
        assert!(encipher(Algorithm::Tdes, &k, &[0; 7]).is_err());
        assert!(encipher(Algorithm::Tdes, &k, &[]).is_err());
        assert_eq!(encipher(Algorithm::Tdes, &k, &[0; 24]).unwrap().len(), 24);
        assert!(encipher(Algorithm::Sm4, &k, &[0; 8]).is_err());
        let single = key("0123456789ABCDEF");
        assert!(encipher(Algorithm::Sm4, &single, &[0; 16]).is_err());
        assert!(encipher(Algorithm::Aes128, &single, &[0; 16]).is_err());
    }
}
