//! `sscard batch`: personalize a whole data file from the bureau.
//!
//! - The input is validated first; bad rows and duplicates are reported with their line and
//!   field and skipped ([`input`]).
//! - Every card step is recorded in the journal ([`journal`]) before and after it happens, so a
//!   batch stopped in any way (Ctrl-C, kill -9, power loss, card pulled) resumes where it stood:
//!   a card found half-personalized is completed for its person, a card found personalized but
//!   not recorded is recognised by its card identification code, read back and recorded, and a
//!   card that left the reader mid-way makes its person "undecided" (never personalized twice
//!   automatically). Blank, partial and personalized cards are told apart without keys
//!   ([`crate::cardstate`]).
//! - One worker thread per `--reader`; the key holder is shared.
//! - The return file (回盘) is rewritten from the journal at the end: every row of the input
//!   exactly once, with its result.

pub mod input;
pub mod journal;
pub mod wal_sync;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sscard_core::data::Personalization;
use sscard_core::keyholder::{KeyFile, KeyHolder};
use sscard_core::keys::RootKeys;
use sscard_core::lifecycle::{self, Card, PersonalizeOptions};
use sscard_core::transport::TransportError;
use sscard_files::Durability;
use sscard_sim::SimCard;

use crate::cardstate::{card_state, image_state, CardState};
use crate::cli::{BatchArgs, GlobalOpts, OutputFormat};
use crate::context::{self, AnyTransport, ReaderSpec, SharedKeyHolder, SimSlot, Timed};
use crate::error::{CliError, CliResult};
use crate::feeder::{Feeder, Tray};
use crate::progress::{self, Progress};
use input::{InputFile, Row, RowStatus};
use journal::{Entry, Event, Journal, StationKey};
use wal_sync::WalSync;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A feeder's card, loaded into a slot that saves it (not fsynced) once per operation.
fn feeder_slot(feeder: &Feeder, card: SimCard) -> SimSlot {
    SimSlot::new(card, feeder.slot_path(), Durability::Quick)
}

/// Takes the card of `slot` out of the feeder's reader into `tray`, saved first if it changed.
fn take_out(feeder: &Feeder, mut slot: SimSlot, tray: Tray) -> CliResult<()> {
    slot.save_if_changed()
        .map_err(|e| CliError::Other(e.to_string()))?;
    feeder.take_out(slot.card(), tray).map(|_| ())
}

fn slot_of(card: Card<Timed>) -> CliResult<SimSlot> {
    match card.into_transport().into_inner() {
        AnyTransport::Sim(slot) => Ok(*slot),
        _ => Err(CliError::Other("feeder: not a simulated card".into())),
    }
}

/// The key holders of the batch's workers: each its own key file made from the same root keys
/// (`--keys`, `--test-keys`: no lock between the readers), or one PSAM shared by all.
enum WorkerKeys {
    Own(RootKeys),
    Shared(SharedKeyHolder),
}

impl WorkerKeys {
    fn for_worker(&self) -> Box<dyn KeyHolder + Send> {
        match self {
            WorkerKeys::Own(roots) => Box::new(KeyFile::new(roots.clone())),
            WorkerKeys::Shared(shared) => Box::new(shared.clone()),
        }
    }
}

/// A card reader of the batch.
enum Station {
    Feeder(Feeder),
    Pcsc(String),
}

/// Where a card goes after its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    /// Keep it in the reader (blank, reusable).
    Keep,
    /// Personalized: take it out.
    Finished,
    /// Not usable: take it out.
    Rejected,
}

struct Shared<'a> {
    rows: &'a [Row],
    /// The rows' data area cells, by line.
    areas: &'a std::collections::HashMap<u64, crate::areas::RowAreas>,
    journal: Mutex<Journal>,
    /// Makes journal entries durable, outside the journal's lock.
    wal: Arc<WalSync>,
    queue: Mutex<VecDeque<usize>>,
    keys: WorkerKeys,
    stop: Arc<AtomicBool>,
    progress: Progress,
    personalized: AtomicU64,
    /// Testing aids (`test-hooks` builds only).
    #[cfg(feature = "test-hooks")]
    hooks: crate::cli::TestHooks,
    options_verify: bool,
    trace: bool,
    wait: Option<u64>,
}

