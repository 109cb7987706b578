//! Through the public API only: a blank card made from the repository's test root keys is
//! personalized as \[design\] D15 says and read as part 7 §5.4 and §6 say, by a terminal whose
//! only key holder is a simulated PSAM, both behind `SimTransport`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard_core::crypto::{card_factor_from_atr, city_factor, province_factor};
use sscard_core::data::RegionCode;
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::profile::{Generation, SSSE_AID};
use sscard_core::tlv::simple as tlv;
use sscard_core::transport::Transport;
use sscard_core::Algorithm;
use sscard_sim::{CardImage, CardSpec, PsamSpec, SimCard, SimPsam, SimTransport};

fn root_keys() -> RootKeys {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/keys/test-keys.json"
    );
    RootKeys::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Sends `apdu`, following `61xx` with GET RESPONSE.
fn send<T: Transport>(t: &mut T, apdu: &[u8]) -> (Vec<u8>, u16) {
    let mut r = t.transmit(apdu).unwrap();
    let mut sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    if sw >> 8 == 0x61 {
        r = t.transmit(&[0x00, 0xC0, 0x00, 0x00, sw as u8]).unwrap();
        sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    }
    r.truncate(r.len() - 2);
    (r, sw)
}

fn with_lc(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut apdu = header.to_vec();
    apdu.push(data.len() as u8);
    apdu.extend_from_slice(data);
    apdu
}

struct Terminal {
    card: SimTransport<SimCard>,
    psam: SimTransport<SimPsam>,
    factors: Vec<u8>,
    block: usize,
}

impl Terminal {
    /// DELIVERY SESSION KEY of `role` (national level) for the process factor `r`.
    fn deliver(&mut self, role: KeyRole, r: &[u8]) {
        let mut data = self.factors.clone();
        let mut pf = r.to_vec();
        pf.resize(self.block, 0);
        data.extend(pf);
        let usage = 0x60 | role.psam_key_type();
        let (_, sw) = send(
            &mut self.psam,
            &with_lc([0xBF, 0xDE, usage, role.psam_key_id()], &data),
        );
        assert_eq!(sw, 0x9000);
    }

    fn psam_auth_data(&mut self, original: &[u8]) -> Vec<u8> {
        let mut block = original.to_vec();
        block.resize(self.block, 0);
        let (out, sw) = send(&mut self.psam, &with_lc([0x80, 0xFA, 0x00, 0x00], &block));
        assert_eq!(sw, 0x9000);
        let mut folded = vec![0u8; 8];
        for (i, b) in out.iter().enumerate() {
            folded[i % 8] ^= b;
        }
        folded
    }

    fn challenge(&mut self) -> Vec<u8> {
        let (r, sw) = send(&mut self.card, &[0x00, 0x84, 0x00, 0x00, 0x08]);
        assert_eq!(sw, 0x9000);
        r
    }

    fn external_authenticate(&mut self, role: KeyRole) -> u16 {
        let original = self.challenge();
        let r = self.challenge();
        self.deliver(role, &r);
        let mut data = self.psam_auth_data(&original);
        data.extend_from_slice(&original);
        send(
            &mut self.card,
            &with_lc([0x00, 0x82, 0x00, role.card_key_id().unwrap()], &data),
        )
        .1
    }

    fn psam_mac(&mut self, message: &[u8]) -> Vec<u8> {
        let mut data = vec![0u8; self.block];
        data.extend_from_slice(message);
        data.push(0x80);
        while data.len() % self.block != 0 {
            data.push(0);
        }
        let (mac, sw) = send(&mut self.psam, &with_lc([0x80, 0xFA, 0x05, 0x00], &data));
        assert_eq!(sw, 0x9000);
        mac
    }
}

