//! Tear sweeps over the medical account's transactions (part 7 §14; docs/reliability.md):
//! power lost after every APDU and at every persistent write of a credit and of purchases,
//! on 3DES and SM4 cards, T=0 and T=1, followed by what a real terminal does.
//!
//! For each operation the untorn run from the start state gives its APDU count A and write
//! count W. Then for every n in 1..=A (power lost after the n-th APDU) and every n in 1..=W
//! (at the n-th write), a fresh card in the start state is torn there, put back in the reader,
//! and the terminal recovers as part 7 §14 says: a transaction whose writing command was sent
//! (the library's [`AccountError::Interrupted`] with the pending transaction) is asked about
//! with GET TRANSACTION PROOF — a proof means done, `9406` means not applied and the
//! transaction is started again; any other failure happened before anything could be written
//! and the transaction is started again. Then, counting only what the terminal (or the host)
//! holds a TAC for:
//!
//! - **lost**: the card's balance is below start + completed credits − completed debits;
//! - **created**: above it (or the year's totals differ from the completed amounts);
//! - **double-applied**: the card counted (serials, detail records) more transactions than
//!   were completed;
//! - **proof missing**: a completed transaction whose proof GET TRANSACTION PROOF does not
//!   give, or whose TAC the host (DTK) does not accept.
//!
//! The table goes to `target/tmp/tearing-account.md`; any non-zero count fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/account.rs"]
mod account_common;
mod common;

use std::fmt::Write as _;
use std::time::Instant;

use sscard::account::{AccountError, Fen, PendingTransaction, TransactionKind};
use sscard::crypto::KeyLevel;
use sscard::keyholder::account::check_tac;
use sscard::lifecycle::account::{self, CreditRequest, PurchaseRequest, Recovery};
use sscard::lifecycle::Card;
use sscard::sim::{AccountSpec, CardImage, SimCard, SimTransport, Tear};
use sscard::{Algorithm, Error};

use account_common::*;
use common::*;

/// The operations swept.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// 帐户划入 of 200.00 yuan, the host a key file.
    Credit,
    /// A purchase of three amounts through the PSAM (the mode read first).
    Purchase,
    /// A purchase from the account alone on a card of 20-byte records.
    PurchaseAccountOnly,
}

impl Op {
    const ALL: [Op; 3] = [Op::Credit, Op::Purchase, Op::PurchaseAccountOnly];

    fn name(self) -> &'static str {
        match self {
            Op::Credit => "credit 200.00",
            Op::Purchase => "purchase 12.50 + 3.00 + 40.00",
            Op::PurchaseAccountOnly => "purchase 12.50 (account-only card)",
        }
    }

    fn account(self) -> AccountSpec {
        match self {
            Op::PurchaseAccountOnly => AccountSpec::default().account_only().with_balance(5_000),
            _ => AccountSpec::default().with_balance(5_000),
        }
    }

    fn run(self, card: &mut TestCard, psam: &mut SimPsamT) -> Result<Completed, Error> {
        let holder_pin = pin("123456");
        let receipt = match self {
            Op::Credit => account::credit(
                card,
                &mut host(),
                &CreditRequest {
                    amount: Fen(20_000),
                    host_time: time("20240601080000"),
                    terminal: terminal(),
                    key_index: 1,
                    pin: Some(&holder_pin),
                },
            )?,
            Op::Purchase | Op::PurchaseAccountOnly => {
                let a = match self {
                    Op::Purchase => amounts(1_250, 300, 4_000),
                    _ => amounts(1_250, 0, 0),
                };
                account::purchase(
                    card,
                    psam,
                    &PurchaseRequest::new(a, time("20240615093000")).with_pin(&holder_pin),
                )?
            }
        };
        Ok(Completed {
            transaction: receipt.transaction,
            tac: receipt.tac,
        })
    }
}

type TestCard = Card<SimTransport<SimCard>>;

/// A transaction the terminal holds a TAC for.
#[derive(Debug, Clone)]
struct Completed {
    transaction: PendingTransaction,
    tac: [u8; 4],
}