impl Shared<'_> {
    /// Appends a journal entry: committed, durable with the next [`Shared::append_durable`]
    /// or [`WalSync::sync_all`].
    fn append(&self, event: Event, entry: &Entry) -> CliResult<()> {
        lock(&self.journal).append(event, entry)
    }

    /// Appends a journal entry and makes it durable before returning (one fsync, shared with
    /// the other readers' entries: [`wal_sync`]).
    fn append_durable(&self, event: Event, entry: &Entry) -> CliResult<()> {
        let seq = {
            let mut journal = lock(&self.journal);
            journal.append(event, entry)?;
            journal.len()
        };
        self.wal.sync_in_company(seq)
    }

    fn person(&self, line: u64) -> Option<(&Row, &Personalization)> {
        self.rows
            .iter()
            .find(|r| r.line == line)
            .and_then(|r| match &r.status {
                RowStatus::Valid(p) => Some((r, p.as_ref())),
                _ => None,
            })
    }

    fn note(&self, msg: String) {
        self.progress.note(&msg);
    }
}

/// A journal entry about `card` for `row`: the card is known by its card identification code
/// (EF05 tag 01, written at initialization and unique to the card, V2.0 notice §8.1.1.1).
fn card_entry(card: &mut Card<Timed>, row: &Row, reader: &str) -> CliResult<Entry> {
    Ok(Entry {
        line: row.line,
        ssn: row.ssn.clone(),
        reader: reader.to_owned(),
        card_id: card.card_id()?.to_string(),
        atr: hex::encode_upper(card.atr()),
        ..Entry::default()
    })
}

/// Decides what to do with a card found in a reader when the batch (re)starts.
fn resolve_found(
    card: &mut Card<Timed>,
    kh: &mut dyn KeyHolder,
    shared: &Shared<'_>,
    reader: &str,
) -> CliResult<Out> {
    let atr = hex::encode_upper(card.atr());
    let (card_id, state) = match card.card_id().and_then(|id| Ok((id, card_state(card)?))) {
        Ok((id, state)) => (id.to_string(), state),
        Err(e) => {
            shared.note(format!("{reader}: not a usable card ({e}): taken out"));
            return Ok(Out::Rejected);
        }
    };
    let latest = lock(&shared.journal).latest_for_card(&card_id)?;
    // A card that left the reader mid-way (its person undecided) and is back is that person's
    // card again, as if its personalization had just been interrupted, unless the person was
    // personalized on another card meanwhile (`--retry-undecided`).
    let latest = match latest {
        Some(s) if s.event == Event::Undecided => {
            let person = lock(&shared.journal).states()?.remove(&s.entry.line);
            if person.is_some_and(|p| p.event == Event::Undecided && p.entry.card_id == card_id) {
                Some(journal::State {
                    event: Event::Started,
                    entry: s.entry,
                })
            } else {
                None
            }
        }
        other => other,
    };
    match (state, latest) {
        (CardState::Blank, Some(s)) if s.event == Event::Started => {
            let mut entry = s.entry.clone();
            entry.reader = reader.to_owned();
            entry.detail = "interrupted before any data was written".into();
            shared.append(Event::Failed, &entry)?;
            Ok(Out::Keep)
        }
        (CardState::Blank, _) => Ok(Out::Keep),
        (_, Some(s)) if s.event == Event::Started => {
            let Some((row, person)) = shared.person(s.entry.line) else {
                return Ok(Out::Rejected);
            };
            if state == CardState::Partial {
                shared.note(format!(
                    "line {}: completing the interrupted personalization of card {card_id}",
                    row.line
                ));
            }
            // Personalizing again completes a partial card; a card that already carries the
            // person's card number is only read back and compared ([design] D15).
            let options = PersonalizeOptions {
                read_back: shared.options_verify,
                ..PersonalizeOptions::default()
            };
            let mut entry = Entry {
                line: row.line,
                ssn: row.ssn.clone(),
                reader: reader.to_owned(),
                card_id: card_id.clone(),
                atr,
                ..Entry::default()
            };
            let done = lifecycle::personalize(card, &mut *kh, person, &options).and_then(|r| {
                crate::areas::write_row_areas(card, &mut *kh, shared.areas.get(&row.line))
                    .map(|()| r)
            });
            match done {
                Ok(report) => {
                    entry.card_number = report.card_number.to_string();
                    entry.detail = if report.already_done {
                        "found personalized after an interruption".into()
                    } else {
                        "completed after an interruption".into()
                    };
                    shared.append(Event::Done, &entry)?;
                    Ok(Out::Finished)
                }
                Err(e) => {
                    entry.detail = e.to_string();
                    shared.note(format!("line {}: failed: {e}", row.line));
                    shared.append(Event::Failed, &entry)?;
                    Ok(Out::Rejected)
                }
            }
        }
        (_, Some(s)) if s.event == Event::Done => Ok(Out::Finished),
        _ => {
            shared.note(format!(
                "{reader}: card {card_id} is not a blank card of this batch: taken out"
            ));
            Ok(Out::Rejected)
        }
    }
}

