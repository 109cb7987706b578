//! Shared by the benchmarks: the test keys, cards and persons they run on; medians, rows and
//! the one table format that `scripts/bench.sh` merges
//! (`| benchmark | median | unit | APDUs | target | result | noise |`).
#![allow(dead_code, clippy::print_stdout)]

use std::time::{Duration, Instant};

use sscard::data::{PersonRecord, Personalization, RegionCode};
use sscard::keyholder::KeyFile;
use sscard::keys::RootKeys;
use sscard::lifecycle::{self, Card, PersonalizeOptions};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, PsamSpec, SimCard, SimPsam, SimTransport};
use sscard::Algorithm;

/// The development key file (TEST KEYS ONLY): national roots of 3DES, SM4 and AES.
pub const TEST_KEYS: &str = include_str!("../../fixtures/keys/test-keys.json");
/// The terminal number of the simulated PSAMs.
pub const TERMINAL: &str = "410100813475";

/// The national roots of the test keys.
pub fn roots() -> RootKeys {
    RootKeys::from_json(TEST_KEYS).unwrap()
}

/// The test keys as a key holder.
pub fn key_file() -> KeyFile {
    KeyFile::from_json(TEST_KEYS).unwrap()
}

/// The label of a generation: `1.0`, `2.0`, `3.0`.
pub fn generation_name(g: Generation) -> &'static str {
    match g {
        Generation::V1 => "1.0",
        Generation::V2 => "2.0",
        Generation::V3 => "3.0",
    }
}

/// The cardholder of the benchmarks' cards of `generation` (region 639900).
pub fn person(generation: Generation) -> Personalization {
    PersonRecord::from_json(&format!(
        r#"{{"ssn":"111111198101011110","name":"张三","sex":"1","ethnicity":"01",
        "birthplace":"110101","birth_date":"19810101","card_number":"KD5578904",
        "generation":"{}","issue_date":"20150711","expiry_date":"20350711","region":"639900",
        "initializing_body":"915600000263990063990001"}}"#,
        generation.number()
    ))
    .unwrap()
    .validate()
    .unwrap()
}

/// A blank simulated card of region 639900 with ATR and card serial `serial` (T=0).
pub fn blank(generation: Generation, alg: Algorithm, serial: u32, roots: &RootKeys) -> SimCard {
    let spec = CardSpec::new(
        generation,
        alg,
        RegionCode::parse("639900").unwrap(),
        serial.to_be_bytes(),
    )
    .with_card_serial(serial.to_be_bytes());
    SimCard::blank(spec, roots).unwrap()
}

/// A simulated card personalized for [`person`] with the key file (initial PIN `123456`).
pub fn personalized(generation: Generation, alg: Algorithm, serial: u32) -> SimCard {
    let roots = roots();
    let mut card = Card::open(SimTransport::new(blank(generation, alg, serial, &roots))).unwrap();
    lifecycle::personalize(
        &mut card,
        &mut KeyFile::new(roots),
        &person(generation),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let mut sim = card.into_transport().into_card();
    sim.reset();
    sim
}

/// A simulated PSAM holding the national roots of `alg`.
pub fn psam(alg: Algorithm) -> SimPsam {
    SimPsam::from_root_keys(&roots(), &PsamSpec::new(alg, TERMINAL)).unwrap()
}

/// One row of the table.
pub struct Row {
    /// What was measured.
    pub name: String,
    /// The median, in `unit`.
    pub median: f64,
    /// The unit of `median` (`µs`, `ms`, `ops/s`, ...).
    pub unit: &'static str,
    /// APDUs per measured operation, or empty.
    pub apdus: String,
    /// The acceptance target, or empty.
    pub target: String,
    /// Whether the target is met (`None`: no target).
    pub pass: Option<bool>,
    /// Noise: the spread of the samples (p5-p95 as a ratio of the median), or a note.
    pub noise: String,
}

impl Row {
    /// A row without a target.
    pub fn info(name: impl Into<String>, median: f64, unit: &'static str) -> Row {
        Row {
            name: name.into(),
            median,
            unit,
            apdus: String::new(),
            target: String::new(),
            pass: None,
            noise: String::new(),
        }
    }

    /// Sets the APDU count.
    pub fn apdus(mut self, apdus: impl ToString) -> Row {
        self.apdus = apdus.to_string();
        self
    }

    /// Sets the target and whether it is met.
    pub fn target(mut self, target: impl Into<String>, pass: bool) -> Row {
        self.target = target.into();
        self.pass = Some(pass);
        self
    }

    /// Sets the noise column.
    pub fn noise(mut self, noise: impl Into<String>) -> Row {
        self.noise = noise.into();
        self
    }
}

/// Median of the samples (sorted in place).
pub fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// The p5-p95 spread of the samples relative to their median, as "±x %" (half the spread).
pub fn spread(samples: &mut [f64]) -> String {
    let m = median(samples);
    let n = samples.len();
    if n < 3 || m == 0.0 {
        return format!("n={n}");
    }
    let lo = samples[n * 5 / 100];
    let hi = samples[(n * 95 / 100).min(n - 1)];
    format!("p5-p95 ±{:.0} %, n={n}", (hi - lo) / m * 50.0)
}

/// A row from duration samples, in µs (or ms when `ms`).
pub fn time_row(name: impl Into<String>, samples: &[Duration], ms: bool) -> Row {
    let scale = if ms { 1e3 } else { 1e6 };
    let mut v: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * scale).collect();
    let m = median(&mut v);
    let noise = spread(&mut v);
    Row::info(name, m, if ms { "ms" } else { "µs" }).noise(noise)
}

