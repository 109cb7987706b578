//! The medical account through the library (`sscard::lifecycle::account`) against the
//! simulated card, with a PSAM, a development key file and an HSM as key holders (part 5 §7;
//! part 7 §11-12, §14; part 9 §9.9-9.10; reader interface §8-9): amounts, balances, records,
//! proofs, TACs, the PIN, the refusals, recovery, and the APDU budget of a purchase.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/account.rs"]
mod account_common;
mod common;

use sscard::account::{
    ri_debit_records, ri_pay_info, AccountError, Fen, ProcessingMode, TransactionKind,
};
use sscard::crypto::KeyLevel;
use sscard::keyholder::account::{HsmPurchase, Mac2Check, SoftTerminal};
use sscard::lifecycle::account::{self, CreditRequest, PurchaseRequest, Recovery};
use sscard::sim::{AccountSpec, SimCard, SimTransport};
use sscard::transport::{Transport, TransportError};
use sscard::{Algorithm, Error};

use account_common::*;
use common::*;

fn credit_request<'a>(fen: u32, pin: Option<&'a sscard::crypto::Pin>) -> CreditRequest<'a> {
    CreditRequest {
        amount: Fen(fen),
        host_time: time("20240601080000"),
        terminal: terminal(),
        key_index: 1,
        pin,
    }
}

/// The hospital's day: the holder's online account credited to the card, a purchase of three
/// amounts through the PSAM, balance, records and proofs read back — on both algorithms, T=0
/// and T=1, with PSAMs holding national, province and city keys.
#[test]
fn credit_and_purchase_with_a_psam() {
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        for (t1, level) in [
            (false, KeyLevel::National),
            (true, KeyLevel::Province),
            (false, KeyLevel::City),
        ] {
            let mut spec = account_spec(alg, AccountSpec::default());
            if t1 {
                spec = spec.with_t1();
            }
            let mut card = open(personalized_sim_of(spec));
            let holder_pin = pin("123456");
            let credit = account::credit(
                &mut card,
                &mut host(),
                &credit_request(20_000, Some(&holder_pin)),
            )
            .unwrap();
            assert_eq!(credit.transaction.balance_before, Fen(0));
            assert_eq!(credit.balance_after, Fen(20_000));
            assert_eq!(credit.transaction.card_serial, 0);
            assert!(tac_ok(&mut card, &credit), "{alg} {level:?}");

            let mut psam = psam_holder(alg, level);
            let request = PurchaseRequest::new(amounts(1_250, 300, 4_000), time("20240615093000"))
                .with_pin(&holder_pin);
            let receipt = account::purchase(&mut card, &mut psam, &request).unwrap();
            assert_eq!(receipt.mac2_check, Mac2Check::Verified);
            assert_eq!(receipt.transaction.balance_before, Fen(20_000));
            assert_eq!(receipt.balance_after, Fen(18_750));
            assert_eq!(receipt.transaction.terminal_serial, 0);
            assert_eq!(receipt.transaction.terminal, terminal());
            assert_eq!(psam_serial(&psam), 1);
            assert!(tac_ok(&mut card, &receipt));
            // a second purchase: the card and the PSAM count
            let second = PurchaseRequest::new(amounts(50, 0, 0), time("20240616100000"))
                .with_pin(&holder_pin);
            let r2 = account::purchase(&mut card, &mut psam, &second).unwrap();
            assert_eq!(
                (r2.transaction.card_serial, r2.transaction.terminal_serial),
                (1, 1)
            );
            assert_eq!(r2.balance_after, Fen(18_700));

            let balance = account::balance(&mut card, Some(&holder_pin)).unwrap();
            assert_eq!(balance.account, Fen(18_700));
            assert_eq!(balance.self_pay_total, Fen(300));
            assert_eq!(balance.pooled_total, Fen(4_000));
            assert_eq!(balance.payment_year, 2024);
            let (records, mode) = account::records(&mut card, Some(&holder_pin)).unwrap();
            assert_eq!(mode, Some(ProcessingMode::ThreeAmounts));
            let summary: Vec<_> = records
                .iter()
                .map(|r| (r.serial, r.kind(), r.account.0, r.time.clone()))
                .collect();
            assert_eq!(
                summary,
                [
                    (
                        1,
                        Some(TransactionKind::Purchase),
                        50,
                        "20240616100000".into()
                    ),
                    (
                        0,
                        Some(TransactionKind::Purchase),
                        1_250,
                        "20240615093000".into()
                    ),
                    (
                        0,
                        Some(TransactionKind::Credit),
                        20_000,
                        "20240601080000".into()
                    ),
                ]
            );
            // the proofs: the last purchase's and the credit's; the first purchase's is gone
            let p = account::proof(&mut card, TransactionKind::Purchase, 1)
                .unwrap()
                .unwrap();
            assert_eq!((p.tac, p.mac), (r2.tac, r2.mac2));
            assert_eq!(
                account::proof(&mut card, TransactionKind::Purchase, 0).unwrap(),
                None
            );
            let c = account::proof(&mut card, TransactionKind::Credit, 0)
                .unwrap()
                .unwrap();
            assert_eq!(c.tac, credit.tac);
            assert_eq!(
                ri_debit_records(&records),
                "1^639900000042^20240616100000^0.00^0.00^|0^639900000042^20240615093000^3.00^40.00^|"
            );
        }
    }
}

