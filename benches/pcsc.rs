//! PC/SC benchmark (not a test) of the specification's protocol through a private pcscd, with
//! sscard's simulated card and PSAM served as vpcd virtual cards.
//!
//! Every figure is a ratio to a reference measured in the same run, interleaved with it, and is
//! measured in several rounds: the table gives the median over the rounds and their min-max
//! (the machines this runs on are shared and noisy, so microseconds do not carry from one run
//! to the next, ratios do). The unit of the PC/SC rows, **RT**, is one READ RECORD round trip
//! through pcscd to the virtual card with a bare `pcsc` crate loop (`pcsc::Card::transmit`).
//! Within a block the compared operations run in a new random order every iteration, so that
//! the machine's load hits each side alike. Each round:
//!
//! - on a 2.0/SM4 card: the round trip of the bare loop, of `PcscTransport::transmit` and of
//!   `Channel::send` over it, a shared-mode transaction with no APDU in it
//!   (`SCardBeginTransaction` + `SCardEndTransaction`) and around one READ RECORD, and, for
//!   comparison, what ending a transaction used to cost (`SCardDisconnect` + `SCardConnect`),
//!   interleaved APDU by APDU; then `lifecycle::read` without keys beside bare round trips;
//!   then `sscard read --reader NAME` as a whole process (with and without `--keys`; needs the
//!   release binary: `cargo build --release -p sscard-cli`) beside the same read in process
//!   from a fresh connection;
//! - on a 3.0/SM4 card (the field trace's card type), read by read, each way on a connection
//!   and library card of its own: `lifecycle::read_verified` with the key file by SFI (the
//!   library's default) and with the field trace's SELECT EF addressing, the field trace's own
//!   command sequence (`lifecycle::hsm` steps one and two, the HSM's answers computed with the
//!   key file), `read_verified` with the PSAM in the second reader, the same read in process on
//!   a copy of the card (no PC/SC), and bare round trips; then `read_verified` on shared and
//!   exclusive connections, block by block (an exclusive connection admits no other);
//! - the whole lifecycle with the PSAM as key holder (personalize + read_verified + activate),
//!   2.0 on SM4 and 3DES, on fresh blank cards swapped into the virtual reader without pcscd's
//!   insertion polling (see docs/performance.md), beside bare round trips on the cards made.
//!
//! Then `sscard batch` through pcscd on 1 and 2 virtual readers, each fed by
//! `sscard sim serve --feeder`, alternately; its unit is pcscd's 400 ms polling of the readers.
//!
//! By default the bench pins itself and the private pcscd to one CPU (see [`pin`]).
//!
//! Prints a markdown table (`| benchmark | median | unit | APDUs | target | result | noise |`,
//! merged by `scripts/bench.sh`) and, as `raw:` lines outside the table, each round's
//! microseconds. Run `scripts/bench-pcsc.sh` (starts and stops a private pcscd, keeps the
//! output in `target/bench-out/pcsc.md`) or `cargo bench --bench pcsc` (reuses
//! `$SSCARD_PCSCD_DIR` if that pcscd runs, else starts its own; needs root for the mount
//! namespace, see `scripts/pcscd-private.sh`). Settings: `SSCARD_BENCH_PCSC_ROUNDS` rounds
//! (default 5), `SSCARD_BENCH_N` round trips per APDU row over all rounds (default 2000; a
//! tenth of it, at least 20, reads or lifecycles per row), `SSCARD_BENCH_RUNS` `sscard read`
//! processes per row over all rounds (default 200), `SSCARD_BENCH_PCSC_CPU` the CPU (default
//! the last; `none`: not pinned), `SSCARD_BENCH_PCSC_BATCH` persons per batch through pcscd
//! (default 30) and `SSCARD_BENCH_BATCH_RUNS` the batch's rounds (default 3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::error::Error;
use std::ffi::CString;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    batch_csv, blank, env_or, figure, key_file, median, median_secs, paired_ratio, person,
    personalized, print_table, psam, roots, rounds_row, scratch, Row,
};

use sscard::apdu::commands::read_record;
use sscard::apdu::{Command as Apdu, RecordRef};
use sscard::channel::Channel;
use sscard::crypto::Pin;
use sscard::keyholder::{HsmRequest, KeyFile, KeyHolder, PsamKeyHolder};
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
/// How often pcscd polls the vpcd readers for a card's insertion or removal.
const POLL: Duration = Duration::from_millis(400);
/// Bare round trips timed after each read or lifecycle (the reference beside it).
const RT_PER_OP: usize = 4;

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

/// The per-round figures of a run, by key, in the order first seen.
#[derive(Default)]
struct Tally {
    figures: Vec<(String, Vec<f64>)>,
    apdus: Vec<(String, BTreeSet<u64>)>,
    raw: Vec<(String, Vec<String>)>,
}

