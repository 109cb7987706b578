//! What a simulated chip is to a reader: an ATR, a command handler and a reset.

/// Anything that behaves like a card in a reader: an ATR, a command handler and a reset.
///
/// Implemented by the simulated card ([`crate::SimCard`]) and PSAM ([`crate::SimPsam`]);
/// served to a real pcscd by [`crate::vpcd::serve`] and [`crate::vpcd::VpcdCard`], and wrapped
/// in process by [`crate::SimTransport`].
pub trait VirtualCard {
    /// The answer to reset.
    fn atr(&self) -> Vec<u8>;
    /// Processes one raw command APDU and returns the raw response (data ‖ SW1 SW2).
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8>;
    /// A warm or cold reset: volatile state is lost, persistent state stays.
    fn reset(&mut self);
}

impl<C: VirtualCard + ?Sized> VirtualCard for Box<C> {
    fn atr(&self) -> Vec<u8> {
        (**self).atr()
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        (**self).handle(apdu)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}

impl<C: VirtualCard + ?Sized> VirtualCard for &mut C {
    fn atr(&self) -> Vec<u8> {
        (**self).atr()
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        (**self).handle(apdu)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
}
