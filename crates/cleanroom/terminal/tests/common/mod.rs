//! Test helpers: the test root keys, and a tiny card that checks what the terminal sends.
//!
//! The tiny card implements only what the flow tests need, from the same specification
//! sections as the terminal (its cryptography is the crate's, anchored by the KATs).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use cleanroom_terminal::crypto::{self, Algorithm};
use cleanroom_terminal::{KeyRole, Reader, ReaderError};

/// The ATR of the field trace (historical bytes 00 81 4A 44 46 86 60 51 99 00 00 01 AC).
pub const TRACE_ATR: &str = "3B6D000000814A444686605199000001AC";

/// The SSSE name.
pub const AID: &str = "7378312E73682EC9E7BBE1B1A3D5CF";

/// Root keys of one algorithm from `fixtures/keys/test-keys.json` ("3des" or "sm4").
pub fn test_roots(set: &str) -> BTreeMap<String, Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../fixtures/keys/test-keys.json"
    );
    let text = std::fs::read_to_string(path).expect("test key file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let roots = json["roots"][set].as_object().expect("key set");
    roots
        .iter()
        .map(|(k, v)| (k.clone(), hex::decode(v.as_str().unwrap()).unwrap()))
        .collect()
}

pub fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

pub fn up(b: &[u8]) -> String {
    hex::encode_upper(b)
}

fn sw(v: u16) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

fn ok(mut data: Vec<u8>) -> Vec<u8> {
    data.extend_from_slice(&[0x90, 0x00]);
    data
}

/// A minimal SSSE: EF05/EF06 records, EF07/EF08, keys, PIN, blocking.
pub struct MiniCard {
    pub atr: Vec<u8>,
    pub alg: Algorithm,
    /// Put `9F0C { 86 alg }` in the FCI.
    pub announce_alg: bool,
    pub keys: BTreeMap<KeyRole, Vec<u8>>,
    pub records: BTreeMap<(u8, u8), Vec<u8>>,
    pub binaries: BTreeMap<u8, Vec<u8>>,
    pub pin: Option<Vec<u8>>,
    pub pin_tries: u8,
    pub ssse: bool,
    pub ef: Option<u8>,
    pub challenge: Option<Vec<u8>>,
    pub authed: BTreeSet<KeyRole>,
    pub app_blocked: bool,
    pub card_blocked: bool,
    counter: u8,
    pub log: Vec<Vec<u8>>,
}

impl MiniCard {
    /// A card of `alg` whose keys are the given national roots diversified for `region` and
    /// `atr` (P9 §7.3), with only EF05 record 01 (profile D14).
    pub fn new(
        alg: Algorithm,
        roots: &BTreeMap<String, Vec<u8>>,
        region: &str,
        atr: &str,
    ) -> MiniCard {
        let atr = h(atr);
        let factors = [
            crypto::province_factor(region).unwrap(),
            crypto::city_factor(region).unwrap(),
            crypto::card_factor(&atr).unwrap(),
        ];
        let keys = KeyRole::all()
            .into_iter()
            .map(|role| {
                let root = &roots[role.name()];
                (role, crypto::diversify_chain(alg, root, &factors).unwrap())
            })
            .collect();
        let mut card = MiniCard {
            atr,
            alg,
            announce_alg: true,
            keys,
            records: BTreeMap::new(),
            binaries: BTreeMap::new(),
            pin: None,
            pin_tries: 3,
            ssse: false,
            ef: None,
            challenge: None,
            authed: BTreeSet::new(),
            app_blocked: false,
            card_blocked: false,
            counter: 0,
            log: Vec::new(),
        };
        let mut id = h(region);
        id.extend(h("D156000005 10000B26 FFFFFFFF"));
        card.records.insert((0x05, 0x01), id);
        card
    }

    /// Adds the items of a personalized 3.0 card.
    pub fn personalized(mut self, version: &str) -> MiniCard {
        let items: [(u8, u8, &[u8]); 13] = [
            (0x05, 0x02, b"3"),
            (0x05, 0x03, version.as_bytes()),
            (
                0x05,
                0x04,
                &[
                    0x91, 0x56, 0x00, 0x00, 0x02, 0x51, 0x99, 0x00, 0x51, 0x99, 0x00, 0x01,
                ],
            ),
            (0x05, 0x05, &[0x20, 0x18, 0x06, 0x11]),
            (0x05, 0x06, &[0x20, 0x28, 0x06, 0x11]),
            (0x05, 0x07, b"HA1046924"),
            (0x06, 0x08, b"510122201610225130"),
            (0x06, 0x09, &[0xB0, 0xD7, 0xD5, 0xDC, 0xD3, 0xEE]),
            (0x06, 0x4E, &[]),
            (0x06, 0x0A, b"1"),
            (0x06, 0x0B, &[0x01]),
            (0x06, 0x0C, &[0x51, 0x01, 0x22]),
            (0x06, 0x0D, &[0x20, 0x16, 0x10, 0x22]),
        ];
        for (ef, tag, value) in items {
            let padded = cleanroom_terminal::data::pad_value(tag, value).unwrap();
            self.records.insert((ef, tag), padded);
        }
        self.pin = Some(h("123456"));
        self
    }

