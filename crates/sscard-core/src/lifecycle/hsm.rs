//! The reader interface's HSM functions (基于加密机, reader interface §1.2-1.3, §6.2-6.4,
//! §7.2-7.4) as step-wise flows: each step talks to the card and returns the request the
//! calling program passes to its HSM; the next step takes the HSM's answer.
//!
//! The commands are the field trace's (`加密机方式指令流.txt`) byte for byte: SELECT without
//! Le, SELECT of the EF by file identifier, the current EF read by record identifier, two card
//! challenges per authentication (the original data first, then the process factor).

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::apdu::{commands, Command};
use crate::atr::historical_bytes;
use crate::crypto::Pin;
use crate::data::{
    BcdDate, CardIdentificationCode, CardNumber, Name, RegionCode, SocialSecurityNumber,
};
use crate::error::{Error, Result};
use crate::keyholder::{HsmRequest, HsmResponseError, KeyHolderError};
use crate::keys::KeyRole;
use crate::profile::{tag, Generation};
use crate::transport::Transport;

use super::card::{item, Addressing, Card};

/// What the basic read returns (reader interface §1.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicInfo {
    /// The card identification code (its first 6 digits are the issuing region).
    pub card_id: CardIdentificationCode,
    /// The social security number.
    pub ssn: SocialSecurityNumber,
    /// The card number (9 characters, §10.4).
    pub card_number: CardNumber,
    /// The name (09 ‖ 4E).
    pub name: Name,
    /// The ATR.
    pub atr: Vec<u8>,
    /// The spec version as on the card.
    pub spec_version: String,
    /// The issue date.
    pub issue_date: BcdDate,
    /// The expiry date.
    pub expiry_date: BcdDate,
}

impl BasicInfo {
    /// The issuing region.
    pub fn region(&self) -> RegionCode {
        self.card_id.region
    }

    /// The `iReadCardBas` line (§1.1.2) with this terminal number and device number.
    pub fn line(&self, terminal_number: &str, device_number: &str) -> String {
        let hist = historical_bytes(&self.atr)
            .map(hex::encode_upper)
            .unwrap_or_default();
        format!(
            "{}|{}|{}|{}|{}|{hist}|{}|{}|{}|{terminal_number}|{device_number}|",
            self.card_id.region,
            self.ssn,
            self.card_number,
            self.card_id,
            self.name,
            self.spec_version,
            self.issue_date,
            self.expiry_date
        )
    }
}

/// The state between the two steps of the basic read.
#[derive(Debug, Clone)]
pub struct BasicReadStep {
    /// The request for the HSM.
    pub request: HsmRequest,
    card_answer: [u8; 8],
    generation: Generation,
    card_id: CardIdentificationCode,
    card_number: CardNumber,
}

fn read_value<T: Transport>(card: &mut Card<T>, g: Generation, t: u8) -> Result<Vec<u8>> {
    let spec = item(g, t)?;
    card.read_item(spec)?
        .ok_or(Error::Blank("a data item is missing"))
}

fn an(g: Generation, t: u8, value: &[u8]) -> Result<String> {
    let spec = item(g, t)?;
    Ok(crate::codec::decode_an(spec.field, value)?)
}

/// Step one of the HSM basic read (`iReadCardBas_HSM_Step1`, §1.2.3): SELECT SSSE; the card
/// identification code, spec version and card number; SELECT SSSE again; two challenges and
/// INTERNAL AUTHENTICATION; for a 3.0 card two more challenges for EXTERNAL AUTHENTICATION with
/// RKSSSE. The card's randoms serve as the terminal's (\[design\] D17, as the trace does).
pub fn read_basic_step1<T: Transport>(card: &mut Card<T>) -> Result<BasicReadStep> {
    card.addressing = Addressing::SelectEf;
    card.forget();
    let app = card.select()?;
    let g1 = Generation::V1;
    let card_id = card.card_id()?;
    let generation = card
        .generation()?
        .ok_or(Error::Blank("no spec version (EF05 03)"))?;
    let number = read_value(card, g1, tag::CARD_NUMBER)?;
    let card_number = CardNumber::from_card(&an(g1, tag::CARD_NUMBER, &number)?)?;
    card.select()?;
    let ia_original = card.challenge()?;
    let ia_factor = card.challenge()?;
    let card_answer = card.send_internal_authenticate(ia_factor, ia_original)?;
    let external = if generation.needs_read_key() {
        let original = card.challenge()?;
        let factor = card.challenge()?;
        Some((factor, original))
    } else {
        None
    };
    let request = HsmRequest::CardAuthentication {
        atr: card.atr().to_vec(),
        algorithm: app.algorithm,
        card_id,
        internal: (ia_factor, ia_original),
        external,
        terminal_code: [0; 16],
    };
    Ok(BasicReadStep {
        request,
        card_answer,
        generation,
        card_id,
        card_number,
    })
}

