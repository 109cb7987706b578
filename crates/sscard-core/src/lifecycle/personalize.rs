//! Personalization (个人化), the card-printing station's step: a blank card receives the card
//! issuing data, the holder data, the supplementary data and the initial PIN, and is then marked
//! personalized with one final state change.
//!
//! APDU sequence (2.0 card, EF0D data present, read-back off), the minimum this design allows:
//!
//! | APDUs | what |
//! |---|---|
//! | 1 | SELECT SSSE (FCI: state, generation, algorithm) |
//! | 2 | GET CHALLENGE + EXTERNAL AUTHENTICATE key 04 |
//! | 7 + 6/7 | UPDATE RECORD per EF05 and EF06 element |
//! | 2 + 2 | GET CHALLENGE + EXTERNAL AUTHENTICATE key 0D, UPDATE RECORD EA and EB |
//! | 2 | GET CHALLENGE + PIN RELOAD (initial PIN, enciphered, MAC) |
//! | (1) | the card identification code (EF05 tag 01) is written last of all records |
//! | 1 | ACTIVATE FILE |
//!
//! 2.0: 24 APDUs; without EF0D data 20. Read-back verification adds one READ RECORD per EF (plus
//! the read-key authentication on 3.0). Re-personalization adds GET CHALLENGE + EXTERNAL
//! AUTHENTICATE key 00 + DEACTIVATE FILE.
//!
//! Tearing: the card is recognisably "personalizing" from the first write until ACTIVATE FILE,
//! and nothing reads as personalized before every record and the PIN are written. Running
//! personalization again on such a card completes it.

use crate::apdu::commands;
use crate::crypto::{self, KeyId, Pin};
use crate::data::{CardIdentificationCode, Personalization};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::profile::{Ef, Generation};
use crate::transport::Transport;

use super::application::AppState;
use super::card::Card;
use super::read::card_id_mac;
use super::session::AuthenticatedSession;

/// How [`personalize`] treats the card.
#[derive(Debug)]
#[non_exhaustive]
pub struct PersonalizeOptions {
    /// Overwrite a card that is already personalized (needs the master key 00). Default: no.
    pub repersonalize: bool,
    /// Read every record back and compare before the final state change. Default: yes.
    pub verify: bool,
    /// The initial PIN. Default: `123456`, the initial PIN seen in the field.
    pub initial_pin: Pin,
}

impl Default for PersonalizeOptions {
    fn default() -> Self {
        PersonalizeOptions {
            repersonalize: false,
            verify: true,
            initial_pin: Pin::initial(),
        }
    }
}

impl PersonalizeOptions {
    /// Allow overwriting a personalized card.
    pub fn with_repersonalize(mut self, yes: bool) -> Self {
        self.repersonalize = yes;
        self
    }

    /// Read back and compare before finishing.
    pub fn with_verify(mut self, yes: bool) -> Self {
        self.verify = yes;
        self
    }

    /// Set the initial PIN.
    pub fn with_initial_pin(mut self, pin: Pin) -> Self {
        self.initial_pin = pin;
        self
    }
}

/// What personalization wrote.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct PersonalizeReport {
    /// The card identification code written to EF05 tag 01.
    pub card_id: CardIdentificationCode,
    /// The card number written to EF05 tag 07.
    pub card_number: String,
    /// The card's ATR, hex.
    pub atr: String,
    /// The generation written.
    pub generation: Generation,
    /// Whether a personalized card was overwritten.
    pub repersonalized: bool,
    /// Whether the card had been left half-personalized and this run completed it.
    pub completed_interrupted: bool,
}

