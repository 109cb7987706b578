//! End-to-end tests of the single-card subcommands against simulated card images.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

const EXIT_NO_CARD: i32 = 3;
const EXIT_PIN: i32 = 4;
const EXIT_REFUSED: i32 = 5;
const EXIT_BAD_INPUT: i32 = 6;
const EXIT_KEY_HOLDER: i32 = 7;

#[test]
fn demo_runs_every_step_without_hardware() {
    let dir = workdir();
    let out = sscard(dir.path()).arg("demo").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for step in [
        "1. personalize",
        "2. read",
        "3. activate",
        "4. verify a wrong PIN",
        "5. verify the right PIN",
        "6. block",
        "7. unblock",
    ] {
        assert!(text.contains(step), "{step} missing in:\n{text}");
    }
    assert!(text.contains("APDUs"));
    assert!(text.contains("2 tries left"));
}

#[test]
fn help_documents_exit_codes_and_man_and_completions_generate() {
    let dir = workdir();
    let out = sscard(dir.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("wrong PIN"));
    for sub in [
        "readers",
        "read",
        "personalize",
        "batch",
        "activate",
        "pin",
        "block",
        "unblock",
        "apdu",
        "sim",
        "demo",
    ] {
        sscard(dir.path()).args([sub, "--help"]).assert().success();
    }
    let man = sscard(dir.path()).arg("man").output().unwrap();
    assert!(man.status.success());
    assert!(stdout(&man).contains(".TH sscard"));
    let comp = sscard(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(comp.status.success());
    assert!(stdout(&comp).contains("personalize"));
    // usage errors are 2
    sscard(dir.path()).arg("frobnicate").assert().code(2);
}

#[test]
fn personalize_then_read_in_every_format() {
    let dir = workdir();
    personalized_card(dir.path());
    let basic = sscard(dir.path())
        .args([
            "--reader",
            "sim:card.json",
            "read",
            "--output-format",
            "basic",
        ])
        .output()
        .unwrap();
    assert!(basic.status.success(), "{}", stderr(&basic));
    let line = stdout(&basic);
    let line = line.trim_end_matches('\n');
    assert_eq!(line.lines().count(), 1);
    assert!(line.ends_with('|'));
    let fields: Vec<&str> = line.strip_suffix('|').unwrap().split('|').collect();
    assert_eq!(fields.len(), 11, "{line}");
    assert_eq!(fields[0], "639900");
    assert_eq!(fields[1], "111111198101011110");
    assert_eq!(fields[2], "KD5578904");
    assert!(fields[3].starts_with("639900D156000005"));
    assert_eq!(fields[4], "张三");
    assert_eq!(fields[6], "2.00");
    assert_eq!(fields[7], "20150711");
    assert_eq!(fields[8], "20350711");

    let json = sscard(dir.path())
        .args([
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "read",
            "--supplementary",
            "--output-format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(json.status.success(), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["schema"], "sscard.read/1");
    assert_eq!(doc["holder"]["name"], "张三");
    assert_eq!(doc["genuine"], true);
    assert_eq!(doc["card_id_mac_verified"], true);
    assert_eq!(doc["supplementary"]["person_id"], "P63990012345");
    assert_eq!(doc["basic_line"].as_str().unwrap(), line);

    let text = sscard(dir.path())
        .args(["--reader", "sim:card.json", "read"])
        .output()
        .unwrap();
    assert!(stdout(&text).contains("KD5578904"));

    // a second personalization is refused without --repersonalize
    let again = sscard(dir.path())
        .args([
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
        ])
        .arg(fixture_person("zhang-san-2.json"))
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(EXIT_REFUSED),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("already personalized"));
}

#[test]
fn sim_new_with_person_and_psam_key_holder() {
    let dir = workdir();
    sscard(dir.path())
        .args([
            "--keys",
            "keys.json",
            "sim",
            "new",
            "--out",
            "c3.json",
            "--algorithm",
            "sm4",
            "--person",
        ])
        .arg(fixture_person("wang-wu-3.json"))
        .assert()
        .success();
    // 3.0 card: reading needs the read key
    let out = sscard(dir.path())
        .args(["--reader", "sim:c3.json", "read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_KEY_HOLDER), "{}", stderr(&out));
    sscard(dir.path())
        .args([
            "--keys",
            "keys.json",
            "sim",
            "new-psam",
            "--out",
            "psam.json",
            "--algorithm",
            "sm4",
            "--terminal-number",
            "410100813475",
        ])
        .assert()
        .success();
    let out = sscard(dir.path())
        .args([
            "--reader",
            "sim:c3.json",
            "--psam",
            "sim:psam.json",
            "read",
            "--output-format",
            "basic",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 12);
    assert_eq!(fields[6], "3.00");
    assert_eq!(fields[9], "410100813475");
}

#[test]
fn no_reader_is_exit_3() {
    let dir = workdir();
    let out = sscard(dir.path()).arg("read").output().unwrap();
    assert_eq!(out.status.code(), Some(EXIT_NO_CARD), "{}", stderr(&out));
    let out = sscard(dir.path())
        .args(["--reader", "sim:missing.json", "read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_NO_CARD));
    assert!(stderr(&out).contains("does not exist"));
    let out = sscard(dir.path()).arg("readers").output().unwrap();
    assert_eq!(out.status.code(), Some(EXIT_NO_CARD), "{}", stderr(&out));
    // $SSCARD_READER is honoured
    let out = sscard(dir.path())
        .env("SSCARD_READER", "sim:missing.json")
        .arg("read")
        .output()
        .unwrap();
    assert!(stderr(&out).contains("missing.json"));
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let dir = workdir();
    sscard(dir.path())
        .args(["sim", "new", "--out", "card.json"])
        .assert()
        .success();
    set_mode(&dir.path().join("keys.json"), 0o644);
    let out = sscard(dir.path())
        .args([
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
        ])
        .arg(fixture_person("zhang-san-2.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_KEY_HOLDER), "{}", stderr(&out));
    assert!(stderr(&out).contains("chmod 600"));
    // no key holder at all
    let out = sscard(dir.path())
        .args(["--reader", "sim:card.json", "personalize", "--person"])
        .arg(fixture_person("zhang-san-2.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_KEY_HOLDER));
}

#[test]
fn bad_person_record_is_exit_6_naming_the_field() {
    let dir = workdir();
    sscard(dir.path())
        .args(["sim", "new", "--out", "card.json"])
        .assert()
        .success();
    let bad = dir.path().join("bad.json");
    let text = std::fs::read_to_string(fixture_person("zhang-san-2.json"))
        .unwrap()
        .replace("111111198101011110", "111111198101011111");
    std::fs::write(&bad, text).unwrap();
    let out = sscard(dir.path())
        .args([
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "bad.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    assert!(stderr(&out).contains("ssn"), "{}", stderr(&out));
}

#[test]
fn activation_refuses_weak_and_initial_pins_then_pin_commands() {
    let dir = workdir();
    personalized_card(dir.path());
    let d = dir.path();
    let act = |file: &str| {
        sscard(d)
            .args([
                "-r",
                "sim:card.json",
                "--keys",
                "keys.json",
                "activate",
                "--new-pin-file",
                file,
            ])
            .output()
            .unwrap()
    };
    pin_file(d, "weak.pin", "111111");
    pin_file(d, "initial.pin", "123456");
    pin_file(d, "short.pin", "12");
    for f in ["weak.pin", "initial.pin", "short.pin"] {
        let out = act(f);
        assert_eq!(
            out.status.code(),
            Some(EXIT_BAD_INPUT),
            "{f}: {}",
            stderr(&out)
        );
    }
    // PIN transactions are refused before activation
    pin_file(d, "new.pin", "246813");
    let out = sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "new.pin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_REFUSED));
    let out = act("new.pin");
    assert!(out.status.success(), "{}", stderr(&out));
    // already activated
    assert_eq!(act("new.pin").status.code(), Some(EXIT_REFUSED));

    // wrong PIN: tries left shown
    pin_file(d, "wrong.pin", "975310");
    let out = sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "wrong.pin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_PIN));
    assert!(stderr(&out).contains("2 tries left"), "{}", stderr(&out));
    // the counter persists in the image
    let out = sscard(d)
        .args(["-r", "sim:card.json", "pin", "tries"])
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("2 PIN tries left"),
        "{}",
        stdout(&out)
    );
    sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "new.pin",
        ])
        .assert()
        .success();
    // change through a file descriptor: old and new on fd 0? use files for old, fd for new
    pin_file(d, "next.pin", "864209");
    sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "pin",
            "change",
            "--pin-file",
            "new.pin",
            "--new-pin-fd",
            "0",
        ])
        .write_stdin("864209\n")
        .assert()
        .success();
    sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "next.pin",
        ])
        .assert()
        .success();
    // the issuer reloads a PIN
    pin_file(d, "reload.pin", "509172");
    sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "pin",
            "reload",
            "--new-pin-file",
            "reload.pin",
        ])
        .assert()
        .success();
    sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "reload.pin",
        ])
        .assert()
        .success();
}

#[test]
fn pin_blocked_and_unblocked_by_the_issuer() {
    let dir = workdir();
    activated_card(dir.path());
    let d = dir.path();
    pin_file(d, "wrong.pin", "975310");
    let verify = |file: &str| {
        sscard(d)
            .args(["-r", "sim:card.json", "pin", "verify", "--pin-file", file])
            .output()
            .unwrap()
    };
    for left in ["2 tries left", "1 tries left"] {
        let out = verify("wrong.pin");
        assert_eq!(out.status.code(), Some(EXIT_PIN));
        assert!(stderr(&out).contains(left), "{}", stderr(&out));
    }
    let out = verify("wrong.pin");
    assert_eq!(out.status.code(), Some(EXIT_PIN));
    let out = verify("new.pin");
    assert_eq!(out.status.code(), Some(EXIT_PIN));
    assert!(stderr(&out).contains("blocked"), "{}", stderr(&out));
    sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "pin",
            "unblock",
        ])
        .assert()
        .success();
    assert!(verify("new.pin").status.success());
}