/// A PSAM holding DLK as the host of a credit (DELIVERY SESSION KEY and CIPHER DATA with
/// SESLK's input as process factor), and a development terminal for the purchase.
#[test]
fn credit_through_a_psam_and_purchase_with_a_key_file() {
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut card = open(without_pin(account_sim(alg, AccountSpec::default())));
        let mut psam = psam_holder(alg, KeyLevel::National);
        let r = account::credit(&mut card, &mut psam, &credit_request(999, None)).unwrap();
        assert_eq!(r.balance_after, Fen(999));
        assert!(tac_ok(&mut card, &r));
        let mut soft = SoftTerminal::new(test_keys(), terminal(), 41);
        let request = PurchaseRequest::new(amounts(999, 0, 0), time("20240615093000"));
        let receipt = account::purchase(&mut card, &mut soft, &request).unwrap();
        assert_eq!(receipt.mac2_check, Mac2Check::Verified);
        assert_eq!(receipt.transaction.terminal_serial, 41);
        assert_eq!(soft.next_serial(), 42);
        assert_eq!(receipt.balance_after, Fen(0));
        assert!(tac_ok(&mut card, &receipt));
        // nothing left: the next purchase is refused for its balance, nothing written
        let again = account::purchase(&mut card, &mut soft, &request).unwrap_err();
        assert!(matches!(
            again,
            Error::Account(AccountError::InsufficientBalance {
                amount: Fen(999),
                ..
            })
        ));
        assert_eq!(account_of(&card).offline_serial, 1);
    }
}

