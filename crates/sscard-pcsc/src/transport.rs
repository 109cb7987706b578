//! [`PcscTransport`]: [`Transport`] on one PC/SC reader.

use std::ffi::CString;
use std::fmt;
use std::time::{Duration, Instant};

/// How long a broken exchange waits for pcscd to notice that the card was removed.
const REMOVAL_GRACE: Duration = Duration::from_secs(1);

use pcsc::{Card, Protocols};
use sscard_core::transport::{Transport, TransportError};

use crate::error::{context_lost, map_error};
use crate::handle::Handle;
use crate::reader::{Pcsc, ReaderSelector};

/// How the connection shares the card with other programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ShareMode {
    /// Other programs may use the card too; use transactions for sequences that must not be
    /// interleaved.
    #[default]
    Shared,
    /// No other program can connect while this connection lives (they get a sharing
    /// violation). Transactions are then implicit.
    Exclusive,
}

impl ShareMode {
    fn to_pcsc(self) -> pcsc::ShareMode {
        match self {
            ShareMode::Shared => pcsc::ShareMode::Shared,
            ShareMode::Exclusive => pcsc::ShareMode::Exclusive,
        }
    }
}

/// What happens to the card when the connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// Leave the card as it is (its security state stays: only for trusted sequences).
    Leave,
    /// Warm-reset the card: its volatile security state is lost.
    Reset,
    /// Power the card off.
    Unpower,
}

impl Disposition {
    fn to_pcsc(self) -> pcsc::Disposition {
        match self {
            Disposition::Leave => pcsc::Disposition::LeaveCard,
            Disposition::Reset => pcsc::Disposition::ResetCard,
            Disposition::Unpower => pcsc::Disposition::UnpowerCard,
        }
    }
}

/// How [`PcscTransport::open`] finds and connects to a card.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The reader; `None`: `$SSCARD_READER`, else the first reader holding a card.
    pub reader: Option<ReaderSelector>,
    /// Shared (default) or exclusive connection.
    pub share: ShareMode,
    /// Wait up to this long for a card; `None`: fail at once with [`TransportError::NoCard`].
    pub wait: Option<Duration>,
}

/// A card in a PC/SC reader, as a [`Transport`].
///
/// - Responses are always received into a `pcsc::MAX_BUFFER_SIZE_EXTENDED` buffer (a too small
///   buffer would report an error for a command the card has already executed).
/// - When another program reset the card, the exchange fails once with
///   [`TransportError::CardReset`] after reconnecting, and [`Transport::reset_epoch`] changes:
///   the caller re-selects the application and drops any authenticated state.
/// - After [`TransportError::CardRemoved`], [`TransportError::NoCard`] or
///   [`TransportError::NoService`] the next call connects again (establishing a new PC/SC
///   context if pcscd restarted) instead of failing forever; the reset epoch has changed.
/// - Transactions: [`Transport::begin_transaction`] / [`Transport::end_transaction`] lock the
///   card against other programs between the two calls (`SCardBeginTransaction` /
///   `SCardEndTransaction` on one connection, the card left as it is: ending neither
///   disconnects nor reconnects). A card removed or reset while the lock is released shows at
///   the next exchange. With [`ShareMode::Exclusive`] transactions are implicit.
/// - Dropping the transport disconnects with a card reset (the card's security state is lost);
///   use [`PcscTransport::disconnect`] to choose.
pub struct PcscTransport {
    pcsc: Pcsc,
    reader: String,
    reader_c: CString,
    share: ShareMode,
    card: Option<Handle>,
    atr: Vec<u8>,
    epoch: u64,
    in_transaction: bool,
    connections: u64,
    buffer: Vec<u8>,
}

impl fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcscTransport")
            .field("reader", &self.reader)
            .field("share", &self.share)
            .field("connected", &self.card.is_some())
            .field("atr", &self.atr)
            .field("epoch", &self.epoch)
            .field("in_transaction", &self.in_transaction)
            .field(
                "pcscd_lock",
                &self.card.as_ref().is_some_and(Handle::is_locked),
            )
            .finish()
    }
}

impl PcscTransport {
    /// Finds a reader as `options` say (waiting for a card if asked) and connects to its card.
    pub fn open(options: &OpenOptions) -> Result<PcscTransport, TransportError> {
        let mut pcsc = Pcsc::new();
        let reader = match options.wait {
            Some(timeout) => pcsc.wait_for_card(options.reader.as_ref(), timeout)?,
            None => pcsc.select_reader(options.reader.as_ref())?,
        };
        if !reader.card_present {
            return Err(TransportError::NoCard);
        }
        PcscTransport::connect_with(pcsc, &reader.name, options.share)
    }

