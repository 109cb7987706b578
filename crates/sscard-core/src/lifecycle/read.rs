//! Reading a card (查询应用信息, part 7 §6): the card issuing data (EF05) and the holder data
//! (EF06), the way the reader interface's `iReadCardBas` returns them.

use serde::Serialize;

use crate::atr::historical_bytes;
use crate::data::{CardIssuingData, HolderData};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::keys::KeyRole;
use crate::profile::{self, Ef, Generation};
use crate::transport::Transport;
use crate::Algorithm;

use super::card::Card;

/// What a read does besides reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Check that the card is genuine with INTERNAL AUTHENTICATION (IRK, part 7 §5.4) when a
    /// key holder is given. Default: yes.
    pub internal_authentication: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            internal_authentication: true,
        }
    }
}

/// Everything read from a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct CardData {
    /// The card's ATR (hex).
    #[serde(serialize_with = "crate::codec::serialize_hex")]
    #[cfg_attr(feature = "schemars", schemars(with = "String"))]
    pub atr: Vec<u8>,
    /// The card's algorithm.
    pub algorithm: Algorithm,
    /// The card's generation (from its spec version).
    #[cfg_attr(feature = "schemars", schemars(with = "String"))]
    pub generation: Generation,
    /// EF05.
    pub issuing: CardIssuingData,
    /// EF06.
    pub holder: HolderData,
    /// Whether INTERNAL AUTHENTICATION with IRK proved the card genuine; `None` when not checked.
    pub genuine: Option<bool>,
    /// The terminal number of the key holder (a PSAM), if any.
    pub terminal_number: Option<String>,
}

impl CardData {
    /// The ATR's historical bytes as upper-case hex (the reader interface's 卡复位信息).
    pub fn historical_bytes_hex(&self) -> String {
        historical_bytes(&self.atr)
            .map(hex::encode_upper)
            .unwrap_or_default()
    }

    /// The `iReadCardBas` line of the reader interface (§1.1.2): region | social security number
    /// | card number (9) | card identification code | name | ATR historical bytes | spec version
    /// | issue date | expiry date | terminal number | terminal device number |, each followed by
    /// `|`. Without a PSAM the terminal number is empty here (the C interface writes 12 zeros,
    /// §1.3.2).
    pub fn basic_line(&self) -> String {
        let i = &self.issuing;
        let h = &self.holder;
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}||",
            i.card_id.region,
            h.ssn_ref(),
            i.card_number,
            i.card_id,
            h.name,
            self.historical_bytes_hex(),
            i.spec_version,
            i.issue_date,
            i.expiry_date,
            self.terminal_number.as_deref().unwrap_or_default(),
        )
    }
}

/// Reads the card without keys: 1.0 and 2.0 cards (everything is free to read); a 3.0 card
/// answers [`Error::ReadKeyRequired`].
///
/// APDUs: SELECT SSSE, then one READ RECORD per data item by SFI with its exact Le (part 5
/// §6.10): 7 for EF05, 6 (1.0) or 7 (2.0) for EF06.
pub fn read<T: Transport>(card: &mut Card<T>) -> Result<CardData> {
    card.operation(|card| read_inner(card, None, &ReadOptions::default()))
}

/// Reads the card with a key holder: INTERNAL AUTHENTICATION with IRK proves it genuine (unless
/// switched off), and on 3.0 cards EXTERNAL AUTHENTICATION with RKSSSE opens EF06 (reader
/// interface §10.2).
pub fn read_verified<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    options: &ReadOptions,
) -> Result<CardData> {
    card.operation(|card| read_inner(card, Some(&mut *key_holder), options))
}

/// Reads every item of `ef` on a card of `generation` as `(tag, value)`; absent records are
/// left out (the typed decoding then names the missing item).
pub(crate) fn read_items<T: Transport>(
    card: &mut Card<T>,
    generation: Generation,
    ef: Ef,
    skip: &[u8],
) -> Result<Vec<(u8, Vec<u8>)>> {
    let mut out = Vec::new();
    for spec in profile::records(generation, ef) {
        if skip.contains(&spec.tag) {
            continue;
        }
        if let Some(value) = card.read_item(spec)? {
            out.push((spec.tag, value));
        }
    }
    Ok(out)
}

fn borrowed(records: &[(u8, Vec<u8>)]) -> Vec<(u8, &[u8])> {
    records.iter().map(|(t, v)| (*t, v.as_slice())).collect()
}

pub(crate) fn read_inner<T: Transport>(
    card: &mut Card<T>,
    mut key_holder: Option<&mut dyn KeyHolder>,
    options: &ReadOptions,
) -> Result<CardData> {
    let app = card.application()?;
    let generation = card.personalized_generation()?;
    let mut genuine = None;
    let mut terminal_number = None;
    if let Some(kh) = key_holder.as_mut() {
        if options.internal_authentication {
            card.internal_authenticate(&mut **kh)?;
            genuine = Some(true);
        }
        terminal_number = kh.terminal_number()?;
    }
    let issuing = read_issuing(card, generation)?;
    if Ef::Ef06.read_access(generation) != profile::Access::Free {
        let kh = key_holder.as_mut().ok_or(Error::ReadKeyRequired)?;
        card.ensure_authenticated(&mut **kh, KeyRole::Rkssse)?;
    }
    let ef06 = read_items(card, generation, Ef::Ef06, &[])?;
    if ef06.is_empty() {
        return Err(Error::Blank("no holder data (EF06)"));
    }
    let holder = HolderData::from_records(generation, &borrowed(&ef06))?;
    Ok(CardData {
        atr: card.atr().to_vec(),
        algorithm: app.algorithm,
        generation,
        issuing,
        holder,
        genuine,
        terminal_number,
    })
}

/// The card issuing data (EF05, free to read on every generation) of a card of `generation`,
/// as reading and the validity check (part 7 §5.4, §6) both need it: the card identification
/// code and spec version this card session has read already are not read again, and a card
/// without its card number, which personalization writes last (\[design\] D15), is
/// [`Error::PersonalizationIncomplete`].
pub(crate) fn read_issuing<T: Transport>(
    card: &mut Card<T>,
    generation: Generation,
) -> Result<CardIssuingData> {
    let card_id = card.card_id()?;
    let mut ef05 = read_items(
        card,
        generation,
        Ef::Ef05,
        &[profile::tag::CARD_ID, profile::tag::SPEC_VERSION],
    )?;
    ef05.push((profile::tag::CARD_ID, card_id.to_bytes().to_vec()));
    let version = card
        .spec_version_value()
        .ok_or(Error::Blank("no spec version (EF05 03)"))?;
    ef05.push((profile::tag::SPEC_VERSION, version));
    let number = ef05
        .iter()
        .find(|(t, _)| *t == profile::tag::CARD_NUMBER)
        .map(|(_, v)| v.iter().any(|&b| b != 0));
    if number != Some(true) {
        return Err(Error::PersonalizationIncomplete);
    }
    Ok(CardIssuingData::from_records(generation, &borrowed(&ef05))?)
}
