//! The bad-input catalogue of the medical account: negative, over-limit and over-precise
//! amounts, zero transactions, a purchase larger than the balance, a credit beyond the card's
//! limit, a card without the account, a blocked card, an unknown processing mode, self-pay and
//! pooled amounts for a card that keeps the personal account only, another key index, bad
//! times, terminal numbers and reader-interface strings, garbage from the card. Each case
//! asserts the error a terminal operator gets and that nothing was written (the account and
//! its records unchanged; where the library refuses before the card, not one APDU was sent).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/account.rs"]
mod account_common;
mod common;

use sscard::account::{
    ri_pay_info, AccountError, AmountError, Fen, TerminalNumber, TransactionTime,
};
use sscard::crypto::KeyLevel;
use sscard::lifecycle::account::{self, CreditRequest, PurchaseRequest};
use sscard::lifecycle::Card;
use sscard::sim::{AccountSpec, SimCard, SimTransport};
use sscard::transport::{Transport, TransportError};
use sscard::{Algorithm, Error};

use account_common::*;
use common::*;

/// The account and the detail records of a card (what a transaction changes).
fn money<T: Transport + AsSim>(card: &Card<T>) -> String {
    let image = card.channel().transport().sim().image().clone();
    let area = &image.areas["DF04"];
    format!("{:?} {:?}", area.account, area.files.get("EF08"))
}

/// Access to the simulated card behind a reader.
trait AsSim {
    fn sim(&self) -> &SimCard;
}

impl AsSim for SimTransport<SimCard> {
    fn sim(&self) -> &SimCard {
        self.card()
    }
}

/// Runs `op`, checks the error holds every word of `words` and that the account did not
/// change; `no_apdu`: refused before any APDU.
fn refused<T: Transport + AsSim>(
    card: &mut Card<T>,
    no_apdu: bool,
    words: &[&str],
    op: impl FnOnce(&mut Card<T>) -> Result<(), Error>,
) -> Error {
    let before = money(card);
    card.reset_apdu_count();
    let e = op(card).unwrap_err();
    let text = e.to_string();
    for w in words {
        assert!(text.contains(w), "{w:?} not in: {text}");
    }
    assert_eq!(money(card), before, "nothing written: {text}");
    if no_apdu {
        assert_eq!(card.apdu_count(), 0, "no APDU: {text}");
    }
    e
}

fn purchase<T: Transport>(
    card: &mut Card<T>,
    a: sscard::account::PurchaseAmounts,
) -> Result<(), Error> {
    let holder_pin = pin("123456");
    let mut psam = psam_holder(Algorithm::Sm4, KeyLevel::National);
    account::purchase(
        card,
        &mut psam,
        &PurchaseRequest::new(a, time("20240615093000")).with_pin(&holder_pin),
    )
    .map(|_| ())
}

