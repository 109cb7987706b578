//! Declarative APDU scenarios: every `fixtures/scenarios/*.scn` file sets up simulated cards
//! with its `@card` lines and lists raw command APDUs with the exact responses expected, written
//! by hand from docs/card-os.md and the specification (format: `fixtures/scenarios/README.md`).
//! The APDUs go straight to `SimCard::handle`, with no library code in between, so the files
//! check the card OS byte for byte. Commands that carry cryptograms are computed from the test
//! keys by the `>ea`, `>mac` and `>reload` directives, and the answer to INTERNAL
//! AUTHENTICATION by `<ia`. Adding a file adds a case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt;
use std::path::{Path, PathBuf};

use common::*;
use sscard::crypto::{self, Pin};
use sscard::data::PersonRecord;
use sscard::keys::KeyRole;
use sscard::lifecycle::{self, ActivateOptions, Card, PersonalizeOptions};
use sscard::profile::Generation;
use sscard::sim::{CardSpec, FinancialApp, SimCard, SimTransport};
use sscard::Algorithm;

/// The PIN an `@card state=activated` card gets from its holder (the initial PIN is `123456`).
const ACTIVATED_PIN: &str = "258036";
/// The expiry date of the financial application of an `@card financial=…` card.
const FINANCIAL_EXPIRY: &str = "351231";

// ---------------------------------------------------------------------------------------------
// The scenario language
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Blank,
    Personalized,
    Activated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Application,
    Card,
}

/// One `@card` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CardSetup {
    generation: Generation,
    algorithm: Algorithm,
    t0: bool,
    region: String,
    serial: [u8; 4],
    card_serial: [u8; 4],
    state: State,
    person: Option<String>,
    block: Block,
    financial: Option<String>,
    /// `areas=national|health`: the data areas of the V2.0 notice (and appendix B's DF05).
    areas: Option<String>,
    seed: u64,
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
    /// `< …`: data and status word exactly, `??` matching any byte.
    Exact(Vec<Pattern>),
    /// `<sw XXXX`: any data (or none), then this status word.
    Sw(u16),
    /// `<ia`: the IRK authentication data of the last INTERNAL AUTHENTICATION command, `9000`.
    Ia,
}

/// A command of a `>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    /// `> hex`: sent as is.
    Raw(Vec<u8>),
    /// `>ea ROLE [wrong] [original=…] [version=XX]`: EXTERNAL AUTHENTICATION.
    Ea {
        role: KeyRole,
        wrong: bool,
        original: [u8; 8],
        version: Option<u8>,
    },
    /// `>mac HEADER [DATA] [wrong]`: `HEADER Lc DATA MAC` under STKSSSE.
    Mac {
        header: [u8; 4],
        data: Vec<u8>,
        wrong: bool,
    },
    /// `>reload PIN|- [wrong]`: PIN RELOAD with the PIN enciphered (`-`: the empty PIN).
    Reload { pin: Option<String>, wrong: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Card(CardSetup),
    Reset,
    Auth {
        line: usize,
        role: KeyRole,
    },
    Exchange {
        line: usize,
        command: Command,
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

/// Hex digits with any whitespace in between; `??` only when `wildcards`.
fn parse_hex(line: usize, text: &str, wildcards: bool) -> Result<Vec<Pattern>, ParseError> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return err(
            line,
            format!("odd number of hex digits in {:?}", text.trim()),
        );
    }
    let mut out = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks(2) {
        match (pair[0], pair[1]) {
            ('?', '?') if wildcards => out.push(Pattern::Any),
            ('?', '?') => return err(line, "`??` is only allowed in a response"),
            (hi, lo) => match (hi.to_digit(16), lo.to_digit(16)) {
                (Some(h), Some(l)) => out.push(Pattern::Byte((h * 16 + l) as u8)),
                _ => return err(line, format!("not a hex byte: {hi}{lo}")),
            },
        }
    }
    Ok(out)
}

fn bytes(line: usize, text: &str) -> Result<Vec<u8>, ParseError> {
    Ok(parse_hex(line, text, false)?
        .into_iter()
        .map(|p| match p {
            Pattern::Byte(b) => b,
            Pattern::Any => 0,
        })
        .collect())
}

fn fixed<const N: usize>(line: usize, what: &str, text: &str) -> Result<[u8; N], ParseError> {
    bytes(line, text)?
        .try_into()
        .or_else(|_| err(line, format!("{what}={text}: expected {N} bytes")))
}

