//! The `sscard` binary against a REAL pcscd: simulated cards are plugged into the virtual
//! readers (vsmartcard vpcd) of a private pcscd by `sscard sim serve` child processes, and the
//! CLI talks to them through PC/SC like to any reader.
//!
//! One test function runs the sub-cases one after another (they share pcscd and its two
//! readers; the other PC/SC test binaries of the workspace use the same readers, and cargo runs
//! test binaries one at a time):
//!
//! 1. `sscard readers` (text and JSON) with both readers empty; no reader named and no card →
//!    "no card" and exit code 3; an unknown reader name → exit code 3;
//! 2. `sim serve --image --psam` prints the readers it appeared in; `readers` shows the card's
//!    ATR; then personalize (key file), read (text, JSON, basic line with the PSAM as key
//!    holder: 11 fields, terminal number; the validity check), activate and PIN unblock with the
//!    PSAM, verify (and a wrong PIN: exit 4), `--trace` with VERIFY redacted, a raw SELECT
//!    (`90 00`), the application block (permanent: a read then says `9303`, exit 5); the served
//!    image holds the final state once the server is stopped;
//! 3. a batch of 20 persons on two readers, each served by its own `sim serve --feeder`: every
//!    person personalized, both readers used, the ejected cards filed by the feeders.
//!
//! It reuses the private pcscd `scripts/test.sh` started (`$SSCARD_PCSCD_DIR`,
//! `$SSCARD_VPCD_PORT`) or runs its own on free ports, and passes with a printed `SKIPPED`
//! notice when pcscd, the vpcd driver or the privileges to run a private pcscd are missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{checked_document, csv, pin_file, set_mode, stderr, stdout, workdir};
use sscard_pcsc::testing::PrivatePcscd;

const CARD_READER: &str = "Virtual PCD 00 00";
const PSAM_READER: &str = "Virtual PCD 00 01";
const TERMINAL: &str = "410100813475";

/// `sscard` in `dir`, speaking to the private pcscd.
trait SscardThrough {
    fn sscard(&self, dir: &Path) -> Command;
}

impl SscardThrough for PrivatePcscd {
    fn sscard(&self, dir: &Path) -> Command {
        let mut cmd = common::sscard(dir);
        cmd.env("PCSCLITE_CSOCK_NAME", self.socket())
            .env("SSCARD_VPCD_PORT", self.port().to_string());
        cmd
    }
}

/// The private pcscd: the one scripts/test.sh runs, or an own one on free ports.
fn private_pcscd() -> Option<PrivatePcscd> {
    PrivatePcscd::acquire("cli_through_pcscd", 36700..37000)
}

/// A `sscard sim serve` child process; stopped (SIGTERM, then SIGKILL) when dropped, so a
/// failing assertion never leaves it running.
struct Served {
    child: Option<Child>,
    /// The JSON line it printed once its card appeared in pcscd.
    announced: serde_json::Value,
    stderr: mpsc::Receiver<String>,
}

impl Served {
    fn start(pcscd: &PrivatePcscd, dir: &Path, args: &[&str]) -> Served {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("sscard"))
            .current_dir(dir)
            .env_remove("SSCARD_READER")
            .env("PCSCLITE_CSOCK_NAME", pcscd.socket())
            .env("SSCARD_VPCD_PORT", pcscd.port().to_string())
            .args(["--output-format", "json", "sim", "serve"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sscard sim serve");
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let mut served = Served {
            child: Some(child),
            announced: serde_json::Value::Null,
            stderr: err_rx,
        };
        match line_rx.recv_timeout(Duration::from_secs(30)) {
            // checked against its published schema (docs/schema/, tests/schemas.rs)
            Ok(line) => served.announced = checked_document(&line),
            Err(_) => panic!(
                "sim serve {args:?} announced nothing; stderr:\n{}",
                served.stderr_text()
            ),
        }
        served
    }

    /// The reader it says its card appeared in.
    fn reader(&self) -> &str {
        self.announced["reader"].as_str().unwrap_or("")
    }

    /// What it wrote to stderr so far.
    fn stderr_text(&self) -> String {
        let lines: Vec<String> = self.stderr.try_iter().collect();
        lines.join("\n")
    }

    /// Stops it like Ctrl-C / SIGTERM does and returns its exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = StdCommand::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop();
        }
    }
}

