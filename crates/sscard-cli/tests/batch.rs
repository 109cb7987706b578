//! End-to-end tests of `sscard batch` on simulated card feeders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;
use sscard_core::profile::Ef;
use sscard_sim::{AppState, CardImage};

const EXIT_BAD_INPUT: i32 = 6;
const EXIT_BATCH_INCOMPLETE: i32 = 9;

/// Return file rows by result.
fn return_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// SSN of every personalized card a feeder took out, with how many cards carry it.
fn cards_by_ssn(feeders: &[&Path]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for f in feeders {
        for entry in std::fs::read_dir(f.join("cards")).unwrap() {
            let image = CardImage::load(&entry.unwrap().path()).unwrap();
            assert_eq!(image.app_state, AppState::Personalized);
            let ssn = image.record_value(Ef::Ef06, 0x08).unwrap();
            let ssn = String::from_utf8_lossy(ssn).trim().to_owned();
            *out.entry(ssn).or_insert(0) += 1;
        }
    }
    out
}

fn batch(dir: &Path, readers: &[&str], extra: &[&str]) -> std::process::Output {
    let mut cmd = sscard(dir);
    for r in readers {
        cmd.args(["--reader", r]);
    }
    cmd.args([
        "--keys",
        "keys.json",
        "batch",
        "--input",
        "persons.csv",
        "--journal",
        "journal.db",
        "--return-file",
        "return.csv",
    ])
    .args(extra)
    .output()
    .unwrap()
}

#[test]
fn malformed_rows_and_duplicates_are_reported_and_skipped() {
    let dir = workdir();
    let d = dir.path();
    let mut text = csv(4);
    // line 6: wrong SSN check character; line 7: bad date; line 8: duplicate of line 2;
    // line 9: too few cells; line 10: duplicate card number
    let wrong_check = {
        let mut s = ssn(7, "19900101");
        let last = s.pop().unwrap();
        s.push(if last == '1' { '2' } else { '1' });
        s
    };
    text.push_str(&format!(
        "{wrong_check},李四,1,01,110101,19900101,{},2,20240101,20340101,639900,639900000001\n",
        card_number(50)
    ));
    let s = ssn(60, "19900101");
    text.push_str(&format!(
        "{s},李四,{},01,110101,19900101,{},2,2024-01-01,20340101,639900,639900000001\n",
        sex_of(&s),
        card_number(60)
    ));
    text.push_str(&csv_row(0));
    text.push('\n');
    text.push_str("only,three,cells\n");
    let s = ssn(70, "19900101");
    text.push_str(&format!(
        "{s},李四,{},01,110101,19900101,{},2,20240101,20340101,639900,639900000001\n",
        sex_of(&s),
        card_number(1)
    ));
    std::fs::write(d.join("persons.csv"), text).unwrap();

    let check = sscard(d)
        .args([
            "batch",
            "--input",
            "persons.csv",
            "--journal",
            "j",
            "--return-file",
            "r",
            "--check-only",
        ])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(EXIT_BATCH_INCOMPLETE));

    let out = batch(d, &["feeder:feeder"], &[]);
    assert_eq!(
        out.status.code(),
        Some(EXIT_BATCH_INCOMPLETE),
        "{}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("line 6: skipped: ssn"), "{err}");
    assert!(err.contains("line 7: skipped: issue_date"), "{err}");
    assert!(
        err.contains("line 8: skipped: duplicate ssn (first on line 2)"),
        "{err}"
    );
    assert!(err.contains("line 9: skipped"), "{err}");
    assert!(
        err.contains("line 10: skipped: duplicate card_number (first on line 3)"),
        "{err}"
    );
    let rows = return_rows(&d.join("return.csv"));
    assert_eq!(rows.len(), 9);
    let results: Vec<&str> = rows.iter().map(|r| r["result"].as_str()).collect();
    assert_eq!(
        results,
        [
            "OK",
            "OK",
            "OK",
            "OK",
            "INVALID",
            "INVALID",
            "DUPLICATE",
            "INVALID",
            "DUPLICATE"
        ]
    );
    for r in rows.iter().take(4) {
        assert!(r["card_id"].starts_with("639900D156000005"));
        assert!(r["atr"].starts_with("3B"));
        assert!(!r["card_number"].is_empty());
    }
    assert_eq!(cards_by_ssn(&[&d.join("feeder")]).len(), 4);
}

