//! The data areas of the V2.0 notice through the library and the simulated card: every DF and
//! EF (DF01-DF04, DF07, appendix B's DF05 and DF06) written with its update key, read back with the
//! PIN or its read key, refused without them (by the library and by the card), cyclic files
//! wrapping around; the file-address syntax of `iReadCard`/`iWriteCard`; the photo; regional
//! extensions; appendix C records of old cards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::apdu::{Command, StatusWord};
use sscard::crypto::Pin;
use sscard::fileaddr::{CardInfo, FileAddress, FileData, Target};
use sscard::keys::KeyRole;
use sscard::lifecycle::areas::{self, AreaAccess, FileContents, PhotoFormat, ReadAuth};
use sscard::lifecycle::Card;
use sscard::profile::areas::{
    Area, AreaError, DfId, FileId, FileSpec, ItemSpec, ReadRule, Structure, ValueKind, WriteRule,
    NATIONAL,
};
use sscard::profile::{Format, Generation};
use sscard::sim::{CardSpec, DataAreas, SimCard, SimTransport};
use sscard::{Algorithm, Error};

type SimCardT = Card<SimTransport<SimCard>>;

const SERIAL_AREAS: [u8; 4] = [0x0A, 0x12, 0x34, 0x56];

fn area_spec(generation: Generation, algorithm: Algorithm, areas: DataAreas) -> CardSpec {
    card_spec(generation, algorithm, SERIAL_AREAS).with_data_areas(areas)
}

/// A personalized card (initial PIN 123456) with the data areas.
fn area_card(algorithm: Algorithm, areas: DataAreas) -> SimCardT {
    let sim = personalized_sim_of(area_spec(Generation::V3, algorithm, areas));
    Card::open(SimTransport::new(sim)).unwrap()
}

fn sim(card: &mut SimCardT) -> &mut SimCard {
    card.raw().transport_mut().card_mut()
}

/// Power off and on: the card forgets its security state and the library sees a new session.
fn power_cycle(card: &mut SimCardT) {
    card.raw().transport_mut().power_cycle();
}

/// A valid value of `item` in the text form, the `n`-th of a series; dates and serials grow
/// with `n` (so cyclic records come in order).
fn sample(item: &ItemSpec, n: usize) -> String {
    if item.is_group() {
        return item
            .parts
            .iter()
            .map(|p| format!("{}^", sample(p, n)))
            .collect();
    }
    let month = 1 + n % 12;
    let year = 2000 + n / 12;
    match item.kind {
        ValueKind::Code(t) => t.codes[n % t.codes.len()].0.to_owned(),
        ValueKind::Date => format!("{year:04}{month:02}15"),
        ValueKind::DateTime => format!("{year:04}{month:02}15093000"),
        ValueKind::Region => "110101".to_owned(),
        ValueKind::Months => format!("{:03}", n % 1000),
        ValueKind::YearMonth => format!("{year:04}{month:02}"),
        ValueKind::Year => format!("{year:04}"),
        ValueKind::Amount => format!("{}", 100 + n),
        ValueKind::Binary => {
            let mut bytes = vec![0u8; item.len];
            let be = (n as u64).to_be_bytes();
            let k = bytes.len().min(8);
            let start = bytes.len() - k;
            bytes[start..].copy_from_slice(&be[8 - k..]);
            hex::encode_upper(bytes)
        }
        ValueKind::Text => match item.format {
            Format::AnGbk if item.len >= 8 => format!("测试{}", n % 10),
            Format::AnGbk => "A型".chars().take(item.len.min(2)).collect(),
            Format::Cn => "12345678"
                .chars()
                .take((item.len * 2).min(6))
                .collect::<String>(),
            _ => {
                let text = format!("X{n}9876543210ABCDEF");
                text.chars().take(item.len.min(6)).collect()
            }
        },
    }
}

/// Everything needed to read and write: the holder's PIN and the test keys.
fn full_access<'a>(pin: &'a Pin, keys: &'a mut sscard::keyholder::KeyFile) -> AreaAccess<'a> {
    AreaAccess::new().with_pin(pin).with_key_holder(keys)
}

/// The address of every item occurrence of a record file, and sample values for them.
fn all_items(file: &FileSpec, n: usize) -> (FileAddress, FileData, Vec<String>) {
    let mut targets = Vec::new();
    let mut values = Vec::new();
    for item in file.items.iter() {
        for occurrence in 1..=item.occurs {
            targets.push(Target::Item {
                tag: item.tag,
                occurrence,
            });
            values.push(sample(item, n + usize::from(occurrence)));
        }
    }
    let address = FileAddress::new().with(file.id, &targets);
    let mut data = FileData::new();
    data.push(file.id, values.clone());
    (address, data, values)
}

fn texts(data: &FileData) -> Vec<String> {
    data.files().flat_map(|(_, v)| v.to_vec()).collect()
}

