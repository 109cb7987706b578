//! Known-answer tests of the primitives and step-by-step checks of every construction of
//! part 4 and part 9.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cleanroom_card::crypto::{self, Factors};
use cleanroom_card::Algorithm;
use common::h;

fn a8(v: &[u8]) -> [u8; 8] {
    v.try_into().unwrap()
}

fn a16(v: &[u8]) -> [u8; 16] {
    v.try_into().unwrap()
}

#[test]
fn des_known_answers() {
    // (key, plaintext, ciphertext): the classic worked example, the "Now is t" example and
    // NIST SP 800-20 variable-plaintext / variable-key entries.
    let vectors = [
        ("133457799BBCDFF1", "0123456789ABCDEF", "85E813540F0AB405"),
        ("0123456789ABCDEF", "4E6F772069732074", "3FA40E8A984D4815"),
        ("0101010101010101", "8000000000000000", "95F8A5E5DD31D900"),
        ("0101010101010101", "4000000000000000", "DD7F121CA5015619"),
        ("8001010101010101", "0000000000000000", "95A8D72813DAA94D"),
        ("4001010101010101", "0000000000000000", "0EEC1487DD8C26D5"),
    ];
    for (k, p, c) in vectors {
        let (k, p, c) = (a8(&h(k)), a8(&h(p)), a8(&h(c)));
        assert_eq!(crypto::des_encrypt(&k, &p), c, "key {k:02X?}");
        assert_eq!(crypto::des_decrypt(&k, &c), p);
    }
}

#[test]
fn triple_des_is_encrypt_decrypt_encrypt() {
    let key = a16(&h("0123456789ABCDEFFEDCBA9876543210"));
    let block = a8(&h("0011223344556677"));
    let (kl, kr) = (a8(&key[..8]), a8(&key[8..]));
    let manual = crypto::des_encrypt(
        &kl,
        &crypto::des_decrypt(&kr, &crypto::des_encrypt(&kl, &block)),
    );
    assert_eq!(crypto::tdes_encrypt(&key, &block), manual);
    assert_eq!(crypto::tdes_decrypt(&key, &manual), block);
    // With K_L = K_R, two-key triple DES is single DES.
    let k = a8(&h("133457799BBCDFF1"));
    let mut kk = [0u8; 16];
    kk[..8].copy_from_slice(&k);
    kk[8..].copy_from_slice(&k);
    assert_eq!(
        crypto::tdes_encrypt(&kk, &a8(&h("0123456789ABCDEF"))),
        a8(&h("85E813540F0AB405"))
    );
}

#[test]
fn sm4_gbt32907_example() {
    let key = a16(&h("0123456789ABCDEFFEDCBA9876543210"));
    let ct = crypto::sm4_encrypt(&key, &key);
    assert_eq!(ct, a16(&h("681EDF34D206965E86B3E94F536E4246")));
    assert_eq!(crypto::sm4_decrypt(&key, &ct), key);
}

#[test]
fn encrypt_block_rejects_bad_lengths() {
    assert!(crypto::encrypt_block(Algorithm::Des, &[0; 7], &[0; 8]).is_none());
    assert!(crypto::encrypt_block(Algorithm::Des, &[0; 16], &[0; 16]).is_none());
    assert!(crypto::encrypt_block(Algorithm::Sm4, &[0; 8], &[0; 16]).is_none());
    assert!(crypto::encrypt_block(Algorithm::Sm4, &[0; 16], &[0; 8]).is_none());
}

#[test]
fn factors_of_the_field_trace_card() {
    // ATR 3B6D0000 00814A4446 8660 5199 000001AC: the card factor is T6..TD.
    let hist = h("00814A444686605199000001AC");
    let f = Factors::new("519900", &hist).unwrap();
    assert_eq!(f.province, a8(&h("3531303030307368")));
    assert_eq!(f.city, a8(&h("3531393930307378")));
    assert_eq!(f.card, a8(&h("86605199000001AC")));
    // Zhejiang: four digits ‖ 30 30 73 78 (reader-interface spec §10.3).
    let z = Factors::new("330100", &hist).unwrap();
    assert_eq!(z.city, a8(&h("3333303130307378")));
    assert_eq!(z.province, a8(&h("3333303030307368")));
    assert!(Factors::new("51990", &hist).is_none());
    assert!(Factors::new("5199x0", &hist).is_none());
    assert!(Factors::new("519900", &hist[..12]).is_none());
}

