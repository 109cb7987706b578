//! The interface's functions in safe Rust: each takes the call's state and configuration and
//! the already decoded parameters, talks to the card (and the PSAM), and returns the text for
//! `pOutInfo` or a [`Failure`]. `exports.rs` only moves bytes across the C boundary.
//!
//! The card is opened and powered down within each call (reader interface §6.3), except
//! between the steps of an HSM function: step one leaves the card powered with the card's
//! challenges in it, and the last step (or any failure) closes it.

use sscard_core::apdu::commands::{CLA_ISO, CLA_PROPRIETARY};
use sscard_core::apdu::{instruction, StatusWord};
use sscard_core::codec;
use sscard_core::crypto::Pin;
use sscard_core::fileaddr::{FileAddress, FileData};
use sscard_core::keyholder::HsmRequest;
use sscard_core::lifecycle::account::{self, PurchaseRequest};
use sscard_core::lifecycle::areas::{self, AreaAccess, AreaHsmStep, ReadAuth};
use sscard_core::lifecycle::hsm::{self, BasicReadStep, PinMaintenance, PinStep};
use sscard_core::lifecycle::{self, ReadOptions};
use sscard_core::profile::areas::{AreaProfile, FileId, FileSpec, ReadRule};
use sscard_core::profile::{self, Generation};
use sscard_pcsc::pinpad::{self, ModifyPin, PinFormat, PinPadOutcome, VerifyPin};

use crate::codes::{
    status_code, wrong_pin, Failure, DATA_MISMATCH, HSM_NOT_NEEDED, NOT_CONNECTED, PIN_CANCELLED,
    PIN_LENGTH, PIN_MISMATCH, PIN_TIMEOUT,
};
use crate::config::{Config, PinSource, CONFIG_ERROR};
use crate::device::{self, OpenCard};
use crate::pin::{self, Prompt, Registered};
use crate::text::{self, BasicReadKey, CardInfo, CardType, PayInfo};

/// The terminal number of `iReadCardBas_HSM_Step2` without a PSAM: 12 zeros, "6 个 0x00 对应的
/// 字符" (§1.3.2).
pub const NO_TERMINAL_NUMBER: &str = "000000000000";

/// A card between the steps of an HSM function.
enum Pending {
    /// After `iReadCardBas_HSM_Step1`.
    ReadBasic(OpenCard, BasicReadStep),
    /// After step one of a PIN reload or unblock: external authentication with PUK is next.
    PinAuthentication(OpenCard, PinStep, PinMaintenance),
    /// After step two: the secured command is next.
    PinCommand(OpenCard, PinStep, PinMaintenance),
    /// After `iReadCard_HSM_Step1`.
    ReadArea(OpenCard, AreaHsmStep),
    /// After `iWriteCard_HSM_Step1`.
    WriteArea(OpenCard, AreaHsmStep),
    /// After `iDoDebit_HSM_Step1`: the card initialized for the purchase.
    Debit(OpenCard, Box<account::HsmPurchaseStep>),
}

impl Pending {
    fn close(self) {
        match self {
            Pending::ReadBasic(card, _)
            | Pending::PinAuthentication(card, _, _)
            | Pending::PinCommand(card, _, _)
            | Pending::ReadArea(card, _)
            | Pending::WriteArea(card, _)
            | Pending::Debit(card, _) => device::close_card(card),
        }
    }
}

/// What lives between calls: the card of an unfinished HSM function and the PIN callback.
pub struct State {
    pending: Option<Pending>,
    /// The callback registered with `iSetPinCallback`.
    pub callback: Option<Registered>,
}

impl State {
    /// Nothing pending, no callback.
    pub const fn new() -> State {
        State {
            pending: None,
            callback: None,
        }
    }

    /// Ends an unfinished HSM function (a new function starts over), powering its card down.
    pub fn abandon(&mut self) {
        if let Some(p) = self.pending.take() {
            p.close();
        }
    }

    /// The end of a step one or two: when `step` succeeded, `card` stays powered for the next
    /// step (`pending`) and the answer is the step's request `line`; otherwise it is powered
    /// down.
    fn hold<S>(
        &mut self,
        card: OpenCard,
        step: Result<S, Failure>,
        line: impl FnOnce(&S) -> String,
        pending: impl FnOnce(OpenCard, S) -> Pending,
    ) -> Result<String, Failure> {
        match step {
            Ok(step) => {
                let answer = line(&step);
                self.pending = Some(pending(card, step));
                Ok(answer)
            }
            Err(e) => {
                device::close_card(card);
                Err(e)
            }
        }
    }

