//! The medical account at the APDU level (part 5 §7, part 7 §11-12, §14): the commands, their
//! status words, the state machine of table 49, the payment-year rule, the two processing
//! modes, DSK, one write per transaction, and the PSAM's INIT SAM / CREDIT SAM FOR PURCHASE.
//!
//! The expected cryptograms are built here byte by byte from the specification's data lists
//! with the primitive process key and MAC of part 4 (`crypto::process_key`, `crypto::mac`),
//! not with `crypto::account`, which the card uses.

use sscard_core::crypto::{self, SecretKey};
use sscard_core::keys::KeyRole;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;

use crate::account::AccountSpec;
use crate::areas::{DataAreas, FileContent};
use crate::psam::{PsamSpec, SimPsam};
use crate::tear::Tear;
use crate::test_support::{h, with_lc, Terminal};

const DF04: &str = "D15600000503";
const TERMINAL: [u8; 6] = [0x51, 0x99, 0x00, 0x00, 0x00, 0x01];

fn terminal_with(alg: Algorithm, account: AccountSpec) -> Terminal {
    let spec = crate::test_support::spec(Generation::V3, alg)
        .with_data_areas(DataAreas::national().with_account(account));
    let mut t = Terminal::with_spec(spec);
    t.select();
    assert_eq!(t.reload("123456"), 0x9000);
    t.reset();
    t
}

fn account_card(alg: Algorithm) -> Terminal {
    terminal_with(alg, AccountSpec::default().with_balance(10_000))
}

