//! Who holds the medical account's keys (part 7 §11-12, part 9 §9.9-9.10):
//!
//! - [`PurchaseKeys`]: the terminal side of a purchase — MAC1 with the card's DPK (and the
//!   terminal transaction serial), MAC2 checked. A PSAM does it with INIT SAM FOR PURCHASE
//!   (`8070`) and CREDIT SAM FOR PURCHASE (`8072`); [`SoftTerminal`] computes it from a
//!   development key file; [`HsmPurchase`] asks an HSM with the reader interface's
//!   `iDoDebit_HSM_Step1` line (§8.2.2(4)) and takes its `pKey` answer (§8.3.2(1)).
//! - [`CreditKeys`]: the host side of a credit — MAC1 of the card checked, MAC2 computed with
//!   SESLK from the card's DLK. A [`KeyFile`] computes it; a PSAM holding DLK does it with
//!   DELIVERY SESSION KEY and CIPHER DATA (part 9 §9.7-9.8).
//! - [`check_tac`]: the host's check of a TAC with DTK (part 7 §15; a key file).

use std::fmt;

use zeroize::Zeroizing;

use super::{CardContext, KeyFile, KeyHolder, KeyHolderError, PsamKeyHolder};
use crate::account::commands::{credit_sam_for_purchase, init_sam_for_purchase, Mac1Request};
use crate::account::{
    Fen, LoadInit, PendingTransaction, PurchaseAmounts, TerminalNumber, TransactionKind,
    TransactionTime,
};
use crate::apdu::StatusWord;
use crate::crypto::{account as ac, ct_equal, SecretKey};
use crate::keyholder::hsm::HsmResponseError;
use crate::keys::KeyRole;
use crate::transport::Transport;
use crate::Algorithm;

/// What the terminal side of a purchase answers for the card's INITIALIZE FOR PURCHASE: the
/// terminal transaction serial it used and MAC1 (part 9 §9.9.4).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PurchaseMac1 {
    /// The terminal transaction serial (终端交易序号, the PSAM's EF 0019).
    pub terminal_serial: u32,
    /// MAC1.
    pub mac1: [u8; 4],
}

impl fmt::Debug for PurchaseMac1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PurchaseMac1")
            .field("terminal_serial", &self.terminal_serial)
            .field("mac1", &"REDACTED")
            .finish()
    }
}

/// Whether the card's MAC2 was checked (part 7 §12.7: "MAC2 验证的结果被传送到终端以便采取必要的
/// 措施").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Mac2Check {
    /// The key holder verified MAC2: the card that debited is genuine.
    Verified,
    /// The key holder found MAC2 wrong (CREDIT SAM FOR PURCHASE `9302`/`63CF`). The card has
    /// debited (it sent its TAC); the terminal keeps the transaction and reports it.
    Refused,
    /// Not checked here (an HSM checks it later with the TAC, or the PSAM lost its session).
    NotChecked,
}

/// The terminal side of an offline purchase (part 7 §12.3, §12.7).
pub trait PurchaseKeys {
    /// The terminal number MAC1 covers (a PSAM's EF 0016; `000000000000` without one).
    fn purchase_terminal(&mut self) -> Result<TerminalNumber, KeyHolderError>;

    /// MAC1 with SESPK from the card's DPK, for the card's answer to INITIALIZE FOR PURCHASE;
    /// takes the next terminal transaction serial.
    fn purchase_mac1(
        &mut self,
        card: &CardContext,
        request: &Mac1Request,
    ) -> Result<PurchaseMac1, KeyHolderError>;

    /// Checks the card's MAC2 with the SESPK of the last [`PurchaseKeys::purchase_mac1`].
    fn check_purchase_mac2(
        &mut self,
        card: &CardContext,
        mac2: [u8; 4],
    ) -> Result<Mac2Check, KeyHolderError>;
}

