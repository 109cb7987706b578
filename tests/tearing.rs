//! Tearing sweeps: power lost at every point of every operation that writes to a card
//! (docs/reliability.md). The card is the simulated card OS (`sscard::sim`), whose persistent
//! writes are atomic one by one (part 7 §14; `sscard_sim::tear`); the terminal is sscard's
//! library with the test keys.
//!
//! For each operation and card configuration the operation first runs untorn from its start
//! state, which gives its APDU count A, its persistent-write count W and the image it leaves
//! (the *intended* state). Then, for every n in 1..=A ([`Tear::AfterApdu`]: the n-th APDU runs,
//! its response is lost) and every n in 1..=W ([`Tear::AtWrite`]: writes 1..n-1 are done, the
//! n-th and later are not), a fresh card in the start state is torn there and put back into the
//! reader, and:
//!
//! 1. the torn run failed with "card removed" (never a success the card did not confirm);
//! 2. the torn card is *assessed*, on copies so the assessment spends no tries: every field of
//!    its persistent state is the start value or the intended one (a record, the PIN, a block
//!    flag), never a third value; a card with a card number carries the whole personalization
//!    of that number (the card number is written last, [design] D15) and the library reads
//!    exactly that person from it, a card without one reads as nothing; the PIN is the old or
//!    the new one, and whichever it is verifies; no PIN or key try counter is above its start
//!    value or below it by more than the number of power losses (counters are spent before the
//!    comparison: a tear never grants a free try), and a changed PIN was written with a full
//!    counter;
//!    a block happened or not, and SELECT says which; a transparent file holds the new bytes
//!    up to some whole UPDATE BINARY and the old bytes after;
//! 3. the terminal's recovery runs — the operation again; where the card already did it the
//!    rerun must say so exactly (`already_done`, `ApplicationBlocked`, `CardBlocked`, or a wrong
//!    old PIN when the new one took effect, followed by a VERIFY of the new PIN);
//! 4. the card's whole persistent state equals the state an untorn run and the same recovery
//!    leave.
//!
//! A trial that breaks any of this counts as corrupted. Double tears: power lost at every write
//! of the operation, then at every write of the rerun from the state that left.
//!
//! Each test writes its markdown table to `target/tmp/tearing-*.md` (printed at the end of
//! `scripts/test.sh`) and fails on any corrupted trial.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::time::Instant;

use sscard::crypto::Pin;
use sscard::data::{PersonRecord, Personalization};
use sscard::keyholder::KeyFile;
use sscard::keys::RootKeys;
use sscard::lifecycle::{
    self, ActivateOptions, Card, CardData, PersonalizeOptions, PinStatus, ReadOptions,
};
use sscard::profile::{self, Ef, Generation};
use sscard::sim::{CardImage, CardSpec, SimCard, SimTransport, Tear};
use sscard::transport::TransportError;
use sscard::{Algorithm, Error};

type TestCard = Card<SimTransport<SimCard>>;

const KEYS: &str = include_str!("../fixtures/keys/test-keys.json");
const OLD_PERSON: &str = include_str!("../fixtures/persons/zhang-san-2.json");
const NEW_PERSON: &str = include_str!("../fixtures/persons/wang-wu-3.json");

/// The holder's PIN chosen at activation.
const HOLDER: &str = "258036";
/// The PIN the holder changes to, or the issuer reloads.
const CHANGED: &str = "604917";
/// A PIN that is not the card's.
const WRONG: &str = "135790";

/// Bytes per UPDATE BINARY of `AuthenticatedSession::write_binary` (the library's chunk size).
const BINARY_CHUNK: usize = 240;

fn keys() -> KeyFile {
    KeyFile::from_json(KEYS).unwrap()
}

fn roots() -> RootKeys {
    RootKeys::from_json(KEYS).unwrap()
}

fn pin(digits: &str) -> Pin {
    Pin::new(digits).unwrap()
}

/// A fixture person on a card of `generation`.
fn person(json: &str, generation: Generation) -> Personalization {
    let mut record = PersonRecord::from_json(json).unwrap();
    record.generation = generation.number().to_string();
    record.validate().unwrap()
}

/// A card configuration: generation, algorithm, protocol.
#[derive(Debug, Clone, Copy)]
struct Config {
    generation: Generation,
    algorithm: Algorithm,
    t0: bool,
}

impl Config {
    const fn t0(generation: Generation, algorithm: Algorithm) -> Config {
        Config {
            generation,
            algorithm,
            t0: true,
        }
    }

    fn label(&self) -> String {
        format!(
            "{}/{} T={}",
            self.generation.spec_version(),
            self.algorithm.name(),
            if self.t0 { 0 } else { 1 }
        )
    }

    fn spec(&self) -> CardSpec {
        let spec = CardSpec::new(
            self.generation,
            self.algorithm,
            "639900".parse().unwrap(),
            [0x2B, 0x11, 0x96, 0xEB],
        )
        .with_card_serial([0x00, 0x00, 0x05, 0x2B]);
        if self.t0 {
            spec
        } else {
            spec.with_t1()
        }
    }
}

/// Generations 2.0 and 3.0 × 3DES and SM4, all T=0 (the cards' default protocol, part 2).
const CONFIGS: [Config; 4] = [
    Config::t0(Generation::V2, Algorithm::Tdes),
    Config::t0(Generation::V2, Algorithm::Sm4),
    Config::t0(Generation::V3, Algorithm::Tdes),
    Config::t0(Generation::V3, Algorithm::Sm4),
];

