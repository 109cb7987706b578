//! `sscard blocklist`: the issuer's list of refused cards (黑名单, part 8 §7) — create, add,
//! remove, publish signed full lists and deltas — and the terminal's side — apply updates to a
//! store, verify, show, stats, diff; and the `--blocklist FILE --blocklist-key PUBKEY` options
//! that make `read`, `activate` and `pin` run the validity check of part 7 §5.4 against it.
//! (The account commands, when they exist, take the same [`BlocklistArgs`].)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sscard_blocklist::format::{self as list_format, Trust};
use sscard_blocklist::{
    CardRange, Entry, Error as ListError, IssuerKey, IssuerList, Kind, Mark, Reason, Store,
    TerminalList, TrustedKey,
};
use sscard_cli::documents::{
    BlocklistApplyDocument, BlocklistDiffDocument, BlocklistDocument, BlocklistEntry,
    BlocklistKeygenDocument, BlocklistPublishDocument, BlocklistShowDocument,
    BlocklistStatsDocument, BlocklistVerifyDocument, Outcome,
};
use sscard_core::data::{BcdDate, CardIdentificationCode, CardNumber};
use sscard_core::lifecycle::{self, ValidityPolicy, Verdict};

use crate::cli::blocklist::{
    AddArgs, ApplyArgs, BlocklistArgs, BlocklistCommand, DiffArgs, FileArgs, KeygenArgs, ListArg,
    PublishArgs, RemoveArgs, ShowArgs, Target,
};
use crate::cli::{GlobalOpts, OutputFormat};
use crate::context::today;
use crate::context::{finish_card, open_card, require_key_holder};
use crate::error::{CliError, CliResult};
use crate::output::{basic_not_supported, print_document, print_result};

fn list_error(what: &Path, e: ListError) -> CliError {
    match e {
        ListError::Permissions { .. } => CliError::KeyHolder(e.to_string()),
        ListError::Io { .. } => CliError::Other(e.to_string()),
        other => CliError::BadInput(format!("{}: {other}", what.display())),
    }
}

fn load_public(path: &Path) -> CliResult<TrustedKey> {
    TrustedKey::load(path).map_err(|e| CliError::BadInput(e.to_string()))
}

fn load_working(path: &Path) -> CliResult<IssuerList> {
    IssuerList::load(path).map_err(|e| list_error(path, e))
}

fn save_working(list: &IssuerList, path: &Path) -> CliResult<()> {
    list.save(path).map_err(|e| list_error(path, e))
}

fn parse_date(text: &str) -> CliResult<BcdDate> {
    text.parse()
        .map_err(|e| CliError::BadInput(format!("date {text:?}: {e}")))
}

fn target_entry(t: &Target) -> CliResult<Entry> {
    if let Some(r) = &t.range {
        let [first, last] = r.as_slice() else {
            return Err(CliError::Usage("--range takes FIRST and LAST".into()));
        };
        return CardRange::new(first, last)
            .map(Entry::Range)
            .map_err(|e| CliError::BadInput(e.to_string()));
    }
    let (Some(id), Some(number)) = (&t.card_id, &t.card_number) else {
        return Err(CliError::Usage(
            "give --card-id and --card-number, or --range FIRST LAST".into(),
        ));
    };
    let card_id: CardIdentificationCode = id
        .parse()
        .map_err(|e| CliError::BadInput(format!("--card-id: {e}")))?;
    // as read from a card: any check character (the list keeps it exactly)
    let card_number = CardNumber::from_card(number)
        .map_err(|e| CliError::BadInput(format!("--card-number: {e}")))?;
    Ok(Entry::Card {
        card_id,
        card_number,
    })
}

/// Days after a date.
fn plus_days(date: BcdDate, days: u32) -> CliResult<BcdDate> {
    let mut d = date;
    for _ in 0..days {
        let (y, m, day) = (d.year(), d.month(), d.day());
        d = BcdDate::new(y, m, day + 1)
            .or_else(|_| BcdDate::new(y, m + 1, 1))
            .or_else(|_| BcdDate::new(y + 1, 1, 1))
            .map_err(|e| CliError::Other(format!("date arithmetic: {e}")))?;
    }
    Ok(d)
}