    /// The start of a step two or three: what `previous` (the function that must come first)
    /// left, as `take` recognises it; anything else is powered down and the call refused.
    fn resume<S>(
        &mut self,
        previous: &str,
        take: impl FnOnce(Pending) -> Result<S, Box<Pending>>,
    ) -> Result<S, Failure> {
        match self.pending.take().map(take) {
            Some(Ok(step)) => Ok(step),
            Some(Err(other)) => {
                other.close();
                Err(no_step(previous))
            }
            None => Err(no_step(previous)),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// Runs `f` on `card`, then powers it down whatever happened.
fn with_card<R>(
    mut card: OpenCard,
    f: impl FnOnce(&mut OpenCard) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let result = f(&mut card);
    device::close_card(card);
    result
}

/// Runs `f` with the PSAM, then powers the PSAM down whatever happened.
fn with_psam<R>(
    config: &Config,
    f: impl FnOnce(&mut device::OpenPsam) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let mut psam = device::open_psam(config)?;
    let result = f(&mut psam);
    device::close_psam(psam);
    result
}

/// The card number as the card holds it (EF05 `07`, its first 9 characters, §10.4).
fn card_number_on(card: &mut OpenCard) -> Result<String, Failure> {
    let spec = profile::element(Generation::V1, profile::tag::CARD_NUMBER).ok_or_else(|| {
        Failure::new(crate::codes::UNKNOWN, "the profile has no card number item")
    })?;
    let value = card
        .read_item(spec)?
        .ok_or_else(|| Failure::from(sscard_core::Error::PersonalizationIncomplete))?;
    let text = codec::decode_an(spec.field, &value).map_err(sscard_core::Error::from)?;
    Ok(text.chars().take(9).collect())
}

/// Step (5) of §2.1.3 and the PIN functions: the card identification code and card number read
/// from the card must be `pCardInfo`'s (`-22` otherwise).
fn check_card(card: &mut OpenCard, info: &CardInfo) -> Result<(), Failure> {
    card.application()?;
    let id = card.card_id()?;
    let number = card_number_on(card)?;
    if id != info.card_id || number != info.card_number.as_str() {
        return Err(Failure::new(
            DATA_MISMATCH,
            format!(
                "pCardInfo names {}|{}|, the card is {id}|{number}|",
                info.card_id, info.card_number
            ),
        ));
    }
    Ok(())
}

/// `iReadCardBas` (§1.1): internal authentication through the PSAM (and RKSSSE for 3.0 cards),
/// then the basic information line with the PSAM's terminal number.
pub fn read_card_bas(state: &mut State, config: &Config, itype: i32) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let card = device::open_card(config, card_type)?;
    with_card(card, |card| {
        let data = with_psam(config, |psam| {
            Ok(lifecycle::read_verified(
                card,
                psam,
                &ReadOptions::default(),
            )?)
        })?;
        Ok(with_device_number(
            &data.basic_line(),
            &config.device_number,
        ))
    })
}

/// The library's line ends `…|terminal number||` (no device number): put `device` in.
fn with_device_number(line: &str, device: &str) -> String {
    match line.strip_suffix('|') {
        Some(head) => format!("{head}{device}|"),
        None => line.to_owned(),
    }
}

/// `iReadCardBas_HSM_Step1` (§1.2): the card's authentication data for the HSM.
pub fn read_card_bas_step1(
    state: &mut State,
    config: &Config,
    itype: i32,
) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let mut card = device::open_card(config, card_type)?;
    let step = hsm::read_basic_step1(&mut card).map_err(Failure::from);
    state.hold(
        card,
        step,
        |step| step.request.to_interface_line().unwrap_or_default(),
        Pending::ReadBasic,
    )
}

/// The PSAM's terminal number if a PSAM is there, else 12 zeros (§1.3.2).
fn terminal_number(config: &Config) -> String {
    if config.psam_reader.is_none() {
        return NO_TERMINAL_NUMBER.to_owned();
    }
    match device::open_psam(config) {
        Ok(mut psam) => {
            use sscard_core::keyholder::KeyHolder;
            let number = psam.terminal_number().ok().flatten();
            device::close_psam(psam);
            number.unwrap_or_else(|| NO_TERMINAL_NUMBER.to_owned())
        }
        Err(_) => NO_TERMINAL_NUMBER.to_owned(),
    }
}

fn no_step(what: &str) -> Failure {
    Failure::new(
        NOT_CONNECTED,
        format!("call {what} first (and without another interface function in between)"),
    )
}

/// `iReadCardBas_HSM_Step2` (§1.3): the HSM's answers authenticate, then the basic line.
pub fn read_card_bas_step2(
    state: &mut State,
    config: &Config,
    key: &str,
) -> Result<String, Failure> {
    let (card, step) = state.resume("iReadCardBas_HSM_Step1", |p| match p {
        Pending::ReadBasic(card, step) => Ok((card, step)),
        other => Err(Box::new(other)),
    })?;
    with_card(card, |card| {
        let key = BasicReadKey::parse(key)?;
        let needs_external = matches!(
            step.request,
            HsmRequest::CardAuthentication {
                external: Some(_),
                ..
            }
        );
        if needs_external && key.external.is_none() {
            return Err(Failure::parameter(
                "this 3.0 card needs the external authentication result (RKSSSE) too: pKey = 内部认证结果|外部认证结果|",
            ));
        }
        let info = hsm::read_basic_step2(card, &step, &key.to_line())?;
        Ok(info.line(&terminal_number(config), &config.device_number))
    })
}

/// The SW of a PIN pad's answer as the interface's result.
fn pinpad_result(answer: &[u8]) -> Result<(), Failure> {
    let sw = match answer {
        [.., a, b] => [*a, *b],
        _ => {
            return Err(Failure::new(
                crate::codes::CARD_NO_ANSWER,
                "the PIN pad answered without a status word",
            ))
        }
    };
    if let Some(outcome) = PinPadOutcome::of(sw) {
        return Err(match outcome {
            PinPadOutcome::Timeout => Failure::new(PIN_TIMEOUT, "on the PIN pad"),
            PinPadOutcome::Cancelled => Failure::new(PIN_CANCELLED, "on the PIN pad"),
            PinPadOutcome::Mismatch => Failure::new(PIN_MISMATCH, "on the PIN pad"),
            PinPadOutcome::WrongLength => Failure::new(PIN_LENGTH, "on the PIN pad"),
        });
    }
    match StatusWord::from_bytes(sw[0], sw[1]) {
        StatusWord::Ok => Ok(()),
        StatusWord::VerificationFailed { tries_left: 0 } | StatusWord::AuthMethodBlocked => {
            Err(Failure::from(sscard_core::Error::PinBlocked))
        }
        StatusWord::VerificationFailed { tries_left } => Err(wrong_pin(tries_left)),
        sw => Err(Failure::new(
            status_code(sw),
            format!(
                "the card answered {:02X}{:02X}",
                sw.to_bytes()[0],
                sw.to_bytes()[1]
            ),
        )),
    }
}

/// The control code of the PIN pad's `feature` (`verify_direct` or `modify_direct`) when the
/// configuration lets the PIN pad serve and the reader offers it; `None`: the PIN comes from
/// the configured source. `pin_source = pinpad` without the feature is a configuration error.
fn pinpad_code(
    config: &Config,
    card: &mut OpenCard,
    feature: impl FnOnce(&pinpad::PinPadFeatures) -> Option<u32>,
) -> Result<Option<u32>, Failure> {
    if !matches!(config.pin_source, PinSource::Auto | PinSource::PinPad) {
        return Ok(None);
    }
    let features =
        pinpad::features(card.raw().transport_mut()).map_err(sscard_core::Error::from)?;
    match feature(&features) {
        Some(code) => Ok(Some(code)),
        None if config.pin_source == PinSource::PinPad => Err(no_pinpad()),
        None => Ok(None),
    }
}

/// Hands `structure` (a PIN_VERIFY or PIN_MODIFY structure) to the PIN pad under control code
/// `code`; the card's answer as the interface's result.
fn pinpad_command(card: &mut OpenCard, code: u32, structure: &[u8]) -> Result<(), Failure> {
    let answer = pinpad::control(card.raw().transport_mut(), code, structure)
        .map_err(sscard_core::Error::from)?;
    pinpad_result(&answer)
}

fn pinpad_format(config: &Config) -> (PinFormat, u8) {
    let digits = config.pinpad_pin_length;
    let block = digits.div_ceil(2);
    (
        PinFormat {
            offset: 0,
            bcd: true,
            block_size: block,
            min_digits: digits,
            max_digits: digits,
        },
        block,
    )
}

fn no_pinpad() -> Failure {
    Failure::new(
        CONFIG_ERROR,
        "pin_source = pinpad, but the card's reader offers no secure PIN entry (FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT)",
    )
}

/// `iVerifyPIN` (§4.1): VERIFY with the holder's PIN (`-51` with the tries left, `-52` blocked).
pub fn verify_pin(state: &mut State, config: &Config, itype: i32) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let callback = state.callback;
    let card = device::open_card(config, card_type)?;
    with_card(card, |card| {
        verify_holder(config, callback, card)?;
        Ok(String::new())
    })
}