fn role(line: usize, name: &str) -> Result<KeyRole, ParseError> {
    KeyRole::from_name(name)
        .filter(|r| r.card_key_id().is_some() || *r == KeyRole::Irk)
        .map_or_else(
            || {
                err(
                    line,
                    format!(
                        "unknown card key role {name:?} (IRK, RKSSSE, UKSSSE, PUK, STKSSSE, BK)"
                    ),
                )
            },
            Ok,
        )
}

fn parse_card(line: usize, args: &str) -> Result<CardSetup, ParseError> {
    let mut generation = None;
    let mut setup = CardSetup {
        generation: Generation::V2,
        algorithm: Algorithm::Tdes,
        t0: true,
        region: "639900".into(),
        serial: SERIAL,
        card_serial: [0x00, 0x00, 0x00, 0x01],
        state: State::Blank,
        person: None,
        block: Block::None,
        financial: None,
        areas: None,
        seed: 1,
    };
    for word in args.split_whitespace() {
        let Some((key, value)) = word.split_once('=') else {
            return err(line, format!("@card: expected key=value, got {word:?}"));
        };
        match key {
            "generation" => {
                generation = Some(match value {
                    "1" | "1.0" => Generation::V1,
                    "2" | "2.0" => Generation::V2,
                    "3" | "3.0" => Generation::V3,
                    other => return err(line, format!("generation={other}: expected 1, 2 or 3")),
                })
            }
            "algorithm" => {
                setup.algorithm = match value {
                    "3des" => Algorithm::Tdes,
                    "sm4" => Algorithm::Sm4,
                    "aes" => Algorithm::Aes128,
                    other => return err(line, format!("algorithm={other}: 3des, sm4 or aes")),
                }
            }
            "protocol" => {
                setup.t0 = match value {
                    "t0" => true,
                    "t1" => false,
                    other => return err(line, format!("protocol={other}: t0 or t1")),
                }
            }
            "region" => {
                if value.parse::<sscard::data::RegionCode>().is_err() {
                    return err(line, format!("region={value}: not a region code"));
                }
                setup.region = value.into();
            }
            "serial" => setup.serial = fixed(line, key, value)?,
            "card-serial" => setup.card_serial = fixed(line, key, value)?,
            "state" => {
                setup.state = match value {
                    "blank" => State::Blank,
                    "personalized" => State::Personalized,
                    "activated" => State::Activated,
                    other => {
                        return err(
                            line,
                            format!("state={other}: blank, personalized or activated"),
                        )
                    }
                }
            }
            "person" => setup.person = Some(value.into()),
            "block" => {
                setup.block = match value {
                    "none" => Block::None,
                    "application" => Block::Application,
                    "card" => Block::Card,
                    other => return err(line, format!("block={other}: none, application or card")),
                }
            }
            "financial" => setup.financial = Some(value.into()),
            "areas" => match value {
                "national" | "health" => setup.areas = Some(value.into()),
                other => return err(line, format!("areas={other}: national or health")),
            },
            "seed" => {
                setup.seed = value
                    .parse()
                    .or_else(|_| err(line, format!("seed={value}: not a number")))?
            }
            other => return err(line, format!("@card: unknown key {other:?}")),
        }
    }
    setup.generation = generation.ok_or(ParseError {
        line,
        message: "@card needs generation=".into(),
    })?;
    if setup.state == State::Blank && (setup.block != Block::None || setup.person.is_some()) {
        return err(line, "block= and person= need a personalized card");
    }
    Ok(setup)
}

fn parse_command(line: usize, directive: &str, args: &str) -> Result<Command, ParseError> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let wrong = words.contains(&"wrong");
    let rest: Vec<&str> = words.iter().copied().filter(|w| *w != "wrong").collect();
    match directive {
        ">" => {
            if wrong {
                return err(line, "`wrong` only goes with >ea, >mac and >reload");
            }
            let command = bytes(line, args)?;
            if command.is_empty() {
                return err(line, "an empty command APDU");
            }
            Ok(Command::Raw(command))
        }
        ">ea" => {
            let (name, options) = rest.split_first().ok_or(ParseError {
                line,
                message: ">ea needs a key role".into(),
            })?;
            let mut original = [0x4F; 8];
            let mut version = None;
            for option in options {
                match option.split_once('=') {
                    Some(("original", v)) => original = fixed(line, "original", v)?,
                    Some(("version", v)) => version = Some(fixed::<1>(line, "version", v)?[0]),
                    _ => return err(line, format!(">ea: unknown option {option:?}")),
                }
            }
            Ok(Command::Ea {
                role: role(line, name)?,
                wrong,
                original,
                version,
            })
        }
        ">mac" => {
            let (header, data) = rest.split_first().ok_or(ParseError {
                line,
                message: ">mac needs a command header".into(),
            })?;
            Ok(Command::Mac {
                header: fixed(line, "header", header)?,
                data: bytes(line, &data.concat())?,
                wrong,
            })
        }
        ">reload" => match rest.as_slice() {
            ["-"] => Ok(Command::Reload { pin: None, wrong }),
            [digits] if Pin::new(digits).is_ok() => Ok(Command::Reload {
                pin: Some((*digits).to_owned()),
                wrong,
            }),
            _ => err(line, ">reload needs a PIN of 4 to 16 digits or `-`"),
        },
        other => err(line, format!("unknown command directive {other:?}")),
    }
}

