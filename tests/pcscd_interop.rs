//! "Someone else's terminal, through a real pcscd": sscard against implementations of the
//! national specification written by someone else from the same documents, without sscard's
//! code (`crates/cleanroom/*`), with a private pcscd and its vpcd virtual readers in between.
//!
//! 1. The clean-room terminal, through its own PC/SC reader (`PcscReader`, on the `pcsc`
//!    crate, doing T=0 itself), drives sscard's simulated card served by the simulator's vpcd
//!    server: personalization, the `iReadCardBas` line, the validity check, PIN verify, change,
//!    reload, block and unblock, then APPLICATION BLOCK (1.0, 2.0) or CARD BLOCK (3.0).
//! 2. sscard's library, through `PcscTransport`, with sscard's simulated PSAM in the second
//!    reader as key holder, drives the clean-room card (a T=0 card, `61xx` and GET RESPONSE)
//!    served by the same vpcd server: personalize, read, read_verified, the validity check,
//!    activate, PIN change, block and unblock, reload, then APPLICATION BLOCK or CARD BLOCK.
//!
//! Both directions for every generation (1.0, 2.0, 3.0) and both algorithms of the
//! specification (3DES, SM4). `tests/interop.rs` runs the same pairs in process; this file adds
//! pcscd, the vpcd driver and two PC/SC client stacks in between.
//!
//! One test function runs everything (the cases share the two readers). It reuses the private
//! pcscd `scripts/test.sh` started or runs its own on free ports, and passes with a printed
//! notice when pcscd, the vpcd driver or the privileges to run a private pcscd are missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cleanroom_card::{Algorithm as CrAlgorithm, Card as CrCard, CardConfig, SpecVersion};
use cleanroom_terminal::{PcscReader, PinStatus as CrPinStatus, Terminal};
use sscard::crypto::Pin;
use sscard::data::{BcdDate, PersonRecord, Personalization, RegionCode};
use sscard::keyholder::PsamKeyHolder;
use sscard::keys::RootKeys;
use sscard::lifecycle::{
    self, ActivateOptions, Card, PersonalizeOptions, PinStatus, ReadOptions, ValidityPolicy,
    Verdict,
};
use sscard::pcsc::testing::{self, PrivatePcscd};
use sscard::pcsc::{Pcsc, PcscTransport, ShareMode};
use sscard::profile::Generation;
use sscard::sim::vpcd::VpcdCard;
use sscard::sim::{CardSpec, PsamSpec, SimCard, SimPsam, VirtualCard};
use sscard::{Algorithm, Error};

const CARD_READER: &str = "Virtual PCD 00 00";
const PSAM_READER: &str = "Virtual PCD 00 01";
const TERMINAL: &str = "410100813475";
const WAIT: Duration = Duration::from_secs(10);
const KEYS: &str = include_str!("../fixtures/keys/test-keys.json");
const REGION: &str = "519900";

const CASES: [(Algorithm, Generation); 6] = [
    (Algorithm::Tdes, Generation::V1),
    (Algorithm::Tdes, Generation::V2),
    (Algorithm::Tdes, Generation::V3),
    (Algorithm::Sm4, Generation::V1),
    (Algorithm::Sm4, Generation::V2),
    (Algorithm::Sm4, Generation::V3),
];

/// The national roots of `alg` by role name, as the clean-room implementations take them.
fn cleanroom_roots(alg: Algorithm) -> BTreeMap<String, Vec<u8>> {
    let v: serde_json::Value = serde_json::from_str(KEYS).unwrap();
    v["roots"][alg.name()]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), hex::decode(v.as_str().unwrap()).unwrap()))
        .collect()
}

fn roots() -> RootKeys {
    RootKeys::from_json(KEYS).unwrap()
}

/// The ATR of the card in `reader`, if there is one.
fn atr_in(reader: &str) -> Option<Vec<u8>> {
    Pcsc::new()
        .list_readers()
        .ok()?
        .into_iter()
        .find(|r| r.name == reader && r.card_present)
        .and_then(|r| r.atr)
}

/// Serves `card` in virtual reader `slot` and waits until pcscd shows its ATR.
fn insert<C: VirtualCard + Send + 'static>(
    pcscd: &PrivatePcscd,
    slot: u16,
    card: C,
) -> VpcdCard<C> {
    let (atr, reader) = (card.atr(), [CARD_READER, PSAM_READER][usize::from(slot)]);
    let served = VpcdCard::spawn(pcscd.addr(slot), card).unwrap();
    testing::wait_until(&format!("the card in {reader}"), WAIT, || {
        atr_in(reader).as_deref() == Some(&atr[..])
    });
    served
}

