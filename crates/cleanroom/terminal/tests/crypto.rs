//! Known-answer tests and hand-worked examples of the cryptography.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use cleanroom_terminal::crypto::{self, Algorithm, CryptoError};
use common::{h, up};

fn des(key: &str, block: &str) -> String {
    up(&crypto::encrypt_block(Algorithm::Des, &h(key), &h(block)).unwrap())
}

/// DES known answers of NIST SP 800-20 (FIPS 46-3 validation): variable plaintext (table A.1),
/// variable key (table A.2), permutation operation (A.3) and substitution tables (A.4).
#[test]
fn des_sp800_20_vectors() {
    let k0 = "0101010101010101";
    for (pt, ct) in [
        ("8000000000000000", "95F8A5E5DD31D900"),
        ("4000000000000000", "DD7F121CA5015619"),
        ("2000000000000000", "2E8653104F3834EA"),
        ("1000000000000000", "4BD388FF6CD81D4F"),
        ("0080000000000000", "D9031B0271BD5A0A"),
        ("0000000000000001", "166B40B44ABA4BD6"),
    ] {
        assert_eq!(des(k0, pt), ct, "variable plaintext {pt}");
    }
    for (key, ct) in [
        ("8001010101010101", "95A8D72813DAA94D"),
        ("4001010101010101", "0EEC1487DD8C26D5"),
    ] {
        assert_eq!(des(key, "0000000000000000"), ct, "variable key {key}");
    }
    assert_eq!(
        des("1046913489980131", "0000000000000000"),
        "88D55E54F54C97B4"
    );
    assert_eq!(
        des("7CA110454A1A6E57", "01A1D6D039776742"),
        "690F5B0D9A26939B"
    );
    // Decryption is the inverse.
    let back = crypto::decrypt_block(Algorithm::Des, &h(k0), &h("95F8A5E5DD31D900")).unwrap();
    assert_eq!(up(&back), "8000000000000000");
}

/// Two-key Triple-DES EDE is E(K1) D(K2) E(K1) (P9 figure 4 (B)); with K1 = K2 it is DES.
#[test]
fn triple_des_is_ede_of_single_des() {
    let k1 = h("0123456789ABCDEF");
    let k2 = h("FEDCBA9876543210");
    let block = h("4E6F772069732074");
    let d1 = des::Des::new_from_slice(&k1).unwrap();
    let d2 = des::Des::new_from_slice(&k2).unwrap();
    let mut b = Block::<des::Des>::try_from(block.as_slice()).unwrap();
    d1.encrypt_block(&mut b);
    d2.decrypt_block(&mut b);
    d1.encrypt_block(&mut b);
    let mut key = k1.clone();
    key.extend(&k2);
    assert_eq!(
        crypto::encrypt_block(Algorithm::Des, &key, &block).unwrap(),
        b.to_vec()
    );
    let same = h("01010101010101010101010101010101");
    assert_eq!(
        up(&crypto::encrypt_block(Algorithm::Des, &same, &h("8000000000000000")).unwrap()),
        "95F8A5E5DD31D900"
    );
}

/// GB/T 32907-2016 appendix A, example 1.
#[test]
fn sm4_gbt32907_vector() {
    let key = h("0123456789ABCDEFFEDCBA9876543210");
    let ct = crypto::encrypt_block(Algorithm::Sm4, &key, &key).unwrap();
    assert_eq!(up(&ct), "681EDF34D206965E86B3E94F536E4246");
    assert_eq!(
        crypto::decrypt_block(Algorithm::Sm4, &key, &ct).unwrap(),
        key
    );
}

#[test]
fn algorithms_and_key_lengths() {
    assert_eq!(Algorithm::from_code(1), Some(Algorithm::Des));
    assert_eq!(Algorithm::from_code(2), Some(Algorithm::Ssf33));
    assert_eq!(Algorithm::from_code(3), Some(Algorithm::Sm4));
    assert_eq!(Algorithm::from_code(4), None);
    assert_eq!(
        crypto::encrypt_block(Algorithm::Ssf33, &[0; 16], &[0; 16]),
        Err(CryptoError::UnsupportedAlgorithm(2))
    );
    assert_eq!(
        crypto::encrypt_block(Algorithm::Sm4, &[0; 8], &[0; 16]),
        Err(CryptoError::BadKeyLength(8))
    );
    assert_eq!(
        crypto::encrypt_block(Algorithm::Des, &[0; 24], &[0; 8]),
        Err(CryptoError::BadKeyLength(24))
    );
    assert!(crypto::encrypt_block(Algorithm::Des, &[0; 8], &[0; 7]).is_err());
}

