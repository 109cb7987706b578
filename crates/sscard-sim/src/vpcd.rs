//! A virtual card for a real pcscd: the client side of the vsmartcard `vpcd` protocol.
//!
//! It serves any [`VirtualCard`] (`SimCard`, `SimPsam`, [`EchoCard`]), as the in-process
//! [`crate::SimTransport`] does.
//!
//! # The protocol
//!
//! The `vsmartcard-vpcd` driver loaded by pcscd gives it virtual readers, each listening on a TCP
//! port (35963 and 35964 on a stock Debian install). A virtual card connects to that port:
//! connecting is inserting the card, closing the connection is removing it. Frames go both ways as
//! a 2-byte big-endian length followed by the payload. From the driver, a 1-byte payload is a
//! control code: `00` power off, `01` power on, `02` reset (no reply to these three), `04` get ATR
//! (reply: the framed ATR). A longer payload is a command APDU; the reply is the framed response
//! APDU.
//!
//! # Latency
//!
//! The driver writes each frame's length and body separately. A card that lets the kernel delay
//! its ACKs makes every APDU wait for the delayed-ACK timer (~40 ms). This client therefore sets
//! `TCP_NODELAY`, re-arms `TCP_QUICKACK` (Linux) after every read and writes each frame with one
//! `write` call, which brings a round trip through pcscd down to a fraction of a millisecond.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::virtual_card::VirtualCard;

/// Port of the first virtual reader of a stock `vsmartcard-vpcd` install (the second is +1).
pub const DEFAULT_VPCD_PORT: u16 = 35963;

/// Environment variable naming the first virtual reader's port (see `scripts/pcscd-private.sh`).
pub const VPCD_PORT_ENV: &str = "SSCARD_VPCD_PORT";

/// How often a blocked read wakes up to look at the stop flag.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A trivial test card: answers every command APDU with the APDU itself followed by `90 00`.
///
/// Useful to check a transport end to end (the answer proves which bytes arrived) and to measure
/// the round-trip time of the PC/SC stack without any card logic in the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoCard {
    atr: Vec<u8>,
    resets: u64,
    commands: u64,
}

impl EchoCard {
    /// The ATR [`EchoCard::new`] uses: T=1, historical bytes "sscard-echo".
    pub const DEFAULT_ATR: [u8; 15] = [
        0x3B, 0x8B, 0x80, 0x01, b's', b's', b'c', b'a', b'r', b'd', b'-', b'e', b'c', b'h', b'o',
    ];

    /// An echo card with [`EchoCard::DEFAULT_ATR`].
    pub fn new() -> EchoCard {
        EchoCard::with_atr(EchoCard::DEFAULT_ATR.to_vec())
    }

    /// An echo card with the given ATR.
    pub fn with_atr(atr: Vec<u8>) -> EchoCard {
        EchoCard {
            atr,
            resets: 0,
            commands: 0,
        }
    }

    /// How many resets (power on, power off, warm reset) the card has seen.
    pub fn resets(&self) -> u64 {
        self.resets
    }

    /// How many command APDUs the card has answered.
    pub fn commands(&self) -> u64 {
        self.commands
    }
}

impl Default for EchoCard {
    fn default() -> Self {
        EchoCard::new()
    }
}

impl VirtualCard for EchoCard {
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }

    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.commands += 1;
        let mut response = Vec::with_capacity(apdu.len() + 2);
        response.extend_from_slice(apdu);
        response.extend_from_slice(&[0x90, 0x00]);
        response
    }

    fn reset(&mut self) {
        self.resets += 1;
    }
}

/// The address of the `reader`-th virtual reader (0 or 1) of the local pcscd: port
/// `$SSCARD_VPCD_PORT` (default [`DEFAULT_VPCD_PORT`]) plus `reader`.
pub fn local_reader_addr(reader: u16) -> String {
    let base = std::env::var(VPCD_PORT_ENV)
        .ok()
        .and_then(|p| p.trim().parse::<u16>().ok())
        .unwrap_or(DEFAULT_VPCD_PORT);
    format!("127.0.0.1:{}", base.saturating_add(reader))
}

