//! PIN management: verify, query the try counter, change (holder), unblock and reload (issuer).
//!
//! Reader libraries in the field refuse transactions while the PIN is still the initial one; so
//! does sscard: [`verify_pin`] and [`change_pin`] answer [`Error::NotActivated`] on a card that
//! shows it is personalized but not activated.

use crate::apdu::{commands, StatusWord};
use crate::crypto::{KeyId, Pin};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::transport::Transport;

use super::application::AppState;
use super::card::Card;
use super::personalize::reload_pin_on;

fn ensure_activated<T: Transport>(card: &mut Card<T>) -> Result<()> {
    let app = card.application()?;
    Card::<T>::ensure_not_blocked(&app)?;
    match app.state {
        Some(AppState::Blank) => Err(Error::Blank),
        Some(AppState::Personalizing) => Err(Error::PersonalizationIncomplete),
        Some(AppState::Personalized) => Err(Error::NotActivated),
        Some(AppState::Activated) | None => Ok(()),
    }
}

/// VERIFY the holder's PIN. `Ok` sets the card's "PIN verified" state until reset or reselect.
/// A wrong PIN answers [`Error::WrongPin`] with the tries left; a blocked one [`Error::PinBlocked`].
/// APDUs: SELECT (once per card session) + VERIFY.
pub fn verify_pin<T: Transport>(card: &mut Card<T>, pin: &Pin) -> Result<()> {
    card.operation(|card| verify_pin_once(card, pin))
}

fn verify_pin_once<T: Transport>(card: &mut Card<T>, pin: &Pin) -> Result<()> {
    ensure_activated(card)?;
    card.exchange("VERIFY", &commands::verify(pin.to_bcd()))
        .map(|_| ())
}

/// How many PIN tries are left (VERIFY without data, answered `63Cx`), without using one.
pub fn pin_tries_left<T: Transport>(card: &mut Card<T>) -> Result<u8> {
    card.operation(|card| pin_tries_left_once(card))
}

fn pin_tries_left_once<T: Transport>(card: &mut Card<T>) -> Result<u8> {
    let app = card.application()?;
    Card::<T>::ensure_not_blocked(&app)?;
    let (_, sw) = card.exchange_raw(&commands::verify_status())?;
    match sw {
        StatusWord::WrongPin { tries_left } => Ok(tries_left),
        StatusWord::AuthMethodBlocked => Ok(0),
        // some cards answer 9000 when the PIN is already verified
        StatusWord::Ok => Err(Error::Card {
            command: "VERIFY (status)",
            sw,
        }),
        sw => Err(super::card::status_error("VERIFY (status)", sw)),
    }
}

/// CHANGE PIN (`805E`): the holder replaces `old` with `new`. Weak PINs and `new == old` are
/// refused before any APDU. A card that is not activated yet is refused: use
/// [`crate::lifecycle::activate`].
pub fn change_pin<T: Transport>(card: &mut Card<T>, old: &Pin, new: &Pin) -> Result<()> {
    card.operation(|card| change_pin_once(card, old, new))
}

fn change_pin_once<T: Transport>(card: &mut Card<T>, old: &Pin, new: &Pin) -> Result<()> {
    if new.ct_eq(old) {
        return Err(Error::SamePin);
    }
    if new.is_weak() {
        return Err(Error::WeakPin);
    }
    ensure_activated(card)?;
    match card.exchange(
        "CHANGE PIN",
        &commands::change_pin(old.to_bcd(), new.to_bcd()),
    ) {
        Err(Error::Card {
            sw: StatusWord::WrongData,
            ..
        }) => Err(Error::SamePin),
        other => other.map(|_| ()),
    }
}

/// PIN UNBLOCK (`8424 0000` + MAC with the issuer's key 06): resets the try counter, keeps the PIN.
/// APDUs: SELECT, READ RECORD (card identification code, for the region), GET CHALLENGE, 8424.
pub fn unblock_pin<T: Transport>(card: &mut Card<T>, key_holder: &mut dyn KeyHolder) -> Result<()> {
    card.operation(|card| unblock_pin_once(card, &mut *key_holder))
}

fn unblock_pin_once<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
) -> Result<()> {
    let app = card.application()?;
    Card::<T>::ensure_not_blocked(&app)?;
    let factors = card.factors()?;
    card.send_with_mac(
        "PIN UNBLOCK",
        key_holder,
        KeyId::PIN_RELOAD,
        &factors,
        commands::PIN_UNBLOCK_HEADER,
        &[],
        commands::pin_unblock,
    )
}

/// PIN RELOAD (`8424 0001`): the issuer sets a new PIN (enciphered with key 06) and resets the
/// counter, for a holder who forgot theirs. Weak PINs are refused before any APDU.
pub fn reload_pin<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    new_pin: &Pin,
) -> Result<()> {
    card.operation(|card| reload_pin_once(card, &mut *key_holder, new_pin))
}

fn reload_pin_once<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    new_pin: &Pin,
) -> Result<()> {
    if new_pin.is_weak() {
        return Err(Error::WeakPin);
    }
    let app = card.application()?;
    Card::<T>::ensure_not_blocked(&app)?;
    let factors = card.factors()?;
    reload_pin_on(card, key_holder, &factors, new_pin)
}
