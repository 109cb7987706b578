//! Blocking (挂失 on the card side): application block (temporary or permanent), application
//! unblock, and card block, each a MAC-secured command (docs/card-os.md §3).
//!
//! The application maintenance key 07 is a nationwide key (card factor only), so a lost card
//! can be blocked and unblocked anywhere even while its records answer `6A81`. Card block uses
//! the issuer's master key 00.

use crate::apdu::commands;
use crate::crypto::{CardFactors, KeyId};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::transport::Transport;

use super::application::BlockState;
use super::card::Card;

fn nationwide_factors<T: Transport>(card: &Card<T>) -> Result<CardFactors> {
    Ok(CardFactors {
        card: card.card_factor()?,
        city: [0; 8],
    })
}

/// APPLICATION BLOCK: temporary (`841E 0000`, reads answer `6A81` until unblocked) or permanent
/// (`841E 0001`, `9303` for ever). APDUs: SELECT, GET CHALLENGE, 841E.
pub fn block_application<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    permanent: bool,
) -> Result<()> {
    card.operation(|card| block_application_once(card, &mut *key_holder, permanent))
}

fn block_application_once<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    permanent: bool,
) -> Result<()> {
    let app = card.application()?;
    if app.block == Some(BlockState::Permanent) {
        return Err(Error::PermanentlyBlocked);
    }
    let factors = nationwide_factors(card)?;
    let header = commands::application_block_header(permanent);
    card.send_with_mac(
        "APPLICATION BLOCK",
        key_holder,
        KeyId::MAINTENANCE,
        &factors,
        header,
        &[],
        |mac| commands::application_block(permanent, mac),
    )?;
    let block = if permanent {
        BlockState::Permanent
    } else {
        BlockState::Temporary
    };
    card.note_state(None, Some(block));
    Ok(())
}

/// APPLICATION UNBLOCK (`8418 0000`): lifts a temporary block. A permanent block stays
/// ([`Error::PermanentlyBlocked`]).
pub fn unblock_application<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
) -> Result<()> {
    card.operation(|card| unblock_application_once(card, &mut *key_holder))
}

fn unblock_application_once<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
) -> Result<()> {
    let app = card.application()?;
    if app.block == Some(BlockState::Permanent) {
        return Err(Error::PermanentlyBlocked);
    }
    let factors = nationwide_factors(card)?;
    card.send_with_mac(
        "APPLICATION UNBLOCK",
        key_holder,
        KeyId::MAINTENANCE,
        &factors,
        commands::APPLICATION_UNBLOCK_HEADER,
        &[],
        commands::application_unblock,
    )?;
    card.note_state(None, Some(BlockState::None));
    Ok(())
}

/// CARD BLOCK (`8416 0000`, master key 00): the whole card answers `9303` for ever.
/// APDUs: SELECT, READ RECORD (region), GET CHALLENGE, 8416.
pub fn block_card<T: Transport>(card: &mut Card<T>, key_holder: &mut dyn KeyHolder) -> Result<()> {
    card.operation(|card| block_card_once(card, &mut *key_holder))
}

fn block_card_once<T: Transport>(card: &mut Card<T>, key_holder: &mut dyn KeyHolder) -> Result<()> {
    let factors = card.factors()?;
    card.send_with_mac(
        "CARD BLOCK",
        key_holder,
        KeyId::MASTER,
        &factors,
        commands::CARD_BLOCK_HEADER,
        &[],
        commands::card_block,
    )
}
