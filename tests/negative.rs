//! Negative cases: what the card and the library refuse, and that refusing loses nothing.
//!
//! - wrong keys: EXTERNAL AUTHENTICATION counts down `63C2` `63C1` `63C0`, then `6983`; BK and
//!   STKSSSE failures are not counted (`63CF`, part 7 §13.1-13.2, [design] D4);
//! - a challenge serves one command: replayed cryptograms and MACs are refused (`6984`, `6988`,
//!   [design] D10, D13);
//! - a reset ends the card's security state and the library's [`AuthenticatedSession`];
//! - the PIN try counter is persistent (part 7 §5.8);
//! - invalid person data is refused field by field;
//! - the version-1 key file and card image of sscard before the specification are refused with
//!   a message saying so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use sscard::apdu::StatusWord;
use sscard::data::{DataError, PersonRecord};
use sscard::keyholder::KeyHolder;
use sscard::keys::{KeyFileError, KeyRole, RootKeys};
use sscard::lifecycle::{self, Card, PersonalizeOptions, PinStatus, ReadOptions};
use sscard::profile::{self, Generation};
use sscard::sim::{CardImage, SimCard, SimError, SimTransport};
use sscard::transport::{Transport, TransportError};
use sscard::{Algorithm, Error};

/// SELECT SSSE by name, raw.
const SELECT_SSSE: &str = "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00";

fn h(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

/// Sends raw bytes through the card's transport; the status word.
fn raw<T: Transport>(card: &mut Card<T>, apdu: &[u8]) -> u16 {
    sw_of(&card.raw().transport_mut().transmit(apdu).unwrap())
}

/// The try counter of `role` in the simulated card's image.
fn key_tries(card: &Card<SimTransport<SimCard>>, role: KeyRole) -> u8 {
    card.channel()
        .transport()
        .card()
        .image()
        .key(role)
        .unwrap()
        .tries_left
}

fn auth_failed(result: Result<(), Error>, role: KeyRole, tries: u8) -> bool {
    matches!(result, Err(Error::AuthenticationFailed { role: r, tries_left }) if r == role && tries_left == tries)
}

/// UKSSSE, PUK and (3.0) RKSSSE: three wrong cryptograms lock the key, then even the right
/// keys get `6983` (`KeyLocked`); the card's counter is persistent.
#[test]
fn wrong_keys_count_down_then_lock() {
    for algorithm in [Algorithm::Tdes, Algorithm::Sm4, Algorithm::Aes128] {
        for role in [KeyRole::Ukssse, KeyRole::Puk, KeyRole::Rkssse] {
            let what = format!("{algorithm} {role}");
            let mut card = personalized_card(Generation::V3, algorithm, SERIAL);
            let mut wrong = keys_with_wrong(&[role.name()]);
            for tries in [2, 1, 0] {
                let result = card.external_authenticate(&mut wrong, role);
                assert!(auth_failed(result, role, tries), "{what}");
                assert_eq!(key_tries(&card, role), tries, "{what}");
            }
            assert!(matches!(
                card.external_authenticate(&mut wrong, role),
                Err(Error::KeyLocked { role: r }) if r == role
            ));
            // locked for the right keys too, after a reset as well
            card.raw().transport_mut().power_cycle();
            assert!(matches!(
                card.external_authenticate(&mut test_keys(), role),
                Err(Error::KeyLocked { .. })
            ));
            // what the lock means to the operations
            let mut keys = test_keys();
            match role {
                KeyRole::Ukssse => assert!(matches!(
                    card.authenticate_for_update(&mut keys),
                    Err(Error::KeyLocked {
                        role: KeyRole::Ukssse
                    })
                )),
                KeyRole::Puk => assert!(matches!(
                    lifecycle::reload_pin(&mut card, &mut keys, &pin("2468")),
                    Err(Error::KeyLocked { role: KeyRole::Puk })
                )),
                _ => assert!(matches!(
                    lifecycle::read_verified(&mut card, &mut keys, &ReadOptions::default()),
                    Err(Error::KeyLocked {
                        role: KeyRole::Rkssse
                    })
                )),
            }
        }
    }
}

/// A success gives every try back ([design] D4): failures do not add up across sessions.
#[test]
fn a_success_restores_the_tries() {
    let mut card = personalized_card(Generation::V2, Algorithm::Sm4, SERIAL);
    let mut wrong = keys_with_wrong(&["UKSSSE"]);
    let mut right = test_keys();
    for _ in 0..3 {
        assert!(auth_failed(
            card.external_authenticate(&mut wrong, KeyRole::Ukssse),
            KeyRole::Ukssse,
            2
        ));
        assert!(auth_failed(
            card.external_authenticate(&mut wrong, KeyRole::Ukssse),
            KeyRole::Ukssse,
            1
        ));
        card.external_authenticate(&mut right, KeyRole::Ukssse)
            .unwrap();
        assert_eq!(key_tries(&card, KeyRole::Ukssse), 3);
    }
}

/// BK and STKSSSE failures are not counted (part 7 §13.1-13.2: "外部认证和 MAC 认证失败并不导致
/// 相应密钥锁定"): `63CF` however often, and the right key still works.
#[test]
fn bk_and_stkssse_failures_are_not_counted() {
    for algorithm in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut card = personalized_card(Generation::V2, algorithm, SERIAL);
        let mut wrong = keys_with_wrong(&["BK", "STKSSSE"]);
        for _ in 0..6 {
            for role in [KeyRole::Bk, KeyRole::Stkssse] {
                assert!(auth_failed(
                    card.external_authenticate(&mut wrong, role),
                    role,
                    15
                ));
            }
            // through the blocking operation: the card stays usable
            assert!(auth_failed(
                lifecycle::block_application(&mut card, &mut wrong),
                KeyRole::Bk,
                15
            ));
        }
        assert_eq!(key_tries(&card, KeyRole::Bk), 3);
        assert_eq!(key_tries(&card, KeyRole::Stkssse), 3);
        assert!(lifecycle::read(&mut card).is_ok());
        // a wrong STKSSSE MAC after a right PUK: 6988, the PIN unchanged, nothing counted
        let mut wrong_stk = keys_with_wrong(&["STKSSSE"]);
        assert!(matches!(
            lifecycle::reload_pin(&mut card, &mut wrong_stk, &pin("2468")),
            Err(Error::Card {
                command: "PIN RELOAD",
                sw: StatusWord::WrongMac
            })
        ));
        lifecycle::verify_pin(&mut card, &pin("123456")).unwrap();
        assert_eq!(key_tries(&card, KeyRole::Puk), 3);
        // the right BK and STKSSSE still block the card
        lifecycle::block_application(&mut card, &mut test_keys()).unwrap();
        assert!(matches!(
            lifecycle::read(&mut card),
            Err(Error::ApplicationBlocked)
        ));
    }
}

