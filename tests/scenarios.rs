//! Declarative APDU scenarios: every `fixtures/scenarios/*.scn` file is a simulated card set up
//! by its `@card` line(s) and a list of raw command APDUs with the exact response expected
//! (format: `fixtures/scenarios/README.md`). The APDUs go straight to `SimCard::handle`, with no
//! library code in between, so these files check the card OS against docs/card-os.md byte for
//! byte. Adding a file adds a case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt;
use std::path::{Path, PathBuf};

use common::*;
use sscard::crypto::{key_factors, CardFactors, KeyId};
use sscard::data::{BcdDate, PersonRecord};
use sscard::keyholder::KeyHolder;
use sscard::lifecycle::{self, PersonalizeOptions};
use sscard::profile::Generation;
use sscard::sim::{SimCard, SimTransport};
use sscard::Algorithm;

/// The PIN an `@card state=activated` card gets from its holder (the initial PIN is `123456`).
const ACTIVATED_PIN: &str = "258036";
/// The date activation runs on (before every fixture person's expiry date).
const ACTIVATION_DAY: &str = "20261123";

// ---------------------------------------------------------------------------------------------
// The scenario language
// ---------------------------------------------------------------------------------------------

/// Lifecycle state an `@card` line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Blank,
    Personalized,
    Activated,
}

/// Block state an `@card` line asks for (set with the library and the test keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Temporary,
    Permanent,
    Card,
}

/// One `@card` line: how to build the simulated card.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CardSetup {
    generation: Generation,
    algorithm: Algorithm,
    serial: [u8; 4],
    state: State,
    /// File stem in `fixtures/persons`; `None`: the fixture person of the generation.
    person: Option<String>,
    t0: bool,
    all_records: bool,
    block: Block,
}

/// One expected response byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Byte(u8),
    Any,
}

/// What a response must be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// `< ...`: data and SW exactly, `??` matching any byte.
    Exact(Vec<Pattern>),
    /// `<sw XXXX`: any data (none included), then this SW.
    Sw([u8; 2]),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// `@card ...`: a new card (replaces the previous one).
    Card(CardSetup),
    /// `@reset`: power-on reset of the current card.
    Reset,
    /// `@auth XX`: GET CHALLENGE + EXTERNAL AUTHENTICATE with card key `XX`, the cryptogram
    /// computed from the test keys; both must answer `9000`.
    Auth { line: usize, key: u8 },
    /// `> apdu` followed by `< response`.
    Exchange {
        /// Line of the `>`.
        line: usize,
        command: Vec<u8>,
        expect: Expect,
    },
}

/// A syntax error, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ParseError {
    line: usize,
    message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

/// Hex digits with any whitespace in between; `??` allowed only when `wildcards`.
fn parse_hex(line: usize, text: &str, wildcards: bool) -> Result<Vec<Pattern>, ParseError> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return err(
            line,
            format!(
                "odd number of hex digits ({}) in {:?}",
                digits.len(),
                text.trim()
            ),
        );
    }
    let mut out = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks(2) {
        match (pair[0], pair[1]) {
            ('?', '?') if wildcards => out.push(Pattern::Any),
            ('?', '?') => return err(line, "`??` is only allowed in a response"),
            (hi, lo) => match (hi.to_digit(16), lo.to_digit(16)) {
                (Some(h), Some(l)) => out.push(Pattern::Byte((h * 16 + l) as u8)),
                _ => return err(line, format!("not a hex byte: {hi}{lo:?}")),
            },
        }
    }
    Ok(out)
}

fn parse_on_off(line: usize, key: &str, value: &str) -> Result<bool, ParseError> {
    match value {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        other => err(line, format!("{key}={other}: expected on or off")),
    }
}