/// The process key of `key` for the 8-byte `input` (part 4 §8.4).
fn session(alg: Algorithm, key: &SecretKey, input: &[u8]) -> SecretKey {
    crypto::process_key(alg, key, input).unwrap()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

impl Terminal {
    fn reset(&mut self) {
        self.card.reset();
    }

    fn df04(&mut self) {
        let (_, sw) = self.send(&with_lc([0x00, 0xA4, 0x04, 0x00], &h(DF04)));
        assert_eq!(sw, 0x9000);
    }

    fn df04_with_pin(&mut self) {
        self.df04();
        assert_eq!(self.verify("123456"), 0x9000);
    }

    fn account(&self) -> crate::account::AccountImage {
        self.card.account().unwrap().clone()
    }

    fn ef08(&self) -> Vec<Vec<u8>> {
        let area = self
            .card
            .image()
            .area(sscard_core::profile::areas::DfId::Df(0xDF04))
            .unwrap();
        match area.file(0xEF08) {
            Some(FileContent::Cyclic { records, .. }) => {
                records.iter().map(|r| r.0.clone()).collect()
            }
            _ => panic!("EF08 is cyclic"),
        }
    }

    /// INITIALIZE FOR LOAD of `amount` fen; the 16-byte answer.
    fn init_load(&mut self, amount: u32) -> (Vec<u8>, u16) {
        let data = cat(&[&[0x01], &amount.to_be_bytes(), &TERMINAL]);
        self.send(&with_lc([0xB0, 0x28, 0x00, 0x01], &data))
    }

    /// INITIALIZE FOR PURCHASE; the 22-byte answer.
    fn init_purchase(&mut self, amounts: [u32; 3]) -> (Vec<u8>, u16) {
        let data = cat(&[
            &[0x01],
            &amounts[0].to_be_bytes(),
            &amounts[1].to_be_bytes(),
            &amounts[2].to_be_bytes(),
            &TERMINAL,
        ]);
        self.send(&with_lc([0xB0, 0x28, 0x01, 0x01], &data))
    }

    /// SESPK of the card's answer and terminal serial.
    fn sespk(&self, init: &[u8], terminal_serial: u32) -> SecretKey {
        let input = cat(&[
            &init[18..22],
            &init[14..16],
            &terminal_serial.to_be_bytes()[2..],
        ]);
        session(self.alg, &self.card_key(KeyRole::Dpk), &input)
    }

    /// DEBIT FOR PURCHASE with a MAC1 computed here.
    fn debit(&mut self, init: &[u8], amounts: [u32; 3], serial: u32, time: &str) -> (Vec<u8>, u16) {
        let sespk = self.sespk(init, serial);
        let amount_bytes = cat(&[
            &amounts[0].to_be_bytes(),
            &amounts[1].to_be_bytes(),
            &amounts[2].to_be_bytes(),
        ]);
        let mac1 = crypto::mac(
            self.alg,
            &sespk,
            &cat(&[&amount_bytes, &[0x02], &TERMINAL, &h(time)]),
        )
        .unwrap();
        let data = cat(&[&serial.to_be_bytes(), &h(time), &mac1]);
        self.send(&with_lc([0xB0, 0x2C, 0x01, 0x00], &data))
    }

    /// A whole purchase, PIN presented; the answer to DEBIT.
    fn purchase(&mut self, amounts: [u32; 3], serial: u32, time: &str) -> (Vec<u8>, u16) {
        let (init, sw) = self.init_purchase(amounts);
        assert_eq!(sw, 0x9000);
        self.debit(&init, amounts, serial, time)
    }

    fn balance(&mut self, p2: u8) -> (Vec<u8>, u16) {
        let le = if p2 == 1 { 4 } else { 6 };
        self.raw(&[0xB0, 0x26, 0x00, p2, le])
    }

    fn proof(&mut self, kind: u8, serial: u16) -> (Vec<u8>, u16) {
        let apdu = cat(&[
            &[0xB0, 0x2E, 0x00, kind, 0x02],
            &serial.to_be_bytes(),
            &[0x08],
        ]);
        self.send(&apdu)
    }

    /// EXTERNAL AUTHENTICATION with DSK (card key id 87, \[design\] D34).
    fn authenticate_dsk(&mut self, key: &SecretKey) -> u16 {
        let challenge = self.challenge(8);
        let original = [0x3C; 8];
        let auth = crypto::authenticate(self.alg, key, &challenge, &original).unwrap();
        self.raw(&with_lc(
            [0x00, 0x82, 0x00, 0x87],
            &cat(&[&auth, &original]),
        ))
        .1
    }
}

/// A credit and a purchase, byte by byte (part 5 tables 50-71, part 7 §11-12, §15), on both
/// algorithms: the answers, the cryptograms, the amounts, the counters, the records.
#[test]
fn credit_and_purchase_byte_by_byte() {
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut t = account_card(alg);
        t.df04_with_pin();
        // INITIALIZE FOR LOAD: balance ‖ serial ‖ key version ‖ algorithm ‖ random ‖ MAC1
        let (init, sw) = t.init_load(2_000);
        assert_eq!(sw, 0x9000);
        assert_eq!(init.len(), 16);
        assert_eq!(&init[..4], &10_000u32.to_be_bytes());
        assert_eq!(&init[4..8], &[0x00, 0x00, 0x01, alg.to_byte()]);
        let seslk = session(
            alg,
            &t.card_key(KeyRole::Dlk),
            &cat(&[&init[8..12], &init[4..6], &[0x80, 0x00]]),
        );
        let mac1 = crypto::mac(
            alg,
            &seslk,
            &cat(&[&init[..4], &2_000u32.to_be_bytes(), &[0x01], &TERMINAL]),
        )
        .unwrap();
        assert_eq!(&init[12..], &mac1, "{alg}");
        // CREDIT FOR LOAD with the host's MAC2 over amount ‖ type ‖ terminal ‖ host time
        let host_time = h("20240601080000");
        let mac2 = crypto::mac(
            alg,
            &seslk,
            &cat(&[&2_000u32.to_be_bytes(), &[0x01], &TERMINAL, &host_time]),
        )
        .unwrap();
        let (tac, sw) = t.send(&with_lc(
            [0xB0, 0x2A, 0x00, 0x00],
            &cat(&[&host_time, &mac2]),
        ));
        assert_eq!(sw, 0x9000);
        // TAC with DTK: new balance ‖ serial before ‖ amount ‖ type ‖ terminal ‖ host time
        let dtk = crypto::tac_key(alg, &t.card_key(KeyRole::Dtk)).unwrap();
        let expected = crypto::mac(
            alg,
            &dtk,
            &cat(&[
                &12_000u32.to_be_bytes(),
                &[0x00, 0x00],
                &2_000u32.to_be_bytes(),
                &[0x01],
                &TERMINAL,
                &host_time,
            ]),
        )
        .unwrap();
        assert_eq!(tac, expected);
        let a = t.account();
        assert_eq!(
            (a.balance, a.online_serial, a.offline_serial),
            (12_000, 1, 0)
        );
        assert_eq!(
            t.ef08()[0],
            cat(&[
                &[0, 0, b'1'],
                &TERMINAL,
                &host_time,
                &h("000007D0 00000000 00000000")
            ])
        );

        // a purchase of three amounts
        let amounts = [1_250, 300, 4_000];
        let (init, sw) = t.init_purchase(amounts);
        assert_eq!(sw, 0x9000);
        assert_eq!(init.len(), 22);
        assert_eq!(&init[..14], &h("00002EE0 00000000 00000000 0000"));
        assert_eq!(&init[14..18], &[0x00, 0x00, 0x01, alg.to_byte()]);
        let (answer, sw) = t.debit(&init, amounts, 0x0000_0102, "20240615093000");
        assert_eq!(sw, 0x9000);
        let sespk = t.sespk(&init, 0x102);
        let amount_bytes = h("000004E2 0000012C 00000FA0");
        assert_eq!(
            &answer[4..],
            &crypto::mac(alg, &sespk, &amount_bytes).unwrap()
        );
        let tac = crypto::mac(
            alg,
            &dtk,
            &cat(&[
                &amount_bytes,
                &[0x02],
                &TERMINAL,
                &0x102u32.to_be_bytes(),
                &h("20240615093000"),
            ]),
        )
        .unwrap();
        assert_eq!(&answer[..4], &tac);
        let a = t.account();
        assert_eq!(
            (
                a.balance,
                a.self_pay_total,
                a.pooled_total,
                a.payment_year.as_str()
            ),
            (10_750, 300, 4_000, "2024")
        );
        assert_eq!((a.online_serial, a.offline_serial), (1, 1));
        assert_eq!(
            t.ef08()[0],
            cat(&[
                &[0, 0, b'2'],
                &TERMINAL,
                &h("20240615093000"),
                &amount_bytes
            ])
        );
        // GET BALANCE (PIN verified), the totals with the payment year
        assert_eq!(t.balance(1), (h("000029FE"), 0x9000));
        assert_eq!(t.balance(2), (h("0000012C 2024"), 0x9000));
        assert_eq!(t.balance(3), (h("00000FA0 2024"), 0x9000));
        // GET TRANSACTION PROOF: MAC ‖ TAC of each kind's last transaction
        assert_eq!(t.proof(2, 0), (cat(&[&answer[4..], &answer[..4]]), 0x9000));
        assert_eq!(t.proof(1, 0).1, 0x9000);
        assert_eq!(t.proof(2, 1).1, 0x9406);
        assert_eq!(t.proof(1, 1).1, 0x9406);
    }
}

