//! The one way to write to a card: a session authenticated with UKSSSE.

use crate::apdu::{commands, RecordRef};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::keys::KeyRole;
use crate::profile::{Ef, ElementSpec};
use crate::tlv;
use crate::transport::Transport;

use super::card::Card;

/// Bytes written per UPDATE BINARY (a short Lc).
pub(crate) const BINARY_CHUNK: usize = 240;

/// Proof that the card accepted EXTERNAL AUTHENTICATION with UKSSSE, the update key of the SSSE
/// files (V2.0 notice §5.2 table 3). Writes exist only here, so a program cannot write to a
/// card without holding the keys. A reset of the card (or a swap) ends the session: the card
/// forgets its security state, and so does the session.
pub struct AuthenticatedSession<'c, T: Transport> {
    card: &'c mut Card<T>,
    epoch: u64,
}

impl<T: Transport> std::fmt::Debug for AuthenticatedSession<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticatedSession")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Card<T> {
    /// EXTERNAL AUTHENTICATION with UKSSSE (part 7 §7.2): the session that may write EF05 to
    /// EF08.
    pub fn authenticate_for_update(
        &mut self,
        key_holder: &mut dyn KeyHolder,
    ) -> Result<AuthenticatedSession<'_, T>> {
        self.external_authenticate(key_holder, KeyRole::Ukssse)?;
        let epoch = self.epoch();
        Ok(AuthenticatedSession { card: self, epoch })
    }
}

impl<'c, T: Transport> AuthenticatedSession<'c, T> {
    fn check(&mut self) -> Result<()> {
        self.card.sync_epoch()?;
        if self.card.epoch() != self.epoch || !self.card.authenticated.contains(&KeyRole::Ukssse) {
            return Err(Error::CardReset);
        }
        Ok(())
    }

    /// The card, for reading within the session.
    pub fn card(&mut self) -> &mut Card<T> {
        self.card
    }

    /// Writes one data item: UPDATE RECORD of its record identifier by SFI (part 5 §6.13; an
    /// absent record is added). `value` must have the item's length.
    pub fn write_item(&mut self, spec: &ElementSpec, value: &[u8]) -> Result<()> {
        self.check()?;
        if value.len() != spec.len {
            return Err(Error::MalformedResponse {
                command: "UPDATE RECORD",
                reason: format!(
                    "{} is {} bytes, the data item has {}",
                    spec.field,
                    value.len(),
                    spec.len
                ),
            });
        }
        let record = tlv::simple(spec.tag, value);
        self.card.forget_current_ef();
        let command =
            commands::update_record(Some(spec.ef.sfi()), RecordRef::Tag(spec.tag), record);
        self.card
            .exchange(update_name(spec.ef), &command)
            .map(|_| ())
    }

    /// Writes `data` into the transparent file `ef` from `offset` (part 5 §6.12): SELECT of the
    /// EF, then UPDATE BINARY in chunks.
    pub fn write_binary(&mut self, ef: Ef, offset: usize, data: &[u8]) -> Result<()> {
        self.check()?;
        if !ef.is_transparent() || offset + data.len() > ef.size() {
            return Err(Error::MalformedResponse {
                command: "UPDATE BINARY",
                reason: format!(
                    "{} bytes at {offset} do not fit {ef} ({} bytes)",
                    data.len(),
                    ef.size()
                ),
            });
        }
        self.card.select_ef(ef)?;
        for (i, chunk) in data.chunks(BINARY_CHUNK).enumerate() {
            let at = offset + i * BINARY_CHUNK;
            let (p1, p2) = commands::binary_p1_p2(None, u16::try_from(at).unwrap_or(u16::MAX))
                .ok_or(Error::MalformedResponse {
                    command: "UPDATE BINARY",
                    reason: format!("offset {at} out of range"),
                })?;
            self.card.exchange(
                "UPDATE BINARY",
                &commands::update_binary(p1, p2, chunk.to_vec()),
            )?;
        }
        Ok(())
    }
}

fn update_name(ef: Ef) -> &'static str {
    match ef {
        Ef::Ef05 => "UPDATE RECORD EF05",
        Ef::Ef06 => "UPDATE RECORD EF06",
        Ef::Ef07 | Ef::Ef08 => "UPDATE BINARY",
    }
}
