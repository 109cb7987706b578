//! Command-level tests: the card driven through APDUs only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cleanroom_card::{crypto, Algorithm, Card, CardConfig, ConfigError, SpecVersion};
use common::{card, data, h, sw, Terminal};

const ALGS: [Algorithm; 2] = [Algorithm::Des, Algorithm::Sm4];

#[test]
fn atr_layout_matches_the_field_trace() {
    let c = card(Algorithm::Sm4, SpecVersion::V3);
    let atr = c.atr();
    assert_eq!(atr, h("3B6D000000814A444686605199000001AC"));
    // TS, T0 (TB1, TC1, 13 historical bytes), TB1, TC1.
    assert_eq!(atr[..4], [0x3B, 0x6D, 0x00, 0x00]);
    let hist = c.historical_bytes();
    assert_eq!(hist.len(), 13);
    assert_eq!(hist[7..9], [0x51, 0x99], "T8-T9: first four region digits");
    assert_eq!(hist[9..], [0x00, 0x00, 0x01, 0xAC], "TA-TD: ATR serial");
    assert_eq!(
        c.factors().card,
        [0x86, 0x60, 0x51, 0x99, 0x00, 0x00, 0x01, 0xAC]
    );
}

#[test]
fn config_errors() {
    let mut cfg = common::config(Algorithm::Des, SpecVersion::V2);
    cfg.region = "51990".into();
    assert!(matches!(Card::new(cfg), Err(ConfigError::BadRegion(_))));
    let mut cfg = common::config(Algorithm::Des, SpecVersion::V2);
    cfg.roots.remove("PUK");
    assert_eq!(Card::new(cfg).unwrap_err(), ConfigError::MissingRoot("PUK"));
    // STKSSSE of a 3DES card is 8 bytes (profile D2).
    let mut cfg = common::config(Algorithm::Des, SpecVersion::V2);
    cfg.roots.insert("STKSSSE".into(), vec![0; 16]);
    assert!(matches!(
        Card::new(cfg),
        Err(ConfigError::BadRootLength {
            role: "STKSSSE",
            ..
        })
    ));
    let mut cfg: CardConfig = common::config(Algorithm::Sm4, SpecVersion::V1);
    cfg.roots.remove("RKSSSE");
    assert!(Card::new(cfg).is_ok(), "1.0 cards have no RKSSSE");
}

#[test]
fn card_keys_are_the_roots_diversified_three_times() {
    for alg in ALGS {
        let c = card(alg, SpecVersion::V3);
        let t = Terminal::for_card(&c, alg, "519900");
        let keys = c.card_keys();
        assert_eq!(keys.len(), 6);
        for (role, k) in &keys {
            assert_eq!(k, t.key(role), "{alg:?} {role}");
        }
        let expected_stk = if alg == Algorithm::Des { 8 } else { 16 };
        assert_eq!(keys["STKSSSE"].len(), expected_stk);
    }
}

#[test]
fn select_ssse_returns_the_fci_of_the_trace() {
    let mut c = card(Algorithm::Sm4, SpecVersion::V3);
    let r = Terminal::select_ssse(&mut c);
    assert_eq!(
        r,
        h("6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C038601039000")
    );
    let mut d = card(Algorithm::Des, SpecVersion::V2);
    let r = Terminal::select_ssse(&mut d);
    assert_eq!(&r[r.len() - 5..], &h("8601019000")[..]);
    // Partial name (part 5 §6.11.5): first, then "next" finds nothing more.
    let mut c = card(Algorithm::Sm4, SpecVersion::V3);
    assert_eq!(sw(&c.transmit(&h("00A4040005 7378312E73"))), 0x9000);
    assert_eq!(sw(&c.transmit(&h("00A4040205 7378312E73"))), 0x6A82);
    // Unknown name, wrong Lc, bad P1/P2.
    assert_eq!(
        sw(&c.transmit(&h("00A404000E 315041592E5359532E4444463031"))),
        0x6A82
    );
    assert_eq!(sw(&c.transmit(&h("00A4040004 7378312E"))), 0x6700);
    assert_eq!(sw(&c.transmit(&h("00A4080002 EF05"))), 0x6A86);
    assert_eq!(sw(&c.transmit(&h("00A4040105 7378312E73"))), 0x6A86);
    // MF by 3F00, by empty data, and EF select needs the SSSE.
    assert_eq!(c.transmit(&h("00A40000023F00")), h("9000"));
    assert_eq!(sw(&c.transmit(&h("00A4020002EF05"))), 0x6A82);
    assert_eq!(c.transmit(&h("00A4000000")), h("9000"));
    assert_eq!(c.transmit(&h("00A40000")), h("9000"));
    assert_eq!(sw(&c.transmit(&h("00A4000002DF01"))), 0x6A82);
    assert_eq!(sw(&c.transmit(&h("00A4000001DF"))), 0x6700);
}