/// Table 49: what each state accepts; a failed or foreign command leaves the card idle;
/// GET BALANCE, GET TRANSACTION PROOF and GET RESPONSE keep the state.
#[test]
fn the_state_machine_of_table_49() {
    let mut t = account_card(Algorithm::Sm4);
    t.df04_with_pin();
    let credit = with_lc([0xB0, 0x2A, 0x00, 0x00], &[0; 11]);
    let debit = with_lc([0xB0, 0x2C, 0x01, 0x00], &[0; 15]);
    // idle: neither CREDIT nor DEBIT
    assert_eq!(t.raw(&credit).1, 0x6901);
    assert_eq!(t.raw(&debit).1, 0x6901);
    // credit state: DEBIT refused (and the card is idle again)
    assert_eq!(t.init_load(100).1, 0x9000);
    assert_eq!(t.raw(&debit).1, 0x6901);
    assert_eq!(t.raw(&credit).1, 0x6901);
    // purchase state kept by GET BALANCE and GET TRANSACTION PROOF
    let (init, sw) = t.init_purchase([100, 0, 0]);
    assert_eq!(sw, 0x9000);
    assert_eq!(t.balance(1).1, 0x9000);
    assert_eq!(t.proof(2, 9).1, 0x9406);
    assert_eq!(t.raw(&credit).1, 0x6901);
    // the 6901 put it back to idle: the right DEBIT is refused now
    let (_, sw) = t.debit(&init, [100, 0, 0], 1, "20240101120000");
    assert_eq!(sw, 0x6901);
    // INITIALIZE again from any state; another class's command ends the state
    let (init, _) = t.init_purchase([100, 0, 0]);
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.debit(&init, [100, 0, 0], 1, "20240101120000").1, 0x6901);
    // a failed GET BALANCE (wrong Le) ends it too
    let (init, _) = t.init_purchase([100, 0, 0]);
    assert_eq!(t.raw(&[0xB0, 0x26, 0x00, 0x01, 0x06]).1, 0x6700);
    assert_eq!(t.debit(&init, [100, 0, 0], 1, "20240101120000").1, 0x6901);
    // GET RESPONSE (T=0) keeps it: the answer was read through it above, and
    let (init, _) = t.init_purchase([100, 0, 0]);
    assert_eq!(t.debit(&init, [100, 0, 0], 1, "20240101120000").1, 0x9000);
    assert_eq!(t.account().balance, 9_900);
    // a reset, and selecting DF04 again, leave the card idle
    let (init, _) = t.init_purchase([100, 0, 0]);
    t.df04();
    assert_eq!(t.debit(&init, [100, 0, 0], 2, "20240101120000").1, 0x6901);
}

