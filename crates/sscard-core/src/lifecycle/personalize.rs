//! Personalization (个人化, part 10 §5.4): the card-printing station writes the card issuing
//! data and the holder data into a card initialized by the manufacturer, and sets the initial
//! PIN.

use serde::Serialize;

use crate::crypto::Pin;
use crate::data::{CardIdentificationCode, CardNumber, Personalization};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::keys::KeyRole;
use crate::profile::{self, Ef, ElementSpec, Generation};
use crate::transport::Transport;

use super::card::{item, Card};

/// How to personalize.
#[derive(Debug, Clone)]
pub struct PersonalizeOptions {
    /// Overwrite a card personalized for another card number. Default: no.
    pub overwrite: bool,
    /// The PIN set at personalization; default [`Pin::initial`] (`123456`).
    pub initial_pin: Pin,
    /// Read every item back after writing and compare. Default: yes.
    pub read_back: bool,
}

impl Default for PersonalizeOptions {
    fn default() -> Self {
        PersonalizeOptions {
            overwrite: false,
            initial_pin: Pin::initial(),
            read_back: true,
        }
    }
}

/// What a personalization did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct PersonalizeReport {
    /// The card identification code (written at the card's initialization).
    pub card_id: CardIdentificationCode,
    /// The card number written.
    pub card_number: CardNumber,
    /// The generation written.
    #[cfg_attr(feature = "schemars", schemars(with = "String"))]
    pub generation: Generation,
    /// The card already carried this personalization (a rerun after a completed one): nothing
    /// was written.
    pub already_done: bool,
}

/// The data items of a personalization in write order, each `(item, value)`: the holder data,
/// then the card issuing data with the card number last. The card identification code is not
/// written: the card carries it from its initialization (\[design\] D14).
fn items(
    data: &Personalization,
    card_id: CardIdentificationCode,
) -> Result<Vec<(&'static ElementSpec, Vec<u8>)>> {
    let g = data.generation();
    let mut out = Vec::new();
    let holder = data.holder().to_records(g)?;
    let issuing = data.issuing_data(card_id).to_records(g)?;
    for (tag, tlv) in holder.into_iter().chain(issuing) {
        if tag == profile::tag::CARD_ID || tag == profile::tag::CARD_NUMBER {
            continue;
        }
        let spec = item(g, tag)?;
        out.push((spec, tlv.get(2..).unwrap_or_default().to_vec()));
    }
    let spec = item(g, profile::tag::CARD_NUMBER)?;
    let number = crate::codec::encode_an(spec.field, data.card_number().as_str(), spec.len)?;
    out.push((spec, number));
    Ok(out)
}

/// Personalizes the card in the reader with `data` (\[design\] D15):
///
/// 1. SELECT SSSE; the card identification code (free) must carry the data's region;
/// 2. a card that already has this card number is complete (the card number is written last):
///    it is verified and left alone; another card number needs [`PersonalizeOptions::overwrite`];
/// 3. the initial PIN through PIN RELOAD (EXTERNAL AUTHENTICATION with PUK, MAC and encipherment
///    under STKSSSE);
/// 4. EXTERNAL AUTHENTICATION with UKSSSE, then UPDATE RECORD of every data item, the card number
///    last (on an overwrite it is first cleared, so a torn overwrite is recognisable);
/// 5. every item read back and compared.
///
/// A torn personalization is completed by running it again.
pub fn personalize<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    data: &Personalization,
    options: &PersonalizeOptions,
) -> Result<PersonalizeReport> {
    card.operation(|card| personalize_once(card, &mut *key_holder, data, options))
}

fn personalize_once<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    data: &Personalization,
    options: &PersonalizeOptions,
) -> Result<PersonalizeReport> {
    card.application()?;
    let card_id = card.card_id()?;
    if card_id.region != data.region() {
        return Err(Error::RegionMismatch {
            card: card_id.region,
            data: data.region(),
        });
    }
    let g = data.generation();
    let number_spec = item(g, profile::tag::CARD_NUMBER)?;
    let existing = card
        .read_item(number_spec)?
        .filter(|v| v.iter().any(|&b| b != 0));
    let report = |already_done| PersonalizeReport {
        card_id,
        card_number: data.card_number().clone(),
        generation: g,
        already_done,
    };
    let items = items(data, card_id)?;
    let mut clear_first = false;
    if let Some(value) = existing {
        let text = crate::codec::decode_an(number_spec.field, &value).unwrap_or_default();
        if text == data.card_number().as_str() {
            if options.read_back {
                // the card number was just read: the rest is compared
                let rest: Vec<_> = items
                    .iter()
                    .filter(|(spec, _)| spec.tag != profile::tag::CARD_NUMBER)
                    .cloned()
                    .collect();
                verify(card, key_holder, g, &rest)?;
            }
            return Ok(report(true));
        }
        if !options.overwrite {
            return Err(Error::AlreadyPersonalized { card_number: text });
        }
        clear_first = true;
    }

    super::pin::send_pin_reload(card, key_holder, &options.initial_pin)?;

    let mut session = card.authenticate_for_update(key_holder)?;
    if clear_first {
        session.write_item(number_spec, &vec![0u8; number_spec.len])?;
    }
    for (spec, value) in &items {
        match session.write_item(spec, value) {
            // a card without the name extension is a 1.0 card (V2.0 notice table 9): the data
            // is for a later generation
            Err(Error::Card { sw, .. })
                if spec.tag == profile::tag::NAME_EXTENSION
                    && matches!(
                        sw,
                        crate::apdu::StatusWord::WrongData
                            | crate::apdu::StatusWord::RecordNotFound
                            | crate::apdu::StatusWord::NotEnoughMemory
                            | crate::apdu::StatusWord::FileNotFound
                    ) =>
            {
                return Err(Error::WrongCard(format!(
                    "the card refused the name extension (4E, {sw}): it is a 1.0 card and the data is for {g}"
                )))
            }
            other => other?,
        }
    }
    if options.read_back {
        verify(card, key_holder, g, &items)?;
    }
    Ok(report(false))
}

/// Reads every item back and compares it with what was written.
fn verify<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    generation: Generation,
    items: &[(&'static ElementSpec, Vec<u8>)],
) -> Result<()> {
    if Ef::Ef06.read_access(generation) != profile::Access::Free {
        card.ensure_authenticated(key_holder, KeyRole::Rkssse)?;
    }
    for (spec, value) in items {
        match card.read_item(spec)? {
            Some(read) if read == *value => {}
            Some(_) => {
                return Err(Error::ReadBackMismatch(format!(
                    "{} ({:02X}) differs",
                    spec.field, spec.tag
                )))
            }
            None => {
                return Err(Error::ReadBackMismatch(format!(
                    "{} ({:02X}) is missing",
                    spec.field, spec.tag
                )))
            }
        }
    }
    Ok(())
}
