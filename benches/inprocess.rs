//! In-process benchmark (no PC/SC): one full card lifecycle (personalize + activate + read)
//! through `Card<SimTransport<SimCard>>` with a key file, the simulator's APDUs per second
//! (`SimCard::handle`), and crypto operations per second per algorithm.
//!
//! Blank cards are made before the timed region (a printing station receives blank cards);
//! the timed part opens the card, personalizes it (with read-back verification), activates it
//! (initial PIN to a new PIN) and reads it with the key file (genuineness + card id MAC).
//!
//! `cargo bench --bench inprocess` (or `scripts/bench.sh`); prints a markdown table of medians.
//! `SSCARD_BENCH_CARDS` sets the lifecycles per configuration (default 2000).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::hint::black_box;

use common::{env_or, print_table, rate_row, rates, time, time_row, Row};
use sscard::apdu::commands::{get_challenge, read_record, select_aid};
use sscard::apdu::RecordRef;
use sscard::crypto::{self, KeyId, Pin, SecretKey};
use sscard::data::{BcdDate, PersonRecord, Personalization};
use sscard::keyholder::KeyFile;
use sscard::lifecycle::{self, Card, PersonalizeOptions, ReadOptions};
use sscard::profile::{self, Ef, Generation};
use sscard::sim::{CardSpec, SimCard, SimTransport};
use sscard::Algorithm;

const TARGET_US: f64 = 100.0;

fn keys() -> KeyFile {
    KeyFile::from_json(include_str!("../fixtures/keys/test-keys.json")).unwrap()
}

fn person(generation: Generation) -> Personalization {
    let text = match generation {
        Generation::V1 => include_str!("../fixtures/persons/li-si-1.json"),
        Generation::V2 => include_str!("../fixtures/persons/zhang-san-2.json"),
        Generation::V3 => include_str!("../fixtures/persons/wang-wu-3.json"),
    };
    PersonRecord::from_json(text).unwrap().validate().unwrap()
}

fn blank(generation: Generation, alg: Algorithm, i: u32, keys: &mut KeyFile) -> SimCard {
    let spec = CardSpec::new(generation, alg, "639900".parse().unwrap(), i.to_be_bytes());
    SimCard::blank(spec, keys).unwrap()
}

/// Personalize + activate + read one card; returns the card (dropped outside the timing) and
/// the APDU count.
fn lifecycle_once(
    sim: SimCard,
    keys: &mut KeyFile,
    data: &Personalization,
    initial: &Pin,
    new_pin: &Pin,
    today: BcdDate,
) -> (Card<SimTransport<SimCard>>, u64) {
    let mut card = Card::open(SimTransport::new(sim)).unwrap();
    lifecycle::personalize(&mut card, keys, data, &PersonalizeOptions::default()).unwrap();
    lifecycle::activate(&mut card, keys, initial, new_pin, today).unwrap();
    let read = lifecycle::read(&mut card, Some(keys), &ReadOptions::default()).unwrap();
    assert_eq!(read.genuine, Some(true));
    let n = card.apdu_count();
    (card, n)
}

fn lifecycle_rows(rows: &mut Vec<Row>, cards: usize) {
    let mut keys = keys();
    let initial = Pin::initial();
    let new_pin = Pin::new("258036").unwrap();
    let today: BcdDate = "20261123".parse().unwrap();
    let configs = [
        (Generation::V2, Algorithm::Sm4),
        (Generation::V2, Algorithm::Tdes),
        (Generation::V3, Algorithm::Sm4),
        (Generation::V3, Algorithm::Aes128),
    ];
    let only_alg = std::env::var("SSCARD_BENCH_ALG").unwrap_or_default();
    for (generation, alg) in configs {
        if !only_alg.is_empty() && alg.to_string() != only_alg {
            continue;
        }
        let data = person(generation);
        let mut samples = Vec::with_capacity(cards);
        let mut apdus = 0;
        let chunk = 250;
        let mut made = 0u32;
        // warm-up
        for i in 0..50 {
            let sim = blank(generation, alg, 0xF000_0000 + i, &mut keys);
            lifecycle_once(sim, &mut keys, &data, &initial, &new_pin, today);
        }
        while samples.len() < cards {
            // a stack of blank cards, made outside the timed region
            let stack: Vec<SimCard> = (0..chunk.min(cards - samples.len()))
                .map(|_| {
                    made += 1;
                    blank(generation, alg, made, &mut keys)
                })
                .collect();
            let mut done = Vec::with_capacity(stack.len());
            for sim in stack {
                let (card, n) = time(&mut samples, || {
                    lifecycle_once(sim, &mut keys, &data, &initial, &new_pin, today)
                });
                apdus = n;
                done.push(card);
            }
            drop(done);
        }
        let name = format!(
            "in process: card lifecycle (personalize + activate + read), {}/{alg}",
            generation_name(generation)
        );
        let row = time_row(name, &samples, false).apdus(apdus);
        let pass = row.median <= TARGET_US;
        rows.push(row.target(format!("≤ {TARGET_US:.0} µs"), pass));
    }
}

