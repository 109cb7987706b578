//! In-process benchmark (no PC/SC) of the specification's protocol:
//!
//! - one full card lifecycle per generation and algorithm: `personalize` (initial PIN by PIN
//!   RELOAD with PUK/STKSSSE, the data items under UKSSSE, read-back), `read_verified`
//!   (INTERNAL AUTHENTICATION with IRK, and RKSSSE on 3.0) and `activate` (CHANGE PIN), through
//!   `Card<SimTransport<SimCard>>` with the key file as key holder; and the same on 2.0 with a
//!   simulated PSAM (DELIVERY SESSION KEY + CIPHER DATA, part 9) as key holder;
//! - the simulated card's APDUs per second (`SimCard::handle`) and the PSAM's key-holder
//!   operations per second;
//! - crypto operations per second per algorithm: diversification (one factor, and the three
//!   levels of a card key), process key, authentication data, MAC, enciphered PIN, one block;
//! - the data areas (V2.0 notice): the service hall's job on a 3.0 card with the key file — the
//!   employment area read with the PIN, an employment record appended with UK3DF02
//!   (`lifecycle::areas`).
//!
//! - the medical account: one offline purchase (`lifecycle::account::purchase`) on a 3.0 card
//!   with the account, through a simulated PSAM (INIT SAM / CREDIT SAM FOR PURCHASE), with and
//!   without the holder's PIN, T=0 (target: 100 µs in process).
//!
//! Blank cards are made before the timed region (a printing station receives blank cards);
//! the timed part opens the card and runs the three operations.
//!
//! `cargo bench --bench inprocess` (or `scripts/bench.sh`); prints a markdown table of medians.
//! `SSCARD_BENCH_CARDS` sets the lifecycles per configuration (default 2000);
//! `SSCARD_BENCH_ONLY=lifecycle|simulator|crypto|areas|account` runs one section.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::hint::black_box;

use common::{
    blank, env_or, generation_name, key_file, person, personalized, print_table, psam, rate_row,
    rates, roots, time, time_row, Row,
};
use sscard::apdu::commands::{get_challenge, internal_authenticate, read_record, select_aid};
use sscard::apdu::RecordRef;
use sscard::crypto::{self, CardFactors, Pin};
use sscard::data::Personalization;
use sscard::keyholder::{CardContext, KeyFile, KeyHolder, PsamKeyHolder};
use sscard::keys::{KeyRole, RootKeys};
use sscard::lifecycle::{self, ActivateOptions, Card, PersonalizeOptions, ReadOptions};
use sscard::profile::{self, Ef, Generation};
use sscard::sim::{SimCard, SimTransport};
use sscard::Algorithm;

/// The acceptance target of the in-process lifecycle (kept from the invented protocol's
/// acceptance; the specification's protocol has more cryptography per lifecycle).
const TARGET_US: f64 = 100.0;

/// Personalize + read + activate one card with `key_holder`; returns the card (dropped outside
/// the timing) and its APDU count.
fn lifecycle_once<K: KeyHolder>(
    sim: SimCard,
    key_holder: &mut K,
    data: &Personalization,
    new_pin: &Pin,
) -> (Card<SimTransport<SimCard>>, u64) {
    let mut card = Card::open(SimTransport::new(sim)).unwrap();
    lifecycle::personalize(&mut card, key_holder, data, &PersonalizeOptions::default()).unwrap();
    let read = lifecycle::read_verified(&mut card, key_holder, &ReadOptions::default()).unwrap();
    assert_eq!(read.genuine, Some(true));
    lifecycle::activate_verified(&mut card, key_holder, new_pin, &ActivateOptions::default())
        .unwrap();
    let n = card.apdu_count();
    (card, n)
}