/// The host side of a credit (part 7 §11.3-11.5).
pub trait CreditKeys {
    /// Checks the card's MAC1 with SESLK from its DLK and, when it is right, computes MAC2 over
    /// the amount, type, terminal number and host time; `None` when MAC1 is wrong (the host
    /// refuses the credit, §11.4).
    fn credit_mac2(
        &mut self,
        card: &CardContext,
        init: &LoadInit,
        amount: Fen,
        terminal: TerminalNumber,
        host_time: TransactionTime,
    ) -> Result<Option<[u8; 4]>, KeyHolderError>;
}

impl<K: PurchaseKeys + ?Sized> PurchaseKeys for &mut K {
    fn purchase_terminal(&mut self) -> Result<TerminalNumber, KeyHolderError> {
        (**self).purchase_terminal()
    }
    fn purchase_mac1(
        &mut self,
        card: &CardContext,
        request: &Mac1Request,
    ) -> Result<PurchaseMac1, KeyHolderError> {
        (**self).purchase_mac1(card, request)
    }
    fn check_purchase_mac2(
        &mut self,
        card: &CardContext,
        mac2: [u8; 4],
    ) -> Result<Mac2Check, KeyHolderError> {
        (**self).check_purchase_mac2(card, mac2)
    }
}

impl<K: CreditKeys + ?Sized> CreditKeys for &mut K {
    fn credit_mac2(
        &mut self,
        card: &CardContext,
        init: &LoadInit,
        amount: Fen,
        terminal: TerminalNumber,
        host_time: TransactionTime,
    ) -> Result<Option<[u8; 4]>, KeyHolderError> {
        (**self).credit_mac2(card, init, amount, terminal, host_time)
    }
}

// ---------------------------------------------------------------------------------------------
// a development key file

/// The DLK/DPK version a key file holds: one root per role, version 1 (\[design\] D34).
const KEY_FILE_VERSION: u8 = 0x01;

fn check_version(card: &CardContext, role: KeyRole, version: u8) -> Result<(), KeyHolderError> {
    if version == KEY_FILE_VERSION {
        Ok(())
    } else {
        Err(KeyHolderError::UnknownKey {
            algorithm: card.algorithm,
            role,
        })
    }
}

impl CreditKeys for KeyFile {
    fn credit_mac2(
        &mut self,
        card: &CardContext,
        init: &LoadInit,
        amount: Fen,
        terminal: TerminalNumber,
        host_time: TransactionTime,
    ) -> Result<Option<[u8; 4]>, KeyHolderError> {
        check_version(card, KeyRole::Dlk, init.key_version)?;
        let alg = card.algorithm;
        let dlk = self.card_key(card, KeyRole::Dlk)?;
        let seslk = ac::seslk(alg, &dlk, init.random, init.serial)?;
        let expected = ac::credit_mac1(alg, &seslk, init.balance, amount, terminal)?;
        if !ct_equal(&expected, &init.mac1) {
            return Ok(None);
        }
        Ok(Some(ac::credit_mac2(
            alg,
            &seslk,
            amount,
            terminal,
            host_time.to_bcd(),
        )?))
    }
}

/// The host's check of a transaction's TAC with the card's DTK (part 7 §11.8, §12.6, §15):
/// `true` when `tac` is the card's.
pub fn check_tac(
    keys: &mut KeyFile,
    card: &CardContext,
    transaction: &PendingTransaction,
    tac: [u8; 4],
) -> Result<bool, KeyHolderError> {
    let alg = card.algorithm;
    let dtk = keys.card_key(card, KeyRole::Dtk)?;
    let expected = match transaction.kind {
        TransactionKind::Credit => {
            // a credit beyond 4 bytes was never applied: no TAC can be the card's
            let Some(after) = transaction.balance_after() else {
                return Ok(false);
            };
            ac::credit_tac(
                alg,
                &dtk,
                after,
                transaction.card_serial,
                transaction.amounts.account,
                transaction.terminal,
                transaction.time.to_bcd(),
            )?
        }
        TransactionKind::Purchase => ac::purchase_tac(
            alg,
            &dtk,
            transaction.amounts,
            transaction.terminal,
            transaction.terminal_serial,
            transaction.time,
        )?,
    };
    Ok(ct_equal(&expected, &tac))
}

