//! Helpers of the CLI end-to-end tests: the binary with a clean environment, a private key
//! file (the version-2 test keys), person records and batch files with valid check characters.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Exit codes of docs/cli.md.
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NO_CARD: i32 = 3;
pub const EXIT_PIN: i32 = 4;
pub const EXIT_REFUSED: i32 = 5;
pub const EXIT_BAD_INPUT: i32 = 6;
pub const EXIT_KEY_HOLDER: i32 = 7;
pub const EXIT_BATCH_INCOMPLETE: i32 = 9;

/// The repository's fixtures folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

/// This crate's test data (files written by sscard before the specification protocol).
pub fn test_data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

/// The `sscard` binary, with no reader in the environment and a PC/SC socket that does not
/// exist (so "no reader" is certain whatever runs on the machine).
pub fn sscard(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("sscard").unwrap();
    cmd.current_dir(dir)
        .env_remove("SSCARD_READER")
        .env("PCSCLITE_CSOCK_NAME", dir.join("no-pcscd.comm"))
        // the batch journal's station key (created by the first batch in this folder)
        .env("SSCARD_STATION_KEY", dir.join("station.key"))
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// A scratch folder with `keys.json` (the version-2 test keys, mode 0600) and the person
/// records `zhang-san-2.json`, `li-si-1.json`, `wang-wu-3.json`.
pub fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::copy(fixtures().join("keys/test-keys.json"), &keys).unwrap();
    set_mode(&keys, 0o600);
    write_persons(dir.path());
    dir
}

/// chmod.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The mode bits of a file.
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// The initializing body number of the test data: V2.0 notice §8.1.1.4, `9156000002` ‖ issuing
/// region ‖ the initializing body's region ‖ sequence (24 digits).
pub const INITIALIZING_BODY: &str = "915600000263990063990001";

/// A person record (JSON) as the specification's data items (no EF0D fields).
#[allow(clippy::too_many_arguments)]
pub fn person_text(
    ssn: &str,
    name: &str,
    sex: &str,
    birth: &str,
    card_number: &str,
    generation: &str,
    issue: &str,
    expiry: &str,
) -> String {
    format!(
        r#"{{"ssn": "{ssn}", "name": "{name}", "sex": "{sex}", "ethnicity": "01",
            "birthplace": "110101", "birth_date": "{birth}", "card_number": "{card_number}",
            "generation": "{generation}", "issue_date": "{issue}", "expiry_date": "{expiry}",
            "region": "639900", "initializing_body": "{INITIALIZING_BODY}"}}"#
    )
}

