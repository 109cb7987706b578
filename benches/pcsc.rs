//! PC/SC round-trip benchmark (not a test): a personalized simulated 2.0/SM4 card served as a
//! vpcd virtual card in a private pcscd, measured
//!
//! - APDU round trip of one READ RECORD: a bare `pcsc` crate loop (`pcsc::Card::transmit`),
//!   our `PcscTransport::transmit`, and the same through `Channel::send`;
//! - a whole read: `lifecycle::read` (APDU count and time) against the "field sequence" of
//!   terminal code seen in the field (one SELECT + one READ RECORD per element) sent through
//!   the same transport, and `lifecycle::read` in process without PC/SC for comparison.
//!
//! Prints a markdown table of medians. Run `scripts/bench-pcsc.sh` (starts and stops a private
//! pcscd) or `cargo bench --bench pcsc` (reuses `$SSCARD_PCSCD_DIR` if that pcscd runs, else
//! starts its own; needs root for the mount namespace, see `scripts/pcscd-private.sh`).
//! `SSCARD_BENCH_N` sets the number of round trips per APDU measurement (default 2000).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::error::Error;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sscard::apdu::commands::{read_record, select_aid};
use sscard::apdu::RecordRef;
use sscard::channel::Channel;
use sscard::data::PersonRecord;
use sscard::keyholder::KeyFile;
use sscard::lifecycle::{self, Card, PersonalizeOptions, ReadOptions};
use sscard::pcsc::{Disposition, PcscTransport, ReaderSelector, ShareMode};
use sscard::profile::{self, Ef, Generation};
use sscard::sim::vpcd::VpcdCard;
use sscard::sim::{CardSpec, SimCard, SimTransport};
use sscard::transport::Transport;
use sscard::Algorithm;

const READER: &str = "Virtual PCD 00 00";

type Res<T> = Result<T, Box<dyn Error>>;

/// A private pcscd: the one `$SSCARD_PCSCD_DIR` names when it runs, else our own.
struct Pcscd {
    script: PathBuf,
    dir: PathBuf,
    port: u16,
    owned: bool,
}

impl Pcscd {
    fn run(&self, action: &str) -> Res<()> {
        let out = Command::new("bash")
            .arg(&self.script)
            .arg(action)
            .env("SSCARD_PCSCD_DIR", &self.dir)
            .env("SSCARD_VPCD_PORT", self.port.to_string())
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "pcscd-private.sh {action}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(())
    }