/// Runs one `sscard blocklist` subcommand.
pub fn run(global: &GlobalOpts, command: &BlocklistCommand) -> CliResult<()> {
    basic_not_supported(global, "blocklist")?;
    match command {
        BlocklistCommand::Keygen(a) => keygen(global, a),
        BlocklistCommand::New(a) => new(global, a),
        BlocklistCommand::Add(a) => add(global, a),
        BlocklistCommand::Remove(a) => remove(global, a),
        BlocklistCommand::Publish(a) => publish(global, a),
        BlocklistCommand::Apply(a) => apply(global, a),
        BlocklistCommand::Verify(a) => verify(global, a),
        BlocklistCommand::Show(a) => show(global, a),
        BlocklistCommand::Stats(a) => stats(global, a),
        BlocklistCommand::Diff(a) => diff(global, a),
    }
}

fn keygen(global: &GlobalOpts, a: &KeygenArgs) -> CliResult<()> {
    if a.public_out.exists() {
        return Err(CliError::Other(format!(
            "{} exists: not overwritten",
            a.public_out.display()
        )));
    }
    let key = IssuerKey::generate();
    key.save(&a.out).map_err(|e| list_error(&a.out, e))?;
    let public = key.public().map_err(|e| CliError::Other(e.to_string()))?;
    let pem = public
        .to_pem()
        .map_err(|e| CliError::Other(e.to_string()))?;
    std::fs::write(&a.public_out, pem)
        .map_err(|e| crate::error::io_err("public key", &a.public_out, e))?;
    let message = format!(
        "signing key {} (mode 0600; keep it offline), public key {} for terminals, key id {}",
        a.out.display(),
        a.public_out.display(),
        public.key_id()
    );
    print_result(
        global,
        &message,
        BlocklistKeygenDocument {
            result: Outcome::Ok,
            message: message.clone(),
            key_id: public.key_id().to_string(),
        },
    );
    Ok(())
}

fn new(global: &GlobalOpts, a: &ListArg) -> CliResult<()> {
    if a.list.exists() {
        return Err(CliError::Other(format!(
            "{} exists: not overwritten",
            a.list.display()
        )));
    }
    save_working(&IssuerList::new(), &a.list)?;
    let message = format!("empty blocklist {} (never published)", a.list.display());
    print_done(global, message);
    Ok(())
}

/// The result of a change to the working list: `message` as text, or a [`BlocklistDocument`].
fn print_done(global: &GlobalOpts, message: String) {
    print_result(
        global,
        &message,
        BlocklistDocument {
            result: Outcome::Ok,
            message: message.clone(),
        },
    );
}

fn add(global: &GlobalOpts, a: &AddArgs) -> CliResult<()> {
    let mut list = load_working(&a.list.list)?;
    let entry = target_entry(&a.target)?;
    let reason: Reason = a
        .reason
        .parse()
        .map_err(|e: ListError| CliError::BadInput(e.to_string()))?;
    let date = match &a.date {
        Some(d) => parse_date(d)?,
        None => today()?,
    };
    let mark = Mark::new(reason, date).map_err(|e| CliError::BadInput(e.to_string()))?;
    let previous = list.add(&entry, mark);
    save_working(&list, &a.list.list)?;
    let message = match previous {
        Some(p) if p == mark => format!("{entry} is listed already ({mark})"),
        Some(p) => format!("{entry}: {p} → {mark} (published with the next version)"),
        None => format!("{entry} listed: {mark} (published with the next version)"),
    };
    print_done(global, message);
    Ok(())
}

fn remove(global: &GlobalOpts, a: &RemoveArgs) -> CliResult<()> {
    let mut list = load_working(&a.list.list)?;
    let entry = target_entry(&a.target)?;
    let mark = list
        .remove(&entry)
        .map_err(|e| CliError::BadInput(e.to_string()))?;
    save_working(&list, &a.list.list)?;
    let message = format!("{entry} ({mark}) taken off the list (published with the next version)");
    print_done(global, message);
    Ok(())
}

