//! A service hall terminal (社保服务大厅): reads the holder's employment area (DF02 就业与失业,
//! V2.0 notice §5.4) with the holder's PIN, and records a new employment (就业记录, the cyclic
//! DF02 EF07) with the update key UK3DF02 through a PSAM (reader interface appendix B table
//! B.2; EXTERNAL AUTHENTICATION, part 7 §7).
//!
//! ```text
//! cargo run --example service_hall
//!     a simulated 3.0/SM4 card with the data areas and some employment history, personalized
//!     on the fly with the TEST KEYS, and a simulated PSAM; everything in process
//! cargo run --example service_hall -- --reader NAME --psam NAME --pin-file FILE \
//!         [--occupation CODE --start YYYYMMDD --end YYYYMMDD --employer NAME]
//!     the card in PC/SC reader NAME, the PSAM in reader NAME (a number, the full name or a
//!     unique part of it); the holder's PIN from FILE (never on the command line)
//! ```
//!
//! Try it on the virtual readers of a private pcscd (`scripts/pcscd-private.sh start`, then
//! serve a card with data areas and a PSAM holding RK1DF02 and UK3DF02); `tests/
//! pcscd_service_hall.rs` does exactly that.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use sscard::crypto::{KeyLevel, Pin};
use sscard::keyholder::{KeyFile, PsamKeyHolder};
use sscard::keys::{KeyRole, RootKeys};
use sscard::lifecycle::areas::{self, AreaAccess, FileContents, FileReading};
use sscard::lifecycle::{self, Card, PersonalizeOptions, ReadOptions};
use sscard::pcsc::{OpenOptions, PcscTransport, ReaderSelector};
use sscard::profile::areas::{Area, FileId};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, DataAreas, PsamSpec, SimCard, SimPsam, SimTransport};
use sscard::transport::Transport;
use sscard::Algorithm;

/// The public development keys of the simulator (TEST KEYS ONLY).
const TEST_KEYS: &str = include_str!("../fixtures/keys/test-keys.json");

/// The employment records file (DF02 EF07, cyclic).
pub const EMPLOYMENT_RECORDS: FileId = FileId::area(0xDF02, 0xEF07);

/// What the terminal is told to do.
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// The card's PC/SC reader; none: everything simulated in process.
    pub reader: Option<String>,
    /// The PSAM's PC/SC reader.
    pub psam: Option<String>,
    /// The file holding the holder's PIN.
    pub pin_file: Option<PathBuf>,
    /// The new employment: occupation code (an 7), start and end dates, employer.
    pub occupation: String,
    /// Start date YYYYMMDD.
    pub start: String,
    /// End date YYYYMMDD (empty while employed).
    pub end: String,
    /// Employer name.
    pub employer: String,
}

/// What the terminal saw and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The holder's name.
    pub name: String,
    /// The employment records before, newest first (fields separated by `^`).
    pub before: Vec<String>,
    /// The record appended.
    pub appended: String,
    /// The employment records after, newest first.
    pub after: Vec<String>,
    /// APDUs sent to the card.
    pub card_apdus: u64,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args {
        occupation: "2020100".into(),
        start: "20240301".into(),
        end: String::new(),
        employer: "某某科技有限公司".into(),
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--reader" => args.reader = Some(value()?),
            "--psam" => args.psam = Some(value()?),
            "--pin-file" => args.pin_file = Some(value()?.into()),
            "--occupation" => args.occupation = value()?,
            "--start" => args.start = value()?,
            "--end" => args.end = value()?,
            "--employer" => args.employer = value()?,
            _ => return Err(format!("unknown argument {flag:?}").into()),
        }
    }
    if args.reader.is_some() != args.psam.is_some()
        || args.reader.is_some() != args.pin_file.is_some()
    {
        return Err("--reader, --psam and --pin-file go together".into());
    }
    Ok(args)
}