/// The refusals of part 5 tables 53-78 and part 7 §11.2, §12.2, §12.5; nothing is written by
/// any of them.
#[test]
fn refusals_write_nothing() {
    let mut t = account_card(Algorithm::Tdes);
    let before = t.card.image().clone();
    // outside DF04: 6985
    t.select();
    assert_eq!(t.balance(1).1, 0x6985);
    t.df04();
    // no PIN presented: 6982 for INITIALIZE, GET BALANCE, GET STARTING DAY; proof needs none
    assert_eq!(t.init_load(1).1, 0x6982);
    assert_eq!(t.init_purchase([1, 0, 0]).1, 0x6982);
    assert_eq!(t.balance(1).1, 0x6982);
    assert_eq!(t.sw("B056010002"), 0x6982);
    assert_eq!(t.proof(2, 0).1, 0x9406);
    assert_eq!(t.verify("123456"), 0x9000);
    // key index 02: 9403
    let data = cat(&[&[0x02], &1u32.to_be_bytes(), &TERMINAL]);
    assert_eq!(t.send(&with_lc([0xB0, 0x28, 0x00, 0x01], &data)).1, 0x9403);
    // more than the balance: 9401
    assert_eq!(t.init_purchase([10_001, 0, 0]).1, 0x9401);
    // a wrong MAC1: 9302, and the card is idle
    let (init, _) = t.init_purchase([100, 0, 0]);
    let mut data = cat(&[&1u32.to_be_bytes(), &h("20240101120000"), &[0; 4]]);
    assert_eq!(t.send(&with_lc([0xB0, 0x2C, 0x01, 0x00], &data)).1, 0x9302);
    assert_eq!(t.debit(&init, [100, 0, 0], 1, "20240101120000").1, 0x6901);
    // a wrong MAC2 of a credit: 9302
    assert_eq!(t.init_load(100).1, 0x9000);
    data = cat(&[&h("20240101120000"), &[0; 4]]);
    assert_eq!(t.send(&with_lc([0xB0, 0x2A, 0x00, 0x00], &data)).1, 0x9302);
    // P1 P2 and lengths
    assert_eq!(t.sw("B0280201 0B 01 00000001 639900000000 10"), 0x6A86);
    assert_eq!(t.sw("B0280001 0A 010000000163990000000000"), 0x6700);
    assert_eq!(t.sw("B0260004 04"), 0x6A86);
    assert_eq!(t.sw("B0260001"), 0x6700);
    assert_eq!(t.sw("B0260002 04"), 0x6700);
    assert_eq!(t.sw("B02E0003 02 0000 08"), 0x6A86);
    assert_eq!(t.sw("B02E0002 01 00 08"), 0x6700);
    assert_eq!(t.sw("B0560200 02"), 0x6A86);
    assert_eq!(t.sw("B0990000"), 0x6D00);
    // the details file is the card OS's: UPDATE RECORD 6982 even with every key
    assert_eq!(
        t.raw(&with_lc([0x00, 0xDC, 0x00, 0x43], &[0; 28])).1,
        0x6982
    );
    // the image is what it was but for the PIN counter (VERIFY spends and restores it)
    let after = t.card.image().clone();
    assert_eq!(after.areas, before.areas);

    // a card without the account does not know the class
    let spec = crate::test_support::spec(Generation::V3, Algorithm::Sm4)
        .with_data_areas(DataAreas::national());
    let mut plain = Terminal::with_spec(spec);
    plain.df04();
    assert_eq!(plain.balance(1).1, 0x6E00);
}

