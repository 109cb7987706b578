//! Writes the seed corpora of the fuzz targets into `fixtures/fuzz/<target>/` from real
//! simulated-card sessions, the fixture persons and the scenario files:
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//! ```
//!
//! The output is deterministic except for the GET CHALLENGE answers, which the library does not
//! check (a replayed cryptogram is never compared by the fake card).
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use sscard_core::apdu::{commands, RecordRef};
use sscard_core::lifecycle::{self, Card, PersonalizeOptions, ReadOptions};
use sscard_core::profile::{Generation, SSSE_AID};
use sscard_core::Algorithm;
use sscard_fuzz::{
    encode_apdu, encode_chunk, fixture_person, op, person_row, sim_image, sim_prefix, test_keys,
    Recorder, SimState, PERSONS,
};
use sscard_sim::{SimCard, SimTransport};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = root().join("fixtures/fuzz").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

fn sim(generation: Generation, algorithm: Algorithm, state: SimState, t0: bool) -> SimCard {
    let mut card = SimCard::from_image(sim_image(generation, algorithm, state)).unwrap();
    let mut options = card.image().options;
    options.t0_mode = t0;
    card.set_options(options);
    card.seed_rng(1);
    card
}

fn gen_name(g: Generation) -> &'static str {
    match g {
        Generation::V1 => "1",
        Generation::V2 => "2",
        Generation::V3 => "3",
    }
}

/// Records `lifecycle::read` on a card; returns the stream (without the flags byte).
fn record_read(card: SimCard, key_holder: bool, options: &ReadOptions) -> Vec<u8> {
    let recorder = Recorder {
        inner: SimTransport::new(card),
        stream: Vec::new(),
    };
    let mut card = Card::open(recorder).unwrap();
    let mut keys = test_keys();
    let kh: Option<&mut dyn sscard_core::keyholder::KeyHolder> =
        if key_holder { Some(&mut keys) } else { None };
    let _ = lifecycle::read(&mut card, kh, options);
    card.into_transport().stream
}

fn response_parsing() {
    // FCIs, all-records READ RECORD answers, single records, status words, commands
    for g in [Generation::V1, Generation::V2, Generation::V3] {
        for (a, alg) in Algorithm::ALL.iter().enumerate() {
            let mut card = sim(g, *alg, SimState::Personalized, false);
            let select = commands::select_aid(&SSSE_AID).to_bytes().unwrap();
            let fci = card.handle(&select);
            write(
                "response_parsing",
                &format!("fci-{}-{}", gen_name(g), alg.name()),
                &fci,
            );
            if a > 0 {
                continue;
            }
            write(
                "response_parsing",
                &format!("select-apdu-{}", gen_name(g)),
                &select,
            );
            // read everything freely: authenticate with the read key first on 3.0
            sscard_fuzz::authenticate(&mut card, 0x0A);
            for (sfi, ef) in [(5u8, "ef05"), (6, "ef06"), (13, "ef0d")] {
                let command = commands::read_record(Some(sfi), RecordRef::AllFrom(1));
                let bytes = command.to_bytes().unwrap();
                let response = card.handle(&bytes);
                write(
                    "response_parsing",
                    &format!("records-{ef}-{}", gen_name(g)),
                    &response,
                );
                // the records alone (without SW), for the typed-data parsers
                write(
                    "response_parsing",
                    &format!("records-{ef}-{}-data", gen_name(g)),
                    &response[..response.len() - 2],
                );
                if sfi == 5 {
                    write("response_parsing", "read-record-apdu", &bytes);
                }
            }
        }
    }
    let blank = {
        let mut card = sim(Generation::V2, Algorithm::Tdes, SimState::Blank, false);
        card.handle(&commands::select_aid(&SSSE_AID).to_bytes().unwrap());
        let command = commands::read_record(Some(5), RecordRef::AllFrom(1));
        card.handle(&command.to_bytes().unwrap())
    };
    write("response_parsing", "records-ef05-blank", &blank);
    for (name, bytes) in [
        ("sw-9000", &[0x90u8, 0x00][..]),
        ("sw-6a82", &[0x6A, 0x82]),
        ("sw-61xx", &[0x61, 0x20]),
        ("sw-63c2", &[0x63, 0xC2]),
        (
            "extended-apdu",
            &[
                0x00, 0xDC, 0x01, 0x2C, 0x00, 0x00, 0x03, 0x01, 0x01, 0x33, 0x00, 0x00,
            ],
        ),
    ] {
        write("response_parsing", name, bytes);
    }
}