impl Tally {
    /// Adds this round's value of `key`.
    fn add(&mut self, key: &str, value: f64) {
        match self.figures.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v.push(value),
            None => self.figures.push((key.to_owned(), vec![value])),
        }
    }

    /// The values of `key` over the rounds (empty when never measured).
    fn get(&self, key: &str) -> &[f64] {
        self.figures
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// Records an APDU count seen for `key`.
    fn apdus(&mut self, key: &str, count: u64) {
        match self.apdus.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => {
                v.insert(count);
            }
            None => self.apdus.push((key.to_owned(), BTreeSet::from([count]))),
        }
    }

    /// The APDU counts seen for `key`: "16", or "16-18" when they varied.
    fn apdu_text(&self, key: &str) -> String {
        let set = self
            .apdus
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        match (set.first(), set.last()) {
            (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
            (Some(lo), Some(hi)) => format!("{lo}-{hi}"),
            _ => String::new(),
        }
    }

    /// The typical APDU count of `key` (the smallest seen), for "RT per APDU".
    fn apdu_count(&self, key: &str) -> Option<u64> {
        self.apdus
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.first().copied())
    }

    /// Records an operation's samples: its APDU counts under `key`, its µs as a `raw:` line.
    fn samples(&mut self, key: &str, what: &str, samples: &Samples) {
        for n in &samples.apdus {
            self.apdus(key, *n);
        }
        self.raw(what, &samples.times);
    }

    /// Records this round's median and p10-p90 of `samples` in µs, shown as a `raw:` line only.
    fn raw(&mut self, key: &str, samples: &[Duration]) {
        let mut v: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        let m = median(&mut v);
        let at = |q: usize| v.get((v.len() * q / 100).min(v.len().saturating_sub(1)));
        let text = match (at(10), at(90)) {
            (Some(lo), Some(hi)) => format!("{} ({}-{})", figure(m), figure(*lo), figure(*hi)),
            _ => "n/a".to_owned(),
        };
        match self.raw.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v.push(text),
            None => self.raw.push((key.to_owned(), vec![text])),
        }
    }
}

/// How many of each measurement per round.
struct Sizes {
    round_trips: usize,
    reads: usize,
    processes: usize,
}

fn main() -> Res<()> {
    if !common::benchmarking("pcsc") {
        return Ok(());
    }
    let rounds = env_or("SSCARD_BENCH_PCSC_ROUNDS", 5).max(1);
    let n = env_or("SSCARD_BENCH_N", 2000);
    let sizes = Sizes {
        round_trips: (n / rounds).max(100),
        reads: ((n / 10).max(20) / rounds).max(10),
        processes: (env_or("SSCARD_BENCH_RUNS", 200) / rounds).max(10),
    };
    let Some(pcscd) = PrivatePcscd::acquire("bench-pcsc", 36800..37000) else {
        println!("pcsc bench SKIPPED: no private pcscd here");
        return Ok(());
    };
    let pinned = pin(&pcscd)?;
    let bin = common::sscard_bin();
    if bin.is_none() {
        println!(
            "`sscard read` and batch rows SKIPPED: no release binary \
             (cargo build --release -p sscard-cli)"
        );
    }
    let mut tally = Tally::default();
    let mut shuffler = Shuffler(0x5353_4341_5244_0014);
    let started = Instant::now();
    for round in 0..rounds {
        card_2_0(
            &pcscd,
            &sizes,
            round,
            bin.as_deref(),
            &mut shuffler,
            &mut tally,
        )?;
        card_3_0(&pcscd, &sizes, &mut shuffler, &mut tally)?;
        lifecycles(&pcscd, &sizes, &mut shuffler, &mut tally)?;
        println!(
            "raw: round {}/{rounds} done after {:.1} s",
            round + 1,
            started.elapsed().as_secs_f64()
        );
    }
    let mut rows = table(&tally);
    let where_ = match pinned {
        Some(cpu) => format!("this process, its children and pcscd pinned to CPU {cpu}"),
        None => "not pinned to a CPU".to_owned(),
    };

    // Batch through pcscd with `sscard sim serve --feeder` card feeders.
    if let Some(bin) = &bin {
        if let Err(e) = batch_through_pcscd(bin, pcscd.port(), &mut rows) {
            println!("batch through pcscd SKIPPED: {e}");
        }
    }
    println!();
    for (what, rounds) in &tally.raw {
        println!(
            "raw: {what}: µs per round, median (p10-p90): {}",
            rounds.join(", ")
        );
    }
    println!();
    println!(
        "RT = one READ RECORD round trip through pcscd with a bare `pcsc` crate loop, measured \
         in the same round, interleaved; {rounds} rounds of {} round trips per APDU row, {} \
         reads or lifecycles per row, {} processes per process row; simulated T=0 cards and \
         PSAM in the vpcd readers of a private pcscd; {where_}; {:.0} s",
        sizes.round_trips,
        sizes.reads,
        sizes.processes,
        started.elapsed().as_secs_f64()
    );
    print_table(&rows);
    if pinned.is_some() {
        unpin(&pcscd);
    }
    Ok(())
}

/// Pins this process and the private pcscd, every thread of both and whatever they start
/// later, to one CPU: `$SSCARD_BENCH_PCSC_CPU`, by default the last one; `none` leaves them
/// free. Left free on a two-CPU virtual machine, the round trip took 22 µs in one round and
/// 90 µs in the next (most likely hops between CPUs waiting for the hypervisor to wake a halted
/// virtual CPU); on one CPU every hop is a plain switch and the rounds agree to a few percent.
/// Returns the CPU.
fn pin(pcscd: &PrivatePcscd) -> Res<Option<usize>> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let cpu = match std::env::var("SSCARD_BENCH_PCSC_CPU") {
        Ok(v) if v == "none" => return Ok(None),
        Ok(v) => v.parse()?,
        Err(_) => cpus - 1,
    };
    let pcscd_pid = std::fs::read_to_string(pcscd.dir().join("sscard-pcscd.pid"))?;
    for pid in [std::process::id().to_string(), pcscd_pid.trim().to_owned()] {
        taskset(&cpu.to_string(), &pid)?;
    }
    Ok(Some(cpu))
}

