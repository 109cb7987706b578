//! Issue 13, items 2 and 4: several sscard processes at once on one journal, one feeder, one
//! simulated card. Nothing may be lost: no write, no PIN try, no block; nobody personalized
//! twice, never two persons on one card.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use sscard_core::profile::Ef;
use sscard_sim::CardImage;

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("sscard"))
        .current_dir(dir)
        .env_remove("SSCARD_READER")
        .env("SSCARD_STATION_KEY", dir.join("station.key"))
        .env("PCSCLITE_CSOCK_NAME", dir.join("no-pcscd.comm"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> Output {
    child.wait_with_output().unwrap()
}

fn batch_args<'a>(feeder: &'a str, journal: &'a str, ret: &'a str) -> Vec<&'a str> {
    vec![
        "--reader",
        feeder,
        "--keys",
        "keys.json",
        "batch",
        "--input",
        "persons.csv",
        "--journal",
        journal,
        "--return-file",
        ret,
    ]
}

/// The SSN on each personalized card filed by the feeders, with its count.
fn persons_on_cards(dir: &Path, feeders: &[&str]) -> std::collections::HashMap<String, usize> {
    let mut out = std::collections::HashMap::new();
    for f in feeders {
        let Ok(entries) = std::fs::read_dir(dir.join(f).join("cards")) else {
            continue;
        };
        for entry in entries {
            let image = CardImage::load(&entry.unwrap().path()).unwrap();
            let ssn = image.record_value(Ef::Ef06, 0x08).unwrap();
            *out.entry(String::from_utf8_lossy(ssn).trim().to_owned())
                .or_insert(0) += 1;
        }
    }
    out
}

#[test]
fn item02_one_journal_one_run_and_one_feeder_one_batch() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(150)).unwrap();
    let first = spawn(d, &batch_args("feeder:f1", "journal.db", "return.csv"));
    // wait until the first run is personalizing
    let start = Instant::now();
    while std::fs::read_dir(d.join("f1/cards")).map_or(0, |e| e.count()) < 3 {
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    // a second run on the same journal (another feeder): refused at once
    let second = finish(spawn(
        d,
        &batch_args("feeder:f2", "journal.db", "return2.csv"),
    ));
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(err.contains("in use by another sscard batch"), "{err}");
    assert!(err.contains("pid"), "{err}");
    assert!(!d.join("f2/cards").exists() || persons_on_cards(d, &["f2"]).is_empty());
    // a second batch on the same feeder (another journal): refused too
    let third = finish(spawn(
        d,
        &batch_args("feeder:f1", "other.db", "return3.csv"),
    ));
    assert_eq!(third.status.code(), Some(1), "{}", stderr(&third));
    assert!(stderr(&third).contains("in use"), "{}", stderr(&third));
    assert!(!d.join("return3.csv").exists());

    let first = finish(first);
    assert!(first.status.success(), "{}", stderr(&first));
    let persons = persons_on_cards(d, &["f1", "f2"]);
    assert_eq!(persons.len(), 150);
    assert!(persons.values().all(|&n| n == 1), "{persons:?}");
    // after the first run ends, the journal is free again (and has nothing left to do)
    let again = finish(spawn(
        d,
        &batch_args("feeder:f2", "journal.db", "return.csv"),
    ));
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(persons_on_cards(d, &["f2"]).is_empty());
}

