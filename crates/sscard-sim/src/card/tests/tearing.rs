//! Power loss at every write of the writing commands (part 7 §14, [`crate::tear`]).

use sscard_core::crypto::Pin;
use sscard_core::keys::KeyRole;
use sscard_core::profile::{Ef, Generation};
use sscard_core::tlv::simple as tlv;
use sscard_core::transport::{Transport, TransportError};
use sscard_core::Algorithm;

use crate::image::CardImage;
use crate::tear::Tear;
use crate::test_support::*;
use crate::transport::SimTransport;

/// A fresh terminal in front of a copy of `image`, SSSE selected.
fn on(image: &CardImage, alg: Algorithm, generation: Generation) -> Terminal {
    let mut t = Terminal::new(generation, alg);
    t.card = crate::card::SimCard::from_image(image.clone()).unwrap();
    t.card.seed_rng(11);
    t.select();
    t
}

#[test]
fn update_record_is_all_or_nothing() {
    let base = Terminal::new(Generation::V2, Algorithm::Sm4)
        .card
        .image()
        .clone();
    for n in 1..=2 {
        let mut t = on(&base, Algorithm::Sm4, Generation::V2);
        assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
        t.card.arm_tear(Tear::AtWrite(n));
        let answer = t
            .card
            .handle(&with_lc([0, 0xDC, 0x07, 0x28], &tlv(0x07, b"HA1046924")));
        let value = t
            .card
            .image()
            .record_value(Ef::Ef05, 0x07)
            .map(<[u8]>::to_vec);
        match n {
            1 => {
                assert!(answer.is_empty() && t.card.is_torn());
                assert_eq!(value, None, "torn: the record was not added");
            }
            _ => {
                assert_eq!(answer, [0x90, 0x00]);
                assert_eq!(value.as_deref(), Some(&b"HA1046924"[..]));
            }
        }
        // replacing an existing record: old or new, never a mix
        let mut t = on(
            &Terminal::personalized(Generation::V2, Algorithm::Sm4)
                .card
                .into_image(),
            Algorithm::Sm4,
            Generation::V2,
        );
        assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
        t.card.arm_tear(Tear::AtWrite(n));
        t.card
            .handle(&with_lc([0, 0xDC, 0x07, 0x28], &tlv(0x07, b"ZZ9999999")));
        let value = t
            .card
            .image()
            .record_value(Ef::Ef05, 0x07)
            .unwrap()
            .to_vec();
        assert_eq!(
            value,
            if n == 1 {
                b"HA1046924".to_vec()
            } else {
                b"ZZ9999999".to_vec()
            }
        );
    }
}

#[test]
fn update_binary_is_all_or_nothing() {
    let base = Terminal::new(Generation::V3, Algorithm::Tdes)
        .card
        .image()
        .clone();
    let mut t = on(&base, Algorithm::Tdes, Generation::V3);
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    t.card.arm_tear(Tear::AtWrite(1));
    assert!(t.card.handle(&h("00D6880004 01020304")).is_empty());
    assert!(t.card.image().ef08.as_ref().unwrap().0.is_empty());
}

#[test]
fn verify_spends_the_try_before_comparing() {
    let base = Terminal::personalized(Generation::V2, Algorithm::Tdes)
        .card
        .into_image();
    let verify = with_lc([0, 0x20, 0, 0], &Pin::initial().to_bcd());
    // correct PIN: decrement, then restore
    for (n, tries_after, answered) in [(1, 3, false), (2, 2, false), (3, 3, true)] {
        let mut t = on(&base, Algorithm::Tdes, Generation::V2);
        t.card.arm_tear(Tear::AtWrite(n));
        let answer = t.card.handle(&verify);
        assert_eq!(!answer.is_empty(), answered, "write {n}");
        assert_eq!(t.card.image().pin.tries_left, tries_after, "write {n}");
        assert_eq!(t.card.writes_since_arming(), n.min(2));
    }
    // a wrong PIN torn at its only write: nothing learnt, nothing spent
    let mut t = on(&base, Algorithm::Tdes, Generation::V2);
    t.card.arm_tear(Tear::AtWrite(1));
    assert!(t
        .card
        .handle(&with_lc([0, 0x20, 0, 0], &[0x11, 0x11]))
        .is_empty());
    assert_eq!(t.card.image().pin.tries_left, 3);
    // after a tear that spent a try, the next correct VERIFY gives it back
    let mut t = on(&base, Algorithm::Tdes, Generation::V2);
    t.card.arm_tear(Tear::AtWrite(2));
    assert!(t.card.handle(&verify).is_empty());
    t.card.reset();
    t.select();
    assert_eq!(t.verify("123456"), 0x9000);
    assert_eq!(t.card.image().pin.tries_left, 3);
}

#[test]
fn change_pin_at_every_write() {
    let base = Terminal::personalized(Generation::V3, Algorithm::Sm4)
        .card
        .into_image();
    for n in 1..=3 {
        let mut t = on(&base, Algorithm::Sm4, Generation::V3);
        t.card.arm_tear(Tear::AtWrite(n));
        let mut data = Pin::initial().to_bcd().to_vec();
        data.push(0xFF);
        data.extend_from_slice(&[0x25, 0x80]);
        let answer = t.card.handle(&with_lc([0x80, 0x5E, 0x01, 0x00], &data));
        let pin = t.card.image().pin.clone();
        match n {
            1 => assert!(
                answer.is_empty()
                    && pin.value.expose() == [0x12, 0x34, 0x56]
                    && pin.tries_left == 3
            ),
            2 => assert!(
                answer.is_empty()
                    && pin.value.expose() == [0x12, 0x34, 0x56]
                    && pin.tries_left == 2
            ),
            _ => assert!(
                answer == [0x90, 0x00] && pin.value.expose() == [0x25, 0x80] && pin.tries_left == 3
            ),
        }
    }
}