fn publish(global: &GlobalOpts, a: &PublishArgs) -> CliResult<()> {
    let mut list = load_working(&a.list.list)?;
    let key = IssuerKey::load(&a.key).map_err(|e| list_error(&a.key, e))?;
    let today = today()?;
    let until = plus_days(today, a.valid_days - 1)?;
    let publication = list
        .publish(&key, today, today, until)
        .map_err(|e| CliError::Other(e.to_string()))?;
    std::fs::create_dir_all(&a.out_dir)
        .map_err(|e| crate::error::io_err("output folder", &a.out_dir, e))?;
    let v = publication.version;
    let full = a.out_dir.join(format!("full-{v:010}.ssbl"));
    sscard_blocklist::store::write_atomic(&full, &publication.full)
        .map_err(|e| list_error(&full, e))?;
    let delta = match &publication.delta {
        Some(bytes) => {
            let path = a.out_dir.join(format!("delta-{v:010}.ssbl"));
            sscard_blocklist::store::write_atomic(&path, bytes)
                .map_err(|e| list_error(&path, e))?;
            Some(path)
        }
        None => None,
    };
    // the list remembers the publication only once both files are on disk
    save_working(&list, &a.list.list)?;
    let mut message = format!(
        "version {v} ({} entries), valid {today}-{until}: {}",
        list.len(),
        full.display()
    );
    if let Some(d) = &delta {
        message.push_str(&format!(
            ", delta {} (+{} −{})",
            d.display(),
            publication.added,
            publication.removed
        ));
    }
    print_result(
        global,
        &message,
        BlocklistPublishDocument {
            result: Outcome::Ok,
            message: message.clone(),
            version: v,
            entries: list.len() as u64,
            full: full.display().to_string(),
            delta: delta.map(|d| d.display().to_string()),
            valid_from: today,
            valid_until: until,
        },
    );
    Ok(())
}

fn apply(global: &GlobalOpts, a: &ApplyArgs) -> CliResult<()> {
    let key = load_public(&a.key)?;
    let today = today()?;
    let mut messages = Vec::new();
    let mut store = if a.store.join(sscard_blocklist::store::POINTER).exists() {
        Some(Store::open(&a.store, &key).map_err(|e| list_error(&a.store, e))?)
    } else {
        None
    };
    for file in &a.files {
        let bytes = std::fs::read(file).map_err(|e| crate::error::io_err("update", file, e))?;
        match store.as_mut() {
            Some(s) => {
                let applied = s
                    .apply(bytes, Some(today))
                    .map_err(|e| list_error(file, e))?;
                messages.push(format!(
                    "{}: {} {} → {} (+{} −{})",
                    file.display(),
                    applied.kind.name(),
                    applied.from,
                    applied.to,
                    applied.added,
                    applied.removed
                ));
            }
            None => {
                let s = Store::create(&a.store, bytes, &key, Some(today))
                    .map_err(|e| list_error(file, e))?;
                messages.push(format!(
                    "{}: store created at version {}",
                    file.display(),
                    s.list().version()
                ));
                store = Some(s);
            }
        }
    }
    let version = store.as_ref().map_or(0, |s| s.list().version());
    messages.push(format!("the terminal holds version {version}"));
    let message = messages.join("\n");
    print_result(
        global,
        &message,
        BlocklistApplyDocument {
            result: Outcome::Ok,
            message: message.clone(),
            version,
        },
    );
    Ok(())
}

/// A signed file or a store, opened for reading.
enum Opened {
    List(TerminalList, Option<Vec<u8>>),
    Delta(sscard_blocklist::Header, Vec<u8>),
    Working(IssuerList),
}

