//! The bad-input catalogue: cards that answer garbage, person data that is wrong, key files that
//! are unsafe or broken, PC/SC that is not there. Each case asserts the exact error and that
//! nothing was written to the card (the fake card records every command it receives).
//!
//! Card responses come from a real session with the simulated card, recorded and replayed with
//! one response corrupted at a time, so every case differs from a working card in one place.
//! (Bad CSV files are catalogued with the command line, in crates/sscard-cli/tests.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::VecDeque;

use common::*;
use sscard::apdu::StatusWord;
use sscard::data::{DataError, PersonRecord};
use sscard::lifecycle::{self, Card, PersonalizeOptions, ReadOptions};
use sscard::profile::Generation;
use sscard::sim::{SimCard, SimTransport};
use sscard::transport::{Transport, TransportError};
use sscard::Algorithm;
use sscard::Error;

/// A card that answers from a script, recording what it was sent.
struct Scripted {
    atr: Vec<u8>,
    answers: VecDeque<Result<Vec<u8>, TransportError>>,
    sent: Vec<Vec<u8>>,
}

impl Transport for Scripted {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.push(command.to_vec());
        self.answers
            .pop_front()
            .unwrap_or_else(|| Err(TransportError::Protocol("script exhausted".into())))
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(self.atr.clone())
    }
    fn reset_epoch(&self) -> u64 {
        0
    }
}

/// A transport that records every (command, response) pair of a real session.
struct Tape<T> {
    inner: T,
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl<T: Transport> Transport for Tape<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let response = self.inner.transmit(command)?;
        self.pairs.push((command.to_vec(), response.clone()));
        Ok(response)
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

/// A recorded read of a personalized card of `generation` (3DES): the ATR and the responses in
/// order (without a key holder: SELECT, EF05, EF06; with one, + INTERNAL AUTHENTICATE, and on
/// 3.0 GET CHALLENGE and EXTERNAL AUTHENTICATE first).
fn recorded_read(generation: Generation, key_holder: bool) -> (Vec<u8>, Vec<Vec<u8>>) {
    let card = personalized_card(generation, Algorithm::Tdes, [0xBA, 0xD0, 0x00, 0x01]);
    let mut sim: SimCard = card.into_transport().inner.into_card();
    sim.reset();
    let atr = sim.atr();
    let tape = Tape {
        inner: SimTransport::new(sim),
        pairs: Vec::new(),
    };
    let mut card = Card::open(tape).unwrap();
    let mut keys = test_keys();
    let kh: Option<&mut dyn sscard::keyholder::KeyHolder> =
        if key_holder { Some(&mut keys) } else { None };
    lifecycle::read(&mut card, kh, &ReadOptions::default()).unwrap();
    let pairs = card.into_transport().pairs;
    (atr, pairs.into_iter().map(|(_, r)| r).collect())
}

fn scripted(atr: Vec<u8>, answers: Vec<Vec<u8>>) -> Card<Scripted> {
    Card::open(Scripted {
        atr,
        answers: answers.into_iter().map(Ok).collect(),
        sent: Vec::new(),
    })
    .unwrap()
}

/// Replaces the value of record `tag` in a concatenation of SIMPLE-TLV records + SW.
fn patch(response: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
    let (body, sw) = response.split_at(response.len() - 2);
    let mut out = Vec::new();
    let mut rest = body;
    while rest.len() >= 2 {
        let (t, len) = (rest[0], rest[1] as usize);
        let v = &rest[2..2 + len];
        out.push(t);
        if t == tag {
            out.push(value.len() as u8);
            out.extend_from_slice(value);
        } else {
            out.push(len as u8);
            out.extend_from_slice(v);
        }
        rest = &rest[2 + len..];
    }
    out.extend_from_slice(sw);
    out
}

/// Reads a 2.0 card whose `index`-th response is replaced by `f(original)`.
fn read_with(index: usize, f: impl Fn(&[u8]) -> Vec<u8>) -> (Result<(), Error>, Vec<Vec<u8>>) {
    let (atr, mut answers) = recorded_read(Generation::V2, false);
    answers[index] = f(&answers[index]);
    let mut card = scripted(atr, answers);
    let result = lifecycle::read(&mut card, None, &ReadOptions::default()).map(|_| ());
    let sent = card.into_transport().sent;
    (result, sent)
}

/// Nothing the terminal sent was a write (UPDATE RECORD, PIN change, block...).
fn no_writes(sent: &[Vec<u8>]) {
    for c in sent {
        let ins = c.get(1).copied().unwrap_or(0);
        assert!(
            ![0xDC, 0x5E, 0x24, 0x1E, 0x18, 0x16, 0x44, 0x04].contains(&ins),
            "a write was sent: {}",
            hex::encode_upper(c)
        );
    }
}

fn data_field(e: &Error) -> Option<&'static str> {
    match e {
        Error::Data(d) => d.field(),
        _ => None,
    }
}

