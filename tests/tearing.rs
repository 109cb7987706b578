//! Tearing sweeps: power loss at every point of personalization, activation, PIN change,
//! blocking and unblocking (docs/reliability.md).
//!
//! For each operation and card configuration the operation first runs untorn, which gives its
//! APDU count A and its persistent write count W. Then, for every N in 1..=A ("after APDU N":
//! the APDU executes, its response is lost) and every N in 1..=W ("at write N": writes 1..N-1
//! are done, the N-th and later are not), a fresh card in the operation's start state is torn
//! there, reinserted and assessed:
//!
//! 1. the torn card is in one of the states the operation allows, it reads (with the library
//!    and a key holder) exactly the data it should in that state, and its FCI agrees with how
//!    it behaves;
//! 2. rerunning the operation completes it, or names exactly what is already true
//!    (`AlreadyActivated`, `AlreadyPersonalized` with the same card number, the old PIN being
//!    wrong because the new one took effect, ...);
//! 3. the card ends in the operation's intended state.
//!
//! A trial that breaks any of this counts as corrupted; the sweeps print a table (run with
//! `--nocapture`) and require 0 corrupted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::apdu::{commands, RecordRef};
use sscard::data::{BcdDate, CardIdentificationCode, Personalization};
use sscard::keyholder::KeyFile;
use sscard::lifecycle::{self, AppState, BlockState, Card, PersonalizeOptions, ReadOptions};
use sscard::profile::{self, Ef, Generation};
use sscard::sim::{CardImage, SimCard, SimTransport, Tear};
use sscard::transport::TransportError;
use sscard::{Algorithm, Error};

type TestCard = Card<SimTransport<SimCard>>;
type Op = dyn Fn(&mut TestCard, &mut KeyFile) -> Result<(), Error>;
/// Assesses a torn (reinserted) card given the torn run's result, reruns the operation and
/// checks the final state. `Ok(true)`: the operation's effect had already landed before the
/// rerun; `Err`: what is corrupt. The last argument is the number of power losses the card went
/// through (each may have cost one PIN try: the counter is decremented before the comparison).
type Check = dyn Fn(&mut TestCard, &mut KeyFile, &Result<(), Error>, u8) -> Result<bool, String>;

const INITIAL: &str = "123456";
const HOLDER: &str = "258036";
const CHANGED: &str = "604917";

fn today() -> BcdDate {
    "20261123".parse().unwrap()
}

fn sim(card: &TestCard) -> &SimCard {
    card.channel().transport().card()
}

fn image(card: &TestCard) -> CardImage {
    sim(card).image().clone()
}

fn open(image: &CardImage) -> TestCard {
    Card::open(SimTransport::new(
        SimCard::from_image(image.clone()).unwrap(),
    ))
    .unwrap()
}

/// Whether `pin` verifies on a copy of `image` (raw APDUs: the library refuses VERIFY before
/// activation). The copy keeps the card under test's PIN counter untouched.
fn pin_works(image: &CardImage, pin: &str) -> bool {
    let mut copy = SimCard::from_image(image.clone()).unwrap();
    let select = commands::select_aid_no_response(&profile::SSSE_AID)
        .to_bytes()
        .unwrap();
    // 9000, or 61xx on a T=0 card, which offers its FCI even without Le
    let selected = sw(&copy.handle(&select));
    assert!(
        selected == 0x9000 || selected >> 8 == 0x61,
        "{selected:04X}"
    );
    let verify = commands::verify(common::pin(pin).to_bcd())
        .to_bytes()
        .unwrap();
    sw(&copy.handle(&verify)) == 0x9000
}

