//! The cryptography of the specification, computed in software from the keys themselves.
//!
//! Sections cited: P4 = part 4 (security mechanisms), P9 = part 9 (PSAM), P2 = part 2
//! (electrical and transmission), RI = the 2016 reader-interface specification.
//!
//! * key diversification: P9 §7.1.1 (DES/3DES) and §7.2.1 (16-byte block ciphers, applied to SM4);
//! * diversification factors: P9 §7.3.1-§7.3.3, RI §10.3 (Zhejiang city factor);
//! * process (session) keys: P4 §8.4.1 (figures 7 and 8) and §8.4.2 (figure 9);
//! * authentication data: P4 §9.3.1 (figure 10) and §9.3.2 (figure 11);
//! * MAC: P4 §8.2.4.1 (figure 1) and §8.2.4.2 (figure 2);
//! * encipherment: P4 §8.3.3.1 (figure 3) and §8.3.3.2 (figure 4); decipherment P4 §8.3.4.

use std::fmt;

use cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::{Des, TdesEde2};
use sm4::Sm4;

/// The card's algorithm, as announced by the SSSE FCI (`9F0C` → template `86`, RI §10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// `01`: DES / Triple-DES (8-byte blocks).
    Des,
    /// `02`: SSF33 (16-byte blocks; not published, so this terminal cannot compute it).
    Ssf33,
    /// `03`: SM4 (GB/T 32907, 16-byte blocks).
    Sm4,
}

impl Algorithm {
    /// The algorithm identifier byte (RI §10.1).
    pub fn code(self) -> u8 {
        match self {
            Algorithm::Des => 0x01,
            Algorithm::Ssf33 => 0x02,
            Algorithm::Sm4 => 0x03,
        }
    }

    /// The algorithm of an identifier byte, `None` for a value RI §10.1 does not define.
    pub fn from_code(code: u8) -> Option<Algorithm> {
        match code {
            0x01 => Some(Algorithm::Des),
            0x02 => Some(Algorithm::Ssf33),
            0x03 => Some(Algorithm::Sm4),
            _ => None,
        }
    }

    /// Block length in bytes: 8 for DES, 16 for SSF33 and SM4.
    pub fn block_len(self) -> usize {
        match self {
            Algorithm::Des => 8,
            Algorithm::Ssf33 | Algorithm::Sm4 => 16,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Algorithm::Des => write!(f, "DES"),
            Algorithm::Ssf33 => write!(f, "SSF33"),
            Algorithm::Sm4 => write!(f, "SM4"),
        }
    }
}

/// Why a computation could not be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// The algorithm cannot be computed here (SSF33).
    UnsupportedAlgorithm(u8),
    /// The key length does not fit the algorithm (DES: 8 or 16 bytes; SM4: 16 bytes).
    BadKeyLength(usize),
    /// An input does not have a length the computation accepts.
    BadInput(&'static str),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::UnsupportedAlgorithm(c) => write!(f, "unsupported algorithm {c:02X}"),
            CryptoError::BadKeyLength(n) => write!(f, "bad key length {n}"),
            CryptoError::BadInput(what) => write!(f, "bad input: {what}"),
        }
    }
}

impl std::error::Error for CryptoError {}

/// One keyed block cipher: single DES (8-byte key), two-key Triple-DES EDE (16-byte key) or SM4.
enum Cipher {
    Des(Des),
    Tdes(TdesEde2),
    Sm4(Sm4),
}

impl Cipher {
    fn new(algorithm: Algorithm, key: &[u8]) -> Result<Cipher, CryptoError> {
        let bad = |_| CryptoError::BadKeyLength(key.len());
        match (algorithm, key.len()) {
            (Algorithm::Des, 8) => Des::new_from_slice(key).map(Cipher::Des).map_err(bad),
            (Algorithm::Des, 16) => TdesEde2::new_from_slice(key).map(Cipher::Tdes).map_err(bad),
            (Algorithm::Sm4, 16) => Sm4::new_from_slice(key).map(Cipher::Sm4).map_err(bad),
            (Algorithm::Ssf33, _) => Err(CryptoError::UnsupportedAlgorithm(0x02)),
            (_, n) => Err(CryptoError::BadKeyLength(n)),
        }
    }

