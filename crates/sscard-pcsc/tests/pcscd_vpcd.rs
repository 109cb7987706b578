//! End-to-end tests through a real pcscd: a PRIVATE pcscd (scripts/pcscd-private.sh, own
//! socket folder and reader ports) with virtual cards plugged into its two vpcd readers.
//!
//! First the transport itself, with an echo card: listing and choosing readers, round trips
//! and their latency, transactions, a reset by another program, exclusive use, the card pulled
//! out mid-command, a pcscd restart, OpenSC talking to the same reader.
//!
//! Then the national specification's protocol, with sscard's simulated card and PSAM:
//! - T=0 through pcscd (part 2 §9.3): pcscd and the vpcd driver hand the card's procedure bytes
//!   (`61xx`, `6Cxx`) to the application unchanged; `sscard_core::channel::Channel` completes
//!   them with GET RESPONSE and the Le correction; a T=1 card answers at once;
//! - the PSAM in the second reader as key holder (part 9): its terminal number and algorithm,
//!   and the authentication data and MACs it computes equal the key file's for the same card;
//! - `opensc-tool` (OpenSC) reading the FCI of the card's SSSE (part 5 table 36) and of the
//!   PSAM's social security application.
//!
//! All sub-cases run in ONE test function, sequentially, against one pcscd (the private pcscd
//! of `scripts/test.sh`, or an own one stopped at the end). The test passes with a printed
//! notice when pcscd, the vpcd driver or root privileges are missing; `scripts/test.sh`
//! installs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sscard_core::apdu::{commands, RecordRef, StatusWord};
use sscard_core::channel::Channel;
use sscard_core::data::{CardIdentificationCode, RegionCode};
use sscard_core::keyholder::{CardContext, KeyFile, KeyHolder, PsamKeyHolder};
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::profile::{self, Generation, PSAM_AID, SSSE_AID};
use sscard_core::Algorithm;
use sscard_pcsc::testing::{self, PrivatePcscd};
use sscard_pcsc::{
    Disposition, OpenOptions, Pcsc, PcscTransport, ReaderSelector, ShareMode, Transport,
    TransportError,
};
use sscard_sim::vpcd::{EchoCard, VpcdCard};
use sscard_sim::VirtualCard;
use sscard_sim::{CardSpec, PsamSpec, SimCard, SimPsam};

const READER0: &str = "Virtual PCD 00 00";
const READER1: &str = "Virtual PCD 00 01";
const WAIT: Duration = Duration::from_secs(10);
const KEYS: &str = include_str!("../../../fixtures/keys/test-keys.json");
const TERMINAL: &str = "410100813475";

/// An echo card that takes its time over commands with INS `EE`, and can be told to.
struct SlowEcho {
    echo: EchoCard,
    slow: Duration,
    entered: Arc<AtomicBool>,
}

impl VirtualCard for SlowEcho {
    fn atr(&self) -> Vec<u8> {
        self.echo.atr()
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.get(1) == Some(&0xEE) {
            self.entered.store(true, Ordering::SeqCst);
            std::thread::sleep(self.slow);
        }
        self.echo.handle(apdu)
    }
    fn reset(&mut self) {
        self.echo.reset()
    }
}

fn wait_until(what: &str, done: impl FnMut() -> bool) {
    testing::wait_until(what, WAIT, done);
}

fn card_present(pcsc: &mut Pcsc, reader: &str) -> bool {
    pcsc.list_readers()
        .map(|rs| rs.iter().any(|r| r.name == reader && r.card_present))
        .unwrap_or(false)
}

fn echo(cmd: &[u8]) -> Vec<u8> {
    let mut v = cmd.to_vec();
    v.extend_from_slice(&[0x90, 0x00]);
    v
}

#[test]
fn pcsc_transport_through_a_private_pcscd() {
    // the private pcscd scripts/test.sh runs, or an own one on free ports
    let Some(pcscd) = PrivatePcscd::acquire("pcsc_transport_through_a_private_pcscd", 36100..36400)
    else {
        return;
    };

    let entered = Arc::new(AtomicBool::new(false));
    let card = VpcdCard::spawn(
        pcscd.addr(0),
        SlowEcho {
            echo: EchoCard::new(),
            slow: Duration::from_millis(600),
            entered: Arc::clone(&entered),
        },
    )
    .unwrap();

    listing(&mut Pcsc::establish().unwrap());
    round_trip_and_latency();
    transactions();
    reset_by_another_program();
    exclusive_use();
    card_removed(&card, &entered);
    pcscd_restart(&pcscd, &card);
    opensc_tool(&pcscd);
    drop(card);
    wait_until("the echo card to be out", || {
        !card_present(&mut Pcsc::new(), READER0)
    });

    // The specification's protocol: the simulated card and PSAM in the two readers.
    for algorithm in [Algorithm::Sm4, Algorithm::Tdes] {
        t0_through_pcscd(&pcscd, algorithm);
    }
    t1_through_pcscd(&pcscd);
    psam_through_pcscd(&pcscd);

    if pcscd.owned() {
        pcscd.stop();
    }
}

