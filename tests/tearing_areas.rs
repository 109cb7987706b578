//! Tearing sweeps over the writes of the data areas (docs/reliability.md; part 7 §14): power
//! lost after every APDU and at every persistent write of each write operation of
//! [`sscard::lifecycle::areas`], on 3DES and SM4 cards.
//!
//! For each operation the untorn run from the start state gives its APDU count A, its write
//! count W and the states its writes pass through (the state after k writes, k = 0..W, taken by
//! tearing at write k + 1). Then for every n in 1..=A (power lost after the n-th APDU) and every
//! n in 1..=W (at the n-th write), a fresh card in the start state is torn there, and:
//!
//! 1. the torn run failed with "card removed", never a success the card did not confirm;
//! 2. the torn card's data area files are one of the states the untorn run passes through
//!    (every UPDATE RECORD, every UPDATE BINARY and every cyclic append is whole or absent;
//!    nothing else changed), and no key try counter is above its start value or below it by
//!    more than one;
//! 3. the operation run again (the terminal's recovery) succeeds, and leaves the files the
//!    untorn run leaves: item writes and file writes are idempotent, and an append whose record
//!    is already the newest is not appended twice ([design] D23).
//!
//! The table goes to `target/tmp/tearing-areas.md`; any corrupted trial fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::time::Instant;

use sscard::crypto::Pin;
use sscard::data::PersonRecord;
use sscard::fileaddr::{FileAddress, FileData};
use sscard::keyholder::KeyFile;
use sscard::lifecycle::areas::{self, AreaAccess};
use sscard::lifecycle::{self, Card, PersonalizeOptions};
use sscard::profile::Generation;
use sscard::sim::{CardImage, CardSpec, DataAreas, SimCard, SimTransport, Tear};
use sscard::transport::TransportError;
use sscard::{Algorithm, Error};

type TestCard = Card<SimTransport<SimCard>>;

const KEYS: &str = include_str!("../fixtures/keys/test-keys.json");
const PERSON: &str = include_str!("../fixtures/persons/wang-wu-3.json");

fn keys() -> KeyFile {
    KeyFile::from_json(KEYS).unwrap()
}

fn open(image: &CardImage) -> TestCard {
    Card::open(SimTransport::new(
        SimCard::from_image(image.clone()).unwrap(),
    ))
    .unwrap()
}

fn image_of(card: &TestCard) -> CardImage {
    card.channel().transport().card().image().clone()
}

/// The data area files of an image (what the writes change).
fn files(image: &CardImage) -> String {
    serde_json::to_string(
        &image
            .areas
            .iter()
            .map(|(df, a)| (df.clone(), a.files.clone()))
            .collect::<Vec<_>>(),
    )
    .unwrap()
        + &format!("{:?}{:?}", image.ef07, image.ef08)
}

/// A personalized 3.0 card with the data areas (and appendix B's DF06), some of them already
/// written.
fn start_card(algorithm: Algorithm) -> CardImage {
    let spec = CardSpec::new(
        Generation::V3,
        algorithm,
        "639900".parse().unwrap(),
        [0x0C, 0x00, 0x00, 0x01],
    )
    .with_data_areas(DataAreas::national().with_assistance());
    let sim = SimCard::blank(spec, &sscard::keys::RootKeys::from_json(KEYS).unwrap()).unwrap();
    let mut card = Card::open(SimTransport::new(sim)).unwrap();
    let person = PersonRecord::from_json(PERSON).unwrap().validate().unwrap();
    lifecycle::personalize(
        &mut card,
        &mut keys(),
        &person,
        &PersonalizeOptions::default(),
    )
    .unwrap();
    // what a service hall finds on the card: an address, one degree, a full employment record file
    let setup = [
        ("DF01EF05|21|$", "DF01EF05|北京市东城区|$".to_owned()),
        ("DF01EF08|2B|$", "DF01EF08|1|$".to_owned()),
        (
            "DF06EF05|C0|$",
            "DF06EF05|某街道社会救助管理所|$".to_owned(),
        ),
        (
            "DF01EF15|40:1|$",
            "DF01EF15|401^080901^清华大学^|$".to_owned(),
        ),
        (
            "DF02EF07|$",
            format!(
                "DF02EF07|{}$",
                (1..=4)
                    .map(|n| format!("20{n}0100^201{n}0101^201{n}1231^单位{n}^|"))
                    .collect::<String>()
            ),
        ),
    ];
    for (address, data) in setup {
        write(&mut card, address, &data).unwrap();
    }
    image_of(&card)
}