/// A terminal without a PSAM that computes the purchase cryptograms from a development key
/// file (tests, the simulator; never real cards): its own terminal number and transaction
/// serial, which the caller keeps between runs ([`SoftTerminal::next_serial`]).
pub struct SoftTerminal {
    keys: KeyFile,
    terminal: TerminalNumber,
    next_serial: u32,
    session: Option<(Algorithm, SecretKey, PurchaseAmounts)>,
}

impl fmt::Debug for SoftTerminal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftTerminal")
            .field("terminal", &self.terminal)
            .field("next_serial", &self.next_serial)
            .finish_non_exhaustive()
    }
}

impl SoftTerminal {
    /// A terminal numbered `terminal` whose next transaction serial is `next_serial`.
    pub fn new(keys: KeyFile, terminal: TerminalNumber, next_serial: u32) -> SoftTerminal {
        SoftTerminal {
            keys,
            terminal,
            next_serial,
            session: None,
        }
    }

    /// The serial the next purchase will use.
    pub fn next_serial(&self) -> u32 {
        self.next_serial
    }

    /// The key file.
    pub fn keys(&mut self) -> &mut KeyFile {
        &mut self.keys
    }

    /// Gives the key file back.
    pub fn into_keys(self) -> KeyFile {
        self.keys
    }
}

impl PurchaseKeys for SoftTerminal {
    fn purchase_terminal(&mut self) -> Result<TerminalNumber, KeyHolderError> {
        Ok(self.terminal)
    }

    fn purchase_mac1(
        &mut self,
        card: &CardContext,
        request: &Mac1Request,
    ) -> Result<PurchaseMac1, KeyHolderError> {
        self.session = None;
        check_version(card, KeyRole::Dpk, request.key_version)?;
        let alg = card.algorithm;
        let serial = self.next_serial;
        let next = serial
            .checked_add(1)
            .ok_or(KeyHolderError::MalformedResponse {
                command: "terminal transaction serial",
                reason: "the terminal's transaction serial is at its maximum".into(),
            })?;
        let dpk = self.keys.card_key(card, KeyRole::Dpk)?;
        let sespk = ac::sespk(alg, &dpk, request.card_random, request.card_serial, serial)?;
        let mac1 = ac::purchase_mac1(
            alg,
            &sespk,
            request.amounts,
            request.type_byte,
            request.terminal,
            request.time.to_bcd(),
        )?;
        self.next_serial = next;
        self.session = Some((alg, sespk, request.amounts));
        Ok(PurchaseMac1 {
            terminal_serial: serial,
            mac1,
        })
    }

    fn check_purchase_mac2(
        &mut self,
        _card: &CardContext,
        mac2: [u8; 4],
    ) -> Result<Mac2Check, KeyHolderError> {
        let Some((alg, sespk, amounts)) = self.session.take() else {
            return Ok(Mac2Check::NotChecked);
        };
        let expected = ac::purchase_mac2(alg, &sespk, amounts)?;
        Ok(if ct_equal(&expected, &mac2) {
            Mac2Check::Verified
        } else {
            Mac2Check::Refused
        })
    }
}

impl CreditKeys for SoftTerminal {
    fn credit_mac2(
        &mut self,
        card: &CardContext,
        init: &LoadInit,
        amount: Fen,
        terminal: TerminalNumber,
        host_time: TransactionTime,
    ) -> Result<Option<[u8; 4]>, KeyHolderError> {
        self.keys
            .credit_mac2(card, init, amount, terminal, host_time)
    }
}

// ---------------------------------------------------------------------------------------------
// a PSAM

const INIT_SAM: &str = "INIT SAM FOR PURCHASE";
const CREDIT_SAM: &str = "CREDIT SAM FOR PURCHASE";

