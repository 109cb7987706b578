//! The binary users get has no testing aids (issue 14): `batch --crash-after` and `--tear`
//! exist only in builds with the `test-hooks` feature (the binary of the other tests); the
//! production build refuses them as unknown options and shows none of them in any help.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

const HOOKS: [&str; 2] = ["--crash-after", "--tear"];

fn help_texts(bin: &std::path::Path) -> String {
    let mut text = String::new();
    for args in [
        &["--help"][..],
        &["batch", "--help"][..],
        &["help", "batch"][..],
    ] {
        let out = std::process::Command::new(bin).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    text
}

#[test]
fn the_production_binary_has_no_testing_aids() {
    let bin = production_bin();
    let help = help_texts(&bin);
    assert!(help.contains("--journal"), "{help}");
    for hook in HOOKS {
        assert!(!help.contains(hook), "{hook} in the help:\n{help}");
        let dir = workdir();
        let out = std::process::Command::new(&bin)
            .current_dir(dir.path())
            .args(["batch", "--input", "p.csv", "--journal", "j.db"])
            .args(["--return-file", "r.csv", hook, "1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(EXIT_USAGE), "{hook}");
        assert!(
            stderr(&out).contains("unexpected argument"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn the_test_binary_has_them_hidden() {
    let bin = assert_cmd::cargo::cargo_bin("sscard");
    let help = help_texts(&bin);
    for hook in HOOKS {
        assert!(!help.contains(hook), "{hook} shown in the help");
    }
    // accepted: the command gets as far as the (missing) input file
    let dir = workdir();
    let out = std::process::Command::new(&bin)
        .current_dir(dir.path())
        .args(["batch", "--input", "p.csv", "--journal", "j.db"])
        .args([
            "--return-file",
            "r.csv",
            "--crash-after",
            "1",
            "--tear",
            "2:at-write:1",
        ])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(EXIT_USAGE), "{}", stderr(&out));
    assert!(stderr(&out).contains("p.csv"), "{}", stderr(&out));
}
