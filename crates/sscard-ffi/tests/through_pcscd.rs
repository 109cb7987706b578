//! libsscard as terminal programs use it, through a REAL pcscd: the simulated card and PSAM
//! served as vpcd virtual cards in the two readers of a private pcscd, and programs in C, Python
//! and Java calling `libsscard.so`.
//!
//! 1. `examples/c/read_card.c`, compiled with the system C compiler against the library, prints
//!    exactly the line of `sscard --psam … read --output-format basic` for the same card.
//! 2. `tests/c/interface_test.c` calls every function, the failure paths included (no card,
//!    wrong PIN, blocked PIN, blocked card, no PSAM, a PSAM without the card's algorithm,
//!    malformed parameters, HSM steps out of order, four threads at once, GBK output); this
//!    test plays the HSM (with the test keys) and the person at the card slot. Its HSM basic
//!    read without a PSAM equals `sscard read --output-format basic` without keys except for the
//!    terminal number field, which is 12 zeros (§1.3.2). The log it leaves has every call and no
//!    PIN.
//! 3. `examples/python/read_card.py` (ctypes) and `examples/java/ReadCard.java` (JNA) read the
//!    card and verify the PIN through a callback.
//!
//! One test function runs everything in order (the cases share pcscd's two readers). It builds
//! the library and the `sscard` binary with cargo first (an integration test cannot link a
//! cdylib-only crate), and passes with a printed notice when pcscd, vpcd or the privileges to run
//! a private pcscd are missing (scripts/test.sh installs them), or when no JDK with JNA is
//! installed (for the Java program only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sscard_core::crypto::{KeyLevel, Pin};
use sscard_core::data::{PersonRecord, RegionCode};
use sscard_core::keyholder::{CardContext, KeyFile, KeyHolder};
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::lifecycle::{self, Card, PersonalizeOptions};
use sscard_core::profile::Generation;
use sscard_core::Algorithm;
use sscard_pcsc::testing::{self, PrivatePcscd};
use sscard_pcsc::Pcsc;
use sscard_sim::vpcd::VpcdCard;
use sscard_sim::{AccountSpec, CardSpec, DataAreas, PsamSpec, SimCard, SimPsam, SimTransport};

const CARD_READER: &str = "Virtual PCD 00 00";
const PSAM_READER: &str = "Virtual PCD 00 01";
const TERMINAL: &str = "639900000042";
const KEYS: &str = include_str!("../../../fixtures/keys/test-keys.json");
const ZHANG_SAN: &str = include_str!("../../../fixtures/persons/zhang-san-2.json");
const WANG_WU: &str = include_str!("../../../fixtures/persons/wang-wu-3.json");
const WAIT: Duration = Duration::from_secs(10);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The profile directory this test runs from (`target/debug` …).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// Builds libsscard and the `sscard` binary into this test's target directory.
fn build() -> PathBuf {
    let dir = profile_dir();
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(repo())
        .args(["build", "--quiet", "-p", "sscard-ffi", "-p", "sscard-cli"])
        .arg("--target-dir")
        .arg(dir.parent().unwrap());
    if dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let status = cargo.status().unwrap();
    assert!(status.success(), "cargo build -p sscard-ffi -p sscard-cli");
    assert!(dir.join("libsscard.so").is_file(), "libsscard.so built");
    dir
}

fn roots() -> RootKeys {
    RootKeys::from_json(KEYS).unwrap()
}

fn region() -> RegionCode {
    RegionCode::parse("639900").unwrap()
}