#[test]
fn blank_card_holds_only_the_card_identification_code() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V3);
        Terminal::select_ssse(&mut c);
        assert_eq!(c.transmit(&h("00A4020002EF05")), h("9000"));
        // The field trace's answer.
        assert_eq!(
            c.transmit(&h("00B2010012")),
            h("0110519900D15600000510000B26FFFFFFFF9000")
        );
        for id in [2u8, 3, 4, 5, 6, 7] {
            assert_eq!(sw(&c.transmit(&[0x00, 0xB2, id, 0x04, 0x00])), 0x6A83);
            assert_eq!(sw(&c.transmit(&[0x00, 0xB2, id, 0x00, 0x00])), 0x6A83);
        }
        // VERIFY with Lc = 00: the PIN is empty (profile D14).
        assert_eq!(c.transmit(&h("0020000000")), h("9000"));
    }
}

#[test]
fn read_record_le_handling() {
    let mut c = card(Algorithm::Sm4, SpecVersion::V2);
    Terminal::select_ssse(&mut c);
    // SFI form sets the current EF.
    assert_eq!(c.transmit(&h("00B2012C00")), h("6C12"));
    assert_eq!(c.transmit(&h("00B2012C10")), h("6C12"));
    assert_eq!(c.transmit(&h("00B2012C13")), h("6C12"));
    assert_eq!(c.transmit(&h("00B2012C")), h("6C12"));
    assert_eq!(sw(&c.transmit(&h("00B2012C12"))), 0x9000);
    // Current EF (set by the SFI reference).
    assert_eq!(sw(&c.transmit(&h("00B2010412"))), 0x9000);
    // No current EF after selecting the DF.
    Terminal::select_ssse(&mut c);
    assert_eq!(c.transmit(&h("00B2010412")), h("6986"));
    // Bad parameters.
    assert_eq!(c.transmit(&h("00B2012F12")), h("6A86"));
    assert_eq!(c.transmit(&h("00B201FC12")), h("6A86"));
    assert_eq!(c.transmit(&h("00B2FF2C12")), h("6A86"));
    assert_eq!(c.transmit(&h("00B2014C12")), h("6A82"));
    assert_eq!(
        c.transmit(&h("00B2013C12")),
        h("6981"),
        "EF07 is transparent"
    );
    assert_eq!(
        c.transmit(&h("00B2012C0112")),
        h("6700"),
        "case 3 READ RECORD"
    );
    assert_eq!(c.transmit(&h("10B2012C12")), h("6E00"));
}

#[test]
fn internal_authentication_with_irk() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V3);
        let t = Terminal::for_card(&c, alg, "519900");
        Terminal::select_ssse(&mut c);
        let factor = h("32D9E876ADB31BBF");
        let original = h("DBF7A936D0D18C9E");
        let mut apdu = h("0088000010");
        apdu.extend_from_slice(&factor);
        apdu.extend_from_slice(&original);
        let r = c.transmit(&apdu);
        assert_eq!(sw(&r), 0x9000);
        let pk = crypto::process_key(alg, t.key("IRK"), &factor).unwrap();
        let expect = crypto::auth_data(alg, &pk, &original.clone().try_into().unwrap()).unwrap();
        assert_eq!(data(&r), expect);
        // With Le, and with the key version of group 1 (profile D3).
        let mut with_le = apdu.clone();
        with_le.push(0x00);
        assert_eq!(data(&c.transmit(&with_le)), expect);
        let mut v1 = apdu.clone();
        v1[4] = 0x11;
        v1.push(0x01);
        assert_eq!(data(&c.transmit(&v1)), expect);
        let mut v2 = apdu.clone();
        v2[4] = 0x11;
        v2.push(0x02);
        assert_eq!(c.transmit(&v2), h("6A88"));
        // Wrong key, P1, length; at the MF no key.
        let mut k = apdu.clone();
        k[3] = 0x01;
        assert_eq!(c.transmit(&k), h("6A88"));
        let mut p = apdu.clone();
        p[2] = 0x01;
        assert_eq!(c.transmit(&p), h("6A86"));
        assert_eq!(c.transmit(&apdu[..apdu.len() - 1]), h("6700"));
        c.transmit(&h("00A40000023F00"));
        assert_eq!(c.transmit(&apdu), h("6A88"));
    }
}

