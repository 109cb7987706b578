//! Test helpers: deterministic master keys, a key file, and a "terminal" that drives a
//! [`SimCard`] with raw APDUs, computing cryptograms and MACs with the core crypto.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use zeroize::Zeroizing;

use sscard_core::apdu::{commands, Command};
use sscard_core::crypto::{self, CardFactors, KeyId, Pin, SecretKey};
use sscard_core::data::RegionCode;
use sscard_core::keyholder::KeyFile;
use sscard_core::profile::{self, Generation};
use sscard_core::Algorithm;

use crate::card::{CardSpec, SimCard};

/// The chip serial of test cards.
pub(crate) const SERIAL: [u8; 4] = [0x12, 0x34, 0x56, 0x78];
/// The region of test cards.
pub(crate) const REGION: &str = "110105";

/// [`REGION`] parsed.
pub(crate) fn region() -> RegionCode {
    RegionCode::parse(REGION).unwrap()
}
/// Every master key id of the test key file.
pub(crate) const MASTER_KEY_IDS: [u8; 8] = [0x00, 0x04, 0x06, 0x07, 0x08, 0x0A, 0x0D, 0x20];

/// Deterministic test master key `id` for `alg`.
pub(crate) fn master_key(alg: Algorithm, id: u8) -> [u8; 16] {
    let mut key = [0u8; 16];
    for (j, byte) in key.iter_mut().enumerate() {
        *byte =
            (j as u8).wrapping_mul(0x11) ^ id.wrapping_mul(0x1D) ^ alg.to_byte().wrapping_mul(0x47);
    }
    key
}

/// The key file text with [`master_key`] for every algorithm.
pub(crate) fn key_file_json() -> String {
    let mut algorithms = serde_json::Map::new();
    for alg in Algorithm::ALL {
        let mut keys = serde_json::Map::new();
        for id in MASTER_KEY_IDS {
            keys.insert(
                format!("{id:02X}"),
                hex::encode_upper(master_key(alg, id)).into(),
            );
        }
        algorithms.insert(alg.name().to_string(), keys.into());
    }
    serde_json::json!({
        "warning": "test keys, never use them for real cards",
        "test_keys": true,
        "algorithms": algorithms,
    })
    .to_string()
}

/// The test key file.
pub(crate) fn key_file() -> KeyFile {
    KeyFile::from_json(&key_file_json()).unwrap()
}

/// The card and city factors of the test cards.
pub(crate) fn test_factors() -> CardFactors {
    let atr = crate::card::atr_for_serial(SERIAL);
    CardFactors {
        card: crypto::card_factor_from_atr(&atr).unwrap(),
        city: crypto::city_factor(&region()),
    }
}

/// Bytes from hex text (spaces allowed).
pub(crate) fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

/// A terminal in front of one simulated card.
pub(crate) struct Terminal {
    pub(crate) card: SimCard,
    pub(crate) alg: Algorithm,
    pub(crate) factors: CardFactors,
}

impl Terminal {
    /// A blank card of `generation` and `alg` from the test key file.
    pub(crate) fn new(generation: Generation, alg: Algorithm) -> Terminal {
        let spec = CardSpec::new(generation, alg, region(), SERIAL);
        let mut card = SimCard::blank(spec, &mut key_file()).unwrap();
        card.seed_rng(7);
        Terminal {
            card,
            alg,
            factors: test_factors(),
        }
    }

    /// Raw exchange of hex text.
    pub(crate) fn send_hex(&mut self, apdu: &str) -> (Vec<u8>, u16) {
        split(self.card.handle(&h(apdu)))
    }

    /// The status word of a raw exchange.
    pub(crate) fn sw(&mut self, apdu: &str) -> u16 {
        self.send_hex(apdu).1
    }

    /// Sends `command`; a `61xx` is followed by GET RESPONSE (T=0 mode).
    pub(crate) fn send(&mut self, command: &Command) -> (Vec<u8>, u16) {
        let (data, sw) = split(self.card.handle(&command.to_bytes().unwrap()));
        if sw >> 8 == 0x61 {
            return split(self.card.handle(&[0x00, 0xC0, 0x00, 0x00, sw as u8]));
        }
        (data, sw)
    }

    /// SELECT SSSE (must succeed).
    pub(crate) fn select(&mut self) {
        let (_, sw) = self.send(&commands::select_aid(&profile::SSSE_AID));
        assert_eq!(sw, 0x9000);
    }

    /// `CK_id` computed by the core crypto from the master key.
    pub(crate) fn card_key(&self, id: u8) -> Zeroizing<[u8; 16]> {
        let master = SecretKey::from_bytes(&master_key(self.alg, id)).unwrap();
        let path = crypto::key_factors(KeyId(id), &self.factors.card, &self.factors.city);
        let key = crypto::diversify_path(self.alg, &master, &path).unwrap();
        Zeroizing::new(*key.expose_bytes())
    }

