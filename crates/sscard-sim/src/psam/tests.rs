//! The PSAM command by command, and a terminal that authenticates to a simulated card and
//! secures its maintenance commands with it (part 9 §9, \[design\] D6, D8, D9).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard_core::crypto::{self, KeyLevel};
use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use super::*;
use crate::test_support::{h, keys, region, split, with_lc, Terminal};

const SELECT_ADF: &str = "00A4040006D15600000590";

fn psam(alg: Algorithm) -> SimPsam {
    SimPsam::from_root_keys(&keys(), &PsamSpec::new(alg, "519900000001")).unwrap()
}

fn send(p: &mut SimPsam, apdu: &[u8]) -> (Vec<u8>, u16) {
    let (data, sw) = split(p.handle(apdu));
    if sw >> 8 == 0x61 {
        return split(p.handle(&[0x00, 0xC0, 0x00, 0x00, sw as u8]));
    }
    (data, sw)
}

fn sw(p: &mut SimPsam, apdu: &str) -> u16 {
    split(p.handle(&h(apdu))).1
}

/// DELIVERY SESSION KEY for `role` with the factors of `card` from `level` down, then the
/// process factor (padded to a block, \[design\] D7).
fn deliver(p: &mut SimPsam, role: KeyRole, level: KeyLevel, card: &Terminal, factor: &[u8]) -> u16 {
    let f = card.spec.factors();
    let all = [f.card, f.city, f.province];
    let n = usize::from(level.diversifications());
    let mut data: Vec<u8> = all[..n].concat();
    let mut pf = factor.to_vec();
    pf.resize(p.algorithm().block_len(), 0);
    data.extend(pf);
    let usage = (level.diversifications() << 5) | role.psam_key_type();
    split(p.handle(&with_lc([0xBF, 0xDE, usage, role.psam_key_id()], &data))).1
}

/// The authentication data of `original` under the delivered key (80FA 00 00, folded on
/// 16-byte blocks, \[design\] D8).
fn auth_data(p: &mut SimPsam, original: &[u8; 8]) -> [u8; 8] {
    let mut block = original.to_vec();
    block.resize(p.algorithm().block_len(), 0);
    let (out, status) = send(p, &with_lc([0x80, 0xFA, 0x00, 0x00], &block));
    assert_eq!(status, 0x9000);
    let mut folded = [0u8; 8];
    for (i, b) in out.iter().enumerate() {
        folded[i % 8] ^= b;
    }
    folded
}

/// The MAC of `message` under the delivered key (80FA 05 00: zero IV ‖ padded message).
fn mac(p: &mut SimPsam, message: &[u8]) -> Vec<u8> {
    let b = p.algorithm().block_len();
    let mut data = vec![0u8; b];
    data.extend_from_slice(&crypto::pad_80(message, b));
    let (out, status) = send(p, &with_lc([0x80, 0xFA, 0x05, 0x00], &data));
    assert_eq!(status, 0x9000);
    out
}

