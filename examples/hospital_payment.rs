//! A hospital's payment terminal (医院收费窗口): the holder pays a bill from the medical
//! insurance account on the card, offline, with the terminal's PSAM (part 7 §12: INITIALIZE FOR
//! PURCHASE, MAC1 from the PSAM, DEBIT FOR PURCHASE, MAC2 checked by the PSAM; the TAC kept for
//! the medical insurance centre).
//!
//! The payment itself is three lines of the library:
//!
//! ```ignore
//! let request = PurchaseRequest::new(amounts, time).with_pin(&pin);
//! let receipt = account::purchase(&mut card, &mut psam, &request)?;
//! println!("paid, balance {} yuan, TAC {}", receipt.balance_after, hex::encode_upper(receipt.tac));
//! ```
//!
//! ```text
//! cargo run --example hospital_payment
//!     a simulated 3.0/SM4 card whose account holds 500.00 yuan and a simulated PSAM, in process
//! cargo run --example hospital_payment -- --reader NAME --psam NAME --pin-file FILE \
//!         --account YUAN [--self-pay YUAN] [--pooled YUAN]
//!     the card in PC/SC reader NAME, the PSAM in reader NAME; the holder's PIN from FILE
//! ```
//!
//! Try it on the virtual readers of a private pcscd (`scripts/pcscd-private.sh start`, then
//! `sscard sim serve` a card made with `sim new --medical-account` and a PSAM made with
//! `sim new-psam --medical-account`); `tests/pcscd_hospital_payment.rs` does exactly that.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use sscard::account::{Fen, PurchaseAmounts, TransactionTime};
use sscard::crypto::{KeyLevel, Pin};
use sscard::keyholder::{KeyFile, PsamKeyHolder};
use sscard::keys::RootKeys;
use sscard::lifecycle::account::{self, PurchaseRequest, Receipt};
use sscard::lifecycle::{self, Card, PersonalizeOptions};
use sscard::pcsc::{OpenOptions, PcscTransport, ReaderSelector};
use sscard::profile::Generation;
use sscard::sim::{AccountSpec, CardSpec, DataAreas, PsamSpec, SimCard, SimPsam, SimTransport};
use sscard::transport::Transport;
use sscard::Algorithm;

/// The public development keys of the simulator (TEST KEYS ONLY).
const TEST_KEYS: &str = include_str!("../fixtures/keys/test-keys.json");

/// What the terminal is told to do.
#[derive(Debug, Clone)]
pub struct Args {
    /// The card's PC/SC reader; none: everything simulated in process.
    pub reader: Option<String>,
    /// The PSAM's PC/SC reader.
    pub psam: Option<String>,
    /// The file holding the holder's PIN.
    pub pin_file: Option<PathBuf>,
    /// The bill: from the account, self-paid, paid by the pooled fund.
    pub amounts: PurchaseAmounts,
    /// The transaction time; `None`: the terminal's clock.
    pub time: Option<TransactionTime>,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            reader: None,
            psam: None,
            pin_file: None,
            amounts: PurchaseAmounts {
                account: Fen(12_850),
                self_pay: Fen(3_000),
                pooled: Fen(40_000),
            },
            time: None,
        }
    }
}