fn listing(pcsc: &mut Pcsc) {
    let found = pcsc
        .wait_for_card(Some(&ReaderSelector::Exact(READER0.into())), WAIT)
        .unwrap();
    assert_eq!(found.atr.as_deref(), Some(&EchoCard::DEFAULT_ATR[..]));
    let readers = pcsc.list_readers().unwrap();
    println!("readers: {readers:#?}");
    assert_eq!(readers.len(), 2);
    assert_eq!((readers[0].index, readers[0].name.as_str()), (0, READER0));
    assert!(readers[0].card_present);
    assert_eq!(readers[1].name, READER1);
    assert!(!readers[1].card_present);
    assert_eq!(readers[1].atr, None);
    // Choosing: by index, fragment, and the default (the reader holding a card).
    assert_eq!(pcsc.select_reader(None).unwrap().name, READER0);
    let by_index = pcsc.select_reader(Some(&ReaderSelector::Index(1))).unwrap();
    assert_eq!(by_index.name, READER1);
    let by_fragment = ReaderSelector::parse("pcd 00 01");
    assert_eq!(
        pcsc.select_reader(Some(&by_fragment)).unwrap().name,
        READER1
    );
    std::env::set_var("SSCARD_READER", "1");
    assert_eq!(pcsc.select_reader(None).unwrap().name, READER1);
    std::env::remove_var("SSCARD_READER");
    // Waiting on the empty reader times out.
    let t = Instant::now();
    let err = pcsc
        .wait_for_card(
            Some(&ReaderSelector::Exact(READER1.into())),
            Duration::from_millis(300),
        )
        .unwrap_err();
    assert!(matches!(err, TransportError::NoCardInserted(_)), "{err:?}");
    assert!(t.elapsed() >= Duration::from_millis(250));
    // Opening without a card in the chosen reader says so.
    let empty = OpenOptions {
        reader: Some(ReaderSelector::Index(1)),
        ..OpenOptions::default()
    };
    assert_eq!(
        PcscTransport::open(&empty).unwrap_err(),
        TransportError::NoCard
    );
    let unknown = OpenOptions {
        reader: Some(ReaderSelector::parse("no such reader")),
        ..OpenOptions::default()
    };
    assert!(matches!(
        PcscTransport::open(&unknown).unwrap_err(),
        TransportError::ReaderNotFound(_)
    ));
}

