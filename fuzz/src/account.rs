//! The medical account commands of the simulated card and PSAM (fuzz target `sim_account`,
//! docs/reliability.md "Fuzzing"; part 5 §7, part 7 §11-12, §14, part 9 §9.9-9.10).
//!
//! [`check_sim_account`] takes a start byte and a stream of operations:
//!
//! - start byte: bit 0 SM4 (else 3DES), bit 1 a card of the personal account only (20-byte
//!   records), bit 2 T=1, bit 3 a card without PIN, bits 4-5 the balance (0, 1.00, 500.00,
//!   42949672.95 yuan, the last also the card's limit);
//! - `F0 <amount 4> <time 7>`: a credit, the host's MAC2 computed with the card's keys
//!   (INITIALIZE FOR LOAD, CREDIT FOR LOAD);
//! - `F1 <account 4> <self-pay 4> <pooled 4> <time 7>`: a purchase, MAC1 computed with the
//!   card's DPK (INITIALIZE FOR PURCHASE, DEBIT FOR PURCHASE); the time bytes as given (so
//!   times that are no time reach the card);
//! - `F2` power-on reset; `F3 t` a power loss armed (bit 7: after APDU t & 7F, else at write
//!   t); `F4` SELECT DF04; `F5` VERIFY of the right PIN; `F6 n <n bytes>` an APDU to the PSAM
//!   (which holds the purchase key); `F7` a purchase through the PSAM (INIT SAM FOR PURCHASE,
//!   DEBIT, CREDIT SAM FOR PURCHASE);
//! - any other byte `n`: an APDU of `n` bytes to the card.
//!
//! The properties, after every operation:
//!
//! - the card answers at least a status word (nothing while it has no power), at most 258
//!   bytes; so does the PSAM;
//! - money moves only as a whole transaction: when the account changed, exactly one detail
//!   record was added (or the oldest replaced in a full file), one of the two serials went up by
//!   one and the record carries the serial it had, the balance moved by the record's account
//!   amount (up for a credit, down for a purchase), the proof of that kind is the record's
//!   serial, the balance stays within the card's limit; and only CREDIT FOR LOAD or DEBIT FOR
//!   PURCHASE changed it (never GET BALANCE, GET TRANSACTION PROOF, INITIALIZE …);
//! - the image round-trips JSON after every write; the PSAM's transaction serial only grows.

use sscard_core::account::{
    Fen, ProcessingMode, PurchaseAmounts, TerminalNumber, TransactionKind, TransactionTime,
};
use sscard_core::crypto::{account as ac, SecretKey};
use sscard_core::keys::KeyRole;
use sscard_core::lifecycle::{self, Card, PersonalizeOptions};
use sscard_core::profile::Generation;
use sscard_core::Algorithm;
use sscard_sim::areas::FileContent;
use sscard_sim::{
    AccountImage, AccountSpec, CardImage, CardSpec, DataAreas, PsamSpec, SimCard, SimPsam,
    SimTransport, Tear,
};

/// The terminal number of the fuzzed purchases (the PSAM's EF 0016).
pub const TERMINAL: &str = "639900000042";

/// Operation codes.
pub mod op {
    /// A credit with the right MAC2.
    pub const CREDIT: u8 = 0xF0;
    /// A purchase with the right MAC1.
    pub const PURCHASE: u8 = 0xF1;
    /// Power-on reset.
    pub const RESET: u8 = 0xF2;
    /// A power loss armed.
    pub const TEAR: u8 = 0xF3;
    /// SELECT DF04.
    pub const SELECT: u8 = 0xF4;
    /// VERIFY of the right PIN.
    pub const VERIFY: u8 = 0xF5;
    /// An APDU to the PSAM.
    pub const PSAM: u8 = 0xF6;
    /// A purchase through the PSAM.
    pub const PSAM_PURCHASE: u8 = 0xF7;
}

const BALANCES: [u32; 4] = [0, 100, 50_000, u32::MAX];