/// MAC2 wrong at CREDIT SAM FOR PURCHASE: part 9 table 31 says `9302`, §9.10.1 `63CF`; both are
/// taken as "refused" (\[design\] D37).
fn mac2_refused(sw: StatusWord) -> bool {
    matches!(
        sw,
        StatusWord::MacInvalid | StatusWord::VerificationFailed { tries_left: 15 }
    )
}

impl<T: Transport> PurchaseKeys for PsamKeyHolder<T> {
    fn purchase_terminal(&mut self) -> Result<TerminalNumber, KeyHolderError> {
        let digits =
            KeyHolder::terminal_number(self)?.ok_or(KeyHolderError::MalformedResponse {
                command: "READ BINARY (terminal number)",
                reason: "the PSAM has no terminal number (EF 0016), which a purchase needs".into(),
            })?;
        TerminalNumber::parse(&digits).map_err(|e| KeyHolderError::MalformedResponse {
            command: "READ BINARY (terminal number)",
            reason: e.to_string(),
        })
    }

    /// INIT SAM FOR PURCHASE: the factors the DPK's level needs (card, city, province,
    /// \[design\] D6), the remembered level first, the others after `6A80` (part 9 §8).
    fn purchase_mac1(
        &mut self,
        card: &CardContext,
        request: &Mac1Request,
    ) -> Result<PurchaseMac1, KeyHolderError> {
        self.check_algorithm(card.algorithm)?;
        let factors = card.factors()?;
        let response = self.send_at_key_level(KeyRole::Dpk, &factors, INIT_SAM, |_, path| {
            init_sam_for_purchase(request, path)
        })?;
        match response.data() {
            [a, b, c, e, m @ ..] if m.len() == 4 => Ok(PurchaseMac1 {
                terminal_serial: u32::from_be_bytes([*a, *b, *c, *e]),
                mac1: [m[0], m[1], m[2], m[3]],
            }),
            d => Err(KeyHolderError::MalformedResponse {
                command: INIT_SAM,
                reason: format!("{} bytes instead of 8", d.len()),
            }),
        }
    }

    fn check_purchase_mac2(
        &mut self,
        _card: &CardContext,
        mac2: [u8; 4],
    ) -> Result<Mac2Check, KeyHolderError> {
        let response = self
            .selected_channel()?
            .send(&credit_sam_for_purchase(mac2))?;
        match response.sw() {
            StatusWord::Ok => Ok(Mac2Check::Verified),
            sw if mac2_refused(sw) => Ok(Mac2Check::Refused),
            // the PSAM lost its session (reset between the two commands): not checked
            StatusWord::CommandNotAccepted => Ok(Mac2Check::NotChecked),
            sw => Err(KeyHolderError::Psam {
                command: CREDIT_SAM,
                sw,
            }),
        }
    }
}

impl<T: Transport> CreditKeys for PsamKeyHolder<T> {
    /// A PSAM holding DLK (type `08`, id `4B`, reader interface table B.2) as the host's
    /// key holder: SESLK's input `random ‖ serial ‖ 8000` as the process factor of DELIVERY
    /// SESSION KEY, MAC1 and MAC2 with CIPHER DATA.
    fn credit_mac2(
        &mut self,
        card: &CardContext,
        init: &LoadInit,
        amount: Fen,
        terminal: TerminalNumber,
        host_time: TransactionTime,
    ) -> Result<Option<[u8; 4]>, KeyHolderError> {
        self.check_algorithm(card.algorithm)?;
        let factors = card.factors()?;
        let mut pf = Zeroizing::new(init.random.to_vec());
        pf.extend_from_slice(&init.serial.to_be_bytes());
        pf.extend_from_slice(&[0x80, 0x00]);
        let mac1_input =
            ac::credit_mac1_input(init.balance, amount, TransactionKind::Credit, terminal);
        let expected = self.mac(&factors, KeyRole::Dlk, &pf, &mac1_input)?;
        if !ct_equal(&expected, &init.mac1) {
            return Ok(None);
        }
        let mac2_input = ac::credit_mac2_input(amount, terminal, host_time.to_bcd());
        Ok(Some(self.mac(&factors, KeyRole::Dlk, &pf, &mac2_input)?))
    }
}