#[test]
fn diversification_step_by_step() {
    let f = a8(&h("3531393930307378"));
    let nf: Vec<u8> = f.iter().map(|b| !b).collect();
    // Double-length DES key: 3DES(f) ‖ 3DES(!f) (part 9 figure 3).
    let k16 = a16(&h("1E793F864C7B0C6638B9CFDC3D54E19A"));
    let mut expected = crypto::tdes_encrypt(&k16, &f).to_vec();
    expected.extend_from_slice(&crypto::tdes_encrypt(&k16, &a8(&nf)));
    assert_eq!(
        crypto::diversify(Algorithm::Des, &k16, &f).unwrap(),
        expected
    );
    // Single-length DES key: DES(f) (part 9 figure 2).
    let k8 = a8(&h("4929A2BFC3DBFD58"));
    assert_eq!(
        crypto::diversify(Algorithm::Des, &k8, &f).unwrap(),
        crypto::des_encrypt(&k8, &f).to_vec()
    );
    // SM4: SM4(f ‖ !f) (part 9 figure 8).
    let ks = a16(&h("DD7C71F299C5C6F2C049507DBE14890C"));
    let mut input = f.to_vec();
    input.extend_from_slice(&nf);
    assert_eq!(
        crypto::diversify(Algorithm::Sm4, &ks, &f).unwrap(),
        crypto::sm4_encrypt(&ks, &a16(&input)).to_vec()
    );
    // Three levels: province, then city, then card.
    let factors = [a8(&h("3531303030307368")), f, a8(&h("86605199000001AC"))];
    let mut key = ks.to_vec();
    for factor in &factors {
        key = crypto::diversify(Algorithm::Sm4, &key, factor).unwrap();
    }
    assert_eq!(
        crypto::diversify_chain(Algorithm::Sm4, &ks, &factors).unwrap(),
        key
    );
}

#[test]
fn process_keys_step_by_step() {
    let ch8 = h("32D9E876ADB31BBF");
    // Single-length key: DES(input) (part 4 figure 7).
    let k8 = a8(&h("4929A2BFC3DBFD58"));
    assert_eq!(
        crypto::process_key(Algorithm::Des, &k8, &ch8).unwrap(),
        crypto::des_encrypt(&k8, &a8(&ch8)).to_vec()
    );
    // Double-length key: 3DES(input), 8 bytes (figure 8).
    let k16 = a16(&h("331FE3BACDAD000D1960A0491EF226F8"));
    assert_eq!(
        crypto::process_key(Algorithm::Des, &k16, &ch8).unwrap(),
        crypto::tdes_encrypt(&k16, &a8(&ch8)).to_vec()
    );
    // A 4-byte random number is padded with 00 to 8 bytes (§8.4.1).
    assert_eq!(
        crypto::process_key(Algorithm::Des, &k16, &ch8[..4]).unwrap(),
        crypto::tdes_encrypt(&k16, &a8(&h("32D9E87600000000"))).to_vec()
    );
    // A 16-byte challenge cannot make a DES process key (profile D7).
    assert!(crypto::process_key(Algorithm::Des, &k16, &[0; 16]).is_none());
    // SM4: input padded to 16 bytes (figure 9).
    let ks = a16(&h("BF82370791F5ADA191DD612C330B9303"));
    let mut padded = ch8.clone();
    padded.resize(16, 0);
    assert_eq!(
        crypto::process_key(Algorithm::Sm4, &ks, &ch8).unwrap(),
        crypto::sm4_encrypt(&ks, &a16(&padded)).to_vec()
    );
}

#[test]
fn mac_with_8_byte_blocks_step_by_step() {
    let sk = a8(&h("0123456789ABCDEF"));
    // 5 bytes → one block 84 1E 00 01 04 80 00 00.
    let data = h("841E000104");
    let o1 = crypto::des_encrypt(&sk, &a8(&h("841E000104800000")));
    assert_eq!(
        crypto::mac(Algorithm::Des, &sk, &data).unwrap(),
        a8(&o1)[..4]
    );
    // 8 bytes → a whole extra block 80 00.. (§8.2.4.1 step 4), CBC with IV zero.
    let data = h("0102030405060708");
    let o1 = crypto::des_encrypt(&sk, &a8(&data));
    let mut i2 = a8(&h("8000000000000000"));
    for (a, b) in i2.iter_mut().zip(o1) {
        *a ^= b;
    }
    let o2 = crypto::des_encrypt(&sk, &i2);
    assert_eq!(crypto::mac(Algorithm::Des, &sk, &data).unwrap(), o2[..4]);
}