/// `iChangePIN` (§5.1): the current PIN, the new PIN twice (`-34` when they differ), CHANGE PIN.
pub fn change_pin(state: &mut State, config: &Config, itype: i32) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let callback = state.callback;
    let card = device::open_card(config, card_type)?;
    with_card(card, |card| {
        card.application()?;
        if let Some(code) = pinpad_code(config, card, |f| f.modify_direct)? {
            let (format, block) = pinpad_format(config);
            // part 5 §6.3: 805E 0100 Lc <current PIN> FF <new PIN>
            let mut apdu = vec![
                CLA_PROPRIETARY,
                instruction::CHANGE_PIN,
                0x01,
                0x00,
                2 * block + 1,
            ];
            apdu.extend(std::iter::repeat_n(0xFF, usize::from(2 * block + 1)));
            let structure = ModifyPin {
                timeout: config.pin_timeout,
                format,
                new_offset: block + 1,
                apdu,
            };
            return pinpad_command(card, code, &structure.to_bytes()).map(|()| String::new());
        }
        let old = pin::ask(config, callback, Prompt::OldPin)?;
        let new = pin::ask_new(config, callback)?;
        lifecycle::change_pin(card, &old, &new)?;
        Ok(String::new())
    })
}

/// `iReloadPIN` (§6.1) and `iUnblockPIN` (§7.1) with the PSAM.
pub fn maintain_pin(
    state: &mut State,
    config: &Config,
    itype: i32,
    card_info: &str,
    kind: PinMaintenance,
) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let info = CardInfo::parse(card_info)?;
    let callback = state.callback;
    let card = device::open_card(config, card_type)?;
    with_card(card, |card| {
        with_psam(config, |psam| {
            check_card(card, &info)?;
            match kind {
                PinMaintenance::Reload => {
                    let new = pin::ask_new(config, callback)?;
                    lifecycle::reload_pin(card, psam, &new)?;
                }
                PinMaintenance::Unblock => lifecycle::unblock_pin(card, psam)?,
            }
            Ok(String::new())
        })
    })
}

