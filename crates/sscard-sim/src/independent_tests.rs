//! The card's and the PSAM's cryptography checked against values computed here step by step
//! from the block ciphers themselves (`des`, `sm4`, `aes`), not through `sscard_core::crypto`:
//! a bug the simulator shares with the library cannot hide from these tests.
//!
//! Each helper follows one figure of the specification: diversification (part 9 figures 2, 3,
//! 8 and 12), process keys (part 4 figures 7-9), authentication data (figures 10, 11), the MAC
//! (figures 1, 2), enciphered data (§8.3.3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

use sscard_core::crypto::KeyLevel;
use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::psam::{PsamSpec, SimPsam};
use crate::test_support::{h, keys, region, split, with_lc, Terminal, REGION};

fn des_e(key: &[u8], block: &[u8]) -> Vec<u8> {
    let c = des::Des::new_from_slice(key).unwrap();
    let mut b = Array::try_from(block).unwrap();
    c.encrypt_block(&mut b);
    b.to_vec()
}

fn des_d(key: &[u8], block: &[u8]) -> Vec<u8> {
    let c = des::Des::new_from_slice(key).unwrap();
    let mut b = Array::try_from(block).unwrap();
    c.decrypt_block(&mut b);
    b.to_vec()
}

/// One block: DES for 8-byte keys and 3DES spelled out as E(K1) D(K2) E(K1) for 16-byte keys on
/// 3DES cards; SM4; AES.
fn e(alg: Algorithm, key: &[u8], block: &[u8]) -> Vec<u8> {
    match (alg, key.len()) {
        (Algorithm::Tdes, 8) => des_e(key, block),
        (Algorithm::Tdes, _) => {
            let (k1, k2) = key.split_at(8);
            des_e(k1, &des_d(k2, &des_e(k1, block)))
        }
        (Algorithm::Sm4, _) => {
            let c = sm4::Sm4::new_from_slice(key).unwrap();
            let mut b = Array::try_from(block).unwrap();
            c.encrypt_block(&mut b);
            b.to_vec()
        }
        (Algorithm::Aes128, _) => {
            let c = aes::Aes128::new_from_slice(key).unwrap();
            let mut b = Array::try_from(block).unwrap();
            c.encrypt_block(&mut b);
            b.to_vec()
        }
    }
}

fn not(f: &[u8]) -> Vec<u8> {
    f.iter().map(|b| !b).collect()
}

/// Part 9 §7.1.1 / §7.2.1: DES(f) for single-length keys, 3DES(f) ‖ 3DES(NOT f) for
/// double-length keys with 8-byte blocks, E(f ‖ NOT f) with 16-byte blocks.
fn div(alg: Algorithm, key: &[u8], f: &[u8]) -> Vec<u8> {
    match (alg, key.len()) {
        (Algorithm::Tdes, 8) => e(alg, key, f),
        (Algorithm::Tdes, _) => [e(alg, key, f), e(alg, key, &not(f))].concat(),
        _ => e(alg, key, &[f, &not(f)].concat()),
    }
}

/// Part 9 §7.3: ASCII of the region ‖ fixed bytes; the card factor is T6..TD.
fn factors(historical: &[u8]) -> [Vec<u8>; 3] {
    let ascii = REGION.as_bytes();
    let province = [&ascii[..2], &[0x30, 0x30, 0x30, 0x30, 0x73, 0x68][..]].concat();
    let city = [ascii, &[0x73, 0x78][..]].concat();
    [province, city, historical[5..13].to_vec()]
}

/// Part 4 §8.4: the input padded with 00 to a block, enciphered.
fn process_key(alg: Algorithm, key: &[u8], input: &[u8]) -> Vec<u8> {
    let mut block = input.to_vec();
    block.resize(alg.block_len(), 0);
    e(alg, key, &block)
}

/// Part 4 §9.3: E(original), or the halves of E(original ‖ 00…) XORed on 16-byte blocks.
fn auth_data(alg: Algorithm, session: &[u8], original: &[u8]) -> Vec<u8> {
    let mut block = original.to_vec();
    block.resize(alg.block_len(), 0);
    let out = e(alg, session, &block);
    match alg.block_len() {
        8 => out,
        _ => out[..8].iter().zip(&out[8..]).map(|(a, b)| a ^ b).collect(),
    }
}