fn open_any(path: &Path, key: Option<&TrustedKey>) -> CliResult<Opened> {
    if path.is_dir() {
        let key = key.ok_or_else(|| {
            CliError::Usage("a store is read with its key: give --key PUBKEY".into())
        })?;
        let store = Store::open(path, key).map_err(|e| list_error(path, e))?;
        return Ok(Opened::List(store.list().clone(), None));
    }
    let bytes = std::fs::read(path).map_err(|e| crate::error::io_err("blocklist", path, e))?;
    let trust = key.map_or(Trust::Unverified, Trust::Key);
    let header = list_format::read_header(&bytes, trust).map_err(|e| list_error(path, e))?;
    match header.kind {
        Kind::Full => {
            let size = bytes.clone();
            let list = match key {
                Some(k) => TerminalList::from_full(bytes, k, None),
                None => TerminalList::from_full_unverified(bytes),
            }
            .map_err(|e| list_error(path, e))?;
            Ok(Opened::List(list, Some(size)))
        }
        Kind::Delta => Ok(Opened::Delta(header, bytes)),
        Kind::Working => Ok(Opened::Working(
            IssuerList::from_bytes(bytes).map_err(|e| list_error(path, e))?,
        )),
    }
}

fn key_opt(path: &Option<PathBuf>) -> CliResult<Option<TrustedKey>> {
    path.as_deref().map(load_public).transpose()
}

fn verify(global: &GlobalOpts, a: &FileArgs) -> CliResult<()> {
    let Some(key) = key_opt(&a.key)? else {
        return Err(CliError::Usage(
            "verify needs the issuer's public key: --key PUBKEY".into(),
        ));
    };
    let today = today()?;
    let (header, entries) = match open_any(&a.file, Some(&key))? {
        Opened::List(list, _) => {
            list.check_current(today)
                .map_err(|e| list_error(&a.file, e))?;
            (*list.header(), list.len())
        }
        Opened::Delta(header, bytes) => {
            // the signature was checked; the layout is checked by reading the entries
            let (added, removed) = delta_entries(bytes, Some(&key))?;
            (header, (added.len() + removed.len()) as u64)
        }
        Opened::Working(_) => {
            return Err(CliError::BadInput(format!(
                "{}: the issuer's working list is not signed: publish it",
                a.file.display()
            )))
        }
    };
    let period = |d: Option<BcdDate>| d.map(|d| d.to_string()).unwrap_or_default();
    if header.kind == Kind::Delta {
        if let (Some(from), Some(until)) = (header.valid_from, header.valid_until) {
            if today > until || today < from {
                return Err(CliError::BadInput(format!(
                    "{}: the delta is valid {from}-{until}; today is {today}",
                    a.file.display()
                )));
            }
        }
    }
    let message = format!(
        "valid: {} list version {}{}, signed by key id {}, valid {}-{}{}",
        header.kind.name(),
        header.version,
        if header.kind == Kind::Delta {
            format!(" (from {})", header.base)
        } else {
            String::new()
        },
        header.key_id,
        period(header.valid_from),
        period(header.valid_until),
        if header.kind == Kind::Full {
            format!(", {entries} entries")
        } else {
            format!(", {entries} changes")
        }
    );
    print_result(
        global,
        &message,
        BlocklistVerifyDocument {
            result: Outcome::Ok,
            message: message.clone(),
            kind: header.kind.name().to_owned(),
            version: header.version,
            base: header.base,
            key_id: header.key_id.to_string(),
            valid_from: header.valid_from,
            valid_until: header.valid_until,
        },
    );
    Ok(())
}

fn entry_line(entry: &Entry, mark: &Mark) -> String {
    format!("{entry} {} {}", mark.reason, mark.date)
}

fn entry_document(entry: &Entry, mark: &Mark) -> BlocklistEntry {
    match entry {
        Entry::Card {
            card_id,
            card_number,
        } => BlocklistEntry::Card {
            card_id: card_id.to_string(),
            card_number: card_number.to_string(),
            reason: mark.reason.name().to_owned(),
            date: mark.date,
        },
        Entry::Range(r) => BlocklistEntry::Range {
            first: r.first(),
            last: r.last(),
            reason: mark.reason.name().to_owned(),
            date: mark.date,
        },
    }
}

/// The entries a delta adds (or re-marks) and removes.
/// Entries with their marks.
type Marked = Vec<(Entry, Mark)>;

fn delta_entries(bytes: Vec<u8>, key: Option<&TrustedKey>) -> CliResult<(Marked, Vec<Entry>)> {
    sscard_blocklist::terminal::read_delta(bytes, key.map_or(Trust::Unverified, Trust::Key))
        .map(|d| (d.added, d.removed))
        .map_err(|e| CliError::BadInput(e.to_string()))
}

