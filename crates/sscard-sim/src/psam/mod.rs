//! The simulated PSAM of part 9: the terminal's key holder card.
//!
//! # Files (part 9 §5)
//!
//! The MF (`3F00`, the DDF `sx1.sh.社会保障`) holds EF `0015` (card information, 15 bytes) and
//! EF `0016` (terminal number, 6 bytes cn); the ADF `DF01` (`D15600000590`) holds EF `0019`
//! (terminal transaction serial, 4 bytes) and the key records ([`PsamKey`]). Both DFs answer
//! SELECT with `6F { 84 <DF name>, A5 { 9F0C 03 86 01 <algorithm> } }` — the algorithm in the
//! FCI is \[design\], as the SSSE FCI of a card has it (part 5 table 36): part 9 distinguishes
//! its algorithm environments by DDF instead.
//!
//! # Commands (part 9 §9)
//!
//! - SELECT `00A4` (P1 `00` by FID: `3F00`, `DF01`; `02` an EF by FID; `04` by name);
//! - READ BINARY `00B0` of `0015`, `0016`, `0019` by SFI (P1 `100xxxxx`, an SFI is looked for in
//!   the current DF, then in the MF, \[design\]) or of the current EF;
//! - GET CHALLENGE `0084 0000 Le`;
//! - INITIALIZE ENVIRONMENT `BFEC 0000 01 <first byte of the card identification code>`;
//! - DELIVERY SESSION KEY `BFDE <usage> <key id> Lc <factors> <process factor>` in DF01: the key
//!   is diversified by the factors, which come from the last level applied to the first (card,
//!   city, province, \[design\] D6), then the process key of the process factor (one block:
//!   8 bytes for 3DES, 16 for SM4 and AES; part 9 §9.7.3, part 4 §8.4) is kept. Lc = M + 8N
//!   with N the key's number of diversifications, otherwise `6A80` (§9.7.4, §8 scheme one);
//! - CIPHER DATA `80FA P1 00 Lc <data>` with the kept key (`6901` without one): P1 `00`/`02`
//!   encipher (ECB); `05` MAC of one message whose first block is the initial value, `07`/`03`/
//!   `01` the same over several commands (first, next, last); a MAC is the 4 bytes of part 4
//!   §8.2.4 — the left half of the last block for 8-byte blocks, the XOR of its four 4-byte
//!   groups for 16-byte blocks (\[design\] D8). The message is padded by the terminal. A key of
//!   type `07` only enciphers, `06` only MACs (§6.3), otherwise `6985`;
//! - INIT SAM FOR PURCHASE `8070 0100 <1C + 8N> …` in DF01 (part 9 §9.9): the purchase key
//!   DPK of the key version the data names (type `02`, id = the version, part 9 table B1), its
//!   algorithm byte the card's (the FCI's, `6A88` otherwise, \[design\] D37), diversified by the
//!   N factors (`6A80` when N is not the key's level, as DELIVERY SESSION KEY), SESPK =
//!   DPK(card random ‖ card serial ‖ the last 2 bytes of the terminal serial), MAC1 over the
//!   three amounts ‖ type ‖ terminal number (EF 0016) ‖ date ‖ time; answers the terminal
//!   serial of EF 0019 and MAC1, and EF 0019 counts one up (`6985` at its maximum);
//! - CREDIT SAM FOR PURCHASE `8072 0000 04 <MAC2>` (part 9 §9.10): MAC2 over the three amounts
//!   with that SESPK, `9302` when wrong (\[design\] D37), `6901` without INIT SAM FOR PURCHASE;
//!   the session is gone either way;
//! - GET RESPONSE `00C0`: the PSAM runs T=0, every case 4 answer comes as `61xx` (`t0`).

mod image;

use rand::{rngs::StdRng, RngCore, SeedableRng};
use zeroize::Zeroizing;