/// Part 4 §8.2.4: 80 then 00 to a whole block (always), CBC from zero, the left 4 bytes or the
/// XOR of the four 4-byte groups.
fn mac(alg: Algorithm, session: &[u8], message: &[u8]) -> Vec<u8> {
    let b = alg.block_len();
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % b != 0 {
        padded.push(0);
    }
    let mut state = vec![0u8; b];
    for block in padded.chunks(b) {
        let x: Vec<u8> = state.iter().zip(block).map(|(s, d)| s ^ d).collect();
        state = e(alg, session, &x);
    }
    let mut out = vec![0u8; 4];
    for (i, byte) in state.iter().enumerate().take(if b == 8 { 4 } else { 16 }) {
        out[i % 4] ^= byte;
    }
    out
}

/// Part 4 §8.3.3: LD ‖ data, 80 00… only when the last block is short, ECB.
fn encipher_ld(alg: Algorithm, session: &[u8], data: &[u8]) -> Vec<u8> {
    let b = alg.block_len();
    let mut plain = vec![data.len() as u8];
    plain.extend_from_slice(data);
    if plain.len() % b != 0 {
        plain.push(0x80);
        while plain.len() % b != 0 {
            plain.push(0);
        }
    }
    plain
        .chunks(b)
        .flat_map(|block| e(alg, session, block))
        .collect()
}

fn card_key(t: &Terminal, role: KeyRole) -> Vec<u8> {
    let root = keys().root(t.alg, role).unwrap().expose_bytes().to_vec();
    let [p, c, card] = factors(&t.card.image().historical_bytes.0);
    div(t.alg, &div(t.alg, &div(t.alg, &root, &p), &c), &card)
}

#[test]
fn raw_cipher_known_answers() {
    // FIPS 46 worked example, GB/T 32907 appendix A example 1, FIPS 197 appendix C.1
    assert_eq!(
        hex::encode_upper(des_e(&h("133457799BBCDFF1"), &h("0123456789ABCDEF"))),
        "85E813540F0AB405"
    );
    let k = h("0123456789ABCDEFFEDCBA9876543210");
    assert_eq!(
        hex::encode_upper(e(Algorithm::Sm4, &k, &k)),
        "681EDF34D206965E86B3E94F536E4246"
    );
    assert_eq!(
        hex::encode_upper(e(
            Algorithm::Aes128,
            &h("000102030405060708090A0B0C0D0E0F"),
            &h("00112233445566778899AABBCCDDEEFF")
        )),
        "69C4E0D86A7B0430D8CDB78070B4C55A"
    );
}

#[test]
fn card_keys_are_three_level_diversifications() {
    for alg in Algorithm::ALL {
        let t = Terminal::new(Generation::V3, alg);
        for role in KeyRole::SSSE {
            let stored = t.card.image().key(role).unwrap().value.expose().to_vec();
            assert_eq!(stored, card_key(&t, role), "{alg} {role}");
        }
        if alg == Algorithm::Tdes {
            assert_eq!(
                card_key(&t, KeyRole::Stkssse).len(),
                8,
                "single DES all the way down"
            );
        }
    }
}

