//! End-to-end tests of the single-card subcommands against simulated card images.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    sscard(dir).args(args).output().unwrap()
}

fn ok(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "sscard {args:?} failed ({:?}):\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

fn fails(dir: &std::path::Path, args: &[&str], code: i32) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "sscard {args:?}:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    stderr(&out)
}

/// The APDU count of a demo step line (`N. name   17 APDUs  outcome`).
fn apdus_of(line: &str) -> u64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.starts_with("APDU"))
        .unwrap_or_else(|| panic!("no APDU count in {line:?}"));
    words[at - 1].parse().unwrap()
}

#[test]
fn demo_runs_every_step_without_hardware() {
    let dir = workdir();
    let out = ok(dir.path(), &["demo"]);
    let text = stdout(&out);
    let steps = [
        "1. personalize",
        "2. read (genuine",
        "3. activate",
        "4. verify a wrong PIN",
        "5. verify the right PIN",
        "6. block",
        "7. read after the block",
    ];
    for step in steps {
        let line = text
            .lines()
            .find(|l| l.starts_with(step))
            .unwrap_or_else(|| panic!("{step} missing in:\n{text}"));
        assert!(apdus_of(line) > 0, "{line}");
    }
    let line = |step: &str| text.lines().find(|l| l.starts_with(step)).unwrap();
    // the read is the iReadCardBas line of the personalized card, proved genuine
    assert!(line("2. read").contains("|111111198101011110|KD5578904|639900D156000005"));
    assert!(line("4. verify").contains("wrong PIN: 2 tries left"));
    assert!(line("5. verify").contains("3 tries left"));
    assert!(
        line("7. read").contains("refused as expected")
            && line("7. read").contains("permanently blocked (9303)"),
        "{text}"
    );
    // a blocked card answers its SELECT with 9303 and nothing more is sent
    assert_eq!(apdus_of(line("7. read")), 1);
    assert!(!text.contains("unblock"), "{text}");

    let out = ok(dir.path(), &["--output-format", "json", "demo"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "sscard.demo/2");
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7);
    assert!(steps.iter().all(|s| s["apdus"].as_u64().unwrap() > 0));
}

#[test]
fn help_speaks_of_key_roles_documents_exit_codes_and_man_and_completions_generate() {
    let dir = workdir();
    let d = dir.path();
    let help = stdout(&ok(d, &["--help"]));
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("wrong PIN"));
    for role in ["IRK", "RKSSSE", "UKSSSE", "PUK", "STKSSSE", "BK"] {
        assert!(help.contains(role), "{role} not in --help:\n{help}");
    }
    for sub in [
        "readers",
        "read",
        "personalize",
        "batch",
        "activate",
        "pin",
        "block",
        "bank-account",
        "apdu",
        "sim",
        "keys",
        "demo",
    ] {
        let out = ok(d, &[sub, "--help"]);
        assert!(stdout(&out).contains("Usage:"), "{sub}");
    }
    // the key roles a command needs are named; no invented key numbers
    let reload = stdout(&ok(d, &["pin", "reload", "--help"]));
    assert!(
        reload.contains("PUK") && reload.contains("STKSSSE"),
        "{reload}"
    );
    let block = stdout(&ok(d, &["block", "--help"]));
    assert!(block.contains("BK") && block.contains("STKSSSE"), "{block}");
    assert!(block.contains("no unblock"), "{block}");
    for text in [&help, &reload, &block] {
        assert!(!text.contains("key 0"), "{text}");
        assert!(!text.to_lowercase().contains("master key"), "{text}");
    }
    let man = ok(d, &["man"]);
    assert!(stdout(&man).contains(".TH sscard"));
    let comp = ok(d, &["completions", "bash"]);
    assert!(stdout(&comp).contains("personalize"));
    assert!(stdout(&comp).contains("bank-account"));
    // usage errors are 2
    fails(d, &["frobnicate"], EXIT_USAGE);
    // the removed `unblock` says why and what to do instead
    let err = fails(
        d,
        &["-r", "sim:card.json", "--keys", "keys.json", "unblock"],
        EXIT_USAGE,
    );
    assert!(err.contains("no application unblock"), "{err}");
    assert!(err.contains("replaced"), "{err}");
    assert!(err.contains("sscard pin unblock"), "{err}");
}