fn generation_name(g: Generation) -> &'static str {
    match g {
        Generation::V1 => "1.0",
        Generation::V2 => "2.0",
        Generation::V3 => "3.0",
    }
}

fn simulator_rows(rows: &mut Vec<Row>) {
    let mut keys = keys();
    let data = person(Generation::V2);
    let sim = blank(Generation::V2, Algorithm::Sm4, 7, &mut keys);
    let mut card = Card::open(SimTransport::new(sim)).unwrap();
    lifecycle::personalize(&mut card, &mut keys, &data, &PersonalizeOptions::default()).unwrap();
    let mut sim = card.into_transport().into_card();
    let select = select_aid(&profile::SSSE_AID).to_bytes().unwrap().to_vec();
    assert!(sim.handle(&select).ends_with(&[0x90, 0x00]));
    let one = read_record(Some(Ef::Ef05.sfi()), RecordRef::Tag(0x07))
        .to_bytes()
        .unwrap()
        .to_vec();
    let all = read_record(Some(Ef::Ef05.sfi()), RecordRef::AllFrom(1))
        .to_bytes()
        .unwrap()
        .to_vec();
    let challenge = get_challenge(16).to_bytes().unwrap().to_vec();
    for (name, apdu) in [
        ("READ RECORD (one element, EF05 tag 07)", &one),
        ("READ RECORD (all records of EF05)", &all),
        ("GET CHALLENGE (16 bytes)", &challenge),
        ("SELECT SSSE (FCI)", &select),
    ] {
        let r = sim.handle(apdu);
        assert!(r.ends_with(&[0x90, 0x00]), "{name}: {r:02X?}");
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
}

fn crypto_rows(rows: &mut Vec<Row>) {
    let keys = keys();
    let factor = [0x86, 0x97, 0x15, 0x99, 0x00, 0xBF, 0x7C, 0x7A];
    // a typical MAC'd command: PIN RELOAD header + a 16-byte PIN block
    let message: Vec<u8> = (0..21u8).collect();
    for alg in Algorithm::ALL {
        let master: SecretKey = keys.master_key(alg, KeyId::UPDATE).unwrap().clone();
        let block: Vec<u8> = (0..alg.block_len() as u8).collect();
        let iv = vec![0u8; alg.block_len()];
        let card_key = crypto::diversify(alg, &master, &factor).unwrap();
        let (rounds, ops) = (41, 10_000);
        let mut r = rates(rounds, ops, || {
            black_box(crypto::diversify(alg, black_box(&master), black_box(&factor)).unwrap());
        });
        rows.push(rate_row(
            format!("crypto {alg}: diversify (one factor)"),
            &mut r,
            "ops/s",
        ));
        let mut r = rates(rounds, ops, || {
            black_box(
                crypto::external_auth_cryptogram(alg, black_box(&card_key), black_box(&block))
                    .unwrap(),
            );
        });
        rows.push(rate_row(
            format!("crypto {alg}: external-auth cryptogram"),
            &mut r,
            "ops/s",
        ));
        let mut r = rates(rounds, ops, || {
            black_box(crypto::mac(alg, black_box(&card_key), &iv, black_box(&message)).unwrap());
        });
        rows.push(rate_row(
            format!("crypto {alg}: MAC of 21 bytes"),
            &mut r,
            "ops/s",
        ));
        let mut r = rates(rounds, ops, || {
            black_box(crypto::encipher(alg, black_box(&card_key), black_box(&block)).unwrap());
        });
        rows.push(rate_row(
            format!("crypto {alg}: encipher one block"),
            &mut r,
            "ops/s",
        ));
    }
}

fn main() {
    if !common::benchmarking("inprocess") {
        return;
    }
    let cards = env_or("SSCARD_BENCH_CARDS", 2000);
    // SSCARD_BENCH_ONLY=lifecycle|simulator|crypto runs one section (for profiling);
    // SSCARD_BENCH_ALG=3des|sm4|aes restricts the lifecycle configurations.
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
    println!();
    println!(
        "in process, release build; lifecycle: {cards} cards per configuration (blank cards made \
         outside the timing), key file as key holder, read with genuineness check"
    );
    print_table(&rows);
}
