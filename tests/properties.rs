//! Bounded property tests of the fuzzed properties (docs/reliability.md, "Fuzzing"), run by
//! `cargo test`: the same `check_*` functions as the cargo-fuzz targets (`fuzz/src/lib.rs` is
//! included here as a module), on a few hundred generated inputs each, plus every seed and
//! regression input under `fixtures/fuzz/`.
//!
//! - parsers (responses, commands, SIMPLE-TLV records, FCI, typed EF data) never panic and
//!   round-trip what they accept;
//! - `lifecycle::read` and `lifecycle::personalize` against a fake card replaying random
//!   responses never panic and always end (the fake card's stream is bounded);
//! - `SimCard::handle` never panics from any start state, and its image round-trips JSON after
//!   every APDU;
//! - person records (JSON and CSV-like rows) never panic the validation, and valid ones
//!   round-trip through the card records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code, missing_docs)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use harness::{marker, op};

fn fixtures(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target)
}

/// Every file of `fixtures/fuzz/<target>/`, sorted, with its name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixtures(target))
        .unwrap_or_else(|e| panic!("fixtures/fuzz/{target}: {e}"))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// A seed of `target` with a few bytes overwritten, inserted or cut: mutated real inputs reach
/// far deeper than random bytes.
fn mutated_seed(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = corpus(target)
        .into_iter()
        .map(|(_, bytes)| bytes)
        .filter(|b| !b.is_empty())
        .collect();
    (
        prop::sample::select(seeds),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
    )
        .prop_map(|(mut seed, edits)| {
            for (index, byte, kind) in edits {
                if seed.is_empty() {
                    seed.push(byte);
                    continue;
                }
                let i = index.index(seed.len());
                match kind {
                    0 | 1 => seed[i] = byte,
                    2 => seed.insert(i, byte),
                    _ => seed.truncate(i.max(1)),
                }
            }
            seed
        })
}

/// A plausible card response: data and a status word from those the card OS uses.
fn response() -> impl Strategy<Value = Vec<u8>> {
    let sw = prop_oneof![
        Just([0x90u8, 0x00]),
        Just([0x61, 0x10]),
        Just([0x6C, 0x08]),
        Just([0x63, 0xC2]),
        Just([0x63, 0x00]),
        Just([0x69, 0x82]),
        Just([0x6A, 0x82]),
        Just([0x6A, 0x83]),
        Just([0x6A, 0x86]),
        Just([0x6A, 0x81]),
        Just([0x93, 0x03]),
        any::<[u8; 2]>(),
    ];
    (prop::collection::vec(any::<u8>(), 0..40), sw).prop_map(|(mut data, sw)| {
        data.extend_from_slice(&sw);
        data
    })
}

/// A replay stream: flags, then responses, now and then a reset or a transport error.
fn replay_stream() -> impl Strategy<Value = Vec<u8>> {
    let chunk = prop_oneof![
        8 => response().prop_map(|r| {
            let mut out = Vec::new();
            harness::encode_chunk(&mut out, &r);
            out
        }),
        1 => Just(vec![marker::RESET]),
        1 => any::<u8>().prop_map(|e| vec![marker::ERROR, e]),
    ];
    (
        any::<u8>().prop_map(|f| f & !1), // the simulated card's ATR
        prop::collection::vec(chunk, 0..40),
    )
        .prop_map(|(flags, chunks)| {
            let mut out = vec![flags];
            out.extend(chunks.concat());
            out
        })
}

/// An APDU with a command header the card OS knows, or noise.
fn apdu() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just([0x00u8, 0xA4, 0x04, 0x00]),
        Just([0x00, 0xA4, 0x00, 0x00]),
        Just([0x00, 0xB2, 0x01, 0x2D]),
        Just([0x00, 0xB2, 0x08, 0x30]),
        Just([0x00, 0xDC, 0x02, 0x28]),
        Just([0x00, 0x84, 0x00, 0x00]),
        Just([0x00, 0x82, 0x00, 0x04]),
        Just([0x00, 0x88, 0x00, 0x00]),
        Just([0x00, 0x20, 0x00, 0x00]),
        Just([0x80, 0x5E, 0x01, 0x00]),
        Just([0x00, 0x44, 0x00, 0x00]),
        Just([0x00, 0x04, 0x00, 0x00]),
        Just([0x00, 0xC0, 0x00, 0x00]),
        any::<[u8; 4]>(),
    ];
    prop_oneof![
        (
            header,
            prop::collection::vec(any::<u8>(), 0..24),
            any::<bool>()
        )
            .prop_map(|(h, data, le)| {
                let mut apdu = h.to_vec();
                if !data.is_empty() {
                    apdu.push(data.len() as u8);
                    apdu.extend(&data);
                }
                if le {
                    apdu.push(0);
                }
                apdu
            }),
        prop::collection::vec(any::<u8>(), 0..12),
    ]
}