fn step_name(kind: PinMaintenance, step: u8) -> String {
    match kind {
        PinMaintenance::Reload => format!("iReloadPIN_HSM_Step{step}"),
        PinMaintenance::Unblock => format!("iUnblockPIN_HSM_Step{step}"),
    }
}

/// Step one of the HSM PIN reload / unblock (§6.2, §7.2): the external authentication request
/// with PUK (`算法标识|0090|过程因子|原始信息|`).
pub fn pin_step1(
    state: &mut State,
    config: &Config,
    itype: i32,
    card_info: &str,
    kind: PinMaintenance,
) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let info = CardInfo::parse(card_info)?;
    let mut card = device::open_card(config, card_type)?;
    let step = hsm::pin_step1(&mut card, kind, Some((&info.card_id, &info.card_number)))
        .map_err(Failure::from);
    state.hold(
        card,
        step,
        |step| step.request.to_line(),
        |card, step| Pending::PinAuthentication(card, step, kind),
    )
}

/// Step two (§6.3, §7.3): EXTERNAL AUTHENTICATION with the HSM's answer; for a reload the new
/// PIN (twice); the secure messaging request under STKSSSE
/// (`算法标识|0173|过程因子|命令头|明文|`).
pub fn pin_step2(
    state: &mut State,
    config: &Config,
    key: &str,
    kind: PinMaintenance,
) -> Result<String, Failure> {
    let (mut card, step) = state.resume(&step_name(kind, 1), |p| match p {
        Pending::PinAuthentication(card, step, k) if k == kind => Ok((card, step)),
        other => Err(Box::new(other)),
    })?;
    let result = (|| {
        let key = text::authentication_key(key)?;
        let new: Option<Pin> = match kind {
            PinMaintenance::Reload => Some(pin::ask_new(config, state.callback)?),
            PinMaintenance::Unblock => None,
        };
        Ok(hsm::pin_step2(&mut card, &step, &key, new.as_ref())?)
    })();
    state.hold(
        card,
        result,
        |next| next.request.to_line(),
        |card, next| Pending::PinCommand(card, next, kind),
    )
}

/// Step three (§6.4, §7.4): the secured command with the HSM's enciphered data and MAC.
pub fn pin_step3(state: &mut State, key: &str, kind: PinMaintenance) -> Result<String, Failure> {
    let (card, step) = state.resume(&step_name(kind, 2), |p| match p {
        Pending::PinCommand(card, step, k) if k == kind => Ok((card, step)),
        other => Err(Box::new(other)),
    })?;
    with_card(card, |card| {
        let sizes: &[usize] = match kind {
            PinMaintenance::Reload => &[8, 16],
            PinMaintenance::Unblock => &[0],
        };
        let key = text::secure_messaging_key(key, sizes)?;
        hsm::pin_step3(card, &step, &key)?;
        Ok(String::new())
    })
}