fn sw(response: &[u8]) -> u16 {
    match response {
        [.., a, b] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

fn tries_left(image: &CardImage) -> u8 {
    image.pin.as_ref().map_or(0, |p| p.tries_left)
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// The FCI's (state, block) after a fresh SELECT.
fn fci(card: &mut TestCard) -> Result<(Option<AppState>, Option<BlockState>), String> {
    let app = card.select().map_err(|e| format!("SELECT: {e}"))?;
    Ok((app.state, app.block))
}

/// The library reads the card (key holder present, EF0D included) and gets exactly `data`.
fn reads_exactly(
    card: &mut TestCard,
    keys: &mut KeyFile,
    data: &Personalization,
    card_id: CardIdentificationCode,
    state: AppState,
) -> Result<(), String> {
    let options = ReadOptions::default().with_supplementary(true);
    let read = lifecycle::read(card, Some(keys), &options).map_err(|e| format!("read: {e}"))?;
    ensure(read.holder == *data.holder(), || {
        "holder data differs".into()
    })?;
    ensure(read.issuing == data.issuing_data(card_id), || {
        "issuing data differs".into()
    })?;
    ensure(read.supplementary.as_ref() == data.supplementary(), || {
        "supplementary data differs".into()
    })?;
    ensure(read.state == Some(state), || {
        format!("read says {:?}, expected {state:?}", read.state)
    })?;
    ensure(
        read.genuine == Some(true) && read.card_id_mac_verified == Some(true),
        || "not proved genuine".into(),
    )
}

/// One row of the report.
struct Row {
    operation: String,
    config: String,
    tear: &'static str,
    points: u64,
    tried: u64,
    landed: u64,
    recovered: u64,
    corrupted: Vec<String>,
}

/// Runs the operation untorn on a copy of `start` (checking the untorn run too), then torn at
/// every APDU and every write. Returns one row per tear kind.
fn sweep(operation: &str, config: &str, start: &CardImage, op: &Op, check: &Check) -> Vec<Row> {
    let mut keys = test_keys();
    let mut card = open(start);
    let apdus_before = card.channel().transport().exchanges();
    let writes_before = sim(&card).persistent_writes();
    let untorn = op(&mut card, &mut keys);
    assert!(
        untorn.is_ok(),
        "{operation} {config}: untorn run: {untorn:?}"
    );
    let apdus = card.channel().transport().exchanges() - apdus_before;
    let writes = sim(&card).persistent_writes() - writes_before;
    assert!(
        apdus > 0 && writes > 0,
        "{operation} {config}: nothing to tear"
    );
    card.channel_mut().transport_mut().power_cycle();
    if let Err(e) = check(&mut card, &mut keys, &untorn, 0) {
        panic!("{operation} {config}: untorn run fails its own check: {e}");
    }

    let mut rows = Vec::new();
    for (kind, count) in [("after APDU", apdus), ("at write", writes)] {
        let mut row = Row {
            operation: operation.into(),
            config: config.into(),
            tear: kind,
            points: count,
            tried: 0,
            landed: 0,
            recovered: 0,
            corrupted: Vec::new(),
        };
        for n in 1..=count {
            let tear = if kind == "at write" {
                Tear::AtWrite(n)
            } else {
                Tear::AfterApdu(n)
            };
            row.tried += 1;
            match trial(start, tear, op, check, 1) {
                Ok(landed) => {
                    row.recovered += 1;
                    row.landed += u64::from(landed);
                }
                Err(e) => row
                    .corrupted
                    .push(format!("{operation} {config} torn {tear}: {e}")),
            }
        }
        rows.push(row);
    }
    rows
}

/// Runs `op` on a copy of `start` torn at `tear`, and powers the card again (reinserts it).
/// Gives the card and the torn run's result.
fn tear_once(
    start: &CardImage,
    tear: Tear,
    op: &Op,
) -> Result<(TestCard, Result<(), Error>), String> {
    let mut card = open(start);
    card.channel_mut().transport_mut().card_mut().arm_tear(tear);
    let torn = op(&mut card, &mut test_keys());
    if sim(&card).tear_fired() != Some(tear) {
        return Err(format!("the tear did not fire (result {torn:?})"));
    }
    match &torn {
        Err(Error::Transport(TransportError::CardRemoved)) => {}
        other => return Err(format!("the torn run answered {other:?}, not CardRemoved")),
    }
    card.channel_mut().transport_mut().insert_card();
    Ok((card, torn))
}

fn trial(start: &CardImage, tear: Tear, op: &Op, check: &Check, tears: u8) -> Result<bool, String> {
    let (mut card, torn) = tear_once(start, tear, op)?;
    check(&mut card, &mut test_keys(), &torn, tears)
}

/// Two power losses in a row: at every write i of the operation, then at every write j of the
/// rerun from the state that left; then the usual check (assess, rerun, final state).
fn sweep_twice(operation: &str, config: &str, start: &CardImage, op: &Op, check: &Check) -> Row {
    let writes = {
        let mut card = open(start);
        op(&mut card, &mut test_keys()).unwrap();
        sim(&card).persistent_writes()
    };
    let mut row = Row {
        operation: operation.into(),
        config: config.into(),
        tear: "write, write",
        points: 0,
        tried: 0,
        landed: 0,
        recovered: 0,
        corrupted: Vec::new(),
    };
    for i in 1..=writes {
        let first = match tear_once(start, Tear::AtWrite(i), op) {
            Ok((card, _)) => image(&card),
            Err(e) => {
                row.tried += 1;
                row.corrupted
                    .push(format!("{operation} {config} torn at write {i}: {e}"));
                continue;
            }
        };
        // how many writes a rerun from there makes
        let rerun_writes = {
            let mut card = open(&first);
            let _ = op(&mut card, &mut test_keys());
            sim(&card).persistent_writes()
        };
        for j in 1..=rerun_writes {
            row.points += 1;
            row.tried += 1;
            match trial(&first, Tear::AtWrite(j), op, check, 2) {
                Ok(landed) => {
                    row.recovered += 1;
                    row.landed += u64::from(landed);
                }
                Err(e) => row.corrupted.push(format!(
                    "{operation} {config} torn at write {i}, rerun torn at write {j}: {e}"
                )),
            }
        }
    }
    row
}

/// Prints the sweep table (a Markdown table, as in docs/reliability.md), writes it to
/// `<CARGO_TARGET_TMPDIR>/tearing-<file>.md` for CI to keep, and requires 0 corrupted.
fn print_and_assert(title: &str, file: &str, rows: &[Row]) {
    let mut report = format!(
        "{title}\n\n| operation | card | tear | points | tried | landed | recovered | corrupted |\n\
         |---|---|---|---:|---:|---:|---:|---:|\n"
    );
    let (mut tried, mut recovered, mut corrupted) = (0, 0, 0);
    for r in rows {
        report.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.operation,
            r.config,
            r.tear,
            r.points,
            r.tried,
            r.landed,
            r.recovered,
            r.corrupted.len()
        ));
        tried += r.tried;
        recovered += r.recovered;
        corrupted += r.corrupted.len();
    }
    report.push_str(&format!(
        "\ntotal: {tried} tear points tried, {recovered} recovered, {corrupted} corrupted\n"
    ));
    let problems: Vec<&String> = rows.iter().flat_map(|r| r.corrupted.iter()).collect();
    for p in &problems {
        report.push_str(&format!("CORRUPTED: {p}\n"));
    }
    println!("\n{report}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tearing-{file}.md"));
    std::fs::write(&path, &report).unwrap();
    assert!(
        problems.is_empty(),
        "{} corrupted: {problems:#?}",
        problems.len()
    );
    assert_eq!(tried, recovered);
}