/// A card made with other root keys is not genuine (IRK), and its UKSSSE refuses the issuer's
/// key holder: a forged card cannot be personalized or read as genuine.
#[test]
fn forged_card_is_not_genuine() {
    let mut forged_keys = keys_with_wrong(&["IRK", "UKSSSE", "PUK"]);
    let spec = card_spec(Generation::V2, Algorithm::Sm4, SERIAL);
    let forged = SimCard::blank(spec, forged_keys.roots()).unwrap();
    let mut card = Card::open(SimTransport::new(forged)).unwrap();
    let mut issuer = test_keys();
    // the PIN reload with the issuer's PUK comes first in personalization
    assert!(matches!(
        lifecycle::personalize(
            &mut card,
            &mut issuer,
            &person(Generation::V2),
            &PersonalizeOptions::default()
        ),
        Err(Error::AuthenticationFailed {
            role: KeyRole::Puk,
            tries_left: 2
        })
    ));
    assert_eq!(card.channel().transport().card().image().ef05.len(), 1);
    lifecycle::personalize(
        &mut card,
        &mut forged_keys,
        &person(Generation::V2),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    assert!(matches!(
        lifecycle::read_verified(&mut card, &mut issuer, &ReadOptions::default()),
        Err(Error::NotGenuine)
    ));
    // without internal authentication the data reads, but nothing says it is genuine
    let unchecked = lifecycle::read_verified(
        &mut card,
        &mut issuer,
        &ReadOptions {
            internal_authentication: false,
        },
    )
    .unwrap();
    assert_eq!(unchecked.genuine, None);
}

/// Records a PIN reload, then replays its commands: the challenge was used up (`6984`), a new
/// challenge makes the old MAC wrong (`6988`) and the old cryptogram a failure (`63Cx`).
#[test]
fn replayed_cryptograms_and_macs_are_refused() {
    for algorithm in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut card = recorded(personalized_sim(Generation::V2, algorithm, SERIAL));
        lifecycle::reload_pin(&mut card, &mut test_keys(), &pin("2468")).unwrap();
        let log = card.channel().transport().log.clone();
        let ea = log
            .iter()
            .find(|e| e.ins() == 0x82)
            .unwrap()
            .command
            .clone();
        let reload = log
            .iter()
            .find(|e| e.ins() == 0x24)
            .unwrap()
            .command
            .clone();
        assert_eq!(log.last().unwrap().sw(), 0x9000);

        // the card's security state still holds PUK; the challenge is gone
        assert_eq!(raw(&mut card, &reload), 0x6984, "{algorithm}: MAC replay");
        assert_eq!(raw(&mut card, &ea), 0x6984, "{algorithm}: EA replay");
        // a fresh challenge: the old MAC is for another process key
        assert_eq!(raw(&mut card, &h("0084000008")), 0x9000);
        assert_eq!(raw(&mut card, &reload), 0x6988, "{algorithm}");
        // a fresh challenge: the old cryptogram is wrong for it and costs a try
        assert_eq!(raw(&mut card, &h("0084000008")), 0x9000);
        assert_eq!(raw(&mut card, &ea), 0x63C2, "{algorithm}");
        // the PIN is the reloaded one
        lifecycle::verify_pin(&mut card, &pin("2468")).unwrap();
        assert_eq!(
            lifecycle::pin_status(&mut card).unwrap(),
            PinStatus::Required { tries_left: 3 }
        );
    }
}