    fn block_len(&self) -> usize {
        match self {
            Cipher::Des(_) | Cipher::Tdes(_) => 8,
            Cipher::Sm4(_) => 16,
        }
    }

    fn encrypt(&self, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let wrong = |_| CryptoError::BadInput("block length");
        Ok(match self {
            Cipher::Des(c) => {
                let mut b = Block::<Des>::try_from(input).map_err(wrong)?;
                c.encrypt_block(&mut b);
                b.to_vec()
            }
            Cipher::Tdes(c) => {
                let mut b = Block::<TdesEde2>::try_from(input).map_err(wrong)?;
                c.encrypt_block(&mut b);
                b.to_vec()
            }
            Cipher::Sm4(c) => {
                let mut b = Block::<Sm4>::try_from(input).map_err(wrong)?;
                c.encrypt_block(&mut b);
                b.to_vec()
            }
        })
    }

    fn decrypt(&self, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let wrong = |_| CryptoError::BadInput("block length");
        Ok(match self {
            Cipher::Des(c) => {
                let mut b = Block::<Des>::try_from(input).map_err(wrong)?;
                c.decrypt_block(&mut b);
                b.to_vec()
            }
            Cipher::Tdes(c) => {
                let mut b = Block::<TdesEde2>::try_from(input).map_err(wrong)?;
                c.decrypt_block(&mut b);
                b.to_vec()
            }
            Cipher::Sm4(c) => {
                let mut b = Block::<Sm4>::try_from(input).map_err(wrong)?;
                c.decrypt_block(&mut b);
                b.to_vec()
            }
        })
    }
}

/// Encrypts one block with `key` under `algorithm` (ECB of a single block).
///
/// DES with an 8-byte key is single DES, with a 16-byte key two-key Triple-DES EDE
/// (P9 figure 4 (B): E(K_L) D(K_R) E(K_L)); SM4 needs a 16-byte key and block.
pub fn encrypt_block(
    algorithm: Algorithm,
    key: &[u8],
    block: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    Cipher::new(algorithm, key)?.encrypt(block)
}

/// Decrypts one block (the inverse of [`encrypt_block`]).
pub fn decrypt_block(
    algorithm: Algorithm,
    key: &[u8],
    block: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    Cipher::new(algorithm, key)?.decrypt(block)
}

fn not8(factor: &[u8; 8]) -> [u8; 8] {
    let mut out = *factor;
    for b in &mut out {
        *b = !*b;
    }
    out
}

