//! An open social security card: the SSSE environment selected once per card session, what its
//! FCI says, what was read of it, the security state it holds, and the mapping from status
//! words to [`Error`] shared by every operation.

use subtle::ConstantTimeEq;

use crate::apdu::{commands, Command, RecordRef, StatusWord};
use crate::channel::{Channel, ChannelError, Tracer};
use crate::crypto::{Pin, AUTH_LEN};
use crate::data::CardIdentificationCode;
use crate::error::{Error, Result};
use crate::keyholder::{CardContext, KeyHolder, KeyHolderError};
use crate::keys::KeyRole;
use crate::profile::fci::Fci;
use crate::profile::{self, Ef, ElementSpec, Generation};
use crate::tlv;
use crate::transport::{Transport, TransportError};
use crate::Algorithm;

/// What selecting SSSE told about the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// The card's FCI (part 5 table 36).
    pub fci: Fci,
    /// The card's algorithm: the FCI's `9F0C`, or the reader interface §10.1 default.
    pub algorithm: Algorithm,
}

/// How READ RECORD addresses the records of EF05 and EF06.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Addressing {
    /// By short file identifier in P2 (part 5 table 32): no SELECT of the EF. The library's
    /// default, the fewest APDUs.
    #[default]
    Sfi,
    /// SELECT the EF by file identifier (`00A4 0200 02 EF05`), then read the current EF
    /// (`00B2 <tag> 00 <Le>`), as the field trace does.
    SelectEf,
}

/// An open social security card behind a transport.
///
/// `Card` selects SSSE at most once per card session (a reset or a card swap, seen through
/// [`Transport::reset_epoch`], starts a new one), remembers the security state the card holds
/// (part 7 §6.6: until reset or another DF is selected) and turns status words into [`Error`]s.
/// Writes are only reachable through [`crate::lifecycle::AuthenticatedSession`]; raw commands
/// only through the escape hatch [`Card::raw`], which says it bypasses these rules.
pub struct Card<T: Transport> {
    pub(crate) channel: Channel<T>,
    atr: Vec<u8>,
    epoch: u64,
    app: Option<Application>,
    card_id: Option<CardIdentificationCode>,
    generation: Option<Generation>,
    version_value: Option<Vec<u8>>,
    current_ef: Option<Ef>,
    /// Keys the card currently counts as authenticated.
    pub(crate) authenticated: Vec<KeyRole>,
    /// The data area DF selected below SSSE (`0xDF01` …), `None` when SSSE (or nothing) is
    /// the current DF ([`crate::lifecycle::areas`]).
    pub(crate) area: Option<u16>,
    pub(crate) addressing: Addressing,
}