/// The limits: the counters at FFFF (9402), a credit beyond the card's limit (6985), a time
/// that is no time (6985 after the MAC).
#[test]
fn counters_limits_and_times() {
    let mut t = terminal_with(
        Algorithm::Sm4,
        AccountSpec::default().with_balance(900).with_limit(1_000),
    );
    t.df04_with_pin();
    assert_eq!(t.init_load(101).1, 0x6985);
    assert_eq!(t.init_load(100).1, 0x9000);
    let (_, sw) = t.purchase([100, 0, 0], 1, "20241301120000");
    assert_eq!(sw, 0x6985);
    assert_eq!(t.account().balance, 900);
    let mut image = t.card.image().clone();
    let account = image
        .areas
        .get_mut("DF04")
        .and_then(|a| a.account.as_mut())
        .unwrap();
    account.online_serial = 0xFFFF;
    account.offline_serial = 0xFFFF;
    let mut t2 = Terminal {
        card: crate::SimCard::from_image(image).unwrap(),
        alg: t.alg,
        spec: t.spec.clone(),
        keys: t.keys.clone(),
    };
    t2.df04_with_pin();
    assert_eq!(t2.init_load(1).1, 0x9402);
    assert_eq!(t2.init_purchase([1, 0, 0]).1, 0x9402);
}

/// Part 7 §12.6: n = date − (payment year × 10000 + starting day); within the year the totals
/// add up, at or past its end they restart and the payment year becomes the settlement year.
#[test]
fn the_payment_year_rule() {
    let mut t = terminal_with(
        Algorithm::Sm4,
        AccountSpec {
            starting_day: 701,
            ..AccountSpec::default().with_balance(100_000)
        },
    );
    t.df04_with_pin();
    let totals = |t: &Terminal| {
        let a = t.account();
        (a.self_pay_total, a.pooled_total, a.payment_year)
    };
    // the first purchase (payment year 0000): 2024-03-01 is in the year that began 2023-07-01
    assert_eq!(t.purchase([0, 10, 20], 1, "20240301100000").1, 0x9000);
    assert_eq!(totals(&t), (10, 20, "2023".into()));
    // 2024-06-30: still 2023's year (n = 20240630 − 20230701 = 9929)
    assert_eq!(t.purchase([0, 1, 2], 2, "20240630235959").1, 0x9000);
    assert_eq!(totals(&t), (11, 22, "2023".into()));
    // 2024-07-01: n = 10000, a new year
    assert_eq!(t.purchase([0, 5, 6], 3, "20240701000000").1, 0x9000);
    assert_eq!(totals(&t), (5, 6, "2024".into()));
    // a terminal clock before the year's start still adds (n < 10000)
    assert_eq!(t.purchase([0, 1, 1], 4, "20240101000000").1, 0x9000);
    assert_eq!(totals(&t), (6, 7, "2024".into()));
    // the balance was never touched: these purchases were paid by cash and the fund
    assert_eq!(t.account().balance, 100_000);
    assert_eq!(t.ef08().len(), 4);
}