/// One diversification step: the child key of `key` for an 8-byte `factor`.
///
/// * DES, 8-byte key (P9 §7.1.1, figure 2): `DES(key, factor)`, an 8-byte child.
/// * DES, 16-byte key (P9 §7.1.1, figure 3): `3DES(key, factor) ‖ 3DES(key, ¬factor)`.
/// * SM4 (P9 §7.2.1, figure 8, written for SSF33 and applied to every 16-byte block cipher):
///   `SM4(key, factor ‖ ¬factor)`.
pub fn diversify(
    algorithm: Algorithm,
    key: &[u8],
    factor: &[u8; 8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Cipher::new(algorithm, key)?;
    match cipher {
        Cipher::Des(_) => cipher.encrypt(factor),
        Cipher::Tdes(_) => {
            let mut out = cipher.encrypt(factor)?;
            out.extend(cipher.encrypt(&not8(factor))?);
            Ok(out)
        }
        Cipher::Sm4(_) => {
            let mut input = factor.to_vec();
            input.extend_from_slice(&not8(factor));
            cipher.encrypt(&input)
        }
    }
}

/// Diversifies `root` through several levels in order (P9 §7.3, figure 12: province factor,
/// then city factor, then card factor for a national root).
pub fn diversify_chain(
    algorithm: Algorithm,
    root: &[u8],
    factors: &[[u8; 8]],
) -> Result<Vec<u8>, CryptoError> {
    let mut key = root.to_vec();
    for factor in factors {
        key = diversify(algorithm, &key, factor)?;
    }
    Ok(key)
}

/// The process (session) key of `key` for a challenge (P4 §8.4, P9 §7.1.5/§7.2.5).
///
/// The input is the challenge right-padded with `00` to the block length (a 4-byte challenge
/// becomes 8 or 16 bytes, an 8-byte one 16 bytes under SM4). 8-byte blocks: single DES
/// (figure 7) or Triple-DES EDE (figure 8) by key length, giving an 8-byte single-DES key;
/// SM4: the 16-byte encryption of the input (figure 9). A challenge longer than the block is
/// refused (profile D7).
pub fn session_key(
    algorithm: Algorithm,
    key: &[u8],
    challenge: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Cipher::new(algorithm, key)?;
    let n = cipher.block_len();
    if challenge.is_empty() || challenge.len() > n {
        return Err(CryptoError::BadInput("process factor length"));
    }
    let mut input = challenge.to_vec();
    input.resize(n, 0x00);
    cipher.encrypt(&input)
}

/// Authentication data of an 8-byte original with a process key (P4 §9.3).
///
/// 8-byte blocks (figure 10): `DES(session, original)`. 16-byte blocks (figure 11): encrypt
/// `original ‖ 00×8`, then XOR the left and right halves of the result.
pub fn auth_data(
    algorithm: Algorithm,
    session: &[u8],
    original: &[u8; 8],
) -> Result<[u8; 8], CryptoError> {
    let cipher = Cipher::new(algorithm, session)?;
    let mut input = original.to_vec();
    input.resize(cipher.block_len(), 0x00);
    let out = cipher.encrypt(&input)?;
    let mut result = [0u8; 8];
    for (i, r) in result.iter_mut().enumerate() {
        *r = out.get(i).copied().unwrap_or(0) ^ out.get(i + 8).copied().unwrap_or(0);
    }
    Ok(result)
}

/// The 4-byte MAC of `message` (`CLA INS P1 P2 Lc ‖ data`, Lc counting the MAC) with a process
/// key (P4 §8.2.4).
///
/// Initial value zero; `80` is always appended, then `00` to the block length (a full last
/// block gets a whole `80 00…` block); CBC encryption. 8-byte blocks: the left 4 bytes of the
/// last output (figure 1, single-length key). 16-byte blocks: the XOR of the four 4-byte groups
/// of the last output (figure 2).
pub fn mac(algorithm: Algorithm, session: &[u8], message: &[u8]) -> Result<[u8; 4], CryptoError> {
    let cipher = Cipher::new(algorithm, session)?;
    let n = cipher.block_len();
    let mut data = message.to_vec();
    data.push(0x80);
    while data.len() % n != 0 {
        data.push(0x00);
    }
    let mut state = vec![0u8; n];
    for chunk in data.chunks(n) {
        for (s, d) in state.iter_mut().zip(chunk) {
            *s ^= d;
        }
        state = cipher.encrypt(&state)?;
    }
    let mut out = [0u8; 4];
    for (i, group) in state.chunks(4).enumerate() {
        if i == 0 || n == 16 {
            for (o, g) in out.iter_mut().zip(group) {
                *o ^= g;
            }
        }
    }
    Ok(out)
}

/// Enciphers `plain` for a command's data field with a process key (P4 §8.3.2-§8.3.3).
///
/// The block is `LD ‖ plain` (LD = length of `plain`); `80` then `00` are appended only when
/// the last block is short; each block is encrypted alone (ECB).
pub fn encipher(
    algorithm: Algorithm,
    session: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Cipher::new(algorithm, session)?;
    let n = cipher.block_len();
    let ld = u8::try_from(plain.len()).map_err(|_| CryptoError::BadInput("plain text too long"))?;
    let mut data = Vec::with_capacity(plain.len() + n);
    data.push(ld);
    data.extend_from_slice(plain);
    if data.len() % n != 0 {
        data.push(0x80);
        while data.len() % n != 0 {
            data.push(0x00);
        }
    }
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks(n) {
        out.extend(cipher.encrypt(chunk)?);
    }
    Ok(out)
}

/// Deciphers a data field made by [`encipher`] and returns the plain text (P4 §8.3.4).
pub fn decipher(
    algorithm: Algorithm,
    session: &[u8],
    cipher_text: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Cipher::new(algorithm, session)?;
    let n = cipher.block_len();
    if cipher_text.is_empty() || cipher_text.len() % n != 0 {
        return Err(CryptoError::BadInput("cipher text length"));
    }
    let mut data = Vec::with_capacity(cipher_text.len());
    for chunk in cipher_text.chunks(n) {
        data.extend(cipher.decrypt(chunk)?);
    }
    let ld = usize::from(data[0]);
    data.get(1..1 + ld)
        .map(<[u8]>::to_vec)
        .ok_or(CryptoError::BadInput("LD larger than the data"))
}

/// Checks a region code: six decimal digits (GB/T 2260, V2.0 §8.1.1.1).
fn region_digits(region: &str) -> Result<&[u8], CryptoError> {
    let bytes = region.as_bytes();
    if bytes.len() == 6 && bytes.iter().all(u8::is_ascii_digit) {
        Ok(bytes)
    } else {
        Err(CryptoError::BadInput("region code must be six digits"))
    }
}

/// First-level (province) factor (P9 §7.3.1): the ASCII of the region code's first two digits
/// followed by `30 30 30 30 73 68`.
pub fn province_factor(region: &str) -> Result<[u8; 8], CryptoError> {
    let d = region_digits(region)?;
    Ok([d[0], d[1], 0x30, 0x30, 0x30, 0x30, 0x73, 0x68])
}

/// Second-level (city) factor: the ASCII of the six digits followed by `73 78` (P9 §7.3.2);
/// for regions beginning with `33` (Zhejiang) the ASCII of the first four digits followed by
/// `30 30 73 78` (RI §10.3).
pub fn city_factor(region: &str) -> Result<[u8; 8], CryptoError> {
    let d = region_digits(region)?;
    if d.starts_with(b"33") {
        Ok([d[0], d[1], d[2], d[3], 0x30, 0x30, 0x73, 0x78])
    } else {
        Ok([d[0], d[1], d[2], d[3], d[4], d[5], 0x73, 0x78])
    }
}

/// The historical bytes of an answer to reset (ISO/IEC 7816-3 structure, P2 §8.2-§8.4):
/// skips TS, T0 and every interface byte announced by T0 and the TDi bytes.
pub fn historical_bytes(atr: &[u8]) -> Result<&[u8], CryptoError> {
    let short = CryptoError::BadInput("answer to reset too short");
    let t0 = *atr.get(1).ok_or(short.clone())?;
    let k = usize::from(t0 & 0x0F);
    let mut y = t0 >> 4;
    let mut i = 2usize;
    loop {
        for bit in [0x1u8, 0x2, 0x4] {
            if y & bit != 0 {
                i += 1;
            }
        }
        if y & 0x8 == 0 {
            break;
        }
        let td = *atr.get(i).ok_or(short.clone())?;
        i += 1;
        y = td >> 4;
    }
    atr.get(i..i + k).ok_or(short)
}

/// Third-level (card) factor (P9 §7.3.3): the 6th to 13th historical bytes of the ATR
/// (T6…TD in P2 §8.4 table 16).
pub fn card_factor(atr: &[u8]) -> Result<[u8; 8], CryptoError> {
    let hist = historical_bytes(atr)?;
    let slice = hist
        .get(5..13)
        .ok_or(CryptoError::BadInput("fewer than 13 historical bytes"))?;
    let mut out = [0u8; 8];
    out.copy_from_slice(slice);
    Ok(out)
}