#[test]
fn mac_with_16_byte_blocks_folds_four_groups() {
    let sk = a16(&h("00112233445566778899AABBCCDDEEFF"));
    let data = h("8424000114");
    let mut block = data.clone();
    block.push(0x80);
    block.resize(16, 0);
    let o = crypto::sm4_encrypt(&sk, &a16(&block));
    let mut expect = [0u8; 4];
    for i in 0..4 {
        expect[i] = o[i] ^ o[4 + i] ^ o[8 + i] ^ o[12 + i];
    }
    assert_eq!(crypto::mac(Algorithm::Sm4, &sk, &data).unwrap(), expect);
    // Two blocks: 21 bytes → 32.
    let data = h("8424000114 000102030405060708090A0B0C0D0E0F");
    let mut b2 = data[16..].to_vec();
    b2.push(0x80);
    b2.resize(16, 0);
    let o1 = crypto::sm4_encrypt(&sk, &a16(&data[..16]));
    let x: Vec<u8> = o1.iter().zip(&b2).map(|(a, b)| a ^ b).collect();
    let o2 = crypto::sm4_encrypt(&sk, &a16(&x));
    let mut expect = [0u8; 4];
    for i in 0..4 {
        expect[i] = o2[i] ^ o2[4 + i] ^ o2[8 + i] ^ o2[12 + i];
    }
    assert_eq!(crypto::mac(Algorithm::Sm4, &sk, &data).unwrap(), expect);
}

#[test]
fn encipherment_with_ld_step_by_step() {
    // SM4: LD ‖ 12 34 56 ‖ 80 00… = one block (the field trace's PIN reload: 16 + 4 bytes).
    let sk = a16(&h("00112233445566778899AABBCCDDEEFF"));
    let enc = crypto::encipher_ld(Algorithm::Sm4, &sk, &h("123456")).unwrap();
    assert_eq!(
        enc,
        crypto::sm4_encrypt(&sk, &a16(&h("03123456800000000000000000000000"))).to_vec()
    );
    assert_eq!(
        crypto::decipher_ld(Algorithm::Sm4, &sk, &enc).unwrap(),
        h("123456")
    );
    // DES: 1 + 7 bytes fill a block exactly: no padding (§8.3.3.1 step 3).
    let dk = a8(&h("0123456789ABCDEF"));
    let enc = crypto::encipher_ld(Algorithm::Des, &dk, &h("11223344556677")).unwrap();
    assert_eq!(
        enc,
        crypto::des_encrypt(&dk, &a8(&h("0711223344556677"))).to_vec()
    );
    assert_eq!(
        crypto::decipher_ld(Algorithm::Des, &dk, &enc).unwrap(),
        h("11223344556677")
    );
    // DES: LD ‖ 123456 ‖ 80 00 00 00.
    let enc = crypto::encipher_ld(Algorithm::Des, &dk, &h("123456")).unwrap();
    assert_eq!(
        enc,
        crypto::des_encrypt(&dk, &a8(&h("0312345680000000"))).to_vec()
    );
    // The card rejects bad padding and impossible LD.
    let bad = crypto::des_encrypt(&dk, &a8(&h("0312345681000000")));
    assert!(crypto::decipher_ld(Algorithm::Des, &dk, &bad).is_none());
    let bad = crypto::des_encrypt(&dk, &a8(&h("0912345680000000")));
    assert!(crypto::decipher_ld(Algorithm::Des, &dk, &bad).is_none());
    assert!(crypto::decipher_ld(Algorithm::Des, &dk, &[0; 7]).is_none());
    // An extra block of padding is not what §8.3.3 produces.
    let mut two = crypto::des_encrypt(&dk, &a8(&h("0311223380000000"))).to_vec();
    two.extend(crypto::des_encrypt(&dk, &[0; 8]));
    assert!(crypto::decipher_ld(Algorithm::Des, &dk, &two).is_none());
}

#[test]
fn authentication_data_step_by_step() {
    let original = a8(&h("DBF7A936D0D18C9E"));
    // 8-byte blocks: DES(session, original) (part 4 figure 10).
    let dk = a8(&h("0123456789ABCDEF"));
    assert_eq!(
        crypto::auth_data(Algorithm::Des, &dk, &original).unwrap(),
        crypto::des_encrypt(&dk, &original)
    );
    // 16-byte blocks: SM4(original ‖ 00×8), left XOR right (figure 11).
    let sk = a16(&h("00112233445566778899AABBCCDDEEFF"));
    let mut input = original.to_vec();
    input.resize(16, 0);
    let o = crypto::sm4_encrypt(&sk, &a16(&input));
    let mut expect = [0u8; 8];
    for i in 0..8 {
        expect[i] = o[i] ^ o[i + 8];
    }
    assert_eq!(
        crypto::auth_data(Algorithm::Sm4, &sk, &original).unwrap(),
        expect
    );
}
