//! Blocking a lost card (挂失, part 7 §13.1-13.2): APPLICATION BLOCK and CARD BLOCK, both
//! permanent.

use crate::apdu::{commands, instruction};
use crate::error::Result;
use crate::keyholder::KeyHolder;
use crate::keys::KeyRole;
use crate::transport::Transport;

use super::card::Card;

/// APPLICATION BLOCK of SSSE (`841E 0001`, part 5 §6.1): EXTERNAL AUTHENTICATION with BK, then
/// the command with its MAC under STKSSSE (\[design\] D12). Permanent: afterwards SELECT SSSE and
/// every command in it answer `9303`.
pub fn block_application<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
) -> Result<()> {
    card.operation(|card| {
        card.application()?;
        card.maintain(
            "APPLICATION BLOCK",
            &mut *key_holder,
            KeyRole::Bk,
            [
                commands::CLA_SECURE,
                instruction::APPLICATION_BLOCK,
                0x00,
                0x01,
            ],
            None,
        )?;
        card.forget();
        Ok(())
    })
}

/// CARD BLOCK (`8416 0000`, part 5 §6.2): EXTERNAL AUTHENTICATION with BK, then the command
/// with its MAC under STKSSSE. Permanent: afterwards every command answers `6A81`.
pub fn block_card<T: Transport>(card: &mut Card<T>, key_holder: &mut dyn KeyHolder) -> Result<()> {
    card.operation(|card| {
        card.application()?;
        card.maintain(
            "CARD BLOCK",
            &mut *key_holder,
            KeyRole::Bk,
            [commands::CLA_SECURE, instruction::CARD_BLOCK, 0x00, 0x00],
            None,
        )?;
        card.forget();
        Ok(())
    })
}