/// Takes a served card out, waits until pcscd saw it go, and gives the card back.
fn take_out<C: VirtualCard + Send + 'static>(served: VpcdCard<C>, reader: &str) -> C {
    let card = served.stop().unwrap();
    testing::wait_until(&format!("{reader} to be empty"), WAIT, || {
        atr_in(reader).is_none()
    });
    card
}

#[test]
fn interoperability_through_pcscd() {
    let Some(pcscd) = PrivatePcscd::acquire("interop_through_pcscd", 36700..37000) else {
        return;
    };
    let started = Instant::now();
    for (alg, generation) in CASES {
        cleanroom_terminal_drives_the_simulated_card(&pcscd, alg, generation);
    }
    println!(
        "clean-room terminal -> sscard card: {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    for (alg, generation) in CASES {
        sscard_drives_the_cleanroom_card(&pcscd, alg, generation);
    }
    println!("sscard library -> clean-room card: {:?}", started.elapsed());
}

// --- 1. the clean-room terminal drives sscard's simulated card ------------------------------

fn cleanroom_terminal_drives_the_simulated_card(
    pcscd: &PrivatePcscd,
    alg: Algorithm,
    generation: Generation,
) {
    let what = format!("clean-room terminal, {alg} {generation} card");
    let spec = CardSpec::new(
        generation,
        alg,
        RegionCode::parse(REGION).unwrap(),
        [0x00, 0x00, 0x01, 0xAC],
    )
    .with_card_serial([0x10, 0x00, 0x0B, 0x26]);
    let served = insert(pcscd, 0, SimCard::blank(spec.clone(), &roots()).unwrap());
    let reader = PcscReader::connect(CARD_READER).unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut t = Terminal::new(reader, cleanroom_roots(alg));
    let version = generation.spec_version();

    // Personalization: UKSSSE, the items, the initial PIN by PIN RELOAD (part 10 §5.4).
    let mut items: Vec<(u8, Vec<u8>)> = vec![
        (0x02, b"3".to_vec()),
        (0x03, version.as_bytes().to_vec()),
        (0x04, hex::decode("915600000251990051990001").unwrap()),
        (0x05, hex::decode("20150711").unwrap()),
        (0x06, hex::decode("20350711").unwrap()),
        (0x08, b"111111198101011110".to_vec()),
        (0x09, vec![0xD5, 0xC5, 0xC8, 0xFD]), // 张三 in GBK
        (0x0A, b"1".to_vec()),
        (0x0B, vec![0x01]),
        (0x0C, hex::decode("639900").unwrap()),
        (0x0D, hex::decode("19810101").unwrap()),
        (0x07, b"KD5578904".to_vec()),
    ];
    if generation != Generation::V1 {
        items.push((0x4E, Vec::new()));
    }
    t.personalize(&items)
        .unwrap_or_else(|e| panic!("{what}: personalize: {e}"));

    // The reader interface's iReadCardBas line (RI §1.1.2).
    let line = t
        .basic_line()
        .unwrap_or_else(|e| panic!("{what}: basic line: {e}"));
    assert_eq!(
        line,
        format!(
            "{REGION}|111111198101011110|KD5578904|{}|张三|{}|{version}|20150711|20350711|||",
            hex::encode_upper(spec.card_id()),
            hex::encode_upper(spec.historical().to_bytes()),
        ),
        "{what}"
    );
    // The validity check of part 7 §5.4.
    t.check_validity("20261201")
        .unwrap_or_else(|e| panic!("{what}: validity: {e}"));
    assert!(
        t.check_validity("20360101").is_err(),
        "{what}: an expired card passed"
    );

    // PIN: the holder's own, wrong tries, blocked, unblocked, reloaded.
    assert_eq!(
        t.pin_status().unwrap(),
        CrPinStatus::Rejected { tries_left: 3 },
        "{what}: a PIN is set"
    );
    t.change_pin("123456", "975310").unwrap();
    assert_eq!(t.verify_pin("975310").unwrap(), CrPinStatus::Accepted);
    for left in [2, 1, 0] {
        assert_eq!(
            t.verify_pin("000000").unwrap(),
            CrPinStatus::Rejected { tries_left: left },
            "{what}"
        );
    }
    assert_eq!(t.verify_pin("975310").unwrap(), CrPinStatus::Blocked);
    t.unblock_pin()
        .unwrap_or_else(|e| panic!("{what}: unblock: {e}"));
    assert_eq!(t.verify_pin("975310").unwrap(), CrPinStatus::Accepted);
    t.reload_pin("24680")
        .unwrap_or_else(|e| panic!("{what}: reload: {e}"));
    assert_eq!(
        t.verify_pin("975310").unwrap(),
        CrPinStatus::Rejected { tries_left: 2 }
    );
    assert_eq!(t.verify_pin("24680").unwrap(), CrPinStatus::Accepted);

    // A lost card (part 7 §13).
    let blocked_sw = if generation == Generation::V3 {
        t.block_card()
            .unwrap_or_else(|e| panic!("{what}: card block: {e}"));
        0x6A81
    } else {
        t.block_application()
            .unwrap_or_else(|e| panic!("{what}: application block: {e}"));
        0x9303
    };
    let refused = t.basic_line().expect_err("a blocked card was read");
    assert_eq!(refused.status_word(), Some(blocked_sw), "{what}: {refused}");
    drop(t);

    // What the card itself says afterwards.
    let sim = take_out(served, CARD_READER);
    let image = sim.image();
    assert_eq!(image.card_blocked, generation == Generation::V3, "{what}");
    assert_eq!(image.ssse_blocked, generation != Generation::V3, "{what}");
    println!("{what}: ok");
}