#[test]
fn external_authentication_counters() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V3);
        let mut t = Terminal::for_card(&c, alg, "519900");
        Terminal::select_ssse(&mut c);
        // Without a challenge: 6984 (profile D13).
        let mut apdu = t.ea_command(&mut c, "RKSSSE", 0x0A);
        assert_eq!(sw(&c.transmit(&apdu)), 0x9000);
        assert_eq!(sw(&c.transmit(&apdu)), 0x6984, "the challenge is used once");
        // Wrong cryptograms count down (profile D4).
        for expected in [0x63C2, 0x63C1, 0x63C0] {
            apdu = t.ea_command(&mut c, "RKSSSE", 0x0A);
            apdu[5] ^= 0xFF;
            assert_eq!(sw(&c.transmit(&apdu)), expected);
        }
        assert_eq!(c.key_tries(0x0A), Some(0));
        assert_eq!(t.external_auth(&mut c, "RKSSSE", 0x0A), 0x6983);
        // Other keys are independent; a success restores the counter.
        let mut apdu = t.ea_command(&mut c, "UKSSSE", 0x04);
        apdu[12] ^= 1;
        assert_eq!(sw(&c.transmit(&apdu)), 0x63C2);
        assert_eq!(t.external_auth(&mut c, "UKSSSE", 0x04), 0x9000);
        assert_eq!(c.key_tries(0x04), Some(3));
        // BK and STKSSSE failures do not count: 63CF.
        for (role, id) in [("BK", 0x05u8), ("STKSSSE", 0x02)] {
            for _ in 0..5 {
                let mut apdu = t.ea_command(&mut c, role, id);
                apdu[6] ^= 0x55;
                assert_eq!(sw(&c.transmit(&apdu)), 0x63CF);
            }
            assert_eq!(t.external_auth(&mut c, role, id), 0x9000);
        }
        // The counter survives a reset.
        c.reset();
        Terminal::select_ssse(&mut c);
        assert_eq!(t.external_auth(&mut c, "RKSSSE", 0x0A), 0x6983);
        // Unknown key ids, IRK, wrong version, wrong length.
        assert_eq!(t.external_auth(&mut c, "RKSSSE", 0x07), 0x6A88);
        assert_eq!(t.external_auth(&mut c, "IRK", 0x00), 0x6A88);
        let mut apdu = t.ea_command(&mut c, "PUK", 0x06);
        apdu[4] = 0x11;
        apdu.push(0x09);
        assert_eq!(sw(&c.transmit(&apdu)), 0x6A88);
        assert_eq!(c.transmit(&h("0082000608 0102030405060708")), h("6700"));
    }
}

#[test]
fn external_authentication_with_4_and_16_byte_challenges() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V3);
        let t = Terminal::for_card(&c, alg, "519900");
        Terminal::select_ssse(&mut c);
        for len in [4u8, 16] {
            let ch = Terminal::challenge(&mut c, len);
            assert_eq!(ch.len(), usize::from(len));
            let original = [9u8; 8];
            let result = crypto::process_key(alg, t.key("UKSSSE"), &ch);
            let mut apdu = h("0082000410");
            match result {
                Some(pk) => {
                    apdu.extend(crypto::auth_data(alg, &pk, &original).unwrap());
                    apdu.extend(original);
                    assert_eq!(c.transmit(&apdu), h("9000"), "{alg:?} {len}");
                }
                None => {
                    // A 16-byte challenge on a DES card (profile D7).
                    apdu.extend([0u8; 8]);
                    apdu.extend(original);
                    assert_eq!(c.transmit(&apdu), h("6984"));
                    assert_eq!(alg, Algorithm::Des);
                }
            }
        }
        assert_eq!(c.transmit(&h("0084000005")), h("6700"));
        assert_eq!(c.transmit(&h("00840000")), h("6700"));
        assert_eq!(c.transmit(&h("0084000108")), h("6A86"));
    }
}

#[test]
fn access_rules_of_a_3_0_card() {
    let alg = Algorithm::Sm4;
    let mut c = card(alg, SpecVersion::V3);
    let mut t = Terminal::for_card(&c, alg, "519900");
    t.personalize(&mut c, SpecVersion::V3);
    c.reset();
    Terminal::select_ssse(&mut c);
    // EF05 is free, EF06 needs RKSSSE on 3.0 cards (profile D11).
    assert_eq!(c.transmit(&h("00B2032C06")), h("0304332E30309000"));
    assert_eq!(c.transmit(&h("00B2083000")), h("6982"));
    assert_eq!(t.external_auth(&mut c, "RKSSSE", 0x0A), 0x9000);
    assert_eq!(c.transmit(&h("00B2083000")), h("6C14"));
    assert_eq!(
        c.transmit(&h("00B2083014")),
        h("08123531303132323230313631303232353133309000")
    );
    assert_eq!(
        c.transmit(&h("00B209301F")),
        h("6C20"),
        "name record is 2 + 30 bytes"
    );
    assert_eq!(
        c.transmit(&h("00B2093020")),
        h("091EB0D7D5DCD3EE0000000000000000000000000000000000000000000000009000")
    );
    assert_eq!(
        c.transmit(&h("00B24E3016")),
        h("4E1400000000000000000000000000000000000000009000")
    );
    // Selecting an EF keeps the security state; selecting the DF again too; the MF drops it.
    assert_eq!(c.transmit(&h("00A4020002EF06")), h("9000"));
    assert_eq!(sw(&c.transmit(&h("00B2080014"))), 0x9000);
    Terminal::select_ssse(&mut c);
    assert_eq!(sw(&c.transmit(&h("00B2083014"))), 0x9000);
    c.transmit(&h("00A40000023F00"));
    Terminal::select_ssse(&mut c);
    assert_eq!(c.transmit(&h("00B2083014")), h("6982"));
    // Writes need UKSSSE.
    assert_eq!(c.transmit(&h("00DC0A3003 0A0132")), h("6982"));
    assert_eq!(c.transmit(&h("00D6870003 010203")), h("6982"));
}