/// The reader interface's HSM steps (§8.2-8.3): step one's line, the HSM's `pKey`, step two's
/// answer; the HSM key holder of the same strings; `iReadDebitRecord`'s format (§9.1.2).
#[test]
fn the_hsm_steps_of_the_reader_interface() {
    let mut card = open(account_sim(
        Algorithm::Sm4,
        AccountSpec::default().with_balance(100),
    ));
    let holder_pin = pin("123456");
    let (amounts, t) = ri_pay_info("150.00|120.50|20240615093000|").unwrap();
    let request = PurchaseRequest::new(amounts, t).with_pin(&holder_pin);
    let step = account::hsm_purchase_step1(
        &mut card,
        &request,
        sscard::account::TerminalNumber::NONE,
        1,
    )
    .unwrap();
    let line = step.line();
    let fields: Vec<&str> = line.split('|').collect();
    // 算法标识|密钥地址|伪随机数|医疗消费交易序号|交易金额|交易类型|终端机编号|交易时间|
    assert_eq!(fields.len(), 9, "{line}");
    assert_eq!(
        [fields[0], fields[1], fields[3], fields[5], fields[6], fields[7], fields[8]],
        [
            "03",
            "017F",
            "0000",
            "02",
            "000000000000",
            "20240615093000",
            ""
        ]
    );
    // the last two amounts: 150.00 = 0x3A98 fen, 120.50 = 0x2F12 fen
    assert_eq!(fields[4], "00003A9800002F12");
    assert_eq!(fields[2].len(), 8);
    let ctx = card.context().unwrap();
    let mut serial = 7;
    let pkey = hsm_answer(&ctx, &line, &mut serial);
    let receipt = account::hsm_purchase_step2(&mut card, step, &pkey).unwrap();
    assert_eq!(receipt.mac2_check, Mac2Check::NotChecked);
    assert_eq!(receipt.balance_after, Fen(100));
    assert!(tac_ok(&mut card, &receipt));
    let out = receipt.ri_hsm_step2_line(1);
    let expected = format!(
        "{}|03|00B5|00003A9800002F12|02|000000000000|00000007|20240615093000|{}|",
        hex::encode_upper(receipt.mac2),
        hex::encode_upper(receipt.tac)
    );
    assert_eq!(out, expected);
    assert_eq!(receipt.ri_debit_line(1), expected[9..]);
    let (records, _) = account::records(&mut card, Some(&holder_pin)).unwrap();
    assert_eq!(
        ri_debit_records(&records),
        "0^000000000000^20240615093000^150.00^120.50^|"
    );

    // the same through the HSM key holder: one purchase, the callback sees step one's line
    let mut seen = Vec::new();
    let mut serial = 20;
    let mut hsm = HsmPurchase::new(|line: &str| {
        seen.push(line.to_owned());
        Ok(hsm_answer(&ctx, line, &mut serial))
    });
    let request = PurchaseRequest::new(amounts, time("20240616093000")).with_pin(&holder_pin);
    let r = account::purchase(&mut card, &mut hsm, &request).unwrap();
    assert_eq!(r.transaction.terminal_serial, 20);
    let _ = hsm;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].starts_with("03|017F|"));
    // an account amount cannot travel in the interface's line: refused before anything is sent
    let before = account_of(&card);
    let e = account::hsm_purchase_step1(
        &mut card,
        &PurchaseRequest::new(amounts_with_account(), t).with_pin(&holder_pin),
        sscard::account::TerminalNumber::NONE,
        1,
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::BadInput(_))),
        "{e}"
    );
    assert_eq!(account_of(&card), before);
    // a pKey of another time sends nothing
    let step = account::hsm_purchase_step1(&mut card, &request, terminal(), 1).unwrap();
    let e = account::hsm_purchase_step2(&mut card, step, "00000001|20240101000000|00000000|")
        .unwrap_err();
    assert!(matches!(e, Error::KeyHolder(_)), "{e}");
    assert_eq!(account_of(&card), before);
}

fn amounts_with_account() -> sscard::account::PurchaseAmounts {
    amounts(1, 2, 3)
}

/// The PIN (part 7 §11-12: "如果持卡人设置"), the refusals of the card (part 7 §11.2, §12.2,
/// §12.5) and of the host; none writes anything.
#[test]
fn the_pin_and_the_refusals() {
    let mut card = open(account_sim(
        Algorithm::Tdes,
        AccountSpec::default().with_balance(500),
    ));
    let before = account_of(&card);
    let mut psam = psam_holder(Algorithm::Tdes, KeyLevel::National);
    let request = PurchaseRequest::new(amounts(100, 0, 0), time("20240615093000"));
    // no PIN for a card that has one
    let e = account::purchase(&mut card, &mut psam, &request).unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::PinRequired)),
        "{e}"
    );
    assert!(matches!(
        account::balance(&mut card, None),
        Err(Error::Account(AccountError::PinRequired))
    ));
    // a wrong PIN: the card counts it, nothing else
    let wrong = pin("654321");
    let e = account::purchase(&mut card, &mut psam, &request.with_pin(&wrong)).unwrap_err();
    assert!(matches!(e, Error::WrongPin { tries_left: 2 }), "{e}");
    let right = pin("123456");
    // more than the balance
    let big = PurchaseRequest::new(amounts(501, 0, 0), time("20240615093000")).with_pin(&right);
    let e = account::purchase(&mut card, &mut psam, &big).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Account(AccountError::InsufficientBalance {
                amount: Fen(501),
                ..
            })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("5.01"));
    // another key index
    let mut other = request.with_pin(&right);
    other.key_index = 2;
    let e = account::purchase(&mut card, &mut psam, &other).unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::KeyIndex(2))),
        "{e}"
    );
    // a terminal whose DPK is not the card's: the card refuses MAC1
    let mut stranger = SoftTerminal::new(keys_with_wrong(&["DPK"]), terminal(), 1);
    let e = account::purchase(&mut card, &mut stranger, &request.with_pin(&right)).unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::Mac1Refused)),
        "{e}"
    );
    // a host whose DLK is not the card's: it finds MAC1 wrong and refuses the credit
    let e = account::credit(
        &mut card,
        &mut keys_with_wrong(&["DLK"]),
        &credit_request(100, Some(&right)),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::CardMac1Invalid)),
        "{e}"
    );
    // nothing moved
    assert_eq!(account_of(&card), before);
    // the PIN counter is back after the right PIN
    let ok = account::purchase(&mut card, &mut psam, &request.with_pin(&right)).unwrap();
    assert_eq!(ok.balance_after, Fen(400));
}