fn build(start: u8) -> CardImage {
    let algorithm = if start & 1 != 0 {
        Algorithm::Sm4
    } else {
        Algorithm::Tdes
    };
    let balance = BALANCES[usize::from(start >> 4 & 3)];
    let mut account = AccountSpec::default().with_balance(balance);
    if start & 2 != 0 {
        account = account.account_only();
    }
    if balance == u32::MAX {
        account = account.with_limit(u32::MAX);
    } else {
        account = account.with_limit(1_000_000);
    }
    let spec = CardSpec::new(
        Generation::V3,
        algorithm,
        "639900".parse().expect("region"),
        [0x00, 0xFA, 0xCC, 0x01],
    )
    .with_data_areas(DataAreas::national().with_account(account));
    let sim = SimCard::blank(spec, &crate::root_keys()).expect("card");
    let mut card = Card::open(SimTransport::new(sim)).expect("open");
    lifecycle::personalize(
        &mut card,
        &mut crate::test_keys(),
        &crate::fixture_person(2),
        &PersonalizeOptions::default(),
    )
    .expect("personalize");
    let mut image = card.into_transport().into_card().into_image();
    if start & 8 != 0 {
        image.pin = sscard_sim::PinRecord::empty();
    }
    image
}

/// The card of a start byte, built once per process.
fn card(start: u8) -> SimCard {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<u8, CardImage>>> = OnceLock::new();
    let key = start & 0x3B;
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let image = {
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.entry(key).or_insert_with(|| build(key)).clone()
    };
    let mut sim = SimCard::from_image(image).expect("image");
    sim.set_t0(start & 4 == 0);
    sim.seed_rng(u64::from(start));
    sim
}

fn account(sim: &SimCard) -> AccountImage {
    sim.image().areas["DF04"]
        .account
        .clone()
        .expect("the account")
}

fn records(sim: &SimCard) -> (Vec<Vec<u8>>, usize) {
    match sim.image().areas["DF04"].files.get("EF08") {
        Some(FileContent::Cyclic { records, capacity }) => {
            (records.iter().map(|r| r.0.clone()).collect(), *capacity)
        }
        _ => (Vec::new(), 0),
    }
}

fn key(sim: &SimCard, role: KeyRole) -> Option<SecretKey> {
    let k = account(sim).key(role)?.value.clone();
    SecretKey::from_bytes(k.expose()).ok()
}

/// Sends `apdu`; a `61xx` is followed by GET RESPONSE (T=0). The responses, in order.
fn send(sim: &mut SimCard, apdu: &[u8]) -> Vec<Vec<u8>> {
    let first = sim.handle(apdu);
    let mut out = vec![first.clone()];
    if let [0x61, n] = first.as_slice() {
        out.push(sim.handle(&[0x00, 0xC0, 0x00, 0x00, *n]));
    }
    out
}

fn data_of(responses: &[Vec<u8>]) -> Option<Vec<u8>> {
    let last = responses.last()?;
    let (data, sw) = last.split_at(last.len().checked_sub(2)?);
    (sw == [0x90, 0x00]).then(|| data.to_vec())
}

fn apdu(header: [u8; 4], data: &[u8], le: u8) -> Vec<u8> {
    let mut out = header.to_vec();
    out.push(data.len() as u8);
    out.extend_from_slice(data);
    out.push(le);
    out
}

fn terminal() -> TerminalNumber {
    TerminalNumber::parse(TERMINAL).expect("terminal")
}

/// A credit with the host's MAC2 computed from the card's DLK.
fn credit(sim: &mut SimCard, amount: [u8; 4], time: [u8; 7]) -> Vec<Vec<u8>> {
    let alg = sim.image().algorithm;
    let mut data = vec![0x01];
    data.extend_from_slice(&amount);
    data.extend_from_slice(&terminal().0);
    let mut out = send(sim, &apdu([0xB0, 0x28, 0x00, 0x01], &data, 0x10));
    let Some(init) = data_of(&out).filter(|d| d.len() == 16) else {
        return out;
    };
    let mac2 = key(sim, KeyRole::Dlk)
        .and_then(|dlk| {
            let serial = u16::from_be_bytes([init[4], init[5]]);
            let random = [init[8], init[9], init[10], init[11]];
            let seslk = ac::seslk(alg, &dlk, random, serial).ok()?;
            ac::credit_mac2(alg, &seslk, Fen::from_bytes(amount), terminal(), time).ok()
        })
        .unwrap_or([0; 4]);
    let mut body = time.to_vec();
    body.extend_from_slice(&mac2);
    out.extend(send(sim, &apdu([0xB0, 0x2A, 0x00, 0x00], &body, 0x04)));
    out
}