fn replay_read() {
    let cases: [(&str, Generation, Algorithm, SimState, bool, bool, u8); 8] = [
        // name, generation, algorithm, state, T=0, key holder, flags
        (
            "v1-free",
            Generation::V1,
            Algorithm::Tdes,
            SimState::Personalized,
            false,
            false,
            0x10,
        ),
        (
            "v2-free",
            Generation::V2,
            Algorithm::Sm4,
            SimState::Personalized,
            false,
            false,
            0x10,
        ),
        (
            "v2-keys-ef0d",
            Generation::V2,
            Algorithm::Tdes,
            SimState::Personalized,
            false,
            true,
            0x16,
        ),
        (
            "v3-keys",
            Generation::V3,
            Algorithm::Aes128,
            SimState::Activated,
            false,
            true,
            0x1E,
        ),
        (
            "v3-no-keys",
            Generation::V3,
            Algorithm::Tdes,
            SimState::Personalized,
            false,
            false,
            0x10,
        ),
        (
            "v2-t0",
            Generation::V2,
            Algorithm::Tdes,
            SimState::Personalized,
            true,
            false,
            0x14,
        ),
        (
            "blank",
            Generation::V2,
            Algorithm::Tdes,
            SimState::Blank,
            false,
            false,
            0x10,
        ),
        (
            "blocked",
            Generation::V2,
            Algorithm::Tdes,
            SimState::TempBlocked,
            false,
            true,
            0x1A,
        ),
    ];
    for (name, g, alg, state, t0, kh, flags) in cases {
        let options = ReadOptions::default()
            .with_supplementary(flags & 4 != 0)
            .with_verify_genuine(flags & 8 != 0)
            .with_verify_card_id(flags & 16 != 0);
        let card = sim(g, alg, state, t0);
        let mut seed = vec![flags];
        seed.extend(record_read(card, kh, &options));
        write("replay_read", name, &seed);
    }
    // one card without the all-records mode: one READ RECORD per element
    let mut card = sim(
        Generation::V2,
        Algorithm::Tdes,
        SimState::Personalized,
        false,
    );
    let mut options = card.image().options;
    options.all_records_mode = false;
    card.set_options(options);
    let mut seed = vec![0x10];
    seed.extend(record_read(card, false, &ReadOptions::default()));
    write("replay_read", "v2-per-element", &seed);
    // a custom ATR chunk (flag bit 0) and a reset in the middle
    let card = sim(
        Generation::V2,
        Algorithm::Tdes,
        SimState::Personalized,
        false,
    );
    let mut seed = vec![0x11];
    encode_chunk(&mut seed, &card.atr());
    let stream = record_read(card, false, &ReadOptions::default());
    seed.push(sscard_fuzz::marker::RESET);
    seed.extend(stream);
    write("replay_read", "v2-atr-reset", &seed);
}