/// Opens the card (or PSAM) in a PC/SC reader, waiting a few seconds for it.
fn pcsc_reader(name: &str) -> Result<Box<dyn Transport>, Box<dyn Error>> {
    let transport = PcscTransport::open(&OpenOptions {
        reader: Some(ReaderSelector::parse(name)),
        wait: Some(Duration::from_secs(5)),
        ..OpenOptions::default()
    })?;
    Ok(Box::new(transport))
}

/// The PIN in `path` (digits, surrounding blanks ignored).
fn read_pin(path: &PathBuf) -> Result<Pin, Box<dyn Error>> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path)?);
    Ok(Pin::new(text.trim())?)
}

#[allow(dead_code)]
fn main() -> std::process::ExitCode {
    let result = parse_args().and_then(|args| run(&args));
    match result {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn records(reading: &FileReading) -> Vec<String> {
    match &reading.contents {
        FileContents::Records(r) => r.iter().map(|v| v.text()).collect(),
        _ => Vec::new(),
    }
}

/// Runs the terminal: on the readers `args` names, or on a simulated card and PSAM.
pub fn run(args: &Args) -> Result<Report, Box<dyn Error>> {
    let (card, psam, pin): (Box<dyn Transport>, Box<dyn Transport>, Pin) =
        match (&args.reader, &args.psam, &args.pin_file) {
            (Some(reader), Some(psam), Some(pin_file)) => (
                pcsc_reader(reader)?,
                pcsc_reader(psam)?,
                read_pin(pin_file)?,
            ),
            _ => {
                let (card, psam) = simulated()?;
                (card, psam, Pin::initial())
            }
        };
    let mut card = Card::open(card)?;
    let mut psam = PsamKeyHolder::open(psam)?;
    serve(&mut card, &mut psam, &pin, args)
}

/// The service: whose card, the employment area with the PIN, the new record with UK3DF02.
pub fn serve<T: Transport, P: Transport>(
    card: &mut Card<T>,
    psam: &mut PsamKeyHolder<P>,
    pin: &Pin,
    args: &Args,
) -> Result<Report, Box<dyn Error>> {
    card.reset_apdu_count();
    // 1. whose card: the basic read, proven genuine by the PSAM (IRK; RKSSSE on 3.0 cards)
    let data = lifecycle::read_verified(card, psam, &ReadOptions::default())?;
    println!("{}", data.basic_line());
    println!(
        "holder:     {} ({})",
        data.holder.name, data.issuing.card_number
    );

    // 2. the employment area, opened with the holder's PIN (iAuthType 1)
    let mut access = AreaAccess::new().with_pin(pin);
    let files = areas::read_area(card, &mut access, Area::Employment)?;
    println!("employment area (DF02 就业与失业):");
    let mut before = Vec::new();
    for f in &files {
        match &f.contents {
            FileContents::Items(items) => {
                for i in items.iter().filter(|i| i.reading.is_some()) {
                    let value = i
                        .reading
                        .as_ref()
                        .map(|r| r.value.text())
                        .unwrap_or_default();
                    println!(
                        "  {}{:04X} {:02X} {}: {value}",
                        f.file.df, f.file.ef, i.tag, i.name_zh
                    );
                }
            }
            FileContents::Records(_) => {
                if f.file == EMPLOYMENT_RECORDS {
                    before = records(f);
                }
                for (n, r) in records(f).iter().enumerate() {
                    println!("  {} record {}: {r}", f.file, n + 1);
                }
            }
            FileContents::Binary(_) => {}
        }
    }

    // 3. the new employment record, with UK3DF02 through the PSAM (the PIN, still verified,
    // lets the library check the record comes after the newest one)
    let appended = format!(
        "{}^{}^{}^{}^",
        args.occupation, args.start, args.end, args.employer
    );
    let mut access = AreaAccess::new().with_pin(pin).with_key_holder(psam);
    areas::append_records(
        card,
        &mut access,
        EMPLOYMENT_RECORDS,
        std::slice::from_ref(&appended),
    )?;
    let after = records(&areas::read_file(card, &mut access, EMPLOYMENT_RECORDS)?);
    println!("appended:   {appended}");
    for (n, r) in after.iter().enumerate() {
        println!("  {EMPLOYMENT_RECORDS} record {}: {r}", n + 1);
    }
    println!("({} APDUs to the card)", card.apdu_count());
    Ok(Report {
        name: data.holder.name.to_string(),
        before,
        appended,
        after,
        card_apdus: card.apdu_count(),
    })
}

/// The PSAM a service hall has: the SSSE keys, and the employment area's read key RK1DF02
/// (national, table B.1) and update key UK3DF02 (province, table B.2) of region 639900.
pub fn psam_spec(algorithm: Algorithm, terminal: &str) -> Result<PsamSpec, Box<dyn Error>> {
    Ok(PsamSpec::new(algorithm, terminal)
        .with_region("639900".parse()?)
        .with_level(KeyRole::Rk1Df02, KeyLevel::National)
        .with_level(KeyRole::Uk3Df02, KeyLevel::Province))
}

/// A 3.0/SM4 card with the data areas, personalized and with two jobs recorded, and a PSAM.
pub fn simulated_card() -> Result<SimCard, Box<dyn Error>> {
    let roots = RootKeys::from_json(TEST_KEYS)?;
    let spec = CardSpec::new(
        Generation::V3,
        Algorithm::Sm4,
        "639900".parse()?,
        [0x00, 0x5E, 0x4A, 0x11],
    )
    .with_data_areas(DataAreas::national());
    let mut card = Card::open(SimTransport::new(SimCard::blank(spec, &roots)?))?;
    let mut keys = KeyFile::new(roots);
    let person = sscard::data::PersonRecord::from_json(PERSON)?.validate()?;
    lifecycle::personalize(
        &mut card,
        &mut keys,
        &person,
        &PersonalizeOptions::default(),
    )?;
    let pin = Pin::initial();
    let mut access = AreaAccess::new().with_pin(&pin).with_key_holder(&mut keys);
    areas::append_records(
        &mut card,
        &mut access,
        EMPLOYMENT_RECORDS,
        &[
            "2020100^20100901^20150630^北京某某有限公司^".into(),
            "2020300^20150801^20231231^上海某某集团^".into(),
        ],
    )?;
    areas::write_items(
        &mut card,
        &mut access,
        FileId::area(0xDF02, 0xEF06),
        &[
            (
                sscard::fileaddr::Target::Item {
                    tag: 0x60,
                    occurrence: 1,
                },
                "20240105".into(),
            ),
            (
                sscard::fileaddr::Target::Item {
                    tag: 0x4F,
                    occurrence: 1,
                },
                "102000".into(),
            ),
        ],
    )?;
    let mut sim = card.into_transport().into_card();
    sim.reset();
    Ok(sim)
}

/// A card and a PSAM in their readers.
type Readers = (Box<dyn Transport>, Box<dyn Transport>);

fn simulated() -> Result<Readers, Box<dyn Error>> {
    let roots = RootKeys::from_json(TEST_KEYS)?;
    let psam = SimPsam::from_root_keys(&roots, &psam_spec(Algorithm::Sm4, "639900000042")?)?;
    Ok((
        Box::new(SimTransport::new(simulated_card()?)),
        Box::new(SimTransport::new(psam)),
    ))
}

/// The demo cardholder (a 3.0 card of region 639900).
const PERSON: &str = r#"{
    "ssn": "111111198101011110", "name": "张三", "sex": "1", "ethnicity": "01",
    "birthplace": "110101", "birth_date": "19810101", "card_number": "KD5578904",
    "generation": "3", "issue_date": "20150711", "expiry_date": "20350711",
    "region": "639900", "initializing_body": "915600000263990063990001"
}"#;
