//! An open social security card: the SSSE application selected once per card session, what its
//! FCI says (algorithm, application state, block state, generation), and the mapping from status
//! words to [`Error`] shared by every operation.

use zeroize::Zeroizing;

use crate::apdu::{commands, Command, RecordRef, StatusWord};
use crate::channel::{Channel, ChannelError, Tracer};
use crate::codec;
use crate::crypto::{self, CardFactors, KeyId};
use crate::data::{CardIdentificationCode, RegionCode};
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::profile::{self, Ef, Generation};
use crate::transport::{Transport, TransportError};

use super::application::{AppState, Application, BlockState};
use super::session::read_name;
use crate::Algorithm;

/// An open social security card behind a transport.
///
/// `Card` selects the SSSE application at most once per card session (a reset or a card swap,
/// seen through [`Transport::reset_epoch`], starts a new one), remembers the security state the
/// card holds, and turns status words into [`Error`]s. Write operations are only reachable through
/// [`crate::lifecycle::AuthenticatedSession`].
pub struct Card<T: Transport> {
    pub(crate) channel: Channel<T>,
    atr: Vec<u8>,
    epoch: u64,
    app: Option<Application>,
    /// Key ids the card currently counts as authenticated.
    pub(crate) authenticated: Vec<KeyId>,
    card_id: Option<CardIdentificationCode>,
    /// Whether the card answered the all-records READ RECORD mode; `None` until tried.
    all_records: Option<bool>,
}