fn open(image: &CardImage) -> TestCard {
    Card::open(SimTransport::new(
        SimCard::from_image(image.clone()).unwrap(),
    ))
    .unwrap()
}

fn image_of(card: &TestCard) -> CardImage {
    card.channel().transport().card().image().clone()
}

// ---------------------------------------------------------------------------------------------
// Start states, built with the library on untorn cards
// ---------------------------------------------------------------------------------------------

fn blank(config: Config) -> CardImage {
    CardImage::blank(&config.spec(), &roots()).unwrap()
}

fn personalized(config: Config, data: &Personalization) -> CardImage {
    let mut card = open(&blank(config));
    lifecycle::personalize(&mut card, &mut keys(), data, &PersonalizeOptions::default()).unwrap();
    image_of(&card)
}

fn activated(config: Config, data: &Personalization) -> CardImage {
    let mut card = open(&personalized(config, data));
    lifecycle::activate_verified(
        &mut card,
        &mut keys(),
        &pin(HOLDER),
        &ActivateOptions::default(),
    )
    .unwrap();
    image_of(&card)
}

/// An activated card whose holder entered a wrong PIN until it blocked.
fn pin_blocked(config: Config, data: &Personalization) -> CardImage {
    let mut card = open(&activated(config, data));
    for _ in 0..3 {
        assert!(lifecycle::verify_pin(&mut card, &pin(WRONG)).is_err());
    }
    assert_eq!(
        lifecycle::pin_status(&mut card).unwrap(),
        PinStatus::Blocked
    );
    image_of(&card)
}

/// Deterministic file contents (a stand-in for a fingerprint template or a photo), `len` bytes.
fn file_bytes(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8 | 1 // never 00: every byte of the file is visibly old or new
        })
        .collect()
}

fn with_file(image: &CardImage, ef: Ef, content: &[u8]) -> CardImage {
    let mut card = open(image);
    let mut keys = keys();
    let mut session = card.authenticate_for_update(&mut keys).unwrap();
    session.write_binary(ef, 0, content).unwrap();
    image_of(&card)
}

// ---------------------------------------------------------------------------------------------
// Operations and their recovery
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Personalization of a blank card (part 10 §5.4, [design] D15).
    Personalize,
    /// Personalization over a card personalized (and activated) for someone else.
    Overwrite,
    /// Activation: CHANGE PIN from the initial PIN to the holder's (part 7 §9).
    Activate,
    /// CHANGE PIN by the holder.
    ChangePin,
    /// PIN reload by the issuer on a blocked PIN (part 5 §6.8, P2 `01`).
    ReloadPin,
    /// PIN unblock by the issuer (part 5 §6.8, P2 `00`).
    UnblockPin,
    /// APPLICATION BLOCK of SSSE (part 5 §6.1): permanent.
    BlockApplication,
    /// CARD BLOCK (part 5 §6.2): permanent.
    BlockCard,
    /// The whole transparent file rewritten through an `AuthenticatedSession` (part 5 §6.12).
    WriteFile(Ef),
    /// A wrong PIN entered (VERIFY, part 5 §6.14): the try must be spent whatever happens.
    WrongPin,
    /// A faulty terminal that writes the card number first ([design] D15 forbids it): the
    /// sweep must see the corruption (`the_sweep_sees_a_card_number_written_first`).
    CardNumberFirst,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Personalize => "personalize",
            Kind::Overwrite => "personalize over another person",
            Kind::Activate => "activate (CHANGE PIN)",
            Kind::ChangePin => "change PIN",
            Kind::ReloadPin => "reload PIN (blocked PIN)",
            Kind::UnblockPin => "unblock PIN",
            Kind::BlockApplication => "application block",
            Kind::BlockCard => "card block",
            Kind::WriteFile(Ef::Ef07) => "write EF07 (fingerprint)",
            Kind::WriteFile(_) => "write EF08 (photo)",
            Kind::WrongPin => "wrong PIN entered",
            Kind::CardNumberFirst => "faulty personalization, card number first",
        }
    }
}

/// One operation on one card configuration, with everything the sweeps compare against.
struct Scenario {
    kind: Kind,
    config: Config,
    start: CardImage,
    /// The person written (personalization), or on the card.
    data: Personalization,
    /// The new content of the transparent file.
    file: Vec<u8>,
    /// The state an untorn run leaves.
    intended: CardImage,
    /// The state an untorn run followed by the recovery leaves: every recovery must end here.
    expected_final: CardImage,
    /// APDUs and persistent writes of an untorn run.
    apdus: u64,
    writes: u64,
    /// What the library reads from a card carrying each card number that may be on the card.
    reads: Vec<(Vec<u8>, CardData)>,
}