/// Lets pcscd run on every CPU again (a pcscd shared with later benchmarks).
fn unpin(pcscd: &PrivatePcscd) {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if let Ok(pid) = std::fs::read_to_string(pcscd.dir().join("sscard-pcscd.pid")) {
        if let Err(e) = taskset(&format!("0-{}", cpus - 1), pid.trim()) {
            println!("raw: pcscd left pinned: {e}");
        }
    }
}

/// `taskset -a -p -c CPUS PID`: every thread of `pid`.
fn taskset(cpus: &str, pid: &str) -> Res<()> {
    let out = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, pid])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "taskset -a -p -c {cpus} {pid}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(())
}

/// READ RECORD of the card number (EF05 by SFI): the reference round trip, on a card whose
/// SSSE is the current DF (part 5 §6.10: READ RECORD by SFI reads in the current DF).
fn card_number_record() -> Res<Apdu> {
    let number = profile::element(Generation::V2, profile::tag::CARD_NUMBER).ok_or("no item")?;
    Ok(read_record(
        Some(Ef::Ef05.sfi()),
        RecordRef::Tag(number.tag),
        number.len + 2,
    ))
}

/// A bare `pcsc` crate connection in shared mode: the reference loop.
struct Bare {
    ctx: pcsc::Context,
    card: pcsc::Card,
    command: Vec<u8>,
    buf: Vec<u8>,
}

impl Bare {
    fn connect() -> Res<Bare> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
        let card = ctx.connect(
            &CString::new(READER)?,
            pcsc::ShareMode::Shared,
            pcsc::Protocols::ANY,
        )?;
        Ok(Bare {
            ctx,
            card,
            command: card_number_record()?.to_bytes()?.to_vec(),
            buf: vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        })
    }

    /// One round trip; the card must answer 9000.
    fn round_trip(&mut self) -> Vec<u8> {
        let answer = self.card.transmit(&self.command, &mut self.buf).unwrap();
        assert!(
            answer.ends_with(&[0x90, 0x00]),
            "READ RECORD: {answer:02X?}"
        );
        answer.to_vec()
    }

    /// The reference as an operation of an interleaved block, `weight` times per iteration.
    fn op(&mut self, weight: usize) -> Op<'_> {
        Op::new(weight, move || (timed(|| self.round_trip()).0, 1))
    }

    /// Disconnects, leaving the card as it is (dropping would reset it, and the other
    /// connections would see CardReset).
    fn close(self) -> Res<()> {
        self.card
            .disconnect(pcsc::Disposition::LeaveCard)
            .map_err(|(_, e)| e)?;
        drop(self.ctx);
        Ok(())
    }
}

/// One operation of an interleaved block: how often per iteration, and the operation itself,
/// which times itself (so that preparing it stays outside the time) and returns its APDUs.
struct Op<'a> {
    weight: usize,
    run: Box<dyn FnMut() -> (Duration, u64) + 'a>,
}