fn parse_address(text: &str) -> Result<FileAddress, Failure> {
    FileAddress::parse(text.trim()).map_err(|e| Failure::parameter(format!("pFileAddr: {e}")))
}

fn parse_data(text: &str) -> Result<FileData, Failure> {
    FileData::parse(text.trim()).map_err(|e| Failure::parameter(format!("pWriteData: {e}")))
}

/// The files `address` names, checked against the national file structure (`-14` for a file
/// or item the structure does not have).
fn resolve<'p>(
    address: &FileAddress,
    profile: &'p AreaProfile,
) -> Result<Vec<&'p FileSpec>, Failure> {
    Ok(address
        .resolve(profile)
        .map_err(|e| Failure::parameter(format!("pFileAddr: {e}")))?
        .into_iter()
        .map(|r| r.file)
        .collect())
}

/// `iReadCard` (§2.1): `pCardInfo` checked against the card, then what `pFileAddr` names, with
/// the authentication each file's read rule asks (§2.1.3 (6)): none, the holder's PIN (from the
/// configured source), EXTERNAL AUTHENTICATION with the file's RK through the PSAM, either for
/// "PIN or RK" files as `iAuthType` says (1 PIN, 2 RK), both for "PIN & RK" files. `pOutInfo`
/// is in `pFileAddr`'s shape (`DF01EF0A|CHN|$`).
pub fn read_card(
    state: &mut State,
    config: &Config,
    itype: i32,
    auth_type: i32,
    card_info: &str,
    file_address: &str,
) -> Result<String, Failure> {
    let card_type = CardType::from_itype(itype)?;
    let info = CardInfo::parse(card_info)?;
    let address = parse_address(file_address)?;
    let profile = AreaProfile::national();
    let files = resolve(&address, &profile)?;
    let callback = state.callback;
    let card = device::open_card(config, card_type)?;
    with_card(card, |card| {
        check_card(card, &info)?;
        let generation = card.generation()?.unwrap_or(Generation::V2);
        let by_key = auth_type == 2;
        let rules: Vec<ReadRule> = files.iter().map(|f| f.read_rule(generation)).collect();
        let needs_pin = rules.iter().any(|r| match r {
            ReadRule::Pin | ReadRule::PinAndKey(_) => true,
            ReadRule::PinOrKey(_) => !by_key,
            _ => false,
        });
        let needs_key = rules.iter().any(|r| match r {
            ReadRule::Key(_) | ReadRule::PinAndKey(_) => true,
            ReadRule::PinOrKey(_) => by_key,
            _ => false,
        });
        let mut psam = match needs_key {
            true => Some(device::open_psam(config)?),
            false => None,
        };
        let result = (|| {
            let pin = match needs_pin {
                true => Some(pin::ask(config, callback, Prompt::Pin)?),
                false => None,
            };
            let mut access =
                AreaAccess::new().prefer(if by_key { ReadAuth::Key } else { ReadAuth::Pin });
            if let Some(p) = &pin {
                access = access.with_pin(p);
            }
            if let Some(k) = psam.as_mut() {
                access = access.with_key_holder(k);
            }
            let data = areas::read_address(card, &mut access, &address)?;
            Ok(data.to_string())
        })();
        if let Some(p) = psam {
            device::close_psam(p);
        }
        result
    })
}

/// `iWriteCard` (§3.1): `pCardInfo` checked, then `pWriteData` written where `pFileAddr` says
/// with each file's update key through the PSAM (§3.1.3 (6)); every value is checked against
/// the V2.0 notice's tables before the first write, a file only the card OS writes is refused.
pub fn write_card(
    config: &Config,
    itype: i32,
    card_info: &str,
    file_address: &str,
    write_data: &str,
) -> Result<String, Failure> {
    let card_type = CardType::from_itype(itype)?;
    let info = CardInfo::parse(card_info)?;
    let address = parse_address(file_address)?;
    let data = parse_data(write_data)?;
    same_shape(&address, &data)?;
    let profile = AreaProfile::national();
    resolve(&address, &profile)?;
    let card = device::open_card(config, card_type)?;
    with_card(card, |card| {
        check_card(card, &info)?;
        with_psam(config, |psam| {
            let mut access = AreaAccess::new().with_key_holder(psam);
            areas::write_address(card, &mut access, &address, &data)?;
            Ok(String::new())
        })
    })
}