use sscard_core::account::{PurchaseAmounts, TerminalNumber};
use sscard_core::apdu::commands::{CLA_ISO, CLA_PROPRIETARY, CLA_PSAM_KEY};
use sscard_core::apdu::instruction::{
    CIPHER_DATA, CREDIT_SAM_FOR_PURCHASE, DELIVERY_SESSION_KEY, GET_CHALLENGE, GET_RESPONSE,
    INITIALIZE_ENVIRONMENT, INIT_SAM_FOR_PURCHASE, READ_BINARY, SELECT,
};
use sscard_core::crypto::{self, account, diversify, reduce_mac, SecretKey};
use sscard_core::data::RegionCode;
use sscard_core::keys::RootKeys;
use sscard_core::profile::fci::Fci;
use sscard_core::profile::{PSAM_AID, SSSE_AID};
use sscard_core::Algorithm;

pub use image::{key_algorithm_byte, PsamImage, PsamKey, PsamSpec, PSAM_IMAGE_FORMAT};

use crate::apdu::{binary_address, binary_window, sw, with_ok, Apdu};
use crate::atr;
use crate::error::SimError;
use crate::t0;
use crate::virtual_card::VirtualCard;

/// The historical bytes of the simulated PSAM's ATR: `00 81` and ASCII `PSAMSI`.
pub const PSAM_HISTORICAL: [u8; 8] = [0x00, 0x81, 0x50, 0x53, 0x41, 0x4D, 0x53, 0x49];

/// FID of the MF, of the ADF and of the elementary files (part 9 §5).
const MF: u16 = 0x3F00;
const ADF: u16 = 0xDF01;
const EF_CARD_INFO: u16 = 0x0015;
const EF_TERMINAL: u16 = 0x0016;
const EF_SERIAL: u16 = 0x0019;

/// Key types that encipher and that compute MACs (part 9 §6.3).
const ENCIPHER_TYPES: [u8; 2] = [0x07, 0x08];
const MAC_TYPES: [u8; 2] = [0x06, 0x08];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Mf,
    Adf,
}

/// The process key DELIVERY SESSION KEY left, with the type of the key it came from.
struct Session {
    key: SecretKey,
    key_type: u8,
}

/// A purchase between INIT SAM FOR PURCHASE and CREDIT SAM FOR PURCHASE.
struct PurchaseSession {
    sespk: SecretKey,
    amounts: [u8; 12],
}

/// A simulated PSAM (see the module documentation).
pub struct SimPsam {
    image: PsamImage,
    rng: StdRng,
    df: Dir,
    ef: Option<u16>,
    challenge: Option<Zeroizing<Vec<u8>>>,
    environment: Option<u8>,
    session: Option<Session>,
    mac_state: Option<Zeroizing<Vec<u8>>>,
    pending: Option<Zeroizing<Vec<u8>>>,
    purchase: Option<PurchaseSession>,
}

impl std::fmt::Debug for SimPsam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPsam")
            .field("image", &self.image)
            .finish_non_exhaustive()
    }
}

impl SimPsam {
    /// A freshly powered PSAM running on `image` (validated first).
    pub fn new(image: PsamImage) -> Result<SimPsam, SimError> {
        image.validate()?;
        Ok(SimPsam {
            image,
            rng: StdRng::from_os_rng(),
            df: Dir::Mf,
            ef: None,
            challenge: None,
            environment: None,
            session: None,
            mac_state: None,
            pending: None,
            purchase: None,
        })
    }

    /// A PSAM built from root keys ([`PsamImage::from_root_keys`]).
    pub fn from_root_keys(keys: &RootKeys, spec: &PsamSpec) -> Result<SimPsam, SimError> {
        SimPsam::new(PsamImage::from_root_keys(keys, spec)?)
    }

    /// The PSAM's content.
    pub fn image(&self) -> &PsamImage {
        &self.image
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.image.algorithm
    }

    /// The terminal number (12 digits).
    pub fn terminal_number(&self) -> &str {
        &self.image.terminal_number
    }

