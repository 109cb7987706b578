//! The terminal: the command flows of part 7 and of the reader-interface specification, with
//! the command formats of part 5.

use std::collections::BTreeMap;

use crate::apdu::{command, parse_tlvs, Response};
use crate::crypto::Algorithm;
use crate::data::{self, BasicInfo};
use crate::error::TerminalError;
use crate::keys::{CardContext, KeyRole, KeyService, RootKeys};
use crate::reader::Reader;

/// The SSSE's DF name "sx1.sh.社会保障" (part 6 table 1; V2.0 table 1).
pub const SSSE_AID: [u8; 15] = [
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
];

/// The PIN given to a card at personalization (profile D15).
pub const INITIAL_PIN: &str = "123456";

/// The FCI of the SSSE (part 5 table 36) and the algorithm it implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fci {
    /// The whole FCI as returned.
    pub raw: Vec<u8>,
    /// `84`: DF name.
    pub df_name: Vec<u8>,
    /// `88`: SFI of the directory file, when present.
    pub dir_sfi: Option<u8>,
    /// `9F0C`: issuer discretionary data, when present.
    pub issuer_data: Option<Vec<u8>>,
    /// The algorithm identifier of template `86` inside `9F0C`, when present (RI §10.1).
    pub algorithm_code: Option<u8>,
    /// The algorithm in use: from `86`, else the default of RI §10.1 (region `11…` → SSF33,
    /// otherwise DES).
    pub algorithm: Algorithm,
}

/// Where the terminal's random numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RandomSource {
    /// The terminal generates them (part 7 §5.4 for INTERNAL AUTHENTICATION, §6.4-§6.5 for the
    /// original of EXTERNAL AUTHENTICATION): only the process factor of EXTERNAL
    /// AUTHENTICATION comes from GET CHALLENGE.
    #[default]
    Terminal,
    /// Every random comes from the card through GET CHALLENGE, first the original then the
    /// process factor (RI §1.2.3 steps 5-6, §2.2.3 step 6; the field trace).
    Card,
}

/// The outcome of VERIFY (part 5 §6.14.5, part 7 §5.6-§5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    /// `9000`: the PIN is correct; for the probe (Lc = `00`), no PIN is set.
    Accepted,
    /// `63Cx`: wrong PIN (for the probe: a PIN is set); `x` tries remain.
    Rejected {
        /// Remaining tries.
        tries_left: u8,
    },
    /// `6983`: the PIN is blocked.
    Blocked,
}

/// The EF05 items a terminal reads first: what it needs to choose keys and flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSummary {
    /// `01` card identification code (16 bytes).
    pub card_id: Vec<u8>,
    /// `03` specification version, `None` when the record is absent.
    pub version: Option<String>,
    /// `07` card number, `None` when the record is absent.
    pub card_number: Option<String>,
}

/// A terminal for the social security card, computing with root keys through a
/// [`KeyService`] (by default [`RootKeys`]).
pub struct Terminal<R: Reader> {
    reader: R,
    keys: Box<dyn KeyService>,
    randoms: RandomSource,
    atr: Option<Vec<u8>>,
    fci: Option<Fci>,
    card_id: Option<Vec<u8>>,
    version: Option<String>,
    current_ef: Option<u8>,
}

impl<R: Reader> std::fmt::Debug for Terminal<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("randoms", &self.randoms)
            .field("fci", &self.fci)
            .field("card_id", &self.card_id.as_ref().map(hex::encode_upper))
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

fn status(name: &'static str, sw: u16) -> TerminalError {
    TerminalError::Status { command: name, sw }
}

/// Checks a PIN (4 to 16 decimal digits: part 5 §6.3.1, §6.14.2 Lc `02`-`08`; RI §4.1.3) and
/// packs it as `cn`.
fn pin_cn(pin: &str) -> Result<Vec<u8>, TerminalError> {
    let n = pin.len();
    if !(4..=16).contains(&n) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TerminalError::InvalidInput(
            "a PIN has 4 to 16 decimal digits".to_string(),
        ));
    }
    data::pack_cn(pin)
}

