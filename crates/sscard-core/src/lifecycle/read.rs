//! Reading a card: card issuing data (EF05) and holder data (EF06), optionally the supplementary
//! data (EF0D), with the read key on 3.0 cards and the genuineness checks a key holder allows.
//!
//! APDU budget (docs/performance.md): SELECT + one all-records READ RECORD per EF. A 2.0 card
//! without a key holder takes 3 APDUs; a 3.0 card with the read key and internal authentication
//! takes 6 (SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE, EF05, EF06, INTERNAL AUTHENTICATE).
//! A card without the all-records mode costs one READ RECORD per element instead.

use subtle::ConstantTimeEq;

use crate::apdu::commands;
use crate::crypto::{self, KeyId};
use crate::data::{CardIssuingData, HolderData, SupplementaryData};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::profile::{Ef, Generation};
use crate::transport::Transport;
use crate::Algorithm;

use super::application::AppState;
use super::card::{card_id_from_value, Card};

/// What [`read`] does besides reading EF05 and EF06.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Also read EF0D (supplementary data). Default: no.
    pub supplementary: bool,
    /// With a key holder: run INTERNAL AUTHENTICATE to prove the card genuine. Default: yes.
    pub verify_genuine: bool,
    /// Check that the card identification code belongs to this chip (its serial is the ATR's),
    /// and with a key holder its issuer MAC. Default: yes.
    pub verify_card_id: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            supplementary: false,
            verify_genuine: true,
            verify_card_id: true,
        }
    }
}

impl ReadOptions {
    /// Also read EF0D.
    pub fn with_supplementary(mut self, yes: bool) -> Self {
        self.supplementary = yes;
        self
    }

    /// Run internal authentication when a key holder is present.
    pub fn with_verify_genuine(mut self, yes: bool) -> Self {
        self.verify_genuine = yes;
        self
    }

    /// Check the card identification code.
    pub fn with_verify_card_id(mut self, yes: bool) -> Self {
        self.verify_card_id = yes;
        self
    }
}

/// Everything [`read`] learnt about a card.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct CardData {
    /// The ATR, hex.
    #[serde(serialize_with = "hex_upper")]
    pub atr: Vec<u8>,
    /// The card's algorithm.
    pub algorithm: Algorithm,
    /// The record layout generation, from EF05 tag 03.
    pub generation: Generation,
    /// Application state, when the card shows it.
    pub state: Option<AppState>,
    /// EF05.
    pub issuing: CardIssuingData,
    /// EF06.
    pub holder: HolderData,
    /// EF0D, when asked for.
    pub supplementary: Option<SupplementaryData>,
    /// `Some(true)` when internal authentication proved the card genuine; `None` when not run.
    pub genuine: Option<bool>,
    /// `Some(true)` when the issuer MAC of the card identification code was checked.
    pub card_id_mac_verified: Option<bool>,
    /// The key holder's terminal number (a PSAM's), when it has one.
    pub terminal_number: Option<String>,
}

fn hex_upper<S: serde::Serializer>(bytes: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode_upper(bytes))
}

impl CardData {
    /// The ATR historical bytes, hex.
    pub fn historical_bytes_hex(&self) -> String {
        hex::encode_upper(crypto::historical_bytes(&self.atr).unwrap_or_default())
    }

    /// The line the standard reading interface's `iReadCardBas` returns: eleven fields, each
    /// followed by `|`:
    /// region|SSN|card number|card id|name|ATR historical bytes|spec version|issue date|expiry
    /// date|terminal number|terminal device number|
    pub fn basic_line(&self) -> String {
        let id = self.issuing.card_id.to_string();
        let fields = [
            self.issuing.card_id.region.to_string(),
            self.holder.ssn.to_string(),
            self.issuing.card_number.to_string(),
            id,
            self.holder.name.to_string(),
            self.historical_bytes_hex(),
            self.issuing.spec_version.clone(),
            self.issuing.issue_date.to_string(),
            self.issuing.expiry_date.to_string(),
            self.terminal_number.clone().unwrap_or_default(),
            String::new(),
        ];
        let mut line = String::new();
        for f in fields {
            // a field never contains the separator: names and numbers are validated data
            line.push_str(&f.replace('|', ""));
            line.push('|');
        }
        line
    }
}