#[test]
fn personalize_then_read_in_every_format() {
    let dir = workdir();
    let d = dir.path();
    personalized_card(d);
    let basic = ok(
        d,
        &[
            "--reader",
            "sim:card.json",
            "read",
            "--output-format",
            "basic",
        ],
    );
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
    // the historical bytes of the ATR (part 2 table 16): T8-T9 are the region's first digits
    assert_eq!(&fields[5][14..18], "6399", "{line}");

    let json = ok(
        d,
        &[
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "read",
            "--output-format",
            "json",
        ],
    );
    let doc = checked_document(&stdout(&json));
    assert_eq!(doc["schema"], "sscard.read/3");
    assert_eq!(doc["holder"]["name"], "张三");
    assert_eq!(doc["issuing"]["initializing_body"], INITIALIZING_BODY);
    assert_eq!(doc["genuine"], true);
    assert_eq!(doc["validity"], serde_json::Value::Null);
    assert_eq!(doc["basic_line"].as_str().unwrap(), line);

    let text = stdout(&ok(d, &["--reader", "sim:card.json", "read"]));
    assert!(text.contains("KD5578904"), "{text}");
    assert!(text.contains("Genuine            not checked"), "{text}");
    let text = stdout(&ok(
        d,
        &[
            "--reader",
            "sim:card.json",
            "--test-keys",
            "read",
            "--no-verify",
        ],
    ));
    assert!(text.contains("Genuine            not checked"), "{text}");

    // the same person again: recognised, nothing written
    let out = ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "zhang-san-2.json",
        ],
    );
    assert!(stdout(&out).contains("already carries this personalization"));
    // another person is refused without --overwrite, then written with it
    let err = fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "li-si-1.json",
        ],
        EXIT_REFUSED,
    );
    assert!(
        err.contains("already personalized (card number KD5578904)"),
        "{err}"
    );
    assert!(err.contains("--overwrite"), "{err}");
    let other_ssn = ssn(2, "19900101");
    let other = person_text(
        &other_ssn,
        "王芳",
        sex_of(&other_ssn),
        "19900101",
        &card_number(77),
        "2",
        "20240101",
        "20340101",
    );
    std::fs::write(d.join("other.json"), other).unwrap();
    let out = ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "--output-format",
            "json",
            "personalize",
            "--person",
            "other.json",
            "--overwrite",
        ],
    );
    let doc = checked_document(&stdout(&out));
    assert_eq!(doc["schema"], "sscard.personalize/3");
    assert_eq!(doc["already_done"], false);
    let line = stdout(&ok(
        d,
        &["-r", "sim:card.json", "read", "--output-format", "basic"],
    ));
    assert!(line.contains(&format!("|{other_ssn}|")), "{line}");
    assert!(line.contains("|王芳|"), "{line}");
}

#[test]
fn three_point_zero_cards_need_rkssse_from_a_key_file_or_a_psam_at_any_level() {
    let dir = workdir();
    let d = dir.path();
    ok(
        d,
        &[
            "--keys",
            "keys.json",
            "sim",
            "new",
            "--out",
            "c3.json",
            "--algorithm",
            "sm4",
            "--person",
            "wang-wu-3.json",
        ],
    );
    // 3.0 card: the holder data needs RKSSSE
    let err = fails(d, &["--reader", "sim:c3.json", "read"], EXIT_KEY_HOLDER);
    assert!(err.contains("RKSSSE"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    let text = stdout(&ok(
        d,
        &["--reader", "sim:c3.json", "--keys", "keys.json", "read"],
    ));
    assert!(text.contains("阿卜杜热合曼·买买提依明·艾则孜"), "{text}");
    assert!(text.contains("spec 3.00, sm4"), "{text}");

    for (file, level, region) in [
        ("psam-n.json", "national", None),
        ("psam-p.json", "province", Some("630000")),
        ("psam-c.json", "city", Some("639900")),
    ] {
        let mut args = vec![
            "--keys",
            "keys.json",
            "sim",
            "new-psam",
            "--out",
            file,
            "--algorithm",
            "sm4",
            "--level",
            level,
        ];
        if let Some(r) = region {
            args.extend(["--region", r]);
        }
        ok(d, &args);
        assert_eq!(mode_of(&d.join(file)), 0o600, "a PSAM image holds keys");
        let psam = format!("sim:{file}");
        let out = ok(
            d,
            &[
                "--reader",
                "sim:c3.json",
                "--psam",
                &psam,
                "read",
                "--output-format",
                "basic",
            ],
        );
        let line = stdout(&out);
        let fields: Vec<&str> = line.trim_end().split('|').collect();
        assert_eq!(fields.len(), 12, "{level}: {line}");
        assert_eq!(fields[6], "3.00");
        assert_eq!(fields[9], "410100813475", "the PSAM's terminal number");
    }
    // a city PSAM of another city cannot compute this card's keys
    ok(
        d,
        &[
            "--keys",
            "keys.json",
            "sim",
            "new-psam",
            "--out",
            "psam-x.json",
            "--algorithm",
            "sm4",
            "--level",
            "city",
            "--region",
            "440305",
        ],
    );
    let err = fails(
        d,
        &[
            "--reader",
            "sim:c3.json",
            "--psam",
            "sim:psam-x.json",
            "read",
        ],
        EXIT_REFUSED,
    );
    assert!(err.contains("not genuine"), "{err}");
    // a 3DES PSAM holds no SM4 keys
    ok(d, &["sim", "new-psam", "--out", "psam-3des.json"]);
    fails(
        d,
        &[
            "--reader",
            "sim:c3.json",
            "--psam",
            "sim:psam-3des.json",
            "read",
        ],
        EXIT_KEY_HOLDER,
    );
    // a PSAM image others can read is refused
    set_mode(&d.join("psam-n.json"), 0o644);
    let err = fails(
        d,
        &[
            "--reader",
            "sim:c3.json",
            "--psam",
            "sim:psam-n.json",
            "read",
        ],
        EXIT_KEY_HOLDER,
    );
    assert!(err.contains("chmod 600"), "{err}");
}

#[test]
fn no_reader_is_exit_3() {
    let dir = workdir();
    let d = dir.path();
    fails(d, &["read"], EXIT_NO_CARD);
    let err = fails(d, &["--reader", "sim:missing.json", "read"], EXIT_NO_CARD);
    assert!(err.contains("does not exist"));
    fails(d, &["readers"], EXIT_NO_CARD);
    // $SSCARD_READER is honoured
    let out = sscard(d)
        .env("SSCARD_READER", "sim:missing.json")
        .arg("read")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_NO_CARD));
    assert!(stderr(&out).contains("missing.json"));
}

