//! The single-card subcommands: readers, read, personalize, activate, pin, block, bank-account,
//! apdu. (`batch`, `sim`, `keys` and `demo` live in their own modules.)

use std::path::Path;

use sscard_cli::documents::{
    ActivateDocument, ApduDocument, ApduExchange, BankAccountDocument, BlockDocument, BlockScope,
    Outcome, PersonalizeDocument, PinDocument, ReadDocument, ReaderEntry, ReadersDocument,
    Validity,
};
use sscard_core::apdu::{Command as Apdu, StatusWord};
use sscard_core::data::{BcdDate, PersonRecord, Personalization};
use sscard_core::keyholder::KeyHolder;
use sscard_core::lifecycle::{
    self, ActivateOptions, Card, CardData, PersonalizeOptions, PersonalizeReport, PinStatus,
    ReadOptions, ValidityPolicy, Verdict,
};

use crate::cli::{
    ActivateArgs, ApduArgs, BlockArgs, GlobalOpts, OutputFormat, PersonalizeArgs, PinCommand,
    ReadArgs,
};
use crate::context::{self, finish_card, open_card, require_key_holder, today, Timed};
use crate::error::{CliError, CliResult};
use crate::output::{
    basic_not_supported, pin_status_text, print_document, print_result, verdict_problem,
};
use crate::pin;

// ---------------------------------------------------------------------------------------------
// readers