#[test]
fn access_rules_of_1_0_and_2_0_cards() {
    for version in [SpecVersion::V1, SpecVersion::V2] {
        let alg = Algorithm::Des;
        let mut c = card(alg, version);
        let mut t = Terminal::for_card(&c, alg, "519900");
        t.personalize(&mut c, version);
        c.reset();
        Terminal::select_ssse(&mut c);
        assert_eq!(sw(&c.transmit(&h("00B2083014"))), 0x9000, "EF06 free");
        let r = c.transmit(&h("00B24E3016"));
        let ef7 = c.transmit(&h("00A4020002EF07"));
        if version == SpecVersion::V1 {
            assert_eq!(r, h("6A83"));
            assert_eq!(ef7, h("6A82"));
            assert_eq!(t.external_auth(&mut c, "RKSSSE", 0x0A), 0x6A88);
        } else {
            assert_eq!(sw(&r), 0x9000);
            assert_eq!(ef7, h("9000"));
            assert_eq!(c.transmit(&h("00B0000010")), h("6982"));
        }
    }
}

#[test]
fn personalization_and_pin_reload() {
    for alg in ALGS {
        for version in [SpecVersion::V1, SpecVersion::V2, SpecVersion::V3] {
            let mut c = card(alg, version);
            let mut t = Terminal::for_card(&c, alg, "519900");
            t.personalize(&mut c, version);
            c.reset();
            Terminal::select_ssse(&mut c);
            assert_eq!(
                c.transmit(&h("0020000000")),
                h("63C3"),
                "{alg:?} {version:?}"
            );
            assert_eq!(c.transmit(&h("0020000003123456")), h("9000"));
            assert!(c.pin_verified());
            let version_record = c.transmit(&h("00B2032C06"));
            let mut expect = vec![0x03, 0x04];
            expect.extend_from_slice(version.as_str().as_bytes());
            expect.extend_from_slice(&[0x90, 0x00]);
            assert_eq!(version_record, expect);
            // Card number of the trace.
            assert_eq!(
                c.transmit(&h("00B207040B")),
                h("07094841313034363932349000")
            );
        }
    }
}

#[test]
fn pin_reload_apdu_has_the_shape_of_the_trace() {
    // SM4 card: 84 24 00 01 14 ‖ 16 enciphered bytes ‖ 4-byte MAC.
    let alg = Algorithm::Sm4;
    let mut c = card(alg, SpecVersion::V3);
    let t = Terminal::for_card(&c, alg, "519900");
    Terminal::select_ssse(&mut c);
    let mut tt = Terminal::for_card(&c, alg, "519900");
    assert_eq!(tt.external_auth(&mut c, "PUK", 0x06), 0x9000);
    let ch = Terminal::challenge(&mut c, 8);
    let pk = crypto::process_key(alg, t.key("STKSSSE"), &ch).unwrap();
    let enc = crypto::encipher_ld(alg, &pk, &h("123456")).unwrap();
    assert_eq!(enc.len(), 16);
    let mut apdu = h("8424000114");
    apdu.extend_from_slice(&enc);
    let mac = crypto::mac(alg, &pk, &apdu).unwrap();
    apdu.extend_from_slice(&mac);
    assert_eq!(apdu.len(), 25);
    assert_eq!(c.transmit(&apdu), h("9000"));
    assert_eq!(c.transmit(&h("0020000003123456")), h("9000"));
}

#[test]
fn maintenance_command_errors() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V2);
        let mut t = Terminal::for_card(&c, alg, "519900");
        Terminal::select_ssse(&mut c);
        // No PUK authentication: 6982.
        assert_eq!(t.reload_pin(&mut c, &h("123456")), 0x6982);
        assert_eq!(t.external_auth(&mut c, "PUK", 0x06), 0x9000);
        // No challenge: 6984.
        let block = alg.block_len();
        let mut apdu = vec![0x84, 0x24, 0x00, 0x01, (block + 4) as u8];
        apdu.extend(vec![0u8; block + 4]);
        assert_eq!(c.transmit(&apdu), h("6984"));
        // Wrong MAC: 6988, and the challenge is gone.
        Terminal::challenge(&mut c, 8);
        assert_eq!(c.transmit(&apdu), h("6988"));
        assert_eq!(c.transmit(&apdu), h("6984"));
        // Wrong lengths and parameters.
        assert_eq!(c.transmit(&h("8424000105 0102030405")), h("6700"));
        assert_eq!(c.transmit(&h("8424000008 0102030405060708")), h("6700"));
        assert_eq!(c.transmit(&h("8424000204 01020304")), h("6A86"));
        assert_eq!(c.transmit(&h("0424000104 01020304")), h("6E00"));
        // A PIN that is not cn: 6A80.
        assert_eq!(t.reload_pin(&mut c, &h("12A4")), 0x6A80);
        assert_eq!(t.reload_pin(&mut c, &h("12")), 0x6A80);
        // Works, then an empty PIN element empties the PIN (part 5 §6.8.3).
        assert_eq!(t.reload_pin(&mut c, &h("12345F")), 0x9000);
        assert_eq!(c.transmit(&h("0020000000")), h("63C3"));
        assert_eq!(c.transmit(&h("002000000312345F")), h("9000"));
        assert_eq!(
            t.send_with_mac(&mut c, [0x84, 0x24, 0x00, 0x01], &[]),
            0x9000
        );
        assert_eq!(c.transmit(&h("0020000000")), h("9000"));
    }
}