/// Cards without the account: no DF04 at all, or a DF04 without the offline account.
#[test]
fn cards_without_the_account() {
    let plain = open(personalized_sim(
        sscard::profile::Generation::V3,
        Algorithm::Sm4,
        SERIAL,
    ));
    let mut plain = plain;
    let e = account::balance(&mut plain, Some(&pin("123456"))).unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::NoAccount(_))),
        "{e}"
    );
    let spec = card_spec(sscard::profile::Generation::V3, Algorithm::Sm4, SERIAL)
        .with_data_areas(sscard::sim::DataAreas::national());
    let mut areas_only = open(personalized_sim_of(spec));
    let e = account::balance(&mut areas_only, Some(&pin("123456"))).unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::NoAccount(_))),
        "{e}"
    );
    let mut psam = psam_holder(Algorithm::Sm4, KeyLevel::National);
    let e = account::purchase(
        &mut areas_only,
        &mut psam,
        &PurchaseRequest::new(amounts(1, 0, 0), time("20240615093000")).with_pin(&pin("123456")),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Account(AccountError::NoAccount(_))),
        "{e}"
    );
}

/// Part 7 §14: the answer of DEBIT or CREDIT lost, the terminal asks GET TRANSACTION PROOF of
/// the same card: the proof means applied (the TAC is the card's), `9406` not applied (and
/// the transaction goes through when started again); another card is refused.
#[test]
fn recovery_after_a_lost_answer() {
    use sscard::sim::Tear;
    for (tear, applied) in [(Tear::AfterApdu(1), true), (Tear::AtWrite(1), false)] {
        let mut card = open(account_sim(
            Algorithm::Sm4,
            AccountSpec::default().with_balance(1_000),
        ));
        let mut psam = psam_holder(Algorithm::Sm4, KeyLevel::National);
        let holder_pin = pin("123456");
        let request =
            PurchaseRequest::new(amounts(300, 0, 0), time("20240615093000")).with_pin(&holder_pin);
        let prepared = account::prepare_purchase(&mut card, &mut psam, &request).unwrap();
        let pending = prepared.pending.clone();
        card.raw().transport_mut().card_mut().arm_tear(tear);
        let e = account::debit(&mut card, &mut psam, prepared).unwrap_err();
        let Error::Account(AccountError::Interrupted { pending: p, .. }) = e else {
            panic!("{e}");
        };
        assert_eq!(*p, pending);
        // the card is reinserted
        card.raw().transport_mut().insert_card();
        let recovery = account::recover(&mut card, &pending).unwrap();
        match (recovery, applied) {
            (Recovery::Completed(proof), true) => {
                let receipt = sscard::lifecycle::account::Receipt {
                    transaction: pending.clone(),
                    balance_after: Fen(700),
                    tac: proof.tac,
                    mac2: proof.mac,
                    mac2_check: Mac2Check::NotChecked,
                    algorithm: Algorithm::Sm4,
                };
                assert!(tac_ok(&mut card, &receipt));
                assert_eq!(account_of(&card).balance, 700);
            }
            (Recovery::NotApplied, false) => {
                assert_eq!(account_of(&card).balance, 1_000);
                let r = account::purchase(&mut card, &mut psam, &request).unwrap();
                assert_eq!(r.transaction.card_serial, pending.card_serial);
                assert_eq!(r.balance_after, Fen(700));
            }
            other => panic!("{tear}: {other:?}"),
        }
        // another card is not asked
        let other_spec = card_spec(
            sscard::profile::Generation::V3,
            Algorithm::Sm4,
            [1, 2, 3, 4],
        )
        .with_data_areas(sscard::sim::DataAreas::national().with_account(AccountSpec::default()));
        let mut other = open(personalized_sim_of(other_spec));
        let e = account::recover(&mut other, &pending).unwrap_err();
        assert!(
            matches!(e, Error::Account(AccountError::OtherCard(_))),
            "{e}"
        );
    }
}