fn show(global: &GlobalOpts, a: &ShowArgs) -> CliResult<()> {
    let key = key_opt(&a.file.key)?;
    let limit = a.limit.unwrap_or(usize::MAX);
    let verified = if key.is_some() {
        "signature verified"
    } else {
        "signature NOT verified (no --key)"
    };
    let (title, added, removed): (String, Vec<(Entry, Mark)>, Vec<Entry>) = match open_any(
        &a.file.file,
        key.as_ref(),
    )? {
        Opened::List(list, _) => (
            format!(
                "full list version {}, {} entries; {verified}",
                list.version(),
                list.len()
            ),
            list.entries(),
            Vec::new(),
        ),
        Opened::Delta(header, bytes) => {
            let (added, removed) = delta_entries(bytes, key.as_ref())?;
            (
                format!(
                    "delta {} → {}: {} added, {} removed; {verified}",
                    header.base,
                    header.version,
                    added.len(),
                    removed.len()
                ),
                added,
                removed,
            )
        }
        Opened::Working(list) => {
            let (changed, gone) = list.pending();
            (
                    format!(
                        "working list, last published version {}, {} entries, {changed} changed and {gone} removed since",
                        list.version(),
                        list.len()
                    ),
                    list.entries().collect(),
                    Vec::new(),
                )
        }
    };
    match global.output_format {
        OutputFormat::Json => print_document(&BlocklistShowDocument {
            title,
            entries: added
                .iter()
                .take(limit)
                .map(|(e, m)| entry_document(e, m))
                .collect(),
            removed: removed.iter().take(limit).map(|e| e.to_string()).collect(),
        }),
        _ => {
            println!("# {title}");
            for (e, m) in added.iter().take(limit) {
                println!("{}", entry_line(e, m));
            }
            for e in removed.iter().take(limit) {
                println!("removed {e}");
            }
        }
    }
    Ok(())
}

fn stats(global: &GlobalOpts, a: &FileArgs) -> CliResult<()> {
    let key = key_opt(&a.key)?;
    let (header, entries, bytes): (
        Option<sscard_blocklist::Header>,
        Vec<(Entry, Mark)>,
        Option<usize>,
    ) = match open_any(&a.file, key.as_ref())? {
        Opened::List(list, raw) => (Some(*list.header()), list.entries(), raw.map(|r| r.len())),
        Opened::Delta(header, raw) => {
            let n = raw.len();
            let (added, _) = delta_entries(raw, key.as_ref())?;
            (Some(header), added, Some(n))
        }
        Opened::Working(list) => (None, list.entries().collect(), None),
    };
    let mut by_reason: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut cards, mut ranges) = (0u64, 0u64);
    for (e, m) in &entries {
        *by_reason.entry(m.reason.name()).or_default() += 1;
        match e {
            Entry::Card { .. } => cards += 1,
            Entry::Range(_) => ranges += 1,
        }
    }
    let per_entry = bytes
        .filter(|_| !entries.is_empty())
        .map(|b| b as f64 / entries.len() as f64);
    match global.output_format {
        OutputFormat::Json => print_document(&BlocklistStatsDocument {
            kind: header
                .map(|h| h.kind.name())
                .unwrap_or("working")
                .to_owned(),
            version: header.map(|h| h.version),
            valid_from: header.and_then(|h| h.valid_from),
            valid_until: header.and_then(|h| h.valid_until),
            key_id: header.map(|h| h.key_id.to_string()),
            signature_verified: key.is_some(),
            cards,
            ranges,
            by_reason: by_reason
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            bytes,
            bytes_per_entry: per_entry,
        }),
        _ => {
            if let Some(h) = header {
                println!(
                    "{} list version {}, valid {}-{}, key id {} ({})",
                    h.kind.name(),
                    h.version,
                    h.valid_from.map(|d| d.to_string()).unwrap_or_default(),
                    h.valid_until.map(|d| d.to_string()).unwrap_or_default(),
                    h.key_id,
                    if key.is_some() {
                        "signature verified"
                    } else {
                        "signature NOT verified"
                    }
                );
            } else {
                println!("working list");
            }
            println!("single cards       {cards}");
            println!("card-number ranges {ranges}");
            for (reason, n) in &by_reason {
                println!("  {reason:<16} {n}");
            }
            if let (Some(b), Some(p)) = (bytes, per_entry) {
                println!("size               {b} bytes, {p:.2} bytes per entry");
            }
        }
    }
    Ok(())
}

