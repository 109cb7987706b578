//! Whole-process benchmark of the `sscard` binary (release build), start-up included:
//!
//! - `sscard --version` (process start-up alone, for scale) and `sscard read` on a simulated
//!   card image (`--reader sim:IMAGE`, in process: no pcscd);
//! - `sscard batch` with in-process simulated card feeders (`--reader feeder:DIR`) on 1 and
//!   2 readers, in cards per second: with the journal and the feeders on the disk (as a
//!   printing station runs it; the acceptance figure), and as diagnostics with the journal on
//!   the disk but the simulated card images on tmpfs (`/dev/shm`), and with everything on
//!   tmpfs (nothing reaches a disk), to show what the disk costs.
//!
//! With `$SSCARD_BASELINE_BIN` (`scripts/bench.sh` builds the commit before the per-operation
//! saves, 4c8de7a, with `scripts/bench-baseline.sh`), the on-disk batch also runs that binary on
//! one reader, interleaved with this one's runs, and reports the ratio (target ≥ 4×); each
//! run of this binary reports the journal's fsyncs per card (`journal_fsyncs` of the batch's
//! JSON document; target ≤ 2).
//!
//! Through pcscd (`sscard read --reader NAME`, batch with `sscard sim serve --feeder`) see
//! `benches/pcsc.rs`. Needs `cargo build --release -p sscard-cli` first (or `$SSCARD_BIN`).
//! `SSCARD_BENCH_RUNS` (default 200) process runs per read row; `SSCARD_BENCH_BATCH` persons
//! per batch (default 1000), `SSCARD_BENCH_BATCH_RUNS` batches per reader count (default 5).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{batch_csv, env_or, median, print_table, run_timed, scratch, spread, time_row, Row};

/// The baseline's name for the table: `$SSCARD_BENCH_BASELINE`, else `4c8de7a`.
fn baseline_name() -> String {
    std::env::var("SSCARD_BENCH_BASELINE").unwrap_or_else(|_| "4c8de7a".into())
}

const BATCH_TARGET: f64 = 1.7;
/// One reader on disk against the baseline binary.
const BASELINE_TARGET: f64 = 4.0;
/// The baseline's key file in the scratch folder.
const BASELINE_KEYS: &str = "keys-baseline.json";
/// Journal fsyncs per card.
const FSYNC_TARGET: f64 = 2.0;

fn sscard(bin: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir)
        .env_remove("SSCARD_READER")
        .env("PCSCLITE_CSOCK_NAME", dir.join("no-pcscd.comm"))
        .env("SSCARD_STATION_KEY", dir.join("station.key"));
    cmd
}

/// A personalized 2.0/SM4 image `card.json` (zhang-san) in `dir`.
fn personalized_image(bin: &Path, dir: &Path) {
    run_timed(sscard(bin, dir).args(["sim", "new", "--algorithm", "sm4", "--out", "card.json"]));
    let person = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/persons/zhang-san-2.json");
    run_timed(
        sscard(bin, dir)
            .args(["--reader", "sim:card.json", "--keys", "keys.json"])
            .args(["personalize", "--person"])
            .arg(person),
    );
}

fn process_rows(bin: &Path, rows: &mut Vec<Row>, runs: usize) {
    let dir = scratch(&std::env::temp_dir(), "cli");
    personalized_image(bin, &dir);
    let cases: [(&str, &[&str]); 3] = [
        (
            "process: `sscard --version` (start-up only)",
            &["--version"],
        ),
        (
            "process: `sscard read --reader sim:IMAGE --keys` (in process, no pcscd)",
            &["--reader", "sim:card.json", "--keys", "keys.json", "read"],
        ),
        (
            "process: `sscard read --reader sim:IMAGE --no-verify`",
            &["--reader", "sim:card.json", "read", "--no-verify"],
        ),
    ];
    for (name, args) in cases {
        for _ in 0..5 {
            run_timed(sscard(bin, &dir).args(args)); // warm the page cache
        }
        let samples: Vec<_> = (0..runs)
            .map(|_| run_timed(sscard(bin, &dir).args(args)))
            .collect();
        rows.push(time_row(name, &samples, true));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// CPU seconds (user + system) used by the finished children of this process so far, from
/// `/proc/self/stat` (cutime + cstime, in clock ticks of 1/100 s).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name, which is in parentheses and may contain spaces
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields 16 and 17 of proc(5) are the 14th and 15th after the name
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(13) + ticks(14)) / 100.0
}

