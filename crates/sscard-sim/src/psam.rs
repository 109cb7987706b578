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
use sscard_core::keyholder::KeyFile;
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

    /// A PSAM holding every master key of `key_file` for `algorithm`.
    pub fn from_key_file(
        key_file: &KeyFile,
        algorithm: Algorithm,
        terminal_number: &str,
    ) -> Result<SimPsam, SimError> {
        let mut keys = Vec::new();
        for id in key_file.key_ids(algorithm) {
            let key = key_file
                .master_key(algorithm, id)
                .map_err(|e| SimError::KeyHolder(e.to_string()))?;
            keys.push((id.0, SecretBytes::from_slice(key.expose_bytes())));
        }
        if keys.is_empty() {
            return Err(SimError::KeyHolder(format!(
                "the key file has no {algorithm} keys"
            )));
        }
        SimPsam::new(algorithm, &keys, terminal_number)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::test_support::{h, master_key, split, test_factors};
    use sscard_core::apdu::commands;

    fn psam(alg: Algorithm) -> SimPsam {
        let keys: Vec<(u8, SecretBytes)> = [0x00, 0x04, 0x06, 0x07, 0x08, 0x0A, 0x0D, 0x20]
            .iter()
            .map(|id| (*id, SecretBytes::from_slice(&master_key(alg, *id))))
            .collect();
        SimPsam::new(alg, &keys, "410100813475").unwrap()
    }

    fn send(p: &mut SimPsam, apdu: &[u8]) -> (Vec<u8>, u16) {
        split(p.handle(apdu))
    }

    /// Sends, expects `61xx`, fetches with GET RESPONSE.
    fn fetch(p: &mut SimPsam, apdu: &[u8]) -> Vec<u8> {
        let (data, sw) = send(p, apdu);
        assert!(data.is_empty());
        assert_eq!(sw >> 8, 0x61, "{sw:04X}");
        let (data, sw) = send(p, &[0x00, 0xC0, 0x00, 0x00, sw as u8]);
        assert_eq!(sw, 0x9000);
        data
    }

    #[test]
    fn select_terminal_number_and_t0() {
        let mut p = psam(Algorithm::Sm4);
        // nothing before SELECT
        assert_eq!(send(&mut p, &h("00B0960006")).1, 0x6A82);
        assert_eq!(send(&mut p, &h("BFDE480408 0102030405060708")).1, 0x6985);
        let fci = fetch(&mut p, &commands::select_aid(&PSAM_AID).to_bytes().unwrap());
        assert_eq!(
            hex::encode_upper(&fci),
            "6F108406D15600000590A5069F0C03860103"
        );
        // case 3 SELECT still answers through GET RESPONSE
        assert_eq!(send(&mut p, &h("00A4040006D15600000590")).1, 0x6112);
        assert_eq!(send(&mut p, &h("00A4040006D15600000591")).1, 0x6A82);
        assert_eq!(send(&mut p, &h("00A4040006D15600000590")).1, 0x6112);
        let number = fetch(
            &mut p,
            &commands::read_binary_sfi(0x16, 0, 6).to_bytes().unwrap(),
        );
        assert_eq!(number, h("410100813475"));
        assert_eq!(fetch(&mut p, &h("00B0960202")), h("0081"));
        assert_eq!(send(&mut p, &h("00B0970006")).1, 0x6A82);
        assert_eq!(send(&mut p, &h("00B0960606")).1, 0x6B00);
        assert_eq!(send(&mut p, &h("00B0000006")).1, 0x6986);
        // GET RESPONSE: wrong Le, nothing pending
        assert_eq!(send(&mut p, &h("00B0960006")).1, 0x6106);
        assert_eq!(send(&mut p, &h("00C0000008")).1, 0x6C06);
        assert_eq!(send(&mut p, &h("00C0000006")).1, 0x9000);
        assert_eq!(send(&mut p, &h("00C0000006")).1, 0x6985);
        assert_eq!(send(&mut p, &h("00B2010400")).1, 0x6D00);
        assert_eq!(send(&mut p, &h("80A4040006D15600000590")).1, 0x6E00);
        assert_eq!(send(&mut p, &h("00DE480408 0102030405060708")).1, 0x6E00);
        assert_eq!(p.terminal_number(), "410100813475");
        assert_eq!(p.atr(), PSAM_ATR);
    }

    #[test]
    fn diversify_and_cipher_match_the_core_crypto() {
        for alg in Algorithm::ALL {
            let mut p = psam(alg);
            let b = alg.block_len();
            fetch(&mut p, &commands::select_aid(&PSAM_AID).to_bytes().unwrap());
            // no working key yet
            assert_eq!(
                send(
                    &mut p,
                    &commands::psam_encipher(&vec![0; b]).to_bytes().unwrap()
                )
                .1,
                0x6985
            );
            let factors = test_factors();
            let challenge: Vec<u8> = (0..b as u8).collect();
            let r8: [u8; 8] = challenge[..8].try_into().unwrap();
            let path = [factors.card, factors.city, r8];
            let diversify = commands::psam_diversify(0x04, &path).to_bytes().unwrap();
            assert_eq!(send(&mut p, &diversify).1, 0x9000);
            let cryptogram = fetch(
                &mut p,
                &commands::psam_encipher(&challenge).to_bytes().unwrap(),
            );
            let master = SecretKey::from_bytes(&master_key(alg, 0x04)).unwrap();
            let working = crypto::diversify_path(alg, &master, &path).unwrap();
            assert_eq!(
                cryptogram,
                crypto::encipher(alg, &working, &challenge)
                    .unwrap()
                    .to_vec()
            );
            // the card accepts it
            let card_key = crypto::diversify_path(alg, &master, &path[..2]).unwrap();
            assert_eq!(
                cryptogram,
                crypto::external_auth_cryptogram(alg, &card_key, &challenge)
                    .unwrap()
                    .to_vec()
            );
            // MAC
            let message = h("8424000004");
            let mac = fetch(
                &mut p,
                &commands::psam_mac(&challenge, &message).to_bytes().unwrap(),
            );
            assert_eq!(
                mac,
                crypto::mac(alg, &working, &challenge, &message)
                    .unwrap()
                    .to_vec()
            );
            // lengths and parameters
            assert_eq!(send(&mut p, &h("80FA0000030102 03")).1, 0x6700);
            assert_eq!(send(&mut p, &h("80FA050003010203")).1, 0x6700);
            assert_eq!(send(&mut p, &h("80FA010008 0000000000000000")).1, 0x6A86);
            assert_eq!(send(&mut p, &h("80FA000108 0000000000000000")).1, 0x6A86);
            assert_eq!(send(&mut p, &h("BFDE490408 0102030405060708")).1, 0x6A86);
            assert_eq!(send(&mut p, &h("BFDE480407 01020304050607")).1, 0x6700);
            assert_eq!(send(&mut p, &h("BFDE4855080102030405060708")).1, 0x6A88);
            // a failed DIVERSIFY leaves no working key
            assert_eq!(
                send(
                    &mut p,
                    &commands::psam_encipher(&vec![0; b]).to_bytes().unwrap()
                )
                .1,
                0x6985
            );
            // one and three factors
            assert_eq!(send(&mut p, &h("BFDE480A08 0102030405060708")).1, 0x9000);
            assert_eq!(
                send(
                    &mut p,
                    &commands::psam_encipher(&vec![0; b]).to_bytes().unwrap()
                )
                .1 >> 8,
                0x61
            );
            // reset forgets the selection and the working key
            p.reset();
            assert_eq!(
                send(
                    &mut p,
                    &commands::psam_encipher(&vec![0; b]).to_bytes().unwrap()
                )
                .1,
                0x6985
            );
        }
    }

    #[test]
    fn bad_psam_specs() {
        assert!(SimPsam::new(Algorithm::Tdes, &[], "12345").is_err());
        assert!(SimPsam::new(Algorithm::Tdes, &[], "12345678901A").is_err());
        let short = [(0x04, SecretBytes::from_slice(&[1, 2, 3]))];
        assert!(SimPsam::new(Algorithm::Tdes, &short, "123456789012").is_err());
        let key = [(0x04, SecretBytes::from_slice(&[0xAB; 16]))];
        let p = SimPsam::new(Algorithm::Tdes, &key, "123456789012").unwrap();
        assert!(!format!("{p:?}").contains("ABAB"));
    }
}
