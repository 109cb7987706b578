//! A hardware security module (加密机) as key holder: the calling program passes each request
//! to the HSM (usually through the card holder database service, 持卡库) and hands back its
//! answer. The request and answer strings are the reader interface's (§1.2, §2.2, §6.3, §7.3)
//! and the field trace's (`加密机方式指令流.txt`).

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use super::{CardContext, KeyHolder, KeyHolderError, SecureMessage};
use crate::atr::historical_bytes;
use crate::crypto::Pin;
use crate::data::CardIdentificationCode;
use crate::keys::KeyRole;
use crate::Algorithm;

/// A request to the HSM. [`HsmRequest::to_line`] renders it as the HSM takes it.
#[derive(Clone, PartialEq, Eq)]
pub enum HsmRequest {
    /// Internal authentication (IRK) and, for 3.0 cards, external authentication with RKSSSE,
    /// in one request (reader interface §1.2.2; the field trace):
    /// `region|ATR|algorithm|card id|IA process factor|IA original|EA process factor|EA original|terminal code|`.
    /// The HSM answers `IA auth data ‖ IA original|EA auth data ‖ EA original|`.
    CardAuthentication {
        /// The card's ATR (the trace sends the whole ATR).
        atr: Vec<u8>,
        /// The card's algorithm.
        algorithm: Algorithm,
        /// The card identification code (its first 3 bytes are the region).
        card_id: CardIdentificationCode,
        /// Process factor and original data of INTERNAL AUTHENTICATION.
        internal: ([u8; 8], [u8; 8]),
        /// Process factor (the card's challenge) and original data of EXTERNAL AUTHENTICATION
        /// with RKSSSE; `None` for 1.0 and 2.0 cards (the fields are then empty).
        external: Option<([u8; 8], [u8; 8])>,
        /// The terminal code (16 bytes, all zero without one) the trace appends.
        terminal_code: [u8; 16],
    },
    /// External authentication with the key at `address` (reader interface §2.2.2, §6.2):
    /// `algorithm|address|process factor|original|`; the HSM answers `auth data ‖ original`.
    ExternalAuthentication {
        /// The card's algorithm.
        algorithm: Algorithm,
        /// The key's logical address (reader interface appendix B).
        address: u16,
        /// The card's challenge.
        process_factor: [u8; 8],
        /// The original data.
        original: [u8; 8],
    },
    /// Secure messaging with the key at `address` (reader interface §6.3.2, §7.3.2):
    /// `algorithm|address|process factor|command header|plaintext|`; the HSM answers the
    /// enciphered data and the MAC (optionally preceded by the command header).
    SecureMessaging {
        /// The card's algorithm.
        algorithm: Algorithm,
        /// The key's logical address.
        address: u16,
        /// The card's challenge.
        process_factor: [u8; 8],
        /// `CLA INS P1 P2 Lc` of the command.
        header: [u8; 5],
        /// The plaintext: the new PIN's digits for PIN reload, empty for unblock and blocking.
        plaintext: Zeroizing<String>,
    },
}

impl fmt::Debug for HsmRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HsmRequest::SecureMessaging {
                algorithm,
                address,
                header,
                ..
            } => f
                .debug_struct("SecureMessaging")
                .field("algorithm", algorithm)
                .field("address", &format_args!("{address:04X}"))
                .field("header", &hex::encode_upper(header))
                .finish_non_exhaustive(),
            other => f.write_str(&other.to_line()),
        }
    }
}

fn alg_code(alg: Algorithm) -> String {
    format!("{:02X}", alg.to_byte())
}