impl<'a> Op<'a> {
    fn new(weight: usize, run: impl FnMut() -> (Duration, u64) + 'a) -> Op<'a> {
        Op {
            weight,
            run: Box::new(run),
        }
    }
}

/// What one operation of a block measured.
#[derive(Default)]
struct Samples {
    times: Vec<Duration>,
    apdus: BTreeSet<u64>,
}

impl Samples {
    fn median(&self) -> f64 {
        median_secs(&self.times)
    }
}

/// A small deterministic generator (xorshift64*) for the order of the operations.
struct Shuffler(u64);

impl Shuffler {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fisher-Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Runs `iterations` iterations of `ops`, each op `weight` times per iteration, in a new
/// random order every iteration: no operation always follows the same one, and the machine's
/// load hits every side alike. The `k`-th samples of weight-1 operations come from the same
/// iteration (pairs).
fn interleave(iterations: usize, shuffler: &mut Shuffler, ops: &mut [Op<'_>]) -> Vec<Samples> {
    let mut samples: Vec<Samples> = ops.iter().map(|_| Samples::default()).collect();
    let mut order: Vec<usize> = ops
        .iter()
        .enumerate()
        .flat_map(|(i, op)| std::iter::repeat_n(i, op.weight))
        .collect();
    for _ in 0..iterations {
        shuffler.shuffle(&mut order);
        for &i in &order {
            let (elapsed, apdus) = (ops[i].run)();
            samples[i].times.push(elapsed);
            samples[i].apdus.insert(apdus);
        }
    }
    samples
}

/// Times `f`.
fn timed<R>(f: impl FnOnce() -> R) -> (Duration, R) {
    let start = Instant::now();
    let r = f();
    (start.elapsed(), r)
}

/// Selects SSSE on the card in the first reader (`00A4 0400` + GET RESPONSE on T=0) through a
/// connection of its own, leaving the card as it is.
fn select_ssse() -> Res<()> {
    let mut select = Channel::new(PcscTransport::connect(READER, ShareMode::Shared)?);
    select.send_ok(&sscard::apdu::commands::select_aid(&profile::SSSE_AID))?;
    assert_eq!(select.apdu_count(), 2, "T=0: SELECT + GET RESPONSE");
    select.into_inner().disconnect(Disposition::Leave)?;
    Ok(())
}

/// A library card on a new shared connection to the first reader.
fn shared_card() -> Res<Card<PcscTransport>> {
    Ok(Card::open(PcscTransport::connect(
        READER,
        ShareMode::Shared,
    )?)?)
}

/// Disconnects a library card, leaving the card as it is.
fn close(card: Card<PcscTransport>) -> Res<()> {
    card.into_transport().disconnect(Disposition::Leave)?;
    Ok(())
}

/// `read_verified` on `card` with `keys` as an operation: checks the data, counts the APDUs.
fn read_op<'a, K: KeyHolder>(
    card: &'a mut Card<PcscTransport>,
    keys: &'a mut K,
    expected: &'a lifecycle::CardData,
) -> Op<'a> {
    Op::new(1, move || {
        let before = card.apdu_count();
        let (elapsed, read) =
            timed(|| lifecycle::read_verified(card, keys, &ReadOptions::default()).unwrap());
        assert_eq!(&read, expected);
        (elapsed, card.apdu_count() - before)
    })
}

/// The round on a 2.0/SM4 card: APDU round trips, transactions, `read` without keys, and
/// `sscard read` as a process against the same read in process.
fn card_2_0(
    pcscd: &PrivatePcscd,
    sizes: &Sizes,
    round: usize,
    bin: Option<&Path>,
    shuffler: &mut Shuffler,
    tally: &mut Tally,
) -> Res<()> {
    let served = insert(
        pcscd,
        0,
        personalized(Generation::V2, Algorithm::Sm4, 0x00BE_0C01),
    )?;
    select_ssse()?;

    // APDU round trips, APDU by APDU: bare, ours, Channel, a transaction, the former end.
    let mut bare = Bare::connect()?;
    let expected = bare.round_trip();
    let command = bare.command.clone();
    let record_cmd = card_number_record()?;
    let mut ours = PcscTransport::connect(READER, ShareMode::Shared)?;
    let mut channel = Channel::new(PcscTransport::connect(READER, ShareMode::Shared)?);
    let mut locking = PcscTransport::connect(READER, ShareMode::Shared)?;
    let mut wrapped = PcscTransport::connect(READER, ShareMode::Shared)?;
    let other = pcsc::Context::establish(pcsc::Scope::User)?;
    let reader = CString::new(READER)?;
    let s = interleave(
        sizes.round_trips,
        shuffler,
        &mut [
            bare.op(1),
            Op::new(1, || (timed(|| ours.transmit(&command).unwrap()).0, 1)),
            Op::new(1, || (timed(|| channel.send_ok(&record_cmd).unwrap()).0, 1)),
            Op::new(1, || {
                let (elapsed, ()) = timed(|| {
                    locking.begin_transaction().unwrap();
                    locking.end_transaction().unwrap();
                });
                (elapsed, 0)
            }),
            Op::new(1, || {
                let (elapsed, ()) = timed(|| {
                    wrapped.begin_transaction().unwrap();
                    wrapped.transmit(&command).unwrap();
                    wrapped.end_transaction().unwrap();
                });
                (elapsed, 1)
            }),
            Op::new(1, || {
                let (elapsed, ()) = timed(|| {
                    let card = other
                        .connect(&reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
                        .unwrap();
                    card.disconnect(pcsc::Disposition::LeaveCard)
                        .map_err(|(_, e)| e)
                        .unwrap();
                });
                (elapsed, 0)
            }),
        ],
    );
    assert_eq!(ours.transmit(&command)?, expected);
    assert_eq!(
        locking.connections(),
        1,
        "a transaction opens no connection"
    );
    let rt = s[0].median();
    tally.raw(
        "READ RECORD round trip, bare `pcsc` crate loop",
        &s[0].times,
    );
    tally.raw(
        "READ RECORD round trip, `PcscTransport::transmit`",
        &s[1].times,
    );
    tally.raw("READ RECORD round trip, `Channel::send`", &s[2].times);
    tally.raw("shared-mode transaction begin + end, no APDU", &s[3].times);
    tally.raw(
        "shared-mode transaction around one READ RECORD",
        &s[4].times,
    );
    tally.raw("SCardConnect + SCardDisconnect", &s[5].times);
    tally.add("rt_us", rt * 1e6);
    tally.add("ours/bare", paired_ratio(&s[1].times, &s[0].times));
    tally.add("channel/bare", paired_ratio(&s[2].times, &s[0].times));
    tally.add("txn", s[3].median() / rt);
    tally.add("txn apdu", s[4].median() / rt);
    tally.add("reconnect", s[5].median() / rt);
    ours.disconnect(Disposition::Leave)?;
    channel.into_inner().disconnect(Disposition::Leave)?;
    locking.disconnect(Disposition::Leave)?;
    wrapped.disconnect(Disposition::Leave)?;
    drop(other);

    // `read` without keys, with bare round trips.
    let mut card = shared_card()?;
    let data = lifecycle::read(&mut card)?; // the first read of a card session selects SSSE
    let s = interleave(
        sizes.reads,
        shuffler,
        &mut [
            Op::new(1, || {
                let before = card.apdu_count();
                let (elapsed, read) = timed(|| lifecycle::read(&mut card).unwrap());
                assert_eq!(read, data);
                (elapsed, card.apdu_count() - before)
            }),
            bare.op(RT_PER_OP),
        ],
    );
    let rt = s[1].median();
    tally.samples("read 2.0", "`read` 2.0/SM4 without keys", &s[0]);
    tally.add("read 2.0", s[0].median() / rt);
    close(card)?;
    bare.close()?;

    // `sscard read` as a process against the same read in process from a fresh connection
    // (dropped at the end, which resets the card, as the process's exit does).
    if let Some(bin) = bin {
        let dir = scratch(&std::env::temp_dir(), "pcsc-read");
        let process = |args: &[&str]| {
            let elapsed = common::run_timed(Command::new(bin).current_dir(&dir).args(args));
            (elapsed, 0)
        };
        let in_process = |keys: bool| {
            let start = Instant::now();
            let mut card = shared_card().unwrap();
            if keys {
                let mut keys = KeyFile::from_json(common::TEST_KEYS).unwrap();
                lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default()).unwrap();
            } else {
                lifecycle::read(&mut card).unwrap();
            }
            let apdus = card.apdu_count();
            drop(card);
            (start.elapsed(), apdus)
        };
        let mut ops = [
            Op::new(1, || {
                process(&["--reader", READER, "--keys", "keys.json", "read"])
            }),
            Op::new(1, || process(&["--reader", READER, "read"])),
            Op::new(1, || in_process(true)),
            Op::new(1, || in_process(false)),
        ];
        interleave(if round == 0 { 5 } else { 2 }, shuffler, &mut ops); // warm-up
        let s = interleave(sizes.processes, shuffler, &mut ops);
        let _ = std::fs::remove_dir_all(&dir);
        tally.raw(
            "`sscard --reader NAME --keys FILE read` process",
            &s[0].times,
        );
        tally.raw("`sscard --reader NAME read` process", &s[1].times);
        tally.samples(
            "in process keys",
            "read_verified 2.0 in process, fresh connection",
            &s[2],
        );
        tally.samples(
            "in process none",
            "read 2.0 in process, fresh connection",
            &s[3],
        );
        tally.add("process keys", s[0].median() / rt);
        tally.add("process none", s[1].median() / rt);
        tally.add("process/in keys", s[0].median() / s[2].median());
        tally.add("process/in none", s[1].median() / s[3].median());
    }
    take_out(served, READER);
    Ok(())
}

/// The round on a 3.0/SM4 card: whole reads in their four ways, each on a connection and a
/// library card of its own, and in process; then shared against exclusive connections.
fn card_3_0(
    pcscd: &PrivatePcscd,
    sizes: &Sizes,
    shuffler: &mut Shuffler,
    tally: &mut Tally,
) -> Res<()> {
    let mut keys = [key_file(), key_file(), key_file(), key_file()];
    let [k_sfi, k_select_ef, k_trace, k_local] = &mut keys;
    let sim = personalized(Generation::V3, Algorithm::Sm4, 0x0000_01AC);
    let mut local = Card::open(SimTransport::new(SimCard::from_image(sim.image().clone())?))?;
    let served = insert(pcscd, 0, sim)?;
    let served_psam = insert(pcscd, 1, psam(Algorithm::Sm4))?;
    let options = ReadOptions::default();
    let mut holder = PsamKeyHolder::open(PcscTransport::connect(PSAM_READER, ShareMode::Shared)?)?;

    // The first read of a card session selects SSSE and authenticates: each way once, untimed.
    let mut sfi = shared_card()?;
    let mut select_ef = shared_card()?.with_addressing(Addressing::SelectEf);
    let mut trace = shared_card()?;
    let mut via_psam = shared_card()?;
    let data = lifecycle::read_verified(&mut sfi, k_sfi, &options)?;
    assert_eq!(
        lifecycle::read_verified(&mut select_ef, k_select_ef, &options)?,
        data
    );
    let trace_line = field_trace_read(&mut trace, k_trace)?;
    let psam_data = lifecycle::read_verified(&mut via_psam, &mut holder, &options)?;
    assert_eq!(psam_data.genuine, Some(true));
    assert_eq!(
        lifecycle::read_verified(&mut local, k_local, &options)?,
        data
    );
    let mut bare = Bare::connect()?;
    let psam_apdus = RefCell::new(BTreeSet::new());
    let s = interleave(
        sizes.reads,
        shuffler,
        &mut [
            read_op(&mut sfi, k_sfi, &data),
            read_op(&mut select_ef, k_select_ef, &data),
            Op::new(1, || {
                let before = trace.apdu_count();
                let (elapsed, line) = timed(|| field_trace_read(&mut trace, k_trace).unwrap());
                assert_eq!(line, trace_line);
                (elapsed, trace.apdu_count() - before)
            }),
            Op::new(1, || {
                let (before, psam_before) = (via_psam.apdu_count(), holder.channel().apdu_count());
                let (elapsed, read) = timed(|| {
                    lifecycle::read_verified(&mut via_psam, &mut holder, &options).unwrap()
                });
                assert_eq!(read, psam_data);
                psam_apdus
                    .borrow_mut()
                    .insert(holder.channel().apdu_count() - psam_before);
                (elapsed, via_psam.apdu_count() - before)
            }),
            Op::new(1, || {
                let before = local.apdu_count();
                let (elapsed, read) =
                    timed(|| lifecycle::read_verified(&mut local, k_local, &options).unwrap());
                assert_eq!(read, data);
                (elapsed, local.apdu_count() - before)
            }),
            bare.op(RT_PER_OP),
        ],
    );
    for card in [sfi, select_ef, trace, via_psam] {
        close(card)?;
    }
    holder.into_inner().disconnect(Disposition::Leave)?;
    bare.close()?;
    let rt = s[5].median();
    for ((key, what), samples) in [
        ("sfi", "SFI"),
        ("select ef", "SELECT EF"),
        ("trace", "the field trace's read"),
        ("psam", "PSAM"),
        ("local", "in process"),
    ]
    .iter()
    .zip(&s)
    {
        tally.samples(key, &format!("3.0/SM4 read: {what}"), samples);
        tally.add(key, samples.median() / rt);
    }
    tally.raw("3.0/SM4 read: bare round trips beside them", &s[5].times);
    for n in psam_apdus.into_inner() {
        tally.apdus("psam psam", n);
    }
    tally.add("select ef/sfi", s[1].median() / s[0].median());
    tally.add("sfi/trace", s[0].median() / s[2].median());
    tally.add("psam/sfi", s[3].median() / s[0].median());

    // Shared against exclusive connections, block by block (an exclusive connection admits no
    // other): the same `read_verified` by SFI on a fresh connection each block, after one
    // untimed read; bare round trips beside the shared reads.
    let mut blocks: [Samples; 3] = Default::default();
    let per_block = (sizes.reads / 4).max(5);
    for _ in 0..4 {
        for share in [ShareMode::Shared, ShareMode::Exclusive] {
            let mut card = Card::open(PcscTransport::connect(READER, share)?)?;
            lifecycle::read_verified(&mut card, k_sfi, &options)?;
            let mut s = if share == ShareMode::Shared {
                let mut bare = Bare::connect()?;
                let s = interleave(
                    per_block,
                    shuffler,
                    &mut [read_op(&mut card, k_sfi, &data), bare.op(RT_PER_OP)],
                );
                bare.close()?;
                s
            } else {
                interleave(per_block, shuffler, &mut [read_op(&mut card, k_sfi, &data)])
            };
            close(card)?;
            let into = usize::from(share == ShareMode::Exclusive);
            for (i, samples) in s.drain(..).enumerate() {
                let block = &mut blocks[if i == 1 { 2 } else { into }];
                block.times.extend(samples.times);
                block.apdus.extend(samples.apdus);
            }
        }
    }
    take_out(served, READER);
    take_out(served_psam, PSAM_READER);
    let [shared, exclusive, rt] = &blocks;
    let rt = rt.median();
    tally.samples("shared", "3.0/SM4 read: SFI, shared blocks", shared);
    tally.samples(
        "exclusive",
        "3.0/SM4 read: SFI, exclusive blocks",
        exclusive,
    );
    tally.add("exclusive", exclusive.median() / rt);
    tally.add("shared/exclusive", shared.median() / exclusive.median());
    tally.add(
        "shared-exclusive",
        (shared.median() - exclusive.median()) / rt,
    );
    Ok(())
}

/// The round's whole lifecycles through pcscd with the PSAM: personalize + read_verified +
/// activate, each on a fresh blank chip, with bare round trips on the cards they made.
fn lifecycles(
    pcscd: &PrivatePcscd,
    sizes: &Sizes,
    shuffler: &mut Shuffler,
    tally: &mut Tally,
) -> Res<()> {
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
        let mut bare = Bare::connect()?;
        let psam_apdus = RefCell::new(BTreeSet::new());
        let lifecycle = Op::new(1, || {
            // the next blank card (same ATR), its chip powered up afresh; not timed
            *chip.lock().unwrap() = blank(Generation::V2, alg, 0x00BE_0D00, &roots);
            let psam_before = holder.channel().apdu_count();
            let mut card = Card::open(transport.take().unwrap()).unwrap();
            let start = Instant::now();
            lifecycle::personalize(
                &mut card,
                &mut holder,
                &data,
                &PersonalizeOptions::default(),
            )
            .unwrap();
            let read =
                lifecycle::read_verified(&mut card, &mut holder, &ReadOptions::default()).unwrap();
            lifecycle::activate_verified(
                &mut card,
                &mut holder,
                &new_pin,
                &ActivateOptions::default(),
            )
            .unwrap();
            let elapsed = start.elapsed();
            assert_eq!(read.genuine, Some(true));
            psam_apdus
                .borrow_mut()
                .insert(holder.channel().apdu_count() - psam_before);
            let apdus = card.apdu_count();
            transport = Some(card.into_transport());
            (elapsed, apdus)
        });
        let mut ops = [lifecycle, bare.op(RT_PER_OP)];
        for _ in 0..3 {
            (ops[0].run)(); // warm-up, and a personalized card for the first round trips
        }
        psam_apdus.borrow_mut().clear();
        let s = interleave(sizes.reads, shuffler, &mut ops);
        drop(ops);
        if let Some(t) = transport {
            t.disconnect(Disposition::Leave)?;
        }
        holder.into_inner().disconnect(Disposition::Leave)?;
        bare.close()?;
        take_out(served, READER);
        take_out(served_psam, PSAM_READER);
        let key = format!("lifecycle {alg}");
        tally.samples(&key, &format!("lifecycle with the PSAM, 2.0/{alg}"), &s[0]);
        for n in psam_apdus.into_inner() {
            tally.apdus(&format!("{key} psam"), n);
        }
        tally.add(&key, s[0].median() / s[1].median());
    }
    Ok(())
}