/// Step two of the HSM basic read (`iReadCardBas_HSM_Step2`, §1.3.3): compares the card's
/// INTERNAL AUTHENTICATION answer with the HSM's, sends EXTERNAL AUTHENTICATION with the HSM's
/// data (3.0), then reads EF05 03, 05, 06 and EF06 08, 09, 4E.
pub fn read_basic_step2<T: Transport>(
    card: &mut Card<T>,
    step: &BasicReadStep,
    hsm_answer: &str,
) -> Result<BasicInfo> {
    let (expected, ea) = step
        .request
        .parse_card_authentication(hsm_answer)
        .map_err(KeyHolderError::from)?;
    if !bool::from(step.card_answer.ct_eq(&expected)) {
        return Err(Error::NotGenuine);
    }
    if let (
        Some(auth),
        HsmRequest::CardAuthentication {
            external: Some((_, original)),
            ..
        },
    ) = (ea, &step.request)
    {
        let key_id = KeyRole::Rkssse.card_key_id().unwrap_or(0x0A);
        card.send_external_authenticate(KeyRole::Rkssse, key_id, auth, *original)?;
    }
    let g = step.generation;
    let version = read_value(card, g, tag::SPEC_VERSION)?;
    let issue = read_value(card, g, tag::ISSUE_DATE)?;
    let expiry = read_value(card, g, tag::EXPIRY_DATE)?;
    let ssn = read_value(card, g, tag::SSN)?;
    let name = read_value(card, g, tag::NAME)?;
    let extension = if g.has_name_extension() {
        card.read_item(item(g, tag::NAME_EXTENSION)?)?
    } else {
        None
    };
    Ok(BasicInfo {
        card_id: step.card_id,
        ssn: SocialSecurityNumber::parse(&an(g, tag::SSN, &ssn)?)?,
        card_number: step.card_number.clone(),
        name: Name::from_parts(&name, extension.as_deref())?,
        atr: card.atr().to_vec(),
        spec_version: an(g, tag::SPEC_VERSION, &version)?,
        issue_date: BcdDate::from_bcd(&issue).map_err(|e| e.in_field("issue_date"))?,
        expiry_date: BcdDate::from_bcd(&expiry).map_err(|e| e.in_field("expiry_date"))?,
    })
}

/// Which PIN maintenance an HSM flow does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMaintenance {
    /// PIN reload (重置, P2 `01`, reader interface §6).
    Reload,
    /// PIN unblock (解锁, P2 `00`, reader interface §7).
    Unblock,
}

/// The state between the steps of an HSM PIN reload or unblock.
#[derive(Debug, Clone)]
pub struct PinStep {
    /// The request for the HSM.
    pub request: HsmRequest,
    kind: PinMaintenance,
    original: [u8; 8],
    header: [u8; 5],
}

/// Step one (`iReloadPIN_HSM_Step1` / `iUnblockPIN_HSM_Step1`): SSSE selected (unless it is
/// already in this card session), the card checked against `expected` (card identification code
/// and card number, reader interface §6.2.3 (5)) when given, then two challenges for EXTERNAL
/// AUTHENTICATION with PUK: `algorithm|0090|process factor|original|`.
pub fn pin_step1<T: Transport>(
    card: &mut Card<T>,
    kind: PinMaintenance,
    expected: Option<(&CardIdentificationCode, &CardNumber)>,
) -> Result<PinStep> {
    card.addressing = Addressing::SelectEf;
    let app = card.application()?;
    if let Some((id, number)) = expected {
        let on_card = card.card_id()?;
        let g1 = Generation::V1;
        let n = read_value(card, g1, tag::CARD_NUMBER)?;
        let n = an(g1, tag::CARD_NUMBER, &n)?;
        if on_card != *id || n != number.as_str() {
            return Err(Error::WrongCard(format!(
                "the card is {on_card} / {n}, not {id} / {number}"
            )));
        }
    }
    let original = card.challenge()?;
    let factor = card.challenge()?;
    let address = KeyRole::Puk.hsm_address(1).unwrap_or(0x0090);
    Ok(PinStep {
        request: HsmRequest::ExternalAuthentication {
            algorithm: app.algorithm,
            address,
            process_factor: factor,
            original,
        },
        kind,
        original,
        header: [0; 5],
    })
}