/// A row from rate samples (per second).
pub fn rate_row(name: impl Into<String>, rates: &mut [f64], unit: &'static str) -> Row {
    let m = median(rates);
    let noise = spread(rates);
    Row::info(name, m, unit).noise(noise)
}

/// Times one call.
pub fn time<R>(samples: &mut Vec<Duration>, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    samples.push(start.elapsed());
    r
}

/// Operations per second of `ops` calls of `f`, `rounds` times (one rate per round).
pub fn rates(rounds: usize, ops: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..ops {
                f();
            }
            ops as f64 / start.elapsed().as_secs_f64()
        })
        .collect()
}

fn number(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x >= 100_000.0 {
        // thousands separated by a thin space for readability
        let s = format!("{x:.0}");
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push('\u{202f}');
            }
            out.push(c);
        }
        out
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The median of duration samples, in seconds (`NAN` without samples).
pub fn median_secs(samples: &[Duration]) -> f64 {
    let mut v: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
    median(&mut v)
}

/// The median over interleaved pairs of `a[i] / b[i]` (drift of the machine's load cancels out).
pub fn paired_ratio(a: &[Duration], b: &[Duration]) -> f64 {
    let mut r: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.as_secs_f64() / y.as_secs_f64())
        .collect();
    median(&mut r)
}

/// A figure measured once per round: its median over the rounds and the rounds' min-max, as
/// "0.98-1.03, 5 rounds" (`values` are left unsorted).
pub fn over_rounds(values: &[f64]) -> (f64, String) {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let spread = match (v.first(), v.last()) {
        (Some(lo), Some(hi)) if v.len() > 1 => {
            format!("{}-{}, {} rounds", number(*lo), number(*hi), v.len())
        }
        _ => format!("{} round", v.len()),
    };
    (m, spread)
}

/// A row of a figure measured once per round (a ratio, or a count of reference units): the
/// median over the rounds, their min-max in the noise column, then `note` (if not empty).
pub fn rounds_row(name: impl Into<String>, values: &[f64], unit: &'static str, note: &str) -> Row {
    let (m, spread) = over_rounds(values);
    let noise = if note.is_empty() {
        spread
    } else {
        format!("{spread}; {note}")
    };
    Row::info(name, m, unit).noise(noise)
}

/// A figure as the table prints it (2 decimals below 10, 1 below 100, none above).
pub fn figure(x: f64) -> String {
    number(x)
}

/// The table header.
pub const HEADER: &str = "| benchmark | median | unit | APDUs | target | result | noise |\n|---|---:|---|---:|---|---|---|";

/// Prints the rows as a markdown table (with its header).
pub fn print_table(rows: &[Row]) {
    println!();
    println!("{HEADER}");
    for r in rows {
        let result = match r.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "",
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            number(r.median),
            r.unit,
            r.apdus,
            r.target,
            result,
            r.noise
        );
    }
}

/// `cargo bench` passes `--bench`; `cargo test --benches` does not: run only when benchmarking.
pub fn benchmarking(name: &str) -> bool {
    if std::env::args().any(|a| a == "--bench") {
        true
    } else {
        println!("{name} bench: run with `cargo bench --bench {name}` or scripts/bench.sh");
        false
    }
}

/// `$name` parsed, else `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The release `sscard` binary: `$SSCARD_BIN`, else `target/release/sscard` (honouring
/// `$CARGO_TARGET_DIR`). `None` when it was not built (`cargo build --release -p sscard-cli`).
pub fn sscard_bin() -> Option<std::path::PathBuf> {
    if let Some(bin) = std::env::var_os("SSCARD_BIN") {
        return Some(bin.into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let bin = target.join("release/sscard");
    bin.exists().then_some(bin)
}

/// A fresh scratch folder `<base>/sscard-bench-<name>-<pid>` holding `keys.json` (the test
/// keys, mode 0600).
pub fn scratch(base: &std::path::Path, name: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = base.join(format!("sscard-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("keys.json");
    std::fs::write(&keys, include_str!("../../fixtures/keys/test-keys.json")).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

/// A GB 11643 social security number: region 110101, birth date, sequence, check character.
fn ssn(birth: &str, seq: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!("110101{birth}{seq:03}");
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = char::from(b"10X98765432"[(sum % 11) as usize]);
    format!("{body}{check}")
}

/// A card number `A` + 7 digits + check character.
fn card_number(n: u32) -> String {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!("A{n:07}");
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(36).unwrap() * w)
        .sum();
    let check = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).unwrap(),
    };
    format!("{body}{check}")
}

/// A bureau batch file of `n` valid 2.0 persons (region 639900).
pub fn batch_csv(n: u32) -> String {
    let mut text = String::from(
        "ssn,name,sex,ethnicity,birthplace,birth_date,card_number,generation,issue_date,\
         expiry_date,region,initializing_body\n",
    );
    for i in 0..n {
        let birth = format!(
            "1990{:02}{:02}",
            1 + (i / 1000) / 28 % 12,
            1 + (i / 1000) % 28
        );
        let s = ssn(&birth, i % 1000);
        let sex = if (s.as_bytes()[16] - b'0') % 2 == 1 {
            1
        } else {
            2
        };
        text.push_str(&format!(
            "{s},王小明,{sex},01,110101,{birth},{},2,20240101,20340101,639900,639900000001\n",
            card_number(i)
        ));
    }
    text
}

/// Runs `cmd` to completion, returning its wall time; panics with its output on failure.
pub fn run_timed(cmd: &mut std::process::Command) -> Duration {
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}