#[test]
fn amounts_in_yuan_are_exact() {
    // what an operator types: the error says what is wrong with it
    type Case = (&'static str, fn(&AmountError) -> bool, &'static str);
    let cases: [Case; 8] = [
        (
            "-12.00",
            |e| matches!(e, AmountError::Negative(_)),
            "never negative",
        ),
        (
            "12.345",
            |e| matches!(e, AmountError::TooManyDecimals(_)),
            "more than two decimals",
        ),
        (
            "0.001",
            |e| matches!(e, AmountError::TooManyDecimals(_)),
            "fen",
        ),
        (
            "42949672.96",
            |e| matches!(e, AmountError::TooLarge(_)),
            "42949672.95",
        ),
        (
            "100000000",
            |e| matches!(e, AmountError::TooLarge(_)),
            "more than the card can hold",
        ),
        (
            "1e2",
            |e| matches!(e, AmountError::NotAnAmount(_)),
            "not an amount in yuan",
        ),
        (
            "12,50",
            |e| matches!(e, AmountError::NotAnAmount(_)),
            "not an amount",
        ),
        ("", |e| matches!(e, AmountError::Empty), "empty"),
    ];
    for (text, kind, words) in cases {
        let e = Fen::parse_yuan(text).unwrap_err();
        assert!(kind(&e), "{text}: {e:?}");
        assert!(e.to_string().contains(words), "{text}: {e}");
    }
    assert_eq!(Fen::parse_yuan("42949672.95").unwrap(), Fen::MAX);
    // the reader interface's pPayInfo
    for bad in [
        "-1.00|2.00|20240615093000|",
        "1.001|2.00|20240615093000|",
        "1.00|2.00|20241315093000|",
        "1.00|20240615093000|",
        "0.00|0|20240615093000|",
    ] {
        assert!(ri_pay_info(bad).is_err(), "{bad}");
    }
    for bad in [
        "2024061509300",
        "20240230120000",
        "20240615246000",
        "２０２４０６１５０９３０００",
    ] {
        assert!(TransactionTime::parse(bad).is_err(), "{bad}");
    }
    for bad in ["63990000004", "6399000000421", "63990000004X", ""] {
        assert!(TerminalNumber::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn transactions_the_library_refuses_before_the_card() {
    let mut card = open(account_sim(
        Algorithm::Sm4,
        AccountSpec::default().with_balance(100),
    ));
    refused(&mut card, true, &["0.00"], |c| {
        purchase(c, amounts(0, 0, 0))
    });
    refused(&mut card, true, &["0.00"], |c| {
        account::credit(
            c,
            &mut host(),
            &CreditRequest {
                amount: Fen(0),
                host_time: time("20240601080000"),
                terminal: terminal(),
                key_index: 1,
                pin: None,
            },
        )
        .map(|_| ())
    });
    // an account amount cannot travel in the reader interface's HSM line
    refused(&mut card, true, &["account amount must be 0"], |c| {
        account::hsm_purchase_step1(
            c,
            &PurchaseRequest::new(amounts(1, 1, 1), time("20240615093000")),
            TerminalNumber::NONE,
            1,
        )
        .map(|_| ())
    });
    refused(&mut card, true, &["key group 4"], |c| {
        account::hsm_purchase_step1(
            c,
            &PurchaseRequest::new(amounts(0, 1, 1), time("20240615093000")),
            TerminalNumber::NONE,
            4,
        )
        .map(|_| ())
    });
    refused(&mut card, true, &["starting day 0230"], |c| {
        account::update_starting_day(c, &mut test_keys(), 2, 30)
    });
}

#[test]
fn transactions_the_card_refuses() {
    let mut card = open(account_sim(
        Algorithm::Sm4,
        AccountSpec::default().with_balance(100),
    ));
    // a purchase larger than the balance (9401)
    let e = refused(&mut card, false, &["insufficient balance", "1.01"], |c| {
        purchase(c, amounts(101, 0, 0))
    });
    assert!(matches!(
        e,
        Error::Account(AccountError::InsufficientBalance {
            amount: Fen(101),
            ..
        })
    ));
    // another key index (9403)
    refused(&mut card, false, &["key index 05"], |c| {
        let holder_pin = pin("123456");
        let mut request =
            PurchaseRequest::new(amounts(1, 0, 0), time("20240615093000")).with_pin(&holder_pin);
        request.key_index = 5;
        account::purchase(
            c,
            &mut psam_holder(Algorithm::Sm4, KeyLevel::National),
            &request,
        )
        .map(|_| ())
    });
    // a credit beyond the card's limit (6985)
    let mut limited = open(account_sim(
        Algorithm::Sm4,
        AccountSpec::default().with_balance(100).with_limit(150),
    ));
    let e = refused(&mut limited, false, &["balance limit", "0.51"], |c| {
        let holder_pin = pin("123456");
        account::credit(
            c,
            &mut host(),
            &CreditRequest {
                amount: Fen(51),
                host_time: time("20240601080000"),
                terminal: terminal(),
                key_index: 1,
                pin: Some(&holder_pin),
            },
        )
        .map(|_| ())
    });
    assert!(matches!(
        e,
        Error::Account(AccountError::BalanceLimit { .. })
    ));
    // beyond 4 bytes: refused by the card (6985), or by the library from INITIALIZE's balance
    let mut full = open(account_sim(
        Algorithm::Sm4,
        AccountSpec::default().with_balance(u32::MAX - 10),
    ));
    refused(&mut full, false, &["balance limit"], |c| {
        let holder_pin = pin("123456");
        account::credit(
            c,
            &mut host(),
            &CreditRequest {
                amount: Fen(11),
                host_time: time("20240601080000"),
                terminal: terminal(),
                key_index: 1,
                pin: Some(&holder_pin),
            },
        )
        .map(|_| ())
    });
}

#[test]
fn cards_that_cannot_take_the_transaction() {
    // self-pay and pooled amounts on a card of the personal account only: refused before
    // INITIALIZE, whose record could not hold them
    let mut short = open(account_sim(
        Algorithm::Sm4,
        AccountSpec::default().account_only().with_balance(100),
    ));
    purchase(&mut short, amounts(10, 0, 0)).unwrap();
    let e = refused(
        &mut short,
        false,
        &["personal account only", "20-byte"],
        |c| purchase(c, amounts(10, 1, 0)),
    );
    assert!(matches!(e, Error::Account(AccountError::AccountOnlyCard)));
    // a card without the account (DF04 without the offline account)
    let spec = card_spec(sscard::profile::Generation::V3, Algorithm::Sm4, SERIAL)
        .with_data_areas(sscard::sim::DataAreas::national());
    let mut plain = open(personalized_sim_of(spec));
    let e = purchase(&mut plain, amounts(1, 0, 0)).unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::NoAccount(_))),
        "{e}"
    );
    assert!(e.to_string().contains("no medical insurance account"));
    // a blocked card: 9303, nothing moves
    let mut blocked = open(account_sim(
        Algorithm::Sm4,
        AccountSpec::default().with_balance(100),
    ));
    sscard::lifecycle::block_application(&mut blocked, &mut test_keys()).unwrap();
    let e = refused(&mut blocked, false, &["permanently blocked"], |c| {
        purchase(c, amounts(1, 0, 0))
    });
    assert!(matches!(e, Error::ApplicationBlocked), "{e}");
}