#[test]
fn verify_change_and_unblock() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V3);
        let mut t = Terminal::for_card(&c, alg, "519900");
        t.personalize(&mut c, SpecVersion::V3);
        c.reset();
        Terminal::select_ssse(&mut c);
        // Wrong PINs count down; the probe does not count.
        assert_eq!(c.transmit(&h("0020000003111111")), h("63C2"));
        assert_eq!(c.transmit(&h("0020000000")), h("63C2"));
        assert_eq!(c.transmit(&h("0020000003111111")), h("63C1"));
        assert_eq!(c.transmit(&h("0020000003123456")), h("9000"));
        assert_eq!(c.pin_tries(), 3);
        for expected in ["63C2", "63C1", "63C0", "6983"] {
            assert_eq!(c.transmit(&h("002000000399999F")), h(expected));
        }
        assert_eq!(c.transmit(&h("0020000003123456")), h("6983"));
        assert_eq!(c.transmit(&h("0020000000")), h("6983"));
        assert_eq!(c.transmit(&h("805E0100 07 123456FF654321")), h("6983"));
        c.reset();
        Terminal::select_ssse(&mut c);
        assert_eq!(
            c.transmit(&h("0020000003123456")),
            h("6983"),
            "the lock persists"
        );
        // Unblock: PUK, challenge, MAC (8424 0000 04).
        assert_eq!(t.external_auth(&mut c, "PUK", 0x06), 0x9000);
        assert_eq!(
            t.send_with_mac(&mut c, [0x84, 0x24, 0x00, 0x00], &[]),
            0x9000
        );
        assert_eq!(c.pin_tries(), 3);
        assert_eq!(c.transmit(&h("0020000003123456")), h("9000"));
        // CHANGE PIN: old ‖ FF ‖ new.
        assert_eq!(c.transmit(&h("805E0100 07 123456FF654321")), h("9000"));
        assert_eq!(c.transmit(&h("0020000003123456")), h("63C2"));
        assert_eq!(c.transmit(&h("0020000003654321")), h("9000"));
        assert_eq!(c.transmit(&h("805E0100 07 111111FF222222")), h("63C2"));
        assert_eq!(c.transmit(&h("805E0100 07 654321FF22A222")), h("6A80"));
        assert_eq!(c.transmit(&h("805E0100 06 654321123456")), h("6A80"));
        assert_eq!(
            c.transmit(&h("805E0100 03 FF1234")),
            h("63C1"),
            "old PIN absent"
        );
        assert_eq!(c.transmit(&h("805E0100 02 FF12")), h("6700"));
        assert_eq!(c.transmit(&h("805E0000 07 654321FF222222")), h("6A86"));
        assert_eq!(c.transmit(&h("005E0100 07 654321FF222222")), h("6E00"));
        assert_eq!(c.transmit(&h("805E0100 08 654321FF2222222F")), h("9000"));
        assert_eq!(c.transmit(&h("00200000042222222F")), h("9000"));
        // Removing the PIN, then setting one without an old PIN.
        assert_eq!(c.transmit(&h("805E0100 05 2222222FFF")), h("9000"));
        assert_eq!(c.transmit(&h("0020000000")), h("9000"));
        assert_eq!(
            c.transmit(&h("0020000002 1234")),
            h("63C2"),
            "empty PIN never matches"
        );
        assert_eq!(c.transmit(&h("805E0100 03 FF1234")), h("9000"));
        assert_eq!(c.transmit(&h("0020000002 1234")), h("9000"));
        // VERIFY lengths.
        assert_eq!(c.transmit(&h("0020000001 12")), h("6700"));
        assert_eq!(c.transmit(&h("0020000009 123456789012345678")), h("6700"));
        assert_eq!(c.transmit(&h("0020000100")), h("6A86"));
    }
}

#[test]
fn application_block() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V3);
        let mut t = Terminal::for_card(&c, alg, "519900");
        Terminal::select_ssse(&mut c);
        // BK is required (profile D12).
        assert_eq!(t.external_auth(&mut c, "PUK", 0x06), 0x9000);
        assert_eq!(
            t.send_with_mac(&mut c, [0x84, 0x1E, 0x00, 0x01], &[]),
            0x6982
        );
        assert_eq!(t.external_auth(&mut c, "BK", 0x05), 0x9000);
        assert_eq!(
            t.send_with_mac(&mut c, [0x84, 0x1E, 0x00, 0x00], &[]),
            0x6A86
        );
        // The failed P2 did not use the challenge; the wrong MAC does.
        assert_eq!(c.transmit(&h("841E000104 01020304")), h("6988"));
        assert_eq!(c.transmit(&h("841E000104 01020304")), h("6984"));
        assert!(!c.is_application_blocked());
        assert_eq!(
            t.send_with_mac(&mut c, [0x84, 0x1E, 0x00, 0x01], &[]),
            0x9000
        );
        assert!(c.is_application_blocked());
        // Every command in the application answers 9303 (part 7 §13.2).
        assert_eq!(c.transmit(&h("00B2010412")), h("9303"));
        assert_eq!(c.transmit(&h("0084000008")), h("9303"));
        assert_eq!(c.transmit(&h("0020000000")), h("9303"));
        assert_eq!(c.transmit(&h("FFFF")), h("6700"));
        assert_eq!(c.transmit(&h("00FF0000")), h("9303"));
        assert_eq!(c.transmit(&h("00A4020002EF05")), h("9303"));
        assert_eq!(Terminal::select_ssse(&mut c), h("9303"));
        // The MF is still reachable; the block persists over reset.
        assert_eq!(c.transmit(&h("00A40000023F00")), h("9000"));
        assert_eq!(sw(&c.transmit(&h("0084000008"))), 0x9000);
        c.reset();
        assert_eq!(Terminal::select_ssse(&mut c), h("9303"));
        assert_eq!(c.transmit(&h("00B2010412")), h("9303"));
    }
}

