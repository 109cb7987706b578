//! Activation (启用), the bank-outlet step: the card is checked (genuine, not blocked, not
//! expired, personalized and not yet activated) and the holder replaces the initial PIN with
//! their own. The card then shows "activated" in its FCI (`DF01 = 04`, docs/card-os.md §2).
//!
//! APDUs: SELECT, READ RECORD EF05 (all records), INTERNAL AUTHENTICATE, CHANGE PIN = 4 on
//! 1.0/2.0 cards; a 3.0 card adds GET CHALLENGE + EXTERNAL AUTHENTICATE with the read key: 6.

use crate::apdu::{commands, StatusWord};
use crate::crypto::{self, KeyId, Pin};
use crate::data::{BcdDate, CardIssuingData};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::profile::{Ef, Generation};
use crate::transport::Transport;

use super::application::AppState;
use super::card::Card;
use super::read::internal_authenticate_once;

/// What activation checked and changed.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct ActivateReport {
    /// The activated card's issuing data.
    pub issuing: CardIssuingData,
}

/// Activates the card: `initial_pin` is replaced by `new_pin`.
///
/// Refused before any APDU: a weak new PIN ([`Pin::is_weak`]) or one equal to the initial PIN.
/// Refused without changing the card: blocked, blank, half-personalized, already activated,
/// expired on `today`, or not genuine. A wrong initial PIN costs a PIN try
/// ([`Error::WrongPin`]).
pub fn activate<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    initial_pin: &Pin,
    new_pin: &Pin,
    today: BcdDate,
) -> Result<ActivateReport> {
    card.operation(|card| activate_once(card, &mut *key_holder, initial_pin, new_pin, today))
}

fn activate_once<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    initial_pin: &Pin,
    new_pin: &Pin,
    today: BcdDate,
) -> Result<ActivateReport> {
    if new_pin.ct_eq(initial_pin) {
        return Err(Error::InitialPin);
    }
    if new_pin.is_weak() {
        return Err(Error::WeakPin);
    }
    let app = card.application()?;
    Card::<T>::ensure_not_blocked(&app)?;
    match app.state {
        Some(AppState::Blank) => return Err(Error::Blank),
        Some(AppState::Personalizing) => return Err(Error::PersonalizationIncomplete),
        Some(AppState::Activated) => return Err(Error::AlreadyActivated),
        _ => {}
    }
    if matches!(app.generation, Some(Generation::V3) | None) {
        let factors = crypto::CardFactors {
            card: card.card_factor()?,
            city: [0; 8],
        };
        match card.external_authenticate(key_holder, KeyId::READ, &factors) {
            Ok(()) => {}
            Err(Error::Card { .. }) if app.generation.is_none() => {}
            Err(e) => return Err(e),
        }
    }
    let generation = app.generation.unwrap_or(Generation::V2);
    let records = card.read_ef(Ef::Ef05, generation)?;
    let borrowed: Vec<(u8, &[u8])> = records.iter().map(|(t, v)| (*t, v.as_slice())).collect();
    let issuing = CardIssuingData::from_records(generation, &borrowed)?;
    card.remember_card_id(issuing.card_id);
    if issuing.card_id.chip_serial != card.chip_serial()? {
        return Err(Error::CardIdForged);
    }
    if issuing.expiry_date <= today {
        return Err(Error::Expired {
            expiry: issuing.expiry_date,
        });
    }
    internal_authenticate_once(card, key_holder)?;
    let command = commands::change_pin(initial_pin.to_bcd(), new_pin.to_bcd());
    match card.exchange("CHANGE PIN", &command) {
        Ok(_) => {
            card.note_state(Some(AppState::Activated), None);
            Ok(ActivateReport { issuing })
        }
        Err(Error::Card {
            sw: StatusWord::WrongData,
            ..
        }) => Err(Error::SamePin),
        Err(e) => Err(e),
    }
}
