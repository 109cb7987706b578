//! The connection to the card, with or without pcscd's transaction lock.
//!
//! The `pcsc` crate's transaction guard borrows the card handle, and [`crate::PcscTransport`]
//! opens and ends transactions in separate calls ([`sscard_core::transport::Transport`]'s
//! `begin_transaction` / `end_transaction`). [`Handle::Locked`] keeps the guard beside the card
//! it borrows (a `self_cell`), so that ending the transaction is `SCardEndTransaction` on the
//! same connection: the card stays connected and pcscd's lock is released at once, with no
//! disconnect and reconnect in between (in which another program could slip in).

use pcsc::{Card, Disposition, Protocols, ShareMode, Transaction};
use self_cell::{self_cell, MutBorrow};

type Guard<'a> = Transaction<'a>;

self_cell!(
    /// A card handle and the transaction guard that borrows it.
    pub(crate) struct LockedCard {
        owner: MutBorrow<Card>,

        #[not_covariant]
        dependent: Guard,
    }
);

/// The connection: plain, or holding pcscd's transaction lock.
pub(crate) enum Handle {
    /// Connected, no transaction.
    Open(Card),
    /// Connected, inside a transaction (`SCardBeginTransaction` succeeded).
    Locked(LockedCard),
}

impl Handle {
    /// Runs `f` on the card handle.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Card) -> R) -> R {
        match self {
            Handle::Open(card) => f(card),
            Handle::Locked(locked) => locked.with_dependent(|_, guard| f(guard)),
        }
    }

    /// `SCardReconnect` on the handle; a transaction held survives it in pcscd only if the card
    /// was left as it is (pcscd ends it on a reset).
    pub(crate) fn reconnect(
        &mut self,
        share: ShareMode,
        initialization: Disposition,
    ) -> Result<(), pcsc::Error> {
        match self {
            Handle::Open(card) => card.reconnect(share, Protocols::ANY, initialization),
            Handle::Locked(locked) => locked.with_dependent_mut(|_, guard| {
                guard.reconnect(share, Protocols::ANY, initialization)
            }),
        }
    }

    /// Whether a transaction is held.
    pub(crate) fn is_locked(&self) -> bool {
        matches!(self, Handle::Locked(_))
    }

    /// Begins a transaction (`SCardBeginTransaction`); on failure the handle comes back as it
    /// was, still connected.
    pub(crate) fn lock(self) -> Result<Handle, (Handle, pcsc::Error)> {
        match self {
            Handle::Locked(_) => Ok(self),
            Handle::Open(card) => {
                match LockedCard::try_new_or_recover(MutBorrow::new(card), |owner| {
                    owner.borrow_mut().transaction()
                }) {
                    Ok(locked) => Ok(Handle::Locked(locked)),
                    Err((owner, e)) => Err((Handle::Open(owner.into_inner()), e)),
                }
            }
        }
    }

    /// Ends the transaction (`SCardEndTransaction`, the card left as it is) and gives the still
    /// connected card back. The guard's end reports no error: a card removed or reset meanwhile
    /// shows at the next call on the handle.
    pub(crate) fn unlock(self) -> Card {
        match self {
            Handle::Open(card) => card,
            Handle::Locked(locked) => locked.into_owner().into_inner(),
        }
    }
}
