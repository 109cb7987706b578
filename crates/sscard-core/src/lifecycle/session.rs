//! Privilege in the types: writes to a card exist only on an [`AuthenticatedSession`], which is
//! obtained by external authentication and dies with the card session (a reset or card swap
//! makes every further call fail with [`Error::CardReset`]).

use crate::apdu::{commands, RecordRef};
use crate::crypto::{CardFactors, KeyId};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::profile::{Ef, Generation};
use crate::transport::Transport;

use super::application::AppState;
use super::card::Card;

/// A card on which the terminal has proved that it holds one or more of the card's keys.
///
/// Created by [`Card::authenticate`]. The card clears its security state on reset or when SSSE is
/// selected again; the session notices both and refuses to go on.
pub struct AuthenticatedSession<'c, T: Transport> {
    card: &'c mut Card<T>,
    epoch: u64,
    factors: CardFactors,
}

impl<T: Transport> Card<T> {
    /// External authentication with `key`, computed by `key_holder` for this card's `factors`.
    /// Returns the session that may write what `key` permits.
    pub fn authenticate<'c>(
        &'c mut self,
        key_holder: &mut dyn KeyHolder,
        key: KeyId,
        factors: CardFactors,
    ) -> Result<AuthenticatedSession<'c, T>> {
        self.application()?;
        self.external_authenticate(key_holder, key, &factors)?;
        let epoch = self.epoch();
        Ok(AuthenticatedSession {
            card: self,
            epoch,
            factors,
        })
    }
}

impl<T: Transport> AuthenticatedSession<'_, T> {
    fn check(&mut self) -> Result<()> {
        self.card.sync_epoch()?;
        if self.card.epoch() != self.epoch || self.card.authenticated.is_empty() {
            return Err(Error::CardReset);
        }
        Ok(())
    }

    /// The key ids the card counts as authenticated in this session.
    pub fn keys(&self) -> &[KeyId] {
        &self.card.authenticated
    }

    /// Authenticates one more key in the same session (the card keeps both).
    pub fn authenticate_also(&mut self, key_holder: &mut dyn KeyHolder, key: KeyId) -> Result<()> {
        self.check()?;
        let factors = self.factors;
        self.card.external_authenticate(key_holder, key, &factors)
    }

    /// UPDATE RECORD of the element `tag` in `ef`, addressed by tag through the EF's SFI
    /// (`00DC <tag> <SFI<<3> Lc <TLV>`). `tlv` is the whole record.
    pub fn update_record(&mut self, ef: Ef, tag: u8, tlv: Vec<u8>) -> Result<()> {
        self.check()?;
        let command = commands::update_record(Some(ef.sfi()), RecordRef::Tag(tag), tlv);
        self.card.exchange(update_name(ef), &command).map(|_| ())
    }

    /// Writes every record of `records` (whole TLVs, as produced by the data types) to `ef`.
    pub fn update_records(&mut self, ef: Ef, records: Vec<(u8, Vec<u8>)>) -> Result<()> {
        for (tag, tlv) in records {
            self.update_record(ef, tag, tlv)?;
        }
        Ok(())
    }

    /// ACTIVATE FILE (`0044 0000`): the last step of personalization, personalizing → personalized.
    pub fn finish_personalization(&mut self) -> Result<()> {
        self.check()?;
        self.card.exchange(
            "ACTIVATE FILE (finish personalization)",
            &commands::activate_file(),
        )?;
        self.card.note_state(Some(AppState::Personalized), None);
        Ok(())
    }

    /// DEACTIVATE FILE (`0004 0000`, needs the master key 00): personalized or activated →
    /// personalizing, the first step of re-personalization.
    pub fn begin_repersonalization(&mut self) -> Result<()> {
        self.check()?;
        self.card.exchange(
            "DEACTIVATE FILE (begin re-personalization)",
            &commands::deactivate_file(),
        )?;
        self.card.note_state(Some(AppState::Personalizing), None);
        Ok(())
    }

    /// Reads every record of `ef` within the session (for read-back verification).
    pub fn read_ef(&mut self, ef: Ef, generation: Generation) -> Result<Vec<(u8, Vec<u8>)>> {
        self.check()?;
        self.card.read_ef(ef, generation)
    }

    /// The card behind the session (read-only access to its metadata).
    pub fn card(&self) -> &Card<T> {
        self.card
    }

    /// The diversification factors this session authenticated with.
    pub fn factors(&self) -> &CardFactors {
        &self.factors
    }

    /// Sends a MAC-secured command within the session (used for the initial PIN).
    pub(crate) fn card_mut(&mut self) -> Result<&mut Card<T>> {
        self.check()?;
        Ok(self.card)
    }
}

fn update_name(ef: Ef) -> &'static str {
    match ef {
        Ef::Ef05 => "UPDATE RECORD EF05",
        Ef::Ef06 => "UPDATE RECORD EF06",
        Ef::Ef0d => "UPDATE RECORD EF0D",
    }
}

/// The name of a READ RECORD of `ef`, for error messages.
pub(crate) fn read_name(ef: Ef) -> &'static str {
    match ef {
        Ef::Ef05 => "READ RECORD EF05",
        Ef::Ef06 => "READ RECORD EF06",
        Ef::Ef0d => "READ RECORD EF0D",
    }
}