#[test]
fn card_block() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V2);
        let mut t = Terminal::for_card(&c, alg, "519900");
        Terminal::select_ssse(&mut c);
        assert_eq!(
            t.send_with_mac(&mut c, [0x84, 0x16, 0x00, 0x00], &[]),
            0x6982
        );
        assert_eq!(t.external_auth(&mut c, "BK", 0x05), 0x9000);
        assert_eq!(c.transmit(&h("8416000005 0102030405")), h("6700"));
        assert_eq!(
            t.send_with_mac(&mut c, [0x84, 0x16, 0x00, 0x00], &[]),
            0x9000
        );
        assert!(c.is_card_blocked());
        // Every command answers 6A81 (part 5 §6.2.1), also after a reset.
        for apdu in [
            "00A40000023F00",
            "0084000008",
            "00B2010412",
            "00FF0000",
            "80CA0000",
        ] {
            assert_eq!(c.transmit(&h(apdu)), h("6A81"));
        }
        c.reset();
        assert_eq!(Terminal::select_ssse(&mut c), h("6A81"));
    }
}

#[test]
fn update_record_rules() {
    let alg = Algorithm::Sm4;
    let mut c = card(alg, SpecVersion::V1);
    let mut t = Terminal::for_card(&c, alg, "519900");
    Terminal::select_ssse(&mut c);
    assert_eq!(t.external_auth(&mut c, "UKSSSE", 0x04), 0x9000);
    // Tag other than P1: 6A80; value too long: 6A84; TLV inconsistent: 6A85.
    assert_eq!(c.transmit(&h("00DC022803 030133")), h("6A80"));
    assert_eq!(c.transmit(&h("00DC022804 02023333")), h("6A84"));
    assert_eq!(c.transmit(&h("00DC022804 02013333")), h("6A85"));
    assert_eq!(c.transmit(&h("00DC022801 02")), h("6A85"));
    assert_eq!(c.transmit(&h("00DC0228 00")), h("6700"));
    // Tags foreign to the file, or 4E on a 1.0 card: 6A80.
    assert_eq!(c.transmit(&h("00DC082803 080133")), h("6A80"));
    assert_eq!(c.transmit(&h("00DC4E3003 4E0133")), h("6A80"));
    // Adding by identifier appends; by number only at the end.
    assert_eq!(c.transmit(&h("00DC022803 020133")), h("9000"));
    assert_eq!(c.transmit(&h("00DC042C03 030131")), h("6A83"));
    assert_eq!(c.transmit(&h("00DC032C06 0304312E3030")), h("9000"));
    assert_eq!(
        c.transmit(&h("00DC032C03 020131")),
        h("6A80"),
        "02 is record 2"
    );
    assert_eq!(c.transmit(&h("00B2032C06")), h("0304312E30309000"));
    // Updating by identifier replaces.
    assert_eq!(c.transmit(&h("00DC022803 020134")), h("9000"));
    assert_eq!(c.transmit(&h("00B2022C03")), h("0201349000"));
    // Record numbers follow creation order.
    assert_eq!(c.transmit(&h("00B2022C03")), h("0201349000"));
    assert_eq!(c.transmit(&h("00B2032C06")), h("0304312E30309000"));
    assert_eq!(c.transmit(&h("00B2012C12"))[..2], [0x01, 0x10]);
    // Bad mode.
    assert_eq!(c.transmit(&h("00DC022D03 020134")), h("6A86"));
    // EF07 is not a record file... and does not exist on 1.0 cards.
    assert_eq!(c.transmit(&h("00DC023803 020134")), h("6A82"));
}

