//! The single-card subcommands: readers, read, personalize, activate, pin, block, unblock, apdu,
//! sim, demo, man, completions. (`batch` lives in its own module.)

use std::path::Path;

use serde_json::json;
use sscard_core::apdu::{Command as Apdu, StatusWord};
use sscard_core::channel::Channel;
use sscard_core::crypto::Pin;
use sscard_core::data::{BcdDate, PersonRecord, Personalization, RegionCode};
use sscard_core::lifecycle::{self, Card, CardData, PersonalizeOptions, ReadOptions};
use sscard_core::profile::Generation;
use sscard_sim::{CardOptions, CardSpec, SimCard};
use zeroize::Zeroizing;

use crate::cli::{
    ActivateArgs, ApduArgs, BlockArgs, GlobalOpts, OutputFormat, PersonalizeArgs, PinCommand,
    ReadArgs, SimNewArgs, SimNewPsamArgs,
};
use crate::context::{self, finish_card, open_card, require_key_holder, Timed};
use crate::error::{CliError, CliResult};
use crate::pin;

/// Prints a JSON value on one line.
fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

pub(crate) fn basic_not_supported(global: &GlobalOpts, what: &str) -> CliResult<()> {
    if global.output_format == OutputFormat::Basic {
        return Err(CliError::BadInput(format!(
            "--output-format basic is for `read` only, not `{what}`"
        )));
    }
    Ok(())
}

/// Today in China Standard Time.
pub fn today() -> CliResult<BcdDate> {
    sscard::clock::today().map_err(|e| CliError::Other(format!("system clock: {e}")))
}

// ---------------------------------------------------------------------------------------------
// readers

