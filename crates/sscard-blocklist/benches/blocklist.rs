//! The blocklist at a province's scale (docs/blocklist.md, docs/performance.md): ten million
//! single cards, against a naive terminal that keeps `"<card id>|<card number>"` strings in a
//! `HashSet<String>` loaded from a text file, measured in the same run:
//!
//! - look-up of a card (half listed, half not), median per look-up: target ≤ 1 µs;
//! - load and verify the signed full list from disk (read, SM3 + SM2 signature, layout
//!   checks): target ≤ 1 s;
//! - bytes per entry on disk (the signed file) and in memory (the list's buffers; the resident
//!   set growth as a cross-check): target ≤ 16;
//! - applying a signed delta of 10 000 entries (verify, merge) to the loaded list: target
//!   ≤ 50 ms; and, as a diagnostic, the same through the store on disk (written, fsync'ed,
//!   renamed).
//!
//! `cargo bench -p sscard-blocklist --bench blocklist` (or `scripts/bench.sh`) prints markdown
//! table rows. `SSCARD_BENCH_BLOCKLIST_N` sets the entries (default 10 000 000; the targets are
//! for that size); `SSCARD_BENCH_RUNS` the loads and delta applications timed (default 7).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    missing_docs
)]

use std::collections::HashSet;
use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use sscard_blocklist::{
    sign_delta, sign_full, Entry, IssuerKey, Mark, Period, Reason, Store, TerminalList,
};
use sscard_core::data::{BcdDate, CardIdentificationCode, CardNumber, RegionCode};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A deterministic pseudo-random sequence.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const REGIONS: [&str; 8] = [
    "510100", "510300", "510400", "510500", "510600", "510700", "510800", "510900",
];

/// Card `i` of the province: its city, a serial counting up per city (as issuers assign them),
/// an opaque authentication code and a card number with its check character.
fn card(i: u64, regions: &[RegionCode]) -> (CardIdentificationCode, CardNumber) {
    let r = mix(i);
    let region = regions[(r % regions.len() as u64) as usize];
    let serial = (0x0100_0000 + i) as u32;
    let auth = (r >> 32) as u32;
    let body = (i * 7919 + 1_000_000) % 2_821_109_907_456;
    let mut digits = [b'0'; 8];
    let mut v = body;
    for slot in digits.iter_mut().rev() {
        let d = (v % 36) as u8;
        *slot = if d < 10 { b'0' + d } else { b'A' + d - 10 };
        v /= 36;
    }
    let number = CardNumber::with_check(std::str::from_utf8(&digits).unwrap()).unwrap();
    let id = CardIdentificationCode {
        region,
        serial: serial.to_be_bytes(),
        auth_code: auth.to_be_bytes(),
    };
    (id, number)
}

fn naive_key(id: &CardIdentificationCode, number: &CardNumber) -> String {
    format!("{id}|{number}")
}