fn replay_personalize() {
    for (index, g) in [Generation::V1, Generation::V2, Generation::V3]
        .iter()
        .enumerate()
    {
        for (alg, t0) in [(Algorithm::Tdes, false), (Algorithm::Sm4, true)] {
            let card = sim(*g, alg, SimState::Blank, t0);
            let recorder = Recorder {
                inner: SimTransport::new(card),
                stream: Vec::new(),
            };
            let mut card = Card::open(recorder).unwrap();
            let person = fixture_person(index);
            lifecycle::personalize(
                &mut card,
                &mut test_keys(),
                &person,
                &PersonalizeOptions::default(),
            )
            .unwrap();
            let flags = (index as u8) << 1;
            let mut seed = vec![flags];
            seed.extend(card.into_transport().stream);
            write(
                "replay_personalize",
                &format!(
                    "v{}-{}{}",
                    gen_name(*g),
                    alg.name(),
                    if t0 { "-t0" } else { "" }
                ),
                &seed,
            );
        }
    }
    // a half-personalized card completed
    let card = sim(
        Generation::V2,
        Algorithm::Tdes,
        SimState::Personalizing,
        false,
    );
    let recorder = Recorder {
        inner: SimTransport::new(card),
        stream: Vec::new(),
    };
    let mut card = Card::open(recorder).unwrap();
    lifecycle::personalize(
        &mut card,
        &mut test_keys(),
        &fixture_person(1),
        &PersonalizeOptions::default(),
    )
    .unwrap();
    let mut seed = vec![1 << 1];
    seed.extend(card.into_transport().stream);
    write("replay_personalize", "v2-resume", &seed);
}

fn hex_bytes(text: &str) -> Vec<u8> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).unwrap_or_default()
}

/// Turns each `@card` section of a scenario file into a `sim_handler` seed.
fn sim_handler() {
    let dir = root().join("fixtures/scenarios");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "scn"))
        .collect();
    files.sort();
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap();
        let mut seeds: Vec<Vec<u8>> = Vec::new();
        let mut last_apdu: Option<usize> = None; // start of the last APDU's bytes in the seed
        for raw in text.lines() {
            let line = raw.split('#').next().unwrap_or("");
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if let Some(args) = trimmed.strip_prefix("@card") {
                seeds.push(card_prefix(args).to_vec());
                last_apdu = None;
                continue;
            }
            let Some(seed) = seeds.last_mut() else {
                continue;
            };
            if trimmed == "@reset" {
                seed.push(op::RESET);
                last_apdu = None;
            } else if let Some(key) = trimmed.strip_prefix("@auth") {
                seed.push(op::AUTH);
                seed.extend(hex_bytes(key));
                last_apdu = None;
            } else if let Some(apdu) = trimmed.strip_prefix('>') {
                last_apdu = Some(seed.len());
                encode_apdu(seed, &hex_bytes(apdu));
            } else if line.starts_with(char::is_whitespace) && !trimmed.starts_with('<') {
                // a continuation line: of the APDU when the last item was one
                if let Some(start) = last_apdu {
                    let mut apdu = seed_apdu(&seed[start..]);
                    apdu.extend(hex_bytes(trimmed));
                    seed.truncate(start);
                    encode_apdu(seed, &apdu);
                }
            } else {
                last_apdu = None;
            }
        }
        for (i, seed) in seeds.iter().enumerate() {
            write("sim_handler", &format!("{stem}-{i}"), seed);
        }
    }
    // hand-made: personalization writes after authentication, and a MAC-secured block
    let mut seed = sim_prefix(
        Generation::V2,
        Algorithm::Sm4,
        Some(SimState::Blank),
        false,
        true,
    )
    .to_vec();
    encode_apdu(
        &mut seed,
        &commands::select_aid(&SSSE_AID).to_bytes().unwrap(),
    );
    seed.extend([op::AUTH, 0x04]);
    let tlv = sscard_core::codec::tlv(0x02, b"3");
    let update = commands::update_record(Some(5), RecordRef::Tag(2), tlv);
    encode_apdu(&mut seed, &update.to_bytes().unwrap());
    write("sim_handler", "auth-update", &seed);
    let mut seed = sim_prefix(
        Generation::V3,
        Algorithm::Tdes,
        Some(SimState::Personalized),
        false,
        true,
    )
    .to_vec();
    encode_apdu(
        &mut seed,
        &commands::select_aid(&SSSE_AID).to_bytes().unwrap(),
    );
    seed.extend([op::MAC, 0x07, 4]);
    seed.extend(commands::APPLICATION_BLOCK_HEADER);
    seed.extend([op::MAC, 0x07, 4]);
    seed.extend(commands::APPLICATION_UNBLOCK_HEADER);
    write("sim_handler", "mac-block-unblock", &seed);
    // the PSAM: select, terminal number, diversify, encipher
    let mut seed = sim_prefix(Generation::V2, Algorithm::Tdes, None, false, true).to_vec();
    for apdu in [
        "00A4040006D15600000590",
        "00B0960006",
        "BFDE480410000000000000000163990000007378",
        "80FA0000080011223344556677",
        "00C0000008",
    ] {
        encode_apdu(&mut seed, &hex_bytes(apdu));
    }
    write("sim_handler", "psam", &seed);
}