fn write(card: &mut TestCard, address: &str, data: &str) -> Result<(), Error> {
    let holder_pin = Pin::initial();
    let mut keys = keys();
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

/// The write operations swept.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// Several items of two files (new records and a record rewritten).
    Items,
    /// The second degree: the record pointer positioned on the first, UPDATE RECORD "next".
    SecondOccurrence,
    /// A record appended to a full cyclic file: the oldest one goes.
    Append,
    /// A reserved transparent file rewritten whole (two UPDATE BINARY).
    Reserved,
    /// The photo (SSSE EF08, UKSSSE).
    Photo,
    /// Appendix B's DF06: a record rewritten and a B-TLV record added to EF05 (UK1DF06), items
    /// of EF06 (UK2DF06): two update keys in one operation.
    Assistance,
}

impl Op {
    const ALL: [Op; 6] = [
        Op::Items,
        Op::SecondOccurrence,
        Op::Append,
        Op::Reserved,
        Op::Photo,
        Op::Assistance,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::Items => "items of DF01 EF05 and EF08",
            Op::SecondOccurrence => "DF01 EF15 degree 40:2",
            Op::Append => "DF02 EF07 append to a full file",
            Op::Reserved => "DF01 EF16 reserved file",
            Op::Photo => "SSSE EF08 photo",
            Op::Assistance => "DF06 EF05 and EF06 (appendix B)",
        }
    }

    fn run(self, card: &mut TestCard) -> Result<(), Error> {
        match self {
            Op::Items => write(
                card,
                "DF01EF05|20|0E|$DF01EF08|2B|$",
                "DF01EF05|11|110101|$DF01EF08|2|$",
            ),
            Op::SecondOccurrence => {
                write(card, "DF01EF15|40:2|$", "DF01EF15|402^080902^北京大学^|$")
            }
            Op::Append => write(
                card,
                "DF02EF07|$",
                "DF02EF07|2050100^20200101^20231231^某某公司^|$",
            ),
            Op::Reserved => {
                let content: String = (0..0x128).map(|i| format!("{:02X}", i % 250 + 1)).collect();
                write(card, "DF01EF16|$", &format!("DF01EF16|{content}|$"))
            }
            Op::Photo => {
                let mut photo = vec![0xFF, 0xD8];
                photo.extend((0..600u32).map(|i| (i % 199) as u8 + 1));
                photo.extend([0xFF, 0xD9]);
                areas::write_photo(card, &mut keys(), &photo)
            }
            Op::Assistance => write(
                card,
                "DF06EF05|C0|C3|$DF06EF06|C6|C9|CA|CC|$",
                "DF06EF05|某镇社会救助管理所|01^20230115^20240115^64000^202406^|$\
                 DF06EF06|某区优抚办|01|20230801|180000|$",
            ),
        }
    }
}

#[derive(Debug, Default)]
struct Row {
    operation: String,
    card: String,
    tear: String,
    points: u64,
    tried: u64,
    landed: u64,
    recovered: u64,
    corrupted: u64,
}

/// Runs `op` on a card in state `from` with `tear` armed; the card back in the reader.
fn torn_run(op: Op, from: &CardImage, tear: Tear, problems: &mut Vec<String>) -> CardImage {
    let mut card = open(from);
    card.raw().transport_mut().card_mut().arm_tear(tear);
    let result = op.run(&mut card);
    if card.channel().transport().card().tear_fired() != Some(tear) {
        problems.push(format!("{tear} did not fire"));
    }
    match result {
        Err(Error::Transport(TransportError::CardRemoved)) => {}
        other => problems.push(format!("torn run ended with {other:?}, not card removed")),
    }
    let mut transport = card.into_transport();
    transport.insert_card();
    transport.card().image().clone()
}

