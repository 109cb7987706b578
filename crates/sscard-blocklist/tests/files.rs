//! The signed files: what a terminal accepts and every file it refuses (keeping its list), the
//! issuer's working list, and the exactness of the look-up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard_blocklist::format::{self, Trust, FORMAT_VERSION, HEADER_LEN};
use sscard_blocklist::{
    CardRange, Entry, Error, IssuerKey, IssuerList, Kind, Mark, Reason, TerminalList, TrustedKey,
};
use sscard_core::data::{BcdDate, CardIdentificationCode, CardNumber};

fn date(text: &str) -> BcdDate {
    text.parse().unwrap()
}

fn card(serial: u32, number: &str) -> Entry {
    let id: CardIdentificationCode = format!("639900D156000005{serial:08X}FFFFFFFF")
        .parse()
        .unwrap();
    Entry::Card {
        card_id: id,
        card_number: CardNumber::from_card(number).unwrap(),
    }
}

fn parts(entry: &Entry) -> (CardIdentificationCode, CardNumber) {
    match entry {
        Entry::Card {
            card_id,
            card_number,
        } => (*card_id, card_number.clone()),
        Entry::Range(_) => panic!("a card"),
    }
}

fn lost(day: &str) -> Mark {
    Mark::new(Reason::Lost, date(day)).unwrap()
}

const TODAY: &str = "20261201";

/// An issuer with three cards and a range, published as version 1 and then version 2 (one
/// card lost, one removed).
struct Fixture {
    key: IssuerKey,
    public: TrustedKey,
    issuer: IssuerList,
    /// The issuer right after publishing version 1.
    issuer_v1: IssuerList,
    v1: Vec<u8>,
    v2_full: Vec<u8>,
    v2_delta: Vec<u8>,
}

fn publish(issuer: &mut IssuerList, key: &IssuerKey) -> sscard_blocklist::Publication {
    issuer
        .publish(key, date(TODAY), date("20261101"), date("20261231"))
        .unwrap()
}

fn fixture() -> Fixture {
    let key = IssuerKey::generate();
    let public = key.public().unwrap();
    let mut issuer = IssuerList::new();
    issuer.add(&card(1, "KD5578904"), lost("20261120"));
    issuer.add(
        &card(2, "X00000019"),
        Mark::new(Reason::Replaced, date("20260105")).unwrap(),
    );
    issuer.add(
        &Entry::Range(CardRange::new("A1000000", "A1000099").unwrap()),
        Mark::new(Reason::Revoked, date("20250101")).unwrap(),
    );
    let v1 = publish(&mut issuer, &key);
    assert_eq!(v1.version, 1);
    assert!(v1.delta.is_none(), "version 1 has no delta");
    let issuer_v1 = issuer.clone();
    issuer.add(&card(3, "KD5578913"), lost("20261130"));
    issuer.remove(&card(2, "X00000019")).unwrap();
    let v2 = publish(&mut issuer, &key);
    assert_eq!((v2.version, v2.added, v2.removed), (2, 1, 1));
    Fixture {
        key,
        public,
        issuer,
        issuer_v1,
        v1: v1.full,
        v2_full: v2.full,
        v2_delta: v2.delta.unwrap(),
    }
}

fn held(f: &Fixture) -> TerminalList {
    TerminalList::from_full(f.v1.clone(), &f.public, Some(date(TODAY))).unwrap()
}

