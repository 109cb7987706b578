//! The card lifecycle through a REAL pcscd: simulated card and PSAM served as vpcd virtual cards
//! in the two readers of a private pcscd, spoken to through `sscard::pcsc::PcscTransport`.
//!
//! One test function runs the sub-cases one after another (they share pcscd and its two
//! readers, and so does the `sscard-pcsc` test binary, which cargo runs before or after this
//! one, never at the same time):
//!
//! 1. the whole lifecycle with the PSAM as key holder, for 2.0/SM4 and 3.0/3DES: personalize,
//!    read (genuine, terminal number), activate, verify, change PIN, wrong PINs until blocked,
//!    unblock, temporary block and unblock, permanent block;
//! 2. the card pulled out in the middle of personalization: a clear error, never readable as
//!    personalized in between, and a rerun completes it;
//! 3. pcscd restarted between two operations on the same `Card`;
//! 4. another client holding the card exclusively: a clear sharing violation, then it works;
//! 5. OpenSC's `opensc-tool` (a PC/SC program nobody here wrote) sees the virtual card.
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

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::{blank_sim, person, pin, test_keys};
use sscard::data::BcdDate;
use sscard::keyholder::{KeyHolder, PsamKeyHolder};
use sscard::lifecycle::{self, AppState, Card, PersonalizeOptions, ReadOptions};
use sscard::pcsc::testing::{self, PrivatePcscd};
use sscard::pcsc::{Disposition, Pcsc, PcscTransport, ReaderSelector, ShareMode};
use sscard::profile::Generation;
use sscard::sim::vpcd::VpcdCard;
use sscard::sim::{SimCard, SimPsam, VirtualCard};
use sscard::transport::TransportError;
use sscard::{Algorithm, Error};

const CARD_READER: &str = "Virtual PCD 00 00";
const PSAM_READER: &str = "Virtual PCD 00 01";
const TERMINAL: &str = "410100813475";
const WAIT: Duration = Duration::from_secs(10);

/// The private pcscd: the one scripts/test.sh runs, or an own one on free ports.
fn private_pcscd() -> Option<PrivatePcscd> {
    PrivatePcscd::acquire("lifecycle_through_pcscd", 36400..36700)
}

fn wait_until(what: &str, done: impl FnMut() -> bool) {
    testing::wait_until(what, WAIT, done);
}

fn card_present(reader: &str) -> bool {
    Pcsc::new()
        .list_readers()
        .map(|rs| rs.iter().any(|r| r.name == reader && r.card_present))
        .unwrap_or(false)
}

fn wait_present(reader: &str) {
    wait_until(&format!("a card in {reader}"), || card_present(reader));
}

fn wait_absent(reader: &str) {
    wait_until(&format!("{reader} to be empty"), || !card_present(reader));
}

fn today() -> BcdDate {
    "20261123".parse().unwrap()
}

/// A simulated card that is pulled out of its reader when its `arm`-th command arrives (the
/// command is not executed): `handle` tells the test thread, which removes the card.
struct PullOut {
    card: SimCard,
    /// Commands left until the pull; 0 = disarmed.
    countdown: Arc<AtomicU32>,
    /// Set by `handle` when the fatal command arrived.
    arrived: Arc<AtomicBool>,
    /// Set by the test once the card is out.
    pulled: Arc<AtomicBool>,
}

impl VirtualCard for PullOut {
    fn atr(&self) -> Vec<u8> {
        self.card.atr()
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        let left = self.countdown.load(Ordering::SeqCst);
        if left > 0 {
            self.countdown.store(left - 1, Ordering::SeqCst);
            if left == 1 {
                self.arrived.store(true, Ordering::SeqCst);
                let deadline = Instant::now() + WAIT;
                while !self.pulled.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                return Vec::new(); // the connection is gone: nothing reaches the driver
            }
        }
        self.card.handle(apdu)
    }
    fn reset(&mut self) {
        self.card.reset()
    }
}

/// A card and a PSAM in the two readers, opened through PC/SC.
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
    let psam = SimPsam::from_key_file(&test_keys(), algorithm, TERMINAL).unwrap();
    let vcard = VpcdCard::spawn(pcscd.addr(0), card).unwrap();
    let vpsam = VpcdCard::spawn(pcscd.addr(1), psam).unwrap();
    wait_present(CARD_READER);
    wait_present(PSAM_READER);
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
    /// Removes both virtual cards and waits until pcscd saw them go.
    fn close(self) {
        drop(self.card);
        drop(self.psam);
        drop(self.vcard);
        drop(self.vpsam);
        wait_absent(CARD_READER);
        wait_absent(PSAM_READER);
    }
}