    fn version3(&self) -> bool {
        self.records
            .get(&(0x05, 0x03))
            .is_some_and(|v| v.first() == Some(&b'3'))
    }

    fn fci(&self) -> Vec<u8> {
        let mut a5 = h("88011E");
        if self.announce_alg {
            a5.extend([0x9F, 0x0C, 0x03, 0x86, 0x01, self.alg.code()]);
        }
        let mut inner = vec![0x84, 0x0F];
        inner.extend(h(AID));
        inner.push(0xA5);
        inner.push(a5.len() as u8);
        inner.extend(a5);
        let mut out = vec![0x6F, inner.len() as u8];
        out.extend(inner);
        out
    }

    fn session(&self, role: KeyRole, challenge: &[u8]) -> Vec<u8> {
        crypto::session_key(self.alg, &self.keys[&role], challenge).unwrap()
    }

    /// Checks the MAC of a secure-messaging command and returns its data field before the MAC.
    fn check_mac(&mut self, a: &[u8]) -> Result<(Vec<u8>, Vec<u8>), u16> {
        let challenge = self.challenge.take().ok_or(0x6984u16)?;
        let session = self.session(KeyRole::StkSsse, &challenge);
        let lc = usize::from(*a.get(4).ok_or(0x6700u16)?);
        if a.len() != 5 + lc || lc < 4 {
            return Err(0x6700);
        }
        let (msg, mac) = a.split_at(a.len() - 4);
        let expected = crypto::mac(self.alg, &session, msg).unwrap();
        if mac != expected {
            return Err(0x6988);
        }
        Ok((msg[5..].to_vec(), session))
    }

