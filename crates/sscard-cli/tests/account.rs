//! `sscard account` end to end on simulated card and PSAM images: credit, purchase, balance,
//! records, proof in text and JSON; the journal's reconciliation after a crash; the PSAM's
//! serial kept between runs; the blocklist refusing a card before any money moves; bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    sscard(dir).args(args).output().unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "sscard {args:?} failed ({:?}):\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "sscard {args:?}:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    format!("{}{}", stdout(&out), stderr(&out))
}

/// A 3.0 SM4 card with the account (wang-wu, PIN 123456), a PSAM with the purchase key, the
/// holder's PIN in `pin`.
fn setup(dir: &Path) {
    ok(
        dir,
        &[
            "--keys",
            "keys.json",
            "sim",
            "new",
            "--out",
            "card.json",
            "--algorithm",
            "sm4",
            "--medical-account",
            "--person",
            "wang-wu-3.json",
        ],
    );
    ok(
        dir,
        &[
            "--keys",
            "keys.json",
            "sim",
            "new-psam",
            "--out",
            "psam.json",
            "--algorithm",
            "sm4",
            "--terminal-number",
            "639900000042",
            "--medical-account",
        ],
    );
    std::fs::write(dir.join("pin"), "123456\n").unwrap();
    set_mode(&dir.join("pin"), 0o600);
}

const CARD: &str = "sim:card.json";

fn credit(dir: &Path, amount: &str, time: &str) -> String {
    ok(
        dir,
        &[
            "--reader",
            CARD,
            "--keys",
            "keys.json",
            "account",
            "credit",
            "--amount",
            amount,
            "--journal",
            "j.jsonl",
            "--pin-file",
            "pin",
            "--time",
            time,
        ],
    )
}

fn purchase(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "--reader",
        CARD,
        "--psam",
        "sim:psam.json",
        "account",
        "purchase",
        "--journal",
        "j.jsonl",
        "--pin-file",
        "pin",
    ];
    args.extend_from_slice(extra);
    run(dir, &args)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap()
}

/// A document sscard printed, checked against its published schema.
fn document(text: &str) -> serde_json::Value {
    checked_document(text)
}

fn balance(dir: &Path) -> serde_json::Value {
    document(&ok(
        dir,
        &[
            "--reader",
            CARD,
            "--output-format",
            "json",
            "account",
            "balance",
            "--pin-file",
            "pin",
        ],
    ))
}

