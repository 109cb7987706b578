//! READ RECORD and UPDATE RECORD (part 5 §6.10, §6.13; part 3 §5.3; \[design\] D11, D13, D14,
//! D16).

use sscard_core::keys::KeyRole;
use sscard_core::profile::{Ef, Generation};
use sscard_core::tlv::simple as tlv;
use sscard_core::Algorithm;

use crate::test_support::*;

/// P2 of READ/UPDATE RECORD: SFI and mode.
fn p2(sfi: u8, mode: u8) -> u8 {
    (sfi << 3) | mode
}

#[test]
fn the_field_trace_reads_of_a_personalized_card() {
    let mut t = Terminal::personalized(Generation::V3, Algorithm::Sm4);
    t.select();
    assert_eq!(t.sw("00A4020002EF05"), 0x9000);
    let (data, sw) = t.hex("00B2010012");
    assert_eq!(
        (hex::encode_upper(data), sw),
        ("0110519900D15600000510000B26FFFFFFFF".into(), 0x9000)
    );
    let (data, sw) = t.hex("00B2030006");
    assert_eq!((data, sw), (h("0304332E3030"), 0x9000));
    let (data, sw) = t.hex("00B207000B");
    assert_eq!((data, sw), (h("07094841313034363932 34"), 0x9000));
    // EF06 of a 3.0 card needs RKSSSE
    assert_eq!(t.sw("00A4020002EF06"), 0x9000);
    assert_eq!(t.sw("00B2080014"), 0x6982);
    assert_eq!(t.authenticate(KeyRole::Rkssse), 0x9000);
    // the EF stays current through the authentication
    let (data, sw) = t.hex("00B2080014");
    assert_eq!(
        (data, sw),
        (h("0812 353132303132323230313631303232353133"), 0x9000)
    );
    let (data, sw) = t.hex("00B2090020");
    assert_eq!(
        (hex::encode_upper(&data[..8]), sw),
        ("091EB0D7D5DCD3EE".into(), 0x9000)
    );
    let (data, sw) = t.hex("00B24E0016");
    assert_eq!(
        (data.len(), data[..2].to_vec(), sw),
        (22, vec![0x4E, 0x14], 0x9000)
    );
}

#[test]
fn blank_card_has_only_the_card_identification_code() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
    t.select();
    let (id, sw) = t.read_tag(5, 0x01);
    assert_eq!(sw, 0x9000);
    assert_eq!(
        hex::encode_upper(id),
        "0110519900D15600000510000B26FFFFFFFF"
    );
    for tag in [0x02, 0x03, 0x07] {
        assert_eq!(t.read_tag(5, tag).1, 0x6A83, "tag {tag:02X}");
    }
    assert_eq!(t.read_tag(6, 0x08).1, 0x6A83);
    assert_eq!(t.raw(&[0, 0xB2, 1, p2(6, 0b100), 0]).1, 0x6A83);
}

#[test]
fn le_must_be_the_record_length() {
    let mut t = Terminal::personalized(Generation::V2, Algorithm::Sm4);
    t.select();
    // tag 07: 2 + 9 bytes
    assert_eq!(t.raw(&[0, 0xB2, 7, p2(5, 0), 0x00]).1, 0x6C0B);
    assert_eq!(t.raw(&[0, 0xB2, 7, p2(5, 0), 0x05]).1, 0x6C0B);
    assert_eq!(t.raw(&[0, 0xB2, 7, p2(5, 0), 0xFF]).1, 0x6C0B);
    assert_eq!(t.raw(&[0, 0xB2, 7, p2(5, 0)]).1, 0x6C0B, "no Le: P3 is 00");
    let (data, sw) = t.raw(&[0, 0xB2, 7, p2(5, 0), 0x0B]);
    assert_eq!((data, sw), (tlv(0x07, b"HA1046924"), 0x9000));
    // the same on T=1
    t.card.set_t0(false);
    assert_eq!(t.raw(&[0, 0xB2, 7, p2(5, 0), 0x00]).1, 0x6C0B);
    assert_eq!(t.raw(&[0, 0xB2, 7, p2(5, 0), 0x0B]).1, 0x9000);
}