/// One batch run: cards/s, CPU cores kept busy on average ((user + system) / wall), and the
/// journal's fsyncs per card when the binary reports them.
struct BatchRun {
    rate: f64,
    cores: f64,
    fsyncs_per_card: Option<f64>,
}

/// `sscard batch` of `input` (in `dir`) with the key file `keys`, its journal and return file in
/// `run`, on the in-process feeders `feeders`.
fn batch_command(
    bin: &Path,
    dir: &Path,
    keys: &str,
    input: &str,
    run: &Path,
    feeders: &[PathBuf],
) -> Command {
    let mut cmd = sscard(bin, dir);
    cmd.args(["--keys", keys, "--output-format", "json"])
        .args(["batch", "--input", input])
        .arg("--journal")
        .arg(run.join("journal.db"))
        .arg("--return-file")
        .arg(run.join("return.csv"));
    for feeder in feeders {
        cmd.arg("--reader")
            .arg(format!("feeder:{}", feeder.display()));
    }
    cmd
}

/// Personalizes `persons` (in `dir/persons.csv`, journal and return file in `dir`) on `readers`
/// in-process feeders in `feeders`.
fn batch_once(bin: &Path, dir: &Path, feeders: &Path, readers: usize, persons: u32) -> BatchRun {
    batch_with_keys(bin, "keys.json", dir, feeders, readers, persons)
}

/// [`batch_once`] with another key file (the baseline reads only the key roles of its time).
fn batch_with_keys(
    bin: &Path,
    keys: &str,
    dir: &Path,
    feeders: &Path,
    readers: usize,
    persons: u32,
) -> BatchRun {
    // A fresh folder per run, all removed at the end of the rows: deleting a run's thousands
    // of files between runs would slow the next run's file creations (ext4 without a journal
    // skips recently deleted inodes when it allocates one).
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let run = dir.join(format!("run-{n}"));
    let cards = feeders.join(format!("run-{n}"));
    for d in [&run, &cards] {
        std::fs::create_dir_all(d).unwrap();
    }
    let feeders: Vec<PathBuf> = (0..readers).map(|r| cards.join(format!("f{r}"))).collect();
    let mut cmd = batch_command(bin, dir, keys, "persons.csv", &run, &feeders);
    // every run starts on a clean page cache: the previous run's images (the baseline writes
    // ~100 KB a card) are not written back during this one, slowing its fsyncs
    let _ = Command::new("sync").status();
    let cpu_before = children_cpu();
    let start = std::time::Instant::now();
    let output = cmd.output().unwrap();
    let elapsed = start.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cores = (children_cpu() - cpu_before) / elapsed.as_secs_f64();
    let returned = std::fs::read_to_string(run.join("return.csv")).unwrap();
    let ok = returned.lines().filter(|l| l.contains(",OK,")).count();
    assert_eq!(ok, persons as usize, "not every person was personalized");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let fsyncs_per_card = document["journal_fsyncs"]
        .as_f64()
        .map(|n| n / f64::from(persons));
    BatchRun {
        rate: f64::from(persons) / elapsed.as_secs_f64(),
        cores,
        fsyncs_per_card,
    }
}