fn check_date(date: &str, what: &str) -> Result<(), TerminalError> {
    if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(TerminalError::InvalidInput(format!(
            "{what} {date:?} is not YYYYMMDD"
        )))
    }
}

impl<R: Reader> Terminal<R> {
    /// A terminal holding national root keys by role name (as in the test key file: `"IRK"`,
    /// `"RKSSSE"`, `"UKSSSE"`, `"PUK"`, `"STKSSSE"`, `"BK"`). The keys must suit the cards'
    /// algorithm (DES: 16 bytes, or 8 for a single-DES key; SM4: 16 bytes).
    pub fn new(reader: R, roots: BTreeMap<String, Vec<u8>>) -> Terminal<R> {
        Terminal::with_key_service(reader, Box::new(RootKeys::new(roots)))
    }

    /// A terminal asking `keys` for every computation (another key set, root level, or a
    /// replay of an encryption machine's answers).
    pub fn with_key_service(reader: R, keys: Box<dyn KeyService>) -> Terminal<R> {
        Terminal {
            reader,
            keys,
            randoms: RandomSource::default(),
            atr: None,
            fci: None,
            card_id: None,
            version: None,
            current_ef: None,
        }
    }

    /// Chooses where random numbers come from (default: [`RandomSource::Terminal`]).
    pub fn set_random_source(&mut self, source: RandomSource) {
        self.randoms = source;
    }