fn parse_expect(line: usize, directive: &str, args: &str) -> Result<Expect, ParseError> {
    match directive {
        "<" => {
            let patterns = parse_hex(line, args, true)?;
            if patterns.len() < 2 {
                return err(line, "a response has at least SW1 SW2");
            }
            Ok(Expect::Exact(patterns))
        }
        "<sw" => {
            let sw: [u8; 2] = fixed(line, "sw", args)?;
            Ok(Expect::Sw(u16::from_be_bytes(sw)))
        }
        "<ia" if args.trim().is_empty() => Ok(Expect::Ia),
        "<ia" => err(line, "<ia takes no arguments"),
        other => err(line, format!("unknown response directive {other:?}")),
    }
}

/// Parses a scenario file.
fn parse(text: &str) -> Result<Vec<Step>, ParseError> {
    // join continuation lines (indented, starting with a hex digit or `?`) to the line above
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default();
        if line.trim().is_empty() {
            continue;
        }
        let continues = line.starts_with([' ', '\t'])
            && line
                .trim_start()
                .starts_with(|c: char| c.is_ascii_hexdigit() || c == '?');
        match lines.last_mut() {
            Some((_, previous)) if continues => {
                previous.push(' ');
                previous.push_str(line.trim());
            }
            _ if continues => return err(i + 1, "a continuation line without a line to continue"),
            _ => lines.push((i + 1, line.trim().to_owned())),
        }
    }
    let mut steps = Vec::new();
    let mut pending: Option<(usize, Command)> = None;
    for (line, text) in lines {
        let (directive, args) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim()),
            None => (text.as_str(), ""),
        };
        if directive.starts_with('<') {
            let Some((at, command)) = pending.take() else {
                return err(line, "a response without a command");
            };
            steps.push(Step::Exchange {
                line: at,
                command,
                expect: parse_expect(line, directive, args)?,
            });
            continue;
        }
        if let Some((at, _)) = pending {
            return err(at, "a command without its response line");
        }
        match directive {
            "@card" => steps.push(Step::Card(parse_card(line, args)?)),
            "@reset" if args.is_empty() => steps.push(Step::Reset),
            "@auth" => steps.push(Step::Auth {
                line,
                role: role(line, args)?,
            }),
            d if d.starts_with('>') => pending = Some((line, parse_command(line, d, args)?)),
            other => return err(line, format!("unknown directive {other:?}")),
        }
    }
    if let Some((at, _)) = pending {
        return err(at, "a command without its response line");
    }
    if !matches!(steps.first(), Some(Step::Card(_)) | None) {
        return err(1, "the first step must be @card");
    }
    Ok(steps)
}

// ---------------------------------------------------------------------------------------------
// Running a scenario
// ---------------------------------------------------------------------------------------------

fn persons_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/persons")
}

fn default_person(generation: Generation) -> &'static str {
    match generation {
        Generation::V1 => "li-si-1",
        Generation::V2 => "zhang-san-2",
        Generation::V3 => "wang-wu-3",
    }
}