    fn secret_card_key(&self, id: u8) -> SecretKey {
        SecretKey::from_bytes(self.card_key(id).as_slice()).unwrap()
    }

    /// The external authentication cryptogram for `challenge` with `CK_id`.
    pub(crate) fn cryptogram(&self, id: u8, challenge: &[u8]) -> Zeroizing<Vec<u8>> {
        crypto::external_auth_cryptogram(self.alg, &self.secret_card_key(id), challenge).unwrap()
    }

    /// GET CHALLENGE + EXTERNAL AUTHENTICATE with key `id`; the status word of the latter
    /// (or of GET CHALLENGE when it fails).
    pub(crate) fn authenticate(&mut self, id: u8) -> u16 {
        let (challenge, sw) = self.send(&commands::get_challenge(self.alg.block_len() as u8));
        if sw != 0x9000 {
            return sw;
        }
        let cryptogram = self.cryptogram(id, &challenge);
        self.send(&commands::external_authenticate(id, cryptogram))
            .1
    }

    /// The expected INTERNAL AUTHENTICATE answer.
    pub(crate) fn internal_auth(&self, factor: &[u8; 8], data: &[u8]) -> Vec<u8> {
        crypto::internal_auth_response(self.alg, &self.secret_card_key(0x08), factor, data)
            .unwrap()
            .to_vec()
    }

    /// The MAC of `input` with `CK_id` and IV `challenge`.
    pub(crate) fn mac(&self, id: u8, challenge: &[u8], input: &[u8]) -> [u8; 4] {
        crypto::mac(self.alg, &self.secret_card_key(id), challenge, input).unwrap()
    }

    /// ECB encipherment with `CK_id`.
    pub(crate) fn encipher(&self, id: u8, data: &[u8]) -> Vec<u8> {
        crypto::encipher(self.alg, &self.secret_card_key(id), data)
            .unwrap()
            .to_vec()
    }

    /// GET CHALLENGE + a MAC-secured command `header Lc data_before ‖ MAC(CK_key)`.
    pub(crate) fn mac_command(&mut self, header: [u8; 4], data_before: &[u8], key: u8) -> u16 {
        let (challenge, sw) = self.send(&commands::get_challenge(self.alg.block_len() as u8));
        if sw != 0x9000 {
            return sw;
        }
        let input = commands::mac_input(header[0], header[1], header[2], header[3], data_before);
        let mac = self.mac(key, &challenge, &input);
        let mut data = data_before.to_vec();
        data.extend_from_slice(&mac);
        let command = Command::new(header[0], header[1], header[2], header[3]).with_data(data);
        self.send(&command).1
    }

    /// PIN RELOAD (`8424 0001`) with `pin`.
    pub(crate) fn reload_pin(&mut self, pin: &str) -> u16 {
        let pin = Pin::new(pin).unwrap();
        let plain = crypto::pin_block(self.alg, &pin);
        let block = self.encipher(0x06, &plain);
        self.mac_command(commands::PIN_RELOAD_HEADER, &block, 0x06)
    }

    /// VERIFY `pin`.
    pub(crate) fn verify(&mut self, pin: &str) -> u16 {
        let pin = Pin::new(pin).unwrap();
        self.send(&commands::verify(pin.to_bcd())).1
    }

    /// CHANGE PIN.
    pub(crate) fn change_pin(&mut self, old: &str, new: &str) -> u16 {
        let old = Pin::new(old).unwrap();
        let new = Pin::new(new).unwrap();
        self.send(&commands::change_pin(old.to_bcd(), new.to_bcd()))
            .1
    }

    /// SELECT, key 04, one record, initial PIN 123456, ACTIVATE FILE: a personalized card.
    pub(crate) fn personalize_minimal(&mut self) {
        self.select();
        assert_eq!(self.authenticate(0x04), 0x9000);
        let tlv = sscard_core::codec::tlv(0x02, b"3");
        let command = commands::update_record(Some(5), commands::RecordRef::Tag(2), tlv);
        assert_eq!(self.send(&command).1, 0x9000);
        assert_eq!(self.reload_pin("123456"), 0x9000);
        assert_eq!(self.send(&commands::activate_file()).1, 0x9000);
        self.select();
    }
}

/// Splits a response into data and status word.
pub(crate) fn split(mut response: Vec<u8>) -> (Vec<u8>, u16) {
    assert!(response.len() >= 2, "a response has a status word");
    let sw = response.split_off(response.len() - 2);
    (response, u16::from_be_bytes([sw[0], sw[1]]))
}