    /// The reader.
    pub fn reader(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably.
    pub fn reader_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Gives the reader back.
    pub fn into_reader(self) -> R {
        self.reader
    }

    /// The FCI of the last successful SSSE selection.
    pub fn fci(&self) -> Option<&Fci> {
        self.fci.as_ref()
    }

    /// Sends an APDU as it is and returns the card's answer, whatever its status word.
    ///
    /// The terminal does not follow what raw commands do to the card's state (selected file,
    /// security state); call [`Terminal::select_ssse`] afterwards when in doubt.
    pub fn transmit(&mut self, apdu: &[u8]) -> Result<Response, TerminalError> {
        let raw = self.reader.transmit(apdu)?;
        Response::parse(&raw)
    }

    /// Sends a command and requires `9000`; returns the response data.
    fn run(&mut self, name: &'static str, apdu: &[u8]) -> Result<Vec<u8>, TerminalError> {
        let r = self.transmit(apdu)?;
        if r.is_ok() {
            Ok(r.data)
        } else {
            Err(status(name, r.sw))
        }
    }

    /// The card's answer to reset (read once, then cached).
    pub fn atr(&mut self) -> Result<Vec<u8>, TerminalError> {
        if let Some(atr) = &self.atr {
            return Ok(atr.clone());
        }
        let atr = self.reader.atr()?;
        self.atr = Some(atr.clone());
        Ok(atr)
    }

    /// SELECT of the SSSE by name (part 5 §6.11, table 34: `00 A4 04 00 0F <name> 00`), then
    /// the algorithm (part 7 §5.3; RI §10.1).
    ///
    /// When the FCI has no algorithm template, the region code decides, which needs EF05
    /// record `01`: the terminal reads it then.
    pub fn select_ssse(&mut self) -> Result<Fci, TerminalError> {
        self.fci = None;
        self.current_ef = None;
        let apdu = command(0x00, 0xA4, 0x04, 0x00, &SSSE_AID, Some(0x00))?;
        let raw = self.run("SELECT", &apdu)?;
        let mut fci = parse_ssse_fci(&raw)?;
        if fci.df_name != SSSE_AID {
            return Err(TerminalError::Malformed(format!(
                "SELECT answered DF name {}",
                hex::encode_upper(&fci.df_name)
            )));
        }
        if fci.algorithm_code.is_none() {
            let card_id = self.read_card_id()?;
            fci.algorithm = if card_id.first() == Some(&0x11) {
                Algorithm::Ssf33
            } else {
                Algorithm::Des
            };
        }
        self.fci = Some(fci.clone());
        Ok(fci)
    }

    fn ensure_ssse(&mut self) -> Result<(), TerminalError> {
        if self.fci.is_none() {
            self.select_ssse()?;
        }
        Ok(())
    }

    fn algorithm(&self) -> Result<Algorithm, TerminalError> {
        self.fci
            .as_ref()
            .map(|f| f.algorithm)
            .ok_or(TerminalError::State("the SSSE is not selected"))
    }

    /// SELECT of an EF of the current DF by identifier (`00 A4 02 00 02 EF xx 00`), skipped
    /// when it is already the current EF.
    fn select_ef(&mut self, ef: u8) -> Result<(), TerminalError> {
        if self.current_ef == Some(ef) {
            return Ok(());
        }
        self.current_ef = None;
        let apdu = command(0x00, 0xA4, 0x02, 0x00, &[0xEF, ef], Some(0x00))?;
        self.run("SELECT", &apdu)?;
        self.current_ef = Some(ef);
        Ok(())
    }

    /// READ RECORD of the first record with identifier `tag` in the current EF (part 5 §6.10:
    /// P2 = `00`), Le = the item's length + 2 (the record is `tag ‖ length ‖ value`, profile
    /// D16). `None` when the record does not exist (`6A83`).
    fn read_record(&mut self, tag: u8, len: usize) -> Result<Option<Vec<u8>>, TerminalError> {
        let le = u8::try_from(len + 2)
            .map_err(|_| TerminalError::InvalidInput("record too long".to_string()))?;
        let r = self.transmit(&[0x00, 0xB2, tag, 0x00, le])?;
        if r.sw == 0x6A83 {
            return Ok(None);
        }
        if !r.is_ok() {
            return Err(status("READ RECORD", r.sw));
        }
        match r.data.as_slice() {
            [t, l, value @ ..]
                if *t == tag && usize::from(*l) == value.len() && value.len() == len =>
            {
                Ok(Some(value.to_vec()))
            }
            other => Err(TerminalError::Malformed(format!(
                "READ RECORD {tag:02X}: expected {tag:02X} {len:02X} and {len} bytes, got {}",
                hex::encode_upper(other)
            ))),
        }
    }

    /// Reads one EF05/EF06 item (selecting its file), `None` when its record is absent.
    pub fn read_item(&mut self, tag: u8) -> Result<Option<Vec<u8>>, TerminalError> {
        let spec = data::item_spec(tag).ok_or_else(|| {
            TerminalError::InvalidInput(format!("tag {tag:02X} is not an EF05/EF06 item"))
        })?;
        self.ensure_ssse()?;
        self.select_ef(spec.file)?;
        self.read_record(tag, spec.len)
    }

    fn read_card_id(&mut self) -> Result<Vec<u8>, TerminalError> {
        self.select_ef(0x05)?;
        let id = self
            .read_record(0x01, 0x10)?
            .ok_or(TerminalError::Malformed(
                "EF05 has no card identification code".to_string(),
            ))?;
        self.card_id = Some(id.clone());
        Ok(id)
    }

    /// Reads the EF05 items a terminal needs before anything else: card identification code
    /// (`01`, for the key factors), specification version (`03`, for the flow, RI §10.2) and
    /// card number (`07`, to check the card, RI §2.1.3 step 5), in that order.
    pub fn read_card_summary(&mut self) -> Result<CardSummary, TerminalError> {
        self.ensure_ssse()?;
        let card_id = self.read_card_id()?;
        let version = self.read_record(0x03, 0x04)?.map(|v| data::decode_an(&v));
        let card_number = self.read_record(0x07, 0x09)?.map(|v| data::decode_an(&v));
        self.version = Some(version.clone().unwrap_or_default());
        Ok(CardSummary {
            card_id,
            version,
            card_number,
        })
    }

    /// Everything the key service needs about this card: algorithm, region, ATR, card
    /// identification code (read from EF05 when not known yet).
    pub fn card_context(&mut self) -> Result<CardContext, TerminalError> {
        let algorithm = self.algorithm()?;
        let card_id = match &self.card_id {
            Some(id) => id.clone(),
            None => self.read_card_id()?,
        };
        let region = data::decode_cn(card_id.get(..3).unwrap_or_default());
        if region.len() != 6 || !region.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TerminalError::Malformed(format!(
                "card identification code {} does not start with a region code",
                hex::encode_upper(&card_id)
            )));
        }
        let atr = self.atr()?;
        Ok(CardContext {
            algorithm,
            region,
            atr,
            card_id,
        })
    }

    /// GET CHALLENGE for 8 bytes (part 5 §6.5: `00 84 00 00 08`; profile D7).
    pub fn get_challenge(&mut self) -> Result<[u8; 8], TerminalError> {
        let data = self.run("GET CHALLENGE", &[0x00, 0x84, 0x00, 0x00, 0x08])?;
        <[u8; 8]>::try_from(data.as_slice()).map_err(|_| {
            TerminalError::Malformed(format!("GET CHALLENGE answered {} bytes", data.len()))
        })
    }

    /// INTERNAL AUTHENTICATION with IRK (part 7 §5.4; part 5 §6.7):
    /// `00 88 00 00 10 <process factor> <original> 00`, then comparison of the card's 8 bytes
    /// with the expected authentication data.
    pub fn internal_authenticate(&mut self) -> Result<(), TerminalError> {
        self.ensure_ssse()?;
        let ctx = self.card_context()?;
        let (original, factor) = match self.randoms {
            RandomSource::Terminal => (rand::random::<[u8; 8]>(), rand::random::<[u8; 8]>()),
            RandomSource::Card => {
                let original = self.get_challenge()?;
                (original, self.get_challenge()?)
            }
        };
        let mut body = factor.to_vec();
        body.extend_from_slice(&original);
        let apdu = command(
            0x00,
            0x88,
            0x00,
            KeyRole::Irk.card_key_id(),
            &body,
            Some(0x00),
        )?;
        let answer = self.run("INTERNAL AUTHENTICATION", &apdu)?;
        if answer.len() != 8 {
            return Err(TerminalError::Malformed(format!(
                "INTERNAL AUTHENTICATION answered {} bytes",
                answer.len()
            )));
        }
        let expected = self
            .keys
            .auth_data(KeyRole::Irk, &ctx, &factor, &original)?;
        if answer == expected {
            Ok(())
        } else {
            Err(TerminalError::InternalAuthenticationFailed)
        }
    }

    /// EXTERNAL AUTHENTICATION with the key of `role` (part 7 §6.2-§6.6; part 5 §6.4):
    /// GET CHALLENGE, then `00 82 00 <key id> 10 <authentication data> <original>`.
    pub fn external_authenticate(&mut self, role: KeyRole) -> Result<(), TerminalError> {
        self.ensure_ssse()?;
        let ctx = self.card_context()?;
        let original = match self.randoms {
            RandomSource::Terminal => rand::random::<[u8; 8]>(),
            RandomSource::Card => self.get_challenge()?,
        };
        let factor = self.get_challenge()?;
        let auth = self.keys.auth_data(role, &ctx, &factor, &original)?;
        let mut body = auth.to_vec();
        body.extend_from_slice(&original);
        let apdu = command(0x00, 0x82, 0x00, role.card_key_id(), &body, None)?;
        self.run("EXTERNAL AUTHENTICATION", &apdu)?;
        Ok(())
    }

    /// Sends a maintenance command with secure messaging under STKSSSE (part 7 §13, profile
    /// D12): GET CHALLENGE, then `header ‖ data` where the data field (enciphered `plain` and
    /// MAC) comes from the key service.
    fn secure_command(
        &mut self,
        name: &'static str,
        cla_ins_p1_p2: [u8; 4],
        plain: Option<&[u8]>,
    ) -> Result<(), TerminalError> {
        let ctx = self.card_context()?;
        let block = ctx.algorithm.block_len();
        let enciphered_len = plain.map_or(0, |p| (1 + p.len()).div_ceil(block) * block);
        let lc = u8::try_from(enciphered_len + 4)
            .map_err(|_| TerminalError::InvalidInput("secure message too long".to_string()))?;
        let [cla, ins, p1, p2] = cla_ins_p1_p2;
        let header = [cla, ins, p1, p2, lc];
        let factor = self.get_challenge()?;
        let body = self
            .keys
            .secure_message(KeyRole::StkSsse, &ctx, &factor, &header, plain)?;
        if body.len() != usize::from(lc) {
            return Err(TerminalError::State(
                "the key service returned a data field of the wrong length",
            ));
        }
        let mut apdu = header.to_vec();
        apdu.extend_from_slice(&body);
        self.run(name, &apdu)?;
        Ok(())
    }

    /// Part 7 §5.4, IC card validity check: INTERNAL AUTHENTICATION with IRK, then READ
    /// RECORD of the issuer data (EF05) and the checks: specification version and card type
    /// supported, `issue date ≤ today ≤ expiry date`. `today` is `YYYYMMDD`. (The blacklist
    /// is out of scope.)
    pub fn check_validity(&mut self, today: &str) -> Result<(), TerminalError> {
        check_date(today, "today")?;
        self.ensure_ssse()?;
        self.internal_authenticate()?;
        let mut records = BTreeMap::new();
        for spec in data::SSSE_ITEMS.iter().filter(|s| s.file == 0x05) {
            self.select_ef(0x05)?;
            if let Some(v) = self.read_record(spec.tag, spec.len)? {
                records.insert(spec.tag, v);
            }
        }
        let info = BasicInfo::from_records(records);
        match data::major_version(&info.version) {
            Some(1..=3) => {}
            _ => return Err(TerminalError::UnsupportedVersion(info.version)),
        }
        if !matches!(info.card_type.as_str(), "1" | "2" | "3" | "4") {
            return Err(TerminalError::Malformed(format!(
                "card type {:?} is not one of V2.0 table 11",
                info.card_type
            )));
        }
        check_date(&info.issue_date, "issue date")
            .map_err(|_| TerminalError::Malformed(format!("issue date {:?}", info.issue_date)))?;
        check_date(&info.expiry_date, "expiry date")
            .map_err(|_| TerminalError::Malformed(format!("expiry date {:?}", info.expiry_date)))?;
        if today > info.expiry_date.as_str() {
            return Err(TerminalError::Expired {
                expiry: info.expiry_date,
                today: today.to_string(),
            });
        }
        if today < info.issue_date.as_str() {
            return Err(TerminalError::NotYetValid {
                issued: info.issue_date,
                today: today.to_string(),
            });
        }
        Ok(())
    }

    /// Reads every EF05 and EF06 item (RI §1.1.3 step 7). On 3.0 cards EF06 is protected by
    /// RKSSSE: EXTERNAL AUTHENTICATION with RKSSSE comes first (RI §10.2; profile D11). The
    /// name extension `4E` is read on 2.0 and 3.0 cards (RI §10.2). Absent records are left
    /// empty.
    pub fn read_basic(&mut self) -> Result<BasicInfo, TerminalError> {
        self.ensure_ssse()?;
        if self.version.is_none() || self.card_id.is_none() {
            self.read_card_summary()?;
        }
        let version = self.version.clone().unwrap_or_default();
        let major = data::major_version(&version)
            .ok_or_else(|| TerminalError::UnsupportedVersion(version.clone()))?;
        if major >= 3 {
            self.external_authenticate(KeyRole::RkSsse)?;
        }
        let mut records = BTreeMap::new();
        for spec in data::SSSE_ITEMS.iter() {
            if spec.tag == 0x4E && major < 2 {
                continue;
            }
            self.select_ef(spec.file)?;
            if let Some(v) = self.read_record(spec.tag, spec.len)? {
                records.insert(spec.tag, v);
            }
        }
        Ok(BasicInfo::from_records(records))
    }

    /// The `iReadCardBas` flow and output line (RI §1.1.2-§1.1.3): SELECT SSSE, EF05 summary,
    /// INTERNAL AUTHENTICATION, then [`Terminal::read_basic`]; the line is
    /// `region|social security number|card number|card id|name|historical bytes|version|issue date|expiry date|terminal number|device number|`
    /// with the card number cut to 9 characters (RI §10.4) and the terminal and device numbers
    /// empty.
    pub fn basic_line(&mut self) -> Result<String, TerminalError> {
        self.select_ssse()?;
        self.read_card_summary()?;
        self.internal_authenticate()?;
        let info = self.read_basic()?;
        let atr = self.atr()?;
        let hist = crate::crypto::historical_bytes(&atr)
            .map_err(|e| TerminalError::Malformed(e.to_string()))?;
        let card_number: String = info.card_number.chars().take(9).collect();
        Ok(format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|||",
            info.region(),
            info.ssn,
            card_number,
            hex::encode_upper(&info.card_id),
            info.name,
            hex::encode_upper(hist),
            info.version,
            info.issue_date,
            info.expiry_date,
        ))
    }

    /// Writes one EF05/EF06 item (part 5 §6.13: `00 DC <tag> 00 Lc <tag> <len> <value>`,
    /// addressing the record identifier; profile D14/D16), the value padded per V2.0 §7.
    /// The caller must have the update right (EXTERNAL AUTHENTICATION with UKSSSE).
    pub fn update_item(&mut self, tag: u8, value: &[u8]) -> Result<(), TerminalError> {
        let spec = data::item_spec(tag).ok_or_else(|| {
            TerminalError::InvalidInput(format!("tag {tag:02X} is not an EF05/EF06 item"))
        })?;
        let padded = data::pad_value(tag, value)?;
        let mut record = vec![tag, spec.len as u8];
        record.extend_from_slice(&padded);
        self.ensure_ssse()?;
        self.select_ef(spec.file)?;
        let apdu = command(0x00, 0xDC, tag, 0x00, &record, None)?;
        self.run("UPDATE RECORD", &apdu)?;
        if tag == 0x01 {
            self.card_id = Some(padded);
        } else if tag == 0x03 {
            self.version = Some(data::decode_an(&padded));
        }
        Ok(())
    }

    /// Personalization (part 10 §5.4; profile D15): EXTERNAL AUTHENTICATION with UKSSSE,
    /// UPDATE RECORD of every `(tag, value)` into EF05 or EF06 by the tag's file (V2.0 table 9),
    /// values padded per V2.0 §7, then PIN RELOAD to `123456`.
    pub fn personalize(&mut self, items: &[(u8, Vec<u8>)]) -> Result<(), TerminalError> {
        for (tag, value) in items {
            data::pad_value(*tag, value)?;
        }
        self.ensure_ssse()?;
        self.card_context()?;
        self.external_authenticate(KeyRole::UkSsse)?;
        for (tag, value) in items {
            self.update_item(*tag, value)?;
        }
        self.reload_pin(INITIAL_PIN)
    }

    fn pin_answer(r: &Response) -> Result<PinStatus, TerminalError> {
        match r.sw {
            0x9000 => Ok(PinStatus::Accepted),
            0x6983 => Ok(PinStatus::Blocked),
            sw if sw & 0xFFF0 == 0x63C0 => Ok(PinStatus::Rejected {
                tries_left: r.sw2() & 0x0F,
            }),
            sw => Err(status("VERIFY", sw)),
        }
    }

    /// VERIFY (part 5 §6.14: `00 20 00 00 Lc <PIN in cn>`).
    pub fn verify_pin(&mut self, pin: &str) -> Result<PinStatus, TerminalError> {
        let body = pin_cn(pin)?;
        self.ensure_ssse()?;
        let apdu = command(0x00, 0x20, 0x00, 0x00, &body, None)?;
        let r = self.transmit(&apdu)?;
        Self::pin_answer(&r)
    }

    /// VERIFY with Lc = `00` (part 7 §5.6): [`PinStatus::Accepted`] when no PIN is set,
    /// [`PinStatus::Rejected`] with the remaining tries when one is (the counter unchanged).
    pub fn pin_status(&mut self) -> Result<PinStatus, TerminalError> {
        self.ensure_ssse()?;
        let r = self.transmit(&[0x00, 0x20, 0x00, 0x00, 0x00])?;
        Self::pin_answer(&r)
    }

    /// CHANGE PIN (part 5 §6.3: `80 5E 01 00 Lc <old> FF <new>`, PINs in `cn`; an empty `old`
    /// is left out, for a card without PIN, §6.3.3).
    pub fn change_pin(&mut self, old: &str, new: &str) -> Result<(), TerminalError> {
        let mut body = if old.is_empty() {
            Vec::new()
        } else {
            pin_cn(old)?
        };
        body.push(0xFF);
        body.extend(pin_cn(new)?);
        self.ensure_ssse()?;
        let apdu = command(0x80, 0x5E, 0x01, 0x00, &body, None)?;
        self.run("CHANGE PIN", &apdu)?;
        Ok(())
    }

    /// PIN RELOAD (part 5 §6.8, P2 = `01`; profile D9, D12): EXTERNAL AUTHENTICATION with PUK,
    /// GET CHALLENGE, then `84 24 00 01 Lc <enciphered LD ‖ PIN> <MAC>` under STKSSSE
    /// (part 4 §8.2-§8.4), Lc `0C` (DES) or `14` (SM4) for a PIN of up to 7 bytes.
    pub fn reload_pin(&mut self, new: &str) -> Result<(), TerminalError> {
        let pin = pin_cn(new)?;
        self.ensure_ssse()?;
        self.external_authenticate(KeyRole::Puk)?;
        self.secure_command("PIN CHANGE/UNBLOCK", [0x84, 0x24, 0x00, 0x01], Some(&pin))
    }

    /// PIN UNBLOCK (part 5 §6.8, P2 = `00`, Lc `04`): EXTERNAL AUTHENTICATION with PUK, GET
    /// CHALLENGE, then `84 24 00 00 04 <MAC>` under STKSSSE.
    pub fn unblock_pin(&mut self) -> Result<(), TerminalError> {
        self.ensure_ssse()?;
        self.external_authenticate(KeyRole::Puk)?;
        self.secure_command("PIN CHANGE/UNBLOCK", [0x84, 0x24, 0x00, 0x00], None)
    }

    /// APPLICATION BLOCK of the SSSE (part 5 §6.1: `84 1E 00 01 04 <MAC>`; part 7 §13.2;
    /// profile D12): EXTERNAL AUTHENTICATION with BK, GET CHALLENGE, command with MAC under
    /// STKSSSE.
    pub fn block_application(&mut self) -> Result<(), TerminalError> {
        self.ensure_ssse()?;
        self.external_authenticate(KeyRole::Bk)?;
        self.secure_command("APPLICATION BLOCK", [0x84, 0x1E, 0x00, 0x01], None)?;
        self.fci = None;
        self.current_ef = None;
        Ok(())
    }

    /// CARD BLOCK (part 5 §6.2: `84 16 00 00 04 <MAC>`; part 7 §13.1; profile D12):
    /// EXTERNAL AUTHENTICATION with BK, GET CHALLENGE, command with MAC under STKSSSE.
    pub fn block_card(&mut self) -> Result<(), TerminalError> {
        self.ensure_ssse()?;
        self.external_authenticate(KeyRole::Bk)?;
        self.secure_command("CARD BLOCK", [0x84, 0x16, 0x00, 0x00], None)?;
        self.fci = None;
        self.current_ef = None;
        Ok(())
    }

    /// Reads `len` bytes of a transparent SSSE file (EF07 fingerprint, EF08 photo; V2.0 table 3)
    /// after EXTERNAL AUTHENTICATION with RKSSSE: SELECT `EF xx`, then READ BINARY
    /// (part 5 §6.9: `00 B0 <offset high> <offset low> <Le>`) in pieces of 256 bytes (Le
    /// `00`, §6.9.4) or less. Stops early, returning fewer bytes, when the card returns a
    /// short piece (end of file).
    pub fn read_binary_file(&mut self, ef: u8, len: usize) -> Result<Vec<u8>, TerminalError> {
        if len > 0x8000 {
            return Err(TerminalError::InvalidInput(
                "READ BINARY offsets stop at 7FFF".to_string(),
            ));
        }
        self.ensure_ssse()?;
        self.external_authenticate(KeyRole::RkSsse)?;
        self.select_ef(ef)?;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let offset = out.len();
            let want = (len - offset).min(256);
            let le = if want == 256 { 0x00 } else { want as u8 };
            let apdu = [0x00, 0xB0, (offset >> 8) as u8, (offset & 0xFF) as u8, le];
            let piece = self.run("READ BINARY", &apdu)?;
            if piece.len() > want {
                return Err(TerminalError::Malformed(format!(
                    "READ BINARY returned {} bytes for {want}",
                    piece.len()
                )));
            }
            out.extend_from_slice(&piece);
            if piece.len() < want {
                break;
            }
        }
        Ok(out)
    }
}

