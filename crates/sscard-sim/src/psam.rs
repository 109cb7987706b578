//! The simulated PSAM: the terminal's key holder card of docs/card-os.md §5.
//!
//! It holds the issuer's master keys for one algorithm and a terminal number, and answers:
//! - SELECT `00A4 0400 06 D15600000590`: FCI `6F 84 <AID> A5 (9F0C 03 86 01 <alg>)`;
//! - READ BINARY `00B0 9600 06`: the terminal number (EF 0016, 6 bytes BCD);
//! - DIVERSIFY `BFDE 48 <key id> Lc <factor>...`: working key = master key diversified by each
//!   factor in order (`6A88` unknown key);
//! - CIPHER `80FA 00 00 Lc <blocks>` (ECB encipher) and `80FA 05 00 Lc <IV ‖ message>` (MAC);
//! - GET RESPONSE: a PSAM always runs T=0, every result comes as `61xx` + GET RESPONSE.
//!
//! ATR: `3B 68 00 00` ‖ `00 81 50 53 41 4D 53 49` (TB1, TC1 `00`, T=0 only, no TCK).

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use sscard_core::apdu::{instruction as ins, Command, StatusWord};
use sscard_core::crypto::{self, SecretKey};
use sscard_core::profile::PSAM_AID;
use sscard_core::Algorithm;

use crate::error::SimError;
use crate::image::SecretBytes;
use crate::t0;
use crate::transport::VirtualCard;

/// The simulated PSAM's ATR.
pub const PSAM_ATR: [u8; 12] = [
    0x3B, 0x68, 0x00, 0x00, 0x00, 0x81, 0x50, 0x53, 0x41, 0x4D, 0x53, 0x49,
];

/// SFI of the terminal number file EF 0016.
const TERMINAL_NUMBER_SFI: u8 = 0x16;

/// A simulated PSAM holding master keys for one algorithm.
pub struct SimPsam {
    algorithm: Algorithm,
    master_keys: BTreeMap<u8, SecretBytes>,
    terminal_number: [u8; 6],
    selected: bool,
    working_key: Option<SecretKey>,
    pending: Option<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for SimPsam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPsam")
            .field("algorithm", &self.algorithm)
            .field("key_ids", &self.master_keys.keys().collect::<Vec<_>>())
            .field("terminal_number", &hex::encode_upper(self.terminal_number))
            .finish_non_exhaustive()
    }
}

