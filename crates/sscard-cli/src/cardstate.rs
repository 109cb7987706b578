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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use sscard_core::data::{PersonRecord, RegionCode};
    use sscard_core::lifecycle::PersonalizeOptions;
    use sscard_core::Algorithm;
    use sscard_sim::{CardSpec, SimCard, SimTransport, Tear};

    fn person() -> sscard_core::data::Personalization {
        PersonRecord {
            ssn: "111111198101011110".into(),
            name: "张三".into(),
            sex: "1".into(),
            ethnicity: "01".into(),
            birthplace: "110101".into(),
            birth_date: "19810101".into(),
            card_number: "KD5578904".into(),
            card_type: "3".into(),
            generation: "2".into(),
            issue_date: "20150711".into(),
            expiry_date: "20350711".into(),
            region: "639900".into(),
            initializing_body: "915600000263990063990001".into(),
        }
        .validate()
        .unwrap()
    }

    /// The state read through the card's commands agrees with the state of its image, for a
    /// blank card, a personalization torn at every write, and a complete one.
    #[test]
    fn states_through_the_card_and_of_the_image_agree() {
        let mut keys = crate::context::test_keys().unwrap();
        let spec = || {
            CardSpec::new(
                Generation::V2,
                Algorithm::Sm4,
                RegionCode::parse("639900").unwrap(),
                [1, 2, 3, 4],
            )
        };
        let blank = SimCard::blank(spec(), keys.roots()).unwrap();
        assert_eq!(image_state(blank.image()), CardState::Blank);
        assert_eq!(
            image_card_id(blank.image()),
            "639900D15600000501020304FFFFFFFF"
        );
        let mut card = Card::open(SimTransport::new(blank)).unwrap();
        assert_eq!(card_state(&mut card).unwrap(), CardState::Blank);

        let options = PersonalizeOptions::default();
        let mut seen = Vec::new();
        for n in 1.. {
            let mut sim = SimCard::blank(spec(), keys.roots()).unwrap();
            sim.arm_tear(Tear::AtWrite(n));
            let mut card = Card::open(SimTransport::new(sim)).unwrap();
            let torn = lifecycle::personalize(&mut card, &mut keys, &person(), &options).is_err();
            let mut sim = card.into_transport().into_card();
            sim.reset();
            let state = image_state(sim.image());
            let mut card = Card::open(SimTransport::new(sim)).unwrap();
            assert_eq!(card_state(&mut card).unwrap(), state, "torn at write {n}");
            seen.push(state);
            if !torn {
                break;
            }
        }
        // power lost at write n means writes 1..n-1 are done: the counted EXTERNAL
        // AUTHENTICATION with PUK (decrement, restore) and the PIN RELOAD leave a blank card,
        // then it is partial until the card number, the last write
        assert_eq!(
            &seen[..4],
            [
                CardState::Blank,
                CardState::Blank,
                CardState::Blank,
                CardState::Partial
            ]
        );
        assert_eq!(seen.last(), Some(&CardState::Personalized));
        assert_eq!(
            seen.iter()
                .filter(|s| **s == CardState::Personalized)
                .count(),
            1,
            "{seen:?}"
        );
    }
}
