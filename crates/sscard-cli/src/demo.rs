//! `sscard demo`: the main job on a simulated card in memory, with the embedded test keys:
//! personalize → read (genuine) → activate → wrong PIN → right PIN → block → read refused,
//! each step with the APDUs it took.

use sscard_cli::documents::{DemoDocument, DemoStep};
use sscard_core::crypto::Pin;
use sscard_core::data::{BcdDate, PersonRecord, Personalization};
use sscard_core::lifecycle::{
    self, ActivateOptions, Card, PersonalizeOptions, PinStatus, ReadOptions,
};
use sscard_core::profile::Generation;
use sscard_core::Algorithm;
use sscard_sim::{CardSpec, SimCard, SimTransport};

use crate::cli::{GlobalOpts, OutputFormat};
use crate::context;
use crate::context::today;
use crate::error::{CliError, CliResult};
use crate::output::{basic_not_supported, print_document};

/// The holder's new PIN of the demo (never printed: the trace redacts it).
const DEMO_PIN: &str = "860412";
/// The wrong PIN the demo tries.
const WRONG_PIN: &str = "000001";

/// The demo's person: fictitious, with dates around today so the card is valid, and the
/// initializing body number of V2.0 notice §8.1.1.4 (`9156000002` ‖ issuing region ‖ the
/// initializing body's region ‖ sequence).
fn demo_person(today: BcdDate) -> CliResult<Personalization> {
    let expiry = today
        .plus_years(10)
        .map_err(|e| CliError::Other(e.to_string()))?;
    let record = PersonRecord {
        ssn: "111111198101011110".into(),
        name: "张三".into(),
        sex: "1".into(),
        ethnicity: "01".into(),
        birthplace: "110101".into(),
        birth_date: "19810101".into(),
        card_number: "KD5578904".into(),
        card_type: "3".into(),
        generation: "2".into(),
        issue_date: today.to_string(),
        expiry_date: expiry.to_string(),
        region: "639900".into(),
        initializing_body: "915600000263990063990001".into(),
    };
    record
        .validate()
        .map_err(|e| CliError::Other(format!("demo person: {e}")))
}

fn demo_pin(digits: &str) -> CliResult<Pin> {
    Pin::new(digits).map_err(|e| CliError::Other(e.to_string()))
}

/// `sscard demo`.
pub fn demo(global: &GlobalOpts) -> CliResult<()> {
    basic_not_supported(global, "demo")?;
    let today = today()?;
    let person = demo_person(today)?;
    let mut keys = context::test_keys()?;
    let serial: [u8; 4] = rand::random();
    let spec = CardSpec::new(Generation::V2, Algorithm::Tdes, person.region(), serial)
        .with_card_serial(serial);
    let blank = SimCard::blank(spec, keys.roots())
        .map_err(|e| CliError::KeyHolder(format!("the demo card: {e}")))?;
    let mut card = Card::open(SimTransport::new(blank))?;
    let start = std::time::Instant::now();
    if global.tracing() {
        let mut last = std::time::Instant::now();
        card.set_tracer(Some(Box::new(move |e| {
            let now = std::time::Instant::now();
            eprintln!("{e} (+{:.1} ms)", (now - last).as_secs_f64() * 1000.0);
            last = now;
        })));
    }
    let json = global.output_format == OutputFormat::Json;
    let mut steps = Vec::new();
    let mut step = |card: &mut Card<SimTransport<SimCard>>, name: &str, outcome: String| {
        let apdus = card.apdu_count();
        card.reset_apdu_count();
        if json {
            steps.push(DemoStep {
                step: name.to_owned(),
                apdus,
                result: outcome,
            });
        } else {
            let unit = if apdus == 1 { "APDU " } else { "APDUs" };
            println!("{name:<34} {apdus:>3} {unit}  {outcome}");
        }
    };
    if !json {
        println!(
            "sscard demo: a blank simulated 2.0 card (3DES, serial {}), the embedded TEST KEYS",
            hex::encode_upper(serial)
        );
    }

    let report = lifecycle::personalize(
        &mut card,
        &mut keys,
        &person,
        &PersonalizeOptions::default(),
    )?;
    step(
        &mut card,
        "1. personalize",
        format!(
            "card {} for 张三, initial PIN 123456 set",
            report.card_number
        ),
    );

    let data = lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default())?;
    step(&mut card, "2. read (genuine: IRK)", data.basic_line());

    let new_pin = demo_pin(DEMO_PIN)?;
    lifecycle::activate_verified(&mut card, &mut keys, &new_pin, &ActivateOptions::default())?;
    step(
        &mut card,
        "3. activate (new PIN)",
        "the holder's PIN is set".into(),
    );

    let outcome = match lifecycle::verify_pin(&mut card, &demo_pin(WRONG_PIN)?) {
        Err(e) => format!("refused as expected: {e}"),
        Ok(()) => "unexpectedly accepted".into(),
    };
    step(&mut card, "4. verify a wrong PIN", outcome);

    lifecycle::verify_pin(&mut card, &new_pin)?;
    let outcome = match lifecycle::pin_status(&mut card)? {
        PinStatus::Required { tries_left } => format!(
            "PIN verified, {} left",
            crate::progress::count(u64::from(tries_left), "try", "tries")
        ),
        other => format!("PIN verified ({other:?})"),
    };
    step(&mut card, "5. verify the right PIN", outcome);

    lifecycle::block_application(&mut card, &mut keys)?;
    step(
        &mut card,
        "6. block (lost card reported)",
        "the application is permanently blocked".into(),
    );

    let outcome = match lifecycle::read(&mut card) {
        Err(e) => format!("refused as expected: {e}"),
        Ok(_) => "the card still reads: NOT blocked".into(),
    };
    step(&mut card, "7. read after the block", outcome);

    if json {
        print_document(&DemoDocument {
            steps,
            elapsed_ms: start.elapsed().as_millis() as u64,
        });
    } else {
        println!("done in {:.1} ms", start.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(())
}
