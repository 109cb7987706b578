//! PC/SC benchmark (not a test) of the specification's protocol through a private pcscd, with
//! sscard's simulated card and PSAM served as vpcd virtual cards:
//!
//! - APDU round trip of one READ RECORD: a bare `pcsc` crate loop (`pcsc::Card::transmit`),
//!   `PcscTransport::transmit`, and `Channel::send` over it (interleaved APDU by APDU);
//! - whole reads of a 3.0/SM4 card (the field trace's card type): `lifecycle::read_verified`
//!   with the key file (SFI addressing, the library's default; the field trace's SELECT EF
//!   addressing; an exclusive connection), with the PSAM in the second reader, and the field
//!   trace's own command sequence (`lifecycle::hsm` steps one and two, exactly the trace's
//!   commands, the HSM's answers computed with the key file); `lifecycle::read` of a 2.0 card
//!   without keys; in process for scale;
//! - the whole lifecycle through pcscd with the PSAM as key holder (personalize +
//!   read_verified + activate) on fresh blank cards (swapped in the virtual reader without
//!   pcscd's insertion polling, see docs/performance.md);
//! - `sscard read --reader NAME` as a whole process against the same served card (needs the
//!   release binary: `cargo build --release -p sscard-cli`);
//! - `sscard batch` through pcscd on 1 and 2 virtual readers, each fed by
//!   `sscard sim serve --feeder`.
//!
//! Prints a markdown table of medians. Run `scripts/bench-pcsc.sh` (starts and stops a private
//! pcscd) or `cargo bench --bench pcsc` (reuses `$SSCARD_PCSCD_DIR` if that pcscd runs, else
//! starts its own; needs root for the mount namespace, see `scripts/pcscd-private.sh`).
//! `SSCARD_BENCH_N` sets the round trips per APDU row (default 2000), `SSCARD_BENCH_RUNS` the
//! `sscard read` processes (default 200), `SSCARD_BENCH_PCSC_BATCH` the persons per batch
//! through pcscd (default 100) and `SSCARD_BENCH_BATCH_RUNS` the batches per reader count
//! (default 3 here).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::error::Error;
use std::ffi::CString;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    batch_csv, blank, env_or, key_file, median, person, personalized, print_table, psam, roots,
    scratch, spread, time, time_row, Row,
};

use sscard::apdu::commands::read_record;
use sscard::apdu::RecordRef;
use sscard::channel::Channel;
use sscard::crypto::Pin;
use sscard::keyholder::{HsmRequest, KeyHolder, PsamKeyHolder};
use sscard::keys::KeyRole;
use sscard::lifecycle::{
    self, hsm, ActivateOptions, Addressing, Card, PersonalizeOptions, ReadOptions,
};
use sscard::pcsc::testing::PrivatePcscd;
use sscard::pcsc::{Disposition, PcscTransport, ReaderSelector, ShareMode};
use sscard::profile::{self, Ef, Generation};
use sscard::sim::vpcd::VpcdCard;
use sscard::sim::{SimCard, SimTransport, VirtualCard};
use sscard::transport::Transport;
use sscard::Algorithm;

const READER: &str = "Virtual PCD 00 00";
const PSAM_READER: &str = "Virtual PCD 00 01";

type Res<T> = Result<T, Box<dyn Error>>;

/// Serves `card` in virtual reader `slot` and waits until pcscd shows it.
fn insert<C: VirtualCard + Send + 'static>(
    pcscd: &PrivatePcscd,
    slot: u16,
    card: C,
) -> Res<VpcdCard<C>> {
    let served = VpcdCard::spawn(pcscd.addr(slot), card)?;
    let name = [READER, PSAM_READER][usize::from(slot)];
    sscard::pcsc::Pcsc::new().wait_for_card(
        Some(&ReaderSelector::Exact(name.into())),
        Duration::from_secs(10),
    )?;
    Ok(served)
}

