//! Tearing sweep of `sscard batch` (docs/reliability.md, "The sweeps", "Batch"): after a power
//! loss at any point of one card's personalization, the batch journal and the return file stay
//! consistent with the cards, and resuming the batch the way an operator would finishes it.
//!
//! A batch of 3 persons runs on one in-process `feeder:` reader with the hidden
//! `--tear LINE:at-write:N` / `--tear LINE:after-apdu:N` option, which arms a power loss on the
//! card of the 2nd person (input line 3). Every write point 1..=W and every APDU point 1..=A of
//! one personalization (read-back included) is tried, W and A measured on an untorn card and
//! confirmed on the batch (W + 1 and A + 1 do not fire). Each trial:
//!
//! 1. the torn run: the 2nd person is `UNDECIDED`, the other two `OK`, nobody is on two cards,
//!    the torn card is taken out (`rejected/`) in an allowed state;
//! 2. resume, with one of two operator policies:
//!    - *card reinserted*: the torn card is put back into the reader, the batch is rerun;
//!    - *card lost*: the batch is rerun as is (the person stays `UNDECIDED`, nothing is
//!      personalized), then the card is declared lost and the batch rerun with
//!      `--retry-undecided`;
//! 3. checks: the return file has every person exactly once with result `OK`; the journal's
//!    SHA-256 chain verifies (recomputed here, and its head is the one the last run printed);
//!    every person has exactly one `done` entry, matching the return file; every card the feeder
//!    filed as personalized belongs to exactly one person and its whole image equals that
//!    person's personalization of that card (a reference personalized untorn in process); every
//!    other card is blank (as manufactured, but for a key try counter a tear inside an EXTERNAL
//!    AUTHENTICATION may leave one less, part 7 §14), partial (every record and the PIN on it
//!    are the person's, and the library refuses to read it) or, for a lost card, exactly the
//!    person's data; a reinserted torn card ends as that person's card; a final rerun changes
//!    nothing.
//!
//! Cards are known by their card identification code (the feeder gives each card a random
//! serial, used as the ATR serial and as the serial of the card identification code).
//!
//! A trial that breaks anything counts as corrupted. The sweep prints a Markdown table (run with
//! `--nocapture`), writes it to `<CARGO_TARGET_TMPDIR>/tearing-batch.md` and requires 0
//! corrupted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::*;
use sha2::{Digest, Sha256};
use sscard_core::data::{PersonRecord, Personalization};
use sscard_core::keyholder::KeyFile;
use sscard_core::keys::RootKeys;
use sscard_core::lifecycle::{self, Card, PersonalizeOptions, ReadOptions};
use sscard_core::profile::{Ef, Generation};
use sscard_core::{Algorithm, Error};
use sscard_sim::{CardImage, CardSpec, SimCard, SimTransport, Tear};

const PERSONS: u32 = 3;
/// Input line of the 2nd person (line 1 is the header).
const TORN_LINE: u64 = 3;
const FEEDER: &str = "feeder";
/// The feeder's card algorithm (`--feeder-algorithm`).
const ALGORITHM: Algorithm = Algorithm::Sm4;

/// The batch file: persons of generation 2.0 (EF05 and EF06 with the name extension).
fn input_csv() -> String {
    csv(PERSONS)
}

/// How the operator resumes after the torn run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// The torn card is put back into the reader.
    Reinsert,
    /// The torn card is declared lost: `--retry-undecided`.
    Lost,
}

impl Policy {
    fn describe(self) -> &'static str {
        match self {
            Policy::Reinsert => "card reinserted",
            Policy::Lost => "card lost, --retry-undecided",
        }
    }
}

/// One person of the input file.
struct Person {
    line: u64,
    ssn: String,
    card_number: String,
    data: Personalization,
}

/// The persons of a batch file, from its CSV text (the same cells the batch reads).
fn persons(text: &str) -> Vec<Person> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.unwrap();
            let fields: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), serde_json::Value::from(v)))
                .collect();
            let record =
                PersonRecord::from_json(&serde_json::Value::Object(fields).to_string()).unwrap();
            Person {
                line: i as u64 + 2,
                ssn: record.ssn.clone(),
                card_number: record.card_number.clone(),
                data: record.validate().unwrap(),
            }
        })
        .collect()
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn test_keys(dir: &Path) -> KeyFile {
    sscard::keyfile::load_key_file(&dir.join("keys.json")).unwrap()
}