#[test]
fn key_files_readable_by_others_or_of_version_1_are_refused() {
    let dir = workdir();
    let d = dir.path();
    ok(d, &["sim", "new", "--out", "card.json"]);
    set_mode(&d.join("keys.json"), 0o644);
    let personalize = |keys: &str| {
        run(
            d,
            &[
                "--reader",
                "sim:card.json",
                "--keys",
                keys,
                "personalize",
                "--person",
                "zhang-san-2.json",
            ],
        )
    };
    let out = personalize("keys.json");
    assert_eq!(out.status.code(), Some(EXIT_KEY_HOLDER), "{}", stderr(&out));
    assert!(stderr(&out).contains("chmod 600"));
    // no key holder at all: the roles it needs are named
    let err = fails(
        d,
        &[
            "--reader",
            "sim:card.json",
            "personalize",
            "--person",
            "zhang-san-2.json",
        ],
        EXIT_KEY_HOLDER,
    );
    assert!(err.contains("UKSSSE"), "{err}");
    // a version-1 key file: the core's explanation and the way out
    std::fs::copy(
        fixtures().join("keys/legacy-v1-test-keys.json"),
        d.join("old.json"),
    )
    .unwrap();
    set_mode(&d.join("old.json"), 0o600);
    let out = personalize("old.json");
    assert_eq!(out.status.code(), Some(EXIT_KEY_HOLDER), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("version-1 key file"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("sscard keys new"), "{}", stderr(&out));
    // nothing was written to the card
    let image = image_json(&d.join("card.json"));
    assert_eq!(image["ef06"].as_array().unwrap().len(), 0);
    // --test-keys refuses PC/SC readers
    let err = fails(
        d,
        &["--reader", "Some Reader", "--test-keys", "read"],
        EXIT_KEY_HOLDER,
    );
    assert!(err.contains("simulated cards only"), "{err}");
}

#[test]
fn bad_person_records_are_exit_6_naming_the_field() {
    let dir = workdir();
    let d = dir.path();
    ok(d, &["sim", "new", "--out", "card.json"]);
    let personalize = |file: &str| {
        fails(
            d,
            &[
                "--reader",
                "sim:card.json",
                "--keys",
                "keys.json",
                "personalize",
                "--person",
                file,
            ],
            EXIT_BAD_INPUT,
        )
    };
    let text = std::fs::read_to_string(d.join("zhang-san-2.json")).unwrap();
    std::fs::write(
        d.join("bad.json"),
        text.replace("111111198101011110", "111111198101011111"),
    )
    .unwrap();
    assert!(personalize("bad.json").contains("ssn"));
    // 25 digits of initializing body is one too many (V2.0 notice §8.1.1.4)
    std::fs::write(
        d.join("long.json"),
        text.replace(INITIALIZING_BODY, &format!("{INITIALIZING_BODY}1")),
    )
    .unwrap();
    assert!(personalize("long.json").contains("initializing_body"));
    // the supplementary data of older sscard versions is not a data item any more
    std::fs::write(
        d.join("ef0d.json"),
        text.replace("\"ssn\"", "\"person_id\": \"P63990012345\", \"ssn\""),
    )
    .unwrap();
    let err = personalize("ef0d.json");
    assert!(err.contains("person_id") && err.contains("EF0D"), "{err}");
    let image = image_json(&d.join("card.json"));
    assert_eq!(
        image["ef06"].as_array().unwrap().len(),
        0,
        "nothing written"
    );
}

#[test]
fn activation_checks_the_card_refuses_weak_and_initial_pins_then_pin_commands() {
    let dir = workdir();
    personalized_card(dir.path());
    let d = dir.path();
    let act = |file: &str| {
        run(
            d,
            &[
                "-r",
                "sim:card.json",
                "--keys",
                "keys.json",
                "activate",
                "--new-pin-file",
                file,
            ],
        )
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
    // the refused PINs cost no try: the card still has its initial PIN with 3 tries
    let status = stdout(&ok(d, &["-r", "sim:card.json", "pin", "status"]));
    assert!(status.contains("a PIN is set: 3 tries left"), "{status}");
    // activation needs a key holder for its check, unless --no-verify
    let err = fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "activate",
            "--new-pin-file",
            "weak.pin",
        ],
        EXIT_KEY_HOLDER,
    );
    assert!(err.contains("IRK"), "{err}");
    pin_file(d, "new.pin", "246813");
    let out = act("new.pin");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("card KD5578904 activated"));
    // activating again: the PIN is not the initial one any more (and that cost a try)
    let out = act("new.pin");
    assert_eq!(out.status.code(), Some(EXIT_REFUSED), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("activated already"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("2 tries left"), "{}", stderr(&out));

    // wrong PIN: tries left shown
    pin_file(d, "wrong.pin", "975310");
    let err = fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "wrong.pin",
        ],
        EXIT_PIN,
    );
    assert!(err.contains("1 try left"), "{err}");
    // the counter persists in the image; `tries` is the old name of `status`
    let out = ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "--output-format",
            "json",
            "pin",
            "tries",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["pin"], "required");
    assert_eq!(doc["tries_left"], 1);
    ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "new.pin",
        ],
    );
    let status = stdout(&ok(d, &["-r", "sim:card.json", "pin", "status"]));
    assert!(
        status.contains("3 tries left"),
        "a right PIN restores the counter: {status}"
    );
    // change through a file descriptor
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
    ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "next.pin",
        ],
    );
    fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "new.pin",
        ],
        EXIT_PIN,
    );
    // the issuer reloads a PIN (PUK and STKSSSE); without a key holder it says so
    pin_file(d, "reload.pin", "509172");
    let err = fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "reload",
            "--new-pin-file",
            "reload.pin",
        ],
        EXIT_KEY_HOLDER,
    );
    assert!(err.contains("PUK and STKSSSE"), "{err}");
    ok(
        d,
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
    );
    ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "reload.pin",
        ],
    );
    // a blank card has no PIN at all
    ok(d, &["sim", "new", "--out", "blank.json"]);
    let status = stdout(&ok(d, &["-r", "sim:blank.json", "pin", "status"]));
    assert!(status.contains("no PIN is set"), "{status}");
    let err = fails(
        d,
        &[
            "-r",
            "sim:blank.json",
            "--keys",
            "keys.json",
            "activate",
            "--new-pin-file",
            "new.pin",
        ],
        EXIT_REFUSED,
    );
    assert!(err.contains("blank"), "{err}");
}

