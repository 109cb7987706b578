//! Simulated power loss ("tearing"): the card pulled out of the reader, or the reader losing
//! power, in the middle of an operation.
//!
//! # The write-atomicity model
//!
//! The simulated card OS changes persistent memory only through one seam, `SimCard::persist`,
//! and each call is **one atomic EEPROM write**: a record, the PIN try counter, the PIN (with its
//! counter and "initial" flag), the application state byte, the block state byte, the card block
//! flag. Such a write happens entirely or not at all (a real card OS gets this from its write
//! buffer / transaction mechanism; no value is ever half-written). A command that makes several
//! writes can be torn *between* them; the commands order their writes so that every prefix is a
//! state the library recognises (docs/reliability.md lists them).
//!
//! # The two tear points
//!
//! - [`Tear::AtWrite`]`(n)`: power is lost at the n-th persistent write counted from arming. The
//!   writes before it are done; the n-th and every later one are not; the command never answers.
//! - [`Tear::AfterApdu`]`(n)`: the n-th APDU counted from arming executes completely (all its
//!   writes done), then power is lost before its response leaves the card.
//!
//! In both cases the card's volatile state (selection, challenge, security state, PIN verified,
//! pending T=0 data) is lost, and the card answers nothing (an empty response, which
//! [`crate::SimTransport`] reports as [`sscard_core::transport::TransportError::CardRemoved`],
//! as a PC/SC reader reports a pulled card) until it is powered again by a reset
//! ([`crate::SimCard::reset`], [`crate::SimTransport::insert_card`] or
//! [`crate::SimTransport::power_cycle`]). A tear fires once and disarms itself.

use crate::card::SimCard;

/// Where an armed power loss strikes, counted from [`SimCard::arm_tear`] (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tear {
    /// The n-th APDU executes completely, then power is lost before its response is sent.
    AfterApdu(u64),
    /// Power is lost at the n-th persistent write: writes before it are done, it and every
    /// later write of the command are not, and the command never answers.
    AtWrite(u64),
}

impl std::fmt::Display for Tear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tear::AfterApdu(n) => write!(f, "after APDU {n}"),
            Tear::AtWrite(n) => write!(f, "at write {n}"),
        }
    }
}

/// The tear bookkeeping of one card. Not card state: the test harness's view of the power
/// supply. Counts APDUs and writes since arming.
#[derive(Debug, Default)]
pub(crate) struct TearState {
    armed: Option<Tear>,
    apdus: u64,
    writes: u64,
    powered_off: bool,
    fired: Option<Tear>,
}

impl TearState {
    fn arm(&mut self, tear: Tear) {
        self.armed = Some(tear);
        self.apdus = 0;
        self.writes = 0;
        self.fired = None;
    }

    fn fire(&mut self) {
        self.fired = self.armed.take();
        self.powered_off = true;
    }

    /// An APDU arrives: `false` when the card has no power (it answers nothing).
    pub(crate) fn begin_apdu(&mut self) -> bool {
        if self.powered_off {
            return false;
        }
        self.apdus = self.apdus.saturating_add(1);
        true
    }

    /// The APDU finished: `true` when power is lost now, before the response leaves.
    pub(crate) fn end_apdu(&mut self) -> bool {
        if self.armed == Some(Tear::AfterApdu(self.apdus)) {
            self.fire();
            return true;
        }
        false
    }

    /// A persistent write is about to happen: `true` when power is lost now (the write does
    /// not happen).
    pub(crate) fn before_write(&mut self) -> bool {
        if self.powered_off {
            return true;
        }
        self.writes = self.writes.saturating_add(1);
        if self.armed == Some(Tear::AtWrite(self.writes)) {
            self.fire();
            return true;
        }
        false
    }

    /// The command ended in a power loss (the card OS aborted it).
    pub(crate) fn powered_off(&self) -> bool {
        self.powered_off
    }