/// Times `cards` lifecycles on blank cards of `generation`/`alg` made in stacks of 250.
fn measure<K: KeyHolder>(
    generation: Generation,
    alg: Algorithm,
    cards: usize,
    roots: &RootKeys,
    key_holder: &mut K,
) -> (Vec<std::time::Duration>, u64) {
    let data = person(generation);
    let new_pin = Pin::new("258036").unwrap();
    let mut samples = Vec::with_capacity(cards);
    let mut apdus = 0;
    let mut made = 0u32;
    for i in 0..50 {
        // warm-up
        let sim = blank(generation, alg, 0xF000_0000 + i, roots);
        lifecycle_once(sim, key_holder, &data, &new_pin);
    }
    while samples.len() < cards {
        let stack: Vec<SimCard> = (0..250.min(cards - samples.len()))
            .map(|_| {
                made += 1;
                blank(generation, alg, made, roots)
            })
            .collect();
        let mut done = Vec::with_capacity(stack.len());
        for sim in stack {
            let (card, n) = time(&mut samples, || {
                lifecycle_once(sim, key_holder, &data, &new_pin)
            });
            apdus = n;
            done.push(card);
        }
        drop(done);
    }
    (samples, apdus)
}

fn lifecycle_rows(rows: &mut Vec<Row>, cards: usize) {
    let roots = roots();
    let configs = [
        (Generation::V1, Algorithm::Tdes),
        (Generation::V2, Algorithm::Tdes),
        (Generation::V3, Algorithm::Tdes),
        (Generation::V1, Algorithm::Sm4),
        (Generation::V2, Algorithm::Sm4),
        (Generation::V3, Algorithm::Sm4),
        (Generation::V3, Algorithm::Aes128),
    ];
    let mut keys = KeyFile::new(roots.clone());
    for (generation, alg) in configs {
        let (samples, apdus) = measure(generation, alg, cards, &roots, &mut keys);
        let name = format!(
            "in process: lifecycle (personalize + read_verified + activate), key file, {}/{alg}",
            generation_name(generation)
        );
        let row = time_row(name, &samples, false).apdus(apdus);
        let pass = row.median <= TARGET_US;
        rows.push(row.target(format!("≤ {TARGET_US:.0} µs"), pass));
    }
    // The same with a PSAM: every cryptogram is two or three PSAM APDUs.
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        let mut holder = PsamKeyHolder::open(SimTransport::new(psam(alg))).unwrap();
        let before = holder.channel().apdu_count();
        let (samples, apdus) = measure(Generation::V2, alg, cards / 4, &roots, &mut holder);
        let psam_apdus = (holder.channel().apdu_count() - before) / (cards as u64 / 4 + 50);
        let name = format!(
            "in process: lifecycle (personalize + read_verified + activate), simulated PSAM, 2.0/{alg}"
        );
        rows.push(time_row(name, &samples, false).apdus(format!("{apdus} + {psam_apdus} PSAM")));
    }
}

