//! The card lifecycle through a REAL pcscd: sscard's simulated card and PSAM served as vpcd
//! virtual cards in the two readers of a private pcscd, spoken to through
//! `sscard::pcsc::PcscTransport` (the card with `Card`, the PSAM with `PsamKeyHolder`).
//!
//! One test function runs the sub-cases one after another (they share pcscd and its two
//! readers; cargo runs the other pcscd test binaries before or after this one, never at the
//! same time):
//!
//! 1. the whole lifecycle with the PSAM as the only key holder, for 2.0/SM4 and 3.0/3DES:
//!    personalize (and the rerun that finds it done), read, read_verified, the validity check of
//!    part 7 §5.4, activate, PIN verify/change, wrong PINs until blocked, unblock, reload, then
//!    APPLICATION BLOCK (2.0) or CARD BLOCK (3.0). The same sequence runs in process first: the
//!    APDU counts of the card and of the PSAM must be the same through pcscd (pcscd and the vpcd
//!    driver pass T=0 procedure bytes through; the library's channel does GET RESPONSE and the
//!    Le correction itself, part 2 §9.3);
//! 2. power lost (the card pulled out) in the middle of personalization, at the first, a middle
//!    and the last persistent write and just after the card number was written: a clear error,
//!    never readable as personalized while incomplete, and a rerun completes it ([design] D15);
//! 3. pcscd restarted between two operations on the same `Card` and PSAM;
//! 4. another client holding the card exclusively: a clear sharing violation, then it works;
//! 5. OpenSC's `opensc-tool` (a PC/SC program nobody here wrote) selects SSSE and resets the card
//!    between two of our operations: the library starts the next one over.
//!
//! It reuses the private pcscd `scripts/test.sh` started (`$SSCARD_PCSCD_DIR`,
//! `$SSCARD_VPCD_PORT`) or runs its own on free ports, and passes with a printed notice when
//! pcscd, the vpcd driver or the privileges to run a private pcscd are missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use sscard::crypto::Pin;
use sscard::data::{BcdDate, PersonRecord, Personalization, RegionCode};
use sscard::keyholder::{KeyFile, PsamKeyHolder};
use sscard::keys::RootKeys;
use sscard::lifecycle::{
    self, ActivateOptions, Card, PersonalizeOptions, PinStatus, ReadOptions, ValidityPolicy,
    Verdict,
};
use sscard::pcsc::testing::{self, PrivatePcscd};
use sscard::pcsc::{Disposition, Pcsc, PcscTransport, ReaderSelector, ShareMode};
use sscard::profile::Generation;
use sscard::sim::vpcd::VpcdCard;
use sscard::sim::{CardSpec, PsamSpec, SimCard, SimPsam, SimTransport, Tear, VirtualCard};
use sscard::transport::{Transport, TransportError};
use sscard::{Algorithm, Error};

const CARD_READER: &str = "Virtual PCD 00 00";
const PSAM_READER: &str = "Virtual PCD 00 01";
const TERMINAL: &str = "410100813475";
const WAIT: Duration = Duration::from_secs(10);
const KEYS: &str = include_str!("../fixtures/keys/test-keys.json");
const REGION: &str = "639900";

/// The private pcscd: the one scripts/test.sh runs, or an own one on free ports.
fn private_pcscd() -> Option<PrivatePcscd> {
    PrivatePcscd::acquire("lifecycle_through_pcscd", 36400..36700)
}

fn wait_until(what: &str, done: impl FnMut() -> bool) {
    testing::wait_until(what, WAIT, done);
}

/// The ATR of the card in `reader`, if there is one.
fn atr_in(reader: &str) -> Option<Vec<u8>> {
    Pcsc::new()
        .list_readers()
        .ok()?
        .into_iter()
        .find(|r| r.name == reader && r.card_present)
        .and_then(|r| r.atr)
}

fn wait_for_atr(reader: &str, atr: &[u8]) {
    wait_until(&format!("the card in {reader}"), || {
        atr_in(reader).as_deref() == Some(atr)
    });
}