#[test]
fn pin_blocked_and_unblocked_by_the_issuer() {
    let dir = workdir();
    activated_card(dir.path());
    let d = dir.path();
    pin_file(d, "wrong.pin", "975310");
    let verify = |file: &str| {
        run(
            d,
            &["-r", "sim:card.json", "pin", "verify", "--pin-file", file],
        )
    };
    for left in ["2 tries left", "1 try left"] {
        let out = verify("wrong.pin");
        assert_eq!(out.status.code(), Some(EXIT_PIN));
        assert!(stderr(&out).contains(left), "{}", stderr(&out));
    }
    let out = verify("wrong.pin");
    assert_eq!(out.status.code(), Some(EXIT_PIN));
    // blocked: even the right PIN is refused, and the way out is named
    let out = verify("new.pin");
    assert_eq!(out.status.code(), Some(EXIT_PIN));
    assert!(stderr(&out).contains("blocked"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sscard pin unblock"),
        "{}",
        stderr(&out)
    );
    let status = stdout(&ok(d, &["-r", "sim:card.json", "pin", "status"]));
    assert!(status.contains("the PIN is blocked"), "{status}");
    fails(
        d,
        &["-r", "sim:card.json", "pin", "unblock"],
        EXIT_KEY_HOLDER,
    );
    ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "pin",
            "unblock",
        ],
    );
    assert!(verify("new.pin").status.success());
}

#[test]
fn blocking_is_permanent_for_the_application_and_the_card() {
    let dir = workdir();
    activated_card(dir.path());
    let d = dir.path();
    std::fs::copy(d.join("card.json"), d.join("card2.json")).unwrap();
    let read = |image: &str| {
        run(
            d,
            &[
                "-r",
                &format!("sim:{image}"),
                "read",
                "--output-format",
                "basic",
            ],
        )
    };
    assert!(read("card.json").status.success());
    fails(d, &["-r", "sim:card.json", "block"], EXIT_KEY_HOLDER);
    let out = ok(d, &["-r", "sim:card.json", "--keys", "keys.json", "block"]);
    assert!(
        stdout(&out).contains("permanently blocked"),
        "{}",
        stdout(&out)
    );
    let out = read("card.json");
    assert_eq!(out.status.code(), Some(EXIT_REFUSED));
    assert!(
        stderr(&out).contains("permanently blocked (9303)"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    // nothing lifts it: PIN commands are refused too, a second block is refused
    fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "new.pin",
        ],
        EXIT_REFUSED,
    );
    fails(
        d,
        &["-r", "sim:card.json", "--keys", "keys.json", "block"],
        EXIT_REFUSED,
    );
    // once SSSE is blocked the card cannot be blocked as a whole any more ([design] D19)
    fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "block",
            "--card",
        ],
        EXIT_REFUSED,
    );
    assert_eq!(image_json(&d.join("card.json"))["ssse_blocked"], true);

    // CARD BLOCK: every command answers 6A81
    let out = ok(
        d,
        &[
            "-r",
            "sim:card2.json",
            "--keys",
            "keys.json",
            "--output-format",
            "json",
            "block",
            "--card",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["scope"], "card");
    let out = read("card2.json");
    assert_eq!(out.status.code(), Some(EXIT_REFUSED));
    assert!(stderr(&out).contains("6A81"), "{}", stderr(&out));
    let out = ok(d, &["-r", "sim:card2.json", "apdu", "0084000008"]);
    assert!(stdout(&out).contains("Received: 6A 81"), "{}", stdout(&out));
    let image = image_json(&d.join("card2.json"));
    assert_eq!(image["card_blocked"], true);
}

