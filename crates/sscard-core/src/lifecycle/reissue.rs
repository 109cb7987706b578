//! Reissue (补换卡): a new card is personalized for the same person and the old one, when it is
//! at hand, is blocked permanently. The new card is written first, so a failure never leaves the
//! person without a working card; the old card is blocked only when its holder is the person.

use crate::data::Personalization;
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::transport::Transport;

use super::block::block_application;
use super::card::Card;
use super::personalize::{personalize, PersonalizeOptions, PersonalizeReport};
use super::read::{read, ReadOptions};

/// What a reissue did.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct ReissueReport {
    /// The new card.
    pub new_card: PersonalizeReport,
    /// Whether the old card was present and is now permanently blocked.
    pub old_card_blocked: bool,
}

/// Personalizes `new_card` for the person of `data` and permanently blocks `old_card` when given.
///
/// The old card is read first (nothing written): if it belongs to someone else, or is the same
/// chip as the new card, nothing happens and [`Error::WrongCard`] is returned.
pub fn reissue<O: Transport, N: Transport>(
    old_card: Option<&mut Card<O>>,
    new_card: &mut Card<N>,
    key_holder: &mut dyn KeyHolder,
    data: &Personalization,
    options: &PersonalizeOptions,
) -> Result<ReissueReport> {
    let old_card = match old_card {
        Some(old) => {
            let old_data = read(old, Some(&mut *key_holder), &ReadOptions::default())?;
            if old_data.holder.ssn != *data.holder().ssn_ref() {
                return Err(Error::WrongCard(
                    "the old card belongs to another person".into(),
                ));
            }
            if old.chip_serial()? == new_card.chip_serial()? {
                return Err(Error::WrongCard(
                    "the old and the new card are the same chip".into(),
                ));
            }
            Some(old)
        }
        None => None,
    };
    let new_report = personalize(new_card, key_holder, data, options)?;
    let old_card_blocked = match old_card {
        Some(old) => {
            block_application(old, key_holder, true)?;
            true
        }
        None => false,
    };
    Ok(ReissueReport {
        new_card: new_report,
        old_card_blocked,
    })
}