fn h(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

impl HsmRequest {
    /// The request as the HSM service takes it (every field followed by `|`).
    pub fn to_line(&self) -> String {
        match self {
            HsmRequest::CardAuthentication {
                atr,
                algorithm,
                card_id,
                internal,
                external,
                terminal_code,
            } => {
                let (ea_pf, ea_orig) = match external {
                    Some((pf, orig)) => (h(pf), h(orig)),
                    None => (String::new(), String::new()),
                };
                format!(
                    "{}|{}|{}|{}|{}|{}|{}|{}|{}|",
                    card_id.region.as_str(),
                    h(atr),
                    alg_code(*algorithm),
                    card_id,
                    h(&internal.0),
                    h(&internal.1),
                    ea_pf,
                    ea_orig,
                    h(terminal_code)
                )
            }
            HsmRequest::ExternalAuthentication {
                algorithm,
                address,
                process_factor,
                original,
            } => format!(
                "{}|{address:04X}|{}|{}|",
                alg_code(*algorithm),
                h(process_factor),
                h(original)
            ),
            HsmRequest::SecureMessaging {
                algorithm,
                address,
                process_factor,
                header,
                plaintext,
            } => format!(
                "{}|{address:04X}|{}|{}|{}|",
                alg_code(*algorithm),
                h(process_factor),
                h(header),
                plaintext.as_str()
            ),
        }
    }

    /// The reader interface's output of `iReadCardBas_HSM_Step1` for this request (§1.2.2):
    /// like [`HsmRequest::to_line`] but with the ATR's historical bytes and without the
    /// terminal code. `None` for the other kinds of request.
    pub fn to_interface_line(&self) -> Option<String> {
        let HsmRequest::CardAuthentication {
            atr,
            algorithm,
            card_id,
            internal,
            external,
            ..
        } = self
        else {
            return None;
        };
        let hist = historical_bytes(atr).map(h).unwrap_or_default();
        let (ea_pf, ea_orig) = match external {
            Some((pf, orig)) => (h(pf), h(orig)),
            None => (String::new(), String::new()),
        };
        Some(format!(
            "{}|{hist}|{}|{}|{}|{}|{ea_pf}|{ea_orig}|",
            card_id.region.as_str(),
            alg_code(*algorithm),
            card_id,
            h(&internal.0),
            h(&internal.1),
        ))
    }
}

/// Why an HSM answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HsmResponseError {
    /// Whoever asks the HSM reported a failure.
    #[error("the HSM request failed: {0}")]
    Failed(String),
    /// The answer does not have the expected fields.
    #[error("malformed HSM answer: {0}")]
    Malformed(String),
    /// The answer is for other original data than the request's.
    #[error("the HSM answered for other original data than it was asked for")]
    WrongOriginal,
}

fn hex_field(text: &str, bytes: usize, what: &str) -> Result<Vec<u8>, HsmResponseError> {
    let text = text.trim();
    if text.len() != bytes * 2 {
        return Err(HsmResponseError::Malformed(format!(
            "{what}: {} hex digits instead of {}",
            text.len(),
            bytes * 2
        )));
    }
    hex::decode(text).map_err(|_| HsmResponseError::Malformed(format!("{what}: not hex")))
}

/// `auth data ‖ original` (32 hex digits) checked against the original sent.
fn auth_and_original(field: &str, original: &[u8; 8]) -> Result<[u8; 8], HsmResponseError> {
    let bytes = hex_field(field, 16, "authentication data ‖ original data")?;
    if bytes[8..] != original[..] {
        return Err(HsmResponseError::WrongOriginal);
    }
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[..8]);
    Ok(out)
}

impl HsmRequest {
    /// Parses the answer to a [`HsmRequest::CardAuthentication`]: the expected INTERNAL
    /// AUTHENTICATION answer and, when asked, the EXTERNAL AUTHENTICATION data.
    pub fn parse_card_authentication(
        &self,
        answer: &str,
    ) -> Result<([u8; 8], Option<[u8; 8]>), HsmResponseError> {
        let HsmRequest::CardAuthentication {
            internal, external, ..
        } = self
        else {
            return Err(HsmResponseError::Malformed(
                "not a card authentication request".into(),
            ));
        };
        let mut fields = answer.split('|');
        let ia = auth_and_original(fields.next().unwrap_or_default(), &internal.1)?;
        let ea = match external {
            Some((_, orig)) => Some(auth_and_original(fields.next().unwrap_or_default(), orig)?),
            None => None,
        };
        Ok((ia, ea))
    }
}

/// A key holder that asks an HSM through a callback: `ask` gets the card (the HSM service needs
/// to know which card's keys to use: the reader interface's host messages carry the card
/// identification code beside the request) and each [`HsmRequest`], and returns the HSM's
/// answer text (or an error text).
///
/// This is the step-wise, external-key-holder mode of the reader interface's `_HSM_` functions
/// made into a [`KeyHolder`] for Rust programs.
pub struct HsmKeyHolder<F> {
    ask: F,
    algorithms: Vec<Algorithm>,
    group: u8,
    terminal_code: [u8; 16],
}