/// Reads EF05 and EF06 (and EF0D when asked).
///
/// Without a key holder nothing is authenticated: 1.0 and 2.0 cards read freely; a 3.0 card
/// answers [`Error::ReadKeyRequired`]. With a key holder, 3.0 cards are read with the read key
/// RKSSSE (key 0A), the card is proved genuine by INTERNAL AUTHENTICATE and the card
/// identification code's issuer MAC is checked (see [`ReadOptions`]).
///
/// Blocked applications answer [`Error::ApplicationBlocked`] / [`Error::PermanentlyBlocked`];
/// blank and half-personalized cards [`Error::Blank`] / [`Error::PersonalizationIncomplete`].
/// Nothing on the card changes.
pub fn read<T: Transport>(
    card: &mut Card<T>,
    mut key_holder: Option<&mut dyn KeyHolder>,
    options: &ReadOptions,
) -> Result<CardData> {
    card.operation(|card| read_once(card, key_holder.as_deref_mut(), options))
}

fn read_once<'k, T: Transport>(
    card: &mut Card<T>,
    mut key_holder: Option<&mut (dyn KeyHolder + 'k)>,
    options: &ReadOptions,
) -> Result<CardData> {
    let app = card.application()?;
    Card::<T>::ensure_not_blocked(&app)?;
    match app.state {
        Some(AppState::Blank) => return Err(Error::Blank),
        Some(AppState::Personalizing) => return Err(Error::PersonalizationIncomplete),
        _ => {}
    }
    let card_factor = card.card_factor()?;
    // A 3.0 card (or one that does not say) with a key holder: authenticate with the nationwide
    // read key before reading, so the protected records come in the same READ RECORDs.
    let needs_read_key = matches!(app.generation, Some(Generation::V3) | None);
    if let Some(kh) = key_holder.as_deref_mut() {
        if needs_read_key && !card.authenticated.contains(&KeyId::READ) {
            let factors = crypto::CardFactors {
                card: card_factor,
                city: [0u8; 8], // not used by the nationwide read key
            };
            match card.external_authenticate(kh, KeyId::READ, &factors) {
                Ok(()) => {}
                // a 1.0/2.0 card without a read key: read freely
                Err(Error::Card { .. }) if app.generation.is_none() => {}
                Err(e) => return Err(e),
            }
        }
    }

    let ef05 = match card.read_ef(Ef::Ef05, app.generation.unwrap_or(Generation::V2)) {
        Ok(records) => records,
        Err(Error::Card {
            sw: crate::apdu::StatusWord::SecurityNotSatisfied,
            ..
        }) if key_holder.is_none() => return Err(Error::ReadKeyRequired),
        Err(e) => return Err(e),
    };
    let borrowed: Vec<(u8, &[u8])> = ef05.iter().map(|(t, v)| (*t, v.as_slice())).collect();
    // the generation the data says (EF05 tag 03) rules the EF06 layout
    let spec_version = borrowed
        .iter()
        .find(|(t, _)| *t == 0x03)
        .map(|(_, v)| v.to_vec())
        .unwrap_or_default();
    if let Some((_, id)) = borrowed.iter().find(|(t, _)| *t == 0x01) {
        // blank card identification code = blank card (state unknown on real cards)
        card_id_from_value(id)?;
    }
    let generation = Generation::from_spec_version_bytes(&spec_version)?;
    let issuing = CardIssuingData::from_records(generation, &borrowed)?;
    card.remember_card_id(issuing.card_id);

    let ef06 = card.read_ef(Ef::Ef06, generation)?;
    let borrowed06: Vec<(u8, &[u8])> = ef06.iter().map(|(t, v)| (*t, v.as_slice())).collect();
    let holder = HolderData::from_records(generation, &borrowed06)?;

    let supplementary = if options.supplementary {
        let ef0d = card.read_ef(Ef::Ef0d, generation)?;
        let b: Vec<(u8, &[u8])> = ef0d.iter().map(|(t, v)| (*t, v.as_slice())).collect();
        match SupplementaryData::from_records(generation, &b) {
            Ok(s) => Some(s),
            // EF0D is optional: never written means no supplementary data
            Err(crate::data::DataError::Blank { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };

    let mut data = CardData {
        atr: card.atr().to_vec(),
        algorithm: app.algorithm,
        generation,
        state: app.state,
        issuing,
        holder,
        supplementary,
        genuine: None,
        card_id_mac_verified: None,
        terminal_number: None,
    };

    if options.verify_card_id && data.issuing.card_id.chip_serial != card.chip_serial()? {
        return Err(Error::CardIdForged);
    }
    if let Some(kh) = key_holder {
        if options.verify_genuine {
            internal_authenticate_once(card, kh)?;
            data.genuine = Some(true);
        }
        if options.verify_card_id {
            verify_card_id_mac(card, kh, &data)?;
            data.card_id_mac_verified = Some(true);
        }
        data.terminal_number = kh.terminal_number()?;
    }
    Ok(data)
}

/// INTERNAL AUTHENTICATE with fresh random data; the key holder computes the expected answer.
/// Fails with [`Error::NotGenuine`] when they differ.
pub fn internal_authenticate<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
) -> Result<()> {
    card.operation(|card| internal_authenticate_once(card, &mut *key_holder))
}

pub(crate) fn internal_authenticate_once<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
) -> Result<()> {
    let app = card.application()?;
    if !key_holder.supports(app.algorithm) {
        return Err(Error::KeyHolderAlgorithm(app.algorithm));
    }
    let process_factor: [u8; 8] = rand::random();
    let mut challenge = vec![0u8; app.algorithm.block_len()];
    rand::fill(challenge.as_mut_slice());
    let command = commands::internal_authenticate(process_factor, &challenge);
    let answer = zeroize::Zeroizing::new(card.exchange("INTERNAL AUTHENTICATE", &command)?);
    let card_factor = card.card_factor()?;
    let mut path = crypto::key_factors(KeyId::INTERNAL_AUTH, &card_factor, &[0u8; 8]);
    path.push(process_factor);
    let expected = key_holder.encipher(app.algorithm, KeyId::INTERNAL_AUTH, &path, &challenge)?;
    if answer.len() == expected.len() && bool::from(answer.as_slice().ct_eq(expected.as_slice())) {
        Ok(())
    } else {
        Err(Error::NotGenuine)
    }
}

fn verify_card_id_mac<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    data: &CardData,
) -> Result<()> {
    let id = &data.issuing.card_id;
    let expected = card_id_mac(card, key_holder, data.algorithm, id)?;
    if bool::from(expected.ct_eq(&id.mac)) {
        Ok(())
    } else {
        Err(Error::CardIdForged)
    }
}

/// The issuer MAC of a card identification code (docs/card-os.md §4: key 20, IV 0).
pub(crate) fn card_id_mac<T: Transport>(
    card: &Card<T>,
    key_holder: &mut dyn KeyHolder,
    algorithm: Algorithm,
    id: &crate::data::CardIdentificationCode,
) -> Result<[u8; 4]> {
    let factors = card.factors_for(&id.region)?;
    let path = crypto::key_factors(KeyId::CARD_ID_MAC, &factors.card, &factors.city);
    let iv = vec![0u8; algorithm.block_len()];
    Ok(key_holder.mac(algorithm, KeyId::CARD_ID_MAC, &path, &iv, &id.mac_input())?)
}