/// A challenge serves one EXTERNAL AUTHENTICATION: the same command twice fails the second
/// time with `6984`; selecting another DF drops an unused challenge (D10).
#[test]
fn a_challenge_serves_one_command() {
    let mut card = recorded(personalized_sim(Generation::V3, Algorithm::Sm4, SERIAL));
    let mut keys = test_keys();
    card.external_authenticate(&mut keys, KeyRole::Rkssse)
        .unwrap();
    let ea = card
        .channel()
        .transport()
        .log
        .iter()
        .rfind(|e| e.ins() == 0x82)
        .unwrap()
        .command
        .clone();
    assert_eq!(raw(&mut card, &ea), 0x6984);
    assert_eq!(raw(&mut card, &h("0084000008")), 0x9000);
    assert_eq!(raw(&mut card, &h("00A40000023F00")), 0x9000, "the MF");
    assert_eq!(
        sw_of(
            &card
                .raw()
                .transport_mut()
                .transmit(&h(SELECT_SSSE))
                .unwrap()
        ) >> 8,
        0x61
    );
    assert_eq!(
        raw(&mut card, &ea),
        0x6984,
        "the challenge went with the DF"
    );
    // and so did RKSSSE: EF06 is closed again
    assert_eq!(raw(&mut card, &h("00B2083014")), 0x6982);
}

/// Writes need UKSSSE: UPDATE RECORD without it is `6982` and changes nothing.
#[test]
fn write_without_authentication_is_refused() {
    let mut card = blank_card(Generation::V2, Algorithm::Tdes, SERIAL);
    assert_eq!(raw(&mut card, &h(SELECT_SSSE)) >> 8, 0x61);
    // UPDATE RECORD EF05 tag 07 (the card number)
    let mut update = h("00DC07280B0709");
    update.extend_from_slice(b"KD5578904");
    assert_eq!(raw(&mut card, &update), 0x6982);
    // with a RKSSSE authentication instead of UKSSSE
    card.external_authenticate(&mut test_keys(), KeyRole::Rkssse)
        .unwrap();
    assert_eq!(raw(&mut card, &update), 0x6982);
    assert_eq!(
        card.channel().transport().card().persistent_writes(),
        2,
        "two key counter writes of the RKSSSE authentication only"
    );
    assert_eq!(card.channel().transport().card().image().ef05.len(), 1);
}

/// A reset ends the card's security state: the library's authenticated session refuses to go
/// on (`CardReset`) and the card would refuse the write anyway.
#[test]
fn reset_invalidates_the_authenticated_session() {
    let mut card = personalized_card(Generation::V2, Algorithm::Sm4, SERIAL);
    let mut keys = test_keys();
    let spec = profile::element(Generation::V2, profile::tag::CARD_NUMBER).unwrap();
    let mut session = card.authenticate_for_update(&mut keys).unwrap();
    session.write_item(spec, b"KD5578904").unwrap();
    let writes = session
        .card()
        .channel()
        .transport()
        .card()
        .persistent_writes();
    session.card().raw().transport_mut().power_cycle();
    assert!(matches!(
        session.write_item(spec, b"X00000019"),
        Err(Error::CardReset)
    ));
    assert!(matches!(
        session.write_binary(sscard::profile::Ef::Ef07, 0, b"x"),
        Err(Error::CardReset)
    ));
    assert_eq!(
        card.channel().transport().card().persistent_writes(),
        writes,
        "nothing reached the card after the reset"
    );
    // the card forgot UKSSSE too
    assert_eq!(raw(&mut card, &h(SELECT_SSSE)) >> 8, 0x61);
    let mut update = h("00DC07280B0709");
    update.extend_from_slice(b"X00000019");
    assert_eq!(raw(&mut card, &update), 0x6982);
    assert_eq!(
        lifecycle::read(&mut card)
            .unwrap()
            .issuing
            .card_number
            .as_str(),
        "KD5578904"
    );
}

