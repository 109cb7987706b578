//! The cryptographic building blocks of the card, each written after the section of the
//! specification that defines it.
//!
//! Two block lengths exist (part 4 §8.2.4, §8.3.3, §8.4, §9.3):
//!
//! * 8-byte blocks: DES with an 8-byte (single-length) key, or two-key triple DES
//!   (encrypt-decrypt-encrypt, "3DES-EDE") with a 16-byte (double-length) key;
//! * 16-byte blocks: SM4 with a 16-byte key (the same constructions the specification gives
//!   for its "16-byte block algorithm"; part 9 §7.2 describes them for SSF33).
//!
//! Every function here is pure: it takes keys and data and returns bytes. A key or block of a
//! length the algorithm does not accept gives `None`; nothing here panics.

use cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::{Des, TdesEde2};
use sm4::Sm4;

use crate::Algorithm;

/// One DES encryption of an 8-byte block with an 8-byte key (FIPS 46-3).
pub fn des_encrypt(key: &[u8; 8], block: &[u8; 8]) -> [u8; 8] {
    let cipher = Des::new(&(*key).into());
    let mut b: Block<Des> = (*block).into();
    cipher.encrypt_block(&mut b);
    b.into()
}

/// One DES decryption of an 8-byte block with an 8-byte key (FIPS 46-3).
pub fn des_decrypt(key: &[u8; 8], block: &[u8; 8]) -> [u8; 8] {
    let cipher = Des::new(&(*key).into());
    let mut b: Block<Des> = (*block).into();
    cipher.decrypt_block(&mut b);
    b.into()
}

/// Two-key triple DES, encrypt direction: `E(K_L, D(K_R, E(K_L, block)))` with
/// `key = K_L ‖ K_R` (part 4 figure 8, part 9 figure 3).
pub fn tdes_encrypt(key: &[u8; 16], block: &[u8; 8]) -> [u8; 8] {
    let cipher = TdesEde2::new(&(*key).into());
    let mut b: Block<TdesEde2> = (*block).into();
    cipher.encrypt_block(&mut b);
    b.into()
}

/// Two-key triple DES, decrypt direction: `D(K_L, E(K_R, D(K_L, block)))`.
pub fn tdes_decrypt(key: &[u8; 16], block: &[u8; 8]) -> [u8; 8] {
    let cipher = TdesEde2::new(&(*key).into());
    let mut b: Block<TdesEde2> = (*block).into();
    cipher.decrypt_block(&mut b);
    b.into()
}

/// One SM4 encryption of a 16-byte block with a 16-byte key (GB/T 32907).
pub fn sm4_encrypt(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    let cipher = Sm4::new(&(*key).into());
    let mut b: Block<Sm4> = (*block).into();
    cipher.encrypt_block(&mut b);
    b.into()
}

/// One SM4 decryption of a 16-byte block with a 16-byte key (GB/T 32907).
pub fn sm4_decrypt(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    let cipher = Sm4::new(&(*key).into());
    let mut b: Block<Sm4> = (*block).into();
    cipher.decrypt_block(&mut b);
    b.into()
}

/// Enciphers one block with `key` under `algorithm`.
///
/// * [`Algorithm::Des`]: an 8-byte key is single DES, a 16-byte key two-key triple DES; the
///   block is 8 bytes.
/// * [`Algorithm::Sm4`]: a 16-byte key and a 16-byte block.
///
/// Any other length gives `None`.
pub fn encrypt_block(algorithm: Algorithm, key: &[u8], block: &[u8]) -> Option<Vec<u8>> {
    match algorithm {
        Algorithm::Des => {
            let b: [u8; 8] = block.try_into().ok()?;
            if let Ok(k) = <[u8; 8]>::try_from(key) {
                Some(des_encrypt(&k, &b).to_vec())
            } else {
                let k: [u8; 16] = key.try_into().ok()?;
                Some(tdes_encrypt(&k, &b).to_vec())
            }
        }
        Algorithm::Sm4 => {
            let k: [u8; 16] = key.try_into().ok()?;
            let b: [u8; 16] = block.try_into().ok()?;
            Some(sm4_encrypt(&k, &b).to_vec())
        }
    }
}

/// Deciphers one block with `key` under `algorithm` (the inverse of [`encrypt_block`]).
pub fn decrypt_block(algorithm: Algorithm, key: &[u8], block: &[u8]) -> Option<Vec<u8>> {
    match algorithm {
        Algorithm::Des => {
            let b: [u8; 8] = block.try_into().ok()?;
            if let Ok(k) = <[u8; 8]>::try_from(key) {
                Some(des_decrypt(&k, &b).to_vec())
            } else {
                let k: [u8; 16] = key.try_into().ok()?;
                Some(tdes_decrypt(&k, &b).to_vec())
            }
        }
        Algorithm::Sm4 => {
            let k: [u8; 16] = key.try_into().ok()?;
            let b: [u8; 16] = block.try_into().ok()?;
            Some(sm4_decrypt(&k, &b).to_vec())
        }
    }
}