fn wait_absent(reader: &str) {
    wait_until(&format!("{reader} to be empty"), || {
        atr_in(reader).is_none()
    });
}

fn roots() -> RootKeys {
    RootKeys::from_json(KEYS).unwrap()
}

fn key_file() -> KeyFile {
    KeyFile::from_json(KEYS).unwrap()
}

fn pin(digits: &str) -> Pin {
    Pin::new(digits).unwrap()
}

fn today() -> BcdDate {
    "20261123".parse().unwrap()
}

/// A blank card of region 639900 as the manufacturer delivers it ([design] D14).
fn blank_sim(generation: Generation, algorithm: Algorithm, serial: [u8; 4]) -> SimCard {
    let spec = CardSpec::new(
        generation,
        algorithm,
        RegionCode::parse(REGION).unwrap(),
        serial,
    )
    .with_card_serial(serial);
    SimCard::blank(spec, &roots()).unwrap()
}

/// The PSAM of a terminal, holding the national roots of `algorithm`.
fn sim_psam(algorithm: Algorithm) -> SimPsam {
    SimPsam::from_root_keys(&roots(), &PsamSpec::new(algorithm, TERMINAL)).unwrap()
}

/// The holder of the card of `generation`.
fn person(generation: Generation) -> Personalization {
    let (ssn, name, number) = match generation {
        Generation::V1 => ("11010119810101123X", "李四", "X00000019"),
        Generation::V2 => ("111111198101011110", "张三", "KD5578904"),
        Generation::V3 => ("630102198101010032", "王五", "A10000015"),
    };
    PersonRecord::from_json(&format!(
        r#"{{"ssn":"{ssn}","name":"{name}","sex":"1","ethnicity":"01","birthplace":"110101",
        "birth_date":"19810101","card_number":"{number}","generation":"{}",
        "issue_date":"20150711","expiry_date":"20350711","region":"{REGION}",
        "initializing_body":"915600000263990063990001"}}"#,
        generation.number()
    ))
    .unwrap()
    .validate()
    .unwrap()
}

/// A card and a PSAM in the two readers of pcscd, opened through PC/SC.
struct Terminal<C: VirtualCard + Send + 'static> {
    card: Card<PcscTransport>,
    psam: PsamKeyHolder<PcscTransport>,
    vcard: VpcdCard<C>,
    vpsam: VpcdCard<SimPsam>,
}

fn terminal<C: VirtualCard + Send + 'static>(
    pcscd: &PrivatePcscd,
    card: C,
    algorithm: Algorithm,
) -> Terminal<C> {
    let (card_atr, psam) = (card.atr(), sim_psam(algorithm));
    let psam_atr = psam.atr();
    let vcard = VpcdCard::spawn(pcscd.addr(0), card).unwrap();
    let vpsam = VpcdCard::spawn(pcscd.addr(1), psam).unwrap();
    wait_for_atr(CARD_READER, &card_atr);
    wait_for_atr(PSAM_READER, &psam_atr);
    let card = Card::open(PcscTransport::connect(CARD_READER, ShareMode::Shared).unwrap()).unwrap();
    let psam = PsamKeyHolder::open(PcscTransport::connect(PSAM_READER, ShareMode::Shared).unwrap())
        .unwrap();
    Terminal {
        card,
        psam,
        vcard,
        vpsam,
    }
}

impl<C: VirtualCard + Send + 'static> Terminal<C> {
    /// Removes both virtual cards and waits until pcscd saw them go; gives the card back.
    fn close(self) -> Option<C> {
        drop(self.card);
        drop(self.psam);
        let card = self.vcard.stop();
        drop(self.vpsam);
        wait_absent(CARD_READER);
        wait_absent(PSAM_READER);
        card
    }
}