fn sweep(op: Op, algorithm: Algorithm, failures: &mut Vec<String>) -> Vec<Row> {
    let start = start_card(algorithm);
    // the untorn run: counts and the intended state
    let mut card = open(&start);
    card.raw()
        .transport_mut()
        .card_mut()
        .arm_tear(Tear::AtWrite(u64::MAX));
    op.run(&mut card).unwrap();
    let sim = card.channel().transport().card();
    let (apdus, writes) = (sim.apdus_since_arming(), sim.writes_since_arming());
    let intended = image_of(&card);
    // the states the untorn run passes through: after k writes, k = 0..=W
    let mut states = vec![files(&start)];
    for k in 1..=writes {
        let mut ignored = Vec::new();
        states.push(files(&torn_run(
            op,
            &start,
            Tear::AtWrite(k + 1),
            &mut ignored,
        )));
    }
    states.push(files(&intended));
    let label = format!("{} T=0", algorithm.name());
    let mut rows = Vec::new();
    for (name, points, make) in [
        ("after APDU", apdus, Tear::AfterApdu as fn(u64) -> Tear),
        ("at write", writes, Tear::AtWrite as fn(u64) -> Tear),
    ] {
        let mut row = Row {
            operation: op.name().into(),
            card: label.clone(),
            tear: name.into(),
            points,
            ..Row::default()
        };
        for n in 1..=points {
            let tear = make(n);
            let mut problems = Vec::new();
            let torn = torn_run(op, &start, tear, &mut problems);
            if !states.contains(&files(&torn)) {
                problems.push("the files are in no state the write passes through".into());
            }
            for (df, area) in &torn.areas {
                for (role, key) in &area.keys {
                    let before = &start.areas[df].keys[role];
                    if key.tries_left > before.tries_left || key.tries_left + 1 < before.tries_left
                    {
                        problems.push(format!("{df} {role}: {} tries left", key.tries_left));
                    }
                }
            }
            let landed = files(&torn) == files(&intended);
            let mut card = open(&torn);
            match op.run(&mut card) {
                Ok(()) if files(&image_of(&card)) == files(&intended) => {}
                Ok(()) => {
                    problems.push("after the rerun the files differ from the intended".into())
                }
                Err(e) => problems.push(format!("rerun: {e}")),
            }
            row.tried += 1;
            row.landed += u64::from(landed);
            if problems.is_empty() {
                row.recovered += 1;
            } else {
                row.corrupted += 1;
                failures.push(format!(
                    "{} on {label} {tear}: {}",
                    op.name(),
                    problems.join("; ")
                ));
            }
        }
        rows.push(row);
    }
    rows
}

#[test]
fn data_area_writes_survive_power_loss_anywhere() {
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for algorithm in [Algorithm::Tdes, Algorithm::Sm4] {
        for op in Op::ALL {
            rows.extend(sweep(op, algorithm, &mut failures));
        }
    }
    let mut md = "### Tear sweeps: writes of the data areas (V2.0 notice)\n\n".to_owned();
    md.push_str("| operation | card | tear | points | tried | landed | recovered | corrupted |\n");
    md.push_str("|---|---|---|---:|---:|---:|---:|---:|\n");
    for r in &rows {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.operation, r.card, r.tear, r.points, r.tried, r.landed, r.recovered, r.corrupted
        )
        .unwrap();
    }
    let sum = |f: fn(&Row) -> u64| rows.iter().map(f).sum::<u64>();
    writeln!(
        md,
        "\nTotal: {} tear points tried, {} landed, {} recovered, {} corrupted ({:.1} s).\n",
        sum(|r| r.tried),
        sum(|r| r.landed),
        sum(|r| r.recovered),
        sum(|r| r.corrupted),
        started.elapsed().as_secs_f64()
    )
    .unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("tearing-areas.md"), &md).unwrap();
    println!("{md}");
    assert!(
        rows.iter().all(|r| r.tried == r.points && r.points > 0),
        "{md}"
    );
    assert!(
        failures.is_empty() && sum(|r| r.corrupted) == 0,
        "{md}\n{}",
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