fn open_default() -> PcscTransport {
    PcscTransport::open(&OpenOptions {
        wait: Some(WAIT),
        ..OpenOptions::default()
    })
    .unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn round_trip_and_latency() {
    let mut t = open_default();
    assert_eq!(t.reader_name(), READER0);
    assert_eq!(t.atr().unwrap(), EchoCard::DEFAULT_ATR.to_vec());
    let select = [
        0x00, 0xA4, 0x04, 0x00, 0x06, 0xD1, 0x56, 0x00, 0x00, 0x05, 0x90,
    ];
    assert_eq!(t.transmit(&select).unwrap(), echo(&select));
    // A long extended-length command: the response (> 258 bytes) needs the big buffer.
    let mut long = vec![0x80, 0xDC, 0x01, 0x04, 0x00, 0x01, 0x2C];
    long.extend((0..300u16).map(|i| i as u8));
    assert_eq!(t.transmit(&long).unwrap(), echo(&long));
    let epoch = t.reset_epoch();

    // Latency: bare pcsc crate vs PcscTransport, same reader, same APDU.
    let apdu = [0x00, 0xB2, 0x01, 0x2C, 0x00];
    let n = 500;
    let mut ours = Vec::with_capacity(n);
    for _ in 0..n {
        let s = Instant::now();
        t.transmit(&apdu).unwrap();
        ours.push(s.elapsed());
    }
    drop(t);
    let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
    let name = std::ffi::CString::new(READER0).unwrap();
    let card = ctx
        .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .unwrap();
    let mut buf = vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let mut bare = Vec::with_capacity(n);
    for _ in 0..n {
        let s = Instant::now();
        card.transmit(&apdu, &mut buf).unwrap();
        bare.push(s.elapsed());
    }
    let (ours, bare) = (median(ours), median(bare));
    println!("median APDU round trip ({n} APDUs): bare pcsc {bare:?}, PcscTransport {ours:?}");
    // Delayed ACKs would cost ~40 ms per APDU: the vpcd card must acknowledge at once.
    assert!(ours < Duration::from_millis(10), "slow round trip {ours:?}");
    assert_eq!(epoch, 0);
}

fn transactions() {
    let mut a = open_default();
    let mut b = open_default();
    a.begin_transaction().unwrap();
    assert!(a.in_transaction());
    assert_eq!(
        a.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap().len(),
        7
    );
    // b's transaction must wait until a ends its own.
    let started = Instant::now();
    let waiter = std::thread::spawn(move || {
        b.begin_transaction().unwrap();
        let waited = started.elapsed();
        b.transmit(&[0x00, 0x01]).unwrap();
        b.end_transaction().unwrap();
        // Dropping would reset the card (and a would see CardReset): leave it alone.
        b.disconnect(Disposition::Leave).unwrap();
        waited
    });
    std::thread::sleep(Duration::from_millis(300));
    a.transmit(&[0x00, 0x02]).unwrap();
    a.end_transaction().unwrap();
    assert!(!a.in_transaction());
    let waited = waiter.join().unwrap();
    assert!(
        waited >= Duration::from_millis(250),
        "b got the card after {waited:?}, inside a's transaction"
    );
    // The connection still works after the transaction, the card was left alone.
    assert_eq!(a.transmit(&[0x00, 0x03]).unwrap(), echo(&[0x00, 0x03]));
    assert_eq!(a.reset_epoch(), 0);
    a.end_transaction().unwrap(); // no transaction open: nothing to do
                                  // Transactions begin and end on the one connection: none is ever re-opened for them.
    for i in 0..5u8 {
        a.begin_transaction().unwrap();
        assert_eq!(a.transmit(&[0x00, i]).unwrap(), echo(&[0x00, i]));
        a.end_transaction().unwrap();
    }
    assert_eq!(a.connections(), 1, "a transaction's end reconnected");
    assert_eq!(a.reset_epoch(), 0);
}

fn reset_by_another_program() {
    let mut a = open_default();
    a.transmit(&[0x00, 0x01]).unwrap();
    let before = a.reset_epoch();
    let mut other = open_default();
    other.reset_card(false).unwrap();
    assert_eq!(a.transmit(&[0x00, 0x02]), Err(TransportError::CardReset));
    assert_ne!(a.reset_epoch(), before, "a reset must change the epoch");
    assert_eq!(a.transmit(&[0x00, 0x03]).unwrap(), echo(&[0x00, 0x03]));
    // Our own reset changes the epoch too.
    let before = a.reset_epoch();
    a.reset_card(false).unwrap();
    assert_ne!(a.reset_epoch(), before);
}

fn exclusive_use() {
    let mut holder = PcscTransport::connect(READER0, ShareMode::Exclusive).unwrap();
    assert_eq!(
        PcscTransport::connect(READER0, ShareMode::Shared).unwrap_err(),
        TransportError::SharingViolation
    );
    let listed = Pcsc::new().list_readers().unwrap();
    assert!(listed[0].exclusive);
    // Exclusive connections still do transactions (implicitly).
    holder.begin_transaction().unwrap();
    holder.transmit(&[0x00, 0x01]).unwrap();
    holder.end_transaction().unwrap();
    drop(holder);
    PcscTransport::connect(READER0, ShareMode::Shared).unwrap();
}

fn card_removed<C: VirtualCard + Send + 'static>(card: &VpcdCard<C>, entered: &AtomicBool) {
    let mut t = open_default();
    let epoch = t.reset_epoch();
    t.transmit(&[0x00, 0x01]).unwrap();
    // Pull the card out while it is working on a (slow) command.
    entered.store(false, Ordering::SeqCst);
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            wait_until("the slow command", || entered.load(Ordering::SeqCst));
            card.remove();
        });
        t.transmit(&[0x00, 0xEE, 0x00, 0x00])
    });
    assert_eq!(result, Err(TransportError::CardRemoved));
    assert_ne!(t.reset_epoch(), epoch);
    let mut pcsc = Pcsc::new();
    wait_until("the card to be out", || !card_present(&mut pcsc, READER0));
    assert_eq!(t.transmit(&[0x00, 0x01]), Err(TransportError::NoCard));
    // Reinserted while we wait: the same transport connects again.
    let waited = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            card.insert();
        });
        let start = Instant::now();
        t.wait_for_card(WAIT).unwrap();
        start.elapsed()
    });
    println!("waited {waited:?} for the card to come back");
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert_eq!(t.transmit(&[0x00, 0x04]).unwrap(), echo(&[0x00, 0x04]));
}

