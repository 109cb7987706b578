//! `sscard blocklist` and the `--blocklist` options, end to end on simulated card images: the
//! issuer lists a lost card and publishes, the terminal applies the delta, and `read`, `pin`
//! and `activate` refuse the lost card and accept its replacement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    sscard(dir).args(args).output().unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "sscard {args:?} failed ({:?}):\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "sscard {args:?}:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    format!("{}{}", stdout(&out), stderr(&out))
}

/// A personalized card image `name` (zhang-san, card number KD5578904) with ATR and card
/// serial `serial`; returns its card identification code.
fn card(dir: &Path, name: &str, serial: &str) -> String {
    ok(dir, &["sim", "new", "--out", name, "--atr-serial", serial]);
    let reader = format!("sim:{name}");
    ok(
        dir,
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
    let json = ok(
        dir,
        &["--reader", &reader, "--output-format", "json", "read"],
    );
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    v["issuing"]["card_id"].as_str().unwrap().to_owned()
}

fn read_with_list(dir: &Path, image: &str, list: &str) -> std::process::Output {
    let reader = format!("sim:{image}");
    run(
        dir,
        &[
            "--reader",
            &reader,
            "--keys",
            "keys.json",
            "read",
            "--blocklist",
            list,
            "--blocklist-key",
            "issuer.pub",
        ],
    )
}

/// Keys, a working list with a revoked range published as version 1, and a terminal store at
/// version 1.
fn issuer_and_terminal(dir: &Path) {
    ok(
        dir,
        &[
            "blocklist",
            "keygen",
            "--out",
            "issuer.key",
            "--public-out",
            "issuer.pub",
        ],
    );
    assert_eq!(mode_of(&dir.join("issuer.key")), 0o600);
    ok(dir, &["blocklist", "new", "--list", "list.ssbw"]);
    ok(
        dir,
        &[
            "blocklist",
            "add",
            "--list",
            "list.ssbw",
            "--range",
            "A1000000",
            "A1000099",
            "--reason",
            "revoked",
            "--date",
            "20250101",
        ],
    );
    let out = ok(
        dir,
        &[
            "blocklist",
            "publish",
            "--list",
            "list.ssbw",
            "--key",
            "issuer.key",
            "--out-dir",
            "pub",
        ],
    );
    assert!(out.contains("version 1 (1 entries)"), "{out}");
    assert!(!dir.join("pub/delta-0000000001.ssbl").exists());
    ok(
        dir,
        &[
            "blocklist",
            "apply",
            "--store",
            "terminal",
            "--key",
            "issuer.pub",
            "pub/full-0000000001.ssbl",
        ],
    );
}

#[test]
fn a_lost_card_is_refused_after_the_delta_and_its_replacement_read() {
    let work = workdir();
    let dir = work.path();
    issuer_and_terminal(dir);
    let lost_id = card(dir, "lost.json", "11223344");
    // valid with the list of version 1
    let out = read_with_list(dir, "lost.json", "terminal");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Validity           valid"));

    // reported lost: listed, version 2 published, the terminal applies the delta
    ok(
        dir,
        &[
            "blocklist",
            "add",
            "--list",
            "list.ssbw",
            "--card-id",
            &lost_id,
            "--card-number",
            "KD5578904",
            "--reason",
            "lost",
            "--date",
            "20261130",
        ],
    );
    let out = ok(
        dir,
        &[
            "blocklist",
            "publish",
            "--list",
            "list.ssbw",
            "--key",
            "issuer.key",
            "--out-dir",
            "pub",
        ],
    );
    assert!(
        out.contains("delta pub/delta-0000000002.ssbl (+1 −0)"),
        "{out}"
    );
    let out = ok(
        dir,
        &[
            "blocklist",
            "apply",
            "--store",
            "terminal",
            "--key",
            "issuer.pub",
            "pub/delta-0000000002.ssbl",
        ],
    );
    assert!(out.contains("the terminal holds version 2"), "{out}");

    // read refuses the card and says why
    let out = read_with_list(dir, "lost.json", "terminal");
    assert_eq!(out.status.code(), Some(EXIT_REFUSED));
    assert!(
        stderr(&out).contains(
            "on the blocklist: reported lost on 20261130 (single card; blocklist version 2)"
        ),
        "{}",
        stderr(&out)
    );
    // so do pin and activate, before touching the PIN
    pin_file(dir, "initial.pin", "123456");
    pin_file(dir, "new.pin", "246813");
    let text = fails(
        dir,
        &[
            "--reader",
            "sim:lost.json",
            "--keys",
            "keys.json",
            "pin",
            "--blocklist",
            "terminal",
            "--blocklist-key",
            "issuer.pub",
            "verify",
            "--pin-file",
            "initial.pin",
        ],
        EXIT_REFUSED,
    );
    assert!(text.contains("refused before the PIN operation"), "{text}");
    let text = fails(
        dir,
        &[
            "--reader",
            "sim:lost.json",
            "--keys",
            "keys.json",
            "activate",
            "--new-pin-file",
            "new.pin",
            "--blocklist",
            "pub/full-0000000002.ssbl",
            "--blocklist-key",
            "issuer.pub",
        ],
        EXIT_REFUSED,
    );
    assert!(text.contains("reported lost"), "{text}");
    // the PIN was not touched: still the initial one, all tries left
    let status = ok(dir, &["--reader", "sim:lost.json", "pin", "status"]);
    assert!(status.contains("3 tries left"), "{status}");
    ok(
        dir,
        &[
            "--reader",
            "sim:lost.json",
            "pin",
            "verify",
            "--pin-file",
            "initial.pin",
        ],
    );

    // the replacement: a new chip, same holder and card number
    let new_id = card(dir, "replacement.json", "55667788");
    assert_ne!(new_id, lost_id);
    let out = read_with_list(dir, "replacement.json", "terminal");
    assert!(out.status.success(), "{}", stderr(&out));
    ok(
        dir,
        &[
            "--reader",
            "sim:replacement.json",
            "--keys",
            "keys.json",
            "activate",
            "--new-pin-file",
            "new.pin",
            "--blocklist",
            "terminal",
            "--blocklist-key",
            "issuer.pub",
        ],
    );

    // the files: verify, show, stats, diff
    let out = ok(
        dir,
        &[
            "blocklist",
            "verify",
            "pub/delta-0000000002.ssbl",
            "--key",
            "issuer.pub",
        ],
    );
    assert!(
        out.starts_with("valid: delta list version 2 (from 1)"),
        "{out}"
    );
    let out = ok(
        dir,
        &[
            "blocklist",
            "show",
            "pub/delta-0000000002.ssbl",
            "--key",
            "issuer.pub",
        ],
    );
    assert!(
        out.contains(&format!("card {lost_id} KD5578904 lost 20261130")),
        "{out}"
    );
    let out = ok(
        dir,
        &[
            "--output-format",
            "json",
            "blocklist",
            "stats",
            "terminal",
            "--key",
            "issuer.pub",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["cards"], 1);
    assert_eq!(v["ranges"], 1);
    assert_eq!(v["version"], 2);
    assert_eq!(v["by_reason"]["lost"], 1);
    let out = ok(
        dir,
        &[
            "blocklist",
            "diff",
            "pub/full-0000000001.ssbl",
            "pub/full-0000000002.ssbl",
            "--key",
            "issuer.pub",
        ],
    );
    assert!(out.contains("1 added, 0 removed, 0 changed"), "{out}");
    assert!(
        out.contains(&format!("+ card {lost_id} KD5578904 lost")),
        "{out}"
    );

    // found again: removed, version 3; the terminal accepts the card again
    ok(
        dir,
        &[
            "blocklist",
            "remove",
            "--list",
            "list.ssbw",
            "--card-id",
            &lost_id,
            "--card-number",
            "KD5578904",
        ],
    );
    ok(
        dir,
        &[
            "blocklist",
            "publish",
            "--list",
            "list.ssbw",
            "--key",
            "issuer.key",
            "--out-dir",
            "pub",
        ],
    );
    ok(
        dir,
        &[
            "blocklist",
            "apply",
            "--store",
            "terminal",
            "--key",
            "issuer.pub",
            "pub/delta-0000000003.ssbl",
        ],
    );
    let out = read_with_list(dir, "lost.json", "terminal");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn bad_files_and_keys_are_refused_with_the_reason() {
    let work = workdir();
    let dir = work.path();
    issuer_and_terminal(dir);
    card(dir, "card.json", "0A0B0C0D");
    // tampered
    let mut bytes = std::fs::read(dir.join("pub/full-0000000001.ssbl")).unwrap();
    bytes[70] ^= 1;
    std::fs::write(dir.join("tampered.ssbl"), &bytes).unwrap();
    let text = fails(
        dir,
        &[
            "blocklist",
            "verify",
            "tampered.ssbl",
            "--key",
            "issuer.pub",
        ],
        EXIT_BAD_INPUT,
    );
    assert!(text.contains("tampered"), "{text}");
    let out = read_with_list(dir, "card.json", "tampered.ssbl");
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    assert!(
        stderr(&out).contains("no card is checked against a list that cannot be trusted"),
        "{}",
        stderr(&out)
    );
    // truncated
    std::fs::write(dir.join("cut.ssbl"), &bytes[..bytes.len() / 2]).unwrap();
    let text = fails(
        dir,
        &["blocklist", "verify", "cut.ssbl", "--key", "issuer.pub"],
        EXIT_BAD_INPUT,
    );
    assert!(text.contains("truncated"), "{text}");
    // another issuer's key
    ok(
        dir,
        &[
            "blocklist",
            "keygen",
            "--out",
            "other.key",
            "--public-out",
            "other.pub",
        ],
    );
    let text = fails(
        dir,
        &[
            "blocklist",
            "verify",
            "pub/full-0000000001.ssbl",
            "--key",
            "other.pub",
        ],
        EXIT_BAD_INPUT,
    );
    assert!(text.contains("signed by another key"), "{text}");
    // an expired list (made with the library: the CLI publishes from today)
    let key = sscard_blocklist::IssuerKey::load(&dir.join("issuer.key")).unwrap();
    let old = sscard_blocklist::sign_full(
        &key,
        1,
        sscard_blocklist::Period {
            issued: "20240101".parse().unwrap(),
            valid_from: "20240101".parse().unwrap(),
            valid_until: "20240131".parse().unwrap(),
        },
        std::iter::empty(),
    )
    .unwrap();
    std::fs::write(dir.join("old.ssbl"), old).unwrap();
    let out = read_with_list(dir, "card.json", "old.ssbl");
    assert_eq!(out.status.code(), Some(EXIT_BAD_INPUT));
    assert!(
        stderr(&out).contains("expired on 20240131"),
        "{}",
        stderr(&out)
    );
    // a rollback to the store
    let text = fails(
        dir,
        &[
            "blocklist",
            "apply",
            "--store",
            "terminal",
            "--key",
            "issuer.pub",
            "old.ssbl",
        ],
        EXIT_BAD_INPUT,
    );
    assert!(text.contains("holds version 1 already"), "{text}");
    // the signing key must be private, and is never overwritten
    set_mode(&dir.join("issuer.key"), 0o644);
    let text = fails(
        dir,
        &[
            "blocklist",
            "publish",
            "--list",
            "list.ssbw",
            "--key",
            "issuer.key",
            "--out-dir",
            "pub",
        ],
        EXIT_KEY_HOLDER,
    );
    assert!(text.contains("chmod 600"), "{text}");
    let before = std::fs::read(dir.join("other.key")).unwrap();
    fails(
        dir,
        &[
            "blocklist",
            "keygen",
            "--out",
            "other.key",
            "--public-out",
            "third.pub",
        ],
        1,
    );
    assert_eq!(std::fs::read(dir.join("other.key")).unwrap(), before);
    // the key option goes with the list option
    fails(
        dir,
        &[
            "--reader",
            "sim:card.json",
            "read",
            "--blocklist",
            "terminal",
        ],
        EXIT_USAGE,
    );
    // a bad entry is refused before the list is touched
    let list_before = std::fs::read(dir.join("list.ssbw")).unwrap();
    let text = fails(
        dir,
        &[
            "blocklist",
            "add",
            "--list",
            "list.ssbw",
            "--card-id",
            "639900D15600000500BF7C7A",
            "--card-number",
            "KD5578904",
            "--reason",
            "lost",
        ],
        EXIT_BAD_INPUT,
    );
    assert!(text.contains("--card-id"), "{text}");
    fails(
        dir,
        &[
            "blocklist",
            "add",
            "--list",
            "list.ssbw",
            "--range",
            "A1",
            "A2",
            "--reason",
            "stolen",
        ],
        EXIT_BAD_INPUT,
    );
    assert_eq!(std::fs::read(dir.join("list.ssbw")).unwrap(), list_before);
}