/// An operation to sweep: its start state, the operation and its check.
struct Parts {
    operation: String,
    config: String,
    start: CardImage,
    op: Box<Op>,
    check: Box<Check>,
}

fn parts(
    operation: &str,
    config: String,
    start: &CardImage,
    op: impl Fn(&mut TestCard, &mut KeyFile) -> Result<(), Error> + 'static,
    check: impl Fn(&mut TestCard, &mut KeyFile, &Result<(), Error>, u8) -> Result<bool, String>
        + 'static,
) -> Parts {
    Parts {
        operation: operation.into(),
        config,
        start: start.clone(),
        op: Box::new(op),
        check: Box::new(check),
    }
}

/// One tear at every APDU and at every write.
fn sweep_all(p: Parts) -> Vec<Row> {
    sweep(&p.operation, &p.config, &p.start, &*p.op, &*p.check)
}

/// Two tears in a row, at every write of the operation and then every write of its rerun.
fn twice(p: Parts) -> Row {
    sweep_twice(&p.operation, &p.config, &p.start, &*p.op, &*p.check)
}

fn config(generation: Generation, algorithm: Algorithm) -> String {
    format!("{}/{algorithm}", generation.spec_version())
}

/// A blank card, and the same card personalized, activated and temporarily blocked.
struct Images {
    blank: CardImage,
    personalized: CardImage,
    activated: CardImage,
    temp_blocked: CardImage,
    card_id: CardIdentificationCode,
}