fn pcscd_restart<C: VirtualCard + Send + 'static>(pcscd: &PrivatePcscd, card: &VpcdCard<C>) {
    let mut t = open_default();
    t.transmit(&[0x00, 0x01]).unwrap();
    let epoch = t.reset_epoch();
    let connections = card.connections();
    pcscd.stop();
    pcscd.start();
    wait_until("the card back in the new pcscd", || {
        card.connections() > connections && card.is_connected()
    });
    // The old context is dead: one clear error, then the transport re-establishes it.
    let first = t.transmit(&[0x00, 0x02]);
    println!("first transmit after the pcscd restart: {first:?}");
    assert!(
        matches!(
            first,
            Err(TransportError::NoService | TransportError::CardRemoved)
        ),
        "{first:?}"
    );
    t.wait_for_card(WAIT).unwrap();
    assert_eq!(t.transmit(&[0x00, 0x03]).unwrap(), echo(&[0x00, 0x03]));
    assert_ne!(t.reset_epoch(), epoch);
}

fn opensc_tool(pcscd: &PrivatePcscd) {
    let Ok(list) = Command::new("opensc-tool").arg("-l").output() else {
        println!("NOTICE: opensc-tool is not installed: skipping the OpenSC interoperability case");
        return;
    };
    let _ = pcscd;
    let listing = String::from_utf8_lossy(&list.stdout);
    println!("opensc-tool -l:\n{listing}");
    let line = listing
        .lines()
        .find(|l| l.contains(READER0))
        .unwrap_or_else(|| panic!("opensc-tool does not list {READER0}"));
    let index = line.split_whitespace().next().unwrap();
    assert!(
        line.contains("Yes"),
        "no card according to opensc-tool: {line}"
    );
    let sent = Command::new("opensc-tool")
        .args(["-r", index, "-s", "00A4040006D15600000590"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&sent.stdout);
    println!("opensc-tool -r {index} -s ...:\n{out}");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(out.contains("SW1=0x90, SW2=0x00"), "{out}");
    assert!(
        out.contains("D1 56 00 00 05 90"),
        "echoed data missing: {out}"
    );
}

fn roots() -> RootKeys {
    RootKeys::from_json(KEYS).unwrap()
}

fn card_spec(algorithm: Algorithm) -> CardSpec {
    CardSpec::new(
        Generation::V2,
        algorithm,
        RegionCode::parse("639900").unwrap(),
        [0x00, 0x5C, 0x00, 0x01],
    )
}

/// Serves `card` in virtual reader `slot` and waits until pcscd shows its ATR there.
fn insert<C: VirtualCard + Send + 'static>(
    pcscd: &PrivatePcscd,
    slot: u16,
    card: C,
) -> VpcdCard<C> {
    let (atr, reader) = (card.atr(), if slot == 0 { READER0 } else { READER1 });
    let served = VpcdCard::spawn(pcscd.addr(slot), card).unwrap();
    wait_until(&format!("the card in {reader}"), || {
        Pcsc::new()
            .list_readers()
            .map(|rs| {
                rs.iter()
                    .any(|r| r.name == reader && r.atr.as_deref() == Some(&atr[..]))
            })
            .unwrap_or(false)
    });
    served
}

/// Takes a served card out and waits until pcscd saw it go.
fn take_out<C: VirtualCard + Send + 'static>(card: VpcdCard<C>, reader: &str) -> Option<C> {
    let card = card.stop();
    wait_until(&format!("{reader} to be empty"), || {
        !card_present(&mut Pcsc::new(), reader)
    });
    card
}