fn parse_card(line: usize, args: &str) -> Result<CardSetup, ParseError> {
    let mut generation = None;
    let mut setup = CardSetup {
        generation: Generation::V2,
        algorithm: Algorithm::Tdes,
        serial: [0x00, 0xBF, 0x7C, 0x7A],
        state: State::Blank,
        person: None,
        t0: false,
        all_records: true,
        block: Block::None,
    };
    for word in args.split_whitespace() {
        let Some((key, value)) = word.split_once('=') else {
            return err(line, format!("@card: expected key=value, got {word:?}"));
        };
        match key {
            "generation" => {
                generation = Some(
                    value
                        .parse::<Generation>()
                        .or_else(|e| err(line, format!("generation={value}: {e}")))?,
                )
            }
            "algorithm" => {
                setup.algorithm = value.parse().or_else(|_| {
                    err(
                        line,
                        format!("algorithm={value}: expected 3des, sm4 or aes"),
                    )
                })?
            }
            "serial" => {
                let bytes = parse_hex(line, value, false)?;
                let bytes: Vec<u8> = bytes
                    .iter()
                    .map(|p| match p {
                        Pattern::Byte(b) => *b,
                        Pattern::Any => 0,
                    })
                    .collect();
                setup.serial = bytes.as_slice().try_into().or_else(|_| {
                    err(
                        line,
                        format!("serial={value}: expected 4 bytes (8 hex digits)"),
                    )
                })?;
            }
            "state" => {
                setup.state = match value {
                    "blank" => State::Blank,
                    "personalized" => State::Personalized,
                    "activated" => State::Activated,
                    other => {
                        return err(
                            line,
                            format!("state={other}: expected blank, personalized or activated"),
                        )
                    }
                }
            }
            "person" => {
                if value.is_empty()
                    || !value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return err(
                        line,
                        format!("person={value}: expected a file stem of fixtures/persons"),
                    );
                }
                setup.person = Some(value.to_string());
            }
            "t0" => setup.t0 = parse_on_off(line, key, value)?,
            "block" => {
                setup.block = match value {
                    "none" => Block::None,
                    "temporary" => Block::Temporary,
                    "permanent" => Block::Permanent,
                    "card" => Block::Card,
                    other => {
                        return err(
                            line,
                            format!("block={other}: expected none, temporary, permanent or card"),
                        )
                    }
                }
            }
            "all-records" => setup.all_records = parse_on_off(line, key, value)?,
            other => {
                return err(
                    line,
                    format!(
                        "@card: unknown key {other:?} (generation, algorithm, serial, state, \
                         person, t0, all-records, block)"
                    ),
                )
            }
        }
    }
    setup.generation = match generation {
        Some(g) => g,
        None => return err(line, "@card needs generation=1|2|3"),
    };
    if setup.person.is_some() && setup.state == State::Blank {
        return err(line, "person= needs state=personalized or activated");
    }
    if setup.block != Block::None && setup.state == State::Blank {
        return err(line, "block= needs state=personalized or activated");
    }
    Ok(setup)
}

/// The non-empty lines without comments, with their 1-based numbers; an indented line that
/// starts with a hex digit or `?` continues the `>` or `<` line before it.
fn logical_lines(text: &str) -> Result<Vec<(usize, String)>, ParseError> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        let indented = raw.starts_with(char::is_whitespace);
        let hex_start = content.starts_with(|c: char| c.is_ascii_hexdigit() || c == '?');
        if indented && hex_start {
            match out.last_mut() {
                Some((_, previous)) if previous.starts_with(['>', '<']) => {
                    previous.push(' ');
                    previous.push_str(content);
                }
                _ => {
                    return err(
                        line,
                        "an indented continuation line without a `>` or `<` line before it",
                    )
                }
            }
            continue;
        }
        out.push((line, content.to_string()));
    }
    Ok(out)
}