#[test]
fn lifecycle_through_pcscd() {
    let Some(pcscd) = private_pcscd() else {
        return;
    };
    whole_lifecycle(
        &pcscd,
        Generation::V2,
        Algorithm::Sm4,
        [0x00, 0x5C, 0x20, 0x01],
    );
    whole_lifecycle(
        &pcscd,
        Generation::V3,
        Algorithm::Tdes,
        [0x00, 0x5C, 0x30, 0x02],
    );
    let t = power_lost_during_personalization(&pcscd);
    let t = pcscd_restarted_between_operations(&pcscd, t);
    let t = card_held_exclusively(t);
    let t = reset_by_another_program_during_an_operation(&pcscd, t);
    opensc_between_operations(t);
}

/// APDUs one step of the lifecycle sent to the card and to the PSAM.
#[derive(Debug, PartialEq, Eq)]
struct Step {
    name: &'static str,
    card: u64,
    psam: u64,
}

/// Runs the whole lifecycle of a blank card with `psam` as the only key holder, checking what
/// the holder, the bank and the issuer see at every step; returns the APDU counts of each step.
fn run_lifecycle<T: Transport, P: Transport>(
    card: &mut Card<T>,
    psam: &mut PsamKeyHolder<P>,
    generation: Generation,
    what: &str,
) -> Vec<Step> {
    let data = person(generation);
    let mut steps = Vec::new();
    let mut step = |name, card: &mut Card<T>, psam: &mut PsamKeyHolder<P>| {
        steps.push(Step {
            name,
            card: card.apdu_count(),
            psam: psam.channel().apdu_count(),
        });
        card.reset_apdu_count();
        psam.channel_mut().reset_apdu_count();
    };
    card.reset_apdu_count();
    psam.channel_mut().reset_apdu_count();

    // The card-printing station personalizes with its PSAM (part 10 §5.4).
    let report = lifecycle::personalize(card, psam, &data, &PersonalizeOptions::default())
        .unwrap_or_else(|e| panic!("{what}: personalize: {e}"));
    assert!(!report.already_done, "{what}");
    assert_eq!(report.card_number, *data.card_number(), "{what}");
    step("personalize", card, psam);
    // Running it again finds the card complete and writes nothing.
    let again = lifecycle::personalize(card, psam, &data, &PersonalizeOptions::default())
        .unwrap_or_else(|e| panic!("{what}: personalize again: {e}"));
    assert!(again.already_done, "{what}");
    step("personalize (rerun)", card, psam);

    // A terminal without keys reads 1.0 and 2.0 cards; a 3.0 card's EF06 needs RKSSSE.
    match (generation, lifecycle::read(card)) {
        (Generation::V3, Err(Error::ReadKeyRequired)) => {}
        (Generation::V3, other) => panic!("{what}: read without keys: {other:?}"),
        (_, read) => assert_eq!(read.unwrap().holder, *data.holder(), "{what}"),
    }
    step("read (no keys)", card, psam);

    // A terminal with a PSAM: genuine, its terminal number in the iReadCardBas line.
    let read = lifecycle::read_verified(card, psam, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{what}: read_verified: {e}"));
    assert_eq!(read.holder, *data.holder(), "{what}");
    assert_eq!(read.issuing, data.issuing_data(report.card_id), "{what}");
    assert_eq!(read.genuine, Some(true), "{what}");
    assert_eq!(read.terminal_number.as_deref(), Some(TERMINAL), "{what}");
    let line = read.basic_line();
    assert!(
        line.starts_with(&format!("{REGION}|{}|", data.holder().ssn_ref())),
        "{line}"
    );
    assert!(line.ends_with(&format!("|{TERMINAL}||")), "{line}");
    step("read_verified", card, psam);

    // The validity check of part 7 §5.4, then the PIN question (§5.6).
    let policy = ValidityPolicy {
        generations: vec![generation],
        today: Some(today()),
        ..ValidityPolicy::default()
    };
    let (verdict, issuing) = lifecycle::check_validity(card, psam, &policy)
        .unwrap_or_else(|e| panic!("{what}: check_validity: {e}"));
    assert_eq!(
        verdict,
        Verdict::Valid {
            pin: PinStatus::Required { tries_left: 3 }
        },
        "{what}"
    );
    assert_eq!(issuing.card_number, *data.card_number());
    step("check_validity", card, psam);

    // The bank outlet: the holder replaces the initial PIN.
    let holder_pin = pin("258036");
    lifecycle::activate_verified(card, psam, &holder_pin, &ActivateOptions::default())
        .unwrap_or_else(|e| panic!("{what}: activate: {e}"));
    step("activate", card, psam);
    assert!(
        matches!(
            lifecycle::verify_pin(card, &Pin::initial()),
            Err(Error::WrongPin { tries_left: 2 })
        ),
        "{what}: the initial PIN still opens the card"
    );
    lifecycle::verify_pin(card, &holder_pin).unwrap();
    step("verify x2", card, psam);
    let changed = pin("604917");
    lifecycle::change_pin(card, &holder_pin, &changed).unwrap();
    lifecycle::verify_pin(card, &changed).unwrap();
    step("change + verify", card, psam);

    // Wrong PINs until blocked; the issuer unblocks, then reloads (part 7 §13.3).
    for left in [2, 1] {
        let r = lifecycle::verify_pin(card, &holder_pin);
        assert!(
            matches!(r, Err(Error::WrongPin { tries_left }) if tries_left == left),
            "{what}: {r:?}"
        );
    }
    assert!(matches!(
        lifecycle::verify_pin(card, &holder_pin),
        Err(Error::PinBlocked)
    ));
    assert_eq!(lifecycle::pin_status(card).unwrap(), PinStatus::Blocked);
    assert!(matches!(
        lifecycle::verify_pin(card, &changed),
        Err(Error::PinBlocked)
    ));
    step("wrong PINs", card, psam);
    lifecycle::unblock_pin(card, psam).unwrap_or_else(|e| panic!("{what}: unblock: {e}"));
    assert_eq!(
        lifecycle::pin_status(card).unwrap(),
        PinStatus::Required { tries_left: 3 }
    );
    lifecycle::verify_pin(card, &changed).unwrap();
    step("unblock_pin", card, psam);
    let reloaded = pin("13579246");
    lifecycle::reload_pin(card, psam, &reloaded).unwrap_or_else(|e| panic!("{what}: reload: {e}"));
    assert!(matches!(
        lifecycle::verify_pin(card, &changed),
        Err(Error::WrongPin { tries_left: 2 })
    ));
    lifecycle::verify_pin(card, &reloaded).unwrap();
    step("reload_pin", card, psam);

    // A lost card: blocked for good (part 7 §13.1-13.2).
    match generation {
        Generation::V3 => {
            lifecycle::block_card(card, psam).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(matches!(lifecycle::read(card), Err(Error::CardBlocked)));
            assert!(matches!(
                lifecycle::read_verified(card, psam, &ReadOptions::default()),
                Err(Error::CardBlocked)
            ));
        }
        _ => {
            lifecycle::block_application(card, psam).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(matches!(
                lifecycle::read_verified(card, psam, &ReadOptions::default()),
                Err(Error::ApplicationBlocked)
            ));
            assert!(matches!(
                lifecycle::verify_pin(card, &reloaded),
                Err(Error::ApplicationBlocked)
            ));
        }
    }
    step("block + refused read", card, psam);
    steps
}

/// 1. The whole lifecycle with the card in one reader and the PSAM in the other.
fn whole_lifecycle(
    pcscd: &PrivatePcscd,
    generation: Generation,
    algorithm: Algorithm,
    serial: [u8; 4],
) {
    let what = format!("{generation}/{algorithm}");
    println!("== lifecycle {what}");

    // In process first, for the reference APDU counts.
    let mut card = Card::open(SimTransport::new(blank_sim(generation, algorithm, serial))).unwrap();
    let mut psam = PsamKeyHolder::open(SimTransport::new(sim_psam(algorithm))).unwrap();
    let in_process = run_lifecycle(&mut card, &mut psam, generation, &what);

    let mut t = terminal(pcscd, blank_sim(generation, algorithm, serial), algorithm);
    assert_eq!(t.psam.algorithm(), algorithm);
    let started = Instant::now();
    let through_pcscd = run_lifecycle(&mut t.card, &mut t.psam, generation, &what);
    let elapsed = started.elapsed();
    println!("{:<22} {:>5} {:>5}", "step", "card", "PSAM");
    for s in &through_pcscd {
        println!("{:<22} {:>5} {:>5}", s.name, s.card, s.psam);
    }
    let (card_apdus, psam_apdus) = through_pcscd
        .iter()
        .fold((0, 0), |(c, p), s| (c + s.card, p + s.psam));
    println!(
        "{what}: {card_apdus} card APDUs and {psam_apdus} PSAM APDUs through pcscd in {elapsed:?}"
    );
    assert_eq!(
        through_pcscd, in_process,
        "{what}: pcscd changed the APDU sequence"
    );
    let sim = t.close().unwrap();
    match generation {
        Generation::V3 => assert!(sim.image().card_blocked),
        _ => assert!(sim.image().ssse_blocked),
    }
}

/// A simulated blank card with two hooks for the test: its power can be cut at a chosen point
/// ([`Tear`]; the card tells the test, which pulls it out of the reader, and answers nothing),
/// and it can hold a chosen command back for a while (so that the test acts in the middle of
/// an operation).
struct Rigged {
    card: SimCard,
    hooks: Arc<Hooks>,
}

/// The test's side of a [`Rigged`] card.
#[derive(Default)]
struct Hooks {
    /// A tear to arm before the next command.
    tear: Mutex<Option<Tear>>,
    /// Set when the tear fired.
    fired: AtomicBool,
    /// Set by the test once the card is out of the reader.
    pulled: AtomicBool,
    /// Hold the command with this instruction byte back (once), until `released` or 1 s.
    hold_ins: Mutex<Option<u8>>,
    /// Set when the held command arrived.
    holding: AtomicBool,
    /// Set by the test to let the held command go on.
    released: AtomicBool,
}

/// Polls `done` for at most `timeout`.
fn wait_at_most(timeout: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

impl VirtualCard for Rigged {
    fn atr(&self) -> Vec<u8> {
        self.card.atr()
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        let h = &self.hooks;
        if let Some(tear) = h.tear.lock().unwrap().take() {
            self.card.arm_tear(tear);
        }
        let hold = {
            let mut ins = h.hold_ins.lock().unwrap();
            let hit = ins.is_some() && apdu.get(1) == ins.as_ref();
            if hit {
                *ins = None;
            }
            hit
        };
        if hold {
            h.holding.store(true, Ordering::SeqCst);
            wait_at_most(Duration::from_secs(1), || h.released.load(Ordering::SeqCst));
        }
        let response = self.card.handle(apdu);
        if self.card.is_torn() {
            h.fired.store(true, Ordering::SeqCst);
            wait_at_most(WAIT, || h.pulled.load(Ordering::SeqCst));
            return Vec::new();
        }
        response
    }
    fn reset(&mut self) {
        self.card.reset()
    }
}

/// A blank 2.0/SM4 card with hooks.
fn rigged_card(serial: [u8; 4]) -> (Rigged, Arc<Hooks>) {
    let hooks = Arc::new(Hooks::default());
    let card = Rigged {
        card: blank_sim(Generation::V2, Algorithm::Sm4, serial),
        hooks: Arc::clone(&hooks),
    };
    (card, hooks)
}

/// Takes the card out of the reader and puts `next` in; reopens the card.
fn swap_card(pcscd: &PrivatePcscd, t: &mut Terminal<Rigged>, next: Rigged) {
    t.vcard.remove();
    wait_absent(CARD_READER);
    let atr = next.atr();
    t.vcard = VpcdCard::spawn(pcscd.addr(0), next).unwrap();
    wait_for_atr(CARD_READER, &atr);
    t.card = Card::open(PcscTransport::connect(CARD_READER, ShareMode::Shared).unwrap()).unwrap();
}

/// Records the raw commands sent through a transport.
struct Recorder<T> {
    inner: T,
    sent: Vec<Vec<u8>>,
}

impl<T: Transport> Transport for Recorder<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.push(command.to_vec());
        self.inner.transmit(command)
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

/// A 2.0/SM4 personalization in process with the key file: how many APDUs and persistent
/// writes it makes, and the number of the APDU writing the card number (UPDATE RECORD of tag
/// 07, part 5 §6.13).
struct Profile {
    apdus: u64,
    writes: u64,
    card_number_apdu: u64,
}

fn personalization_profile() -> Profile {
    let sim = blank_sim(Generation::V2, Algorithm::Sm4, [0x00, 0x5C, 0x20, 0x03]);
    let mut card = Card::open(Recorder {
        inner: SimTransport::new(sim),
        sent: Vec::new(),
    })
    .unwrap();
    lifecycle::personalize(
        &mut card,
        &mut key_file(),
        &person(Generation::V2),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let recorder = card.into_transport();
    let number_write = recorder
        .sent
        .iter()
        .position(|c| c.starts_with(&[0x00, 0xDC, 0x07]))
        .expect("no UPDATE RECORD of the card number");
    Profile {
        apdus: recorder.sent.len() as u64,
        writes: recorder.inner.card().persistent_writes(),
        card_number_apdu: number_write as u64 + 1,
    }
}

/// 2. Power is lost in the middle of personalization (a fresh blank card for each tear point);
///    the card is reinserted and the personalization run again.
fn power_lost_during_personalization(pcscd: &PrivatePcscd) -> Terminal<Rigged> {
    println!("== power lost during personalization");
    let profile = personalization_profile();
    let (writes, number_apdu) = (profile.writes, profile.card_number_apdu);
    println!(
        "a 2.0/SM4 personalization: {} APDUs, {writes} persistent writes, the card number in APDU {number_apdu}",
        profile.apdus
    );
    let data = person(Generation::V2);
    let mut keys = key_file();
    // the first write (PUK's try counter), one in the middle, the card number (the last
    // write), and just after the card number was written (the answer lost)
    let cases = [
        (Tear::AtWrite(1), false),
        (Tear::AtWrite(writes / 2), false),
        (Tear::AtWrite(writes), false),
        (Tear::AfterApdu(number_apdu), true),
    ];
    let (sim, mut hooks) = rigged_card([0x00, 0x5C, 0x20, 0x10]);
    let mut t = terminal(pcscd, sim, Algorithm::Sm4);
    for (i, (tear, complete)) in cases.into_iter().enumerate() {
        if i > 0 {
            let (next, h) = rigged_card([0x00, 0x5C, 0x20, 0x10 + i as u8]);
            swap_card(pcscd, &mut t, next);
            hooks = h;
        }
        let atr = t.card.atr().to_vec();
        *hooks.tear.lock().unwrap() = Some(tear);
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                wait_until("the power cut", || hooks.fired.load(Ordering::SeqCst));
                t.vcard.remove();
                hooks.pulled.store(true, Ordering::SeqCst);
            });
            lifecycle::personalize(
                &mut t.card,
                &mut keys,
                &data,
                &PersonalizeOptions::default(),
            )
        });
        let err = result.expect_err("personalization went on without the card");
        println!("power cut {tear}: {err}");
        assert!(
            matches!(err, Error::Transport(TransportError::CardRemoved)),
            "{tear}: {err:?}"
        );
        assert_eq!(err.to_string(), "the card was removed");
        wait_absent(CARD_READER);
        assert!(matches!(
            lifecycle::read(&mut t.card),
            Err(Error::Transport(TransportError::NoCard))
        ));

        // Back in: an incomplete card is never read as a personalized one.
        t.vcard.insert();
        wait_for_atr(CARD_READER, &atr);
        let read = lifecycle::read(&mut t.card);
        if complete {
            assert_eq!(read.unwrap().holder, *data.holder(), "{tear}");
        } else {
            let e = read.expect_err("an incomplete card was read");
            assert!(!matches!(e, Error::Transport(_)), "{tear}: {e:?}");
            println!("  read of the incomplete card: {e}");
        }
        // Running it again completes it (or finds it complete).
        let report = lifecycle::personalize(
            &mut t.card,
            &mut keys,
            &data,
            &PersonalizeOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{tear}: rerun: {e}"));
        assert_eq!(report.already_done, complete, "{tear}");
        let read = lifecycle::read_verified(&mut t.card, &mut t.psam, &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{tear}: read after the rerun: {e}"));
        assert_eq!(read.holder, *data.holder());
        assert_eq!(read.issuing, data.issuing_data(report.card_id));
        assert_eq!(read.genuine, Some(true));
        assert_eq!(
            lifecycle::pin_status(&mut t.card).unwrap(),
            PinStatus::Required { tries_left: 3 }
        );
    }
    t
}

/// 3. pcscd restarts between two operations; the same `Card` and PSAM go on.
fn pcscd_restarted_between_operations(
    pcscd: &PrivatePcscd,
    mut t: Terminal<Rigged>,
) -> Terminal<Rigged> {
    println!("== pcscd restarted between two operations");
    let data = person(Generation::V2);
    lifecycle::read_verified(&mut t.card, &mut t.psam, &ReadOptions::default()).unwrap();
    let (card_connections, psam_connections) = (t.vcard.connections(), t.vpsam.connections());
    pcscd.restart();
    wait_until("both virtual cards back in the new pcscd", || {
        t.vcard.connections() > card_connections
            && t.vpsam.connections() > psam_connections
            && t.vcard.is_connected()
            && t.vpsam.is_connected()
    });
    wait_until("pcscd to list both cards", || {
        atr_in(CARD_READER).is_some() && atr_in(PSAM_READER).is_some()
    });

    // The card's PC/SC context died with pcscd: the library starts the operation over once.
    let read = lifecycle::read(&mut t.card)
        .unwrap_or_else(|e| panic!("first read after the pcscd restart: {e}"));
    assert_eq!(read.holder, *data.holder());
    // The PSAM's transport has its own dead context: its error restarts the operation too.
    let read = lifecycle::read_verified(&mut t.card, &mut t.psam, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("first read with the PSAM after the pcscd restart: {e}"));
    assert_eq!(read.genuine, Some(true));
    assert_eq!(read.terminal_number.as_deref(), Some(TERMINAL));
    t
}

/// 4. Another PC/SC client holds the card exclusively.
fn card_held_exclusively(mut t: Terminal<Rigged>) -> Terminal<Rigged> {
    println!("== card held exclusively by another client");
    let data = person(Generation::V2);
    let atr = t.card.atr().to_vec();
    // Our connection lapses (card out and in again), another client grabs the card first.
    t.vcard.remove();
    wait_absent(CARD_READER);
    assert!(lifecycle::read(&mut t.card).is_err());
    t.vcard.insert();
    wait_for_atr(CARD_READER, &atr);

    let (grabbed_tx, grabbed_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        // Its own PC/SC context: to pcscd another client, as another process would be.
        let holder = PcscTransport::connect(CARD_READER, ShareMode::Exclusive).unwrap();
        grabbed_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        holder.disconnect(Disposition::Leave).unwrap();
    });
    grabbed_rx.recv_timeout(WAIT).unwrap();

    let err = lifecycle::read(&mut t.card).unwrap_err();
    println!("read while another client holds the card: {err}");
    assert!(
        matches!(err, Error::Transport(TransportError::SharingViolation)),
        "{err:?}"
    );
    assert!(err.to_string().contains("exclusive use by another program"));
    let listed = Pcsc::new()
        .select_reader(Some(&ReaderSelector::Exact(CARD_READER.into())))
        .unwrap();
    assert!(listed.exclusive);

    release_tx.send(()).unwrap();
    holder.join().unwrap();
    let read = lifecycle::read(&mut t.card).unwrap();
    assert_eq!(read.holder, *data.holder());
    t
}