#[test]
fn credit_purchase_balance_records_proof() {
    let work = workdir();
    let dir = work.path();
    setup(dir);
    let out = credit(dir, "200", "20240601080000");
    assert!(
        out.contains("credit of 200.00 yuan done on card A10000015"),
        "{out}"
    );
    assert!(out.contains("balance 0.00 → 200.00 yuan"), "{out}");
    let out = purchase(
        dir,
        &[
            "--account",
            "12.50",
            "--self-pay",
            "3",
            "--pooled",
            "40.00",
            "--time",
            "20240615093000",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("12.50 yuan from the account, self-pay 3.00 yuan, pooled fund 40.00 yuan"),
        "{text}"
    );
    assert!(text.contains("balance 200.00 → 187.50 yuan"), "{text}");
    assert!(text.contains("MAC2 verified by the PSAM"), "{text}");
    // the PSAM's transaction serial (EF 0019) was kept in its image: the next purchase has 1
    let out = purchase(dir, &["--account", "0.5", "--time", "20240616100000"]);
    let text = stdout(&out);
    assert!(text.contains("terminal 639900000042 serial 1"), "{text}");
    let psam: serde_json::Value = json(&std::fs::read_to_string(dir.join("psam.json")).unwrap());
    assert_eq!(psam["transaction_serial"], 2);

    let b = balance(dir);
    assert_eq!(b["schema"], "sscard.account-balance/2");
    // amounts in fen
    assert_eq!(
        (
            b["account"].as_u64(),
            b["self_pay_total"].as_u64(),
            b["pooled_total"].as_u64()
        ),
        (Some(18_700), Some(300), Some(4_000))
    );
    assert_eq!(b["payment_year"], 2024);
    let text = ok(
        dir,
        &["--reader", CARD, "account", "balance", "--pin-file", "pin"],
    );
    assert!(text.contains("Balance              187.00 yuan"), "{text}");

    let r = document(&ok(
        dir,
        &[
            "--reader",
            CARD,
            "--output-format",
            "json",
            "account",
            "records",
            "--pin-file",
            "pin",
        ],
    ));
    assert_eq!(r["mode"], "three_amounts");
    let list = r["records"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        (
            list[0]["kind"].as_str(),
            list[0]["serial"].as_u64(),
            list[0]["account"].as_u64()
        ),
        (Some("purchase"), Some(1), Some(50))
    );
    assert_eq!(
        (
            list[2]["kind"].as_str(),
            list[2]["account"].as_u64(),
            list[2]["time"].as_str()
        ),
        (Some("credit"), Some(20_000), Some("20240601080000"))
    );

    // the proof of the last purchase is the one in the journal
    let p = document(&ok(
        dir,
        &[
            "--reader",
            CARD,
            "--output-format",
            "json",
            "account",
            "proof",
            "--kind",
            "purchase",
            "--serial",
            "1",
        ],
    ));
    let journal = std::fs::read_to_string(dir.join("j.jsonl")).unwrap();
    let last_done: serde_json::Value = journal.lines().last().map(json).unwrap();
    assert_eq!(p["proof"]["tac"], last_done["tac"]);
    assert!(p["proof"]["mac"].is_string(), "{p}");
    let text = ok(
        dir,
        &[
            "--reader", CARD, "account", "proof", "--kind", "purchase", "--serial", "0",
        ],
    );
    assert!(text.contains("no proof (9406)"), "{text}");
    assert_eq!(mode_of(&dir.join("j.jsonl")), 0o600);
}

/// A crash after the journal's pending entry: the next transaction (or `account proof
/// --journal`) asks the card — applied: done with the card's TAC; not applied: void — and
/// a last line cut by the crash is dropped.
#[test]
fn the_journal_reconciles_with_the_card_after_a_crash() {
    let work = workdir();
    let dir = work.path();
    setup(dir);
    credit(dir, "100", "20240601080000");
    let out = purchase(dir, &["--account", "10", "--time", "20240615093000"]);
    assert!(out.status.success());
    // the crash: the "done" line of the purchase never reached the disk
    let journal = std::fs::read_to_string(dir.join("j.jsonl")).unwrap();
    let lines: Vec<&str> = journal.lines().collect();
    assert_eq!(lines.len(), 4);
    let done = json(lines[3]);
    // and a pending entry of a purchase the card never saw (its answer lost before DEBIT),
    // and half a line
    let mut never: serde_json::Value = json(lines[2]);
    never["seq"] = 9.into();
    never["transaction"]["card_serial"] = 7.into();
    let crashed = format!(
        "{}\n{}\n{}\n{}\n{{\"event\":\"pen",
        lines[0], lines[1], lines[2], never
    );
    std::fs::write(dir.join("j.jsonl"), crashed).unwrap();
    let out = document(&ok(
        dir,
        &[
            "--reader",
            CARD,
            "--output-format",
            "json",
            "account",
            "proof",
            "--journal",
            "j.jsonl",
        ],
    ));
    let rec = out["reconciled"].as_array().unwrap();
    assert_eq!(rec.len(), 2, "{out}");
    assert_eq!(
        (rec[0]["outcome"].as_str(), rec[0]["tac"].as_str()),
        (Some("done"), done["tac"].as_str())
    );
    assert_eq!(rec[1]["outcome"], "void");
    let journal = std::fs::read_to_string(dir.join("j.jsonl")).unwrap();
    assert!(
        journal.ends_with('\n') && !journal.contains("\"pen\n"),
        "{journal}"
    );
    assert!(journal.contains("\"source\":\"proof\""), "{journal}");
    // nothing unresolved any more; the balance counts the purchase once
    let text = ok(
        dir,
        &["--reader", CARD, "account", "proof", "--journal", "j.jsonl"],
    );
    assert!(text.contains("0 reconciled now"), "{text}");
    assert_eq!(balance(dir)["account"], 9_000);
    // and a journal line that cannot be read stops any transaction
    std::fs::write(dir.join("bad.jsonl"), "not json\n").unwrap();
    let out = fails(
        dir,
        &[
            "--reader",
            CARD,
            "--psam",
            "sim:psam.json",
            "account",
            "purchase",
            "--account",
            "1",
            "--journal",
            "bad.jsonl",
            "--pin-file",
            "pin",
        ],
        1,
    );
    assert!(out.contains("cannot be read"), "{out}");
    assert_eq!(balance(dir)["account"], 9_000);
}

#[test]
fn a_blocklisted_card_is_refused_before_any_money_moves() {
    let work = workdir();
    let dir = work.path();
    setup(dir);
    credit(dir, "50", "20240601080000");
    ok(
        dir,
        &[
            "blocklist",
            "keygen",
            "--out",
            "issuer.key",
            "--public-out",
            "issuer.pub",
        ],
    );
    ok(dir, &["blocklist", "new", "--list", "list.ssbw"]);
    ok(
        dir,
        &[
            "blocklist",
            "add",
            "--list",
            "list.ssbw",
            "--range",
            "A1000000",
            "A1000099",
            "--reason",
            "lost",
            "--date",
            "20240101",
        ],
    );
    ok(
        dir,
        &[
            "blocklist",
            "publish",
            "--list",
            "list.ssbw",
            "--key",
            "issuer.key",
            "--out-dir",
            "pub",
        ],
    );
    let out = fails(
        dir,
        &[
            "--reader",
            CARD,
            "--psam",
            "sim:psam.json",
            "account",
            "purchase",
            "--account",
            "1",
            "--journal",
            "j.jsonl",
            "--pin-file",
            "pin",
            "--blocklist",
            "pub/full-0000000001.ssbl",
            "--blocklist-key",
            "issuer.pub",
        ],
        EXIT_REFUSED,
    );
    assert!(out.contains("refused before the purchase"), "{out}");
    let out = fails(
        dir,
        &[
            "--reader",
            CARD,
            "--keys",
            "keys.json",
            "account",
            "credit",
            "--amount",
            "1",
            "--journal",
            "j.jsonl",
            "--pin-file",
            "pin",
            "--blocklist",
            "pub/full-0000000001.ssbl",
            "--blocklist-key",
            "issuer.pub",
        ],
        EXIT_REFUSED,
    );
    assert!(out.contains("refused before the credit"), "{out}");
    assert_eq!(balance(dir)["account"], 5_000);
    let journal = std::fs::read_to_string(dir.join("j.jsonl")).unwrap();
    assert_eq!(
        journal.lines().count(),
        2,
        "only the first credit: {journal}"
    );
}

#[test]
fn bad_input_writes_nothing() {
    let work = workdir();
    let dir = work.path();
    setup(dir);
    credit(dir, "10", "20240601080000");
    for (args, code, words) in [
        (vec!["--account", "-1"], EXIT_BAD_INPUT, "never negative"),
        (
            vec!["--account", "1.005"],
            EXIT_BAD_INPUT,
            "more than two decimals",
        ),
        (
            vec!["--account", "42949672.96"],
            EXIT_BAD_INPUT,
            "more than the card can hold",
        ),
        (vec!["--account", "1,5"], EXIT_BAD_INPUT, "not an amount"),
        (vec!["--account", "0"], EXIT_BAD_INPUT, "0.00 yuan"),
        (
            vec!["--account", "1", "--time", "20241301000000"],
            EXIT_BAD_INPUT,
            "--time",
        ),
        (
            vec!["--account", "10.01"],
            EXIT_REFUSED,
            "insufficient balance",
        ),
        (
            vec!["--account", "1", "--key-index", "2"],
            EXIT_REFUSED,
            "key index 02",
        ),
    ] {
        let out = purchase(dir, &args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(words), "{args:?}: {}", stderr(&out));
    }
    // the terminal number belongs to the PSAM
    let out = purchase(
        dir,
        &["--account", "1", "--terminal-number", "123456789012"],
    );
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    // no journal: a usage error
    fails(
        dir,
        &[
            "--reader",
            CARD,
            "--psam",
            "sim:psam.json",
            "account",
            "purchase",
            "--account",
            "1",
        ],
        EXIT_USAGE,
    );
    assert_eq!(balance(dir)["account"], 1_000);
    // a card without the account
    ok(
        dir,
        &[
            "--keys",
            "keys.json",
            "sim",
            "new",
            "--out",
            "plain.json",
            "--person",
            "zhang-san-2.json",
        ],
    );
    let out = fails(
        dir,
        &[
            "--reader",
            "sim:plain.json",
            "account",
            "balance",
            "--pin-file",
            "pin",
        ],
        EXIT_REFUSED,
    );
    assert!(out.contains("no medical insurance account"), "{out}");
}