fn images(generation: Generation, algorithm: Algorithm, t0: bool) -> Images {
    let mut keys = test_keys();
    let mut blank = blank_sim(generation, algorithm, [0x7E, 0xA2, 0x00, 0x01])
        .image()
        .clone();
    blank.options.t0_mode = t0;
    let mut card = open(&blank);
    let report = lifecycle::personalize(
        &mut card,
        &mut keys,
        &person(generation),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let personalized = image(&card);
    lifecycle::activate(&mut card, &mut keys, &pin(INITIAL), &pin(HOLDER), today()).unwrap();
    let activated = image(&card);
    let mut blocked = open(&personalized);
    lifecycle::block_application(&mut blocked, &mut keys, false).unwrap();
    Images {
        blank,
        personalized,
        activated,
        temp_blocked: image(&blocked),
        card_id: report.card_id,
    }
}

// ---------------------------------------------------------------------------------------------
// personalization

/// Personalization of a blank card, or (`repersonalize`) re-personalization of a personalized
/// card with another card number.
fn personalization_sweep(
    generation: Generation,
    algorithm: Algorithm,
    t0: bool,
    repersonalize: bool,
) -> Parts {
    let img = images(generation, algorithm, t0);
    let card_id = img.card_id;
    let old = person(generation);
    let data = if repersonalize {
        let mut record = person_record(generation);
        record.card_number = "B20000024".into();
        record.validate().unwrap()
    } else {
        old.clone()
    };
    let start = if repersonalize {
        img.personalized.clone()
    } else {
        img.blank.clone()
    };
    let options = move || PersonalizeOptions::default().with_repersonalize(repersonalize);
    let op_data = data.clone();
    let op = move |card: &mut TestCard, keys: &mut KeyFile| {
        lifecycle::personalize(card, keys, &op_data, &options()).map(|_| ())
    };
    // what an untorn run leaves
    let expected = {
        let mut card = open(&start);
        op(&mut card, &mut test_keys()).unwrap();
        image(&card)
    };
    let number = data.issuing_data(card_id).card_number.to_string();
    let before = start.clone();
    let check = move |card: &mut TestCard,
                      keys: &mut KeyFile,
                      torn: &Result<(), Error>,
                      _tears: u8|
          -> Result<bool, String> {
        // 1. the torn card
        let (state, block) = fci(card)?;
        ensure(block == Some(BlockState::None), || {
            format!("block {block:?}")
        })?;
        let now = image(card);
        let read_options = ReadOptions::default().with_supplementary(true);
        let landed = match state {
            Some(AppState::Blank) if !repersonalize => {
                ensure(now == before, || "blank, but something was written".into())?;
                match lifecycle::read(card, Some(keys), &read_options) {
                    Err(Error::Blank) => {}
                    other => return Err(format!("blank card reads {other:?}")),
                }
                false
            }
            Some(AppState::Personalizing) => {
                match lifecycle::read(card, Some(keys), &read_options) {
                    Err(Error::PersonalizationIncomplete) => {}
                    other => return Err(format!("half-personalized card reads {other:?}")),
                }
                false
            }
            Some(AppState::Personalized) if now == expected => {
                ensure(pin_works(&now, INITIAL), || {
                    "initial PIN does not work".into()
                })?;
                reads_exactly(card, keys, &data, card_id, AppState::Personalized)?;
                true
            }
            Some(AppState::Personalized) if repersonalize && now == before => {
                // re-personalization had not started: the old data, untouched
                reads_exactly(card, keys, &old, card_id, AppState::Personalized)?;
                false
            }
            Some(AppState::Personalized) => {
                return Err("personalized, but neither the old nor the new data".into())
            }
            other => return Err(format!("state {other:?} during personalization")),
        };
        ensure(torn.is_err() || landed, || {
            "success claimed, not personalized".into()
        })?;

        // 2. rerun
        match lifecycle::personalize(card, keys, &data, &options()) {
            Ok(report) => {
                ensure(repersonalize || !landed, || {
                    "personalized twice without being asked".into()
                })?;
                ensure(
                    report.completed_interrupted == (state == Some(AppState::Personalizing)),
                    || "completed_interrupted wrong".into(),
                )?;
                ensure(
                    report.repersonalized == (state == Some(AppState::Personalized)),
                    || "repersonalized wrong".into(),
                )?;
            }
            Err(Error::AlreadyPersonalized { card_number })
                if landed && !repersonalize && card_number == number => {}
            Err(e) => return Err(format!("rerun: {e}")),
        }

        // 3. final state
        ensure(fci(card)?.0 == Some(AppState::Personalized), || {
            "not personalized after the rerun".into()
        })?;
        let now = image(card);
        ensure(now == expected, || "final image differs".into())?;
        ensure(pin_works(&now, INITIAL) && tries_left(&now) == 3, || {
            "initial PIN".into()
        })?;
        reads_exactly(card, keys, &data, card_id, AppState::Personalized)?;
        Ok(landed)
    };
    let name = if repersonalize {
        "re-personalize"
    } else {
        "personalize"
    };
    let mut config = config(generation, algorithm);
    if t0 {
        config.push_str(" T=0");
    }
    parts(name, config, &start, op, check)
}

#[test]
fn tearing_personalization() {
    let mut rows = Vec::new();
    for (generation, algorithm, t0) in [
        (Generation::V1, Algorithm::Tdes, false),
        (Generation::V2, Algorithm::Sm4, false),
        (Generation::V3, Algorithm::Tdes, false),
        (Generation::V2, Algorithm::Sm4, true),
    ] {
        rows.extend(sweep_all(personalization_sweep(
            generation, algorithm, t0, false,
        )));
    }
    for (generation, algorithm) in [
        (Generation::V2, Algorithm::Sm4),
        (Generation::V3, Algorithm::Tdes),
    ] {
        rows.extend(sweep_all(personalization_sweep(
            generation, algorithm, false, true,
        )));
    }
    print_and_assert("Tearing: personalization", "personalization", &rows);
}

// ---------------------------------------------------------------------------------------------
// activation and PIN change

fn activation_sweep(generation: Generation, algorithm: Algorithm) -> Parts {
    let img = images(generation, algorithm, false);
    let data = person(generation);
    let card_id = img.card_id;
    let op = |card: &mut TestCard, keys: &mut KeyFile| {
        lifecycle::activate(card, keys, &pin(INITIAL), &pin(HOLDER), today()).map(|_| ())
    };
    let check = move |card: &mut TestCard,
                      keys: &mut KeyFile,
                      torn: &Result<(), Error>,
                      tears: u8|
          -> Result<bool, String> {
        let (state, block) = fci(card)?;
        ensure(block == Some(BlockState::None), || {
            format!("block {block:?}")
        })?;
        let now = image(card);
        let initial_works = pin_works(&now, INITIAL);
        let holder_works = pin_works(&now, HOLDER);
        ensure(tries_left(&now) >= 3 - tears, || {
            format!("{} tries left", tries_left(&now))
        })?;
        let landed = match state {
            Some(AppState::Personalized) => {
                ensure(initial_works && !holder_works, || {
                    format!(
                        "personalized, initial PIN works {initial_works}, holder's {holder_works}"
                    )
                })?;
                false
            }
            Some(AppState::Activated) => {
                ensure(!initial_works && holder_works, || {
                    format!("activated, initial PIN works {initial_works}, holder's {holder_works}")
                })?;
                true
            }
            other => return Err(format!("state {other:?} during activation")),
        };
        ensure(torn.is_err() || landed, || {
            "success claimed, not activated".into()
        })?;
        reads_exactly(card, keys, &data, card_id, state.unwrap_or(AppState::Blank))?;

        match lifecycle::activate(card, keys, &pin(INITIAL), &pin(HOLDER), today()) {
            Ok(_) => ensure(!landed, || "activated twice".into())?,
            Err(Error::AlreadyActivated) if landed => {}
            Err(e) => return Err(format!("rerun: {e}")),
        }

        ensure(fci(card)?.0 == Some(AppState::Activated), || {
            "not activated after the rerun".into()
        })?;
        let now = image(card);
        ensure(
            pin_works(&now, HOLDER) && !pin_works(&now, INITIAL) && tries_left(&now) == 3,
            || "final PIN state".into(),
        )?;
        lifecycle::verify_pin(card, &pin(HOLDER)).map_err(|e| format!("verify: {e}"))?;
        reads_exactly(card, keys, &data, card_id, AppState::Activated)?;
        Ok(landed)
    };
    parts(
        "activate",
        config(generation, algorithm),
        &img.personalized,
        op,
        check,
    )
}

fn pin_change_sweep(generation: Generation, algorithm: Algorithm) -> Parts {
    let img = images(generation, algorithm, false);
    let data = person(generation);
    let card_id = img.card_id;
    let op = |card: &mut TestCard, _: &mut KeyFile| {
        lifecycle::change_pin(card, &pin(HOLDER), &pin(CHANGED))
    };
    let check = move |card: &mut TestCard,
                      keys: &mut KeyFile,
                      torn: &Result<(), Error>,
                      tears: u8|
          -> Result<bool, String> {
        let (state, block) = fci(card)?;
        ensure(
            state == Some(AppState::Activated) && block == Some(BlockState::None),
            || format!("state {state:?} block {block:?}"),
        )?;
        let now = image(card);
        let old_works = pin_works(&now, HOLDER);
        let new_works = pin_works(&now, CHANGED);
        ensure(old_works != new_works, || {
            format!("old PIN works {old_works}, new PIN works {new_works}")
        })?;
        ensure(tries_left(&now) >= 3 - tears, || {
            format!("{} tries left", tries_left(&now))
        })?;
        let landed = new_works;
        ensure(torn.is_err() || landed, || {
            "success claimed, PIN unchanged".into()
        })?;
        reads_exactly(card, keys, &data, card_id, AppState::Activated)?;

        match lifecycle::change_pin(card, &pin(HOLDER), &pin(CHANGED)) {
            Ok(()) => ensure(!landed, || "old PIN accepted after the change".into())?,
            // the new PIN took effect: the old one is wrong now, and the card says so
            Err(Error::WrongPin { tries_left: 2 }) if landed => {}
            Err(e) => return Err(format!("rerun: {e}")),
        }

        lifecycle::verify_pin(card, &pin(CHANGED)).map_err(|e| format!("verify new: {e}"))?;
        let now = image(card);
        ensure(!pin_works(&now, HOLDER) && tries_left(&now) == 3, || {
            "final PIN state".into()
        })?;
        ensure(fci(card)?.0 == Some(AppState::Activated), || {
            "not activated".into()
        })?;
        Ok(landed)
    };
    parts(
        "change PIN",
        config(generation, algorithm),
        &img.activated,
        op,
        check,
    )
}

#[test]
fn tearing_activation_and_pin_change() {
    let mut rows = Vec::new();
    for (generation, algorithm) in [
        (Generation::V2, Algorithm::Sm4),
        (Generation::V3, Algorithm::Tdes),
    ] {
        rows.extend(sweep_all(activation_sweep(generation, algorithm)));
        rows.extend(sweep_all(pin_change_sweep(generation, algorithm)));
    }
    print_and_assert("Tearing: activation and PIN change", "activation", &rows);
}

// ---------------------------------------------------------------------------------------------
// blocking

/// How the card behaves, checked against its FCI: a free READ RECORD answers `9000` when not
/// blocked, `6A81` when temporarily blocked, `9303` when permanently blocked.
fn behaves_as(card: &mut TestCard, block: Option<BlockState>) -> Result<(), String> {
    let command = commands::read_record(Some(Ef::Ef05.sfi()), RecordRef::Tag(0x02));
    let response = card
        .channel_mut()
        .send(&command)
        .map_err(|e| format!("READ RECORD: {e}"))?;
    let sw = u16::from(response.sw());
    let expected = match block {
        Some(BlockState::None) => 0x9000,
        Some(BlockState::Temporary) => 0x6A81,
        Some(BlockState::Permanent) => 0x9303,
        None => return Err("no block state in the FCI".into()),
    };
    ensure(sw == expected, || {
        format!("FCI block {block:?} but READ RECORD answers {sw:04X}")
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockOp {
    Temporary,
    Permanent,
    Unblock,
    Card,
}

fn block_sweep(generation: Generation, algorithm: Algorithm, what: BlockOp) -> Parts {
    let img = images(generation, algorithm, false);
    let data = person(generation);
    let card_id = img.card_id;
    let (name, start, before, after) = match what {
        BlockOp::Temporary => (
            "block (temporary)",
            &img.activated,
            BlockState::None,
            BlockState::Temporary,
        ),
        BlockOp::Permanent => (
            "block (permanent)",
            &img.activated,
            BlockState::None,
            BlockState::Permanent,
        ),
        BlockOp::Unblock => (
            "unblock",
            &img.temp_blocked,
            BlockState::Temporary,
            BlockState::None,
        ),
        BlockOp::Card => (
            "block card",
            &img.activated,
            BlockState::None,
            BlockState::None,
        ),
    };
    let start_state = start.app_state;
    let op = move |card: &mut TestCard, keys: &mut KeyFile| match what {
        BlockOp::Temporary => lifecycle::block_application(card, keys, false),
        BlockOp::Permanent => lifecycle::block_application(card, keys, true),
        BlockOp::Unblock => lifecycle::unblock_application(card, keys),
        BlockOp::Card => lifecycle::block_card(card, keys),
    };
    let check = move |card: &mut TestCard,
                      keys: &mut KeyFile,
                      torn: &Result<(), Error>,
                      _tears: u8|
          -> Result<bool, String> {
        let landed;
        if what == BlockOp::Card {
            landed = sim(card).image().card_blocked;
            match card.select() {
                Err(Error::CardBlocked) if landed => {}
                Ok(app) if !landed => {
                    ensure(app.block == Some(BlockState::None), || "block state".into())?;
                    behaves_as(card, app.block)?;
                    reads_exactly(card, keys, &data, card_id, start_state)?;
                }
                other => return Err(format!("card blocked {landed}, SELECT {other:?}")),
            }
        } else {
            let (state, block) = fci(card)?;
            ensure(state == Some(start_state), || format!("state {state:?}"))?;
            ensure(block == Some(before) || block == Some(after), || {
                format!("block {block:?}")
            })?;
            behaves_as(card, block)?;
            landed = block == Some(after);
            if block == Some(BlockState::None) {
                reads_exactly(card, keys, &data, card_id, start_state)?;
            }
        }
        ensure(torn.is_err() || landed, || {
            "success claimed, no effect".into()
        })?;

        match (op(card, keys), what) {
            (Ok(()), _) => ensure(!landed || what == BlockOp::Unblock, || {
                "blocked twice".into()
            })?,
            (Err(Error::ApplicationBlocked), BlockOp::Temporary)
            | (Err(Error::PermanentlyBlocked), BlockOp::Permanent)
            | (Err(Error::CardBlocked), BlockOp::Card)
                if landed => {}
            (Err(e), _) => return Err(format!("rerun: {e}")),
        }

        if what == BlockOp::Card {
            ensure(matches!(card.select(), Err(Error::CardBlocked)), || {
                "card not blocked after the rerun".into()
            })?;
        } else {
            let (state, block) = fci(card)?;
            ensure(state == Some(start_state) && block == Some(after), || {
                format!("final state {state:?} block {block:?}")
            })?;
            behaves_as(card, block)?;
            if after == BlockState::None {
                reads_exactly(card, keys, &data, card_id, start_state)?;
            }
        }
        Ok(landed)
    };
    parts(name, config(generation, algorithm), start, op, check)
}

#[test]
fn tearing_blocking() {
    let mut rows = Vec::new();
    for (generation, algorithm) in [
        (Generation::V2, Algorithm::Sm4),
        (Generation::V3, Algorithm::Tdes),
    ] {
        for what in [
            BlockOp::Temporary,
            BlockOp::Permanent,
            BlockOp::Unblock,
            BlockOp::Card,
        ] {
            rows.extend(sweep_all(block_sweep(generation, algorithm, what)));
        }
    }
    print_and_assert("Tearing: blocking", "blocking", &rows);
}

// ---------------------------------------------------------------------------------------------
// two tears in a row

#[test]
fn tearing_twice() {
    let (generation, algorithm) = (Generation::V2, Algorithm::Sm4);
    let rows = [
        twice(personalization_sweep(generation, algorithm, false, false)),
        twice(activation_sweep(generation, algorithm)),
        twice(pin_change_sweep(generation, algorithm)),
    ];
    print_and_assert(
        "Tearing twice: the operation and then its rerun",
        "twice",
        &rows,
    );
}