/// The card a feeder manufactures for `person` with serial `serial`, blank.
fn blank_card(keys: &RootKeys, person: &Personalization, serial: [u8; 4]) -> SimCard {
    let spec = CardSpec::new(person.generation(), ALGORITHM, person.region(), serial)
        .with_card_serial(serial);
    SimCard::blank(spec, keys).unwrap()
}

/// An untorn personalization of `person` on the blank card `serial` as the batch runs it (the
/// card identification code read for the journal's `started` entry, then the library's
/// personalization): the image it leaves, its APDU count (read-back included) and its
/// persistent write count.
fn reference(
    keys: &mut KeyFile,
    person: &Personalization,
    serial: [u8; 4],
) -> (CardImage, u64, u64) {
    let mut sim = blank_card(keys.roots(), person, serial);
    // arming a tear that never fires starts the counters
    sim.arm_tear(Tear::AtWrite(u64::MAX));
    let mut card = Card::open(SimTransport::new(sim)).unwrap();
    card.card_id().unwrap();
    lifecycle::personalize(&mut card, keys, person, &PersonalizeOptions::default()).unwrap();
    let sim = card.channel().transport().card();
    (
        sim.image().clone(),
        sim.apdus_since_arming(),
        sim.writes_since_arming(),
    )
}

/// What a card image found somewhere in the feeder holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    /// Blank, as manufactured.
    Blank,
    /// Part of the personalization of a person on one of these input lines (several when the
    /// part is common to them, e.g. the initial PIN alone).
    Partial { lines: Vec<u64> },
    /// Personalized with exactly the data of the person on this input line.
    Personalized { line: u64, card_id: String },
}

/// The serial the feeder gave the card: the ATR's TA-TD (part 2 table 16).
fn serial_of(image: &CardImage) -> Result<[u8; 4], String> {
    image
        .historical_bytes
        .0
        .get(9..13)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| "historical bytes too short".into())
}

/// Assesses one card image: its state (from the records and the PIN, [design] D14 and D15),
/// what the library reads, and the whole image against a reference. A personalized card must
/// equal, byte for byte, the untorn personalization of one person on the same card.
fn assess(path: &Path, persons: &[Person], keys: &mut KeyFile) -> Result<(String, Found), String> {
    let image = CardImage::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = hex::encode_upper(image.card_id().unwrap_or_default());
    let what = |m: String| format!("card {name}: {m}");
    let serial = serial_of(&image).map_err(what)?;
    let sim = SimCard::from_image(image.clone()).map_err(|e| what(e.to_string()))?;
    let mut card = Card::open(SimTransport::new(sim)).map_err(|e| what(e.to_string()))?;
    let numbered = image
        .record_value(Ef::Ef05, 0x07)
        .is_some_and(|v| v.iter().any(|&b| b != 0));
    let untouched = image.ef06.is_empty()
        && image.ef05.iter().all(|r| r.0.first() == Some(&0x01))
        && image.pin.value.is_empty();
    let found = if untouched {
        let Some(p) = persons.first() else {
            return Err(what("no persons".into()));
        };
        let mut blank = blank_card(keys.roots(), &p.data, serial).image().clone();
        for (role, key) in &image.keys {
            let made = blank
                .keys
                .get_mut(role)
                .ok_or_else(|| what(format!("key {role}?")))?;
            // a tear between the decrement and the restore of a counted key costs one try
            ensure(key.tries_left + 1 >= made.max_tries, || {
                what(format!("key {role} has {} tries left", key.tries_left))
            })?;
            made.tries_left = key.tries_left;
        }
        ensure(image == blank, || {
            what("blank, but something was written".into())
        })?;
        match lifecycle::read(&mut card) {
            Err(Error::Blank(_)) => {}
            other => return Err(what(format!("a blank card reads {other:?}"))),
        }
        Found::Blank
    } else if !numbered {
        match lifecycle::read_verified(&mut card, keys, &ReadOptions::default()) {
            // without the card number (written last) the card says the personalization was
            // interrupted; before the card issuing data it reads as blank
            Err(Error::Blank(_) | Error::PersonalizationIncomplete) => {}
            other => return Err(what(format!("a partial card reads {other:?}"))),
        }
        // every record and the PIN on it belong to a person's personalization of this card
        let mut lines = Vec::new();
        for p in persons {
            let (expected, _, _) = reference(keys, &p.data, serial);
            let records_match = [Ef::Ef05, Ef::Ef06].iter().all(|&ef| {
                image
                    .records(ef)
                    .iter()
                    .all(|r| expected.records(ef).contains(r))
            });
            let pin_match = image.pin.value.is_empty() || image.pin.value == expected.pin.value;
            if records_match && pin_match {
                lines.push(p.line);
            }
        }
        ensure(!lines.is_empty(), || {
            what("partial data of no person".into())
        })?;
        Found::Partial { lines }
    } else {
        let read = lifecycle::read_verified(&mut card, keys, &ReadOptions::default())
            .map_err(|e| what(format!("read: {e}")))?;
        let ssn = read.holder.ssn.to_string();
        let matching: Vec<&Person> = persons.iter().filter(|p| p.ssn == ssn).collect();
        let [person] = matching.as_slice() else {
            return Err(what(format!(
                "holder {ssn} is not exactly one person of the input"
            )));
        };
        let card_id = read.issuing.card_id;
        ensure(read.holder == *person.data.holder(), || {
            what("holder data differs from the input".into())
        })?;
        ensure(read.issuing == person.data.issuing_data(card_id), || {
            what("issuing data differs from the input".into())
        })?;
        ensure(read.genuine == Some(true), || {
            what("not proved genuine".into())
        })?;
        ensure(card_id.to_string() == name, || {
            what(format!("reads card id {card_id}"))
        })?;
        let (expected, _, _) = reference(keys, &person.data, serial);
        ensure(image == expected, || {
            what("personalized, but the image differs from an untorn personalization".into())
        })?;
        Found::Personalized {
            line: person.line,
            card_id: card_id.to_string(),
        }
    };
    Ok((name, found))
}