/// Takes a served card out and waits until pcscd saw it go.
fn take_out<C: VirtualCard + Send + 'static>(served: VpcdCard<C>, reader: &str) {
    drop(served);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let present = sscard::pcsc::Pcsc::new()
            .list_readers()
            .map(|rs| rs.iter().any(|r| r.name == reader && r.card_present))
            .unwrap_or(false);
        if !present {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The field trace's basic read (`docs/加密机方式指令流.txt`; `lifecycle::hsm`, whose commands
/// `crates/sscard-core/tests/field_trace.rs` proves equal to the trace's), the HSM's answer
/// computed with the key file. Returns the basic line.
fn field_trace_read<T: Transport, K: KeyHolder>(card: &mut Card<T>, keys: &mut K) -> Res<String> {
    let step = hsm::read_basic_step1(card)?;
    let ctx = card.context()?;
    let HsmRequest::CardAuthentication {
        internal, external, ..
    } = &step.request
    else {
        return Err("not a card authentication request".into());
    };
    let ia = keys.authenticate(&ctx, KeyRole::Irk, &internal.0, &internal.1)?;
    let mut answer = format!(
        "{}{}|",
        hex::encode_upper(ia),
        hex::encode_upper(internal.1)
    );
    if let Some((factor, original)) = external {
        let ea = keys.authenticate(&ctx, KeyRole::Rkssse, factor, original)?;
        answer.push_str(&format!(
            "{}{}|",
            hex::encode_upper(ea),
            hex::encode_upper(original)
        ));
    }
    let info = hsm::read_basic_step2(card, &step, &answer)?;
    Ok(info.line("", ""))
}

/// A virtual card whose chip the bench can replace between two operations (a fresh blank
/// card of the same ATR), without pcscd seeing a removal.
struct Swappable(Arc<Mutex<SimCard>>);

impl VirtualCard for Swappable {
    fn atr(&self) -> Vec<u8> {
        self.0.lock().unwrap().atr()
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.0.lock().unwrap().handle(apdu)
    }
    fn reset(&mut self) {
        self.0.lock().unwrap().reset()
    }
}

fn main() -> Res<()> {
    if !common::benchmarking("pcsc") {
        return Ok(());
    }
    let n = env_or("SSCARD_BENCH_N", 2000);
    let Some(pcscd) = PrivatePcscd::acquire("bench-pcsc", 36800..37000) else {
        println!("pcsc bench SKIPPED: no private pcscd here");
        return Ok(());
    };
    let mut rows = Vec::new();
    round_trips(&pcscd, n, &mut rows)?;
    reads(&pcscd, (n / 10).max(20), &mut rows)?;
    lifecycles(&pcscd, (n / 10).max(20), &mut rows)?;
    processes(&pcscd, &mut rows)?;

    // Batch through pcscd with `sscard sim serve --feeder` card feeders.
    if let Some(bin) = common::sscard_bin() {
        if let Err(e) = batch_through_pcscd(&bin, pcscd.port(), &mut rows) {
            println!("batch through pcscd SKIPPED: {e}");
        }
    }
    println!();
    println!(
        "{n} round trips per APDU row (interleaved), {} reads or lifecycles per row; simulated \
         T=0 cards and PSAM in the vpcd readers of a private pcscd",
        (n / 10).max(20)
    );
    print_table(&rows);
    Ok(())
}

/// APDU round trips: bare `pcsc` loop, `PcscTransport`, `Channel`.
fn round_trips(pcscd: &PrivatePcscd, n: usize, rows: &mut Vec<Row>) -> Res<()> {
    let served = insert(
        pcscd,
        0,
        personalized(Generation::V2, Algorithm::Sm4, 0x00BE_0C01),
    )?;
    let number = profile::element(Generation::V2, profile::tag::CARD_NUMBER).ok_or("no item")?;
    let record_cmd = read_record(
        Some(Ef::Ef05.sfi()),
        RecordRef::Tag(number.tag),
        number.len + 2,
    );
    let record = record_cmd.to_bytes()?.to_vec();
    let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
    let bare = ctx.connect(
        &CString::new(READER)?,
        pcsc::ShareMode::Shared,
        pcsc::Protocols::ANY,
    )?;
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let mut ours = PcscTransport::connect(READER, ShareMode::Shared)?;
    let mut channel = Channel::new(PcscTransport::connect(READER, ShareMode::Shared)?);
    // READ RECORD by SFI reads in the current DF: select SSSE once (part 5 §6.10).
    let mut select = Channel::new(PcscTransport::connect(READER, ShareMode::Shared)?);
    select.send_ok(&sscard::apdu::commands::select_aid(&profile::SSSE_AID))?;
    assert_eq!(select.apdu_count(), 2, "T=0: SELECT + GET RESPONSE");
    select.into_inner().disconnect(Disposition::Leave)?;
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
    ours.disconnect(Disposition::Leave)?;
    channel.into_inner().disconnect(Disposition::Leave)?;
    drop(ctx);
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
    take_out(served, READER);
    Ok(())
}

/// Times `reads` calls of `f` on `card`; returns the samples and the APDUs of the last call.
fn timed_reads<T: Transport>(
    card: &mut Card<T>,
    reads: usize,
    mut f: impl FnMut(&mut Card<T>),
) -> (Vec<Duration>, u64) {
    f(card); // the first read of a card session selects SSSE
    let mut samples = Vec::with_capacity(reads);
    let mut apdus = 0;
    for _ in 0..reads {
        let before = card.apdu_count();
        time(&mut samples, || f(card));
        apdus = card.apdu_count() - before;
    }
    (samples, apdus)
}

/// Whole reads of a 3.0/SM4 card and of a 2.0/SM4 card.
fn reads(pcscd: &PrivatePcscd, reads: usize, rows: &mut Vec<Row>) -> Res<()> {
    let mut keys = key_file();
    let sim = personalized(Generation::V3, Algorithm::Sm4, 0x0000_01AC);
    let local = SimCard::from_image(sim.image().clone())?;
    let served = insert(pcscd, 0, sim)?;
    let served_psam = insert(pcscd, 1, psam(Algorithm::Sm4))?;
    let options = ReadOptions::default();
    let what = "3.0/SM4";

    let mut card = Card::open(PcscTransport::connect(READER, ShareMode::Shared)?)?;
    let (t_sfi, apdus_sfi) = timed_reads(&mut card, reads, |c| {
        lifecycle::read_verified(c, &mut keys, &options).unwrap();
    });
    let mut card = Card::open(card.into_transport())?.with_addressing(Addressing::SelectEf);
    let (t_select_ef, apdus_select_ef) = timed_reads(&mut card, reads, |c| {
        lifecycle::read_verified(c, &mut keys, &options).unwrap();
    });
    let mut card = Card::open(card.into_transport())?;
    let (t_trace, apdus_trace) = timed_reads(&mut card, reads, |c| {
        field_trace_read(c, &mut keys).unwrap();
    });
    let mut holder = PsamKeyHolder::open(PcscTransport::connect(PSAM_READER, ShareMode::Shared)?)?;
    let mut card = Card::open(card.into_transport())?;
    let psam_before = holder.channel().apdu_count();
    let (t_psam, apdus_psam) = timed_reads(&mut card, reads, |c| {
        lifecycle::read_verified(c, &mut holder, &options).unwrap();
    });
    let psam_apdus = (holder.channel().apdu_count() - psam_before) / (reads as u64 + 1);
    card.into_transport().disconnect(Disposition::Leave)?;
    holder.into_inner().disconnect(Disposition::Leave)?;

    // An exclusive connection: transactions are implicit (no disconnect/connect per operation).
    let mut exclusive = Card::open(PcscTransport::connect(READER, ShareMode::Exclusive)?)?;
    let (t_exclusive, _) = timed_reads(&mut exclusive, reads, |c| {
        lifecycle::read_verified(c, &mut keys, &options).unwrap();
    });
    exclusive.into_transport().disconnect(Disposition::Leave)?;
    let mut local = Card::open(SimTransport::new(local))?;
    let (t_local, _) = timed_reads(&mut local, reads, |c| {
        lifecycle::read_verified(c, &mut keys, &options).unwrap();
    });
    take_out(served, READER);
    take_out(served_psam, PSAM_READER);

    let served = insert(
        pcscd,
        0,
        personalized(Generation::V2, Algorithm::Sm4, 0x00BE_0C02),
    )?;
    let mut card = Card::open(PcscTransport::connect(READER, ShareMode::Shared)?)?;
    let (t_free, apdus_free) = timed_reads(&mut card, reads, |c| {
        lifecycle::read(c).unwrap();
    });
    card.into_transport().disconnect(Disposition::Leave)?;
    take_out(served, READER);

    let read_rows = [
        (
            format!("pcscd: `read_verified` {what}, key file (IA + RKSSSE, SFI addressing)"),
            apdus_sfi.to_string(),
            &t_sfi,
        ),
        (
            format!("pcscd: `read_verified` {what}, key file, the trace's SELECT EF addressing"),
            apdus_select_ef.to_string(),
            &t_select_ef,
        ),
        (
            format!("pcscd: the field trace's basic read {what} (`hsm` steps, HSM = key file)"),
            apdus_trace.to_string(),
            &t_trace,
        ),
        (
            format!("pcscd: `read_verified` {what}, PSAM in the second reader"),
            format!("{apdus_psam} + {psam_apdus} PSAM"),
            &t_psam,
        ),
        (
            format!("pcscd: `read_verified` {what}, key file, exclusive connection"),
            apdus_sfi.to_string(),
            &t_exclusive,
        ),
        (
            "pcscd: `read` 2.0/SM4 without keys (EF05 + EF06 by SFI)".to_string(),
            apdus_free.to_string(),
            &t_free,
        ),
        (
            format!("in process: `read_verified` {what}, key file (no PC/SC), for scale"),
            apdus_sfi.to_string(),
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
    rows.push(
        Row::info(
            format!("pcscd: `read_verified` / the field trace's read, {what}, time"),
            ms(&t_sfi) / ms(&t_trace),
            "×",
        )
        .noise(format!(
            "APDUs {apdus_sfi} vs {apdus_trace}; the library reads all 14 items, the trace 9"
        )),
    );
    Ok(())
}

/// Whole lifecycles through pcscd with the PSAM: personalize + read_verified + activate.
fn lifecycles(pcscd: &PrivatePcscd, count: usize, rows: &mut Vec<Row>) -> Res<()> {
    let roots = roots();
    for alg in [Algorithm::Sm4, Algorithm::Tdes] {
        let data = person(Generation::V2);
        let new_pin = Pin::new("258036")?;
        let chip = Arc::new(Mutex::new(blank(Generation::V2, alg, 0x00BE_0D00, &roots)));
        let served = insert(pcscd, 0, Swappable(Arc::clone(&chip)))?;
        let served_psam = insert(pcscd, 1, psam(alg))?;
        let mut holder =
            PsamKeyHolder::open(PcscTransport::connect(PSAM_READER, ShareMode::Shared)?)?;
        let mut transport = Some(PcscTransport::connect(READER, ShareMode::Shared)?);
        let mut samples = Vec::with_capacity(count);
        let (mut apdus, mut psam_apdus) = (0, 0);
        for i in 0..count + 5 {
            // the next blank card (same ATR), its chip powered up afresh
            *chip.lock().unwrap() = blank(Generation::V2, alg, 0x00BE_0D00, &roots);
            let psam_before = holder.channel().apdu_count();
            let mut card = Card::open(transport.take().ok_or("no transport")?)?;
            let start = Instant::now();
            lifecycle::personalize(
                &mut card,
                &mut holder,
                &data,
                &PersonalizeOptions::default(),
            )?;
            let read = lifecycle::read_verified(&mut card, &mut holder, &ReadOptions::default())?;
            lifecycle::activate_verified(
                &mut card,
                &mut holder,
                &new_pin,
                &ActivateOptions::default(),
            )?;
            let elapsed = start.elapsed();
            assert_eq!(read.genuine, Some(true));
            if i >= 5 {
                samples.push(elapsed); // the first five warm up
            }
            apdus = card.apdu_count();
            psam_apdus = holder.channel().apdu_count() - psam_before;
            transport = Some(card.into_transport());
        }
        if let Some(t) = transport {
            t.disconnect(Disposition::Leave)?;
        }
        holder.into_inner().disconnect(Disposition::Leave)?;
        take_out(served, READER);
        take_out(served_psam, PSAM_READER);
        rows.push(
            time_row(
                format!(
                    "pcscd: lifecycle (personalize + read_verified + activate), PSAM, 2.0/{alg}"
                ),
                &samples,
                true,
            )
            .apdus(format!("{apdus} + {psam_apdus} PSAM")),
        );
    }
    Ok(())
}

/// `sscard read` as a whole process through pcscd, against a served 2.0/SM4 card.
fn processes(pcscd: &PrivatePcscd, rows: &mut Vec<Row>) -> Res<()> {
    let Some(bin) = common::sscard_bin() else {
        println!(
            "`sscard read` rows SKIPPED: no release binary (cargo build --release -p sscard-cli)"
        );
        return Ok(());
    };
    let served = insert(
        pcscd,
        0,
        personalized(Generation::V2, Algorithm::Sm4, 0x00BE_0C03),
    )?;
    let runs = env_or("SSCARD_BENCH_RUNS", 200);
    let dir = scratch(&std::env::temp_dir(), "pcsc-read");
    let cases: [(&str, &[&str]); 2] = [
        (
            "process through pcscd: `sscard --reader NAME --keys FILE read` (genuine)",
            &["--reader", READER, "--keys", "keys.json", "read"],
        ),
        (
            "process through pcscd: `sscard --reader NAME read` (no key holder)",
            &["--reader", READER, "read"],
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
    take_out(served, READER);
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