/// A reader whose card answers READ RECORD of DF04 EF08 with records of `len` bytes, or
/// INITIALIZE FOR PURCHASE with `len` bytes: a card of an unknown processing mode, a card
/// that answers garbage.
struct Odd {
    inner: SimTransport<SimCard>,
    ins: u8,
    len: usize,
}

impl AsSim for Odd {
    fn sim(&self) -> &SimCard {
        self.inner.card()
    }
}

impl Transport for Odd {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let answer = self.inner.transmit(command)?;
        let hit = command.get(1) == Some(&self.ins)
            && (self.ins != 0xB2 || command.get(3) == Some(&0x44))
            || (command.get(1) == Some(&0xC0) && self.ins == 0x28 && answer.len() == 24);
        if hit && answer.ends_with(&[0x90, 0x00]) {
            let mut out = vec![0x32; self.len];
            out.extend_from_slice(&[0x90, 0x00]);
            return Ok(out);
        }
        if hit && answer.first() == Some(&0x6C) {
            return Ok(vec![0x6C, self.len as u8]);
        }
        Ok(answer)
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.inner.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.inner.reset_epoch()
    }
}

#[test]
fn an_unknown_processing_mode_and_garbage() {
    let mut sim = account_sim(Algorithm::Sm4, AccountSpec::default().with_balance(1_000));
    // a first purchase so that EF08 has a record
    {
        let mut card = open(sim);
        purchase(&mut card, amounts(1, 0, 0)).unwrap();
        sim = card.into_transport().into_card();
        sim.reset();
    }
    let mut odd = Card::open(Odd {
        inner: SimTransport::new(sim),
        ins: 0xB2,
        len: 24,
    })
    .unwrap();
    let e = refused(
        &mut odd,
        false,
        &["24 bytes", "unknown processing mode"],
        |c| purchase(c, amounts(1, 2, 3)),
    );
    assert!(matches!(e, Error::Account(AccountError::UnknownMode(24))));
    let e = account::records(&mut odd, Some(&pin("123456"))).unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::UnknownMode(24))),
        "{e}"
    );
    // INITIALIZE FOR PURCHASE answering 10 bytes: a malformed answer, no DEBIT sent
    let sim = odd.into_transport().inner.into_card();
    let mut garbage = Card::open(Odd {
        inner: SimTransport::new(sim),
        ins: 0x28,
        len: 10,
    })
    .unwrap();
    let e = refused(
        &mut garbage,
        false,
        &["INITIALIZE FOR PURCHASE", "10 bytes"],
        |c| purchase(c, amounts(1, 0, 0)),
    );
    assert!(matches!(e, Error::MalformedResponse { .. }), "{e}");
}

#[test]
fn reader_interface_strings_that_do_not_fit() {
    let mut card = open(account_sim(
        Algorithm::Sm4,
        AccountSpec::default().with_balance(100),
    ));
    let holder_pin = pin("123456");
    for pkey in [
        "",
        "00000001|20240615093000|",
        "1|20240615093000|00000000|",
        "00000001|20240615093001|00000000|",
        "00000001|20240615093000|0000000G|",
    ] {
        let request =
            PurchaseRequest::new(amounts(0, 1, 1), time("20240615093000")).with_pin(&holder_pin);
        let step =
            account::hsm_purchase_step1(&mut card, &request, TerminalNumber::NONE, 1).unwrap();
        refused(&mut card, true, &["HSM"], |c| {
            account::hsm_purchase_step2(c, step, pkey).map(|_| ())
        });
    }
}
