//! The terminal's store on disk: updates are atomic under a crash at any point, refused files
//! leave the disk untouched, and a damaged store is reported, never half-used.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use sscard_blocklist::store::{self, POINTER};
use sscard_blocklist::{CrashPoint, Entry, Error, IssuerKey, IssuerList, Mark, Reason, Store};
use sscard_core::data::{BcdDate, CardIdentificationCode, CardNumber};

fn date(text: &str) -> BcdDate {
    text.parse().unwrap()
}

fn card(serial: u32) -> (CardIdentificationCode, CardNumber) {
    (
        format!("639900D156000005{serial:08X}FFFFFFFF")
            .parse()
            .unwrap(),
        CardNumber::with_check(&format!("KD{serial:06}")).unwrap(),
    )
}

fn entry(serial: u32) -> Entry {
    let (card_id, card_number) = card(serial);
    Entry::Card {
        card_id,
        card_number,
    }
}

fn lost() -> Mark {
    Mark::new(Reason::Lost, date("20261120")).unwrap()
}

const TODAY: &str = "20261201";

fn publish(issuer: &mut IssuerList, key: &IssuerKey) -> sscard_blocklist::Publication {
    issuer
        .publish(key, date(TODAY), date("20261101"), date("20261231"))
        .unwrap()
}

/// The files of the store directory (names), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn updates_survive_a_crash_at_every_point() {
    let key = IssuerKey::generate();
    let public = key.public().unwrap();
    let mut issuer = IssuerList::new();
    issuer.add(&entry(1), lost());
    let v1 = publish(&mut issuer, &key);
    issuer.add(&entry(2), lost());
    let v2 = publish(&mut issuer, &key);
    issuer.add(&entry(3), lost());
    let v3 = publish(&mut issuer, &key);
    let today = Some(date(TODAY));
    let (id2, n2) = card(2);
    let (id3, n3) = card(3);
    // updates: a delta, and a full list that replaces the chain
    let updates = [
        ("delta 1→2", v2.delta.clone().unwrap(), 2u64),
        ("full 2", v2.full.clone(), 2),
    ];
    for (what, update, version) in updates {
        for at in CrashPoint::ALL {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("store");
            let mut s = Store::create(&path, v1.full.clone(), &public, today).unwrap();
            let e = s.apply_crashing(update.clone(), today, at).unwrap_err();
            assert!(
                matches!(e, Error::Crash(p) if p == at),
                "{what} {at:?}: {e}"
            );
            drop(s);
            // a crash before a rename leaves its temporary file, as a killed process would
            let before_rename =
                !matches!(at, CrashPoint::UpdateRenamed | CrashPoint::PointerRenamed);
            assert_eq!(
                listing(&path).iter().any(|n| n.ends_with(".tmp")),
                before_rename,
                "{what} {at:?}: {:?}",
                listing(&path)
            );
            // the process died; the terminal starts again from the disk
            let mut s = Store::open(&path, &public).unwrap();
            let committed = matches!(at, CrashPoint::PointerRenamed);
            let expected = if committed { version } else { 1 };
            assert_eq!(s.list().version(), expected, "{what} {at:?}");
            assert_eq!(
                s.list().lookup(&id2, &n2).is_some(),
                committed,
                "{what} {at:?}"
            );
            // and carries on: the next update applies on top of what is held
            let next = if committed {
                v3.delta.clone().unwrap()
            } else {
                update.clone()
            };
            s.apply(next, today).unwrap();
            let s = Store::open(&path, &public).unwrap();
            assert_eq!(
                s.list().version(),
                if committed { 3 } else { version },
                "{what} {at:?}"
            );
            assert!(s.list().lookup(&id2, &n2).is_some());
            assert_eq!(s.list().lookup(&id3, &n3).is_some(), committed);
            // leftovers of the crash are gone after the next successful update
            assert!(
                listing(&path).iter().all(|n| !n.ends_with(".tmp")),
                "{what} {at:?}: {:?}",
                listing(&path)
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn store_files_hold_no_secret_and_keep_the_ordinary_mode() {
    use std::os::unix::fs::PermissionsExt;
    let key = IssuerKey::generate();
    let public = key.public().unwrap();
    let mut issuer = IssuerList::new();
    issuer.add(&entry(1), lost());
    let v1 = publish(&mut issuer, &key);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    Store::create(&path, v1.full.clone(), &public, Some(date(TODAY))).unwrap();
    // what any file created under this process's umask gets: a terminal run by another user
    // than the one updating the store can read it
    let plain = dir.path().join("plain");
    std::fs::File::create(&plain).unwrap();
    let mode_of = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for name in listing(&path) {
        assert_eq!(mode_of(&path.join(&name)), mode_of(&plain), "{name}");
    }
    assert_eq!(listing(&path).len(), 2, "the full list and {POINTER}");
}

#[test]
fn a_refused_update_changes_nothing_on_disk() {
    let key = IssuerKey::generate();
    let public = key.public().unwrap();
    let mut issuer = IssuerList::new();
    issuer.add(&entry(1), lost());
    let v1 = publish(&mut issuer, &key);
    issuer.add(&entry(2), lost());
    let v2 = publish(&mut issuer, &key);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut s = Store::create(&path, v1.full.clone(), &public, None).unwrap();
    let before: Vec<(String, Vec<u8>)> = listing(&path)
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(path.join(&n)).unwrap()))
        .collect();
    let mut tampered = v2.delta.clone().unwrap();
    tampered[70] ^= 4;
    assert!(s.apply(tampered, None).is_err());
    assert!(s.apply(v1.full.clone(), None).is_err());
    assert!(s.apply(v2.delta.unwrap()[..100].to_vec(), None).is_err());
    let after: Vec<(String, Vec<u8>)> = listing(&path)
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(path.join(&n)).unwrap()))
        .collect();
    assert_eq!(before, after);
    assert_eq!(s.list().version(), 1);
    assert_eq!(s.chain(), ["full-0000000001.ssbl"]);
}