/// The machine's own ceiling for two readers: two separate `sscard batch` processes side by
/// side, each with its own journal, feeder and half of the persons (`persons-a.csv`,
/// `persons-b.csv` in `dir`): nothing shared but the machine. Returns cards/s.
fn batch_two_processes(bin: &Path, dir: &Path, feeders: &Path, persons: u32) -> f64 {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let commands: Vec<Command> = ["a", "b"]
        .iter()
        .map(|half| {
            let run = dir.join(format!("apart-{n}-{half}"));
            let cards = feeders.join(format!("apart-{n}-{half}"));
            for d in [&run, &cards] {
                std::fs::create_dir_all(d).unwrap();
            }
            let input = format!("persons-{half}.csv");
            let mut cmd = batch_command(bin, dir, "keys.json", &input, &run, &[cards.join("f")]);
            cmd.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            cmd
        })
        .collect();
    let _ = Command::new("sync").status();
    let start = std::time::Instant::now();
    let children: Vec<_> = commands
        .into_iter()
        .map(|mut c| c.spawn().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    f64::from(persons) / start.elapsed().as_secs_f64()
}

fn runs_text(values: &[f64]) -> String {
    values
        .iter()
        .map(|r| format!("{r:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Batch rows with the journal in `base` and the feeders' card images in `feeders_base`;
/// with `baseline`, that binary's one-reader runs interleaved and compared.
fn batch_rows(
    bin: &Path,
    rows: &mut Vec<Row>,
    (base, feeders_base): (&Path, &Path),
    label: &str,
    target: bool,
    baseline: Option<&Path>,
) {
    let persons = env_or("SSCARD_BENCH_BATCH", 1000) as u32;
    let runs = env_or("SSCARD_BENCH_BATCH_RUNS", 5);
    let dir = scratch(base, "batch");
    let feeders = scratch(feeders_base, "feeders");
    let csv = batch_csv(persons);
    std::fs::write(dir.join("persons.csv"), &csv).unwrap();
    // the same persons in two halves, for two separate processes
    let (header, body) = csv.split_once('\n').unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let (a, b) = lines.split_at(lines.len() / 2);
    for (half, part) in [("a", a), ("b", b)] {
        let text = format!("{header}\n{}\n", part.join("\n"));
        std::fs::write(dir.join(format!("persons-{half}.csv")), text).unwrap();
    }
    if let Some(old_bin) = baseline {
        // the test keys as the baseline's source tree has them (bin: DIR/target/release/sscard)
        let keys = old_bin
            .ancestors()
            .nth(3)
            .unwrap()
            .join("src/fixtures/keys/test-keys.json");
        let to = dir.join(BASELINE_KEYS);
        std::fs::copy(keys, &to).unwrap();
        std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
    batch_once(bin, &dir, &feeders, 1, persons); // warm-up
    let (mut one, mut two, mut old) = (Vec::new(), Vec::new(), Vec::new());
    let mut apart = Vec::new();
    let (mut cores1, mut cores2) = (Vec::new(), Vec::new());
    let mut fsyncs = Vec::new();
    for _ in 0..runs {
        // interleaved, so that drift in the machine's load hits all alike
        if let Some(old_bin) = baseline {
            let run = batch_with_keys(old_bin, BASELINE_KEYS, &dir, &feeders, 1, persons);
            old.push(run.rate);
        }
        let run = batch_once(bin, &dir, &feeders, 1, persons);
        one.push(run.rate);
        cores1.push(run.cores);
        fsyncs.extend(run.fsyncs_per_card);
        let run = batch_once(bin, &dir, &feeders, 2, persons);
        two.push(run.rate);
        cores2.push(run.cores);
        fsyncs.extend(run.fsyncs_per_card);
        apart.push(batch_two_processes(bin, &dir, &feeders, persons));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&feeders);
    let mut ratios: Vec<f64> = one.iter().zip(&two).map(|(a, b)| b / a).collect();
    let what = format!("{persons} persons, 2.0/3DES, in-process feeders `feeder:DIR`, {label}");
    let mut r1 = one.clone();
    let mut r2 = two.clone();
    rows.push(
        Row::info(
            format!("batch, 1 reader: {what}"),
            median(&mut r1),
            "cards/s",
        )
        .noise(format!(
            "{}; CPU busy {:.2} cores",
            spread(&mut one),
            median(&mut cores1)
        )),
    );
    rows.push(
        Row::info(
            format!("batch, 2 readers: {what}"),
            median(&mut r2),
            "cards/s",
        )
        .noise(format!(
            "{}; CPU busy {:.2} cores",
            spread(&mut two),
            median(&mut cores2)
        )),
    );
    let ratio = median(&mut ratios);
    let noise = format!("runs: {}", runs_text(&ratios));
    let row = Row::info(format!("batch, 2 readers / 1 reader, {label}"), ratio, "×").noise(noise);
    rows.push(if target {
        row.target(format!("≥ {BATCH_TARGET}×"), ratio >= BATCH_TARGET)
    } else {
        row
    });
    let mut apart_ratios: Vec<f64> = one.iter().zip(&apart).map(|(a, b)| b / a).collect();
    let apart_ratio = median(&mut apart_ratios);
    rows.push(
        Row::info(
            format!(
                "batch, two separate processes (own journal and feeder, half the persons each) / 1 reader, {label} (diagnostic: the machine's ceiling for two readers)"
            ),
            apart_ratio,
            "×",
        )
        .noise(format!("runs: {}", runs_text(&apart_ratios))),
    );
    if !fsyncs.is_empty() && target {
        let worst = fsyncs.iter().copied().fold(0.0, f64::max);
        let noise = format!("worst run {worst:.3}; {} runs", fsyncs.len());
        rows.push(
            Row::info(
                format!("batch: journal fsyncs per card, {label}"),
                median(&mut fsyncs),
                "fsyncs",
            )
            .target(format!("≤ {FSYNC_TARGET}"), worst <= FSYNC_TARGET)
            .noise(noise),
        );
    }
    if !old.is_empty() {
        let name = baseline_name();
        let mut old_sorted = old.clone();
        rows.push(
            Row::info(
                format!("batch, 1 reader, the baseline {name} built in the same run: {what}"),
                median(&mut old_sorted),
                "cards/s",
            )
            .noise(spread(&mut old.clone())),
        );
        let mut gains: Vec<f64> = one.iter().zip(&old).map(|(new, old)| new / old).collect();
        let gain = median(&mut gains);
        rows.push(
            Row::info(
                format!("batch, 1 reader, this build / the baseline {name}, {label}"),
                gain,
                "×",
            )
            .target(format!("≥ {BASELINE_TARGET}×"), gain >= BASELINE_TARGET)
            .noise(format!("runs: {}", runs_text(&gains))),
        );
    }
}

fn main() {
    if !common::benchmarking("cli") {
        return;
    }
    let Some(bin) = common::sscard_bin() else {
        println!("cli bench SKIPPED: no release `sscard` (cargo build --release -p sscard-cli)");
        return;
    };
    let runs = env_or("SSCARD_BENCH_RUNS", 200);
    let mut rows = Vec::new();
    process_rows(&bin, &mut rows, runs);
    let disk = std::env::temp_dir();
    let fs = fs_of(&disk);
    let baseline = std::env::var_os("SSCARD_BASELINE_BIN")
        .map(PathBuf::from)
        .filter(|p| p.exists());
    batch_rows(
        &bin,
        &mut rows,
        (&disk, &disk),
        &format!("journal + feeders on disk ({fs})"),
        true,
        baseline.as_deref(),
    );
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        batch_rows(
            &bin,
            &mut rows,
            (&disk, &shm),
            &format!("journal on disk ({fs}), feeder card images on tmpfs (diagnostic)"),
            false,
            None,
        );
        batch_rows(
            &bin,
            &mut rows,
            (&shm, &shm),
            "journal + feeders on tmpfs (diagnostic: no disk)",
            false,
            None,
        );
    }
    println!();
    println!("`{}`, {runs} runs per process row", bin.display());
    print_table(&rows);
}

/// The file system type of `path` (from /proc/mounts, longest matching mount point).
fn fs_of(path: &Path) -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, point, fs) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(point)
                .then(|| (point.len(), fs.to_string()))
        })
        .max()
        .map(|(_, fs)| fs)
        .unwrap_or_else(|| "unknown fs".into())
}
