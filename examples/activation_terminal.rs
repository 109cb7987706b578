//! A bank-outlet activation terminal (银行网点启用终端): the card in one reader, the outlet's
//! PSAM in another. The card is checked (genuine with the PSAM, personalized, not blocked, not
//! expired) and the holder replaces the initial PIN with their own.
//!
//! ```text
//! cargo run --example activation_terminal
//!     a simulated card (personalized on the fly) and PSAM in process, demo PINs
//! cargo run --example activation_terminal -- --reader CARD --psam PSAM --new-pin-file FILE
//!                                            [--initial-pin-file FILE]
//!     real PC/SC readers (a number, the full name or a unique part of it); the PINs come from
//!     files (never from the command line); the initial PIN defaults to 123456
//! ```

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use sscard::crypto::Pin;
use sscard::keyholder::{KeyFile, KeyHolder, PsamKeyHolder};
use sscard::lifecycle::{self, Card, PersonalizeOptions, ReadOptions};
use sscard::pcsc::{OpenOptions, PcscTransport, ReaderSelector};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, SimCard, SimPsam, SimTransport};
use sscard::transport::Transport;
use sscard::Algorithm;
use zeroize::Zeroizing;

/// The public development keys of the simulator (TEST KEYS ONLY).
const TEST_KEYS: &str = include_str!("../fixtures/keys/test-keys.json");
/// The PIN the demo holder chooses in the simulated mode.
const DEMO_NEW_PIN: &str = "258036";

type Terminal = (Card<Box<dyn Transport>>, Box<dyn KeyHolder>);

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
    let mut reader = None;
    let mut psam = None;
    let mut new_pin_file = None;
    let mut initial_pin_file = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--reader" => reader = Some(value),
            "--psam" => psam = Some(value),
            "--new-pin-file" => new_pin_file = Some(value),
            "--initial-pin-file" => initial_pin_file = Some(value),
            _ => return Err(format!("unknown argument {flag:?}").into()),
        }
    }

    let ((mut card, mut psam), new_pin) = match reader {
        Some(reader) => {
            let psam = psam.ok_or("--psam is needed with --reader: activation needs a PSAM")?;
            let file = new_pin_file.ok_or("--new-pin-file is needed with --reader")?;
            (
                pcsc_terminal(&reader, &psam)?,
                pin_from_file(Path::new(&file))?,
            )
        }
        None => (simulated()?, Pin::new(DEMO_NEW_PIN)?),
    };
    let initial_pin = match initial_pin_file {
        Some(file) => pin_from_file(Path::new(&file))?,
        None => Pin::initial(),
    };

    // Who is it? (The PSAM proves the card genuine.)
    let data = lifecycle::read(&mut card, Some(psam.as_mut()), &ReadOptions::default())?;
    println!("{}", data.basic_line());
    println!("holder: {} ({})", data.holder.name, data.holder.ssn);

    let today = sscard::clock::today()?;
    lifecycle::activate(&mut card, psam.as_mut(), &initial_pin, &new_pin, today)?;
    // The holder tries the new PIN once at the counter.
    lifecycle::verify_pin(&mut card, &new_pin)?;
    println!(
        "activated: card {} now opens with the holder's PIN",
        data.issuing.card_number
    );
    Ok(())
}

/// The card and the PSAM in two PC/SC readers.
fn pcsc_terminal(card: &str, psam: &str) -> Result<Terminal, Box<dyn Error>> {
    let open = |name: &str| {
        PcscTransport::open(&OpenOptions {
            reader: Some(ReaderSelector::parse(name)),
            wait: Some(Duration::from_secs(5)),
            ..OpenOptions::default()
        })
    };
    let card: Box<dyn Transport> = Box::new(open(card)?);
    let psam = PsamKeyHolder::open(open(psam)?)?;
    Ok((Card::open(card)?, Box::new(psam)))
}

/// A PIN from the first line of a file.
fn pin_from_file(path: &Path) -> Result<Pin, Box<dyn Error>> {
    let text = Zeroizing::new(std::fs::read_to_string(path)?);
    let line = text.lines().next().unwrap_or_default().trim();
    Ok(Pin::new(line).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// A card personalized on the fly (initial PIN 123456) and a PSAM, simulated in process.
fn simulated() -> Result<Terminal, Box<dyn Error>> {
    let mut keys = KeyFile::from_json(TEST_KEYS)?;
    let spec = CardSpec::new(
        Generation::V2,
        Algorithm::Sm4,
        "639900".parse()?,
        [0x00, 0x12, 0x34, 0x57],
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

    let psam = SimPsam::from_key_file(&keys, Algorithm::Sm4, "410100813475")?;
    Ok((
        card,
        Box::new(PsamKeyHolder::open(SimTransport::new(psam))?),
    ))
}