#[test]
fn expired_cards_fail_the_validity_check_and_activation() {
    let dir = workdir();
    let d = dir.path();
    ok(d, &["sim", "new", "--out", "card.json"]);
    person_json(d, "old.json", "20100101", "20200101");
    let out = ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "old.json",
        ],
    );
    assert!(stderr(&out).contains("expiry date has already passed"));
    let out = ok(d, &["-r", "sim:card.json", "read"]);
    assert!(stdout(&out).contains("20200101  (EXPIRED)"));
    // the validity check of part 7 §5.4: printed, then exit 5
    let out = run(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "read",
            "--check-validity",
        ],
    );
    assert_eq!(out.status.code(), Some(EXIT_REFUSED), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("NOT VALID: the card expired on 20200101"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("validity check"), "{}", stderr(&out));
    // it needs a key holder
    fails(
        d,
        &["-r", "sim:card.json", "read", "--check-validity"],
        EXIT_KEY_HOLDER,
    );
    pin_file(d, "new.pin", "246813");
    let err = fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "activate",
            "--new-pin-file",
            "new.pin",
        ],
        EXIT_REFUSED,
    );
    assert!(err.contains("expired"), "{err}");
    // --no-verify skips the check (the operator takes the responsibility), and says so
    let out = ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "activate",
            "--no-verify",
            "--new-pin-file",
            "new.pin",
        ],
    );
    assert!(stdout(&out).contains("not checked"), "{}", stdout(&out));
    ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "new.pin",
        ],
    );
}

#[test]
fn cards_of_other_keys_are_not_genuine() {
    let dir = workdir();
    let d = dir.path();
    ok(d, &["keys", "new", "--out", "other.json"]);
    ok(
        d,
        &[
            "--keys",
            "other.json",
            "sim",
            "new",
            "--out",
            "card.json",
            "--person",
            "zhang-san-2.json",
        ],
    );
    // the issuer's own keys prove it genuine
    let doc: serde_json::Value = serde_json::from_str(&stdout(&ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "other.json",
            "--output-format",
            "json",
            "read",
            "--check-validity",
        ],
    )))
    .unwrap();
    assert_eq!(doc["genuine"], true);
    assert_eq!(doc["validity"]["verdict"], "valid");
    assert_eq!(doc["validity"]["detail"]["pin"]["tries_left"], 3);
    // the test keys do not
    let err = fails(
        d,
        &["-r", "sim:card.json", "--keys", "keys.json", "read"],
        EXIT_REFUSED,
    );
    assert!(err.contains("not genuine"), "{err}");
    let out = run(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "--output-format",
            "json",
            "read",
            "--check-validity",
        ],
    );
    assert_eq!(out.status.code(), Some(EXIT_REFUSED));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["genuine"], false);
    assert_eq!(doc["validity"]["verdict"], "not_genuine");
    pin_file(d, "new.pin", "246813");
    let err = fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "activate",
            "--new-pin-file",
            "new.pin",
        ],
        EXIT_REFUSED,
    );
    assert!(err.contains("not genuine"), "{err}");
    // wrong keys cannot reload a PIN: the card refuses the authentication with PUK
    let err = fails(
        d,
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "pin",
            "reload",
            "--new-pin-file",
            "new.pin",
        ],
        EXIT_KEY_HOLDER,
    );
    assert!(err.contains("PUK"), "{err}");
    // and the card keeps the initial PIN
    let status = stdout(&ok(d, &["-r", "sim:card.json", "pin", "status"]));
    assert!(status.contains("a PIN is set"), "{status}");
}

#[test]
fn keys_new_writes_a_private_version_2_file_once() {
    let dir = workdir();
    let d = dir.path();
    let out = ok(d, &["keys", "new", "--out", "dev.json"]);
    assert!(
        stdout(&out).contains("never for real cards"),
        "{}",
        stdout(&out)
    );
    assert_eq!(mode_of(&d.join("dev.json")), 0o600);
    let doc = image_json(&d.join("dev.json"));
    assert_eq!(doc["format"], "sscard-keys");
    assert_eq!(doc["version"], 2);
    for alg in ["3des", "sm4", "aes"] {
        let roots = doc["roots"][alg].as_object().unwrap();
        for role in [
            "IRK", "RKSSSE", "UKSSSE", "PUK", "STKSSSE", "BK", "DLK", "DPK", "DTK", "DSK",
        ] {
            assert!(roots.contains_key(role), "{alg} {role}");
        }
    }
    // STKSSSE of 3DES cards is a single-DES key ([design] D2)
    assert_eq!(doc["roots"]["3des"]["STKSSSE"].as_str().unwrap().len(), 16);
    // random: two files differ
    ok(d, &["keys", "new", "--out", "dev2.json"]);
    assert_ne!(doc["roots"], image_json(&d.join("dev2.json"))["roots"]);
    // never overwrites
    let before = std::fs::read(d.join("dev.json")).unwrap();
    let err = fails(d, &["keys", "new", "--out", "dev.json"], EXIT_BAD_INPUT);
    assert!(err.contains("never overwrites"), "{err}");
    assert_eq!(std::fs::read(d.join("dev.json")).unwrap(), before);
    // one algorithm only: cards of another cannot be made with it
    ok(
        d,
        &["keys", "new", "--out", "sm4.json", "--algorithm", "sm4"],
    );
    let doc = image_json(&d.join("sm4.json"));
    assert_eq!(doc["roots"].as_object().unwrap().len(), 1);
    let err = fails(
        d,
        &["--keys", "sm4.json", "sim", "new", "--out", "c.json"],
        EXIT_KEY_HOLDER,
    );
    assert!(err.contains("3des"), "{err}");
    ok(
        d,
        &[
            "--keys",
            "sm4.json",
            "sim",
            "new",
            "--out",
            "c.json",
            "--algorithm",
            "sm4",
        ],
    );
    ok(
        d,
        &[
            "-r",
            "sim:c.json",
            "--keys",
            "sm4.json",
            "personalize",
            "--person",
            "zhang-san-2.json",
        ],
    );
    ok(
        d,
        &[
            "-r",
            "sim:c.json",
            "--keys",
            "sm4.json",
            "read",
            "--check-validity",
        ],
    );
}

