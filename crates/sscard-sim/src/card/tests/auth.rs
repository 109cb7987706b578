//! GET CHALLENGE, EXTERNAL and INTERNAL AUTHENTICATION (part 5 §6.4, §6.5, §6.7; part 7 §5.4,
//! §6.6; \[design\] D2-D4, D7, D10).

use sscard_core::crypto;
use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::test_support::*;

#[test]
fn get_challenge_lengths() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    for le in [4u8, 8, 16] {
        let (r, sw) = t.raw(&[0, 0x84, 0, 0, le]);
        assert_eq!((r.len(), sw), (usize::from(le), 0x9000));
    }
    for le in [0u8, 1, 7, 9, 32] {
        assert_eq!(t.raw(&[0, 0x84, 0, 0, le]).1, 0x6700, "Le {le}");
    }
    assert_eq!(t.raw(&[0, 0x84, 0, 0]).1, 0x6700);
    assert_eq!(t.raw(&[0, 0x84, 1, 0, 8]).1, 0x6A86);
    assert_eq!(t.raw(&[0, 0x84, 0, 0, 1, 0, 8]).1, 0x6700);
    assert_eq!(t.raw(&[0x80, 0x84, 0, 0, 8]).1, 0x6E00);
    // random, not repeated
    assert_ne!(t.challenge(8), t.challenge(8));
}

#[test]
fn every_role_authenticates_on_every_algorithm() {
    for alg in Algorithm::ALL {
        let mut t = Terminal::new(Generation::V3, alg);
        t.select();
        for role in KeyRole::SSSE.into_iter().filter(|r| *r != KeyRole::Irk) {
            assert_eq!(t.authenticate(role), 0x9000, "{alg} {role}");
        }
        assert_eq!(t.card.authenticated_roles().len(), 5);
        // 4- and 16-byte challenges serve as process factors on 16-byte-block cards
        for len in [4u8, 16] {
            let challenge = t.challenge(len);
            let unusable = alg.block_len() == 8 && len == 16;
            let factor = if unusable {
                &challenge[..8]
            } else {
                &challenge[..]
            };
            let apdu = t.external_auth_apdu(KeyRole::Ukssse, factor, [1; 8]);
            let expected = if unusable { 0x6984 } else { 0x9000 };
            assert_eq!(t.raw(&apdu).1, expected, "{alg} challenge of {len}");
        }
    }
}

#[test]
fn the_field_trace_external_authentication_format() {
    // 0082000A 10 <auth data 8> <original 8>: the card's challenge is the process factor
    let mut t = Terminal::new(Generation::V3, Algorithm::Sm4);
    t.select();
    let original = t.challenge(8);
    let factor = t.challenge(8);
    let key = t.card_key(KeyRole::Rkssse);
    let session = crypto::process_key(Algorithm::Sm4, &key, &factor).unwrap();
    let auth = crypto::auth_data(
        Algorithm::Sm4,
        &session,
        &original.clone().try_into().unwrap(),
    )
    .unwrap();
    let apdu = format!(
        "0082000A10{}{}",
        hex::encode_upper(auth),
        hex::encode_upper(&original)
    );
    assert_eq!(t.sw(&apdu), 0x9000);
    assert_eq!(t.card.authenticated_roles(), [KeyRole::Rkssse]);
}

#[test]
fn try_counters() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    t.select();
    let wrong = |t: &mut Terminal, role: KeyRole| {
        let challenge = t.challenge(8);
        let mut apdu = t.external_auth_apdu(role, &challenge, [3; 8]);
        apdu[5] ^= 1;
        t.raw(&apdu).1
    };
    assert_eq!(wrong(&mut t, KeyRole::Ukssse), 0x63C2);
    assert_eq!(wrong(&mut t, KeyRole::Ukssse), 0x63C1);
    // a success gives every try back
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    assert_eq!(t.card.image().key(KeyRole::Ukssse).unwrap().tries_left, 3);
    for expected in [0x63C2, 0x63C1, 0x63C0, 0x6983, 0x6983] {
        assert_eq!(wrong(&mut t, KeyRole::Puk), expected);
    }
    assert_eq!(t.authenticate(KeyRole::Puk), 0x6983, "locked for good");
    // locked survives a reset; the other keys are unaffected
    t.card.reset();
    t.select();
    assert_eq!(t.authenticate(KeyRole::Puk), 0x6983);
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    // BK and STKSSSE failures do not count (part 7 §13.1-13.2)
    for role in [KeyRole::Bk, KeyRole::Stkssse] {
        for _ in 0..5 {
            assert_eq!(wrong(&mut t, role), 0x63CF);
        }
        assert_eq!(t.card.image().key(role).unwrap().tries_left, 3);
        assert_eq!(t.authenticate(role), 0x9000);
    }
}