    /// The byte the last INITIALIZE ENVIRONMENT gave, since the last reset.
    pub fn environment(&self) -> Option<u8> {
        self.environment
    }

    /// The ATR: basic T=0 (part 2 table 7) with [`PSAM_HISTORICAL`].
    pub fn atr(&self) -> Vec<u8> {
        atr::atr(&PSAM_HISTORICAL, true)
    }

    /// Makes GET CHALLENGE deterministic (tests).
    pub fn seed_rng(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// Reset: the MF is current, the session key, challenge and pending data are gone.
    pub fn reset(&mut self) {
        self.forget_session();
        self.environment = None;
        self.pending = None;
        self.df = Dir::Mf;
        self.ef = None;
    }

    /// What a reset or another DF ends: the session key, its MAC chaining, the purchase in
    /// progress and the challenge.
    fn forget_session(&mut self) {
        self.purchase = None;
        self.session = None;
        self.mac_state = None;
        self.challenge = None;
    }

    /// Processes one command APDU (never panics).
    pub fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.get(1) != Some(&0xC0) {
            self.pending = None;
        }
        match self.process(apdu) {
            Ok(bytes) => bytes,
            Err(status) => status.to_be_bytes().to_vec(),
        }
    }

    fn process(&mut self, bytes: &[u8]) -> Result<Vec<u8>, u16> {
        let (cla, ins) = match bytes {
            [cla, ins, _, _, ..] => (*cla, *ins),
            _ => return Err(sw::WRONG_LENGTH),
        };
        if !matches!(cla, CLA_ISO | CLA_PROPRIETARY | CLA_PSAM_KEY) {
            return Err(sw::CLA);
        }
        let class = match ins {
            SELECT | READ_BINARY | GET_CHALLENGE | GET_RESPONSE => CLA_ISO,
            DELIVERY_SESSION_KEY | INITIALIZE_ENVIRONMENT => CLA_PSAM_KEY,
            CIPHER_DATA | INIT_SAM_FOR_PURCHASE | CREDIT_SAM_FOR_PURCHASE => CLA_PROPRIETARY,
            _ => return Err(sw::INS),
        };
        if cla != class {
            return Err(sw::CLA);
        }
        let a = Apdu::parse(bytes)?;
        let reply = match ins {
            GET_RESPONSE => return t0::get_response(&mut self.pending, &a),
            SELECT => self.select(&a)?,
            READ_BINARY => return self.read_binary(&a).map(|data| with_ok(&data)),
            GET_CHALLENGE => return self.get_challenge(&a).map(|data| with_ok(&data)),
            INITIALIZE_ENVIRONMENT => self.initialize_environment(&a)?,
            DELIVERY_SESSION_KEY => self.delivery_session_key(&a)?,
            INIT_SAM_FOR_PURCHASE => self.init_sam_for_purchase(&a)?,
            CREDIT_SAM_FOR_PURCHASE => self.credit_sam_for_purchase(&a)?,
            _ => self.cipher_data(&a)?,
        };
        Ok(match reply {
            Some(data) => t0::announce(&mut self.pending, data),
            None => sw::OK.to_be_bytes().to_vec(),
        })
    }

    fn fci(&self, name: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(
            Fci {
                df_name: Some(name.to_vec()),
                directory_sfi: None,
                algorithm: Some(self.image.algorithm.to_byte()),
            }
            .to_bytes(),
        )
    }

    fn enter(&mut self, df: Dir) {
        if self.df != df {
            self.forget_session();
        }
        self.df = df;
        self.ef = None;
    }