/// Looks at the card a feeder holds when the batch starts.
fn resolve_feeder(feeder: &Feeder, shared: &Shared<'_>, reader: &str) -> CliResult<()> {
    let Some(found) = feeder.current()? else {
        return Ok(());
    };
    let mut kh = shared.keys.for_worker();
    let mut card = context::traced_card(
        AnyTransport::Sim(Box::new(feeder_slot(feeder, found))),
        shared.trace,
    )?;
    let out = resolve_found(&mut card, &mut *kh, shared, reader)?;
    let slot = slot_of(card)?;
    match out {
        Out::Keep => Ok(()),
        Out::Finished => take_out(feeder, slot, Tray::Cards),
        Out::Rejected => take_out(feeder, slot, Tray::Rejected),
    }
}

/// Is the error one where the card left the reader (its state unknown)?
fn card_gone(e: &sscard_core::Error) -> bool {
    matches!(
        e,
        sscard_core::Error::Transport(TransportError::CardRemoved | TransportError::NoCard)
    )
}

/// Personalizes one person on `card`; records everything; says where the card goes.
fn personalize_one(
    card: &mut Card<Timed>,
    kh: &mut dyn KeyHolder,
    row: &Row,
    person: &Personalization,
    shared: &Shared<'_>,
    reader: &str,
) -> CliResult<Out> {
    let entry = match card_entry(card, row, reader) {
        Ok(entry) => entry,
        Err(e) => {
            // Only SELECT and READ RECORD were sent: nothing was written to the card, so the
            // person is certainly not on it and is retried on the next run.
            let detail = match &e {
                CliError::Card(c) if card_gone(c) => {
                    "the card left the reader before personalization began (nothing was written): retried on the next run".to_owned()
                }
                other => format!(
                    "the card's identification code could not be read ({other}); nothing was written: retried on the next run"
                ),
            };
            shared.note(format!("line {}: {detail}", row.line));
            let failed = Entry {
                line: row.line,
                ssn: row.ssn.clone(),
                reader: reader.to_owned(),
                atr: hex::encode_upper(card.atr()),
                detail,
                ..Entry::default()
            };
            shared.append(Event::Failed, &failed)?;
            return Ok(Out::Rejected);
        }
    };
    shared.append_durable(Event::Started, &entry)?;
    let options = PersonalizeOptions {
        read_back: shared.options_verify,
        ..PersonalizeOptions::default()
    };
    let done = lifecycle::personalize(card, &mut *kh, person, &options).and_then(|r| {
        crate::areas::write_row_areas(card, &mut *kh, shared.areas.get(&row.line)).map(|()| r)
    });
    match done {
        Ok(report) => {
            let _n = shared.personalized.fetch_add(1, Ordering::SeqCst) + 1;
            #[cfg(feature = "test-hooks")]
            if shared.hooks.crash_after == Some(_n) {
                // testing aid: die like a power loss, between the card and the journal
                std::process::abort();
            }
            let mut done = entry;
            done.card_number = report.card_number.to_string();
            shared.append(Event::Done, &done)?;
            Ok(Out::Finished)
        }
        Err(e) if card_gone(&e) => {
            let mut entry = entry;
            entry.detail = format!(
                "card {} left the reader during personalization: find it and rerun (it is completed), or rerun with --retry-undecided if it is lost",
                entry.card_id
            );
            shared.note(format!("line {}: {}", row.line, entry.detail));
            shared.append(Event::Undecided, &entry)?;
            Ok(Out::Rejected)
        }
        Err(e) => {
            let mut entry = entry;
            entry.detail = e.to_string();
            shared.note(format!("line {}: failed: {e}", row.line));
            // a card that is still blank can take the next person
            let out = match card_state(card) {
                Ok(CardState::Blank) => Out::Keep,
                _ => Out::Rejected,
            };
            shared.append(Event::Failed, &entry)?;
            Ok(out)
        }
    }
}

fn next_person(shared: &Shared<'_>) -> Option<usize> {
    if shared.stop.load(Ordering::SeqCst) {
        return None;
    }
    lock(&shared.queue).pop_front()
}

