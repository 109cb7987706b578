//! The blocklist file parser (fuzz target `blocklist_file`, docs/blocklist.md).
//!
//! [`check_blocklist_file`] takes arbitrary bytes as a blocklist file and checks:
//!
//! - the header reader, the full-list, delta and working-list parsers never panic, whatever
//!   the bytes, with or without the signature check (the unverified path reaches the layout
//!   checks behind the signature);
//! - what a parser accepts is consistent: every single card and range of an accepted full
//!   list is found by the look-up with its mark, and a working list round-trips through its
//!   encoder;
//! - an update a terminal refuses leaves its list exactly as it was, and an accepted one moves
//!   it to the file's version.
//!
//! The seeds (`fixtures/fuzz/blocklist_file/`) are files signed with [`SEED_KEY`]; the test
//! `blocklist::tests::write_seeds` writes them again when `SSCARD_WRITE_SEEDS=1`.

use sscard_blocklist::format::{self, Trust};
use sscard_blocklist::terminal::read_delta;
use sscard_blocklist::{
    CardRange, Entry, IssuerKey, IssuerList, Mark, Reason, TerminalList, TrustedKey,
};
use sscard_core::data::{CardIdentificationCode, CardNumber};

/// The seeds' signing key (TEST KEY ONLY: it signs fuzz seeds, nothing else).
pub const SEED_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgWrx9CXuyyu2FK2o2
UMBLSKGLqG624jZChl8ZKWyVX5uhRANCAATHvDgfN8Q7tPw72vpr0AQ6DEx0/94s
hGhpz5Q9J4CWBPQUKV4UR9tN9A0JZkouDIk+rYTTa3xUq0lReCy8qSAP
-----END PRIVATE KEY-----
";

fn seed_key() -> IssuerKey {
    IssuerKey::from_pem(SEED_KEY).expect("the seed key")
}

fn trusted() -> TrustedKey {
    static KEY: std::sync::OnceLock<TrustedKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| seed_key().public().expect("the seed key's public key"))
        .clone()
}

/// The list of version 1 a terminal holds when updates are fuzzed: one card, one range.
fn held() -> TerminalList {
    static HELD: std::sync::OnceLock<TerminalList> = std::sync::OnceLock::new();
    HELD.get_or_init(make_held).clone()
}

fn make_held() -> TerminalList {
    let mut issuer = IssuerList::new();
    for (entry, mark) in seed_entries().into_iter().take(2) {
        issuer.add(&entry, mark);
    }
    let day = "20261201".parse().expect("date");
    let v1 = issuer
        .publish(&seed_key(), day, day, "20261231".parse().expect("date"))
        .expect("publish");
    TerminalList::from_full(v1.full, &trusted(), None).expect("the held list")
}

fn seed_entries() -> Vec<(Entry, Mark)> {
    let card = |id: &str, number: &str| Entry::Card {
        card_id: id.parse::<CardIdentificationCode>().expect("card id"),
        card_number: CardNumber::from_card(number).expect("card number"),
    };
    let mark = |r: Reason, d: &str| Mark::new(r, d.parse().expect("date")).expect("mark");
    vec![
        (
            card("639900D15600000500BF7C7A48FB4966", "KD5578904"),
            mark(Reason::Lost, "20261120"),
        ),
        (
            Entry::Range(CardRange::new("A1000000", "A1000099").expect("range")),
            mark(Reason::Revoked, "20250101"),
        ),
        (
            card("510100D15600000501020304FFFFFFFF", "X00000019"),
            mark(Reason::Replaced, "20260105"),
        ),
        (
            // a check character no mod-11 scheme makes: the wide table
            card("110000D156000005AABBCCDD00000000", "ZZ000000A"),
            mark(Reason::Damaged, "20000101"),
        ),
    ]
}

/// Every entry of an accepted list is found with its mark. (A compact-table record that
/// decodes to no card — sscard's encoder never writes one — is counted but neither shown nor
/// ever matched.)
fn check_consistent(list: &TerminalList) {
    let entries = list.entries();
    assert!(entries.len() as u64 <= list.len(), "entries and counts");
    for (entry, mark) in &entries {
        match entry {
            Entry::Card {
                card_id,
                card_number,
            } => {
                let hit = list.lookup(card_id, card_number).expect("a listed card");
                assert_eq!(hit.mark, *mark, "{entry}");
            }
            Entry::Range(r) => {
                let first = CardNumber::from_card(&format!("{}0", r.first())).expect("number");
                assert!(r.contains(&first));
                let id: CardIdentificationCode =
                    "639900D156000005FFFFFFFFFFFFFFFF".parse().expect("card id");
                assert!(list.lookup(&id, &first).is_some(), "{entry}");
            }
        }
    }
}