/// Builds the card of an `@card` line: made blank by the "manufacturer" with the test keys,
/// then (set-up only, not part of what the scenario checks) personalized, activated and blocked
/// with the library; powered afresh.
fn build(setup: &CardSetup) -> Result<(SimCard, CardSpec), String> {
    let region = setup.region.parse().map_err(|e| format!("{e}"))?;
    let mut spec = CardSpec::new(setup.generation, setup.algorithm, region, setup.serial)
        .with_card_serial(setup.card_serial);
    if !setup.t0 {
        spec = spec.with_t1();
    }
    if let Some(pan) = &setup.financial {
        let app = FinancialApp::debit(pan, FINANCIAL_EXPIRY).map_err(|e| e.to_string())?;
        spec = spec.with_financial(app);
    }
    if let Some(areas) = &setup.areas {
        let national = sscard::sim::DataAreas::national();
        spec = spec.with_data_areas(match areas.as_str() {
            "health" => national.with_health(),
            _ => national,
        });
    }
    let mut sim = blank_sim_of(spec.clone());
    if setup.state != State::Blank {
        let stem = setup
            .person
            .clone()
            .unwrap_or_else(|| default_person(setup.generation).to_owned());
        let text = std::fs::read_to_string(persons_dir().join(format!("{stem}.json")))
            .map_err(|e| format!("person {stem}: {e}"))?;
        let data = PersonRecord::from_json(&text)
            .and_then(|r| r.validate())
            .map_err(|e| format!("person {stem}: {e}"))?;
        let mut card = Card::open(SimTransport::new(sim)).map_err(|e| e.to_string())?;
        let mut keys = test_keys();
        lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default())
            .map_err(|e| format!("personalize: {e}"))?;
        if setup.state == State::Activated {
            let new = Pin::new(ACTIVATED_PIN).map_err(|e| e.to_string())?;
            lifecycle::activate(&mut card, &new, &ActivateOptions::default())
                .map_err(|e| format!("activate: {e}"))?;
        }
        match setup.block {
            Block::None => Ok(()),
            Block::Application => lifecycle::block_application(&mut card, &mut keys),
            Block::Card => lifecycle::block_card(&mut card, &mut keys),
        }
        .map_err(|e| format!("block: {e}"))?;
        sim = card.into_transport().into_card();
    }
    sim.reset();
    sim.seed_rng(setup.seed);
    Ok((sim, spec))
}

/// The card under test and what the directives need to compute cryptograms.
struct Runner {
    sim: SimCard,
    spec: CardSpec,
    challenge: Option<Vec<u8>>,
    internal: Option<([u8; 8], [u8; 8])>,
}

fn hex_upper(b: &[u8]) -> String {
    hex::encode_upper(b)
}

fn render(patterns: &[Pattern]) -> String {
    patterns
        .iter()
        .map(|p| match p {
            Pattern::Byte(b) => format!("{b:02X}"),
            Pattern::Any => "??".into(),
        })
        .collect()
}

impl Runner {
    /// The bytes of a command (cryptograms from the test keys and the last challenge).
    fn command(&self, command: &Command) -> Vec<u8> {
        // without a challenge the cryptograms are computed for 00…00; a challenge longer than
        // a block (16 bytes on a 3DES card, which refuses it, D7) for its first block
        let mut challenge = self.challenge.clone().unwrap_or_else(|| vec![0; 8]);
        challenge.truncate(self.spec.algorithm.block_len());
        match command {
            Command::Raw(bytes) => bytes.clone(),
            Command::Ea {
                role,
                wrong,
                original,
                version,
            } => {
                let mut apdu = external_auth_apdu(&self.spec, *role, &challenge, *original);
                if *wrong {
                    apdu[5] ^= 0x01;
                }
                if let Some(v) = version {
                    apdu[4] += 1;
                    apdu.push(*v);
                }
                apdu
            }
            Command::Mac {
                header,
                data,
                wrong,
            } => {
                let alg = self.spec.algorithm;
                let stk = card_key(&self.spec, KeyRole::Stkssse);
                let session = crypto::process_key(alg, &stk, &challenge).unwrap();
                let [cla, ins, p1, p2] = *header;
                let input = sscard::apdu::commands::mac_input(cla, ins, p1, p2, data);
                let mut mac = crypto::mac(alg, &session, &input).unwrap();
                if *wrong {
                    mac[0] ^= 0x01;
                }
                let mut body = data.clone();
                body.extend_from_slice(&mac);
                with_lc(*header, &body)
            }
            Command::Reload { pin, wrong } => {
                let header = [0x84, 0x24, 0x00, 0x01];
                let mut apdu = match pin {
                    Some(digits) => secured_apdu(
                        &self.spec,
                        &challenge,
                        header,
                        Some(&Pin::new(digits).unwrap()),
                    ),
                    None => {
                        // the empty PIN: LD = 00 (part 5 §6.8.3)
                        let alg = self.spec.algorithm;
                        let stk = card_key(&self.spec, KeyRole::Stkssse);
                        let session = crypto::process_key(alg, &stk, &challenge).unwrap();
                        let data = crypto::encipher_data(alg, &session, &[]).unwrap().to_vec();
                        let input =
                            sscard::apdu::commands::mac_input(0x84, 0x24, 0x00, 0x01, &data);
                        let mac = crypto::mac(alg, &session, &input).unwrap();
                        let mut body = data;
                        body.extend_from_slice(&mac);
                        with_lc(header, &body)
                    }
                };
                if *wrong {
                    let last = apdu.len() - 1;
                    apdu[last] ^= 0x01;
                }
                apdu
            }
        }
    }

