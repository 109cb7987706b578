//! The data areas at the APDU level: selection by AID and file identifier, the read rules
//! (free, PIN, key, PIN or key, PIN and key), writes with the update keys, cyclic files,
//! transparent files, regional extensions, the card OS's own appends.

use sscard_core::keys::KeyRole;
use sscard_core::profile::areas::{Extensions, FileId};
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::areas::{DataAreas, FileContent};
use crate::test_support::{h, with_lc, Terminal};

const DF01: &str = "D15600000500";
const DF02: &str = "D15600000501";
const DF04: &str = "D15600000503";

fn terminal(alg: Algorithm, areas: DataAreas) -> Terminal {
    let spec = crate::test_support::spec(Generation::V3, alg).with_data_areas(areas);
    let mut t = Terminal::with_spec(spec);
    // a personalized card has a PIN: the PIN rules are then not met until VERIFY
    t.select();
    assert_eq!(t.reload("123456"), 0x9000);
    t
}

impl Terminal {
    /// SELECT of a DF by name (hex), through GET RESPONSE: status word and FCI.
    fn select_name(&mut self, name: &str) -> (Vec<u8>, u16) {
        let apdu = with_lc([0x00, 0xA4, 0x04, 0x00], &h(name));
        self.send(&apdu)
    }

    /// GET CHALLENGE + EXTERNAL AUTHENTICATION with an area key (its DF selected).
    fn area_auth(&mut self, role: KeyRole) -> u16 {
        self.authenticate(role)
    }

    /// UPDATE RECORD by identifier (first occurrence) of SIMPLE-TLV `tag ‖ value` in SFI `sfi`.
    fn update(&mut self, sfi: u8, tag: u8, value: &[u8], mode: u8) -> u16 {
        let mut tlv = vec![tag, value.len() as u8];
        tlv.extend_from_slice(value);
        self.raw(&with_lc([0x00, 0xDC, tag, (sfi << 3) | mode], &tlv))
            .1
    }

    /// Appends a cyclic record (P1 `00`, P2 mode `011`).
    fn append(&mut self, sfi: u8, record: &[u8]) -> u16 {
        self.raw(&with_lc([0x00, 0xDC, 0x00, (sfi << 3) | 0b011], record))
            .1
    }

    /// READ RECORD by number with Le `len`.
    fn read_number(&mut self, sfi: u8, n: u8, len: u8) -> (Vec<u8>, u16) {
        self.raw(&[0x00, 0xB2, n, (sfi << 3) | 0b100, len])
    }
}

#[test]
fn areas_are_selected_by_aid_and_by_file_identifier() {
    let mut t = terminal(Algorithm::Sm4, DataAreas::national());
    for (aid, fid) in [
        (DF01, "DF01"),
        ("D15600000501", "DF02"),
        ("D15600000502", "DF03"),
        (DF04, "DF04"),
        ("D15600000504", "DF07"),
    ] {
        let (fci, sw) = t.select_name(aid);
        assert_eq!(sw, 0x9000, "{aid}");
        // part 5 table 38: 6F { 84 <DF name> }
        assert_eq!(fci, h(&format!("6F08 8406 {aid}")));
        let (fci, sw) = t.send(&h(&format!("00A4000002{fid}")));
        assert_eq!((fci, sw), (h(&format!("6F08 8406 {aid}")), 0x9000));
    }
    // DF05 of appendix B only when asked for; unknown DFs and AIDs are 6A82
    assert_eq!(t.sw("00A4000002DF05"), 0x6A82);
    assert_eq!(t.select_name("D15600000509").1, 0x6A82);
    let mut t = terminal(Algorithm::Sm4, DataAreas::national().with_health());
    // "生命与健康信息区" in GBK (appendix B table B1's label)
    assert_eq!(t.select_name("C9FAC3FCD3EBBDA1BFB5D0C5CFA2C7F8").1, 0x9000);
    // a card made without data areas has none
    let mut plain = Terminal::new(Generation::V2, Algorithm::Sm4);
    assert_eq!(plain.select_name(DF01).1, 0x6A82);
    assert_eq!(plain.sw("00A4000002DF01"), 0x6A82);
}

