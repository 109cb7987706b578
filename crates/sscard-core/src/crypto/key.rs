//! Secret keys: 8 bytes (single DES) or 16 bytes (two-key 3DES, SM4, AES-128).

use std::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use super::CryptoError;

/// Length of a double-length key (two-key 3DES, SM4, AES-128).
pub const KEY_LEN: usize = 16;

/// Length of a single-length DES key: the process keys of 3DES cards (part 4 §8.4.1 figures 7
/// and 8) and the 8-byte STK keys of 3DES cards (part 9 appendix B, `8***`).
pub const SINGLE_KEY_LEN: usize = 8;

/// A symmetric key of 8 or 16 bytes: a root key, a card key or a process (session) key.
///
/// The bytes are wiped when the key is dropped, `Debug` prints `SecretKey(REDACTED)` and
/// equality is constant-time.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<Vec<u8>>);

impl SecretKey {
    /// A key from exactly 8 or 16 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<SecretKey, CryptoError> {
        if bytes.len() != KEY_LEN && bytes.len() != SINGLE_KEY_LEN {
            return Err(CryptoError::KeyLength { len: bytes.len() });
        }
        Ok(SecretKey(Zeroizing::new(bytes.to_vec())))
    }

    /// A key from exactly 16 or 32 hex digits (either case). The error does not repeat the text.
    pub fn from_hex(text: &str) -> Result<SecretKey, CryptoError> {
        let text = text.trim();
        let mut bytes = Zeroizing::new(vec![0u8; text.len() / 2]);
        if text.len() % 2 != 0 || hex::decode_to_slice(text, bytes.as_mut_slice()).is_err() {
            return Err(CryptoError::KeyHex);
        }
        SecretKey::from_bytes(&bytes).map_err(|_| CryptoError::KeyHex)
    }

    /// The key bytes. Handle with care: copies are not wiped automatically.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// 8 or 16.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a key has 8 or 16 bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this is a single-length (8-byte) DES key.
    pub fn is_single_length(&self) -> bool {
        self.0.len() == SINGLE_KEY_LEN
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(REDACTED)")
    }
}

impl ConstantTimeEq for SecretKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.as_slice().ct_eq(other.0.as_slice())
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(ConstantTimeEq::ct_eq(self, other))
    }
}

impl Eq for SecretKey {}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn lengths_hex_and_redaction() {
        let k = SecretKey::from_hex("00112233445566778899AABBCCDDEEFF").unwrap();
        assert_eq!(format!("{k:?}"), "SecretKey(REDACTED)");
        assert_eq!(k.len(), 16);
        assert!(!k.is_single_length());
        assert_eq!(
            k,
            SecretKey::from_bytes(&hex::decode("00112233445566778899aabbccddeeff").unwrap())
                .unwrap()
        );
        assert_ne!(k, SecretKey::from_bytes(&[0u8; 16]).unwrap());
        let single = SecretKey::from_hex("0123456789ABCDEF").unwrap();
        assert!(single.is_single_length());
        assert_eq!(
            SecretKey::from_bytes(&[0u8; 15]),
            Err(CryptoError::KeyLength { len: 15 })
        );
        assert_eq!(SecretKey::from_hex("zz"), Err(CryptoError::KeyHex));
        assert_eq!(SecretKey::from_hex("001122"), Err(CryptoError::KeyHex));
        let err = SecretKey::from_hex("00112233445566778899AABBCCDDEEFG").unwrap_err();
        assert!(!err.to_string().contains("0011"));
    }
}
