//! What a batch costs the disk per card (issue 14): a simulated card's image is written at most
//! twice (put into the reader blank, saved when personalization ends) and moved once into its
//! tray, and the journal is fsynced about once per card (at most twice), counted by the batch
//! itself (`journal_fsyncs` of its JSON document) and, independently, by strace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;

const PERSONS: u32 = 30;

fn batch_args(cmd: &mut assert_cmd::Command, readers: &[&str]) {
    for r in readers {
        cmd.args(["--reader", r]);
    }
    cmd.args(["--keys", "keys.json", "--output-format", "json", "batch"])
        .args(["--input", "persons.csv", "--journal", "journal.db"])
        .args(["--return-file", "return.csv"]);
}

fn ok_rows(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("return.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(",OK,"))
        .count()
}

#[test]
fn the_batch_counts_its_journal_fsyncs_and_makes_at_most_two_per_card() {
    for readers in [&["feeder:f1"][..], &["feeder:f1", "feeder:f2"][..]] {
        let dir = workdir();
        let d = dir.path();
        std::fs::write(d.join("persons.csv"), csv(PERSONS)).unwrap();
        let mut cmd = sscard(d);
        batch_args(&mut cmd, readers);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(ok_rows(d), PERSONS as usize);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let fsyncs = doc["journal_fsyncs"].as_u64().unwrap();
        // every card's `started` entry is durable before the card is written: one fsync a
        // card with one reader; with two, one fsync covers both readers' entries when they
        // meet (a reader waits for its own, so one fsync never covers more than two); a few
        // for the run
        let least = u64::from(PERSONS) / readers.len() as u64;
        assert!(
            (least..=2 * u64::from(PERSONS)).contains(&fsyncs),
            "{readers:?}: {fsyncs} journal fsyncs for {PERSONS} cards"
        );
    }
}

/// The system calls of one batch under strace (`None` when strace is not installed and this is
/// not CI, which installs it: scripts/install-deps.sh).
fn strace_batch(d: &Path) -> Option<String> {
    let found = std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "strace is needed (scripts/install-deps.sh installs it)"
        );
        eprintln!("strace not installed: the system-call count is skipped");
        return None;
    }
    let bin = assert_cmd::cargo::cargo_bin("sscard");
    let mut cmd = assert_cmd::Command::new("strace");
    cmd.current_dir(d)
        .env_remove("SSCARD_READER")
        .env("SSCARD_STATION_KEY", d.join("station.key"))
        .args(["-f", "-qq", "-y", "-o", "trace.txt"])
        .args([
            "-e",
            "trace=fsync,fdatasync,openat,rename,renameat,renameat2,unlink,unlinkat",
        ])
        .arg(bin);
    batch_args(&mut cmd, &["feeder:f1"]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ok_rows(d), PERSONS as usize);
    Some(std::fs::read_to_string(d.join("trace.txt")).unwrap())
}

#[test]
fn strace_counts_one_journal_fsync_two_image_writes_three_renames_and_one_exchange_per_card() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(PERSONS)).unwrap();
    let Some(trace) = strace_batch(d) else {
        return;
    };
    let calls = |name: &str, what: &dyn Fn(&str) -> bool| {
        trace
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|c| c.starts_with(name))
            })
            .filter(|l| what(l))
            .count() as u32
    };
    let journal_fsyncs = calls("fsync(", &|l| l.contains("journal.db"))
        + calls("fdatasync(", &|l| l.contains("journal.db"));
    let image_files = calls("openat(", &|l| {
        l.contains(".in-reader.json.") && l.contains("O_CREAT")
    });
    let renames = calls("rename", &|l| l.contains("in-reader.json"));
    let image_fsyncs = calls("fsync(", &|l| l.contains("in-reader"))
        + calls("fdatasync(", &|l| l.contains("in-reader"));
    assert!(
        journal_fsyncs <= 2 * PERSONS,
        "{journal_fsyncs} journal fsyncs for {PERSONS} cards"
    );
    assert!(
        journal_fsyncs >= PERSONS,
        "{journal_fsyncs}: every card's start is durable"
    );
    // the blank card put in, the card when personalization ended: no save per write
    assert_eq!(image_files, 2 * PERSONS, "card image files written");
    // those two into the reader, and the card out into its tray
    assert_eq!(renames, 3 * PERSONS, "renames of the card in the reader");
    // the save that replaces the blank is an exchange of names, not a rename over it (which
    // makes ext4 write the new image out at once), and the blank's old file is removed
    let exchanges = calls("renameat2(", &|l| {
        l.contains("in-reader.json") && l.contains("RENAME_EXCHANGE")
    });
    let removed = calls("unlink", &|l| l.contains(".in-reader.json."));
    assert_eq!(exchanges, PERSONS, "images replaced by an exchange");
    assert_eq!(removed, PERSONS, "old images removed after the exchange");
    // a feeder's images survive a killed process, not a power loss: never fsynced
    assert_eq!(image_fsyncs, 0);
}