fn feeder_worker(feeder: Feeder, shared: &Shared<'_>, reader: &str) -> CliResult<()> {
    let _at_work = shared.wal.at_work();
    let mut kh = shared.keys.for_worker();
    while let Some(index) = next_person(shared) {
        let Some(row) = shared.rows.get(index) else {
            continue;
        };
        let RowStatus::Valid(person) = &row.status else {
            continue;
        };
        let found = match feeder.current()? {
            Some(card) => {
                let image = card.image();
                if image.generation == person.generation()
                    && image.region == person.region()
                    && image_state(image) == CardState::Blank
                {
                    Some(card)
                } else {
                    take_out(&feeder, feeder_slot(&feeder, card), Tray::Unused)?;
                    None
                }
            }
            None => None,
        };
        let card = match found {
            Some(card) => card,
            None => {
                let blank = feeder.blank(person.generation(), person.region())?;
                feeder.store(&blank)?;
                blank
            }
        };
        #[allow(unused_mut)]
        let mut slot = feeder_slot(&feeder, card);
        #[cfg(feature = "test-hooks")]
        if let Some(spec) = shared.hooks.tear.filter(|t| t.line == row.line) {
            // testing aid: counted from here, the start of this person's personalization
            slot.card_mut().arm_tear(spec.tear);
        }
        let mut card = context::traced_card(AnyTransport::Sim(Box::new(slot)), shared.trace)?;
        let out = personalize_one(&mut card, &mut *kh, row, person, shared, reader)?;
        let slot = slot_of(card)?;
        match out {
            Out::Keep => {}
            Out::Finished => take_out(&feeder, slot, Tray::Cards)?,
            Out::Rejected => take_out(&feeder, slot, Tray::Rejected)?,
        }
        shared.progress.inc();
    }
    Ok(())
}

/// How often a PC/SC worker looks whether the finished card left its reader.
const REMOVAL_POLL: Duration = Duration::from_millis(10);
/// After this long, the worker asks the operator to take the card out.
const REMOVAL_NOTE_AFTER: Duration = Duration::from_secs(2);

/// Waits until the card with `atr` left reader `name`: the reader is empty, or holds another
/// card (a feeder may swap cards faster than a poll sees the reader empty).
fn wait_removed(name: &str, atr: &[u8], shared: &Shared<'_>) -> CliResult<()> {
    let mut pcsc = sscard_pcsc::Pcsc::establish()?;
    let start = std::time::Instant::now();
    let mut told = false;
    loop {
        let readers = pcsc.list_readers()?;
        let present = readers
            .iter()
            .find(|r| r.name == name)
            .is_some_and(|r| r.card_present && r.atr.as_deref().is_none_or(|a| a == atr));
        if !present || shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if !told && start.elapsed() >= REMOVAL_NOTE_AFTER {
            shared.note(format!("{name}: take the card out"));
            told = true;
        }
        std::thread::sleep(REMOVAL_POLL);
    }
}

fn pcsc_card(name: &str, shared: &Shared<'_>) -> CliResult<Card<Timed>> {
    let wait = Duration::from_secs(shared.wait.unwrap_or(3600));
    let options = sscard_pcsc::OpenOptions {
        reader: Some(sscard_pcsc::ReaderSelector::Exact(name.to_owned())),
        share: sscard_pcsc::ShareMode::Exclusive,
        wait: Some(wait),
    };
    let transport = sscard_pcsc::PcscTransport::open(&options)?;
    context::traced_card(AnyTransport::Pcsc(Box::new(transport)), shared.trace)
}

fn pcsc_worker(name: &str, shared: &Shared<'_>) -> CliResult<()> {
    let _at_work = shared.wal.at_work();
    let mut kh = shared.keys.for_worker();
    // the card found in the reader at start
    if let Ok(mut card) = pcsc_card(name, shared) {
        if resolve_found(&mut card, &mut *kh, shared, name)? != Out::Keep {
            let atr = card.atr().to_vec();
            drop(card);
            shared.wal.sync_all()?;
            wait_removed(name, &atr, shared)?;
        }
    }
    while let Some(index) = next_person(shared) {
        let Some(row) = shared.rows.get(index) else {
            continue;
        };
        let RowStatus::Valid(person) = &row.status else {
            continue;
        };
        let mut card = loop {
            let mut card = pcsc_card(name, shared)?;
            match card_state(&mut card) {
                Ok(CardState::Blank) => break card,
                _ => {
                    shared.note(format!("{name}: not a blank card"));
                    let atr = card.atr().to_vec();
                    drop(card);
                    wait_removed(name, &atr, shared)?;
                }
            }
        };
        let out = personalize_one(&mut card, &mut *kh, row, person, shared, name)?;
        let atr = card.atr().to_vec();
        drop(card);
        // what the journal says of this card is on the disk before the card leaves
        shared.wal.sync_all()?;
        if out != Out::Keep {
            wait_removed(name, &atr, shared)?;
        }
        shared.progress.inc();
    }
    Ok(())
}