#[test]
fn authentication_and_secure_messaging_match_the_raw_ciphers() {
    for alg in Algorithm::ALL {
        let mut t = Terminal::new(Generation::V3, alg);
        t.select();
        // EXTERNAL AUTHENTICATION with UKSSSE: process key of the card's challenge
        let original = h("E603E2CAADAF02B6");
        let r = t.challenge(8);
        let sk = process_key(alg, &card_key(&t, KeyRole::Ukssse), &r);
        assert_eq!(sk.len(), if alg == Algorithm::Tdes { 8 } else { 16 });
        let auth = auth_data(alg, &sk, &original);
        let apdu = with_lc([0, 0x82, 0, 0x04], &[&auth[..], &original].concat());
        assert_eq!(t.raw(&apdu).1, 0x9000, "{alg}");
        // a 4-byte challenge padded with 00
        let r = t.challenge(4);
        let sk = process_key(alg, &card_key(&t, KeyRole::Rkssse), &r);
        let auth = auth_data(alg, &sk, &original);
        let apdu = with_lc([0, 0x82, 0, 0x0A], &[&auth[..], &original].concat());
        assert_eq!(t.raw(&apdu).1, 0x9000, "{alg}");
        // INTERNAL AUTHENTICATION
        let factor = h("32D9E876ADB31BBF");
        let original = h("DBF7A936D0D18C9E");
        let (answer, sw) = t.send(&with_lc(
            [0, 0x88, 0, 0],
            &[&factor[..], &original].concat(),
        ));
        assert_eq!(sw, 0x9000);
        let sk = process_key(alg, &card_key(&t, KeyRole::Irk), &factor);
        assert_eq!(answer, auth_data(alg, &sk, &original), "{alg}");
        // PIN RELOAD: LD-enciphered PIN and MAC under one STKSSSE process key
        let r = t.challenge(8);
        let sk = process_key(alg, &card_key(&t, KeyRole::Puk), &r);
        let auth = auth_data(alg, &sk, &original);
        assert_eq!(
            t.raw(&with_lc(
                [0, 0x82, 0, 0x06],
                &[&auth[..], &original].concat()
            ))
            .1,
            0x9000
        );
        let r = t.challenge(8);
        let sk = process_key(alg, &card_key(&t, KeyRole::Stkssse), &r);
        // a 7-byte PIN fills an 8-byte block exactly: no padding on 3DES
        let pin = h("12345678901234");
        let enciphered = encipher_ld(alg, &sk, &pin);
        let mut message = h("84240001");
        message.push((enciphered.len() + 4) as u8);
        message.extend_from_slice(&enciphered);
        let m = mac(alg, &sk, &message);
        let apdu = with_lc([0x84, 0x24, 0x00, 0x01], &[&enciphered[..], &m].concat());
        assert_eq!(t.raw(&apdu).1, 0x9000, "{alg} reload");
        assert_eq!(t.card.image().pin.value.expose(), &pin[..]);
        assert_eq!(t.raw(&with_lc([0, 0x20, 0, 0], &pin)).1, 0x9000);
        // APPLICATION BLOCK after BK: a one-block MAC
        let r = t.challenge(8);
        let sk = process_key(alg, &card_key(&t, KeyRole::Bk), &r);
        let auth = auth_data(alg, &sk, &original);
        assert_eq!(
            t.raw(&with_lc(
                [0, 0x82, 0, 0x05],
                &[&auth[..], &original].concat()
            ))
            .1,
            0x9000
        );
        let r = t.challenge(8);
        let sk = process_key(alg, &card_key(&t, KeyRole::Stkssse), &r);
        let m = mac(alg, &sk, &h("841E000104"));
        assert_eq!(t.raw(&with_lc([0x84, 0x1E, 0x00, 0x01], &m)).1, 0x9000);
        assert!(t.card.image().ssse_blocked);
    }
}

#[test]
fn a_province_psam_computes_what_the_raw_ciphers_do() {
    for alg in Algorithm::ALL {
        let spec = PsamSpec::new(alg, "519900000001")
            .with_all_levels(KeyLevel::Province)
            .with_region(region());
        let mut p = SimPsam::from_root_keys(&keys(), &spec).unwrap();
        let t = Terminal::new(Generation::V3, alg);
        let [prov, city, card] = factors(&t.card.image().historical_bytes.0);
        // the province key in the PSAM is the root diversified once
        let root = keys()
            .root(alg, KeyRole::Ukssse)
            .unwrap()
            .expose_bytes()
            .to_vec();
        let held = p.image().key(0x08, 0x12).unwrap().value.expose().to_vec();
        assert_eq!(held, div(alg, &root, &prov));
        // DELIVERY SESSION KEY: card ‖ city ‖ process factor; then encipher and MAC
        assert_eq!(split(p.handle(&h("00A4040006D15600000590"))).1 >> 8, 0x61);
        let mut r = h("98B4D293D091C331");
        r.resize(alg.block_len(), 0);
        let data = [&card[..], &city, &r].concat();
        assert_eq!(
            split(p.handle(&with_lc([0xBF, 0xDE, 0x48, 0x12], &data))).1,
            0x9000
        );
        let sk = process_key(alg, &div(alg, &div(alg, &held, &city), &card), &r);
        let block = vec![0x42; alg.block_len()];
        let (_, sw) = split(p.handle(&with_lc([0x80, 0xFA, 0x00, 0x00], &block)));
        let (out, _) = split(p.handle(&[0x00, 0xC0, 0x00, 0x00, sw as u8]));
        assert_eq!(out, e(alg, &sk, &block), "{alg} encipher");
        let message = h("8424000114 00112233445566778899AABBCCDDEEFF");
        let mut padded = message.clone();
        padded.push(0x80);
        while padded.len() % alg.block_len() != 0 {
            padded.push(0);
        }
        let mut data = vec![0u8; alg.block_len()];
        data.extend_from_slice(&padded);
        let (_, sw) = split(p.handle(&with_lc([0x80, 0xFA, 0x05, 0x00], &data)));
        let (out, _) = split(p.handle(&[0x00, 0xC0, 0x00, 0x00, sw as u8]));
        assert_eq!(out, mac(alg, &sk, &message), "{alg} MAC");
    }
}