fn diff(global: &GlobalOpts, a: &DiffArgs) -> CliResult<()> {
    let key = key_opt(&a.key)?;
    type Keyed = BTreeMap<String, (Entry, Mark)>;
    let entries = |path: &Path| -> CliResult<(u64, Keyed)> {
        match open_any(path, key.as_ref())? {
            Opened::List(list, _) => Ok((
                list.version(),
                list.entries()
                    .into_iter()
                    .map(|(e, m)| (e.to_string(), (e, m)))
                    .collect(),
            )),
            _ => Err(CliError::BadInput(format!(
                "{}: diff compares two full lists (or stores)",
                path.display()
            ))),
        }
    };
    let (v_old, old) = entries(&a.old)?;
    let (v_new, new) = entries(&a.new)?;
    let mut lines = Vec::new();
    let (mut added, mut removed, mut changed) = (0, 0, 0);
    for (k, (e, m)) in &new {
        match old.get(k) {
            None => {
                added += 1;
                lines.push(format!("+ {}", entry_line(e, m)));
            }
            Some((_, om)) if om != m => {
                changed += 1;
                lines.push(format!("~ {e} {om} → {m}"));
            }
            Some(_) => {}
        }
    }
    for (k, (e, m)) in &old {
        if !new.contains_key(k) {
            removed += 1;
            lines.push(format!("- {}", entry_line(e, m)));
        }
    }
    match global.output_format {
        OutputFormat::Json => print_document(&BlocklistDiffDocument {
            old_version: v_old,
            new_version: v_new,
            added,
            removed,
            changed,
            lines,
        }),
        _ => {
            println!(
                "# version {v_old} → {v_new}: {added} added, {removed} removed, {changed} changed"
            );
            for l in &lines {
                println!("{l}");
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// the validity check with a blocklist, for read, activate and pin

/// The list of `--blocklist FILE --blocklist-key PUBKEY`, current today; `None` without the
/// options.
pub fn load_for(args: &BlocklistArgs) -> CliResult<Option<TerminalList>> {
    let (Some(path), Some(key)) = (&args.blocklist, &args.blocklist_key) else {
        return Ok(None);
    };
    let key = load_public(key)?;
    let today = today()?;
    sscard_blocklist::store::load(path, &key, today)
        .map(Some)
        .map_err(|e| {
            CliError::BadInput(format!(
                "blocklist {}: {e} (no card is checked against a list that cannot be trusted)",
                path.display()
            ))
        })
}

/// Before a command that does not run the validity check itself (`pin`): with
/// `--blocklist`, run it (part 7 §5.4, a key holder for IRK) and refuse a card that is not
/// valid, saying why.
pub fn check_before(global: &GlobalOpts, args: &BlocklistArgs, what: &str) -> CliResult<()> {
    let Some(list) = load_for(args)? else {
        return Ok(());
    };
    let mut kh = require_key_holder(
        global,
        "the validity check with --blocklist (INTERNAL AUTHENTICATION with IRK)",
    )?;
    let policy = ValidityPolicy {
        today: Some(today()?),
        blocklist: Some(&list),
        ..ValidityPolicy::default()
    };
    let mut card = open_card(global)?;
    let result = lifecycle::check_validity(&mut card, kh.as_mut(), &policy);
    let (verdict, issuing) = finish_card(card, result.map_err(CliError::from))?;
    match verdict {
        Verdict::Valid { .. } => Ok(()),
        other => Err(CliError::Refused(format!(
            "card {} refused before {what}: {}",
            issuing.card_number,
            crate::output::verdict_problem(&other).unwrap_or_default()
        ))),
    }
}