/// A reader whose card is reset by another program at the n-th command: the transport reports
/// it (as PC/SC does with `SCARD_W_RESET_CARD`) instead of sending the command.
struct ResetAt {
    inner: SimTransport<SimCard>,
    at: usize,
    sent: usize,
}

impl Transport for ResetAt {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent += 1;
        if self.sent == self.at {
            self.inner.power_cycle();
            return Err(TransportError::CardReset);
        }
        self.inner.transmit(command)
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

/// A reset by someone else in the middle of an operation: the operation starts over once from
/// SELECT and completes, whatever command the reset hit.
#[test]
fn an_operation_starts_over_once_after_a_foreign_reset() {
    let sim = personalized_sim(Generation::V3, Algorithm::Sm4, SERIAL);
    let fresh = || SimTransport::new(SimCard::from_image(sim.image().clone()).unwrap());
    // the undisturbed read: SELECT and GET RESPONSE, EF05, INTERNAL AUTHENTICATION, RKSSSE …
    let mut clean = Card::open(Recording::new(fresh())).unwrap();
    lifecycle::read_verified(&mut clean, &mut test_keys(), &ReadOptions::default()).unwrap();
    let n = clean.channel().transport().log.len();
    assert!(n > 15, "{n} commands");
    for at in 1..=n {
        let transport = ResetAt {
            inner: fresh(),
            at,
            sent: 0,
        };
        let mut card = Card::open(transport).unwrap();
        let data = lifecycle::read_verified(&mut card, &mut test_keys(), &ReadOptions::default())
            .unwrap_or_else(|e| panic!("reset at command {at}: {e}"));
        assert_eq!(data.holder, *person(Generation::V3).holder());
        assert_eq!(data.genuine, Some(true));
        // the commands before the reset, the one refused, then the whole read again
        assert_eq!(card.channel().transport().sent, at + n, "reset at {at}");
    }
}

/// Wrong PINs count down on the card itself: across resets, reselection and a saved and
/// reloaded image; a right PIN gives the tries back.
#[test]
fn pin_counter_survives_resets() {
    let mut card = personalized_card(Generation::V2, Algorithm::Tdes, SERIAL);
    let wrong = pin("000000");
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &wrong),
        Err(Error::WrongPin { tries_left: 2 })
    ));
    card.raw().transport_mut().power_cycle();
    assert_eq!(
        lifecycle::pin_status(&mut card).unwrap(),
        PinStatus::Required { tries_left: 2 }
    );
    card.select().unwrap();
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &wrong),
        Err(Error::WrongPin { tries_left: 1 })
    ));
    // the image as saved and loaded again (a simulated card taken to another reader)
    let json = card.channel().transport().card().save_json().unwrap();
    let mut moved = Card::open(SimTransport::new(SimCard::load_json(&json).unwrap())).unwrap();
    assert_eq!(
        lifecycle::pin_status(&mut moved).unwrap(),
        PinStatus::Required { tries_left: 1 }
    );
    lifecycle::verify_pin(&mut moved, &pin("123456")).unwrap();
    assert_eq!(
        lifecycle::pin_status(&mut moved).unwrap(),
        PinStatus::Required { tries_left: 3 }
    );
    // the probe (VERIFY without data) never costs a try
    for _ in 0..5 {
        lifecycle::pin_status(&mut moved).unwrap();
    }
    assert_eq!(moved.channel().transport().card().image().pin.tries_left, 3);
    // a blocked PIN stays blocked after a reset; CHANGE PIN is refused too
    for _ in 0..3 {
        let _ = lifecycle::verify_pin(&mut moved, &wrong);
    }
    moved.raw().transport_mut().power_cycle();
    assert!(matches!(
        lifecycle::change_pin(&mut moved, &pin("123456"), &pin("975310")),
        Err(Error::PinBlocked)
    ));
    assert_eq!(
        lifecycle::pin_status(&mut moved).unwrap(),
        PinStatus::Blocked
    );
}

