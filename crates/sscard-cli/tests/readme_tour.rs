//! README.md's tour runs as written: the console block marked `<!-- readme-tour … -->` is read
//! from README.md, each `$` command (with its `>` continuation lines, a here-doc's body) run with
//! bash in a fresh empty folder with the `sscard` users build on the PATH, and its exit code and
//! output (stdout and stderr, as a terminal shows them) compared with the README:
//!
//! - the output shown under a command is its whole output, line for line (blank lines aside);
//! - `…` in a line stands for any text, a line of `…` alone for any number of lines;
//! - `# exit code N` at the end of an output line is the exit code expected (else 0).
//!
//! So the README stays true: a changed message, APDU count or option shows up here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;

/// One command of the tour and what the README shows for it.
#[derive(Debug)]
struct Step {
    /// The README line of the command.
    line: usize,
    /// The shell command (a here-doc's lines joined with newlines).
    command: String,
    /// The output lines shown.
    expected: Vec<String>,
    /// The exit code shown (`# exit code N`), else 0.
    code: i32,
}

const MARKER: &str = "<!-- readme-tour";
const ELLIPSIS: char = '…';

/// The steps of every marked console block of `readme`.
fn tour(readme: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        if !line.starts_with(MARKER) {
            continue;
        }
        let (n, fence) = lines.next().expect("a marked block");
        assert_eq!(
            fence.trim(),
            "```console",
            "README.md line {}: the tour marker must stand right before a ```console block",
            n + 1
        );
        for (n, line) in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                break;
            }
            if let Some(command) = line.strip_prefix("$ ") {
                steps.push(Step {
                    line: n + 1,
                    command: command.to_owned(),
                    expected: Vec::new(),
                    code: 0,
                });
                continue;
            }
            let Some(step) = steps.last_mut() else {
                assert!(
                    line.trim().is_empty(),
                    "README.md line {}: output before any command",
                    n + 1
                );
                continue;
            };
            if let Some(more) =
                line.strip_prefix("> ")
                    .or(if line == ">" { Some("") } else { None })
            {
                assert!(
                    step.expected.is_empty(),
                    "README.md line {}: `>` after output",
                    n + 1
                );
                step.command.push('\n');
                step.command.push_str(more);
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let (shown, code) = match line.rfind("# exit code ") {
                Some(at) if line[..at].ends_with("  ") => (
                    line[..at].trim_end(),
                    line[at + "# exit code ".len()..].trim().parse().unwrap(),
                ),
                _ => (line, 0),
            };
            if code != 0 {
                step.code = code;
            }
            step.expected.push(shown.trim_end().to_owned());
        }
    }
    steps
}

/// Whether `actual` is one line `shown` describes (`…`: any text).
fn line_matches(shown: &str, actual: &str) -> bool {
    let mut parts = shown.split(ELLIPSIS);
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether the `actual` lines are the `shown` ones (a line of `…`: any number of lines).
fn lines_match(shown: &[String], actual: &[&str]) -> bool {
    match shown.split_first() {
        None => actual.is_empty(),
        Some((first, more)) if first == "…" => {
            (0..=actual.len()).any(|skip| lines_match(more, &actual[skip..]))
        }
        Some((first, more)) => {
            !actual.is_empty() && line_matches(first, actual[0]) && lines_match(more, &actual[1..])
        }
    }
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap()
}

/// Runs one step with bash in `dir`, `sscard` found in `bin`.
fn run(step: &Step, dir: &Path, bin: &Path) -> (i32, String) {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        // stderr into stdout: the order a terminal shows
        .arg(format!("exec 2>&1\n{}", step.command))
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", dir)
        .env_remove("SSCARD_READER")
        .env_remove("SSCARD_STATION_KEY")
        // no PC/SC service: the tour needs none
        .env("PCSCLITE_CSOCK_NAME", dir.join("no-pcscd.comm"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), stdout(&out))
}

#[test]
fn the_readme_tour_runs_as_written() {
    let steps = tour(&readme());
    assert!(
        steps.len() >= 10,
        "README.md's tour (a ```console block after {MARKER} …-->) has {} commands",
        steps.len()
    );
    let sandbox = tempfile::tempdir().unwrap();
    let dir = sandbox.path().join("tour");
    let bin = sandbox.path().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    // the binary users build (cargo install: no testing aids), as `sscard`
    std::os::unix::fs::symlink(production_bin(), bin.join("sscard")).unwrap();
    for step in &steps {
        let (code, output) = run(step, &dir, &bin);
        let actual: Vec<&str> = output
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect();
        assert!(
            code == step.code && lines_match(&step.expected, &actual),
            "README.md line {}: `{}`\nexit code {code} (README: {})\noutput:\n{output}\nREADME shows:\n{}",
            step.line,
            step.command,
            step.code,
            step.expected.join("\n")
        );
    }
}

#[test]
fn the_tour_keeps_pins_off_command_lines_and_makes_its_own_files() {
    let steps = tour(&readme());
    // the PINs the tour writes into files (here-doc bodies of *.pin)
    let pins: Vec<String> = steps
        .iter()
        .filter(|s| s.command.contains(".pin <<"))
        .flat_map(|s| s.command.lines().skip(1).filter(|l| *l != "EOF"))
        .map(|l| l.trim().to_owned())
        .collect();
    assert!(!pins.is_empty(), "the tour writes no PIN file");
    for step in steps.iter().filter(|s| s.command.starts_with("sscard")) {
        for pin in &pins {
            assert!(
                !step.command.contains(pin.as_str()),
                "README.md line {}: a PIN on the command line: {}",
                step.line,
                step.command
            );
        }
        // every file the tour reads is one it made: no fixture, no key of the repository
        assert!(
            !step.command.contains("fixtures/") && !step.command.contains("--test-keys"),
            "README.md line {}: {}",
            step.line,
            step.command
        );
    }
    // each PIN file is made private before sscard reads it
    for step in steps.iter().filter(|s| s.command.contains(".pin <<")) {
        let file = step.command.split_whitespace().nth(2).unwrap();
        assert!(
            steps
                .iter()
                .any(|s| s.line > step.line && s.command == format!("chmod 600 {file}")),
            "{file} is not made private"
        );
    }
}

#[test]
fn the_matching_rules() {
    let shown = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(lines_match(&shown(&["a", "…", "d"]), &["a", "b", "c", "d"]));
    assert!(lines_match(&shown(&["a", "…"]), &["a"]));
    assert!(!lines_match(&shown(&["a", "d"]), &["a", "b", "d"]));
    assert!(!lines_match(&shown(&["a"]), &["a", "b"]));
    assert!(line_matches("A<< 61 1B (… ms)", "A<< 61 1B (0.3 ms)"));
    assert!(line_matches("x …; y", "x IRK, BK; y"));
    assert!(!line_matches("A<< 61 1B (… ms)", "A<< 61 1C (0.3 ms)"));
    assert!(!line_matches("abc", "abcd"));
    let steps = tour(
        "<!-- readme-tour -->\n```console\n$ cat > p <<'EOF'\n> 1\n> EOF\n$ false\nno  # exit code 1\n```\n",
    );
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].command, "cat > p <<'EOF'\n1\nEOF");
    assert_eq!(
        (steps[1].code, steps[1].expected.clone()),
        (1, shown(&["no"]))
    );
}