/// 5. Another program resets the card while a personalization is between its EXTERNAL
///    AUTHENTICATION with UKSSSE and its writes. The operation runs in a PC/SC transaction, so
///    the reset cannot come in between (it is refused or waits until the transaction ends): the
///    personalization completes with exactly the APDUs of an undisturbed one, and the next
///    operation, seeing the reset, starts over.
fn reset_by_another_program_during_an_operation(
    pcscd: &PrivatePcscd,
    mut t: Terminal<Rigged>,
) -> Terminal<Rigged> {
    println!("== another program resets the card during a personalization");
    let profile = personalization_profile();
    let (sim, hooks) = rigged_card([0x00, 0x5C, 0x20, 0x20]);
    swap_card(pcscd, &mut t, sim);
    let data = person(Generation::V2);
    let mut keys = key_file();
    *hooks.hold_ins.lock().unwrap() = Some(0xDC); // the first UPDATE RECORD
    let epoch = t.card.channel().transport().reset_epoch();
    t.card.reset_apdu_count();
    let (report, reset) = std::thread::scope(|s| {
        let other = s.spawn(|| {
            wait_until("the first write", || hooks.holding.load(Ordering::SeqCst));
            let mut other = PcscTransport::connect(CARD_READER, ShareMode::Shared).unwrap();
            let first = other.reset_card(false);
            hooks.released.store(true, Ordering::SeqCst);
            let done = Instant::now();
            // refused while the transaction lasts: try until it ends
            let mut reset = first.clone();
            while reset == Err(TransportError::SharingViolation) {
                std::thread::sleep(Duration::from_millis(5));
                reset = other.reset_card(false);
            }
            reset.unwrap();
            other.disconnect(Disposition::Leave).unwrap();
            (first, done)
        });
        let report = lifecycle::personalize(
            &mut t.card,
            &mut keys,
            &data,
            &PersonalizeOptions::default(),
        );
        let ended = Instant::now();
        (report, (other.join().unwrap(), ended))
    });
    let report = report.unwrap();
    let ((first, reset_returned), ended) = reset;
    println!("the other program's first reset during the operation: {first:?}");
    assert!(
        first == Err(TransportError::SharingViolation) || reset_returned >= ended,
        "the other program reset the card inside the personalization's transaction"
    );
    assert!(!report.already_done);
    assert_eq!(
        t.card.apdu_count(),
        profile.apdus,
        "the personalization was disturbed (restarted) by the reset"
    );
    // the next operation meets the reset and starts over
    let read = lifecycle::read_verified(&mut t.card, &mut keys, &ReadOptions::default()).unwrap();
    assert_eq!(read.holder, *data.holder());
    assert_ne!(
        t.card.channel().transport().reset_epoch(),
        epoch,
        "the reset went unnoticed"
    );
    t
}

