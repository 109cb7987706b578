//! APDU, T=0, TLV, data item and HSM string helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cleanroom_terminal::apdu::{
    self, apdu_case, exchange_t0, parse_tlvs, to_t0_tpdu, ApduCase, Response,
};
use cleanroom_terminal::terminal::parse_ssse_fci;
use cleanroom_terminal::{data, hsm, Algorithm, CardContext, KeyRole, ReaderError, TerminalError};
use common::{h, up};

#[test]
fn responses() {
    let r = Response::parse(&h("01029000")).unwrap();
    assert_eq!(r.data, h("0102"));
    assert!(r.is_ok());
    assert_eq!((r.sw1(), r.sw2()), (0x90, 0x00));
    assert!(Response::parse(&[]).is_err());
    assert!(Response::parse(&[0x90]).is_err());
    assert_eq!(Response::parse(&h("63C1")).unwrap().sw, 0x63C1);
}

#[test]
fn command_building_and_cases() {
    assert_eq!(
        up(&apdu::command(0, 0x84, 0, 0, &[], Some(8)).unwrap()),
        "0084000008"
    );
    assert_eq!(
        up(&apdu::command(0, 0xA4, 2, 0, &[0xEF, 5], Some(0)).unwrap()),
        "00A4020002EF0500"
    );
    assert!(apdu::command(0, 0xDC, 1, 0, &[0; 256], None).is_err());
    assert_eq!(apdu_case(&h("00A40400")), Some(ApduCase::One));
    assert_eq!(apdu_case(&h("0084000008")), Some(ApduCase::Two));
    assert_eq!(apdu_case(&h("0082000A02AABB")), Some(ApduCase::Three));
    assert_eq!(apdu_case(&h("00A4020002EF0500")), Some(ApduCase::Four));
    assert_eq!(apdu_case(&h("00A4020002EF050000")), None);
    assert_eq!(apdu_case(&h("00A4")), None);
    // Part 2 §9.3.1: the T=0 forms.
    assert_eq!(up(&to_t0_tpdu(&h("00A4020002EF0500"))), "00A4020002EF05");
    assert_eq!(up(&to_t0_tpdu(&h("00A40400"))), "00A4040000");
    assert_eq!(up(&to_t0_tpdu(&h("00B2010012"))), "00B2010012");
    assert_eq!(up(&to_t0_tpdu(&h("0082000A02AABB"))), "0082000A02AABB");
}

/// Part 2 §9.3.2: 61xx → GET RESPONSE, 6Cxx → resend with P3 = xx.
#[test]
fn t0_procedure_bytes() {
    let mut sent = Vec::new();
    let out = exchange_t0(&h("0088000010 00112233445566778899AABBCCDDEEFF 00"), |c| {
        sent.push(up(c));
        Ok(match sent.len() {
            1 => h("6108"),
            _ => h("F4A0CF965BDCEA309000"),
        })
    })
    .unwrap();
    assert_eq!(up(&out), "F4A0CF965BDCEA309000");
    assert_eq!(sent[1], "00C0000008");

    let mut sent = Vec::new();
    let out = exchange_t0(&h("00B2010000"), |c| {
        sent.push(up(c));
        Ok(match sent.len() {
            1 => h("6C12"),
            _ => h("0110519900D15600000510000B26FFFFFFFF9000"),
        })
    })
    .unwrap();
    assert_eq!(sent, ["00B2010000", "00B2010012"]);
    assert_eq!(out.len(), 20);

    // Chained 61xx: data accumulated; a 6Cxx on GET RESPONSE resends it with the new length.
    let mut n = 0;
    let out = exchange_t0(&h("00A404000F7378312E73682EC9E7BBE1B1A3D5CF00"), |c| {
        n += 1;
        Ok(match n {
            1 => h("6110"),
            2 => {
                assert_eq!(up(c), "00C0000010");
                h("6C04")
            }
            3 => {
                assert_eq!(up(c), "00C0000004");
                h("AABB6102")
            }
            _ => h("CCDD9000"),
        })
    })
    .unwrap();
    assert_eq!(up(&out), "AABBCCDD9000");

    // 6Cxx to a command without Le is passed up as it is; endless 61xx stops.
    assert_eq!(
        exchange_t0(&h("0082000A02AABB"), |_| Ok(h("6C08"))).unwrap(),
        h("6C08")
    );
    assert!(exchange_t0(&h("0084000008"), |_| Ok(h("6100"))).is_err());
    assert_eq!(
        exchange_t0(&h("0084000008"), |_| Ok(vec![0x90])).unwrap(),
        vec![0x90]
    );
    assert_eq!(
        exchange_t0(&h("0084000008"), |_| Err(ReaderError::NoCard)),
        Err(ReaderError::NoCard)
    );
}