/// One diversification step (part 9 §7.1.1 for DES keys, §7.2.1 for 16-byte-block keys):
/// derives the child key of `key` for an 8-byte diversification `factor`.
///
/// * 8-byte DES key: `DES(key, factor)`, an 8-byte child (figure 2);
/// * 16-byte triple-DES key: `3DES(key, factor) ‖ 3DES(key, NOT factor)`, a 16-byte child
///   (figure 3);
/// * SM4 key: `SM4(key, factor ‖ NOT factor)`, a 16-byte child (figure 8).
pub fn diversify(algorithm: Algorithm, key: &[u8], factor: &[u8; 8]) -> Option<Vec<u8>> {
    let inverted: Vec<u8> = factor.iter().map(|b| !b).collect();
    match algorithm {
        Algorithm::Des => {
            if key.len() == 8 {
                encrypt_block(algorithm, key, factor)
            } else {
                let mut left = encrypt_block(algorithm, key, factor)?;
                let right = encrypt_block(algorithm, key, &inverted)?;
                left.extend_from_slice(&right);
                Some(left)
            }
        }
        Algorithm::Sm4 => {
            let mut input = factor.to_vec();
            input.extend_from_slice(&inverted);
            encrypt_block(algorithm, key, &input)
        }
    }
}

/// Diversifies `root` by each factor in turn (part 9 §7.3, figure 12: province, then city,
/// then card; profile D1).
pub fn diversify_chain(algorithm: Algorithm, root: &[u8], factors: &[[u8; 8]]) -> Option<Vec<u8>> {
    let mut key = root.to_vec();
    for factor in factors {
        key = diversify(algorithm, &key, factor)?;
    }
    Some(key)
}

/// The process (session) key of part 4 §8.4 derived from `key` and the variable `input`
/// (a card challenge or a terminal random number).
///
/// The input is right-padded with `00` to the block length (§8.4.1: a 4-byte random number is
/// padded to 8 bytes; §8.4.2: 4 or 8 bytes padded to 16; profile D7). The result is
/// `ENC(key, input)`: with 8-byte blocks always an 8-byte single-DES key (figure 7 for a
/// single-length key, figure 8 for a double-length key), with SM4 a 16-byte key (figure 9).
/// An input longer than the block (a 16-byte challenge on a DES card) gives `None`.
pub fn process_key(algorithm: Algorithm, key: &[u8], input: &[u8]) -> Option<Vec<u8>> {
    let block = algorithm.block_len();
    if input.is_empty() || input.len() > block {
        return None;
    }
    let mut padded = input.to_vec();
    padded.resize(block, 0);
    encrypt_block(algorithm, key, &padded)
}

/// Pads `data` the MAC way (part 4 §8.2.4 step 4): always append `80`, then `00` up to a
/// multiple of `block` (a whole extra block when `data` is already aligned).
pub fn pad_always(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    out.push(0x80);
    while out.len() % block != 0 {
        out.push(0);
    }
    out
}

/// The 4-byte MAC of part 4 §8.2.4 over `data` (the command header `CLA INS P1 P2 Lc` followed
/// by the data field without the MAC), with the process key `session_key`.
///
/// Initial value zero, padding per [`pad_always`], CBC encipherment (figures 1 and 2). With
/// 8-byte blocks the MAC is the left 4 bytes of the last output (§8.2.4.1 step 6); with
/// 16-byte blocks it is the XOR of the four 4-byte groups of the last output (§8.2.4.2 step 6).
pub fn mac(algorithm: Algorithm, session_key: &[u8], data: &[u8]) -> Option<[u8; 4]> {
    let block = algorithm.block_len();
    let padded = pad_always(data, block);
    let mut chain = vec![0u8; block];
    for chunk in padded.chunks(block) {
        let input: Vec<u8> = chain.iter().zip(chunk).map(|(a, b)| a ^ b).collect();
        chain = encrypt_block(algorithm, session_key, &input)?;
    }
    let mut out = [0u8; 4];
    match algorithm {
        Algorithm::Des => out.copy_from_slice(chain.get(..4)?),
        Algorithm::Sm4 => {
            for group in chain.chunks(4) {
                for (o, g) in out.iter_mut().zip(group) {
                    *o ^= g;
                }
            }
        }
    }
    Some(out)
}

