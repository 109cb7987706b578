//! The JSON documents of `--output-format json` and their published schemas (docs/schema/):
//!
//! - the checked-in schemas are exactly the ones generated from the document structures
//!   (`SSCARD_BLESS=1 cargo test -p sscard-cli --test schemas` writes them after a change, to be
//!   committed), and no other file lies in docs/schema/;
//! - every document, printed by the real binary against simulated cards and PSAMs, matches its
//!   schema. `readers` and `sim serve` need pcscd: tests/pcscd.rs checks their documents the same
//!   way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

/// The documents tests/pcscd.rs checks against their schemas (they need a PC/SC service).
const CHECKED_WITH_PCSCD: [&str; 2] = ["sscard.readers/1", "sscard.sim-serve/1"];

#[test]
fn the_published_schemas_are_the_generated_ones() {
    let dir = schema_dir();
    let bless = std::env::var_os("SSCARD_BLESS").is_some();
    let mut expected = BTreeSet::new();
    for (name, schema) in sscard_cli::documents::all_schemas() {
        let file = sscard_cli::documents::schema_file_name(name);
        assert!(expected.insert(file.clone()), "{name} twice");
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = dir.join(&file);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let published = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            published == text,
            "{} is not the schema of {name} generated from its structure: run \
             SSCARD_BLESS=1 cargo test -p sscard-cli --test schemas and commit docs/schema/",
            path.display()
        );
    }
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let stale: Vec<_> = present.difference(&expected).collect();
    assert!(
        stale.is_empty(),
        "docs/schema/ holds schemas of no document: {stale:?}"
    );
}