#[test]
fn blocked_card_is_refused_until_unblocked() {
    let dir = workdir();
    activated_card(dir.path());
    let d = dir.path();
    let read = || {
        sscard(d)
            .args(["-r", "sim:card.json", "read", "--output-format", "basic"])
            .output()
            .unwrap()
    };
    sscard(d)
        .args(["-r", "sim:card.json", "--keys", "keys.json", "block"])
        .assert()
        .success();
    let out = read();
    assert_eq!(out.status.code(), Some(EXIT_REFUSED));
    assert!(stderr(&out).contains("blocked"));
    sscard(d)
        .args(["-r", "sim:card.json", "--keys", "keys.json", "unblock"])
        .assert()
        .success();
    assert!(read().status.success());
    sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "block",
            "--permanent",
        ])
        .assert()
        .success();
    let out = sscard(d)
        .args(["-r", "sim:card.json", "--keys", "keys.json", "unblock"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_REFUSED));
    assert_eq!(read().status.code(), Some(EXIT_REFUSED));
}

#[test]
fn expired_card_cannot_be_activated() {
    let dir = workdir();
    let d = dir.path();
    sscard(d)
        .args(["sim", "new", "--out", "card.json"])
        .assert()
        .success();
    person_json(d, "old.json", "20100101", "20200101");
    let out = sscard(d)
        .args([
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "old.json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stderr(&out).contains("expiry date has already passed"));
    let out = sscard(d)
        .args(["-r", "sim:card.json", "read"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("EXPIRED"));
    pin_file(d, "new.pin", "246813");
    let out = sscard(d)
        .args([
            "-r",
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
    assert!(stderr(&out).contains("expired"), "{}", stderr(&out));
}

#[test]
fn raw_apdus_with_get_response() {
    let dir = workdir();
    let d = dir.path();
    sscard(d)
        .args(["sim", "new", "--out", "t0.json", "--t0"])
        .assert()
        .success();
    let out = sscard(d)
        .args([
            "-r",
            "sim:t0.json",
            "apdu",
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00",
            "00B2 01 2C 00",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // the FCI came through GET RESPONSE (T=0 card), shown as one response ending in 90 00
    let received: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("Received: "))
        .collect();
    assert_eq!(received.len(), 2, "{text}");
    assert!(received[0].starts_with("Received: 6F 25 84 0F"), "{text}");
    assert!(received[0].ends_with("90 00"), "{text}");
    assert!(received[1].starts_with("Received: 01 10 00 00"), "{text}"); // blank card
    std::fs::write(
        d.join("script.apdu"),
        "# select SSSE\n00A404000F7378312E73682EC9E7BBE1B1A3D5CF00\n0084000008 # challenge\n",
    )
    .unwrap();
    let out = sscard(d)
        .args([
            "-r",
            "sim:t0.json",
            "--output-format",
            "json",
            "apdu",
            "--script",
            "script.apdu",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "sscard.apdu/1");
    assert_eq!(doc["responses"].as_array().unwrap().len(), 2);
    assert_eq!(doc["responses"][1]["sw"], "9000");
    let out = sscard(d)
        .args(["-r", "sim:t0.json", "apdu", "00zz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
}

/// Every secret-carrying command with --trace: no PIN, key or cryptogram in anything printed.
#[test]
fn trace_never_shows_pins_keys_or_cryptograms() {
    let dir = workdir();
    let d = dir.path();
    let mut printed = String::new();
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = sscard(d);
        cmd.arg("--trace").args(args);
        if let Some(file) = stdin {
            cmd.write_stdin(std::fs::read(d.join(file)).unwrap());
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        printed.push_str(&stdout(&out));
        printed.push_str(&stderr(&out));
    };
    run(&["sim", "new", "--out", "card.json"], None);
    let p = fixture_person("zhang-san-2.json");
    let person = p.to_str().unwrap();
    run(
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            person,
        ],
        None,
    );
    pin_file(d, "new.pin", "246813");
    pin_file(d, "next.pin", "864209");
    pin_file(d, "reload.pin", "509172");
    run(
        &["-r", "sim:card.json", "--keys", "keys.json", "read"],
        None,
    );
    run(
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "activate",
            "--new-pin-file",
            "new.pin",
        ],
        None,
    );
    run(
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "new.pin",
        ],
        None,
    );
    run(
        &[
            "-r",
            "sim:card.json",
            "pin",
            "change",
            "--pin-file",
            "new.pin",
            "--new-pin-fd",
            "0",
        ],
        Some("next.pin"),
    );
    run(
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "pin",
            "reload",
            "--new-pin-file",
            "reload.pin",
        ],
        None,
    );
    run(
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "pin",
            "unblock",
        ],
        None,
    );
    run(
        &["-r", "sim:card.json", "--keys", "keys.json", "block"],
        None,
    );
    run(
        &["-r", "sim:card.json", "--keys", "keys.json", "unblock"],
        None,
    );
    run(&["-r", "sim:card.json", "apdu", "0020000003246813"], None);
    run(&["demo"], None);

    assert!(printed.contains("A>>"), "no trace printed");
    assert!(printed.contains("REDACTED"));
    let compact: String = printed.chars().filter(|c| !c.is_whitespace()).collect();
    for pin in ["123456", "246813", "864209", "509172", "860412"] {
        assert!(!printed.contains(pin), "PIN {pin} printed");
        assert!(!compact.contains(pin), "PIN {pin} printed as hex");
    }
    // no master key and no card key
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("keys.json")).unwrap()).unwrap();
    let mut secrets = Vec::new();
    for alg in keys["algorithms"].as_object().unwrap().values() {
        for k in alg.as_object().unwrap().values() {
            secrets.push(k.as_str().unwrap().to_uppercase());
        }
    }
    let image: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("card.json")).unwrap()).unwrap();
    for k in image["keys"].as_object().unwrap().values() {
        secrets.push(k.as_str().unwrap().to_uppercase());
    }
    let upper = compact.to_uppercase();
    for s in &secrets {
        assert!(!upper.contains(&s[..16]), "key material printed");
    }
    // every command carrying a cryptogram, PIN or PIN block is redacted
    let lines: Vec<&str> = printed.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let cmd = l.trim_start_matches("A>> ").replace(' ', "");
        if l.starts_with("A>> ")
            && (cmd.starts_with("0082")
                || cmd.starts_with("0020000003")
                || cmd.starts_with("805E")
                || cmd.starts_with("84240001"))
        {
            assert!(l.contains("REDACTED"), "line {i} not redacted: {l}");
        }
    }
}