    fn process(&mut self, a: &[u8]) -> Vec<u8> {
        if self.card_blocked {
            return sw(0x6A81);
        }
        if a.len() < 4 {
            return sw(0x6700);
        }
        let (cla, ins, p1, p2) = (a[0], a[1], a[2], a[3]);
        let data: &[u8] = if a.len() > 5 {
            let lc = usize::from(a[4]);
            match a.get(5..5 + lc) {
                Some(d) => d,
                None => return sw(0x6700),
            }
        } else {
            &[]
        };
        if self.app_blocked && !(cla == 0x00 && ins == 0xA4) {
            return sw(0x9303);
        }
        match (cla, ins) {
            (0x00, 0xA4) if p1 == 0x04 => {
                if data != h(AID).as_slice() {
                    return sw(0x6A82);
                }
                if self.app_blocked {
                    return sw(0x9303);
                }
                if !self.ssse {
                    self.authed.clear();
                    self.challenge = None;
                }
                self.ssse = true;
                self.ef = None;
                ok(self.fci())
            }
            (0x00, 0xA4) if p1 == 0x02 => {
                if !self.ssse {
                    return sw(0x6A82);
                }
                match data {
                    [0xEF, ef @ (0x05..=0x08)] => {
                        self.ef = Some(*ef);
                        sw(0x9000)
                    }
                    _ => sw(0x6A82),
                }
            }
            (0x00, 0xB2) => {
                let Some(ef @ (0x05 | 0x06)) = self.ef else {
                    return sw(0x6986);
                };
                if p2 != 0x00 || a.len() != 5 {
                    return sw(0x6A86);
                }
                if ef == 0x06 && self.version3() && !self.authed.contains(&KeyRole::RkSsse) {
                    return sw(0x6982);
                }
                let Some(value) = self.records.get(&(ef, p1)) else {
                    return sw(0x6A83);
                };
                let mut rec = vec![p1, value.len() as u8];
                rec.extend(value);
                if usize::from(a[4]) != rec.len() {
                    return vec![0x6C, rec.len() as u8];
                }
                ok(rec)
            }
            (0x00, 0xDC) => {
                let Some(ef @ (0x05 | 0x06)) = self.ef else {
                    return sw(0x6986);
                };
                if !self.authed.contains(&KeyRole::UkSsse) {
                    return sw(0x6982);
                }
                match data {
                    [t, l, value @ ..] if *t == p1 && usize::from(*l) == value.len() && p2 == 0 => {
                        self.records.insert((ef, p1), value.to_vec());
                        sw(0x9000)
                    }
                    _ => sw(0x6A80),
                }
            }
            (0x00, 0x84) => {
                if a.len() != 5 || a[4] != 0x08 {
                    return sw(0x6700);
                }
                self.counter = self.counter.wrapping_add(1);
                let c: Vec<u8> = (0..8u8)
                    .map(|i| self.counter.wrapping_mul(31).wrapping_add(i * 17))
                    .collect();
                self.challenge = Some(c.clone());
                ok(c)
            }
            (0x00, 0x88) => {
                if a.len() != 22 || a[4] != 0x10 || a[21] != 0x00 || p2 != 0x00 {
                    return sw(0x6700);
                }
                let session = self.session(KeyRole::Irk, &data[..8]);
                let original: [u8; 8] = data[8..16].try_into().unwrap();
                ok(crypto::auth_data(self.alg, &session, &original)
                    .unwrap()
                    .to_vec())
            }
            (0x00, 0x82) => {
                let role = match KeyRole::all()
                    .into_iter()
                    .find(|r| r.card_key_id() == p2 && *r != KeyRole::Irk)
                {
                    Some(r) => r,
                    None => return sw(0x6A88),
                };
                if a.len() != 21 || a[4] != 0x10 {
                    return sw(0x6700);
                }
                let Some(challenge) = self.challenge.take() else {
                    return sw(0x6984);
                };
                let session = self.session(role, &challenge);
                let original: [u8; 8] = data[8..16].try_into().unwrap();
                if crypto::auth_data(self.alg, &session, &original).unwrap() == data[..8] {
                    self.authed.insert(role);
                    sw(0x9000)
                } else {
                    sw(0x63C2)
                }
            }
            (0x00, 0x20) => {
                if a.len() == 5 && a[4] == 0x00 {
                    return match self.pin {
                        None => sw(0x9000),
                        Some(_) => sw(0x63C0 | u16::from(self.pin_tries)),
                    };
                }
                if self.pin_tries == 0 {
                    return sw(0x6983);
                }
                if self.pin.as_deref() == Some(data) {
                    self.pin_tries = 3;
                    sw(0x9000)
                } else {
                    self.pin_tries -= 1;
                    sw(0x63C0 | u16::from(self.pin_tries))
                }
            }
            (0x80, 0x5E) => {
                let Some(ff) = data.iter().position(|&b| b == 0xFF) else {
                    return sw(0x6A80);
                };
                if self.pin.as_deref().unwrap_or_default() != &data[..ff] {
                    return sw(0x63C2);
                }
                self.pin = Some(data[ff + 1..].to_vec());
                sw(0x9000)
            }
            (0x84, 0x24) => {
                if !self.authed.contains(&KeyRole::Puk) {
                    return sw(0x6982);
                }
                let (body, session) = match self.check_mac(a) {
                    Ok(b) => b,
                    Err(e) => return sw(e),
                };
                match p2 {
                    0x01 => match crypto::decipher(self.alg, &session, &body) {
                        Ok(pin) if !pin.is_empty() => self.pin = Some(pin),
                        _ => return sw(0x6A80),
                    },
                    0x00 if body.is_empty() => {}
                    _ => return sw(0x6A86),
                }
                self.pin_tries = 3;
                sw(0x9000)
            }
            (0x84, 0x1E) | (0x84, 0x16) => {
                if !self.authed.contains(&KeyRole::Bk) {
                    return sw(0x6982);
                }
                if let Err(e) = self.check_mac(a) {
                    return sw(e);
                }
                if ins == 0x1E {
                    self.app_blocked = true;
                    self.ssse = false;
                } else {
                    self.card_blocked = true;
                }
                sw(0x9000)
            }
            (0x00, 0xB0) => {
                let Some(ef @ (0x07 | 0x08)) = self.ef else {
                    return sw(0x6986);
                };
                if !self.authed.contains(&KeyRole::RkSsse) {
                    return sw(0x6982);
                }
                let file = self.binaries.get(&ef).cloned().unwrap_or_default();
                let offset = usize::from(p1) * 256 + usize::from(p2);
                let le = if a[4] == 0 { 256 } else { usize::from(a[4]) };
                if offset > file.len() {
                    return sw(0x6B00);
                }
                let end = (offset + le).min(file.len());
                ok(file[offset..end].to_vec())
            }
            _ => sw(0x6D00),
        }
    }
}

impl Reader for MiniCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        self.log.push(apdu.to_vec());
        let answer = self.process(apdu);
        Ok(answer)
    }

    fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
        Ok(self.atr.clone())
    }
}