#[test]
fn challenge_is_used_once_and_belongs_to_the_df() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    let challenge = t.challenge(8);
    let apdu = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [9; 8]);
    assert_eq!(t.raw(&apdu).1, 0x9000);
    assert_eq!(t.raw(&apdu).1, 0x6984, "replayed: the challenge is gone");
    // no challenge at all
    t.card.reset();
    t.select();
    assert_eq!(t.raw(&apdu).1, 0x6984);
    // a failed authentication also uses it up
    let challenge = t.challenge(8);
    let mut bad = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [9; 8]);
    bad[5] ^= 0xFF;
    assert_eq!(t.raw(&bad).1, 0x63C2);
    let good = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [9; 8]);
    assert_eq!(t.raw(&good).1, 0x6984);
    // the last challenge counts (the field trace asks twice)
    let _first = t.challenge(8);
    let second = t.challenge(8);
    let apdu = t.external_auth_apdu(KeyRole::Ukssse, &second, [9; 8]);
    assert_eq!(t.raw(&apdu).1, 0x9000);
    // selecting another DF drops the challenge; reselecting SSSE does not
    let challenge = t.challenge(8);
    t.select();
    let apdu = t.external_auth_apdu(KeyRole::Rkssse, &challenge, [9; 8]);
    assert_eq!(t.raw(&apdu).1, 0x9000);
    let challenge = t.challenge(8);
    assert_eq!(t.sw("00A40000023F00"), 0x9000);
    t.select();
    let apdu = t.external_auth_apdu(KeyRole::Rkssse, &challenge, [9; 8]);
    assert_eq!(t.raw(&apdu).1, 0x6984);
}

#[test]
fn security_state_lifetime() {
    let mut t = Terminal::new(Generation::V3, Algorithm::Sm4);
    t.select();
    assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
    // kept through reselecting SSSE and selecting EFs
    t.select();
    assert_eq!(t.sw("00A4020002EF06"), 0x9000);
    assert_eq!(t.card.authenticated_roles(), [KeyRole::Rkssse]);
    // a failed authentication of another key keeps it
    let challenge = t.challenge(8);
    let mut bad = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [0; 8]);
    bad[6] ^= 1;
    assert_eq!(t.raw(&bad).1, 0x63C2);
    assert_eq!(t.card.authenticated_roles(), [KeyRole::Rkssse]);
    // gone with the MF
    assert_eq!(t.sw("00A40000023F00"), 0x9000);
    assert!(t.card.authenticated_roles().is_empty());
    // gone with a reset
    t.select();
    assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
    t.card.reset();
    assert!(t.card.authenticated_roles().is_empty());
}

#[test]
fn external_authentication_errors() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    let challenge = t.challenge(8);
    let apdu = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [0; 8]);
    assert_eq!(t.raw(&apdu).1, 0x6A88, "no SSSE key in the MF");
    t.select();
    let challenge = t.challenge(8);
    let mut apdu = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [0; 8]);
    apdu[3] = 0x00;
    assert_eq!(t.raw(&apdu).1, 0x6A86, "key 00 is reserved");
    for id in [0x01, 0x03, 0x07, 0x08, 0x20, 0x84] {
        apdu[3] = id;
        assert_eq!(t.raw(&apdu).1, 0x6A88, "key {id:02X}");
    }
    apdu[3] = 0x04;
    apdu[2] = 0x01;
    assert_eq!(t.raw(&apdu).1, 0x6A86);
    assert_eq!(t.sw("00820004 0F 000000000000000000000000000000"), 0x6700);
    assert_eq!(
        t.sw("00820004 12 000000000000000000000000000000000000"),
        0x6700
    );
    assert_eq!(t.sw("00820004"), 0x6700);
    // the optional key version: group 1 is 01 ([design] D3)
    let challenge = t.challenge(8);
    let mut apdu = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [0; 8]);
    apdu[4] = 0x11;
    apdu.push(0x02);
    assert_eq!(t.raw(&apdu).1, 0x6A88, "a version the card does not have");
    let challenge = t.challenge(8);
    let mut apdu = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [0; 8]);
    apdu[4] = 0x11;
    apdu.push(0x01);
    assert_eq!(t.raw(&apdu).1, 0x9000);
}

#[test]
fn internal_authentication() {
    for alg in Algorithm::ALL {
        let mut t = Terminal::new(Generation::V3, alg);
        t.select();
        let factor = h("32D9E876ADB31BBF");
        let original = h("DBF7A936D0D18C9E");
        let expected = crypto::authenticate(
            alg,
            &t.card_key(KeyRole::Irk),
            &factor,
            &original.clone().try_into().unwrap(),
        )
        .unwrap();
        // the field trace's command, case 3 on T=0: 61 08 then GET RESPONSE
        let apdu = "008800001032D9E876ADB31BBFDBF7A936D0D18C9E".to_owned();
        assert_eq!(t.sw(&apdu), 0x6108);
        let (answer, sw) = t.hex("00C0000008");
        assert_eq!((answer, sw), (expected.to_vec(), 0x9000), "{alg}");
        // T=1: at once, with Le 00
        t.card.set_t0(false);
        let (answer, sw) = t.hex(&format!("{apdu}00"));
        assert_eq!((answer, sw), (expected.to_vec(), 0x9000));
        // a version byte 01 is the same key
        let (answer, _) = t.hex(&format!(
            "{}01",
            apdu.replacen("0088000010", "0088000011", 1)
        ));
        assert_eq!(answer, expected.to_vec());
        // errors
        assert_eq!(t.sw(&apdu.replace("00880000", "00880008")), 0x6A88);
        assert_eq!(t.sw(&apdu.replace("00880000", "00880100")), 0x6A86);
        assert_eq!(t.sw("00880000 08 0102030405060708"), 0x6700);
        assert_eq!(
            t.sw(&format!("{}02", apdu.replace("0088000010", "0088000011"))),
            0x6A88
        );
        assert_eq!(t.sw("00A40000023F00"), 0x9000);
        assert_eq!(t.sw(&apdu), 0x6A88, "IRK is in SSSE");
    }
}