#[test]
fn sim_new_options_show_in_the_atr_and_the_card_id() {
    let dir = workdir();
    let d = dir.path();
    let out = ok(
        d,
        &[
            "--output-format",
            "json",
            "sim",
            "new",
            "--out",
            "a.json",
            "--generation",
            "1",
            "--region",
            "440305",
            "--atr-serial",
            "0a0b0c0d",
            "--card-serial",
            "00001234",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "sscard.sim-new/2");
    assert_eq!(doc["card_id"], "440305D15600000500001234FFFFFFFF");
    let atr = doc["atr"].as_str().unwrap();
    assert!(
        atr.ends_with("44030A0B0C0D"),
        "T8-TD: region digits, ATR serial: {atr}"
    );
    assert_eq!(doc["generation"], "1.00");
    assert_eq!(
        mode_of(&d.join("a.json")),
        0o600,
        "an image holds card keys"
    );
    let image = image_json(&d.join("a.json"));
    assert_eq!(image["t0"], true);
    assert_eq!(
        image["ef05"].as_array().unwrap().len(),
        1,
        "a blank card: only the card id"
    );
    // T=1, default serials: the card serial follows the ATR serial
    let doc: serde_json::Value = serde_json::from_str(&stdout(&ok(
        d,
        &[
            "--output-format",
            "json",
            "sim",
            "new",
            "--out",
            "b.json",
            "--t1",
        ],
    )))
    .unwrap();
    assert_eq!(image_json(&d.join("b.json"))["t0"], false);
    let atr = doc["atr"].as_str().unwrap();
    let card_id = doc["card_id"].as_str().unwrap();
    // TA-TD, then the TCK of a T=1 ATR
    assert_eq!(
        &atr[atr.len() - 10..atr.len() - 2],
        &card_id[16..24],
        "{atr} {card_id}"
    );
    // refusals
    fails(d, &["sim", "new", "--out", "b.json"], EXIT_BAD_INPUT);
    ok(d, &["sim", "new", "--out", "b.json", "--force"]);
    let err = fails(
        d,
        &[
            "sim",
            "new",
            "--out",
            "c.json",
            "--generation",
            "3",
            "--person",
            "zhang-san-2.json",
        ],
        EXIT_BAD_INPUT,
    );
    assert!(err.contains("--generation"), "{err}");
    fails(
        d,
        &["sim", "new", "--out", "c.json", "--atr-serial", "12"],
        EXIT_BAD_INPUT,
    );
    fails(
        d,
        &["sim", "new", "--out", "c.json", "--region", "63990"],
        EXIT_BAD_INPUT,
    );
    fails(
        d,
        &["sim", "new", "--out", "c.json", "--financial", "12ab"],
        EXIT_BAD_INPUT,
    );
    assert!(!d.join("c.json").exists());
    // made from a PSAM: refused (a PSAM never hands out its keys)
    ok(d, &["sim", "new-psam", "--out", "psam.json"]);
    fails(
        d,
        &["--psam", "sim:psam.json", "sim", "new", "--out", "c.json"],
        EXIT_KEY_HOLDER,
    );
}

#[test]
fn bank_account_of_the_financial_application() {
    let dir = workdir();
    let d = dir.path();
    ok(
        d,
        &[
            "sim",
            "new",
            "--out",
            "bank.json",
            "--financial",
            "6222021234567890123",
            "--person",
            "zhang-san-2.json",
        ],
    );
    let out = ok(d, &["-r", "sim:bank.json", "bank-account"]);
    assert!(
        stdout(&out).contains("Account number     6222021234567890123"),
        "{}",
        stdout(&out)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&ok(
        d,
        &[
            "-r",
            "sim:bank.json",
            "--output-format",
            "json",
            "bank-account",
        ],
    )))
    .unwrap();
    assert_eq!(doc["schema"], "sscard.bank-account/1");
    assert_eq!(doc["pan"], "6222021234567890123");
    assert_eq!(doc["expiry"].as_str().unwrap().len(), 6);
    // the firewall: the social security application still reads after the bank application
    ok(d, &["-r", "sim:bank.json", "read"]);
    // a card without one
    personalized_card(d);
    let err = fails(d, &["-r", "sim:card.json", "bank-account"], EXIT_REFUSED);
    assert!(err.contains("no financial application"), "{err}");
}