impl Scenario {
    fn new(kind: Kind, config: Config) -> Scenario {
        let g = config.generation;
        let old = person(OLD_PERSON, g);
        let (start, data) = match kind {
            Kind::Personalize | Kind::CardNumberFirst => (blank(config), old),
            Kind::Overwrite => (activated(config, &old), person(NEW_PERSON, g)),
            Kind::Activate => (personalized(config, &old), old),
            Kind::ChangePin | Kind::BlockApplication | Kind::BlockCard | Kind::WrongPin => {
                (activated(config, &old), old)
            }
            Kind::ReloadPin | Kind::UnblockPin => (pin_blocked(config, &old), old),
            Kind::WriteFile(ef) => {
                let image = activated(config, &old);
                (with_file(&image, ef, &file_bytes(1, ef.size())), old)
            }
        };
        let file = match kind {
            Kind::WriteFile(ef) => file_bytes(2, ef.size()),
            _ => Vec::new(),
        };
        let mut s = Scenario {
            kind,
            config,
            start,
            data,
            file,
            intended: CardImage::blank(&config.spec(), &roots()).unwrap(),
            expected_final: CardImage::blank(&config.spec(), &roots()).unwrap(),
            apdus: 0,
            writes: 0,
            reads: Vec::new(),
        };
        // the untorn run, counted from arming (a tear that never fires)
        let mut card = open(&s.start);
        sim_mut(&mut card).arm_tear(Tear::AtWrite(u64::MAX));
        let result = s.run(&mut card, &mut keys());
        match (kind, &result) {
            (Kind::WrongPin, Err(Error::WrongPin { tries_left: 2 })) | (_, Ok(())) => {}
            _ => panic!(
                "{} on {}: untorn run: {result:?}",
                kind.name(),
                config.label()
            ),
        }
        s.apdus = sim(&card).apdus_since_arming();
        s.writes = sim(&card).writes_since_arming();
        s.intended = image_of(&card);
        let mut card = open(&s.intended);
        s.recover(&mut card, &mut keys(), &s.intended)
            .unwrap_or_else(|e| panic!("{}: recovery after an untorn run: {e}", kind.name()));
        s.expected_final = image_of(&card);
        for image in [&s.start, &s.intended] {
            if let (Some(number), false) = (card_number(image), blocked(image)) {
                if !s.reads.iter().any(|(n, _)| *n == number) {
                    let mut card = open(image);
                    let read =
                        lifecycle::read_verified(&mut card, &mut keys(), &ReadOptions::default())
                            .unwrap();
                    s.reads.push((number, read));
                }
            }
        }
        s
    }

    fn personalize_options(&self) -> PersonalizeOptions {
        PersonalizeOptions {
            overwrite: self.kind == Kind::Overwrite,
            ..PersonalizeOptions::default()
        }
    }

    /// The operation itself.
    fn run(&self, card: &mut TestCard, keys: &mut KeyFile) -> Result<(), Error> {
        match self.kind {
            Kind::Personalize | Kind::Overwrite => {
                lifecycle::personalize(card, keys, &self.data, &self.personalize_options())
                    .map(|_| ())
            }
            Kind::Activate => {
                lifecycle::activate_verified(card, keys, &pin(HOLDER), &ActivateOptions::default())
            }
            Kind::ChangePin => lifecycle::change_pin(card, &pin(HOLDER), &pin(CHANGED)),
            Kind::ReloadPin => lifecycle::reload_pin(card, keys, &pin(CHANGED)),
            Kind::UnblockPin => lifecycle::unblock_pin(card, keys),
            Kind::BlockApplication => lifecycle::block_application(card, keys),
            Kind::BlockCard => lifecycle::block_card(card, keys),
            Kind::WriteFile(ef) => {
                let mut session = card.authenticate_for_update(keys)?;
                session.write_binary(ef, 0, &self.file)
            }
            Kind::WrongPin => lifecycle::verify_pin(card, &pin(WRONG)),
            Kind::CardNumberFirst => {
                let g = self.data.generation();
                let card_id = card.card_id()?;
                let mut records = self.data.issuing_data(card_id).to_records(g)?;
                records.extend(self.data.holder().to_records(g)?);
                records.retain(|(tag, _)| *tag != profile::tag::CARD_ID);
                records.sort_by_key(|(tag, _)| *tag != profile::tag::CARD_NUMBER);
                let mut session = card.authenticate_for_update(keys)?;
                for (tag, tlv) in records {
                    let item = profile::element(g, tag).unwrap();
                    session.write_item(item, &tlv[2..])?;
                }
                Ok(())
            }
        }
    }