#[derive(Debug, Default)]
struct Row {
    operation: String,
    card: String,
    tear: String,
    points: u64,
    done: u64,
    proved: u64,
    retried: u64,
    lost: u64,
    created: u64,
    double: u64,
    unproved: u64,
}

fn image_card(image: &CardImage) -> TestCard {
    Card::open(SimTransport::new(
        SimCard::from_image(image.clone()).unwrap(),
    ))
    .unwrap()
}

/// What the account holds: balance, totals, serials, detail records.
fn state(image: &CardImage) -> (u32, u32, u32, u16, u16, usize) {
    let area = &image.areas["DF04"];
    let a = area.account.as_ref().unwrap();
    let records = match area.files.get("EF08") {
        Some(sscard::sim::FileContent::Cyclic { records, .. }) => records.len(),
        _ => 0,
    };
    (
        a.balance,
        a.self_pay_total,
        a.pooled_total,
        a.online_serial,
        a.offline_serial,
        records,
    )
}

/// One tear point: the torn run, the terminal's recovery, the checks. Adds to `row`.
fn trial(
    op: Op,
    start: &CardImage,
    algorithm: Algorithm,
    tear: Tear,
    row: &mut Row,
    failures: &mut Vec<String>,
) {
    let mut problems = Vec::new();
    let mut card = image_card(start);
    card.raw().transport_mut().card_mut().arm_tear(tear);
    let mut psam = psam_holder(algorithm, KeyLevel::National);
    let result = op.run(&mut card, &mut psam);
    if card.channel().transport().card().tear_fired() != Some(tear) {
        problems.push(format!("{tear} did not fire"));
    }
    // the card back in the reader
    card.raw().transport_mut().insert_card();
    let mut completed = Vec::new();
    let mut retry = false;
    match result {
        Ok(c) => {
            row.done += 1;
            completed.push(c);
        }
        Err(Error::Account(AccountError::Interrupted { pending, .. })) => {
            match account::recover(&mut card, &pending) {
                Ok(Recovery::Completed(proof)) => {
                    row.proved += 1;
                    completed.push(Completed {
                        transaction: *pending,
                        tac: proof.tac,
                    });
                }
                Ok(Recovery::NotApplied) => retry = true,
                Err(e) => problems.push(format!("recovery: {e}")),
            }
        }
        // before the writing command: nothing can have moved
        Err(_) => retry = true,
    }
    if retry {
        row.retried += 1;
        match op.run(&mut card, &mut psam) {
            Ok(c) => completed.push(c),
            Err(e) => problems.push(format!("retry: {e}")),
        }
    }
    // the money: start + completed credits − completed debits
    let image = card.channel().transport().card().image().clone();
    let (b0, spip0, spfp0, on0, off0, rec0) = state(start);
    let (b, spip, spfp, on, off, rec) = state(&image);
    let mut expected = i64::from(b0);
    let (mut self_pay, mut pooled) = (0u32, 0u32);
    for c in &completed {
        let amount = i64::from(c.transaction.amounts.account.0);
        match c.transaction.kind {
            TransactionKind::Credit => expected += amount,
            TransactionKind::Purchase => {
                expected -= amount;
                self_pay += c.transaction.amounts.self_pay.0;
                pooled += c.transaction.amounts.pooled.0;
            }
        }
    }
    let balance = i64::from(b);
    if balance < expected {
        row.lost += 1;
        problems.push(format!("lost: balance {b}, expected {expected}"));
    }
    let totals_wrong =
        matches!(op, Op::Purchase) && (spip != spip0 + self_pay || spfp != spfp0 + pooled);
    if balance > expected || totals_wrong {
        row.created += 1;
        problems.push(format!(
            "created: balance {b} (expected {expected}), totals {spip}/{spfp}"
        ));
    }
    let counted = usize::from(on - on0) + usize::from(off - off0);
    if counted > completed.len() || rec - rec0 > completed.len() {
        row.double += 1;
        problems.push(format!(
            "{counted} transactions counted, {} records added, {} completed",
            rec - rec0,
            completed.len()
        ));
    }
    if completed.len() != 1 {
        problems.push(format!("{} transactions completed, not 1", completed.len()));
    }
    // every completed transaction has its proof, and its TAC is the card's
    for c in &completed {
        let t = &c.transaction;
        let proof = account::proof(&mut card, t.kind, t.card_serial);
        let ctx = card.context().unwrap();
        let tac_good = check_tac(&mut host(), &ctx, t, c.tac).unwrap();
        match proof {
            Ok(Some(p)) if p.tac == c.tac && tac_good => {}
            other => {
                row.unproved += 1;
                problems.push(format!("proof of {} {}: {other:?}", t.kind, t.card_serial));
            }
        }
    }
    if !problems.is_empty() {
        failures.push(format!(
            "{} on {} {tear}: {}",
            op.name(),
            row.card,
            problems.join("; ")
        ));
    }
}