/// A simulated-card input: start state, then APDUs, authentications, MAC commands, resets.
fn sim_input() -> impl Strategy<Value = Vec<u8>> {
    let operation = prop_oneof![
        6 => apdu().prop_map(|a| {
            let mut out = Vec::new();
            harness::encode_apdu(&mut out, &a);
            out
        }),
        1 => Just(vec![op::RESET]),
        2 => prop_oneof![Just(0x04u8), Just(0x0A), Just(0x0D), Just(0x00), any::<u8>()]
            .prop_map(|k| vec![op::AUTH, k]),
        1 => (
            prop_oneof![Just(0x06u8), Just(0x07), Just(0x00)],
            prop_oneof![
                Just([0x84u8, 0x1E, 0x00, 0x00]),
                Just([0x84, 0x18, 0x00, 0x00]),
                Just([0x84, 0x16, 0x00, 0x00]),
                Just([0x84, 0x24, 0x00, 0x00]),
            ]
        )
            .prop_map(|(k, h)| {
                let mut out = vec![op::MAC, k, 4];
                out.extend(h);
                out
            }),
    ];
    (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(operation, 0..12),
    )
        .prop_map(|(card, state, ops)| {
            // start selected most of the time: the interesting commands need SSSE
            let mut out = vec![card, state];
            harness::encode_apdu(
                &mut out,
                &[
                    0x00, 0xA4, 0x04, 0x00, 0x0F, 0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9,
                    0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF, 0x00,
                ],
            );
            out.extend(ops.concat());
            out
        })
}

/// A fixture person with one field replaced by arbitrary text, as JSON.
fn person_json() -> impl Strategy<Value = Vec<u8>> {
    (
        0usize..3,
        prop::sample::select(harness::ROW_COLUMNS.to_vec()),
        prop_oneof![
            "[0-9]{0,20}",
            "[0-9A-Z]{0,12}",
            "\\PC{0,24}",
            Just(String::new())
        ],
    )
        .prop_map(|(i, field, value)| {
            let mut v: serde_json::Value = serde_json::from_str(harness::PERSONS[i]).unwrap();
            v[field] = serde_json::Value::String(value);
            serde_json::to_vec(&v).unwrap()
        })
}

/// A fixture person's row with one cell replaced.
fn person_row() -> impl Strategy<Value = Vec<u8>> {
    (0usize..3, 0usize..15, "[^,]{0,24}").prop_map(|(i, cell, value)| {
        let row = harness::person_row(i);
        let mut cells: Vec<String> = row.split(',').map(str::to_owned).collect();
        if let Some(c) = cells.get_mut(cell) {
            *c = value;
        }
        cells.join(",").into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_bytes(data in prop::collection::vec(any::<u8>(), 0..300)) {
        harness::check_parsers(&data);
    }

    #[test]
    fn parsers_never_panic_on_mutated_responses(data in mutated_seed("response_parsing")) {
        harness::check_parsers(&data);
    }

    #[test]
    fn person_records_never_panic(data in prop_oneof![
        person_json(),
        person_row(),
        prop::collection::vec(any::<u8>(), 0..200),
        mutated_seed("person_record"),
    ]) {
        harness::check_person_record(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn replayed_responses_never_panic_read(data in prop_oneof![
        replay_stream(),
        mutated_seed("replay_read"),
    ]) {
        let _ = harness::check_replay_read(&data);
    }

    #[test]
    fn replayed_responses_never_panic_personalize(data in prop_oneof![
        replay_stream(),
        mutated_seed("replay_personalize"),
    ]) {
        let _ = harness::check_replay_personalize(&data);
    }

    #[test]
    fn sim_card_never_panics_and_its_image_round_trips(data in prop_oneof![
        3 => sim_input(),
        1 => mutated_seed("sim_handler"),
    ]) {
        harness::check_sim_handler(&data);
    }
}

/// Every seed and every kept crash input (`fixtures/fuzz/<target>/regression-*`) passes its
/// property; the recorded sessions replay to success.
#[test]
fn seeds_and_regression_inputs_pass() {
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 5] = [
        ("response_parsing", harness::check_parsers),
        ("replay_read", |d| {
            let _ = harness::check_replay_read(d);
        }),
        ("replay_personalize", |d| {
            let _ = harness::check_replay_personalize(d);
        }),
        ("sim_handler", harness::check_sim_handler),
        ("person_record", harness::check_person_record),
    ];
    for (target, check) in targets {
        let files = corpus(target);
        assert!(!files.is_empty(), "fixtures/fuzz/{target} has seeds");
        for (_, bytes) in files {
            check(&bytes);
        }
    }
    // the recorded sessions are real: replayed, they succeed
    for (name, bytes) in corpus("replay_read") {
        let expect_ok = matches!(
            name.as_str(),
            "v1-free" | "v2-free" | "v2-keys-ef0d" | "v2-t0" | "v2-per-element" | "v2-atr-reset"
        );
        if expect_ok {
            assert!(harness::check_replay_read(&bytes), "replay_read/{name}");
        }
    }
    for (name, bytes) in corpus("replay_personalize") {
        assert!(
            harness::check_replay_personalize(&bytes),
            "replay_personalize/{name}"
        );
    }
}

/// The fake card ends every operation: past the stream the card is gone.
#[test]
fn replay_card_ends_when_the_stream_ends() {
    assert!(!harness::check_replay_read(&[]));
    assert!(!harness::check_replay_read(&[0x02, 0x02, 0x90, 0x00]));
    assert!(!harness::check_replay_personalize(&[0x00]));
}