#[test]
fn a_delta_brings_a_terminal_to_the_full_list_of_the_next_version() {
    let f = fixture();
    let mut list = held(&f);
    assert_eq!(list.version(), 1);
    let (id3, n3) = parts(&card(3, "KD5578913"));
    assert!(list.lookup(&id3, &n3).is_none());
    let applied = list
        .apply(f.v2_delta.clone(), &f.public, Some(date(TODAY)))
        .unwrap();
    assert_eq!(
        (applied.kind, applied.from, applied.to),
        (Kind::Delta, 1, 2)
    );
    let hit = list.lookup(&id3, &n3).unwrap();
    assert_eq!(hit.mark, lost("20261130"));
    assert_eq!(hit.version, 2);
    assert_eq!(
        hit.describe(),
        "reported lost on 20261130 (single card; blocklist version 2)"
    );
    let (id2, n2) = parts(&card(2, "X00000019"));
    assert!(list.lookup(&id2, &n2).is_none(), "removed by the delta");
    let full = TerminalList::from_full(f.v2_full.clone(), &f.public, None).unwrap();
    assert_eq!(list.entries(), full.entries());
    assert_eq!(list.counts(), full.counts());
    assert_eq!(full.entries().len(), 3);
    assert_eq!(f.issuer.entries().count(), 3);
    // folding the delta's changes into a new compact table changes no answer
    let heap_before = list.heap_bytes();
    list.compact();
    assert_eq!(list.entries(), full.entries());
    assert_eq!(list.lookup(&id3, &n3).unwrap().mark, lost("20261130"));
    assert!(list.lookup(&id2, &n2).is_none());
    assert!(list.heap_bytes() <= heap_before);
}

#[test]
fn ranges_refuse_every_card_number_inside_and_none_outside() {
    let f = fixture();
    let list = held(&f);
    let id = parts(&card(9, "A10000015")).0;
    for (number, inside) in [
        ("A10000015", true),
        ("A10000991", true),
        ("A1000009Z", true),
        ("A10001001", false),
        ("A0ZZZZZZ1", false),
    ] {
        let n = CardNumber::from_card(number).unwrap();
        let hit = list.lookup(&id, &n);
        assert_eq!(hit.is_some(), inside, "{number}");
        if let Some(hit) = hit {
            assert_eq!(hit.mark.reason, Reason::Revoked);
            assert!(matches!(hit.entry, Entry::Range(_)));
        }
    }
}

/// A single-card entry refuses exactly that card: the same card number on another chip (a
/// replacement), or the same chip with another number, passes.
#[test]
fn single_cards_match_exactly() {
    let f = fixture();
    let list = held(&f);
    let (id, number) = parts(&card(1, "KD5578904"));
    assert!(list.lookup(&id, &number).is_some());
    let mut other_serial = id;
    other_serial.serial[3] ^= 1;
    let mut other_auth = id;
    other_auth.auth_code[0] ^= 0x80;
    let mut other_region = id;
    other_region.region = "639901".parse().unwrap();
    for other in [other_serial, other_auth, other_region] {
        assert!(list.lookup(&other, &number).is_none(), "{other}");
    }
    for n in ["KD5578913", "KD557890X", "KD557890A"] {
        let n = CardNumber::from_card(n).unwrap();
        assert!(list.lookup(&id, &n).is_none(), "{n}");
    }
}

/// Cards whose check character no mod-11 check makes (an issuer with another scheme) are
/// listed exactly too (the wide table).
#[test]
fn cards_with_any_check_character_are_listed() {
    let key = IssuerKey::generate();
    let mut issuer = IssuerList::new();
    let odd = card(5, "KD557890A");
    issuer.add(&odd, lost("20261101"));
    let v1 = publish(&mut issuer, &key);
    let list = TerminalList::from_full(v1.full, &key.public().unwrap(), None).unwrap();
    let (id, n) = parts(&odd);
    assert_eq!(list.lookup(&id, &n).unwrap().mark, lost("20261101"));
    let (_, standard) = parts(&card(5, "KD5578904"));
    assert!(list.lookup(&id, &standard).is_none());
    // removed by a delta
    issuer.remove(&odd).unwrap();
    let v2 = publish(&mut issuer, &key);
    let mut list = list;
    list.apply(v2.delta.unwrap(), &key.public().unwrap(), None)
        .unwrap();
    assert!(list.lookup(&id, &n).is_none());
    assert!(list.is_empty());
}