impl<F> fmt::Debug for HsmKeyHolder<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmKeyHolder")
            .field("algorithms", &self.algorithms)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(&CardContext, &HsmRequest) -> Result<String, String>> HsmKeyHolder<F> {
    /// An HSM holding keys for DES and SM4 cards, key group 1 (\[design\] D3).
    pub fn new(ask: F) -> Self {
        HsmKeyHolder {
            ask,
            algorithms: vec![Algorithm::Tdes, Algorithm::Sm4],
            group: 1,
            terminal_code: [0; 16],
        }
    }

    /// Uses key group `group` (1-3) of the HSM's addresses.
    pub fn with_group(mut self, group: u8) -> Self {
        self.group = group;
        self
    }

    /// The terminal code sent with card authentication requests.
    pub fn with_terminal_code(mut self, code: [u8; 16]) -> Self {
        self.terminal_code = code;
        self
    }

    fn ask(
        &mut self,
        card: &CardContext,
        request: &HsmRequest,
    ) -> Result<String, HsmResponseError> {
        (self.ask)(card, request).map_err(HsmResponseError::Failed)
    }

    fn address(&self, role: KeyRole) -> Result<u16, HsmResponseError> {
        role.hsm_address(self.group)
            .or_else(|| role.hsm_address(1))
            .ok_or_else(|| HsmResponseError::Failed(format!("no HSM address for {role}")))
    }
}

fn first_eight(data: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(data) {
        *o = *b;
    }
    out
}

impl<F: FnMut(&CardContext, &HsmRequest) -> Result<String, String>> KeyHolder for HsmKeyHolder<F> {
    fn supports(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }

    fn authenticate(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], KeyHolderError> {
        let pf = first_eight(process_factor);
        if role == KeyRole::Irk {
            let request = HsmRequest::CardAuthentication {
                atr: card.atr.clone(),
                algorithm: card.algorithm,
                card_id: card.card_id,
                internal: (pf, *original),
                external: None,
                terminal_code: self.terminal_code,
            };
            let answer = self.ask(card, &request)?;
            return Ok(request.parse_card_authentication(&answer)?.0);
        }
        let request = HsmRequest::ExternalAuthentication {
            algorithm: card.algorithm,
            address: self.address(role)?,
            process_factor: pf,
            original: *original,
        };
        let answer = self.ask(card, &request)?;
        let field = answer.split('|').next().unwrap_or_default();
        Ok(auth_and_original(field, original)?)
    }