    /// Power comes back (reset).
    pub(crate) fn power_on(&mut self) {
        self.powered_off = false;
    }
}

impl SimCard {
    /// Arms a power loss at `tear`, counting APDUs and persistent writes from now. Replaces any
    /// tear armed before.
    pub fn arm_tear(&mut self, tear: Tear) {
        self.tear.arm(tear);
    }

    /// Disarms a tear that has not fired.
    pub fn disarm_tear(&mut self) {
        self.tear.armed = None;
    }

    /// The tear that fired since the last [`SimCard::arm_tear`], if any.
    pub fn tear_fired(&self) -> Option<Tear> {
        self.tear.fired
    }

    /// Whether the card is without power after a tear (it answers nothing until reset).
    pub fn is_torn(&self) -> bool {
        self.tear.powered_off
    }

    /// APDUs the card processed since the last [`SimCard::arm_tear`] (or creation).
    pub fn apdus_since_arming(&self) -> u64 {
        self.tear.apdus
    }

    /// Persistent writes made since the last [`SimCard::arm_tear`] (or creation).
    pub fn writes_since_arming(&self) -> u64 {
        self.tear.writes
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::image::AppState;
    use crate::test_support::Terminal;
    use crate::transport::SimTransport;
    use sscard_core::apdu::commands::{self, RecordRef};
    use sscard_core::codec;
    use sscard_core::profile::{Ef, Generation};
    use sscard_core::transport::{Transport, TransportError};
    use sscard_core::Algorithm;

    fn update_card_type(t: &mut Terminal) -> Vec<u8> {
        let command = commands::update_record(Some(5), RecordRef::Tag(2), codec::tlv(0x02, b"3"));
        t.card.handle(&command.to_bytes().unwrap())
    }

    fn card_type(t: &Terminal) -> Vec<u8> {
        t.card
            .image()
            .record_value(Ef::Ef05, 0x02)
            .unwrap()
            .to_vec()
    }

    /// A blank card, SSSE selected and key 04 authenticated.
    fn ready() -> Terminal {
        let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
        t.select();
        assert_eq!(t.authenticate(0x04), 0x9000);
        t
    }

    #[test]
    fn at_write_keeps_earlier_writes_only() {
        // UPDATE RECORD on a blank card writes the state byte, then the record
        let mut t = ready();
        t.card.arm_tear(Tear::AtWrite(1));
        assert!(update_card_type(&mut t).is_empty(), "no answer");
        assert_eq!(t.card.tear_fired(), Some(Tear::AtWrite(1)));
        assert_eq!(t.card.image().app_state, AppState::Blank);
        assert_eq!(card_type(&t), [0x00]);

        let mut t = ready();
        t.card.arm_tear(Tear::AtWrite(2));
        assert!(update_card_type(&mut t).is_empty());
        assert_eq!(t.card.image().app_state, AppState::Personalizing);
        assert_eq!(card_type(&t), [0x00], "the torn write did not happen");
        assert_eq!(t.card.writes_since_arming(), 2);

        // a tear beyond the command's writes does not fire
        let mut t = ready();
        t.card.arm_tear(Tear::AtWrite(3));
        assert_eq!(update_card_type(&mut t), [0x90, 0x00]);
        assert_eq!(t.card.tear_fired(), None);
        assert_eq!(card_type(&t), b"3");
    }

    #[test]
    fn after_apdu_executes_then_stays_silent_until_reset() {
        let mut t = ready();
        t.card.arm_tear(Tear::AfterApdu(1));
        assert!(update_card_type(&mut t).is_empty(), "the response is lost");
        assert_eq!(card_type(&t), b"3", "the command executed");
        assert!(t.card.is_torn());
        // no power: nothing is processed, nothing is counted
        assert!(t.sw_raw("0084000010").is_empty());
        assert_eq!(t.card.apdus_since_arming(), 1);
        // volatile state is gone after power returns: SSSE no longer selected
        t.card.reset();
        assert!(!t.card.is_torn());
        assert!(t.card.authenticated_keys().is_empty());
        assert_eq!(t.sw("00B2022800"), 0x6A82);
    }

    #[test]
    fn counting_starts_at_arming_and_a_tear_fires_once() {
        let mut t = ready();
        t.card.arm_tear(Tear::AfterApdu(2));
        assert_eq!(t.sw("0084000010"), 0x9000);
        assert!(update_card_type(&mut t).is_empty());
        t.card.reset();
        t.select();
        assert_eq!(t.authenticate(0x04), 0x9000);
        assert_eq!(t.card.apdus_since_arming(), 5);
        assert_eq!(update_card_type(&mut t), [0x90, 0x00], "fired once");
        t.card.arm_tear(Tear::AtWrite(1));
        t.card.disarm_tear();
        assert_eq!(update_card_type(&mut t), [0x90, 0x00]);
        assert_eq!(t.card.tear_fired(), None);
    }

    #[test]
    fn the_transport_sees_a_removed_card() {
        let t = ready();
        let mut transport = SimTransport::new(t.card);
        transport.card_mut().arm_tear(Tear::AtWrite(1));
        let command = commands::update_record(Some(5), RecordRef::Tag(2), codec::tlv(0x02, b"3"))
            .to_bytes()
            .unwrap();
        assert!(matches!(
            transport.transmit(&command),
            Err(TransportError::CardRemoved)
        ));
        assert!(!transport.is_present());
        let epoch = transport.reset_epoch();
        transport.insert_card();
        assert!(transport.reset_epoch() > epoch);
        assert!(!transport.card().is_torn());
        // powered again, fresh volatile state: the MF is current
        assert_eq!(transport.transmit(&command).unwrap(), [0x6A, 0x82]);
    }

    #[test]
    fn a_pin_try_is_spent_before_the_comparison() {
        let mut t = Terminal::new(Generation::V2, Algorithm::Tdes);
        t.personalize_minimal();
        // VERIFY: counter decrement, then restore. Torn between them: one try spent.
        t.card.arm_tear(Tear::AtWrite(2));
        let verify = commands::verify(sscard_core::crypto::Pin::new("123456").unwrap().to_bcd());
        assert!(t.card.handle(&verify.to_bytes().unwrap()).is_empty());
        assert_eq!(t.card.image().pin.as_ref().unwrap().tries_left, 2);
        t.card.reset();
        t.select();
        assert_eq!(t.verify("123456"), 0x9000);
        assert_eq!(t.card.image().pin.as_ref().unwrap().tries_left, 3);
    }

    #[test]
    fn change_pin_commits_pin_and_activation_together() {
        for n in 1..=3 {
            let mut t = Terminal::new(Generation::V2, Algorithm::Sm4);
            t.personalize_minimal();
            t.card.arm_tear(Tear::AtWrite(n));
            let command = commands::change_pin(
                sscard_core::crypto::Pin::new("123456").unwrap().to_bcd(),
                sscard_core::crypto::Pin::new("258036").unwrap().to_bcd(),
            );
            let answer = t.card.handle(&command.to_bytes().unwrap());
            let image = t.card.image();
            let pin = image.pin.as_ref().unwrap();
            let activated = image.app_state == AppState::Activated;
            // activated exactly when the holder's PIN replaced the initial one
            assert_eq!(activated, !pin.initial, "tear at write {n}");
            match n {
                1 => assert!(answer.is_empty() && !activated && pin.tries_left == 3),
                2 => assert!(answer.is_empty() && !activated && pin.tries_left == 2),
                _ => assert!(answer == [0x90, 0x00] && activated && pin.tries_left == 3),
            }
        }
    }

    impl Terminal {
        fn sw_raw(&mut self, apdu: &str) -> Vec<u8> {
            self.card.handle(&crate::test_support::h(apdu))
        }
    }
}