/// The card answers `6982` to a read of `file` in its DF when nothing is authenticated.
fn card_refuses_read(card: &mut SimCardT, file: &FileSpec) -> u16 {
    power_cycle(card);
    let df = NATIONAL.iter().find(|d| d.id == file.id.df).unwrap();
    let channel = card.raw().channel_mut();
    let select = Command::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(df.df_name.to_vec())
        .with_le(256);
    assert_eq!(channel.send(&select).unwrap().sw(), StatusWord::Ok);
    let read = match file.structure {
        Structure::Transparent { .. } => Command::new(0x00, 0xB0, 0x80 | file.sfi, 0).with_le(16),
        Structure::Cyclic { record_len, .. } => {
            Command::new(0x00, 0xB2, 1, (file.sfi << 3) | 4).with_le(record_len)
        }
        _ => {
            let item = &file.items[0];
            Command::new(0x00, 0xB2, item.tag, file.sfi << 3).with_le(item.len + 2)
        }
    };
    let sw = u16::from_be_bytes(channel.send(&read).unwrap().sw().to_bytes());
    power_cycle(card);
    sw
}

/// Writes, reads back, refuses and (cyclic files) wraps around every file of DF `fid`.
fn exercise_df(fid: u16, areas: DataAreas) {
    for algorithm in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut card = area_card(algorithm, areas.clone());
        let df = NATIONAL.iter().find(|d| d.id == DfId::Df(fid)).unwrap();
        let holder_pin = pin("123456");
        for file in df.files.iter() {
            exercise_file(&mut card, file, &holder_pin);
        }
    }
}