/// Every refusal of part 8 §7.3's "secure update": the terminal keeps exactly its list.
#[test]
fn bad_files_are_refused_and_the_list_is_kept() {
    let f = fixture();
    let today = Some(date(TODAY));
    let mut tampered = f.v2_delta.clone();
    let last_entry_byte = tampered.len() - 65;
    tampered[last_entry_byte] ^= 0x01;
    let mut bad_signature = f.v2_delta.clone();
    let n = bad_signature.len();
    bad_signature[n - 1] ^= 0x55;
    let mut tampered_version = f.v2_delta.clone();
    tampered_version[15] = 9; // version 2 → 9
    let truncated = f.v2_delta[..f.v2_delta.len() - 10].to_vec();
    let header_only = f.v2_delta[..40].to_vec();
    let mut trailing = f.v2_delta.clone();
    trailing.push(0);
    let mut format2 = f.v2_delta.clone();
    format2[4..6].copy_from_slice(&(FORMAT_VERSION + 1).to_be_bytes());
    let other_key = IssuerKey::generate();
    let mut forged_issuer = f.issuer.clone();
    let forged = publish(&mut forged_issuer, &other_key);
    // the issuer's own files, but stale or out of their period
    let mut old_issuer = IssuerList::new();
    old_issuer.add(&card(1, "KD5578904"), lost("20261120"));
    let v1_again = publish(&mut old_issuer, &f.key);
    let expired = f
        .issuer
        .clone()
        .publish(&f.key, date("20260101"), date("20260101"), date("20260131"))
        .unwrap();
    let mut expired_delta = f.issuer_v1.clone();
    expired_delta.add(&card(3, "KD5578913"), lost("20261130"));
    let expired_delta = expired_delta
        .publish(&f.key, date("20261101"), date("20261101"), date("20261130"))
        .unwrap();
    let future = f
        .issuer
        .clone()
        .publish(&f.key, date(TODAY), date("20270101"), date("20270131"))
        .unwrap();
    type Case<'a> = (&'a str, Vec<u8>, fn(&Error) -> bool);
    let cases: Vec<Case<'_>> = vec![
        ("tampered entry", tampered, |e| {
            matches!(e, Error::BadSignature)
        }),
        ("tampered signature", bad_signature, |e| {
            matches!(e, Error::BadSignature)
        }),
        ("tampered version", tampered_version, |e| {
            matches!(e, Error::BadSignature)
        }),
        ("truncated", truncated, |e| {
            matches!(e, Error::Truncated { .. })
        }),
        ("header cut", header_only, |e| {
            matches!(e, Error::Truncated { .. })
        }),
        ("trailing bytes", trailing, |e| {
            matches!(e, Error::TrailingData { extra: 1 })
        }),
        ("format version 2", format2, |e| {
            matches!(
                e,
                Error::FormatVersion {
                    found: 2,
                    supported: 1
                }
            )
        }),
        ("another key", forged.full, |e| {
            matches!(e, Error::WrongKey { .. })
        }),
        ("another key's delta", forged.delta.unwrap(), |e| {
            matches!(e, Error::WrongKey { .. })
        }),
        ("rollback", v1_again.full, |e| {
            matches!(e, Error::NotNewer { held: 1 })
        }),
        ("expired", expired.full, |e| {
            matches!(e, Error::Expired { .. })
        }),
        ("expired delta", expired_delta.delta.unwrap(), |e| {
            matches!(e, Error::Expired { .. })
        }),
        ("not yet valid", future.full, |e| {
            matches!(e, Error::NotYetValid { .. })
        }),
        ("not a blocklist", b"{\"json\": true}".to_vec(), |e| {
            matches!(e, Error::NotBlocklist)
        }),
        ("empty", Vec::new(), |e| matches!(e, Error::NotBlocklist)),
    ];
    for (what, bytes, expected) in cases {
        let mut list = held(&f);
        let before = list.entries();
        let e = list.apply(bytes, &f.public, today).unwrap_err();
        assert!(expected(&e), "{what}: {e}");
        assert_eq!(list.version(), 1, "{what}");
        assert_eq!(list.entries(), before, "{what}: the list is kept");
        assert!(!e.to_string().is_empty());
    }
    // a terminal at version 2 refuses version 1 (rollback) and the delta again
    let mut list = held(&f);
    list.apply(f.v2_full.clone(), &f.public, today).unwrap();
    assert!(matches!(
        list.apply(f.v1.clone(), &f.public, today),
        Err(Error::Rollback {
            held: 2,
            offered: 1
        })
    ));
    assert!(matches!(
        list.apply(f.v2_delta.clone(), &f.public, today),
        Err(Error::NotNewer { held: 2 })
    ));
    // a delta that skips a version
    let mut issuer = f.issuer.clone();
    publish(&mut issuer, &f.key);
    let v4 = publish(&mut issuer, &f.key);
    let e = list.apply(v4.delta.unwrap(), &f.public, today).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Gap {
                held: 2,
                base: 3,
                offered: 4
            }
        ),
        "{e}"
    );
    assert_eq!(list.version(), 2);
}