/// Personalizes the card with `data` using `key_holder` for cryptograms and MACs.
///
/// Refuses (before writing anything): a blocked card; a card whose profile is another generation
/// than the data's; a personalized card unless [`PersonalizeOptions::repersonalize`].
/// On error the card is left blank, personalized as before, or recognisably "personalizing"
/// (rerun to complete): never personalized with partial data.
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
    let app = card.select()?;
    Card::<T>::ensure_not_blocked(&app)?;
    if !key_holder.supports(app.algorithm) {
        return Err(Error::KeyHolderAlgorithm(app.algorithm));
    }
    let generation = data.generation();
    if let Some(chip) = app.generation {
        if chip != generation {
            return Err(Error::WrongCard(format!(
                "the card is a {} card, the data is for {}",
                chip.spec_version(),
                generation.spec_version()
            )));
        }
    }
    let mut completed_interrupted = false;
    let mut repersonalized = false;
    match app.state {
        Some(AppState::Blank) => {}
        Some(AppState::Personalizing) => completed_interrupted = true,
        Some(AppState::Personalized) | Some(AppState::Activated) => {
            if !options.repersonalize {
                let number = card.read_element(Ef::Ef05, 0x07)?;
                return Err(Error::AlreadyPersonalized {
                    card_number: String::from_utf8_lossy(&number).trim().to_string(),
                });
            }
            repersonalized = true;
        }
        None => {
            // A card that does not show its state: blank when its card identification code is.
            match card.card_id() {
                Err(Error::Blank) => {}
                Ok(id) if !options.repersonalize => {
                    return Err(Error::AlreadyPersonalized {
                        card_number: id.to_string(),
                    })
                }
                Ok(_) => repersonalized = true,
                Err(e) => return Err(e),
            }
        }
    }

    let region = data.region();
    let factors = card.factors_for(&region)?;
    let chip_serial = card.chip_serial()?;
    let mut card_id = CardIdentificationCode {
        region,
        chip_serial,
        mac: [0; 4],
    };
    card_id.mac = card_id_mac(card, key_holder, app.algorithm, &card_id)?;

    let issuing = data.issuing_data(card_id);
    let ef05 = issuing.to_records(generation)?;
    let ef06 = data.holder().to_records(generation)?;
    let ef0d = match data.supplementary() {
        Some(s) => s.to_records(generation)?,
        None => Vec::new(),
    };

    let mut session = if repersonalized {
        let mut s = card.authenticate(key_holder, KeyId::MASTER, factors)?;
        s.begin_repersonalization()?;
        s.authenticate_also(key_holder, KeyId::UPDATE)?;
        s
    } else {
        card.authenticate(key_holder, KeyId::UPDATE, factors)?
    };
    // The card identification code goes last: a card that does not show its state in the FCI
    // is recognised as blank by it, so a torn personalization never reads as personalized.
    let (card_id_record, other_ef05): (Vec<_>, Vec<_>) =
        ef05.iter().cloned().partition(|(tag, _)| *tag == 0x01);
    session.update_records(Ef::Ef05, other_ef05)?;
    session.update_records(Ef::Ef06, ef06.clone())?;
    if !ef0d.is_empty() {
        session.authenticate_also(key_holder, KeyId::UPDATE_EF0D)?;
        session.update_records(Ef::Ef0d, ef0d.clone())?;
    }
    set_initial_pin(&mut session, key_holder, &options.initial_pin)?;
    session.update_records(Ef::Ef05, card_id_record)?;
    if options.verify {
        if generation == Generation::V3 {
            session.authenticate_also(key_holder, KeyId::READ)?;
        }
        compare(&mut session, Ef::Ef05, generation, &ef05)?;
        compare(&mut session, Ef::Ef06, generation, &ef06)?;
        if !ef0d.is_empty() {
            compare(&mut session, Ef::Ef0d, generation, &ef0d)?;
        }
    }
    session.finish_personalization()?;
    card.remember_card_id(card_id);
    Ok(PersonalizeReport {
        card_id,
        card_number: issuing.card_number.to_string(),
        atr: hex::encode_upper(card.atr()),
        generation,
        repersonalized,
        completed_interrupted,
    })
}

/// PIN RELOAD with the initial PIN: the PIN block enciphered with key 06, MAC'd with key 06.
fn set_initial_pin<T: Transport>(
    session: &mut AuthenticatedSession<'_, T>,
    key_holder: &mut dyn KeyHolder,
    pin: &Pin,
) -> Result<()> {
    let factors = *session.factors();
    let card = session.card_mut()?;
    reload_pin_on(card, key_holder, &factors, pin)
}

/// Sends PIN RELOAD (`8424 0001`) setting `pin`; shared by personalization and the issuer's PIN
/// reload.
pub(crate) fn reload_pin_on<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    factors: &crypto::CardFactors,
    pin: &Pin,
) -> Result<()> {
    let app = card.application()?;
    let path = crypto::key_factors(KeyId::PIN_RELOAD, &factors.card, &factors.city);
    let plain = crypto::pin_block(app.algorithm, pin);
    let block = key_holder.encipher(app.algorithm, KeyId::PIN_RELOAD, &path, &plain)?;
    let header = commands::PIN_RELOAD_HEADER;
    let block_for_mac = block.clone();
    card.send_with_mac(
        "PIN RELOAD",
        key_holder,
        KeyId::PIN_RELOAD,
        factors,
        header,
        &block_for_mac,
        move |mac| commands::pin_reload(Some(block), mac),
    )
}

fn compare<T: Transport>(
    session: &mut AuthenticatedSession<'_, T>,
    ef: Ef,
    generation: Generation,
    written: &[(u8, Vec<u8>)],
) -> Result<()> {
    let read = session.read_ef(ef, generation)?;
    for (tag, tlv) in written {
        let value = tlv.get(2..).unwrap_or_default();
        match read.iter().find(|(t, _)| t == tag) {
            Some((_, v)) if v.as_slice() == value => {}
            Some(_) => {
                return Err(Error::ReadBackMismatch(format!(
                    "{ef:?} tag {tag:02X} reads back different"
                )))
            }
            None => {
                return Err(Error::ReadBackMismatch(format!(
                    "{ef:?} tag {tag:02X} is missing"
                )))
            }
        }
    }
    Ok(())
}