/// Inserts `card` into the virtual reader listening at `addr` and serves it until the driver
/// closes the connection (card removed, pcscd stopped) or `stop` becomes true.
///
/// Returns `Ok(())` on an orderly end (driver closed, stop requested); errors are connection
/// failures. Connecting fails at once when no driver listens at `addr`.
pub fn serve<A, C>(addr: A, card: &mut C, stop: &AtomicBool) -> io::Result<()>
where
    A: ToSocketAddrs,
    C: VirtualCard + ?Sized,
{
    let stream = TcpStream::connect(addr)?;
    serve_stream(stream, card, stop)
}

/// Like [`serve`], on an already connected stream.
pub fn serve_stream<C: VirtualCard + ?Sized>(
    mut stream: TcpStream,
    card: &mut C,
    stop: &AtomicBool,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(POLL_INTERVAL))?;
    quickack(&stream);
    let mut header = [0u8; 2];
    let mut payload = Vec::new();
    loop {
        if !read_full(&mut stream, &mut header, stop)? {
            return Ok(());
        }
        let len = usize::from(u16::from_be_bytes(header));
        payload.clear();
        payload.resize(len, 0);
        if !read_full(&mut stream, &mut payload, stop)? {
            return Ok(());
        }
        match payload.as_slice() {
            [] => {}
            [0x00] | [0x01] | [0x02] => card.reset(),
            [0x04] => write_frame(&mut stream, &card.atr())?,
            [_] => {} // unknown control code: the driver expects no answer
            apdu => {
                let response = card.handle(apdu);
                write_frame(&mut stream, &response)?;
            }
        }
    }
}

/// Fills `buf` completely. `Ok(false)`: the peer closed the connection or `stop` was set.
fn read_full(stream: &mut TcpStream, buf: &mut [u8], stop: &AtomicBool) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        if stop.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let rest = buf.get_mut(filled..).unwrap_or_default();
        match stream.read(rest) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                filled += n;
                quickack(stream);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::BrokenPipe
                ) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Writes one frame (length ‖ payload) with a single write call.
fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len()).map_err(|_| {
        io::Error::new(
            ErrorKind::InvalidData,
            format!("vpcd frame too long: {} bytes", payload.len()),
        )
    })?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

/// Re-arms TCP_QUICKACK (the kernel clears it on its own): ACK at once, never delayed.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn quickack(stream: &TcpStream) {
    // Best effort: a failure only costs latency.
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn quickack(_stream: &TcpStream) {}

/// Shared between a [`VpcdCard`] handle and its thread.
#[derive(Debug)]
struct Slot {
    /// The user wants the card in the reader.
    inserted: bool,
    /// A handle on the live connection, to close it from outside.
    stream: Option<TcpStream>,
}

#[derive(Debug)]
struct Shared {
    slot: Mutex<Slot>,
    stop: AtomicBool,
    connections: AtomicU64,
    connected: AtomicBool,
}

impl Shared {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A virtual card served in a background thread, with a hand to remove and reinsert it.
///
/// While inserted, the thread keeps (re)connecting to the virtual reader: when pcscd restarts,
/// the card is back in the new pcscd's reader as soon as its driver listens again.
#[derive(Debug)]
pub struct VpcdCard<C: VirtualCard + Send + 'static> {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<C>>,
}