/// The result word of a row in the return file.
fn row_result(row: &Row, state: Option<&journal::State>) -> (&'static str, String) {
    match &row.status {
        RowStatus::Invalid { field, reason } if reason.starts_with(field.as_str()) => {
            ("INVALID", reason.clone())
        }
        RowStatus::Invalid { field, reason } => ("INVALID", format!("{field}: {reason}")),
        RowStatus::Duplicate { of_line, field } => {
            ("DUPLICATE", format!("{field} already on line {of_line}"))
        }
        RowStatus::Valid(_) => match state.map(|s| s.event) {
            Some(Event::Done) => ("OK", String::new()),
            Some(Event::Failed) => (
                "FAILED",
                state.map(|s| s.entry.detail.clone()).unwrap_or_default(),
            ),
            Some(Event::Undecided) | Some(Event::Started) => (
                "UNDECIDED",
                state.map(|s| s.entry.detail.clone()).unwrap_or_default(),
            ),
            None => ("PENDING", "not processed yet: rerun to resume".into()),
        },
    }
}

/// A return file cell as a spreadsheet may read it: a cell starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return would be a formula, so it gets a leading `'` (OWASP, "CSV
/// injection"). Only the return file is changed, never the card.
pub fn neutralize(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Writes the return file from the input rows and the journal (atomically).
fn write_return_file(
    path: &Path,
    input: &InputFile,
    journal: &Journal,
) -> CliResult<std::collections::BTreeMap<&'static str, u64>> {
    let states = journal.states()?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut counts = std::collections::BTreeMap::new();
    let header = [
        "line",
        "ssn",
        "name",
        "card_id",
        "card_number",
        "atr",
        "result",
        "detail",
    ];
    out.write_record(header)
        .map_err(|e| CliError::Other(format!("return file: {e}")))?;
    for row in &input.rows {
        let state = states.get(&row.line);
        let (result, detail) = row_result(row, state);
        *counts.entry(result).or_insert(0) += 1;
        let done = result == "OK";
        let field = |f: fn(&Entry) -> &String| -> String {
            match state {
                Some(s) if done => f(&s.entry).clone(),
                _ => String::new(),
            }
        };
        out.write_record(
            [
                row.line.to_string(),
                row.ssn.clone(),
                row.name.clone(),
                field(|e| &e.card_id),
                field(|e| &e.card_number),
                field(|e| &e.atr),
                result.to_owned(),
                detail,
            ]
            .map(neutralize),
        )
        .map_err(|e| CliError::Other(format!("return file: {e}")))?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| CliError::Other(format!("return file: {e}")))?;
    let bytes = if input.gbk {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        encoding_rs::GBK.encode(&text).0.into_owned()
    } else {
        bytes
    };
    // a fresh temporary file of an unpredictable name, mode 0600, fsynced, renamed
    sscard_files::write_atomically(path, &bytes, Durability::Durable)
        .map_err(|e| crate::error::io_err("cannot write the return file", path, e))?;
    Ok(counts)
}