fn mark(i: u64) -> Mark {
    let day = 1 + (i % 28) as u8;
    let month = 1 + (i / 28 % 12) as u8;
    let year = 2015 + (i % 11) as u16;
    Mark::new(
        Reason::ALL[(i % 4) as usize],
        BcdDate::new(year, month, day).unwrap(),
    )
    .unwrap()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Half the p5-p95 spread around the median, in percent.
fn spread(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
    let m = p(0.5);
    if m == 0.0 {
        0.0
    } else {
        (p(0.95) - p(0.05)) / 2.0 / m * 100.0
    }
}

fn row(name: &str, value: f64, unit: &str, target: Option<(f64, &str)>, note: &str) {
    let (target, result) = match target {
        Some((limit, text)) => (
            text.to_owned(),
            if value <= limit { "PASS" } else { "FAIL" },
        ),
        None => (String::new(), ""),
    };
    let shown = if unit == "B" {
        format!("{value:.2}")
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    println!("| {name} | {shown} | {unit} |  | {target} | {result} | {note} |");
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("run with `cargo bench -p sscard-blocklist --bench blocklist`");
        return;
    }
    let n = env_or("SSCARD_BENCH_BLOCKLIST_N", 10_000_000);
    let runs = env_or("SSCARD_BENCH_RUNS", 7).max(3) as usize;
    let regions: Vec<RegionCode> = REGIONS.iter().map(|r| r.parse().unwrap()).collect();
    let key = IssuerKey::generate();
    let public = key.public().unwrap();
    let day: BcdDate = "20261201".parse().unwrap();
    let period = Period {
        issued: day,
        valid_from: day,
        valid_until: "20261231".parse().unwrap(),
    };
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("blocklist ({n} entries)");

    // the signed full list and the naive text file, from the same cards
    let t = Instant::now();
    let full = sign_full(
        &key,
        1,
        period,
        (0..n).map(|i| {
            let (card_id, card_number) = card(i, &regions);
            (
                Entry::Card {
                    card_id,
                    card_number,
                },
                mark(i),
            )
        }),
    )
    .unwrap();
    eprintln!(
        "signed full list: {} bytes in {:?}",
        full.len(),
        t.elapsed()
    );
    let full_path = dir.path().join("full.ssbl");
    std::fs::write(&full_path, &full).unwrap();
    drop(full);
    let text_path = dir.path().join("naive.txt");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&text_path).unwrap());
        for i in 0..n {
            let (id, number) = card(i, &regions);
            let m = mark(i);
            writeln!(w, "{}|{}|{}", naive_key(&id, &number), m.reason, m.date).unwrap();
        }
    }
    // the delta: 10 000 cards reported since, 100 taken off
    let delta_n = 10_000u64;
    let delta = sign_delta(
        &key,
        2,
        period,
        (n..n + delta_n).map(|i| {
            let (card_id, card_number) = card(i, &regions);
            (
                Entry::Card {
                    card_id,
                    card_number,
                },
                mark(i),
            )
        }),
        (0..100u64).map(|i| {
            let (card_id, card_number) = card(i * 97, &regions);
            Entry::Card {
                card_id,
                card_number,
            }
        }),
    )
    .unwrap();
    let delta_lines: Vec<String> = (n..n + delta_n)
        .map(|i| {
            let (id, number) = card(i, &regions);
            let m = mark(i);
            format!("{}|{}|{}", naive_key(&id, &number), m.reason, m.date)
        })
        .collect();

    // load + verify, and the baseline's load
    let mut load = Vec::new();
    let mut list = None;
    for _ in 0..runs {
        drop(list.take());
        let t = Instant::now();
        let bytes = std::fs::read(&full_path).unwrap();
        let l = TerminalList::from_full(bytes, &public, Some(day)).unwrap();
        load.push(secs(t.elapsed()));
        list = Some(l);
    }
    let list = list.unwrap();
    assert_eq!(list.len(), n);
    let mut naive_load = Vec::new();
    let mut naive = None;
    for _ in 0..3 {
        drop(naive.take());
        let t = Instant::now();
        let text = std::fs::read_to_string(&text_path).unwrap();
        let mut set: HashSet<String> = HashSet::new();
        for line in text.lines() {
            let key = line.rsplitn(3, '|').nth(2).unwrap_or(line);
            set.insert(key.to_owned());
        }
        naive_load.push(secs(t.elapsed()));
        naive = Some(set);
    }
    drop(naive);

    // memory: the list's buffers (capacities); the naive set's table slots (24-byte String
    // and a control byte each) and string bytes, allocator overhead not counted
    let list_heap = list.heap_bytes() as f64 / n as f64;
    let mut set: HashSet<String> = HashSet::new();
    for i in 0..n {
        let (id, number) = card(i, &regions);
        set.insert(naive_key(&id, &number));
    }
    let slots = (set.capacity() * 8 / 7).next_power_of_two();
    let naive_heap =
        (slots * 25 + set.iter().map(String::capacity).sum::<usize>()) as f64 / n as f64;

    // look-ups: batches of 512 cards, half listed, half not; median time per look-up
    let probes: Vec<(CardIdentificationCode, CardNumber)> = (0..20_480u64)
        .map(|j| {
            let i = mix(j ^ 0xABCD) % n;
            if j % 2 == 0 {
                card(i, &regions)
            } else {
                card(n + delta_n + i, &regions)
            }
        })
        .collect();
    let probe_strings: Vec<(CardIdentificationCode, CardNumber)> = probes.clone();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut found = 0usize;
    for _round in 0..5 {
        for batch in probes.chunks(512) {
            let t = Instant::now();
            for (id, number) in batch {
                found += usize::from(black_box(list.lookup(id, number)).is_some());
            }
            ours.push(secs(t.elapsed()) / batch.len() as f64 * 1e9);
        }
        for batch in probe_strings.chunks(512) {
            let t = Instant::now();
            for (id, number) in batch {
                found += usize::from(black_box(set.contains(&naive_key(id, number))));
            }
            theirs.push(secs(t.elapsed()) / batch.len() as f64 * 1e9);
        }
    }
    assert_eq!(
        found,
        2 * 5 * probes.len() / 2,
        "half of the probes are listed"
    );
    let naive_disk = std::fs::metadata(&text_path).unwrap().len() as f64 / n as f64;
    let disk = std::fs::metadata(&full_path).unwrap().len() as f64 / n as f64;

    // delta application, in memory (verify + merge) and through the store (plus fsync)
    let mut apply = Vec::new();
    for _ in 0..runs {
        let mut l = list.clone();
        let t = Instant::now();
        let applied = l.apply(delta.clone(), &public, Some(day)).unwrap();
        apply.push(secs(t.elapsed()) * 1e3);
        assert_eq!(applied.to, 2);
        assert_eq!(l.len(), n + delta_n - 100);
    }
    let mut naive_apply = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        for line in &delta_lines {
            let key = line.rsplitn(3, '|').nth(2).unwrap_or(line);
            set.insert(key.to_owned());
        }
        for i in 0..100u64 {
            let (id, number) = card(i * 97, &regions);
            set.remove(&naive_key(&id, &number));
        }
        naive_apply.push(secs(t.elapsed()) * 1e3);
        // undone outside the timing, for the next run
        for line in &delta_lines {
            let key = line.rsplitn(3, '|').nth(2).unwrap_or(line);
            set.remove(key);
        }
        for i in 0..100u64 {
            let (id, number) = card(i * 97, &regions);
            set.insert(naive_key(&id, &number));
        }
    }
    let store_dir = dir.path().join("store");
    let mut store_apply = Vec::new();
    for r in 0..runs.min(3) {
        let path = store_dir.join(r.to_string());
        let mut store =
            Store::create(&path, std::fs::read(&full_path).unwrap(), &public, None).unwrap();
        let t = Instant::now();
        store.apply(delta.clone(), Some(day)).unwrap();
        store_apply.push(secs(t.elapsed()) * 1e3);
    }

    let m_load = median(&mut load);
    let m_naive_load = median(&mut naive_load);
    let m_ours = median(&mut ours);
    let m_theirs = median(&mut theirs);
    let m_apply = median(&mut apply);
    let m_naive_apply = median(&mut naive_apply);
    let m_store = median(&mut store_apply);
    let lookup_note = format!(
        "HashSet<String> {:.2} µs (×{:.2}); p5-p95 ±{:.0} %, n={} batches of 512",
        m_theirs / 1e3,
        m_ours / m_theirs,
        spread(&ours),
        ours.len()
    );
    row(
        &format!("{tag}: look-up of a card (half listed), median"),
        m_ours / 1e3,
        "µs",
        Some((1.0, "≤ 1 µs")),
        &lookup_note,
    );
    row(
        &format!("{tag}: load and verify the signed full list (read, SM2/SM3, layout)"),
        m_load,
        "s",
        Some((1.0, "≤ 1 s")),
        &format!(
            "HashSet<String> from text, unsigned {m_naive_load:.2} s (×{:.2}); p5-p95 ±{:.0} %, n={runs}",
            m_load / m_naive_load,
            spread(&load)
        ),
    );
    row(
        &format!("{tag}: bytes per entry on disk (signed full list)"),
        disk,
        "B",
        Some((16.0, "≤ 16 B")),
        &format!("text file {naive_disk:.1} B (×{:.2})", disk / naive_disk),
    );
    row(
        &format!("{tag}: bytes per entry in memory (the list's buffers)"),
        list_heap,
        "B",
        Some((16.0, "≤ 16 B")),
        &format!(
            "HashSet<String> ≥ {naive_heap:.0} B (×{:.2}; slots and string bytes, allocator overhead not counted)",
            list_heap / naive_heap,
        ),
    );
    row(
        &format!("{tag}: apply a signed delta of 10 000 entries (+100 removals), in memory"),
        m_apply,
        "ms",
        Some((50.0, "≤ 50 ms")),
        &format!(
            "HashSet<String> unsigned {m_naive_apply:.1} ms (×{:.2}); p5-p95 ±{:.0} %, n={runs}",
            m_apply / m_naive_apply,
            spread(&apply)
        ),
    );
    row(
        &format!("{tag}: the same through the terminal's store (write, fsync, rename)"),
        m_store,
        "ms",
        None,
        &format!("diagnostic; n={}", store_apply.len()),
    );
}