#[test]
fn files_and_selection() {
    let mut p = psam(Algorithm::Sm4);
    assert_eq!(p.atr(), h("3B68000000815053414D5349"));
    // the MF by name or FID, the ADF by name or FID; FCIs with the algorithm ([design])
    let (fci, s) = send(&mut p, &h("00A404000F7378312E73682EC9E7BBE1B1A3D5CF"));
    assert_eq!(s, 0x9000);
    assert_eq!(
        hex::encode_upper(fci),
        "6F19840F7378312E73682EC9E7BBE1B1A3D5CFA5069F0C03860103"
    );
    assert_eq!(sw(&mut p, "00A40000023F00"), 0x611B);
    assert_eq!(sw(&mut p, SELECT_ADF), 0x6112);
    let (fci, _) = split(p.handle(&h("00C0000012")));
    assert_eq!(
        hex::encode_upper(fci),
        "6F108406D15600000590A5069F0C03860103"
    );
    assert_eq!(sw(&mut p, "00A4000002DF01"), 0x6112);
    // EF 0015, 0016 of the MF are found from the ADF by SFI; 0019 only in the ADF
    let (info, s) = split(p.handle(&h("00B0950000")));
    assert_eq!((info.len(), s), (15, 0x9000));
    assert_eq!(
        hex::encode_upper(&info),
        "0100000000519900000001010000 00".replace(' ', "")
    );
    let (number, _) = split(p.handle(&h("00B0960006")));
    assert_eq!(number, h("519900000001"));
    let (serial, _) = split(p.handle(&h("00B0990004")));
    assert_eq!(serial, [0, 0, 0, 0]);
    assert_eq!(sw(&mut p, "00B0960007"), 0x6C06);
    assert_eq!(sw(&mut p, "00B0960600"), 0x6B00);
    assert_eq!(split(p.handle(&h("00B0960102"))).0, h("9900"));
    assert_eq!(sw(&mut p, "00B0D60000"), 0x6A86);
    assert_eq!(sw(&mut p, "00B0970000"), 0x6A82);
    // current EF by FID
    assert_eq!(sw(&mut p, "00A4020002 0019"), 0x9000);
    assert_eq!(split(p.handle(&h("00B0000004"))).1, 0x9000);
    assert_eq!(sw(&mut p, "00A4020002 0016"), 0x6A82, "0016 is not in DF01");
    assert_eq!(sw(&mut p, "00A40000023F00"), 0x611B);
    assert_eq!(sw(&mut p, "00B0990000"), 0x6A82);
    assert_eq!(sw(&mut p, "00B0000000"), 0x6986);
    assert_eq!(sw(&mut p, "00A4020002 0016"), 0x9000);
    assert_eq!(split(p.handle(&h("00B0000000"))).0, h("519900000001"));
    // errors
    assert_eq!(sw(&mut p, "00A4040006D15600000591"), 0x6A82);
    assert_eq!(sw(&mut p, "00A4040206D15600000590"), 0x6A86);
    assert_eq!(sw(&mut p, "00A4080006D15600000590"), 0x6A86);
    assert_eq!(sw(&mut p, "00A4040004D1560000"), 0x6700);
    assert_eq!(sw(&mut p, "00A4000003DF0100"), 0x6700);
    assert_eq!(sw(&mut p, "80A4040006D15600000590"), 0x6E00);
    assert_eq!(sw(&mut p, "00B2010C00"), 0x6D00);
    assert_eq!(sw(&mut p, "00C0000000"), 0x6F00);
}

#[test]
fn challenge_and_environment() {
    let mut p = psam(Algorithm::Tdes);
    assert_eq!(split(p.handle(&h("0084000008"))).0.len(), 8);
    assert_eq!(split(p.handle(&h("0084000004"))).0.len(), 4);
    assert_eq!(
        sw(&mut p, "0084000010"),
        0x6700,
        "16 bytes on 8-byte-block PSAMs only"
    );
    let mut s = psam(Algorithm::Sm4);
    assert_eq!(split(s.handle(&h("0084000010"))).0.len(), 16);
    assert_eq!(sw(&mut s, "0084010008"), 0x6A86);
    // INITIALIZE ENVIRONMENT with the first byte of a card identification code
    assert_eq!(sw(&mut s, "BFEC000001 51"), 0x9000);
    assert_eq!(s.environment(), Some(0x51));
    assert_eq!(sw(&mut s, "BFEC000001 AA"), 0x6A80);
    assert_eq!(sw(&mut s, "BFEC000001 99"), 0x6A80);
    assert_eq!(sw(&mut s, "BFEC000002 5199"), 0x6700);
    assert_eq!(sw(&mut s, "BFEC010001 51"), 0x6A86);
    assert_eq!(sw(&mut s, "00EC000001 51"), 0x6E00);
}