impl SimPsam {
    /// A PSAM for `algorithm` with `master_keys` (16 bytes each, by key id) and a 12-digit
    /// `terminal_number`.
    pub fn new(
        algorithm: Algorithm,
        master_keys: &[(u8, SecretBytes)],
        terminal_number: &str,
    ) -> Result<SimPsam, SimError> {
        if terminal_number.len() != 12 || !terminal_number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SimError::InvalidSpec(format!(
                "terminal number {terminal_number:?} is not 12 digits"
            )));
        }
        let mut bcd = [0u8; 6];
        hex::decode_to_slice(terminal_number, &mut bcd)
            .map_err(|e| SimError::InvalidSpec(format!("terminal number: {e}")))?;
        let mut keys = BTreeMap::new();
        for (id, key) in master_keys {
            if key.len() != 16 {
                return Err(SimError::InvalidSpec(format!(
                    "master key {id:02X} has {} bytes, not 16",
                    key.len()
                )));
            }
            keys.insert(*id, key.clone());
        }
        Ok(SimPsam {
            algorithm,
            master_keys: keys,
            terminal_number: bcd,
            selected: false,
            working_key: None,
            pending: None,
        })
    }

    /// The PSAM's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The terminal number (12 digits).
    pub fn terminal_number(&self) -> String {
        hex::encode(self.terminal_number)
    }

    /// The ATR.
    pub fn atr(&self) -> Vec<u8> {
        PSAM_ATR.to_vec()
    }

    /// Reset: deselects, forgets the working key and pending data.
    pub fn reset(&mut self) {
        self.selected = false;
        self.working_key = None;
        self.pending = None;
    }

    /// Processes one command APDU (never panics).
    pub fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.get(1) != Some(&ins::GET_RESPONSE) {
            self.pending = None;
        }
        match self.process(apdu) {
            Ok(bytes) => bytes,
            Err(sw) => sw.to_bytes().to_vec(),
        }
    }

    fn process(&mut self, apdu: &[u8]) -> Result<Vec<u8>, StatusWord> {
        let (cla, ins_byte) = match apdu {
            [cla, ins, _, _, ..] => (*cla, *ins),
            _ => return Err(StatusWord::WrongLength),
        };
        let expected_cla = match ins_byte {
            ins::SELECT | ins::READ_BINARY | ins::GET_RESPONSE => 0x00,
            ins::PSAM_DIVERSIFY => 0xBF,
            ins::PSAM_CIPHER => 0x80,
            _ => return Err(StatusWord::InsNotSupported),
        };
        if cla != expected_cla {
            return Err(StatusWord::ClaNotSupported);
        }
        let command = Command::parse(apdu).map_err(|_| StatusWord::WrongLength)?;
        let data = match ins_byte {
            ins::GET_RESPONSE => return t0::get_response(&mut self.pending, &command),
            ins::SELECT => self.select(&command)?,
            ins::READ_BINARY => self.read_binary(&command)?,
            ins::PSAM_DIVERSIFY => self.diversify(&command)?,
            _ => self.cipher(&command)?,
        };
        Ok(match data {
            Some(data) if !data.is_empty() => t0::announce(&mut self.pending, data),
            _ => StatusWord::Ok.to_bytes().to_vec(),
        })
    }

    fn select(&mut self, command: &Command) -> Result<Option<Zeroizing<Vec<u8>>>, StatusWord> {
        if command.p1 != 0x04 || command.p2 != 0x00 {
            return Err(StatusWord::IncorrectP1P2);
        }
        if command.data().is_empty() {
            return Err(StatusWord::WrongLength);
        }
        if command.data() != PSAM_AID.as_slice() {
            return Err(StatusWord::FileNotFound);
        }
        self.selected = true;
        self.working_key = None;
        let a5 = [0x9F, 0x0C, 0x03, 0x86, 0x01, self.algorithm.to_byte()];
        let mut body = vec![0x84, PSAM_AID.len() as u8];
        body.extend_from_slice(&PSAM_AID);
        body.push(0xA5);
        body.push(a5.len() as u8);
        body.extend_from_slice(&a5);
        let mut fci = vec![0x6F, body.len() as u8];
        fci.extend_from_slice(&body);
        Ok(Some(Zeroizing::new(fci)))
    }

    /// READ BINARY by SFI (`P1 = 80 | SFI`, P2 = offset): only EF 0016, the terminal number.
    fn read_binary(&mut self, command: &Command) -> Result<Option<Zeroizing<Vec<u8>>>, StatusWord> {
        if command.p1 & 0x80 == 0 {
            return Err(StatusWord::NoCurrentEf);
        }
        if command.p1 & 0x60 != 0 {
            return Err(StatusWord::IncorrectP1P2);
        }
        if !command.data().is_empty() {
            return Err(StatusWord::WrongLength);
        }
        if !self.selected || command.p1 & 0x1F != TERMINAL_NUMBER_SFI {
            return Err(StatusWord::FileNotFound);
        }
        let rest = self
            .terminal_number
            .get(usize::from(command.p2)..)
            .filter(|rest| !rest.is_empty())
            .ok_or(StatusWord::WrongP1P2)?;
        let take = command.le().unwrap_or(rest.len()).min(rest.len());
        Ok(Some(Zeroizing::new(
            rest.get(..take).unwrap_or_default().to_vec(),
        )))
    }

    /// DIVERSIFY `BFDE 48 <key id> Lc <factor 1> [<factor 2> [<factor 3>]]`.
    fn diversify(&mut self, command: &Command) -> Result<Option<Zeroizing<Vec<u8>>>, StatusWord> {
        if command.p1 != 0x48 {
            return Err(StatusWord::IncorrectP1P2);
        }
        if !self.selected {
            return Err(StatusWord::ConditionsNotSatisfied);
        }
        let data = command.data();
        if !matches!(data.len(), 8 | 16 | 24) {
            return Err(StatusWord::WrongLength);
        }
        self.working_key = None;
        let master = self
            .master_keys
            .get(&command.p2)
            .ok_or(StatusWord::ReferenceNotFound)?;
        let factors: Vec<[u8; 8]> = data
            .chunks_exact(8)
            .filter_map(|chunk| <[u8; 8]>::try_from(chunk).ok())
            .collect();
        let master =
            SecretKey::from_bytes(master.expose()).map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        let working = crypto::diversify_path(self.algorithm, &master, &factors)
            .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        self.working_key = Some(working);
        Ok(None)
    }

    /// CIPHER `80FA 00 00 Lc <blocks>` (encipher) or `80FA 05 00 Lc <IV ‖ message>` (MAC).
    fn cipher(&mut self, command: &Command) -> Result<Option<Zeroizing<Vec<u8>>>, StatusWord> {
        if command.p2 != 0x00 || !matches!(command.p1, 0x00 | 0x05) {
            return Err(StatusWord::IncorrectP1P2);
        }
        let b = self.algorithm.block_len();
        let data = command.data();
        let key = self
            .working_key
            .as_ref()
            .ok_or(StatusWord::ConditionsNotSatisfied)?;
        if command.p1 == 0x00 {
            if data.is_empty() || data.len() % b != 0 {
                return Err(StatusWord::WrongLength);
            }
            let out = crypto::encipher(self.algorithm, key, data)
                .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
            Ok(Some(out))
        } else {
            let (iv, message) = data.split_at_checked(b).ok_or(StatusWord::WrongLength)?;
            let mac = crypto::mac(self.algorithm, key, iv, message)
                .map_err(|_| StatusWord::NoPreciseDiagnosis)?;
            Ok(Some(Zeroizing::new(mac.to_vec())))
        }
    }
}

impl VirtualCard for SimPsam {
    fn atr(&self) -> Vec<u8> {
        SimPsam::atr(self)
    }
    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        SimPsam::handle(self, apdu)
    }
    fn reset(&mut self) {
        SimPsam::reset(self)
    }
}