/// `sscard readers`.
pub fn readers(global: &GlobalOpts) -> CliResult<()> {
    basic_not_supported(global, "readers")?;
    let mut pcsc = sscard_pcsc::Pcsc::establish()?;
    let readers = pcsc.list_readers()?;
    match global.output_format {
        OutputFormat::Json => {
            let list: Vec<_> = readers
                .iter()
                .map(|r| {
                    json!({
                        "index": r.index,
                        "name": r.name,
                        "card_present": r.card_present,
                        "in_use": r.in_use,
                        "exclusive": r.exclusive,
                        "atr": r.atr.as_ref().map(hex::encode_upper),
                    })
                })
                .collect();
            print_json(&json!({"schema": "sscard.readers/1", "readers": list}));
        }
        _ => {
            if readers.is_empty() {
                println!("no readers");
            }
            for r in &readers {
                let state = match (r.card_present, r.exclusive, r.in_use) {
                    (false, _, _) => "empty",
                    (true, true, _) => "card (exclusive use)",
                    (true, false, true) => "card (in use)",
                    (true, false, false) => "card",
                };
                let atr = r.atr.as_ref().map(hex::encode_upper).unwrap_or_default();
                println!("{}  {:<40} {:<22} {}", r.index, r.name, state, atr);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// read

/// The JSON document of `read` (schema `sscard.read/1`).
pub fn read_json(data: &CardData, today: Option<BcdDate>) -> serde_json::Value {
    let issuing = &data.issuing;
    let holder = &data.holder;
    json!({
        "schema": "sscard.read/1",
        "atr": hex::encode_upper(&data.atr),
        "historical_bytes": data.historical_bytes_hex(),
        "algorithm": data.algorithm.to_string(),
        "generation": data.generation.spec_version(),
        "state": data.state.map(|s| format!("{s:?}").to_lowercase()),
        "expired": today.map(|t| issuing.expiry_date <= t),
        "card_issuing_data": {
            "card_id": issuing.card_id.to_string(),
            "region": issuing.card_id.region.to_string(),
            "card_type": issuing.card_type.to_string(),
            "spec_version": issuing.spec_version,
            "initializing_body": issuing.initializing_body,
            "issue_date": issuing.issue_date.to_string(),
            "expiry_date": issuing.expiry_date.to_string(),
            "card_number": issuing.card_number.to_string(),
        },
        "holder": {
            "ssn": holder.ssn.to_string(),
            "name": holder.name.to_string(),
            "sex": holder.sex.code().to_string(),
            "ethnicity": holder.ethnicity.to_string(),
            "birthplace": holder.birthplace.to_string(),
            "birth_date": holder.birth_date.to_string(),
        },
        "supplementary": data.supplementary.as_ref().map(|s| json!({
            "person_id": s.person_id(),
            "first_region": s.first_region.to_string(),
        })),
        "genuine": data.genuine,
        "card_id_mac_verified": data.card_id_mac_verified,
        "terminal_number": data.terminal_number,
        "basic_line": data.basic_line(),
    })
}

fn print_read_text(data: &CardData, today: Option<BcdDate>) {
    let i = &data.issuing;
    let h = &data.holder;
    let state = data
        .state
        .map(|s| format!("{s:?}").to_lowercase())
        .unwrap_or_else(|| "unknown".into());
    let expired = today.is_some_and(|t| i.expiry_date <= t);
    println!("Card number        {}", i.card_number);
    println!("Card id            {}", i.card_id);
    println!("Region             {}", i.card_id.region);
    println!(
        "Card               type {}, spec {}, {}, {}",
        i.card_type, i.spec_version, data.algorithm, state
    );
    println!("Initializing body  {}", i.initializing_body);
    println!("Issued             {}", i.issue_date);
    println!(
        "Expires            {}{}",
        i.expiry_date,
        if expired { "  (EXPIRED)" } else { "" }
    );
    println!("Name               {}", h.name);
    println!("SSN                {}", h.ssn);
    println!("Sex                {} ({})", h.sex.code(), h.sex);
    println!("Ethnicity          {}", h.ethnicity);
    println!("Birthplace         {}", h.birthplace);
    println!("Birth date         {}", h.birth_date);
    if let Some(s) = &data.supplementary {
        println!("Person id          {}", s.person_id());
        println!("First region       {}", s.first_region);
    }
    println!("ATR                {}", hex::encode_upper(&data.atr));
    let check = |v: Option<bool>| match v {
        Some(true) => "verified",
        Some(false) => "FAILED",
        None => "not checked (no key holder)",
    };
    println!("Genuine            {}", check(data.genuine));
    println!("Card id MAC        {}", check(data.card_id_mac_verified));
    if let Some(t) = &data.terminal_number {
        println!("Terminal number    {t}");
    }
}

/// `sscard read`.
pub fn read(global: &GlobalOpts, args: &ReadArgs) -> CliResult<()> {
    let mut key_holder = context::key_holder(global)?;
    let mut card = open_card(global)?;
    let options = ReadOptions::default()
        .with_supplementary(args.supplementary)
        .with_verify_genuine(!args.no_verify)
        .with_verify_card_id(!args.no_verify);
    let result = lifecycle::read(
        &mut card,
        key_holder
            .as_deref_mut()
            .map(|k| k as &mut dyn sscard_core::keyholder::KeyHolder),
        &options,
    );
    let data = finish_card(card, result.map_err(CliError::from))?;
    let today = today().ok();
    match global.output_format {
        OutputFormat::Basic => println!("{}", data.basic_line()),
        OutputFormat::Json => print_json(&read_json(&data, today)),
        OutputFormat::Text => print_read_text(&data, today),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// personalize

/// Reads and validates a person record file.
pub fn load_person(path: &Path) -> CliResult<Personalization> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::BadInput(format!("person record {}: {e}", path.display())))?;
    PersonRecord::from_json(&text)
        .and_then(|r| r.validate())
        .map_err(|e| CliError::BadInput(format!("person record {}: {e}", path.display())))
}

/// `sscard personalize`.
pub fn personalize(global: &GlobalOpts, args: &PersonalizeArgs) -> CliResult<()> {
    basic_not_supported(global, "personalize")?;
    let person = load_person(&args.person)?;
    let mut key_holder = require_key_holder(global, "personalization")?;
    let mut card = open_card(global)?;
    let options = PersonalizeOptions::default()
        .with_repersonalize(args.repersonalize)
        .with_verify(!args.no_verify);
    let result = lifecycle::personalize(&mut card, key_holder.as_mut(), &person, &options);
    let apdus = card.apdu_count();
    let report = finish_card(card, result.map_err(CliError::from))?;
    match global.output_format {
        OutputFormat::Json => print_json(&json!({
            "schema": "sscard.personalize/1",
            "card_id": report.card_id.to_string(),
            "card_number": report.card_number,
            "atr": report.atr,
            "generation": report.generation.spec_version(),
            "repersonalized": report.repersonalized,
            "completed_interrupted": report.completed_interrupted,
            "apdus": apdus,
        })),
        _ => {
            println!(
                "personalized card {} (card id {}, {}) in {apdus} APDUs",
                report.card_number,
                report.card_id,
                report.generation.spec_version()
            );
            if report.completed_interrupted {
                println!("(an interrupted personalization of this card was completed)");
            }
        }
    }
    if let Ok(t) = today() {
        if person.expiry_date() <= t {
            eprintln!("warning: the card's expiry date has already passed");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// activate, PIN

fn simple_output(global: &GlobalOpts, schema: &str, message: &str, extra: serde_json::Value) {
    match global.output_format {
        OutputFormat::Json => {
            let mut doc = json!({"schema": schema, "result": "ok", "message": message});
            if let (Some(obj), serde_json::Value::Object(more)) = (doc.as_object_mut(), extra) {
                obj.extend(more);
            }
            print_json(&doc);
        }
        _ => println!("{message}"),
    }
}

/// `sscard activate`.
pub fn activate(global: &GlobalOpts, args: &ActivateArgs) -> CliResult<()> {
    basic_not_supported(global, "activate")?;
    let initial = pin::current_pin(&args.pin, Some(Pin::initial()), "Initial PIN: ")?;
    let mut key_holder = require_key_holder(global, "activation")?;
    let new = pin::new_pin(&args.new_pin)?;
    let today = today()?;
    let mut card = open_card(global)?;
    let result = lifecycle::activate(&mut card, key_holder.as_mut(), &initial, &new, today);
    let report = finish_card(card, result.map_err(CliError::from))?;
    simple_output(
        global,
        "sscard.activate/1",
        &format!(
            "card {} activated: the holder's PIN is set",
            report.issuing.card_number
        ),
        json!({"card_number": report.issuing.card_number.to_string()}),
    );
    Ok(())
}

/// `sscard pin ...`.
pub fn pin_command(global: &GlobalOpts, command: &PinCommand) -> CliResult<()> {
    basic_not_supported(global, "pin")?;
    match command {
        PinCommand::Verify(source) => {
            let pin = pin::current_pin(source, None, "PIN: ")?;
            let mut card = open_card(global)?;
            let result = lifecycle::verify_pin(&mut card, &pin);
            finish_card(card, result.map_err(CliError::from))?;
            simple_output(global, "sscard.pin/1", "PIN verified", json!({}));
        }
        PinCommand::Change { pin: old, new_pin } => {
            let old = pin::current_pin(old, None, "Current PIN: ")?;
            let new = pin::new_pin(new_pin)?;
            let mut card = open_card(global)?;
            let result = lifecycle::change_pin(&mut card, &old, &new);
            finish_card(card, result.map_err(CliError::from))?;
            simple_output(global, "sscard.pin/1", "PIN changed", json!({}));
        }
        PinCommand::Unblock => {
            let mut kh = require_key_holder(global, "PIN unblock")?;
            let mut card = open_card(global)?;
            let result = lifecycle::unblock_pin(&mut card, kh.as_mut());
            finish_card(card, result.map_err(CliError::from))?;
            simple_output(
                global,
                "sscard.pin/1",
                "PIN try counter reset (the PIN is unchanged)",
                json!({}),
            );
        }
        PinCommand::Reload(source) => {
            let mut kh = require_key_holder(global, "PIN reload")?;
            let new = pin::new_pin(source)?;
            let mut card = open_card(global)?;
            let result = lifecycle::reload_pin(&mut card, kh.as_mut(), &new);
            finish_card(card, result.map_err(CliError::from))?;
            simple_output(
                global,
                "sscard.pin/1",
                "new PIN set by the issuer",
                json!({}),
            );
        }
        PinCommand::Tries => {
            let mut card = open_card(global)?;
            let result = lifecycle::pin_tries_left(&mut card);
            let tries = finish_card(card, result.map_err(CliError::from))?;
            simple_output(
                global,
                "sscard.pin/1",
                &format!("{tries} PIN tries left"),
                json!({"tries_left": tries}),
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// block / unblock

/// `sscard block`.
pub fn block(global: &GlobalOpts, args: &BlockArgs) -> CliResult<()> {
    basic_not_supported(global, "block")?;
    let mut kh = require_key_holder(global, "blocking")?;
    let mut card = open_card(global)?;
    let result = if args.card {
        lifecycle::block_card(&mut card, kh.as_mut())
    } else {
        lifecycle::block_application(&mut card, kh.as_mut(), args.permanent)
    };
    finish_card(card, result.map_err(CliError::from))?;
    let what = if args.card {
        "the whole card is blocked (permanent)"
    } else if args.permanent {
        "the application is permanently blocked"
    } else {
        "the application is blocked (lift with `sscard unblock`)"
    };
    simple_output(global, "sscard.block/1", what, json!({}));
    Ok(())
}

/// `sscard unblock`.
pub fn unblock(global: &GlobalOpts) -> CliResult<()> {
    basic_not_supported(global, "unblock")?;
    let mut kh = require_key_holder(global, "unblocking")?;
    let mut card = open_card(global)?;
    let result = lifecycle::unblock_application(&mut card, kh.as_mut());
    finish_card(card, result.map_err(CliError::from))?;
    simple_output(
        global,
        "sscard.unblock/1",
        "the application is unblocked",
        json!({}),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// apdu

/// Instructions whose command data is a secret (PIN, cryptogram, PIN block).
const SENSITIVE_INS: [u8; 5] = [0x20, 0x5E, 0x24, 0x82, 0xFA];

fn parse_hex(text: &str, origin: &str) -> CliResult<Vec<u8>> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(&clean).map_err(|e| CliError::BadInput(format!("{origin}: not hex: {e}")))
}

fn apdu_command(bytes: &[u8], origin: &str) -> CliResult<Apdu> {
    let parsed = Apdu::parse(bytes).map_err(|e| CliError::BadInput(format!("{origin}: {e}")))?;
    if SENSITIVE_INS.contains(&parsed.ins) && !parsed.data().is_empty() {
        let mut c = Apdu::new(parsed.cla, parsed.ins, parsed.p1, parsed.p2)
            .with_sensitive_data(Zeroizing::new(parsed.data().to_vec()));
        if let Some(le) = parsed.le() {
            c = c.with_le(le);
        }
        return Ok(c);
    }
    Ok(parsed)
}

/// `sscard apdu`.
pub fn apdu(global: &GlobalOpts, args: &ApduArgs) -> CliResult<()> {
    basic_not_supported(global, "apdu")?;
    let mut commands = Vec::new();
    if let Some(script) = &args.script {
        let text = std::fs::read_to_string(script)
            .map_err(|e| CliError::BadInput(format!("script {}: {e}", script.display())))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let origin = format!("{} line {}", script.display(), n + 1);
            commands.push(apdu_command(&parse_hex(line, &origin)?, &origin)?);
        }
    } else {
        for (n, a) in args.apdus.iter().enumerate() {
            let origin = format!("APDU {}", n + 1);
            commands.push(apdu_command(&parse_hex(a, &origin)?, &origin)?);
        }
    }
    let specs = context::reader_specs(global);
    let spec = match specs.as_slice() {
        [one] => one.clone(),
        _ => return Err(CliError::BadInput("give --reader once".into())),
    };
    let timed = Timed::new(context::open_transport(&spec, global.wait)?);
    let last = timed.last_micros();
    let mut channel = Channel::new(timed);
    if global.trace {
        channel.set_tracer(Some(context::tracer("card", last)));
    }
    let mut results = Vec::new();
    let mut failure = None;
    for c in &commands {
        match channel.send(c) {
            Ok(response) => {
                // rendered by the library's one redacting renderer, as --trace does
                let shown = sscard_core::channel::render_exchange(c, Some(&response));
                match global.output_format {
                    OutputFormat::Json => results.push(json!({
                        "command": shown.command,
                        "response": shown.response,
                        "sw": format!("{:04X}", u16::from(response.sw())),
                    })),
                    _ => {
                        println!("Sending: {}", shown.command);
                        println!("Received: {}{}", shown.response, describe(response.sw()));
                    }
                }
            }
            Err(e) => {
                failure = Some(CliError::Card(e.into()));
                break;
            }
        }
    }
    if global.output_format == OutputFormat::Json {
        print_json(&json!({"schema": "sscard.apdu/1", "responses": results}));
    }
    let saved = channel.into_inner().finish();
    if let Some(e) = failure {
        return Err(e);
    }
    saved
}

fn describe(sw: StatusWord) -> String {
    if sw.is_ok() {
        String::new()
    } else {
        format!("  ({})", sw.description())
    }
}

// ---------------------------------------------------------------------------------------------
// sim

fn check_new_file(path: &Path, force: bool) -> CliResult<()> {
    if path.exists() && !force {
        return Err(CliError::BadInput(format!(
            "{} exists (use --force to overwrite)",
            path.display()
        )));
    }
    Ok(())
}

fn manufacturing_keys(global: &GlobalOpts) -> CliResult<sscard_core::keyholder::KeyFile> {
    if global.psam.is_some() {
        return Err(CliError::KeyHolder(
            "a simulated card is manufactured with a key file (--keys), not a PSAM".into(),
        ));
    }
    match &global.keys {
        Some(path) => {
            sscard::keyfile::load_key_file(path).map_err(|e| CliError::KeyHolder(e.to_string()))
        }
        None => context::test_keys(),
    }
}

/// A blank simulated card, its card keys derived from `keys`' master keys.
pub fn blank_card(
    keys: &mut sscard_core::keyholder::KeyFile,
    generation: Generation,
    algorithm: sscard_core::Algorithm,
    region: RegionCode,
    serial: [u8; 4],
    t0: bool,
) -> CliResult<SimCard> {
    let options = CardOptions {
        t0_mode: t0,
        ..CardOptions::default()
    };
    let spec = CardSpec::new(generation, algorithm, region, serial).with_options(options);
    SimCard::blank(spec, keys).map_err(|e| CliError::KeyHolder(format!("manufacturing: {e}")))
}

/// `sscard sim new`.
pub fn sim_new(global: &GlobalOpts, args: &SimNewArgs) -> CliResult<()> {
    basic_not_supported(global, "sim new")?;
    check_new_file(&args.out, args.force)?;
    let person = args.person.as_deref().map(load_person).transpose()?;
    let (generation, region) = match &person {
        Some(p) => (p.generation(), p.region()),
        None => (
            Generation::from_number(args.generation)
                .ok_or_else(|| CliError::BadInput("generation must be 1, 2 or 3".into()))?,
            RegionCode::parse(&args.region)
                .map_err(|e| CliError::BadInput(format!("--region: {e}")))?,
        ),
    };
    let serial: [u8; 4] = match &args.serial {
        Some(s) => parse_hex(s, "--serial")?
            .try_into()
            .map_err(|_| CliError::BadInput("--serial: 8 hex digits".into()))?,
        None => rand::random(),
    };
    let mut keys = manufacturing_keys(global)?;
    let algorithm = args.algorithm.into();
    let card = blank_card(&mut keys, generation, algorithm, region, serial, args.t0)?;
    let card =
        match &person {
            None => card,
            Some(p) => {
                let timed = Timed::new(context::AnyTransport::Sim(Box::new(
                    context::SimSlot::new(card, args.out.clone(), true),
                )));
                let last = timed.last_micros();
                let mut c = Card::open(timed)?;
                if global.trace {
                    c.set_tracer(Some(context::tracer("card", last)));
                }
                lifecycle::personalize(&mut c, &mut keys, p, &PersonalizeOptions::default())?;
                match c.into_transport().inner() {
                    context::AnyTransport::Sim(slot) => {
                        SimCard::from_image(slot.card().image().clone())
                            .map_err(|e| CliError::Other(e.to_string()))?
                    }
                    _ => return Err(CliError::Other("unexpected transport".into())),
                }
            }
        };
    card.save(&args.out)
        .map_err(|e| CliError::Other(format!("cannot write {}: {e}", args.out.display())))?;
    simple_output(
        global,
        "sscard.sim-new/1",
        &format!(
            "{} simulated card {} ({}, {}, region {}, serial {}) written to {}",
            if person.is_some() {
                "personalized"
            } else {
                "blank"
            },
            hex::encode_upper(card.atr()),
            generation.spec_version(),
            algorithm,
            region,
            hex::encode_upper(serial),
            args.out.display()
        ),
        json!({"image": args.out.display().to_string(), "atr": hex::encode_upper(card.atr())}),
    );
    Ok(())
}

/// `sscard sim new-psam`.
pub fn sim_new_psam(global: &GlobalOpts, args: &SimNewPsamArgs) -> CliResult<()> {
    basic_not_supported(global, "sim new-psam")?;
    check_new_file(&args.out, args.force)?;
    let keys = manufacturing_keys(global)?;
    crate::psam_image::save(
        &args.out,
        &keys,
        args.algorithm.into(),
        &args.terminal_number,
    )?;
    simple_output(
        global,
        "sscard.sim-new-psam/1",
        &format!("simulated PSAM written to {}", args.out.display()),
        json!({"image": args.out.display().to_string()}),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// demo

/// The demo's person: the fixture person with dates around today, so the card is valid.
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
        initializing_body: "639900000001".into(),
        person_id: Some("P63990012345".into()),
        first_region: Some("639900".into()),
    };
    record
        .validate()
        .map_err(|e| CliError::Other(format!("demo person: {e}")))
}

/// `sscard demo`.
pub fn demo(global: &GlobalOpts) -> CliResult<()> {
    basic_not_supported(global, "demo")?;
    let today = today()?;
    let person = demo_person(today)?;
    let mut keys = context::test_keys()?;
    let serial: [u8; 4] = rand::random();
    let region = person.region();
    let sim = sscard_sim::SimTransport::new(blank_card(
        &mut keys,
        Generation::V2,
        sscard_core::Algorithm::Tdes,
        region,
        serial,
        false,
    )?);
    let mut card = Card::open(sim)?;
    let start = std::time::Instant::now();
    if global.trace {
        let mut last = std::time::Instant::now();
        card.set_tracer(Some(Box::new(move |e| {
            let now = std::time::Instant::now();
            eprintln!("{e} (+{:.1} ms)", (now - last).as_secs_f64() * 1000.0);
            last = now;
        })));
    }
    let json = global.output_format == OutputFormat::Json;
    let mut steps = Vec::new();
    let mut step =
        |card: &mut Card<sscard_sim::SimTransport<SimCard>>, name: &str, outcome: String| {
            let apdus = card.apdu_count();
            card.channel_mut().reset_apdu_count();
            if json {
                steps.push(json!({"step": name, "apdus": apdus, "result": outcome}));
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
        format!("card {} for 张三, initial PIN set", report.card_number),
    );
    let data = lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default())?;
    step(
        &mut card,
        "2. read (genuine, card id MAC)",
        data.basic_line(),
    );
    let new_pin = Pin::new("860412").map_err(|e| CliError::Other(e.to_string()))?;
    lifecycle::activate(&mut card, &mut keys, &Pin::initial(), &new_pin, today)?;
    step(
        &mut card,
        "3. activate (new PIN)",
        "the holder's PIN is set".into(),
    );
    let wrong = Pin::new("000001").map_err(|e| CliError::Other(e.to_string()))?;
    let outcome = match lifecycle::verify_pin(&mut card, &wrong) {
        Err(e) => format!("refused as expected: {e}"),
        Ok(()) => "unexpectedly accepted".into(),
    };
    step(&mut card, "4. verify a wrong PIN", outcome);
    lifecycle::verify_pin(&mut card, &new_pin)?;
    let tries = lifecycle::pin_tries_left(&mut card)?;
    step(
        &mut card,
        "5. verify the right PIN",
        format!("PIN verified, {tries} tries left"),
    );
    lifecycle::block_application(&mut card, &mut keys, false)?;
    let outcome = match lifecycle::read(&mut card, None, &ReadOptions::default()) {
        Err(e) => format!("blocked; a read now fails: {e}"),
        Ok(_) => "blocked, but a read still works".into(),
    };
    step(&mut card, "6. block (lost card reported)", outcome);
    lifecycle::unblock_application(&mut card, &mut keys)?;
    let data = lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default())?;
    step(
        &mut card,
        "7. unblock and read again",
        format!("card {} readable again", data.issuing.card_number),
    );
    if json {
        print_json(&json!({
            "schema": "sscard.demo/1",
            "steps": steps,
            "elapsed_ms": start.elapsed().as_millis() as u64,
        }));
    } else {
        println!("done in {} ms", start.elapsed().as_millis());
    }
    Ok(())
}
