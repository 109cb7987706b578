//! `sscard sim serve`: simulated cards in the virtual readers (vsmartcard vpcd) of a running
//! pcscd, so that any PC/SC program (sscard itself with `--reader NAME`, OpenSC, ...) can talk
//! to them.
//!
//! - `--image IMAGE`: one card, saved after every persistent write, until Ctrl-C / SIGTERM.
//! - `--feeder DIR`: a simulated card feeder for batches through pcscd. The reader holds a blank
//!   card (`DIR/in-reader.json`). Once that card is personalized (its card number is written,
//!   \[design\] D15) and, after having answered at least one command since it was
//!   inserted, sees a reset or power-off from pcscd (the terminal disconnects with a reset, as
//!   `sscard batch` does, or pcscd powers an idle card down), the feeder ejects it: the vpcd
//!   connection is closed (card removed), it waits until pcscd reports the reader empty, files
//!   the card as `DIR/cards/CARD-ID.json` (its card identification code) and inserts a fresh
//!   blank card (a new serial).
//!   A card left half-personalized is never ejected (a rerun of the batch completes it).
//!
//! The reader a card appeared in is looked up through PC/SC (the reader whose card has this
//! card's ATR) and printed on stdout.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sscard_core::data::RegionCode;
use sscard_core::profile::Generation;
use sscard_sim::vpcd::VpcdCard;
use sscard_sim::{SimCard, VirtualCard};

use crate::cardstate::{image_card_id, image_state, CardState};
use crate::cli::{GlobalOpts, OutputFormat, SimServeArgs};
use crate::context;
use crate::error::{CliError, CliResult};
use crate::feeder::{Feeder, Tray};

/// How long to wait for the vpcd driver to accept the card and for pcscd to show it.
const APPEAR_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an ejected card waits for pcscd to see the reader empty before the next one goes in
/// (pcscd polls the vpcd driver every 400 ms).
const EMPTY_TIMEOUT: Duration = Duration::from_secs(3);
/// Poll interval of the PC/SC reader list.
const POLL: Duration = Duration::from_millis(5);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A simulated card for vpcd that saves its image (durably) after every persistent write.
struct ServedCard {
    card: SimCard,
    path: PathBuf,
    saved: u64,
}

impl VirtualCard for ServedCard {
    fn atr(&self) -> Vec<u8> {
        self.card.atr()
    }

    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        let response = self.card.handle(apdu);
        if self.card.persistent_writes() != self.saved {
            if let Err(e) =
                context::save_card(&self.card, &self.path, sscard_files::Durability::Durable)
            {
                eprintln!("warning: saving {}: {e}", self.path.display());
            }
            self.saved = self.card.persistent_writes();
        }
        response
    }

    fn reset(&mut self) {
        self.card.reset();
    }
}

/// The card in a feeder's reader, shared between the vpcd thread and the feeder.
struct FeederSlot {
    card: SimCard,
    saved: u64,
    /// Command APDUs answered since this card was inserted.
    commands: u64,
    /// The card asked to be ejected (the feeder has been told).
    eject: bool,
}

/// The vpcd side of a feeder: the current card, and a signal to the feeder when it is done.
struct FeederCard {
    slot: Arc<Mutex<FeederSlot>>,
    path: PathBuf,
    done: mpsc::Sender<()>,
}

fn is_finished(card: &SimCard) -> bool {
    image_state(card.image()) == CardState::Personalized
}

impl VirtualCard for FeederCard {
    fn atr(&self) -> Vec<u8> {
        lock(&self.slot).card.atr()
    }

    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        let mut slot = lock(&self.slot);
        let response = slot.card.handle(apdu);
        slot.commands += 1;
        if slot.card.persistent_writes() != slot.saved {
            // Atomic but not fsynced: survives a killed server, like a card's EEPROM.
            if let Err(e) = context::quick_save(&slot.card, &self.path) {
                eprintln!("warning: saving {}: {e}", self.path.display());
            }
            slot.saved = slot.card.persistent_writes();
        }
        response
    }

    fn reset(&mut self) {
        let mut slot = lock(&self.slot);
        slot.card.reset();
        if slot.commands > 0 && !slot.eject && is_finished(&slot.card) {
            slot.eject = true;
            let _ = self.done.send(());
        }
    }
}

/// The first virtual reader's port: `--port`, else `$SSCARD_VPCD_PORT`, else 35963.
fn base_port(args: &SimServeArgs) -> u16 {
    args.port.unwrap_or_else(|| {
        std::env::var(sscard_sim::vpcd::VPCD_PORT_ENV)
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(sscard_sim::vpcd::DEFAULT_VPCD_PORT)
    })
}