#[test]
fn delivery_session_key_checks() {
    let card = Terminal::new(Generation::V3, Algorithm::Sm4);
    let mut p = psam(Algorithm::Sm4);
    let r = [7u8; 8];
    assert_eq!(
        deliver(&mut p, KeyRole::Irk, KeyLevel::National, &card, &r),
        0x6985,
        "DF01 first"
    );
    assert_eq!(sw(&mut p, SELECT_ADF), 0x6112);
    assert_eq!(
        deliver(&mut p, KeyRole::Irk, KeyLevel::National, &card, &r),
        0x9000
    );
    // the level must be the key's: fewer factors, or a P1 claiming fewer, is 6A80
    assert_eq!(
        deliver(&mut p, KeyRole::Irk, KeyLevel::Province, &card, &r),
        0x6A80
    );
    assert_eq!(
        deliver(&mut p, KeyRole::Irk, KeyLevel::City, &card, &r),
        0x6A80
    );
    let f = card.spec.factors();
    let mut data = [f.card, f.city, f.province].concat();
    data.extend([0u8; 16]);
    assert_eq!(
        split(p.handle(&with_lc([0xBF, 0xDE, 0x47, 0x08], &data))).1,
        0x6A80
    );
    // Lc = 16 + 8N
    assert_eq!(
        split(p.handle(&with_lc([0xBF, 0xDE, 0x67, 0x08], &data[..39]))).1,
        0x6700
    );
    assert_eq!(
        split(p.handle(&with_lc([0xBF, 0xDE, 0x67, 0x08], &data[..8]))).1,
        0x6700
    );
    let mut long = data.clone();
    long.extend([0u8; 8]);
    assert_eq!(
        split(p.handle(&with_lc([0xBF, 0xDE, 0x87, 0x08], &long))).1,
        0x6700
    );
    // unknown key, wrong type
    assert_eq!(
        split(p.handle(&with_lc([0xBF, 0xDE, 0x67, 0x30], &data))).1,
        0x6A88
    );
    assert_eq!(
        split(p.handle(&with_lc([0xBF, 0xDE, 0x68, 0x08], &data))).1,
        0x6A88
    );
    // a failed DELIVERY SESSION KEY leaves no key: CIPHER DATA 6901
    assert_eq!(
        sw(&mut p, "80FA000010 00000000000000000000000000000000"),
        0x6901
    );
}

#[test]
fn cipher_data_checks() {
    let card = Terminal::new(Generation::V3, Algorithm::Tdes);
    let mut p = psam(Algorithm::Tdes);
    assert_eq!(sw(&mut p, SELECT_ADF), 0x6112);
    assert_eq!(sw(&mut p, "80FA000008 0000000000000000"), 0x6901);
    // IRK is an encipherment key (type 07): no MAC
    assert_eq!(
        deliver(&mut p, KeyRole::Irk, KeyLevel::National, &card, &[1; 8]),
        0x9000
    );
    assert_eq!(sw(&mut p, "80FA000008 0000000000000000"), 0x6108);
    assert_eq!(
        sw(&mut p, "80FA050010 00000000000000008000000000000000"),
        0x6985
    );
    // STKSSSE: MAC and encipherment (type 08)
    assert_eq!(
        deliver(&mut p, KeyRole::Stkssse, KeyLevel::National, &card, &[1; 8]),
        0x9000
    );
    assert_eq!(
        sw(&mut p, "80FA050010 00000000000000008000000000000000"),
        0x6104
    );
    // Lc: whole blocks, 8..40 (10..40 for P1 05) on 3DES
    assert_eq!(sw(&mut p, "80FA000007 00000000000000"), 0x6700);
    assert_eq!(sw(&mut p, "80FA050008 0000000000000000"), 0x6700);
    assert_eq!(
        split(p.handle(&with_lc([0x80, 0xFA, 0, 0], &[0; 0x48]))).1,
        0x6700
    );
    assert_eq!(sw(&mut p, "80FA040008 0000000000000000"), 0x6A86);
    assert_eq!(sw(&mut p, "80FA000108 0000000000000000"), 0x6A86);
    assert_eq!(sw(&mut p, "00FA000008 0000000000000000"), 0x6E00);
    // next / last MAC blocks without a first: 6985
    assert_eq!(sw(&mut p, "80FA030008 0000000000000000"), 0x6985);
    // first + next + last = only
    let message: Vec<u8> = (0..21).collect();
    let padded = crypto::pad_80(&message, 8);
    let only = mac(&mut p, &message);
    let mut first = vec![0u8; 8];
    first.extend_from_slice(&padded[..8]);
    assert_eq!(
        split(p.handle(&with_lc([0x80, 0xFA, 0x07, 0], &first))).1,
        0x9000
    );
    assert_eq!(
        split(p.handle(&with_lc([0x80, 0xFA, 0x03, 0], &padded[8..16]))).1,
        0x9000
    );
    let (last, _) = send(&mut p, &with_lc([0x80, 0xFA, 0x01, 0], &padded[16..]));
    assert_eq!(last, only);
    // the key stays for the next computation; reset forgets it
    assert_eq!(mac(&mut p, &message), only);
    p.reset();
    assert_eq!(sw(&mut p, "80FA000008 0000000000000000"), 0x6901);
}

