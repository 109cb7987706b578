//! What every command needs: the card transport named by `--reader` (PC/SC or a simulated card
//! image), the key holder (`--keys`, `--psam`, `--test-keys`) and the `--trace` tracer.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sscard_core::channel::{TraceEvent, Tracer};
use sscard_core::crypto::Pin;
use sscard_core::keyholder::{
    CardContext, KeyFile, KeyHolder, KeyHolderError, PsamKeyHolder, SecureMessage,
};
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::lifecycle::Card;
use sscard_core::transport::{Transport, TransportError};
use sscard_core::Algorithm;
use sscard_files::{Durability, FileLock};
use sscard_pcsc::{OpenOptions, PcscTransport, ReaderSelector, ShareMode};
use sscard_sim::{FileCard, PsamImage, SimCard, SimError, SimPsam, SimTransport};

use crate::cli::GlobalOpts;
use crate::error::{CliError, CliResult};

/// Keeps this process's secrets (keys, PINs) out of core dumps and away from debuggers of the
/// same user: no core file (`RLIMIT_CORE` 0) and not dumpable (`PR_SET_DUMPABLE` 0, which also
/// refuses `ptrace` by other processes of the user). Key memory is not locked against swap
/// (docs/security.md says why). Best effort: a failure is ignored, the command still runs.
pub fn harden_process() {
    let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0);
    #[cfg(target_os = "linux")]
    {
        let _ = nix::sys::prctl::set_dumpable(false);
    }
}

/// The embedded development root keys (fixtures/keys/test-keys.json, key file version 2):
/// TEST KEYS ONLY.
pub const TEST_KEYS_JSON: &str = include_str!("../../../fixtures/keys/test-keys.json");

/// The embedded test keys as a key holder.
pub fn test_keys() -> CliResult<KeyFile> {
    KeyFile::from_json(TEST_KEYS_JSON)
        .map_err(|e| CliError::KeyHolder(format!("embedded test keys: {e}")))
}

/// Loads a key file (`--keys`), refusing one others can read, with the way out for a
/// version-1 file in the message.
pub fn load_keys(path: &Path) -> CliResult<KeyFile> {
    sscard::keyfile::load_key_file(path).map_err(|e| CliError::KeyHolder(e.to_string()))
}

/// The root keys of `--keys FILE`, else the embedded test keys, with a label for messages: the
/// one place the CLI loads root keys to make simulated cards (`sim new`, the feeders' blank
/// cards) and to give each batch worker its own key file.
pub fn root_keys(global: &GlobalOpts) -> CliResult<(RootKeys, String)> {
    match &global.keys {
        Some(path) => Ok((
            load_keys(path)?.roots().clone(),
            format!("the root keys of {}", path.display()),
        )),
        None => Ok((
            test_keys()?.roots().clone(),
            "the embedded TEST KEYS".into(),
        )),
    }
}

/// The root keys simulated cards and PSAMs are made from: `--keys FILE`, else the embedded
/// test keys ([`root_keys`]). A PSAM cannot make cards (it never hands out its keys).
pub fn manufacturing_keys(global: &GlobalOpts) -> CliResult<(RootKeys, String)> {
    if global.psam.is_some() {
        return Err(CliError::KeyHolder(
            "simulated cards and PSAMs are made from root keys (--keys FILE, default the embedded test keys), not from a PSAM".into(),
        ));
    }
    root_keys(global)
}

/// Dates a person record may not have: a birth date or an issue date after `today` (an issue
/// date of today is fine). `Err((field, reason))`, the reason starting with the field.
pub fn check_person_dates(
    person: &sscard_core::data::Personalization,
    today: sscard_core::data::BcdDate,
) -> Result<(), (String, String)> {
    let birth = person.holder().birth_date;
    if birth > today {
        return Err((
            "birth_date".into(),
            format!("birth_date: {birth} is in the future (today is {today})"),
        ));
    }
    let issue = person.issue_date();
    if issue > today {
        return Err((
            "issue_date".into(),
            format!("issue_date: {issue} is in the future (today is {today}): a card is issued on the day it is made or earlier"),
        ));
    }
    Ok(())
}