fn sweep(op: Op, algorithm: Algorithm, t1: bool, failures: &mut Vec<String>) -> Vec<Row> {
    let mut spec = account_spec(algorithm, op.account());
    if t1 {
        spec = spec.with_t1();
    }
    let start = personalized_sim_of(spec).into_image();
    // the untorn run: its APDUs and writes
    let mut card = image_card(&start);
    card.raw()
        .transport_mut()
        .card_mut()
        .arm_tear(Tear::AtWrite(u64::MAX));
    let mut psam = psam_holder(algorithm, KeyLevel::National);
    op.run(&mut card, &mut psam).unwrap();
    let sim = card.channel().transport().card();
    let (apdus, writes) = (sim.apdus_since_arming(), sim.writes_since_arming());
    let label = format!("{} T={}", algorithm.name(), if t1 { 1 } else { 0 });
    let mut rows = Vec::new();
    for (name, points, make) in [
        ("after APDU", apdus, Tear::AfterApdu as fn(u64) -> Tear),
        ("at write", writes, Tear::AtWrite as fn(u64) -> Tear),
    ] {
        let mut row = Row {
            operation: op.name().into(),
            card: label.clone(),
            tear: name.into(),
            points,
            ..Row::default()
        };
        for n in 1..=points {
            trial(op, &start, algorithm, make(n), &mut row, failures);
        }
        rows.push(row);
    }
    rows
}

#[test]
fn money_is_never_lost_created_or_applied_twice() {
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for algorithm in [Algorithm::Tdes, Algorithm::Sm4] {
        for t1 in [false, true] {
            for op in Op::ALL {
                rows.extend(sweep(op, algorithm, t1, &mut failures));
            }
        }
    }
    let mut md = "### Tear sweeps: the medical account (part 7 §14)\n\n".to_owned();
    md.push_str(
        "| operation | card | tear | points | done | recovered by proof | not applied, retried | lost | created | double-applied | proof missing |\n",
    );
    md.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &rows {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.operation,
            r.card,
            r.tear,
            r.points,
            r.done,
            r.proved,
            r.retried,
            r.lost,
            r.created,
            r.double,
            r.unproved
        )
        .unwrap();
    }
    let sum = |f: fn(&Row) -> u64| rows.iter().map(f).sum::<u64>();
    writeln!(
        md,
        "\nTotal: {} tear points; {} completed at once, {} recovered by GET TRANSACTION PROOF, {} not applied and retried; {} lost, {} created, {} double-applied, {} without proof ({:.1} s).\n",
        sum(|r| r.points),
        sum(|r| r.done),
        sum(|r| r.proved),
        sum(|r| r.retried),
        sum(|r| r.lost),
        sum(|r| r.created),
        sum(|r| r.double),
        sum(|r| r.unproved),
        started.elapsed().as_secs_f64()
    )
    .unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("tearing-account.md"), &md).unwrap();
    println!("{md}");
    assert!(rows.iter().all(|r| r.points > 0), "{md}");
    // the sweep reaches both outcomes of the recovery
    assert!(sum(|r| r.proved) > 0 && sum(|r| r.retried) > 0, "{md}");
    assert!(
        failures.is_empty(),
        "{md}\n{}",
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