    /// What a terminal does with a card that lost power during the operation: the operation
    /// again, accepting exactly the answers that say it had already taken effect on `torn`.
    fn recover(
        &self,
        card: &mut TestCard,
        keys: &mut KeyFile,
        torn: &CardImage,
    ) -> Result<(), String> {
        let pin_now = |new: &str| torn.pin.value.expose() == pin(new).to_bcd().as_slice();
        match self.kind {
            Kind::Personalize | Kind::Overwrite => {
                let report =
                    lifecycle::personalize(card, keys, &self.data, &self.personalize_options())
                        .map_err(|e| format!("rerun: {e}"))?;
                let complete = card_number(torn) == card_number(&self.intended);
                ensure(report.already_done == complete, || {
                    format!(
                        "rerun reported already_done = {} on a card {} the card number",
                        report.already_done,
                        if complete { "with" } else { "without" }
                    )
                })
            }
            Kind::Activate | Kind::ChangePin => {
                let (old, new) = match self.kind {
                    Kind::Activate => (Pin::initial(), pin(HOLDER)),
                    _ => (pin(HOLDER), pin(CHANGED)),
                };
                let rerun = match self.kind {
                    Kind::Activate => {
                        lifecycle::activate_verified(card, keys, &new, &ActivateOptions::default())
                    }
                    _ => lifecycle::change_pin(card, &old, &new),
                };
                match rerun {
                    Ok(()) => Ok(()),
                    // the new PIN had taken effect: the old one is wrong now (one try spent),
                    // and the holder's new PIN verifies (the try given back)
                    Err(Error::WrongPin { .. }) if pin_now(new.expose()) => {
                        lifecycle::verify_pin(card, &new)
                            .map_err(|e| format!("VERIFY of the new PIN after the rerun: {e}"))
                    }
                    Err(e) => Err(format!("rerun: {e}")),
                }
            }
            Kind::ReloadPin | Kind::UnblockPin => {
                self.run(card, keys).map_err(|e| format!("rerun: {e}"))?;
                let status = lifecycle::pin_status(card).map_err(|e| format!("PIN status: {e}"))?;
                ensure(status == PinStatus::Required { tries_left: 3 }, || {
                    format!("PIN status after the rerun: {status:?}")
                })
            }
            Kind::BlockApplication => match self.run(card, keys) {
                Ok(()) => Ok(()),
                Err(Error::ApplicationBlocked) if torn.ssse_blocked => Ok(()),
                Err(e) => Err(format!("rerun: {e}")),
            },
            Kind::BlockCard => match self.run(card, keys) {
                Ok(()) => Ok(()),
                Err(Error::CardBlocked) if torn.card_blocked => Ok(()),
                Err(e) => Err(format!("rerun: {e}")),
            },
            Kind::WriteFile(ef) => {
                self.run(card, keys).map_err(|e| format!("rerun: {e}"))?;
                let read = lifecycle::read_binary_file(card, keys, ef)
                    .map_err(|e| format!("reading {ef} back: {e}"))?;
                ensure(read == self.file, || format!("{ef} read back differs"))
            }
            Kind::CardNumberFirst => self.run(card, keys).map_err(|e| format!("rerun: {e}")),
            Kind::WrongPin => {
                // the terminal asks the card how many tries are left, then the holder enters
                // the right PIN
                let status = lifecycle::pin_status(card).map_err(|e| format!("PIN status: {e}"))?;
                let tries = torn.pin.tries_left;
                ensure(status == PinStatus::Required { tries_left: tries }, || {
                    format!("PIN status {status:?}, the card holds {tries} tries")
                })?;
                lifecycle::verify_pin(card, &pin(HOLDER)).map_err(|e| format!("VERIFY: {e}"))
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Assessing a torn card
    // -----------------------------------------------------------------------------------------

    /// Everything wrong with `torn`, a card that lost power `tears` times during the operation
    /// (the last time at `tear`).
    fn assess(&self, torn: &CardImage, tears: u8, tear: Tear) -> Vec<String> {
        let mut problems = Vec::new();
        let (s, i) = (&self.start, &self.intended);
        let mut check = |ok: bool, what: String| {
            if !ok {
                problems.push(what);
            }
        };
        // what no operation here changes
        #[allow(clippy::type_complexity)]
        fn fixed(
            x: &CardImage,
        ) -> (
            &String,
            u64,
            Generation,
            Algorithm,
            bool,
            &sscard::sim::HexBytes,
            &sscard::data::RegionCode,
            &Option<sscard::sim::FinancialApp>,
        ) {
            (
                &x.format,
                x.version,
                x.generation,
                x.algorithm,
                x.t0,
                &x.historical_bytes,
                &x.region,
                &x.financial,
            )
        }
        check(
            fixed(torn) == fixed(s),
            "identity of the card changed".into(),
        );
        // keys: values untouched; counters spent at most once per power loss, never raised
        for (name, key) in &torn.keys {
            let Some(before) = s.keys.get(name) else {
                check(false, format!("a key {name} appeared"));
                continue;
            };
            check(
                key.value == before.value
                    && key.version == before.version
                    && key.max_tries == before.max_tries,
                format!("key {name} changed"),
            );
            check(
                key.tries_left <= before.tries_left && key.tries_left + tears >= before.tries_left,
                format!(
                    "key {name}: {} tries left, {} before and {tears} power loss(es)",
                    key.tries_left, before.tries_left
                ),
            );
        }
        check(torn.keys.len() == s.keys.len(), "a key disappeared".into());
        // blocks: happened or not
        check(
            torn.ssse_blocked == s.ssse_blocked || torn.ssse_blocked == i.ssse_blocked,
            "application block flag is neither before nor after".into(),
        );
        check(
            torn.card_blocked == s.card_blocked || torn.card_blocked == i.card_blocked,
            "card block flag is neither before nor after".into(),
        );
        // the PIN: old or new, never another; the new PIN was written with its full counter; no
        // counter spends more than one try per power loss or gains one (but the one the
        // operation itself restores)
        let value = torn.pin.value.expose();
        let changed = value != s.pin.value.expose();
        check(
            !changed || value == i.pin.value.expose(),
            "the PIN is neither the old nor the new one".into(),
        );
        check(
            torn.pin.max_tries == s.pin.max_tries,
            "PIN maximum changed".into(),
        );
        let tries = torn.pin.tries_left;
        if changed {
            // written with its full counter; a later torn attempt (a rerun with the old PIN)
            // may have spent one
            check(
                tries <= i.pin.tries_left && tries + tears > i.pin.tries_left,
                format!(
                    "new PIN with {tries} tries: {} after an untorn run, {tears} power loss(es)",
                    i.pin.tries_left
                ),
            );
        } else {
            let spent = tries <= s.pin.tries_left && tries + tears >= s.pin.tries_left;
            let restored =
                i.pin.value.expose() == s.pin.value.expose() && tries == i.pin.tries_left;
            check(
                spent || restored,
                format!(
                    "PIN with {tries} tries: {} before, {} after an untorn run, {tears} power loss(es)",
                    s.pin.tries_left, i.pin.tries_left
                ),
            );
        }
        if self.kind == Kind::WrongPin && tears == 1 {
            // the try is spent before the comparison: a VERIFY that ran (its response lost)
            // cost the try, and one torn at that very write compared nothing
            let verify_ran = tear == Tear::AfterApdu(self.apdus);
            let verify_torn = tear == Tear::AtWrite(1);
            check(
                (!verify_ran || tries + 1 == s.pin.tries_left)
                    && (!verify_torn || tries == s.pin.tries_left),
                format!("{tries} tries left after a wrong PIN torn {tear}"),
            );
        }
        // records: every item old or new; a card number brings its whole personalization
        for ef in Ef::RECORD_FILES {
            for record in torn.records(ef) {
                let tag = record.0.first().copied().unwrap_or_default();
                let now = torn.record_value(ef, tag);
                let cleared = self.kind == Kind::Overwrite
                    && tag == profile::tag::CARD_NUMBER
                    && now.is_some_and(|v| v.iter().all(|&b| b == 0));
                check(
                    now == s.record_value(ef, tag) || now == i.record_value(ef, tag) || cleared,
                    format!("{ef} tag {tag:02X} is neither before nor after"),
                );
            }
            for record in s.records(ef) {
                let tag = record.0.first().copied().unwrap_or_default();
                check(
                    torn.record_value(ef, tag).is_some(),
                    format!("{ef} tag {tag:02X} disappeared"),
                );
            }
        }
        if let Some(number) = card_number(torn) {
            for whole in [s, i] {
                if card_number(whole).as_ref() == Some(&number) {
                    check(
                        torn.ef05 == whole.ef05 && torn.ef06 == whole.ef06,
                        "a card number without the whole personalization behind it".into(),
                    );
                }
            }
        }
        // transparent files: new bytes up to a whole UPDATE BINARY, old bytes after it
        for ef in [Ef::Ef07, Ef::Ef08] {
            let (Some(now), Some(before), Some(after)) =
                (torn.binary(ef), s.binary(ef), i.binary(ef))
            else {
                check(
                    torn.binary(ef).is_none() == s.binary(ef).is_none(),
                    format!("{ef} appeared or disappeared"),
                );
                continue;
            };
            let prefix = (0..=now.len().div_ceil(BINARY_CHUNK)).any(|k| {
                let cut = (k * BINARY_CHUNK).min(now.len());
                now[..cut] == after[..cut] && now[cut..] == before[cut..]
            });
            check(
                prefix,
                format!("{ef} is not new chunks followed by old ones"),
            );
        }
        problems.extend(self.assess_behaviour(torn));
        problems
    }

    /// What a terminal sees on (copies of) the torn card.
    fn assess_behaviour(&self, torn: &CardImage) -> Vec<String> {
        let mut problems = Vec::new();
        // SELECT tells the block state
        let mut card = open(torn);
        let selected = card.select();
        let ok = match &selected {
            Err(Error::CardBlocked) => torn.card_blocked,
            Err(Error::ApplicationBlocked) => !torn.card_blocked && torn.ssse_blocked,
            Ok(_) => !torn.card_blocked && !torn.ssse_blocked,
            Err(_) => false,
        };
        if !ok {
            problems.push(format!(
                "SELECT answers {:?} on a card with application block {} and card block {}",
                selected.err(),
                torn.ssse_blocked,
                torn.card_blocked
            ));
        }
        if blocked(torn) {
            return problems;
        }
        // the library reads the whole person of the card number, or nothing
        let mut card = open(torn);
        let read = lifecycle::read_verified(&mut card, &mut keys(), &ReadOptions::default());
        match (card_number(torn), read) {
            (Some(number), Ok(read)) => {
                let expected = self.reads.iter().find(|(n, _)| *n == number);
                if expected.map(|(_, data)| data) != Some(&read) {
                    problems.push("the library reads other data than the card number's".into());
                }
            }
            (Some(_), Err(e)) => problems.push(format!("a card with a card number: read: {e}")),
            (None, Ok(read)) => problems.push(format!(
                "a card without card number reads as card {}",
                read.issuing.card_number
            )),
            (None, Err(_)) => {}
        }
        // the PIN: its status, and the PIN the card holds verifies
        let value = torn.pin.value.expose();
        let mut card = open(torn);
        let status = lifecycle::pin_status(&mut card);
        let expected = if value.is_empty() {
            PinStatus::NotSet
        } else if torn.pin.tries_left == 0 {
            PinStatus::Blocked
        } else {
            PinStatus::Required {
                tries_left: torn.pin.tries_left,
            }
        };
        if status.as_ref().ok() != Some(&expected) {
            problems.push(format!("PIN status {status:?}, expected {expected:?}"));
        }
        if let (false, PinStatus::Required { .. }) = (value.is_empty(), expected) {
            let held = [Pin::initial(), pin(HOLDER), pin(CHANGED)]
                .into_iter()
                .find(|p| p.to_bcd().as_slice() == value);
            match held {
                Some(p) => {
                    let mut card = open(torn);
                    if let Err(e) = lifecycle::verify_pin(&mut card, &p) {
                        problems.push(format!("the PIN the card holds does not verify: {e}"));
                    }
                }
                None => problems.push("the card holds a PIN nobody set".into()),
            }
        }
        problems
    }

    /// Whether the operation's effect is on `torn` (key try counters aside).
    fn landed(&self, torn: &CardImage) -> bool {
        let strip = |x: &CardImage| {
            let mut x = x.clone();
            for key in x.keys.values_mut() {
                key.tries_left = key.max_tries;
            }
            x
        };
        strip(torn) == strip(&self.intended)
    }
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn sim(card: &TestCard) -> &SimCard {
    card.channel().transport().card()
}

fn sim_mut(card: &mut TestCard) -> &mut SimCard {
    card.raw().transport_mut().card_mut()
}

/// The card number on the card (EF05 tag 07), unless absent or cleared.
fn card_number(image: &CardImage) -> Option<Vec<u8>> {
    image
        .record_value(Ef::Ef05, profile::tag::CARD_NUMBER)
        .filter(|v| v.iter().any(|&b| b != 0))
        .map(<[u8]>::to_vec)
}

fn blocked(image: &CardImage) -> bool {
    image.ssse_blocked || image.card_blocked
}

// ---------------------------------------------------------------------------------------------
// Sweeps
// ---------------------------------------------------------------------------------------------

/// One line of a table.
#[derive(Debug, Default)]
struct Row {
    operation: String,
    card: String,
    tear: String,
    points: u64,
    tried: u64,
    landed: u64,
    recovered: u64,
    corrupted: u64,
}

/// The outcome of one torn trial.
struct Trial {
    /// The card after the tear, back in a reader.
    torn: CardImage,
    problems: Vec<String>,
}

/// Runs `op` (the operation, or its rerun) on a card in state `from` with `tear` armed; returns
/// the card put back into the reader. A tear that does not fire, or a run that reports success
/// although the card never answered, is a problem.
fn torn_run(s: &Scenario, from: &CardImage, tear: Tear, problems: &mut Vec<String>) -> CardImage {
    let mut card = open(from);
    sim_mut(&mut card).arm_tear(tear);
    let result = s.run(&mut card, &mut keys());
    if sim(&card).tear_fired() != Some(tear) {
        problems.push(format!("{tear} did not fire"));
    }
    match result {
        Err(Error::Transport(TransportError::CardRemoved)) => {}
        other => problems.push(format!("torn run ended with {other:?}, not card removed")),
    }
    let mut transport = card.into_transport();
    transport.insert_card();
    transport.card().image().clone()
}

/// Assesses a torn card, recovers it and checks the final state.
fn finish(s: &Scenario, mut trial: Trial, tears: u8, tear: Tear) -> (bool, Vec<String>) {
    let landed = s.landed(&trial.torn);
    trial.problems.extend(s.assess(&trial.torn, tears, tear));
    let mut card = open(&trial.torn);
    match s.recover(&mut card, &mut keys(), &trial.torn) {
        Ok(()) => {
            if image_of(&card) != s.expected_final {
                trial
                    .problems
                    .push("after the recovery the card is not in the intended state".into());
            }
        }
        Err(e) => trial.problems.push(format!("recovery: {e}")),
    }
    (landed, trial.problems)
}

/// Tallies trial results into a row; keeps the first problems for the failure message.
fn tally(
    row: &mut Row,
    landed: bool,
    problems: Vec<String>,
    label: &str,
    failures: &mut Vec<String>,
) {
    row.tried += 1;
    row.landed += u64::from(landed);
    if problems.is_empty() {
        row.recovered += 1;
    } else {
        row.corrupted += 1;
        if failures.len() < 20 {
            failures.push(format!("{label}: {}", problems.join("; ")));
        }
    }
}

/// The single-tear sweeps of `s`: after every APDU, at every write.
fn sweep(s: &Scenario, failures: &mut Vec<String>) -> Vec<Row> {
    let mut rows = Vec::new();
    for (at, points) in [(At::Apdu, s.apdus), (At::Write, s.writes)] {
        let make = |n| at.tear(n);
        let mut row = Row {
            operation: s.kind.name().into(),
            card: s.config.label(),
            tear: at.name().into(),
            points,
            ..Row::default()
        };
        for n in 1..=points {
            let tear = make(n);
            let mut problems = Vec::new();
            let torn = torn_run(s, &s.start, tear, &mut problems);
            let (landed, problems) = finish(s, Trial { torn, problems }, 1, tear);
            let label = format!("{} on {} {tear}", s.kind.name(), s.config.label());
            tally(&mut row, landed, problems, &label, failures);
        }
        // the counts are exact: one past the last point, no power is lost
        let mut card = open(&s.start);
        sim_mut(&mut card).arm_tear(make(points + 1));
        let _ = s.run(&mut card, &mut keys());
        if sim(&card).tear_fired().is_some() || image_of(&card) != s.intended {
            failures.push(format!(
                "{} on {}: {} fired or changed the outcome: the count {points} is wrong",
                s.kind.name(),
                s.config.label(),
                make(points + 1)
            ));
        }
        rows.push(row);
    }
    rows
}

/// Where a sweep tears: after APDUs or at writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Apdu,
    Write,
}

impl At {
    fn tear(self, n: u64) -> Tear {
        match self {
            At::Apdu => Tear::AfterApdu(n),
            At::Write => Tear::AtWrite(n),
        }
    }

    fn name(self) -> &'static str {
        match self {
            At::Apdu => "after APDU",
            At::Write => "at write",
        }
    }
}

/// The double-tear sweep of `s`: at every point of the operation, then at every point of its
/// rerun from the state that left (points of the kind `at`).
fn double_sweep(s: &Scenario, at: At, failures: &mut Vec<String>) -> Row {
    let mut row = Row {
        operation: format!("{}, rerun torn too", s.kind.name()),
        card: s.config.label(),
        tear: format!("{0}, {0}", at.name()),
        ..Row::default()
    };
    let first_points = match at {
        At::Apdu => s.apdus,
        At::Write => s.writes,
    };
    for first in 1..=first_points {
        let mut problems = Vec::new();
        let once = torn_run(s, &s.start, at.tear(first), &mut problems);
        // the rerun's points from this state
        let mut card = open(&once);
        sim_mut(&mut card).arm_tear(Tear::AtWrite(u64::MAX));
        let _ = s.run(&mut card, &mut keys());
        let rerun_points = match at {
            At::Apdu => sim(&card).apdus_since_arming(),
            At::Write => sim(&card).writes_since_arming(),
        };
        row.points += rerun_points;
        for second in 1..=rerun_points {
            let mut problems = problems.clone();
            let tear = at.tear(second);
            let torn = torn_run(s, &once, tear, &mut problems);
            let (landed, problems) = finish(s, Trial { torn, problems }, 2, tear);
            let label = format!(
                "{} on {} {}, rerun {tear}",
                s.kind.name(),
                s.config.label(),
                at.tear(first)
            );
            tally(&mut row, landed, problems, &label, failures);
        }
    }
    row
}

/// Writes the rows as a markdown table to `target/tmp/tearing-<name>.md` and prints it; fails
/// on any corrupted trial.
fn report(name: &str, title: &str, rows: &[Row], failures: &[String], started: Instant) {
    let mut md = format!("### Tear sweeps: {title}\n\n");
    md.push_str("| operation | card | tear | points | tried | landed | recovered | corrupted |\n");
    md.push_str("|---|---|---|---:|---:|---:|---:|---:|\n");
    for r in rows {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.operation, r.card, r.tear, r.points, r.tried, r.landed, r.recovered, r.corrupted
        )
        .unwrap();
    }
    let sum = |f: fn(&Row) -> u64| rows.iter().map(f).sum::<u64>();
    writeln!(
        md,
        "\nTotal: {} tear points tried, {} landed, {} recovered, {} corrupted ({:.1} s).\n",
        sum(|r| r.tried),
        sum(|r| r.landed),
        sum(|r| r.recovered),
        sum(|r| r.corrupted),
        started.elapsed().as_secs_f64()
    )
    .unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("tearing-{name}.md")), &md).unwrap();
    println!("{md}");
    assert!(
        rows.iter().all(|r| r.tried == r.points && r.points > 0),
        "{md}"
    );
    assert!(
        failures.is_empty() && sum(|r| r.corrupted) == 0,
        "{md}\n{}",
        failures.join("\n")
    );
}

