//! The bad-input catalogue: cards that answer garbage, operations refused before they write,
//! person data that is wrong, key files and card images that are broken or unsafe, PC/SC that is
//! not there. Each case asserts the exact error a terminal operator gets and, for card cases,
//! that nothing was written to the card.
//!
//! The card cases talk to a real simulated card through a reader that replaces exactly one of
//! its answers (or every answer to one kind of command), so each case differs from a working
//! card in one place. (Bad CSV files are catalogued with the command line, in
//! crates/sscard-cli/tests.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::apdu::StatusWord;
use sscard::data::{DataError, PersonRecord};
use sscard::keys::{KeyFileError, KeyRole, RootKeys};
use sscard::lifecycle::{self, ActivateOptions, Card, PersonalizeOptions, ReadOptions};
use sscard::profile::{self, Ef, Generation};
use sscard::sim::{CardImage, SimCard, SimError, SimTransport};
use sscard::transport::{Transport, TransportError};
use sscard::{Algorithm, Error};

// ---------------------------------------------------------------------------------------------
// a reader that tampers with one answer
// ---------------------------------------------------------------------------------------------

type Matcher = Box<dyn Fn(&[u8]) -> bool>;
type Rewrite = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, TransportError>>;

/// The simulated card behind a reader that rewrites the answer to the `nth` command matching
/// `target` (every matching command when `nth` is `None`). Every command reaches the card; the
/// reader records them.
struct Tamper {
    inner: SimTransport<SimCard>,
    target: Matcher,
    nth: Option<usize>,
    rewrite: Rewrite,
    seen: usize,
    sent: Vec<Vec<u8>>,
}

impl Transport for Tamper {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.push(command.to_vec());
        let response = self.inner.transmit(command)?;
        if (self.target)(command) {
            let hit = self.nth.is_none_or(|n| n == self.seen);
            self.seen += 1;
            if hit {
                return (self.rewrite)(&response);
            }
        }
        Ok(response)
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

/// Which command's answer to change.
struct At {
    target: Matcher,
    nth: Option<usize>,
}

/// The first command with this INS.
fn ins(ins: u8) -> At {
    At {
        target: Box::new(move |c| c.get(1) == Some(&ins)),
        nth: Some(0),
    }
}

/// The `n`-th (0-based) command with this INS.
fn ins_nth(ins: u8, n: usize) -> At {
    At {
        target: Box::new(move |c| c.get(1) == Some(&ins)),
        nth: Some(n),
    }
}

/// Every command with this INS.
fn every(ins: u8) -> At {
    At {
        target: Box::new(move |c| c.get(1) == Some(&ins)),
        nth: None,
    }
}

/// The first READ RECORD of data item `tag` (by SFI, as the library reads).
fn item(tag: u8) -> At {
    At {
        target: Box::new(move |c| c.get(1) == Some(&0xB2) && c.get(2) == Some(&tag)),
        nth: Some(0),
    }
}

/// The `n`-th READ RECORD of data item `tag`.
fn item_nth(tag: u8, n: usize) -> At {
    At {
        target: Box::new(move |c| c.get(1) == Some(&0xB2) && c.get(2) == Some(&tag)),
        nth: Some(n),
    }
}

/// The answer `data ‖ 9000`.
fn ok(data: &[u8]) -> Result<Vec<u8>, TransportError> {
    let mut out = data.to_vec();
    out.extend_from_slice(&[0x90, 0x00]);
    Ok(out)
}

/// A record `tag len value ‖ 9000`.
fn record(tag: u8, value: &[u8]) -> Result<Vec<u8>, TransportError> {
    let mut r = vec![tag, value.len() as u8];
    r.extend_from_slice(value);
    ok(&r)
}

fn sw(sw: u16) -> Result<Vec<u8>, TransportError> {
    Ok(sw.to_be_bytes().to_vec())
}

fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

/// The card of the card cases: SM4, T=1, ATR serial `BAD00001`.
fn spec(generation: Generation) -> sscard::sim::CardSpec {
    card_spec(generation, Algorithm::Sm4, [0xBA, 0xD0, 0x00, 0x01]).with_t1()
}

fn tampered(
    sim: SimCard,
    at: At,
    rewrite: impl Fn(&[u8]) -> Result<Vec<u8>, TransportError> + 'static,
) -> Card<Tamper> {
    Card::open(Tamper {
        inner: SimTransport::new(sim),
        target: at.target,
        nth: at.nth,
        rewrite: Box::new(rewrite),
        seen: 0,
        sent: Vec::new(),
    })
    .unwrap()
}

/// Instructions that change a card: UPDATE RECORD/BINARY, CHANGE PIN, PIN CHANGE/UNBLOCK,
/// APPLICATION BLOCK, CARD BLOCK.
const WRITES: [u8; 6] = [0xDC, 0xD6, 0x5E, 0x24, 0x1E, 0x16];

fn writes(sent: &[Vec<u8>]) -> Vec<String> {
    sent.iter()
        .filter(|c| c.get(1).is_some_and(|i| WRITES.contains(i)))
        .map(hex::encode_upper)
        .collect()
}

/// One card case: what went in, what must come out.
struct Case {
    name: &'static str,
    result: Result<(), Error>,
    sent: Vec<Vec<u8>>,
}

fn read_case(
    name: &'static str,
    generation: Generation,
    at: At,
    rewrite: impl Fn(&[u8]) -> Result<Vec<u8>, TransportError> + 'static,
) -> Case {
    let mut card = tampered(personalized_sim_of(spec(generation)), at, rewrite);
    let result = lifecycle::read(&mut card).map(|_| ());
    Case {
        name,
        result,
        sent: card.into_transport().sent,
    }
}

fn verified_case(
    name: &'static str,
    generation: Generation,
    at: At,
    rewrite: impl Fn(&[u8]) -> Result<Vec<u8>, TransportError> + 'static,
) -> Case {
    let mut card = tampered(personalized_sim_of(spec(generation)), at, rewrite);
    let result =
        lifecycle::read_verified(&mut card, &mut test_keys(), &ReadOptions::default()).map(|_| ());
    Case {
        name,
        result,
        sent: card.into_transport().sent,
    }
}

fn personalize_case(
    name: &'static str,
    at: At,
    rewrite: impl Fn(&[u8]) -> Result<Vec<u8>, TransportError> + 'static,
) -> Case {
    let mut card = tampered(blank_sim_of(spec(Generation::V2)), at, rewrite);
    let result = lifecycle::personalize(
        &mut card,
        &mut test_keys(),
        &person(Generation::V2),
        &PersonalizeOptions::default(),
    )
    .map(|_| ());
    Case {
        name,
        result,
        sent: card.into_transport().sent,
    }
}

fn data_field(e: &Error) -> Option<&'static str> {
    match e {
        Error::Data(d) => d.field(),
        _ => None,
    }
}

