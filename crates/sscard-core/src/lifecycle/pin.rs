//! The cardholder PIN (个人密码): status, VERIFY, CHANGE PIN, and the issuer's PIN CHANGE/UNBLOCK
//! (part 5 §6.3, §6.8, §6.14; part 7 §5.6-5.8, §9, §13.3).

use crate::apdu::{commands, StatusWord};
use crate::crypto::Pin;
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::keys::KeyRole;
use crate::transport::Transport;

use super::card::{status_error, Card};

/// What VERIFY without data says about the PIN (part 5 §6.14.5; part 7 §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "pin", rename_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum PinStatus {
    /// No PIN is set (`9000`): no PIN is needed.
    NotSet,
    /// A PIN is set and must be entered; `tries_left` tries remain (`63Cx`).
    Required {
        /// Tries left.
        tries_left: u8,
    },
    /// The PIN is blocked (`6983`, or `63C0`).
    Blocked,
}

fn pin_error(what: &'static str, sw: StatusWord) -> Error {
    match sw {
        StatusWord::VerificationFailed { tries_left: 0 } | StatusWord::AuthMethodBlocked => {
            Error::PinBlocked
        }
        StatusWord::VerificationFailed { tries_left } => Error::WrongPin { tries_left },
        sw => status_error(what, sw),
    }
}

/// Whether the card needs a PIN and how many tries are left: VERIFY with Lc = `00`, which does
/// not count a try (part 7 §5.6).
pub fn pin_status<T: Transport>(card: &mut Card<T>) -> Result<PinStatus> {
    card.operation(|card| {
        card.application()?;
        match card.exchange_raw(&commands::verify_probe())? {
            (_, StatusWord::Ok) => Ok(PinStatus::NotSet),
            (_, StatusWord::VerificationFailed { tries_left: 0 })
            | (_, StatusWord::AuthMethodBlocked) => Ok(PinStatus::Blocked),
            (_, StatusWord::VerificationFailed { tries_left }) => {
                Ok(PinStatus::Required { tries_left })
            }
            (_, sw) => Err(status_error("VERIFY", sw)),
        }
    })
}

/// VERIFY the holder's PIN (part 7 §5.8): the card remembers success until reset.
pub fn verify_pin<T: Transport>(card: &mut Card<T>, pin: &Pin) -> Result<()> {
    card.operation(|card| {
        card.application()?;
        match card.exchange_raw(&commands::verify(pin.to_bcd()))? {
            (_, StatusWord::Ok) => Ok(()),
            (_, sw) => Err(pin_error("VERIFY", sw)),
        }
    })
}

/// CHANGE PIN (part 5 §6.3, part 7 §9): the holder replaces `old` with `new`.
pub fn change_pin<T: Transport>(card: &mut Card<T>, old: &Pin, new: &Pin) -> Result<()> {
    card.operation(|card| {
        card.application()?;
        let command = commands::change_pin(&old.to_bcd(), &new.to_bcd());
        match card.exchange_raw(&command)? {
            (_, StatusWord::Ok) => Ok(()),
            (_, sw) => Err(pin_error("CHANGE PIN", sw)),
        }
    })
}

/// Rules for the holder's new PIN at activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivateOptions {
    /// Refuse PINs that are easy to guess (`000000`, `123456`, `121212` …). Default: yes.
    pub refuse_weak: bool,
}

impl Default for ActivateOptions {
    fn default() -> Self {
        ActivateOptions { refuse_weak: true }
    }
}

/// Activation at the bank outlet (启用): the holder replaces the initial PIN set at
/// personalization with their own, CHANGE PIN from [`Pin::initial`] to `new` (part 7 §9,
/// \[design\] D15). The card is not proven genuine here: use [`activate_verified`] with a key
/// holder, or run [`super::check_validity`] first as a bank outlet does.
///
/// A card whose PIN is no longer the initial one answers [`Error::WrongPin`] (the attempt cost
/// a try).
pub fn activate<T: Transport>(
    card: &mut Card<T>,
    new: &Pin,
    options: &ActivateOptions,
) -> Result<()> {
    check_new_pin(new, options)?;
    change_pin(card, &Pin::initial(), new)
}

/// [`activate`] after proving the card genuine with the key holder's IRK (INTERNAL
/// AUTHENTICATION, part 7 §5.4): a card that fails is refused with [`Error::NotGenuine`] before
/// its PIN is touched.
pub fn activate_verified<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    new: &Pin,
    options: &ActivateOptions,
) -> Result<()> {
    check_new_pin(new, options)?;
    card.operation(|card| {
        card.application()?;
        card.internal_authenticate(&mut *key_holder)
    })?;
    change_pin(card, &Pin::initial(), new)
}

/// The rules of [`ActivateOptions`], before anything is sent to the card.
fn check_new_pin(new: &Pin, options: &ActivateOptions) -> Result<()> {
    if new.is_initial() {
        return Err(Error::InitialPin);
    }
    if options.refuse_weak && new.is_weak() {
        return Err(Error::WeakPin);
    }
    Ok(())
}

/// PIN reload (重置, part 5 §6.8 P2 `01`; reader interface §6): EXTERNAL AUTHENTICATION with
/// PUK, then `8424 0001` with the new PIN enciphered and the MAC under STKSSSE (\[design\] D12).
/// The try counter is reset.
pub fn reload_pin<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    new: &Pin,
) -> Result<()> {
    card.operation(|card| {
        card.application()?;
        send_pin_reload(card, &mut *key_holder, new)
    })
}

/// In the selected SSSE: EXTERNAL AUTHENTICATION with PUK, then PIN RELOAD `8424 0001` with
/// `new` enciphered under STKSSSE (also personalization's initial PIN).
pub(crate) fn send_pin_reload<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    new: &Pin,
) -> Result<()> {
    card.maintain(
        "PIN RELOAD",
        key_holder,
        KeyRole::Puk,
        [
            commands::CLA_SECURE,
            crate::apdu::instruction::PIN_CHANGE_UNBLOCK,
            0x00,
            commands::PIN_RELOAD_P2,
        ],
        Some(new),
    )
}

/// PIN unblock (解锁, part 5 §6.8 P2 `00`): EXTERNAL AUTHENTICATION with PUK, then
/// `8424 0000 04 <MAC>` under STKSSSE. Only the try counter is reset.
pub fn unblock_pin<T: Transport>(card: &mut Card<T>, key_holder: &mut dyn KeyHolder) -> Result<()> {
    card.operation(|card| {
        card.application()?;
        card.maintain(
            "PIN UNBLOCK",
            &mut *key_holder,
            KeyRole::Puk,
            [
                commands::CLA_SECURE,
                crate::apdu::instruction::PIN_CHANGE_UNBLOCK,
                0x00,
                commands::PIN_UNBLOCK_P2,
            ],
            None,
        )
    })
}