const EF05: usize = 1;
const EF06: usize = 2;

// ---------------------------------------------------------------------------------------------
// card responses

#[test]
fn card_responses() {
    let mut cases = 0;
    let mut case = |name: &str,
                    (result, sent): (Result<(), Error>, Vec<Vec<u8>>),
                    ok: &dyn Fn(&Error) -> bool| {
        let e = result.expect_err(name);
        assert!(ok(&e), "{name}: unexpected error {e:?}");
        no_writes(&sent);
        cases += 1;
    };

    case("SELECT answers nothing", read_with(0, |_| vec![]), &|e| {
        matches!(e, Error::Apdu(_))
    });
    case(
        "SELECT answers one byte",
        read_with(0, |_| vec![0x90]),
        &|e| matches!(e, Error::Apdu(_)),
    );
    case(
        "SELECT: no SSSE on this card",
        read_with(0, |_| vec![0x6A, 0x82]),
        &|e| matches!(e, Error::NotSocialSecurityCard),
    );
    case(
        "SELECT: card blocked",
        read_with(0, |_| vec![0x93, 0x03]),
        &|e| matches!(e, Error::CardBlocked),
    );
    case(
        "SELECT: FCI truncated",
        read_with(0, |r| {
            let mut t = r[..10].to_vec();
            t.extend_from_slice(&[0x90, 0x00]);
            t
        }),
        &|e| matches!(e, Error::MalformedResponse { .. }),
    );
    case(
        "SELECT: FCI announces SSF33",
        read_with(0, |_| hex::decode("9F0C038601029000").unwrap()),
        &|e| matches!(e, Error::UnsupportedAlgorithm(_)),
    );
    case(
        "SELECT: FCI announces an unknown algorithm",
        read_with(0, |_| hex::decode("9F0C038601779000").unwrap()),
        &|e| matches!(e, Error::UnsupportedAlgorithm(_)),
    );
    case(
        "SELECT: unexpected status word",
        read_with(0, |_| vec![0x6F, 0x00]),
        &|e| {
            matches!(
                e,
                Error::Card {
                    sw: StatusWord::NoPreciseDiagnosis,
                    ..
                }
            )
        },
    );
    case(
        "EF05: records truncated",
        read_with(EF05, |r| {
            let mut t = r[..r.len() - 6].to_vec();
            t.extend_from_slice(&[0x90, 0x00]);
            t
        }),
        &|e| matches!(e, Error::MalformedResponse { .. }),
    );
    case(
        "EF05: tag 00 in the records",
        read_with(EF05, |r| {
            let mut t = vec![0x00, 0x01, 0x00];
            t.extend_from_slice(r);
            t
        }),
        &|e| matches!(e, Error::MalformedResponse { .. }),
    );
    case(
        "EF05: card identification code 15 bytes",
        read_with(EF05, |r| {
            patch(
                r,
                0x01,
                &hex::decode("639900D15600000500BF7C7A48FB49").unwrap(),
            )
        }),
        &|e| matches!(e, Error::MalformedResponse { .. }) || data_field(e) == Some("card_id"),
    );
    case(
        "EF05: card identification code without D156000005",
        read_with(EF05, |r| {
            patch(
                r,
                0x01,
                &hex::decode("639900D15600000600BADD000148FB4966").unwrap()[..16],
            )
        }),
        &|e| data_field(e) == Some("card_id"),
    );
    case(
        "EF05: spec version X.00",
        read_with(EF05, |r| patch(r, 0x03, b"X.00")),
        &|e| data_field(e) == Some("spec_version"),
    );
    case(
        "EF05: issue date 2023-13-45",
        read_with(EF05, |r| patch(r, 0x05, &[0x20, 0x23, 0x13, 0x45])),
        &|e| data_field(e) == Some("issue_date"),
    );
    case(
        "EF05: expiry date with a non-digit nibble",
        read_with(EF05, |r| patch(r, 0x06, &[0x20, 0x3A, 0x07, 0x11])),
        &|e| data_field(e) == Some("expiry_date"),
    );
    case(
        "EF05: card number with a control character",
        read_with(EF05, |r| patch(r, 0x07, b"KD55\x0178904")),
        &|e| data_field(e) == Some("card_number"),
    );
    case(
        "EF05: card number record missing",
        read_with(EF05, |r| {
            let (body, sw) = r.split_at(r.len() - 2);
            let cut = body.len() - 11; // tag 07 is the last record: 07 09 + 9 bytes
            let mut t = body[..cut].to_vec();
            t.extend_from_slice(sw);
            t
        }),
        &|e| data_field(e) == Some("card_number"),
    );
    case(
        "EF05: unexpected status word",
        read_with(EF05, |_| vec![0x65, 0x81]),
        &|e| {
            matches!(
                e,
                Error::Card {
                    sw: StatusWord::MemoryFailure,
                    ..
                }
            )
        },
    );
    case(
        "EF05: application blocked",
        read_with(EF05, |_| vec![0x6A, 0x81]),
        &|e| matches!(e, Error::ApplicationBlocked),
    );
    case(
        "EF05: permanently blocked",
        read_with(EF05, |_| vec![0x93, 0x03]),
        &|e| matches!(e, Error::PermanentlyBlocked),
    );
    case(
        "EF05: 3.0-style refusal without a key holder",
        read_with(EF05, |_| vec![0x69, 0x82]),
        &|e| matches!(e, Error::ReadKeyRequired),
    );
    case(
        "EF05: chip serial is not this chip's",
        read_with(EF05, |r| {
            patch(
                r,
                0x01,
                &hex::decode("639900D156000005DEADBEEF48FB4966").unwrap(),
            )
        }),
        &|e| matches!(e, Error::CardIdForged),
    );
    case(
        "EF06: SSN check digit wrong",
        read_with(EF06, |r| patch(r, 0x08, b"111111198101011111")),
        &|e| data_field(e) == Some("ssn"),
    );
    case(
        "EF06: name is not GBK",
        read_with(EF06, |r| {
            let mut name = vec![0xFF, 0x20, 0x81];
            name.resize(30, 0);
            patch(r, 0x09, &name)
        }),
        &|e| data_field(e) == Some("name"),
    );
    case(
        "EF06: sex 7",
        read_with(EF06, |r| patch(r, 0x0A, b"7")),
        &|e| data_field(e) == Some("sex"),
    );
    case(
        "EF06: birthplace 2 bytes",
        read_with(EF06, |r| patch(r, 0x0C, &[0x11, 0x01])),
        &|e| data_field(e) == Some("birthplace"),
    );
    case(
        "EF06: SSN record missing",
        read_with(EF06, |r| {
            let (body, _) = r.split_at(r.len() - 2);
            let mut t = body[20..].to_vec(); // tag 08 is the first record: 08 12 + 18 bytes
            t.extend_from_slice(&[0x90, 0x00]);
            t
        }),
        &|e| data_field(e) == Some("ssn"),
    );
    case(
        "EF06: card removed",
        {
            let (atr, mut answers) = recorded_read(Generation::V2, false);
            answers.truncate(EF06);
            let mut card = Card::open(Scripted {
                atr,
                answers: answers
                    .into_iter()
                    .map(Ok)
                    .chain([Err(TransportError::CardRemoved)])
                    .collect(),
                sent: Vec::new(),
            })
            .unwrap();
            let r = lifecycle::read(&mut card, None, &ReadOptions::default()).map(|_| ());
            (r, card.into_transport().sent)
        },
        &|e| matches!(e, Error::Transport(TransportError::CardRemoved)),
    );
    case(
        "61xx without end",
        {
            let (atr, _) = recorded_read(Generation::V2, false);
            let mut card = scripted(atr, vec![vec![0x61, 0x10]; 64]);
            let r = lifecycle::read(&mut card, None, &ReadOptions::default()).map(|_| ());
            (r, card.into_transport().sent)
        },
        &|e| matches!(e, Error::EndlessResponse),
    );
    case(
        "6Cxx twice",
        {
            let (atr, answers) = recorded_read(Generation::V2, false);
            let mut first = answers;
            first[EF05] = vec![0x6C, 0x20];
            first.insert(EF05 + 1, vec![0x6C, 0x20]);
            let mut card = scripted(atr, first);
            let r = lifecycle::read(&mut card, None, &ReadOptions::default()).map(|_| ());
            (r, card.into_transport().sent)
        },
        &|e| {
            matches!(
                e,
                Error::Card {
                    sw: StatusWord::WrongLe(0x20),
                    ..
                }
            )
        },
    );

    // with a key holder: the card's answers to the authentication steps
    let read_kh_with = |index: usize, f: &dyn Fn(&[u8]) -> Vec<u8>, options: ReadOptions| {
        let (atr, mut answers) = recorded_read(Generation::V3, true);
        answers[index] = f(&answers[index]);
        let mut card = scripted(atr, answers);
        let r = lifecycle::read(&mut card, Some(&mut test_keys()), &options).map(|_| ());
        (r, card.into_transport().sent)
    };
    let read_kh =
        |index: usize, f: &dyn Fn(&[u8]) -> Vec<u8>| read_kh_with(index, f, ReadOptions::default());
    // 3.0 with a key holder: SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE, EF05, EF06, INTERNAL AUTHENTICATE
    case(
        "GET CHALLENGE answers 4 bytes for a 3DES card",
        read_kh(1, &|_| hex::decode("010203049000").unwrap()),
        &|e| matches!(e, Error::MalformedResponse { .. }),
    );
    case(
        "EXTERNAL AUTHENTICATE refused (6300)",
        read_kh(2, &|_| vec![0x63, 0x00]),
        &|e| matches!(e, Error::AuthenticationFailed { key: 0x0A }),
    );
    case(
        "INTERNAL AUTHENTICATE answer forged",
        read_kh(5, &|r| {
            let mut t = r.to_vec();
            t[0] ^= 0x01;
            t
        }),
        &|e| matches!(e, Error::NotGenuine),
    );
    case(
        "INTERNAL AUTHENTICATE answer too short",
        read_kh(5, &|r| {
            let mut t = r[..4].to_vec();
            t.extend_from_slice(&[0x90, 0x00]);
            t
        }),
        &|e| matches!(e, Error::NotGenuine),
    );
    case(
        "INTERNAL AUTHENTICATE answer replayed from another session",
        read_kh(5, &|r| r.to_vec()),
        &|e| matches!(e, Error::NotGenuine),
    );
    case(
        "card identification code MAC forged",
        read_kh_with(
            3,
            &|r| {
                let id = &r[2..18];
                let mut forged = id.to_vec();
                forged[15] ^= 0x55;
                patch(r, 0x01, &forged)
            },
            ReadOptions::default().with_verify_genuine(false),
        ),
        &|e| matches!(e, Error::CardIdForged),
    );

    println!("card-response cases: {cases}");
    assert!(cases >= 34);
}