#[test]
fn old_images_are_refused_clearly_and_converted() {
    let dir = workdir();
    let d = dir.path();
    for f in ["card-v1.json", "blank-v1.json", "psam-v1.json"] {
        std::fs::copy(test_data(f), d.join(f)).unwrap();
        set_mode(&d.join(f), 0o600);
    }
    // a version-1 card image: why, and the command that converts it
    let err = fails(d, &["-r", "sim:card-v1.json", "read"], EXIT_BAD_INPUT);
    assert!(err.contains("version-1 card image"), "{err}");
    assert!(
        err.contains("sscard [--keys ROOT-KEYS] sim convert --in card-v1.json"),
        "{err}"
    );
    let before = std::fs::read(d.join("card-v1.json")).unwrap();
    let out = ok(
        d,
        &[
            "sim",
            "convert",
            "--in",
            "card-v1.json",
            "--out",
            "card.json",
        ],
    );
    assert!(
        stdout(&out).contains("embedded TEST KEYS"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read(d.join("card-v1.json")).unwrap(),
        before,
        "the input stays"
    );
    // the converted card: its data, its PIN (135790, set when the old card was activated), and
    // it is genuine for the keys it was converted with
    let out = ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "--test-keys",
            "read",
            "--check-validity",
        ],
    );
    let text = stdout(&out);
    assert!(
        text.contains("KD5578904") && text.contains("张三"),
        "{text}"
    );
    assert!(
        text.contains("0BADCAFE"),
        "the old chip serial is in the ATR: {text}"
    );
    pin_file(d, "old.pin", "135790");
    ok(
        d,
        &[
            "-r",
            "sim:card.json",
            "pin",
            "verify",
            "--pin-file",
            "old.pin",
        ],
    );
    // converting again, or over a file, is refused
    let err = fails(
        d,
        &["sim", "convert", "--in", "card.json", "--out", "x.json"],
        EXIT_BAD_INPUT,
    );
    assert!(err.contains("version-2 image already"), "{err}");
    fails(
        d,
        &[
            "sim",
            "convert",
            "--in",
            "card-v1.json",
            "--out",
            "card.json",
        ],
        EXIT_BAD_INPUT,
    );
    // a blank version-1 card becomes a blank card a station can personalize
    ok(
        d,
        &[
            "--keys",
            "keys.json",
            "sim",
            "convert",
            "--in",
            "blank-v1.json",
            "--out",
            "blank-v1.json",
            "--force",
        ],
    );
    ok(
        d,
        &[
            "-r",
            "sim:blank-v1.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "zhang-san-2.json",
        ],
    );
    // a version-1 PSAM image
    let err = fails(
        d,
        &["-r", "sim:card.json", "--psam", "sim:psam-v1.json", "read"],
        EXIT_KEY_HOLDER,
    );
    assert!(
        err.contains("version-1 PSAM image") && err.contains("sscard sim new-psam"),
        "{err}"
    );
    // garbage is bad input, never a panic
    std::fs::write(
        d.join("junk.json"),
        "{\"format\": \"sscard-card-image\", \"version\": 2}",
    )
    .unwrap();
    fails(d, &["-r", "sim:junk.json", "read"], EXIT_BAD_INPUT);
    std::fs::write(d.join("junk.json"), "not json").unwrap();
    fails(d, &["-r", "sim:junk.json", "read"], EXIT_BAD_INPUT);
    fails(
        d,
        &["sim", "convert", "--in", "junk.json", "--out", "y.json"],
        EXIT_BAD_INPUT,
    );
}

