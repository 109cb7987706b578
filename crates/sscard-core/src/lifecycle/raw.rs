//! The escape hatch: raw commands and the transport itself, outside the card model.

use crate::apdu::{Command, Response};
use crate::channel::{Channel, ChannelError};
use crate::transport::Transport;

use super::card::Card;

/// Raw access to a card, **bypassing the session rules**: whatever is sent here is neither
/// checked nor tracked by the library. A command sent raw may write without an
/// [`super::AuthenticatedSession`], change the card's security state, select another DF or
/// reset the card.
///
/// For diagnostics, tests and reader control (a PIN pad's `SCardControl`), never for card
/// operations: those are the functions of [`crate::lifecycle`]. Taking the hatch
/// ([`Card::raw`]) makes the [`Card`] forget what it knew (the selected application, the
/// card's data, the keys authenticated), so its next operation starts from SELECT.
///
/// The exchanges still go through the one exchange loop ([`Channel::send`]): counted, traced
/// with secrets redacted.
pub struct RawCard<'c, T: Transport> {
    card: &'c mut Card<T>,
}

impl<T: Transport> std::fmt::Debug for RawCard<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawCard").field("card", &self.card).finish()
    }
}

impl<T: Transport> Card<T> {
    /// The escape hatch: raw commands and the transport, **bypassing the session rules** (see
    /// [`RawCard`]). The card forgets its model of the card first.
    pub fn raw(&mut self) -> RawCard<'_, T> {
        self.forget();
        RawCard { card: self }
    }
}

impl<'c, T: Transport> RawCard<'c, T> {
    /// Sends one command through the exchange loop (`61xx` and `6Cxx` handled) and returns the
    /// card's answer whatever its status word.
    pub fn send(&mut self, command: &Command) -> Result<Response, ChannelError> {
        self.card.forget();
        self.card.channel.send(command)
    }

    /// The APDU channel itself.
    pub fn channel_mut(self) -> &'c mut Channel<T> {
        &mut self.card.channel
    }

    /// The transport itself (the reader: power, control codes, a simulated card's insides).
    pub fn transport_mut(self) -> &'c mut T {
        self.card.channel.transport_mut()
    }
}
