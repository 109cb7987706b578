//! Test helpers: the repository's test root keys, sample holder records, and a "terminal" that
//! drives a [`SimCard`] with raw APDUs, computing cryptograms and MACs with the core crypto.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use zeroize::Zeroizing;

use sscard_core::crypto::{self, Pin, SecretKey};
use sscard_core::data::RegionCode;
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::profile::{Generation, SSSE_AID};
use sscard_core::Algorithm;

use crate::card::SimCard;
use crate::spec::CardSpec;

/// The repository's test root keys (national level, TEST KEYS ONLY).
pub(crate) const TEST_KEYS: &str = include_str!("../../../fixtures/keys/test-keys.json");

/// The test root keys.
pub(crate) fn keys() -> RootKeys {
    RootKeys::from_json(TEST_KEYS).unwrap()
}

/// The region of test cards (the field trace's).
pub(crate) const REGION: &str = "519900";
/// The ATR serial of test cards.
pub(crate) const ATR_SERIAL: [u8; 4] = [0x00, 0x00, 0x01, 0xAC];
/// The issuer's serial in the card identification code of test cards.
pub(crate) const CARD_SERIAL: [u8; 4] = [0x10, 0x00, 0x0B, 0x26];
/// The authentication code of test cards.
pub(crate) const AUTH_CODE: [u8; 4] = [0xFF; 4];

/// [`REGION`] parsed.
pub(crate) fn region() -> RegionCode {
    RegionCode::parse(REGION).unwrap()
}

/// The spec of test cards.
pub(crate) fn spec(generation: Generation, alg: Algorithm) -> CardSpec {
    CardSpec::new(generation, alg, region(), ATR_SERIAL)
        .with_card_serial(CARD_SERIAL)
        .with_auth_code(AUTH_CODE)
}

/// Bytes from hex text (spaces allowed).
pub(crate) fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

/// A holder's records, padded as V2.0 notice §7 says (values of the field trace where it shows
/// them).
pub(crate) fn sample_records(generation: Generation) -> Vec<(u8, Vec<u8>)> {
    let mut name = vec![0xB0, 0xD7, 0xD5, 0xDC, 0xD3, 0xEE];
    name.resize(30, 0);
    let mut records = vec![
        (0x02, b"3".to_vec()),
        (0x03, generation.spec_version().as_bytes().to_vec()),
        (0x04, h("915600000251990051990001")),
        (0x05, h("20200101")),
        (0x06, h("20300101")),
        (0x07, b"HA1046924".to_vec()),
        (0x08, b"512012220161022513".to_vec()),
        (0x09, name),
        (0x0A, b"1".to_vec()),
        (0x0B, h("01")),
        (0x0C, h("519900")),
        (0x0D, h("19610221")),
    ];
    if generation.has_name_extension() {
        records.push((0x4E, vec![0; 20]));
    }
    records
}

/// Splits a response into data and status word.
pub(crate) fn split(mut response: Vec<u8>) -> (Vec<u8>, u16) {
    assert!(response.len() >= 2, "a response has a status word");
    let sw = response.split_off(response.len() - 2);
    (response, u16::from_be_bytes([sw[0], sw[1]]))
}

/// `header ‖ Lc ‖ data`.
pub(crate) fn with_lc(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut apdu = header.to_vec();
    apdu.push(data.len() as u8);
    apdu.extend_from_slice(data);
    apdu
}

/// A terminal in front of one simulated card.
pub(crate) struct Terminal {
    pub(crate) card: SimCard,
    pub(crate) alg: Algorithm,
    pub(crate) spec: CardSpec,
    pub(crate) keys: RootKeys,
}

impl Terminal {
    /// A blank card of `generation` and `alg`.
    pub(crate) fn new(generation: Generation, alg: Algorithm) -> Terminal {
        Terminal::with_spec(spec(generation, alg))
    }

    /// A blank card of `spec`.
    pub(crate) fn with_spec(spec: CardSpec) -> Terminal {
        let keys = keys();
        let mut card = SimCard::blank(spec.clone(), &keys).unwrap();
        card.seed_rng(7);
        Terminal {
            card,
            alg: spec.algorithm,
            spec,
            keys,
        }
    }

    /// A personalized card ([`sample_records`], PIN `123456`).
    pub(crate) fn personalized(generation: Generation, alg: Algorithm) -> Terminal {
        let spec = spec(generation, alg);
        let keys = keys();
        let mut card = SimCard::personalized(
            spec.clone(),
            &keys,
            &sample_records(generation),
            &Pin::initial(),
        )
        .unwrap();
        card.seed_rng(7);
        Terminal {
            card,
            alg,
            spec,
            keys,
        }
    }

    /// Raw exchange.
    pub(crate) fn raw(&mut self, apdu: &[u8]) -> (Vec<u8>, u16) {
        split(self.card.handle(apdu))
    }

    /// Raw exchange of hex text.
    pub(crate) fn hex(&mut self, apdu: &str) -> (Vec<u8>, u16) {
        self.raw(&h(apdu))
    }

    /// The status word of a raw exchange of hex text.
    pub(crate) fn sw(&mut self, apdu: &str) -> u16 {
        self.hex(apdu).1
    }