/// The property (see the module documentation).
pub fn check_blocklist_file(data: &[u8]) {
    let key = trusted();
    let _ = format::read_header(data, Trust::Unverified);
    let _ = format::read_header(data, Trust::Key(&key));
    if let Ok(list) = TerminalList::from_full_unverified(data.to_vec()) {
        check_consistent(&list);
    }
    if let Ok(delta) = read_delta(data.to_vec(), Trust::Unverified) {
        assert_eq!(delta.header.base + 1, delta.header.version);
    }
    if let Ok(issuer) = IssuerList::from_bytes(data.to_vec()) {
        let again = IssuerList::from_bytes(issuer.to_bytes().expect("encode")).expect("decode");
        assert_eq!(
            again.entries().collect::<Vec<_>>(),
            issuer.entries().collect::<Vec<_>>()
        );
        assert_eq!(again.pending(), issuer.pending());
    }
    // a terminal's update
    let mut list = held();
    let before = list.entries();
    match list.apply(data.to_vec(), &key, None) {
        Ok(applied) => {
            assert_eq!(list.version(), applied.to);
            check_consistent(&list);
        }
        Err(_) => {
            assert_eq!(list.version(), 1);
            assert_eq!(list.entries(), before, "a refused update changes nothing");
        }
    }
}

/// The seed files: name and bytes.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let key = seed_key();
    let day = "20261201".parse().expect("date");
    let until = "20261231".parse().expect("date");
    let mut issuer = IssuerList::new();
    let mut out = Vec::new();
    let entries = seed_entries();
    for (entry, mark) in entries.iter().take(2) {
        issuer.add(entry, *mark);
    }
    let v1 = issuer.publish(&key, day, day, until).expect("v1");
    out.push(("full-v1".to_owned(), v1.full));
    for (entry, mark) in entries.iter().skip(2) {
        issuer.add(entry, *mark);
    }
    issuer.remove(&entries[1].0).expect("listed");
    out.push(("working".to_owned(), issuer.to_bytes().expect("working")));
    let v2 = issuer.publish(&key, day, day, until).expect("v2");
    out.push(("full-v2".to_owned(), v2.full));
    out.push(("delta-v2".to_owned(), v2.delta.expect("delta")));
    let empty = IssuerList::new()
        .publish(&key, day, day, until)
        .expect("empty");
    out.push(("full-empty".to_owned(), empty.full));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<(String, Vec<u8>)> {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = here.join("../fixtures/fuzz/blocklist_file");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .expect("fixtures/fuzz/blocklist_file")
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

    /// `SSCARD_WRITE_SEEDS=1 cargo test --manifest-path fuzz/Cargo.toml write_seeds` writes
    /// the seeds again (signatures differ by nothing: SM2 signing here is deterministic).
    #[test]
    fn write_seeds() {
        if std::env::var("SSCARD_WRITE_SEEDS").as_deref() != Ok("1") {
            return;
        }
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = here.join("../fixtures/fuzz/blocklist_file");
        std::fs::create_dir_all(&dir).expect("dir");
        for (name, bytes) in seeds() {
            std::fs::write(dir.join(name), bytes).expect("write");
        }
    }

    #[test]
    fn every_seed_passes_and_the_signed_ones_are_accepted() {
        let files = corpus();
        assert!(files.len() >= 5, "seeds in fixtures/fuzz/blocklist_file");
        for (name, bytes) in &files {
            check_blocklist_file(bytes);
            // the seeds are what the seed key signs today
            if let Some((_, fresh)) = seeds().into_iter().find(|(n, _)| n == name) {
                assert_eq!(&fresh, bytes, "{name} is current (SSCARD_WRITE_SEEDS=1)");
            }
        }
        let mut list = held();
        let delta = files
            .iter()
            .find(|(n, _)| n == "delta-v2")
            .expect("delta seed");
        list.apply(delta.1.clone(), &trusted(), None)
            .expect("the delta seed applies");
        assert_eq!(list.version(), 2);
        assert_eq!(list.len(), 3);
    }

    /// Bytes flipped in the seeds: never a panic, never a changed list on refusal.
    #[test]
    fn flipped_bytes_of_the_seeds_are_handled() {
        for (_, bytes) in corpus() {
            for at in (0..bytes.len()).step_by(7) {
                let mut b = bytes.clone();
                b[at] ^= 0x5A;
                check_blocklist_file(&b);
                check_blocklist_file(&bytes[..at]);
            }
        }
    }
}