    fn secure_message(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        challenge: &[u8],
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<SecureMessage, KeyHolderError> {
        let block = card.algorithm.block_len();
        let enc_len = match new_pin {
            Some(pin) => (pin.to_bcd().len() + 1).div_ceil(block) * block,
            None => 0,
        };
        let [cla, ins, p1, p2] = header;
        let lc = u8::try_from(enc_len + 4).unwrap_or(u8::MAX);
        let request = HsmRequest::SecureMessaging {
            algorithm: card.algorithm,
            address: self.address(role)?,
            process_factor: first_eight(challenge),
            header: [cla, ins, p1, p2, lc],
            plaintext: Zeroizing::new(new_pin.map(|p| p.expose().to_owned()).unwrap_or_default()),
        };
        let answer = Zeroizing::new(self.ask(card, &request)?);
        let mut text = answer
            .split('|')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let header_hex = hex::encode_upper([cla, ins, p1, p2, lc]);
        // reader interface §6.4.2: the answer may carry the command header first
        if text.len() == 10 + 2 * (enc_len + 4) && text.to_uppercase().starts_with(&header_hex) {
            text = text[10..].to_owned();
        }
        let bytes = Zeroizing::new(hex_field(&text, enc_len + 4, "enciphered data ‖ MAC")?);
        let mut mac = [0u8; 4];
        mac.copy_from_slice(&bytes[enc_len..]);
        Ok(SecureMessage {
            enciphered: Zeroizing::new(bytes[..enc_len].to_vec()),
            mac,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn b8(s: &str) -> [u8; 8] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// The HSM request and answer of the field trace's basic read, byte for byte.
    #[test]
    fn field_trace_card_authentication() {
        let request = HsmRequest::CardAuthentication {
            atr: hex::decode("3B6D000000814A444686605199000001AC").unwrap(),
            algorithm: Algorithm::Sm4,
            card_id: "519900D15600000510000B26FFFFFFFF".parse().unwrap(),
            internal: (b8("32D9E876ADB31BBF"), b8("DBF7A936D0D18C9E")),
            external: Some((b8("98B4D293D091C331"), b8("E603E2CAADAF02B6"))),
            terminal_code: [0; 16],
        };
        assert_eq!(
            request.to_line(),
            "519900|3B6D000000814A444686605199000001AC|03|519900D15600000510000B26FFFFFFFF|32D9E876ADB31BBF|DBF7A936D0D18C9E|98B4D293D091C331|E603E2CAADAF02B6|00000000000000000000000000000000|"
        );
        assert_eq!(
            request.to_interface_line().unwrap(),
            "519900|00814A444686605199000001AC|03|519900D15600000510000B26FFFFFFFF|32D9E876ADB31BBF|DBF7A936D0D18C9E|98B4D293D091C331|E603E2CAADAF02B6|"
        );
        let (ia, ea) = request
            .parse_card_authentication(
                "F4A0CF965BDCEA30DBF7A936D0D18C9E|774A08EDF447A1DEE603E2CAADAF02B6|",
            )
            .unwrap();
        assert_eq!(ia, b8("F4A0CF965BDCEA30"));
        assert_eq!(ea, Some(b8("774A08EDF447A1DE")));
        assert_eq!(
            request.parse_card_authentication("F4A0CF965BDCEA300000000000000000|"),
            Err(HsmResponseError::WrongOriginal)
        );
        assert!(request.parse_card_authentication("F4A0|").is_err());
    }

    /// The PIN reload requests of the field trace.
    #[test]
    fn field_trace_pin_reload_requests() {
        let ea = HsmRequest::ExternalAuthentication {
            algorithm: Algorithm::Sm4,
            address: KeyRole::Puk.hsm_address(1).unwrap(),
            process_factor: b8("E4A30F837E2CAFEC"),
            original: b8("1B0D7286F2DC77AF"),
        };
        assert_eq!(ea.to_line(), "03|0090|E4A30F837E2CAFEC|1B0D7286F2DC77AF|");
        let sm = HsmRequest::SecureMessaging {
            algorithm: Algorithm::Sm4,
            address: KeyRole::Stkssse.hsm_address(1).unwrap(),
            process_factor: b8("2AFD6A015D2D9BAC"),
            header: [0x84, 0x24, 0x00, 0x01, 0x14],
            plaintext: Zeroizing::new("123456".into()),
        };
        // the trace shows the line without the final separator the reader interface requires
        assert_eq!(sm.to_line(), "03|0173|2AFD6A015D2D9BAC|8424000114|123456|");
        assert!(!format!("{sm:?}").contains("123456"));
    }

    #[test]
    fn key_holder_over_a_scripted_hsm() {
        let card = CardContext {
            algorithm: Algorithm::Sm4,
            atr: hex::decode("3B6D000000814A444686605199000001AC").unwrap(),
            card_id: "519900D15600000510000B26FFFFFFFF".parse().unwrap(),
        };
        let mut seen = Vec::new();
        let mut hsm = HsmKeyHolder::new(|_: &CardContext, r: &HsmRequest| {
            seen.push(r.to_line());
            Ok(match r {
                HsmRequest::ExternalAuthentication { .. } => {
                    "50C45431554CBADC1B0D7286F2DC77AF".to_string()
                }
                HsmRequest::SecureMessaging { .. } => {
                    "2bc19c17ae974cd2427039c301cff79ffd937aa7".to_string()
                }
                HsmRequest::CardAuthentication { .. } => {
                    "F4A0CF965BDCEA30DBF7A936D0D18C9E|".to_string()
                }
            })
        });
        let auth = hsm
            .authenticate(
                &card,
                KeyRole::Puk,
                &b8("E4A30F837E2CAFEC"),
                &b8("1B0D7286F2DC77AF"),
            )
            .unwrap();
        assert_eq!(auth, b8("50C45431554CBADC"));
        let pin = Pin::new("123456").unwrap();
        let sm = hsm
            .secure_message(
                &card,
                KeyRole::Stkssse,
                &b8("2AFD6A015D2D9BAC"),
                [0x84, 0x24, 0x00, 0x01],
                Some(&pin),
            )
            .unwrap();
        assert_eq!(
            hex::encode_upper(&*sm.enciphered),
            "2BC19C17AE974CD2427039C301CFF79F"
        );
        assert_eq!(sm.mac, [0xFD, 0x93, 0x7A, 0xA7]);
        let ia = hsm
            .authenticate(
                &card,
                KeyRole::Irk,
                &b8("32D9E876ADB31BBF"),
                &b8("DBF7A936D0D18C9E"),
            )
            .unwrap();
        assert_eq!(ia, b8("F4A0CF965BDCEA30"));
        drop(hsm);
        assert_eq!(seen[0], "03|0090|E4A30F837E2CAFEC|1B0D7286F2DC77AF|");
        assert_eq!(seen[1], "03|0173|2AFD6A015D2D9BAC|8424000114|123456|");
        assert!(seen[2].contains("|32D9E876ADB31BBF|DBF7A936D0D18C9E|||"));
    }
}