impl<T: Transport> std::fmt::Debug for Card<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("atr", &hex::encode_upper(&self.atr))
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Card<T> {
    /// Opens the card behind `transport`: reads its ATR (no APDU is sent).
    pub fn open(transport: T) -> Result<Card<T>> {
        let mut channel = Channel::new(transport);
        let atr = channel.atr()?;
        let epoch = channel.reset_epoch();
        Ok(Card {
            channel,
            atr,
            epoch,
            app: None,
            authenticated: Vec::new(),
            card_id: None,
            all_records: None,
        })
    }

    /// The card's ATR.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// The APDU channel (for counters and tracing).
    pub fn channel(&self) -> &Channel<T> {
        &self.channel
    }

    /// The APDU channel, mutable (to install a tracer or reset the counter).
    pub fn channel_mut(&mut self) -> &mut Channel<T> {
        &mut self.channel
    }

    /// Installs a tracer that sees every APDU, with secrets already redacted.
    pub fn set_tracer(&mut self, tracer: Option<Tracer>) {
        self.channel.set_tracer(tracer);
    }

    /// Physical APDUs exchanged so far (GET RESPONSE and Le corrections included).
    pub fn apdu_count(&self) -> u64 {
        self.channel.apdu_count()
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.channel.into_inner()
    }

    /// Forgets everything learnt about the card when the transport reports a reset or a new card.
    /// Returns true when that happened.
    pub(crate) fn sync_epoch(&mut self) -> Result<bool> {
        let now = self.channel.reset_epoch();
        if now == self.epoch {
            return Ok(false);
        }
        self.epoch = now;
        self.forget();
        self.atr = self.channel.atr()?;
        Ok(true)
    }

    fn forget(&mut self) {
        self.app = None;
        self.authenticated.clear();
        self.card_id = None;
        self.all_records = None;
    }

    /// The current card-session number (changes on every reset or card swap).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Selects SSSE now (even if it was selected before) and returns what its FCI says.
    /// Clears the card's security state, as the card itself does.
    pub fn select(&mut self) -> Result<Application> {
        self.sync_epoch()?;
        self.forget();
        let response = self
            .channel
            .send(&commands::select_aid(&profile::SSSE_AID))
            .map_err(|e| self.transport_error(e))?;
        match response.sw() {
            StatusWord::Ok => {}
            StatusWord::FileNotFound | StatusWord::IncorrectP1P2 => {
                return Err(Error::NotSocialSecurityCard)
            }
            StatusWord::PermanentlyBlocked | StatusWord::ApplicationBlocked => {
                return Err(Error::CardBlocked)
            }
            sw => {
                return Err(Error::Card {
                    command: "SELECT SSSE",
                    sw,
                })
            }
        }
        let app = Application::from_fci(response.data())?;
        self.app = Some(app);
        Ok(app)
    }

    /// The SSSE application, selecting it if this card session has not yet.
    pub fn application(&mut self) -> Result<Application> {
        self.sync_epoch()?;
        match self.app {
            Some(app) => Ok(app),
            None => self.select(),
        }
    }

    /// Fails with the matching error when the FCI says the application is blocked.
    pub(crate) fn ensure_not_blocked(app: &Application) -> Result<()> {
        match app.block {
            Some(BlockState::Temporary) => Err(Error::ApplicationBlocked),
            Some(BlockState::Permanent) => Err(Error::PermanentlyBlocked),
            _ => Ok(()),
        }
    }

    fn transport_error(&mut self, e: ChannelError) -> Error {
        if let ChannelError::Transport(TransportError::CardReset) = e {
            self.forget();
            return Error::CardReset;
        }
        e.into()
    }

    /// Sends `command`; `9000` gives its data, any other status word the matching error.
    pub(crate) fn exchange(&mut self, what: &'static str, command: &Command) -> Result<Vec<u8>> {
        match self.exchange_raw(command)? {
            (data, StatusWord::Ok) => Ok(data),
            (_, sw) => Err(status_error(what, sw)),
        }
    }

    /// Sends `command` and returns the raw status word with the data, for callers that handle
    /// several outcomes themselves.
    pub(crate) fn exchange_raw(&mut self, command: &Command) -> Result<(Vec<u8>, StatusWord)> {
        if self.sync_epoch()? && !self.authenticated.is_empty() {
            return Err(Error::CardReset);
        }
        let response = self
            .channel
            .send(command)
            .map_err(|e| self.transport_error(e))?;
        let sw = response.sw();
        Ok((response.into_data(), sw))
    }

    /// The card factor (last 8 bytes of the ATR historical bytes).
    pub fn card_factor(&self) -> Result<[u8; 8]> {
        Ok(crypto::card_factor_from_atr(&self.atr)?)
    }

    /// The chip serial: the last 4 bytes of the ATR historical bytes.
    pub fn chip_serial(&self) -> Result<[u8; 4]> {
        let f = self.card_factor()?;
        Ok([f[4], f[5], f[6], f[7]])
    }

    /// The card identification code (EF05 tag 01), read once per card session. It is free to
    /// read on every generation and gives the region needed for the issuer keys.
    pub fn card_id(&mut self) -> Result<CardIdentificationCode> {
        self.application()?;
        if let Some(id) = self.card_id {
            return Ok(id);
        }
        let value = self.read_element(Ef::Ef05, 0x01)?;
        let id = card_id_from_value(&value)?;
        self.card_id = Some(id);
        Ok(id)
    }

    /// Records a state change the card made (personalization finished, activation, blocking),
    /// so the cached FCI stays true without another SELECT.
    pub(crate) fn note_state(&mut self, state: Option<AppState>, block: Option<BlockState>) {
        if let Some(app) = self.app.as_mut() {
            if state.is_some() {
                app.state = state;
            }
            if block.is_some() {
                app.block = block;
            }
        }
    }

    pub(crate) fn remember_card_id(&mut self, id: CardIdentificationCode) {
        self.card_id = Some(id);
    }

    /// The diversification factors of this card for its region.
    pub fn factors(&mut self) -> Result<CardFactors> {
        let region = self.card_id()?.region;
        self.factors_for(&region)
    }

    /// The diversification factors of this card for a given region.
    pub fn factors_for(&self, region: &RegionCode) -> Result<CardFactors> {
        Ok(CardFactors {
            card: self.card_factor()?,
            city: crypto::city_factor(region),
        })
    }

    /// Reads one element by tag through its EF's SFI (`00B2 <tag> <SFI<<3>`).
    pub fn read_element(&mut self, ef: Ef, tag: u8) -> Result<Vec<u8>> {
        let command = commands::read_record(Some(ef.sfi()), RecordRef::Tag(tag));
        let data = self.exchange(read_name(ef), &command)?;
        let records = codec::parse_records(&data).map_err(|e| Error::MalformedResponse {
            command: read_name(ef),
            reason: e.to_string(),
        })?;
        match records.first() {
            Some((t, value)) if *t == tag => Ok(value.to_vec()),
            Some((t, _)) => Err(Error::MalformedResponse {
                command: read_name(ef),
                reason: format!("asked for tag {tag:02X}, the card answered tag {t:02X}"),
            }),
            None => Err(Error::MalformedResponse {
                command: read_name(ef),
                reason: "empty record".into(),
            }),
        }
    }

    /// Reads every record of `ef` for `generation` as `(tag, value)`: with one all-records
    /// READ RECORD when the card has that mode, otherwise one READ RECORD per element.
    pub fn read_ef(&mut self, ef: Ef, generation: Generation) -> Result<Vec<(u8, Vec<u8>)>> {
        if self.all_records != Some(false) {
            let command = commands::read_record(Some(ef.sfi()), RecordRef::AllFrom(1));
            let (data, sw) = self.exchange_raw(&command)?;
            match sw {
                StatusWord::Ok => {
                    self.all_records = Some(true);
                    let records =
                        codec::parse_records(&data).map_err(|e| Error::MalformedResponse {
                            command: read_name(ef),
                            reason: e.to_string(),
                        })?;
                    return Ok(records.into_iter().map(|(t, v)| (t, v.to_vec())).collect());
                }
                StatusWord::IncorrectP1P2
                | StatusWord::WrongP1P2
                | StatusWord::InsNotSupported
                | StatusWord::NoPreciseDiagnosis => {
                    self.all_records = Some(false);
                }
                sw => return Err(status_error(read_name(ef), sw)),
            }
        }
        let mut out = Vec::new();
        for spec in profile::records(generation, ef) {
            match self.read_element(ef, spec.tag) {
                Ok(value) => out.push((spec.tag, value)),
                Err(Error::Card {
                    sw: StatusWord::RecordNotFound,
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// GET CHALLENGE for one block of the card's algorithm.
    pub(crate) fn challenge(&mut self, algorithm: Algorithm) -> Result<Zeroizing<Vec<u8>>> {
        let len = algorithm.block_len();
        let data = self.exchange("GET CHALLENGE", &commands::get_challenge(len as u8))?;
        if data.len() != len {
            return Err(Error::MalformedResponse {
                command: "GET CHALLENGE",
                reason: format!("asked for {len} bytes, got {}", data.len()),
            });
        }
        Ok(Zeroizing::new(data))
    }

    /// EXTERNAL AUTHENTICATE with `key` (GET CHALLENGE first; the key holder computes the
    /// cryptogram). On success the card counts `key` as authenticated until reselect or reset.
    pub(crate) fn external_authenticate(
        &mut self,
        key_holder: &mut dyn KeyHolder,
        key: KeyId,
        factors: &CardFactors,
    ) -> Result<()> {
        let app = self.application()?;
        if !key_holder.supports(app.algorithm) {
            return Err(Error::KeyHolderAlgorithm(app.algorithm));
        }
        let challenge = self.challenge(app.algorithm)?;
        let mut path = crypto::key_factors(key, &factors.card, &factors.city);
        let mut session = [0u8; 8];
        session.copy_from_slice(challenge.get(..8).unwrap_or(&[0u8; 8]));
        path.push(session);
        let cryptogram = key_holder.encipher(app.algorithm, key, &path, &challenge)?;
        let command = commands::external_authenticate(key.0, cryptogram);
        match self.exchange("EXTERNAL AUTHENTICATE", &command) {
            Ok(_) => {
                if !self.authenticated.contains(&key) {
                    self.authenticated.push(key);
                }
                Ok(())
            }
            Err(Error::Card {
                sw: StatusWord::AuthenticationFailed,
                ..
            })
            | Err(Error::WrongPin { .. }) => Err(Error::AuthenticationFailed { key: key.0 }),
            Err(e) => Err(e),
        }
    }

    /// Sends a command secured by a MAC (block, unblock, PIN reload): GET CHALLENGE, then the
    /// command whose last 4 data bytes are the MAC over its header and data, with the challenge
    /// as IV. `build` gets the MAC and returns the command.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_with_mac(
        &mut self,
        what: &'static str,
        key_holder: &mut dyn KeyHolder,
        key: KeyId,
        factors: &CardFactors,
        header: [u8; 4],
        data_before_mac: &[u8],
        build: impl FnOnce([u8; 4]) -> Command,
    ) -> Result<()> {
        let app = self.application()?;
        if !key_holder.supports(app.algorithm) {
            return Err(Error::KeyHolderAlgorithm(app.algorithm));
        }
        let challenge = self.challenge(app.algorithm)?;
        let path = crypto::key_factors(key, &factors.card, &factors.city);
        let input =
            commands::mac_input(header[0], header[1], header[2], header[3], data_before_mac);
        let mac = key_holder.mac(app.algorithm, key, &path, &challenge, &input)?;
        self.exchange(what, &build(mac)).map(|_| ())
    }

    /// Runs one library operation: inside a transport transaction (ended explicitly so its
    /// errors are seen), and started over once when the card was reset by someone else or
    /// pcscd restarted during it. The card's security state is gone in both cases, so the
    /// operation begins again from SELECT; every operation is written so that a restart is
    /// safe (a half-done personalization is completed, a MAC gets a fresh challenge).
    pub(crate) fn operation<R>(&mut self, mut f: impl FnMut(&mut Self) -> Result<R>) -> Result<R> {
        match self.transaction(&mut f) {
            Err(e) if restartable(&e) => {
                self.forget();
                self.transaction(&mut f)
            }
            other => other,
        }
    }

    /// Runs `f` inside a transport transaction, ending it explicitly so its errors are seen.
    pub fn transaction<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        self.channel.transport_mut().begin_transaction()?;
        let result = f(self);
        let end = self.channel.transport_mut().end_transaction();
        match (result, end) {
            (Ok(r), Ok(())) => Ok(r),
            (Ok(_), Err(e)) => Err(e.into()),
            (Err(e), _) => Err(e),
        }
    }
}

/// Whether an error means "the card lost its state under us; starting over can succeed".
/// The same holds for a PSAM reached through PC/SC: its transport reconnects on the second try.
fn restartable(e: &Error) -> bool {
    use crate::keyholder::KeyHolderError;
    matches!(
        e,
        Error::CardReset
            | Error::Transport(TransportError::CardReset | TransportError::NoService)
            | Error::KeyHolder(KeyHolderError::Channel(ChannelError::Transport(
                TransportError::CardReset | TransportError::NoService
            )))
    )
}

/// Parses the value of EF05 tag 01.
pub(crate) fn card_id_from_value(value: &[u8]) -> Result<CardIdentificationCode> {
    let bytes: &[u8; 16] = value.try_into().map_err(|_| Error::MalformedResponse {
        command: "READ RECORD EF05",
        reason: format!("card identification code has {} bytes, not 16", value.len()),
    })?;
    if bytes.iter().all(|&b| b == 0) {
        return Err(Error::Blank);
    }
    Ok(CardIdentificationCode::from_bytes(bytes)?)
}

/// Maps a status word to the error a terminal operator understands.
pub(crate) fn status_error(what: &'static str, sw: StatusWord) -> Error {
    match sw {
        StatusWord::WrongPin { tries_left } => Error::WrongPin { tries_left },
        StatusWord::AuthMethodBlocked => Error::PinBlocked,
        StatusWord::ApplicationBlocked => Error::ApplicationBlocked,
        StatusWord::PermanentlyBlocked => Error::PermanentlyBlocked,
        sw => Error::Card { command: what, sw },
    }
}