#[test]
fn lifecycle_through_pcscd() {
    let Some(pcscd) = private_pcscd() else {
        return;
    };
    for (generation, algorithm, serial) in [
        (Generation::V2, Algorithm::Sm4, [0x00, 0x5C, 0x20, 0x01]),
        (Generation::V3, Algorithm::Tdes, [0x00, 0x5C, 0x30, 0x02]),
    ] {
        whole_lifecycle(&pcscd, generation, algorithm, serial);
    }
    let t = removed_during_personalization(&pcscd);
    let t = pcscd_restarted_between_operations(&pcscd, t);
    let t = card_held_exclusively(t);
    opensc_sees_the_card(t);
}

/// 1. The whole lifecycle with the card in one reader and the PSAM in the other.
fn whole_lifecycle(
    pcscd: &PrivatePcscd,
    generation: Generation,
    algorithm: Algorithm,
    serial: [u8; 4],
) {
    let what = format!("{generation:?}/{algorithm}");
    println!("== lifecycle {what}");
    let mut t = terminal(pcscd, blank_sim(generation, algorithm, serial), algorithm);
    assert_eq!(t.psam.algorithm(), algorithm);
    let data = person(generation);
    let card = &mut t.card;
    let psam: &mut dyn KeyHolder = &mut t.psam;

    // The card printer personalizes with the development key file.
    let report = lifecycle::personalize(
        card,
        &mut test_keys(),
        &data,
        &PersonalizeOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{what}: personalize: {e}"));
    assert_eq!(report.card_id.chip_serial, serial);

    // A reading terminal with a PSAM: genuine, its terminal number in the basic line.
    let read = lifecycle::read(card, Some(&mut *psam), &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{what}: read: {e}"));
    assert_eq!(read.holder, *data.holder(), "{what}");
    assert_eq!(read.issuing, data.issuing_data(report.card_id), "{what}");
    assert_eq!(read.state, Some(AppState::Personalized));
    assert_eq!(read.genuine, Some(true));
    assert_eq!(read.card_id_mac_verified, Some(true));
    assert_eq!(read.terminal_number.as_deref(), Some(TERMINAL));
    let line = read.basic_line();
    println!("iReadCardBas: {line}");
    assert!(line.contains(&format!("|{TERMINAL}|")), "{line}");
    assert!(line.contains(&data.holder().ssn.to_string()), "{line}");

    // The bank outlet activates with its PSAM.
    lifecycle::activate(card, psam, &pin("123456"), &pin("258036"), today())
        .unwrap_or_else(|e| panic!("{what}: activate: {e}"));
    assert_eq!(card.select().unwrap().state, Some(AppState::Activated));

    // PIN: verify, change, wrong PINs until blocked, unblock with the PSAM.
    lifecycle::verify_pin(card, &pin("258036")).unwrap();
    lifecycle::change_pin(card, &pin("258036"), &pin("604917")).unwrap();
    lifecycle::verify_pin(card, &pin("604917")).unwrap();
    for tries_left in [2, 1] {
        assert!(
            matches!(
                lifecycle::verify_pin(card, &pin("258036")),
                Err(Error::WrongPin { tries_left: n }) if n == tries_left
            ),
            "{what}"
        );
    }
    let third = lifecycle::verify_pin(card, &pin("258036"));
    assert!(
        matches!(
            third,
            Err(Error::PinBlocked | Error::WrongPin { tries_left: 0 })
        ),
        "{what}: {third:?}"
    );
    assert!(matches!(
        lifecycle::verify_pin(card, &pin("604917")),
        Err(Error::PinBlocked)
    ));
    lifecycle::unblock_pin(card, psam).unwrap_or_else(|e| panic!("{what}: unblock PIN: {e}"));
    lifecycle::verify_pin(card, &pin("604917")).unwrap();

    // Temporary block: reads fail as blocked; unblock restores.
    lifecycle::block_application(card, psam, false).unwrap();
    assert!(matches!(
        lifecycle::read(card, Some(&mut *psam), &ReadOptions::default()),
        Err(Error::ApplicationBlocked)
    ));
    lifecycle::unblock_application(card, psam).unwrap();
    let again = lifecycle::read(card, Some(&mut *psam), &ReadOptions::default()).unwrap();
    assert_eq!(again.holder, *data.holder());

    // Permanent block: final.
    lifecycle::block_application(card, psam, true).unwrap();
    assert!(matches!(
        lifecycle::read(card, Some(&mut *psam), &ReadOptions::default()),
        Err(Error::PermanentlyBlocked)
    ));
    assert!(matches!(
        lifecycle::unblock_application(card, psam),
        Err(Error::PermanentlyBlocked)
    ));
    println!(
        "{what}: {} card APDUs, {} PSAM APDUs through pcscd",
        t.card.apdu_count(),
        t.psam.channel().apdu_count()
    );
    t.close();
}

/// 2. The card is pulled out at the `n`-th APDU of personalization, for several `n`.
fn removed_during_personalization(pcscd: &PrivatePcscd) -> Terminal<PullOut> {
    println!("== card removed during personalization");
    let countdown = Arc::new(AtomicU32::new(0));
    let arrived = Arc::new(AtomicBool::new(false));
    let pulled = Arc::new(AtomicBool::new(false));
    let sim = PullOut {
        card: blank_sim(Generation::V2, Algorithm::Sm4, [0x00, 0x5C, 0x20, 0x03]),
        countdown: Arc::clone(&countdown),
        arrived: Arc::clone(&arrived),
        pulled: Arc::clone(&pulled),
    };
    let mut t = terminal(pcscd, sim, Algorithm::Sm4);
    let data = person(Generation::V2);
    let mut keys = test_keys();

    // 6: an early EF05 record; 17: the last EF06 records; 23: the initial PIN.
    for n in [6, 17, 23] {
        arrived.store(false, Ordering::SeqCst);
        pulled.store(false, Ordering::SeqCst);
        countdown.store(n, Ordering::SeqCst);
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                wait_until("the fatal APDU", || arrived.load(Ordering::SeqCst));
                t.vcard.remove();
                pulled.store(true, Ordering::SeqCst);
            });
            lifecycle::personalize(
                &mut t.card,
                &mut keys,
                &data,
                &PersonalizeOptions::default(),
            )
        });
        let err = result.expect_err("personalization went on without the card");
        println!("pulled at APDU {n}: {err}");
        assert!(
            matches!(
                err,
                Error::Transport(TransportError::CardRemoved | TransportError::NoCard)
            ),
            "APDU {n}: {err:?}"
        );
        assert!(err.to_string().contains("removed") || err.to_string().contains("no card"));
        wait_absent(CARD_READER);
        assert!(matches!(
            lifecycle::read(&mut t.card, None, &ReadOptions::default()),
            Err(Error::Transport(TransportError::NoCard))
        ));

        // Back in: recognisably half-done, never readable as personalized.
        t.vcard.insert();
        t.card
            .channel_mut()
            .transport_mut()
            .wait_for_card(WAIT)
            .unwrap();
        let half = lifecycle::read(&mut t.card, Some(&mut keys), &ReadOptions::default());
        assert!(
            matches!(half, Err(Error::PersonalizationIncomplete)),
            "APDU {n}: {half:?}"
        );
        assert_eq!(
            t.card.select().unwrap().state,
            Some(AppState::Personalizing)
        );
    }

    // The rerun completes it; read back equals the input.
    let report = lifecycle::personalize(
        &mut t.card,
        &mut keys,
        &data,
        &PersonalizeOptions::default(),
    )
    .unwrap();
    assert!(report.completed_interrupted);
    let read = lifecycle::read(&mut t.card, Some(&mut t.psam), &ReadOptions::default()).unwrap();
    assert_eq!(read.holder, *data.holder());
    assert_eq!(read.issuing, data.issuing_data(report.card_id));
    assert_eq!(read.state, Some(AppState::Personalized));
    assert_eq!(read.genuine, Some(true));
    t
}

