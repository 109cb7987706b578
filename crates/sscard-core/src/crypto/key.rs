//! Secret keys and key identifiers.

use std::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use super::CryptoError;

/// Length in bytes of every key sscard handles (two-key 3DES, SM4, AES-128).
pub const KEY_LEN: usize = 16;

/// A 16-byte symmetric key (a master key, a card key or a session key).
///
/// The bytes are wiped when the key is dropped, `Debug` prints `SecretKey(REDACTED)` and
/// equality is constant-time.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    /// A key from exactly 16 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<SecretKey, CryptoError> {
        let array: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| CryptoError::KeyLength { len: bytes.len() })?;
        Ok(SecretKey(Zeroizing::new(array)))
    }

    /// A key from exactly 32 hex digits (either case). The error does not repeat the text.
    pub fn from_hex(text: &str) -> Result<SecretKey, CryptoError> {
        let mut array = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(text.trim(), array.as_mut_slice()).map_err(|_| CryptoError::KeyHex)?;
        Ok(SecretKey(array))
    }

    /// The key bytes. Handle with care: copies are not wiped automatically.
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
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

/// A card key identifier (the P2 of EXTERNAL AUTHENTICATE, the key index of a PSAM), see the
/// key table of `docs/card-os.md` §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub u8);

impl KeyId {
    /// `00` card master key 卡主控密钥: re-personalization (DEACTIVATE FILE), CARD BLOCK.
    pub const MASTER: KeyId = KeyId(0x00);
    /// `04` EF05/EF06 update key: personalization writes, ACTIVATE FILE.
    pub const UPDATE: KeyId = KeyId(0x04);
    /// `06` PIN reload/unblock key 重装/解锁密钥: PIN RELOAD MAC and PIN block.
    pub const PIN_RELOAD: KeyId = KeyId(0x06);
    /// `07` application maintenance key 应用维护密钥: APPLICATION BLOCK/UNBLOCK MAC.
    pub const MAINTENANCE: KeyId = KeyId(0x07);
    /// `08` internal authentication key 内部认证密钥.
    pub const INTERNAL_AUTH: KeyId = KeyId(0x08);
    /// `0A` read key RKSSSE: reading on 3.0 cards.
    pub const READ: KeyId = KeyId(0x0A);
    /// `0D` EF0D update key.
    pub const UPDATE_EF0D: KeyId = KeyId(0x0D);
    /// `20` card identification code MAC key (the issuer's; never on the card).
    pub const CARD_ID_MAC: KeyId = KeyId(0x20);

    /// Every key id of the key table, in ascending order.
    pub const ALL: [KeyId; 8] = [
        KeyId::MASTER,
        KeyId::UPDATE,
        KeyId::PIN_RELOAD,
        KeyId::MAINTENANCE,
        KeyId::INTERNAL_AUTH,
        KeyId::READ,
        KeyId::UPDATE_EF0D,
        KeyId::CARD_ID_MAC,
    ];

    /// Whether this is a nationwide key (07, 08, 0A), whose card key is diversified by the card
    /// factor only; issuer keys (00, 04, 06, 0D, 20 and any other id) also use the city factor.
    pub fn is_nationwide(self) -> bool {
        matches!(
            self,
            KeyId::MAINTENANCE | KeyId::INTERNAL_AUTH | KeyId::READ
        )
    }

    /// A short English name for messages, e.g. `read key RKSSSE`.
    pub fn name(self) -> &'static str {
        match self {
            KeyId::MASTER => "card master key",
            KeyId::UPDATE => "EF05/EF06 update key",
            KeyId::PIN_RELOAD => "PIN reload/unblock key",
            KeyId::MAINTENANCE => "application maintenance key",
            KeyId::INTERNAL_AUTH => "internal authentication key",
            KeyId::READ => "read key RKSSSE",
            KeyId::UPDATE_EF0D => "EF0D update key",
            KeyId::CARD_ID_MAC => "card identification code MAC key",
            _ => "key",
        }
    }
}

/// Two uppercase hex digits, e.g. `0A`.
impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X}", self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_debug_is_redacted_and_eq_works() {
        let k = SecretKey::from_hex("00112233445566778899AABBCCDDEEFF").unwrap();
        assert_eq!(format!("{k:?}"), "SecretKey(REDACTED)");
        assert_eq!(
            k,
            SecretKey::from_bytes(&hex::decode("00112233445566778899aabbccddeeff").unwrap())
                .unwrap()
        );
        assert_ne!(k, SecretKey::from_bytes(&[0u8; 16]).unwrap());
        assert_eq!(
            SecretKey::from_bytes(&[0u8; 15]),
            Err(CryptoError::KeyLength { len: 15 })
        );
        assert_eq!(SecretKey::from_hex("zz"), Err(CryptoError::KeyHex));
        let err = SecretKey::from_hex("00112233445566778899AABBCCDDEEFG").unwrap_err();
        assert!(!err.to_string().contains("0011"));
    }

    #[test]
    fn key_ids() {
        assert_eq!(KeyId::READ.to_string(), "0A");
        let nationwide: Vec<KeyId> = KeyId::ALL
            .into_iter()
            .filter(|k| k.is_nationwide())
            .collect();
        assert_eq!(
            nationwide,
            [KeyId::MAINTENANCE, KeyId::INTERNAL_AUTH, KeyId::READ]
        );
    }
}