/// The reader interface's PSAM flow against a simulated card: internal authentication checked
/// with IRK, external authentication with RKSSSE, PIN reload and application block secured by
/// STKSSSE — for every algorithm and every key level the PSAM may hold.
#[test]
fn a_terminal_with_a_psam_drives_the_card() {
    for alg in Algorithm::ALL {
        for level in [KeyLevel::National, KeyLevel::Province, KeyLevel::City] {
            let spec = PsamSpec::new(alg, "519900000001")
                .with_all_levels(level)
                .with_region(region());
            let mut p = SimPsam::from_root_keys(&keys(), &spec).unwrap();
            let mut t = Terminal::personalized(Generation::V3, alg);
            assert_eq!(sw(&mut p, SELECT_ADF) >> 8, 0x61);
            // a PSAM holding keys at another level refuses the national guess (part 9 §8)
            if level != KeyLevel::National {
                assert_eq!(
                    deliver(&mut p, KeyRole::Irk, KeyLevel::National, &t, &[0; 8]),
                    0x6A80
                );
            }
            t.select();
            // INTERNAL AUTHENTICATION (part 7 §5.4)
            let factor = t.challenge(8);
            let original: [u8; 8] = t.challenge(8).try_into().unwrap();
            let (answer, s) = t.send(&with_lc(
                [0, 0x88, 0, 0],
                &[&factor[..], &original].concat(),
            ));
            assert_eq!(s, 0x9000);
            assert_eq!(
                deliver(&mut p, KeyRole::Irk, level, &t, &factor),
                0x9000,
                "{alg} {level:?}"
            );
            assert_eq!(
                auth_data(&mut p, &original).to_vec(),
                answer,
                "{alg} {level:?}"
            );
            // EXTERNAL AUTHENTICATION with RKSSSE, then EF06
            let original: [u8; 8] = t.challenge(8).try_into().unwrap();
            let challenge = t.challenge(8);
            assert_eq!(
                deliver(&mut p, KeyRole::Rkssse, level, &t, &challenge),
                0x9000
            );
            let auth = auth_data(&mut p, &original);
            let apdu = with_lc([0, 0x82, 0, 0x0A], &[&auth[..], &original].concat());
            assert_eq!(t.raw(&apdu).1, 0x9000, "{alg} {level:?}");
            assert_eq!(t.read_tag(6, 0x08).1, 0x9000);
            // PUK, then the reload secured by one STKSSSE process key ([design] D9)
            let original: [u8; 8] = t.challenge(8).try_into().unwrap();
            let challenge = t.challenge(8);
            assert_eq!(deliver(&mut p, KeyRole::Puk, level, &t, &challenge), 0x9000);
            let auth = auth_data(&mut p, &original);
            assert_eq!(
                t.raw(&with_lc(
                    [0, 0x82, 0, 0x06],
                    &[&auth[..], &original].concat()
                ))
                .1,
                0x9000
            );
            let challenge = t.challenge(8);
            assert_eq!(
                deliver(&mut p, KeyRole::Stkssse, level, &t, &challenge),
                0x9000
            );
            let b = alg.block_len();
            let mut plain = vec![0x03, 0x24, 0x68, 0x13];
            plain.push(0x80);
            plain.resize(b, 0);
            let (enciphered, s) = send(&mut p, &with_lc([0x80, 0xFA, 0, 0], &plain));
            assert_eq!(s, 0x9000);
            let mut message = h("84240001");
            message.push((enciphered.len() + 4) as u8);
            message.extend_from_slice(&enciphered);
            let m = mac(&mut p, &message);
            let apdu = with_lc([0x84, 0x24, 0x00, 0x01], &[&enciphered[..], &m].concat());
            assert_eq!(t.raw(&apdu).1, 0x9000, "{alg} {level:?}");
            assert_eq!(t.verify("246813"), 0x9000);
            // BK, then APPLICATION BLOCK with the STKSSSE MAC
            let original: [u8; 8] = t.challenge(8).try_into().unwrap();
            let challenge = t.challenge(8);
            assert_eq!(deliver(&mut p, KeyRole::Bk, level, &t, &challenge), 0x9000);
            let auth = auth_data(&mut p, &original);
            assert_eq!(
                t.raw(&with_lc(
                    [0, 0x82, 0, 0x05],
                    &[&auth[..], &original].concat()
                ))
                .1,
                0x9000
            );
            let challenge = t.challenge(8);
            assert_eq!(
                deliver(&mut p, KeyRole::Stkssse, level, &t, &challenge),
                0x9000
            );
            let m = mac(&mut p, &h("841E000104"));
            assert_eq!(t.raw(&with_lc([0x84, 0x1E, 0x00, 0x01], &m)).1, 0x9000);
            assert_eq!(t.sw("0084000008"), 0x9303);
        }
    }
}

