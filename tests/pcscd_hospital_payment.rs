//! The hospital payment example (`examples/hospital_payment.rs`) through a REAL pcscd: a
//! simulated 3.0 card with the medical account (500.00 yuan) and a simulated PSAM holding the
//! purchase key are served as vpcd virtual cards in the two readers of a private pcscd; the
//! example's own `run` opens them by reader name and takes a payment with the holder's PIN
//! (from a PIN file).
//!
//! The same payment runs in process first on a copy of the card and PSAM: through pcscd the
//! amounts, balances, serials, TAC and MAC2 are the same. A wrong PIN and a bill larger than
//! the balance are refused and move nothing. Skipped with a notice where a private pcscd cannot
//! run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[allow(dead_code)]
#[path = "../examples/hospital_payment.rs"]
mod hospital_payment;

use std::time::Duration;

use sscard::account::{AccountError, Fen, PurchaseAmounts, TransactionTime};
use sscard::crypto::Pin;
use sscard::keyholder::account::Mac2Check;
use sscard::keyholder::PsamKeyHolder;
use sscard::lifecycle::Card;
use sscard::pcsc::testing::{self, PrivatePcscd};
use sscard::pcsc::Pcsc;
use sscard::sim::vpcd::VpcdCard;
use sscard::sim::{SimCard, SimPsam, SimTransport};
use sscard::Error;

const CARD_READER: &str = "Virtual PCD 00 00";
const PSAM_READER: &str = "Virtual PCD 00 01";

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

fn args(pin_file: &std::path::Path, account: u32) -> hospital_payment::Args {
    hospital_payment::Args {
        reader: Some(CARD_READER.into()),
        psam: Some(PSAM_READER.into()),
        pin_file: Some(pin_file.to_path_buf()),
        amounts: PurchaseAmounts {
            account: Fen(account),
            self_pay: Fen(3_000),
            pooled: Fen(40_000),
        },
        time: Some(TransactionTime::parse("20240615093000").unwrap()),
    }
}

fn balance(card: &SimCard) -> u32 {
    card.image().areas["DF04"].account.as_ref().unwrap().balance
}

#[test]
fn hospital_payment_through_pcscd() {
    let Some(pcscd) = PrivatePcscd::acquire("hospital_payment_through_pcscd", 37700..38000) else {
        return;
    };
    let card = hospital_payment::simulated_card().unwrap();
    let psam = hospital_payment::simulated_psam().unwrap();
    assert_eq!(balance(&card), 50_000);

    // in process, on copies of the card and the PSAM
    let mut local = Card::open(SimTransport::new(
        SimCard::from_image(card.image().clone()).unwrap(),
    ))
    .unwrap();
    let mut local_psam = PsamKeyHolder::open(SimTransport::new(
        SimPsam::new(psam.image().clone()).unwrap(),
    ))
    .unwrap();
    local.reset_apdu_count();
    let expected = hospital_payment::pay(
        &mut local,
        &mut local_psam,
        &Pin::initial(),
        &args(std::path::Path::new("unused"), 12_850),
    )
    .unwrap();
    let local_apdus = local.apdu_count();

    // through pcscd
    let (card_atr, psam_atr) = (card.atr(), psam.atr());
    let vcard = VpcdCard::spawn(pcscd.addr(0), card).unwrap();
    let vpsam = VpcdCard::spawn(pcscd.addr(1), psam).unwrap();
    wait_for(CARD_READER, Some(&card_atr));
    wait_for(PSAM_READER, Some(&psam_atr));
    let dir = std::env::temp_dir().join(format!("sscard-hospital-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wrong = dir.join("wrong.pin");
    let right = dir.join("holder.pin");
    std::fs::write(&wrong, "654321\n").unwrap();
    std::fs::write(&right, "123456\n").unwrap();

    // a wrong PIN, a bill larger than the balance: refused, nothing moves
    let e = hospital_payment::run(&args(&wrong, 12_850)).unwrap_err();
    let e = e.downcast_ref::<Error>().expect("a card error");
    assert!(matches!(e, Error::WrongPin { tries_left: 2 }), "{e}");
    let e = hospital_payment::run(&args(&right, 50_001)).unwrap_err();
    let e = e.downcast_ref::<Error>().expect("a card error");
    assert!(
        matches!(e, Error::Account(AccountError::InsufficientBalance { .. })),
        "{e}"
    );

    let receipt = hospital_payment::run(&args(&right, 12_850)).unwrap();
    assert_eq!(receipt.balance_after, Fen(37_150));
    assert_eq!(receipt.mac2_check, Mac2Check::Verified);
    assert_eq!(receipt.transaction.card_serial, 0);
    assert_eq!(receipt.transaction.terminal_serial, 0);
    assert_eq!(receipt.transaction.terminal.to_string(), "639900000042");
    // the same card, PSAM, amounts and time give the same transaction; the cryptograms depend
    // on the card's random, so they are checked by the card (TAC) and the PSAM (MAC2)
    assert_eq!(receipt.transaction, expected.transaction);

    let psam = vpsam.stop().unwrap();
    let card = vcard.stop().unwrap();
    wait_for(CARD_READER, None);
    assert_eq!(balance(&card), 37_150);
    assert_eq!(psam.image().transaction_serial, 1);
    // the right PIN restored the counter the wrong one spent
    assert_eq!(card.image().pin.tries_left, 3);
    // the proof the card keeps is the receipt's
    let mut again = Card::open(SimTransport::new(card)).unwrap();
    let proof = sscard::lifecycle::account::proof(
        &mut again,
        sscard::account::TransactionKind::Purchase,
        0,
    )
    .unwrap()
    .unwrap();
    assert_eq!((proof.tac, proof.mac), (receipt.tac, receipt.mac2));
    println!("{local_apdus} APDUs to the card in process");
    std::fs::remove_dir_all(&dir).unwrap();
}