#[test]
fn addressing_modes() {
    let mut t = Terminal::personalized(Generation::V2, Algorithm::Tdes);
    t.select();
    // by number: record 3 of EF05 is tag 03 (records in table 9 order)
    let (r, sw) = t.raw(&[0, 0xB2, 3, p2(5, 0b100), 6]);
    assert_eq!((r, sw), (h("0304322E3030"), 0x9000));
    assert_eq!(t.raw(&[0, 0xB2, 8, p2(5, 0b100), 0]).1, 0x6A83);
    // record 00 = the current record: none yet
    assert_eq!(t.raw(&[0, 0xB2, 0, p2(5, 0b100), 0]).1, 0x6A83);
    // first / last occurrence of tag 05, which becomes the current record
    assert_eq!(t.raw(&[0, 0xB2, 5, p2(5, 0b000), 6]).1, 0x9000);
    assert_eq!(t.raw(&[0, 0xB2, 5, p2(5, 0b001), 6]).1, 0x9000);
    let (r, _) = t.raw(&[0, 0xB2, 0, p2(5, 0b100), 6]);
    assert_eq!(r[0], 0x05);
    // next / previous with identifier 00: any record after / before the current one
    let (r, _) = t.raw(&[0, 0xB2, 0, p2(5, 0b010), 6]);
    assert_eq!(r, h("0604 20300101"));
    let (r, _) = t.raw(&[0, 0xB2, 0, p2(5, 0b011), 6]);
    assert_eq!(r, h("0504 20200101"));
    // next occurrence of tag 05 after record 5: none
    assert_eq!(t.raw(&[0, 0xB2, 5, p2(5, 0b010), 6]).1, 0x6A83);
    // a new EF by SFI forgets the record pointer
    assert_eq!(t.raw(&[0, 0xB2, 8, p2(6, 0b000), 20]).1, 0x9000);
    assert_eq!(t.raw(&[0, 0xB2, 0x0A, p2(6, 0b011), 3]).1, 0x6A83);
    // several records at once: not supported; RFU mode: P1 P2
    assert_eq!(t.raw(&[0, 0xB2, 1, p2(5, 0b101), 0]).1, 0x6A81);
    assert_eq!(t.raw(&[0, 0xB2, 1, p2(5, 0b110), 0]).1, 0x6A81);
    assert_eq!(t.raw(&[0, 0xB2, 1, p2(5, 0b111), 0]).1, 0x6A86);
}

#[test]
fn files_and_errors() {
    let mut t = Terminal::personalized(Generation::V2, Algorithm::Sm4);
    // SFIs mean nothing in the MF
    assert_eq!(t.raw(&[0, 0xB2, 1, p2(5, 0b100), 0]).1, 0x6A82);
    t.select();
    assert_eq!(t.raw(&[0, 0xB2, 1, 0b100, 0]).1, 0x6986, "no current EF");
    assert_eq!(t.raw(&[0, 0xB2, 1, p2(9, 0b100), 0]).1, 0x6A82);
    assert_eq!(t.raw(&[0, 0xB2, 1, p2(0x1E, 0b100), 0]).1, 0x6A82);
    assert_eq!(
        t.raw(&[0, 0xB2, 1, p2(7, 0b100), 0]).1,
        0x6981,
        "EF07 is transparent"
    );
    assert_eq!(t.raw(&[0, 0xB2, 1, p2(5, 0b100), 1, 0]).1, 0x6700, "data");
    assert_eq!(t.raw(&[0x80, 0xB2, 1, p2(5, 0b100), 0]).1, 0x6E00);
    // 2.0 EF06 is free; the SFI made EF06 current
    assert_eq!(t.raw(&[0, 0xB2, 8, p2(6, 0), 20]).1, 0x9000);
    assert_eq!(t.raw(&[0, 0xB2, 8, 0, 20]).1, 0x9000);
}