#[test]
fn every_schema_names_its_document_and_requires_the_name() {
    for (name, schema) in sscard_cli::documents::all_schemas() {
        assert_eq!(schema["title"], name);
        assert_eq!(schema["properties"]["schema"]["const"], name);
        assert_eq!(schema["required"][0], "schema", "{name}");
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Runs sscard with `--output-format json` and checks what it printed against its schema.
struct Session<'a> {
    dir: &'a Path,
    seen: BTreeSet<String>,
}

impl Session<'_> {
    fn run(&mut self, args: &[&str], code: i32) -> serde_json::Value {
        let out = sscard(self.dir)
            .args(["--output-format", "json"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "sscard {args:?}:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        let doc = checked_document(&stdout(&out));
        self.seen.insert(doc["schema"].as_str().unwrap().to_owned());
        doc
    }

    fn ok(&mut self, args: &[&str]) -> serde_json::Value {
        self.run(args, 0)
    }
}

#[test]
fn every_document_the_binary_prints_matches_its_schema() {
    let dir = workdir();
    let d = dir.path();
    let mut s = Session {
        dir: d,
        seen: BTreeSet::new(),
    };
    pin_file(d, "holder.pin", "123456");
    pin_file(d, "new.pin", "246813");

    // keys and simulated cards
    s.ok(&["keys", "new", "--out", "dev-keys.json"]);
    s.ok(&["keys", "new-station", "--out", "station2.key"]);
    let doc = s.ok(&[
        "--keys",
        "keys.json",
        "sim",
        "new",
        "--out",
        "card.json",
        "--data-areas",
        "--financial",
        "6222020200112233445",
    ]);
    assert_eq!(doc["personalized"], false);
    s.ok(&[
        "--keys",
        "keys.json",
        "sim",
        "convert",
        "--in",
        test_data("card-v1.json").to_str().unwrap(),
        "--out",
        "converted.json",
    ]);

    // one card: personalize, read, PIN, areas, photo, bank account, apdu, activate, block
    let card = ["--reader", "sim:card.json", "--keys", "keys.json"];
    let with_card = |args: &[&'static str]| -> Vec<&'static str> {
        let mut v = card.to_vec();
        v.extend_from_slice(args);
        v
    };
    let doc = s.ok(&with_card(&["personalize", "--person", "zhang-san-2.json"]));
    assert_eq!(doc["card_number"], "KD5578904");
    let doc = s.ok(&with_card(&["read"]));
    assert_eq!(doc["holder"]["name"], "张三");
    assert_eq!(doc["genuine"], true);
    assert!(doc["validity"].is_null());
    let doc = s.ok(&with_card(&["read", "--check-validity"]));
    assert_eq!(doc["validity"]["verdict"], "valid");
    assert_eq!(doc["validity"]["detail"]["pin"]["pin"], "required");
    assert_eq!(doc["validity"]["detail"]["pin"]["tries_left"], 3);
    let doc = s.ok(&with_card(&["pin", "status"]));
    assert_eq!(doc["tries_left"], 3);
    s.ok(&with_card(&["pin", "verify", "--pin-file", "holder.pin"]));
    s.ok(&with_card(&[
        "write",
        "--file-address",
        "DF01EF15|2A|40:1|$",
        "--data",
        "DF01EF15|21|401^080901^清华大学^|$",
    ]));
    let doc = s.ok(&with_card(&[
        "read",
        "--pin-file",
        "holder.pin",
        "--file-address",
        "DF01EF15|2A|40:1|$",
    ]));
    assert_eq!(doc["data"], "DF01EF15|21|401^080901^清华大学^|$");
    // every kind of file reading: items, records, not read (no RK key for the PIN-only read)
    let doc = s.ok(&[
        "--reader",
        "sim:card.json",
        "read",
        "--area",
        "all",
        "--pin-file",
        "holder.pin",
    ]);
    let files: Vec<&serde_json::Value> = doc["areas"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["files"].as_array().unwrap())
        .collect();
    for kind in ["items", "records", "not_read"] {
        assert!(
            files.iter().any(|f| f.get(kind).is_some()),
            "no file with {kind}"
        );
    }
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend((0..200u32).map(|i| (i % 97) as u8 + 1));
    jpeg.extend([0xFF, 0xD9]);
    std::fs::write(d.join("in.jpg"), &jpeg).unwrap();
    s.ok(&with_card(&["write", "--photo", "in.jpg"]));
    let doc = s.ok(&with_card(&["read", "--photo", "out.jpg"]));
    assert_eq!(doc["bytes"], jpeg.len());
    let doc = s.ok(&["--reader", "sim:card.json", "bank-account"]);
    assert_eq!(doc["pan"], "6222020200112233445");
    let doc = s.ok(&[
        "--reader",
        "sim:card.json",
        "apdu",
        "00A404000F7378312E73682EC9E7BBE1B1A3D5CF",
    ]);
    assert_eq!(doc["responses"].as_array().unwrap().len(), 1);
    s.ok(&with_card(&["activate", "--new-pin-file", "new.pin"]));
    let doc = s.ok(&with_card(&["block"]));
    assert_eq!(doc["scope"], "application");
    // a failure: the error document
    let doc = s.run(&with_card(&["read"]), 5);
    assert_eq!(doc["code"], "refused");
    s.ok(&["demo"]);

    // the medical account: a 3.0 SM4 card and a PSAM
    s.ok(&[
        "--keys",
        "keys.json",
        "sim",
        "new",
        "--out",
        "account.json",
        "--algorithm",
        "sm4",
        "--medical-account",
        "--person",
        "wang-wu-3.json",
    ]);
    s.ok(&[
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
    ]);
    let account = ["--reader", "sim:account.json"];
    let with_account = |args: &[&'static str]| -> Vec<&'static str> {
        let mut v = account.to_vec();
        v.extend_from_slice(args);
        v
    };
    let doc = s.ok(&with_account(&[
        "--keys",
        "keys.json",
        "account",
        "credit",
        "--amount",
        "200.00",
        "--journal",
        "j.jsonl",
        "--pin-file",
        "holder.pin",
        "--time",
        "20250102030405",
    ]));
    assert_eq!(doc["balance_after"], 20_000);
    let doc = s.ok(&with_account(&[
        "--psam",
        "sim:psam.json",
        "account",
        "purchase",
        "--account",
        "12.50",
        "--self-pay",
        "3.00",
        "--journal",
        "j.jsonl",
        "--pin-file",
        "holder.pin",
        "--time",
        "20250102040506",
    ]));
    assert_eq!(doc["transaction"]["amounts"]["account"], 1_250);
    let serial = doc["transaction"]["card_serial"].to_string();
    let doc = s.ok(&with_account(&[
        "account",
        "balance",
        "--pin-file",
        "holder.pin",
    ]));
    assert_eq!(doc["account"], 18_750);
    let doc = s.ok(&with_account(&[
        "account",
        "records",
        "--pin-file",
        "holder.pin",
    ]));
    assert_eq!(doc["records"].as_array().unwrap().len(), 2);
    let proof_args = [
        "account", "proof", "--kind", "purchase", "--serial", &serial,
    ];
    let mut args = account.to_vec();
    args.extend_from_slice(&proof_args);
    let doc = s.ok(&args);
    assert!(doc["proof"]["tac"].is_string(), "{doc}");
    s.ok(&with_account(&["account", "proof", "--journal", "j.jsonl"]));

    // a batch on a simulated feeder
    std::fs::write(d.join("persons.csv"), csv(2)).unwrap();
    let doc = s.ok(&[
        "--reader",
        "feeder:feeder",
        "--test-keys",
        "batch",
        "--input",
        "persons.csv",
        "--journal",
        "batch.db",
        "--return-file",
        "return.csv",
    ]);
    assert_eq!(doc["counts"]["OK"], 2);

    // the blocklist: issuer and terminal
    s.ok(&[
        "blocklist",
        "keygen",
        "--out",
        "issuer.key",
        "--public-out",
        "issuer.pub",
    ]);
    s.ok(&["blocklist", "new", "--list", "list.ssbw"]);
    let add = |s: &mut Session, first: &str, last: &str| {
        s.ok(&[
            "blocklist",
            "add",
            "--list",
            "list.ssbw",
            "--range",
            first,
            last,
            "--reason",
            "revoked",
            "--date",
            "20250101",
        ]);
    };
    add(&mut s, "A1000000", "A1000099");
    let publish = [
        "blocklist",
        "publish",
        "--list",
        "list.ssbw",
        "--key",
        "issuer.key",
        "--out-dir",
        "pub",
    ];
    let doc = s.ok(&publish);
    assert_eq!(doc["version"], 1);
    s.ok(&[
        "blocklist",
        "add",
        "--list",
        "list.ssbw",
        "--card-id",
        "639900D1560000059D9F5805FFFFFFFF",
        "--card-number",
        "KD5578904",
        "--reason",
        "lost",
    ]);
    s.ok(&publish);
    s.ok(&[
        "blocklist",
        "apply",
        "--store",
        "terminal",
        "--key",
        "issuer.pub",
        "pub/full-0000000001.ssbl",
        "pub/delta-0000000002.ssbl",
    ]);
    s.ok(&[
        "blocklist",
        "verify",
        "pub/delta-0000000002.ssbl",
        "--key",
        "issuer.pub",
    ]);
    let doc = s.ok(&[
        "blocklist",
        "show",
        "pub/full-0000000002.ssbl",
        "--key",
        "issuer.pub",
    ]);
    let kinds: BTreeSet<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["card", "range"]));
    s.ok(&["blocklist", "stats", "terminal", "--key", "issuer.pub"]);
    let doc = s.ok(&[
        "blocklist",
        "diff",
        "pub/full-0000000001.ssbl",
        "pub/full-0000000002.ssbl",
        "--key",
        "issuer.pub",
    ]);
    assert_eq!(doc["added"], 1);

    // every published schema was met by a real document (here or in tests/pcscd.rs)
    let missing: Vec<&str> = sscard_cli::documents::all_schemas()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !s.seen.contains(*name) && !CHECKED_WITH_PCSCD.contains(name))
        .collect();
    assert!(missing.is_empty(), "documents never printed: {missing:?}");
}

#[test]
fn a_document_that_breaks_its_schema_is_refused() {
    let schemas = sscard_cli::documents::all_schemas();
    let (_, read) = schemas
        .iter()
        .find(|(name, _)| *name == "sscard.read/3")
        .unwrap();
    let validator = jsonschema::validator_for(read).unwrap();
    // the name alone, another document's name, a holder without a name
    assert!(!validator.is_valid(&serde_json::json!({"schema": "sscard.read/3"})));
    let dir = workdir();
    personalized_card(dir.path());
    let out = sscard(dir.path())
        .args([
            "--reader",
            "sim:card.json",
            "--output-format",
            "json",
            "read",
        ])
        .output()
        .unwrap();
    let mut doc = checked_document(&stdout(&out));
    assert!(validator.is_valid(&doc));
    doc["schema"] = "sscard.read/2".into();
    assert!(!validator.is_valid(&doc));
    doc["schema"] = "sscard.read/3".into();
    doc["holder"].as_object_mut().unwrap().remove("name");
    assert!(!validator.is_valid(&doc));
}