/// A reader that powers a card up again at once when it lost power (as a reader does after
/// another program reset the card): the exchange fails with "card reset".
struct Repowering(SimTransport<SimCard>);

impl Transport for Repowering {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        match self.0.transmit(command) {
            Err(TransportError::CardRemoved) => {
                self.0.insert_card();
                Err(TransportError::CardReset)
            }
            other => other,
        }
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.0.atr()
    }
    fn reset_epoch(&self) -> u64 {
        self.0.reset_epoch()
    }
}

/// A whole purchase whose DEBIT answer is lost recovers by itself when the card answers again
/// at once: the receipt comes from the proof (the TAC is the card's); when the card stays away
/// the error carries the transaction to recover later.
#[test]
fn purchase_recovers_by_itself_when_the_card_answers_again() {
    use sscard::sim::Tear;
    let holder_pin = pin("123456");
    let request =
        PurchaseRequest::new(amounts(10, 0, 0), time("20240615093000")).with_pin(&holder_pin);
    // on a T=0 card DEBIT is APDU 10: SELECT + GET RESPONSE, 2 READ RECORD, SELECT DF04 + GET
    // RESPONSE, VERIFY, INITIALIZE + GET RESPONSE; its write is the third (VERIFY spends a try
    // and gives it back)
    for (tear, balance) in [(Tear::AfterApdu(10), 990), (Tear::AtWrite(3), 1_000)] {
        let mut sim = account_sim(Algorithm::Tdes, AccountSpec::default().with_balance(1_000));
        sim.arm_tear(tear);
        let mut card = sscard::lifecycle::Card::open(Repowering(SimTransport::new(sim))).unwrap();
        let mut psam = psam_holder(Algorithm::Tdes, KeyLevel::National);
        let r = account::purchase(&mut card, &mut psam, &request);
        let image = card.channel().transport().0.card().image().clone();
        assert_eq!(
            image.areas["DF04"].account.as_ref().unwrap().balance,
            balance
        );
        match r {
            Ok(receipt) => {
                assert_eq!(balance, 990, "{tear}");
                assert_eq!(receipt.balance_after, Fen(990));
                assert_eq!(receipt.mac2_check, Mac2Check::NotChecked);
                let ctx = card.context().unwrap();
                assert!(sscard::keyholder::account::check_tac(
                    &mut test_keys(),
                    &ctx,
                    &receipt.transaction,
                    receipt.tac
                )
                .unwrap());
            }
            Err(Error::Account(AccountError::Interrupted { reason, .. })) => {
                assert_eq!(balance, 1_000, "{tear}");
                assert!(reason.contains("9406"), "{reason}");
            }
            Err(e) => panic!("{tear}: {e}"),
        }
    }
    // a pulled card: the transaction to recover
    let mut sim = account_sim(Algorithm::Tdes, AccountSpec::default().with_balance(1_000));
    sim.arm_tear(Tear::AfterApdu(10));
    let mut card = open(sim);
    let mut psam = psam_holder(Algorithm::Tdes, KeyLevel::National);
    let r = account::purchase(&mut card, &mut psam, &request);
    let Err(Error::Account(AccountError::Interrupted { pending, .. })) = r else {
        panic!("{r:?}");
    };
    card.raw().transport_mut().insert_card();
    assert!(matches!(
        account::recover(&mut card, &pending).unwrap(),
        Recovery::Completed(_)
    ));
    assert_eq!(account_of(&card).balance, 990);
}

