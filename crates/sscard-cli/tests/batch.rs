//! End-to-end tests of `sscard batch` on simulated card feeders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;
use sscard_core::profile::Ef;
use sscard_sim::CardImage;

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

/// SSN of every personalized card a feeder took out, with how many cards carry it. A filed
/// card is complete: it has its card number (written last, [design] D15), its PIN, and it is
/// named by its card identification code.
fn cards_by_ssn(feeders: &[&Path]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for f in feeders {
        for entry in std::fs::read_dir(f.join("cards")).unwrap() {
            let path = entry.unwrap().path();
            let image = CardImage::load(&path).unwrap();
            assert!(
                image.record_value(Ef::Ef05, 0x07).is_some(),
                "{}",
                path.display()
            );
            assert!(!image.pin.value.is_empty());
            assert_eq!(
                path.file_stem().unwrap().to_str().unwrap(),
                hex::encode_upper(image.card_id().unwrap())
            );
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
        "{wrong_check},李四,1,01,110101,19900101,{},2,20240101,20340101,639900,{INITIALIZING_BODY}\n",
        card_number(50)
    ));
    let s = ssn(60, "19900101");
    text.push_str(&format!(
        "{s},李四,{},01,110101,19900101,{},2,2024-01-01,20340101,639900,{INITIALIZING_BODY}\n",
        sex_of(&s),
        card_number(60)
    ));
    text.push_str(&csv_row(0));
    text.push('\n');
    text.push_str("only,three,cells\n");
    let s = ssn(70, "19900101");
    text.push_str(&format!(
        "{s},李四,{},01,110101,19900101,{},2,20240101,20340101,639900,{INITIALIZING_BODY}\n",
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
        // a feeder card's serial is its ATR serial (TA-TD) and its card id serial
        assert!(r["atr"].starts_with("3B6D0000"), "{r:?}");
        assert!(r["atr"].ends_with(&r["card_id"][16..24]), "{r:?}");
        assert!(!r["card_number"].is_empty());
    }
    for r in &rows[4..] {
        assert!(
            r["card_id"].is_empty() && r["card_number"].is_empty(),
            "{r:?}"
        );
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
    // the EF0D columns of older sscard versions: refused with the reason, before any card
    let mut text = format!("{CSV_HEADER},person_id,first_region\n");
    text.push_str(&format!("{},P63990012345,639900\n", csv_row(0)));
    std::fs::write(d.join("persons.csv"), text).unwrap();
    let out = batch(d, &["feeder:feeder"], &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    assert!(
        stderr(&out).contains("\"person_id\" is not a data item"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("feeder").exists(), "no card was made");
    assert!(!d.join("journal.db").exists(), "no journal was made");

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
        .env("SSCARD_STATION_KEY", d.join("station.key"))
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
fn a_journal_of_sscard_before_the_specification_protocol_is_refused() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(2)).unwrap();
    let conn = rusqlite::Connection::open(d.join("journal.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT INTO meta VALUES ('schema', 'sscard.batch-journal/1'), ('input_sha256', 'x');
         CREATE TABLE entries (seq INTEGER PRIMARY KEY, event TEXT NOT NULL, line INTEGER NOT NULL,
           ssn TEXT NOT NULL, reader TEXT NOT NULL, chip_serial TEXT NOT NULL, atr TEXT NOT NULL,
           card_id TEXT NOT NULL, card_number TEXT NOT NULL, detail TEXT NOT NULL,
           at INTEGER NOT NULL, hash TEXT NOT NULL);",
    )
    .unwrap();
    drop(conn);
    let out = batch(d, &["feeder:f"], &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("before the specification protocol"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("start a new journal"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("return.csv").exists());
}

#[test]
fn feeder_cards_of_every_generation_and_algorithm() {
    let dir = workdir();
    let d = dir.path();
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for (i, generation) in [(0, "1"), (1, "2"), (2, "3")] {
        let row = csv_row(i).replace(",2,20240101,", &format!(",{generation},20240101,"));
        text.push_str(&row);
        text.push('\n');
    }
    std::fs::write(d.join("persons.csv"), text).unwrap();
    for alg in ["3des", "sm4"] {
        let feeder = format!("feeder:f-{alg}");
        let journal = format!("j-{alg}.db");
        let out = sscard(d)
            .args([
                "--reader",
                &feeder,
                "--keys",
                "keys.json",
                "batch",
                "--input",
                "persons.csv",
            ])
            .args(["--journal", &journal, "--return-file", "return.csv"])
            .args(["--feeder-algorithm", alg])
            .output()
            .unwrap();
        assert!(out.status.success(), "{alg}: {}", stderr(&out));
        let rows = return_rows(&d.join("return.csv"));
        assert!(rows.iter().all(|r| r["result"] == "OK"), "{rows:?}");
        // every card reads back through the CLI (3.0 with RKSSSE from the key file)
        for entry in std::fs::read_dir(d.join(format!("f-{alg}/cards"))).unwrap() {
            let card = format!("sim:{}", entry.unwrap().path().display());
            let out = sscard(d)
                .args([
                    "--reader",
                    &card,
                    "--keys",
                    "keys.json",
                    "--output-format",
                    "json",
                ])
                .args(["read", "--check-validity"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{alg}: {}", stderr(&out));
            let doc = checked_document(&stdout(&out));
            assert_eq!(doc["algorithm"], alg);
            assert_eq!(doc["validity"]["verdict"], "valid");
            assert_eq!(doc["issuing"]["initializing_body"], INITIALIZING_BODY);
        }
    }
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