#[test]
fn personalization_refused_before_any_write() {
    let data = person(Generation::V2);
    let refuse = |name: &str, fci: &str, expect: &dyn Fn(&Error) -> bool| {
        let atr = sscard::sim::atr_for([1, 2, 3, 4], false);
        let mut card = scripted(atr, vec![hex::decode(fci).unwrap()]);
        let r = lifecycle::personalize(
            &mut card,
            &mut test_keys(),
            &data,
            &PersonalizeOptions::default(),
        );
        let e = r.expect_err(name);
        assert!(expect(&e), "{name}: {e:?}");
        no_writes(&card.into_transport().sent);
    };
    refuse(
        "a temporarily blocked card",
        "6F25840F7378312E73682EC9E7BBE1B1A3D5CFA5129F0C03860101DF010103DF020101DF0301029000",
        &|e| matches!(e, Error::ApplicationBlocked),
    );
    refuse(
        "a 1.0 card for 2.0 data",
        "6F25840F7378312E73682EC9E7BBE1B1A3D5CFA5129F0C03860101DF010101DF020100DF0301019000",
        &|e| matches!(e, Error::WrongCard(_)),
    );
    refuse(
        "an SSF33 card",
        "6F25840F7378312E73682EC9E7BBE1B1A3D5CFA5129F0C03860102DF010101DF020100DF0301029000",
        &|e| matches!(e, Error::UnsupportedAlgorithm(_)),
    );
    refuse("an unreadable FCI", "6F25840F73789000", &|e| {
        matches!(e, Error::MalformedResponse { .. })
    });
}