    /// Sends `command`; remembers challenges and INTERNAL AUTHENTICATION inputs.
    fn send(&mut self, command: &[u8]) -> Vec<u8> {
        let response = self.sim.handle(command);
        if command.get(1) == Some(&0x84) && response.ends_with(&[0x90, 0x00]) {
            self.challenge = Some(response[..response.len() - 2].to_vec());
        }
        if command.get(1) == Some(&0x88) && command.len() >= 21 {
            let pf = command[5..13].try_into().unwrap();
            let original = command[13..21].try_into().unwrap();
            self.internal = Some((pf, original));
        }
        response
    }

    fn expected_ia(&self) -> Result<Vec<u8>, String> {
        let (pf, original) = self
            .internal
            .ok_or("<ia without an INTERNAL AUTHENTICATION command before it")?;
        let irk = card_key(&self.spec, KeyRole::Irk);
        let mut out = crypto::authenticate(self.spec.algorithm, &irk, &pf, &original)
            .map_err(|e| e.to_string())?
            .to_vec();
        out.extend_from_slice(&[0x90, 0x00]);
        Ok(out)
    }
}

/// What a scenario run did.
#[derive(Debug, Default)]
struct Outcome {
    exchanges: usize,
    cards: usize,
    failures: Vec<String>,
}

/// Runs the scenario `text` (named `name` in messages).
fn run(name: &str, text: &str) -> Outcome {
    let mut outcome = Outcome::default();
    let steps = match parse(text) {
        Ok(steps) => steps,
        Err(e) => {
            outcome.failures.push(format!("{name}:{e}"));
            return outcome;
        }
    };
    let mut runner: Option<Runner> = None;
    for step in steps {
        match step {
            Step::Card(setup) => match build(&setup) {
                Ok((sim, spec)) => {
                    outcome.cards += 1;
                    runner = Some(Runner {
                        sim,
                        spec,
                        challenge: None,
                        internal: None,
                    });
                }
                Err(e) => {
                    outcome
                        .failures
                        .push(format!("{name}: @card {setup:?}: {e}"));
                    return outcome;
                }
            },
            Step::Reset => {
                if let Some(r) = runner.as_mut() {
                    r.sim.reset();
                    r.challenge = None;
                }
            }
            Step::Auth { line, role } => {
                let Some(r) = runner.as_mut() else { continue };
                let challenge = r.send(&[0x00, 0x84, 0x00, 0x00, 0x08]);
                let ea = r.command(&Command::Ea {
                    role,
                    wrong: false,
                    original: [0x4F; 8],
                    version: None,
                });
                let answer = r.send(&ea);
                outcome.exchanges += 2;
                if !challenge.ends_with(&[0x90, 0x00]) || answer != [0x90, 0x00] {
                    outcome.failures.push(format!(
                        "{name}:{line}: @auth {role}: GET CHALLENGE {}, EXTERNAL AUTHENTICATION {}",
                        hex_upper(&challenge),
                        hex_upper(&answer)
                    ));
                }
            }
            Step::Exchange {
                line,
                command,
                expect,
            } => {
                let Some(r) = runner.as_mut() else { continue };
                let apdu = r.command(&command);
                let response = r.send(&apdu);
                outcome.exchanges += 1;
                let (ok, wanted) = match &expect {
                    Expect::Exact(patterns) => (
                        patterns.len() == response.len()
                            && patterns.iter().zip(&response).all(|(p, b)| match p {
                                Pattern::Byte(x) => x == b,
                                Pattern::Any => true,
                            }),
                        render(patterns),
                    ),
                    Expect::Sw(sw) => (
                        response.len() >= 2 && sw_of(&response) == *sw,
                        format!("… {sw:04X}"),
                    ),
                    Expect::Ia => match r.expected_ia() {
                        Ok(expected) => (response == expected, hex_upper(&expected)),
                        Err(e) => (false, e),
                    },
                };
                if !ok {
                    outcome.failures.push(format!(
                        "{name}:{line}: > {}\n    expected {wanted}\n    got      {}",
                        hex_upper(&apdu),
                        hex_upper(&response)
                    ));
                }
            }
        }
    }
    outcome
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "scn"))
        .collect();
    files.sort();
    files
}