// ---------------------------------------------------------------------------------------------
// an HSM, through the reader interface's strings

/// The HSM key address (reader interface table B.1) of DPK version `version` (1-3), key group
/// `group` (1-3): `017F`-`0181`, `0199`-`019B`, `019C`-`019E`.
pub fn dpk_address(version: u8, group: u8) -> Option<u16> {
    let base = match version {
        1 => 0x017F,
        2 => 0x0199,
        3 => 0x019C,
        _ => return None,
    };
    (1..=3)
        .contains(&group)
        .then(|| base + u16::from(group) - 1)
}

/// The HSM key address of DTK, key group `group` (table B.2: `00B5`-`00B7`): where the host
/// checks a TAC.
pub fn dtk_address(group: u8) -> Option<u16> {
    KeyRole::Dtk.hsm_address(group)
}

/// `iDoDebit_HSM_Step1`'s answer (reader interface §8.2.2(4)): `算法标识|密钥地址|伪随机数|
/// 医疗消费交易序号|交易金额|交易类型|终端机编号|交易时间|` — the algorithm byte, DPK's key
/// address, the card's random, its purchase serial, the last two amounts of INITIALIZE FOR
/// PURCHASE in hex (self-pay ‖ pooled), the type byte `02`, the terminal number and the time
/// `YYYYMMDDHHMMSS` **\[design D36\]**.
pub fn hsm_step1_line(request: &Mac1Request, address: u16) -> String {
    let a = request.amounts.to_bytes();
    format!(
        "{:02X}|{address:04X}|{}|{:04X}|{}|{:02X}|{}|{}|",
        request.algorithm,
        hex::encode_upper(request.card_random),
        request.card_serial,
        hex::encode_upper(&a[4..]),
        request.type_byte,
        request.terminal,
        request.time
    )
}

/// Parses the HSM's `pKey` of `iDoDebit_HSM_Step2` (reader interface §8.3.2(1)): `终端交易序号|
/// 交易时间|MAC1|` — 8 hex digits, `YYYYMMDDHHMMSS` (the step-one time), 8 hex digits.
pub fn parse_hsm_pkey(pkey: &str, time: TransactionTime) -> Result<PurchaseMac1, HsmResponseError> {
    let fields: Vec<&str> = pkey.trim().trim_end_matches('|').split('|').collect();
    let [serial, t, mac1] = fields.as_slice() else {
        return Err(HsmResponseError::Malformed(format!(
            "pKey has {} fields, expected 3: terminal serial|time|MAC1|",
            fields.len()
        )));
    };
    let hex4 = |text: &str, what: &str| -> Result<[u8; 4], HsmResponseError> {
        let text = text.trim();
        if text.len() != 8 {
            return Err(HsmResponseError::Malformed(format!("{what}: 8 hex digits")));
        }
        hex::decode(text)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| HsmResponseError::Malformed(format!("{what}: not hex")))
    };
    let serial = u32::from_be_bytes(hex4(serial, "terminal serial")?);
    if t.trim() != time.to_string() {
        return Err(HsmResponseError::Malformed(format!(
            "time {:?} is not the transaction's {time}",
            t.trim()
        )));
    }
    Ok(PurchaseMac1 {
        terminal_serial: serial,
        mac1: hex4(mac1, "MAC1")?,
    })
}

/// An HSM as the terminal side of a purchase, asked through a callback with the reader
/// interface's strings: the callback gets `iDoDebit_HSM_Step1`'s line ([`hsm_step1_line`])
/// and returns the HSM's `pKey` (`终端交易序号|交易时间|MAC1|`), or an error text. The HSM checks
/// MAC2 itself later (with the TAC): [`Mac2Check::NotChecked`].
///
/// The line carries only the last two amounts (§8.2.2(4)): a purchase with an account amount
/// cannot be asked this way (**\[design D36\]**).
pub struct HsmPurchase<F> {
    ask: F,
    terminal: TerminalNumber,
    group: u8,
}