fn simulator_rows(rows: &mut Vec<Row>) {
    let mut sim = personalized(Generation::V2, Algorithm::Sm4, 7);
    let bytes = |c: sscard::apdu::Command| c.to_bytes().unwrap().to_vec();
    let select = bytes(select_aid(&profile::SSSE_AID));
    // T=0: SELECT answers 61xx and keeps the FCI for GET RESPONSE
    assert_eq!(sim.handle(&select).first(), Some(&0x61));
    let number = profile::element(Generation::V2, profile::tag::CARD_NUMBER).unwrap();
    let one = bytes(read_record(
        Some(Ef::Ef05.sfi()),
        RecordRef::Tag(number.tag),
        number.len + 2,
    ));
    let holder_name = profile::element(Generation::V2, profile::tag::NAME).unwrap();
    let name = bytes(read_record(
        Some(Ef::Ef06.sfi()),
        RecordRef::Tag(holder_name.tag),
        holder_name.len + 2,
    ));
    let challenge = bytes(get_challenge(8));
    let ia = bytes(internal_authenticate([1; 8], [2; 8], None));
    let probe = bytes(sscard::apdu::commands::verify_probe());
    let cases: [(&str, &Vec<u8>, &[u8]); 6] = [
        (
            "READ RECORD EF05 07 (card number, exact Le)",
            &one,
            &[0x90, 0x00],
        ),
        ("READ RECORD EF06 09 (name, 32 bytes)", &name, &[0x90, 0x00]),
        ("GET CHALLENGE (8 bytes)", &challenge, &[0x90, 0x00]),
        (
            "VERIFY without data (the PIN question)",
            &probe,
            &[0x63, 0xC3],
        ),
        ("SELECT SSSE (T=0: 61xx)", &select, &[0x61]),
        ("INTERNAL AUTHENTICATION (IRK; T=0: 61xx)", &ia, &[0x61]),
    ];
    for (name, apdu, expect) in cases {
        let r = sim.handle(apdu);
        let tail = &r[r.len() - expect.len().max(2)..];
        assert!(tail.starts_with(expect), "{name}: {r:02X?}");
        let mut rs = rates(41, 20_000, || {
            black_box(sim.handle(black_box(apdu)));
        });
        rows.push(
            rate_row(
                format!("simulator: `SimCard::handle` {name}"),
                &mut rs,
                "APDUs/s",
            )
            .apdus(1),
        );
    }

    // The PSAM as key holder, in process: one authentication data = SELECT-free DELIVERY
    // SESSION KEY + CIPHER DATA (+ GET RESPONSE).
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        let sim = personalized(Generation::V2, alg, 8);
        let ctx = CardContext {
            algorithm: alg,
            atr: sim.atr(),
            card_id: sscard::data::CardIdentificationCode::from_slice(
                sim.image().card_id().unwrap(),
            )
            .unwrap(),
        };
        let mut holder = PsamKeyHolder::open(SimTransport::new(psam(alg))).unwrap();
        let before = holder.channel().apdu_count();
        holder
            .authenticate(&ctx, KeyRole::Ukssse, &[3; 8], &[4; 8])
            .unwrap();
        let per_op = holder.channel().apdu_count() - before;
        let mut rs = rates(21, 5_000, || {
            black_box(
                holder
                    .authenticate(&ctx, KeyRole::Ukssse, black_box(&[3; 8]), &[4; 8])
                    .unwrap(),
            );
        });
        rows.push(
            rate_row(
                format!("simulated PSAM: authentication data (UKSSSE, national root), {alg}"),
                &mut rs,
                "ops/s",
            )
            .apdus(per_op),
        );
    }
}