fn exercise_file(card: &mut SimCardT, file: &FileSpec, holder_pin: &Pin) {
    let label = file.label();
    let mut keys = test_keys();
    // 1. write with the update key (through the key holder) and read back with the PIN
    match file.structure {
        Structure::Variable | Structure::Fixed => {
            let (address, data, values) = all_items(file, 1);
            areas::write_address(
                card,
                &mut full_access(holder_pin, &mut keys),
                &address,
                &data,
            )
            .unwrap_or_else(|e| panic!("{label}: {e}"));
            let read = areas::read_address(card, &mut full_access(holder_pin, &mut keys), &address)
                .unwrap();
            assert_eq!(texts(&read), values, "{label}");
        }
        Structure::Transparent { size } => {
            let content: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8 + 1).collect();
            let address = FileAddress::new().with(file.id, &[Target::Content]);
            let mut data = FileData::new();
            data.push(file.id, vec![hex::encode_upper(&content)]);
            areas::write_address(
                card,
                &mut full_access(holder_pin, &mut keys),
                &address,
                &data,
            )
            .unwrap();
            let read =
                areas::read_file(card, &mut full_access(holder_pin, &mut keys), file.id).unwrap();
            assert_eq!(read.contents, FileContents::Binary(content), "{label}");
        }
        Structure::Cyclic {
            min_records,
            record_len,
        } => {
            // more records than the file keeps: the newest stay, record 1 the newest
            let total = min_records + 2;
            let records: Vec<String> = (1..=total)
                .map(|n| {
                    file.items
                        .iter()
                        .map(|i| format!("{}^", sample(i, n)))
                        .collect()
                })
                .collect();
            if file.write == WriteRule::Internal {
                let e = areas::append_records(
                    card,
                    &mut full_access(holder_pin, &mut keys),
                    file.id,
                    &records[..1],
                )
                .unwrap_err();
                assert!(
                    matches!(e, Error::Area(AreaError::NotWritable(_))),
                    "{label}: {e}"
                );
                for r in &records {
                    let bytes = file.encode_record(r).unwrap();
                    assert_eq!(bytes.len(), record_len);
                    sim(card).card_os_append(file.id, &bytes).unwrap();
                }
            } else {
                areas::append_records(
                    card,
                    &mut full_access(holder_pin, &mut keys),
                    file.id,
                    &records,
                )
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            }
            let read =
                areas::read_file(card, &mut full_access(holder_pin, &mut keys), file.id).unwrap();
            let FileContents::Records(got) = read.contents else {
                panic!("{label}: not records")
            };
            let got: Vec<String> = got.iter().map(|v| v.text()).collect();
            let expected: Vec<String> = records.iter().rev().take(min_records).cloned().collect();
            assert_eq!(
                got, expected,
                "{label}: the newest {min_records} records, newest first"
            );
        }
    }
    // 2. refused without the PIN or the key: by the library, and by the card
    power_cycle(card);
    let rule = file.read_rule(Generation::V3);
    let nothing = areas::read_file(card, &mut AreaAccess::new(), file.id);
    match rule {
        ReadRule::Free => assert!(nothing.is_ok(), "{label}"),
        _ => {
            let e = nothing.unwrap_err();
            assert!(
                matches!(e, Error::Area(AreaError::AccessNeeded { .. })),
                "{label}: {e}"
            );
            assert!(e.to_string().contains(&file.id.to_string()), "{e}");
            assert_eq!(card_refuses_read(card, file), 0x6982, "{label}");
        }
    }
    // 3. the key alternative of "PIN or RK", and "PIN & RK" with both
    if let ReadRule::PinOrKey(_) | ReadRule::Key(_) | ReadRule::PinAndKey(_) = rule {
        let mut access = full_access(holder_pin, &mut keys).prefer(ReadAuth::Key);
        if let ReadRule::Key(_) = rule {
            access = AreaAccess::new().with_key_holder(&mut keys);
        }
        areas::read_file(card, &mut access, file.id).unwrap_or_else(|e| panic!("{label}: {e}"));
    }
    // 4. writing without the right update key writes nothing
    if let WriteRule::Key(uk) = file.write {
        let before = sim(card).image().clone();
        let mut wrong = keys_with_wrong(&[uk.name()]);
        let mut access = AreaAccess::new()
            .with_pin(holder_pin)
            .with_key_holder(&mut wrong);
        let result = match file.structure {
            Structure::Variable | Structure::Fixed => {
                let (address, data, _) = all_items(file, 5);
                areas::write_address(card, &mut access, &address, &data)
            }
            Structure::Cyclic { .. } => {
                let record: String = file
                    .items
                    .iter()
                    .map(|i| format!("{}^", sample(i, 99)))
                    .collect();
                areas::append_records(card, &mut access, file.id, &[record])
            }
            Structure::Transparent { .. } => {
                let address = FileAddress::new().with(file.id, &[Target::Content]);
                let mut data = FileData::new();
                data.push(file.id, vec!["AA".into()]);
                areas::write_address(card, &mut access, &address, &data)
            }
        };
        let e = result.unwrap_err();
        assert!(
            matches!(e, Error::AuthenticationFailed { role, .. } if role == uk),
            "{label}: {e}"
        );
        let after = sim(card).image().clone();
        let files = |i: &sscard::sim::CardImage| {
            i.areas
                .iter()
                .map(|(df, a)| (df.clone(), a.files.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(files(&before), files(&after), "{label}: nothing written");
        // the failed try is counted; a successful authentication restores the counter
        power_cycle(card);
    }
}

#[test]
fn df01_public_data_files() {
    exercise_df(0xDF01, DataAreas::national());
}

#[test]
fn df02_employment_files() {
    exercise_df(0xDF02, DataAreas::national());
}

#[test]
fn df03_insurance_files() {
    exercise_df(0xDF03, DataAreas::national());
}

#[test]
fn df04_medical_files() {
    exercise_df(0xDF04, DataAreas::national());
}

#[test]
fn df07_talent_files() {
    exercise_df(0xDF07, DataAreas::national());
}

#[test]
fn df05_health_files_of_appendix_b() {
    exercise_df(0xDF05, DataAreas::national().with_health());
}

#[test]
fn df06_assistance_files_of_appendix_b() {
    exercise_df(0xDF06, DataAreas::national().with_assistance());
}

/// The DF06 data of these tests: table B6's paying body and two social assistance records
/// (C3, C5 of table B7), table B8's paying body, the conscript allowance (code 01) and the
/// disability pension (code 04).
const DF06_ADDRESS: &str = "DF06EF05|C0|C2|C3|C5|$DF06EF06|C6|C8|C9|CA|CB|CC|CD|D8|DB|DF|E2|$";
const DF06_DATA: &str =
    "DF06EF05|某街道社会救助管理所|12345678X|01^20230115^20240115^64000^202406^|\
                         04^20220301^^12000^202405^|$\
                         DF06EF06|某区优抚办|87654321Y|01|20230801|20250731|180000|2024|04|\
                         300000|202406|2024|$";

/// DF06 through a PSAM holding the data areas' keys (`PsamSpec::with_area_keys`): social
/// assistance written with UK1DF06, special care with UK2DF06, both read with RK1DF06 (card key
/// ids 85, 86, 84, [design] D38); the DF selected by its label 救助与优抚信息区 in GBK (appendix
/// B table B1).
#[test]
fn df06_written_and_read_through_a_psam() {
    for algorithm in [Algorithm::Tdes, Algorithm::Sm4] {
        let spec = area_spec(
            Generation::V3,
            algorithm,
            DataAreas::national().with_assistance(),
        );
        let mut card = recorded(personalized_sim_of(spec));
        let psam = sscard::sim::SimPsam::from_root_keys(
            &root_keys(),
            &sscard::sim::PsamSpec::new(algorithm, TERMINAL_NUMBER).with_area_keys(),
        )
        .unwrap();
        let mut holder = sscard::keyholder::PsamKeyHolder::open(SimTransport::new(psam)).unwrap();
        let address = FileAddress::parse(DF06_ADDRESS).unwrap();
        let data = FileData::parse(DF06_DATA).unwrap();
        areas::write_address(
            &mut card,
            &mut AreaAccess::new().with_key_holder(&mut holder),
            &address,
            &data,
        )
        .unwrap();
        power_cycle_recorded(&mut card);
        let read = areas::read_address(
            &mut card,
            &mut AreaAccess::new().with_key_holder(&mut holder),
            &address,
        )
        .unwrap();
        assert_eq!(read.to_string(), data.to_string(), "{algorithm}");
        let log = &card.raw().transport_mut().log;
        let mut key_ids: Vec<u8> = log
            .iter()
            .filter(|e| e.ins() == 0x82 && e.sw() == 0x9000)
            .map(|e| e.command[3])
            .collect();
        key_ids.sort_unstable();
        key_ids.dedup();
        assert_eq!(key_ids, [0x84, 0x85, 0x86], "RK1DF06, UK1DF06, UK2DF06");
        let select_label = hex::decode("00A4040010BEC8D6FAD3EBD3C5B8A7D0C5CFA2C7F8").unwrap();
        assert!(log.iter().any(|e| e.command.starts_with(&select_label)));
        // the values read are typed: codes of tables B26 and B27
        let file = areas::read_file(
            &mut card,
            &mut AreaAccess::new().with_key_holder(&mut holder),
            FileId::area(0xDF06, 0xEF06),
        )
        .unwrap();
        let FileContents::Items(items) = file.contents else {
            panic!("items")
        };
        let code = items.iter().find(|i| i.tag == 0xD8).unwrap();
        assert_eq!(
            code.reading.as_ref().unwrap().meaning,
            Some("伤残抚恤金和伤残保健金")
        );
    }
}

fn power_cycle_recorded(card: &mut Card<RecordedSim>) {
    card.raw().transport_mut().inner.power_cycle();
}

/// The card keeps each DF06 file to its own key (tables B6, B8): UK1DF06 writes EF05 and not
/// EF06, UK2DF06 the reverse, and nothing is read without RK1DF06 (`6982`).
#[test]
fn df06_each_file_to_its_key_by_the_card() {
    let spec = area_spec(
        Generation::V3,
        Algorithm::Sm4,
        DataAreas::national().with_assistance(),
    );
    let mut card = Card::open(SimTransport::new(personalized_sim_of(spec.clone()))).unwrap();
    let df06 = NATIONAL.iter().find(|d| d.id == DfId::Df(0xDF06)).unwrap();
    let send = |card: &mut SimCardT, command: Command| {
        u16::from_be_bytes(card.raw().send(&command).unwrap().sw().to_bytes())
    };
    let select = Command::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(df06.df_name.to_vec())
        .with_le(256);
    let authenticate = |card: &mut SimCardT, role: KeyRole| {
        let challenge = card
            .raw()
            .send(&Command::new(0x00, 0x84, 0x00, 0x00).with_le(8))
            .unwrap()
            .data()
            .to_vec();
        let apdu = external_auth_apdu(&spec, role, &challenge, [0x5A; 8]);
        let command =
            Command::new(apdu[0], apdu[1], apdu[2], apdu[3]).with_data(apdu[5..].to_vec());
        u16::from_be_bytes(card.raw().send(&command).unwrap().sw().to_bytes())
    };
    // UPDATE RECORD, first occurrence of the item (P2 mode 000)
    let update = |sfi: u8, tag: u8, value: &[u8]| {
        let mut tlv = vec![tag, value.len() as u8];
        tlv.extend_from_slice(value);
        Command::new(0x00, 0xDC, tag, sfi << 3).with_data(tlv)
    };
    let read = |sfi: u8, tag: u8| Command::new(0x00, 0xB2, tag, sfi << 3).with_le(256);
    power_cycle(&mut card);
    assert_eq!(send(&mut card, select.clone()), 0x9000);
    assert_eq!(send(&mut card, read(5, 0xC2)), 0x6982, "no RK1DF06");
    assert_eq!(
        send(&mut card, update(5, 0xC2, b"12345678X")),
        0x6982,
        "no UK1DF06"
    );
    assert_eq!(authenticate(&mut card, KeyRole::Uk1Df06), 0x9000);
    assert_eq!(
        send(&mut card, update(6, 0xC8, b"87654321Y")),
        0x6982,
        "UK1DF06 is not EF06's"
    );
    assert_eq!(send(&mut card, update(5, 0xC2, b"12345678X")), 0x9000);
    power_cycle(&mut card);
    assert_eq!(send(&mut card, select.clone()), 0x9000);
    assert_eq!(authenticate(&mut card, KeyRole::Uk2Df06), 0x9000);
    assert_eq!(
        send(&mut card, update(5, 0xC2, b"00000000Z")),
        0x6982,
        "UK2DF06 is not EF05's"
    );
    assert_eq!(send(&mut card, update(6, 0xC8, b"87654321Y")), 0x9000);
    assert_eq!(
        send(&mut card, read(5, 0xC2)),
        0x6982,
        "an update key does not read"
    );
    assert_eq!(authenticate(&mut card, KeyRole::Rk1Df06), 0x9000);
    let answer = card.raw().send(&read(5, 0xC2)).unwrap();
    assert_eq!(answer.sw(), StatusWord::Ok);
    assert_eq!(answer.data(), b"\xC2\x0912345678X");
    // a key of another DF is not DF06's (RK1DF01: the card has no such key here)
    assert_ne!(authenticate(&mut card, KeyRole::Rk1Df01), 0x9000);
}

/// A card issued without DF06 says so; the HSM steps refuse DF06 before the card is touched
/// (the reader interface gives its keys no HSM address, [design] D38); a wrong UK writes
/// nothing and a value outside table B26 is refused naming the item.
#[test]
fn df06_refusals() {
    let mut without = area_card(Algorithm::Sm4, DataAreas::national());
    let mut keys = test_keys();
    let e = areas::read_file(
        &mut without,
        &mut AreaAccess::new().with_key_holder(&mut keys),
        FileId::area(0xDF06, 0xEF05),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Area(AreaError::AreaMissing { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("救助与优抚信息区"), "{e}");

    let spec = area_spec(
        Generation::V3,
        Algorithm::Sm4,
        DataAreas::national().with_assistance(),
    );
    let mut card = recorded(personalized_sim_of(spec));
    for (address, role) in [("DF06EF05|C3|$", "RK1DF06"), ("DF06EF06|C9|$", "RK1DF06")] {
        card.raw().transport_mut().log.clear();
        let e = areas::hsm_step1(
            &mut card,
            &mut AreaAccess::new(),
            &FileAddress::parse(address).unwrap(),
            None,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(role) && text.contains("no HSM key address") && text.contains("PSAM"),
            "{text}"
        );
        let log = &card.raw().transport_mut().log;
        assert!(
            !log.iter().any(|x| x.ins() == 0x84 || x.ins() == 0x82),
            "no challenge, no authentication: {:02X?}",
            log.iter().map(|x| x.ins()).collect::<Vec<_>>()
        );
    }
    let e = areas::hsm_write_step1(
        &mut card,
        &mut AreaAccess::new(),
        &FileAddress::parse("DF06EF06|CC|$").unwrap(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("UK2DF06"), "{e}");

    // a value outside table B26 in the second group: refused naming it, nothing sent
    let before = card.raw().transport_mut().log.len();
    let e = areas::write_address(
        &mut card,
        &mut AreaAccess::new().with_key_holder(&mut keys),
        &FileAddress::parse("DF06EF05|C4|$").unwrap(),
        &FileData::parse("DF06EF05|05^20230115^^^^|$").unwrap(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("assistance_2") && e.to_string().contains("B26"),
        "{e}"
    );
    assert_eq!(card.raw().transport_mut().log.len(), before);
}

/// The reader interface's examples, written and read through the file-address syntax.
#[test]
fn file_addresses_of_the_reader_interface() {
    let mut card = area_card(Algorithm::Sm4, DataAreas::national());
    let holder_pin = pin("123456");
    let mut keys = test_keys();
    let address = FileAddress::parse("DF01EF07|29|$DF01EF0A|37|$DF01EF15|2A|40:1|40:2|$").unwrap();
    let data = FileData::parse(
        "DF01EF07|1|$DF01EF0A|CHN|$DF01EF15|21|401^080901^清华大学^|402^080902^北京大学^|$",
    )
    .unwrap();
    areas::write_address(
        &mut card,
        &mut full_access(&holder_pin, &mut keys),
        &address,
        &data,
    )
    .unwrap();
    let read = areas::read_address(
        &mut card,
        &mut full_access(&holder_pin, &mut keys),
        &FileAddress::parse("SSSEEF05|07|$DF01EF0A|37|$DF01EF15|2A|40:2|$").unwrap(),
    )
    .unwrap();
    let number = person_record(Generation::V3).card_number;
    assert_eq!(
        read.to_string(),
        format!("SSSEEF05|{number}|$DF01EF0A|CHN|$DF01EF15|21|402^080902^北京大学^|$")
    );
    // cyclic records: fields ended by ^, records by |
    let records =
        "DF02EF07|2010100^20150301^20191231^某某有限公司^|2020100^20200101^^某某科技公司^|$";
    areas::write_address(
        &mut card,
        &mut full_access(&holder_pin, &mut keys),
        &FileAddress::parse("DF02EF07|$").unwrap(),
        &FileData::parse(records).unwrap(),
    )
    .unwrap();
    let read = areas::read_address(
        &mut card,
        &mut full_access(&holder_pin, &mut keys),
        &FileAddress::parse("DF02EF07|$DF02EF07|2|$").unwrap(),
    )
    .unwrap();
    assert_eq!(
        read.to_string(),
        "DF02EF07|2020100^20200101^^某某科技公司^|2010100^20150301^20191231^某某有限公司^|$\
         DF02EF07|2010100^20150301^20191231^某某有限公司^|$"
    );
    // iReadCard checks pCardInfo first
    let id = card.card_id().unwrap().to_string();
    areas::check_card_info(
        &mut card,
        &CardInfo::parse(&format!("{id}|{number}|")).unwrap(),
    )
    .unwrap();
    let e = areas::check_card_info(
        &mut card,
        &CardInfo::parse(&format!("{id}|X00000000|")).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::WrongCard(_)), "{e}");
}

/// `iAuthType` 1 reads a "PIN or RK" file with VERIFY, 2 with EXTERNAL AUTHENTICATION; "PIN &
/// RK" authenticates the key first, then the PIN (reader interface §2.1.3(6)).
#[test]
fn pin_or_key_and_pin_and_key() {
    let spec = area_spec(Generation::V3, Algorithm::Sm4, DataAreas::national());
    let mut card = recorded(personalized_sim_of(spec));
    let holder_pin = pin("123456");
    let mut keys = test_keys();
    let employment = FileId::area(0xDF02, 0xEF06);
    for (prefer, ins) in [(ReadAuth::Pin, 0x20u8), (ReadAuth::Key, 0x82)] {
        card.raw().transport_mut().inner.power_cycle();
        card.raw().transport_mut().log.clear();
        areas::read_file(
            &mut card,
            &mut full_access(&holder_pin, &mut keys).prefer(prefer),
            employment,
        )
        .unwrap();
        let log = &card.raw().transport_mut().log;
        let inss: Vec<u8> = log.iter().map(|e| e.ins()).collect();
        assert!(inss.contains(&ins), "{prefer:?}: {inss:02X?}");
        assert!(
            !inss.contains(&if ins == 0x20 { 0x82 } else { 0x20 }),
            "{prefer:?}"
        );
        if prefer == ReadAuth::Key {
            let ea = log.iter().find(|e| e.ins() == 0x82).unwrap();
            assert_eq!(ea.command[3], 0x89, "RK1DF02's card key id [design D20]");
        }
    }
    card.raw().transport_mut().inner.power_cycle();
    card.raw().transport_mut().log.clear();
    areas::read_file(
        &mut card,
        &mut full_access(&holder_pin, &mut keys),
        FileId::area(0xDF04, 0xEF06),
    )
    .unwrap();
    let inss: Vec<u8> = card
        .raw()
        .transport_mut()
        .log
        .iter()
        .map(|e| e.ins())
        .collect();
    let ea = inss.iter().position(|i| *i == 0x82).unwrap();
    let verify = inss.iter().position(|i| *i == 0x20).unwrap();
    assert!(ea < verify, "the key first: {inss:02X?}");
    // the DF is selected by its AID
    let log = &card.raw().transport_mut().log;
    assert!(log.iter().any(|e| e
        .command
        .starts_with(&hex::decode("00A4040006D15600000503").unwrap())));
}

#[test]
fn a_whole_area_and_all_areas() {
    let mut card = area_card(Algorithm::Tdes, DataAreas::national());
    let holder_pin = pin("123456");
    let mut keys = test_keys();
    areas::write_items(
        &mut card,
        &mut full_access(&holder_pin, &mut keys),
        FileId::area(0xDF01, 0xEF08),
        &[(
            Target::Item {
                tag: 0x2B,
                occurrence: 1,
            },
            "2".into(),
        )],
    )
    .unwrap();
    let mut access = AreaAccess::new().with_pin(&holder_pin);
    for area in Area::NATIONAL {
        let files = areas::read_area(&mut card, &mut access, area);
        match area {
            // DF07 is read with its keys only, DF04 EF06 with the PIN and RK1DF04
            Area::Talent | Area::Medical => assert!(
                matches!(files, Err(Error::Area(AreaError::AccessNeeded { .. }))),
                "{area}"
            ),
            _ => assert_eq!(
                files.unwrap().len(),
                access.profile().area(area).unwrap().files.len()
            ),
        }
    }
    let public = areas::read_area(&mut card, &mut access, Area::Public).unwrap();
    let marriage = public.iter().find(|f| f.file.ef == 0xEF08).unwrap();
    let FileContents::Items(items) = &marriage.contents else {
        panic!()
    };
    let r = items[0].reading.as_ref().unwrap();
    assert_eq!((r.value.text(), r.meaning), ("2".to_owned(), Some("已婚")));
}

#[test]
fn the_photo_is_written_and_read_back() {
    let mut card = area_card(Algorithm::Sm4, DataAreas::national());
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend((0..3000u32).map(|i| (i % 200) as u8));
    jpeg.extend([0xFF, 0xD9]);
    areas::write_photo(&mut card, &mut test_keys(), &jpeg).unwrap();
    let photo = areas::read_photo(&mut card, &mut test_keys()).unwrap();
    assert_eq!((photo.format, photo.bytes), (PhotoFormat::Jpeg, jpeg));
}

#[test]
fn regional_extensions_through_the_library() {
    let ext: sscard::profile::areas::Extensions = serde_json::from_str(
        r#"{ "dfs": [ { "df": "DF0A", "df_name": "D1560000050A", "name": "本地应用" } ],
             "files": [ { "file": "DF0AEF05", "name": "本地信息", "structure": { "kind": "variable" },
                          "read": "PIN or RK1DF01", "write": "UK1DF01",
                          "items": [ { "tag": "01", "name": "local", "format": "gbk", "len": 20 } ] },
                        { "file": "SSSEEF0C", "name": "本地卡信息", "structure": { "kind": "variable" },
                          "read": "RKSSSE", "write": "UKSSSE",
                          "items": [ { "tag": "01", "name": "local_card", "format": "an", "len": 8 } ] } ],
             "items": [ { "file": "DF01EF05", "items": [ { "tag": "C1", "name": "street", "format": "gbk", "len": 20 } ] } ] }"#,
    )
    .unwrap();
    let mut card = area_card(
        Algorithm::Sm4,
        DataAreas::national().with_extensions(ext.clone()),
    );
    let profile = sscard::profile::AreaProfile::with_extensions(&ext).unwrap();
    let holder_pin = pin("123456");
    let mut keys = test_keys();
    let mut access = full_access(&holder_pin, &mut keys).with_profile(profile.clone());
    let address = FileAddress::parse("DF0AEF05|01|$DF01EF05|C1|20|$SSSEEF0C|01|$").unwrap();
    let data =
        FileData::parse("DF0AEF05|本地值|$DF01EF05|人民路1号|11|$SSSEEF0C|LC000001|$").unwrap();
    areas::write_address(&mut card, &mut access, &address, &data).unwrap();
    let read = areas::read_address(&mut card, &mut access, &address).unwrap();
    assert_eq!(read, data);
    // a terminal without the region's declarations does not know the file
    let e = areas::read_address(
        &mut card,
        &mut full_access(&holder_pin, &mut keys),
        &address,
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown file DF0AEF05"), "{e}");
}

/// Appendix C: a 1.0-era record rewritten with the 2.0 item (padded with `E`) reads as the
/// 2.0 value; one still holding the 1.0 definition reads raw, marked as such.
#[test]
fn appendix_c_records_of_old_cards() {
    let mut card = area_card(Algorithm::Sm4, DataAreas::national());
    let mut image = sim(&mut card).image().clone();
    let files = &mut image.areas.get_mut("DF01").unwrap().files;
    files.insert(
        "EF09".into(),
        sscard::sim::FileContent::Records(vec![sscard::sim::HexBytes(
            hex::decode("32033131EE").unwrap(),
        )]),
    );
    files.insert(
        "EF0A".into(),
        sscard::sim::FileContent::Records(vec![sscard::sim::HexBytes(
            hex::decode("370411223344").unwrap(),
        )]),
    );
    let mut card = Card::open(SimTransport::new(SimCard::from_image(image).unwrap())).unwrap();
    let holder_pin = pin("123456");
    let mut access = AreaAccess::new().with_pin(&holder_pin);
    let read = areas::read_address(
        &mut card,
        &mut access,
        &FileAddress::parse("DF01EF09|32|$DF01EF0A|37|$").unwrap(),
    )
    .unwrap();
    assert_eq!(read.to_string(), "DF01EF09|11|$DF01EF0A|11223344|$");
    let file = areas::read_file(&mut card, &mut access, FileId::area(0xDF01, 0xEF09)).unwrap();
    let FileContents::Items(items) = file.contents else {
        panic!()
    };
    let r = items
        .iter()
        .find(|i| i.tag == 0x32)
        .unwrap()
        .reading
        .clone()
        .unwrap();
    assert_eq!(r.compat, sscard::profile::Compat::Rewritten);
    assert_eq!(r.meaning, Some("国家公务员"));
}

/// What the data area operations cost in APDUs on a T=0 card (a fresh card session each time):
/// SELECT SSSE (2: `61xx` and GET RESPONSE) and the two EF05 reads the key holder and the
/// generation need (2), SELECT of the DF by AID (2), then the authentication and the commands
/// themselves.
#[test]
fn apdu_budget_of_area_operations() {
    let mut card = area_card(Algorithm::Sm4, DataAreas::national());
    let holder_pin = pin("123456");
    let mut keys = test_keys();
    let count = |card: &mut SimCardT, f: &mut dyn FnMut(&mut SimCardT)| {
        power_cycle(card);
        card.reset_apdu_count();
        f(card);
        card.apdu_count()
    };
    let one_item = FileAddress::parse("DF01EF07|29|$").unwrap();
    // 4 to open the card, 2 SELECT DF01, 1 VERIFY, 1 READ RECORD
    let n = count(&mut card, &mut |c| {
        areas::read_address(c, &mut AreaAccess::new().with_pin(&holder_pin), &one_item).unwrap();
    });
    assert_eq!(n, 4 + 2 + 1 + 1);
    // with RK1DF01 instead: GET CHALLENGE + EXTERNAL AUTHENTICATION
    let n = count(&mut card, &mut |c| {
        let mut access = AreaAccess::new()
            .with_key_holder(&mut keys)
            .prefer(ReadAuth::Key);
        areas::read_address(c, &mut access, &one_item).unwrap();
    });
    assert_eq!(n, 4 + 2 + 2 + 1);
    // writing it: 4 + 2 + UK2DF01 (2) + UPDATE RECORD (1)
    let n = count(&mut card, &mut |c| {
        let mut access = AreaAccess::new().with_key_holder(&mut keys);
        areas::write_items(
            c,
            &mut access,
            FileId::area(0xDF01, 0xEF07),
            &[(
                Target::Item {
                    tag: 0x29,
                    occurrence: 1,
                },
                "1".into(),
            )],
        )
        .unwrap();
    });
    assert_eq!(n, 4 + 2 + 2 + 1);
    // appending a cyclic record: + the PIN (1) + UK3DF02 (2) + record 1 read (1) + UPDATE (1)
    let n = count(&mut card, &mut |c| {
        let mut access = full_access(&holder_pin, &mut keys);
        areas::append_records(
            c,
            &mut access,
            FileId::area(0xDF02, 0xEF07),
            &["2020100^20240301^^某公司^".into()],
        )
        .unwrap();
    });
    assert_eq!(n, 4 + 2 + 1 + 2 + 1 + 1);
}

/// The HSM steps of `iReadCard`/`iWriteCard` (reader interface §2.2-2.3, §3.2-3.3): step one
/// answers `algorithm|key address|process factor|original|`; an HSM holding the test keys
/// answers authentication data ‖ original data; step two authenticates and reads or writes.
/// The HSM of these tests: the answer (authentication data ‖ original data) to an area
/// request `algorithm|key address|process factor|original|` of an SM4 card, with the test keys.
fn hsm_answer(spec: &CardSpec, request: &str) -> String {
    let f: Vec<&str> = request.split('|').collect();
    assert_eq!(f[0], "03", "SM4");
    let address = u16::from_str_radix(f[1], 16).unwrap();
    let role = sscard::keys::AREA_KEYS
        .iter()
        .find(|k| k.hsm_address == address)
        .map(|k| k.role)
        .unwrap();
    let factor = hex::decode(f[2]).unwrap();
    let original: [u8; 8] = hex::decode(f[3]).unwrap().try_into().unwrap();
    let auth =
        sscard::crypto::authenticate(Algorithm::Sm4, &card_key(spec, role), &factor, &original)
            .unwrap();
    format!("{}{}", hex::encode_upper(auth), f[3])
}

/// The reader interface's HSM write gives the values with step two (`iWriteCard_HSM_Step2`'s
/// `pWriteData`, §3.3): a wrong value is refused before the card is touched, a step without
/// values never authenticates, and the right values land.
#[test]
fn hsm_write_with_the_values_in_step_two() {
    let spec = area_spec(Generation::V3, Algorithm::Sm4, DataAreas::national());
    let mut card = Card::open(SimTransport::new(personalized_sim_of(spec.clone()))).unwrap();
    let marriage = FileAddress::parse("DF01EF08|2B|$").unwrap();
    let mut step = areas::hsm_write_step1(&mut card, &mut AreaAccess::new(), &marriage).unwrap();
    assert!(step.request.starts_with("03|0176|"), "{}", step.request);
    // no values yet: refused without an APDU
    let before = card.apdu_count();
    let e = areas::hsm_write_step2(
        &mut card,
        &mut AreaAccess::new(),
        &step,
        &hsm_answer(&spec, &step.request),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Area(AreaError::Invalid { .. })), "{e}");
    // a value outside the code table: refused by set_values
    let e = step
        .set_values(&FileData::parse("DF01EF08|X|$").unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::Area(AreaError::Invalid { .. })), "{e}");
    assert_eq!(card.apdu_count(), before, "nothing reached the card");
    step.set_values(&FileData::parse("DF01EF08|4|$").unwrap())
        .unwrap();
    areas::hsm_write_step2(
        &mut card,
        &mut AreaAccess::new(),
        &step,
        &hsm_answer(&spec, &step.request),
    )
    .unwrap();
    // read back with the holder's PIN
    let holder_pin = pin("123456");
    let read = areas::read_address(
        &mut card,
        &mut AreaAccess::new().with_pin(&holder_pin),
        &marriage,
    )
    .unwrap();
    assert_eq!(read.to_string(), "DF01EF08|4|$");
    // a file only the card OS writes has no HSM write
    let e = areas::hsm_write_step1(
        &mut card,
        &mut AreaAccess::new(),
        &FileAddress::parse("DF04EF08|$").unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Area(AreaError::NotWritable(_))), "{e}");
}

#[test]
fn hsm_steps_of_ireadcard_and_iwritecard() {
    let spec = area_spec(Generation::V3, Algorithm::Sm4, DataAreas::national());
    let mut card = Card::open(SimTransport::new(personalized_sim_of(spec.clone()))).unwrap();
    let holder_pin = pin("123456");
    let hsm = |request: &str| hsm_answer(&spec, request);
    let marriage = FileAddress::parse("DF01EF08|2B|$").unwrap();
    // write with UK3DF01 (address 0176, RI table B.1)
    let data = FileData::parse("DF01EF08|2|$").unwrap();
    let step = areas::hsm_step1(&mut card, &mut AreaAccess::new(), &marriage, Some(&data)).unwrap();
    assert!(step.request.starts_with("03|0176|"), "{}", step.request);
    areas::hsm_write_step2(
        &mut card,
        &mut AreaAccess::new(),
        &step,
        &hsm(&step.request),
    )
    .unwrap();
    // read with RK1DF01 (004F)
    let step = areas::hsm_step1(&mut card, &mut AreaAccess::new(), &marriage, None).unwrap();
    assert!(step.request.starts_with("03|004F|"), "{}", step.request);
    let read = areas::hsm_read_step2(&mut card, &step, &hsm(&step.request)).unwrap();
    assert_eq!(read.to_string(), "DF01EF08|2|$");
    // PIN & RK1DF04: the PIN first, then the key (0182)
    let step = areas::hsm_step1(
        &mut card,
        &mut AreaAccess::new().with_pin(&holder_pin),
        &FileAddress::parse("DF04EF06|90|$").unwrap(),
        None,
    )
    .unwrap();
    assert!(step.request.starts_with("03|0182|"));
    assert_eq!(
        areas::hsm_read_step2(&mut card, &step, &hsm(&step.request))
            .unwrap()
            .to_string(),
        "DF04EF06||$"
    );
    // a file read with the PIN alone needs no HSM (-2204)
    let e = areas::hsm_step1(
        &mut card,
        &mut AreaAccess::new(),
        &FileAddress::parse("DF04EF08|$").unwrap(),
        None,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Area(AreaError::NoKeyNeeded(_))), "{e}");
    // a wrong answer is the card's refusal; a reset between the steps ends them
    let step = areas::hsm_step1(&mut card, &mut AreaAccess::new(), &marriage, None).unwrap();
    let e = areas::hsm_read_step2(&mut card, &step, &"00".repeat(16)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::AuthenticationFailed {
                role: KeyRole::Rk1Df01,
                ..
            }
        ),
        "{e}"
    );
    let step = areas::hsm_step1(&mut card, &mut AreaAccess::new(), &marriage, None).unwrap();
    power_cycle(&mut card);
    let e = areas::hsm_read_step2(&mut card, &step, &hsm(&step.request)).unwrap_err();
    assert!(matches!(e, Error::CardReset), "{e}");
}