/// Writes the three person records of the tests into `dir`.
pub fn write_persons(dir: &Path) {
    let files = [
        (
            "zhang-san-2.json",
            person_text(
                "111111198101011110",
                "张三",
                "1",
                "19810101",
                "KD5578904",
                "2",
                "20150711",
                "20350711",
            ),
        ),
        (
            "li-si-1.json",
            person_text(
                "11010119810101123X",
                "李四",
                "1",
                "19810101",
                "X00000019",
                "1",
                "20101001",
                "20301001",
            ),
        ),
        (
            "wang-wu-3.json",
            person_text(
                "630102199003150028",
                "阿卜杜热合曼·买买提依明·艾则孜",
                "2",
                "19900315",
                "A10000015",
                "3",
                "20240101",
                "20340101",
            ),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Writes a person record (zhang-san) with the given issue and expiry dates.
pub fn person_json(dir: &Path, file: &str, issue: &str, expiry: &str) -> PathBuf {
    let path = dir.join(file);
    let text = person_text(
        "111111198101011110",
        "张三",
        "1",
        "19810101",
        "KD5578904",
        "2",
        issue,
        expiry,
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A social security number with a valid GB 11643 check character.
pub fn ssn(seq: u32, birth: &str) -> String {
    let base = format!("110101{birth}{:03}", seq % 1000);
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = base
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{base}{check}")
}

/// A card number with a valid check character (V2.0 notice appendix A).
pub fn card_number(n: u32) -> String {
    let body = format!("A{n:07}");
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(36).unwrap() * w)
        .sum();
    let c = 11 - sum % 11;
    let check = match c {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).unwrap(),
    };
    format!("{body}{check}")
}

/// Sex code of an SSN.
pub fn sex_of(ssn: &str) -> &'static str {
    if ssn.as_bytes()[16] % 2 == 1 {
        "1"
    } else {
        "2"
    }
}

/// The CSV header of batch files.
pub const CSV_HEADER: &str = "ssn,name,sex,ethnicity,birthplace,birth_date,card_number,generation,issue_date,expiry_date,region,initializing_body";

/// One CSV row for person `i` (generation 2.0, region 639900).
pub fn csv_row(i: u32) -> String {
    let s = ssn(i, "19900101");
    format!(
        "{s},王小明,{},01,110101,19900101,{},2,20240101,20340101,639900,{INITIALIZING_BODY}",
        sex_of(&s),
        card_number(i)
    )
}

/// A batch file of `n` valid persons.
pub fn csv(n: u32) -> String {
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for i in 0..n {
        text.push_str(&csv_row(i));
        text.push('\n');
    }
    text
}

/// stdout of a finished command.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr of a finished command.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Creates a personalized 2.0 card `card.json` (zhang-san, initial PIN 123456) in `dir`.
pub fn personalized_card(dir: &Path) -> PathBuf {
    sscard(dir)
        .args(["sim", "new", "--out", "card.json"])
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
            "zhang-san-2.json",
        ])
        .assert()
        .success();
    dir.join("card.json")
}

/// Writes a PIN file.
pub fn pin_file(dir: &Path, name: &str, pin: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{pin}\n")).unwrap();
    // PIN files others can read are refused
    set_mode(&path, 0o600);
    path
}

/// A personalized and activated card `card.json` whose PIN is `246813` (in `new.pin`).
pub fn activated_card(dir: &Path) -> PathBuf {
    let card = personalized_card(dir);
    pin_file(dir, "new.pin", "246813");
    sscard(dir)
        .args([
            "--reader",
            "sim:card.json",
            "--keys",
            "keys.json",
            "activate",
            "--new-pin-file",
            "new.pin",
        ])
        .assert()
        .success();
    card
}

/// The card image at `path` as JSON.
pub fn image_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `sscard` binary as users build it (`cargo build`, `cargo install`: without the
/// `test-hooks` feature the other tests' binary has): `$SSCARD_PRODUCTION_BIN` when set
/// (scripts/test.sh builds it once), else built here into `target/production`.
pub fn production_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("SSCARD_PRODUCTION_BIN") {
        return PathBuf::from(bin);
    }
    let test_bin = assert_cmd::cargo::cargo_bin("sscard");
    // target/debug/sscard → target
    let target = test_bin.ancestors().nth(2).unwrap().to_path_buf();
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(["build", "--quiet", "-p", "sscard-cli", "--bin", "sscard"])
        .arg("--target-dir")
        .arg(target.join("production"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building the production binary: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("production/debug/sscard")
}

/// The published JSON Schemas (docs/schema/).
pub fn schema_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema"))
}

/// Parses one JSON document printed by sscard, checks it against the published schema its
/// `"schema"` member names (docs/schema/), and returns it.
pub fn checked_document(text: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{text}"));
    let name = doc["schema"]
        .as_str()
        .unwrap_or_else(|| panic!("no \"schema\" member:\n{text}"));
    let path = schema_dir().join(sscard_cli::documents::schema_file_name(name));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{name}: no published schema {}: {e}", path.display())),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{}: not a JSON Schema: {e}", path.display()));
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: the document does not match {}:\n{}\n{text}",
        path.display(),
        errors.join("\n")
    );
    doc
}