#[test]
fn item04_a_simulated_card_is_one_card_for_every_process() {
    let dir = workdir();
    let d = dir.path();
    let card = personalized_card(d);
    // 15 tries, so that every attempt is counted and none blocks the PIN
    let mut image = image_json(&card);
    image["pin"]["tries_left"] = serde_json::json!(15);
    image["pin"]["max_tries"] = serde_json::json!(15);
    std::fs::write(&card, serde_json::to_string_pretty(&image).unwrap()).unwrap();
    set_mode(&card, 0o600);
    pin_file(d, "wrong.pin", "975310");
    pin_file(d, "right.pin", "123456");

    // 12 processes at once, each a wrong PIN: the counter ends exactly 12 lower
    let children: Vec<Child> = (0..12)
        .map(|_| {
            spawn(
                d,
                &[
                    "--reader",
                    "sim:card.json",
                    "pin",
                    "verify",
                    "--pin-file",
                    "wrong.pin",
                ],
            )
        })
        .collect();
    let mut told = Vec::new();
    for child in children {
        let out = finish(child);
        assert_eq!(out.status.code(), Some(EXIT_PIN), "{}", stderr(&out));
        told.push(stderr(&out));
    }
    assert_eq!(image_json(&card)["pin"]["tries_left"], 3, "{told:?}");
    // every process saw its own attempt: the tries left they were told are 14 … 3, each once
    let mut left: Vec<u32> = told
        .iter()
        .map(|t| {
            let n = t.split("wrong PIN: ").nth(1).unwrap();
            n.split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect();
    left.sort_unstable();
    assert_eq!(left, (3..15).collect::<Vec<_>>());
}

#[test]
fn item04_never_two_persons_on_one_card_and_a_block_is_never_undone() {
    let dir = workdir();
    let d = dir.path();
    for round in 0..3 {
        let card = format!("blank{round}.json");
        let out = sscard(d)
            .args(["sim", "new", "--out", &card])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let reader = format!("sim:{card}");
        let a = spawn(
            d,
            &[
                "--reader",
                &reader,
                "--keys",
                "keys.json",
                "personalize",
                "--person",
                "zhang-san-2.json",
            ],
        );
        let b = spawn(
            d,
            &[
                "--reader",
                &reader,
                "--keys",
                "keys.json",
                "personalize",
                "--person",
                "wang-wu-3.json",
            ],
        );
        let (a, b) = (finish(a), finish(b));
        // wang-wu is a 3.0 person: the 2.0 card refuses it, or the card is taken by zhang-san
        let ok = [&a, &b].iter().filter(|o| o.status.success()).count();
        assert!(ok <= 1, "{}\n{}", stderr(&a), stderr(&b));
        let image = CardImage::load(&d.join(&card)).unwrap();
        let ssn = image.record_value(Ef::Ef06, 0x08).map(|s| s.to_vec());
        if a.status.success() {
            assert_eq!(ssn.as_deref(), Some(&b"111111198101011110"[..]));
        }
    }

    // two persons of the same generation: exactly one gets the card, the other is refused
    for round in 0..3 {
        let card = format!("c{round}.json");
        let out = sscard(d)
            .args(["sim", "new", "--out", &card])
            .output()
            .unwrap();
        assert!(out.status.success());
        let other = d.join("other.json");
        std::fs::write(
            &other,
            person_text(
                "11010119810101123X",
                "李四",
                "1",
                "19810101",
                "X00000019",
                "2",
                "20150711",
                "20350711",
            ),
        )
        .unwrap();
        let reader = format!("sim:{card}");
        let a = spawn(
            d,
            &[
                "--reader",
                &reader,
                "--keys",
                "keys.json",
                "personalize",
                "--person",
                "zhang-san-2.json",
            ],
        );
        let b = spawn(
            d,
            &[
                "--reader",
                &reader,
                "--keys",
                "keys.json",
                "personalize",
                "--person",
                "other.json",
            ],
        );
        let (a, b) = (finish(a), finish(b));
        let winners: Vec<&Output> = [&a, &b]
            .into_iter()
            .filter(|o| o.status.success())
            .collect();
        assert_eq!(winners.len(), 1, "{}\n{}", stderr(&a), stderr(&b));
        let loser = if a.status.success() { &b } else { &a };
        assert_eq!(loser.status.code(), Some(EXIT_REFUSED), "{}", stderr(loser));
        // the card carries exactly one person, whole
        let image = CardImage::load(&d.join(&card)).unwrap();
        let ssn = String::from_utf8_lossy(image.record_value(Ef::Ef06, 0x08).unwrap())
            .trim()
            .to_owned();
        let number = String::from_utf8_lossy(image.record_value(Ef::Ef05, 0x07).unwrap())
            .trim()
            .to_owned();
        let expected = if a.status.success() {
            ("111111198101011110", "KD5578904")
        } else {
            ("11010119810101123X", "X00000019")
        };
        assert_eq!((ssn.as_str(), number.as_str()), expected);
    }

    // a block among PIN users: the block lands and stays
    let card = personalized_card(d);
    let _ = card;
    pin_file(d, "right.pin", "123456");
    let mut children = Vec::new();
    for i in 0..8 {
        if i == 3 {
            children.push(spawn(
                d,
                &["--reader", "sim:card.json", "--keys", "keys.json", "block"],
            ));
        } else {
            children.push(spawn(
                d,
                &[
                    "--reader",
                    "sim:card.json",
                    "pin",
                    "verify",
                    "--pin-file",
                    "right.pin",
                ],
            ));
        }
    }
    let outs: Vec<Output> = children.into_iter().map(finish).collect();
    assert!(outs[3].status.success(), "{}", stderr(&outs[3]));
    for (i, o) in outs.iter().enumerate() {
        if i != 3 {
            assert!(
                o.status.success() || o.status.code() == Some(EXIT_REFUSED),
                "{}",
                stderr(o)
            );
        }
    }
    let image = CardImage::load(&d.join("card.json")).unwrap();
    assert!(image.ssse_blocked, "the block was undone");
}

#[test]
fn item04_two_batches_and_several_sim_users_at_once_lose_nothing() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(60)).unwrap();
    let card = personalized_card(d);
    let mut image = image_json(&card);
    image["pin"]["tries_left"] = serde_json::json!(15);
    image["pin"]["max_tries"] = serde_json::json!(15);
    std::fs::write(&card, serde_json::to_string_pretty(&image).unwrap()).unwrap();
    set_mode(&card, 0o600);
    pin_file(d, "wrong.pin", "975310");

    // two batch processes (two journals, two feeders, one input) and six sim: users at once
    let batches = [
        spawn(d, &batch_args("feeder:fa", "a.db", "a.csv")),
        spawn(d, &batch_args("feeder:fb", "b.db", "b.csv")),
    ];
    let users: Vec<Child> = (0..6)
        .map(|_| {
            spawn(
                d,
                &[
                    "--reader",
                    "sim:card.json",
                    "pin",
                    "verify",
                    "--pin-file",
                    "wrong.pin",
                ],
            )
        })
        .collect();
    for u in users {
        let out = finish(u);
        assert_eq!(out.status.code(), Some(EXIT_PIN), "{}", stderr(&out));
    }
    for b in batches {
        let out = finish(b);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(image_json(&card)["pin"]["tries_left"], 9);
    // each batch personalized every person exactly once on its own feeder
    for f in ["fa", "fb"] {
        let persons = persons_on_cards(d, &[f]);
        assert_eq!(persons.len(), 60, "{f}");
        assert!(persons.values().all(|&n| n == 1), "{f}: {persons:?}");
    }
}