/// Every field of a person record is checked, and the error names the field (its JSON name).
#[test]
fn invalid_person_data_is_refused_per_field() {
    type Change = fn(&mut PersonRecord);
    let cases: [(&str, Change); 24] = [
        ("ssn", |r| r.ssn = "111111198101011111".into()),
        ("ssn", |r| r.ssn = "11111119810101111".into()),
        ("name", |r| r.name = String::new()),
        ("name", |r| r.name = "张😀".into()),
        ("name", |r| r.name = "张".repeat(26)),
        ("name", |r| {
            // 1.0 cards have no name extension: 30 bytes of GBK at most
            r.generation = "1.0".into();
            r.name = "张".repeat(16);
        }),
        ("sex", |r| r.sex = "3".into()),
        ("sex", |r| r.sex = "2".into()),
        ("ethnicity", |r| r.ethnicity = "99".into()),
        ("birthplace", |r| r.birthplace = "12345".into()),
        ("birth_date", |r| r.birth_date = "19810102".into()),
        ("birth_date", |r| r.birth_date = "19810230".into()),
        ("card_number", |r| r.card_number = "KD5578905".into()),
        ("card_number", |r| r.card_number = "KD557890".into()),
        ("card_type", |r| r.card_type = "A".into()),
        ("generation", |r| r.generation = "4.0".into()),
        ("issue_date", |r| r.issue_date = "20151301".into()),
        ("issue_date", |r| r.issue_date = "19800101".into()),
        ("expiry_date", |r| r.expiry_date = "20150711".into()),
        ("expiry_date", |r| r.expiry_date = "2035071".into()),
        ("region", |r| r.region = "63990".into()),
        ("initializing_body", |r| r.initializing_body = String::new()),
        ("initializing_body", |r| {
            r.initializing_body = "9156000002639900639900012".into()
        }),
        ("initializing_body", |r| {
            r.initializing_body = "91560000026399006399000A".into()
        }),
    ];
    for (field, change) in cases {
        let mut record = person_record(Generation::V2);
        change(&mut record);
        let e = record.validate().unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
        assert!(e.to_string().starts_with(field), "{e}");
    }
    // the fields of the old protocol's person records are unknown now
    let old = include_str!("../fixtures/persons/zhang-san-2.json")
        .replace("\"region\"", "\"person_id\": \"P63990012345\", \"region\"");
    match PersonRecord::from_json(&old) {
        Err(DataError::Json(m)) => assert!(m.contains("person_id"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// A version-1 image as sscard wrote it before the specification protocol.
const V1_IMAGE: &str = r#"{
  "format": 1, "generation": "2.0", "algorithm": "3des", "chip_serial": "2B1196EB",
  "region": "639900",
  "keys": { "00": "00112233445566778899AABBCCDDEEFF" },
  "files": {
    "Ef05": ["0110639900D1560000052B1196EBD23EA4FE", "020133", "0304322E3030",
             "07094B4435353738393034"],
    "Ef06": ["0812313131313131313938313031303131313130"]
  },
  "app_state": "personalized", "block_state": "none", "card_blocked": false,
  "pin": { "bcd": "123456", "tries_left": 3, "max_tries": 3, "initial": true },
  "options": { "t0_mode": false, "all_records_mode": true, "pin_max_tries": 3 }
}"#;

/// The old key file and card image are refused with a message that says what they are and
/// what to do; the image converts.
#[test]
fn version_one_key_file_and_image_are_refused_clearly() {
    let e = RootKeys::from_json(LEGACY_V1_KEYS).unwrap_err();
    assert_eq!(e, KeyFileError::VersionOne);
    let message = e.to_string();
    assert!(message.contains("version-1 key file"), "{message}");
    assert!(message.contains("version-2"), "{message}");
    assert!(!message.contains("57DFEDFE"), "no key bytes in the message");
    assert!(matches!(
        sscard::keyholder::KeyFile::from_json(LEGACY_V1_KEYS),
        Err(KeyFileError::VersionOne)
    ));

    // through the facade's file loader (mode 0600)
    let dir = std::env::temp_dir().join(format!("sscard-negative-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old-keys.json");
    std::fs::write(&path, LEGACY_V1_KEYS).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    match sscard::keyfile::load_key_file(&path) {
        Err(KeyFileError::InFile { source, .. }) => assert_eq!(*source, KeyFileError::VersionOne),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // the image
    let e = CardImage::from_json(V1_IMAGE).unwrap_err();
    assert!(matches!(e, SimError::VersionOne));
    let message = e.to_string();
    assert!(message.contains("version-1 card image"), "{message}");
    assert!(message.contains("convert_v1"), "{message}");
    assert!(matches!(
        SimCard::load_json(V1_IMAGE),
        Err(SimError::VersionOne)
    ));
    // converted with the version-2 root keys, it is a card the library reads
    let image = CardImage::convert_v1(V1_IMAGE, &root_keys()).unwrap();
    let mut card = Card::open(SimTransport::new(SimCard::from_image(image).unwrap())).unwrap();
    let mut keys = test_keys();
    let ctx = card.context().unwrap();
    assert!(keys.supports(ctx.algorithm));
    card.internal_authenticate(&mut keys).unwrap();
    assert_eq!(
        card.card_id().unwrap().to_string(),
        "639900D1560000052B1196EBD23EA4FE"
    );
}

/// PINs and keys never reach a trace: the data of VERIFY, CHANGE PIN, EXTERNAL AUTHENTICATION,
/// PIN RELOAD and of the PSAM's DELIVERY SESSION KEY and CIPHER DATA (and its answers) are
/// `REDACTED`, on the card's channel and on the PSAM's.
#[test]
fn secrets_never_reach_the_traces() {
    use std::sync::{Arc, Mutex};
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let tracer = |lines: &Arc<Mutex<Vec<String>>>| -> sscard::channel::Tracer {
        let lines = Arc::clone(lines);
        Box::new(move |event| lines.lock().unwrap().push(event.to_string()))
    };
    let spec = card_spec(Generation::V3, Algorithm::Sm4, SERIAL);
    let mut card = Card::open(SimTransport::new(blank_sim_of(spec.clone()))).unwrap();
    card.set_tracer(Some(tracer(&lines)));
    let mut psam = psam_key_holder(Algorithm::Sm4, sscard::crypto::KeyLevel::City);
    psam.channel_mut().set_tracer(Some(tracer(&lines)));

    lifecycle::personalize(
        &mut card,
        &mut psam,
        &person(Generation::V3),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    lifecycle::activate_verified(&mut card, &mut psam, &pin("975310"), &Default::default())
        .unwrap();
    lifecycle::verify_pin(&mut card, &pin("975310")).unwrap();
    lifecycle::change_pin(&mut card, &pin("975310"), &pin("8642097531")).unwrap();
    lifecycle::reload_pin(&mut card, &mut psam, &pin("24681357")).unwrap();
    lifecycle::verify_pin(&mut card, &pin("24681357")).unwrap();

    let text = lines.lock().unwrap().join("\n");
    assert!(text.contains("REDACTED"), "{text}");
    // the commands sent (without INTERNAL AUTHENTICATION, whose data are the terminal's
    // randoms, and without the answers, which carry the card's)
    let commands: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("A>> ") && !l.starts_with("A>> 00 88"))
        .collect();
    for secret in ["12 34 56", "97 53 10", "86 42 09 75 31", "24 68 13 57"] {
        assert!(
            commands.iter().all(|l| !l.contains(secret)),
            "PIN {secret} in the trace"
        );
    }
    for role in [
        KeyRole::Irk,
        KeyRole::Ukssse,
        KeyRole::Puk,
        KeyRole::Stkssse,
        KeyRole::Rkssse,
    ] {
        let key = hex::encode_upper(card_key(&spec, role).expose_bytes());
        let spaced: Vec<String> = key
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        assert!(!text.contains(&key[..8]), "{role} key in the trace");
        assert!(
            !text.contains(&spaced[..4].join(" ")),
            "{role} key in the trace"
        );
    }
    // every VERIFY, CHANGE PIN, EXTERNAL AUTHENTICATION and PIN RELOAD had its data redacted
    for line in text.lines().filter(|l| l.starts_with("A>> ")) {
        let secret_command = ["00 20 ", "80 5E ", "00 82 ", "84 24 ", "BF DE ", "80 FA "]
            .iter()
            .any(|p| line[4..].starts_with(p));
        if secret_command && line.len() > 20 {
            assert!(line.contains("REDACTED"), "{line}");
        }
    }
    // and the key holders' Debug output holds no key either
    let debug = format!("{:?} {:?}", test_keys(), psam);
    assert!(!debug.contains("98E758AB"), "{debug}");
}