fn seed_apdu(encoded: &[u8]) -> Vec<u8> {
    match encoded.split_first() {
        Some((&op::LONG, rest)) => rest.get(2..).unwrap_or_default().to_vec(),
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    }
}

fn card_prefix(args: &str) -> [u8; 2] {
    let mut generation = Generation::V2;
    let mut algorithm = Algorithm::Tdes;
    let mut state = SimState::Blank;
    let mut block = "none";
    let mut t0 = false;
    let mut all_records = true;
    for arg in args.split_whitespace() {
        let Some((key, value)) = arg.split_once('=') else {
            continue;
        };
        match key {
            "generation" => {
                generation = match value.chars().next() {
                    Some('1') => Generation::V1,
                    Some('3') => Generation::V3,
                    _ => Generation::V2,
                }
            }
            "algorithm" => {
                algorithm = match value {
                    "sm4" => Algorithm::Sm4,
                    "aes" => Algorithm::Aes128,
                    _ => Algorithm::Tdes,
                }
            }
            "state" => {
                state = match value {
                    "personalized" => SimState::Personalized,
                    "activated" => SimState::Activated,
                    _ => SimState::Blank,
                }
            }
            "block" => block = value,
            "t0" => t0 = value == "on",
            "all-records" => all_records = value != "off",
            _ => {}
        }
    }
    let state = match block {
        "temporary" => SimState::TempBlocked,
        "permanent" => SimState::PermBlocked,
        "card" => SimState::CardBlocked,
        _ => state,
    };
    sim_prefix(generation, algorithm, Some(state), t0, all_records)
}

fn person_record() {
    let names = ["li-si-1", "zhang-san-2", "wang-wu-3"];
    for (i, text) in PERSONS.iter().enumerate() {
        write(
            "person_record",
            &format!("{}.json", names[i]),
            text.as_bytes(),
        );
        write(
            "person_record",
            &format!("{}.row", names[i]),
            person_row(i).as_bytes(),
        );
    }
    // a GBK row (the batch input accepts GBK files)
    let row = person_row(1);
    let (gbk, _, _) = encoding_rs::GBK.encode(&row);
    write("person_record", "zhang-san-2-gbk.row", &gbk);
    // numbers for codes, no EF0D
    write(
        "person_record",
        "numbers.json",
        br#"{"ssn":"111111198101011110","name":"ZHANG SAN","sex":1,"ethnicity":1,"birthplace":"110101","birth_date":"19810101","card_number":"KD5578904","generation":2,"issue_date":"20150711","expiry_date":"20350711","region":"639900","initializing_body":"639900000001"}"#,
    );
}

fn main() {
    response_parsing();
    replay_read();
    replay_personalize();
    sim_handler();
    person_record();
    for target in [
        "response_parsing",
        "replay_read",
        "replay_personalize",
        "sim_handler",
        "person_record",
    ] {
        let dir = root().join("fixtures/fuzz").join(target);
        let n = fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        println!("{target}: {n} seeds in {}", dir.display());
    }
}