#[test]
fn reload_and_unblock_at_every_write() {
    let base = Terminal::personalized(Generation::V2, Algorithm::Sm4)
        .card
        .into_image();
    for n in 1..=2 {
        let mut t = on(&base, Algorithm::Sm4, Generation::V2);
        assert_eq!(t.authenticate(KeyRole::Puk), 0x9000);
        let apdu = t.reload_apdu(&[0x97, 0x53]);
        t.card.arm_tear(Tear::AtWrite(n));
        let answer = t.card.handle(&apdu);
        let pin = t.card.image().pin.value.expose().to_vec();
        assert_eq!(
            pin,
            if n == 1 {
                vec![0x12, 0x34, 0x56]
            } else {
                vec![0x97, 0x53]
            }
        );
        assert_eq!(answer.is_empty(), n == 1);
    }
    // unblock
    let mut blocked = base.clone();
    blocked.pin.tries_left = 0;
    for n in 1..=2 {
        let mut t = on(&blocked, Algorithm::Sm4, Generation::V2);
        assert_eq!(t.authenticate(KeyRole::Puk), 0x9000);
        let challenge = t.challenge(8);
        let session = t.stk_session(&challenge);
        let apdu = t.mac_apdu(&session, [0x84, 0x24, 0x00, 0x00], &[]);
        t.card.arm_tear(Tear::AtWrite(n));
        t.card.handle(&apdu);
        assert_eq!(t.card.image().pin.tries_left, if n == 1 { 0 } else { 3 });
    }
}

#[test]
fn external_authentication_spends_the_try_first() {
    let base = Terminal::new(Generation::V2, Algorithm::Tdes)
        .card
        .into_image();
    for (n, tries_after) in [(1, 3), (2, 2), (3, 3)] {
        let mut t = on(&base, Algorithm::Tdes, Generation::V2);
        let challenge = t.challenge(8);
        let apdu = t.external_auth_apdu(KeyRole::Ukssse, &challenge, [1; 8]);
        t.card.arm_tear(Tear::AtWrite(n));
        let answer = t.card.handle(&apdu);
        assert_eq!(
            t.card.image().key(KeyRole::Ukssse).unwrap().tries_left,
            tries_after
        );
        assert_eq!(answer.is_empty(), n < 3);
        assert_eq!(
            t.card.authenticated_roles().is_empty(),
            n < 3,
            "torn: not authenticated"
        );
    }
    // BK failures do not count: no write at all
    let mut t = on(&base, Algorithm::Tdes, Generation::V2);
    t.card.arm_tear(Tear::AtWrite(1));
    assert_eq!(t.authenticate(KeyRole::Bk), 0x9000);
    assert_eq!(t.card.tear_fired(), None);
}

#[test]
fn blocking_at_its_write() {
    let base = Terminal::personalized(Generation::V2, Algorithm::Sm4)
        .card
        .into_image();
    for (header, is_card) in [
        ([0x84, 0x1E, 0x00, 0x01], false),
        ([0x84, 0x16, 0x00, 0x00], true),
    ] {
        for n in 1..=2 {
            let mut t = on(&base, Algorithm::Sm4, Generation::V2);
            assert_eq!(t.authenticate(KeyRole::Bk), 0x9000);
            let challenge = t.challenge(8);
            let session = t.stk_session(&challenge);
            let apdu = t.mac_apdu(&session, header, &[]);
            t.card.arm_tear(Tear::AtWrite(n));
            let answer = t.card.handle(&apdu);
            let image = t.card.image();
            let blocked = if is_card {
                image.card_blocked
            } else {
                image.ssse_blocked
            };
            assert_eq!(blocked, n == 2);
            assert_eq!(answer.is_empty(), n == 1);
        }
    }
}

#[test]
fn after_apdu_and_the_transport() {
    let base = Terminal::new(Generation::V2, Algorithm::Sm4)
        .card
        .into_image();
    let mut t = on(&base, Algorithm::Sm4, Generation::V2);
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    t.card.arm_tear(Tear::AfterApdu(1));
    let write = with_lc([0, 0xDC, 0x02, 0x28], &tlv(0x02, b"3"));
    assert!(t.card.handle(&write).is_empty(), "the answer is lost");
    assert_eq!(
        t.card.image().record_value(Ef::Ef05, 2),
        Some(&b"3"[..]),
        "but it ran"
    );
    assert!(t.card.handle(&h("0084000008")).is_empty(), "no power");
    assert_eq!(t.card.apdus_since_arming(), 1);
    t.card.reset();
    assert!(!t.card.is_torn());
    assert!(t.card.authenticated_roles().is_empty());
    // the in-process reader reports a removed card
    let mut t = on(&base, Algorithm::Sm4, Generation::V2);
    assert_eq!(t.authenticate(KeyRole::Ukssse), 0x9000);
    let mut transport = SimTransport::new(t.card);
    transport.card_mut().arm_tear(Tear::AtWrite(1));
    assert!(matches!(
        transport.transmit(&write),
        Err(TransportError::CardRemoved)
    ));
    assert!(!transport.is_present());
    let epoch = transport.reset_epoch();
    transport.insert_card();
    assert!(transport.reset_epoch() > epoch);
    // powered again: the MF is current, EF05 is not there
    assert_eq!(transport.transmit(&write).unwrap(), [0x6A, 0x82]);
}