/// A card that keeps the personal account only (part 7 §12): 20-byte records, the totals and
/// the payment year unused.
#[test]
fn a_card_of_the_personal_account_only() {
    let mut t = terminal_with(
        Algorithm::Tdes,
        AccountSpec::default().account_only().with_balance(500),
    );
    t.df04_with_pin();
    assert_eq!(t.purchase([200, 0, 0], 9, "20240615093000").1, 0x9000);
    let a = t.account();
    assert_eq!((a.balance, a.self_pay_total, a.pooled_total), (300, 0, 0));
    assert_eq!(t.ef08()[0].len(), 20);
    assert_eq!(t.raw(&[0x00, 0xB2, 0x01, 0x44, 0x1C]), (Vec::new(), 0x6C14));
    let (record, sw) = t.raw(&[0x00, 0xB2, 0x01, 0x44, 0x14]);
    assert_eq!(sw, 0x9000);
    assert_eq!(
        record,
        cat(&[&[0, 0, b'2'], &TERMINAL, &h("20240615093000 000000C8")])
    );
}

/// UPDATE STARTING DAY needs DSK (EXTERNAL AUTHENTICATION, key id 87, in DF04); GET STARTING
/// DAY the PIN.
#[test]
fn starting_day_with_dsk() {
    let mut t = account_card(Algorithm::Sm4);
    t.df04();
    assert_eq!(t.sw("B056000002 0701"), 0x6982);
    let wrong = t.card_key(KeyRole::Dlk);
    assert_eq!(t.authenticate_dsk(&wrong), 0x63C2);
    let dsk = t.card_key(KeyRole::Dsk);
    assert_eq!(t.authenticate_dsk(&dsk), 0x9000);
    assert_eq!(t.account().keys["DSK"].tries_left, 3);
    assert_eq!(t.sw("B056000002 1301"), 0x6985);
    assert_eq!(t.sw("B056000002 0701"), 0x9000);
    assert_eq!(t.account().starting_day, "0701");
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.hex("B056010002"), (h("0701"), 0x9000));
    // outside DF04 DSK is no key of the DF
    t.select();
    let challenge = t.challenge(8);
    let auth = crypto::authenticate(t.alg, &dsk, &challenge, &[0; 8]).unwrap();
    assert_eq!(
        t.raw(&with_lc([0x00, 0x82, 0x00, 0x87], &cat(&[&auth, &[0; 8]])))
            .1,
        0x6A88
    );
}

/// Part 7 §14: a transaction is one write — torn at it, nothing changed and no proof; torn
/// after it, everything changed and the proof is there.
#[test]
fn a_transaction_is_one_write() {
    for tear in [Tear::AtWrite(1), Tear::AfterApdu(1)] {
        let mut t = account_card(Algorithm::Sm4);
        t.df04_with_pin();
        let (init, _) = t.init_purchase([100, 1, 2]);
        let before = t.account();
        let sespk = t.sespk(&init, 5);
        let mac1 = crypto::mac(
            t.alg,
            &sespk,
            &cat(&[
                &h("00000064 00000001 00000002 02"),
                &TERMINAL,
                &h("20240101120000"),
            ]),
        )
        .unwrap();
        let data = cat(&[&5u32.to_be_bytes(), &h("20240101120000"), &mac1]);
        t.card.arm_tear(tear);
        assert!(t
            .card
            .handle(&with_lc([0xB0, 0x2C, 0x01, 0x00], &data))
            .is_empty());
        t.reset();
        t.df04();
        let after = t.account();
        match tear {
            Tear::AtWrite(_) => {
                assert_eq!(after, before);
                assert!(t.ef08().is_empty());
                assert_eq!(t.proof(2, 0).1, 0x9406);
            }
            Tear::AfterApdu(_) => {
                assert_eq!(after.balance, before.balance - 100);
                assert_eq!(after.offline_serial, 1);
                assert_eq!(t.ef08().len(), 1);
                assert_eq!(t.proof(2, 0).1, 0x9000);
            }
        }
    }
}