/// P9 §7.3.1-§7.3.2 and RI §10.3 (profile D5).
#[test]
fn region_factors() {
    assert_eq!(
        up(&crypto::province_factor("519900").unwrap()),
        "3531303030307368"
    );
    assert_eq!(
        up(&crypto::city_factor("519900").unwrap()),
        "3531393930307378"
    );
    // Zhejiang: four digits, then 30 30 73 78.
    assert_eq!(
        up(&crypto::province_factor("330100").unwrap()),
        "3333303030307368"
    );
    assert_eq!(
        up(&crypto::city_factor("330100").unwrap()),
        "3333303130307378"
    );
    assert_eq!(
        up(&crypto::city_factor("331002").unwrap()),
        "3333313030307378"
    );
    // P9's own example 650100.
    assert_eq!(
        up(&crypto::city_factor("650100").unwrap()),
        "3635303130307378"
    );
    for bad in ["51990", "5199000", "51990A", ""] {
        assert!(crypto::province_factor(bad).is_err(), "{bad}");
        assert!(crypto::city_factor(bad).is_err(), "{bad}");
    }
}

/// P9 §7.3.3: the 6th to 13th historical bytes.
#[test]
fn card_factor_from_atr() {
    let atr = h(common::TRACE_ATR);
    assert_eq!(
        up(crypto::historical_bytes(&atr).unwrap()),
        "00814A444686605199000001AC"
    );
    assert_eq!(up(&crypto::card_factor(&atr).unwrap()), "86605199000001AC");
    // RI §8.20's example ATR: 3B 6D 00 00 00 81 48 42 42 86 53 51 19 00 0A 67 1A.
    let ri = h("3B6D0000008148424286535119000A671A");
    assert_eq!(up(&crypto::card_factor(&ri).unwrap()), "86535119000A671A");
    // Interface bytes TA1..TD2 and TCK (T=0 and T=15 announced) are skipped.
    let with_td = h("3BDD18008131FE450031C173C8400000900090000000000000");
    assert!(crypto::historical_bytes(&with_td).is_ok());
    // Too short, or too few historical bytes: errors, never a panic.
    for bad in ["", "3B", "3B6D", "3B6D0000", "3B6500000081", "3BFF"] {
        assert!(crypto::card_factor(&h(bad)).is_err(), "{bad}");
    }
}

/// P9 §7.1.1 / §7.2.1, worked with the raw ciphers.
#[test]
fn diversification_by_hand() {
    let f: [u8; 8] = h("3531303030307368").try_into().unwrap();
    let nf: Vec<u8> = f.iter().map(|b| !b).collect();
    assert_eq!(up(&nf), "CACECFCFCFCF8C97");

    // Double-length DES key: 3DES(f) ‖ 3DES(¬f).
    let root = h("F3FFECCA45EB786BE00FFABBB8E55E17");
    let left = crypto::encrypt_block(Algorithm::Des, &root, &f).unwrap();
    let right = crypto::encrypt_block(Algorithm::Des, &root, &nf).unwrap();
    let child = crypto::diversify(Algorithm::Des, &root, &f).unwrap();
    assert_eq!(child, [left, right].concat());

    // With K1 = K2 = 01..01 and factor 80 00.., the left half is the SP 800-20 answer.
    let weak = h("01010101010101010101010101010101");
    let child = crypto::diversify(
        Algorithm::Des,
        &weak,
        &h("8000000000000000").try_into().unwrap(),
    )
    .unwrap();
    assert_eq!(up(&child[..8]), "95F8A5E5DD31D900");

    // Single-length key (3DES cards' STKSSSE): DES(f), 8 bytes.
    let stk = h("4929A2BFC3DBFD58");
    let child = crypto::diversify(Algorithm::Des, &stk, &f).unwrap();
    assert_eq!(
        child,
        crypto::encrypt_block(Algorithm::Des, &stk, &f).unwrap()
    );
    assert_eq!(child.len(), 8);

    // SM4: SM4(f ‖ ¬f).
    let root = h("98E758ABA082B9199F5A7FF9C2135121");
    let sm = sm4::Sm4::new_from_slice(&root).unwrap();
    let mut b = Block::<sm4::Sm4>::try_from([f.to_vec(), nf].concat().as_slice()).unwrap();
    sm.encrypt_block(&mut b);
    assert_eq!(
        crypto::diversify(Algorithm::Sm4, &root, &f).unwrap(),
        b.to_vec()
    );

    // Three levels = three single steps in order province, city, card.
    let factors = [
        crypto::province_factor("519900").unwrap(),
        crypto::city_factor("519900").unwrap(),
        crypto::card_factor(&h(common::TRACE_ATR)).unwrap(),
    ];
    let mut k = root.clone();
    for f in &factors {
        k = crypto::diversify(Algorithm::Sm4, &k, f).unwrap();
    }
    assert_eq!(
        crypto::diversify_chain(Algorithm::Sm4, &root, &factors).unwrap(),
        k
    );
}

