//! Plugs a trivial echo card into pcscd's virtual reader (vsmartcard-vpcd) and prints the PC/SC
//! reader it appeared in. The card answers every APDU with the APDU itself followed by `90 00`.
//!
//! ```text
//! eval "$(scripts/pcscd-private.sh env)"        # or use the system pcscd (port 35963)
//! cargo run -p sscard-pcsc --example vpcd-echo              # serve until killed
//! cargo run -p sscard-pcsc --example vpcd-echo -- --exit    # print the reader, remove the card
//! cargo run -p sscard-pcsc --example vpcd-echo -- --bench 2000
//! ```
//!
//! Options: `--slot N` (virtual reader 0 or 1, i.e. port `$SSCARD_VPCD_PORT + N`), `--exit`,
//! `--bench N` (median round trip of N APDUs: bare `pcsc` crate vs `PcscTransport`).
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use sscard_pcsc::{Pcsc, PcscTransport, ReaderInfo, ShareMode, Transport};
use sscard_sim::vpcd::{local_reader_addr, EchoCard, VpcdCard};

fn main() -> ExitCode {
    let mut slot = 0u16;
    let mut exit = false;
    let mut bench = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--slot" => slot = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--exit" => exit = true,
            "--bench" => bench = args.next().and_then(|v| v.parse::<usize>().ok()),
            other => {
                eprintln!("unknown argument {other:?} (use --slot N, --exit, --bench N)");
                return ExitCode::from(2);
            }
        }
    }
    match run(slot, exit, bench) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vpcd-echo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(slot: u16, exit: bool, bench: Option<usize>) -> Result<(), Box<dyn std::error::Error>> {
    let addr = local_reader_addr(slot);
    let mut pcsc = Pcsc::establish()?;
    let before = pcsc.list_readers()?;
    let card = VpcdCard::spawn(addr.clone(), EchoCard::new())?;
    let reader = appeared(&mut pcsc, &before, Duration::from_secs(5))?
        .ok_or_else(|| format!("no reader got the card from {addr} (is vpcd listening there?)"))?;
    println!(
        "echo card at {addr} is in reader {:?} (#{}), ATR {}",
        reader.name,
        reader.index,
        hex::encode_upper(reader.atr.clone().unwrap_or_default())
    );
    if let Some(n) = bench {
        benchmark(&reader.name, n)?;
    }
    if !exit {
        println!("serving; stop with Ctrl-C");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    card.stop();
    Ok(())
}

/// The reader that now holds a card with the echo card's ATR and did not before.
fn appeared(
    pcsc: &mut Pcsc,
    before: &[ReaderInfo],
    timeout: Duration,
) -> Result<Option<ReaderInfo>, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        for reader in pcsc.list_readers()? {
            let was_present = before
                .iter()
                .any(|b| b.name == reader.name && b.card_present);
            if reader.card_present
                && !was_present
                && reader.atr.as_deref() == Some(&EchoCard::DEFAULT_ATR[..])
            {
                return Ok(Some(reader));
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(None)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn benchmark(reader: &str, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let apdu = [0x00, 0xB2, 0x01, 0x2C, 0x00];
    // Bare pcsc crate.
    let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
    let name = std::ffi::CString::new(reader)?;
    let card = ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)?;
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let mut bare = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        card.transmit(&apdu, &mut buf)?;
        bare.push(t.elapsed());
    }
    drop(card);
    // PcscTransport.
    let mut transport = PcscTransport::connect(reader, ShareMode::Shared)?;
    let mut ours = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        transport.transmit(&apdu)?;
        ours.push(t.elapsed());
    }
    // A transaction around one APDU: begin + transmit + end (end re-opens the connection).
    let mut in_tx = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        transport.begin_transaction()?;
        transport.transmit(&apdu)?;
        transport.end_transaction()?;
        in_tx.push(t.elapsed());
    }
    println!(
        "median over {n}: APDU round trip bare pcsc {:?}, PcscTransport {:?}; \
         begin+APDU+end transaction {:?}",
        median(bare),
        median(ours),
        median(in_tx)
    );
    Ok(())
}