/// Enciphers `plain` the way of part 4 §8.3.3: the block `LD ‖ plain` (LD = length of `plain`
/// in one byte), padded with `80 00…` only when it is not already a multiple of the block
/// length, each block enciphered alone (ECB, figures 3 and 4) with `session_key`.
/// `plain` longer than 255 bytes gives `None`.
pub fn encipher_ld(algorithm: Algorithm, session_key: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
    let block = algorithm.block_len();
    let ld = u8::try_from(plain.len()).ok()?;
    let mut data = vec![ld];
    data.extend_from_slice(plain);
    if data.len() % block != 0 {
        data.push(0x80);
        while data.len() % block != 0 {
            data.push(0);
        }
    }
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks(block) {
        out.extend(encrypt_block(algorithm, session_key, chunk)?);
    }
    Some(out)
}

/// Deciphers a data element made by [`encipher_ld`] (part 4 §8.3.4) and returns the plain
/// data `LD` announces.
///
/// The card is strict: the cryptogram must be a whole number of blocks, `LD` must fit, and
/// the bytes after the plain data must be exactly the padding §8.3.3 adds (none when
/// `1 + LD` is a multiple of the block length, else `80 00…` up to the block boundary). Any
/// deviation gives `None`.
pub fn decipher_ld(algorithm: Algorithm, session_key: &[u8], cryptogram: &[u8]) -> Option<Vec<u8>> {
    let block = algorithm.block_len();
    if cryptogram.is_empty() || cryptogram.len() % block != 0 {
        return None;
    }
    let mut plain = Vec::with_capacity(cryptogram.len());
    for chunk in cryptogram.chunks(block) {
        plain.extend(decrypt_block(algorithm, session_key, chunk)?);
    }
    let ld = usize::from(*plain.first()?);
    let used = 1 + ld;
    if used > plain.len() {
        return None;
    }
    let expected_total = used.div_ceil(block) * block;
    if expected_total != plain.len() {
        return None;
    }
    let padding = plain.get(used..)?;
    if let Some((first, rest)) = padding.split_first() {
        if *first != 0x80 || rest.iter().any(|b| *b != 0) {
            return None;
        }
    }
    plain.get(1..used).map(<[u8]>::to_vec)
}

/// The 8-byte authentication data of part 4 §9.3 for the 8-byte `original` data, with the
/// process key `session_key`.
///
/// * 8-byte blocks: `DES(session_key, original)` (figure 10).
/// * 16-byte blocks: `SM4(session_key, original ‖ 00×8)`, then the left 8 bytes XOR the right
///   8 bytes (figure 11).
pub fn auth_data(algorithm: Algorithm, session_key: &[u8], original: &[u8; 8]) -> Option<[u8; 8]> {
    let mut out = [0u8; 8];
    match algorithm {
        Algorithm::Des => {
            let enc = encrypt_block(algorithm, session_key, original)?;
            out.copy_from_slice(enc.get(..8)?);
        }
        Algorithm::Sm4 => {
            let mut input = original.to_vec();
            input.resize(16, 0);
            let enc = encrypt_block(algorithm, session_key, &input)?;
            for (i, o) in out.iter_mut().enumerate() {
                *o = enc.get(i)? ^ enc.get(i + 8)?;
            }
        }
    }
    Some(out)
}

/// Compares two byte strings without stopping at the first difference.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The three 8-byte diversification factors of a card (part 9 §7.3; profile D5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Factors {
    /// First level (province): ASCII of the first two region digits ‖ `30 30 30 30 73 68`
    /// (part 9 §7.3.1).
    pub province: [u8; 8],
    /// Second level (city): ASCII of the six region digits ‖ `73 78` (part 9 §7.3.2); for a
    /// region beginning with `33`, ASCII of the first four digits ‖ `30 30 73 78`
    /// (reader-interface specification §10.3).
    pub city: [u8; 8],
    /// Third level (card): historical bytes T6..TD of the ATR (part 9 §7.3.3).
    pub card: [u8; 8],
}

impl Factors {
    /// Builds the factors from a 6-digit region code and the 13 ATR historical bytes.
    /// Returns `None` when the region is not six ASCII digits or fewer than 13 historical
    /// bytes are given.
    pub fn new(region: &str, historical: &[u8]) -> Option<Factors> {
        let r = region.as_bytes();
        if r.len() != 6 || !r.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut province = [0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x73, 0x68];
        province[..2].copy_from_slice(&r[..2]);
        let mut city = [0u8; 8];
        if r.starts_with(b"33") {
            city[..4].copy_from_slice(&r[..4]);
            city[4..].copy_from_slice(&[0x30, 0x30, 0x73, 0x78]);
        } else {
            city[..6].copy_from_slice(r);
            city[6..].copy_from_slice(&[0x73, 0x78]);
        }
        let card: [u8; 8] = historical.get(5..13)?.try_into().ok()?;
        Some(Factors {
            province,
            city,
            card,
        })
    }

    /// The factors in the order they are applied: province, city, card.
    pub fn in_order(&self) -> [[u8; 8]; 3] {
        [self.province, self.city, self.card]
    }
}