// --- 2. sscard's library drives the clean-room card -----------------------------------------

/// The clean-room card in a vpcd reader.
struct CleanroomVirtual(CrCard);

impl VirtualCard for CleanroomVirtual {
    fn atr(&self) -> Vec<u8> {
        self.0.atr()
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.0.transmit(apdu)
    }
    fn reset(&mut self) {
        self.0.reset()
    }
}

fn person(generation: Generation) -> Personalization {
    PersonRecord::from_json(&format!(
        r#"{{"ssn":"111111198101011110","name":"张三","sex":"1","ethnicity":"01",
        "birthplace":"639900","birth_date":"19810101","card_number":"KD5578904",
        "generation":"{}","issue_date":"20150711","expiry_date":"20350711","region":"{REGION}",
        "initializing_body":"915600000251990051990001"}}"#,
        generation.number()
    ))
    .unwrap()
    .validate()
    .unwrap()
}

fn pin(digits: &str) -> Pin {
    Pin::new(digits).unwrap()
}

fn sscard_drives_the_cleanroom_card(pcscd: &PrivatePcscd, alg: Algorithm, generation: Generation) {
    let what = format!("sscard library, clean-room {alg} {generation} card");
    let mut cr = CrCard::new(CardConfig {
        algorithm: match alg {
            Algorithm::Tdes => CrAlgorithm::Des,
            _ => CrAlgorithm::Sm4,
        },
        version: match generation {
            Generation::V1 => SpecVersion::V1,
            Generation::V2 => SpecVersion::V2,
            Generation::V3 => SpecVersion::V3,
        },
        region: REGION.into(),
        atr_serial: [0x00, 0x00, 0x01, 0xAC],
        card_serial: [0x10, 0x00, 0x0B, 0x26],
        roots: cleanroom_roots(alg),
    })
    .unwrap();
    cr.set_t0_chaining(true); // a T=0 card: 61xx and GET RESPONSE (part 5 §6.6)
    let served_card = insert(pcscd, 0, CleanroomVirtual(cr));
    let psam = SimPsam::from_root_keys(&roots(), &PsamSpec::new(alg, TERMINAL)).unwrap();
    let served_psam = insert(pcscd, 1, psam);
    let mut card =
        Card::open(PcscTransport::connect(CARD_READER, ShareMode::Shared).unwrap()).unwrap();
    let mut psam =
        PsamKeyHolder::open(PcscTransport::connect(PSAM_READER, ShareMode::Shared).unwrap())
            .unwrap();
    let data = person(generation);

    let report =
        lifecycle::personalize(&mut card, &mut psam, &data, &PersonalizeOptions::default())
            .unwrap_or_else(|e| panic!("{what}: personalize: {e}"));
    assert!(!report.already_done, "{what}");
    assert_eq!(
        report.card_id.to_string(),
        format!("{REGION}D15600000510000B26FFFFFFFF")
    );

    // Read without keys (1.0, 2.0) and with the PSAM: genuine, the terminal number.
    match (generation, lifecycle::read(&mut card)) {
        (Generation::V3, Err(Error::ReadKeyRequired)) => {}
        (Generation::V3, other) => panic!("{what}: read without keys: {other:?}"),
        (_, read) => assert_eq!(read.unwrap().holder, *data.holder(), "{what}"),
    }
    let read = lifecycle::read_verified(&mut card, &mut psam, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{what}: read_verified: {e}"));
    assert_eq!(read.genuine, Some(true), "{what}");
    assert_eq!(
        read.basic_line(),
        format!(
            "{REGION}|111111198101011110|KD5578904|{REGION}D15600000510000B26FFFFFFFF|张三|00814A444686605199000001AC|{}|20150711|20350711|{TERMINAL}||",
            generation.spec_version()
        ),
        "{what}"
    );

    // The validity check (part 7 §5.4): a PIN is set by personalization.
    let policy = ValidityPolicy {
        today: Some("20261201".parse::<BcdDate>().unwrap()),
        ..ValidityPolicy::default()
    };
    let (verdict, _) = lifecycle::check_validity(&mut card, &mut psam, &policy)
        .unwrap_or_else(|e| panic!("{what}: check_validity: {e}"));
    assert_eq!(
        verdict,
        Verdict::Valid {
            pin: PinStatus::Required { tries_left: 3 }
        },
        "{what}"
    );
    let expired = ValidityPolicy {
        today: Some("20360101".parse::<BcdDate>().unwrap()),
        ..ValidityPolicy::default()
    };
    let (verdict, _) = lifecycle::check_validity(&mut card, &mut psam, &expired).unwrap();
    assert!(
        matches!(verdict, Verdict::Expired(_)),
        "{what}: {verdict:?}"
    );

    // Activation at the bank outlet, then the PIN's life.
    let holder_pin = pin("975310");
    lifecycle::activate_verified(
        &mut card,
        &mut psam,
        &holder_pin,
        &ActivateOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{what}: activate: {e}"));
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &Pin::initial()),
        Err(Error::WrongPin { tries_left: 2 })
    ));
    lifecycle::verify_pin(&mut card, &holder_pin).unwrap();
    let changed = pin("8642");
    lifecycle::change_pin(&mut card, &holder_pin, &changed).unwrap();
    for left in [2, 1] {
        let r = lifecycle::verify_pin(&mut card, &holder_pin);
        assert!(
            matches!(r, Err(Error::WrongPin { tries_left }) if tries_left == left),
            "{what}: {r:?}"
        );
    }
    assert!(matches!(
        lifecycle::verify_pin(&mut card, &holder_pin),
        Err(Error::PinBlocked)
    ));
    assert_eq!(
        lifecycle::pin_status(&mut card).unwrap(),
        PinStatus::Blocked
    );
    lifecycle::unblock_pin(&mut card, &mut psam).unwrap_or_else(|e| panic!("{what}: unblock: {e}"));
    lifecycle::verify_pin(&mut card, &changed).unwrap();
    let reloaded = pin("13579246");
    lifecycle::reload_pin(&mut card, &mut psam, &reloaded)
        .unwrap_or_else(|e| panic!("{what}: reload: {e}"));
    lifecycle::verify_pin(&mut card, &reloaded).unwrap();

    // A lost card.
    if generation == Generation::V3 {
        lifecycle::block_card(&mut card, &mut psam)
            .unwrap_or_else(|e| panic!("{what}: card block: {e}"));
        assert!(matches!(
            lifecycle::read(&mut card),
            Err(Error::CardBlocked)
        ));
    } else {
        lifecycle::block_application(&mut card, &mut psam)
            .unwrap_or_else(|e| panic!("{what}: application block: {e}"));
        assert!(matches!(
            lifecycle::read_verified(&mut card, &mut psam, &ReadOptions::default()),
            Err(Error::ApplicationBlocked)
        ));
    }
    println!(
        "{what}: {} card APDUs, {} PSAM APDUs",
        card.apdu_count(),
        psam.channel().apdu_count()
    );
    drop(card);
    drop(psam);

    // What the clean-room card itself says afterwards.
    let CleanroomVirtual(cr) = take_out(served_card, CARD_READER);
    take_out(served_psam, PSAM_READER);
    assert_eq!(cr.is_card_blocked(), generation == Generation::V3, "{what}");
    assert_eq!(
        cr.is_application_blocked(),
        generation != Generation::V3,
        "{what}"
    );
    assert_eq!(cr.pin_tries(), 3, "{what}: the last VERIFY succeeded");
}