/// A purchase with MAC1 computed from the card's DPK.
fn purchase(sim: &mut SimCard, amounts: [u8; 12], time: [u8; 7]) -> Vec<Vec<u8>> {
    let alg = sim.image().algorithm;
    let mut data = vec![0x01];
    data.extend_from_slice(&amounts);
    data.extend_from_slice(&terminal().0);
    let mut out = send(sim, &apdu([0xB0, 0x28, 0x01, 0x01], &data, 0x16));
    let Some(init) = data_of(&out).filter(|d| d.len() == 22) else {
        return out;
    };
    let terminal_serial = 0x0102_0304;
    let mac1 = key(sim, KeyRole::Dpk)
        .and_then(|dpk| {
            let serial = u16::from_be_bytes([init[14], init[15]]);
            let random = [init[18], init[19], init[20], init[21]];
            let sespk = ac::sespk(alg, &dpk, random, serial, terminal_serial).ok()?;
            ac::purchase_mac1(
                alg,
                &sespk,
                PurchaseAmounts::from_bytes(&amounts),
                0x02,
                terminal(),
                time,
            )
            .ok()
        })
        .unwrap_or([0; 4]);
    let mut body = terminal_serial.to_be_bytes().to_vec();
    body.extend_from_slice(&time);
    body.extend_from_slice(&mac1);
    out.extend(send(sim, &apdu([0xB0, 0x2C, 0x01, 0x00], &body, 0x08)));
    out
}

/// A purchase through the PSAM: INIT SAM FOR PURCHASE for the card's answer, DEBIT, CREDIT SAM.
fn psam_purchase(sim: &mut SimCard, psam: &mut SimPsam) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let amounts = PurchaseAmounts::account_only(Fen(1));
    let mut data = vec![0x01];
    data.extend_from_slice(&amounts.to_bytes());
    data.extend_from_slice(&terminal().0);
    let mut card_out = send(sim, &apdu([0xB0, 0x28, 0x01, 0x01], &data, 0x16));
    let mut psam_out = Vec::new();
    let Some(init) = data_of(&card_out).filter(|d| d.len() == 22) else {
        return (card_out, psam_out);
    };
    let time = TransactionTime::parse("20240615093000").expect("time");
    let factors = CardSpec::new(
        Generation::V3,
        sim.image().algorithm,
        "639900".parse().expect("region"),
        [0x00, 0xFA, 0xCC, 0x01],
    )
    .factors();
    let request = sscard_core::account::commands::Mac1Request {
        card_random: [init[18], init[19], init[20], init[21]],
        card_serial: u16::from_be_bytes([init[14], init[15]]),
        amounts,
        type_byte: 2,
        time,
        key_version: init[16],
        algorithm: init[17],
        terminal: terminal(),
    };
    let command = sscard_core::account::commands::init_sam_for_purchase(
        &request,
        &[factors.card, factors.city, factors.province],
    );
    let bytes = command.to_bytes().map(|b| b.to_vec()).unwrap_or_default();
    // the PSAM's social security application (part 9 §5)
    psam_out.push(psam.handle(&[
        0x00, 0xA4, 0x04, 0x00, 0x06, 0xD1, 0x56, 0x00, 0x00, 0x05, 0x90,
    ]));
    let first = psam.handle(&bytes);
    psam_out.push(first.clone());
    let answer = match first.as_slice() {
        [0x61, n] => psam.handle(&[0x00, 0xC0, 0x00, 0x00, *n]),
        _ => first,
    };
    psam_out.push(answer.clone());
    let Some(d) = data_of(&[answer]).filter(|d| d.len() == 8) else {
        return (card_out, psam_out);
    };
    let mut body = d[..4].to_vec();
    body.extend_from_slice(&time.to_bcd());
    body.extend_from_slice(&d[4..]);
    let debit = send(sim, &apdu([0xB0, 0x2C, 0x01, 0x00], &body, 0x08));
    if let Some(r) = data_of(&debit).filter(|r| r.len() == 8) {
        let mut check = vec![0x80, 0x72, 0x00, 0x00, 0x04];
        check.extend_from_slice(&r[4..]);
        psam_out.push(psam.handle(&check));
    }
    card_out.extend(debit);
    (card_out, psam_out)
}

fn check_response(r: &[u8], torn: bool, who: &str) {
    if torn {
        assert!(r.is_empty(), "a torn {who} answered");
    } else {
        assert!(r.len() >= 2, "a {who} response without a status word");
    }
    assert!(r.len() <= 258, "a {who} response of {} bytes", r.len());
}

