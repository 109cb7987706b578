//! Simulated power loss ("tearing"): the card pulled out of the reader, or the reader losing
//! power, in the middle of an operation (part 7 §14).
//!
//! # The write-atomicity model
//!
//! Part 7 §14 asks the card to keep its data whole whatever happens, even when power fails
//! while EEPROM is written: a card OS backs the data up before an update and restores it at
//! the next power-up. The simulated card OS changes persistent memory only through one seam,
//! `SimCard::persist`, and each call is **one atomic transaction**: it happens entirely or not
//! at all. Every command makes its whole change in one transaction:
//!
//! | command | transactions |
//! |---|---|
//! | UPDATE RECORD, UPDATE BINARY | the record or the bytes |
//! | VERIFY | the PIN try counter decremented, then (correct PIN) restored |
//! | CHANGE PIN | the counter decremented, then (correct old PIN) the new PIN with a full counter |
//! | PIN CHANGE/UNBLOCK | the counter restored, or the new PIN with a full counter |
//! | EXTERNAL AUTHENTICATION (counted keys) | the key's counter decremented, then (success) restored |
//! | APPLICATION BLOCK, CARD BLOCK | the block flag |
//!
//! The try counters are decremented *before* the comparison, as their own transaction (part 7
//! §5.8, §6.6): a tear after a wrong PIN or cryptogram never gives the terminal a free try,
//! and a tear after a correct one costs one try, given back at the next success.
//!
//! # The two tear points
//!
//! - [`Tear::AtWrite`]`(n)`: power is lost at the n-th persistent write (transaction) counted
//!   from arming. The writes before it are done; the n-th and every later one are not; the
//!   command never answers.
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