#[test]
fn unknown_column_and_gbk_input() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), "ssn,nmae\n1,2\n").unwrap();
    let out = batch(d, &["feeder:feeder"], &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    assert!(stderr(&out).contains("unknown column \"nmae\""));

    // GBK file with a BOM-less header: detected, and the return file is GBK too
    let utf8 = csv(3);
    let (gbk, _, _) = encoding_rs::GBK.encode(&utf8);
    std::fs::write(d.join("persons.csv"), &gbk).unwrap();
    let out = batch(d, &["feeder:feeder2"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(d.join("return.csv")).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err());
    let (text, _, _) = encoding_rs::GBK.decode(&bytes);
    assert_eq!(text.matches("王小明").count(), 3);
}

#[test]
fn batch_killed_half_way_resumes_every_person_exactly_once() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(40)).unwrap();
    // 1. a power loss right after the 7th card was finished, before the journal knew
    let out = batch(d, &["feeder:f1"], &["--crash-after", "7"]);
    assert!(!out.status.success());
    // 2. kill -9 in the middle of a run
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sscard"))
        .current_dir(d)
        .env_remove("SSCARD_READER")
        .args([
            "--reader",
            "feeder:f1",
            "--keys",
            "keys.json",
            "batch",
            "--input",
            "persons.csv",
            "--journal",
            "journal.db",
            "--return-file",
            "return.csv",
        ])
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::fs::read_dir(d.join("f1/cards")).unwrap().count() < 15 {
        assert!(start.elapsed().as_secs() < 60, "no progress");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // 3. resume with two readers
    let out = batch(d, &["feeder:f1", "feeder:f2"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming"), "{}", stderr(&out));
    let rows = return_rows(&d.join("return.csv"));
    assert_eq!(rows.len(), 40);
    assert!(rows.iter().all(|r| r["result"] == "OK"), "{rows:?}");
    let mut card_ids: Vec<_> = rows.iter().map(|r| r["card_id"].clone()).collect();
    card_ids.sort();
    card_ids.dedup();
    assert_eq!(card_ids.len(), 40);
    // every person on exactly one personalized card, nobody twice
    let cards = cards_by_ssn(&[&d.join("f1"), &d.join("f2")]);
    assert_eq!(cards.len(), 40);
    assert!(cards.values().all(|&n| n == 1), "{cards:?}");
    // the journal is bound to its input
    let mut text = csv(40);
    text.push_str(&csv_row(99));
    text.push('\n');
    std::fs::write(d.join("persons.csv"), text).unwrap();
    let out = batch(d, &["feeder:f1"], &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    assert!(stderr(&out).contains("another input file"));
}

#[test]
fn tampered_journal_is_refused() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(3)).unwrap();
    let out = batch(d, &["feeder:f"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(d.join("journal.db")).unwrap();
    conn.execute(
        "UPDATE entries SET card_number = 'X00000019' WHERE seq = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let out = batch(d, &["feeder:f"], &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    assert!(
        stderr(&out).contains("hash chain is broken at entry 2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_thousand_persons_on_two_simulated_readers() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(1000)).unwrap();
    let out = batch(d, &["feeder:f1", "feeder:f2"], &["--no-verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = return_rows(&d.join("return.csv"));
    assert_eq!(rows.len(), 1000);
    assert!(rows.iter().all(|r| r["result"] == "OK"));
    let cards = cards_by_ssn(&[&d.join("f1"), &d.join("f2")]);
    assert_eq!(cards.len(), 1000);
    assert!(stdout(&out).contains("1000 OK"), "{}", stdout(&out));
}