#[test]
fn the_loaded_list_must_be_current_and_a_full_list() {
    let f = fixture();
    assert!(matches!(
        TerminalList::from_full(f.v1.clone(), &f.public, Some(date("20270101"))),
        Err(Error::Expired { .. })
    ));
    assert!(matches!(
        TerminalList::from_full(f.v2_delta.clone(), &f.public, None),
        Err(Error::WrongKind(_))
    ));
    let list = TerminalList::from_full(f.v1.clone(), &f.public, None).unwrap();
    assert!(list.check_current(date("20261231")).is_ok());
    assert!(list.check_current(date("20270101")).is_err());
    let working = f.issuer.to_bytes().unwrap();
    assert!(matches!(
        TerminalList::from_full(working, &f.public, None),
        Err(Error::WrongKind(_))
    ));
}

#[test]
fn the_working_list_round_trips_and_refuses_damage() {
    let f = fixture();
    let mut issuer = f.issuer.clone();
    issuer.add(&card(7, "KD5578904"), lost("20261201"));
    issuer.remove(&card(1, "KD5578904")).unwrap();
    let bytes = issuer.to_bytes().unwrap();
    let again = IssuerList::from_bytes(bytes.clone()).unwrap();
    assert_eq!(again.version(), 2);
    assert_eq!(again.pending(), (1, 1));
    assert_eq!(
        again.entries().collect::<Vec<_>>(),
        issuer.entries().collect::<Vec<_>>()
    );
    let mut damaged = bytes.clone();
    damaged[HEADER_LEN + 20] ^= 1;
    assert!(matches!(
        IssuerList::from_bytes(damaged),
        Err(Error::BadChecksum)
    ));
    assert!(matches!(
        IssuerList::from_bytes(bytes[..bytes.len() - 1].to_vec()),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        IssuerList::from_bytes(f.v1.clone()),
        Err(Error::WrongKind(_))
    ));
    // removing what is not listed is refused
    assert!(matches!(
        issuer.remove(&card(99, "KD5578904")),
        Err(Error::NotListed(_))
    ));
    // the publication of the edited list carries exactly the two changes
    let v3 = publish(&mut issuer, &f.key);
    assert_eq!((v3.added, v3.removed), (1, 1));
    let header = format::read_header(&v3.delta.unwrap(), Trust::Key(&f.public)).unwrap();
    assert_eq!(
        (header.kind, header.base, header.version),
        (Kind::Delta, 2, 3)
    );
}

/// Many cards with consecutive serials of one region (what an issuer really has): every one is
/// found through the compact table, and their neighbours are not.
#[test]
fn thousands_of_clustered_cards_are_all_found() {
    let key = IssuerKey::generate();
    let mut issuer = IssuerList::new();
    let numbers: Vec<String> = (0..3000u32)
        .map(|i| {
            CardNumber::with_check(&format!("KD{i:06}"))
                .unwrap()
                .to_string()
        })
        .collect();
    for (i, n) in numbers.iter().enumerate() {
        issuer.add(&card(0x0100_0000 + i as u32, n), lost("20261101"));
    }
    let v1 = publish(&mut issuer, &key);
    // a small table pays a few more bits per card than ten million do (docs/blocklist.md)
    assert!(
        v1.full.len() < 3000 * 18,
        "{} bytes for 3000 cards",
        v1.full.len()
    );
    let list = TerminalList::from_full(v1.full, &key.public().unwrap(), None).unwrap();
    assert_eq!(list.counts().cards, 3000);
    for (i, n) in numbers.iter().enumerate() {
        let (id, number) = parts(&card(0x0100_0000 + i as u32, n));
        assert!(list.lookup(&id, &number).is_some(), "{i}");
        let (id, _) = parts(&card(0x0200_0000 + i as u32, n));
        assert!(list.lookup(&id, &number).is_none(), "{i}");
    }
}