    /// Connects to the card in the reader named exactly `reader`.
    pub fn connect(reader: &str, share: ShareMode) -> Result<PcscTransport, TransportError> {
        PcscTransport::connect_with(Pcsc::new(), reader, share)
    }

    pub(crate) fn connect_with(
        pcsc: Pcsc,
        reader: &str,
        share: ShareMode,
    ) -> Result<PcscTransport, TransportError> {
        let reader_c =
            CString::new(reader).map_err(|_| TransportError::ReaderNotFound(reader.to_owned()))?;
        let mut transport = PcscTransport {
            pcsc,
            reader: reader.to_owned(),
            reader_c,
            share,
            card: None,
            atr: Vec::new(),
            epoch: 0,
            in_transaction: false,
            connections: 0,
            buffer: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        };
        transport.connect_card()?;
        Ok(transport)
    }

    /// The reader's full name.
    pub fn reader_name(&self) -> &str {
        &self.reader
    }

    /// The sharing mode of the connection.
    pub fn share_mode(&self) -> ShareMode {
        self.share
    }

    /// Whether a connection to the card is open right now (it is re-opened on demand).
    pub fn is_connected(&self) -> bool {
        self.card.is_some()
    }

    /// How many connections (`SCardConnect`) this transport has opened: one, plus one after each
    /// loss of the connection (card removed, pcscd restarted). Transactions open none.
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// Whether a transaction begun by [`Transport::begin_transaction`] is open.
    pub fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    /// Waits up to `timeout` for a card in this reader (after it was removed, or pcscd
    /// restarted) and connects to it.
    pub fn wait_for_card(&mut self, timeout: Duration) -> Result<(), TransportError> {
        if self.card.is_some() {
            return Ok(());
        }
        let selector = ReaderSelector::Exact(self.reader.clone());
        self.pcsc.wait_for_card(Some(&selector), timeout)?;
        self.connect_card()
    }

    /// Resets the card (warm reset; `unpower`: cold reset). Its security state is lost: the reset
    /// epoch changes.
    pub fn reset_card(&mut self, unpower: bool) -> Result<(), TransportError> {
        self.ensure_card()?;
        let disposition = if unpower {
            pcsc::Disposition::UnpowerCard
        } else {
            pcsc::Disposition::ResetCard
        };
        let share = self.share.to_pcsc();
        let result = match self.card.as_mut() {
            Some(handle) => handle.reconnect(share, disposition),
            None => return Err(TransportError::NoCard),
        };
        self.epoch = self.epoch.wrapping_add(1);
        match result {
            Ok(()) => {
                self.refresh_atr();
                Ok(())
            }
            Err(e) => Err(self.lost(e)),
        }
    }

    /// Ends the connection, doing `disposition` to the card, and reports errors.
    pub fn disconnect(mut self, disposition: Disposition) -> Result<(), TransportError> {
        match self.card.take() {
            None => Ok(()),
            Some(handle) => handle
                .unlock()
                .disconnect(disposition.to_pcsc())
                .map_err(|(_card, e)| map_error(e, Some(&self.reader))),
        }
    }

    /// Runs `f` on the connected card handle, connecting first when needed (`SCardControl` of
    /// [`crate::pinpad`]).
    pub(crate) fn with_card_handle<R>(
        &mut self,
        f: impl FnOnce(&Card) -> R,
    ) -> Result<R, TransportError> {
        self.ensure_card()?;
        self.card
            .as_ref()
            .map(|handle| handle.with(f))
            .ok_or(TransportError::NoCard)
    }

    /// Opens the connection (a new PC/SC context first, if the old one died).
    fn connect_card(&mut self) -> Result<(), TransportError> {
        let result =
            self.pcsc
                .context()?
                .connect(&self.reader_c, self.share.to_pcsc(), Protocols::ANY);
        match result {
            Ok(card) => {
                self.card = Some(Handle::Open(card));
                self.connections += 1;
                self.in_transaction = false;
                self.refresh_atr();
                Ok(())
            }
            Err(e) => Err(self.pcsc.fail(e, Some(&self.reader))),
        }
    }

    fn ensure_card(&mut self) -> Result<(), TransportError> {
        if self.card.is_none() {
            self.connect_card()?;
        }
        Ok(())
    }

    fn refresh_atr(&mut self) {
        if let Some(Ok(status)) = self.card.as_ref().map(|h| h.with(Card::status2_owned)) {
            self.atr = status.atr().to_vec();
        }
    }