    /// The elementary files of a DF.
    fn efs(df: Dir) -> &'static [u16] {
        match df {
            Dir::Mf => &[EF_CARD_INFO, EF_TERMINAL],
            Dir::Adf => &[EF_SERIAL],
        }
    }

    /// SELECT (part 9 §9.1).
    fn select(&mut self, a: &Apdu<'_>) -> Result<Option<Zeroizing<Vec<u8>>>, u16> {
        if a.p2 != 0x00 {
            return Err(sw::P1P2);
        }
        match a.p1 {
            0x00 => {
                let fid = match a.data {
                    [] => MF,
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => return Err(sw::WRONG_LENGTH),
                };
                let (df, name) = match fid {
                    MF => (Dir::Mf, &SSSE_AID[..]),
                    ADF => (Dir::Adf, &PSAM_AID[..]),
                    _ => return Err(sw::FILE_NOT_FOUND),
                };
                self.enter(df);
                Ok(Some(self.fci(name)))
            }
            0x02 => {
                let fid = match a.data {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => return Err(sw::WRONG_LENGTH),
                };
                if !SimPsam::efs(self.df).contains(&fid) {
                    return Err(sw::FILE_NOT_FOUND);
                }
                self.ef = Some(fid);
                Ok(None)
            }
            0x04 => {
                if !(5..=16).contains(&a.data.len()) {
                    return Err(sw::WRONG_LENGTH);
                }
                let df = if a.data == SSSE_AID.as_slice() {
                    Dir::Mf
                } else if a.data == PSAM_AID.as_slice() {
                    Dir::Adf
                } else {
                    return Err(sw::FILE_NOT_FOUND);
                };
                self.enter(df);
                Ok(Some(self.fci(a.data)))
            }
            _ => Err(sw::P1P2),
        }
    }

    fn ef_content(&self, fid: u16) -> Vec<u8> {
        match fid {
            EF_CARD_INFO => self.image.card_info(),
            EF_TERMINAL => self.image.terminal_info(),
            _ => self.image.transaction_serial.to_be_bytes().to_vec(),
        }
    }

    /// READ BINARY (part 5 §6.9 as the card does it; the PSAM's files are free to read, part 9
    /// tables 2-4).
    fn read_binary(&mut self, a: &Apdu<'_>) -> Result<Vec<u8>, u16> {
        a.no_data()?;
        let (fid, offset) = match binary_address(a.p1, a.p2)? {
            (Some(sfi), offset) => {
                let fid = u16::from(sfi);
                let found =
                    SimPsam::efs(self.df).contains(&fid) || SimPsam::efs(Dir::Mf).contains(&fid);
                if !found {
                    return Err(sw::FILE_NOT_FOUND);
                }
                self.ef = Some(fid);
                (fid, offset)
            }
            (None, offset) => (self.ef.ok_or(sw::NO_CURRENT_EF)?, offset),
        };
        let content = self.ef_content(fid);
        Ok(binary_window(&content, offset, a.le)?.to_vec())
    }

    /// GET CHALLENGE (part 9 §9.2): Le `04`/`08`, and `10` on 16-byte-block PSAMs.
    fn get_challenge(&mut self, a: &Apdu<'_>) -> Result<Vec<u8>, u16> {
        a.p1p2(0, 0)?;
        a.no_data()?;
        let len = match (a.le, self.image.algorithm.block_len()) {
            (Some(len @ (4 | 8)), _) | (Some(len @ 16), 16) => len,
            _ => return Err(sw::WRONG_LENGTH),
        };
        let mut out = Zeroizing::new(vec![0u8; len]);
        self.rng.fill_bytes(&mut out);
        self.challenge = Some(out.clone());
        Ok(out.to_vec())
    }

    /// INITIALIZE ENVIRONMENT (part 9 §9.3): one byte, the first of a card identification code
    /// (the province digits of the region, BCD); `6A80` for anything else. Nothing depends on
    /// it in the simulator.
    fn initialize_environment(&mut self, a: &Apdu<'_>) -> Result<Option<Zeroizing<Vec<u8>>>, u16> {
        a.p1p2(0, 0)?;
        let byte = match a.data {
            [b] => *b,
            _ => return Err(sw::WRONG_LENGTH),
        };
        if RegionCode::parse(&format!("{byte:02X}0000")).is_err() {
            return Err(sw::WRONG_DATA);
        }
        self.environment = Some(byte);
        Ok(None)
    }

    /// DELIVERY SESSION KEY (part 9 §9.7, see the module documentation).
    fn delivery_session_key(&mut self, a: &Apdu<'_>) -> Result<Option<Zeroizing<Vec<u8>>>, u16> {
        self.session = None;
        self.mac_state = None;
        if self.df != Dir::Adf {
            return Err(sw::CONDITIONS);
        }
        let alg = self.image.algorithm;
        let m = alg.block_len();
        let n = a
            .data
            .len()
            .checked_sub(m)
            .filter(|rest| rest % 8 == 0 && rest / 8 <= 3)
            .map(|rest| rest / 8)
            .ok_or(sw::WRONG_LENGTH)?;
        let record = self.image.key(a.p1 & 0x1F, a.p2).ok_or(sw::NOT_FOUND)?;
        if usize::from(record.levels()) != n || a.p1 >> 5 != record.levels() {
            return Err(sw::WRONG_DATA);
        }
        let (factors, process_factor) = a.data.split_at(8 * n);
        let mut key = SecretKey::from_bytes(record.value.expose()).map_err(|_| sw::NOT_FOUND)?;
        // the factors come last level first: apply them in reverse
        for factor in factors.chunks_exact(8).rev() {
            let factor: [u8; 8] = factor.try_into().map_err(|_| sw::WRONG_LENGTH)?;
            key = diversify(alg, &key, &factor).map_err(|_| sw::WRONG_DATA)?;
        }
        let session = crypto::process_key(alg, &key, process_factor).map_err(|_| sw::WRONG_DATA)?;
        self.session = Some(Session {
            key: session,
            key_type: record.key_type(),
        });
        Ok(None)
    }

    /// INIT SAM FOR PURCHASE (part 9 §9.9, see the module documentation).
    fn init_sam_for_purchase(&mut self, a: &Apdu<'_>) -> Result<Option<Zeroizing<Vec<u8>>>, u16> {
        self.purchase = None;
        if self.df != Dir::Adf {
            return Err(sw::CONDITIONS);
        }
        a.p1p2(0x01, 0x00)?;
        let n = a
            .data
            .len()
            .checked_sub(0x1C)
            .filter(|rest| rest % 8 == 0 && (1..=3).contains(&(rest / 8)))
            .map(|rest| rest / 8)
            .ok_or(sw::WRONG_LENGTH)?;
        let (fixed, factors) = a.data.split_at(0x1C);
        let alg = self.image.algorithm;
        // the key version names the DPK (type 02, id = version); the algorithm byte the card's
        let (version, alg_byte) = (fixed[26], fixed[27]);
        let record = self.image.key(0x02, version).ok_or(sw::NOT_FOUND)?;
        if alg_byte != alg.to_byte() {
            return Err(sw::NOT_FOUND);
        }
        if usize::from(record.levels()) != n {
            return Err(sw::WRONG_DATA);
        }
        let serial = self.image.transaction_serial;
        let next = serial.checked_add(1).ok_or(sw::CONDITIONS)?;
        let mut key = SecretKey::from_bytes(record.value.expose()).map_err(|_| sw::NOT_FOUND)?;
        for factor in factors.chunks_exact(8).rev() {
            let factor: [u8; 8] = factor.try_into().map_err(|_| sw::WRONG_LENGTH)?;
            key = diversify(alg, &key, &factor).map_err(|_| sw::WRONG_DATA)?;
        }
        let random: [u8; 4] = fixed[..4].try_into().map_err(|_| sw::WRONG_LENGTH)?;
        let card_serial = u16::from_be_bytes([fixed[4], fixed[5]]);
        let amounts: [u8; 12] = fixed[6..18].try_into().map_err(|_| sw::WRONG_LENGTH)?;
        let type_byte = fixed[18];
        let time: [u8; 7] = fixed[19..26].try_into().map_err(|_| sw::WRONG_LENGTH)?;
        let terminal: [u8; 6] = self
            .image
            .terminal_info()
            .try_into()
            .map_err(|_| sw::CONDITIONS)?;
        let sespk =
            account::sespk(alg, &key, random, card_serial, serial).map_err(|_| sw::WRONG_DATA)?;
        let mac1 = account::purchase_mac1(
            alg,
            &sespk,
            PurchaseAmounts::from_bytes(&amounts),
            type_byte,
            TerminalNumber(terminal),
            time,
        )
        .map_err(|_| sw::WRONG_DATA)?;
        self.image.transaction_serial = next;
        self.purchase = Some(PurchaseSession { sespk, amounts });
        let mut out = Zeroizing::new(serial.to_be_bytes().to_vec());
        out.extend_from_slice(&mac1);
        Ok(Some(out))
    }

    /// CREDIT SAM FOR PURCHASE (part 9 §9.10, see the module documentation).
    fn credit_sam_for_purchase(&mut self, a: &Apdu<'_>) -> Result<Option<Zeroizing<Vec<u8>>>, u16> {
        a.p1p2(0x00, 0x00)?;
        if a.data.len() != 4 {
            return Err(sw::WRONG_LENGTH);
        }
        let session = self.purchase.take().ok_or(sw::NOT_ACCEPTED)?;
        let expected = account::purchase_mac2(
            self.image.algorithm,
            &session.sespk,
            PurchaseAmounts::from_bytes(&session.amounts),
        )
        .map_err(|_| sw::WRONG_DATA)?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], a.data)) {
            return Err(sw::MAC_INVALID);
        }
        Ok(None)
    }

    /// CIPHER DATA (part 9 §9.8, see the module documentation).
    fn cipher_data(&mut self, a: &Apdu<'_>) -> Result<Option<Zeroizing<Vec<u8>>>, u16> {
        if a.p2 != 0x00 || !matches!(a.p1, 0x00 | 0x01 | 0x02 | 0x03 | 0x05 | 0x07) {
            return Err(sw::P1P2);
        }
        let alg = self.image.algorithm;
        let b = alg.block_len();
        let (min, max) = if a.p1 == 0x05 {
            (2 * b, 8 * b)
        } else {
            (b, 8 * b)
        };
        let len = a.data.len();
        if len < min || len > max || len % b != 0 {
            return Err(sw::WRONG_LENGTH);
        }
        let session = self.session.as_ref().ok_or(sw::NOT_ACCEPTED)?;
        let encipher = matches!(a.p1, 0x00 | 0x02);
        let allowed: &[u8] = if encipher {
            &ENCIPHER_TYPES
        } else {
            &MAC_TYPES
        };
        if !allowed.contains(&session.key_type) {
            return Err(sw::CONDITIONS);
        }
        if encipher {
            let out = crypto::encipher(alg, &session.key, a.data).map_err(|_| sw::WRONG_LENGTH)?;
            return Ok(Some(out));
        }
        let (mut state, blocks) = match a.p1 {
            0x05 | 0x07 => {
                self.mac_state = None;
                let (iv, blocks) = a.data.split_at(b);
                (Zeroizing::new(iv.to_vec()), blocks)
            }
            _ => (self.mac_state.take().ok_or(sw::CONDITIONS)?, a.data),
        };
        for block in blocks.chunks(b) {
            for (s, d) in state.iter_mut().zip(block) {
                *s ^= d;
            }
            let next = crypto::encipher(alg, &session.key, &state).map_err(|_| sw::WRONG_LENGTH)?;
            state = next;
        }
        match a.p1 {
            0x07 | 0x03 => {
                self.mac_state = Some(state);
                Ok(None)
            }
            _ => Ok(Some(Zeroizing::new(reduce_mac(alg, &state).to_vec()))),
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

#[cfg(test)]
mod tests;