#[test]
fn pin_or_key_reads_and_update_key_writes() {
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut t = terminal(alg, DataAreas::national());
        t.select_name(DF01);
        // DF01 EF05 is PIN or RK1DF01 to read, UK1DF01 to write
        assert_eq!(t.update(5, 0x20, b"11", 0), 0x6982, "no UK1DF01 yet");
        assert_eq!(t.area_auth(KeyRole::Uk2Df01), 0x9000);
        assert_eq!(
            t.update(5, 0x20, b"11", 0),
            0x6982,
            "UK2DF01 is not EF05's key"
        );
        assert_eq!(t.area_auth(KeyRole::Uk1Df01), 0x9000);
        assert_eq!(t.update(5, 0x20, b"11", 0), 0x9000);
        // a record added: READ needs the PIN or RK1DF01
        assert_eq!(t.read_tag(5, 0x20).1, 0x6982);
        assert_eq!(t.verify("123456"), 0x9000, "VERIFY inside DF01");
        assert_eq!(t.read_tag(5, 0x20), (h("200231 31"), 0x9000));
        // the key alternative, after a reset
        t.card.reset();
        t.select_name(DF01);
        assert_eq!(t.read_tag(5, 0x20).1, 0x6982);
        assert_eq!(t.area_auth(KeyRole::Rk1Df01), 0x9000);
        assert_eq!(t.read_tag(5, 0x20).1, 0x9000);
        // another DF drops DF01's security state; SSSE's keys are not DF01's
        t.select_name(DF02);
        t.select_name(DF01);
        assert_eq!(t.read_tag(5, 0x20).1, 0x6982);
        // SSSE's key ids mean nothing in DF01
        let challenge = t.challenge(8);
        let apdu = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [1; 8]);
        assert_eq!(t.raw(&apdu).1, 0x6A88);
    }
}

#[test]
fn pin_and_key_needs_both_and_internal_files_take_no_writes() {
    let mut t = terminal(Algorithm::Sm4, DataAreas::national());
    t.select_name(DF04);
    assert_eq!(t.area_auth(KeyRole::Uk2Df04), 0x9000);
    assert_eq!(t.update(6, 0x90, b"1", 0), 0x9000);
    // DF04 EF06: PIN & RK1DF04
    assert_eq!(t.read_tag(6, 0x90).1, 0x6982);
    assert_eq!(t.area_auth(KeyRole::Rk1Df04), 0x9000);
    assert_eq!(t.read_tag(6, 0x90).1, 0x6982, "the key alone");
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.read_tag(6, 0x90), (h("9001 31"), 0x9000));
    // DF04 EF08: written by the card OS only, read with the PIN
    assert_eq!(t.append(8, &[0u8; 0x1C]), 0x6982);
    let record = h("0001 31 639900000042 20240301120000 00000064 00000000 00000000");
    t.card
        .card_os_append(FileId::area(0xDF04, 0xEF08), &record)
        .unwrap();
    t.select_name(DF04);
    assert_eq!(t.read_number(8, 1, 0x1C), (record, 0x9000));
}