/// `sscard batch`.
pub fn run(global: &GlobalOpts, args: &BatchArgs) -> CliResult<()> {
    if global.output_format == OutputFormat::Basic {
        return Err(CliError::BadInput(
            "--output-format basic is for `read` only".into(),
        ));
    }
    let input = input::read(&args.input, args.encoding)?;
    let mut bad = 0;
    for row in &input.rows {
        match &row.status {
            RowStatus::Invalid { reason, .. } => {
                bad += 1;
                eprintln!(
                    "{}: line {}: skipped: {reason}",
                    args.input.display(),
                    row.line
                );
            }
            RowStatus::Duplicate { of_line, field } => {
                bad += 1;
                eprintln!(
                    "{}: line {}: skipped: duplicate {field} (first on line {of_line})",
                    args.input.display(),
                    row.line
                );
            }
            RowStatus::Valid(_) => {}
        }
    }
    if args.check_only {
        let valid = input.rows.len() - bad;
        println!(
            "{valid} valid rows, {bad} rows skipped (read as {})",
            input::encoding_name(input.gbk)
        );
        for row in input.rows.iter().take(5) {
            println!("  line {}: {} {}", row.line, row.ssn, row.name);
        }
        return if bad == 0 {
            Ok(())
        } else {
            Err(CliError::BatchIncomplete(format!(
                "{bad} rows are not valid"
            )))
        };
    }

    // Before anything starts: every reader once, no two paths naming one file, the outputs
    // writable, the journal ours alone.
    let specs = context::reader_specs(global);
    check_readers_once(&specs)?;
    check_paths_distinct(args)?;
    sscard_files::check_writable(&args.return_file)
        .map_err(|e| crate::error::io_err("cannot write the return file", &args.return_file, e))?;
    let journal = Journal::open(&args.journal, &input.sha256, |new| {
        load_station_key(args, new)
    })?;

    let mut stations = Vec::new();
    let mut resolved: Vec<String> = Vec::new();
    let mut locks = Vec::new();
    for spec in &specs {
        match spec {
            ReaderSpec::Feeder(dir) => {
                // the feeder's blank cards are made from --keys, else the embedded test keys
                let (keys, _) = context::root_keys(global)?;
                let mut feeder = Feeder::open(dir, keys, args.feeder_algorithm.into())?;
                locks.push(context::lock_feeder(dir, "sscard batch")?);
                feeder.areas = !input.areas.is_empty();
                stations.push((spec.label(), Station::Feeder(feeder)));
            }
            ReaderSpec::Pcsc(name) => {
                let mut pcsc = sscard_pcsc::Pcsc::establish()?;
                let readers = pcsc.list_readers()?;
                let info = sscard_pcsc::ReaderSelector::parse(name).resolve(&readers)?;
                if let Some(first) = resolved.iter().find(|r| **r == info.name) {
                    return Err(CliError::Usage(format!(
                        "reader \"{}\" is given twice (--reader {name:?} names it too): each reader takes part in a batch once",
                        first
                    )));
                }
                resolved.push(info.name.clone());
                stations.push((info.name.clone(), Station::Pcsc(info.name.clone())));
            }
            ReaderSpec::Sim(_) => {
                return Err(CliError::BadInput(
                    "a batch needs a card per person: use feeder:DIR (simulated) or PC/SC readers, not sim:IMAGE".into(),
                ))
            }
            ReaderSpec::Default => {
                return Err(CliError::BadInput(
                    "give the batch its readers with --reader (PC/SC names or feeder:DIR)".into(),
                ))
            }
        }
    }
    let key_holder = context::require_key_holder(global, "a batch")?;
    let keys = if global.psam.is_some() {
        WorkerKeys::Shared(SharedKeyHolder::new(key_holder))
    } else {
        drop(key_holder);
        WorkerKeys::Own(context::root_keys(global)?.0)
    };
    let wal = journal.wal_sync();
    let stop = crate::interrupt::flag();

    let shared = Shared {
        rows: &input.rows,
        areas: &input.areas,
        journal: Mutex::new(journal),
        wal,
        queue: Mutex::new(VecDeque::new()),
        keys,
        stop: Arc::clone(&stop),
        progress: Progress::new(progress::Mode::Off, 0, "cards"),
        personalized: AtomicU64::new(0),
        #[cfg(feature = "test-hooks")]
        hooks: args.hooks,
        options_verify: !args.no_verify,
        trace: global.tracing(),
        wait: global.wait,
    };

    // 1. the cards found in the readers
    for (label, station) in &stations {
        if let Station::Feeder(feeder) = station {
            resolve_feeder(feeder, &shared, label)?;
        }
    }
    // 2. persons whose card was not found: undecided
    let states = lock(&shared.journal).states()?;
    let pcsc_stations = stations.iter().any(|(_, s)| matches!(s, Station::Pcsc(_)));
    for state in states.values() {
        if state.event == Event::Started && !pcsc_stations {
            let mut entry = state.entry.clone();
            entry.detail = format!(
                "card {} (reader {}) was not found after an interruption: find it and put it in a reader, or rerun with --retry-undecided if it is lost",
                entry.card_id, entry.reader
            );
            shared.append(Event::Undecided, &entry)?;
        }
    }
    // 3. the queue: valid persons not done
    let states = lock(&shared.journal).states()?;
    let mut queue = VecDeque::new();
    let mut already = 0u64;
    for (i, row) in input.rows.iter().enumerate() {
        if !matches!(row.status, RowStatus::Valid(_)) {
            continue;
        }
        match states.get(&row.line).map(|s| s.event) {
            None | Some(Event::Failed) => queue.push_back(i),
            Some(Event::Undecided) if args.retry_undecided => queue.push_back(i),
            Some(Event::Done) => already += 1,
            _ => {}
        }
    }
    let todo = queue.len() as u64;
    *lock(&shared.queue) = queue;
    if already > 0 {
        progress::note(format!(
            "resuming: {already} persons already personalized, {todo} to go"
        ));
    }
    let mode = progress::Mode::for_stderr(global.no_progress, global.quiet);
    let progress = Progress::new(mode, todo, "cards");
    let shared = Shared { progress, ..shared };

    // 4. the workers
    let mut results: Vec<CliResult<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = stations
            .into_iter()
            .map(|(label, station)| {
                let shared = &shared;
                scope.spawn(move || {
                    let r = match station {
                        Station::Feeder(f) => feeder_worker(f, shared, &label),
                        Station::Pcsc(name) => pcsc_worker(&name, shared),
                    };
                    if r.is_err() {
                        shared.stop.store(true, Ordering::SeqCst);
                    }
                    r
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(CliError::Other("a reader thread crashed".into())))
            })
            .collect()
    });
    shared.progress.finish();
    // every entry of the run on the disk before the return file says what happened
    if let Err(e) = shared.wal.sync_all() {
        results.push(Err(e));
    }
    let journal = shared
        .journal
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    // A reader's failure (a journal that could not be written, a disk full) comes first: the
    // return file's own failure is then only mentioned.
    let mut worker_error = None;
    for r in results {
        if let Err(e) = r {
            if worker_error.is_none() {
                worker_error = Some(e);
            } else {
                eprintln!("sscard: also: {e}");
            }
        }
    }
    let counts = match (
        write_return_file(&args.return_file, &input, &journal),
        worker_error,
    ) {
        (Ok(counts), None) => counts,
        (Ok(_), Some(e)) => return Err(e),
        (Err(e), None) => return Err(e),
        (Err(return_error), Some(e)) => {
            eprintln!("sscard: also: {return_error}");
            return Err(e);
        }
    };
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let elapsed = shared.progress.elapsed();
    match global.output_format {
        OutputFormat::Json => {
            crate::output::print_document(&sscard_cli::documents::BatchDocument {
                counts: counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
                personalized_this_run: shared.personalized.load(Ordering::SeqCst),
                journal_entries: journal.len(),
                journal_head: journal.head().to_owned(),
                journal_fsyncs: shared.wal.syncs(),
                return_file: args.return_file.display().to_string(),
                elapsed_ms: elapsed.as_millis() as u64,
            })
        }
        _ => {
            println!(
                "batch: {} ({} cards this run in {:.1} s); return file {}",
                summary.join(", "),
                shared.personalized.load(Ordering::SeqCst),
                elapsed.as_secs_f64(),
                args.return_file.display()
            );
            println!(
                "journal: {} entries, head {}",
                journal.len(),
                journal.head()
            );
        }
    }
    drop(locks);
    if stop.load(Ordering::SeqCst) {
        return Err(CliError::Interrupted(
            "the batch stopped; run the same command again to resume".into(),
        ));
    }
    let not_ok: u64 = counts
        .iter()
        .filter(|(k, _)| **k != "OK")
        .map(|(_, v)| *v)
        .sum();
    if not_ok > 0 {
        return Err(CliError::BatchIncomplete(format!(
            "{not_ok} persons not personalized: see {}",
            args.return_file.display()
        )));
    }
    Ok(())
}