/// Waits until the vpcd driver accepted the card.
fn wait_connected<C: VirtualCard + Send + 'static>(
    card: &VpcdCard<C>,
    addr: &str,
) -> CliResult<()> {
    let deadline = Instant::now() + APPEAR_TIMEOUT;
    while !card.is_connected() {
        if Instant::now() > deadline {
            return Err(CliError::NoCard(format!(
                "no virtual reader accepted the card at {addr}: is pcscd running with the vsmartcard vpcd driver on that port (--port, $SSCARD_VPCD_PORT)?"
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// The PC/SC reader whose card has `atr`, looked for until `timeout`.
fn reader_with_atr(atr: &[u8], timeout: Duration) -> Option<String> {
    let mut pcsc = sscard_pcsc::Pcsc::new();
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(readers) = pcsc.list_readers() {
            if let Some(r) = readers
                .iter()
                .find(|r| r.card_present && r.atr.as_deref() == Some(atr))
            {
                return Some(r.name.clone());
            }
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until pcscd reports `reader` without a card (or `timeout` passed).
fn wait_reader_empty(pcsc: &mut sscard_pcsc::Pcsc, reader: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match pcsc.list_readers() {
            Ok(readers) if !readers.iter().any(|r| r.name == reader && r.card_present) => {
                return true
            }
            Ok(_) => {}
            Err(_) => pcsc.reset_context(),
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Prints where the card (and PSAM) appeared.
fn announce(
    global: &GlobalOpts,
    what: &str,
    atr: &[u8],
    addr: &str,
    psam: Option<(&[u8], &str)>,
) -> Option<String> {
    let reader = reader_with_atr(atr, APPEAR_TIMEOUT);
    let psam_reader = psam.and_then(|(atr, _)| reader_with_atr(atr, APPEAR_TIMEOUT));
    if reader.is_none() {
        eprintln!(
            "warning: the card is plugged in at {addr}, but no PC/SC reader shows it (is this pcscd's vpcd port? PCSCLITE_CSOCK_NAME?)"
        );
    }
    match global.output_format {
        OutputFormat::Json => {
            crate::output::print_document(&sscard_cli::documents::SimServeDocument {
                serving: what.to_owned(),
                reader: reader.clone(),
                atr: hex::encode_upper(atr),
                vpcd: addr.to_owned(),
                psam_reader: psam_reader.clone(),
                psam_vpcd: psam.map(|(_, a)| a.to_owned()),
            })
        }
        _ => {
            println!(
                "{what}: card {} in reader \"{}\" (vpcd {addr})",
                hex::encode_upper(atr),
                reader.as_deref().unwrap_or("?")
            );
            if let Some((_, psam_addr)) = psam {
                println!(
                    "PSAM in reader \"{}\" (vpcd {psam_addr})",
                    psam_reader.as_deref().unwrap_or("?")
                );
            }
        }
    }
    crate::progress::note(format!(
        "serving until Ctrl-C (or `kill {}`)",
        std::process::id()
    ));
    reader
}

/// `sscard sim serve`.
pub fn sim_serve(global: &GlobalOpts, args: &SimServeArgs) -> CliResult<()> {
    crate::output::basic_not_supported(global, "sim serve")?;
    let stop = crate::interrupt::flag();
    let base = base_port(args);
    let addr = |n: u16| {
        format!(
            "127.0.0.1:{}",
            base.saturating_add(args.slot).saturating_add(n)
        )
    };
    // `--psam IMAGE` (global option; `sim:IMAGE` accepted too): the PSAM to plug in.
    let psam = global
        .psam
        .as_deref()
        .map(|p| PathBuf::from(p.strip_prefix("sim:").unwrap_or(p)))
        .map(|p| context::load_psam_image(&p))
        .transpose()?;
    let served_psam = match psam {
        Some(p) => {
            let atr = p.atr();
            let served = VpcdCard::spawn(addr(1), p)
                .map_err(|e| CliError::Other(format!("vpcd at {}: {e}", addr(1))))?;
            wait_connected(&served, &addr(1))?;
            Some((served, atr))
        }
        None => None,
    };
    let psam_info = served_psam.as_ref().map(|(_, atr)| atr.as_slice());
    let psam_addr = addr(1);
    let psam_arg = psam_info.map(|atr| (atr, psam_addr.as_str()));
    let result = match (&args.image, &args.feeder) {
        (Some(image), _) => serve_image(global, image, &addr(0), psam_arg, &stop),
        (None, Some(dir)) => serve_feeder(global, args, dir, &addr(0), psam_arg, &stop),
        (None, None) => Err(CliError::BadInput("give --image or --feeder".into())),
    };
    if let Some((p, _)) = served_psam {
        p.stop();
    }
    result
}

fn serve_image(
    global: &GlobalOpts,
    image: &Path,
    addr: &str,
    psam: Option<(&[u8], &str)>,
    stop: &std::sync::atomic::AtomicBool,
) -> CliResult<()> {
    // the card is in the virtual reader until the server stops: no `sim:` user beside it
    let _lock = context::lock_image(image, "card image", context::SERVE_PURPOSE)?;
    let card = context::load_card_image(image)?;
    let atr = card.atr();
    let saved = card.persistent_writes();
    let served = VpcdCard::spawn(
        addr,
        ServedCard {
            card,
            path: image.to_path_buf(),
            saved,
        },
    )
    .map_err(|e| CliError::Other(format!("vpcd at {addr}: {e}")))?;
    wait_connected(&served, addr)?;
    announce(global, &image.display().to_string(), &atr, addr, psam);
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let writes = match served.stop() {
        Some(c) => {
            if c.card.persistent_writes() != c.saved {
                context::save_card(&c.card, image, sscard_files::Durability::Durable)
                    .map_err(|e| CliError::Other(format!("saving {}: {e}", image.display())))?;
            }
            c.card.persistent_writes()
        }
        None => 0,
    };
    crate::progress::note(format!(
        "stopped: the card left the virtual reader; image {} {}",
        image.display(),
        if writes == 0 {
            "unchanged".to_owned()
        } else {
            format!(
                "holds its {}",
                crate::progress::count(writes, "write", "writes")
            )
        }
    ));
    Ok(())
}

fn serve_feeder(
    global: &GlobalOpts,
    args: &SimServeArgs,
    dir: &Path,
    addr: &str,
    psam: Option<(&[u8], &str)>,
    stop: &std::sync::atomic::AtomicBool,
) -> CliResult<()> {
    // `--psam` is the served PSAM here, not a key holder: the blanks' card keys come from
    // `--keys` or the embedded test keys.
    let (keys, _) = context::root_keys(global)?;
    let feeder = Feeder::open(dir, keys, args.algorithm.into())?;
    let _lock = context::lock_feeder(dir, context::SERVE_PURPOSE)?;
    let generation = Generation::from_number(args.generation)
        .ok_or_else(|| CliError::BadInput("generation must be 1, 2 or 3".into()))?;
    let region = RegionCode::parse(&args.region)
        .map_err(|e| CliError::BadInput(format!("--region: {e}")))?;
    let path = feeder.slot_path();
    // The card left in the reader by the last run stays (a batch may need to complete it).
    let card = match feeder.current()? {
        Some(card) => card,
        None => {
            let card = feeder.blank(generation, region)?;
            feeder.store(&card)?;
            card
        }
    };
    let atr = card.atr();
    let (done_tx, done_rx) = mpsc::channel();
    let slot = Arc::new(Mutex::new(FeederSlot {
        saved: card.persistent_writes(),
        card,
        commands: 0,
        eject: false,
    }));
    let served = VpcdCard::spawn(
        addr,
        FeederCard {
            slot: Arc::clone(&slot),
            path: path.clone(),
            done: done_tx,
        },
    )
    .map_err(|e| CliError::Other(format!("vpcd at {addr}: {e}")))?;
    wait_connected(&served, addr)?;
    let reader = announce(
        global,
        &format!("feeder {}", dir.display()),
        &atr,
        addr,
        psam,
    );
    let mut pcsc = sscard_pcsc::Pcsc::new();
    let mut ejected = 0u64;
    let result = loop {
        if stop.load(Ordering::SeqCst) {
            break Ok(());
        }
        match done_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(()) => {}
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break Ok(()),
        }
        // Eject: close the connection, wait until pcscd saw the reader empty.
        let swap_start = Instant::now();
        served.remove();
        let deadline = Instant::now() + APPEAR_TIMEOUT;
        while served.is_connected() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let blank = match feeder.blank(generation, region) {
            Ok(card) => card,
            Err(e) => break Err(e),
        };
        let (filed, next) = {
            let mut s = lock(&slot);
            // the card as it is now, then out into the tray; the blank one into the reader
            let filed = feeder
                .store(&s.card)
                .and_then(|()| feeder.take_out(&s.card, Tray::Cards))
                .and_then(|filed| feeder.store(&blank).map(|()| filed));
            let filed = match filed {
                Ok(filed) => filed,
                Err(e) => break Err(e),
            };
            let next = image_card_id(blank.image());
            s.saved = blank.persistent_writes();
            s.card = blank;
            s.commands = 0;
            s.eject = false;
            (filed, next)
        };
        if let Some(reader) = &reader {
            if !wait_reader_empty(&mut pcsc, reader, EMPTY_TIMEOUT) {
                eprintln!("warning: pcscd did not report {reader} empty after the card left");
            }
        }
        let emptied = swap_start.elapsed();
        served.insert();
        ejected += 1;
        crate::progress::note(format!(
            "feeder: card personalized -> {}; blank card {next} inserted (reader empty after {} ms)",
            filed.display(),
            emptied.as_millis()
        ));
    };
    if let Some(feeder) = served.stop() {
        let s = lock(&feeder.slot);
        s.card
            .save(&path)
            .map_err(|e| CliError::Other(format!("saving {}: {e}", path.display())))?;
    }
    crate::progress::note(format!(
        "feeder stopped: {} personalized into {}; the card in the reader is saved as {}",
        crate::progress::count(ejected, "card", "cards"),
        dir.join("cards").display(),
        path.display()
    ));
    result
}