/// `iReadCard_HSM_Step1` (§2.2.3): `pCardInfo` checked, then for the first file of
/// `pFileAddr` (§2.2.2 (3)) the card's two challenges for the HSM; the PIN first for a file
/// read with the PIN and a key. A file free to read or read with the PIN alone is `-2204`
/// (the note of §2.2.3: call `iReadCard`). The card stays powered for step two.
pub fn read_card_hsm_step1(
    state: &mut State,
    config: &Config,
    itype: i32,
    card_info: &str,
    file_address: &str,
) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let info = CardInfo::parse(card_info)?;
    let address = parse_address(file_address)?;
    let profile = AreaProfile::national();
    let first = resolve(&address, &profile)?
        .into_iter()
        .next()
        .ok_or_else(|| Failure::parameter("pFileAddr names no file"))?;
    let callback = state.callback;
    let mut card = device::open_card(config, card_type)?;
    let step = (|| {
        check_card(&mut card, &info)?;
        let generation = card.generation()?.unwrap_or(Generation::V2);
        let rule = first.read_rule(generation);
        let pin = match rule {
            ReadRule::Free | ReadRule::Pin => {
                return Err(Failure::new(
                    HSM_NOT_NEEDED,
                    "the file is free to read or read with the PIN: call iReadCard",
                ))
            }
            ReadRule::PinAndKey(_) => Some(pin::ask(config, callback, Prompt::Pin)?),
            _ => None,
        };
        let mut access = AreaAccess::new();
        if let Some(p) = &pin {
            access = access.with_pin(p);
        }
        Ok(areas::hsm_step1(&mut card, &mut access, &address, None)?)
    })();
    state.hold(card, step, |step| step.request.clone(), Pending::ReadArea)
}

/// `iReadCard_HSM_Step2` (§2.3): EXTERNAL AUTHENTICATION with the HSM's answer (`pKey`:
/// authentication data ‖ original data, 32 hex digits), then the items step one's address
/// named, in its syntax (§2.3.2 (2)); the card is powered down in every case.
pub fn read_card_hsm_step2(state: &mut State, key: &str) -> Result<String, Failure> {
    let (card, step) = state.resume("iReadCard_HSM_Step1", |p| match p {
        Pending::ReadArea(card, step) => Ok((card, step)),
        other => Err(Box::new(other)),
    })?;
    with_card(card, |card| {
        let data = areas::hsm_read_step2(card, &step, key.trim())?;
        Ok(data.to_string())
    })
}

/// `iWriteCard_HSM_Step1` (§3.2.3): `pCardInfo` checked, the first file of `pFileAddr` must be
/// writable with a key (a file only the card OS writes is refused, §3.2.3 (6)), then the
/// card's two challenges for the HSM. The card stays powered for step two.
pub fn write_card_hsm_step1(
    state: &mut State,
    config: &Config,
    itype: i32,
    card_info: &str,
    file_address: &str,
) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let info = CardInfo::parse(card_info)?;
    let address = parse_address(file_address)?;
    let profile = AreaProfile::national();
    resolve(&address, &profile)?;
    let mut card = device::open_card(config, card_type)?;
    let step = (|| {
        check_card(&mut card, &info)?;
        Ok(areas::hsm_write_step1(
            &mut card,
            &mut AreaAccess::new(),
            &address,
        )?)
    })();
    state.hold(card, step, |step| step.request.clone(), Pending::WriteArea)
}

/// `iWriteCard_HSM_Step2` (§3.3): `pWriteData` (in the shape of step one's address, its first
/// file) checked against the file's items before anything reaches the card, then EXTERNAL
/// AUTHENTICATION with the HSM's answer and the writes; the card is powered down in every
/// case.
pub fn write_card_hsm_step2(
    state: &mut State,
    key: &str,
    write_data: &str,
) -> Result<String, Failure> {
    let (card, mut step) = state.resume("iWriteCard_HSM_Step1", |p| match p {
        Pending::WriteArea(card, step) => Ok((card, step)),
        other => Err(Box::new(other)),
    })?;
    with_card(card, |card| {
        let data = parse_data(write_data)?;
        let data = first_file_only(&data);
        step.set_values(&data)?;
        areas::hsm_write_step2(card, &mut AreaAccess::new(), &step, key.trim())?;
        Ok(String::new())
    })
}

/// §3.2.2 (3): the HSM functions work on the first file; a `pWriteData` that repeats the whole
/// address keeps its first file's values.
fn first_file_only(data: &FileData) -> FileData {
    let mut first = FileData::new();
    if let Some((file, values)) = data.files().next() {
        first.push(file, values.to_vec());
    }
    first
}

