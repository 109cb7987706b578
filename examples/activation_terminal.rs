//! A bank-outlet activation terminal (银行网点启用终端): the card in one reader, the outlet's
//! PSAM in another. The card is checked (the validity check of part 7 §5.4: genuine with the
//! PSAM, not expired, a PIN set) and the holder replaces the initial PIN `123456` set at
//! personalization ([design] D15) with their own (CHANGE PIN, part 7 §9).
//!
//! ```text
//! cargo run --example activation_terminal
//!     a simulated card (personalized on the fly with the TEST KEYS) and a simulated PSAM,
//!     in process, a demo PIN
//! cargo run --example activation_terminal -- --reader CARD --psam PSAM --new-pin-file FILE
//!     real PC/SC readers (a number, the full name or a unique part of it); the new PIN comes
//!     from the first line of FILE, never from the command line
//! ```
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use sscard::apdu::TriesLeft;
use sscard::crypto::Pin;
use sscard::keyholder::{KeyFile, KeyHolder, PsamKeyHolder};
use sscard::keys::RootKeys;
use sscard::lifecycle::{
    self, ActivateOptions, Card, PersonalizeOptions, PinStatus, ReadOptions, ValidityPolicy,
    Verdict,
};
use sscard::pcsc::{OpenOptions, PcscTransport, ReaderSelector};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, PsamSpec, SimCard, SimPsam, SimTransport};
use sscard::transport::Transport;
use sscard::Algorithm;
use zeroize::Zeroizing;

/// The public development keys of the simulator (TEST KEYS ONLY).
const TEST_KEYS: &str = include_str!("../fixtures/keys/test-keys.json");
/// What a failed CHANGE PIN from the initial PIN means at the counter.
const NOT_INITIAL: &str = "the card no longer has the initial PIN (already activated?)";
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
    let (mut reader, mut psam, mut new_pin_file) = (None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--reader" => reader = Some(value),
            "--psam" => psam = Some(value),
            "--new-pin-file" => new_pin_file = Some(value),
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
        None if psam.is_some() || new_pin_file.is_some() => {
            return Err("--psam and --new-pin-file go with --reader".into())
        }
        None => (simulated()?, Pin::new(DEMO_NEW_PIN)?),
    };

    // Is the card fit to be handed over? (part 7 §5.4, then the PIN question of §5.6)
    let policy = ValidityPolicy {
        today: Some(sscard::clock::today()?),
        ..ValidityPolicy::default()
    };
    let (verdict, issuing) = lifecycle::check_validity(&mut card, &mut psam, &policy)?;
    match verdict {
        Verdict::Valid {
            pin: PinStatus::Required { .. },
        } => {}
        Verdict::Valid {
            pin: PinStatus::Blocked,
        } => return Err("the card's PIN is blocked: the issuer must unblock it first".into()),
        Verdict::Valid {
            pin: PinStatus::NotSet,
        } => return Err("the card has no PIN: it was not personalized completely".into()),
        other => return Err(format!("card {} refused: {other:?}", issuing.card_number).into()),
    }
    // Who is it? The basic line with the PSAM's terminal number.
    let data = lifecycle::read_verified(&mut card, &mut psam, &ReadOptions::default())?;
    println!("{}", data.basic_line());
    println!("holder: {} ({})", data.holder.name, data.holder.ssn);

    // The holder's PIN replaces the initial one. The validity check has just proven the card
    // genuine, so activation does not ask the PSAM again.
    if let Err(e) = lifecycle::activate(&mut card, &new_pin, &ActivateOptions::default()) {
        return Err(match e {
            sscard::Error::WrongPin { tries_left } => {
                format!("{NOT_INITIAL}: {}", TriesLeft(tries_left)).into()
            }
            e => e.into(),
        });
    }
    // The holder tries the new PIN once at the counter.
    lifecycle::verify_pin(&mut card, &new_pin)?;
    println!(
        "activated: card {} now opens with the holder's PIN ({} card APDUs)",
        issuing.card_number,
        card.apdu_count()
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
    let roots = RootKeys::from_json(TEST_KEYS)?;
    let spec = CardSpec::new(
        Generation::V2,
        Algorithm::Sm4,
        "639900".parse()?,
        [0x00, 0x12, 0x34, 0x57],
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
    card.reset_apdu_count();

    let psam = SimPsam::from_root_keys(&roots, &PsamSpec::new(Algorithm::Sm4, "410100813475"))?;
    Ok((
        card,
        Box::new(PsamKeyHolder::open(SimTransport::new(psam))?),
    ))
}

/// The demo cardholder (a 2.0 card of region 639900).
const PERSON: &str = r#"{
    "ssn": "111111198101011110", "name": "张三", "sex": "1", "ethnicity": "01",
    "birthplace": "110101", "birth_date": "19810101", "card_number": "KD5578904",
    "generation": "2", "issue_date": "20150711", "expiry_date": "20350711",
    "region": "639900", "initializing_body": "915600000263990063990001"
}"#;