fn crypto_rows(rows: &mut Vec<Row>) {
    let roots = roots();
    let factor = [0x86, 0x97, 0x15, 0x99, 0x00, 0xBF, 0x7C, 0x7A];
    let sim = blank(Generation::V2, Algorithm::Sm4, 9, &roots);
    let factors: CardFactors = sim.factors().unwrap();
    // PIN RELOAD's MAC input: 84 24 00 01 14 ‖ 16 enciphered bytes (SM4) — 21 bytes
    let message: Vec<u8> = (0..21u8).collect();
    let pin = Pin::new("258036").unwrap();
    let keys = key_file();
    for alg in Algorithm::ALL {
        let root = keys.roots().root(alg, KeyRole::Ukssse).unwrap().clone();
        let card_key = roots
            .card_key(alg, KeyRole::Ukssse, &factors)
            .unwrap()
            .unwrap();
        let session = crypto::process_key(alg, &card_key, &factor).unwrap();
        let block: Vec<u8> = (0..alg.block_len() as u8).collect();
        let (rounds, ops) = (41, 10_000);
        let mut add = |what: &str, r: &mut Vec<f64>| {
            rows.push(rate_row(format!("crypto {alg}: {what}"), r, "ops/s"));
        };
        let mut r = rates(rounds, ops, || {
            black_box(crypto::diversify(alg, black_box(&root), black_box(&factor)).unwrap());
        });
        add("diversify (one factor, part 9 §7)", &mut r);
        let mut r = rates(rounds, ops / 4, || {
            black_box(
                roots
                    .card_key(alg, KeyRole::Ukssse, black_box(&factors))
                    .unwrap(),
            );
        });
        add("card key (national root, three diversifications)", &mut r);
        let mut r = rates(rounds, ops, || {
            black_box(crypto::process_key(alg, black_box(&card_key), black_box(&factor)).unwrap());
        });
        add("process key (part 4 §8.4)", &mut r);
        let mut r = rates(rounds, ops, || {
            black_box(
                crypto::authenticate(alg, black_box(&card_key), &factor, black_box(&[7; 8]))
                    .unwrap(),
            );
        });
        add("authentication data (process key + §9.3)", &mut r);
        let mut r = rates(rounds, ops, || {
            black_box(crypto::mac(alg, black_box(&session), black_box(&message)).unwrap());
        });
        add("MAC of 21 bytes (part 4 §8.2)", &mut r);
        let mut r = rates(rounds, ops, || {
            black_box(crypto::encipher_data(alg, black_box(&session), &pin.to_bcd()).unwrap());
        });
        add("enciphered PIN (LD ‖ PIN, part 4 §8.3)", &mut r);
        let mut r = rates(rounds, ops, || {
            black_box(crypto::encipher(alg, black_box(&card_key), black_box(&block)).unwrap());
        });
        add("encipher one block (key schedule included)", &mut r);
    }
}

/// The service hall's job (examples/service_hall.rs) in process: the employment area (DF02,
/// six files) read with the holder's PIN, then a record appended to DF02 EF07 with UK3DF02.
fn area_rows(rows: &mut Vec<Row>, rounds: usize) {
    use sscard::lifecycle::areas::{self, AreaAccess};
    use sscard::profile::areas::{Area, FileId};
    use sscard::sim::{CardSpec, DataAreas};
    let roots = roots();
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        let spec = CardSpec::new(
            Generation::V3,
            alg,
            "639900".parse().unwrap(),
            [0, 0, 0xA5, 1],
        )
        .with_data_areas(DataAreas::national());
        let mut card =
            Card::open(SimTransport::new(SimCard::blank(spec, &roots).unwrap())).unwrap();
        let mut keys = KeyFile::new(roots.clone());
        lifecycle::personalize(
            &mut card,
            &mut keys,
            &person(Generation::V3),
            &PersonalizeOptions::default(),
        )
        .unwrap();
        let pin = Pin::initial();
        let mut samples = Vec::with_capacity(rounds);
        let mut apdus = 0;
        for i in 0..rounds + 20 {
            card.raw().transport_mut().power_cycle();
            card.reset_apdu_count();
            let record = format!("2020100^20240301^^单位{i}^");
            let mut run = || {
                let mut read = AreaAccess::new().with_pin(&pin);
                black_box(areas::read_area(&mut card, &mut read, Area::Employment).unwrap());
                let mut write = AreaAccess::new().with_pin(&pin).with_key_holder(&mut keys);
                let file = FileId::area(0xDF02, 0xEF07);
                areas::append_records(&mut card, &mut write, file, std::slice::from_ref(&record))
                    .unwrap();
            };
            if i < 20 {
                run();
            } else {
                time(&mut samples, run);
            }
            apdus = card.apdu_count();
        }
        let name = format!(
            "in process: service hall (DF02 read with the PIN + a record appended with UK3DF02), key file, 3.0/{alg}"
        );
        rows.push(time_row(name, &samples, false).apdus(apdus));
    }
}

/// The target of one purchase in process (the card's and the PSAM's APDUs included).
const PURCHASE_TARGET_US: f64 = 100.0;