/// How `--reader` names a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderSpec {
    /// `sim:IMAGE`: a simulated card image file.
    Sim(PathBuf),
    /// `feeder:DIR`: a simulated card feeder (batch).
    Feeder(PathBuf),
    /// A PC/SC reader by name fragment or index.
    Pcsc(String),
    /// No reader named: the first PC/SC reader with a card.
    Default,
}

impl ReaderSpec {
    /// Parses a `--reader` value.
    pub fn parse(text: &str) -> ReaderSpec {
        if let Some(path) = text.strip_prefix("sim:") {
            ReaderSpec::Sim(PathBuf::from(path))
        } else if let Some(dir) = text.strip_prefix("feeder:") {
            ReaderSpec::Feeder(PathBuf::from(dir))
        } else {
            ReaderSpec::Pcsc(text.to_owned())
        }
    }

    /// A short label for traces and messages.
    pub fn label(&self) -> String {
        match self {
            ReaderSpec::Sim(p) => format!("sim:{}", p.display()),
            ReaderSpec::Feeder(p) => format!("feeder:{}", p.display()),
            ReaderSpec::Pcsc(n) => n.clone(),
            ReaderSpec::Default => "default reader".into(),
        }
    }

    fn is_simulated(&self) -> bool {
        matches!(self, ReaderSpec::Sim(_) | ReaderSpec::Feeder(_))
    }
}

/// The reader specs of the command line: `--reader` values, else `$SSCARD_READER`, else the
/// default PC/SC reader.
pub fn reader_specs(global: &GlobalOpts) -> Vec<ReaderSpec> {
    if !global.reader.is_empty() {
        return global.reader.iter().map(|r| ReaderSpec::parse(r)).collect();
    }
    match std::env::var(sscard_pcsc::READER_ENV) {
        Ok(v) if !v.trim().is_empty() => vec![ReaderSpec::parse(v.trim())],
        _ => vec![ReaderSpec::Default],
    }
}

/// The one reader of a single-card command.
pub fn single_reader(global: &GlobalOpts) -> CliResult<ReaderSpec> {
    match reader_specs(global).as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(CliError::BadInput(
            "this command uses one card: give --reader once".into(),
        )),
    }
}

/// What a card image file could not be loaded for, with the way out for old images.
pub fn image_error(path: &Path, e: SimError) -> CliError {
    match e {
        SimError::VersionOne => CliError::BadInput(format!(
            "card image {}: {e}\nconvert it: sscard [--keys ROOT-KEYS] sim convert --in {} --out NEW-IMAGE",
            path.display(),
            path.display()
        )),
        SimError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => CliError::NoCard(format!(
            "no simulated card: image {} does not exist (create one with `sscard sim new --out {}`)",
            path.display(),
            path.display()
        )),
        SimError::Io(io) => CliError::Other(format!("card image {}: {io}", path.display())),
        other => CliError::BadInput(format!("card image {}: {other}", path.display())),
    }
}

/// Loads a simulated card image.
pub fn load_card_image(path: &Path) -> CliResult<SimCard> {
    SimCard::load(path).map_err(|e| image_error(path, e))
}

/// Loads a simulated PSAM image, refusing a file others can read (it holds root keys).
pub fn load_psam_image(path: &Path) -> CliResult<SimPsam> {
    sscard::keyfile::check_private_file(path).map_err(|e| CliError::KeyHolder(e.to_string()))?;
    let image = PsamImage::load(path).map_err(|e| match e {
        SimError::Io(io) => CliError::NoCard(format!("PSAM image {}: {io}", path.display())),
        SimError::Unsupported {
            format: Some(ref f),
            ..
        } if f == "sscard.psam-image/1" => CliError::KeyHolder(format!(
            "PSAM image {}: a version-1 PSAM image (sscard before the specification protocol: master keys by invented key ids); make a new one with `sscard sim new-psam`",
            path.display()
        )),
        SimError::Unsupported { .. } => CliError::KeyHolder(format!(
            "PSAM image {}: {e}; make a new one with `sscard sim new-psam`",
            path.display()
        )),
        other => CliError::KeyHolder(format!("PSAM image {}: {other}", path.display())),
    })?;
    SimPsam::new(image)
        .map_err(|e| CliError::KeyHolder(format!("PSAM image {}: {e}", path.display())))
}

