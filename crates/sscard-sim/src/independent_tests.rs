//! The card's cryptography checked against values computed here step by step from the block
//! ciphers themselves (des, sm4, aes), not through `sscard_core::crypto`: a bug shared by the
//! library and the simulator (both use the core crypto) cannot hide from these tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use sscard_core::apdu::commands;
use sscard_core::profile::{self, Generation};
use sscard_core::Algorithm;

use crate::card::{CardSpec, SimCard};
use crate::test_support::{key_file, master_key, region, split, REGION, SERIAL};

fn des_encrypt(key: &[u8], block: &[u8]) -> Vec<u8> {
    let c = des::Des::new_from_slice(key).unwrap();
    let mut b = Array::try_from(block).unwrap();
    c.encrypt_block(&mut b);
    b.to_vec()
}

fn des_decrypt(key: &[u8], block: &[u8]) -> Vec<u8> {
    let c = des::Des::new_from_slice(key).unwrap();
    let mut b = Array::try_from(block).unwrap();
    c.decrypt_block(&mut b);
    b.to_vec()
}

/// One block with the raw cipher. 3DES is spelled out as DES-EDE with K1 = key[..8],
/// K2 = key[8..].
fn encrypt_block(alg: Algorithm, key: &[u8], block: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::Tdes => {
            let (k1, k2) = key.split_at(8);
            let step1 = des_encrypt(k1, block);
            let step2 = des_decrypt(k2, &step1);
            des_encrypt(k1, &step2)
        }
        Algorithm::Sm4 => {
            let c = sm4::Sm4::new_from_slice(key).unwrap();
            let mut b = Array::try_from(block).unwrap();
            c.encrypt_block(&mut b);
            b.to_vec()
        }
        Algorithm::Aes128 => {
            let c = aes::Aes128::new_from_slice(key).unwrap();
            let mut b = Array::try_from(block).unwrap();
            c.encrypt_block(&mut b);
            b.to_vec()
        }
    }
}

fn ecb(alg: Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    data.chunks(alg.block_len())
        .flat_map(|block| encrypt_block(alg, key, block))
        .collect()
}