fn sweep_all(name: &str, title: &str, cases: &[(Kind, Config)]) {
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for &(kind, config) in cases {
        let s = Scenario::new(kind, config);
        rows.extend(sweep(&s, &mut failures));
    }
    report(name, title, &rows, &failures, started);
}

#[test]
fn personalization_survives_power_loss_anywhere() {
    let mut cases: Vec<(Kind, Config)> = CONFIGS.iter().map(|c| (Kind::Personalize, *c)).collect();
    cases.push((
        Kind::Personalize,
        Config {
            t0: false,
            ..Config::t0(Generation::V2, Algorithm::Sm4)
        },
    ));
    cases.extend(CONFIGS.iter().map(|c| (Kind::Overwrite, *c)));
    sweep_all("personalize", "personalization", &cases);
}

#[test]
fn pin_operations_survive_power_loss_anywhere() {
    let kinds = [
        Kind::Activate,
        Kind::ChangePin,
        Kind::ReloadPin,
        Kind::UnblockPin,
        Kind::WrongPin,
    ];
    let cases: Vec<(Kind, Config)> = kinds
        .iter()
        .flat_map(|k| CONFIGS.iter().map(move |c| (*k, *c)))
        .collect();
    sweep_all("pin", "PIN operations", &cases);
}

#[test]
fn blocking_survives_power_loss_anywhere() {
    let cases: Vec<(Kind, Config)> = [Kind::BlockApplication, Kind::BlockCard]
        .iter()
        .flat_map(|k| CONFIGS.iter().map(move |c| (*k, *c)))
        .collect();
    sweep_all("block", "application and card block", &cases);
}

