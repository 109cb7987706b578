//! Helpers of the CLI end-to-end tests: the binary with a clean environment, a private key
//! file, person records and batch files with valid check characters.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `sscard` binary, with no reader in the environment and a PC/SC socket that does not
/// exist (so "no reader" is certain whatever runs on the machine).
pub fn sscard(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("sscard").unwrap();
    cmd.current_dir(dir)
        .env_remove("SSCARD_READER")
        .env("PCSCLITE_CSOCK_NAME", dir.join("no-pcscd.comm"))
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// A scratch folder with `keys.json` (the test keys, mode 0600).
pub fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/keys/test-keys.json"
        ),
        &keys,
    )
    .unwrap();
    set_mode(&keys, 0o600);
    dir
}

/// chmod.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The fixture person record of generation 2.0 (zhang-san-2.json).
pub fn fixture_person(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/persons"
    ))
    .join(name)
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

/// A card number with a valid check character (GB 11714 as docs/card-os.md describes).
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

/// One CSV row for person `i`.
pub fn csv_row(i: u32) -> String {
    let s = ssn(i, "19900101");
    format!(
        "{s},王小明,{},01,110101,19900101,{},2,20240101,20340101,639900,639900000001",
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

/// Writes a person record JSON with the given expiry date.
pub fn person_json(dir: &Path, file: &str, issue: &str, expiry: &str) -> PathBuf {
    let path = dir.join(file);
    let text = format!(
        r#"{{"ssn": "111111198101011110", "name": "张三", "sex": "1", "ethnicity": "01",
            "birthplace": "110101", "birth_date": "19810101", "card_number": "KD5578904",
            "generation": "2", "issue_date": "{issue}", "expiry_date": "{expiry}",
            "region": "639900", "initializing_body": "639900000001"}}"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// stdout of a finished command.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr of a finished command.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Creates a personalized 2.0 card `card.json` (zhang-san) in `dir`.
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
        ])
        .arg(fixture_person("zhang-san-2.json"))
        .assert()
        .success();
    dir.join("card.json")
}

/// Writes a PIN file.
pub fn pin_file(dir: &Path, name: &str, pin: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{pin}\n")).unwrap();
    path
}

/// A personalized and activated card whose PIN is `246813`.
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