#[test]
fn personalize_and_read_with_a_psam() {
    let keys = root_keys();
    for (generation, alg) in [
        (Generation::V1, Algorithm::Tdes),
        (Generation::V2, Algorithm::Tdes),
        (Generation::V3, Algorithm::Sm4),
    ] {
        let region = RegionCode::parse("440305").unwrap();
        let spec = CardSpec::new(generation, alg, region, [0xCA, 0xFE, 0x00, 0x01])
            .with_card_serial([0, 0, 0x12, 0x34]);
        let card = SimCard::blank(spec, &keys).unwrap();
        let atr = card.atr();
        let psam = SimPsam::from_root_keys(&keys, &PsamSpec::new(alg, "440305000009")).unwrap();
        let mut factors = card_factor_from_atr(&atr).unwrap().to_vec();
        factors.extend(city_factor(&region));
        factors.extend(province_factor(&region));
        let mut t = Terminal {
            card: SimTransport::new(card),
            psam: SimTransport::new(psam),
            factors,
            block: alg.block_len(),
        };
        assert_eq!(
            send(
                &mut t.psam,
                &with_lc([0, 0xA4, 4, 0], &[0xD1, 0x56, 0, 0, 5, 0x90])
            )
            .1,
            0x9000
        );
        let (fci, sw) = send(&mut t.card, &with_lc([0, 0xA4, 4, 0], &SSSE_AID));
        assert_eq!((fci[fci.len() - 1], sw), (alg.to_byte(), 0x9000));

        // personalization: UKSSSE, the records, then the initial PIN by PIN RELOAD
        assert_eq!(t.external_authenticate(KeyRole::Ukssse), 0x9000);
        let mut records = vec![
            (0x02u8, b"3".to_vec()),
            (0x03, generation.spec_version().as_bytes().to_vec()),
            (0x07, b"KD5578904".to_vec()),
            (0x08, b"111111198101011110".to_vec()),
        ];
        if generation != Generation::V1 {
            records.push((0x4E, vec![0; 20]));
        }
        for (tag, value) in &records {
            let sfi = if *tag < 0x08 { 5 } else { 6 };
            let (_, sw) = send(
                &mut t.card,
                &with_lc([0, 0xDC, *tag, sfi << 3], &tlv(*tag, value)),
            );
            assert_eq!(sw, 0x9000);
        }
        assert_eq!(t.external_authenticate(KeyRole::Puk), 0x9000);
        let r = t.challenge();
        t.deliver(KeyRole::Stkssse, &r);
        let mut plain = vec![0x03, 0x12, 0x34, 0x56, 0x80];
        plain.resize(t.block, 0);
        let (enciphered, sw) = send(&mut t.psam, &with_lc([0x80, 0xFA, 0x00, 0x00], &plain));
        assert_eq!(sw, 0x9000);
        let mut message = vec![0x84, 0x24, 0x00, 0x01, (enciphered.len() + 4) as u8];
        message.extend_from_slice(&enciphered);
        let mac = t.psam_mac(&message);
        let mut data = enciphered.clone();
        data.extend_from_slice(&mac);
        assert_eq!(
            send(&mut t.card, &with_lc([0x84, 0x24, 0x00, 0x01], &data)).1,
            0x9000
        );

        // a new session: the validity check and the reads
        t.card.power_cycle();
        send(&mut t.card, &with_lc([0, 0xA4, 4, 0], &SSSE_AID));
        let factor = t.challenge();
        let original = t.challenge();
        let (answer, sw) = send(
            &mut t.card,
            &with_lc([0, 0x88, 0, 0], &[&factor[..], &original].concat()),
        );
        assert_eq!(sw, 0x9000);
        t.deliver(KeyRole::Irk, &factor);
        assert_eq!(
            t.psam_auth_data(&original),
            answer,
            "{generation} {alg}: the card is genuine"
        );
        assert_eq!(
            send(&mut t.card, &[0, 0x20, 0, 0, 0]).1,
            0x63C3,
            "a PIN is set"
        );
        assert_eq!(
            send(&mut t.card, &[0, 0x20, 0, 0, 3, 0x12, 0x34, 0x56]).1,
            0x9000
        );
        if generation == Generation::V3 {
            assert_eq!(send(&mut t.card, &[0, 0xB2, 0x08, 0x30, 20]).1, 0x6982);
            assert_eq!(t.external_authenticate(KeyRole::Rkssse), 0x9000);
        }
        let (ssn, sw) = send(&mut t.card, &[0, 0xB2, 0x08, 0x30, 20]);
        assert_eq!(
            (ssn[2..].to_vec(), sw),
            (b"111111198101011110".to_vec(), 0x9000)
        );
        let (id, _) = send(&mut t.card, &[0, 0xB2, 0x01, 0x28, 18]);
        assert_eq!(
            hex::encode_upper(&id[2..]),
            "440305D15600000500001234FFFFFFFF".to_owned()
        );

        // the image survives a save and a load
        let json = t.card.card().save_json().unwrap();
        assert_eq!(&CardImage::from_json(&json).unwrap(), t.card.card().image());
    }
}