/// Every scenario file passes; each sets up at least one card and exchanges APDUs.
#[test]
fn every_scenario_file_passes() {
    let files = scenario_files();
    let mut failures = Vec::new();
    let mut total = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let outcome = run(&name, &text);
        if outcome.cards == 0 || outcome.exchanges == 0 {
            failures.push(format!("{name}: no card or no exchange"));
        }
        total += outcome.exchanges;
        failures.extend(outcome.failures);
    }
    assert!(
        failures.is_empty(),
        "{} failing step(s) of {total}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(files.len() >= 10, "{} scenario files", files.len());
    assert!(total >= 300, "{total} exchanges in all");
}

// ---------------------------------------------------------------------------------------------
// The runner itself: a wrong expectation fails, syntax errors are caught
// ---------------------------------------------------------------------------------------------

/// A scenario whose expectations are wrong fails, at the right lines; `??` and `<sw` match
/// what they should.
#[test]
fn a_wrong_expectation_fails_at_its_line() {
    let text = "\
@card generation=2 algorithm=sm4 protocol=t1
> 00A404000F 7378312E73682EC9E7BBE1B1A3D5CF 00
< 6F19 840F 7378312E73682EC9E7BBE1B1A3D5CF A506 9F0C03 860103  9000
> 0084000008
< ???????? ???????? 9000
> 0084000008
<sw 9000
> 00B2012812
< 0110 639900 D156000005 00000001 FFFFFFFF 9001
> 0084000004
< ?? 9000
";
    let outcome = run("inline", text);
    assert_eq!(outcome.exchanges, 5);
    assert_eq!(outcome.failures.len(), 2, "{:?}", outcome.failures);
    assert!(
        outcome.failures[0].starts_with("inline:8:"),
        "{}",
        outcome.failures[0]
    );
    assert!(
        outcome.failures[1].starts_with("inline:10:"),
        "{}",
        outcome.failures[1]
    );
}

/// The crypto directives compute what the card accepts, and their `wrong` forms what it
/// refuses: a broken directive would fail here rather than silently in the files.
#[test]
fn crypto_directives_are_accepted_and_their_wrong_forms_refused() {
    for algorithm in ["3des", "sm4", "aes"] {
        let text = format!(
            "\
@card generation=3 algorithm={algorithm} state=personalized protocol=t1
> 00A404000F 7378312E73682EC9E7BBE1B1A3D5CF
<sw 9000
> 0084000008
<sw 9000
>ea PUK wrong
< 63C2
> 0084000008
<sw 9000
>ea PUK
< 9000
> 0084000008
<sw 9000
>reload 2468 wrong
< 6988
> 0084000008
<sw 9000
>reload 2468
< 9000
> 0020000002 2468
< 9000
> 0088000010 0102030405060708 1112131415161718
<ia
"
        );
        let outcome = run(algorithm, &text);
        assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
        assert_eq!(outcome.exchanges, 11);
    }
}

#[test]
fn syntax_errors_name_their_line() {
    for (text, line, what) in [
        ("> 00A40400\n< 9000\n", 1, "@card"),
        ("@card generation=2\n>\n< 9000\n", 2, "empty command"),
        (
            "@card generation=2\n> 00A40400\n",
            2,
            "without its response",
        ),
        (
            "@card generation=2\n> 00A40400\n> 00A40400\n< 9000\n",
            2,
            "without its response",
        ),
        ("@card generation=2\n< 9000\n", 2, "without a command"),
        ("@card generation=4\n", 1, "generation"),
        ("@card generation=2 colour=red\n", 1, "unknown key"),
        ("@card generation=2\n> 00A4040G\n< 9000\n", 2, "hex"),
        ("@card generation=2\n> 00A404??\n< 9000\n", 2, "??"),
        ("@card generation=2\n>ea FOO\n< 9000\n", 2, "role"),
        ("@card generation=2\n>reload 12\n< 9000\n", 2, "PIN"),
        ("@card generation=2\n@frobnicate\n", 2, "unknown directive"),
        ("@card generation=2 block=card\n", 1, "personalized"),
    ] {
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(what), "{text:?}: {e}");
    }
}
