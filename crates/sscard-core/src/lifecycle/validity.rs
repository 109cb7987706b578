//! The validity check a terminal runs before using a card (IC 卡有效性检查, part 7 §5.4) and
//! the PIN question that follows it (§5.6).

use crate::data::{BcdDate, CardIdentificationCode, CardIssuingData, CardNumber};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::profile::Generation;
use crate::transport::Transport;

use super::card::Card;
use super::pin::{pin_status, PinStatus};
use super::read::read_issuing;

/// A terminal's list of blocked cards (黑名单, part 8 §7): single cards by card identification
/// code and card number, and card-number ranges.
pub trait Blocklist {
    /// Why the card is on the list, or `None` when it is not.
    fn lookup(&self, card_id: &CardIdentificationCode, card_number: &CardNumber) -> Option<String>;
}

/// What a terminal accepts (part 7 §5.4's list).
#[derive(Clone, Default)]
pub struct ValidityPolicy<'a> {
    /// Initializing body numbers (or prefixes of them) the terminal supports; empty: any.
    pub initializing_bodies: Vec<String>,
    /// Card types (卡的类别) the terminal supports; empty: any.
    pub card_types: Vec<char>,
    /// Spec versions (generations) the terminal supports; empty: any.
    pub generations: Vec<Generation>,
    /// Today, for the expiry check; `None`: not checked.
    pub today: Option<BcdDate>,
    /// The blocklist, if the terminal keeps one.
    pub blocklist: Option<&'a dyn Blocklist>,
    /// When the card is on the blocklist, block its social security application there and
    /// then (APPLICATION BLOCK with BK and STKSSSE, part 7 §13.2), as the loss report intends:
    /// the verdict is then [`Verdict::BlocklistedAndBlocked`]. For terminals whose key holder
    /// holds BK; off by default.
    pub block_blocklisted: bool,
}

impl std::fmt::Debug for ValidityPolicy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidityPolicy")
            .field("initializing_bodies", &self.initializing_bodies)
            .field("card_types", &self.card_types)
            .field("generations", &self.generations)
            .field("today", &self.today)
            .field("blocklist", &self.blocklist.is_some())
            .field("block_blocklisted", &self.block_blocklisted)
            .finish()
    }
}

/// The outcome of the validity check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[derive(serde::Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Verdict {
    /// The card passed every check; `pin` says whether the holder must enter a PIN.
    Valid {
        /// The PIN question's answer (part 7 §5.6).
        pin: PinStatus,
    },
    /// INTERNAL AUTHENTICATION with IRK failed.
    NotGenuine,
    /// The card is on the blocklist.
    Blocklisted {
        /// Why.
        reason: String,
    },
    /// The terminal does not support the card's initializing body.
    UnsupportedInitializingBody(String),
    /// The terminal does not support the card type.
    UnsupportedCardType(char),
    /// The terminal does not support the card's spec version.
    UnsupportedVersion(String),
    /// The card has expired.
    Expired(BcdDate),
    /// The card is on the blocklist and the terminal blocked its social security application
    /// ([`ValidityPolicy::block_blocklisted`]): it answers `9303` from now on.
    BlocklistedAndBlocked {
        /// Why it is on the list.
        reason: String,
    },
}

/// Runs part 7 §5.4 step by step: INTERNAL AUTHENTICATION with IRK; the card issuing data
/// (EF05, free to read); the blocklist by card identification code and card number; the
/// initializing body, card type, spec version and expiry date; then the PIN question of §5.6
/// (VERIFY with Lc = `00`). Returns the verdict and the card issuing data read.
pub fn check_validity<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    policy: &ValidityPolicy<'_>,
) -> Result<(Verdict, CardIssuingData)> {
    let (verdict, issuing) = card.operation(|card| {
        card.application()?;
        let generation = card.personalized_generation()?;
        let genuine = match card.internal_authenticate(&mut *key_holder) {
            Ok(()) => true,
            Err(Error::NotGenuine) => false,
            Err(e) => return Err(e),
        };
        let issuing = read_issuing(card, generation)?;
        if !genuine {
            return Ok((Some(Verdict::NotGenuine), issuing));
        }
        Ok((judge(&issuing, generation, policy), issuing))
    })?;
    if let Some(v) = verdict {
        if let (Verdict::Blocklisted { reason }, true) = (&v, policy.block_blocklisted) {
            super::block::block_application(card, key_holder)?;
            return Ok((
                Verdict::BlocklistedAndBlocked {
                    reason: reason.clone(),
                },
                issuing,
            ));
        }
        return Ok((v, issuing));
    }
    let pin = pin_status(card)?;
    Ok((Verdict::Valid { pin }, issuing))
}

fn judge(
    issuing: &CardIssuingData,
    generation: Generation,
    policy: &ValidityPolicy<'_>,
) -> Option<Verdict> {
    if let Some(list) = policy.blocklist {
        if let Some(reason) = list.lookup(&issuing.card_id, &issuing.card_number) {
            return Some(Verdict::Blocklisted { reason });
        }
    }
    if !policy.initializing_bodies.is_empty()
        && !policy
            .initializing_bodies
            .iter()
            .any(|b| issuing.initializing_body.starts_with(b.as_str()))
    {
        return Some(Verdict::UnsupportedInitializingBody(
            issuing.initializing_body.clone(),
        ));
    }
    if !policy.card_types.is_empty() && !policy.card_types.contains(&issuing.card_type) {
        return Some(Verdict::UnsupportedCardType(issuing.card_type));
    }
    if !policy.generations.is_empty() && !policy.generations.contains(&generation) {
        return Some(Verdict::UnsupportedVersion(issuing.spec_version.clone()));
    }
    if let Some(today) = policy.today {
        if issuing.expiry_date < today {
            return Some(Verdict::Expired(issuing.expiry_date));
        }
    }
    None
}
