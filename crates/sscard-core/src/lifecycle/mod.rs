//! Lifecycle operations (卡片生命周期), generic over any [`crate::transport::Transport`] and any
//! [`crate::keyholder::KeyHolder`]:
//!
//! - [`read()`]: card issuing data and holder data (hospitals, banks, kiosks);
//! - [`personalize()`]: a blank card becomes the holder's card (card-printing stations);
//! - [`activate()`]: the holder replaces the initial PIN (bank outlets);
//! - PIN: [`verify_pin`], [`pin_tries_left`], [`change_pin`], [`unblock_pin`], [`reload_pin`];
//! - blocking: [`block_application`], [`unblock_application`], [`block_card`];
//! - [`reissue()`]: a new card for the same person, the old one blocked.
//!
//! Writes are only possible through an [`AuthenticatedSession`], which a card reset invalidates.

mod activate;
mod application;
mod block;
mod card;
mod personalize;
mod pin;
mod read;
mod reissue;
mod session;

pub use activate::{activate, ActivateReport};
pub use application::{AppState, Application, BlockState};
pub use block::{block_application, block_card, unblock_application};
pub use card::Card;
pub use personalize::{personalize, PersonalizeOptions, PersonalizeReport};
pub use pin::{change_pin, pin_tries_left, reload_pin, unblock_pin, verify_pin};
pub use read::{internal_authenticate, read, CardData, ReadOptions};
pub use reissue::{reissue, ReissueReport};
pub use session::AuthenticatedSession;
