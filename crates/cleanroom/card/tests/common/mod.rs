//! A minimal terminal for the tests: it derives the card keys from the national roots itself
//! (part 9 §7.3 and profile D1/D5, starting from the ATR) and builds the commands of part 5.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use cleanroom_card::crypto::{self, Factors};
use cleanroom_card::{fs, Algorithm, Card, CardConfig, SpecVersion};

pub const ROLES: [&str; 6] = ["IRK", "RKSSSE", "UKSSSE", "PUK", "STKSSSE", "BK"];

/// The test roots of `fixtures/keys/test-keys.json` for `alg`.
pub fn test_roots(alg: Algorithm) -> BTreeMap<String, Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../fixtures/keys/test-keys.json"
    );
    let text = std::fs::read_to_string(path).expect("test keys");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let family = match alg {
        Algorithm::Des => "3des",
        Algorithm::Sm4 => "sm4",
    };
    let mut roots = BTreeMap::new();
    for role in ROLES {
        let hex_key = json["roots"][family][role].as_str().expect("role");
        roots.insert(role.to_string(), hex::decode(hex_key).expect("hex"));
    }
    roots
}

pub fn config(alg: Algorithm, version: SpecVersion) -> CardConfig {
    CardConfig {
        algorithm: alg,
        version,
        region: "519900".to_string(),
        atr_serial: [0x00, 0x00, 0x01, 0xAC],
        card_serial: [0x10, 0x00, 0x0B, 0x26],
        roots: test_roots(alg),
    }
}

pub fn card(alg: Algorithm, version: SpecVersion) -> Card {
    let mut c = Card::new(config(alg, version)).expect("card");
    c.set_rng_seed(7);
    c
}

pub fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("hex literal")
}

pub fn sw(resp: &[u8]) -> u16 {
    let n = resp.len();
    u16::from_be_bytes([resp[n - 2], resp[n - 1]])
}

pub fn data(resp: &[u8]) -> &[u8] {
    &resp[..resp.len() - 2]
}

/// The terminal side.
pub struct Terminal {
    pub alg: Algorithm,
    pub keys: BTreeMap<String, Vec<u8>>,
    pub counter: u8,
}

impl Terminal {
    /// Derives the card keys from the roots, the card's ATR and the region.
    pub fn for_card(card: &Card, alg: Algorithm, region: &str) -> Terminal {
        let atr = card.atr();
        let factors = Factors::new(region, &atr[4..]).unwrap();
        let mut keys = BTreeMap::new();
        for (role, root) in test_roots(alg) {
            let k = crypto::diversify_chain(alg, &root, &factors.in_order()).unwrap();
            keys.insert(role, k);
        }
        Terminal {
            alg,
            keys,
            counter: 0x30,
        }
    }

    pub fn key(&self, role: &str) -> &[u8] {
        &self.keys[role]
    }

    fn original(&mut self) -> [u8; 8] {
        self.counter = self.counter.wrapping_add(1);
        [0xA5, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, self.counter]
    }

    pub fn select_ssse(card: &mut Card) -> Vec<u8> {
        let mut apdu = vec![0x00, 0xA4, 0x04, 0x00, 0x0F];
        apdu.extend_from_slice(&fs::SSSE_NAME);
        card.transmit(&apdu)
    }

    pub fn challenge(card: &mut Card, len: u8) -> Vec<u8> {
        let r = card.transmit(&[0x00, 0x84, 0x00, 0x00, len]);
        assert_eq!(sw(&r), 0x9000, "GET CHALLENGE");
        data(&r).to_vec()
    }

    /// The EXTERNAL AUTHENTICATE command for `role` under `key_id` (GET CHALLENGE sent).
    pub fn ea_command(&mut self, card: &mut Card, role: &str, key_id: u8) -> Vec<u8> {
        let ch = Self::challenge(card, 8);
        let original = self.original();
        let pk = crypto::process_key(self.alg, self.key(role), &ch).unwrap();
        let auth = crypto::auth_data(self.alg, &pk, &original).unwrap();
        let mut apdu = vec![0x00, 0x82, 0x00, key_id, 0x10];
        apdu.extend_from_slice(&auth);
        apdu.extend_from_slice(&original);
        apdu
    }