/// The PSAM: INIT SAM FOR PURCHASE gives the MAC1 the card accepts and counts EF 0019; CREDIT
/// SAM FOR PURCHASE checks the card's MAC2 (9302 when wrong, 6901 without a session); the key
/// version, the algorithm byte and the factor count are checked.
#[test]
fn the_psam_computes_mac1_and_checks_mac2() {
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut t = account_card(alg);
        let mut psam = SimPsam::from_root_keys(
            &t.keys,
            &PsamSpec::new(alg, "519900000001").with_account_keys(),
        )
        .unwrap();
        let send = |psam: &mut SimPsam, apdu: &[u8]| {
            let (d, sw) = crate::test_support::split(psam.handle(apdu));
            if sw >> 8 == 0x61 {
                return crate::test_support::split(
                    psam.handle(&[0x00, 0xC0, 0x00, 0x00, sw as u8]),
                );
            }
            (d, sw)
        };
        assert_eq!(
            send(
                &mut psam,
                &with_lc([0x00, 0xA4, 0x04, 0x00], &h("D15600000590"))
            )
            .1,
            0x9000
        );
        t.df04_with_pin();
        let (init, sw) = t.init_purchase([100, 1, 2]);
        assert_eq!(sw, 0x9000);
        let f = t.spec.factors();
        let fixed = cat(&[
            &init[18..22],
            &init[14..16],
            &h("00000064 00000001 00000002 02 20240101 120000"),
            &init[16..18],
        ]);
        let factors = cat(&[&f.card, &f.city, &f.province]);
        // two factors for a national key: 6A80; another version or algorithm: 6A88
        let apdu = |fixed: &[u8], factors: &[u8]| {
            cat(&[
                &with_lc([0x80, 0x70, 0x01, 0x00], &cat(&[fixed, factors])),
                &[0x08],
            ])
        };
        assert_eq!(send(&mut psam, &apdu(&fixed, &factors[..16])).1, 0x6A80);
        let mut other = fixed.clone();
        other[26] = 0x02;
        assert_eq!(send(&mut psam, &apdu(&other, &factors)).1, 0x6A88);
        other = fixed.clone();
        other[27] = 0x02;
        assert_eq!(send(&mut psam, &apdu(&other, &factors)).1, 0x6A88);
        assert_eq!(psam.image().transaction_serial, 0);
        assert_eq!(send(&mut psam, &h("8072000004 00000000")).1, 0x6901);
        let (answer, sw) = send(&mut psam, &apdu(&fixed, &factors));
        assert_eq!(sw, 0x9000);
        assert_eq!(&answer[..4], &[0, 0, 0, 0]);
        assert_eq!(psam.image().transaction_serial, 1);
        // the terminal number MAC1 covers is the PSAM's EF 0016: the card's INITIALIZE had it
        let data = cat(&[&answer[..4], &h("20240101120000"), &answer[4..]]);
        let (debit, sw) = t.send(&with_lc([0xB0, 0x2C, 0x01, 0x00], &data));
        assert_eq!(sw, 0x9000, "{alg}");
        assert_eq!(
            send(&mut psam, &cat(&[&h("8072000004"), &debit[4..]])).1,
            0x9000
        );
        // the session is used once
        assert_eq!(
            send(&mut psam, &cat(&[&h("8072000004"), &debit[4..]])).1,
            0x6901
        );
        let (_, sw) = send(&mut psam, &apdu(&fixed, &factors));
        assert_eq!(sw, 0x9000);
        assert_eq!(psam.image().transaction_serial, 2);
        assert_eq!(send(&mut psam, &h("8072000004 01020304")).1, 0x9302);
    }
}