// ---------------------------------------------------------------------------------------------
// person records (JSON)

#[test]
fn person_records() {
    let good = include_str!("../fixtures/persons/zhang-san-2.json");
    let json = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(good).unwrap();
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("empty file", String::new(), None),
        ("not JSON", "ssn=1".into(), None),
        ("UTF-8 BOM", format!("\u{feff}{good}"), None),
        (
            "missing field",
            json(&|v| {
                v.as_object_mut().unwrap().remove("ssn");
            }),
            None,
        ),
        (
            "unknown field (typo)",
            json(&|v| {
                v["nmae"] = "张三".into();
            }),
            None,
        ),
        (
            "name of the wrong type",
            json(&|v| v["name"] = 3.into()),
            None,
        ),
        (
            "impossible birth date",
            json(&|v| v["birth_date"] = "19810230".into()),
            Some("birth_date"),
        ),
        (
            "issue date 2023-02-29",
            json(&|v| v["issue_date"] = "20230229".into()),
            Some("issue_date"),
        ),
        (
            "name with a character outside GBK",
            json(&|v| v["name"] = "张三😀".into()),
            Some("name"),
        ),
        (
            "name too long",
            json(&|v| v["name"] = "张".repeat(26).into()),
            Some("name"),
        ),
        (
            "SSN check digit",
            json(&|v| v["ssn"] = "111111198101011111".into()),
            Some("ssn"),
        ),
        (
            "region code not a province",
            json(&|v| v["region"] = "999999".into()),
            Some("region"),
        ),
    ];
    for (name, text, field) in &cases {
        let result = PersonRecord::from_json(text).and_then(|r| r.validate().map(|_| ()));
        let e: DataError = result.expect_err(name);
        match field {
            Some(f) => assert_eq!(e.field(), Some(*f), "{name}: {e}"),
            None => assert!(matches!(e, DataError::Json(_)), "{name}: {e:?}"),
        }
    }
    assert!(cases.len() >= 12);
}