impl<T: Transport> std::fmt::Debug for Card<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("atr", &hex::encode_upper(&self.atr))
            .field("app", &self.app)
            .field("card_id", &self.card_id)
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
            card_id: None,
            generation: None,
            version_value: None,
            current_ef: None,
            authenticated: Vec::new(),
            area: None,
            addressing: Addressing::Sfi,
        })
    }

    /// Reads records the field trace's way (SELECT of the EF, then the current EF) instead of
    /// by SFI.
    pub fn with_addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = addressing;
        self
    }

    /// The card's ATR.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// The APDU channel (for counters and tracing).
    pub fn channel(&self) -> &Channel<T> {
        &self.channel
    }

    /// Installs a tracer that sees every APDU, with secrets already redacted.
    pub fn set_tracer(&mut self, tracer: Option<Tracer>) {
        self.channel.set_tracer(tracer);
    }

    /// Physical APDUs exchanged so far (GET RESPONSE and Le corrections included).
    pub fn apdu_count(&self) -> u64 {
        self.channel.apdu_count()
    }

    /// Sets the APDU counter back to zero.
    pub fn reset_apdu_count(&mut self) {
        self.channel.reset_apdu_count();
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.channel.into_inner()
    }

    /// Forgets everything learnt about the card when the transport reports a reset or a new
    /// card. Returns true when that happened.
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

    pub(crate) fn forget(&mut self) {
        self.app = None;
        self.card_id = None;
        self.generation = None;
        self.version_value = None;
        self.current_ef = None;
        self.authenticated.clear();
        self.area = None;
    }

    /// The current card-session number (changes on every reset or card swap).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Selects SSSE now (`00A4 0400 0F <AID> 00`) and returns what its FCI says. Selecting
    /// the same DF again keeps the card's security state (part 5 §6.11.1); the library keeps
    /// its record of it too.
    pub fn select(&mut self) -> Result<Application> {
        self.sync_epoch()?;
        if self.area.take().is_some() {
            // leaving a data area DF: the card drops its security state (part 7 §6.6)
            self.authenticated.clear();
        }
        let command = match self.addressing {
            Addressing::Sfi => commands::select_aid(&profile::SSSE_AID),
            Addressing::SelectEf => commands::select_aid_no_le(&profile::SSSE_AID),
        };
        let response = self
            .channel
            .send(&command)
            .map_err(|e| self.transport_error(e))?;
        match response.sw() {
            StatusWord::Ok => {}
            StatusWord::FileNotFound => return Err(Error::NotSocialSecurityCard),
            StatusWord::PermanentlyBlocked => return Err(Error::ApplicationBlocked),
            StatusWord::FunctionNotSupported => return Err(Error::CardBlocked),
            sw => {
                return Err(Error::Card {
                    command: "SELECT SSSE",
                    sw,
                })
            }
        }
        let fci = Fci::parse(response.data()).map_err(|reason| Error::MalformedResponse {
            command: "SELECT SSSE",
            reason,
        })?;
        if let Some(name) = &fci.df_name {
            if name.as_slice() != profile::SSSE_AID {
                return Err(Error::MalformedResponse {
                    command: "SELECT SSSE",
                    reason: format!("the FCI names DF {}", hex::encode_upper(name)),
                });
            }
        }
        let algorithm = match fci.algorithm {
            Some(byte) => Algorithm::from_byte(byte)?,
            // reader interface §10.1: decided by the region when the FCI does not say
            None => Algorithm::Tdes,
        };
        self.current_ef = None;
        let without_algorithm = fci.algorithm.is_none();
        let app = Application { fci, algorithm };
        self.app = Some(app.clone());
        if without_algorithm {
            // reader interface §10.1: without 9F0C, region 11xxxx means SSF33, any other DES
            let region = self.card_id()?.region;
            if region.as_str().starts_with("11") {
                self.app = None;
                return Err(Error::UnsupportedAlgorithm(
                    crate::algorithm::UnsupportedAlgorithm::Ssf33,
                ));
            }
        }
        Ok(app)
    }

    /// The SSSE application, selecting it if this card session has not yet.
    pub fn application(&mut self) -> Result<Application> {
        self.sync_epoch()?;
        match &self.app {
            Some(app) if self.area.is_none() => Ok(app.clone()),
            _ => self.select(),
        }
    }

    /// The card's algorithm (what selecting SSSE said in this card session; SSSE is selected
    /// when it has not been).
    pub fn algorithm(&mut self) -> Result<Algorithm> {
        self.sync_epoch()?;
        if let Some(app) = &self.app {
            return Ok(app.algorithm);
        }
        Ok(self.application()?.algorithm)
    }

    pub(crate) fn transport_error(&mut self, e: ChannelError) -> Error {
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

    /// Sends `command` and returns the data with the raw status word, for callers that handle
    /// several outcomes themselves. A reset during an authenticated session is an error.
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

    /// Reads one data item: READ RECORD of its record identifier with the item's length as Le
    /// (part 5 §6.10; the right Le at the first try). `None` when the card has no such record
    /// (`6A83`).
    pub fn read_item(&mut self, spec: &ElementSpec) -> Result<Option<Vec<u8>>> {
        self.application()?;
        let le = spec.len + 2;
        let command = match self.addressing {
            Addressing::Sfi => {
                // a command addressing a file by SFI makes it the current EF (ISO/IEC 7816-4
                // §7.2.2, part 3 §5.2.3), also when it fails: the library no longer knows
                self.current_ef = None;
                commands::read_record(Some(spec.ef.sfi()), RecordRef::Tag(spec.tag), le)
            }
            Addressing::SelectEf => {
                self.select_ef(spec.ef)?;
                commands::read_record(None, RecordRef::Tag(spec.tag), le)
            }
        };
        let what = read_name(spec.ef);
        let (data, sw) = self.exchange_raw(&command)?;
        match sw {
            StatusWord::Ok => {}
            StatusWord::RecordNotFound => return Ok(None),
            sw => return Err(status_error(what, sw)),
        }
        let records = tlv::parse_simple(&data).map_err(|e| Error::MalformedResponse {
            command: what,
            reason: e.to_string(),
        })?;
        match records.as_slice() {
            [(t, value)] if *t == spec.tag => Ok(Some(value.to_vec())),
            [(t, _)] => Err(Error::MalformedResponse {
                command: what,
                reason: format!(
                    "asked for tag {:02X}, the card answered tag {t:02X}",
                    spec.tag
                ),
            }),
            _ => Err(Error::MalformedResponse {
                command: what,
                reason: format!("{} records instead of one", records.len()),
            }),
        }
    }

    /// Forgets which EF is current (after a command addressed a file by SFI).
    pub(crate) fn forget_current_ef(&mut self) {
        self.current_ef = None;
    }

    /// SELECT an EF of SSSE by file identifier, unless it is the current EF.
    pub(crate) fn select_ef(&mut self, ef: Ef) -> Result<()> {
        if self.current_ef == Some(ef) {
            return Ok(());
        }
        self.exchange(select_name(ef), &commands::select_ef(ef.fid()))?;
        self.current_ef = Some(ef);
        Ok(())
    }

    /// The card identification code (EF05 tag 01), read once per card session. Free to read
    /// on every generation; its region gives the province and city factors.
    pub fn card_id(&mut self) -> Result<CardIdentificationCode> {
        self.sync_epoch()?;
        if let Some(id) = self.card_id {
            return Ok(id);
        }
        let spec = item(Generation::V1, profile::tag::CARD_ID)?;
        let value = self
            .read_item(spec)?
            .ok_or(Error::Blank("no card identification code"))?;
        let id = card_id_from_value(&value)?;
        self.card_id = Some(id);
        Ok(id)
    }

    /// The card's generation, from its spec version (EF05 tag 03; reader interface §10.2),
    /// read once per card session. A card without the record (blank) has no generation yet.
    pub fn generation(&mut self) -> Result<Option<Generation>> {
        self.sync_epoch()?;
        if let Some(g) = self.generation {
            return Ok(Some(g));
        }
        let spec = item(Generation::V1, profile::tag::SPEC_VERSION)?;
        let Some(value) = self.read_item(spec)? else {
            return Ok(None);
        };
        let g = Generation::from_spec_version_bytes(&value)?;
        self.generation = Some(g);
        self.version_value = Some(value);
        Ok(Some(g))
    }

    /// The generation of a card that has its card issuing data; a blank card (or one whose
    /// personalization stopped before EF05) is [`Error::Blank`].
    pub(crate) fn personalized_generation(&mut self) -> Result<Generation> {
        self.generation()?.ok_or(Error::Blank(
            "no card issuing data (or a personalization interrupted before it was written: run it again)",
        ))
    }

    /// The raw spec version read by [`Card::generation`] in this card session.
    pub(crate) fn spec_version_value(&self) -> Option<Vec<u8>> {
        self.version_value.clone()
    }

    /// What a key holder needs to know about this card.
    pub fn context(&mut self) -> Result<CardContext> {
        let algorithm = self.algorithm()?;
        let card_id = self.card_id()?;
        Ok(CardContext {
            algorithm,
            atr: self.atr.clone(),
            card_id,
        })
    }

    /// GET CHALLENGE for 8 bytes (\[design\] D7, as the field trace asks).
    pub fn challenge(&mut self) -> Result<[u8; 8]> {
        let data = self.exchange("GET CHALLENGE", &commands::get_challenge(8))?;
        data.as_slice()
            .try_into()
            .map_err(|_| Error::MalformedResponse {
                command: "GET CHALLENGE",
                reason: format!("asked for 8 bytes, got {}", data.len()),
            })
    }

    fn check_key_holder(&mut self, key_holder: &dyn KeyHolder) -> Result<CardContext> {
        let ctx = self.context()?;
        if !key_holder.supports(ctx.algorithm) {
            return Err(Error::KeyHolderAlgorithm(ctx.algorithm));
        }
        Ok(ctx)
    }

    /// EXTERNAL AUTHENTICATION with `role` (part 7 §6.2-6.6): GET CHALLENGE, the key holder's
    /// original data and authentication data, then `0082 00 <key id> 10 …`. On success the
    /// card counts `role` as authenticated until reset or another DF is selected.
    pub fn external_authenticate(
        &mut self,
        key_holder: &mut dyn KeyHolder,
        role: KeyRole,
    ) -> Result<()> {
        let ctx = self.check_key_holder(key_holder)?;
        let key_id = role.card_key_id().ok_or(Error::MalformedResponse {
            command: "EXTERNAL AUTHENTICATION",
            reason: format!("{role} is not authenticated with EXTERNAL AUTHENTICATION"),
        })?;
        self.authenticate_key(key_holder, &ctx, role, key_id)
    }

    /// [`Card::external_authenticate`] unless the card already counts `role` as authenticated
    /// (part 7 §6.6: until reset or another DF is selected): what every operation that needs a
    /// key (RKSSSE to read, …) does before its command.
    pub(crate) fn ensure_authenticated(
        &mut self,
        key_holder: &mut dyn KeyHolder,
        role: KeyRole,
    ) -> Result<()> {
        if self.authenticated.contains(&role) {
            return Ok(());
        }
        self.external_authenticate(key_holder, role)
    }

    /// The exchange of EXTERNAL AUTHENTICATION with `role` as key `key_id` of the current DF of
    /// the card `ctx`: GET CHALLENGE, the key holder's original data and authentication data,
    /// then the command.
    pub(crate) fn authenticate_key(
        &mut self,
        key_holder: &mut dyn KeyHolder,
        ctx: &CardContext,
        role: KeyRole,
        key_id: u8,
    ) -> Result<()> {
        let challenge = self.challenge()?;
        let original = key_holder.random()?;
        let auth = key_holder.authenticate(ctx, role, &challenge, &original)?;
        self.send_external_authenticate(role, key_id, auth, original)
    }

    /// Sends EXTERNAL AUTHENTICATION with authentication data computed elsewhere (an HSM).
    pub(crate) fn send_external_authenticate(
        &mut self,
        role: KeyRole,
        key_id: u8,
        auth: [u8; 8],
        original: [u8; 8],
    ) -> Result<()> {
        let command = commands::external_authenticate(key_id, auth, original, None);
        match self.exchange_raw(&command)? {
            (_, StatusWord::Ok) => {
                if !self.authenticated.contains(&role) {
                    self.authenticated.push(role);
                }
                Ok(())
            }
            (_, StatusWord::VerificationFailed { tries_left }) => {
                Err(Error::AuthenticationFailed { role, tries_left })
            }
            (_, StatusWord::AuthMethodBlocked) => Err(Error::KeyLocked { role }),
            (_, sw) => Err(status_error("EXTERNAL AUTHENTICATION", sw)),
        }
    }

    /// INTERNAL AUTHENTICATION with IRK (part 7 §5.4): two terminal randoms (process factor
    /// and original data), the card's answer compared in constant time with the key holder's.
    pub fn internal_authenticate(&mut self, key_holder: &mut dyn KeyHolder) -> Result<()> {
        let ctx = self.check_key_holder(key_holder)?;
        let process_factor = key_holder.random()?;
        let original = key_holder.random()?;
        let answer = self.send_internal_authenticate(process_factor, original)?;
        let expected = key_holder.authenticate(&ctx, KeyRole::Irk, &process_factor, &original)?;
        if bool::from(answer.ct_eq(&expected)) {
            Ok(())
        } else {
            Err(Error::NotGenuine)
        }
    }

    /// Sends INTERNAL AUTHENTICATION and returns the card's 8 bytes.
    pub(crate) fn send_internal_authenticate(
        &mut self,
        process_factor: [u8; 8],
        original: [u8; 8],
    ) -> Result<[u8; AUTH_LEN]> {
        let command = commands::internal_authenticate(process_factor, original, None);
        let data = self.exchange("INTERNAL AUTHENTICATION", &command)?;
        data.as_slice()
            .try_into()
            .map_err(|_| Error::MalformedResponse {
                command: "INTERNAL AUTHENTICATION",
                reason: format!("{} bytes instead of 8", data.len()),
            })
    }

    /// A maintenance command of SSSE (part 7 §13, \[design\] D12): EXTERNAL AUTHENTICATION with
    /// `authority` (PUK for the PIN, BK to block), GET CHALLENGE, then the command `header`
    /// with the key holder's MAC (and the enciphered `new_pin`) under STKSSSE's process key.
    pub(crate) fn maintain(
        &mut self,
        what: &'static str,
        key_holder: &mut dyn KeyHolder,
        authority: KeyRole,
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<()> {
        self.external_authenticate(key_holder, authority)?;
        let ctx = self.check_key_holder(key_holder)?;
        let challenge = self.challenge()?;
        let sm = key_holder.secure_message(&ctx, KeyRole::Stkssse, &challenge, header, new_pin)?;
        let [cla, ins, p1, p2] = header;
        let mut data = zeroize::Zeroizing::new(sm.enciphered.to_vec());
        data.extend_from_slice(&sm.mac);
        let command = Command::new(cla, ins, p1, p2).with_sensitive_data(data);
        self.exchange(what, &command).map(|_| ())
    }

    /// Runs one library operation: inside a transport transaction (ended explicitly so its
    /// errors are seen), and started over once when the card was reset by someone else or
    /// pcscd restarted during it. The card's security state is gone in both cases, so the
    /// operation begins again from SELECT; every operation is written so that a restart is
    /// safe.
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
    /// Transactions nest ([`Channel::begin_transaction`]): one opened inside another keeps the
    /// card locked until the outermost ends.
    pub fn transaction<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        self.channel.begin_transaction()?;
        let result = f(self);
        let end = self.channel.end_transaction();
        match (result, end) {
            (Ok(r), Ok(())) => Ok(r),
            (Ok(_), Err(e)) => Err(e.into()),
            (Err(e), _) => Err(e),
        }
    }
}

