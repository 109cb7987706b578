//! A reading terminal (读卡终端): reads a social security card and prints the `iReadCardBas`
//! line of the reader interface (§1.1.2), then the fields.
//!
//! ```text
//! cargo run --example reading_terminal
//!     a simulated 2.0/SM4 card, personalized on the fly with the TEST KEYS, read with a
//!     simulated PSAM, everything in process
//! cargo run --example reading_terminal -- --reader NAME [--psam NAME | --keys FILE]
//!     the card in PC/SC reader NAME (a number, the full name or a unique part of it);
//!     --psam: a PSAM in another reader proves the card genuine (INTERNAL AUTHENTICATION with
//!             IRK, part 7 §5.4) and opens EF06 of 3.0 cards (RKSSSE);
//!     --keys: a development key file (mode 0600) instead of a PSAM;
//!     neither: a 1.0 or 2.0 card is read without keys (not proven genuine)
//! ```
//!
//! Try it on the virtual readers of a private pcscd: `scripts/pcscd-private.sh start`,
//! `eval "$(scripts/pcscd-private.sh env)"`, serve a card (`sscard sim serve`, or
//! `sscard::sim::vpcd::VpcdCard`), then `--reader "Virtual PCD 00 00"`.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use sscard::keyholder::{KeyFile, KeyHolder, PsamKeyHolder};
use sscard::keys::RootKeys;
use sscard::lifecycle::{self, Card, CardData, PersonalizeOptions, ReadOptions};
use sscard::pcsc::{OpenOptions, PcscTransport, ReaderSelector};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, PsamSpec, SimCard, SimPsam, SimTransport};
use sscard::transport::Transport;
use sscard::Algorithm;

/// The public development keys of the simulator (TEST KEYS ONLY).
const TEST_KEYS: &str = include_str!("../fixtures/keys/test-keys.json");

/// A card to read and what proves it genuine (a PSAM, a key file, or nothing).
type Terminal = (Card<Box<dyn Transport>>, Option<Box<dyn KeyHolder>>);

#[derive(Default)]
struct Args {
    reader: Option<String>,
    psam: Option<String>,
    keys: Option<PathBuf>,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--reader" => args.reader = Some(value()?),
            "--psam" => args.psam = Some(value()?),
            "--keys" => args.keys = Some(value()?.into()),
            _ => return Err(format!("unknown argument {flag:?}").into()),
        }
    }
    if args.reader.is_none() && (args.psam.is_some() || args.keys.is_some()) {
        return Err("--psam and --keys go with --reader".into());
    }
    Ok(args)
}

/// Opens the card in a PC/SC reader, waiting a few seconds for it.
fn pcsc_reader(name: &str) -> Result<Box<dyn Transport>, Box<dyn Error>> {
    let transport = PcscTransport::open(&OpenOptions {
        reader: Some(ReaderSelector::parse(name)),
        wait: Some(Duration::from_secs(5)),
        ..OpenOptions::default()
    })?;
    Ok(Box::new(transport))
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let (mut card, key_holder): Terminal = match &args.reader {
        Some(reader) => {
            let card = Card::open(pcsc_reader(reader)?)?;
            let key_holder: Option<Box<dyn KeyHolder>> = match (&args.psam, &args.keys) {
                (Some(psam), _) => Some(Box::new(PsamKeyHolder::open(pcsc_reader(psam)?)?)),
                (None, Some(path)) => Some(Box::new(sscard::keyfile::load_key_file(path)?)),
                (None, None) => None,
            };
            (card, key_holder)
        }
        None => simulated()?,
    };

    card.reset_apdu_count();
    let data = match key_holder {
        Some(mut key_holder) => {
            lifecycle::read_verified(&mut card, &mut key_holder, &ReadOptions::default())?
        }
        None => lifecycle::read(&mut card)?,
    };
    println!("{}", data.basic_line());
    print_fields(&data);
    println!("({} APDUs to the card)", card.apdu_count());
    Ok(())
}

/// A blank simulated card personalized on the fly, and a simulated PSAM holding the national
/// roots of the same development keys, both in process.
fn simulated() -> Result<Terminal, Box<dyn Error>> {
    let roots = RootKeys::from_json(TEST_KEYS)?;
    let spec = CardSpec::new(
        Generation::V2,
        Algorithm::Sm4,
        "639900".parse()?,
        [0x00, 0x12, 0x34, 0x56],
    );
    let blank: Box<dyn Transport> = Box::new(SimTransport::new(SimCard::blank(spec, &roots)?));
    let mut card = Card::open(blank)?;
    let person = sscard::data::PersonRecord::from_json(PERSON)?.validate()?;
    lifecycle::personalize(
        &mut card,
        &mut KeyFile::new(roots.clone()),
        &person,
        &PersonalizeOptions::default(),
    )?;

    let psam = SimPsam::from_root_keys(&roots, &PsamSpec::new(Algorithm::Sm4, "410100813475"))?;
    let psam = PsamKeyHolder::open(SimTransport::new(psam))?;
    Ok((card, Some(Box::new(psam))))
}

/// The demo cardholder (a 2.0 card of region 639900).
const PERSON: &str = r#"{
    "ssn": "111111198101011110", "name": "张三", "sex": "1", "ethnicity": "01",
    "birthplace": "110101", "birth_date": "19810101", "card_number": "KD5578904",
    "generation": "2", "issue_date": "20150711", "expiry_date": "20350711",
    "region": "639900", "initializing_body": "915600000263990063990001"
}"#;

fn print_fields(data: &CardData) {
    let (holder, issuing) = (&data.holder, &data.issuing);
    let genuine = match data.genuine {
        Some(true) => "yes (INTERNAL AUTHENTICATION with IRK)",
        Some(false) => "NO",
        None => "not checked (no key holder)",
    };
    println!("name:                      {}", holder.name);
    println!("social security number:    {}", holder.ssn);
    println!(
        "sex / ethnicity:           {} / {}",
        holder.sex.name(),
        holder.ethnicity.name_zh()
    );
    println!(
        "birth date / birthplace:   {} / {}",
        holder.birth_date, holder.birthplace
    );
    println!("card number:               {}", issuing.card_number);
    println!("card identification code:  {}", issuing.card_id);
    println!("card type:                 {}", issuing.card_type);
    println!(
        "issued / expires:          {} / {}",
        issuing.issue_date, issuing.expiry_date
    );
    println!(
        "spec version / algorithm:  {} / {}",
        issuing.spec_version, data.algorithm
    );
    println!("genuine:                   {genuine}");
    if let Some(terminal) = &data.terminal_number {
        println!("terminal number (PSAM):    {terminal}");
    }
}