/// 3. pcscd restarts between two operations; the same `Card` and PSAM go on.
fn pcscd_restarted_between_operations(
    pcscd: &PrivatePcscd,
    mut t: Terminal<PullOut>,
) -> Terminal<PullOut> {
    println!("== pcscd restarted between two operations");
    let data = person(Generation::V2);
    lifecycle::read(&mut t.card, Some(&mut t.psam), &ReadOptions::default()).unwrap();
    let (card_connections, psam_connections) = (t.vcard.connections(), t.vpsam.connections());
    pcscd.restart();
    wait_until("both virtual cards back in the new pcscd", || {
        t.vcard.connections() > card_connections
            && t.vpsam.connections() > psam_connections
            && t.vcard.is_connected()
            && t.vpsam.is_connected()
    });
    wait_present(CARD_READER);
    wait_present(PSAM_READER);

    // The card's context died with pcscd: the library starts the operation over once.
    let read = lifecycle::read(&mut t.card, None, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("first read after the pcscd restart: {e}"));
    assert_eq!(read.holder, *data.holder());

    // The PSAM's transport is another context: its first use after the restart.
    let first = lifecycle::read(&mut t.card, Some(&mut t.psam), &ReadOptions::default());
    println!(
        "first read with the PSAM after the pcscd restart: {:?}",
        first.as_ref().map(|d| d.basic_line())
    );
    // the PSAM's transport error restarts the operation once, like the card's own
    let read = first.unwrap();
    assert_eq!(read.genuine, Some(true));
    assert_eq!(read.terminal_number.as_deref(), Some(TERMINAL));
    t
}