/// Refuses a reader or feeder given twice (after normalisation: a feeder's folder through
/// `canonicalize`, PC/SC names as given; names resolved through pcscd are compared again when
/// the stations are set up): two workers on one reader would start two persons on one chip.
fn check_readers_once(specs: &[ReaderSpec]) -> CliResult<()> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for spec in specs {
        let key = match spec {
            ReaderSpec::Feeder(dir) => format!("feeder:{}", normalized(dir).display()),
            ReaderSpec::Sim(path) => format!("sim:{}", normalized(path).display()),
            ReaderSpec::Pcsc(name) => format!("pcsc:{}", name.trim()),
            ReaderSpec::Default => "default".to_owned(),
        };
        if let Some((label, _)) = seen.iter().find(|(_, k)| *k == key) {
            return Err(CliError::Usage(format!(
                "{} is given twice (as {label} and {}): each reader or feeder takes part in a batch once",
                spec.label(),
                spec.label()
            )));
        }
        seen.push((spec.label(), key));
    }
    Ok(())
}

/// A path made absolute and free of `.`, `..` and links where it exists.
fn normalized(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(p), Some(name)) => p.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// What names a file: (device, inode) when it exists (links and hard links alike), else its
/// normalized path.
#[derive(Debug, PartialEq, Eq)]
enum FileId {
    Inode(u64, u64),
    Path(PathBuf),
}