/// How long a `sim:` user waits for another sscard process using the same card image (each
/// holds it for one command: milliseconds).
pub const IMAGE_LOCK_WAIT: Duration = Duration::from_secs(30);

/// The purpose `sim serve` writes into an image's lock file: a `sim:` user that finds it there
/// does not wait (the server holds the card until it is stopped).
pub const SERVE_PURPOSE: &str = "sim serve";

/// Takes the lock of a simulated card image (or feeder) for this process: a simulated card is
/// one card, so every process uses it in turn (open, operate, save). Waits while another
/// single command holds it, at most [`IMAGE_LOCK_WAIT`]; an image served by `sim serve` is
/// refused at once.
pub fn lock_image(path: &Path, what: &str, purpose: &str) -> CliResult<FileLock> {
    let lock_path = sscard_files::lock_file_for(path)
        .map_err(|e| crate::error::io_err(&format!("{what}: cannot lock"), path, e))?;
    let waited = FileLock::lock(&lock_path, purpose, IMAGE_LOCK_WAIT, |h| {
        h.purpose != SERVE_PURPOSE
    })
    .map_err(|e| crate::error::io_err(&format!("{what}: cannot lock"), &lock_path, e))?;
    waited.map_err(|holder| {
        if holder.purpose == SERVE_PURPOSE {
            CliError::NoCard(format!(
                "{what} {} is in use by {holder}: while it is served, use it through its virtual reader (--reader NAME, `sscard readers`), or stop the server first",
                path.display()
            ))
        } else {
            CliError::NoCard(format!(
                "{what} {} is in use by {holder}, still after {} s",
                path.display(),
                IMAGE_LOCK_WAIT.as_secs()
            ))
        }
    })
}

/// The lock file of a simulated card feeder's folder.
pub const FEEDER_LOCK: &str = ".feeder.lock";

/// Takes the lock of a simulated card feeder for this process's whole run (a batch, or
/// `sim serve --feeder`): one feeder, one user. Refused at once when another process has it.
pub fn lock_feeder(dir: &Path, purpose: &str) -> CliResult<FileLock> {
    let lock_path = dir.join(FEEDER_LOCK);
    match FileLock::try_lock(&lock_path, purpose) {
        Ok(Ok(lock)) => Ok(lock),
        Ok(Err(holder)) => Err(CliError::Other(format!(
            "feeder {} is in use by {holder}: one feeder serves one batch at a time",
            dir.display()
        ))),
        Err(e) => Err(crate::error::io_err("cannot lock feeder", &lock_path, e)),
    }
}

/// A simulated card in a virtual reader whose image lives in a file, saved by the policy of
/// [`FileCard`]: once per operation (and at once for a lost PIN or key try), atomically, so a
/// killed process loses at most the writes of the operation it was in, never half an image.
/// Nothing is written when nothing changed. The image's lock is held as long as the slot
/// lives (when it was loaded with [`SimSlot::load`]; a feeder's slots live under the feeder's
/// lock).
pub struct SimSlot {
    file: FileCard,
    _lock: Option<FileLock>,
}

impl SimSlot {
    /// Locks and loads the image at `path` (saves fsynced: a single command).
    pub fn load(path: &Path) -> CliResult<SimSlot> {
        let lock = lock_image(path, "card image", "sscard")?;
        let mut slot = SimSlot::new(
            load_card_image(path)?,
            path.to_path_buf(),
            Durability::Durable,
        );
        slot._lock = Some(lock);
        Ok(slot)
    }

    /// A card that will be saved to `path` (whose lock the caller holds) with `durability`.
    pub fn new(card: SimCard, path: PathBuf, durability: Durability) -> SimSlot {
        SimSlot {
            file: FileCard::new(card, path, durability),
            _lock: None,
        }
    }