#[test]
fn cyclic_files_keep_the_newest_records() {
    let mut t = terminal(Algorithm::Tdes, DataAreas::national());
    t.select_name(DF02);
    assert_eq!(t.area_auth(KeyRole::Uk3Df02), 0x9000);
    let record = |n: u8| {
        let mut r = vec![n; 0x55];
        r[0] = b'0' + n;
        r
    };
    for n in 1..=6 {
        assert_eq!(t.append(7, &record(n)), 0x9000);
    }
    assert_eq!(t.verify("123456"), 0x9000);
    // four records kept (the notice's minimum), record 1 the newest
    for (number, n) in [(1, 6), (2, 5), (3, 4), (4, 3)] {
        assert_eq!(t.read_number(7, number, 0x55), (record(n), 0x9000));
    }
    assert_eq!(t.read_number(7, 5, 0x55).1, 0x6A83);
    // only appending: no update by number, no record of another length
    assert_eq!(
        t.raw(&with_lc([0x00, 0xDC, 0x01, (7 << 3) | 4], &record(9)))
            .1,
        0x6981
    );
    assert_eq!(t.append(7, &[1; 0x54]), 0x6700);
    // more records on a card declared with more (§6)
    let areas = DataAreas::national().with_capacity(FileId::area(0xDF02, 0xEF07), 10);
    let mut t = terminal(Algorithm::Tdes, areas);
    t.select_name(DF02);
    assert_eq!(t.area_auth(KeyRole::Uk3Df02), 0x9000);
    for n in 1..=6 {
        assert_eq!(t.append(7, &record(n)), 0x9000);
    }
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.read_number(7, 6, 0x55), (record(1), 0x9000));
}

#[test]
fn multiple_occurrences_and_item_checks() {
    let mut t = terminal(Algorithm::Sm4, DataAreas::national());
    t.select_name(DF01);
    assert_eq!(t.area_auth(KeyRole::Uk6Df01), 0x9000);
    assert_eq!(t.verify("123456"), 0x9000);
    let degree = |n: u8| {
        let mut v = h("5703 343031 5803 080901 5928");
        v.extend(vec![n; 0x28]);
        v
    };
    // 40 occurs three times: first, then next after it, then next after that
    assert_eq!(t.update(0x15, 0x40, &degree(1), 0b000), 0x9000);
    assert_eq!(t.update(0x15, 0x40, &degree(2), 0b010), 0x9000);
    assert_eq!(t.update(0x15, 0x40, &degree(3), 0b010), 0x9000);
    assert_eq!(t.update(0x15, 0x40, &degree(4), 0b010), 0x6A84, "a fourth");
    let (first, sw) = t.read_tag(0x15, 0x40);
    assert_eq!(sw, 0x9000);
    assert_eq!(&first[2..], &degree(1)[..]);
    let (second, _) = t.raw(&[0x00, 0xB2, 0x40, (0x15 << 3) | 0b010, 0x36]);
    assert_eq!(&second[2..], &degree(2)[..]);
    // wrong tag, too long, two TLVs, tag not P1
    assert_eq!(t.update(0x15, 0x41, b"1", 0), 0x6A80);
    assert_eq!(t.update(0x15, 0x2A, &[0x11, 0x11], 0), 0x6A84);
    assert_eq!(
        t.raw(&with_lc([0x00, 0xDC, 0x2A, 0x15 << 3], &h("2A0111 2A0111")))
            .1,
        0x6A85
    );
    assert_eq!(
        t.raw(&with_lc([0x00, 0xDC, 0x2A, 0x15 << 3], &h("400111")))
            .1,
        0x6A80
    );
}

#[test]
fn transparent_reserved_files() {
    let mut t = terminal(Algorithm::Sm4, DataAreas::national());
    t.select_name(DF01);
    // DF01 EF16: free to read, UK7DF01 to write, 0x128 bytes
    let (data, sw) = t.raw(&h("00B0960000"));
    assert_eq!((data.len(), sw), (256, 0x9000));
    assert_eq!(t.sw("00D6960003AABBCC"), 0x6982);
    assert_eq!(t.area_auth(KeyRole::Uk7Df01), 0x9000);
    assert_eq!(t.sw("00D6960003AABBCC"), 0x9000);
    assert_eq!(t.hex("00B0960003"), (h("AABBCC"), 0x9000));
    assert_eq!(t.sw("00A4020002EF16"), 0x9000);
    assert_eq!(
        t.hex("00B0012628").1,
        0x6C02,
        "0x128 bytes: 2 left at 0x126"
    );
    assert_eq!(t.sw("00D6012803AABBCC"), 0x6B00);
}