/// The JSON document a command printed, checked against its published schema (docs/schema/).
fn json_of(output: &std::process::Output) -> serde_json::Value {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(stdout(output).trim()) {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    }
    checked_document(&stdout(output))
}

#[test]
fn cli_through_pcscd() {
    let Some(pcscd) = private_pcscd() else {
        return;
    };
    let dir = workdir();
    readers_and_no_card(&pcscd, dir.path());
    single_card_lifecycle(&pcscd, dir.path());
    batch_on_two_feeders(&pcscd, dir.path());
}

/// Waits until pcscd shows both readers empty (a previous case's server has gone).
fn wait_readers_empty(pcscd: &PrivatePcscd, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = pcscd
            .sscard(dir)
            .args(["--output-format", "json", "readers"])
            .output()
            .unwrap();
        let doc = json_of(&out);
        let readers = doc["readers"].as_array().unwrap();
        if readers.iter().all(|r| r["card_present"] == false) {
            return;
        }
        assert!(Instant::now() < deadline, "readers not empty: {doc}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn readers_and_no_card(pcscd: &PrivatePcscd, dir: &Path) {
    wait_readers_empty(pcscd, dir);
    let out = pcscd.sscard(dir).arg("readers").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for reader in [CARD_READER, PSAM_READER] {
        let line = text
            .lines()
            .find(|l| l.contains(reader))
            .unwrap_or_else(|| panic!("{reader} not listed:\n{text}"));
        assert!(line.contains("empty"), "{line}");
    }
    let doc = json_of(
        &pcscd
            .sscard(dir)
            .args(["--output-format", "json", "readers"])
            .output()
            .unwrap(),
    );
    assert_eq!(doc["schema"], "sscard.readers/1");
    let names: Vec<&str> = doc["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [CARD_READER, PSAM_READER]);

    // No reader named and no card anywhere: a clear error, exit code 3.
    let out = pcscd.sscard(dir).arg("read").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("no card"), "{}", stderr(&out));
    // A reader that does not exist: exit code 3, naming it.
    let out = pcscd
        .sscard(dir)
        .args(["--reader", "No Such Reader", "read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("No Such Reader"), "{}", stderr(&out));
    // issue 13 item 17: waiting for a card that never comes says so (exit 3), not "the card
    // did not answer in time"
    let out = pcscd
        .sscard(dir)
        .args(["--reader", CARD_READER, "--wait", "1", "read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no card was inserted within 1 s"),
        "{}",
        stderr(&out)
    );
    // an ambiguous reader name is a usage error (exit 2) naming the candidates
    let out = pcscd
        .sscard(dir)
        .args(["--reader", "Virtual PCD", "read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("ambiguous"), "{}", stderr(&out));
    // the same reader twice in a batch (two names for it): refused before anything starts,
    // not "in exclusive use by another program"
    std::fs::write(dir.join("twice.csv"), common::csv(2)).unwrap();
    let out = pcscd
        .sscard(dir)
        .args([
            "--reader",
            CARD_READER,
            "--reader",
            &CARD_READER.to_lowercase(),
        ])
        .args([
            "--test-keys",
            "batch",
            "--input",
            "twice.csv",
            "--journal",
            "twice.db",
        ])
        .args(["--return-file", "twice-return.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("twice"), "{}", stderr(&out));
    assert!(!dir.join("twice-return.csv").exists());
    println!("ok: readers (text, json), no card: exit 3, unknown reader: exit 3, --wait without a card: exit 3, ambiguous: exit 2, a reader twice: exit 2");
}

fn single_card_lifecycle(pcscd: &PrivatePcscd, dir: &Path) {
    let sscard = |args: &[&str]| {
        let out = pcscd.sscard(dir).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "sscard {args:?} failed ({:?}):\n{}{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        out
    };
    sscard(&["sim", "new", "--out", "card.json", "--algorithm", "sm4"]);
    sscard(&[
        "sim",
        "new-psam",
        "--out",
        "psam.json",
        "--algorithm",
        "sm4",
    ]);
    let mut served = Served::start(pcscd, dir, &["--image", "card.json", "--psam", "psam.json"]);
    assert_eq!(served.announced["schema"], "sscard.sim-serve/1");
    assert_eq!(served.reader(), CARD_READER, "{}", served.announced);
    assert_eq!(served.announced["psam_reader"], PSAM_READER);
    let atr = served.announced["atr"].as_str().unwrap().to_owned();

    // readers: the card's state and ATR
    let text = stdout(&sscard(&["readers"]));
    let line = text.lines().find(|l| l.contains(CARD_READER)).unwrap();
    assert!(line.contains("card") && line.contains(&atr), "{line}");
    let doc = json_of(&sscard(&["--output-format", "json", "readers"]));
    let card = &doc["readers"][0];
    assert_eq!(card["card_present"], true);
    assert_eq!(card["atr"], atr.as_str());
    assert_eq!(doc["readers"][1]["card_present"], true);

    let reader = served.reader().to_owned();
    let on_card = |args: &[&str]| {
        let mut all = vec!["--reader", reader.as_str()];
        all.extend_from_slice(args);
        sscard(&all)
    };
    let person = "zhang-san-2.json";

    // a key file others can read is refused (exit 7); 0600 works
    std::fs::copy(dir.join("keys.json"), dir.join("open-keys.json")).unwrap();
    set_mode(&dir.join("open-keys.json"), 0o644);
    let out = pcscd
        .sscard(dir)
        .args(["--reader", &reader, "--keys", "open-keys.json"])
        .args(["personalize", "--person", person])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let out = on_card(&["--keys", "keys.json", "personalize", "--person", person]);
    assert!(stdout(&out).contains("personalized card KD5578904"));

    // read: text, JSON, basic (PSAM as key holder: genuine, terminal number)
    let text = stdout(&on_card(&["read"]));
    assert!(
        text.contains("张三") && text.contains("KD5578904"),
        "{text}"
    );
    let doc = json_of(&on_card(&["--output-format", "json", "read"]));
    assert_eq!(doc["schema"], "sscard.read/3");
    assert_eq!(doc["genuine"], serde_json::Value::Null);
    assert_eq!(doc["atr"], atr.as_str());
    assert_eq!(doc["holder"]["ssn"], "111111198101011110");
    let doc = json_of(&on_card(&[
        "--psam",
        PSAM_READER,
        "--output-format",
        "json",
        "read",
        "--check-validity",
    ]));
    assert_eq!(doc["genuine"], true);
    assert_eq!(doc["validity"]["verdict"], "valid");
    assert_eq!(doc["validity"]["detail"]["pin"]["tries_left"], 3);
    assert_eq!(doc["terminal_number"], TERMINAL);
    let basic = stdout(&on_card(&[
        "--psam",
        PSAM_READER,
        "--output-format",
        "basic",
        "read",
    ]));
    let basic = basic.trim_end();
    assert!(basic.ends_with('|'), "{basic}");
    let fields: Vec<&str> = basic.split('|').collect();
    assert_eq!(fields.len(), 12, "11 fields, each followed by |: {basic}");
    assert_eq!(fields[1], "111111198101011110");
    assert_eq!(fields[2], "KD5578904");
    assert_eq!(fields[4], "张三");
    assert_eq!(fields[9], TERMINAL);

    // activate with the PSAM, verify (trace: VERIFY redacted), wrong PIN, unblock
    pin_file(dir, "new.pin", "246813");
    pin_file(dir, "wrong.pin", "975310");
    on_card(&[
        "--psam",
        PSAM_READER,
        "activate",
        "--new-pin-file",
        "new.pin",
    ]);
    let out = on_card(&["--trace", "pin", "verify", "--pin-file", "new.pin"]);
    let trace = stderr(&out);
    assert!(trace.contains("A>> 00 20"), "VERIFY traced:\n{trace}");
    assert!(trace.contains("REDACTED"), "{trace}");
    for secret in ["246813", "24 68 13"] {
        assert!(!trace.contains(secret), "PIN in the trace:\n{trace}");
    }
    let out = pcscd
        .sscard(dir)
        .args([
            "--reader",
            &reader,
            "pin",
            "verify",
            "--pin-file",
            "wrong.pin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains('2'), "tries left: {}", stderr(&out));
    let doc = json_of(&on_card(&["--output-format", "json", "pin", "status"]));
    assert_eq!(doc["tries_left"], 2);
    on_card(&["--psam", PSAM_READER, "pin", "unblock"]);
    let doc = json_of(&on_card(&["--output-format", "json", "pin", "status"]));
    assert_eq!(doc["tries_left"], 3);

    // a raw SELECT of the social security application
    let out = on_card(&["apdu", "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"]);
    assert!(stdout(&out).contains("90 00"), "{}", stdout(&out));

    // the application block with the PSAM (BK and STKSSSE): permanent
    on_card(&["--psam", PSAM_READER, "block"]);
    let out = pcscd
        .sscard(dir)
        .args(["--reader", &reader, "read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("9303"), "{}", stderr(&out));

    // stopped like Ctrl-C: the image on disk holds the card's state
    let status = served.stop();
    assert!(status.success(), "sim serve: {status:?}");
    let image: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("card.json")).unwrap()).unwrap();
    assert_eq!(image["ssse_blocked"], true);
    assert_eq!(
        image["ef06"].as_array().unwrap().len(),
        7,
        "the holder data"
    );
    assert_ne!(image["pin"]["value"], "", "the holder's PIN");
    println!("ok: sim serve card + PSAM; personalize, read (text/json/basic, validity), activate, verify, trace, pin unblock, apdu, block");
}

fn batch_on_two_feeders(pcscd: &PrivatePcscd, dir: &Path) {
    wait_readers_empty(pcscd, dir);
    const PERSONS: usize = 20;
    std::fs::write(dir.join("persons.csv"), csv(PERSONS as u32)).unwrap();
    let feeders: Vec<Served> = ["0", "1"]
        .iter()
        .map(|slot| {
            Served::start(
                pcscd,
                dir,
                &["--feeder", &format!("feeder-{slot}"), "--slot", slot],
            )
        })
        .collect();
    assert_eq!(feeders[0].reader(), CARD_READER);
    assert_eq!(feeders[1].reader(), PSAM_READER);
    let out = pcscd
        .sscard(dir)
        .args(["--reader", CARD_READER, "--reader", PSAM_READER])
        .args(["--keys", "keys.json", "--output-format", "json", "batch"])
        .args(["--input", "persons.csv", "--journal", "journal.db"])
        .args(["--return-file", "return.csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "batch failed ({:?}):\n{}{}\nfeeder 0: {}\nfeeder 1: {}",
        out.status.code(),
        stdout(&out),
        stderr(&out),
        feeders[0].stderr_text(),
        feeders[1].stderr_text()
    );
    let doc = json_of(&out);
    assert_eq!(doc["counts"]["OK"], PERSONS as u64, "{doc}");
    let ret = std::fs::read_to_string(dir.join("return.csv")).unwrap();
    let ok_rows: Vec<&str> = ret.lines().skip(1).filter(|l| l.contains(",OK,")).collect();
    assert_eq!(ok_rows.len(), PERSONS, "{ret}");
    let atrs: std::collections::BTreeSet<&str> = ok_rows
        .iter()
        .map(|l| l.split(',').nth(5).unwrap())
        .collect();
    assert_eq!(atrs.len(), PERSONS, "a fresh card (ATR) per person");
    for mut feeder in feeders {
        assert!(feeder.stop().success());
    }
    let mut filed = 0;
    for slot in ["0", "1"] {
        let cards: Vec<PathBuf> = std::fs::read_dir(dir.join(format!("feeder-{slot}/cards")))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!cards.is_empty(), "feeder {slot} personalized no card");
        filed += cards.len();
        // an ejected card is personalized for one of the persons
        let card = format!("sim:{}", cards[0].display());
        let doc = json_of(&sscard_ok(
            pcscd,
            dir,
            &["--reader", &card, "--output-format", "json", "read"],
        ));
        let ssn = doc["holder"]["ssn"].as_str().unwrap();
        assert!(ret.contains(ssn), "{ssn} not in the return file");
        // the blank card left in the reader
        assert!(dir.join(format!("feeder-{slot}/in-reader.json")).exists());
    }
    assert_eq!(filed, PERSONS);
    println!("ok: batch of {PERSONS} persons on two feeders through pcscd");
}

fn sscard_ok(pcscd: &PrivatePcscd, dir: &Path, args: &[&str]) -> std::process::Output {
    let out = pcscd.sscard(dir).args(args).output().unwrap();
    assert!(out.status.success(), "sscard {args:?}: {}", stderr(&out));
    out
}
