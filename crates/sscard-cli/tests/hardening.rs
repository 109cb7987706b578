//! Issue 13, "nothing lost, no one in": the defects found when sscard was tried as a new user
//! and as an attacker would, one test (or more) per item, each named after its item. The
//! concurrent ones (items 2 and 4) are in `concurrency.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::*;
use sha2::{Digest, Sha256};

fn return_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
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

fn batch_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--reader",
        "feeder:feeder",
        "--keys",
        "keys.json",
        "batch",
        "--input",
        "persons.csv",
        "--journal",
        "journal.db",
        "--return-file",
        "return.csv",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn batch(dir: &Path, extra: &[&str]) -> std::process::Output {
    sscard(dir).args(batch_args(extra)).output().unwrap()
}

/// A CSV row of a valid person with the given name.
fn row_named(i: u32, name: &str) -> String {
    csv_row(i).replace("王小明", name)
}

fn feeder_cards(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("feeder/cards"))
        .map(|d| d.count())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// 1. encodings

#[test]
fn item01_gbk_that_is_also_utf8_is_not_guessed() {
    let dir = workdir();
    let d = dir.path();
    // 路梅 and 茅贸 in GBK are C2B7 C3B7 / C3A9 C3B3: valid UTF-8 ("·÷", "éó") as well
    let text = format!(
        "{CSV_HEADER}\n{}\n{}\n",
        row_named(1, "路梅"),
        row_named(2, "茅贸")
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    assert!(
        std::str::from_utf8(&gbk).is_ok(),
        "the bytes are valid UTF-8"
    );
    std::fs::write(d.join("persons.csv"), &gbk).unwrap();
    let out = batch(d, &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("--encoding"), "{err}");
    assert!(err.contains("路梅"), "the GBK reading is shown: {err}");
    assert_eq!(feeder_cards(d), 0, "no card was personalized");
    assert!(!d.join("journal.db").exists());
    // the operator says which: check-only shows the names as decoded
    let out = batch(d, &["--encoding", "gbk", "--check-only"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("路梅"), "{}", stdout(&out));
    assert!(stdout(&out).contains("茅贸"), "{}", stdout(&out));
    let out = batch(d, &["--encoding", "gbk"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(d.join("return.csv")).unwrap();
    let (back, _, _) = encoding_rs::GBK.decode(&bytes);
    assert!(back.contains("路梅") && back.contains("茅贸"), "{back}");
    // an unambiguous UTF-8 file still goes through --encoding auto, names shown by check-only
    std::fs::write(d.join("persons.csv"), csv(2)).unwrap();
    let out = batch(d, &["--check-only"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("王小明"), "{}", stdout(&out));
    assert!(stdout(&out).contains("UTF-8"), "{}", stdout(&out));
}

// ---------------------------------------------------------------------------------------------
// 3. the same reader twice

#[test]
fn item03_the_same_reader_twice_is_refused_before_anything_starts() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(3)).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    for second in ["feeder:feeder", "feeder:./feeder", "feeder:sub/../feeder"] {
        let out = sscard(d)
            .args(["--reader", "feeder:feeder", "--reader", second])
            .args(&batch_args(&[])[2..])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(EXIT_USAGE),
            "{second}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("twice"), "{}", stderr(&out));
        assert!(!d.join("journal.db").exists());
        assert_eq!(feeder_cards(d), 0);
    }
    // PC/SC names are compared before pcscd is asked
    let out = sscard(d)
        .args(["--reader", "ACS ACR", "--reader", "ACS ACR"])
        .args(&batch_args(&[])[2..])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_USAGE), "{}", stderr(&out));
    assert!(stderr(&out).contains("twice"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// 5. colliding paths

#[test]
fn item05_colliding_paths_are_refused_and_nothing_is_overwritten() {
    let dir = workdir();
    let d = dir.path();
    let input = csv(2);
    std::fs::write(d.join("persons.csv"), &input).unwrap();
    std::os::unix::fs::symlink("persons.csv", d.join("link.csv")).unwrap();
    std::fs::hard_link(d.join("persons.csv"), d.join("hard.csv")).unwrap();
    let cases: [(&str, &str, &str); 6] = [
        ("persons.csv", "journal.db", "persons.csv"),
        ("persons.csv", "journal.db", "link.csv"),
        ("persons.csv", "journal.db", "hard.csv"),
        ("persons.csv", "persons.csv", "return.csv"),
        ("persons.csv", "same.db", "same.db"),
        ("persons.csv", "journal.db", "journal.db-wal"),
    ];
    for (input_path, journal, ret) in cases {
        let out = sscard(d)
            .args([
                "--reader",
                "feeder:feeder",
                "--keys",
                "keys.json",
                "batch",
                "--input",
                input_path,
                "--journal",
                journal,
                "--return-file",
                ret,
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(EXIT_USAGE),
            "{journal} {ret}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("same file"), "{}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(d.join("persons.csv")).unwrap(),
            input
        );
        assert_eq!(feeder_cards(d), 0);
        assert!(!d.join("same.db").exists());
    }
}

// ---------------------------------------------------------------------------------------------
// 6. CSV: a stray quote, CRLF

#[test]
fn item06_a_stray_quote_loses_no_person() {
    let dir = workdir();
    let d = dir.path();
    let text = format!(
        "{CSV_HEADER}\n{}\n{}\n{}\n{}\n",
        csv_row(1),
        csv_row(2).replace(",王小明,", ",\"王小明,"),
        csv_row(3),
        csv_row(4)
    );
    std::fs::write(d.join("persons.csv"), text).unwrap();
    let out = batch(d, &[]);
    assert_eq!(
        out.status.code(),
        Some(EXIT_BATCH_INCOMPLETE),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));
    let rows = return_rows(&d.join("return.csv"));
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["line"].clone(), r["result"].clone()))
        .collect();
    assert_eq!(
        got,
        [("2", "OK"), ("3", "INVALID"), ("4", "OK"), ("5", "OK")]
            .map(|(l, r)| (l.to_owned(), r.to_owned()))
    );
    assert_eq!(
        rows[1]["ssn"],
        ssn(2, "19900101"),
        "the bad row keeps its person"
    );
    assert_eq!(feeder_cards(d), 3);
}

#[test]
fn item06_crlf_lines_are_numbered_right_everywhere() {
    let dir = workdir();
    let d = dir.path();
    let text = format!(
        "{CSV_HEADER}\r\n{}\r\n{}\r\n\r\n{}\r\n",
        csv_row(1),
        csv_row(2).replace(",王小明,", ",,"),
        csv_row(3)
    );
    std::fs::write(d.join("persons.csv"), text).unwrap();
    let out = batch(d, &[]);
    assert_eq!(
        out.status.code(),
        Some(EXIT_BATCH_INCOMPLETE),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("line 3: skipped: name"),
        "{}",
        stderr(&out)
    );
    let rows = return_rows(&d.join("return.csv"));
    let lines: Vec<&str> = rows.iter().map(|r| r["line"].as_str()).collect();
    assert_eq!(lines, ["2", "3", "5"]);
    assert_eq!(rows[2]["ssn"], ssn(3, "19900101"));
    assert_eq!(rows[2]["result"], "OK");
    let conn = rusqlite::Connection::open(d.join("journal.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT DISTINCT line FROM entries ORDER BY line")
        .unwrap();
    let journal_lines: Vec<i64> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(journal_lines, [2, 5]);
}

// ---------------------------------------------------------------------------------------------
// 7, 9. temporary files, modes

#[test]
fn item07_a_symlink_at_a_temporary_name_redirects_nothing() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(2)).unwrap();
    let victim = d.join("victim.txt");
    std::fs::write(&victim, "untouched").unwrap();
    for name in ["return.csv.tmp", ".return.csv.tmp"] {
        std::os::unix::fs::symlink(&victim, d.join(name)).unwrap();
    }
    let out = batch(d, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    assert_eq!(mode_of(&d.join("return.csv")), 0o600);
    // no temporary file is left behind
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert_eq!(names.len(), 2, "only the two planted links: {names:?}");
}

#[test]
fn item09_journal_and_return_file_are_private_whatever_the_umask() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(2)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("sscard");
    let args = batch_args(&[]).join(" ");
    let out = std::process::Command::new("sh")
        .current_dir(d)
        .env_remove("SSCARD_READER")
        .arg("-c")
        .arg(format!("umask 000; exec '{}' {args}", bin.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for name in [
        "journal.db",
        "return.csv",
        "journal.db-wal",
        "journal.db-shm",
    ] {
        let path = d.join(name);
        if name.starts_with("journal.db-") && !path.exists() {
            continue;
        }
        assert_eq!(mode_of(&path), 0o600, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// 8. outputs checked first

#[test]
fn item08_an_unusable_return_file_or_journal_fails_before_the_first_card() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(3)).unwrap();
    for (journal, ret) in [
        ("journal.db", "missing/return.csv"),
        ("missing/journal.db", "return.csv"),
        ("journal.db", "."),
    ] {
        let out = sscard(d)
            .args([
                "--reader",
                "feeder:feeder",
                "--keys",
                "keys.json",
                "batch",
                "--input",
                "persons.csv",
                "--journal",
                journal,
                "--return-file",
                ret,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{ret}: {}", stderr(&out));
        assert_eq!(feeder_cards(d), 0, "{ret}: no card was touched");
    }
}

// ---------------------------------------------------------------------------------------------
// 10. formula injection

#[test]
fn item10_return_file_cells_cannot_be_formulas() {
    let dir = workdir();
    let d = dir.path();
    let evil = row_named(2, "@SUM(A1)").replacen(&ssn(2, "19900101"), "=HYPERLINK(\"x\")", 1);
    let text = format!("{CSV_HEADER}\n{}\n{evil}\n{}\n", csv_row(1), csv_row(3));
    std::fs::write(d.join("persons.csv"), text).unwrap();
    let out = batch(d, &[]);
    assert_eq!(
        out.status.code(),
        Some(EXIT_BATCH_INCOMPLETE),
        "{}",
        stderr(&out)
    );
    let rows = return_rows(&d.join("return.csv"));
    assert_eq!(rows.len(), 3);
    for row in &rows {
        for (column, cell) in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{column}: {cell:?}"
            );
        }
    }
    assert_eq!(rows[1]["ssn"], "'=HYPERLINK(\"x\")");
    assert_eq!(rows[1]["name"], "'@SUM(A1)");
    assert_eq!(rows[0]["name"], "王小明", "ordinary cells unchanged");
}

// ---------------------------------------------------------------------------------------------
// 11. a keyed journal

/// The SHA-256 chain entry hash of an unkeyed journal (what anybody can recompute).
fn unkeyed_hash(prev: &str, parts: &[String]) -> String {
    let mut h = Sha256::new();
    let mut all = vec![prev.to_owned()];
    all.extend(parts.iter().cloned());
    for part in all {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

#[test]
fn item11_a_rewritten_journal_is_refused_even_with_a_recomputed_chain() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(3)).unwrap();
    let out = batch(d, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let input_hash = hex::encode(Sha256::digest(
        std::fs::read(d.join("persons.csv")).unwrap(),
    ));
    std::fs::copy(d.join("journal.db"), d.join("pristine.db")).unwrap();
    // an attacker marks line 2 as failed (to have it personalized again) and recomputes the
    // chain the way an unkeyed journal would
    let conn = rusqlite::Connection::open(d.join("journal.db")).unwrap();
    conn.execute("UPDATE entries SET event = 'failed' WHERE seq = 2", [])
        .unwrap();
    let mut prev = input_hash;
    let rows: Vec<(i64, Vec<String>)> = {
        let mut stmt = conn
            .prepare("SELECT seq, event, line, ssn, reader, card_id, atr, card_number, detail, at FROM entries ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| {
            let seq: i64 = r.get(0)?;
            let line: i64 = r.get(2)?;
            let at: i64 = r.get(9)?;
            Ok((
                seq,
                vec![
                    seq.to_string(),
                    r.get::<_, String>(1)?,
                    line.to_string(),
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    at.to_string(),
                ],
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    for (seq, parts) in rows {
        let hash = unkeyed_hash(&prev, &parts);
        conn.execute(
            "UPDATE entries SET hash = ?1 WHERE seq = ?2",
            rusqlite::params![hash, seq],
        )
        .unwrap();
        prev = hash;
    }
    drop(conn);
    let out = batch(d, &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hash chain is broken"),
        "{}",
        stderr(&out)
    );
    assert_eq!(feeder_cards(d), 3, "nobody was personalized again");

    // the table of entries dropped: refused, not started afresh
    std::fs::copy(d.join("pristine.db"), d.join("journal.db")).unwrap();
    let _ = std::fs::remove_file(d.join("journal.db-wal"));
    let _ = std::fs::remove_file(d.join("journal.db-shm"));
    let conn = rusqlite::Connection::open(d.join("journal.db")).unwrap();
    conn.execute_batch("DROP TABLE entries;").unwrap();
    drop(conn);
    let out = batch(d, &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(stderr(&out).contains("entries"), "{}", stderr(&out));
    assert_eq!(feeder_cards(d), 3, "nobody was personalized again");

    // the last entries cut off: refused
    std::fs::copy(d.join("pristine.db"), d.join("journal.db")).unwrap();
    let conn = rusqlite::Connection::open(d.join("journal.db")).unwrap();
    conn.execute("DELETE FROM entries WHERE seq >= 5", [])
        .unwrap();
    drop(conn);
    let out = batch(d, &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert_eq!(feeder_cards(d), 3, "nobody was personalized again");

    // another station key: refused, saying so
    std::fs::copy(d.join("pristine.db"), d.join("journal.db")).unwrap();
    let other = d.join("other-station.key");
    let out = sscard(d)
        .args(["keys", "new-station", "--out"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode_of(&other), 0o600);
    let out = sscard(d)
        .env("SSCARD_STATION_KEY", &other)
        .args(batch_args(&[]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(stderr(&out).contains("station key"), "{}", stderr(&out));
    // a station key others may read: refused, with what to do
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = sscard(d)
        .env("SSCARD_STATION_KEY", &other)
        .args(batch_args(&[]))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("accessible by other users") && stderr(&out).contains("chmod 600"),
        "{}",
        stderr(&out)
    );
    assert_eq!(feeder_cards(d), 3, "nobody was personalized again");
    // the right key resumes it
    let out = batch(d, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn item11_an_unkeyed_journal_of_an_earlier_sscard_is_refused_with_advice() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(1)).unwrap();
    let conn = rusqlite::Connection::open(d.join("journal.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT INTO meta VALUES ('schema', 'sscard.batch-journal/2'), ('input_sha256', 'x');",
    )
    .unwrap();
    drop(conn);
    let out = batch(d, &[]);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("unkeyed"), "{err}");
    assert!(err.contains("new journal"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// 12. secrets

#[test]
fn item12_apdu_takes_no_pin_in_its_arguments() {
    let dir = workdir();
    let d = dir.path();
    personalized_card(d);
    // VERIFY with its PIN on the command line: refused, the PIN never echoed
    let out = sscard(d)
        .args(["--reader", "sim:card.json", "apdu", "0020000003123456"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_USAGE), "{}", stderr(&out));
    assert!(!stderr(&out).contains("123456"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("123456"));
    assert!(stderr(&out).contains("--pin-file"), "{}", stderr(&out));
    // clap does not repeat a PIN typed as an argument
    for args in [
        &["pin", "verify", "123456"][..],
        &["pin", "verify", "--pin", "123456"][..],
        &["pin", "verify", "--pin=123456"][..],
        &["activate", "--new-pin", "975310"][..],
    ] {
        let out = sscard(d)
            .args(["--reader", "sim:card.json"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(EXIT_USAGE), "{args:?}");
        let text = format!("{}{}", stderr(&out), stdout(&out));
        assert!(
            !text.contains("123456") && !text.contains("975310"),
            "{args:?}: {text}"
        );
    }
    // with --pin-file, sscard puts the PIN into VERIFY; the output redacts it
    pin_file(d, "holder.pin", "123456");
    let out = sscard(d)
        .args([
            "--reader",
            "sim:card.json",
            "--trace",
            "apdu",
            "--pin-file",
            "holder.pin",
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00",
            "00200000",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = format!("{}{}", stderr(&out), stdout(&out));
    assert!(text.contains("REDACTED(3 bytes)"), "{text}");
    assert!(
        !text.contains("12 34 56") && !text.contains("123456"),
        "{text}"
    );
    assert!(
        stdout(&out).lines().last().unwrap().contains("90 00"),
        "{text}"
    );
}

#[test]
fn item12_apdu_redacts_what_the_policy_says() {
    let dir = workdir();
    let d = dir.path();
    personalized_card(d);
    // a script: INTERNAL AUTHENTICATION's answer, EXTERNAL AUTHENTICATION's data and the
    // MAC of a secured command are redacted; SELECT and the records are not
    std::fs::write(
        d.join("script.txt"),
        "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00\n\
         0088000010 01020304050607080102030405060708 08\n\
         0082000A10 A1A2A3A4A5A6A7A8B1B2B3B4B5B6B7B8\n\
         841E000004 C1C2C3C4\n",
    )
    .unwrap();
    let out = sscard(d)
        .args([
            "--reader",
            "sim:card.json",
            "apdu",
            "--script",
            "script.txt",
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("00 88 00 00 10 01 02 03 04"), "{text}");
    let ia_answer = text
        .lines()
        .skip_while(|l| !l.contains("00 88 00 00"))
        .nth(1)
        .unwrap();
    assert!(ia_answer.contains("REDACTED(8 bytes)"), "{text}");
    assert!(!text.contains("A1 A2 A3"), "{text}");
    assert!(!text.contains("C1 C2 C3"), "{text}");
    assert!(text.contains("6F"), "SELECT's FCI is shown: {text}");
}

#[test]
fn item12_pin_files_are_bounded_and_private() {
    let dir = workdir();
    let d = dir.path();
    personalized_card(d);
    // /dev/zero: a clear error at once, not a read until memory runs out
    let start = std::time::Instant::now();
    let out = sscard(d)
        .env("SSCARD_PIN_FILE_ANY_MODE", "1")
        .args([
            "--reader",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "/dev/zero",
        ])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(start.elapsed().as_secs() < 15);
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(stderr(&out).contains("longer than"), "{}", stderr(&out));
    // a PIN file others can read: refused, saying how to fix it
    let path = pin_file(d, "holder.pin", "123456");
    set_mode(&path, 0o644);
    let out = sscard(d)
        .args([
            "--reader",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "holder.pin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    assert_eq!(image_json(&d.join("card.json"))["pin"]["tries_left"], 3);
    // the documented override
    let out = sscard(d)
        .env("SSCARD_PIN_FILE_ANY_MODE", "1")
        .args([
            "--reader",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "holder.pin",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    set_mode(&path, 0o600);
    let out = sscard(d)
        .args([
            "--reader",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "holder.pin",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn item12_no_core_dump_of_a_process_holding_keys() {
    let dir = workdir();
    let d = dir.path();
    personalized_card(d);
    // a process waiting for its PIN on a pipe, key file loaded
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sscard"))
        .current_dir(d)
        .env_remove("SSCARD_READER")
        .args([
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "pin",
            "reload",
            "--new-pin-fd",
            "0",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
}

// ---------------------------------------------------------------------------------------------
// 13. activate checks what read checks

#[test]
fn item13_activate_refuses_a_card_that_is_not_genuine() {
    let dir = workdir();
    let d = dir.path();
    let card = personalized_card(d);
    // a card whose IRK is not the issuer's: read and activate both refuse it
    let mut image = image_json(&card);
    image["keys"]["IRK"]["value"] = serde_json::json!("00112233445566778899AABBCCDDEEFF");
    std::fs::write(&card, serde_json::to_string_pretty(&image).unwrap()).unwrap();
    set_mode(&card, 0o600);
    let out = sscard(d)
        .args(["--reader", "sim:card.json", "--keys", "keys.json", "read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_REFUSED), "{}", stderr(&out));
    pin_file(d, "new.pin", "246813");
    let out = sscard(d)
        .args([
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "activate",
            "--new-pin-file",
            "new.pin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_REFUSED), "{}", stderr(&out));
    assert!(stderr(&out).contains("not genuine"), "{}", stderr(&out));
    // the PIN is still the initial one, with every try
    pin_file(d, "initial.pin", "123456");
    let out = sscard(d)
        .args([
            "--reader",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "initial.pin",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// 15. images: read-only use, symlinks, save errors

#[test]
fn item15_read_does_not_rewrite_the_image() {
    let dir = workdir();
    let d = dir.path();
    let card = personalized_card(d);
    let before = std::fs::metadata(&card).unwrap();
    set_mode(&card, 0o400);
    for args in [
        &["read"][..],
        &["--keys", "keys.json", "read", "--check-validity"][..],
        &["pin", "status"][..],
    ] {
        let out = sscard(d)
            .args(["--reader", "sim:card.json"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let after = std::fs::metadata(&card).unwrap();
    assert_eq!(before.ino(), after.ino(), "the image file was replaced");
    assert_eq!(before.mtime_nsec(), after.mtime_nsec());
}

#[test]
fn item15_a_symlinked_image_is_written_through() {
    let dir = workdir();
    let d = dir.path();
    personalized_card(d);
    std::fs::create_dir(d.join("cards")).unwrap();
    std::fs::rename(d.join("card.json"), d.join("cards/real.json")).unwrap();
    std::os::unix::fs::symlink("cards/real.json", d.join("card.json")).unwrap();
    pin_file(d, "wrong.pin", "975310");
    let out = sscard(d)
        .args([
            "--reader",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "wrong.pin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_PIN), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(d.join("card.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        image_json(&d.join("cards/real.json"))["pin"]["tries_left"],
        2
    );
    assert_eq!(mode_of(&d.join("cards/real.json")), 0o600);
}

#[test]
fn item15_an_image_that_cannot_be_saved_is_exit_1_and_stays_whole() {
    let dir = workdir();
    let d = dir.path();
    let card = personalized_card(d);
    let original = std::fs::read(&card).unwrap();
    pin_file(d, "wrong.pin", "975310");
    let bin = assert_cmd::cargo::cargo_bin("sscard");
    // a file size limit below the image's size: the save fails (EFBIG)
    let out = std::process::Command::new("sh")
        .current_dir(d)
        .env_remove("SSCARD_READER")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 1; exec '{}' --reader sim:card.json pin verify --pin-file wrong.pin",
            bin.display()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("card image"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&card).unwrap(),
        original,
        "the old image is whole"
    );
}

// ---------------------------------------------------------------------------------------------
// 16. validation

#[test]
fn item16_dates_in_the_future_are_refused() {
    let dir = workdir();
    let d = dir.path();
    let today = sscard::clock::today().unwrap().to_string();
    let next_year = (today[..4].parse::<u32>().unwrap() + 1).to_string();
    let future_birth = format!("{next_year}0101");
    let s = ssn(7, &future_birth);
    let text = person_text(
        &s,
        "张三",
        sex_of(&s),
        &future_birth,
        "KD5578904",
        "2",
        &format!("{next_year}0201"),
        "20991231",
    );
    std::fs::write(d.join("future.json"), text).unwrap();
    let out = sscard(d)
        .args([
            "--test-keys",
            "sim",
            "new",
            "--out",
            "c.json",
            "--person",
            "future.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(stderr(&out).contains("future"), "{}", stderr(&out));
    // an issue date of today is fine, tomorrow's is not
    person_json(d, "today.json", &today, "20991231");
    let out = sscard(d)
        .args(["sim", "new", "--out", "c.json", "--person", "today.json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    person_json(d, "later.json", &format!("{next_year}0101"), "20991231");
    let out = sscard(d)
        .args(["sim", "new", "--out", "c2.json", "--person", "later.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(stderr(&out).contains("issue_date"), "{}", stderr(&out));
    // in a batch the row is invalid, the others go through
    let text = format!(
        "{CSV_HEADER}\n{}\n{}\n",
        csv_row(1),
        csv_row(2).replace("20240101,20340101", &format!("{next_year}0101,20991231"))
    );
    std::fs::write(d.join("persons.csv"), text).unwrap();
    let out = batch(d, &[]);
    assert_eq!(
        out.status.code(),
        Some(EXIT_BATCH_INCOMPLETE),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("line 3: skipped: issue_date"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn item16_a_generation_different_from_the_record_is_refused() {
    let dir = workdir();
    let d = dir.path();
    let out = sscard(d)
        .args([
            "sim",
            "new",
            "--out",
            "c.json",
            "--generation",
            "1",
            "--person",
            "zhang-san-2.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--generation 1.0 differs"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("c.json").exists());
}

#[test]
fn item16_a_key_file_naming_a_key_twice_is_refused() {
    let dir = workdir();
    let d = dir.path();
    let text = std::fs::read_to_string(d.join("keys.json")).unwrap();
    let (head, tail) = text.split_once("\"IRK\"").unwrap();
    let doubled = format!("{head}\"IRK\": \"00112233445566778899AABBCCDDEEFF\", \"IRK\"{tail}");
    std::fs::write(d.join("double.json"), doubled).unwrap();
    set_mode(&d.join("double.json"), 0o600);
    personalized_card(d);
    let out = sscard(d)
        .args(["--reader", "sim:card.json", "--keys", "double.json", "read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_KEY_HOLDER), "{}", stderr(&out));
    assert!(stderr(&out).contains("IRK"), "{}", stderr(&out));
    assert!(stderr(&out).contains("twice"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// 17. messages

#[test]
fn item17_a_full_disk_reports_the_journal_first() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(900)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("sscard");
    let args = batch_args(&[]).join(" ");
    // files may not grow past 96 KiB: the journal's WAL fills first, the return file
    // (900 rows) would not fit either
    let out = std::process::Command::new("sh")
        .current_dir(d)
        .env_remove("SSCARD_READER")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 96; exec '{}' {args}",
            bin.display()
        ))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    let first = err
        .lines()
        .find(|l| l.starts_with("sscard: error:"))
        .unwrap_or_default();
    assert!(first.contains("journal"), "{err}");
}

#[test]
fn item11_the_fixture_station_key_is_a_test_key_that_works() {
    let dir = workdir();
    let d = dir.path();
    let key = d.join("station-test-key.json");
    std::fs::copy(fixtures().join("keys/station-test-key.json"), &key).unwrap();
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.contains("TEST KEY ONLY") && text.contains("\"test_key\": true"));
    std::fs::write(d.join("persons.csv"), csv(1)).unwrap();
    // others can read it: refused like a key file
    set_mode(&key, 0o644);
    let out = sscard(d)
        .env("SSCARD_STATION_KEY", &key)
        .args(batch_args(&[]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_KEY_HOLDER), "{}", stderr(&out));
    set_mode(&key, 0o600);
    let out = sscard(d)
        .env("SSCARD_STATION_KEY", &key)
        .args(batch_args(&[]))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