/// Parses a scenario file.
fn parse(text: &str) -> Result<Vec<Step>, ParseError> {
    let mut steps = Vec::new();
    let mut pending: Option<(usize, Vec<u8>)> = None;
    let mut have_card = false;
    for (line, content) in logical_lines(text)? {
        let content = content.as_str();
        if let Some(rest) = content.strip_prefix('<') {
            let Some((command_line, command)) = pending.take() else {
                return err(line, "a response `<` without a command `>` before it");
            };
            let expect = if let Some(sw) = rest.strip_prefix("sw") {
                let bytes = parse_hex(line, sw, false)?;
                match bytes.as_slice() {
                    [Pattern::Byte(a), Pattern::Byte(b)] => Expect::Sw([*a, *b]),
                    _ => return err(line, "`<sw` needs exactly one status word (4 hex digits)"),
                }
            } else {
                let patterns = parse_hex(line, rest, true)?;
                if patterns.len() < 2 {
                    return err(line, "a response needs at least the status word (2 bytes)");
                }
                Expect::Exact(patterns)
            };
            steps.push(Step::Exchange {
                line: command_line,
                command,
                expect,
            });
            continue;
        }
        if let Some((command_line, _)) = &pending {
            return err(
                line,
                format!("the command on line {command_line} has no expected response `<`"),
            );
        }
        if let Some(rest) = content.strip_prefix('>') {
            if !have_card {
                return err(line, "a command before the first `@card` line");
            }
            let command: Vec<u8> = parse_hex(line, rest, false)?
                .into_iter()
                .map(|p| match p {
                    Pattern::Byte(b) => b,
                    Pattern::Any => 0,
                })
                .collect();
            if command.len() < 4 {
                return err(
                    line,
                    format!(
                        "a command APDU needs at least CLA INS P1 P2, got {} bytes",
                        command.len()
                    ),
                );
            }
            pending = Some((line, command));
        } else if let Some(rest) = content.strip_prefix("@card") {
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return err(line, format!("unknown directive {content:?}"));
            }
            steps.push(Step::Card(parse_card(line, rest)?));
            have_card = true;
        } else if content == "@reset" {
            if !have_card {
                return err(line, "@reset before the first `@card` line");
            }
            steps.push(Step::Reset);
        } else if let Some(rest) = content.strip_prefix("@auth") {
            if !have_card {
                return err(line, "@auth before the first `@card` line");
            }
            let key = match parse_hex(line, rest, false)?.as_slice() {
                [Pattern::Byte(key)] => *key,
                _ => return err(line, "@auth needs one key id in hex, e.g. `@auth 0A`"),
            };
            steps.push(Step::Auth { line, key });
        } else if content.starts_with('@') {
            return err(
                line,
                format!("unknown directive {content:?} (known: @card, @reset, @auth)"),
            );
        } else {
            return err(
                line,
                format!("expected `@card`, `@reset`, `> command` or `< response`, got {content:?}"),
            );
        }
    }
    if let Some((command_line, _)) = pending {
        return err(
            command_line,
            "the last command has no expected response `<`",
        );
    }
    if !steps.iter().any(|s| matches!(s, Step::Exchange { .. })) {
        return err(1, "no APDUs in this scenario");
    }
    Ok(steps)
}

// ---------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn setup_card(setup: &CardSetup) -> SimCard {
    let mut sim = blank_sim(setup.generation, setup.algorithm, setup.serial);
    if setup.state != State::Blank {
        let mut keys = test_keys();
        let data = match &setup.person {
            None => person(setup.generation),
            Some(stem) => {
                let path = root().join("fixtures/persons").join(format!("{stem}.json"));
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                PersonRecord::from_json(&text)
                    .and_then(|r| r.validate())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            }
        };
        let mut card = lifecycle::Card::open(SimTransport::new(sim)).unwrap();
        lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default())
            .unwrap_or_else(|e| panic!("personalize: {e}"));
        if setup.state == State::Activated {
            let today: BcdDate = ACTIVATION_DAY.parse().unwrap();
            lifecycle::activate(
                &mut card,
                &mut keys,
                &pin("123456"),
                &pin(ACTIVATED_PIN),
                today,
            )
            .unwrap_or_else(|e| panic!("activate: {e}"));
        }
        match setup.block {
            Block::None => {}
            Block::Temporary | Block::Permanent => {
                let permanent = setup.block == Block::Permanent;
                lifecycle::block_application(&mut card, &mut keys, permanent)
                    .unwrap_or_else(|e| panic!("block application: {e}"))
            }
            Block::Card => lifecycle::block_card(&mut card, &mut keys)
                .unwrap_or_else(|e| panic!("block card: {e}")),
        }
        sim = card.into_transport().into_card();
    }
    let mut options = sim.image().options;
    options.t0_mode = setup.t0;
    options.all_records_mode = setup.all_records;
    sim.set_options(options);
    sim.seed_rng(0x5C4E_A810);
    // the scenario starts at power-on: nothing selected, nothing authenticated
    sim.reset();
    sim
}