/// Step two: EXTERNAL AUTHENTICATION with PUK using the HSM's answer (`auth ‖ original`), a
/// challenge, and the secure messaging request under STKSSSE:
/// `algorithm|0173|process factor|8424000114|123456|` (reload) or `…|8424000004||` (unblock).
pub fn pin_step2<T: Transport>(
    card: &mut Card<T>,
    step: &PinStep,
    hsm_answer: &str,
    new_pin: Option<&Pin>,
) -> Result<PinStep> {
    let field = hsm_answer.split('|').next().unwrap_or_default();
    let bytes = hex::decode(field.trim())
        .ok()
        .filter(|b| b.len() == 16)
        .ok_or_else(|| {
            KeyHolderError::Hsm(HsmResponseError::Malformed(
                "authentication data ‖ original data: not 32 hex digits".into(),
            ))
        })?;
    if bytes[8..] != step.original {
        return Err(KeyHolderError::Hsm(HsmResponseError::WrongOriginal).into());
    }
    let mut auth = [0u8; 8];
    auth.copy_from_slice(&bytes[..8]);
    let key_id = KeyRole::Puk.card_key_id().unwrap_or(0x06);
    card.send_external_authenticate(KeyRole::Puk, key_id, auth, step.original)?;
    let app = card.application()?;
    let factor = card.challenge()?;
    let block = app.algorithm.block_len();
    let (p2, enc_len, plaintext) = match (step.kind, new_pin) {
        (PinMaintenance::Reload, Some(pin)) => (
            commands::PIN_RELOAD_P2,
            (pin.to_bcd().len() + 1).div_ceil(block) * block,
            Zeroizing::new(pin.expose().to_owned()),
        ),
        (PinMaintenance::Reload, None) => {
            return Err(Error::KeyHolderRequired("PIN reload without a new PIN"))
        }
        (PinMaintenance::Unblock, _) => {
            (commands::PIN_UNBLOCK_P2, 0, Zeroizing::new(String::new()))
        }
    };
    let lc = u8::try_from(enc_len + 4).unwrap_or(u8::MAX);
    let header = [commands::CLA_SECURE, 0x24, 0x00, p2, lc];
    Ok(PinStep {
        request: HsmRequest::SecureMessaging {
            algorithm: app.algorithm,
            address: KeyRole::Stkssse.hsm_address(1).unwrap_or(0x0173),
            process_factor: factor,
            header,
            plaintext,
        },
        kind: step.kind,
        original: step.original,
        header,
    })
}

/// Step three: the command with the HSM's enciphered data and MAC (the answer may start with the
/// command header, reader interface §6.4.2 / §7.4.2).
pub fn pin_step3<T: Transport>(card: &mut Card<T>, step: &PinStep, hsm_answer: &str) -> Result<()> {
    let text = hsm_answer.split('|').next().unwrap_or_default().trim();
    let mut bytes = Zeroizing::new(
        hex::decode(text)
            .map_err(|_| KeyHolderError::Hsm(HsmResponseError::Malformed("not hex".into())))?,
    );
    let want = usize::from(step.header[4]);
    if bytes.len() == want + 5 && bytes[..5] == step.header {
        bytes.drain(..5);
    }
    if bytes.len() != want {
        return Err(KeyHolderError::Hsm(HsmResponseError::Malformed(format!(
            "{} bytes of secure messaging data instead of {want}",
            bytes.len()
        )))
        .into());
    }
    let [cla, ins, p1, p2, _] = step.header;
    let command =
        Command::new(cla, ins, p1, p2).with_sensitive_data(Zeroizing::new(bytes.to_vec()));
    let what = match step.kind {
        PinMaintenance::Reload => "PIN RELOAD",
        PinMaintenance::Unblock => "PIN UNBLOCK",
    };
    card.exchange(what, &command).map(|_| ())
}