/// The simulated card's T=0 procedure bytes through pcscd, raw and through the channel.
fn t0_through_pcscd(pcscd: &PrivatePcscd, algorithm: Algorithm) {
    println!("== T=0 through pcscd ({algorithm})");
    let spec = card_spec(algorithm);
    let card = insert(pcscd, 0, SimCard::blank(spec.clone(), &roots()).unwrap());
    let mut raw = PcscTransport::connect(READER0, ShareMode::Shared).unwrap();
    // the basic T=0 ATR of part 2 table 7, 13 historical bytes
    let atr = raw.atr().unwrap();
    assert_eq!(atr, spec.atr());
    assert_eq!(atr[..2], [0x3B, 0x6D]);

    // SELECT SSSE with Le (case 4): a T=0 card answers 61xx, pcscd passes it on (part 2
    // §9.3.2.2); GET RESPONSE fetches the FCI (part 5 table 36).
    let select = commands::select_aid(&SSSE_AID).to_bytes().unwrap().to_vec();
    let first = raw.transmit(&select).unwrap();
    assert_eq!(first.len(), 2, "{first:02X?}");
    assert_eq!(first[0], 0x61, "{first:02X?}");
    let fci = raw.transmit(&[0x00, 0xC0, 0x00, 0x00, first[1]]).unwrap();
    assert_eq!(fci.len(), usize::from(first[1]) + 2);
    assert_eq!(fci[fci.len() - 2..], [0x90, 0x00]);
    let mut names_ssse = vec![0x84, 0x0F];
    names_ssse.extend_from_slice(&SSSE_AID);
    assert!(fci.windows(17).any(|w| w == names_ssse), "{fci:02X?}");
    let algorithm_byte = [0x9F, 0x0C, 0x03, 0x86, 0x01, algorithm.to_byte()];
    assert!(fci.windows(6).any(|w| w == algorithm_byte), "{fci:02X?}");

    // READ RECORD of the card identification code with Le = 00: 6C12 (part 5 §6.10.4, [design]
    // D16), then the record with the right Le.
    let read = |le| {
        commands::read_record(Some(0x05), RecordRef::Tag(profile::tag::CARD_ID), le)
            .to_bytes()
            .unwrap()
            .to_vec()
    };
    assert_eq!(raw.transmit(&read(256)).unwrap(), [0x6C, 0x12]);
    let record = raw.transmit(&read(0x12)).unwrap();
    let mut expected = vec![0x01, 0x10];
    expected.extend_from_slice(&spec.card_id());
    expected.extend_from_slice(&[0x90, 0x00]);
    assert_eq!(record, expected);
    drop(raw);

    // The library's channel completes both itself: one response, the physical APDUs counted.
    let mut channel = Channel::new(PcscTransport::connect(READER0, ShareMode::Shared).unwrap());
    let response = channel.send(&commands::select_aid(&SSSE_AID)).unwrap();
    assert_eq!(response.sw(), StatusWord::Ok);
    assert_eq!(response.data(), &fci[..fci.len() - 2]);
    assert_eq!(channel.apdu_count(), 2, "SELECT + GET RESPONSE");
    let wrong_le = commands::read_record(Some(0x05), RecordRef::Tag(profile::tag::CARD_ID), 256);
    let response = channel.send(&wrong_le).unwrap();
    assert_eq!(response.data(), &expected[..expected.len() - 2]);
    assert_eq!(
        channel.apdu_count(),
        4,
        "READ RECORD + the same with Le = 12"
    );
    // An unknown record: the status word, no data (6A83, part 5 table 5).
    let absent = commands::read_record(Some(0x05), RecordRef::Tag(profile::tag::CARD_NUMBER), 11);
    assert_eq!(
        channel.send(&absent).unwrap().sw(),
        StatusWord::RecordNotFound
    );
    drop(channel);
    take_out(card, READER0);
}

/// The same card announcing T=1: the FCI comes at once, with 9000.
fn t1_through_pcscd(pcscd: &PrivatePcscd) {
    println!("== T=1 through pcscd");
    let spec = card_spec(Algorithm::Sm4).with_t1();
    let card = insert(pcscd, 0, SimCard::blank(spec.clone(), &roots()).unwrap());
    let mut channel = Channel::new(PcscTransport::connect(READER0, ShareMode::Shared).unwrap());
    assert_eq!(channel.atr().unwrap(), spec.atr());
    let response = channel.send(&commands::select_aid(&SSSE_AID)).unwrap();
    assert_eq!(response.sw(), StatusWord::Ok);
    assert_eq!(response.data().get(..2), Some(&[0x6F, 0x19][..]));
    assert_eq!(channel.apdu_count(), 1, "no GET RESPONSE on T=1");
    drop(channel);
    take_out(card, READER0);
}