fn malformed(e: &Error, command: &str, reason: &str) -> bool {
    matches!(e, Error::MalformedResponse { command: c, reason: r } if *c == command && r.contains(reason))
}

fn card_sw(e: &Error, command: &str, status: StatusWord) -> bool {
    matches!(e, Error::Card { command: c, sw } if *c == command && *sw == status)
}

/// Runs the cases: each must fail with the error `check` accepts and send no write.
/// What the error of a case must be.
type Expected<'a> = &'a dyn Fn(&Error) -> bool;

fn check_all(cases: Vec<(Case, Expected<'_>)>) -> usize {
    let n = cases.len();
    for (case, check) in cases {
        let e = case
            .result
            .err()
            .unwrap_or_else(|| panic!("{}: no error", case.name));
        assert!(check(&e), "{}: unexpected error {e:?}", case.name);
        assert!(!e.to_string().is_empty());
        assert_eq!(
            writes(&case.sent),
            Vec::<String>::new(),
            "{}: a write was sent",
            case.name
        );
    }
    n
}

// ---------------------------------------------------------------------------------------------
// reading: SELECT and transmission
// ---------------------------------------------------------------------------------------------

#[test]
fn select_and_transmission() {
    use Generation::V2;
    let fci_without = |alg: &str| {
        h(&format!(
            "6F19840F7378312E73682EC9E7BBE1B1A3D5CFA5069F0C038601{alg}"
        ))
    };
    let n = check_all(vec![
        (
            read_case("SELECT answers nothing", V2, ins(0xA4), |_| Ok(vec![])),
            &|e| matches!(e, Error::Apdu(_)),
        ),
        (
            read_case("SELECT answers one byte", V2, ins(0xA4), |_| Ok(vec![0x90])),
            &|e| matches!(e, Error::Apdu(_)),
        ),
        (
            read_case("SELECT: no SSSE (6A82)", V2, ins(0xA4), |_| sw(0x6A82)),
            &|e| matches!(e, Error::NotSocialSecurityCard),
        ),
        (
            read_case("SELECT: application blocked (9303)", V2, ins(0xA4), |_| {
                sw(0x9303)
            }),
            &|e| matches!(e, Error::ApplicationBlocked),
        ),
        (
            read_case("SELECT: card blocked (6A81)", V2, ins(0xA4), |_| sw(0x6A81)),
            &|e| matches!(e, Error::CardBlocked),
        ),
        (
            read_case("SELECT: unexpected 6F00", V2, ins(0xA4), |_| sw(0x6F00)),
            &|e| card_sw(e, "SELECT SSSE", StatusWord::NoPreciseDiagnosis),
        ),
        (
            read_case("SELECT: FCI cut short", V2, ins(0xA4), |r| ok(&r[..12])),
            &|e| {
                matches!(
                    e,
                    Error::MalformedResponse {
                        command: "SELECT SSSE",
                        ..
                    }
                )
            },
        ),
        (
            read_case("SELECT: the FCI names another DF", V2, ins(0xA4), |_| {
                ok(&h("6F12 8408 A000000333010101 A5069F0C03860103"))
            }),
            &|e| malformed(e, "SELECT SSSE", "names DF"),
        ),
        (
            read_case(
                "SELECT: FCI announces SSF33 (02)",
                V2,
                ins(0xA4),
                move |_| ok(&fci_without("02")),
            ),
            &|e| matches!(e, Error::UnsupportedAlgorithm(_)),
        ),
        (
            read_case(
                "SELECT: FCI announces algorithm 77",
                V2,
                ins(0xA4),
                move |_| ok(&fci_without("77")),
            ),
            &|e| matches!(e, Error::UnsupportedAlgorithm(_)),
        ),
        (
            read_case("READ RECORD: the card pulled", V2, item(0x08), |_| {
                Err(TransportError::CardRemoved)
            }),
            &|e| matches!(e, Error::Transport(TransportError::CardRemoved)),
        ),
        (
            read_case("READ RECORD: the reader times out", V2, item(0x02), |_| {
                Err(TransportError::Timeout)
            }),
            &|e| matches!(e, Error::Transport(TransportError::Timeout)),
        ),
        (
            read_case("READ RECORD: 6Cxx twice", V2, every(0xB2), |_| sw(0x6C06)),
            &|e| card_sw(e, "READ RECORD EF05", StatusWord::WrongLe(6)),
        ),
        (
            read_case(
                "READ RECORD: answered 6982 on a 2.0 card",
                V2,
                item(0x09),
                |_| sw(0x6982),
            ),
            &|e| card_sw(e, "READ RECORD EF06", StatusWord::SecurityNotSatisfied),
        ),
        (
            read_case("READ RECORD: answered 9303", V2, item(0x05), |_| sw(0x9303)),
            &|e| matches!(e, Error::ApplicationBlocked),
        ),
    ]);
    assert_eq!(n, 15);

    // T=0: a card that announces data (61xx) without end
    let t0 = card_spec(V2, Algorithm::Sm4, [0xBA, 0xD0, 0x00, 0x02]);
    let mut card = tampered(personalized_sim_of(t0), every(0xC0), |_| sw(0x611B));
    assert!(matches!(
        lifecycle::read(&mut card),
        Err(Error::EndlessResponse)
    ));
    let sent = card.into_transport().sent;
    assert!(sent.len() <= 40, "{} commands", sent.len());
}

// ---------------------------------------------------------------------------------------------
// reading: the records
// ---------------------------------------------------------------------------------------------

#[test]
fn card_issuing_data() {
    use Generation::V2;
    let n = check_all(vec![
        (
            read_case("EF05 01: the record cut short", V2, item(0x01), |r| {
                ok(&r[..r.len() - 3])
            }),
            &|e| malformed(e, "READ RECORD EF05", ""),
        ),
        (
            read_case(
                "EF05 01: a card identification code of 15 bytes",
                V2,
                item(0x01),
                |_| record(0x01, &h("639900D156000005BAD00001FFFFFF")),
            ),
            &|e| malformed(e, "READ RECORD EF05", "15 bytes, not 16"),
        ),
        (
            read_case("EF05 01: not D156000005", V2, item(0x01), |_| {
                record(0x01, &h("639900D156000006BAD00001FFFFFFFF"))
            }),
            &|e| data_field(e) == Some("card_id"),
        ),
        (
            read_case("EF05 01: a region of A nibbles", V2, item(0x01), |_| {
                record(0x01, &h("6399A0D156000005BAD00001FFFFFFFF"))
            }),
            &|e| data_field(e) == Some("card_id"),
        ),
        (
            read_case("EF05 01: all 00", V2, item(0x01), |_| {
                record(0x01, &[0; 16])
            }),
            &|e| matches!(e, Error::Blank(_)),
        ),
        (
            read_case("EF05 01: absent", V2, item(0x01), |_| sw(0x6A83)),
            &|e| matches!(e, Error::Blank(_)),
        ),
        (
            read_case("EF05 01: the card answers tag 02", V2, item(0x01), |_| {
                record(0x02, b"3")
            }),
            &|e| malformed(e, "READ RECORD EF05", "asked for tag 01"),
        ),
        (
            read_case("EF05 03: two records", V2, item(0x03), |_| {
                ok(&h("0304322E3030 0201 33"))
            }),
            &|e| malformed(e, "READ RECORD EF05", "2 records"),
        ),
        (
            read_case("EF05 03: length byte past the data", V2, item(0x03), |_| {
                ok(&h("0306322E3030"))
            }),
            &|e| malformed(e, "READ RECORD EF05", ""),
        ),
        (
            read_case("EF05 03: tag 00", V2, item(0x03), |_| {
                ok(&h("0004322E3030"))
            }),
            &|e| malformed(e, "READ RECORD EF05", ""),
        ),
        (
            read_case("EF05 03: spec version X.00", V2, item(0x03), |_| {
                record(0x03, b"X.00")
            }),
            &|e| data_field(e) == Some("spec_version"),
        ),
        (
            read_case("EF05 03: spec version 4.00", V2, item(0x03), |_| {
                record(0x03, b"4.00")
            }),
            &|e| data_field(e) == Some("spec_version"),
        ),
        (
            read_case("EF05 03: absent", V2, item(0x03), |_| sw(0x6A83)),
            &|e| matches!(e, Error::Blank(_)),
        ),
        (
            read_case("EF05 02: card type A", V2, item(0x02), |_| {
                record(0x02, b"A")
            }),
            &|e| data_field(e) == Some("card_type"),
        ),
        (
            read_case(
                "EF05 04: a nibble A in the initializing body",
                V2,
                item(0x04),
                |_| record(0x04, &h("91560000026399006399000A")),
            ),
            &|e| data_field(e) == Some("initializing_body"),
        ),
        (
            read_case("EF05 05: issue date 2015-13-32", V2, item(0x05), |_| {
                record(0x05, &h("20151332"))
            }),
            &|e| data_field(e) == Some("issue_date"),
        ),
        (
            read_case("EF05 06: expiry date of F nibbles", V2, item(0x06), |_| {
                record(0x06, &h("FFFFFFFF"))
            }),
            &|e| data_field(e) == Some("expiry_date"),
        ),
        (
            read_case(
                "EF05 07: a card number in lower case with a dash",
                V2,
                item(0x07),
                |_| record(0x07, b"kd55-7890"),
            ),
            &|e| data_field(e) == Some("card_number"),
        ),
        (
            read_case("EF05 07: eight characters", V2, item(0x07), |_| {
                record(0x07, b"KD557890")
            }),
            &|e| data_field(e) == Some("card_number"),
        ),
        (
            // the card number is written last: without it, the personalization was interrupted
            read_case("EF05 07: absent", V2, item(0x07), |_| sw(0x6A83)),
            &|e| matches!(e, Error::PersonalizationIncomplete),
        ),
    ]);
    assert_eq!(n, 20);
}

#[test]
fn holder_data() {
    use Generation::{V1, V2};
    let n = check_all(vec![
        (
            read_case("EF06 08: wrong SSN check digit", V2, item(0x08), |_| {
                record(0x08, b"111111198101011111")
            }),
            &|e| data_field(e) == Some("ssn"),
        ),
        (
            read_case("EF06 08: letters in the SSN", V2, item(0x08), |_| {
                record(0x08, b"11111119810101ABCD")
            }),
            &|e| data_field(e) == Some("ssn"),
        ),
        (
            read_case("EF06 08: all 00 (not personalized)", V2, item(0x08), |_| {
                record(0x08, &[0; 18])
            }),
            &|e| data_field(e) == Some("ssn"),
        ),
        (
            read_case("EF06 09: bytes that are not GBK", V2, item(0x09), |_| {
                let mut v = vec![0xFF, 0xFF, 0x80, 0x80];
                v.resize(30, 0);
                record(0x09, &v)
            }),
            &|e| data_field(e) == Some("name"),
        ),
        (
            read_case("EF06 09: all 00", V2, item(0x09), |_| {
                record(0x09, &[0; 30])
            }),
            &|e| data_field(e) == Some("name"),
        ),
        (
            read_case("EF06 4E: not GBK", V2, item(0x4E), |_| {
                let mut v = vec![0x81, 0x20];
                v.resize(20, 0);
                record(0x4E, &v)
            }),
            &|e| data_field(e) == Some("name"),
        ),
        (
            read_case("EF06 0A: sex 7", V2, item(0x0A), |_| record(0x0A, b"7")),
            &|e| data_field(e) == Some("sex"),
        ),
        (
            read_case("EF06 0B: ethnicity 99", V2, item(0x0B), |_| {
                record(0x0B, &[0x99])
            }),
            &|e| data_field(e) == Some("ethnicity"),
        ),
        (
            read_case("EF06 0C: birthplace 000000", V2, item(0x0C), |_| {
                record(0x0C, &[0, 0, 0])
            }),
            &|e| data_field(e) == Some("birthplace"),
        ),
        (
            read_case("EF06 0D: birth date 1981-02-30", V2, item(0x0D), |_| {
                record(0x0D, &h("19810230"))
            }),
            &|e| data_field(e) == Some("birth_date"),
        ),
        (
            read_case("EF06 0D: absent", V2, item(0x0D), |_| sw(0x6A83)),
            &|e| {
                matches!(
                    e,
                    Error::Data(DataError::Missing {
                        field: "birth_date",
                        ..
                    })
                )
            },
        ),
        (
            read_case("EF06: every record absent", V2, every(0xB2), |r| {
                // EF05 as it is, EF06 absent
                if r.first()
                    .is_some_and(|t| [0x08, 0x09, 0x4E, 0x0A, 0x0B, 0x0C, 0x0D].contains(t))
                {
                    sw(0x6A83)
                } else {
                    Ok(r.to_vec())
                }
            }),
            &|e| matches!(e, Error::Blank(_)),
        ),
        (
            read_case("EF06 09 on a 1.0 card: 31 bytes", V1, item(0x09), |_| {
                record(0x09, &[0xB0; 31])
            }),
            &|e| data_field(e) == Some("name") && e.to_string().contains("31 bytes"),
        ),
    ]);
    assert_eq!(n, 13);
}

// ---------------------------------------------------------------------------------------------
// reading with a key holder: INTERNAL and EXTERNAL AUTHENTICATION
// ---------------------------------------------------------------------------------------------

#[test]
fn authentication_answers() {
    use Generation::{V2, V3};
    let n = check_all(vec![
        (
            verified_case("INTERNAL AUTHENTICATION: one bit off", V2, ins(0x88), |r| {
                let mut r = r.to_vec();
                r[3] ^= 0x10;
                Ok(r)
            }),
            &|e| matches!(e, Error::NotGenuine),
        ),
        (
            verified_case("INTERNAL AUTHENTICATION: 7 bytes", V2, ins(0x88), |r| {
                ok(&r[..7])
            }),
            &|e| malformed(e, "INTERNAL AUTHENTICATION", "7 bytes instead of 8"),
        ),
        (
            verified_case("INTERNAL AUTHENTICATION: 6A88", V2, ins(0x88), |_| {
                sw(0x6A88)
            }),
            &|e| card_sw(e, "INTERNAL AUTHENTICATION", StatusWord::ReferenceNotFound),
        ),
        (
            verified_case(
                "INTERNAL AUTHENTICATION: FCI without 9F0C on an SM4 card",
                V2,
                ins(0xA4),
                |_| {
                    // reader interface §10.1: DES is assumed; the card computes with SM4
                    ok(&h("6F13840F7378312E73682EC9E7BBE1B1A3D5CFA500"))
                },
            ),
            &|e| matches!(e, Error::NotGenuine),
        ),
        (
            verified_case("GET CHALLENGE: 4 bytes instead of 8", V3, ins(0x84), |r| {
                ok(&r[..4])
            }),
            &|e| malformed(e, "GET CHALLENGE", "asked for 8 bytes, got 4"),
        ),
        (
            verified_case("GET CHALLENGE: 6985", V3, ins(0x84), |_| sw(0x6985)),
            &|e| card_sw(e, "GET CHALLENGE", StatusWord::ConditionsNotSatisfied),
        ),
        (
            verified_case("EXTERNAL AUTHENTICATION: 63C1", V3, ins(0x82), |_| {
                sw(0x63C1)
            }),
            &|e| {
                matches!(
                    e,
                    Error::AuthenticationFailed {
                        role: KeyRole::Rkssse,
                        tries_left: 1
                    }
                )
            },
        ),
        (
            verified_case("EXTERNAL AUTHENTICATION: 6983", V3, ins(0x82), |_| {
                sw(0x6983)
            }),
            &|e| {
                matches!(
                    e,
                    Error::KeyLocked {
                        role: KeyRole::Rkssse
                    }
                )
            },
        ),
        (
            verified_case("EXTERNAL AUTHENTICATION: 6984", V3, ins(0x82), |_| {
                sw(0x6984)
            }),
            &|e| {
                card_sw(
                    e,
                    "EXTERNAL AUTHENTICATION",
                    StatusWord::InvalidReferenceData,
                )
            },
        ),
        (
            verified_case(
                "EXTERNAL AUTHENTICATION: 9000 but EF06 then 6982",
                V3,
                item(0x08),
                |_| sw(0x6982),
            ),
            &|e| card_sw(e, "READ RECORD EF06", StatusWord::SecurityNotSatisfied),
        ),
    ]);
    assert_eq!(n, 10);

    // a 3.0 card read without a key holder stops before EF06
    let mut card = tampered(personalized_sim_of(spec(V3)), ins(0xFF), |r| Ok(r.to_vec()));
    assert!(matches!(
        lifecycle::read(&mut card),
        Err(Error::ReadKeyRequired)
    ));
    let sent = card.into_transport().sent;
    assert!(
        sent.iter().all(|c| !(c[1] == 0xB2 && c[3] == 0x30)),
        "no READ RECORD of EF06"
    );
}

// ---------------------------------------------------------------------------------------------
// personalization: refused before any write, and stopped before the card number
// ---------------------------------------------------------------------------------------------

#[test]
fn personalization_answers() {
    // before any write
    let n = check_all(vec![
        (
            personalize_case(
                "card identification code of region 519900",
                item(0x01),
                |_| record(0x01, &h("519900D156000005BAD00001FFFFFFFF")),
            ),
            &|e| matches!(e, Error::RegionMismatch { .. }),
        ),
        (
            personalize_case(
                "a card number is there: another person's",
                item(0x07),
                |_| record(0x07, b"X00000019"),
            ),
            &|e| matches!(e, Error::AlreadyPersonalized { card_number } if card_number == "X00000019"),
        ),
        (
            personalize_case("the card number answer is garbage", item(0x07), |_| {
                record(0x07, &[0xFF; 9])
            }),
            &|e| matches!(e, Error::AlreadyPersonalized { .. }),
        ),
        (
            personalize_case("the card number read fails", item(0x07), |_| sw(0x6F00)),
            &|e| card_sw(e, "READ RECORD EF05", StatusWord::NoPreciseDiagnosis),
        ),
        (
            personalize_case("PUK: 63C2", ins(0x82), |_| sw(0x63C2)),
            &|e| {
                matches!(
                    e,
                    Error::AuthenticationFailed {
                        role: KeyRole::Puk,
                        tries_left: 2
                    }
                )
            },
        ),
        (
            personalize_case("PUK: locked", ins(0x82), |_| sw(0x6983)),
            &|e| matches!(e, Error::KeyLocked { role: KeyRole::Puk }),
        ),
        (
            personalize_case(
                "the challenge for the PIN reload is 2 bytes",
                ins_nth(0x84, 1),
                |r| ok(&r[..2]),
            ),
            &|e| malformed(e, "GET CHALLENGE", "got 2"),
        ),
    ]);
    assert_eq!(n, 7);

    // after the PIN reload, before the data: no UPDATE RECORD
    let updates = |sent: &[Vec<u8>]| sent.iter().filter(|c| c[1] == 0xDC).count();
    let case = personalize_case("PIN RELOAD: 6988", ins(0x24), |_| sw(0x6988));
    assert!(matches!(
        case.result,
        Err(Error::Card {
            command: "PIN RELOAD",
            sw: StatusWord::WrongMac
        })
    ));
    assert_eq!(updates(&case.sent), 0);
    let case = personalize_case("UKSSSE: 63C1", ins_nth(0x82, 1), |_| sw(0x63C1));
    assert!(matches!(
        case.result,
        Err(Error::AuthenticationFailed {
            role: KeyRole::Ukssse,
            tries_left: 1
        })
    ));
    assert_eq!(updates(&case.sent), 0);

    // a write that fails stops the personalization before the card number (written last, D15)
    let case = personalize_case("UPDATE RECORD: memory failure", ins_nth(0xDC, 3), |_| {
        sw(0x6581)
    });
    assert!(
        matches!(
            case.result,
            Err(Error::Card {
                command: "UPDATE RECORD EF06",
                sw: StatusWord::MemoryFailure
            })
        ),
        "{:?}",
        case.result
    );
    assert_eq!(updates(&case.sent), 4);
    assert!(
        case.sent.iter().all(|c| !(c[1] == 0xDC && c[2] == 0x07)),
        "no card number written"
    );

    // the read-back catches a card that stored something else, or nothing
    let case = personalize_case("read-back: another name", item_nth(0x09, 0), |r| {
        let mut r = r.to_vec();
        r[2] ^= 0x01;
        Ok(r)
    });
    assert!(
        matches!(&case.result, Err(Error::ReadBackMismatch(m)) if m.contains("name (09) differs")),
        "{:?}",
        case.result
    );
    let case = personalize_case("read-back: the SSN missing", item_nth(0x08, 0), |_| {
        sw(0x6A83)
    });
    assert!(
        matches!(&case.result, Err(Error::ReadBackMismatch(m)) if m.contains("ssn (08) is missing")),
        "{:?}",
        case.result
    );
    // the card number read after the writes: the second READ RECORD of 07
    let case = personalize_case(
        "read-back: the card number changed",
        item_nth(0x07, 1),
        |_| record(0x07, b"X00000019"),
    );
    assert!(matches!(&case.result, Err(Error::ReadBackMismatch(m)) if m.contains("card_number")));
}

/// Refusals before the card is even spoken to.
#[test]
fn refused_before_talking_to_the_card() {
    let mut card = recorded(personalized_sim(Generation::V2, Algorithm::Sm4, SERIAL));
    let mut keys = test_keys();
    // activation: the initial PIN again, weak PINs
    assert!(matches!(
        lifecycle::activate_verified(
            &mut card,
            &mut keys,
            &pin("123456"),
            &ActivateOptions::default()
        ),
        Err(Error::InitialPin)
    ));
    for weak in ["000000", "111111", "123456789", "654321"] {
        assert!(
            matches!(
                lifecycle::activate_verified(
                    &mut card,
                    &mut keys,
                    &pin(weak),
                    &ActivateOptions::default()
                ),
                Err(Error::WeakPin)
            ),
            "{weak}"
        );
    }
    // the transparent files only
    assert!(matches!(
        lifecycle::read_binary_file(&mut card, &mut keys, Ef::Ef05),
        Err(Error::MalformedResponse {
            command: "READ BINARY",
            ..
        })
    ));
    assert!(card.channel().transport().log.is_empty(), "nothing sent");

    // in a write session: a value of the wrong length, bytes past the end of a file
    let mut session = card.authenticate_for_update(&mut keys).unwrap();
    let sent_before = session.card().channel().transport().log.len();
    let number = profile::element(Generation::V2, profile::tag::CARD_NUMBER).unwrap();
    assert!(matches!(
        session.write_item(number, b"KD55789"),
        Err(Error::MalformedResponse {
            command: "UPDATE RECORD",
            ..
        })
    ));
    assert!(session.write_binary(Ef::Ef07, 0x2FF, &[1, 2]).is_err());
    assert!(session.write_binary(Ef::Ef06, 0, &[1]).is_err());
    assert_eq!(session.card().channel().transport().log.len(), sent_before);

    // PINs that are not 4 to 16 digits never become a Pin
    for bad in ["", "123", "12a456", "12345678901234567", "１２３４５６"] {
        assert!(sscard::crypto::Pin::new(bad).is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// person records
// ---------------------------------------------------------------------------------------------

#[test]
fn person_records() {
    let base = include_str!("../fixtures/persons/zhang-san-2.json");
    let json_cases: [(&str, String); 6] = [
        ("not JSON", "{\"ssn\": ".into()),
        ("an array", "[]".into()),
        (
            "a misspelt field",
            base.replace("\"birthplace\"", "\"birth_place\""),
        ),
        (
            "the old person_id field",
            base.replace("\"region\"", "\"person_id\": \"P1\", \"region\""),
        ),
        (
            "a field missing",
            base.replace("\"ssn\": \"111111198101011110\",", ""),
        ),
        (
            "a boolean for the sex",
            base.replace("\"sex\": \"1\"", "\"sex\": true"),
        ),
    ];
    for (what, text) in &json_cases {
        assert!(
            matches!(PersonRecord::from_json(text), Err(DataError::Json(_))),
            "{what}"
        );
    }
    type Change = fn(&mut PersonRecord);
    let field_cases: [(&str, Change); 10] = [
        ("ssn", |r| r.ssn = "1111111981010111".into()),
        ("name", |r| r.name = "张\u{0}三".into()),
        ("sex", |r| r.sex = "female".into()),
        ("ethnicity", |r| r.ethnicity = "火星族".into()),
        ("birthplace", |r| r.birthplace = "ABCDEF".into()),
        ("birth_date", |r| r.birth_date = "1981-01-01".into()),
        ("card_number", |r| r.card_number = "KD557890你".into()),
        ("generation", |r| r.generation = "2.5".into()),
        ("expiry_date", |r| r.expiry_date = "20150710".into()),
        ("initializing_body", |r| {
            r.initializing_body = "9156 0000".into()
        }),
    ];
    for (field, change) in field_cases {
        let mut r = PersonRecord::from_json(base).unwrap();
        change(&mut r);
        let e = r.validate().unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// key files and card images
// ---------------------------------------------------------------------------------------------

#[test]
fn key_file_contents() {
    let good: serde_json::Value = serde_json::from_str(TEST_KEYS).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_string()
    };
    type Check = fn(&KeyFileError) -> bool;
    // a role named twice in one section: JSON keeps the last silently, a key file must not
    // (issue 13 item 16)
    let doubled = {
        let text = good.to_string();
        let at = text.find("\"IRK\":").unwrap();
        format!(
            "{}\"IRK\":\"2222222222222222222222222222222222\",{}",
            &text[..at],
            &text[at..]
        )
    };
    let cases: Vec<(&str, String, Check)> = vec![
        (
            "a key role named twice",
            doubled,
            |e| matches!(e, KeyFileError::Structure(m) if m.contains("\"IRK\" appears twice")),
        ),
        ("the version-1 file", LEGACY_V1_KEYS.into(), |e| {
            *e == KeyFileError::VersionOne
        }),
        ("not JSON", "{\"format\":".into(), |e| {
            matches!(e, KeyFileError::Json(_))
        }),
        ("version 3", with(&|v| v["version"] = 3.into()), |e| {
            matches!(
                e,
                KeyFileError::Unsupported {
                    version: Some(3),
                    ..
                }
            )
        }),
        (
            "another format",
            with(&|v| v["format"] = "sscard-card-image".into()),
            |e| matches!(e, KeyFileError::Unsupported { .. }),
        ),
        (
            "no roots",
            with(&|v| {
                v.as_object_mut().unwrap().remove("roots");
            }),
            |e| matches!(e, KeyFileError::Structure(_)),
        ),
        (
            "an unknown algorithm",
            with(&|v| v["roots"]["des40"] = serde_json::json!({})),
            |e| matches!(e, KeyFileError::Structure(m) if m.contains("des40")),
        ),
        (
            "an unknown role",
            with(&|v| v["roots"]["sm4"]["MK"] = "00".repeat(16).into()),
            |e| matches!(e, KeyFileError::Structure(m) if m.contains("MK")),
        ),
        (
            "an SM4 key of 15 bytes",
            with(&|v| v["roots"]["sm4"]["IRK"] = "11".repeat(15).into()),
            |e| {
                matches!(
                    e,
                    KeyFileError::Key {
                        role: KeyRole::Irk,
                        len: 16,
                        ..
                    }
                )
            },
        ),
        (
            "a 3DES STKSSSE of 16 bytes (single DES, D2)",
            with(&|v| v["roots"]["3des"]["STKSSSE"] = "22".repeat(16).into()),
            |e| {
                matches!(
                    e,
                    KeyFileError::Key {
                        role: KeyRole::Stkssse,
                        len: 8,
                        ..
                    }
                )
            },
        ),
        (
            "a key that is not hex",
            with(&|v| v["roots"]["sm4"]["PUK"] = "ZZ".repeat(16).into()),
            |e| {
                matches!(
                    e,
                    KeyFileError::Key {
                        role: KeyRole::Puk,
                        ..
                    }
                )
            },
        ),
        (
            "a key that is a number",
            with(&|v| v["roots"]["sm4"]["BK"] = 7.into()),
            |e| {
                matches!(
                    e,
                    KeyFileError::Key {
                        role: KeyRole::Bk,
                        ..
                    }
                )
            },
        ),
    ];
    for (what, text, check) in &cases {
        let e = RootKeys::from_json(text).unwrap_err();
        assert!(check(&e), "{what}: {e:?}");
        assert!(
            !e.to_string().contains("2222222222"),
            "{what}: key bytes in {e}"
        );
        assert!(
            !e.to_string().contains("1111111111"),
            "{what}: key bytes in {e}"
        );
    }
    assert_eq!(cases.len(), 12);
}

#[cfg(unix)]
#[test]
fn key_file_on_disk() {
    use sscard::keyfile::load_key_file;
    use sscard::keys::KeyFileError as FileError;
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("sscard-bad-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str, mode: u32| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    };
    type Check = fn(&FileError) -> bool;
    let cases: Vec<(&str, std::path::PathBuf, Check)> = vec![
        (
            "readable by others",
            write("open.json", TEST_KEYS, 0o644),
            |e| matches!(e, FileError::NotPrivate { mode: 0o644, .. }),
        ),
        (
            "readable by the group",
            write("group.json", TEST_KEYS, 0o640),
            |e| matches!(e, FileError::NotPrivate { .. }),
        ),
        ("missing", dir.join("absent.json"), |e| {
            matches!(
                e,
                FileError::Unreadable {
                    kind: std::io::ErrorKind::NotFound,
                    ..
                }
            )
        }),
        (
            "the version-1 file",
            write("v1.json", LEGACY_V1_KEYS, 0o600),
            |e| {
                matches!(
                    e,
                    FileError::InFile { source, .. } if **source == KeyFileError::VersionOne
                )
            },
        ),
    ];
    for (what, path, check) in &cases {
        let e = load_key_file(path).unwrap_err();
        assert!(check(&e), "{what}: {e:?}");
        assert!(
            !e.to_string().contains("F3FFECCA"),
            "{what}: key bytes in {e}"
        );
    }
    // the message says what to do, and names the file
    let e = load_key_file(&cases[0].1).unwrap_err();
    assert!(e.to_string().contains("chmod 600"), "{e}");
    let e = load_key_file(&cases[3].1).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("key file {}: ", cases[3].1.display())),
        "{e}"
    );
    // a terminal's function returning sscard::Result takes it with `?`
    let load =
        |path: &std::path::Path| -> sscard::Result<sscard::KeyFile> { Ok(load_key_file(path)?) };
    assert!(matches!(
        load(&cases[2].1),
        Err(Error::KeyFile(FileError::Unreadable { .. }))
    ));
    // and a good file loads
    assert!(load_key_file(&write("good.json", TEST_KEYS, 0o600)).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn card_images() {
    let good = personalized_sim(Generation::V2, Algorithm::Sm4, SERIAL)
        .save_json()
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&good).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        f(&mut v);
        v.to_string()
    };
    type Check = fn(&SimError) -> bool;
    let cases: Vec<(&str, String, Check)> = vec![
        (
            "version 1",
            r#"{"format":1,"chip_serial":"00BF7C7A","files":{},"generation":"2.0"}"#.into(),
            |e| matches!(e, SimError::VersionOne),
        ),
        ("cut short", good[..good.len() / 2].to_owned(), |e| {
            matches!(e, SimError::Json(_))
        }),
        (
            "a PSAM image",
            with(&|v| v["format"] = "sscard-psam-image".into()),
            |e| matches!(e, SimError::Unsupported { .. }),
        ),
        (
            "T8-T9 not the region",
            with(&|v| v["region"] = "519900".into()),
            |e| matches!(e, SimError::InvalidImage(m) if m.contains("T8-T9")),
        ),
        (
            "a PIN with a letter",
            with(&|v| v["pin"]["value"] = "12A456".into()),
            |e| matches!(e, SimError::InvalidImage(m) if m.contains("PIN")),
        ),
        (
            "tries above the maximum",
            with(&|v| v["pin"]["tries_left"] = 9.into()),
            |e| matches!(e, SimError::InvalidImage(m) if m.contains("counter")),
        ),
        (
            "a record longer than its item",
            with(&|v| v["ef05"][1] = "0202 3333".replace(' ', "").into()),
            |e| matches!(e, SimError::InvalidImage(m) if m.contains("the item has 1")),
        ),
        (
            "a key of the wrong length",
            with(&|v| v["keys"]["IRK"]["value"] = "00".repeat(8).into()),
            |e| matches!(e, SimError::InvalidImage(m) if m.contains("IRK")),
        ),
        (
            "an unknown field",
            with(&|v| v["app_state"] = "activated".into()),
            |e| matches!(e, SimError::Json(_)),
        ),
    ];
    for (what, text, check) in &cases {
        let e = SimCard::load_json(text).unwrap_err();
        assert!(check(&e), "{what}: {e:?}");
        assert!(CardImage::from_json(text).is_err());
    }
    assert_eq!(cases.len(), 9);
}

// ---------------------------------------------------------------------------------------------
// PC/SC not there
// ---------------------------------------------------------------------------------------------

#[test]
fn no_pcscd_says_so() {
    // a socket where no pcscd listens: pcsc-lite answers "no service"
    std::env::set_var("PCSCLITE_CSOCK_NAME", "/nonexistent/sscard/pcscd.comm");
    let e = sscard::pcsc::Pcsc::new()
        .list_readers()
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, TransportError::NoService), "{e:?}");
    assert!(e.to_string().contains("is pcscd running?"), "{e}");
}
