//! PC/SC round-trip benchmark (not a test): a personalized simulated 2.0/SM4 card served as a
//! vpcd virtual card in a private pcscd, measured
//!
//! - APDU round trip of one READ RECORD: a bare `pcsc` crate loop (`pcsc::Card::transmit`),
//!   our `PcscTransport::transmit`, and the same through `Channel::send`;
//! - a whole read: `lifecycle::read` (APDU count and time) against the "field sequence" of
//!   terminal code seen in the field (one SELECT + one READ RECORD per element) sent through
//!   the same transport, and `lifecycle::read` in process without PC/SC for comparison;
//! - `sscard read --reader "Virtual PCD 00 00"` as a whole process (start-up included) against
//!   the same served card (needs the release binary: `cargo build --release -p sscard-cli`);
//! - `sscard batch` through pcscd on 1 and 2 virtual readers, each fed by
//!   `sscard sim serve --feeder DIR` (when the binary has `--feeder`).
//!
//! Prints a markdown table of medians. Run `scripts/bench-pcsc.sh` (starts and stops a private
//! pcscd) or `cargo bench --bench pcsc` (reuses `$SSCARD_PCSCD_DIR` if that pcscd runs, else
//! starts its own; needs root for the mount namespace, see `scripts/pcscd-private.sh`).
//! `SSCARD_BENCH_N` sets the number of round trips per APDU measurement (default 2000),
//! `SSCARD_BENCH_RUNS` the `sscard read` processes (default 200), `SSCARD_BENCH_PCSC_BATCH`
//! the persons per batch through pcscd (default 100) and `SSCARD_BENCH_BATCH_RUNS` the batches
//! per reader count (default 3 here).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::error::Error;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{batch_csv, env_or, median, print_table, scratch, spread, time, time_row, Row};

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