/// Checks one change of the account (see the module documentation); `writer` is whether the
/// operation sent CREDIT FOR LOAD or DEBIT FOR PURCHASE.
fn check_change(before: &SimCard, after: &SimCard, writer: bool) {
    let (a, b) = (account(before), account(after));
    if a == b {
        return;
    }
    let money = (
        a.balance,
        a.self_pay_total,
        a.pooled_total,
        a.online_serial,
        a.offline_serial,
    ) != (
        b.balance,
        b.self_pay_total,
        b.pooled_total,
        b.online_serial,
        b.offline_serial,
    ) || a.proofs != b.proofs;
    if !money {
        // a key's try counter or the starting day
        return;
    }
    assert!(
        writer,
        "the account changed without CREDIT FOR LOAD or DEBIT FOR PURCHASE"
    );
    let (old, capacity) = records(before);
    let (new, _) = records(after);
    let added = if old.len() < capacity {
        new.len() == old.len() + 1 && new[1..] == old[..]
    } else {
        new.len() == old.len() && new[1..] == old[..old.len() - 1]
    };
    assert!(added, "a transaction adds exactly one detail record");
    let mode = b.mode().expect("mode");
    let record = &new[0];
    assert_eq!(record.len(), mode.record_len());
    let serial = u16::from_be_bytes([record[0], record[1]]);
    let amount = u32::from_be_bytes([record[16], record[17], record[18], record[19]]);
    let kind = TransactionKind::from_record_code(record[2]).expect("type '1' or '2'");
    match kind {
        TransactionKind::Credit => {
            assert_eq!(
                (b.online_serial, b.offline_serial),
                (a.online_serial + 1, a.offline_serial)
            );
            assert_eq!(serial, a.online_serial);
            assert_eq!(
                u64::from(b.balance),
                u64::from(a.balance) + u64::from(amount)
            );
            assert_eq!(
                (b.self_pay_total, b.pooled_total),
                (a.self_pay_total, a.pooled_total)
            );
        }
        TransactionKind::Purchase => {
            assert_eq!(
                (b.online_serial, b.offline_serial),
                (a.online_serial, a.offline_serial + 1)
            );
            assert_eq!(serial, a.offline_serial);
            assert_eq!(
                u64::from(b.balance) + u64::from(amount),
                u64::from(a.balance)
            );
            if mode == ProcessingMode::ThreeAmounts && a.payment_year == b.payment_year {
                let part = |i: usize| {
                    u32::from_be_bytes([record[i], record[i + 1], record[i + 2], record[i + 3]])
                };
                assert_eq!(
                    u64::from(b.self_pay_total),
                    u64::from(a.self_pay_total) + u64::from(part(20))
                );
                assert_eq!(
                    u64::from(b.pooled_total),
                    u64::from(a.pooled_total) + u64::from(part(24))
                );
            }
        }
    }
    assert!(
        b.balance <= b.balance_limit,
        "the balance stays within the limit"
    );
    let proof = b
        .proof(kind.type_byte())
        .expect("the proof is kept with the amounts");
    assert_eq!(proof.serial, serial, "the proof is the new transaction's");
}

/// What a run did: successful credits and purchases (for the seeds' test).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Credits the card applied.
    pub credits: u32,
    /// Purchases the card applied.
    pub purchases: u32,
}