/// A personalized simulated card (initial PIN 123456), powered afresh.
fn personalized(
    person: &str,
    generation: Generation,
    algorithm: Algorithm,
    serial: [u8; 4],
) -> SimCard {
    // the data areas DF01-DF04, DF07 too (iReadCard / iWriteCard)
    let spec = CardSpec::new(generation, algorithm, region(), serial)
        .with_card_serial(serial)
        .with_data_areas(
            // and DF04's medical account (iDoDebit, iReadDebitRecord), 1000.00 yuan
            DataAreas::national().with_account(AccountSpec::default().with_balance(100_000)),
        );
    let mut card = Card::open(SimTransport::new(SimCard::blank(spec, &roots()).unwrap())).unwrap();
    let data = PersonRecord::from_json(person).unwrap().validate().unwrap();
    lifecycle::personalize(
        &mut card,
        &mut KeyFile::from_json(KEYS).unwrap(),
        &data,
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let mut sim = card.into_transport().into_card();
    sim.reset();
    sim
}

/// A personalized card whose social security application was then blocked (APPLICATION BLOCK).
fn blocked(serial: [u8; 4]) -> SimCard {
    let sim = personalized(ZHANG_SAN, Generation::V2, Algorithm::Sm4, serial);
    let mut card = Card::open(SimTransport::new(sim)).unwrap();
    lifecycle::block_application(&mut card, &mut KeyFile::from_json(KEYS).unwrap()).unwrap();
    let mut sim = card.into_transport().into_card();
    sim.reset();
    sim
}

fn atr_in(reader: &str) -> Option<Vec<u8>> {
    Pcsc::new()
        .list_readers()
        .ok()?
        .into_iter()
        .find(|r| r.name == reader && r.card_present)
        .and_then(|r| r.atr)
}

fn wait_for_atr(reader: &str, atr: &[u8]) {
    testing::wait_until(&format!("the card in {reader}"), WAIT, || {
        atr_in(reader).as_deref() == Some(atr)
    });
}

fn wait_absent(reader: &str) {
    testing::wait_until(&format!("{reader} to be empty"), WAIT, || {
        atr_in(reader).is_none()
    });
}

/// The card slot: the cards of the test by name, one of them in the reader.
struct Slot {
    addr: String,
    cards: HashMap<&'static str, SimCard>,
    current: Option<(&'static str, Vec<u8>, VpcdCard<SimCard>)>,
}

impl Slot {
    fn insert(&mut self, name: &'static str) {
        if let Some((old, _, v)) = self.current.take() {
            let card = v.stop().expect("the virtual card's thread");
            self.cards.insert(old, card);
            wait_absent(CARD_READER);
        }
        let card = self.cards.remove(name).expect("a card of the test");
        let atr = card.atr();
        let v = VpcdCard::spawn(self.addr.clone(), card).unwrap();
        wait_for_atr(CARD_READER, &atr);
        self.current = Some((name, atr, v));
    }

    fn atr(&self) -> Vec<u8> {
        self.current
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_default()
    }

    fn remove(&self) {
        if let Some((_, _, v)) = &self.current {
            v.remove();
        }
        wait_absent(CARD_READER);
    }

    fn put_back(&self) {
        if let Some((_, atr, v)) = &self.current {
            v.insert();
            wait_for_atr(CARD_READER, atr);
        }
    }
}

/// The HSM of the test: computes the answers to the interface's request lines with the test
/// keys, for the card whose ATR is `atr`.
fn hsm_answer(keys: &mut KeyFile, atr: &[u8], card_id: &str, request: &str) -> String {
    let f: Vec<&str> = request.split('|').collect();
    let b8 = |s: &str| -> [u8; 8] { hex::decode(s).unwrap().try_into().unwrap() };
    // the basic read's request starts with the region (6 digits), the others with the
    // algorithm (01 DES, 03 SM4)
    let alg_field = if f[0].len() == 6 { f[2] } else { f[0] };
    let algorithm = Algorithm::from_byte(u8::from_str_radix(alg_field, 16).unwrap()).unwrap();
    if f[0].len() == 6 {
        // region|history|algorithm|card id|IA factor|IA original|EA factor|EA original|
        let ctx = CardContext {
            algorithm,
            atr: atr.to_vec(),
            card_id: f[3].parse().unwrap(),
        };
        let ia = keys
            .authenticate(&ctx, KeyRole::Irk, &b8(f[4]), &b8(f[5]))
            .unwrap();
        let ea = if f[6].is_empty() {
            String::new()
        } else {
            let a = keys
                .authenticate(&ctx, KeyRole::Rkssse, &b8(f[6]), &b8(f[7]))
                .unwrap();
            format!("{}{}", hex::encode_upper(a), f[7])
        };
        return format!("{}{}|{ea}|", hex::encode_upper(ia), f[5]);
    }
    let ctx = CardContext {
        algorithm,
        atr: atr.to_vec(),
        card_id: card_id.parse().unwrap(),
    };
    match f[1] {
        // algorithm|0090|process factor|original|: EXTERNAL AUTHENTICATION with PUK
        "0090" => {
            let a = keys
                .authenticate(&ctx, KeyRole::Puk, &b8(f[2]), &b8(f[3]))
                .unwrap();
            format!("{}{}", hex::encode_upper(a), f[3])
        }
        // algorithm|0173|process factor|header|plaintext|: secure messaging under STKSSSE
        "0173" => {
            let header = hex::decode(f[3]).unwrap();
            let pin = (!f[4].is_empty()).then(|| Pin::new(f[4]).unwrap());
            let sm = keys
                .secure_message(
                    &ctx,
                    KeyRole::Stkssse,
                    &b8(f[2]),
                    header[..4].try_into().unwrap(),
                    pin.as_ref(),
                )
                .unwrap();
            format!(
                "{}{}{}",
                hex::encode_upper(&header),
                hex::encode_upper(&*sm.enciphered),
                hex::encode_upper(sm.mac)
            )
        }
        // iDoDebit_HSM_Step1 (§8.2.2 (4)): algorithm|017F|random|serial|self-pay ‖ pooled|02|
        // terminal|time|, answered with pKey = terminal serial|time|MAC1| (§8.3.2 (1))
        "017F" => {
            let dpk = keys.card_key(&ctx, KeyRole::Dpk).unwrap();
            let mut amounts = [0u8; 12];
            amounts[4..].copy_from_slice(&hex::decode(f[4]).unwrap());
            let time: [u8; 7] = hex::decode(f[7]).unwrap().try_into().unwrap();
            let terminal_serial = 0x2A;
            let sespk = sscard_core::crypto::account::sespk(
                algorithm,
                &dpk,
                hex::decode(f[2]).unwrap().try_into().unwrap(),
                u16::from_str_radix(f[3], 16).unwrap(),
                terminal_serial,
            )
            .unwrap();
            let mac1 = sscard_core::crypto::account::purchase_mac1(
                algorithm,
                &sespk,
                sscard_core::account::PurchaseAmounts::from_bytes(&amounts),
                u8::from_str_radix(f[5], 16).unwrap(),
                f[6].parse().unwrap(),
                time,
            )
            .unwrap();
            format!(
                "{terminal_serial:08X}|{}|{}|",
                f[7],
                hex::encode_upper(mac1)
            )
        }
        // algorithm|key address|process factor|original|: EXTERNAL AUTHENTICATION with a
        // data area's key (reader interface appendix B)
        other => {
            let address = u16::from_str_radix(other, 16).unwrap();
            let role = sscard_core::keys::AREA_KEYS
                .iter()
                .find(|k| k.hsm_address == address)
                .map(|k| k.role)
                .unwrap_or_else(|| panic!("an HSM request for key {other}: {request}"));
            let a = keys.authenticate(&ctx, role, &b8(f[2]), &b8(f[3])).unwrap();
            format!("{}{}", hex::encode_upper(a), f[3])
        }
    }
}

/// The configuration file of the programs: the two virtual readers, PINs from the callback,
/// UTF-8, every call logged; `changes` (`key=value`) on top.
fn write_config(path: &Path, log: &Path, changes: &[String]) {
    let mut text = format!(
        "# written by tests/through_pcscd.rs\n\
         contact_reader = {CARD_READER}\n\
         psam_reader = {PSAM_READER}\n\
         pin_source = callback\n\
         encoding = utf-8\n\
         log = info\n\
         log_file = {}\n",
        log.display()
    );
    for change in changes {
        text.push_str(&change.replace('=', " = "));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// Compiles `sources` against libsscard into `exe`.
fn cc(lib_dir: &Path, sources: &[PathBuf], exe: &Path) {
    let out = Command::new("cc")
        .args(sources)
        .arg("-I")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")))
        .arg("-L")
        .arg(lib_dir)
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .args(["-lsscard", "-lpthread", "-Wall", "-Werror", "-o"])
        .arg(exe)
        .output()
        .expect("the system C compiler (cc)");
    assert!(
        out.status.success(),
        "cc {}: {}",
        sources[0].display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `sscard read --output-format basic` on the card in the first reader.
fn cli_basic_line(bin_dir: &Path, psam: bool) -> String {
    let mut cmd = Command::new(bin_dir.join("sscard"));
    cmd.args(["--reader", CARD_READER]);
    if psam {
        cmd.args(["--psam", PSAM_READER]);
    }
    let out = cmd
        .args(["read", "--output-format", "basic"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sscard read: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

/// The fields of a basic line with the terminal number (field 10) taken out.
fn without_terminal(line: &str) -> Vec<String> {
    let mut f: Vec<String> = line.split('|').map(str::to_owned).collect();
    f.remove(9);
    f
}

#[test]
fn terminal_programs_through_pcscd() {
    let Some(pcscd) = PrivatePcscd::acquire("ffi_interface", 37400..37700) else {
        return;
    };
    let dir = build();
    let work = std::env::temp_dir().join(format!("sscard-ffi-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let config = work.join("sscard.conf");
    let log = work.join("libsscard.log");
    write_config(&config, &log, &[]);

    let v2 = personalized(
        ZHANG_SAN,
        Generation::V2,
        Algorithm::Sm4,
        [0x00, 0xF1, 0x20, 0x01],
    );
    let card_id_v2 = format!("639900D156000005{}FFFFFFFF", "00F12001");
    let atr_v2 = v2.atr();
    let v3 = personalized(
        WANG_WU,
        Generation::V3,
        Algorithm::Tdes,
        [0x00, 0xF1, 0x30, 0x02],
    );
    let card_id_v3 = format!("639900D156000005{}FFFFFFFF", "00F13002");
    let mut slot = Slot {
        addr: pcscd.addr(0),
        cards: HashMap::from([
            ("v2", v2),
            ("v3", v3),
            ("blocked", blocked([0x00, 0xF1, 0x20, 0x03])),
        ]),
        current: None,
    };
    slot.insert("v2");
    // the PSAM of a terminal that also updates DF01's personal status (UK2DF01, 个人状况信息更新)
    let psam_spec = PsamSpec::new(Algorithm::Sm4, TERMINAL)
        .with_account_keys()
        .with_region(region())
        .with_level(KeyRole::Uk2Df01, KeyLevel::National);
    let psam = SimPsam::from_root_keys(&roots(), &psam_spec).unwrap();
    let psam_atr = psam.atr();
    let vpsam = VpcdCard::spawn(pcscd.addr(1), psam).unwrap();
    wait_for_atr(PSAM_READER, &psam_atr);

    // 1. read_card.c and `sscard read`
    let cli_psam = cli_basic_line(&dir, true);
    let cli_plain = cli_basic_line(&dir, false);
    let read_card = work.join("read_card");
    cc(&dir, &[repo().join("examples/c/read_card.c")], &read_card);
    let out = Command::new(&read_card)
        .env("SSCARD_CONFIG", &config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "read_card: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c_line = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
    println!("read_card.c:          {c_line}\nsscard --psam read:   {cli_psam}\nsscard read:          {cli_plain}");
    assert_eq!(
        c_line, cli_psam,
        "iReadCardBas = sscard --psam read --output-format basic"
    );
    assert!(c_line.contains("|张三|") && c_line.contains(&format!("|{TERMINAL}||")));
    assert_eq!(without_terminal(&c_line), without_terminal(&cli_plain));

    // 2. the Python and Java examples (the PIN typed on standard input, through their callback)
    python_example(&dir, &config, &c_line);
    java_example(&dir, &config, &c_line);

    // 3. the PIN typed at a terminal prompt (pin_source = prompt; `script` gives a terminal)
    prompt_pin(&dir, &config, &work);

    // 4. every function
    let test = work.join("interface_test");
    cc(
        &dir,
        &[Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/interface_test.c")],
        &test,
    );
    let mut child = Command::new(&test)
        .env("SSCARD_CONFIG", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // a hung program fails the test instead of hanging it
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(300));
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    });
    let mut to_child = child.stdin.take().unwrap();
    let from_child = BufReader::new(child.stdout.take().unwrap());
    let mut keys = KeyFile::from_json(KEYS).unwrap();
    let mut transcript = Vec::new();
    let mut lines = HashMap::new();
    let mut changes: Vec<String> = Vec::new();
    for line in from_child.lines() {
        let line = line.unwrap();
        println!("C| {line}");
        if let Some(request) = line.strip_prefix("HSM ") {
            let card_id = if slot.current.as_ref().is_some_and(|c| c.0 == "v3") {
                &card_id_v3
            } else {
                &card_id_v2
            };
            let answer = hsm_answer(&mut keys, &slot.atr(), card_id, request);
            writeln!(to_child, "{answer}").unwrap();
        } else if let Some(action) = line.strip_prefix("STEP ") {
            match action {
                "remove-card" => slot.remove(),
                "insert-card" => slot.put_back(),
                "remove-psam" => {
                    vpsam.remove();
                    wait_absent(PSAM_READER);
                }
                "insert-psam" => {
                    vpsam.insert();
                    wait_for_atr(PSAM_READER, &psam_atr);
                }
                "card-v2" => slot.insert("v2"),
                "card-v3" => slot.insert("v3"),
                "card-blocked" => slot.insert("blocked"),
                other => {
                    let change = other.strip_prefix("config ").expect("a known step");
                    let key = change.split('=').next();
                    changes.retain(|c: &String| c.split('=').next() != key);
                    changes.push(change.to_owned());
                    write_config(&config, &log, &changes);
                }
            }
            writeln!(to_child, "done").unwrap();
        } else if let Some(rest) = line.strip_prefix("LINE ") {
            let (name, text) = rest.split_once(' ').unwrap();
            lines.insert(name.to_owned(), text.to_owned());
        }
        to_child.flush().unwrap();
        transcript.push(line);
    }
    let status = child.wait().unwrap();
    let failures: Vec<&String> = transcript
        .iter()
        .filter(|l| l.starts_with("not ok"))
        .collect();
    assert!(failures.is_empty(), "failed: {failures:#?}");
    assert!(status.success(), "interface_test exited with {status}");
    let summary = transcript.last().cloned().unwrap_or_default();
    assert!(summary.ends_with("passed, 0 failed"), "{summary}");
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    // every check the program counted was seen here, and the run was not cut short
    let seen = transcript.iter().filter(|l| l.starts_with("ok - ")).count();
    assert_eq!(passed, seen, "{summary}");
    assert!(passed >= 80, "{summary}");

    // the HSM basic read without a PSAM: `sscard read` without keys but for the terminal
    // number, which is 12 zeros (§1.3.2)
    let hsm = &lines["hsm"];
    assert_eq!(without_terminal(hsm), without_terminal(&cli_plain));
    assert_eq!(hsm.split('|').nth(9), Some("000000000000"));
    assert_eq!(lines["psam"], cli_psam);
    assert!(lines["hsm-v3"].contains("|A10000015|"));
    // the purchases' answers (§8.1.2 (4), §8.3.2 (2)): the TAC is the card's (DTK, part 7 §12.6)
    let v2_ctx = CardContext {
        algorithm: Algorithm::Sm4,
        atr: atr_v2,
        card_id: card_id_v2.parse().unwrap(),
    };
    let dtk = keys.card_key(&v2_ctx, KeyRole::Dtk).unwrap();
    for (name, skip) in [("debit", 0), ("debit-hsm", 1)] {
        let f: Vec<&str> = lines[name].split('|').skip(skip).collect();
        assert_eq!((f[0], f[1], f[3]), ("03", "00B5", "02"), "{name}: {f:?}");
        let mut amounts = [0u8; 12];
        amounts[4..].copy_from_slice(&hex::decode(f[2]).unwrap());
        let tac = sscard_core::crypto::account::purchase_tac_raw(
            Algorithm::Sm4,
            &dtk,
            sscard_core::account::PurchaseAmounts::from_bytes(&amounts),
            f[4].parse().unwrap(),
            u32::from_str_radix(f[5], 16).unwrap(),
            hex::decode(f[6]).unwrap().try_into().unwrap(),
        )
        .unwrap();
        assert_eq!(f[7], hex::encode_upper(tac), "{name}: the card's TAC");
    }

    // the log: every call, never a PIN
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("iVerifyPIN -> -51"), "{logged}");
    assert!(logged.contains("iReloadPIN_HSM_Step3 -> 0"));
    for pin in ["258036", "654321", "135790"] {
        assert!(!logged.contains(pin), "the log shows no PIN");
    }

    drop(vpsam);
    drop(slot);
    let _ = std::fs::remove_dir_all(&work);
}

/// `examples/python/read_card.py`: its line is the C program's, the PIN verifies.
fn python_example(dir: &Path, config: &Path, expected: &str) {
    let Ok(mut child) = Command::new("python3")
        .arg(repo().join("examples/python/read_card.py"))
        .arg(dir.join("libsscard.so"))
        .env("SSCARD_CONFIG", config)
        .env("SSCARD_ENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        println!("SKIPPED the Python example: no python3");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"123456\n123456\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("python: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
    assert!(
        stdout.contains(&format!("iReadCardBas: 0 {expected}")),
        "{stdout}"
    );
    assert!(stdout.contains("iVerifyPIN: 0"), "{stdout}");
    // no purchase yet: an empty list
    assert!(stdout.contains("iReadDebitRecord: 0"), "{stdout}");
}

/// `examples/java/ReadCard.java` with JNA: the same.
fn java_example(dir: &Path, config: &Path, expected: &str) {
    let jna = Path::new("/usr/share/java/jna.jar");
    let javac = Command::new("javac").arg("-version").output();
    if !jna.is_file() || javac.map(|o| !o.status.success()).unwrap_or(true) {
        println!("SKIPPED the Java example: no JDK or no JNA (scripts/install-deps.sh installs default-jdk-headless and libjna-java)");
        return;
    }
    let classes = dir.join("java-example");
    std::fs::create_dir_all(&classes).unwrap();
    let out = Command::new("javac")
        .arg("-cp")
        .arg(jna)
        .arg("-d")
        .arg(&classes)
        .arg(repo().join("examples/java/ReadCard.java"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "javac: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(format!("{}:{}", jna.display(), classes.display()))
        .arg(format!("-Djna.library.path={}", dir.display()))
        .arg("ReadCard")
        .env("SSCARD_CONFIG", config)
        .env("SSCARD_ENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"123456\n123456\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("java: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
    assert!(
        stdout.contains(&format!("iReadCardBas: 0 {expected}")),
        "{stdout}"
    );
    assert!(stdout.contains("iVerifyPIN: 0"), "{stdout}");
    // no purchase yet: an empty list
    assert!(stdout.contains("iReadDebitRecord: 0"), "{stdout}");
}

/// `tests/c/prompt_pin.c` under `script` (a pseudo-terminal): libsscard prompts, the PIN typed
/// there verifies, and it is not echoed.
fn prompt_pin(dir: &Path, config: &Path, work: &Path) {
    if Command::new("script").arg("--version").output().is_err() {
        println!("SKIPPED the prompt: no `script` (util-linux) to give the program a terminal");
        return;
    }
    let exe = work.join("prompt_pin");
    cc(
        dir,
        &[Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/prompt_pin.c")],
        &exe,
    );
    let mut child = Command::new("script")
        .args(["-qec"])
        .arg(exe.display().to_string())
        .arg("/dev/null")
        .env("SSCARD_CONFIG", config)
        .env("SSCARD_PIN_SOURCE", "prompt")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // the prompt comes first; then the PIN as typed
    std::thread::sleep(Duration::from_millis(500));
    stdin.write_all(b"123456\n").unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    println!("prompt: {text}");
    assert!(text.contains("请输入密码"), "{text}");
    assert!(text.contains("iVerifyPIN: 0"), "{text}");
    assert!(!text.contains("123456"), "the PIN is not echoed: {text}");
}