/// `sscard readers`.
pub fn readers(global: &GlobalOpts) -> CliResult<()> {
    basic_not_supported(global, "readers")?;
    let mut pcsc = sscard_pcsc::Pcsc::establish()?;
    let readers = pcsc.list_readers()?;
    match global.output_format {
        OutputFormat::Json => {
            let readers = readers
                .iter()
                .map(|r| ReaderEntry {
                    index: r.index,
                    name: r.name.clone(),
                    card_present: r.card_present,
                    in_use: r.in_use,
                    exclusive: r.exclusive,
                    atr: r.atr.as_ref().map(hex::encode_upper),
                })
                .collect();
            print_document(&ReadersDocument { readers });
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

/// The document of `read`.
fn read_document(data: CardData, today: Option<BcdDate>, verdict: Option<Verdict>) -> ReadDocument {
    ReadDocument {
        historical_bytes: data.historical_bytes_hex(),
        expired: today.map(|t| data.issuing.expiry_date < t),
        basic_line: data.basic_line(),
        validity: verdict.map(|verdict| Validity {
            problem: verdict_problem(&verdict),
            verdict,
        }),
        card: data,
    }
}

fn print_read_text(data: &CardData, today: Option<BcdDate>, verdict: Option<&Verdict>) {
    let i = &data.issuing;
    let h = &data.holder;
    let expired = today.is_some_and(|t| i.expiry_date < t);
    println!("Card number        {}", i.card_number);
    println!("Card id            {}", i.card_id);
    println!("Region             {}", i.card_id.region);
    println!(
        "Card               type {}, spec {}, {}",
        i.card_type, i.spec_version, data.algorithm
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
    println!("ATR                {}", hex::encode_upper(&data.atr));
    let genuine = match data.genuine {
        Some(true) => "verified (INTERNAL AUTHENTICATION with IRK)",
        Some(false) => "FAILED (INTERNAL AUTHENTICATION with IRK)",
        None => "not checked (no key holder, or --no-verify)",
    };
    println!("Genuine            {genuine}");
    if let Some(t) = &data.terminal_number {
        println!("Terminal number    {t}");
    }
    if let Some(v) = verdict {
        match (v, verdict_problem(v)) {
            (Verdict::Valid { pin }, _) => {
                println!("Validity           valid (part 7 §5.4)");
                println!("PIN                {}", pin_status_text(*pin));
            }
            (_, Some(problem)) => println!("Validity           NOT VALID: {problem}"),
            (_, None) => {}
        }
    }
}

/// `sscard read`.
pub fn read(global: &GlobalOpts, args: &ReadArgs) -> CliResult<()> {
    let list = crate::blocklist::load_for(&args.blocklist)?;
    let check_validity = args.check_validity || list.is_some();
    let mut key_holder = if check_validity {
        Some(require_key_holder(
            global,
            "the validity check (INTERNAL AUTHENTICATION with IRK)",
        )?)
    } else {
        context::key_holder(global)?
    };
    let today = today().ok();
    let mut card = open_card(global)?;
    let result = (|| -> CliResult<(CardData, Option<Verdict>)> {
        let Some(kh) = key_holder.as_deref_mut() else {
            return Ok((lifecycle::read(&mut card)?, None));
        };
        let kh: &mut dyn KeyHolder = kh;
        if !check_validity {
            let options = ReadOptions {
                internal_authentication: !args.no_verify,
            };
            return Ok((lifecycle::read_verified(&mut card, kh, &options)?, None));
        }
        let policy = ValidityPolicy {
            today,
            blocklist: list.as_ref().map(|l| l as &dyn lifecycle::Blocklist),
            ..ValidityPolicy::default()
        };
        let (verdict, _) = lifecycle::check_validity(&mut card, &mut *kh, &policy)?;
        // the check made the internal authentication already
        let options = ReadOptions {
            internal_authentication: false,
        };
        let mut data = lifecycle::read_verified(&mut card, kh, &options)?;
        data.genuine = Some(verdict != Verdict::NotGenuine);
        Ok((data, Some(verdict)))
    })();
    let (data, verdict) = finish_card(card, result)?;
    match global.output_format {
        OutputFormat::Basic => println!("{}", data.basic_line()),
        OutputFormat::Json => print_document(&read_document(data, today, verdict.clone())),
        OutputFormat::Text => print_read_text(&data, today, verdict.as_ref()),
    }
    match verdict.as_ref().and_then(verdict_problem) {
        Some(problem) => Err(CliError::Refused(format!("validity check: {problem}"))),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// personalize

/// Reads and validates a person record file.
pub fn load_person(path: &Path) -> CliResult<Personalization> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::BadInput(format!("person record {}: {e}", path.display())))?;
    person_from_json(path, &text)
}

/// The person record `text` (the JSON of the file `path`, named in errors): parsed, validated,
/// with no birth or issue date in the future.
pub fn person_from_json(path: &Path, text: &str) -> CliResult<Personalization> {
    let person = PersonRecord::from_json(text)
        .and_then(|r| r.validate())
        .map_err(|e| {
            let mut message = format!("person record {}: {e}", path.display());
            if text.contains("\"person_id\"") || text.contains("\"first_region\"") {
                message.push_str(
                    " (person_id and first_region belonged to the supplementary file EF0D of older sscard versions, which the V2.0 file structure does not have: remove them)",
                );
            }
            CliError::BadInput(message)
        })?;
    // no birth or issue date in the future (issue 13 item 16)
    if let Ok(today) = today() {
        context::check_person_dates(&person, today).map_err(|(_, reason)| {
            CliError::BadInput(format!("person record {}: {reason}", path.display()))
        })?;
    }
    Ok(person)
}

/// What `sscard personalize` does on the card, with or without data areas: the key holder
/// (`needs` says what for, in the error without one), the personalization with the options of
/// `args`, then `more` (the areas' writes) on the card and key holder the personalization used.
/// The report, the options and the APDUs sent.
pub fn personalize_card(
    global: &GlobalOpts,
    args: &PersonalizeArgs,
    person: &Personalization,
    needs: &str,
    more: impl FnOnce(&mut Card<Timed>, &mut dyn KeyHolder, &PersonalizeOptions) -> CliResult<()>,
) -> CliResult<(PersonalizeReport, PersonalizeOptions, u64)> {
    let mut key_holder = require_key_holder(global, needs)?;
    let mut card = open_card(global)?;
    let options = PersonalizeOptions {
        overwrite: args.overwrite,
        read_back: !args.no_verify,
        ..PersonalizeOptions::default()
    };
    let result = (|| {
        let report = lifecycle::personalize(&mut card, key_holder.as_mut(), person, &options)?;
        more(&mut card, key_holder.as_mut(), &options)?;
        Ok(report)
    })();
    let apdus = card.apdu_count();
    let report = finish_card(card, result)?;
    Ok((report, options, apdus))
}

/// `sscard personalize`.
pub fn personalize(global: &GlobalOpts, args: &PersonalizeArgs) -> CliResult<()> {
    basic_not_supported(global, "personalize")?;
    let person = load_person(&args.person)?;
    let (report, options, apdus) = personalize_card(
        global,
        args,
        &person,
        "personalization (PUK and STKSSSE for the initial PIN, UKSSSE for the data)",
        |_, _, _| Ok(()),
    )?;
    match global.output_format {
        OutputFormat::Json => print_document(&PersonalizeDocument {
            report: report.clone(),
            read_back: options.read_back,
            apdus,
            area_files: None,
        }),
        _ if report.already_done => println!(
            "card {} already carries this personalization (card id {}, {}): nothing written, {apdus} APDUs",
            report.card_number,
            report.card_id,
            report.generation.spec_version()
        ),
        _ => println!(
            "personalized card {} (card id {}, {}) in {apdus} APDUs; initial PIN 123456",
            report.card_number,
            report.card_id,
            report.generation.spec_version()
        ),
    }
    if let Ok(t) = today() {
        if person.expiry_date() < t {
            eprintln!("warning: the card's expiry date has already passed");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// activate, PIN

/// `sscard activate`: the validity check with a key holder (part 7 §5.4: genuine, not expired,
/// an initial PIN set), then CHANGE PIN from the initial PIN `123456` to the holder's.
pub fn activate(global: &GlobalOpts, args: &ActivateArgs) -> CliResult<()> {
    basic_not_supported(global, "activate")?;
    let mut key_holder = if args.no_verify {
        None
    } else {
        Some(require_key_holder(
            global,
            "activation checks the card first (INTERNAL AUTHENTICATION with IRK; or --no-verify)",
        )?)
    };
    let new = pin::new_pin(&args.new_pin)?;
    // refused before the card is touched (the library checks again)
    if new.is_initial() {
        return Err(sscard_core::Error::InitialPin.into());
    }
    if new.is_weak() {
        return Err(sscard_core::Error::WeakPin.into());
    }
    let today = today()?;
    let list = crate::blocklist::load_for(&args.blocklist)?;
    let mut card = open_card(global)?;
    let result = (|| -> CliResult<Option<String>> {
        let mut number = None;
        if let Some(kh) = key_holder.as_mut() {
            let policy = ValidityPolicy {
                today: Some(today),
                blocklist: list.as_ref().map(|l| l as &dyn lifecycle::Blocklist),
                ..ValidityPolicy::default()
            };
            let (verdict, issuing) = lifecycle::check_validity(&mut card, kh.as_mut(), &policy)?;
            match verdict {
                Verdict::Valid {
                    pin: PinStatus::Required { .. },
                } => {}
                Verdict::Valid {
                    pin: PinStatus::NotSet,
                } => {
                    return Err(CliError::Refused(format!(
                        "card {} has no PIN: its personalization is not complete (it sets the initial PIN 123456)",
                        issuing.card_number
                    )))
                }
                Verdict::Valid {
                    pin: PinStatus::Blocked,
                } => return Err(sscard_core::Error::PinBlocked.into()),
                other => {
                    return Err(CliError::Refused(format!(
                        "card {} cannot be activated: {}",
                        issuing.card_number,
                        verdict_problem(&other).unwrap_or_default()
                    )))
                }
            }
            number = Some(issuing.card_number.to_string());
        }
        let options = ActivateOptions { refuse_weak: true };
        match lifecycle::activate(&mut card, &new, &options) {
            Ok(()) => Ok(number),
            Err(sscard_core::Error::WrongPin { tries_left }) => Err(CliError::Refused(format!(
                "the card's PIN is not the initial PIN 123456: the card was activated already (or its PIN changed); the attempt cost a PIN try, {} left", crate::progress::count(u64::from(tries_left), "try", "tries")
            ))),
            Err(e) => Err(e.into()),
        }
    })();
    let number = finish_card(card, result)?;
    let message = match &number {
        Some(n) => format!("card {n} activated: the holder's PIN is set"),
        None => "card activated (not checked: --no-verify): the holder's PIN is set".into(),
    };
    print_result(
        global,
        &message,
        ActivateDocument {
            result: Outcome::Ok,
            message: message.clone(),
            card_number: number,
            validity_checked: !args.no_verify,
        },
    );
    Ok(())
}

fn pin_result(global: &GlobalOpts, message: &str, status: Option<PinStatus>) {
    let document = PinDocument {
        result: Outcome::Ok,
        message: message.to_owned(),
        status,
    };
    print_result(global, message, document);
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
            pin_result(global, "PIN verified", None);
        }
        PinCommand::Change { pin: old, new_pin } => {
            let old = pin::current_pin(old, None, "Current PIN: ")?;
            let new = pin::new_pin(new_pin)?;
            let mut card = open_card(global)?;
            let result = lifecycle::change_pin(&mut card, &old, &new);
            finish_card(card, result.map_err(CliError::from))?;
            pin_result(global, "PIN changed", None);
        }
        PinCommand::Status => {
            let mut card = open_card(global)?;
            let result = lifecycle::pin_status(&mut card);
            let status = finish_card(card, result.map_err(CliError::from))?;
            pin_result(global, &pin_status_text(status), Some(status));
        }
        PinCommand::Unblock => {
            let mut kh = require_key_holder(global, "PIN unblock (PUK and STKSSSE)")?;
            let mut card = open_card(global)?;
            let result = lifecycle::unblock_pin(&mut card, kh.as_mut());
            finish_card(card, result.map_err(CliError::from))?;
            pin_result(global, "PIN try counter reset (the PIN is unchanged)", None);
        }
        PinCommand::Reload(source) => {
            let mut kh = require_key_holder(global, "PIN reload (PUK and STKSSSE)")?;
            let new = pin::new_pin(source)?;
            let mut card = open_card(global)?;
            let result = lifecycle::reload_pin(&mut card, kh.as_mut(), &new);
            finish_card(card, result.map_err(CliError::from))?;
            pin_result(
                global,
                "new PIN set by the issuer (the try counter is full)",
                None,
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// block

/// `sscard block [--card]`.
pub fn block(global: &GlobalOpts, args: &BlockArgs) -> CliResult<()> {
    basic_not_supported(global, "block")?;
    let mut kh = require_key_holder(global, "blocking (BK and STKSSSE)")?;
    let mut card = open_card(global)?;
    let result = if args.card {
        lifecycle::block_card(&mut card, kh.as_mut())
    } else {
        lifecycle::block_application(&mut card, kh.as_mut())
    };
    finish_card(card, result.map_err(CliError::from))?;
    let (scope, what) = if args.card {
        (
            BlockScope::Card,
            "the card is permanently blocked (CARD BLOCK, part 7 §13.1): every command now answers 6A81; the holder needs a new card",
        )
    } else {
        (
            BlockScope::Application,
            "the social security application is permanently blocked (APPLICATION BLOCK, part 7 §13.2): it now answers 9303; the holder needs a new card",
        )
    };
    let document = BlockDocument {
        result: Outcome::Ok,
        message: what.to_owned(),
        scope,
    };
    print_result(global, what, document);
    Ok(())
}

/// `sscard unblock`: removed, explained.
pub fn unblock_removed() -> CliResult<()> {
    Err(CliError::Usage(
        "`sscard unblock` was removed: the specification has no application unblock. APPLICATION BLOCK and CARD BLOCK are permanent (part 7 §13); a blocked card is replaced by a new one. To unblock a PIN after too many wrong tries, use `sscard pin unblock` (PUK and STKSSSE).".into(),
    ))
}

// ---------------------------------------------------------------------------------------------
// bank account

/// `sscard bank-account`.
pub fn bank_account(global: &GlobalOpts) -> CliResult<()> {
    basic_not_supported(global, "bank-account")?;
    let mut card = open_card(global)?;
    let result = lifecycle::read_bank_account(&mut card);
    let account = finish_card(card, result.map_err(CliError::from))?;
    match global.output_format {
        OutputFormat::Json => print_document(&BankAccountDocument { account }),
        _ => {
            println!("Account number     {}", account.pan);
            if let Some(e) = &account.expiry {
                println!("Expires (YYMMDD)   {e}");
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// apdu

fn parse_hex(text: &str, origin: &str) -> CliResult<Vec<u8>> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(&clean).map_err(|e| CliError::BadInput(format!("{origin}: not hex: {e}")))
}

/// Parses `text` as `n` bytes of hex.
pub(crate) fn parse_hex_bytes<const N: usize>(text: &str, origin: &str) -> CliResult<[u8; N]> {
    parse_hex(text, origin)?
        .try_into()
        .map_err(|_| CliError::BadInput(format!("{origin}: {} hex digits", N * 2)))
}

fn apdu_command(bytes: &[u8], origin: &str) -> CliResult<Apdu> {
    // what is secret in it and in its answer is the library's one policy
    // (sscard_core::apdu::sensitivity), applied by the channel to every rendering
    Apdu::parse(bytes).map_err(|e| CliError::BadInput(format!("{origin}: {e}")))
}

/// Refuses a PIN given as an APDU argument (it would stay in the shell history and show in
/// `ps`); the message never repeats it.
fn refuse_pin_argument(command: &Apdu, origin: &str) -> CliResult<()> {
    use sscard_core::apdu::instruction;
    if matches!(command.ins, instruction::VERIFY | instruction::CHANGE_PIN)
        && !command.data().is_empty()
    {
        return Err(CliError::Usage(format!(
            "{origin}: {} carries a PIN, which must not be a command-line argument (shell history, `ps`): give VERIFY without data and the PIN with --pin-file FILE or --pin-fd N (sscard puts it in), or put the APDU in a --script file",
            sscard_core::apdu::instruction::name(command.ins).unwrap_or("the command")
        )));
    }
    Ok(())
}

/// VERIFY without data becomes VERIFY with the PIN of `--pin-file`/`--pin-fd`, when given.
fn with_pin(command: Apdu, pin: Option<&sscard_core::crypto::Pin>) -> Apdu {
    match pin {
        Some(pin)
            if command.ins == sscard_core::apdu::instruction::VERIFY
                && command.data().is_empty() =>
        {
            let mut c = sscard_core::apdu::commands::verify(pin.to_bcd());
            c.cla = command.cla;
            c.p1 = command.p1;
            c.p2 = command.p2;
            c
        }
        _ => command,
    }
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
            let command = apdu_command(&parse_hex(a, &origin)?, &origin)?;
            refuse_pin_argument(&command, &origin)?;
            commands.push(command);
        }
    }
    let pin = if args.pin.pin_file.is_some() || args.pin.pin_fd.is_some() {
        Some(pin::current_pin(&args.pin, None, "PIN: ")?)
    } else {
        None
    };
    let commands: Vec<Apdu> = commands
        .into_iter()
        .map(|c| with_pin(c, pin.as_ref()))
        .collect();
    let spec = context::single_reader(global)?;
    let mut channel = context::traced_channel(
        context::open_transport(&spec, global.wait)?,
        global.tracing(),
        "card",
    );
    let mut results = Vec::new();
    let mut failure = None;
    for c in &commands {
        match channel.send(c) {
            Ok(response) => {
                // rendered by the library's one redacting renderer, as --trace does
                let shown = sscard_core::channel::render_exchange(c, Some(&response));
                match global.output_format {
                    OutputFormat::Json => results.push(ApduExchange {
                        command: shown.command,
                        response: shown.response,
                        sw: format!("{:04X}", u16::from(response.sw())),
                    }),
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
        print_document(&ApduDocument { responses: results });
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