/// Parses the FCI of the SSSE (part 5 table 36): `6F { 84 name, A5 { 88 sfi?, 9F0C data? } }`,
/// the algorithm identifier being the first byte of `86` inside `9F0C` (RI §10.1).
pub fn parse_ssse_fci(raw: &[u8]) -> Result<Fci, TerminalError> {
    let outer = parse_tlvs(raw)?;
    let template = match outer.as_slice() {
        [t] if t.tag == [0x6F] => t,
        _ => {
            return Err(TerminalError::Malformed(
                "FCI is not one 6F template".to_string(),
            ))
        }
    };
    let inner = parse_tlvs(&template.value)?;
    let find = |list: &[crate::apdu::Tlv], tag: &[u8]| list.iter().find(|t| t.tag == tag).cloned();
    let df_name = find(&inner, &[0x84])
        .ok_or_else(|| TerminalError::Malformed("FCI without DF name (84)".to_string()))?
        .value;
    let proprietary = find(&inner, &[0xA5]).ok_or_else(|| {
        TerminalError::Malformed("FCI without proprietary template (A5)".to_string())
    })?;
    let a5 = parse_tlvs(&proprietary.value)?;
    let dir_sfi = find(&a5, &[0x88]).and_then(|t| t.value.first().copied());
    let issuer_data = find(&a5, &[0x9F, 0x0C]).map(|t| t.value);
    let algorithm_code = match &issuer_data {
        Some(d) => {
            let items = parse_tlvs(d)?;
            match find(&items, &[0x86]) {
                Some(t) => Some(*t.value.first().ok_or_else(|| {
                    TerminalError::Malformed("empty algorithm template (86)".to_string())
                })?),
                None => None,
            }
        }
        None => None,
    };
    let algorithm = match algorithm_code {
        Some(code) => {
            Algorithm::from_code(code).ok_or(TerminalError::UnsupportedAlgorithm(code))?
        }
        None => Algorithm::Des,
    };
    Ok(Fci {
        raw: raw.to_vec(),
        df_name,
        dir_sfi,
        issuer_data,
        algorithm_code,
        algorithm,
    })
}