#[test]
fn file_writes_survive_power_loss_anywhere() {
    let cases = [
        (Kind::WriteFile(Ef::Ef07), CONFIGS[0]),
        (Kind::WriteFile(Ef::Ef07), CONFIGS[3]),
        (Kind::WriteFile(Ef::Ef08), CONFIGS[1]),
        (Kind::WriteFile(Ef::Ef08), CONFIGS[2]),
    ];
    sweep_all(
        "files",
        "EF07/EF08 through an authenticated session",
        &cases,
    );
}

#[test]
fn power_lost_again_during_the_rerun() {
    let started = Instant::now();
    let sm4 = Config::t0(Generation::V2, Algorithm::Sm4);
    let tdes3 = Config::t0(Generation::V3, Algorithm::Tdes);
    let cases = [
        (Kind::Personalize, sm4, &[At::Write, At::Apdu][..]),
        (Kind::Personalize, tdes3, &[At::Write]),
        (Kind::Overwrite, sm4, &[At::Write]),
        (Kind::Activate, sm4, &[At::Write, At::Apdu]),
        (Kind::ChangePin, tdes3, &[At::Write, At::Apdu]),
        (Kind::ReloadPin, sm4, &[At::Write, At::Apdu]),
        (Kind::UnblockPin, tdes3, &[At::Write, At::Apdu]),
        (Kind::BlockApplication, sm4, &[At::Write, At::Apdu]),
        (Kind::BlockCard, tdes3, &[At::Write, At::Apdu]),
        (Kind::WriteFile(Ef::Ef07), sm4, &[At::Write, At::Apdu]),
    ];
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    for (kind, config, points) in cases {
        let s = Scenario::new(kind, config);
        for &at in points {
            rows.push(double_sweep(&s, at, &mut failures));
        }
    }
    report("double", "power lost twice", &rows, &failures, started);
}