/// The item with record tag `tag` on a card of `generation`.
pub(crate) fn item(generation: Generation, tag: u8) -> Result<&'static ElementSpec> {
    profile::element(generation, tag).ok_or_else(|| Error::MalformedResponse {
        command: "profile",
        reason: format!("no data item {tag:02X} on a {generation} card"),
    })
}

/// Whether an error means "the card lost its state under us; starting over can succeed".
/// The same holds for a PSAM reached through PC/SC: its transport reconnects on the second try.
fn restartable(e: &Error) -> bool {
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
    if bytes.iter().all(|&b| b == 0 || b == 0xFF) {
        return Err(Error::Blank("no card identification code"));
    }
    Ok(CardIdentificationCode::from_bytes(bytes)?)
}

/// The command name of a READ RECORD of `ef`, for errors.
pub(crate) fn read_name(ef: Ef) -> &'static str {
    match ef {
        Ef::Ef05 => "READ RECORD EF05",
        Ef::Ef06 => "READ RECORD EF06",
        Ef::Ef07 => "READ BINARY EF07",
        Ef::Ef08 => "READ BINARY EF08",
    }
}

fn select_name(ef: Ef) -> &'static str {
    match ef {
        Ef::Ef05 => "SELECT EF05",
        Ef::Ef06 => "SELECT EF06",
        Ef::Ef07 => "SELECT EF07",
        Ef::Ef08 => "SELECT EF08",
    }
}

/// Maps a status word to the error a terminal operator understands: `9303` is the permanently
/// blocked application whatever the command (part 7 §13.2).
pub(crate) fn status_error(what: &'static str, sw: StatusWord) -> Error {
    match sw {
        StatusWord::PermanentlyBlocked => Error::ApplicationBlocked,
        sw => Error::Card { command: what, sw },
    }
}