/// Runs an input (see the module documentation) and checks its properties; what it did.
pub fn run_sim_account(data: &[u8]) -> Stats {
    let mut stats = Stats::default();
    let Some((&start, mut stream)) = data.split_first() else {
        return stats;
    };
    let mut sim = card(start);
    let algorithm = sim.image().algorithm;
    let spec = PsamSpec::new(algorithm, TERMINAL).with_account_keys();
    let mut psam = SimPsam::from_root_keys(&crate::root_keys(), &spec).expect("PSAM");
    psam.seed_rng(u64::from(start));
    // n bytes, or `None` past the end; `upto`: at most n
    let mut take = |n: usize, upto: bool| -> Option<Vec<u8>> {
        let n = if upto { n.min(stream.len()) } else { n };
        (stream.len() >= n).then(|| {
            let (a, b) = stream.split_at(n);
            stream = b;
            a.to_vec()
        })
    };
    let mut writes = sim.persistent_writes();
    while let Some(op) = take(1, false).map(|b| b[0]) {
        let before = SimCard::from_image(sim.image().clone()).expect("image");
        let serial_before = psam.image().transaction_serial;
        let (responses, psam_responses, writer) = match op {
            op::CREDIT => {
                let Some(d) = take(11, false) else { break };
                let r = credit(
                    &mut sim,
                    [d[0], d[1], d[2], d[3]],
                    d[4..11].try_into().expect("7"),
                );
                (r, Vec::new(), true)
            }
            op::PURCHASE => {
                let Some(d) = take(19, false) else { break };
                let r = purchase(
                    &mut sim,
                    d[..12].try_into().expect("12"),
                    d[12..19].try_into().expect("7"),
                );
                (r, Vec::new(), true)
            }
            op::PSAM_PURCHASE => {
                let (r, p) = psam_purchase(&mut sim, &mut psam);
                (r, p, true)
            }
            op::RESET => {
                sim.reset();
                psam.reset();
                continue;
            }
            op::TEAR => {
                let Some(t) = take(1, false).map(|b| b[0]) else {
                    break;
                };
                sim.arm_tear(if t & 0x80 != 0 {
                    Tear::AfterApdu(u64::from(t & 0x7F))
                } else {
                    Tear::AtWrite(u64::from(t))
                });
                continue;
            }
            op::SELECT => (
                send(
                    &mut sim,
                    &[
                        0x00, 0xA4, 0x04, 0x00, 0x06, 0xD1, 0x56, 0x00, 0x00, 0x05, 0x03, 0x00,
                    ],
                ),
                Vec::new(),
                false,
            ),
            op::VERIFY => (
                send(&mut sim, &[0x00, 0x20, 0x00, 0x00, 0x03, 0x12, 0x34, 0x56]),
                Vec::new(),
                false,
            ),
            op::PSAM => {
                let Some(n) = take(1, false).map(|b| usize::from(b[0])) else {
                    break;
                };
                let apdu = take(n, true).unwrap_or_default();
                (Vec::new(), vec![psam.handle(&apdu)], false)
            }
            n => {
                let apdu = take(usize::from(n), true).unwrap_or_default();
                let writer = matches!(apdu.as_slice(), [0xB0, 0x2A | 0x2C, ..]);
                (vec![sim.handle(&apdu)], Vec::new(), writer)
            }
        };
        for r in &responses {
            // only a card without power stays silent
            check_response(r, r.is_empty() && sim.is_torn(), "card");
        }
        for r in &psam_responses {
            check_response(r, false, "PSAM");
        }
        assert!(
            psam.image().transaction_serial >= serial_before,
            "EF 0019 only grows"
        );
        let (a, b) = (account(&before), account(&sim));
        if b.balance != a.balance
            || b.online_serial != a.online_serial
            || b.offline_serial != a.offline_serial
        {
            if b.online_serial > a.online_serial {
                stats.credits += 1;
            } else {
                stats.purchases += 1;
            }
        }
        check_change(&before, &sim, writer);
        if sim.persistent_writes() != writes {
            writes = sim.persistent_writes();
            let json = sim.save_json().expect("the image serializes");
            let loaded = SimCard::load_json(&json).expect("the serialized image loads");
            assert_eq!(loaded.image(), sim.image(), "the image round-trips JSON");
        }
    }
    stats
}

/// The fuzz target's property (see the module documentation).
pub fn check_sim_account(data: &[u8]) {
    let _ = run_sim_account(data);
}

/// Encodes a credit of `fen` at `time` (`YYYYMMDDHHMMSS`).
pub fn credit_op(fen: u32, time: &str) -> Vec<u8> {
    let mut out = vec![op::CREDIT];
    out.extend_from_slice(&fen.to_be_bytes());
    out.extend_from_slice(&hex::decode(time).expect("time"));
    out
}

/// Encodes a purchase of the three amounts at `time` (raw BCD, possibly no time at all).
pub fn purchase_op(account: u32, self_pay: u32, pooled: u32, time: &str) -> Vec<u8> {
    let mut out = vec![op::PURCHASE];
    for a in [account, self_pay, pooled] {
        out.extend_from_slice(&a.to_be_bytes());
    }
    out.extend_from_slice(&hex::decode(time).expect("time"));
    out
}

/// An APDU to the card.
pub fn apdu_op(apdu: &str) -> Vec<u8> {
    let bytes = hex::decode(apdu.replace(' ', "")).expect("hex");
    let mut out = vec![bytes.len() as u8];
    out.extend_from_slice(&bytes);
    out
}