    /// The card.
    pub fn card(&self) -> &SimCard {
        self.file.card()
    }

    /// The card, mutable (the batch's `--tear` testing aid arms a power loss on it).
    #[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
    pub fn card_mut(&mut self) -> &mut SimCard {
        self.file.card_mut()
    }

    /// Writes the image when the card changed since the last save.
    pub fn save_if_changed(&mut self) -> Result<(), TransportError> {
        self.file.save_if_changed()
    }
}

/// Writes a card's image with [`sscard_files::write_atomically`].
pub(crate) fn save_card(card: &SimCard, path: &Path, durability: Durability) -> Result<(), String> {
    let text = card.save_json().map_err(|e| e.to_string())?;
    sscard_files::write_atomically(path, text.as_bytes(), durability).map_err(|e| e.to_string())
}

/// Atomic (temporary file + rename) but not fsynced: survives a killed process, which is what a
/// simulated card's EEPROM must survive.
pub(crate) fn quick_save(card: &SimCard, path: &Path) -> Result<(), String> {
    save_card(card, path, Durability::Quick)
}

/// Writes a file readable by its owner only, atomically ([`sscard_files::write_atomically`]).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    sscard_files::write_atomically(path, bytes, Durability::Durable)
}

/// Creates a new file readable by its owner only. An existing file is never overwritten: it is
/// bad input, `kept` saying why it stays (`<path> exists: <kept>`).
pub fn create_private(path: &Path, bytes: &[u8], kept: &str) -> CliResult<()> {
    sscard_files::create_private(path, bytes).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::BadInput(format!("{} exists: {kept}", path.display()))
        } else {
            crate::error::io_err("cannot write", path, e)
        }
    })
}

/// Any card or PSAM the CLI talks to.
pub enum AnyTransport {
    /// A simulated card image.
    Sim(Box<SimSlot>),
    /// A simulated card in memory only (saved by the command when it is done).
    Memory(Box<SimTransport<SimCard>>),
    /// A simulated PSAM.
    SimPsam(Box<SimTransport<SimPsam>>),
    /// A PC/SC reader.
    Pcsc(Box<PcscTransport>),
}

/// A transport that measures each exchange for the tracer.
pub struct Timed {
    inner: AnyTransport,
    last: Arc<AtomicU64>,
    /// When the card was opened (`-v` reports the session's time).
    opened: Instant,
}

impl Timed {
    /// Wraps `inner`.
    pub fn new(inner: AnyTransport) -> Timed {
        Timed {
            inner,
            last: Arc::new(AtomicU64::new(0)),
            opened: Instant::now(),
        }
    }