/// P4 §8.4: process keys.
#[test]
fn process_keys() {
    // DES, 4-byte challenge 80 00 00 00 → input 80 00 .. 00 → SP 800-20 answer.
    let k = h("0101010101010101");
    assert_eq!(
        up(&crypto::session_key(Algorithm::Des, &k, &h("80000000")).unwrap()),
        "95F8A5E5DD31D900"
    );
    // Double-length key: 3DES of the 8-byte input, an 8-byte session key.
    let k16 = h("B52A580B7EAA0BBEA5649F0111B89433");
    let s = crypto::session_key(Algorithm::Des, &k16, &h("1122334455667788")).unwrap();
    assert_eq!(
        s,
        crypto::encrypt_block(Algorithm::Des, &k16, &h("1122334455667788")).unwrap()
    );
    assert_eq!(s.len(), 8);
    // SM4, a 16-byte challenge equal to the GB/T 32907 plaintext.
    let key = h("0123456789ABCDEFFEDCBA9876543210");
    assert_eq!(
        up(&crypto::session_key(Algorithm::Sm4, &key, &key).unwrap()),
        "681EDF34D206965E86B3E94F536E4246"
    );
    // SM4, an 8-byte challenge padded with eight 00.
    let s = crypto::session_key(Algorithm::Sm4, &key, &h("0123456789ABCDEF")).unwrap();
    assert_eq!(
        s,
        crypto::encrypt_block(Algorithm::Sm4, &key, &h("0123456789ABCDEF0000000000000000"))
            .unwrap()
    );
    // A 16-byte challenge cannot make a DES process key (profile D7); empty neither.
    assert!(crypto::session_key(Algorithm::Des, &k16, &[0; 16]).is_err());
    assert!(crypto::session_key(Algorithm::Des, &k16, &[]).is_err());
}

/// P4 §9.3: authentication data.
#[test]
fn authentication_data() {
    // 8-byte blocks: DES(session, original).
    let k = h("0101010101010101");
    let a = crypto::auth_data(
        Algorithm::Des,
        &k,
        &h("4000000000000000").try_into().unwrap(),
    )
    .unwrap();
    assert_eq!(up(&a), "DD7F121CA5015619");
    // 16-byte blocks: SM4(original ‖ 00×8), left XOR right.
    let key = h("0123456789ABCDEFFEDCBA9876543210");
    let orig = h("DBF7A936D0D18C9E");
    let full =
        crypto::encrypt_block(Algorithm::Sm4, &key, &[orig.clone(), vec![0; 8]].concat()).unwrap();
    let folded: Vec<u8> = (0..8).map(|i| full[i] ^ full[i + 8]).collect();
    let a = crypto::auth_data(Algorithm::Sm4, &key, &orig.try_into().unwrap()).unwrap();
    assert_eq!(a.to_vec(), folded);
}