/// The seeds of `fixtures/fuzz/sim_account/`, by name.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let select = vec![op::SELECT, op::VERIFY];
    let cat = |parts: Vec<Vec<u8>>| parts.concat();
    vec![
        (
            "credit-purchase-balance-sm4",
            cat(vec![
                vec![0x01],
                select.clone(),
                credit_op(20_000, "20240601080000"),
                purchase_op(1_250, 300, 4_000, "20240615093000"),
                apdu_op("B026000104"),
                apdu_op("B026000206"),
                apdu_op("B02E0002020000 08"),
            ]),
        ),
        (
            "account-only-3des-t1",
            cat(vec![
                vec![0x06 | 0x20],
                select.clone(),
                purchase_op(100, 0, 0, "20240615093000"),
                purchase_op(100, 1, 1, "20240615093000"),
                apdu_op("00B2014414"),
            ]),
        ),
        (
            "torn-debit-and-proof",
            cat(vec![
                vec![0x21],
                select.clone(),
                vec![op::TEAR, 0x83],
                purchase_op(50, 0, 0, "20240615093000"),
                vec![op::RESET],
                select.clone(),
                apdu_op("B02E0002020000 08"),
                vec![op::TEAR, 0x01],
                credit_op(1, "20240601080000"),
            ]),
        ),
        (
            "state-machine-and-bad-times",
            cat(vec![
                vec![0x11],
                select.clone(),
                apdu_op("B02A00000B 2024060108000000000000 04"),
                apdu_op("B0280101 13 01 00000001 00000000 00000000 639900000042 16"),
                apdu_op("B026000104"),
                apdu_op("B02C01000F 00000001 20240615093000 00000000 08"),
                purchase_op(1, 0, 0, "20241345993000"),
                purchase_op(2, 0, 0, "FFFFFFFFFFFFFF"),
                credit_op(u32::MAX, "20240601080000"),
            ]),
        ),
        (
            "psam-purchase-and-psam-apdus",
            cat(vec![
                vec![0x29],
                select.clone(),
                vec![op::PSAM_PURCHASE, op::PSAM_PURCHASE],
                vec![op::PSAM, 5, 0x80, 0x72, 0x00, 0x00, 0x04],
                vec![op::PSAM, 9, 0x80, 0x72, 0x00, 0x00, 0x04, 1, 2, 3, 4],
                vec![op::PSAM, 4, 0x80, 0x70, 0x01, 0x00],
            ]),
        ),
        (
            "full-balance-limit",
            cat(vec![
                vec![0x31],
                select,
                credit_op(1, "20240601080000"),
                purchase_op(u32::MAX, u32::MAX, u32::MAX, "20240615093000"),
                purchase_op(1, u32::MAX, u32::MAX, "20250615093000"),
            ]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<(String, Vec<u8>)> {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = here.join("../fixtures/fuzz/sim_account");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .expect("fixtures/fuzz/sim_account")
            .map(|e| {
                let path = e.expect("entry").path();
                let name = path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&path).expect("seed"))
            })
            .collect();
        files.sort();
        files
    }

    /// `SSCARD_WRITE_SEEDS=1` writes the seeds again.
    #[test]
    fn write_seeds() {
        if std::env::var_os("SSCARD_WRITE_SEEDS").is_none() {
            return;
        }
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = here.join("../fixtures/fuzz/sim_account");
        std::fs::create_dir_all(&dir).expect("folder");
        for (name, bytes) in seeds() {
            std::fs::write(dir.join(name), bytes).expect("seed");
        }
    }

    /// Every seed and regression input holds the property; the checked-in seeds are the ones
    /// [`seeds`] makes, and they reach credits and purchases (with the right MACs, through the
    /// PSAM, torn).
    #[test]
    fn every_seed_passes_and_the_seeds_move_money() {
        let files = corpus();
        let mut total = Stats::default();
        for (_, bytes) in &files {
            let s = run_sim_account(bytes);
            total.credits += s.credits;
            total.purchases += s.purchases;
        }
        for (name, bytes) in seeds() {
            let found = files.iter().find(|(n, _)| n == name);
            assert_eq!(
                found.map(|(_, b)| b),
                Some(&bytes),
                "seed {name} is checked in"
            );
        }
        assert!(total.credits >= 1 && total.purchases >= 7, "{total:?}");
    }

    /// A change of the account outside a transaction breaks the property.
    #[test]
    #[should_panic(expected = "without CREDIT FOR LOAD or DEBIT FOR PURCHASE")]
    fn the_property_sees_money_moved_by_another_command() {
        let before = card(0x21);
        let mut image = before.image().clone();
        if let Some(a) = image.areas.get_mut("DF04").and_then(|a| a.account.as_mut()) {
            a.balance += 1;
        }
        let after = SimCard::from_image(image).expect("image");
        check_change(&before, &after, false);
    }
}