#[test]
fn regional_extensions_declared_in_the_image() {
    let ext: Extensions = serde_json::from_str(
        r#"{
        "dfs": [ { "df": "DF0A", "df_name": "D1560000050A", "name": "本地应用" } ],
        "files": [
          { "file": "DF0AEF05", "name": "本地信息", "structure": { "kind": "variable" },
            "read": "PIN", "write": "UK1DF01",
            "items": [ { "tag": "01", "name": "local", "format": "an", "len": 4 } ] },
          { "file": "DF02EF0C", "name": "本地记录",
            "structure": { "kind": "cyclic", "record_len": 4, "min_records": 5 },
            "read": "free", "write": "UK3DF02",
            "items": [ { "name": "date", "format": "cn", "len": 4 } ] } ]
    }"#,
    )
    .unwrap();
    let mut t = terminal(Algorithm::Sm4, DataAreas::national().with_extensions(ext));
    let (fci, sw) = t.select_name("D1560000050A");
    assert_eq!((fci, sw), (h("6F08 8406 D1560000050A"), 0x9000));
    assert_eq!(t.area_auth(KeyRole::Uk1Df01), 0x9000);
    assert_eq!(t.update(5, 0x01, b"0001", 0), 0x9000);
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.read_tag(5, 0x01), (h("0104 30303031"), 0x9000));
    t.select_name(DF02);
    assert_eq!(t.area_auth(KeyRole::Uk3Df02), 0x9000);
    assert_eq!(t.append(0x0C, &h("20240101")), 0x9000);
    assert_eq!(t.read_number(0x0C, 1, 4), (h("20240101"), 0x9000));
    // the image keeps the declaration and reloads
    let json = t.card.save_json().unwrap();
    let again = crate::SimCard::load_json(&json).unwrap();
    assert!(matches!(
        again.image().area(sscard_core::profile::areas::DfId::Df(0xDF02)).unwrap().file(0xEF0C),
        Some(FileContent::Cyclic { capacity: 5, records }) if records.len() == 1
    ));
}

#[test]
fn a_blocked_ssse_blocks_its_areas() {
    let mut t = terminal(Algorithm::Sm4, DataAreas::national());
    t.select();
    assert_eq!(t.authenticate(KeyRole::Bk), 0x9000);
    assert_eq!(t.maintenance([0x84, 0x1E, 0x00, 0x01], &[]), 0x9000);
    assert_eq!(t.select_name(DF01).1, 0x9303);
    assert_eq!(t.sw("00B2010400"), 0x9303);
}

#[test]
fn images_with_bad_area_contents_are_refused() {
    let t = terminal(Algorithm::Sm4, DataAreas::national());
    let image = t.card.image().clone();
    let mut v: serde_json::Value = serde_json::from_str(&image.to_json().unwrap()).unwrap();
    let refused = |v: &serde_json::Value| {
        crate::CardImage::from_json(&v.to_string())
            .unwrap_err()
            .to_string()
    };
    let mut bad = v.clone();
    bad["areas"]["DF01"]["files"]["EF05"] = serde_json::json!(["2003313131"]);
    assert!(refused(&bad).contains("DF01EF05: tag 20: 3 bytes, the item has 2"));
    let mut bad = v.clone();
    bad["areas"]["DF02"]["files"]["EF07"] = serde_json::json!({"capacity": 2, "records": []});
    assert!(refused(&bad).contains("at least 4"));
    let mut bad = v.clone();
    bad["areas"]["DF09"] = serde_json::json!({"files": {}});
    assert!(refused(&bad).contains("DF09"));
    // an appendix C record (1.0 length ending in EE) is a valid content
    v["areas"]["DF01"]["files"]["EF09"] = serde_json::json!(["32033131EE"]);
    assert!(crate::CardImage::from_json(&v.to_string()).is_ok());
}
