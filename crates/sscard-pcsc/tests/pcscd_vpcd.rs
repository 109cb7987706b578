//! End-to-end tests through a real pcscd: a PRIVATE pcscd (scripts/pcscd-private.sh, own
//! socket folder and reader ports) with a virtual echo card plugged into its vpcd reader.
//!
//! All sub-cases run in ONE test function, sequentially, against one pcscd that is stopped at
//! the end even when a case fails (a drop guard). The test passes with a printed notice when
//! pcscd, the vpcd driver or root privileges are missing; `scripts/test.sh` installs them.
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

use sscard_pcsc::testing::{self, PrivatePcscd};
use sscard_pcsc::{
    Disposition, OpenOptions, Pcsc, PcscTransport, ReaderSelector, ShareMode, Transport,
    TransportError,
};
use sscard_sim::vpcd::{EchoCard, VirtualCard, VpcdCard};

const READER0: &str = "Virtual PCD 00 00";
const READER1: &str = "Virtual PCD 00 01";
const WAIT: Duration = Duration::from_secs(10);

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
    assert_eq!(err, TransportError::Timeout);
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
