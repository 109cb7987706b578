//! Development root keys as a key holder: computes everything itself (tests, the simulator;
//! never real cards).

use std::collections::HashMap;
use std::fmt;

use zeroize::Zeroizing;

use super::{CardContext, KeyHolder, KeyHolderError, SecureMessage};
use crate::apdu::commands::mac_input;
use crate::crypto::{self, CardFactors, Pin, SecretKey};
use crate::keys::{KeyFileError, KeyRole, RootKeys};
use crate::Algorithm;

/// Root keys from a version-2 key file, used directly: card keys are derived per card (part 9
/// §7.3) and remembered for the last few cards, since an operation needs the same key several
/// times.
pub struct KeyFile {
    roots: RootKeys,
    cache: HashMap<(Algorithm, KeyRole, CardFactors), SecretKey>,
}

/// Card keys remembered before the cache is emptied (a batch personalizes one card at a time).
const CACHE_LIMIT: usize = 64;

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFile")
            .field("roots", &self.roots)
            .finish_non_exhaustive()
    }
}

impl KeyFile {
    /// A key holder over these root keys.
    pub fn new(roots: RootKeys) -> KeyFile {
        KeyFile {
            roots,
            cache: HashMap::new(),
        }
    }

    /// Parses a version-2 key file (no file I/O: the caller reads the file).
    pub fn from_json(text: &str) -> Result<KeyFile, KeyFileError> {
        RootKeys::from_json(text).map(KeyFile::new)
    }

    /// The root keys.
    pub fn roots(&self) -> &RootKeys {
        &self.roots
    }

    /// The card key of `role` for `card`.
    pub fn card_key(
        &mut self,
        card: &CardContext,
        role: KeyRole,
    ) -> Result<SecretKey, KeyHolderError> {
        let factors = card.factors()?;
        let slot = (card.algorithm, role, factors);
        if let Some(key) = self.cache.get(&slot) {
            return Ok(key.clone());
        }
        let key = self.roots.card_key(card.algorithm, role, &factors)?.ok_or(
            KeyHolderError::UnknownKey {
                algorithm: card.algorithm,
                role,
            },
        )?;
        if self.cache.len() >= CACHE_LIMIT {
            self.cache.clear();
        }
        self.cache.insert(slot, key.clone());
        Ok(key)
    }
}

impl KeyHolder for KeyFile {
    fn supports(&self, alg: Algorithm) -> bool {
        self.roots.supports(alg)
    }

    fn authenticate(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], KeyHolderError> {
        let key = self.card_key(card, role)?;
        Ok(crypto::authenticate(
            card.algorithm,
            &key,
            process_factor,
            original,
        )?)
    }

    fn secure_message(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        challenge: &[u8],
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<SecureMessage, KeyHolderError> {
        let alg = card.algorithm;
        let key = self.card_key(card, role)?;
        let session = crypto::process_key(alg, &key, challenge)?;
        let enciphered = match new_pin {
            Some(pin) => crypto::encipher_data(alg, &session, &pin.to_bcd())?,
            None => Zeroizing::new(Vec::new()),
        };
        let [cla, ins, p1, p2] = header;
        let input = Zeroizing::new(mac_input(cla, ins, p1, p2, &enciphered));
        let mac = crypto::mac(alg, &session, &input)?;
        Ok(SecureMessage { enciphered, mac })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../../fixtures/keys/test-keys.json");

    fn card(alg: Algorithm) -> CardContext {
        CardContext {
            algorithm: alg,
            atr: hex::decode("3B6D000000814A444686605199000001AC").unwrap(),
            card_id: "519900D15600000510000B26FFFFFFFF".parse().unwrap(),
        }
    }

    #[test]
    fn computes_with_the_card_keys() {
        let mut kf = KeyFile::from_json(FIXTURE).unwrap();
        for alg in [Algorithm::Tdes, Algorithm::Sm4] {
            let c = card(alg);
            let factors = c.factors().unwrap();
            let ck = kf
                .roots()
                .card_key(alg, KeyRole::Rkssse, &factors)
                .unwrap()
                .unwrap();
            let challenge = [1, 2, 3, 4, 5, 6, 7, 8];
            let original = [9; 8];
            let got = kf
                .authenticate(&c, KeyRole::Rkssse, &challenge, &original)
                .unwrap();
            assert_eq!(
                got,
                crypto::authenticate(alg, &ck, &challenge, &original).unwrap()
            );

            let pin = Pin::new("123456").unwrap();
            let header = [0x84, 0x24, 0x00, 0x01];
            let sm = kf
                .secure_message(&c, KeyRole::Stkssse, &challenge, header, Some(&pin))
                .unwrap();
            let stk = kf
                .roots()
                .card_key(alg, KeyRole::Stkssse, &factors)
                .unwrap()
                .unwrap();
            assert_eq!(stk.len(), KeyRole::Stkssse.key_len(alg));
            let session = crypto::process_key(alg, &stk, &challenge).unwrap();
            assert_eq!(
                crypto::decipher_data(alg, &session, &sm.enciphered)
                    .unwrap()
                    .as_slice(),
                [0x12, 0x34, 0x56]
            );
            let lc = (sm.enciphered.len() + 4) as u8;
            let mut input = vec![0x84, 0x24, 0x00, 0x01, lc];
            input.extend_from_slice(&sm.enciphered);
            assert_eq!(sm.mac, crypto::mac(alg, &session, &input).unwrap());
            // the field trace's PIN reload is 16 + 4 bytes on SM4, 8 + 4 on 3DES
            assert_eq!(sm.enciphered.len(), alg.block_len());
        }
        assert!(matches!(
            KeyFile::new(RootKeys::new()).authenticate(
                &card(Algorithm::Sm4),
                KeyRole::Irk,
                &[1; 8],
                &[2; 8]
            ),
            Err(KeyHolderError::UnknownKey { .. })
        ));
        assert_ne!(kf.random().unwrap(), kf.random().unwrap());
        assert!(!format!("{kf:?}").contains("98E758AB"));
    }
}