/// Every card image under `dir` (the feeder's `in-reader.json`, `cards/`, `rejected/`,
/// `unused/`, or a folder of lost cards), by where it is.
fn card_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if dir.join("in-reader.json").exists() {
        out.push(dir.join("in-reader.json"));
    }
    for sub in ["", "cards", "rejected", "unused"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "json")
                && path.file_name().is_some_and(|n| n != "in-reader.json")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// The return file's rows.
fn return_rows(path: &Path) -> Result<Vec<HashMap<String, String>>, String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("return file: {e}"))?;
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    reader
        .records()
        .map(|r| {
            let r = r.map_err(|e| format!("return file: {e}"))?;
            Ok(headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect())
        })
        .collect()
}

/// One journal entry, as stored.
#[derive(Debug)]
struct JournalEntry {
    event: String,
    line: u64,
    card_id: String,
}

/// Reads the journal and recomputes its SHA-256 chain from the input file's hash (the layout
/// of `batch/journal.rs`, reimplemented here). Returns the entries and the chain head.
fn verified_journal(
    path: &Path,
    input_sha256: &str,
) -> Result<(Vec<JournalEntry>, String), String> {
    let conn = rusqlite::Connection::open(path).map_err(|e| format!("journal: {e}"))?;
    let bound: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'input_sha256'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| format!("journal meta: {e}"))?;
    ensure(bound == input_sha256, || {
        "journal bound to another input".into()
    })?;
    let mut stmt = conn
        .prepare(
            "SELECT seq, event, line, ssn, reader, card_id, atr, card_number,
                    detail, at, hash FROM entries ORDER BY seq",
        )
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| {
            let mut text = Vec::new();
            for i in [1, 3, 4, 5, 6, 7, 8, 10] {
                text.push(r.get::<_, String>(i)?);
            }
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(9)?,
                text,
            ))
        })
        .map_err(|e| e.to_string())?;
    // the chain is keyed with the station key (issue 13 item 11): HMAC-SHA-256 of the
    // length-prefixed fields, seeded with the layout and the input's hash
    let station = path.with_file_name("station.key");
    let key_text = std::fs::read_to_string(&station).map_err(|e| format!("station key: {e}"))?;
    let key_json: serde_json::Value = serde_json::from_str(&key_text).map_err(|e| e.to_string())?;
    let key =
        hex::decode(key_json["key"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
    let tag = |parts: &[&str]| -> String {
        use hmac::{KeyInit, Mac};
        let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        for part in parts {
            m.update(&(part.len() as u64).to_be_bytes());
            m.update(part.as_bytes());
        }
        hex::encode(m.finalize().into_bytes())
    };
    let mut head = tag(&["sscard.batch-journal/3", input_sha256]);
    let mut entries = Vec::new();
    for (i, row) in rows.enumerate() {
        let (seq, line, at, text) = row.map_err(|e| e.to_string())?;
        let [event, ssn, reader, card_id, atr, card_number, detail, hash] =
            <[String; 8]>::try_from(text).unwrap();
        ensure(seq == i as i64 + 1, || {
            format!("journal: entry {seq} out of sequence")
        })?;
        let expected = tag(&[
            head.as_str(),
            &seq.to_string(),
            &event,
            &line.to_string(),
            &ssn,
            &reader,
            &card_id,
            &atr,
            &card_number,
            &detail,
            &at.to_string(),
        ]);
        ensure(expected == hash, || {
            format!("journal: the hash chain is broken at entry {seq}")
        })?;
        head = hash;
        entries.push(JournalEntry {
            event,
            line: line as u64,
            card_id,
        });
    }
    Ok((entries, head))
}

/// The chain head a batch run printed (`journal: N entries, head H`).
fn printed_head(output: &std::process::Output) -> Option<String> {
    stdout(output)
        .lines()
        .find_map(|l| l.split_once(", head ").map(|(_, h)| h.trim().to_owned()))
}

fn batch(dir: &Path, extra: &[&str]) -> std::process::Output {
    sscard(dir)
        .args([
            "--reader",
            &format!("feeder:{FEEDER}"),
            "--keys",
            "keys.json",
            "batch",
            "--input",
            "persons.csv",
            "--journal",
            "journal.db",
            "--return-file",
            "return.csv",
            "--feeder-algorithm",
            "sm4",
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn tear_arg(tear: Tear) -> String {
    match tear {
        Tear::AtWrite(n) => format!("{TORN_LINE}:at-write:{n}"),
        Tear::AfterApdu(n) => format!("{TORN_LINE}:after-apdu:{n}"),
    }
}

fn exit_code(output: &std::process::Output, expected: i32, step: &str) -> Result<(), String> {
    ensure(output.status.code() == Some(expected), || {
        format!(
            "{step}: exit {:?}, expected {expected}\n{}{}",
            output.status.code(),
            stdout(output),
            stderr(output)
        )
    })
}

/// The personalized cards the feeder filed in `cards/`, by input line (each card must be
/// personalized with exactly one person's data); the card ids by line.
fn filed_cards(
    feeder: &Path,
    persons: &[Person],
    keys: &mut KeyFile,
) -> Result<BTreeMap<u64, Vec<(String, String)>>, String> {
    let mut by_line: BTreeMap<u64, Vec<(String, String)>> = BTreeMap::new();
    for path in files_in(&feeder.join("cards")) {
        match assess(&path, persons, keys)? {
            (serial, Found::Personalized { line, card_id }) => {
                ensure(path.file_stem().is_some_and(|s| *s == *serial), || {
                    format!("{} holds card {serial}", path.display())
                })?;
                by_line.entry(line).or_default().push((serial, card_id));
            }
            (serial, other) => {
                return Err(format!("card {serial} filed as personalized is {other:?}"))
            }
        }
    }
    Ok(by_line)
}

/// Runs one trial; `Ok(true)` when the personalization had landed on the torn card before the
/// resume.
///
/// A tear while the batch reads the card identification code for the journal (before its
/// `started` entry, before anything can be written) makes the person `FAILED`, not `UNDECIDED`:
/// the card is certainly blank and the person is retried on the next run without
/// `--retry-undecided`.
fn trial(dir: &Path, persons: &[Person], tear: Tear, policy: Policy) -> Result<bool, String> {
    let mut keys = test_keys(dir);
    let feeder = dir.join(FEEDER);

    // 1. the torn run
    let out = batch(dir, &["--tear", &tear_arg(tear)]);
    exit_code(&out, EXIT_BATCH_INCOMPLETE, "torn run")?;
    let rows = return_rows(&dir.join("return.csv"))?;
    let results: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["line"].as_str(), r["result"].as_str()))
        .collect();
    let undecided = results == [("2", "OK"), ("3", "UNDECIDED"), ("4", "OK")];
    ensure(
        undecided || results == [("2", "OK"), ("3", "FAILED"), ("4", "OK")],
        || format!("torn run: return file {results:?}"),
    )?;
    let filed = filed_cards(&feeder, persons, &mut keys)?;
    ensure(
        filed.keys().copied().collect::<Vec<_>>() == [2, 4] && filed.values().all(|c| c.len() == 1),
        || format!("torn run: personalized cards {filed:?}"),
    )?;
    let rejected = files_in(&feeder.join("rejected"));
    let [torn_path] = rejected.as_slice() else {
        return Err(format!("torn run: rejected cards {rejected:?}"));
    };
    ensure(!feeder.join("in-reader.json").exists(), || {
        "torn run: a card was left in the reader".into()
    })?;
    let (torn_serial, torn_state) = assess(torn_path, persons, &mut keys)?;
    let landed = match &torn_state {
        Found::Blank => false,
        Found::Partial { lines } if lines.contains(&TORN_LINE) => false,
        Found::Partial { lines } => {
            return Err(format!(
                "torn card holds part of the persons of lines {lines:?}"
            ))
        }
        Found::Personalized { line, .. } if *line == TORN_LINE => true,
        Found::Personalized { line, .. } => {
            return Err(format!("torn card holds the person of line {line}"))
        }
    };
    let (entries, _) = verified_journal(&dir.join("journal.db"), &input_sha256(dir))?;
    let last = entries.iter().rev().find(|e| e.line == TORN_LINE);
    if undecided {
        ensure(rows[1]["detail"].contains(&torn_serial), || {
            format!("torn run: the return file does not name card {torn_serial}")
        })?;
        ensure(
            last.is_some_and(|e| e.event == "undecided" && e.card_id == torn_serial),
            || format!("torn run: the journal's last entry for line {TORN_LINE} is {last:?}"),
        )?;
    } else {
        ensure(torn_state == Found::Blank, || {
            format!("torn run: FAILED, but the card is {torn_state:?}")
        })?;
        ensure(rows[1]["detail"].contains("nothing was written"), || {
            format!("torn run: detail {:?}", rows[1]["detail"])
        })?;
        let started = entries
            .iter()
            .any(|e| e.line == TORN_LINE && e.event == "started");
        ensure(
            !started && last.is_some_and(|e| e.event == "failed"),
            || format!("torn run: FAILED, journal entries of line {TORN_LINE}: {last:?}"),
        )?;
    }

    // 2. resume
    match policy {
        Policy::Reinsert => {
            std::fs::rename(torn_path, feeder.join("in-reader.json")).unwrap();
        }
        Policy::Lost if !undecided => {
            std::fs::create_dir_all(dir.join("lost")).unwrap();
            std::fs::rename(torn_path, dir.join("lost").join("torn.json")).unwrap();
        }
        Policy::Lost => {
            // rerun as is: the person stays undecided and nobody is personalized
            let out = batch(dir, &[]);
            exit_code(&out, EXIT_BATCH_INCOMPLETE, "rerun without the card")?;
            let again = return_rows(&dir.join("return.csv"))?;
            ensure(again == rows, || {
                "rerun without the card changed the return file".into()
            })?;
            ensure(files_in(&feeder.join("cards")).len() == 2, || {
                "rerun without the card personalized a card".into()
            })?;
            // declared lost (kept aside to check it)
            std::fs::create_dir_all(dir.join("lost")).unwrap();
            std::fs::rename(torn_path, dir.join("lost").join("torn.json")).unwrap();
        }
    }
    let extra: &[&str] = match policy {
        Policy::Lost if undecided => &["--retry-undecided"],
        _ => &[],
    };
    let out = batch(dir, extra);
    exit_code(&out, 0, "resume")?;
    let head = printed_head(&out).ok_or("resume printed no journal head")?;

    // 3. the return file: every person once, OK
    let rows = return_rows(&dir.join("return.csv"))?;
    ensure(rows.len() == persons.len(), || {
        format!("return file has {} rows", rows.len())
    })?;
    for (row, person) in rows.iter().zip(persons) {
        ensure(
            row["line"] == person.line.to_string()
                && row["ssn"] == person.ssn
                && row["result"] == "OK"
                && row["card_number"] == person.card_number
                && !row["card_id"].is_empty()
                && !row["atr"].is_empty(),
            || format!("return file row {row:?}"),
        )?;
    }

    // the journal: chain verifies, its head is the one printed, one `done` per person
    let (entries, chain_head) = verified_journal(&dir.join("journal.db"), &input_sha256(dir))?;
    ensure(chain_head == head, || {
        format!("journal head {chain_head}, the run printed {head}")
    })?;
    for (row, person) in rows.iter().zip(persons) {
        let done: Vec<&JournalEntry> = entries
            .iter()
            .filter(|e| e.line == person.line && e.event == "done")
            .collect();
        let last = entries.iter().rev().find(|e| e.line == person.line);
        ensure(
            done.len() == 1
                && last.is_some_and(|e| e.event == "done")
                && done[0].card_id == row["card_id"],
            || {
                format!(
                    "journal of line {}: done {done:?}, last {last:?}",
                    person.line
                )
            },
        )?;
    }

    // the cards: one personalized card per person, equal to the return file
    let filed = filed_cards(&feeder, persons, &mut keys)?;
    for (row, person) in rows.iter().zip(persons) {
        let cards = filed
            .get(&person.line)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let [(serial, card_id)] = cards else {
            return Err(format!(
                "line {}: personalized cards {cards:?}",
                person.line
            ));
        };
        ensure(
            *card_id == row["card_id"]
                && *serial == row["card_id"]
                && row["atr"].contains(&serial[16..24]),
            || {
                format!(
                    "line {}: card {serial} ({card_id}) vs return file {row:?}",
                    person.line
                )
            },
        )?;
        if person.line == TORN_LINE {
            match policy {
                Policy::Reinsert => {
                    ensure(*serial == torn_serial, || {
                        format!("the reinserted card {torn_serial} was not completed; {serial} was used")
                    })?
                }
                Policy::Lost => {
                    ensure(*serial != torn_serial, || "the lost card came back".into())?
                }
            }
        }
    }
    ensure(filed.len() == persons.len(), || {
        format!("personalized cards {filed:?}")
    })?;
    // a final rerun changes nothing (and reopens the journal, verifying its chain); a lost card
    // found after its person was personalized again and put back into the reader is not
    // completed for that person a second time
    if policy == Policy::Lost {
        std::fs::rename(dir.join("lost/torn.json"), feeder.join("in-reader.json")).unwrap();
    }
    let out = batch(dir, &[]);
    exit_code(&out, 0, "final rerun")?;
    ensure(printed_head(&out).as_deref() == Some(head.as_str()), || {
        "the final rerun wrote to the journal".into()
    })?;
    ensure(filed_cards(&feeder, persons, &mut keys)? == filed, || {
        "the final rerun changed the personalized cards".into()
    })?;
    ensure(return_rows(&dir.join("return.csv"))? == rows, || {
        "the final rerun changed the return file".into()
    })?;

    // every other card: blank, personalizing, or (the lost card) exactly its person's data
    let mut others = card_files(&feeder);
    others.retain(|p| !p.starts_with(feeder.join("cards")));
    ensure(others.len() == usize::from(policy == Policy::Lost), || {
        format!("cards outside cards/: {others:?}")
    })?;
    for path in others {
        let (serial, found) = assess(&path, persons, &mut keys)?;
        match found {
            Found::Blank => {}
            Found::Partial { lines } if lines.contains(&TORN_LINE) => {}
            Found::Partial { lines } => {
                return Err(format!("card {serial} holds part of lines {lines:?}"))
            }
            Found::Personalized { line, .. }
                if policy == Policy::Lost && line == TORN_LINE && serial == torn_serial => {}
            Found::Personalized { line, .. } => {
                return Err(format!(
                    "card {serial} ({}) is personalized for line {line} outside cards/",
                    path.display()
                ))
            }
        }
    }
    Ok(landed)
}

fn input_sha256(dir: &Path) -> String {
    hex::encode(Sha256::digest(
        std::fs::read(dir.join("persons.csv")).unwrap(),
    ))
}

/// A tear point of one kind, from its number.
type MakeTear = fn(u64) -> Tear;

/// One row of the report.
#[derive(Default)]
struct Row {
    tear: &'static str,
    policy: &'static str,
    points: u64,
    tried: u64,
    landed: u64,
    recovered: u64,
    corrupted: Vec<String>,
}

#[test]
fn batch_tearing_sweep() {
    let text = input_csv();
    let people = persons(&text);
    let torn = people.iter().find(|p| p.line == TORN_LINE).unwrap();
    assert_eq!(torn.data.generation(), Generation::V2);
    // W and A of one personalization, untorn
    let (apdus, writes) = {
        let dir = workdir();
        let (_, apdus, writes) = reference(&mut test_keys(dir.path()), &torn.data, [0x7E, 0, 0, 1]);
        (apdus, writes)
    };
    assert!(writes > 10 && apdus > writes, "A {apdus}, W {writes}");

    // the batch's personalization is the one measured: a tear one past the end never fires
    for tear in [Tear::AtWrite(writes + 1), Tear::AfterApdu(apdus + 1)] {
        let dir = workdir();
        std::fs::write(dir.path().join("persons.csv"), &text).unwrap();
        let out = batch(dir.path(), &["--tear", &tear_arg(tear)]);
        assert!(out.status.success(), "{tear}: {}", stderr(&out));
    }

    let kinds: [(&str, u64, MakeTear); 2] = [
        ("at write", writes, Tear::AtWrite),
        ("after APDU", apdus, Tear::AfterApdu),
    ];
    let mut trials = Vec::new();
    let mut rows = Vec::new();
    for (kind, points, make) in kinds {
        for policy in [Policy::Reinsert, Policy::Lost] {
            for n in 1..=points {
                trials.push((rows.len(), make(n), policy));
            }
            rows.push(Row {
                tear: kind,
                policy: policy.describe(),
                points,
                ..Row::default()
            });
        }
    }
    let rows = Mutex::new(rows);
    let next = AtomicUsize::new(0);
    let start = std::time::Instant::now();
    // two trials at a time: each is a few short processes
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(&(row, tear, policy)) =
                    trials.get(next.fetch_add(1, Ordering::SeqCst))
                {
                    let dir = workdir();
                    std::fs::write(dir.path().join("persons.csv"), &text).unwrap();
                    let result = trial(dir.path(), &people, tear, policy);
                    let mut rows = rows.lock().unwrap();
                    let r = &mut rows[row];
                    r.tried += 1;
                    match result {
                        Ok(landed) => {
                            r.recovered += 1;
                            r.landed += u64::from(landed);
                        }
                        Err(e) => r
                            .corrupted
                            .push(format!("{tear}, {}: {e}", policy.describe())),
                    }
                }
            });
        }
    });
    let rows = rows.into_inner().unwrap();
    report(&rows, apdus, writes, start.elapsed());
}