impl<F> fmt::Debug for HsmPurchase<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmPurchase")
            .field("terminal", &self.terminal)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(&str) -> Result<String, String>> HsmPurchase<F> {
    /// An HSM asked through `ask`, terminal number `000000000000` (no PSAM, §8.2.2(4) note),
    /// key group 1.
    pub fn new(ask: F) -> Self {
        HsmPurchase {
            ask,
            terminal: TerminalNumber::NONE,
            group: 1,
        }
    }

    /// Uses key group `group` (1-3).
    pub fn with_group(mut self, group: u8) -> Self {
        self.group = group;
        self
    }

    /// Uses terminal number `terminal`.
    pub fn with_terminal(mut self, terminal: TerminalNumber) -> Self {
        self.terminal = terminal;
        self
    }
}

impl<F: FnMut(&str) -> Result<String, String>> PurchaseKeys for HsmPurchase<F> {
    fn purchase_terminal(&mut self) -> Result<TerminalNumber, KeyHolderError> {
        Ok(self.terminal)
    }

    fn purchase_mac1(
        &mut self,
        _card: &CardContext,
        request: &Mac1Request,
    ) -> Result<PurchaseMac1, KeyHolderError> {
        if !request.amounts.account.is_zero() {
            return Err(HsmResponseError::Failed(
                "the reader interface's HSM line carries the self-pay and pooled amounts only: an account amount cannot be paid through it".into(),
            )
            .into());
        }
        let address = dpk_address(request.key_version, self.group).ok_or_else(|| {
            HsmResponseError::Failed(format!(
                "no HSM address for DPK version {:02X}, group {}",
                request.key_version, self.group
            ))
        })?;
        let answer =
            (self.ask)(&hsm_step1_line(request, address)).map_err(HsmResponseError::Failed)?;
        Ok(parse_hsm_pkey(&answer, request.time)?)
    }

    fn check_purchase_mac2(
        &mut self,
        _card: &CardContext,
        _mac2: [u8; 4],
    ) -> Result<Mac2Check, KeyHolderError> {
        Ok(Mac2Check::NotChecked)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn hsm_strings_of_the_reader_interface() {
        let request = Mac1Request {
            card_random: [0xE3, 0xF5, 0x0E, 0x75],
            card_serial: 5,
            amounts: PurchaseAmounts {
                account: Fen(0),
                self_pay: Fen(10_000),
                pooled: Fen(5_000),
            },
            type_byte: 2,
            time: TransactionTime::parse("20140801120001").unwrap(),
            key_version: 1,
            algorithm: 3,
            terminal: TerminalNumber::NONE,
        };
        assert_eq!(
            hsm_step1_line(&request, dpk_address(1, 1).unwrap()),
            "03|017F|E3F50E75|0005|0000271000001388|02|000000000000|20140801120001|"
        );
        assert_eq!(dpk_address(2, 1), Some(0x0199));
        assert_eq!(dpk_address(3, 3), Some(0x019E));
        assert_eq!(dpk_address(4, 1), None);
        assert_eq!(dtk_address(1), Some(0x00B5));
        let time = request.time;
        let got = parse_hsm_pkey("00000007|20140801120001|0A0B0C0D|", time).unwrap();
        assert_eq!(got.terminal_serial, 7);
        assert_eq!(got.mac1, [0x0A, 0x0B, 0x0C, 0x0D]);
        assert!(parse_hsm_pkey("00000007|20140801120002|0A0B0C0D|", time).is_err());
        assert!(parse_hsm_pkey("7|20140801120001|0A0B0C0D|", time).is_err());
        assert!(parse_hsm_pkey("00000007|20140801120001|", time).is_err());
        assert!(!format!("{got:?}").contains("0A0B"));
    }
}