fn file_id(path: &Path) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(path) {
            return FileId::Inode(m.dev(), m.ino());
        }
    }
    FileId::Path(normalized(path))
}

/// Refuses two of input, journal (with SQLite's `-wal`, `-shm` and the lock file) and return
/// file that are the same file, through links too, before anything is written.
fn check_paths_distinct(args: &BatchArgs) -> CliResult<()> {
    let [wal, shm, lock] = journal::sidecar_files(&args.journal);
    let files: [(&str, &Path); 6] = [
        ("--input", &args.input),
        ("--journal", &args.journal),
        ("the journal's -wal file", &wal),
        ("the journal's -shm file", &shm),
        ("the journal's lock file", &lock),
        ("--return-file", &args.return_file),
    ];
    let ids: Vec<FileId> = files.iter().map(|(_, p)| file_id(p)).collect();
    for (i, (name_a, path_a)) in files.iter().enumerate() {
        for (j, (name_b, path_b)) in files.iter().enumerate().skip(i + 1) {
            // the journal's own files are distinct by construction
            if (1..=4).contains(&i) && (1..=4).contains(&j) {
                continue;
            }
            if ids.get(i) == ids.get(j) {
                return Err(CliError::Usage(format!(
                    "{name_a} ({}) and {name_b} ({}) are the same file: give each its own file (nothing was written)",
                    path_a.display(),
                    path_b.display()
                )));
            }
        }
    }
    Ok(())
}

/// The default place of the station key: `$XDG_CONFIG_HOME/sscard/station.key`, else
/// `~/.config/sscard/station.key`.
fn default_station_key() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("sscard").join("station.key"))
}

/// Loads the station key (`--station-key`, `$SSCARD_STATION_KEY`, the default place). A missing
/// key is created for a new journal only: a journal that exists was keyed already.
fn load_station_key(args: &BatchArgs, journal_is_new: bool) -> CliResult<StationKey> {
    let path = match args.station_key.clone().or_else(default_station_key) {
        Some(p) => p,
        None => {
            return Err(CliError::KeyHolder(
                "no station key: give --station-key FILE (`sscard keys new-station --out FILE` makes one)".into(),
            ))
        }
    };
    if !path.exists() {
        if !journal_is_new {
            return Err(CliError::KeyHolder(format!(
                "station key {} does not exist, and journal {} was keyed with a station key: give that key (--station-key FILE or $SSCARD_STATION_KEY)",
                path.display(),
                args.journal.display()
            )));
        }
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|e| crate::error::io_err("cannot create", folder, e))?;
        }
        let key = StationKey::generate();
        match sscard_files::create_private(&path, key.to_json(false).as_bytes()) {
            // another batch starting at the same moment made it: use that one
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // (give its writer the moment it needs to finish the file)
                std::thread::sleep(std::time::Duration::from_millis(100));
                return load_station_key(args, false);
            }
            other => {
                other.map_err(|e| crate::error::io_err("cannot write the station key", &path, e))?
            }
        }
        progress::note(format!(
            "created the station key {} (id {}): keep it; the journals of this station are resumed only with it",
            path.display(),
            key.id()
        ));
        return Ok(key);
    }
    let text = sscard_files::read_secret(&path).map_err(|e| {
        CliError::KeyHolder(format!(
            "station key {}: {e}{}",
            path.display(),
            if e.shared_mode().is_some() {
                " (chmod 600 it: it keys the journals)"
            } else {
                ""
            }
        ))
    })?;
    StationKey::from_json(&text)
        .map_err(|e| CliError::KeyHolder(format!("station key {}: {e}", path.display())))
}

/// `sscard keys new-station`: a random station key, written once with mode 0600.
pub fn new_station_key(global: &GlobalOpts, args: &crate::cli::StationKeyArgs) -> CliResult<()> {
    crate::output::basic_not_supported(global, "keys new-station")?;
    let key = StationKey::generate();
    context::create_private(
        &args.out,
        key.to_json(false).as_bytes(),
        "a station key is never overwritten (its journals need it)",
    )?;
    let message = format!(
            "new station key {} (id {}, mode 0600): give it to `sscard batch --station-key`; keep it, the journals keyed with it are resumed only with it",
            args.out.display(),
            key.id()
        );
    crate::output::print_result(
        global,
        &message,
        sscard_cli::documents::KeysNewStationDocument {
            result: sscard_cli::documents::Outcome::Ok,
            message: message.clone(),
            file: args.out.display().to_string(),
            id: key.id().to_string(),
        },
    );
    Ok(())
}