/// One offline purchase through a simulated PSAM (examples/hospital_payment.rs's job), with and
/// without the holder's PIN.
fn account_rows(rows: &mut Vec<Row>, rounds: usize) {
    use sscard::account::{Fen, PurchaseAmounts, TransactionTime};
    use sscard::lifecycle::account::{self, PurchaseRequest};
    use sscard::sim::{AccountSpec, CardSpec, DataAreas, PinRecord, PsamSpec, SimPsam};
    let roots = roots();
    let at = TransactionTime::parse("20240615093000").unwrap();
    for alg in [Algorithm::Tdes, Algorithm::Sm4] {
        for with_pin in [true, false] {
            let spec = CardSpec::new(
                Generation::V3,
                alg,
                "639900".parse().unwrap(),
                [0, 0, 0xA6, 1],
            )
            .with_data_areas(
                DataAreas::national()
                    .with_account(AccountSpec::default().with_balance(u32::MAX / 2)),
            );
            let mut card =
                Card::open(SimTransport::new(SimCard::blank(spec, &roots).unwrap())).unwrap();
            lifecycle::personalize(
                &mut card,
                &mut KeyFile::new(roots.clone()),
                &person(Generation::V3),
                &PersonalizeOptions::default(),
            )
            .unwrap();
            if !with_pin {
                let mut image = card.into_transport().into_card().into_image();
                image.pin = PinRecord::empty();
                card = Card::open(SimTransport::new(SimCard::from_image(image).unwrap())).unwrap();
            }
            let psam_spec = PsamSpec::new(alg, common::TERMINAL).with_account_keys();
            let mut psam = PsamKeyHolder::open(SimTransport::new(
                SimPsam::from_root_keys(&roots, &psam_spec).unwrap(),
            ))
            .unwrap();
            let pin = Pin::initial();
            let mut request = PurchaseRequest::new(PurchaseAmounts::account_only(Fen(1)), at);
            if with_pin {
                request = request.with_pin(&pin);
            }
            let mut samples = Vec::with_capacity(rounds);
            let (mut apdus, mut psam_apdus) = (0, 0);
            for i in 0..rounds + 20 {
                card.raw().transport_mut().power_cycle();
                card.reset_apdu_count();
                psam.channel_mut().reset_apdu_count();
                let mut run =
                    || black_box(account::purchase(&mut card, &mut psam, &request).unwrap());
                if i < 20 {
                    run();
                } else {
                    time(&mut samples, run);
                }
                apdus = card.apdu_count();
                psam_apdus = psam.channel().apdu_count();
            }
            let pin_text = if with_pin {
                "with the PIN"
            } else {
                "without PIN"
            };
            let name = format!(
                "in process: one purchase (medical account) {pin_text}, PSAM, 3.0/{alg} T=0"
            );
            let row = time_row(name, &samples, false);
            let pass = row.median <= PURCHASE_TARGET_US;
            rows.push(
                row.apdus(format!("{apdus} + {psam_apdus} PSAM"))
                    .target(format!("≤ {PURCHASE_TARGET_US:.0} µs"), pass),
            );
        }
    }
}

fn main() {
    if !common::benchmarking("inprocess") {
        return;
    }
    let cards = env_or("SSCARD_BENCH_CARDS", 2000);
    let only = std::env::var("SSCARD_BENCH_ONLY").unwrap_or_default();
    let section = |name: &str| only.is_empty() || only == name;
    let mut rows = Vec::new();
    if section("lifecycle") {
        lifecycle_rows(&mut rows, cards);
    }
    if section("simulator") {
        simulator_rows(&mut rows);
    }
    if section("crypto") {
        crypto_rows(&mut rows);
    }
    if section("areas") {
        area_rows(&mut rows, cards / 4);
    }
    if section("account") {
        account_rows(&mut rows, cards / 4);
    }
    println!();
    println!(
        "in process, release build; lifecycle: {cards} cards per configuration with the key \
         file ({} with the PSAM), blank T=0 cards made outside the timing",
        cards / 4
    );
    print_table(&rows);
}