#[test]
fn read_record_modes() {
    let alg = Algorithm::Des;
    let mut c = card(alg, SpecVersion::V2);
    let mut t = Terminal::for_card(&c, alg, "519900");
    t.personalize(&mut c, SpecVersion::V2);
    c.reset();
    Terminal::select_ssse(&mut c);
    // EF05 holds 01, 02, 03, 04, 05, 06, 07 in that order.
    c.transmit(&h("00A4020002EF05"));
    let rec = |c: &mut Card, apdu: &str| -> u8 {
        let r = c.transmit(&h(apdu));
        if sw(&r) & 0xFF00 == 0x6C00 {
            let mut again = h(apdu);
            *again.last_mut().unwrap() = (sw(&r) & 0xFF) as u8;
            let r = c.transmit(&again);
            assert_eq!(sw(&r), 0x9000);
            return r[0];
        }
        panic!("unexpected {r:02X?}");
    };
    // P1 = 00 with identifier modes: any record, in order (part 3 §5.3.1).
    assert_eq!(
        rec(&mut c, "00B2000200"),
        0x01,
        "next with no current = first"
    );
    assert_eq!(rec(&mut c, "00B2000200"), 0x02);
    assert_eq!(rec(&mut c, "00B2000200"), 0x03);
    assert_eq!(rec(&mut c, "00B2000300"), 0x02, "previous");
    assert_eq!(rec(&mut c, "00B2000400"), 0x02, "current record");
    assert_eq!(rec(&mut c, "00B2000100"), 0x07, "last");
    assert_eq!(
        c.transmit(&h("00B2000200")),
        h("6A83"),
        "no next after the last"
    );
    assert_eq!(rec(&mut c, "00B2070000"), 0x07, "first with identifier 07");
    assert_eq!(rec(&mut c, "00B2070400"), 0x07, "record number 7");
    assert_eq!(c.transmit(&h("00B2080400")), h("6A83"));
    // From record 6 to the last, and from the last back to 6.
    let fwd = c.transmit(&h("00B2060500"));
    let len = (sw(&fwd) & 0xFF) as u8;
    let fwd = c.transmit(&[0x00, 0xB2, 0x06, 0x05, len]);
    assert_eq!(fwd[0], 0x06);
    assert_eq!(fwd[6], 0x07);
    let back = c.transmit(&[0x00, 0xB2, 0x06, 0x06, len]);
    assert_eq!(back[0], 0x07);
    assert_eq!(back[11], 0x06);
    // Selecting the EF again resets the record pointer.
    c.transmit(&h("00A4020002EF05"));
    assert_eq!(c.transmit(&h("00B2000400")), h("6A83"));
}

#[test]
fn transparent_files() {
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V3);
        let mut t = Terminal::for_card(&c, alg, "519900");
        Terminal::select_ssse(&mut c);
        assert_eq!(t.external_auth(&mut c, "UKSSSE", 0x04), 0x9000);
        // SFI form (P1 = 100 xxxxx) and current-EF form with a 15-bit offset.
        assert_eq!(c.transmit(&h("00D6880004 DEADBEEF")), h("9000"));
        assert_eq!(
            c.transmit(&h("00D60FFE02 AABB")),
            h("9000"),
            "EF08 now current"
        );
        assert_eq!(c.transmit(&h("00D60FFF02 AABB")), h("6700"));
        assert_eq!(c.transmit(&h("00D6100001 AA")), h("6B00"));
        assert_eq!(c.transmit(&h("00D6870003 010203")), h("9000"));
        assert_eq!(c.transmit(&h("00D68502 00")), h("6700"));
        assert_eq!(c.transmit(&h("00D6C70001 00")), h("6A86"));
        assert_eq!(
            c.transmit(&h("00D6850001 00")),
            h("6981"),
            "EF05 holds records"
        );
        // Reads need RKSSSE.
        assert_eq!(c.transmit(&h("00B0880004")), h("6982"));
        assert_eq!(t.external_auth(&mut c, "RKSSSE", 0x0A), 0x9000);
        assert_eq!(c.transmit(&h("00B0880004")), h("DEADBEEF9000"));
        assert_eq!(
            c.transmit(&h("00B00FFE00")),
            h("AABB9000"),
            "Le 00: up to the end"
        );
        assert_eq!(c.transmit(&h("00B00FFE03")), h("6C02"));
        assert_eq!(c.transmit(&h("00B0100000")), h("6B00"));
        let r = c.transmit(&h("00B0870000"));
        assert_eq!(r.len(), 258);
        assert_eq!(r[..4], h("01020300")[..]);
        assert_eq!(c.transmit(&h("00B2013C00")), h("6981"));
    }
}

#[test]
fn update_with_secure_messaging() {
    // CLA 04 (part 5 tables 40 and 43): MAC under STKSSSE (part 6 table 3).
    for alg in ALGS {
        let mut c = card(alg, SpecVersion::V3);
        let mut t = Terminal::for_card(&c, alg, "519900");
        Terminal::select_ssse(&mut c);
        assert_eq!(t.external_auth(&mut c, "UKSSSE", 0x04), 0x9000);
        assert_eq!(
            t.send_with_mac(&mut c, [0x04, 0xDC, 0x02, 0x28], &h("020133")),
            0x9000
        );
        assert_eq!(
            t.send_with_mac(&mut c, [0x04, 0xD6, 0x87, 0x00], &h("0102")),
            0x9000
        );
        Terminal::challenge(&mut c, 8);
        assert_eq!(c.transmit(&h("04DC022807 02013301020304")), h("6988"));
        assert_eq!(c.transmit(&h("00B2022C03")), h("0201339000"));
    }
}

