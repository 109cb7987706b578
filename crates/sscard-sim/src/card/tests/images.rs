//! Card images: JSON, validation, redaction, version 1 and its conversion; the blank and
//! personalized constructors; personalization through APDUs (\[design\] D14, D15).

use sscard_core::crypto::Pin;
use sscard_core::keys::KeyRole;
use sscard_core::profile::{Ef, Generation};
use sscard_core::tlv::simple as tlv;
use sscard_core::Algorithm;

use crate::card::SimCard;
use crate::error::SimError;
use crate::image::{CardImage, HexBytes};
use crate::test_support::*;

#[test]
fn json_round_trip_and_redaction() {
    let t = Terminal::personalized(Generation::V3, Algorithm::Sm4);
    let json = t.card.save_json().unwrap();
    assert!(json.contains("\"format\": \"sscard-card-image\""));
    assert!(json.contains("\"version\": 2"));
    let back = CardImage::from_json(&json).unwrap();
    assert_eq!(&back, t.card.image());
    let debug = format!("{:?}", t.card);
    let irk = hex::encode_upper(t.card_key(KeyRole::Irk).expose_bytes());
    assert!(json.contains(&irk));
    assert!(!debug.contains(&irk), "keys never in Debug");
    assert!(debug.contains("REDACTED"));
    assert!(!debug.contains("123456"), "nor the PIN");
    // files on disk: 0600
    let dir = std::env::temp_dir().join(format!("sscard-sim-image-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("card.json");
    t.card.save(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(SimCard::load(&path).unwrap().image(), t.card.image());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_images_are_refused() {
    let t = Terminal::personalized(Generation::V2, Algorithm::Tdes);
    let good = t.card.image().clone();
    let check = |f: &dyn Fn(&mut CardImage)| {
        let mut image = good.clone();
        f(&mut image);
        image.validate().unwrap_err()
    };
    assert!(matches!(
        check(&|i| i.version = 3),
        SimError::Unsupported { .. }
    ));
    assert!(matches!(
        check(&|i| i.historical_bytes.0.pop().map(|_| ()).unwrap_or(())),
        SimError::InvalidImage(_)
    ));
    check(&|i| i.historical_bytes.0[7] = 0x11);
    check(&|i| i.ef05.push(HexBytes(tlv(0x02, b"3"))));
    check(&|i| i.ef05.push(HexBytes(tlv(0x08, b"3"))));
    check(&|i| i.ef05.push(HexBytes(vec![0x02, 0x05, 0x33])));
    check(&|i| i.ef05[0] = HexBytes(tlv(0x01, &[0; 17])));
    check(&|i| i.ef07 = None);
    check(&|i| i.ef08 = Some(HexBytes(vec![0; 0x1001])));
    check(&|i| i.pin.value = crate::image::SecretBytes::from_slice(&[0x12, 0xFF]));
    check(&|i| i.pin.tries_left = 4);
    check(&|i| i.pin.max_tries = 0);
    check(&|i| {
        i.keys.get_mut("STKSSSE").unwrap().value = crate::image::SecretBytes::from_slice(&[0; 16])
    });
    check(&|i| {
        let k = i.keys.remove("IRK").unwrap();
        i.keys.insert("DPK".into(), k);
    });
    // 1.0 cards: no EF07/EF08, no 4E
    let v1 = Terminal::new(Generation::V1, Algorithm::Tdes)
        .card
        .image()
        .clone();
    assert!(v1.ef07.is_none());
    let mut bad = v1.clone();
    bad.ef07 = Some(HexBytes::default());
    assert!(bad.validate().is_err());
    let mut bad = v1;
    bad.ef06.push(HexBytes(tlv(0x4E, &[0; 20])));
    assert!(bad.validate().is_err());
    // not JSON, other formats
    assert!(matches!(CardImage::from_json("{"), Err(SimError::Json(_))));
    assert!(matches!(
        CardImage::from_json(r#"{"format":"sscard-psam-image","version":2}"#),
        Err(SimError::Unsupported { .. })
    ));
}

/// A version-1 image as sscard wrote it before the specification protocol.
fn v1_json(app_state: &str, records: &str, pin: &str) -> String {
    format!(
        r#"{{
  "format": 1, "generation": "2.0", "algorithm": "sm4", "chip_serial": "12345678",
  "region": "440305",
  "keys": {{ "00": "00112233445566778899AABBCCDDEEFF" }},
  "files": {{ "Ef05": [{records}], "Ef06": ["0812{zero18}", "4E14{zero20}"], "Ef0d": ["0101AA"] }},
  "app_state": "{app_state}", "block_state": "temporary", "card_blocked": false,
  "pin": {pin},
  "options": {{ "t0_mode": true, "all_records_mode": true, "pin_max_tries": 3 }}
}}"#,
        zero18 = "00".repeat(18),
        zero20 = "00".repeat(20),
    )
}

#[test]
fn version_one_images_are_refused_then_converted() {
    let json = v1_json(
        "activated",
        r#""0110440305D15600000512345678AABBCCDD", "020133""#,
        r#"{ "bcd": "13579F", "tries_left": 2, "max_tries": 3, "initial": false }"#,
    );
    let err = CardImage::from_json(&json).unwrap_err();
    assert!(matches!(err, SimError::VersionOne));
    assert!(err.to_string().contains("convert_v1"));
    let image = CardImage::convert_v1(&json, &keys()).unwrap();
    assert_eq!(image.generation, Generation::V2);
    assert_eq!(image.algorithm, Algorithm::Sm4);
    assert!(image.t0);
    assert_eq!(image.region.as_str(), "440305");
    // the ATR: old T1-T7, the region, the old chip serial
    assert_eq!(
        hex::encode_upper(&image.historical_bytes.0),
        "00815353434152440312345678"
    );
    assert_eq!(
        image.card_id().unwrap(),
        &h("440305D15600000512345678AABBCCDD")[..]
    );
    assert_eq!(image.record_value(Ef::Ef05, 2), Some(&b"3"[..]));
    assert_eq!(
        image.ef06.len(),
        2,
        "an activated card keeps its zero records"
    );
    assert_eq!(image.pin.value.expose(), [0x13, 0x57, 0x9F]);
    assert_eq!(image.pin.tries_left, 2);
    assert!(
        image.ssse_blocked,
        "the specification has only the permanent block"
    );
    // keys derived anew for the new card factor; the card works with a spec terminal
    let mut card = SimCard::from_image(image.clone()).unwrap();
    let (_, sw) = split(card.handle(&h("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")));
    assert_eq!(sw, 0x9303);
    let mut unblocked = image;
    unblocked.ssse_blocked = false;
    let mut t = Terminal {
        card: SimCard::from_image(unblocked.clone()).unwrap(),
        alg: Algorithm::Sm4,
        spec: crate::spec::CardSpec::new(
            Generation::V2,
            Algorithm::Sm4,
            unblocked.region,
            [0x12, 0x34, 0x56, 0x78],
        )
        .with_historical([0x00, 0x81], [0x53, 0x53, 0x43], [0x41, 0x52]),
        keys: keys(),
    };
    t.select();
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    assert_eq!(t.verify("13579"), 0x9000);
}

#[test]
fn converting_a_blank_version_one_card() {
    let json = v1_json(
        "blank",
        &format!(r#""0110{}", "020100""#, "00".repeat(16)),
        "null",
    );
    let image = CardImage::convert_v1(&json, &keys()).unwrap();
    assert_eq!(image.ef05.len(), 1, "placeholders dropped");
    assert_eq!(image.ef06.len(), 0);
    assert_eq!(
        image.card_id().unwrap(),
        &h("440305D1560000051234567800000000")[..]
    );
    assert!(image.pin.value.is_empty());
    // not a version-1 image
    assert!(CardImage::convert_v1("{\"format\":\"sscard-card-image\"}", &keys()).is_err());
    // a record the generation does not have
    let bad = v1_json(
        "activated",
        r#""0110440305D15600000512345678AABBCCDD", "4E0100""#,
        "null",
    );
    assert!(CardImage::convert_v1(&bad, &keys()).is_err());
}

#[test]
fn blank_and_personalized_constructors() {
    let keys = keys();
    let image = CardImage::blank(&spec(Generation::V3, Algorithm::Tdes), &keys).unwrap();
    assert_eq!(image.keys.len(), 6);
    assert_eq!(
        image.key(KeyRole::Stkssse).unwrap().value.len(),
        8,
        "single DES on 3DES cards"
    );
    assert_eq!(image.ef05.len(), 1);
    assert!(image.pin.value.is_empty());
    // records sorted into table 9 order, whatever the order given
    let mut records = sample_records(Generation::V2);
    records.reverse();
    let image = CardImage::personalized(
        &spec(Generation::V2, Algorithm::Sm4),
        &keys,
        &records,
        &Pin::initial(),
    )
    .unwrap();
    let tags: Vec<u8> = image.ef06.iter().map(|r| r.0[0]).collect();
    assert_eq!(tags, [0x08, 0x09, 0x4E, 0x0A, 0x0B, 0x0C, 0x0D]);
    // refusals
    let s = spec(Generation::V1, Algorithm::Tdes);
    assert!(CardImage::personalized(&s, &keys, &[(0x4E, vec![0; 20])], &Pin::initial()).is_err());
    assert!(CardImage::personalized(&s, &keys, &[(0x01, vec![0; 16])], &Pin::initial()).is_err());
    assert!(CardImage::personalized(&s, &keys, &[(0x07, vec![0; 10])], &Pin::initial()).is_err());
    assert!(CardImage::personalized(
        &s,
        &keys,
        &[(0x02, vec![1]), (0x02, vec![1])],
        &Pin::initial()
    )
    .is_err());
    let empty = sscard_core::keys::RootKeys::new();
    assert!(matches!(
        CardImage::blank(&s, &empty),
        Err(SimError::Keys(_))
    ));
}

#[test]
fn personalization_through_apdus_then_the_field_read() {
    // [design] D15: UKSSSE, UPDATE RECORD of every item by identifier, then PIN RELOAD 123456
    for generation in Generation::ALL {
        let alg = if generation == Generation::V1 {
            Algorithm::Tdes
        } else {
            Algorithm::Sm4
        };
        let mut t = Terminal::new(generation, alg);
        t.select();
        assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
        for (tag, value) in sample_records(generation) {
            let sfi = if tag < 0x08 { 5 } else { 6 };
            let apdu = with_lc([0x00, 0xDC, tag, sfi << 3], &tlv(tag, &value));
            assert_eq!(t.raw(&apdu).1, 0x9000, "{generation} tag {tag:02X}");
        }
        assert_eq!(t.reload("123456"), 0x9000);
        // the same card as the one-step constructor
        let direct = Terminal::personalized(generation, alg);
        assert_eq!(t.card.image().ef05, direct.card.image().ef05);
        let mut ef06 = t.card.image().ef06.clone();
        ef06.sort_by_key(|r| sscard_core::profile::record_number(generation, Ef::Ef06, r.0[0]));
        assert_eq!(ef06, direct.card.image().ef06);
        assert_eq!(t.card.image().pin, direct.card.image().pin);
        // the validity check of part 7 §5.4 and the reads
        t.card.reset();
        t.select();
        let (_, sw) = t.hex("008800001032D9E876ADB31BBFDBF7A936D0D18C9E");
        assert_eq!(sw, 0x6108);
        t.hex("00C0000008");
        assert_eq!(t.sw("0020000000"), 0x63C3);
        for tag in 1..=7u8 {
            assert_eq!(t.read_tag(5, tag).1, 0x9000);
        }
        if generation.needs_read_key() {
            assert_eq!(t.read_tag(6, 0x08).1, 0x6982);
            assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
        }
        assert_eq!(t.read_tag(6, 0x09).1, 0x9000);
    }
}