#[test]
fn a_damaged_store_is_reported() {
    let key = IssuerKey::generate();
    let public = key.public().unwrap();
    let mut issuer = IssuerList::new();
    issuer.add(&entry(1), lost());
    let v1 = publish(&mut issuer, &key);
    issuer.add(&entry(2), lost());
    let v2 = publish(&mut issuer, &key);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut s = Store::create(&path, v1.full.clone(), &public, None).unwrap();
    s.apply(v2.delta.unwrap(), None).unwrap();
    assert_eq!(
        listing(&path),
        [POINTER, "delta-0000000002.ssbl", "full-0000000001.ssbl"]
    );
    assert!(matches!(
        Store::create(&path, v1.full.clone(), &public, None),
        Err(Error::Store { .. })
    ));
    // another key
    let other = IssuerKey::generate().public().unwrap();
    let e = Store::open(&path, &other).unwrap_err();
    assert!(e.to_string().contains("another key"), "{e}");
    // a delta damaged on disk
    let delta = path.join("delta-0000000002.ssbl");
    let mut bytes = std::fs::read(&delta).unwrap();
    bytes[80] ^= 1;
    std::fs::write(&delta, &bytes).unwrap();
    let e = Store::open(&path, &public).unwrap_err();
    assert!(
        e.to_string().contains("delta-0000000002.ssbl") && e.to_string().contains("signature"),
        "{e}"
    );
    // a file the pointer names is gone
    std::fs::remove_file(&delta).unwrap();
    assert!(Store::open(&path, &public).is_err());
    // not a store at all
    assert!(Store::open(dir.path(), &public).is_err());
    // `load` takes a store or a single full list, and wants it current
    let single = dir.path().join("v1.ssbl");
    std::fs::write(&single, &v1.full).unwrap();
    assert_eq!(
        store::load(&single, &public, date(TODAY))
            .unwrap()
            .version(),
        1
    );
    assert!(matches!(
        store::load(&single, &public, date("20270101")),
        Err(Error::Expired { .. })
    ));
}
