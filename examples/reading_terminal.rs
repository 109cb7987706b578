//! A reading terminal (读卡终端): reads a social security card and prints the line of the
//! standard reading interface `iReadCardBas`, then the fields.
//!
//! ```text
//! cargo run --example reading_terminal
//!     a simulated 2.0/SM4 card, personalized on the fly, read with a simulated PSAM, in process
//! cargo run --example reading_terminal -- --reader NAME [--psam NAME | --keys FILE]
//!     the card in PC/SC reader NAME (a number, the full name or a unique part of it);
//!     --psam: a PSAM in another reader proves the card genuine (and 3.0 cards need it or keys);
//!     --keys: a development key file (chmod 600) instead of a PSAM
//! ```
//!
//! Try it against the virtual reader of a private pcscd: `scripts/pcscd-private.sh start`,
//! `eval "$(scripts/pcscd-private.sh env)"`, serve a card (`sscard sim serve`, or the vpcd API
//! of `sscard::sim::vpcd`), then `--reader "Virtual PCD 00 00"`.

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use sscard::keyholder::{KeyFile, KeyHolder, PsamKeyHolder};
use sscard::lifecycle::{self, Card, CardData, PersonalizeOptions, ReadOptions};
use sscard::pcsc::{OpenOptions, PcscTransport, ReaderSelector};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, SimCard, SimPsam, SimTransport};
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
    let (mut card, mut key_holder): Terminal = match &args.reader {
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

    // (The closure shortens the key holder's trait-object lifetime to this borrow.)
    let key_holder = key_holder.as_deref_mut().map(|k| k as &mut dyn KeyHolder);
    let data = lifecycle::read(&mut card, key_holder, &ReadOptions::default())?;
    println!("{}", data.basic_line());
    print_fields(&data);
    println!("({} APDUs to the card)", card.apdu_count());
    Ok(())
}

/// A blank simulated card personalized on the fly, and a simulated PSAM holding the same
/// development keys, both in process.
fn simulated() -> Result<Terminal, Box<dyn Error>> {
    let mut keys = KeyFile::from_json(TEST_KEYS)?;
    let spec = CardSpec::new(
        Generation::V2,
        Algorithm::Sm4,
        "639900".parse()?,
        [0x00, 0x12, 0x34, 0x56],
    );
    let blank: Box<dyn Transport> = Box::new(SimTransport::new(SimCard::blank(spec, &mut keys)?));
    let mut card = Card::open(blank)?;
    let person = sscard::data::PersonRecord::from_json(include_str!(
        "../fixtures/persons/zhang-san-2.json"
    ))?
    .validate()?;
    lifecycle::personalize(
        &mut card,
        &mut keys,
        &person,
        &PersonalizeOptions::default(),
    )?;
    card.channel_mut().reset_apdu_count();

    let psam = SimPsam::from_key_file(&keys, Algorithm::Sm4, "410100813475")?;
    let psam = PsamKeyHolder::open(SimTransport::new(psam))?;
    Ok((card, Some(Box::new(psam))))
}

fn print_fields(data: &CardData) {
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "not checked (no key holder)",
    };
    let (holder, issuing) = (&data.holder, &data.issuing);
    println!("name:                         {}", holder.name);
    println!("social security number:       {}", holder.ssn);
    println!(
        "sex / ethnicity:              {} / {}",
        holder.sex, holder.ethnicity
    );
    println!(
        "birth date / birthplace:      {} / {}",
        holder.birth_date, holder.birthplace
    );
    println!("card number:                  {}", issuing.card_number);
    println!("card identification code:     {}", issuing.card_id);
    println!(
        "issued / expires:             {} / {}",
        issuing.issue_date, issuing.expiry_date
    );
    println!(
        "generation / algorithm:       {} / {}",
        data.generation, data.algorithm
    );
    println!("application state:            {:?}", data.state);
    println!("genuine (internal auth):      {}", yes_no(data.genuine));
    println!(
        "card id issuer MAC verified:  {}",
        yes_no(data.card_id_mac_verified)
    );
    if let Some(terminal) = &data.terminal_number {
        println!("terminal number (PSAM):       {terminal}");
    }
}
