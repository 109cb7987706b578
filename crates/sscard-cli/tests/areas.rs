//! The data areas on the command line: `sim new --data-areas`, `write --file-address/--data`,
//! `write --area --record`, `write --photo`, `read --area` (text and JSON), `read
//! --file-address`, `read --photo`, `personalize` with a record carrying `"areas"`, and the
//! bad input and missing rights with their exit codes (docs/cli.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;

/// A personalized 3.0 SM4 card `card.json` with the data areas (zhang-san's record on a 3.0
/// card, initial PIN 123456 in `holder.pin`).
fn area_card(dir: &Path) {
    sscard(dir)
        .args([
            "--keys",
            "keys.json",
            "sim",
            "new",
            "--out",
            "card.json",
            "--generation",
            "3",
            "--algorithm",
            "sm4",
            "--data-areas",
        ])
        .assert()
        .success();
    sscard(dir)
        .args([
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "wang-wu-3.json",
        ])
        .assert()
        .success();
    pin_file(dir, "holder.pin", "123456");
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--reader", "sim:card.json"];
    full.extend_from_slice(args);
    sscard(dir).args(&full).output().unwrap()
}

#[test]
fn write_and_read_by_file_address() {
    let dir = workdir();
    area_card(dir.path());
    let out = run(
        dir.path(),
        &[
            "--keys",
            "keys.json",
            "write",
            "--file-address",
            "DF01EF07|29|$DF01EF0A|37|$DF01EF15|2A|40:1|$",
            "--data",
            "DF01EF07|1|$DF01EF0A|CHN|$DF01EF15|21|401^080901^清华大学^|$",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // the holder's PIN opens DF01 (iAuthType 1); SSSE EF05 is free
    let out = run(
        dir.path(),
        &[
            "read",
            "--pin-file",
            "holder.pin",
            "--file-address",
            "SSSEEF05|07|$DF01EF0A|37|$DF01EF15|2A|40|$",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let number = image_json(&dir.path().join("card.json"))["ef05"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .find(|r| r.starts_with("0709"))
        .map(|r| String::from_utf8(hex::decode(&r[4..]).unwrap()).unwrap())
        .unwrap();
    assert_eq!(
        stdout(&out).trim(),
        format!("SSSEEF05|{number}|$DF01EF0A|CHN|$DF01EF15|21|401^080901^清华大学^|$")
    );
    // with the RK key instead (iAuthType 2), as JSON
    let out = run(
        dir.path(),
        &[
            "--keys",
            "keys.json",
            "--output-format",
            "json",
            "read",
            "--auth",
            "key",
            "--file-address",
            "DF01EF07|29|$",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "sscard.read-file-address/1");
    assert_eq!(doc["data"], "DF01EF07|1|$");
}

#[test]
fn an_area_from_a_record_file_read_as_text_and_json() {
    let dir = workdir();
    area_card(dir.path());
    std::fs::write(
        dir.path().join("employment.json"),
        r#"{ "employment_status": { "employment_registration_date": "20240301", "4B": "10010" },
             "employment_records": [
               { "occupation": "2020100", "start_date": "20200101", "end_date": "20231231", "employer": "某某公司" },
               "2020300^20240301^^新单位^" ] }"#,
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "--keys",
            "keys.json",
            "write",
            "--area",
            "employment",
            "--record",
            "employment.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(
        dir.path(),
        &["read", "--area", "employment", "--pin-file", "holder.pin"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("DF02 就业与失业信息区 (employment)"),
        "{text}"
    );
    assert!(text.contains("20240301"), "{text}");
    let first = text.find("2020300^20240301^^新单位^").unwrap();
    let second = text.find("2020100^20200101^20231231^某某公司^").unwrap();
    assert!(first < second, "newest first: {text}");
    let out = run(
        dir.path(),
        &[
            "--keys",
            "keys.json",
            "--output-format",
            "json",
            "read",
            "--area",
            "all",
            "--auth",
            "key",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "sscard.read-areas/1");
    let areas = doc["areas"].as_array().unwrap();
    assert_eq!(
        areas
            .iter()
            .map(|a| a["df"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["DF01", "DF02", "DF03", "DF04", "DF07"]
    );
    let records = areas[1]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "DF02EF07")
        .unwrap()["records"]
        .clone();
    assert_eq!(records[0]["employer"], "新单位");
    assert_eq!(records[1]["start_date"], "20200101");
    // DF04 EF08 needs the PIN, which was not given: reported, the rest read
    let df04 = &areas[3]["files"];
    let tx = df04
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "DF04EF08")
        .unwrap();
    assert!(tx["not_read"].as_str().unwrap().contains("PIN"), "{tx}");
}

#[test]
fn the_photo_written_and_saved() {
    let dir = workdir();
    area_card(dir.path());
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend((0..1000u32).map(|i| (i % 97) as u8 + 1));
    jpeg.extend([0xFF, 0xD9]);
    std::fs::write(dir.path().join("in.jpg"), &jpeg).unwrap();
    let out = run(
        dir.path(),
        &["--keys", "keys.json", "write", "--photo", "in.jpg"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(
        dir.path(),
        &["--keys", "keys.json", "read", "--photo", "out.jpg"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("photo (JPEG, 1006 bytes) saved to out.jpg"));
    assert_eq!(std::fs::read(dir.path().join("out.jpg")).unwrap(), jpeg);
    assert_eq!(mode_of(&dir.path().join("out.jpg")), 0o600);
    // too large: refused, nothing written
    std::fs::write(dir.path().join("big.jpg"), vec![0xFFu8; 4097]).unwrap();
    let out = run(
        dir.path(),
        &["--keys", "keys.json", "write", "--photo", "big.jpg"],
    );
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    assert!(stderr(&out).contains("4097 bytes"), "{}", stderr(&out));
}

#[test]
fn a_person_record_with_areas() {
    let dir = workdir();
    sscard(dir.path())
        .args([
            "sim",
            "new",
            "--out",
            "card.json",
            "--generation",
            "2",
            "--data-areas",
        ])
        .assert()
        .success();
    let mut person: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("zhang-san-2.json")).unwrap(),
    )
    .unwrap();
    person["areas"] = serde_json::json!({
        "DF01EF05": { "20": "11", "household_address": "北京市东城区", "0E": "110101" },
        "marriage": { "marital_status": "2" },
        "DF01EF15": { "degrees:1": { "degree_code": "401", "major": "080901", "school": "清华大学" } }
    });
    // a record with areas is checked as one without: an issue date in the future is refused
    // before the card is touched
    let mut future = person.clone();
    future["issue_date"] = serde_json::json!("20300101");
    std::fs::write(dir.path().join("future.json"), future.to_string()).unwrap();
    let image = std::fs::read(dir.path().join("card.json")).unwrap();
    let personalize = |file: &str| {
        run(
            dir.path(),
            &["--keys", "keys.json", "personalize", "--person", file],
        )
    };
    let out = personalize("future.json");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("issue_date: 20300101 is in the future"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(dir.path().join("card.json")).unwrap(), image);
    std::fs::write(dir.path().join("person.json"), person.to_string()).unwrap();
    let out = personalize("person.json");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("with 3 data area file(s)"),
        "{}",
        stdout(&out)
    );
    pin_file(dir.path(), "holder.pin", "123456");
    let out = run(
        dir.path(),
        &[
            "read",
            "--pin-file",
            "holder.pin",
            "--file-address",
            "DF01EF05|20|21|0E|$DF01EF08|2B|$DF01EF15|40|$",
        ],
    );
    assert_eq!(
        stdout(&out).trim(),
        "DF01EF05|11|北京市东城区|110101|$DF01EF08|2|$DF01EF15|401^080901^清华大学^|$"
    );
    // again: the card already carries it
    let out = run(
        dir.path(),
        &[
            "--keys",
            "keys.json",
            "personalize",
            "--person",
            "person.json",
        ],
    );
    assert!(
        stdout(&out).contains("already carries this personalization"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_input_and_missing_rights() {
    let dir = workdir();
    area_card(dir.path());
    let image = std::fs::read(dir.path().join("card.json")).unwrap();
    for (args, code, words) in [
        (
            &[
                "--keys",
                "keys.json",
                "write",
                "--file-address",
                "DF01EF05|21|$",
                "--data",
                &format!("DF01EF05|{}|$", "很".repeat(41)),
            ][..],
            EXIT_BAD_INPUT,
            "21 household_address",
        ),
        (
            &[
                "--keys",
                "keys.json",
                "write",
                "--file-address",
                "DF01EF05|42|$",
                "--data",
                "DF01EF05|1|$",
            ][..],
            EXIT_BAD_INPUT,
            "no data item with tag 42",
        ),
        (
            &[
                "--keys",
                "keys.json",
                "write",
                "--file-address",
                "DF04EF08|$",
                "--data",
                "DF04EF08|0001^1^^^^^^|$",
            ][..],
            EXIT_BAD_INPUT,
            "card OS only",
        ),
        (
            &[
                "--keys",
                "keys.json",
                "write",
                "--file-address",
                "DF01EF07|29|$",
                "--data",
                "DF01EF07|1|2|$",
            ][..],
            EXIT_BAD_INPUT,
            "1 items in the address, 2 values",
        ),
        (
            &[
                "write",
                "--file-address",
                "DF01EF07|29|$",
                "--data",
                "DF01EF07|1|$",
            ][..],
            EXIT_KEY_HOLDER,
            "key holder",
        ),
        (
            &["read", "--area", "talent", "--auth", "key"][..],
            EXIT_KEY_HOLDER,
            "--auth key needs a key holder",
        ),
        (
            &["read", "--area", "nowhere", "--pin-file", "holder.pin"][..],
            EXIT_BAD_INPUT,
            "public, employment",
        ),
        (
            &[
                "--keys",
                "keys.json",
                "read",
                "--file-address",
                "DF04EF06|90|$",
                "--pin-file",
                "holder.pin",
                "--auth",
                "pin",
            ][..],
            0,
            "",
        ),
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(words), "{args:?}: {}", stderr(&out));
    }
    // without the right key: the update key the key file lacks
    let mut keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("keys.json")).unwrap())
            .unwrap();
    keys["roots"]["sm4"]
        .as_object_mut()
        .unwrap()
        .remove("UK3DF01");
    std::fs::write(dir.path().join("few.json"), keys.to_string()).unwrap();
    set_mode(&dir.path().join("few.json"), 0o600);
    let out = run(
        dir.path(),
        &[
            "--keys",
            "few.json",
            "write",
            "--file-address",
            "DF01EF08|2B|$",
            "--data",
            "DF01EF08|2|$",
        ],
    );
    assert_eq!(out.status.code(), Some(EXIT_KEY_HOLDER), "{}", stderr(&out));
    assert!(stderr(&out).contains("UK3DF01"), "{}", stderr(&out));
    // nothing was written by any of them (the reads spent no PIN try either)
    let now: serde_json::Value = image_json(&dir.path().join("card.json"));
    let before: serde_json::Value = serde_json::from_slice(&image).unwrap();
    assert_eq!(
        now["areas"].to_string().len(),
        before["areas"].to_string().len()
    );
    for df in ["DF01", "DF02", "DF04"] {
        assert_eq!(
            now["areas"][df]["files"], before["areas"][df]["files"],
            "{df}"
        );
    }
}

/// The batch input may carry data area columns: written after each personalization on feeder
/// cards made with the data areas; a bad cell makes its row invalid (the column named).
#[test]
fn a_batch_with_area_columns() {
    let dir = workdir();
    let d = dir.path();
    let mut text = format!("{CSV_HEADER},DF01EF05|20,DF01EF08|2B,DF02EF07\n");
    text.push_str(&format!(
        "{},11,2,2020100^20200101^20231231^某公司^\n",
        csv_row(0)
    ));
    text.push_str(&format!("{},21,,\n", csv_row(1)));
    text.push_str(&format!("{},99,1,\n", csv_row(2)));
    std::fs::write(d.join("persons.csv"), text).unwrap();
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
            "journal.db",
            "--return-file",
            "return.csv",
        ])
        .output()
        .unwrap();
    // the third row is invalid: 99 is no household type (V2 table 16)
    assert!(stderr(&out).contains("line 4: skipped"), "{}", stderr(&out));
    assert!(stderr(&out).contains("DF01EF05|20"), "{}", stderr(&out));
    let cards: Vec<_> = std::fs::read_dir(d.join("feeder/cards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cards.len(), 2);
    let mut found = Vec::new();
    for card in &cards {
        let image = image_json(card);
        let household = image["areas"]["DF01"]["files"]["EF05"].clone();
        let records = image["areas"]["DF02"]["files"]["EF07"]["records"].clone();
        found.push((household, records.as_array().unwrap().len()));
    }
    found.sort_by_key(|(h, _)| h.to_string());
    assert_eq!(found[0].0, serde_json::json!(["20023131"]));
    assert_eq!(found[0].1, 1);
    assert_eq!(found[1].0, serde_json::json!(["20023231"]));
    assert_eq!(found[1].1, 0);
}

/// The V2.0 notice's appendix B DF06 (社会救助与优待抚恤) through a simulated PSAM: `sim new
/// --appendix-b`, `sim new-psam --data-areas` (the areas' RK/UK keys), `write --area
/// assistance --record` (UK1DF06 for EF05, UK2DF06 for EF06) and `read --area assistance`
/// (RK1DF06), text and JSON; the same PSAM serves DF02 (RK1DF02, UK2DF02). A PSAM made without
/// `--data-areas` holds no area key: refused, nothing written.
#[test]
fn appendix_b_assistance_through_a_psam() {
    let dir = workdir();
    let d = dir.path();
    let ok = |args: &[&str]| {
        let out = sscard(d).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    ok(&[
        "--keys",
        "keys.json",
        "sim",
        "new",
        "--out",
        "card.json",
        "--algorithm",
        "sm4",
        "--appendix-b",
        "--person",
        "wang-wu-3.json",
    ]);
    for (out, extra) in [("psam.json", Some("--data-areas")), ("plain.json", None)] {
        let mut args = vec![
            "--keys",
            "keys.json",
            "sim",
            "new-psam",
            "--out",
            out,
            "--algorithm",
            "sm4",
        ];
        args.extend(extra);
        ok(&args);
    }
    let image = image_json(&d.join("card.json"));
    assert!(image["areas"]["DF05"].is_object() && image["areas"]["DF06"].is_object());
    std::fs::write(
        d.join("assistance.json"),
        r#"{ "social_assistance": { "assistance_body": "某街道社会救助管理所", "C2": "12345678X",
               "assistance_1": { "code": "01", "approval_date": "20230115", "review_date": "20240115",
                                 "last_amount": "64000", "paid_month": "202406" } },
             "special_care": { "care_body": "某区优抚办", "care_code_4": "04",
                               "disability_pension_paid_month": "202406", "health_care_paid_year": "2024" } }"#,
    )
    .unwrap();
    // without the area keys in the PSAM: refused, the card unchanged
    let before = std::fs::read(d.join("card.json")).unwrap();
    let out = sscard(d)
        .args([
            "--reader",
            "sim:card.json",
            "--psam",
            "sim:plain.json",
            "write",
            "--area",
            "assistance",
            "--record",
            "assistance.json",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("UK1DF06"), "{}", stderr(&out));
    assert_eq!(std::fs::read(d.join("card.json")).unwrap(), before);
    // with them
    ok(&[
        "--reader",
        "sim:card.json",
        "--psam",
        "sim:psam.json",
        "write",
        "--area",
        "assistance",
        "--record",
        "assistance.json",
    ]);
    let text = ok(&[
        "--reader",
        "sim:card.json",
        "--psam",
        "sim:psam.json",
        "read",
        "--area",
        "assistance",
    ]);
    assert!(
        text.contains("DF06 救助与优抚信息区 (assistance)"),
        "{text}"
    );
    assert!(
        text.contains("01^20230115^20240115^64000^202406^"),
        "{text}"
    );
    let doc: serde_json::Value = serde_json::from_str(&ok(&[
        "--reader",
        "sim:card.json",
        "--psam",
        "sim:psam.json",
        "--output-format",
        "json",
        "read",
        "--area",
        "assistance",
    ]))
    .unwrap();
    let files = doc["areas"][0]["files"].as_array().unwrap();
    let item = |file: &str, tag: &str| {
        files.iter().find(|f| f["file"] == file).unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["tag"] == tag)
            .unwrap()
            .clone()
    };
    assert_eq!(item("DF06EF05", "C3")["value"]["last_amount"], "64000");
    assert_eq!(item("DF06EF05", "C0")["value"], "某街道社会救助管理所");
    let code = item("DF06EF06", "D8");
    assert_eq!(
        (&code["value"], &code["meaning"]),
        (
            &serde_json::json!("04"),
            &serde_json::json!("伤残抚恤金和伤残保健金")
        )
    );
    assert_eq!(item("DF06EF06", "E1")["value"], "2024");
    // the same PSAM writes and reads DF02 with its keys
    ok(&[
        "--reader",
        "sim:card.json",
        "--psam",
        "sim:psam.json",
        "write",
        "--file-address",
        "DF02EF06|4C|$",
        "--data",
        "DF02EF06|20240301|$",
    ]);
    let text = ok(&[
        "--reader",
        "sim:card.json",
        "--psam",
        "sim:psam.json",
        "read",
        "--auth",
        "key",
        "--file-address",
        "DF02EF06|4C|$",
    ]);
    assert_eq!(text.trim(), "DF02EF06|20240301|$");
}