    fn start() -> Res<Pcscd> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pcscd-private.sh");
        let port = std::env::var("SSCARD_VPCD_PORT")
            .ok()
            .and_then(|p| p.parse().ok());
        if let (Some(dir), Some(port)) = (std::env::var_os("SSCARD_PCSCD_DIR"), port) {
            let shared = Pcscd {
                script: script.clone(),
                dir: PathBuf::from(dir),
                port,
                owned: false,
            };
            if shared.run("status").is_ok() {
                std::env::set_var("PCSCLITE_CSOCK_NAME", shared.dir.join("pcscd.comm"));
                return Ok(shared);
            }
        }
        let own = Pcscd {
            script,
            dir: std::env::temp_dir().join(format!("sscard-pcscd-bench-{}", std::process::id())),
            port: free_port_pair()?,
            owned: true,
        };
        std::env::set_var("PCSCLITE_CSOCK_NAME", own.dir.join("pcscd.comm"));
        own.run("start")?;
        Ok(own)
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        if self.owned {
            let _ = self.run("stop");
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A base port with it and the next one free, for our own pcscd's two virtual readers.
fn free_port_pair() -> Res<u16> {
    (36800..37000)
        .step_by(2)
        .find(|&p| {
            std::net::TcpListener::bind(("0.0.0.0", p)).is_ok()
                && std::net::TcpListener::bind(("0.0.0.0", p + 1)).is_ok()
        })
        .ok_or_else(|| "no free port pair for the virtual readers".into())
}

/// Median and 95th percentile.
fn stats(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let n = samples.len();
    (samples[n / 2], samples[(n * 95 / 100).min(n - 1)])
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn time(samples: &mut Vec<Duration>, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    samples.push(start.elapsed());
}

/// A personalized 2.0/SM4 card made in process with the test keys.
fn personalized_card(keys: &mut KeyFile) -> Res<SimCard> {
    let person = PersonRecord::from_json(include_str!("../fixtures/persons/zhang-san-2.json"))?
        .validate()?;
    let spec = CardSpec::new(
        Generation::V2,
        Algorithm::Sm4,
        "639900".parse()?,
        [0x00, 0xBE, 0x0C, 0x01],
    );
    let mut card = Card::open(SimTransport::new(SimCard::blank(spec, keys)?))?;
    lifecycle::personalize(&mut card, keys, &person, &PersonalizeOptions::default())?;
    Ok(card.into_transport().into_card())
}

/// One SELECT + one READ RECORD per EF05 and EF06 element, as terminal code in the field does.
fn field_sequence<T: Transport>(channel: &mut Channel<T>) -> Res<usize> {
    let mut bytes = 0;
    for ef in [Ef::Ef05, Ef::Ef06] {
        for element in profile::records(Generation::V2, ef) {
            channel.send_ok(&select_aid(&profile::SSSE_AID))?;
            let record = read_record(Some(ef.sfi()), RecordRef::Tag(element.tag));
            bytes += channel.send_ok(&record)?.len();
        }
    }
    Ok(bytes)
}

struct Row {
    what: String,
    apdus: String,
    median: Duration,
    p95: Duration,
}

fn main() -> Res<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: run only
    // when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        println!("pcsc bench: run with `cargo bench --bench pcsc` or scripts/bench-pcsc.sh");
        return Ok(());
    }
    let n: usize = std::env::var("SSCARD_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let pcscd = match Pcscd::start() {
        Ok(p) => p,
        Err(e) => {
            println!("pcsc bench SKIPPED: no private pcscd here: {e}");
            return Ok(());
        }
    };
    let mut keys = KeyFile::from_json(include_str!("../fixtures/keys/test-keys.json"))?;
    let sim = personalized_card(&mut keys)?;
    let in_process = SimCard::from_image(sim.image().clone())?;
    let vcard = VpcdCard::spawn(format!("127.0.0.1:{}", pcscd.port), sim)?;
    sscard::pcsc::Pcsc::new().wait_for_card(
        Some(&ReaderSelector::Exact(READER.into())),
        Duration::from_secs(10),
    )?;

    let select = select_aid(&profile::SSSE_AID).to_bytes()?.to_vec();
    let record_cmd = read_record(Some(Ef::Ef05.sfi()), RecordRef::Tag(0x07));
    let record = record_cmd.to_bytes()?.to_vec();

    // (a) bare pcsc crate, (b) PcscTransport, (c) Channel over PcscTransport: interleaved
    // APDU by APDU so that drift (CPU frequency, other load) hits all three alike.
    let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
    let bare = ctx.connect(
        &CString::new(READER)?,
        pcsc::ShareMode::Shared,
        pcsc::Protocols::ANY,
    )?;
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let mut ours = PcscTransport::connect(READER, ShareMode::Shared)?;
    let mut channel = Channel::new(PcscTransport::connect(READER, ShareMode::Shared)?);
    let expected = bare.transmit(&select, &mut buf)?.to_vec();
    assert!(expected.ends_with(&[0x90, 0x00]), "SELECT: {expected:02X?}");
    let expected = bare.transmit(&record, &mut buf)?.to_vec();
    assert!(
        expected.ends_with(&[0x90, 0x00]),
        "READ RECORD: {expected:02X?}"
    );
    let (mut t_bare, mut t_ours, mut t_channel) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        time(&mut t_bare, || {
            bare.transmit(&record, &mut buf).unwrap();
        });
        time(&mut t_ours, || {
            ours.transmit(&record).unwrap();
        });
        time(&mut t_channel, || {
            channel.send_ok(&record_cmd).unwrap();
        });
    }
    assert_eq!(ours.transmit(&record)?, expected);
    // Leave the card as it is (dropping would reset it, and the others would see CardReset).
    bare.disconnect(pcsc::Disposition::LeaveCard)
        .map_err(|(_, e)| e)?;
    drop(ctx);

