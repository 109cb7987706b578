//! The service-hall example (`examples/service_hall.rs`) through a REAL pcscd: a simulated 3.0
//! card with the data areas and a simulated PSAM holding RK1DF02 and UK3DF02 are served as vpcd
//! virtual cards in the two readers of a private pcscd; the example's own `run` opens them by
//! reader name, reads the employment area with the holder's PIN (from a PIN file) and appends
//! an employment record with UK3DF02 through the PSAM.
//!
//! The same service runs in process first on a copy of the card: through pcscd the records
//! read, the record appended and the APDU count are the same. A wrong PIN is refused and
//! writes nothing. Skipped with a notice where a private pcscd cannot run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[allow(dead_code)]
#[path = "../examples/service_hall.rs"]
mod service_hall;

use std::time::Duration;

use sscard::crypto::Pin;
use sscard::keyholder::PsamKeyHolder;
use sscard::keys::RootKeys;
use sscard::lifecycle::Card;
use sscard::pcsc::testing::{self, PrivatePcscd};
use sscard::pcsc::Pcsc;
use sscard::profile::areas::DfId;
use sscard::sim::vpcd::VpcdCard;
use sscard::sim::{FileContent, SimCard, SimPsam, SimTransport};
use sscard::{Algorithm, Error};

const CARD_READER: &str = "Virtual PCD 00 00";
const PSAM_READER: &str = "Virtual PCD 00 01";
const KEYS: &str = include_str!("../fixtures/keys/test-keys.json");

fn atr_in(reader: &str) -> Option<Vec<u8>> {
    Pcsc::new()
        .list_readers()
        .ok()?
        .into_iter()
        .find(|r| r.name == reader && r.card_present)
        .and_then(|r| r.atr)
}

fn wait_for(reader: &str, atr: Option<&[u8]>) {
    testing::wait_until(reader, Duration::from_secs(10), || {
        atr_in(reader).as_deref() == atr
    });
}

fn psam() -> SimPsam {
    let roots = RootKeys::from_json(KEYS).unwrap();
    let spec = service_hall::psam_spec(Algorithm::Sm4, "639900000042").unwrap();
    SimPsam::from_root_keys(&roots, &spec).unwrap()
}

fn args(pin_file: &std::path::Path) -> service_hall::Args {
    service_hall::Args {
        reader: Some(CARD_READER.into()),
        psam: Some(PSAM_READER.into()),
        pin_file: Some(pin_file.to_path_buf()),
        occupation: "2020100".into(),
        start: "20240301".into(),
        end: String::new(),
        employer: "某某科技有限公司".into(),
    }
}

/// The employment records of a card image, newest first.
fn records(card: &SimCard) -> Vec<Vec<u8>> {
    match card.image().area(DfId::Df(0xDF02)).unwrap().file(0xEF07) {
        Some(FileContent::Cyclic { records, .. }) => records.iter().map(|r| r.0.clone()).collect(),
        other => panic!("DF02 EF07 holds {other:?}"),
    }
}

#[test]
fn service_hall_through_pcscd() {
    let Some(pcscd) = PrivatePcscd::acquire("service_hall_through_pcscd", 37100..37400) else {
        return;
    };
    let card = service_hall::simulated_card().unwrap();
    let records_before = records(&card);

    // in process, on a copy of the card
    let mut local = Card::open(SimTransport::new(
        SimCard::from_image(card.image().clone()).unwrap(),
    ))
    .unwrap();
    let mut local_psam = PsamKeyHolder::open(SimTransport::new(psam())).unwrap();
    let mut local_args = args(std::path::Path::new("unused"));
    local_args.reader = None;
    let expected =
        service_hall::serve(&mut local, &mut local_psam, &Pin::initial(), &local_args).unwrap();

    // through pcscd
    let (card_atr, psam_atr) = (card.atr(), psam().atr());
    let vcard = VpcdCard::spawn(pcscd.addr(0), card).unwrap();
    let vpsam = VpcdCard::spawn(pcscd.addr(1), psam()).unwrap();
    wait_for(CARD_READER, Some(&card_atr));
    wait_for(PSAM_READER, Some(&psam_atr));
    let dir = std::env::temp_dir().join(format!("sscard-service-hall-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wrong = dir.join("wrong.pin");
    let right = dir.join("holder.pin");
    std::fs::write(&wrong, "654321\n").unwrap();
    std::fs::write(&right, "123456\n").unwrap();

    // a wrong PIN: refused before anything is written
    let e = service_hall::run(&args(&wrong)).unwrap_err();
    let e = e.downcast_ref::<Error>().expect("a card error");
    assert!(matches!(e, Error::WrongPin { tries_left: 2 }), "{e}");

    let report = service_hall::run(&args(&right)).unwrap();
    assert_eq!(report.name, "张三");
    assert_eq!(report.before, expected.before);
    assert_eq!(report.before.len(), 2);
    assert_eq!(report.appended, "2020100^20240301^^某某科技有限公司^");
    let mut after = vec![report.appended.clone()];
    after.extend(report.before.iter().cloned());
    assert_eq!(report.after, after);
    assert_eq!(
        report.card_apdus, expected.card_apdus,
        "the same APDUs through pcscd as in process"
    );

    drop(vpsam);
    let card = vcard.stop().unwrap();
    wait_for(CARD_READER, None);
    let now = records(&card);
    assert_eq!(now.len(), 3);
    assert_eq!(&now[1..], &records_before[..]);
    assert_eq!(&now[0][..7], b"2020100");
    // the right PIN restored the counter the wrong one spent
    assert_eq!(card.image().pin.tries_left, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