/// P4 §8.2.4: MAC examples.
#[test]
fn mac_examples() {
    let k = h("0101010101010101");
    // Empty message: the only block is 80 00 .. 00 → DES = 95F8A5E5…; MAC = left 4 bytes.
    assert_eq!(
        up(&crypto::mac(Algorithm::Des, &k, &[]).unwrap()),
        "95F8A5E5"
    );
    // A full 8-byte message gets a whole padding block. 01..01 is a weak DES key
    // (encryption is its own inverse), so O1 = DES(95F8A5E5DD31D900) = 80 00 .. 00, then
    // O1 ⊕ (80 00 .. 00) = 0 and O2 = DES(0) = 8CA64DE9C1B123A7.
    assert_eq!(
        up(&crypto::mac(Algorithm::Des, &k, &h("95F8A5E5DD31D900")).unwrap()),
        "8CA64DE9"
    );
    // APPLICATION BLOCK: 84 1E 00 01 04 ‖ 80 00 00 — one block.
    let s = h("0123456789ABCDEF");
    let one = crypto::encrypt_block(Algorithm::Des, &s, &h("841E000104800000")).unwrap();
    assert_eq!(
        crypto::mac(Algorithm::Des, &s, &h("841E000104"))
            .unwrap()
            .to_vec(),
        one[..4].to_vec()
    );
    // PIN RELOAD, DES: header ‖ 8 enciphered bytes = 13 bytes → 2 blocks, CBC.
    let msg = h("842400010C 1122334455667788");
    let b1 = crypto::encrypt_block(Algorithm::Des, &s, &msg[..8]).unwrap();
    let mut x: Vec<u8> = msg[8..].to_vec();
    x.extend(h("800000"));
    let x: Vec<u8> = x.iter().zip(&b1).map(|(a, b)| a ^ b).collect();
    let b2 = crypto::encrypt_block(Algorithm::Des, &s, &x).unwrap();
    assert_eq!(
        crypto::mac(Algorithm::Des, &s, &msg).unwrap().to_vec(),
        b2[..4].to_vec()
    );

    // SM4: CBC then XOR of the four 4-byte groups. 84 24 00 01 14 ‖ 16 bytes = 21 bytes.
    let key = h("0123456789ABCDEFFEDCBA9876543210");
    let msg = h("8424000114 00112233445566778899AABBCCDDEEFF");
    let mut blk1 = msg[..16].to_vec();
    let o1 = crypto::encrypt_block(Algorithm::Sm4, &key, &blk1).unwrap();
    blk1 = msg[16..].to_vec();
    blk1.push(0x80);
    blk1.resize(16, 0);
    let x: Vec<u8> = blk1.iter().zip(&o1).map(|(a, b)| a ^ b).collect();
    let o2 = crypto::encrypt_block(Algorithm::Sm4, &key, &x).unwrap();
    let fold: Vec<u8> = (0..4)
        .map(|i| o2[i] ^ o2[4 + i] ^ o2[8 + i] ^ o2[12 + i])
        .collect();
    assert_eq!(
        crypto::mac(Algorithm::Sm4, &key, &msg).unwrap().to_vec(),
        fold
    );
    // SM4, exactly one block: a second block 80 00 .. 00 follows.
    let o1 = crypto::encrypt_block(Algorithm::Sm4, &key, &key).unwrap();
    let mut x = o1.clone();
    x[0] ^= 0x80;
    let o2 = crypto::encrypt_block(Algorithm::Sm4, &key, &x).unwrap();
    let fold: Vec<u8> = (0..4)
        .map(|i| o2[i] ^ o2[4 + i] ^ o2[8 + i] ^ o2[12 + i])
        .collect();
    assert_eq!(
        crypto::mac(Algorithm::Sm4, &key, &key).unwrap().to_vec(),
        fold
    );
}

/// P4 §8.3: encipherment examples.
#[test]
fn encipherment_examples() {
    let k = h("0101010101010101");
    // Empty data: LD = 00, then 80 and zeros: 00 80 00 .. 00, an SP 800-20 plaintext.
    assert_eq!(
        up(&crypto::encipher(Algorithm::Des, &k, &[]).unwrap()),
        "D9031B0271BD5A0A"
    );
    // PIN 123456 (cn 12 34 56): block 03 12 34 56 80 00 00 00.
    let s = h("0123456789ABCDEF");
    let c = crypto::encipher(Algorithm::Des, &s, &h("123456")).unwrap();
    assert_eq!(c.len(), 8);
    assert_eq!(
        up(&crypto::decrypt_block(Algorithm::Des, &s, &c).unwrap()),
        "0312345680000000"
    );
    // LD ‖ data of exactly 8 bytes: no padding at all (contrary to the MAC).
    let c = crypto::encipher(Algorithm::Des, &s, &h("11223344556677")).unwrap();
    assert_eq!(c.len(), 8);
    assert_eq!(
        up(&crypto::decrypt_block(Algorithm::Des, &s, &c).unwrap()),
        "0711223344556677"
    );
    // 9 bytes → two blocks, the second padded.
    let c = crypto::encipher(Algorithm::Des, &s, &h("1122334455667788")).unwrap();
    assert_eq!(c.len(), 16);
    assert_eq!(
        up(&crypto::decrypt_block(Algorithm::Des, &s, &c[8..]).unwrap()),
        "8880000000000000"
    );
    // SM4: 03 12 34 56 80 00 … (16 bytes).
    let key = h("0123456789ABCDEFFEDCBA9876543210");
    let c = crypto::encipher(Algorithm::Sm4, &key, &h("123456")).unwrap();
    assert_eq!(c.len(), 16);
    assert_eq!(
        up(&crypto::decrypt_block(Algorithm::Sm4, &key, &c).unwrap()),
        "03123456800000000000000000000000"
    );
    assert_eq!(
        crypto::decipher(Algorithm::Sm4, &key, &c).unwrap(),
        h("123456")
    );
    assert!(crypto::decipher(Algorithm::Sm4, &key, &c[..15]).is_err());
    assert!(crypto::encipher(Algorithm::Des, &s, &[0; 256]).is_err());
}