/// Prints the table, writes it to `<CARGO_TARGET_TMPDIR>/tearing-batch.md`, requires 0
/// corrupted.
fn report(rows: &[Row], apdus: u64, writes: u64, elapsed: std::time::Duration) {
    let mut text = format!(
        "Batch: 3 persons on one feeder, the 2nd person's card torn (personalization: A = {apdus} APDUs, W = {writes} writes)\n\n\
         | operation | card | tear | resume | points | tried | landed | recovered | corrupted |\n\
         |---|---|---|---|---:|---:|---:|---:|---:|\n"
    );
    let (mut tried, mut recovered, mut corrupted) = (0, 0, 0);
    for r in rows {
        text.push_str(&format!(
            "| batch | 2.00/sm4 | {} | {} | {} | {} | {} | {} | {} |\n",
            r.tear,
            r.policy,
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
    text.push_str(&format!(
        "\ntotal: {tried} tear points tried, {recovered} recovered, {corrupted} corrupted ({:.1} s)\n",
        elapsed.as_secs_f64()
    ));
    let problems: Vec<&String> = rows.iter().flat_map(|r| r.corrupted.iter()).collect();
    for p in &problems {
        text.push_str(&format!("CORRUPTED: {p}\n"));
    }
    println!("\n{text}");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tearing-batch.md");
    std::fs::write(&path, &text).unwrap();
    assert!(
        problems.is_empty(),
        "{} corrupted: {problems:#?}",
        problems.len()
    );
    assert_eq!(tried, recovered);
}