// ---------------------------------------------------------------------------------------------
// key files

#[test]
fn key_files() {
    use sscard::keyfile::{load_key_file, KeyFileError};
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("sscard-bad-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str, mode: u32| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    };
    let good = include_str!("../fixtures/keys/test-keys.json");
    type Check = fn(&KeyFileError) -> bool;
    let cases: Vec<(&str, std::path::PathBuf, Check)> = vec![
        ("readable by others", write("open.json", good, 0o644), |e| {
            matches!(e, KeyFileError::Permissions { .. })
        }),
        (
            "readable by the group",
            write("group.json", good, 0o640),
            |e| matches!(e, KeyFileError::Permissions { .. }),
        ),
        ("missing", dir.join("absent.json"), |e| {
            matches!(e, KeyFileError::Io { .. })
        }),
        ("not JSON", write("garbage.json", "{not json", 0o600), |e| {
            matches!(e, KeyFileError::Invalid { .. })
        }),
        (
            "a key of 15 bytes",
            write(
                "short.json",
                r#"{"algorithms":{"sm4":{"04":"00112233445566778899AABBCCDDEE"}}}"#,
                0o600,
            ),
            |e| matches!(e, KeyFileError::Invalid { .. }),
        ),
    ];
    for (name, path, ok) in &cases {
        let e = load_key_file(path).expect_err(name);
        assert!(ok(&e), "{name}: {e:?}");
        // the message never repeats key material
        assert!(!e.to_string().contains("00112233"), "{name}: {e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// PC/SC not there

#[test]
fn no_pcscd_says_so() {
    // a socket where no pcscd listens: pcsc-lite answers "no service"
    std::env::set_var("PCSCLITE_CSOCK_NAME", "/nonexistent/sscard/pcscd.comm");
    let result = sscard::pcsc::Pcsc::new().list_readers().map(|_| ());
    let e = result.expect_err("no pcscd");
    assert!(matches!(e, TransportError::NoService), "{e:?}");
    assert!(e.to_string().contains("is pcscd running?"), "{e}");
}