/// 6. `opensc-tool` (OpenSC, a PC/SC program nobody here wrote) selects SSSE on our card
///    between two of our operations and reads its FCI.
fn opensc_between_operations(mut t: Terminal<Rigged>) {
    println!("== opensc-tool between two operations");
    let data = person(Generation::V2);
    lifecycle::pin_status(&mut t.card).unwrap();
    match Command::new("opensc-tool")
        .args(["--reader", CARD_READER, "--send-apdu"])
        .arg("00A404000F7378312E73682EC9E7BBE1B1A3D5CF00")
        .output()
    {
        Err(_) => println!("NOTICE: opensc-tool is not installed: skipping the OpenSC case"),
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            println!("opensc-tool:\n{text}");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(text.contains("SW1=0x90, SW2=0x00"), "{text}");
            // the FCI (part 5 table 36): 84 0F "sx1.sh.社会保障", A5 … 9F0C 03 86 01 03 (SM4)
            assert!(text.contains("84 0F 73 78 31 2E 73 68 2E"), "{text}");
            assert!(text.contains("9F 0C 03 86 01 03"), "{text}");
        }
    }
    let read = lifecycle::read_verified(&mut t.card, &mut t.psam, &ReadOptions::default()).unwrap();
    assert_eq!(read.holder, *data.holder());
    t.close();
}