    /// The connection is gone (card removed, service stopped...): forget it, bump the epoch.
    fn lost(&mut self, error: pcsc::Error) -> TransportError {
        self.card = None;
        self.in_transaction = false;
        self.epoch = self.epoch.wrapping_add(1);
        self.pcsc.fail(error, Some(&self.reader))
    }

    /// After a broken exchange: [`TransportError::CardRemoved`] if the card left the reader
    /// (waiting up to a second for pcscd to notice), else a protocol error saying `what`.
    fn diagnose(&mut self, what: String) -> TransportError {
        let deadline = Instant::now() + REMOVAL_GRACE;
        loop {
            if let Some(Err(e)) = self.card.as_ref().map(|h| h.with(Card::status2_owned)) {
                if e != pcsc::Error::ResetCard {
                    return self.after_error(e);
                }
            }
            let absent = match self.pcsc.reader_state(&self.reader_c) {
                Ok(state) => !state.contains(pcsc::State::PRESENT),
                Err(e) => return e,
            };
            if absent {
                return self.lost(pcsc::Error::RemovedCard);
            }
            if Instant::now() >= deadline {
                return TransportError::Protocol(what);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Turns a failed card call into a [`TransportError`], recovering what can be recovered.
    fn after_error(&mut self, error: pcsc::Error) -> TransportError {
        match error {
            pcsc::Error::ResetCard => {
                // Someone reset the card: our handle must be reconnected; the card's security
                // state is gone, so the epoch changes and the caller must start over.
                self.epoch = self.epoch.wrapping_add(1);
                self.in_transaction = false;
                let share = self.share.to_pcsc();
                let result = match self.card.as_mut() {
                    Some(handle) => handle.reconnect(share, pcsc::Disposition::LeaveCard),
                    None => Ok(()),
                };
                match result {
                    Ok(()) => self.refresh_atr(),
                    Err(e) => {
                        let _ = self.lost(e);
                    }
                }
                TransportError::CardReset
            }
            pcsc::Error::RemovedCard
            | pcsc::Error::NotTransacted
            | pcsc::Error::NoSmartcard
            | pcsc::Error::UnpoweredCard
            | pcsc::Error::ReaderUnavailable
            | pcsc::Error::UnknownReader => self.lost(error),
            e if context_lost(e) => self.lost(e),
            e => map_error(e, Some(&self.reader)),
        }
    }
}

impl Transport for PcscTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.ensure_card()?;
        let buffer = &mut self.buffer;
        let result = match self.card.as_ref() {
            Some(handle) => handle.with(|card| card.transmit(command, buffer).map(<[u8]>::to_vec)),
            None => return Err(TransportError::NoCard),
        };
        match result {
            Ok(response) if response.len() >= 2 => Ok(response),
            // No status word: the exchange broke (vpcd answers nothing when its card vanishes
            // mid-command). Find out whether the card is gone.
            Ok(response) => Err(self.diagnose(format!(
                "the card answered {} byte(s) without a status word",
                response.len()
            ))),
            Err(
                e @ (pcsc::Error::NotTransacted
                | pcsc::Error::CommError
                | pcsc::Error::CommDataLost
                | pcsc::Error::UnknownError),
            ) => Err(self.diagnose(format!("PC/SC: {e}"))),
            Err(e) => Err(self.after_error(e)),
        }
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.ensure_card()?;
        Ok(self.atr.clone())
    }

    fn reset_epoch(&self) -> u64 {
        self.epoch
    }

    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        self.ensure_card()?;
        if self.in_transaction || self.share == ShareMode::Exclusive {
            self.in_transaction = true;
            return Ok(());
        }
        let Some(handle) = self.card.take() else {
            return Err(TransportError::NoCard);
        };
        match handle.lock() {
            Ok(locked) => {
                self.card = Some(locked);
                self.in_transaction = true;
                Ok(())
            }
            Err((handle, e)) => {
                self.card = Some(handle);
                Err(self.after_error(e))
            }
        }
    }

    fn end_transaction(&mut self) -> Result<(), TransportError> {
        if !self.in_transaction {
            return Ok(());
        }
        self.in_transaction = false;
        // SCardEndTransaction on the same connection, the card left as it is: the lock is
        // released and the card stays connected (no reconnect; the card's state is kept). A
        // connection already gone took the lock with it.
        if let Some(handle) = self.card.take() {
            self.card = Some(Handle::Open(handle.unlock()));
        }
        Ok(())
    }
}