    /// The duration of the last exchange in microseconds, shared with the tracer.
    pub fn last_micros(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.last)
    }

    /// The wrapped transport, by value.
    pub fn into_inner(self) -> AnyTransport {
        self.inner
    }

    /// Ends the session: a simulated card that changed is saved durably. A save that failed
    /// (now or during the session) is the error, exit 1: the card's last writes may be lost.
    pub fn finish(self) -> CliResult<()> {
        match self.inner {
            AnyTransport::Sim(mut slot) => {
                slot.file.set_durability(Durability::Durable);
                let saved = slot.file.save_if_changed();
                match (slot.file.take_save_failure(), saved) {
                    (Some(message), _) => Err(CliError::Other(format!(
                        "{message}: the card's last change may be lost"
                    ))),
                    (None, Err(e)) => Err(CliError::Other(e.to_string())),
                    (None, Ok(())) => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Whether saving the simulated card failed during the session.
    pub fn save_failed(&self) -> bool {
        matches!(&self.inner, AnyTransport::Sim(slot) if slot.file.save_failed())
    }
}

impl Transport for Timed {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let start = Instant::now();
        let result = match &mut self.inner {
            AnyTransport::Sim(slot) => slot.file.transmit(command),
            AnyTransport::Memory(t) => t.transmit(command),
            AnyTransport::SimPsam(t) => t.transmit(command),
            AnyTransport::Pcsc(t) => t.transmit(command),
        };
        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last.store(micros, Ordering::Relaxed);
        result
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        match &mut self.inner {
            AnyTransport::Sim(slot) => slot.file.atr(),
            AnyTransport::Memory(t) => t.atr(),
            AnyTransport::SimPsam(t) => t.atr(),
            AnyTransport::Pcsc(t) => t.atr(),
        }
    }

    fn reset_epoch(&self) -> u64 {
        match &self.inner {
            AnyTransport::Sim(slot) => slot.file.reset_epoch(),
            AnyTransport::Memory(t) => t.reset_epoch(),
            AnyTransport::SimPsam(t) => t.reset_epoch(),
            AnyTransport::Pcsc(t) => t.reset_epoch(),
        }
    }

    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        match &mut self.inner {
            AnyTransport::Sim(slot) => slot.file.begin_transaction(),
            AnyTransport::Pcsc(t) => t.begin_transaction(),
            _ => Ok(()),
        }
    }

    fn end_transaction(&mut self) -> Result<(), TransportError> {
        match &mut self.inner {
            AnyTransport::Sim(slot) => slot.file.end_transaction(),
            AnyTransport::Pcsc(t) => t.end_transaction(),
            _ => Ok(()),
        }
    }
}

/// A tracer printing each APDU (already redacted by the library) with its duration to stderr.
pub fn tracer(label: &str, last_micros: Arc<AtomicU64>) -> Tracer {
    let label = label.to_owned();
    Box::new(move |event: &TraceEvent| {
        let micros = last_micros.load(Ordering::Relaxed);
        let name = event.name.unwrap_or("");
        eprintln!(
            "[{label}] #{} {name}\nA>> {}\nA<< {} ({:.1} ms)",
            event.index,
            event.command,
            event.response,
            micros as f64 / 1000.0
        );
    })
}

/// Opens a PC/SC reader (or the default one).
fn open_pcsc(name: Option<&str>, wait: Option<u64>) -> CliResult<PcscTransport> {
    let options = OpenOptions {
        reader: name.map(ReaderSelector::parse),
        share: ShareMode::Shared,
        wait: wait.map(Duration::from_secs),
    };
    Ok(PcscTransport::open(&options)?)
}

/// Opens the transport a reader spec names.
pub fn open_transport(spec: &ReaderSpec, wait: Option<u64>) -> CliResult<AnyTransport> {
    match spec {
        ReaderSpec::Sim(path) => Ok(AnyTransport::Sim(Box::new(SimSlot::load(path)?))),
        ReaderSpec::Feeder(_) => Err(CliError::BadInput(
            "a feeder: reader supplies cards to `sscard batch` only".into(),
        )),
        ReaderSpec::Pcsc(name) => Ok(AnyTransport::Pcsc(Box::new(open_pcsc(Some(name), wait)?))),
        ReaderSpec::Default => Ok(AnyTransport::Pcsc(Box::new(open_pcsc(None, wait)?))),
    }
}

/// The card of a command: opened on the (single) reader of the command line.
pub fn open_card(global: &GlobalOpts) -> CliResult<Card<Timed>> {
    open_card_on(&single_reader(global)?, global)
}

/// Opens the card on `spec` with the tracer installed when `--trace`.
pub fn open_card_on(spec: &ReaderSpec, global: &GlobalOpts) -> CliResult<Card<Timed>> {
    traced_card(open_transport(spec, global.wait)?, global.tracing())
}

/// The one way the CLI opens a card: on `transport`, timed, with the `--trace` tracer
/// (labelled `card`) when `trace`.
pub fn traced_card(transport: AnyTransport, trace: bool) -> CliResult<Card<Timed>> {
    let timed = Timed::new(transport);
    let last = timed.last_micros();
    let mut card = Card::open(timed)?;
    if trace {
        card.set_tracer(Some(tracer("card", last)));
    }
    Ok(card)
}

/// A bare channel (raw APDUs, a PSAM) on `transport`, timed, with the `--trace` tracer
/// labelled `label` when `trace`.
pub fn traced_channel(
    transport: AnyTransport,
    trace: bool,
    label: &str,
) -> sscard_core::channel::Channel<Timed> {
    let timed = Timed::new(transport);
    let last = timed.last_micros();
    let mut channel = sscard_core::channel::Channel::new(timed);
    if trace {
        channel.set_tracer(Some(tracer(label, last)));
    }
    channel
}

/// Ends a card session (saves a simulated card), keeping the operation's error first, except
/// when a simulated card's image could not be saved: then that is the error (exit 1).
pub fn finish_card<R>(card: Card<Timed>, result: CliResult<R>) -> CliResult<R> {
    let apdus = card.apdu_count();
    let timed = card.into_transport();
    if crate::progress::verbose() >= 1 {
        crate::progress::note(format!(
            "sscard: {} in {:.1} ms",
            crate::progress::count(apdus, "APDU", "APDUs"),
            timed.opened.elapsed().as_secs_f64() * 1000.0
        ));
    }
    let save_failed = timed.save_failed();
    match (save_failed, timed.finish()) {
        (true, Err(e)) => Err(e),
        (_, saved) => {
            let r = result?;
            saved?;
            Ok(r)
        }
    }
}

/// A key holder usable from several threads: every call locks it.
#[derive(Clone)]
pub struct SharedKeyHolder(Arc<Mutex<Box<dyn KeyHolder + Send>>>);

impl SharedKeyHolder {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn KeyHolder + Send>) -> SharedKeyHolder {
        SharedKeyHolder(Arc::new(Mutex::new(inner)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn KeyHolder + Send>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl KeyHolder for SharedKeyHolder {
    fn supports(&self, alg: Algorithm) -> bool {
        self.lock().supports(alg)
    }

    fn random(&mut self) -> Result<[u8; 8], KeyHolderError> {
        self.lock().random()
    }

    fn authenticate(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], KeyHolderError> {
        self.lock()
            .authenticate(card, role, process_factor, original)
    }

    fn secure_message(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        challenge: &[u8],
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<SecureMessage, KeyHolderError> {
        self.lock()
            .secure_message(card, role, challenge, header, new_pin)
    }

    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        self.lock().terminal_number()
    }
}

/// The key holder of the command line, if any.
pub fn key_holder(global: &GlobalOpts) -> CliResult<Option<Box<dyn KeyHolder + Send>>> {
    if let Some(path) = &global.keys {
        return Ok(Some(Box::new(load_keys(path)?)));
    }
    if global.test_keys {
        let specs = reader_specs(global);
        if !specs.iter().all(ReaderSpec::is_simulated) {
            return Err(CliError::KeyHolder(
                "--test-keys works with simulated cards only (sim: or feeder: readers)".into(),
            ));
        }
        return Ok(Some(Box::new(test_keys()?)));
    }
    if let Some(psam) = &global.psam {
        let transport = match ReaderSpec::parse(psam) {
            ReaderSpec::Sim(path) => {
                AnyTransport::SimPsam(Box::new(SimTransport::new(load_psam_image(&path)?)))
            }
            ReaderSpec::Feeder(_) => {
                return Err(CliError::BadInput("--psam cannot be a feeder".into()))
            }
            spec => open_transport(&spec, global.wait)?,
        };
        let channel = traced_channel(transport, global.tracing(), "psam");
        let holder = PsamKeyHolder::with_channel(channel)
            .map_err(|e| CliError::KeyHolder(format!("PSAM {psam}: {e}")))?;
        return Ok(Some(Box::new(holder)));
    }
    Ok(None)
}

/// The key holder, required for `what` (which names the key roles it needs).
pub fn require_key_holder(global: &GlobalOpts, what: &str) -> CliResult<Box<dyn KeyHolder + Send>> {
    key_holder(global)?.ok_or_else(|| {
        CliError::KeyHolder(format!(
            "{what}: give a key holder: --keys FILE (development key file), --psam READER, or --test-keys (simulated cards)"
        ))
    })
}

/// Today in China Standard Time.
pub fn today() -> CliResult<sscard_core::data::BcdDate> {
    sscard::clock::today().map_err(|e| CliError::Other(format!("system clock: {e}")))
}