#[test]
fn security_state_is_lost_on_reset_and_challenge_on_df_change() {
    let alg = Algorithm::Sm4;
    let mut c = card(alg, SpecVersion::V3);
    let mut t = Terminal::for_card(&c, alg, "519900");
    Terminal::select_ssse(&mut c);
    assert_eq!(t.external_auth(&mut c, "RKSSSE", 0x0A), 0x9000);
    assert_eq!(sw(&c.transmit(&h("00B0870001"))), 0x9000);
    c.reset();
    assert_eq!(
        c.transmit(&h("00B0870001")),
        h("6A82"),
        "the MF is current after reset"
    );
    Terminal::select_ssse(&mut c);
    assert_eq!(c.transmit(&h("00B0870001")), h("6982"));
    // A challenge taken at the MF does not survive entering the SSSE.
    c.transmit(&h("00A40000023F00"));
    let apdu = {
        let mut tmp = card(alg, SpecVersion::V3);
        Terminal::select_ssse(&mut tmp);
        t.ea_command(&mut tmp, "RKSSSE", 0x0A)
    };
    Terminal::challenge(&mut c, 8);
    Terminal::select_ssse(&mut c);
    assert_eq!(c.transmit(&apdu), h("6984"));
}

#[test]
fn t0_chaining_and_get_response() {
    let alg = Algorithm::Sm4;
    let mut c = card(alg, SpecVersion::V3);
    assert_eq!(c.transmit(&h("00C0000000")), h("6F00"));
    c.set_t0_chaining(true);
    assert_eq!(Terminal::select_ssse(&mut c), h("611E"));
    assert_eq!(c.transmit(&h("00C0000000")), h("6C1E"));
    assert_eq!(c.transmit(&h("00C0000020")), h("6C1E"));
    let part = c.transmit(&h("00C0000010"));
    assert_eq!(sw(&part), 0x610E);
    let rest = c.transmit(&h("00C000000E"));
    assert_eq!(sw(&rest), 0x9000);
    let mut fci = data(&part).to_vec();
    fci.extend_from_slice(data(&rest));
    assert_eq!(
        fci,
        h("6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C03860103")
    );
    assert_eq!(c.transmit(&h("00C0000008")), h("6F00"));
    // Internal authentication: 6108 then GET RESPONSE.
    let r = c.transmit(&h("0088000010 32D9E876ADB31BBFDBF7A936D0D18C9E"));
    assert_eq!(r, h("6108"));
    // Any other command drops the pending data.
    c.transmit(&h("0084000008"));
    assert_eq!(c.transmit(&h("00C0000008")), h("6F00"));
    c.transmit(&h("0088000010 32D9E876ADB31BBFDBF7A936D0D18C9E"));
    assert_eq!(sw(&c.transmit(&h("00C0000008"))), 0x9000);
    assert_eq!(c.transmit(&h("00C0010008")), h("6A86"));
}

#[test]
fn malformed_commands() {
    let mut c = card(Algorithm::Des, SpecVersion::V3);
    assert_eq!(c.transmit(&[]), h("6700"));
    assert_eq!(c.transmit(&h("00A404")), h("6700"));
    assert_eq!(c.transmit(&h("0001000000")), h("6D00"));
    assert_eq!(c.transmit(&h("00CA0000")), h("6D00"));
    assert_eq!(c.transmit(&h("B0260001 04")), h("6E00"));
    assert_eq!(c.transmit(&h("FFA40000")), h("6E00"));
    assert_eq!(
        c.transmit(&h("00A404000F 7378")),
        h("6700"),
        "Lc larger than the data"
    );
    assert_eq!(c.transmit(&h("00A4040002 7378 00 00")), h("6700"));
    assert_eq!(
        c.transmit(&h("00A4040000 00")),
        h("6700"),
        "extended length"
    );
    assert_eq!(c.transmit(&h("80A40400")), h("6E00"));
}

#[test]
fn random_apdus_never_panic() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(1);
    for alg in ALGS {
        for version in [SpecVersion::V1, SpecVersion::V2, SpecVersion::V3] {
            let mut c = card(alg, version);
            let mut t = Terminal::for_card(&c, alg, "519900");
            Terminal::select_ssse(&mut c);
            t.external_auth(&mut c, "UKSSSE", 0x04);
            t.external_auth(&mut c, "RKSSSE", 0x0A);
            let inss = [
                0xA4, 0xB2, 0xDC, 0xB0, 0xD6, 0x84, 0x82, 0x88, 0x20, 0x5E, 0x24, 0x1E, 0x16, 0xC0,
            ];
            let clas = [0x00, 0x04, 0x80, 0x84];
            for i in 0..6000 {
                let len = rng.random_range(0..40usize);
                let mut apdu: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                if apdu.len() >= 2 && i % 4 != 0 {
                    apdu[0] = clas[rng.random_range(0..clas.len())];
                    apdu[1] = inss[rng.random_range(0..inss.len())];
                }
                if apdu.len() >= 5 && i % 3 == 0 {
                    apdu[4] = (apdu.len() - 5) as u8;
                }
                let r = c.transmit(&apdu);
                assert!(r.len() >= 2);
                if i % 500 == 0 {
                    c.reset();
                    Terminal::select_ssse(&mut c);
                }
            }
        }
    }
}
