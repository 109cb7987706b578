//! The command line's conventions (issue 14): `-q`, `-v`, `--no-progress` and the progress
//! line, the JSON error document, man pages per subcommand, shell completion of readers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn failures_under_json_print_an_error_document_as_well() {
    let dir = workdir();
    let d = dir.path();
    let out = sscard(d)
        .args([
            "--output-format",
            "json",
            "--reader",
            "sim:missing.json",
            "read",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_NO_CARD));
    let doc = json_of(&out);
    assert_eq!(doc["schema"], "sscard.error/1");
    assert_eq!(doc["code"], "no_card");
    assert_eq!(doc["exit_code"], EXIT_NO_CARD);
    let message = doc["message"].as_str().unwrap();
    assert!(message.contains("missing.json"), "{message}");
    assert!(stderr(&out).contains(message), "the text stays on stderr");
    // a command line clap refuses
    let out = sscard(d)
        .args(["--output-format=json", "read", "--no-such-option"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_USAGE));
    let doc = json_of(&out);
    assert_eq!(doc["code"], "usage");
    assert!(doc["message"]
        .as_str()
        .unwrap()
        .contains("--no-such-option"));
    // text output: nothing on stdout
    let out = sscard(d)
        .args(["--reader", "sim:missing.json", "read"])
        .output()
        .unwrap();
    assert!(stdout(&out).is_empty());
}

#[test]
fn progress_quiet_and_verbose() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("persons.csv"), csv(5)).unwrap();
    let batch = |extra: &[&str], journal: &str| {
        let mut cmd = sscard(d);
        cmd.args(extra)
            .args([
                "--keys",
                "keys.json",
                "--reader",
                &format!("feeder:f-{journal}"),
            ])
            .args(["batch", "--input", "persons.csv", "--journal", journal])
            .args(["--return-file", &format!("{journal}.csv")]);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
    };
    // stderr is not a terminal here: a plain progress line, the rate in words
    let plain = batch(&[], "j1");
    let line = plain
        .lines()
        .find(|l| l.starts_with("progress: 5/5 cards, "))
        .unwrap_or_else(|| panic!("{plain}"));
    assert!(
        line.contains(" cards/s") || line.contains(" s per card"),
        "{line}"
    );
    assert!(!batch(&["--no-progress"], "j2").contains("progress:"));
    // quiet: not even the note about the station key made for the first batch
    let quiet_dir = workdir();
    let mut cmd = sscard(quiet_dir.path());
    std::fs::write(quiet_dir.path().join("persons.csv"), csv(2)).unwrap();
    let out = cmd
        .args(["-q", "--keys", "keys.json", "--reader", "feeder:f"])
        .args(["batch", "--input", "persons.csv", "--journal", "j.db"])
        .args(["--return-file", "r.csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stderr(&out), "", "--quiet prints nothing but errors");
    // -v: the APDUs and time of the session; -vv: every APDU
    let card = personalized_card(d);
    let image = format!("sim:{}", card.display());
    let out = sscard(d)
        .args(["-v", "-r", &image, "read"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(" APDUs in "), "{}", stderr(&out));
    assert!(!stderr(&out).contains("A>>"));
    let out = sscard(d)
        .args(["-vv", "-r", &image, "read"])
        .output()
        .unwrap();
    assert!(stderr(&out).contains("A>> 00 A4 04 00"), "{}", stderr(&out));
    let out = sscard(d).args(["-q", "-v", "read"]).output().unwrap();
    assert_eq!(out.status.code(), Some(EXIT_USAGE));
}

#[test]
fn man_pages_per_subcommand_and_completions_are_there() {
    let dir = workdir();
    let d = dir.path();
    let help = stdout(&sscard(d).arg("--help").output().unwrap());
    assert!(help.contains("\n  man "), "{help}");
    assert!(help.contains("\n  completions "), "{help}");
    let out = sscard(d).args(["man", "pin", "verify"]).output().unwrap();
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(".TH sscard-pin-verify 1"),
        "{}",
        stdout(&out)
    );
    let out = sscard(d).args(["man", "pin", "nothing"]).output().unwrap();
    assert_eq!(out.status.code(), Some(EXIT_USAGE));
    let out = sscard(d)
        .args(["man", "--out-dir", "man"])
        .output()
        .unwrap();
    assert!(out.status.success());
    for page in [
        "sscard.1",
        "sscard-read.1",
        "sscard-batch.1",
        "sscard-sim-new.1",
    ] {
        let text = std::fs::read_to_string(d.join("man").join(page)).unwrap();
        assert!(text.contains(".TH "), "{page}");
    }
    let out = sscard(d).args(["completions", "bash"]).output().unwrap();
    assert!(stdout(&out).contains("--reader"));
    // dynamic completion: simulated card images and feeders as reader values
    std::fs::write(d.join("card-a.json"), "{}").unwrap();
    let out = sscard(d)
        .env("COMPLETE", "fish")
        .args(["--", "sscard", "--reader", "sim:card"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "sim:card-a.json");
    let out = sscard(d)
        .env("COMPLETE", "fish")
        .args(["--", "sscard", "--reader", "f"])
        .output()
        .unwrap();
    assert!(
        stdout(&out).lines().any(|l| l == "feeder:"),
        "{}",
        stdout(&out)
    );
}