/// "x RT per APDU" for a figure in RT of `apdus` APDUs.
fn per_apdu(values: &[f64], apdus: Option<u64>) -> String {
    let mut v = values.to_vec();
    match apdus {
        Some(a) if a > 0 => format!("{} RT per APDU", figure(median(&mut v) / a as f64)),
        _ => String::new(),
    }
}

/// The table of the rounds' figures (the batch rows come after it).
fn table(tally: &Tally) -> Vec<Row> {
    let mut rows = Vec::new();
    let rt_us = tally.get("rt_us");
    let mut us = rt_us.to_vec();
    let rt_median = median(&mut us);
    let range = match (us.first(), us.last()) {
        (Some(lo), Some(hi)) => format!("{}-{} µs", figure(*lo), figure(*hi)),
        _ => String::new(),
    };
    rows.push(
        Row::info(
            "pcscd: RT, the unit of the rows below: one READ RECORD round trip, bare `pcsc` \
             crate loop, measured in each round beside what it measures",
            1.0,
            "RT",
        )
        .apdus(1)
        .noise(format!(
            "diagnostic only: median {} µs, rounds {range} ({} rounds)",
            figure(rt_median),
            us.len()
        )),
    );
    for (key, what) in [
        ("ours/bare", "`PcscTransport::transmit`"),
        ("channel/bare", "`Channel::send` over `PcscTransport`"),
    ] {
        let values = tally.get(key);
        let (m, _) = common::over_rounds(values);
        rows.push(
            rounds_row(
                format!("pcscd: {what} / bare loop, per APDU"),
                values,
                "×",
                "medians of interleaved pairs",
            )
            .apdus(1)
            .target("≤ 1.05×", m <= 1.05),
        );
    }
    rows.push(
        rounds_row(
            "pcscd: one shared-mode transaction, begin + end with no APDU \
             (`SCardBeginTransaction` + `SCardEndTransaction`, as `PcscTransport` does now)",
            tally.get("txn"),
            "RT",
            "",
        )
        .apdus(0),
    );
    rows.push(
        rounds_row(
            "pcscd: one shared-mode transaction around one READ RECORD (begin + APDU + end)",
            tally.get("txn apdu"),
            "RT",
            "",
        )
        .apdus(1),
    );
    rows.push(
        rounds_row(
            "pcscd: `SCardConnect` + `SCardDisconnect`, which the end of each transaction cost \
             before da22b9f (for comparison)",
            tally.get("reconnect"),
            "RT",
            "",
        )
        .apdus(0),
    );

    let what = "3.0/SM4";
    let read_rows = [
        (
            "sfi",
            format!("pcscd: `read_verified` {what}, key file (IA + RKSSSE, SFI addressing)"),
        ),
        (
            "select ef",
            format!("pcscd: `read_verified` {what}, key file, the trace's SELECT EF addressing"),
        ),
        (
            "trace",
            format!("pcscd: the field trace's basic read {what} (`hsm` steps, HSM = key file)"),
        ),
        (
            "psam",
            format!("pcscd: `read_verified` {what}, PSAM in the second reader"),
        ),
        (
            "exclusive",
            format!("pcscd: `read_verified` {what}, key file, exclusive connection"),
        ),
    ];
    for (key, name) in read_rows {
        let values = tally.get(key);
        let mut apdus = tally.apdu_text(key);
        let mut count = tally.apdu_count(key);
        if key == "psam" {
            apdus = format!("{apdus} + {} PSAM", tally.apdu_text("psam psam"));
            count = count.zip(tally.apdu_count("psam psam")).map(|(a, b)| a + b);
        }
        rows.push(rounds_row(name, values, "RT", &per_apdu(values, count)).apdus(apdus));
    }
    let values = tally.get("local");
    rows.push(
        rounds_row(
            format!("in process: `read_verified` {what}, key file (no PC/SC), for scale"),
            values,
            "RT",
            "",
        )
        .apdus(tally.apdu_text("sfi")),
    );
    rows.push(rounds_row(
        format!("pcscd: `read_verified` {what}, SELECT EF / SFI addressing"),
        tally.get("select ef/sfi"),
        "×",
        &format!(
            "APDUs {} vs {}",
            tally.apdu_text("select ef"),
            tally.apdu_text("sfi")
        ),
    ));
    rows.push(rounds_row(
        format!("pcscd: `read_verified` / the field trace's read, {what}"),
        tally.get("sfi/trace"),
        "×",
        &format!(
            "APDUs {} vs {}; the library reads all 14 items, the trace 9",
            tally.apdu_text("sfi"),
            tally.apdu_text("trace")
        ),
    ));
    rows.push(rounds_row(
        format!("pcscd: `read_verified` {what}, PSAM in the second reader / key file"),
        tally.get("psam/sfi"),
        "×",
        "",
    ));
    rows.push(rounds_row(
        format!("pcscd: `read_verified` {what}, shared / exclusive connection"),
        tally.get("shared/exclusive"),
        "×",
        "",
    ));
    rows.push(rounds_row(
        format!(
            "pcscd: what an operation's transaction costs in shared mode: `read_verified` \
             {what}, shared − exclusive"
        ),
        tally.get("shared-exclusive"),
        "RT",
        "",
    ));
    let values = tally.get("read 2.0");
    rows.push(
        rounds_row(
            "pcscd: `read` 2.0/SM4 without keys (EF05 + EF06 by SFI)",
            values,
            "RT",
            &per_apdu(values, tally.apdu_count("read 2.0")),
        )
        .apdus(tally.apdu_text("read 2.0")),
    );
    for alg in [Algorithm::Sm4, Algorithm::Tdes] {
        let key = format!("lifecycle {alg}");
        let values = tally.get(&key);
        let count = tally
            .apdu_count(&key)
            .zip(tally.apdu_count(&format!("{key} psam")))
            .map(|(a, b)| a + b);
        rows.push(
            rounds_row(
                format!(
                    "pcscd: lifecycle (personalize + read_verified + activate), PSAM, 2.0/{alg}"
                ),
                values,
                "RT",
                &per_apdu(values, count),
            )
            .apdus(format!(
                "{} + {} PSAM",
                tally.apdu_text(&key),
                tally.apdu_text(&format!("{key} psam"))
            )),
        );
    }
    if !tally.get("process keys").is_empty() {
        let cases = [
            ("keys", "`sscard --reader NAME --keys FILE read` (genuine)"),
            ("none", "`sscard --reader NAME read` (no key holder)"),
        ];
        for (key, what) in cases {
            rows.push(rounds_row(
                format!("process through pcscd: {what}"),
                tally.get(&format!("process {key}")),
                "RT",
                "",
            ));
        }
        for (key, what) in cases {
            rows.push(rounds_row(
                format!(
                    "process through pcscd: {what} / the same read in process from a fresh \
                     connection"
                ),
                tally.get(&format!("process/in {key}")),
                "×",
                "",
            ));
        }
    }
    rows
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

/// `sscard batch` on 1 and 2 virtual readers, each with a `sscard sim serve --feeder`,
/// alternately, `SSCARD_BENCH_BATCH_RUNS` rounds.
fn batch_through_pcscd(bin: &Path, port: u16, rows: &mut Vec<Row>) -> Res<()> {
    let help = Command::new(bin)
        .args(["sim", "serve", "--help"])
        .output()?;
    if !String::from_utf8_lossy(&help.stdout).contains("--feeder") {
        return Err("this `sscard sim serve` has no --feeder yet".into());
    }
    let persons = env_or("SSCARD_BENCH_PCSC_BATCH", 30) as u32;
    let runs = env_or("SSCARD_BENCH_BATCH_RUNS", 3).max(1);
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
        let names = [READER, PSAM_READER];
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
            Ok(elapsed.as_secs_f64())
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
        println!(
            "raw: batch round {}/{runs}: 1 reader {:.1} s, 2 readers {:.1} s for {persons} persons",
            k + 1,
            one[k],
            two[k]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let per = f64::from(persons);
    let poll = POLL.as_secs_f64();
    // seconds per card and reader, in pcscd polls
    let polls_one: Vec<f64> = one.iter().map(|s| s / per / poll).collect();
    let polls_two: Vec<f64> = two.iter().map(|s| s * 2.0 / per / poll).collect();
    let ratios: Vec<f64> = one.iter().zip(&two).map(|(a, b)| a / b).collect();
    let rate = |v: &[f64]| {
        let mut r: Vec<f64> = v.iter().map(|s| per / s).collect();
        figure(median(&mut r))
    };
    let what = format!("{persons} persons, 2.0/3DES, `sscard sim serve --feeder` per reader");
    rows.push(rounds_row(
        format!("batch through pcscd, 1 reader: time per card / pcscd's 400 ms poll; {what}"),
        &polls_one,
        "polls",
        &format!("diagnostic: {} cards/s", rate(&one)),
    ));
    rows.push(rounds_row(
        format!(
            "batch through pcscd, 2 readers: time per card and reader / pcscd's 400 ms poll; \
             {what}"
        ),
        &polls_two,
        "polls",
        &format!("diagnostic: {} cards/s", rate(&two)),
    ));
    let (ratio, _) = common::over_rounds(&ratios);
    rows.push(
        rounds_row(
            "batch through pcscd, 2 readers / 1 reader (cards/s)",
            &ratios,
            "×",
            "",
        )
        .target("≥ 1.7×", ratio >= 1.7),
    );
    Ok(())
}