/// 4. Another PC/SC client holds the card exclusively.
fn card_held_exclusively(mut t: Terminal<PullOut>) -> Terminal<PullOut> {
    println!("== card held exclusively by another client");
    let data = person(Generation::V2);
    // Our connection lapses (card out and in again), another client grabs the card first.
    t.vcard.remove();
    wait_absent(CARD_READER);
    assert!(lifecycle::read(&mut t.card, None, &ReadOptions::default()).is_err());
    t.vcard.insert();
    wait_present(CARD_READER);

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

    let err = lifecycle::read(&mut t.card, None, &ReadOptions::default()).unwrap_err();
    println!("read while another client holds the card: {err}");
    assert!(
        matches!(err, Error::Transport(TransportError::SharingViolation)),
        "{err:?}"
    );
    assert!(err.to_string().contains("exclusive use by another program"));
    let err = PcscTransport::connect(CARD_READER, ShareMode::Shared).unwrap_err();
    assert_eq!(err, TransportError::SharingViolation);
    let listed = Pcsc::new()
        .select_reader(Some(&ReaderSelector::Exact(CARD_READER.into())))
        .unwrap();
    assert!(listed.exclusive);

    release_tx.send(()).unwrap();
    holder.join().unwrap();
    let read = lifecycle::read(&mut t.card, None, &ReadOptions::default()).unwrap();
    assert_eq!(read.holder, *data.holder());
    t
}

/// 5. `opensc-tool` lists the virtual reader and selects SSSE on our card.
fn opensc_sees_the_card(t: Terminal<PullOut>) {
    println!("== opensc-tool");
    let Ok(list) = Command::new("opensc-tool").arg("-l").output() else {
        println!("NOTICE: opensc-tool is not installed: skipping the OpenSC case");
        t.close();
        return;
    };
    let listing = String::from_utf8_lossy(&list.stdout);
    println!("opensc-tool -l:\n{listing}");
    let line = listing
        .lines()
        .find(|l| l.contains(CARD_READER))
        .unwrap_or_else(|| panic!("opensc-tool does not list {CARD_READER}"));
    let index = line.split_whitespace().next().unwrap();
    assert!(line.contains("Yes"), "no card according to OpenSC: {line}");
    let send = |apdu: &str| {
        let sent = Command::new("opensc-tool")
            .args(["-r", index, "-s", apdu])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&sent.stdout).into_owned();
        println!("opensc-tool -r {index} -s {apdu}:\n{out}");
        assert!(
            sent.status.success(),
            "{}",
            String::from_utf8_lossy(&sent.stderr)
        );
        out
    };
    // SELECT SSSE as the acceptance names it (case 3, no Le).
    let out = send("00A404000F7378312E73682EC9E7BBE1B1A3D5CF");
    assert!(out.contains("SW1=0x90, SW2=0x00"), "{out}");
    // With Le: the default simulated card's ATR offers T=1, so OpenSC sends the Le and the
    // card answers its FCI, which names the application: 84 0F "sx1.sh.社会保障".
    let out = send("00A404000F7378312E73682EC9E7BBE1B1A3D5CF00");
    assert!(out.contains("SW1=0x90, SW2=0x00"), "{out}");
    assert!(out.contains("84 0F 73 78 31 2E 73 68 2E"), "no FCI: {out}");
    // OpenSC resets the card when it leaves: our card starts over once and goes on.
    let mut t = t;
    lifecycle::read(&mut t.card, None, &ReadOptions::default()).unwrap();
    t.close();
}