    // Whole reads.
    let reads = (n / 10).max(20);
    let mut card = Card::open(ours)?;
    let before = card.apdu_count();
    lifecycle::read(&mut card, None, &ReadOptions::default())?;
    let first_read_apdus = card.apdu_count() - before;
    let mut t_read = Vec::new();
    let before = card.apdu_count();
    for _ in 0..reads {
        time(&mut t_read, || {
            lifecycle::read(&mut card, None, &ReadOptions::default()).unwrap();
        });
    }
    let read_apdus = (card.apdu_count() - before) as f64 / reads as f64;

    let mut t_read_keys = Vec::new();
    let before = card.apdu_count();
    for _ in 0..reads {
        time(&mut t_read_keys, || {
            lifecycle::read(&mut card, Some(&mut keys), &ReadOptions::default()).unwrap();
        });
    }
    let read_keys_apdus = (card.apdu_count() - before) as f64 / reads as f64;
    card.into_transport().disconnect(Disposition::Leave)?;

    let mut t_field = Vec::new();
    let before = channel.apdu_count();
    for _ in 0..reads {
        time(&mut t_field, || {
            field_sequence(&mut channel).unwrap();
        });
    }
    let field_apdus = (channel.apdu_count() - before) as f64 / reads as f64;
    channel.into_inner().disconnect(Disposition::Leave)?;

    // An exclusive connection: transactions are implicit (no disconnect/connect per operation).
    let mut exclusive = Card::open(PcscTransport::connect(READER, ShareMode::Exclusive)?)?;
    lifecycle::read(&mut exclusive, None, &ReadOptions::default())?;
    let mut t_exclusive = Vec::new();
    for _ in 0..reads {
        time(&mut t_exclusive, || {
            lifecycle::read(&mut exclusive, None, &ReadOptions::default()).unwrap();
        });
    }
    exclusive.into_transport().disconnect(Disposition::Leave)?;

    let mut local = Card::open(SimTransport::new(in_process))?;
    let mut t_local = Vec::new();
    for _ in 0..reads {
        time(&mut t_local, || {
            lifecycle::read(&mut local, None, &ReadOptions::default()).unwrap();
        });
    }
    drop(vcard);

    let row = |what: &str, apdus: String, samples: Vec<Duration>| {
        let (median, p95) = stats(samples);
        Row {
            what: what.into(),
            apdus,
            median,
            p95,
        }
    };
    let rows = [
        row("READ RECORD, bare `pcsc` crate loop", "1".into(), t_bare),
        row("READ RECORD, `PcscTransport::transmit`", "1".into(), t_ours),
        row(
            "READ RECORD, `Channel::send` over `PcscTransport`",
            "1".into(),
            t_channel,
        ),
        row(
            "`lifecycle::read`, no key holder",
            format!("{read_apdus:.0} (first: {first_read_apdus})"),
            t_read,
        ),
        row(
            "`lifecycle::read`, key file (genuine + card id MAC)",
            format!("{read_keys_apdus:.0}"),
            t_read_keys,
        ),
        row(
            "`lifecycle::read`, no key holder, exclusive connection",
            format!("{read_apdus:.0}"),
            t_exclusive,
        ),
        row(
            "field sequence: SELECT + READ RECORD per element",
            format!("{field_apdus:.0}"),
            t_field,
        ),
        row(
            "`lifecycle::read` in process (no PC/SC), for scale",
            format!("{read_apdus:.0}"),
            t_local,
        ),
    ];
    println!();
    println!("{n} round trips per APDU row, {reads} reads per read row; 2.0/SM4 simulated card in a vpcd reader of a private pcscd");
    println!();
    println!("| measurement | APDUs | median | p95 |");
    println!("|---|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} |",
            r.what,
            r.apdus,
            us(r.median),
            us(r.p95)
        );
    }
    let ratio = |a: &Row, b: &Row| a.median.as_secs_f64() / b.median.as_secs_f64();
    println!();
    println!(
        "PcscTransport / bare: {:.3}; Channel / bare: {:.3}; field sequence / lifecycle::read: {:.2}",
        ratio(&rows[1], &rows[0]),
        ratio(&rows[2], &rows[0]),
        ratio(&rows[6], &rows[3]),
    );
    Ok(())
}