/// §3.1.2 (4): `pWriteData` has `pFileAddr`'s shape, the same files in the same order and one
/// value per item named (a file named without items takes its values as they are).
fn same_shape(address: &FileAddress, data: &FileData) -> Result<(), Failure> {
    // an address prints in the syntax data parses: its items become the "values"
    let items = FileData::parse(&address.to_string())
        .map_err(|e| Failure::parameter(format!("pFileAddr: {e}")))?;
    let wanted: Vec<(FileId, usize)> = items.files().map(|(f, t)| (f, t.len())).collect();
    let given: Vec<(FileId, usize)> = data.files().map(|(f, v)| (f, v.len())).collect();
    let files_match = wanted.len() == given.len()
        && wanted
            .iter()
            .zip(&given)
            .all(|((wf, wn), (gf, gn))| wf == gf && (*wn == 0 || wn == gn));
    if files_match {
        Ok(())
    } else {
        Err(Failure::parameter(format!(
            "pWriteData {data} does not have the shape of pFileAddr {address} (§3.1.2 (4))"
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// the medical account (§8-9): iDoDebit, iDoDebit_HSM_Step1/2, iReadDebitRecord

/// The key group of the HSM addresses (group 1, \[design\] D3).
const KEY_GROUP: u8 = 1;

/// An account error as appendix A has it: the card's status word negated where there is one
/// (`9401` insufficient balance, `9402`, `9403` = -37891, `9302` = -37634, `6901`, `6982`,
/// `6985` 余额上溢, `6A81` no account), a card whose MAC1 is wrong -21, another card -22, input
/// the card cannot take -23, a lost answer -4 (\[design\] D27, D36).
fn account_failure(e: sscard_core::Error) -> Failure {
    use sscard_core::account::AccountError as A;
    let sw = |sw: u16| status_code(StatusWord::from(sw));
    let code = match &e {
        sscard_core::Error::Account(a) => match a {
            A::InsufficientBalance { .. } => sw(0x9401),
            A::CounterAtMaximum(_) => sw(0x9402),
            A::KeyIndex(_) => sw(0x9403),
            A::Mac1Refused | A::Mac2Refused => sw(0x9302),
            A::NotAccepted(_) => sw(0x6901),
            A::PinRequired => sw(0x6982),
            A::BalanceLimit { .. } => sw(0x6985),
            A::NoAccount(_) | A::UnknownMode(_) => sw(0x6A81),
            A::CardMac1Invalid => crate::codes::NOT_GENUINE,
            A::OtherCard(_) => DATA_MISMATCH,
            A::Interrupted { .. } => crate::codes::CARD_NO_ANSWER,
            _ => crate::codes::BAD_DATA,
        },
        _ => return Failure::from(e),
    };
    Failure::new(code, e.to_string())
}

/// `iVerifyPIN` (§4.1) and step (6) of §8.1.3 / §9.1.3 (4): the holder's PIN, on the reader's
/// PIN pad when it has one (and the configuration lets it), else from the configured source;
/// VERIFY (it holds until the card is powered down).
fn verify_holder(
    config: &Config,
    callback: Option<Registered>,
    card: &mut OpenCard,
) -> Result<(), Failure> {
    card.application()?;
    if let Some(code) = pinpad_code(config, card, |f| f.verify_direct)? {
        let (format, block) = pinpad_format(config);
        let mut apdu = vec![CLA_ISO, instruction::VERIFY, 0x00, 0x00, block];
        apdu.extend(std::iter::repeat_n(0xFF, usize::from(block)));
        let structure = VerifyPin {
            timeout: config.pin_timeout,
            format,
            apdu,
        };
        return pinpad_command(card, code, &structure.to_bytes());
    }
    let pin = pin::ask(config, callback, Prompt::Pin)?;
    lifecycle::verify_pin(card, &pin)?;
    Ok(())
}

/// `pPayInfo` as the card's purchase (\[design\] D36): 本次消费总金额 and 个人账户交易金额和统筹基金
/// 支付金额相加的总金额 become the card's last two amounts (self-pay ‖ pooled), the account
/// amount 0 — the interface's HSM line and answers carry those two only (§8.2.2 (4)).
fn purchase_of(pay: &PayInfo) -> Result<PurchaseRequest<'static>, Failure> {
    use sscard_core::account::{Fen, PurchaseAmounts, TransactionTime};
    let time = TransactionTime::parse(&pay.time)
        .map_err(|e| Failure::new(crate::codes::BAD_DATA, format!("pPayInfo 交易时间: {e}")))?;
    let amounts = PurchaseAmounts {
        account: Fen::ZERO,
        self_pay: Fen(pay.total),
        pooled: Fen(pay.account_and_fund),
    };
    if amounts.is_zero() {
        return Err(Failure::new(
            crate::codes::BAD_DATA,
            "pPayInfo: both amounts are 0.00",
        ));
    }
    Ok(PurchaseRequest::new(amounts, time))
}

/// `iDoDebit` (§8.1.3): the card checked against `pCardInfo`, the holder's PIN, INITIALIZE FOR
/// PURCHASE, MAC1 from the PSAM (INIT SAM FOR PURCHASE), DEBIT FOR PURCHASE, MAC2 checked by
/// the PSAM (CREDIT SAM FOR PURCHASE); `pOutInfo` = 算法标识|密钥地址|交易金额|交易类型|终端机编号|
/// 终端交易序号|交易时间|TAC| (§8.1.2 (4)). A lost DEBIT answer is recovered with GET TRANSACTION
/// PROOF while the card is in the reader (part 7 §14).
pub fn do_debit(
    state: &mut State,
    config: &Config,
    itype: i32,
    card_info: &str,
    pay_info: &str,
) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let info = CardInfo::parse(card_info)?;
    let request = purchase_of(&PayInfo::parse(pay_info)?)?;
    let callback = state.callback;
    let card = device::open_card(config, card_type)?;
    with_card(card, |card| {
        with_psam(config, |psam| {
            check_card(card, &info)?;
            verify_holder(config, callback, card)?;
            let receipt = account::purchase(card, psam, &request).map_err(account_failure)?;
            Ok(receipt.ri_debit_line(KEY_GROUP))
        })
    })
}

/// `iDoDebit_HSM_Step1` (§8.2.3): the card checked, the PIN, INITIALIZE FOR PURCHASE; the line
/// for the HSM (§8.2.2 (4): 算法标识|密钥地址|伪随机数|医疗消费交易序号|交易金额|交易类型|终端机编号|
/// 交易时间|, the terminal number 12 zeros without PSAM). The card stays powered for step two.
pub fn debit_step1(
    state: &mut State,
    config: &Config,
    itype: i32,
    card_info: &str,
    pay_info: &str,
) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let info = CardInfo::parse(card_info)?;
    let request = purchase_of(&PayInfo::parse(pay_info)?)?;
    let callback = state.callback;
    let mut card = device::open_card(config, card_type)?;
    let result = (|| {
        check_card(&mut card, &info)?;
        verify_holder(config, callback, &mut card)?;
        let terminal = sscard_core::account::TerminalNumber::NONE;
        account::hsm_purchase_step1(&mut card, &request, terminal, KEY_GROUP)
            .map_err(account_failure)
    })();
    state.hold(
        card,
        result,
        |step| step.line(),
        |card, step| Pending::Debit(card, Box::new(step)),
    )
}

/// `iDoDebit_HSM_Step2` (§8.3.3): the HSM's `pKey` (终端交易序号|交易时间|MAC1|), DEBIT FOR
/// PURCHASE; `pOutInfo` = MAC2|算法标识|密钥地址|交易金额|交易类型|终端机编号|终端交易序号|交易时间|
/// TAC| (§8.3.2 (2)). A malformed `pKey` is `-14` and sends nothing.
pub fn debit_step2(state: &mut State, key: &str) -> Result<String, Failure> {
    let (card, step) = state.resume("iDoDebit_HSM_Step1", |p| match p {
        Pending::Debit(card, step) => Ok((card, step)),
        other => Err(Box::new(other)),
    })?;
    with_card(card, |card| {
        let receipt =
            account::hsm_purchase_step2(card, *step, key.trim()).map_err(|e| match e {
                sscard_core::Error::KeyHolder(_) => Failure::parameter(format!("pKey: {e}")),
                e => account_failure(e),
            })?;
        Ok(receipt.ri_hsm_step2_line(KEY_GROUP))
    })
}

/// `iReadDebitRecord` (§9.1.3): the holder's PIN, the transaction records (DF04 EF08);
/// `pOutInfo` = per purchase 交易序号^终端机编号^交易时间^本次消费总金额^个人账户交易金额和统筹基金支付
/// 金额相加的总金额^, records ended by `|` (§9.1.2, newest first, \[design\] D36).
pub fn read_debit_record(
    state: &mut State,
    config: &Config,
    itype: i32,
) -> Result<String, Failure> {
    state.abandon();
    let card_type = CardType::from_itype(itype)?;
    let callback = state.callback;
    let card = device::open_card(config, card_type)?;
    with_card(card, |card| {
        verify_holder(config, callback, card)?;
        let (records, _) = account::records(card, None).map_err(account_failure)?;
        Ok(sscard_core::account::ri_debit_records(&records))
    })
}