fn hex_spaced(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

/// A response as `DATA SW` (the SW set apart).
fn show_response(bytes: &[u8]) -> String {
    match bytes.len() {
        0..=1 => hex_spaced(bytes),
        n => {
            let (data, sw) = bytes.split_at(n - 2);
            if data.is_empty() {
                hex_spaced(sw)
            } else {
                format!("{} {}", hex_spaced(data), hex_spaced(sw))
            }
        }
    }
}

fn show_expect(expect: &Expect) -> String {
    match expect {
        Expect::Sw(sw) => format!("<any data> {}", hex_spaced(sw)),
        Expect::Exact(patterns) => {
            let text = |ps: &[Pattern]| -> String {
                ps.iter()
                    .map(|p| match p {
                        Pattern::Byte(b) => format!("{b:02X}"),
                        Pattern::Any => "??".into(),
                    })
                    .collect()
            };
            let (data, sw) = patterns.split_at(patterns.len() - 2);
            if data.is_empty() {
                text(sw)
            } else {
                format!("{} {}", text(data), text(sw))
            }
        }
    }
}

fn matches(expect: &Expect, actual: &[u8]) -> bool {
    match expect {
        Expect::Sw(sw) => actual.len() >= 2 && actual[actual.len() - 2..] == sw[..],
        Expect::Exact(patterns) => {
            patterns.len() == actual.len()
                && patterns.iter().zip(actual).all(|(p, a)| match p {
                    Pattern::Any => true,
                    Pattern::Byte(b) => b == a,
                })
        }
    }
}

/// `@auth key`: authenticates with card key `key` through raw APDUs; the cryptogram comes from
/// the test master keys (docs/card-os.md §4: `E_SK(R)`, `SK = Div(CK, R[0..8])`).
fn authenticate(sim: &mut SimCard, key: u8) -> Result<(), String> {
    let algorithm = sim.image().algorithm;
    let b = algorithm.block_len();
    let get_challenge = [0x00, 0x84, 0x00, 0x00, b as u8];
    let answer = sim.handle(&get_challenge);
    let challenge = match answer.split_last_chunk::<2>() {
        Some((challenge, [0x90, 0x00])) if challenge.len() == b => challenge.to_vec(),
        _ => {
            return Err(format!(
                "> {}: {}",
                hex_spaced(&get_challenge),
                show_response(&answer)
            ))
        }
    };
    let factors = CardFactors::new(&sim.atr(), &sim.image().region).map_err(|e| e.to_string())?;
    let mut path = key_factors(KeyId(key), &factors.card, &factors.city);
    path.push(challenge[..8].try_into().unwrap());
    let cryptogram = test_keys()
        .encipher(algorithm, KeyId(key), &path, &challenge)
        .map_err(|e| e.to_string())?;
    let mut command = vec![0x00, 0x82, 0x00, key, b as u8];
    command.extend_from_slice(&cryptogram);
    let answer = sim.handle(&command);
    if answer != [0x90, 0x00] {
        return Err(format!(
            "> {}: {}",
            hex_spaced(&command),
            show_response(&answer)
        ));
    }
    Ok(())
}

/// Replays `steps`; returns the number of APDUs sent and one message per failing step.
fn replay(file: &str, steps: &[Step]) -> (usize, Vec<String>) {
    let mut card: Option<SimCard> = None;
    let mut sent = 0;
    let mut failures = Vec::new();
    for step in steps {
        match step {
            Step::Card(setup) => card = Some(setup_card(setup)),
            Step::Reset => card.as_mut().expect("parser: @reset after @card").reset(),
            Step::Auth { line, key } => {
                let sim = card.as_mut().expect("parser: @auth after @card");
                sent += 2;
                if let Err(e) = authenticate(sim, *key) {
                    failures.push(format!("{file}:{line}: @auth {key:02X} failed: {e}"));
                }
            }
            Step::Exchange {
                line,
                command,
                expect,
            } => {
                let sim = card.as_mut().expect("parser: commands after @card");
                let actual = sim.handle(command);
                sent += 1;
                if !matches(expect, &actual) {
                    failures.push(format!(
                        "{file}:{line}: > {}\n    expected: {}\n    actual:   {}",
                        hex_spaced(command),
                        show_expect(expect),
                        show_response(&actual)
                    ));
                }
            }
        }
    }
    (sent, failures)
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = root().join("fixtures/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "scn"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no .scn scenario files in {}",
        dir.display()
    );
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_scenario_file_replays_against_the_simulated_card() {
    let mut total = 0;
    let mut report = Vec::new();
    let files = scenario_files();
    for path in &files {
        let name = file_name(path);
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let steps = match parse(&text) {
            Ok(steps) => steps,
            Err(e) => {
                report.push(format!("{name}:{}: syntax error: {}", e.line, e.message));
                continue;
            }
        };
        let (sent, failures) = replay(&name, &steps);
        println!("{name}: {sent} APDUs, {} failing", failures.len());
        total += sent;
        report.extend(failures);
    }
    println!("{} scenario files, {total} APDUs checked", files.len());
    assert!(
        report.is_empty(),
        "{} failing scenario step(s):\n{}",
        report.len(),
        report.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The parser itself
// ---------------------------------------------------------------------------------------------

#[test]
fn parser_reads_a_small_scenario() {
    let text = "# a comment\n\
                @card generation=3 algorithm=sm4 serial=01020304 state=personalized t0=on  # x\n\
                > 00A4 0400 0F 7378312E73682EC9E7BBE1B1A3D5CF\n\
                < 9000\n\
                \n\
                @reset\n\
                > 00840000 08\n\
                <sw 6700\n\
                > 0084000004\n\
                < ?? ?? ?? ?? 9000\n";
    let steps = parse(text).unwrap();
    assert_eq!(steps.len(), 5);
    match &steps[0] {
        Step::Card(setup) => {
            assert_eq!(setup.generation, Generation::V3);
            assert_eq!(setup.algorithm, Algorithm::Sm4);
            assert_eq!(setup.serial, [1, 2, 3, 4]);
            assert_eq!(setup.state, State::Personalized);
            assert!(setup.t0);
            assert!(setup.all_records);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(steps[2], Step::Reset);
    assert_eq!(
        steps[3],
        Step::Exchange {
            line: 7,
            command: vec![0x00, 0x84, 0x00, 0x00, 0x08],
            expect: Expect::Sw([0x67, 0x00]),
        }
    );
    match &steps[4] {
        Step::Exchange { expect, .. } => {
            assert!(matches(expect, &[1, 2, 3, 4, 0x90, 0x00]));
            assert!(!matches(expect, &[1, 2, 3, 0x90, 0x00]));
            assert!(!matches(expect, &[1, 2, 3, 4, 0x6A, 0x82]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parser_rejects_malformed_lines_with_the_line_and_the_reason() {
    let card = "@card generation=2\n";
    let cases: &[(&str, usize, &str)] = &[
        ("> 00A4000002EF05\n< 9000\n", 1, "before the first `@card`"),
        ("@card\n> 00A4000002EF05\n< 9000\n", 1, "needs generation"),
        ("@card generation=7\n", 1, "generation=7"),
        ("@card generation=2 algorithm=ssf33\n", 1, "algorithm=ssf33"),
        ("@card generation=2 serial=0102\n", 1, "4 bytes"),
        ("@card generation=2 state=lost\n", 1, "state=lost"),
        ("@card generation=2 colour=red\n", 1, "unknown key"),
        ("@card generation=2 t0\n", 1, "key=value"),
        ("@card generation=2 t0=maybe\n", 1, "on or off"),
        ("@card generation=2 person=zhang-san-2\n", 1, "needs state"),
        ("@cards generation=2\n", 1, "unknown directive"),
        ("@card generation=2\n@power-off\n", 2, "unknown directive"),
        ("@card generation=2\n< 9000\n", 2, "without a command"),
        (
            "@card generation=2\n> 00A4000002EF0\n< 9000\n",
            2,
            "odd number",
        ),
        (
            "@card generation=2\n> 00A4000002EFG5\n< 9000\n",
            2,
            "not a hex byte",
        ),
        (
            "@card generation=2\n> 00A4000002EF??\n< 9000\n",
            2,
            "only allowed in a response",
        ),
        (
            "@card generation=2\n> 00A400\n< 9000\n",
            2,
            "at least CLA INS P1 P2",
        ),
        (
            "@card generation=2\n> 00A4000002EF05\n< 90\n",
            3,
            "at least the status word",
        ),
        (
            "@card generation=2\n> 00A4000002EF05\n<sw 90\n",
            3,
            "exactly one status word",
        ),
        (
            "@card generation=2\n> 00A4000002EF05\n<sw ??00\n",
            3,
            "only allowed in a response",
        ),
        (
            "@card generation=2\n> 00A4000002EF05\n> 00A4000002EF06\n< 9000\n",
            3,
            "line 2 has no expected response",
        ),
        (
            "@card generation=2\n> 00A4000002EF05\n# end\n",
            2,
            "no expected response",
        ),
        (
            "@card generation=2\n00A4000002EF05\n",
            2,
            "expected `@card`",
        ),
        (
            "@card generation=2\n  00A4000002EF05\n",
            2,
            "continuation line without",
        ),
        (
            "@card generation=2\n> 00A4000002EF05\n< 9000\n@reset\n  9000\n",
            5,
            "continuation line without",
        ),
        ("@card generation=2 block=card\n", 1, "block= needs state"),
        (
            "@card generation=2 state=personalized block=lost\n",
            1,
            "block=lost",
        ),
        ("@auth 0A\n", 1, "before the first `@card`"),
        ("@card generation=2\n@auth\n", 2, "one key id"),
        ("@card generation=2\n@auth 0A0D\n", 2, "one key id"),
        (card, 1, "no APDUs"),
    ];
    for (text, line, reason) in cases {
        match parse(text) {
            Ok(steps) => panic!("accepted {text:?}: {steps:?}"),
            Err(e) => {
                assert_eq!(e.line, *line, "{text:?}: {e}");
                assert!(
                    e.message.contains(reason),
                    "{text:?}: {e} (expected to mention {reason:?})"
                );
                assert!(e.to_string().starts_with(&format!("line {line}: ")));
            }
        }
    }
}

#[test]
fn failures_name_the_file_line_apdu_expected_and_actual() {
    let steps = parse(
        "@card generation=2\n\
         > 00A4000002EF05   # EF before SSSE\n\
         < 9000\n",
    )
    .unwrap();
    let (sent, failures) = replay("example.scn", &steps);
    assert_eq!(sent, 1);
    assert_eq!(
        failures,
        ["example.scn:2: > 00A4000002EF05\n    expected: 9000\n    actual:   6A82"]
    );
}