/// The sweep is able to fail: a terminal that writes the card number before the rest of the
/// personalization leaves, torn anywhere between that write and the last item, a card that
/// claims a personalization it does not carry. Exactly those trials are corrupted.
#[test]
fn the_sweep_sees_a_card_number_written_first() {
    for config in [CONFIGS[1], CONFIGS[2]] {
        let s = Scenario::new(Kind::CardNumberFirst, config);
        let mut failures = Vec::new();
        let rows = sweep(&s, &mut failures);
        let at_write = rows.iter().find(|r| r.tear == At::Write.name()).unwrap();
        // writes: EXTERNAL AUTHENTICATION with UKSSSE (2: try spent, try restored), the card
        // number (3), then the other items; a tear at write 4 ..= W leaves the number alone
        assert_eq!(at_write.corrupted, s.writes - 3, "{rows:?}");
        assert!(failures
            .iter()
            .all(|f| f.contains("a card number without the whole personalization")));
    }
}

/// Power lost three times at the same write — the restoring write of EXTERNAL AUTHENTICATION
/// with UKSSSE, whose try is spent before the comparison ([design] D4) — locks that key for
/// good: the worst a run of tears can do. The card keeps no partial data and the library says
/// exactly what happened.
#[test]
fn three_tears_at_one_restoring_write_lock_the_key_clearly() {
    let s = Scenario::new(Kind::Personalize, CONFIGS[1]);
    // EXTERNAL AUTHENTICATION with PUK (writes 1-2), PIN RELOAD (3), with UKSSSE (4-5)
    let mut image = s.start.clone();
    for _ in 0..3 {
        let mut problems = Vec::new();
        image = torn_run(&s, &image, Tear::AtWrite(5), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }
    assert_eq!(
        image.key(sscard::keys::KeyRole::Ukssse).unwrap().tries_left,
        0
    );
    assert_eq!(card_number(&image), None);
    assert!(image.ef06.is_empty(), "no holder data written");
    let mut card = open(&image);
    let result = lifecycle::personalize(
        &mut card,
        &mut keys(),
        &s.data,
        &PersonalizeOptions::default(),
    );
    assert!(
        matches!(
            result,
            Err(Error::KeyLocked {
                role: sscard::keys::KeyRole::Ukssse
            })
        ),
        "{result:?}"
    );
}

/// The assessment is able to fail: each kind of damage a card could suffer, put on an image by
/// hand, is named.
#[test]
fn the_assessment_sees_every_kind_of_damage() {
    let tear = Tear::AtWrite(1);
    let damaged =
        |s: &Scenario, base: &CardImage, damage: &dyn Fn(&mut CardImage), expect: &str| {
            let mut image = base.clone();
            damage(&mut image);
            let problems = s.assess(&image, 1, tear);
            assert!(
                problems.iter().any(|p| p.contains(expect)),
                "{} : expected {expect:?}, got {problems:?}",
                s.kind.name()
            );
        };
    let config = CONFIGS[1];
    // the untouched states pass
    let change = Scenario::new(Kind::ChangePin, config);
    assert!(change.assess(&change.start, 1, tear).is_empty());
    assert!(change.assess(&change.intended, 1, tear).is_empty());
    // a PIN nobody set
    damaged(
        &change,
        &change.start,
        &|i| {
            i.pin.value = sscard::sim::SecretBytes::from_slice(&pin("111111").to_bcd());
        },
        "neither the old nor the new",
    );
    // a key try counter spent twice by one power loss
    damaged(
        &change,
        &change.start,
        &|i| {
            i.keys.get_mut("UKSSSE").unwrap().tries_left -= 2;
        },
        "key UKSSSE",
    );
    // holder data that is neither the old nor the new
    damaged(
        &change,
        &change.start,
        &|i| {
            i.ef06[1].0[2] ^= 0x01;
        },
        "EF06 tag",
    );
    // a block that no operation here asked for
    damaged(
        &change,
        &change.start,
        &|i| i.ssse_blocked = true,
        "application block flag",
    );
    // a blocked PIN given a try back by a power loss
    let reload = Scenario::new(Kind::ReloadPin, config);
    damaged(
        &reload,
        &reload.start,
        &|i| i.pin.tries_left = 1,
        "PIN with 1 tries",
    );
    // a card number without all of its personalization
    let personalize = Scenario::new(Kind::Personalize, config);
    damaged(
        &personalize,
        &personalize.intended,
        &|i| {
            i.ef06.pop();
        },
        "a card number without the whole personalization",
    );
    // a photo whose second chunk is new while its first is old
    let photo = Scenario::new(Kind::WriteFile(Ef::Ef08), config);
    damaged(
        &photo,
        &photo.start,
        &|i| {
            let new = &photo.intended.ef08.as_ref().unwrap().0;
            i.ef08.as_mut().unwrap().0[BINARY_CHUNK..2 * BINARY_CHUNK]
                .copy_from_slice(&new[BINARY_CHUNK..2 * BINARY_CHUNK]);
        },
        "EF08 is not new chunks followed by old ones",
    );
}
