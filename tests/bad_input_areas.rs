//! The bad-input catalogue of the data areas: an item too long, a wrong format, an unknown tag,
//! writing without the right key, a cyclic record out of order, a photo too large, a file only
//! the card OS writes, occurrences out of range or out of order, data that does not match its
//! address, a regional declaration against §6. Each case asserts the error names the file and
//! the item, and that nothing was written (the card's files are unchanged; where the library
//! refuses before the card, not one APDU was sent).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::fileaddr::{FileAddress, FileData};
use sscard::keyholder::KeyFile;
use sscard::keys::{KeyRole, RootKeys};
use sscard::lifecycle::areas::{self, AreaAccess};
use sscard::lifecycle::Card;
use sscard::profile::areas::{AreaError, Extensions, FileId};
use sscard::profile::{AreaProfile, Generation};
use sscard::sim::{DataAreas, SimCard, SimTransport};
use sscard::{Algorithm, Error};

type SimCardT = Card<SimTransport<SimCard>>;

fn area_card() -> SimCardT {
    let spec = card_spec(Generation::V3, Algorithm::Sm4, [0x0B, 0, 0, 1])
        .with_data_areas(DataAreas::national());
    Card::open(SimTransport::new(personalized_sim_of(spec))).unwrap()
}

/// The contents of every data area file.
fn files(card: &mut SimCardT) -> String {
    let image = card.raw().transport_mut().card().image().clone();
    serde_json::to_string(
        &image
            .areas
            .iter()
            .map(|(df, a)| (df.clone(), a.files.clone()))
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

/// Runs `write` and checks it fails with an error whose text contains every `words`, and that
/// nothing was written; `no_apdu`: the library refused before the card.
fn refused(
    card: &mut SimCardT,
    no_apdu: bool,
    words: &[&str],
    write: impl FnOnce(&mut SimCardT) -> Result<(), Error>,
) -> Error {
    let before = files(card);
    card.reset_apdu_count();
    let e = write(card).unwrap_err();
    let text = e.to_string();
    for w in words {
        assert!(text.contains(w), "{w:?} not in: {text}");
    }
    assert_eq!(files(card), before, "nothing written: {text}");
    if no_apdu {
        assert_eq!(card.apdu_count(), 0, "no APDU: {text}");
    }
    e
}

fn write(card: &mut SimCardT, address: &str, data: &str) -> Result<(), Error> {
    let holder_pin = pin("123456");
    let mut keys = test_keys();
    let mut access = AreaAccess::new()
        .with_pin(&holder_pin)
        .with_key_holder(&mut keys);
    areas::write_address(
        card,
        &mut access,
        &FileAddress::parse(address).unwrap(),
        &FileData::parse(data).unwrap(),
    )
}

#[test]
fn an_item_too_long() {
    let mut card = area_card();
    let long = "很".repeat(41);
    refused(
        &mut card,
        true,
        &[
            "DF01EF05",
            "21 household_address (户口所在地地址)",
            "82 bytes, at most 80",
        ],
        |c| write(c, "DF01EF05|21|$", &format!("DF01EF05|{long}|$")),
    );
    refused(
        &mut card,
        true,
        &["DF01EF09", "30 employer_code", "10 bytes, at most 9"],
        |c| write(c, "DF01EF09|30|$", "DF01EF09|1234567890|$"),
    );
}

#[test]
fn a_wrong_format() {
    let mut card = area_card();
    for (address, data, words) in [
        (
            "DF02EF06|4C|$",
            "DF02EF06|2024-03-01|$",
            &["DF02EF06", "4C employment_registration_date", "a date"][..],
        ),
        (
            "DF02EF06|4D|$",
            "DF02EF06|11010X|$",
            &["4D employment_registration_region", "region code"][..],
        ),
        (
            "DF01EF05|20|$",
            "DF01EF05|99|$",
            &["20 household_type", "V2 table 16", "10, 11, 12"][..],
        ),
        (
            "DF01EF07|29|$",
            "DF01EF07|é|$",
            &["29 employment_status", "table 17"][..],
        ),
        (
            "DF03EF07|6C|$",
            "DF03EF07|20230230|$",
            &["6C retirement_date", "not a date"][..],
        ),
        ("DF01EF16|$", "DF01EF16|XYZ|$", &["DF01EF16", "hex"][..]),
        (
            "DF01EF05|21|$",
            "DF01EF05|人民路^1号|$",
            &["21 household_address", "separator"][..],
        ),
    ] {
        refused(&mut card, true, words, |c| write(c, address, data));
    }
}

#[test]
fn an_unknown_tag_file_or_occurrence() {
    let mut card = area_card();
    refused(
        &mut card,
        true,
        &["DF01EF05", "no data item with tag 42", "20 21 0E"],
        |c| write(c, "DF01EF05|42|$", "DF01EF05|x|$"),
    );
    refused(&mut card, true, &["unknown file DF09EF05"], |c| {
        write(c, "DF09EF05|01|$", "DF09EF05|x|$")
    });
    refused(
        &mut card,
        true,
        &[
            "DF01EF15",
            "40 degrees (学位信息)",
            "occurrence 4, the item has 3",
        ],
        |c| write(c, "DF01EF15|40:4|$", "DF01EF15|1^2^3^|$"),
    );
    // the third degree before the second: the card keeps an item's records in order
    write(
        &mut card,
        "DF01EF15|40:1|$",
        "DF01EF15|401^080901^清华大学^|$",
    )
    .unwrap();
    refused(
        &mut card,
        false,
        &[
            "40 degrees",
            "occurrence 3 cannot be written before occurrence 2",
        ],
        |c| write(c, "DF01EF15|40:3|$", "DF01EF15|403^080903^复旦大学^|$"),
    );
    // data that does not match its address
    refused(
        &mut card,
        true,
        &["2 items in the address, 1 values"],
        |c| write(c, "DF01EF0A|37|38|$", "DF01EF0A|CHN|$"),
    );
    refused(
        &mut card,
        true,
        &["names DF01EF07, the data DF01EF08"],
        |c| write(c, "DF01EF07|29|$", "DF01EF08|1|$"),
    );
}

#[test]
fn writing_without_the_right_key() {
    let mut card = area_card();
    let holder_pin = pin("123456");
    // a key holder without UK3DF02
    let mut roots = RootKeys::from_json(TEST_KEYS).unwrap();
    let mut without = RootKeys::new();
    for alg in Algorithm::ALL {
        for role in roots.roles(alg) {
            if role != KeyRole::Uk3Df02 {
                without.insert(alg, role, roots.root(alg, role).unwrap().clone());
            }
        }
    }
    roots = without;
    let record = "2020100^20200301^^某公司^";
    let e = refused(&mut card, false, &["UK3DF02", "就业记录更新"], |c| {
        let mut keys = KeyFile::new(roots);
        let mut access = AreaAccess::new()
            .with_pin(&holder_pin)
            .with_key_holder(&mut keys);
        areas::append_records(
            c,
            &mut access,
            FileId::area(0xDF02, 0xEF07),
            &[record.into()],
        )
    });
    assert!(matches!(e, Error::KeyHolder(_)), "{e}");
    // keys that do not match the card: the card refuses the authentication
    let e = refused(&mut card, false, &["UK3DF02", "failed"], |c| {
        let mut keys = keys_with_wrong(&["UK3DF02"]);
        let mut access = AreaAccess::new()
            .with_pin(&holder_pin)
            .with_key_holder(&mut keys);
        areas::append_records(
            c,
            &mut access,
            FileId::area(0xDF02, 0xEF07),
            &[record.into()],
        )
    });
    assert!(
        matches!(
            e,
            Error::AuthenticationFailed {
                role: KeyRole::Uk3Df02,
                ..
            }
        ),
        "{e}"
    );
    // no key holder at all
    refused(
        &mut card,
        false,
        &["DF01EF05", "a key holder with UK1DF01"],
        |c| {
            let mut access = AreaAccess::new().with_pin(&holder_pin);
            areas::write_address(
                c,
                &mut access,
                &FileAddress::parse("DF01EF05|20|$").unwrap(),
                &FileData::parse("DF01EF05|11|$").unwrap(),
            )
        },
    );
}

#[test]
fn a_cyclic_record_out_of_order() {
    let mut card = area_card();
    write(
        &mut card,
        "DF02EF07|$",
        "DF02EF07|2020100^20200301^20231231^某公司^|$",
    )
    .unwrap();
    // earlier than the newest record on the card
    refused(
        &mut card,
        false,
        &[
            "DF02EF07 就业记录信息文件",
            "out of order",
            "start_date",
            "earlier",
        ],
        |c| {
            write(
                c,
                "DF02EF07|$",
                "DF02EF07|2010100^20150301^20191231^旧公司^|$",
            )
        },
    );
    // two given out of order
    refused(&mut card, true, &["DF02EF07", "out of order"], |c| {
        write(c, "DF02EF07|$", "DF02EF07|1^20240101^^A^|1^20230101^^B^|$")
    });
    // records are only appended
    refused(&mut card, true, &["DF02EF07", "only appended"], |c| {
        write(c, "DF02EF07|1|$", "DF02EF07|1^20240101^^A^|$")
    });
}

#[test]
fn a_photo_too_large_and_files_the_card_os_writes() {
    let mut card = area_card();
    let photo = vec![0xFFu8; 4097];
    refused(
        &mut card,
        true,
        &["SSSEEF08", "photo", "4097 bytes", "4096"],
        |c| areas::write_photo(c, &mut test_keys(), &photo),
    );
    refused(&mut card, true, &["DF04EF08", "card OS only"], |c| {
        write(
            c,
            "DF04EF08|$",
            "DF04EF08|0001^1^639900000042^20240301120000^00000001^00000000^00000000^|$",
        )
    });
    refused(
        &mut card,
        true,
        &["DF01EF16", "297 bytes, the file holds 296"],
        |c| write(c, "DF01EF16|$", &format!("DF01EF16|{}|$", "00".repeat(297))),
    );
}

#[test]
fn regional_declarations_against_section_6() {
    for (json, words) in [
        (
            r#"{"dfs":[{"df":"DF03","df_name":"D15600000599","name":"x"}]}"#,
            "begin at DF0A",
        ),
        (
            r#"{"files":[{"file":"DF02EF09","name":"x","structure":{"kind":"variable"},"read":"PIN","write":"UK1DF02"}]}"#,
            "begin at EF0C",
        ),
        (
            r#"{"files":[{"file":"DF02EF0C","name":"x","structure":{"kind":"variable"},"read":"PIN","write":"UK1DF02"},{"file":"DF02EF0C","name":"y","structure":{"kind":"variable"},"read":"PIN","write":"UK1DF02"}]}"#,
            "used twice",
        ),
        (
            r#"{"items":[{"file":"SSSEEF06","items":[{"tag":"50","name":"x","format":"an","len":1}]}]}"#,
            "SSSE's files take no more items",
        ),
        (
            r#"{"files":[{"file":"DF0BEF05","name":"x","structure":{"kind":"variable"},"read":"PIN","write":"UK1DF01"}]}"#,
            "no DF DF0B",
        ),
        (
            r#"{"files":[{"file":"DF02EF0C","name":"x","structure":{"kind":"variable"},"read":"PIN or XK","write":"UK1DF02"}]}"#,
            "not a key role",
        ),
        (
            r#"{"files":[{"file":"SSSEEF0C","name":"x","structure":{"kind":"variable"},"read":"RK1DF01","write":"UKSSSE"}]}"#,
            "does not live in SSSE",
        ),
    ] {
        let ext: Extensions = serde_json::from_str(json).unwrap();
        let e = AreaProfile::with_extensions(&ext).unwrap_err();
        assert!(matches!(e, AreaError::Extension(_)));
        assert!(e.to_string().contains(words), "{words:?}: {e}");
        // a card image declaring it is refused too
        let spec = card_spec(Generation::V3, Algorithm::Sm4, [0x0B, 0, 0, 2])
            .with_data_areas(DataAreas::national().with_extensions(ext));
        assert!(SimCard::blank(spec, &root_keys()).is_err());
    }
}