#[test]
fn update_record_adds_absent_records_by_identifier() {
    let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
    t.select();
    let write = |t: &mut Terminal, tag: u8, value: &[u8]| {
        t.raw(&with_lc([0, 0xDC, tag, p2(5, 0)], &tlv(tag, value)))
            .1
    };
    assert_eq!(write(&mut t, 0x02, b"3"), 0x6982, "UKSSSE first");
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    assert_eq!(write(&mut t, 0x03, b"2.00"), 0x9000);
    assert_eq!(write(&mut t, 0x02, b"3"), 0x9000);
    assert_eq!(t.card.image().ef05.len(), 3, "01, 03, 02 in creation order");
    assert_eq!(t.raw(&[0, 0xB2, 2, p2(5, 0b100), 6]).0, h("0304322E3030"));
    // replace
    assert_eq!(write(&mut t, 0x02, b"4"), 0x9000);
    assert_eq!(t.card.image().record_value(Ef::Ef05, 0x02), Some(&b"4"[..]));
    assert_eq!(t.card.image().ef05.len(), 3);
    // a shorter value is kept as it is
    assert_eq!(write(&mut t, 0x07, b"X1"), 0x9000);
    assert_eq!(t.read_tag(5, 0x07).0, tlv(0x07, b"X1"));
    // the tag must be P1, a data item of the file, no longer than the item
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 0x02, p2(5, 0)], &tlv(0x03, b"2.00")))
            .1,
        0x6A80
    );
    assert_eq!(write(&mut t, 0x08, b"1"), 0x6A80, "tag 08 is in EF06");
    assert_eq!(write(&mut t, 0x20, b"1"), 0x6A80);
    assert_eq!(write(&mut t, 0x07, b"0123456789"), 0x6A84);
    // one SIMPLE-TLV exactly
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 2, p2(5, 0)], &h("020133 00"))).1,
        0x6A85
    );
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 2, p2(5, 0)], &h("0205 33"))).1,
        0x6A85
    );
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 2, p2(5, 0)], &h("0201 33 0201 34")))
            .1,
        0x6A85
    );
    // Lc, mode, CLA
    assert_eq!(t.raw(&[0, 0xDC, 2, p2(5, 0)]).1, 0x6700);
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 2, p2(5, 0b101)], &tlv(2, b"3"))).1,
        0x6A86
    );
    assert_eq!(
        t.raw(&with_lc([0x04, 0xDC, 2, p2(5, 0)], &tlv(2, b"3"))).1,
        0x6E00
    );
    // 4E is a data item of 2.0 EF06, not of 1.0
    let ext = with_lc([0, 0xDC, 0x4E, p2(6, 0)], &tlv(0x4E, &[0; 20]));
    assert_eq!(t.raw(&ext).1, 0x9000);
    let mut t1 = Terminal::new(Generation::V1, Algorithm::Tdes);
    t1.select();
    assert_eq!(t1.authenticate(KeyRole::Ukssse), 0x9000);
    assert_eq!(t1.raw(&ext).1, 0x6A80);
}

#[test]
fn update_record_by_number() {
    let mut t = Terminal::personalized(Generation::V2, Algorithm::Tdes);
    t.select();
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    // record 2 of EF05 is tag 02
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 2, p2(5, 0b100)], &tlv(2, b"1"))).1,
        0x9000
    );
    assert_eq!(t.card.image().record_value(Ef::Ef05, 2), Some(&b"1"[..]));
    // its tag cannot change
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 2, p2(5, 0b100)], &tlv(3, b"1.00")))
            .1,
        0x6A80
    );
    // beyond the last record + 1
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 9, p2(5, 0b100)], &tlv(2, b"1"))).1,
        0x6A83
    );
    // current record (the one just written)
    assert_eq!(
        t.raw(&with_lc([0, 0xDC, 0, p2(5, 0b100)], &tlv(2, b"2"))).1,
        0x9000
    );
    assert_eq!(t.card.image().record_value(Ef::Ef05, 2), Some(&b"2"[..]));
    // appending with number count + 1
    let mut b = Terminal::new(Generation::V2, Algorithm::Tdes);
    b.select();
    assert_eq!(b.authenticate(KeyRole::Ukssse), 0x9000);
    assert_eq!(
        b.raw(&with_lc([0, 0xDC, 2, p2(5, 0b100)], &tlv(2, b"3"))).1,
        0x9000
    );
    assert_eq!(
        b.raw(&with_lc([0, 0xDC, 3, p2(5, 0b100)], &tlv(2, b"3"))).1,
        0x6A80,
        "tag twice"
    );
    assert_eq!(b.card.image().ef05.len(), 2);
}