#[test]
fn raw_apdus_with_get_response() {
    let dir = workdir();
    let d = dir.path();
    ok(
        d,
        &[
            "sim",
            "new",
            "--out",
            "t0.json",
            "--card-serial",
            "00001234",
        ],
    );
    let out = ok(
        d,
        &[
            "-r",
            "sim:t0.json",
            "apdu",
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00",
            "00B2 01 28 12",
            "00:B2:01:28:00",
        ],
    );
    let text = stdout(&out);
    // the FCI came through GET RESPONSE (T=0 card), shown as one response ending in 90 00
    let received: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("Received: "))
        .collect();
    assert_eq!(received.len(), 3, "{text}");
    assert!(received[0].starts_with("Received: 6F 19 84 0F"), "{text}");
    assert!(
        received[0].contains("9F 0C 03 86 01 01"),
        "3DES in the FCI: {text}"
    );
    assert!(received[0].ends_with("90 00"), "{text}");
    // the card identification code, by record identifier; Le 00 corrected through 6C12
    let card_id = "Received: 01 10 63 99 00 D1 56 00 00 05 00 00 12 34 FF FF FF FF 90 00";
    assert_eq!(received[1], card_id, "{text}");
    assert_eq!(received[2], card_id, "{text}");
    // on a T=1 card the FCI comes at once
    ok(d, &["sim", "new", "--out", "t1.json", "--t1"]);
    let out = ok(
        d,
        &[
            "-r",
            "sim:t1.json",
            "--trace",
            "apdu",
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00",
        ],
    );
    assert!(
        !stderr(&out).contains("00 C0"),
        "no GET RESPONSE on T=1: {}",
        stderr(&out)
    );
    std::fs::write(
        d.join("script.apdu"),
        "# select SSSE\n00A404000F7378312E73682EC9E7BBE1B1A3D5CF00\n0084000008 # challenge\n\n0020000003123456\n",
    )
    .unwrap();
    let out = ok(
        d,
        &[
            "-r",
            "sim:t0.json",
            "--output-format",
            "json",
            "apdu",
            "--script",
            "script.apdu",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "sscard.apdu/1");
    let responses = doc["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 3);
    assert_eq!(responses[1]["sw"], "9000");
    assert_eq!(responses[1]["response"].as_str().unwrap().len(), 8 * 3 + 5);
    // a blank card has no PIN: VERIFY of one answers 63Cx, and the PIN is never shown
    assert_eq!(responses[2]["command"], "00 20 00 00 03 REDACTED(3 bytes)");
    fails(d, &["-r", "sim:t0.json", "apdu", "00zz"], EXIT_BAD_INPUT);
    fails(d, &["-r", "sim:t0.json", "apdu", "00"], EXIT_BAD_INPUT);
}

/// Every secret-carrying command with --trace: no PIN, key or cryptogram in anything printed.
#[test]
fn trace_never_shows_pins_keys_or_cryptograms() {
    let dir = workdir();
    let d = dir.path();
    let mut printed = String::new();
    let mut trace = |args: &[&str], stdin: Option<&str>| {
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
    trace(
        &["sim", "new", "--out", "card.json", "--algorithm", "sm4"],
        None,
    );
    trace(
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "zhang-san-2.json",
        ],
        None,
    );
    pin_file(d, "new.pin", "246813");
    pin_file(d, "next.pin", "864209");
    pin_file(d, "reload.pin", "509172");
    trace(
        &[
            "-r",
            "sim:card.json",
            "--keys",
            "keys.json",
            "read",
            "--check-validity",
        ],
        None,
    );
    trace(
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
    trace(
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
    trace(
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
    trace(
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
    trace(
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
    // a PIN is never an APDU argument (issue 13 item 12): VERIFY without data, the PIN from a file
    trace(
        &[
            "-r",
            "sim:card.json",
            "apdu",
            "--pin-file",
            "new.pin",
            "00200000",
        ],
        None,
    );
    trace(
        &[
            "--keys",
            "keys.json",
            "sim",
            "new-psam",
            "--out",
            "psam.json",
            "--algorithm",
            "sm4",
        ],
        None,
    );
    trace(
        &["-r", "sim:card.json", "--psam", "sim:psam.json", "read"],
        None,
    );
    trace(
        &["-r", "sim:card.json", "--keys", "keys.json", "block"],
        None,
    );
    trace(&["demo"], None);

    assert!(printed.contains("A>>"), "no trace printed");
    assert!(printed.contains("REDACTED"));
    assert!(
        printed.contains("[psam]"),
        "the PSAM's APDUs are traced too"
    );
    let compact: String = printed.chars().filter(|c| !c.is_whitespace()).collect();
    let commands: String = printed
        .lines()
        .filter_map(|l| l.strip_prefix("A>> "))
        .map(|l| l.replace(' ', ""))
        .collect::<Vec<_>>()
        .join("\n");
    for pin in ["246813", "864209", "509172", "860412"] {
        assert!(!printed.contains(pin), "PIN {pin} printed");
        let spaced = format!("{} {} {}", &pin[0..2], &pin[2..4], &pin[4..6]);
        assert!(!printed.contains(&spaced), "PIN {pin} printed as hex");
    }
    // the initial PIN is public (part 10 §5.4) and named in messages, never sent in the clear
    for pin in ["123456", "246813", "864209", "509172", "860412"] {
        assert!(!commands.contains(pin), "PIN {pin} in a command");
    }
    // no root key and no card key
    let keys = image_json(&d.join("keys.json"));
    let mut secrets = Vec::new();
    for alg in keys["roots"].as_object().unwrap().values() {
        for k in alg.as_object().unwrap().values() {
            secrets.push(k.as_str().unwrap().to_uppercase());
        }
    }
    let image = image_json(&d.join("card.json"));
    for k in image["keys"].as_object().unwrap().values() {
        secrets.push(k["value"].as_str().unwrap().to_uppercase());
    }
    assert!(secrets.len() > 20);
    let upper = compact.to_uppercase();
    for s in &secrets {
        assert!(!upper.contains(&s[..16]), "key material printed");
    }
    // every command carrying a PIN, authentication data or a MAC is redacted
    let lines: Vec<&str> = printed.lines().collect();
    let mut checked = 0;
    for (i, l) in lines.iter().enumerate() {
        let Some(cmd) = l.strip_prefix("A>> ") else {
            continue;
        };
        let cmd = cmd.replace(' ', "");
        let secret = ["0082", "0020000003", "805E", "8424", "841E", "BFDE", "80FA"]
            .iter()
            .any(|p| cmd.starts_with(p));
        if secret {
            assert!(l.contains("REDACTED"), "line {i} not redacted: {l}");
            checked += 1;
        }
    }
    assert!(checked > 15, "{checked} secret commands seen");
}