fn main() -> Res<()> {
    if !common::benchmarking("pcsc") {
        return Ok(());
    }
    let n = env_or("SSCARD_BENCH_N", 2000);
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
    let mut rows = Vec::new();
    let apdu_rows = [
        (
            "pcscd: READ RECORD round trip, bare `pcsc` crate loop",
            &t_bare,
        ),
        (
            "pcscd: READ RECORD round trip, `PcscTransport::transmit`",
            &t_ours,
        ),
        (
            "pcscd: READ RECORD round trip, `Channel::send` over `PcscTransport`",
            &t_channel,
        ),
    ];
    for (name, samples) in apdu_rows {
        rows.push(time_row(name, samples, false).apdus(1));
    }
    let per_apdu = paired_ratio(&t_ours, &t_bare);
    rows.push(
        Row::info(
            "pcscd: `PcscTransport` / bare loop, per APDU",
            per_apdu,
            "×",
        )
        .noise(format!(
            "Channel / bare {:.3}",
            paired_ratio(&t_channel, &t_bare)
        ))
        .target("≤ 1.05×", per_apdu <= 1.05),
    );
    let read_rows = [
        (
            "pcscd: `lifecycle::read`, no key holder".to_string(),
            format!("{read_apdus:.0} (first {first_read_apdus})"),
            &t_read,
        ),
        (
            "pcscd: `lifecycle::read`, key file (genuine + card id MAC)".to_string(),
            format!("{read_keys_apdus:.0}"),
            &t_read_keys,
        ),
        (
            "pcscd: `lifecycle::read`, no key holder, exclusive connection".to_string(),
            format!("{read_apdus:.0}"),
            &t_exclusive,
        ),
        (
            "pcscd: field sequence (SELECT + READ RECORD per element), same transport".to_string(),
            format!("{field_apdus:.0}"),
            &t_field,
        ),
        (
            "in process: `lifecycle::read` (no PC/SC), for scale".to_string(),
            format!("{read_apdus:.0}"),
            &t_local,
        ),
    ];
    for (name, apdus, samples) in read_rows {
        rows.push(time_row(name, samples, false).apdus(apdus));
    }
    let ms = |v: &[Duration]| {
        let mut v: Vec<f64> = v.iter().map(Duration::as_secs_f64).collect();
        median(&mut v)
    };
    let read_vs_field = ms(&t_read) / ms(&t_field);
    rows.push(
        Row::info(
            "pcscd: `lifecycle::read` / field sequence, time",
            read_vs_field,
            "×",
        )
        .noise(format!(
            "with key file {:.3}; APDUs {read_apdus:.0} vs {field_apdus:.0}",
            ms(&t_read_keys) / ms(&t_field)
        ))
        .target("≤ 0.33×", read_vs_field <= 1.0 / 3.0),
    );

    // `sscard read` as a whole process through pcscd, against the same served card.
    match common::sscard_bin() {
        Some(bin) => {
            let runs = env_or("SSCARD_BENCH_RUNS", 200);
            let dir = scratch(&std::env::temp_dir(), "pcsc-read");
            let cases: [(&str, &[&str]); 2] = [
                (
                    "process through pcscd: `sscard read --reader NAME --keys`",
                    &["--reader", READER, "--keys", "keys.json", "read"],
                ),
                (
                    "process through pcscd: `sscard read --reader NAME --no-verify`",
                    &["--reader", READER, "read", "--no-verify"],
                ),
            ];
            for (name, args) in cases {
                let run = || common::run_timed(Command::new(&bin).current_dir(&dir).args(args));
                for _ in 0..5 {
                    run();
                }
                let samples: Vec<Duration> = (0..runs).map(|_| run()).collect();
                rows.push(time_row(name, &samples, true));
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        None => println!(
            "`sscard read` rows SKIPPED: no release binary (cargo build --release -p sscard-cli)"
        ),
    }
    drop(vcard);

    // Batch through pcscd with `sscard sim serve --feeder` card feeders.
    if let Some(bin) = common::sscard_bin() {
        match batch_through_pcscd(&bin, pcscd.port, &mut rows) {
            Ok(()) => {}
            Err(e) => println!("batch through pcscd SKIPPED: {e}"),
        }
    }

    println!();
    println!(
        "{n} round trips per APDU row (interleaved), {reads} reads per read row; 2.0/SM4 \
         simulated card in a vpcd reader of a private pcscd"
    );
    print_table(&rows);
    Ok(())
}

/// Median over the interleaved pairs of `a[i] / b[i]` (drift cancels out).
fn paired_ratio(a: &[Duration], b: &[Duration]) -> f64 {
    let mut r: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.as_secs_f64() / y.as_secs_f64())
        .collect();
    median(&mut r)
}

/// Waits for `child` up to `limit`; kills it when it takes longer.
fn wait_timeout(child: &mut Child, limit: Duration) -> Res<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {limit:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops a `sscard sim serve` we started (SIGTERM, then SIGKILL).
fn stop_server(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    if wait_timeout(&mut child, Duration::from_secs(10)).is_err() {
        let _ = child.kill();
    }
}

/// `sscard batch` on 1 and 2 virtual readers, each with a `sscard sim serve --feeder`.
fn batch_through_pcscd(bin: &Path, port: u16, rows: &mut Vec<Row>) -> Res<()> {
    let help = Command::new(bin)
        .args(["sim", "serve", "--help"])
        .output()?;
    if !String::from_utf8_lossy(&help.stdout).contains("--feeder") {
        return Err("this `sscard sim serve` has no --feeder yet".into());
    }
    let persons = env_or("SSCARD_BENCH_PCSC_BATCH", 100) as u32;
    let runs = env_or("SSCARD_BENCH_BATCH_RUNS", 3);
    let dir = scratch(&std::env::temp_dir(), "pcsc-batch");
    std::fs::write(dir.join("persons.csv"), batch_csv(persons))?;
    let once = |readers: u16, k: usize| -> Res<f64> {
        let run = dir.join(format!("run-{readers}-{k}"));
        std::fs::create_dir_all(&run)?;
        let mut servers = Vec::new();
        for slot in 0..readers {
            let child = Command::new(bin)
                .current_dir(&dir)
                .args(["--keys", "keys.json", "sim", "serve", "--feeder"])
                .arg(run.join(format!("feeder{slot}")))
                .args(["--port", &port.to_string(), "--slot", &slot.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            servers.push(child);
        }
        let names = ["Virtual PCD 00 00", "Virtual PCD 00 01"];
        let ready = (0..readers).try_for_each(|slot| {
            sscard::pcsc::Pcsc::new()
                .wait_for_card(
                    Some(&ReaderSelector::Exact(names[usize::from(slot)].into())),
                    Duration::from_secs(20),
                )
                .map(|_| ())
        });
        let result = ready.map_err(|e| e.to_string()).and_then(|()| {
            let mut cmd = Command::new(bin);
            cmd.current_dir(&dir)
                .args(["--keys", "keys.json", "batch", "--input", "persons.csv"])
                .arg("--journal")
                .arg(run.join("journal.db"))
                .arg("--return-file")
                .arg(run.join("return.csv"))
                .args(["--wait", "30"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            for name in &names[..usize::from(readers)] {
                cmd.args(["--reader", name]);
            }
            let start = Instant::now();
            let mut child = cmd.spawn().map_err(|e| e.to_string())?;
            let status =
                wait_timeout(&mut child, Duration::from_secs(600)).map_err(|e| e.to_string())?;
            let elapsed = start.elapsed();
            if !status.success() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("batch on {readers} reader(s): {status}: {err}"));
            }
            Ok(f64::from(persons) / elapsed.as_secs_f64())
        });
        for s in servers {
            stop_server(s);
        }
        let _ = std::fs::remove_dir_all(&run);
        Ok(result?)
    };
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for k in 0..runs {
        one.push(once(1, k)?);
        two.push(once(2, k)?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut ratios: Vec<f64> = one.iter().zip(&two).map(|(a, b)| b / a).collect();
    let what = format!("{persons} persons, 2.0/3DES, `sscard sim serve --feeder` per reader");
    let (mut r1, mut r2) = (one.clone(), two.clone());
    rows.push(
        Row::info(
            format!("batch through pcscd, 1 reader: {what}"),
            median(&mut r1),
            "cards/s",
        )
        .noise(spread(&mut one)),
    );
    rows.push(
        Row::info(
            format!("batch through pcscd, 2 readers: {what}"),
            median(&mut r2),
            "cards/s",
        )
        .noise(spread(&mut two)),
    );
    let ratio = median(&mut ratios);
    rows.push(
        Row::info("batch through pcscd, 2 readers / 1 reader", ratio, "×")
            .noise(format!(
                "runs: {}",
                ratios
                    .iter()
                    .map(|r| format!("{r:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .target("≥ 1.7×", ratio >= 1.7),
    );
    Ok(())
}