/// The PSAM in the second reader: what it computes for a card equals the key file's.
fn psam_through_pcscd(pcscd: &PrivatePcscd) {
    for algorithm in [Algorithm::Sm4, Algorithm::Tdes] {
        println!("== PSAM through pcscd ({algorithm})");
        let psam = SimPsam::from_root_keys(&roots(), &PsamSpec::new(algorithm, TERMINAL)).unwrap();
        let served = insert(pcscd, 1, psam);
        let mut psam =
            PsamKeyHolder::open(PcscTransport::connect(READER1, ShareMode::Shared).unwrap())
                .unwrap();
        assert_eq!(psam.algorithm(), algorithm);
        assert_eq!(psam.terminal_number().unwrap().as_deref(), Some(TERMINAL));
        let mut keys = KeyFile::from_json(KEYS).unwrap();
        let spec = card_spec(algorithm);
        let card = CardContext {
            algorithm,
            atr: spec.atr(),
            card_id: CardIdentificationCode::from_bytes(&spec.card_id()).unwrap(),
        };
        let opened = psam.channel().apdu_count();
        for (i, role) in KeyRole::SSSE.into_iter().enumerate() {
            let factor = [i as u8; 8];
            let original = [0xA5 ^ i as u8; 8];
            let by_psam = psam.authenticate(&card, role, &factor, &original);
            let by_file = keys.authenticate(&card, role, &factor, &original).unwrap();
            assert_eq!(by_psam.unwrap(), by_file, "{algorithm} {role}");
        }
        // Secure messaging of a PIN reload (part 4 §8.2-8.3, [design] D9): the same bytes.
        let challenge = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
        let header = [0x84, 0x24, 0x00, 0x01];
        let pin = sscard_core::crypto::Pin::new("246801").unwrap();
        let by_psam = psam
            .secure_message(&card, KeyRole::Stkssse, &challenge, header, Some(&pin))
            .unwrap();
        let by_file = keys
            .secure_message(&card, KeyRole::Stkssse, &challenge, header, Some(&pin))
            .unwrap();
        assert_eq!(*by_psam.enciphered, *by_file.enciphered);
        assert_eq!(by_psam.mac, by_file.mac);
        println!(
            "{algorithm}: {} PSAM APDUs for the key roles' authentication data and one secure message",
            psam.channel().apdu_count() - opened
        );
        drop(psam);
        // OpenSC reads the PSAM application's FCI: the algorithm of [design] D18.
        opensc_select(
            READER1,
            &PSAM_AID,
            &[0x9F, 0x0C, 0x03, 0x86, 0x01, algorithm.to_byte()],
        );
        take_out(served, READER1);
    }
    // and the card's SSSE FCI
    let card = insert(
        pcscd,
        0,
        SimCard::blank(card_spec(Algorithm::Tdes), &roots()).unwrap(),
    );
    let mut fci_start = vec![0x84, 0x0F];
    fci_start.extend_from_slice(&SSSE_AID);
    opensc_select(READER0, &SSSE_AID, &fci_start);
    take_out(card, READER0);
}

/// `opensc-tool --send-apdu` SELECT by name with Le on `reader`: OpenSC completes T=0 itself;
/// the answer must succeed and contain `expect`.
fn opensc_select(reader: &str, name: &[u8], expect: &[u8]) {
    let mut apdu = vec![0x00, 0xA4, 0x04, 0x00, name.len() as u8];
    apdu.extend_from_slice(name);
    apdu.push(0x00);
    let Ok(out) = Command::new("opensc-tool")
        .args(["--reader", reader, "--send-apdu", &hex::encode_upper(&apdu)])
        .output()
    else {
        println!("NOTICE: opensc-tool is not installed: skipping the OpenSC FCI case");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    println!(
        "opensc-tool --send-apdu {}:\n{text}",
        hex::encode_upper(&apdu)
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("SW1=0x90, SW2=0x00"), "{text}");
    let spaced = expect
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ");
    // OpenSC prints 16 bytes a line: compare without the line structure
    let bytes: String = text
        .lines()
        .skip_while(|l| !l.starts_with("Received"))
        .skip(1)
        .map(|l| l.get(..48).unwrap_or(l).trim().to_owned())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(bytes.contains(&spaced), "{spaced} not in {bytes}");
}