    /// Sends `apdu`; a `61xx` is followed by GET RESPONSE.
    pub(crate) fn send(&mut self, apdu: &[u8]) -> (Vec<u8>, u16) {
        let (data, sw) = self.raw(apdu);
        if sw >> 8 == 0x61 {
            return self.raw(&[0x00, 0xC0, 0x00, 0x00, sw as u8]);
        }
        (data, sw)
    }

    /// SELECT SSSE by name (must succeed); the FCI.
    pub(crate) fn select(&mut self) -> Vec<u8> {
        let (fci, sw) = self.send(&with_lc([0x00, 0xA4, 0x04, 0x00], &SSSE_AID));
        assert_eq!(sw, 0x9000);
        fci
    }

    /// The card key of `role`, from the root keys.
    pub(crate) fn card_key(&self, role: KeyRole) -> SecretKey {
        self.keys
            .card_key(self.alg, role, &self.spec.factors())
            .unwrap()
            .unwrap()
    }

    /// GET CHALLENGE of `len` bytes (must succeed).
    pub(crate) fn challenge(&mut self, len: u8) -> Vec<u8> {
        let (r, sw) = self.raw(&[0x00, 0x84, 0x00, 0x00, len]);
        assert_eq!(sw, 0x9000);
        r
    }

    /// The EXTERNAL AUTHENTICATION command with `key`'s card key for `challenge`.
    pub(crate) fn external_auth_apdu(
        &self,
        role: KeyRole,
        challenge: &[u8],
        original: [u8; 8],
    ) -> Vec<u8> {
        let auth =
            crypto::authenticate(self.alg, &self.card_key(role), challenge, &original).unwrap();
        let mut data = auth.to_vec();
        data.extend_from_slice(&original);
        with_lc([0x00, 0x82, 0x00, role.card_key_id().unwrap()], &data)
    }

    /// GET CHALLENGE (8 bytes) + EXTERNAL AUTHENTICATION with `role`; its status word.
    pub(crate) fn authenticate(&mut self, role: KeyRole) -> u16 {
        let challenge = self.challenge(8);
        let apdu = self.external_auth_apdu(role, &challenge, [0x5A; 8]);
        self.raw(&apdu).1
    }

    /// The STKSSSE process key for `challenge`.
    pub(crate) fn stk_session(&self, challenge: &[u8]) -> SecretKey {
        crypto::process_key(self.alg, &self.card_key(KeyRole::Stkssse), challenge).unwrap()
    }

    /// `header Lc data ‖ MAC` with the MAC under `session`.
    pub(crate) fn mac_apdu(&self, session: &SecretKey, header: [u8; 4], data: &[u8]) -> Vec<u8> {
        let mut message = header.to_vec();
        message.push((data.len() + 4) as u8);
        message.extend_from_slice(data);
        let mac = crypto::mac(self.alg, session, &message).unwrap();
        let mut full = data.to_vec();
        full.extend_from_slice(&mac);
        with_lc(header, &full)
    }

    /// GET CHALLENGE + a command secured with the STKSSSE MAC; its status word.
    pub(crate) fn maintenance(&mut self, header: [u8; 4], data: &[u8]) -> u16 {
        let challenge = self.challenge(8);
        let session = self.stk_session(&challenge);
        let apdu = self.mac_apdu(&session, header, data);
        self.raw(&apdu).1
    }

    /// The PIN RELOAD command for `pin_cn` (LD-enciphered and MAC'd with one process key).
    pub(crate) fn reload_apdu(&mut self, pin_cn: &[u8]) -> Vec<u8> {
        let challenge = self.challenge(8);
        let session = self.stk_session(&challenge);
        let enciphered = crypto::encipher_data(self.alg, &session, pin_cn).unwrap();
        self.mac_apdu(&session, [0x84, 0x24, 0x00, 0x01], &enciphered)
    }

    /// PUK authentication + PIN RELOAD of `pin`.
    pub(crate) fn reload(&mut self, pin: &str) -> u16 {
        assert_eq!(self.authenticate(KeyRole::Puk), 0x9000);
        let cn = Pin::new(pin).unwrap().to_bcd();
        let apdu = self.reload_apdu(&cn);
        self.raw(&apdu).1
    }

    /// VERIFY `pin`.
    pub(crate) fn verify(&mut self, pin: &str) -> u16 {
        let cn = Pin::new(pin).unwrap().to_bcd();
        self.raw(&with_lc([0x00, 0x20, 0x00, 0x00], &cn)).1
    }

    /// CHANGE PIN `old` → `new`.
    pub(crate) fn change_pin(&mut self, old: &str, new: &str) -> u16 {
        let mut data = Zeroizing::new(Pin::new(old).unwrap().to_bcd().to_vec());
        data.push(0xFF);
        data.extend_from_slice(&Pin::new(new).unwrap().to_bcd());
        self.raw(&with_lc([0x80, 0x5E, 0x01, 0x00], &data)).1
    }

    /// READ RECORD of tag `tag` in the EF of SFI `sfi` with the exact length (asked with Le
    /// `00` first, as a terminal does): the record.
    pub(crate) fn read_tag(&mut self, sfi: u8, tag: u8) -> (Vec<u8>, u16) {
        let (_, sw) = self.raw(&[0x00, 0xB2, tag, sfi << 3, 0x00]);
        if sw >> 8 != 0x6C {
            return (Vec::new(), sw);
        }
        self.raw(&[0x00, 0xB2, tag, sfi << 3, sw as u8])
    }
}