    pub fn external_auth(&mut self, card: &mut Card, role: &str, key_id: u8) -> u16 {
        let apdu = self.ea_command(card, role, key_id);
        sw(&card.transmit(&apdu))
    }

    /// Sends `header ‖ Lc ‖ content ‖ MAC` with the MAC under STKSSSE for a fresh challenge.
    pub fn send_with_mac(&mut self, card: &mut Card, header: [u8; 4], content: &[u8]) -> u16 {
        let ch = Self::challenge(card, 8);
        let pk = crypto::process_key(self.alg, self.key("STKSSSE"), &ch).unwrap();
        let lc = (content.len() + 4) as u8;
        let mut input = header.to_vec();
        input.push(lc);
        input.extend_from_slice(content);
        let mac = crypto::mac(self.alg, &pk, &input).unwrap();
        let mut apdu = input;
        apdu.extend_from_slice(&mac);
        sw(&card.transmit(&apdu))
    }

    /// PIN reload (8424 0001): LD ‖ PIN enciphered and MAC-ed under one STKSSSE process key.
    pub fn reload_pin(&mut self, card: &mut Card, pin: &[u8]) -> u16 {
        let ch = Self::challenge(card, 8);
        let pk = crypto::process_key(self.alg, self.key("STKSSSE"), &ch).unwrap();
        let enc = crypto::encipher_ld(self.alg, &pk, pin).unwrap();
        let lc = (enc.len() + 4) as u8;
        let mut input = vec![0x84, 0x24, 0x00, 0x01, lc];
        input.extend_from_slice(&enc);
        let mac = crypto::mac(self.alg, &pk, &input).unwrap();
        input.extend_from_slice(&mac);
        sw(&card.transmit(&input))
    }

    /// Personalization per profile D15 with the data of the field trace's cardholder.
    pub fn personalize(&mut self, card: &mut Card, version: SpecVersion) {
        assert_eq!(sw(&Self::select_ssse(card)), 0x9000);
        assert_eq!(self.external_auth(card, "UKSSSE", 0x04), 0x9000);
        for record in personalization_records(version) {
            let sfi = if matches!(record[0], 0x01..=0x07) {
                5
            } else {
                6
            };
            let mut apdu = vec![0x00, 0xDC, record[0], sfi << 3, record.len() as u8];
            apdu.extend_from_slice(&record);
            assert_eq!(
                sw(&card.transmit(&apdu)),
                0x9000,
                "record {:02X}",
                record[0]
            );
        }
        assert_eq!(self.external_auth(card, "PUK", 0x06), 0x9000);
        assert_eq!(self.reload_pin(card, &[0x12, 0x34, 0x56]), 0x9000);
    }
}

fn tlv(tag: u8, len: usize, value: &[u8], pad: u8) -> Vec<u8> {
    let mut v = value.to_vec();
    v.resize(len, pad);
    let mut r = vec![tag, len as u8];
    r.extend_from_slice(&v);
    r
}

/// Every data item of EF05 (except 01, already written) and EF06, padded per V2.0 notice §7.
pub fn personalization_records(version: SpecVersion) -> Vec<Vec<u8>> {
    let mut v = vec![
        tlv(0x02, 1, b"3", 0),
        tlv(0x03, 4, version.as_str().as_bytes(), 0),
        tlv(0x04, 12, &h("9156000002519900519900 01"), 0xFF),
        tlv(0x05, 4, &h("20200101"), 0xFF),
        tlv(0x06, 4, &h("20300101"), 0xFF),
        tlv(0x07, 9, b"HA1046924", 0),
        tlv(0x08, 18, b"510122201610225130", 0),
        tlv(0x09, 30, &h("B0D7D5DCD3EE"), 0),
        tlv(0x0A, 1, b"1", 0),
        tlv(0x0B, 1, &h("01"), 0xFF),
        tlv(0x0C, 3, &h("519900"), 0xFF),
        tlv(0x0D, 4, &h("20161022"), 0xFF),
    ];
    if version != SpecVersion::V1 {
        v.push(tlv(0x4E, 20, &[], 0));
    }
    v
}