/// Div(K, f): b = 8: E(f) ‖ E(NOT f); b = 16: E(f ‖ NOT f).
fn div(alg: Algorithm, key: &[u8], factor: &[u8]) -> Vec<u8> {
    let not: Vec<u8> = factor.iter().map(|b| !b).collect();
    match alg {
        Algorithm::Tdes => {
            let mut out = encrypt_block(alg, key, factor);
            out.extend(encrypt_block(alg, key, &not));
            out
        }
        _ => {
            let mut input = factor.to_vec();
            input.extend(not);
            encrypt_block(alg, key, &input)
        }
    }
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// ISO 9797-1 padding 2 + MAC algorithm 3 (3DES) or 1 (SM4, AES), first 4 bytes.
fn mac(alg: Algorithm, key: &[u8], iv: &[u8], message: &[u8]) -> [u8; 4] {
    let b = alg.block_len();
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % b != 0 {
        padded.push(0x00);
    }
    let blocks: Vec<&[u8]> = padded.chunks(b).collect();
    let mut state = iv.to_vec();
    for (i, block) in blocks.iter().enumerate() {
        let input = xor(&state, block);
        let last = i + 1 == blocks.len();
        state = match alg {
            // single DES with the left key half, the last block with full 3DES
            Algorithm::Tdes if !last => des_encrypt(&key[..8], &input),
            _ => encrypt_block(alg, key, &input),
        };
    }
    [state[0], state[1], state[2], state[3]]
}

fn card_factor() -> Vec<u8> {
    // ATR 3B 6D 00 00 | 00 81 53 53 43 41 52 44 31 | serial: the last 8 historical bytes
    let mut f = vec![0x41, 0x52, 0x44, 0x31];
    f.extend_from_slice(&SERIAL);
    f
}

fn city_factor() -> Vec<u8> {
    let mut f = REGION.as_bytes().to_vec();
    f.extend_from_slice(&[0x73, 0x78]);
    f
}

fn issuer_key(alg: Algorithm, id: u8) -> Vec<u8> {
    div(
        alg,
        &div(alg, &master_key(alg, id), &card_factor()),
        &city_factor(),
    )
}

fn nationwide_key(alg: Algorithm, id: u8) -> Vec<u8> {
    div(alg, &master_key(alg, id), &card_factor())
}

fn send(card: &mut SimCard, apdu: &[u8]) -> (Vec<u8>, u16) {
    split(card.handle(apdu))
}

fn challenge(card: &mut SimCard, alg: Algorithm) -> Vec<u8> {
    let (r, sw) = send(card, &[0x00, 0x84, 0x00, 0x00, alg.block_len() as u8]);
    assert_eq!(sw, 0x9000);
    r
}

fn with_lc(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut apdu = header.to_vec();
    apdu.push(data.len() as u8);
    apdu.extend_from_slice(data);
    apdu
}

/// A MAC-secured command: `header Lc data ‖ MAC(key, IV = fresh challenge, header Lc data)`.
fn mac_apdu(card: &mut SimCard, alg: Algorithm, key: &[u8], header: [u8; 4], data: &[u8]) -> u16 {
    let iv = challenge(card, alg);
    let mut input = header.to_vec();
    input.push((data.len() + 4) as u8);
    input.extend_from_slice(data);
    let m = mac(alg, key, &iv, &input);
    let mut full = data.to_vec();
    full.extend_from_slice(&m);
    send(card, &with_lc(header, &full)).1
}

fn external_auth(card: &mut SimCard, alg: Algorithm, id: u8, key: &[u8]) -> u16 {
    let r = challenge(card, alg);
    let session = div(alg, key, &r[..8]);
    let cryptogram = ecb(alg, &session, &r);
    send(card, &with_lc([0x00, 0x82, 0x00, id], &cryptogram)).1
}

#[test]
fn card_keys_cryptograms_macs_and_pin_blocks_match_the_raw_ciphers() {
    for alg in Algorithm::ALL {
        let b = alg.block_len();
        let spec = CardSpec::new(Generation::V3, alg, region(), SERIAL);
        let mut card = SimCard::blank(spec, &mut key_file()).unwrap();
        // the default (T=1) ATR ends with its TCK: the card factor is the 8 bytes before it
        let atr = card.atr();
        assert_eq!(&atr[atr.len() - 9..atr.len() - 1], card_factor().as_slice());

        // the manufacturer's keys
        for id in [0x00, 0x04, 0x06, 0x0D] {
            let stored = card.image().key(id).unwrap().expose().to_vec();
            assert_eq!(stored, issuer_key(alg, id), "{alg} issuer key {id:02X}");
        }
        for id in [0x07, 0x08, 0x0A] {
            let stored = card.image().key(id).unwrap().expose().to_vec();
            assert_eq!(
                stored,
                nationwide_key(alg, id),
                "{alg} nationwide key {id:02X}"
            );
        }

        let mut select = with_lc([0x00, 0xA4, 0x04, 0x00], &profile::SSSE_AID);
        select.push(0x00);
        assert_eq!(send(&mut card, &select).1, 0x9000);

        // external authentication with the update key and the read key
        assert_eq!(
            external_auth(&mut card, alg, 0x04, &issuer_key(alg, 0x04)),
            0x9000,
            "{alg}"
        );
        assert_eq!(
            external_auth(&mut card, alg, 0x0A, &nationwide_key(alg, 0x0A)),
            0x9000
        );
        // the read key diversified like an issuer key is wrong
        assert_eq!(
            external_auth(&mut card, alg, 0x0A, &issuer_key(alg, 0x0A)),
            0x6300
        );

        // internal authentication
        let factor = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80];
        let data: Vec<u8> = (0..b as u8).map(|i| i.wrapping_mul(7)).collect();
        let mut input = factor.to_vec();
        input.extend_from_slice(&data);
        let (answer, sw) = send(&mut card, &with_lc([0x00, 0x88, 0x00, 0x00], &input));
        assert_eq!(sw, 0x9000);
        let expected = ecb(alg, &div(alg, &nationwide_key(alg, 0x08), &factor), &data);
        assert_eq!(answer, expected, "{alg} internal authenticate");

        // PIN reload: n ‖ BCD ‖ 80 00.. enciphered with CK_06, MAC'd with CK_06
        let ck06 = issuer_key(alg, 0x06);
        let mut plain = vec![0x05, 0x13, 0x57, 0x9F, 0x80];
        plain.resize(b, 0x00);
        let block = ecb(alg, &ck06, &plain);
        assert_eq!(
            mac_apdu(&mut card, alg, &ck06, [0x84, 0x24, 0x00, 0x01], &block),
            0x9000
        );
        assert_eq!(
            card.image().pin.as_ref().unwrap().bcd.expose(),
            &[0x13, 0x57, 0x9F]
        );
        assert_eq!(
            send(
                &mut card,
                &with_lc([0x00, 0x20, 0x00, 0x00], &[0x13, 0x57, 0x9F])
            )
            .1,
            0x9000
        );

        // a longer MAC input (several blocks) through application block with key 07
        let ck07 = nationwide_key(alg, 0x07);
        assert_eq!(
            mac_apdu(&mut card, alg, &ck07, [0x84, 0x1E, 0x00, 0x00], &[]),
            0x9000
        );
        assert_eq!(
            mac_apdu(&mut card, alg, &ck07, [0x84, 0x18, 0x00, 0x00], &[]),
            0x9000
        );
        assert_eq!(
            mac_apdu(&mut card, alg, &ck06, [0x84, 0x24, 0x00, 0x01], &block),
            0x9000
        );

        // known-answer check of the raw primitives themselves (FIPS 46 / GB/T 32907 / FIPS 197
        // example vectors), so the helpers above are what they claim to be
        let kat = match alg {
            Algorithm::Tdes => (
                "0123456789ABCDEF0123456789ABCDEF",
                "4E6F772069732074",
                "3FA40E8A984D4815",
            ),
            Algorithm::Sm4 => (
                "0123456789ABCDEFFEDCBA9876543210",
                "0123456789ABCDEFFEDCBA9876543210",
                "681EDF34D206965E86B3E94F536E4246",
            ),
            Algorithm::Aes128 => (
                "000102030405060708090A0B0C0D0E0F",
                "00112233445566778899AABBCCDDEEFF",
                "69C4E0D86A7B0430D8CDB78070B4C55A",
            ),
        };
        let out = encrypt_block(
            alg,
            &hex::decode(kat.0).unwrap(),
            &hex::decode(kat.1).unwrap(),
        );
        assert_eq!(hex::encode_upper(out), kat.2, "{alg} known answer");
    }
}

#[test]
fn core_constructors_build_what_the_card_expects() {
    // the library's MAC input layout (CLA INS P1 P2 Lc-with-MAC ‖ data) is the card's
    assert_eq!(
        commands::mac_input(0x84, 0x24, 0x00, 0x01, &[0xAA; 8]),
        [&[0x84, 0x24, 0x00, 0x01, 0x0C][..], &[0xAA; 8]].concat()
    );
}
