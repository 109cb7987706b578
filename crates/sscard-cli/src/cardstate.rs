//! Where a card stands between initialization and personalization, as the batch and the
//! simulated card feeder need to know it.
//!
//! The specification has no application state: a card leaves initialization with its keys, an
//! empty PIN and only the card identification code (\[design\] D14), and personalization sets the
//! initial PIN first (PIN RELOAD) and writes the card number last (\[design\] D15). So:
//!
//! - **blank**: no PIN and no data item besides the card identification code;
//! - **personalized**: the card number (EF05 tag 07) is written;
//! - **partial**: anything between (a personalization that was interrupted; running it again
//!   completes it).

use sscard_core::lifecycle::{self, Card, PinStatus};
use sscard_core::profile::{self, Ef, Generation};
use sscard_core::transport::Transport;
use sscard_sim::CardImage;

/// Where a card stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    /// As it left initialization.
    Blank,
    /// Some of a personalization is on it, not the card number.
    Partial,
    /// The card number is written.
    Personalized,
}

/// The state of the card behind `card`, read without keys: the card number (EF05 tag 07,
/// free to read on every generation), then the PIN question (VERIFY without data, which uses no
/// try) and the spec version (EF05 tag 03). A blocked card or one without the social security
/// application is an error.
pub fn card_state<T: Transport>(card: &mut Card<T>) -> sscard_core::Result<CardState> {
    card.select()?;
    let number = profile::element(Generation::V1, profile::tag::CARD_NUMBER).ok_or(
        sscard_core::Error::MalformedResponse {
            command: "profile",
            reason: "no card number item".into(),
        },
    )?;
    if card
        .read_item(number)?
        .is_some_and(|v| v.iter().any(|&b| b != 0))
    {
        return Ok(CardState::Personalized);
    }
    let pin = lifecycle::pin_status(card)?;
    if pin == PinStatus::NotSet && card.generation()?.is_none() {
        Ok(CardState::Blank)
    } else {
        Ok(CardState::Partial)
    }
}

/// The state of a simulated card image.
pub fn image_state(image: &CardImage) -> CardState {
    let number = image.record_value(Ef::Ef05, profile::tag::CARD_NUMBER);
    if number.is_some_and(|v| v.iter().any(|&b| b != 0)) {
        return CardState::Personalized;
    }
    let only_card_id = image
        .ef05
        .iter()
        .all(|r| r.0.first() == Some(&profile::tag::CARD_ID));
    if only_card_id && image.ef06.is_empty() && image.pin.value.is_empty() {
        CardState::Blank
    } else {
        CardState::Partial
    }
}

/// The card identification code of an image (upper-case hex), which names its file in a
/// feeder; empty when the image has none.
pub fn image_card_id(image: &CardImage) -> String {
    image.card_id().map(hex::encode_upper).unwrap_or_default()
}