impl<C: VirtualCard + Send + 'static> VpcdCard<C> {
    /// Inserts `card` into the virtual reader at `addr` (e.g. [`local_reader_addr`]`(0)`) and
    /// serves it from a new thread.
    pub fn spawn(addr: impl Into<String>, card: C) -> io::Result<VpcdCard<C>> {
        let addr = addr.into();
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot {
                inserted: true,
                stream: None,
            }),
            stop: AtomicBool::new(false),
            connections: AtomicU64::new(0),
            connected: AtomicBool::new(false),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sscard-vpcd".into())
            .spawn(move || run(&addr, card, &thread_shared))?;
        Ok(VpcdCard {
            shared,
            thread: Some(thread),
        })
    }

    /// Removes the card: closes the connection, and stays out until [`VpcdCard::insert`].
    pub fn remove(&self) {
        let mut slot = self.shared.slot();
        slot.inserted = false;
        if let Some(stream) = slot.stream.take() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Inserts the card again (connects as soon as the reader listens).
    pub fn insert(&self) {
        self.shared.slot().inserted = true;
    }

    /// Whether the card is connected to the reader right now.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }

    /// How many times the card has connected to the reader so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Removes the card, stops the thread and returns the card (`None` if the thread panicked).
    pub fn stop(mut self) -> Option<C> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Option<C> {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.remove();
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl<C: VirtualCard + Send + 'static> Drop for VpcdCard<C> {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// The thread of a [`VpcdCard`]: connect while inserted, serve, repeat until stopped.
fn run<C: VirtualCard>(addr: &str, mut card: C, shared: &Shared) -> C {
    while !shared.stop.load(Ordering::SeqCst) {
        if !shared.slot().inserted {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let Ok(stream) = TcpStream::connect(addr) else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        {
            let mut slot = shared.slot();
            if !slot.inserted || shared.stop.load(Ordering::SeqCst) {
                continue; // removed while connecting: dropping the stream closes it
            }
            slot.stream = stream.try_clone().ok();
        }
        shared.connections.fetch_add(1, Ordering::SeqCst);
        shared.connected.store(true, Ordering::SeqCst);
        // A fresh insertion starts from power-up state.
        card.reset();
        let _ = serve_stream(stream, &mut card, &shared.stop);
        shared.connected.store(false, Ordering::SeqCst);
        shared.slot().stream = None;
    }
    card
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        f
    }

    fn read_frame(s: &mut TcpStream) -> Vec<u8> {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).unwrap();
        let mut p = vec![0u8; usize::from(u16::from_be_bytes(h))];
        s.read_exact(&mut p).unwrap();
        p
    }

    /// Plays the driver's side against `serve` over a local socket.
    #[test]
    fn speaks_the_vpcd_protocol() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let server = scope.spawn(|| {
                let mut card = EchoCard::new();
                serve(addr, &mut card, &stop).unwrap();
                card
            });
            let (mut driver, _) = listener.accept().unwrap();
            driver.write_all(&frame(&[0x01])).unwrap(); // power on: no reply
            driver.write_all(&frame(&[0x04])).unwrap();
            assert_eq!(read_frame(&mut driver), EchoCard::DEFAULT_ATR.to_vec());
            // Length and body in separate writes, as the real driver does.
            driver.write_all(&[0x00, 0x05]).unwrap();
            driver.write_all(&[0x00, 0xA4, 0x04, 0x00, 0x00]).unwrap();
            assert_eq!(
                read_frame(&mut driver),
                vec![0x00, 0xA4, 0x04, 0x00, 0x00, 0x90, 0x00]
            );
            driver.write_all(&frame(&[0x02])).unwrap(); // reset
            driver.write_all(&frame(&[0x00])).unwrap(); // power off
            drop(driver); // card removed
            let card = server.join().unwrap();
            assert_eq!(card.resets(), 3);
            assert_eq!(card.commands(), 1);
        });
    }

    #[test]
    fn stop_flag_ends_an_idle_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let server = scope.spawn(|| serve(addr, &mut EchoCard::new(), &stop));
            let (_driver, _) = listener.accept().unwrap();
            stop.store(true, Ordering::SeqCst);
            server.join().unwrap().unwrap();
        });
    }

    #[test]
    fn vpcd_card_removes_and_reinserts() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let card = VpcdCard::spawn(addr, EchoCard::new()).unwrap();
        let (mut driver, _) = listener.accept().unwrap();
        driver.write_all(&frame(&[0x04])).unwrap();
        assert_eq!(read_frame(&mut driver), EchoCard::DEFAULT_ATR.to_vec());
        card.remove();
        let mut buf = [0u8; 1];
        assert_eq!(driver.read(&mut buf).unwrap(), 0, "connection closed");
        card.insert();
        let (mut driver, _) = listener.accept().unwrap();
        driver.write_all(&frame(&[0x80, 0x01])).unwrap();
        assert_eq!(read_frame(&mut driver), vec![0x80, 0x01, 0x90, 0x00]);
        assert_eq!(card.connections(), 2);
        let echo = card.stop().unwrap();
        assert_eq!(echo.commands(), 1);
    }

    #[test]
    fn oversized_response_is_an_error_not_a_panic() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let err = write_frame(&mut client, &vec![0u8; 70_000]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    }
}