#[test]
fn images() {
    let p = psam(Algorithm::Tdes);
    let image = p.image().clone();
    assert_eq!(image.keys.len(), 6);
    let irk = image.key(0x07, 0x08).unwrap();
    assert_eq!((irk.usage, irk.levels(), irk.algorithm), (0x67, 3, 0x00));
    let stk = image.key(0x08, 0x09).unwrap();
    assert_eq!((stk.usage, stk.algorithm, stk.value.len()), (0x68, 0x01, 8));
    let json = image.to_json().unwrap();
    assert!(json.contains("\"format\": \"sscard-psam-image\""));
    assert_eq!(PsamImage::from_json(&json).unwrap(), image);
    let debug = format!("{p:?}");
    assert!(!debug.contains(&hex::encode_upper(irk.value.expose())));
    assert!(json.contains(&hex::encode_upper(irk.value.expose())));
    // refusals
    assert!(PsamImage::from_json(r#"{"format":"sscard.psam-image/1"}"#).is_err());
    let mut bad = image.clone();
    bad.terminal_number = "12345".into();
    assert!(bad.validate().is_err());
    let mut bad = image.clone();
    bad.keys.push(bad.keys[0].clone());
    assert!(bad.validate().is_err());
    let mut bad = image.clone();
    bad.keys[0].algorithm = 0x03;
    assert!(bad.validate().is_err());
    let spec =
        PsamSpec::new(Algorithm::Sm4, "519900000001").with_level(KeyRole::Irk, KeyLevel::Province);
    assert!(
        PsamImage::from_root_keys(&keys(), &spec).is_err(),
        "a province key needs the region"
    );
    let spec =
        PsamSpec::new(Algorithm::Sm4, "519900000001").with_level(KeyRole::Irk, KeyLevel::Card);
    assert!(PsamImage::from_root_keys(&keys(), &spec).is_err());
    let spec = PsamSpec::new(Algorithm::Sm4, "5199");
    assert!(PsamImage::from_root_keys(&keys(), &spec).is_err());
    let sm4 = psam(Algorithm::Sm4);
    assert_eq!(sm4.image().key(0x07, 0x08).unwrap().algorithm, 0x03);
    assert_eq!(sm4.terminal_number(), "519900000001");
}