#[test]
fn tlv_and_fci() {
    let fci = h("6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C03860103");
    let tlvs = parse_tlvs(&fci).unwrap();
    assert_eq!(tlvs.len(), 1);
    assert_eq!(tlvs[0].tag, [0x6F]);
    let parsed = parse_ssse_fci(&fci).unwrap();
    assert_eq!(parsed.algorithm, Algorithm::Sm4);
    assert_eq!(parsed.issuer_data, Some(h("860103")));
    assert_eq!(parse_tlvs(&h("9F0C03860101")).unwrap()[0].tag, [0x9F, 0x0C]);
    assert_eq!(parse_tlvs(&h("5381020102")).unwrap()[0].value, h("0102"));
    for bad in ["6F", "6F05", "9F", "6F8301", "6F8102AA"] {
        assert!(parse_tlvs(&h(bad)).is_err(), "{bad}");
    }
    // Unknown algorithm identifier; 86 empty; no A5.
    assert_eq!(
        parse_ssse_fci(&h("6F0B8401AAA5069F0C03860109")).unwrap_err(),
        TerminalError::UnsupportedAlgorithm(9)
    );
    assert!(parse_ssse_fci(&h("6F0A8401AAA5059F0C028600")).is_err());
    assert!(parse_ssse_fci(&h("6F038401AA")).is_err());
    // No 9F0C: default DES (before the region check of RI §10.1).
    assert!(parse_ssse_fci(&h("6F068401AAA50188")).is_err());
    let f = parse_ssse_fci(&h("6F088401AAA50388011E")).unwrap();
    assert_eq!((f.algorithm_code, f.dir_sfi), (None, Some(0x1E)));
}

/// V2.0 table 9 and §7 padding.
#[test]
fn data_items() {
    assert_eq!(
        data::SSSE_ITEMS.iter().filter(|s| s.file == 0x05).count(),
        7
    );
    assert_eq!(data::item_spec(0x4E).unwrap().len, 0x14);
    assert_eq!(data::item_spec(0x09).unwrap().len, 0x1E);
    assert!(data::item_spec(0x20).is_none());
    assert_eq!(
        up(&data::pad_value(0x07, b"HA104").unwrap()),
        "484131303400000000"
    );
    assert_eq!(up(&data::pad_value(0x0D, &h("2016")).unwrap()), "2016FFFF");
    assert!(data::pad_value(0x02, b"12").is_err());
    assert!(data::pad_value(0x99, b"1").is_err());
    assert_eq!(up(&data::pack_cn("12345").unwrap()), "12345F");
    assert_eq!(up(&data::pack_cn("").unwrap()), "");
    assert!(data::pack_cn("12a").is_err());
    assert_eq!(up(&data::encode_text(0x0C, "510122").unwrap()), "510122");
    assert_eq!(up(&data::encode_text(0x0B, "1").unwrap()), "1F");
    assert_eq!(
        up(&data::encode_text(0x09, "张三").unwrap()[..6]),
        "D5C5C8FD0000"
    );
    assert_eq!(data::decode_cn(&h("20161022")), "20161022");
    assert_eq!(data::decode_cn(&h("12345FFF")), "12345");
    assert_eq!(data::decode_an(&h("D5C5C8FD000000")), "张三");
    assert_eq!(data::major_version("3.00"), Some(3));
    assert_eq!(data::major_version("2.01"), Some(2));
    assert_eq!(data::major_version(""), Some(1));
    assert_eq!(data::major_version("\0\0\0\0"), Some(1));
    assert_eq!(data::major_version("abc"), None);
}

#[test]
fn hsm_strings() {
    let ctx = CardContext {
        algorithm: Algorithm::Sm4,
        region: "519900".into(),
        atr: h(common::TRACE_ATR),
        card_id: h("519900D15600000510000B26FFFFFFFF"),
    };
    assert_eq!(
        hsm::basic_read_request(&ctx, &h("0102030405060708"), &h("1112131415161718"), None, Some("1".repeat(32).as_str())),
        format!("519900|3B6D000000814A444686605199000001AC|03|519900D15600000510000B26FFFFFFFF|0102030405060708|1112131415161718|||{}|", "1".repeat(32))
    );
    assert_eq!(
        hsm::auth_request(Algorithm::Des, KeyRole::UkSsse, &h("01"), &h("02")),
        "01|0094|01|02|"
    );
    assert_eq!(
        hsm::secure_message_request(
            Algorithm::Sm4,
            KeyRole::StkSsse,
            &h("AA"),
            &h("8424000004").try_into().unwrap(),
            ""
        ),
        "03|0173|AA|8424000004||"
    );
    let (ia, ea) = hsm::parse_basic_read_answer("F4A0CF965BDCEA30DBF7A936D0D18C9E||").unwrap();
    assert_eq!(up(&ia.0), "F4A0CF965BDCEA30");
    assert!(ea.is_none());
    assert!(hsm::parse_auth_answer("F4A0").is_err());
    assert!(hsm::parse_auth_answer("G4A0CF965BDCEA30DBF7A936D0D18C9E").is_err());
    assert!(hsm::parse_auth_answer("白白白白白白白白白白白").is_err());
    for role in KeyRole::all() {
        assert_eq!(role.to_string(), role.name());
    }
}