/// The terminal's time (China Standard Time).
fn now() -> Result<TransactionTime, Box<dyn Error>> {
    let (date, h, m, s) = sscard::clock::now()?;
    Ok(TransactionTime::new(date, h, m, s)?)
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--reader" => args.reader = Some(value()?),
            "--psam" => args.psam = Some(value()?),
            "--pin-file" => args.pin_file = Some(value()?.into()),
            "--account" => args.amounts.account = Fen::parse_yuan(&value()?)?,
            "--self-pay" => args.amounts.self_pay = Fen::parse_yuan(&value()?)?,
            "--pooled" => args.amounts.pooled = Fen::parse_yuan(&value()?)?,
            "--time" => args.time = Some(TransactionTime::parse(&value()?)?),
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
    match parse_args().and_then(|args| run(&args)) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the terminal: on the readers `args` names, or on a simulated card and PSAM.
pub fn run(args: &Args) -> Result<Receipt, Box<dyn Error>> {
    let (card, psam, pin): (Box<dyn Transport>, Box<dyn Transport>, Pin) =
        match (&args.reader, &args.psam, &args.pin_file) {
            (Some(reader), Some(psam), Some(pin_file)) => (
                pcsc_reader(reader)?,
                pcsc_reader(psam)?,
                read_pin(pin_file)?,
            ),
            _ => (
                Box::new(SimTransport::new(simulated_card()?)),
                Box::new(SimTransport::new(simulated_psam()?)),
                Pin::initial(),
            ),
        };
    let mut card = Card::open(card)?;
    let mut psam = PsamKeyHolder::open(psam)?;
    pay(&mut card, &mut psam, &pin, args)
}

/// The payment.
pub fn pay<T: Transport, P: Transport>(
    card: &mut Card<T>,
    psam: &mut PsamKeyHolder<P>,
    pin: &Pin,
    args: &Args,
) -> Result<Receipt, Box<dyn Error>> {
    let time = match args.time {
        Some(t) => t,
        None => now()?,
    };
    let request = PurchaseRequest::new(args.amounts, time).with_pin(pin);
    let receipt = account::purchase(card, psam, &request)?;

    let t = &receipt.transaction;
    println!(
        "card {}: paid {} yuan from the account (self-pay {}, pooled fund {}) at {}",
        t.card_number.as_str(),
        t.amounts.account,
        t.amounts.self_pay,
        t.amounts.pooled,
        t.time
    );
    println!(
        "balance {} → {} yuan; card serial {}, terminal {} serial {}",
        t.balance_before, receipt.balance_after, t.card_serial, t.terminal, t.terminal_serial
    );
    println!(
        "TAC {} for the medical insurance centre; MAC2 {:?} by the PSAM",
        hex::encode_upper(receipt.tac),
        receipt.mac2_check
    );
    Ok(receipt)
}

/// The PSAM a hospital has: the SSSE keys and the purchase key DPK.
pub fn psam_spec(algorithm: Algorithm, terminal: &str) -> PsamSpec {
    PsamSpec::new(algorithm, terminal)
        .with_account_keys()
        .with_all_levels(KeyLevel::National)
}

/// A simulated PSAM with terminal number 639900000042.
pub fn simulated_psam() -> Result<SimPsam, Box<dyn Error>> {
    let roots = RootKeys::from_json(TEST_KEYS)?;
    Ok(SimPsam::from_root_keys(
        &roots,
        &psam_spec(Algorithm::Sm4, "639900000042"),
    )?)
}

/// A 3.0/SM4 card with the medical account holding 500.00 yuan, personalized (PIN 123456).
pub fn simulated_card() -> Result<SimCard, Box<dyn Error>> {
    let roots = RootKeys::from_json(TEST_KEYS)?;
    let spec = CardSpec::new(
        Generation::V3,
        Algorithm::Sm4,
        "639900".parse()?,
        [0x00, 0x48, 0x50, 0x01],
    )
    .with_data_areas(
        DataAreas::national().with_account(AccountSpec::default().with_balance(50_000)),
    );
    let mut card = Card::open(SimTransport::new(SimCard::blank(spec, &roots)?))?;
    let person = sscard::data::PersonRecord::from_json(PERSON)?.validate()?;
    lifecycle::personalize(
        &mut card,
        &mut KeyFile::new(roots),
        &person,
        &PersonalizeOptions::default(),
    )?;
    let mut sim = card.into_transport().into_card();
    sim.reset();
    Ok(sim)
}

/// The demo cardholder (a 3.0 card of region 639900).
const PERSON: &str = r#"{
    "ssn": "111111198101011110", "name": "张三", "sex": "1", "ethnicity": "01",
    "birthplace": "110101", "birth_date": "19810101", "card_number": "KD5578904",
    "generation": "3", "issue_date": "20150711", "expiry_date": "20350711",
    "region": "639900", "initializing_body": "915600000263990063990001"
}"#;