/// UPDATE STARTING DAY with DSK through the key holder, GET STARTING DAY with the PIN.
#[test]
fn the_starting_day() {
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut card = open(account_sim(alg, AccountSpec::default()));
        let holder_pin = pin("123456");
        assert_eq!(
            account::starting_day(&mut card, Some(&holder_pin)).unwrap(),
            (1, 1)
        );
        account::update_starting_day(&mut card, &mut test_keys(), 7, 1).unwrap();
        assert_eq!(
            account::starting_day(&mut card, Some(&holder_pin)).unwrap(),
            (7, 1)
        );
        let e = account::update_starting_day(&mut card, &mut test_keys(), 2, 30).unwrap_err();
        assert!(
            matches!(e, Error::Account(AccountError::BadInput(_))),
            "{e}"
        );
        // a new card session: DSK is authenticated again, with a key that is not the card's
        card.raw().transport_mut().power_cycle();
        let e = account::update_starting_day(&mut card, &mut keys_with_wrong(&["DSK"]), 8, 1)
            .unwrap_err();
        assert!(matches!(e, Error::AuthenticationFailed { .. }), "{e}");
        assert_eq!(account_of(&card).starting_day, "0701");
    }
}

/// The APDU budget of one purchase on a fresh card session (T=0 and T=1, with and without the
/// PIN, account only and three amounts): SELECT SSSE, READ RECORD card id and card number,
/// SELECT DF04, [VERIFY], [READ RECORD EF08 for the mode], INITIALIZE FOR PURCHASE, DEBIT FOR
/// PURCHASE, each case 4 command followed by GET RESPONSE on T=0; the PSAM: INIT SAM FOR
/// PURCHASE (+ GET RESPONSE) and CREDIT SAM FOR PURCHASE. No `6Cxx` correction anywhere.
#[test]
fn apdu_budget_of_a_purchase() {
    let cases = [
        // (t1, with PIN, three amounts) → (card APDUs, PSAM APDUs)
        ((false, true, false), (11, 3)),
        ((false, false, false), (10, 3)),
        ((false, true, true), (12, 3)),
        ((true, true, false), (7, 3)),
        ((true, false, false), (6, 3)),
        ((true, true, true), (8, 3)),
    ];
    for ((t1, with_pin, three), (card_apdus, psam_apdus)) in cases {
        let mut spec = account_spec(Algorithm::Sm4, AccountSpec::default().with_balance(10_000));
        if t1 {
            spec = spec.with_t1();
        }
        let mut sim = personalized_sim_of(spec);
        if !with_pin {
            sim = without_pin(sim);
        }
        let mut card = recorded(sim);
        let mut psam = psam_holder(Algorithm::Sm4, KeyLevel::National);
        psam.channel_mut().reset_apdu_count();
        let holder_pin = pin("123456");
        let a = if three {
            amounts(100, 20, 30)
        } else {
            amounts(100, 0, 0)
        };
        let mut request = PurchaseRequest::new(a, time("20240615093000"));
        if with_pin {
            request = request.with_pin(&holder_pin);
        }
        account::purchase(&mut card, &mut psam, &request).unwrap();
        let log = &card.channel().transport().log;
        let listing: Vec<String> = log
            .iter()
            .map(|e| format!("{:02X}{:02X} {:04X}", e.command[0], e.command[1], e.sw()))
            .collect();
        assert_eq!(
            (log.len() as u64, psam.channel().apdu_count()),
            (card_apdus, psam_apdus),
            "t1={t1} pin={with_pin} three={three}: {listing:?}"
        );
        assert!(log.iter().all(|e| e.sw() >> 8 != 0x6C), "{listing:?}");
    }
}
