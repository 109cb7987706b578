//! A PSAM as key holder, spoken to with the commands of `docs/card-os.md` §5.

use std::fmt;

use zeroize::Zeroizing;

use super::{fci, KeyHolder, KeyHolderError};
use crate::apdu::{commands, Command, Response, StatusWord};
use crate::channel::Channel;
use crate::crypto::{CryptoError, KeyId, MAC_LEN};
use crate::profile::PSAM_AID;
use crate::transport::Transport;
use crate::Algorithm;

/// Most factors one DIVERSIFY takes (Lc = `18`).
pub const MAX_FACTORS: usize = 3;

/// Short file identifier of the PSAM's terminal number file EF 0016.
const TERMINAL_NUMBER_SFI: u8 = 0x16;
/// Length of the terminal number: 6 bytes BCD, 12 digits.
const TERMINAL_NUMBER_LEN: u8 = 6;

/// A PSAM holding the issuer's master keys, behind its own [`Channel`].
///
/// [`PsamKeyHolder::open`] selects the PSAM application `D15600000590` once, takes the
/// algorithm from its FCI (`9F0C 03 86 01 xx`, absent means 3DES) and reads the terminal
/// number (`00B0 9600 06`). Then each operation is one DIVERSIFY (`BFDE 48 <key id> Lc
/// <factors>`) and one CIPHER (`80FA 00|05 00 …`); the channel hides the PSAM's `61xx`. When
/// the transport reports a reset, the application is selected again before the next operation.
pub struct PsamKeyHolder<T: Transport> {
    channel: Channel<T>,
    algorithm: Algorithm,
    terminal_number: Option<String>,
    epoch: u64,
}

impl<T: Transport> fmt::Debug for PsamKeyHolder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsamKeyHolder")
            .field("algorithm", &self.algorithm)
            .field("terminal_number", &self.terminal_number)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> PsamKeyHolder<T> {
    /// Opens the PSAM on `transport`: SELECT, algorithm, terminal number.
    pub fn open(transport: T) -> Result<Self, KeyHolderError> {
        PsamKeyHolder::with_channel(Channel::new(transport))
    }

    /// Like [`PsamKeyHolder::open`] on an existing channel (e.g. one with a tracer installed).
    pub fn with_channel(mut channel: Channel<T>) -> Result<Self, KeyHolderError> {
        let epoch = channel.reset_epoch();
        let algorithm = select(&mut channel)?;
        let terminal_number = read_terminal_number(&mut channel)?;
        Ok(PsamKeyHolder {
            channel,
            algorithm,
            terminal_number,
            epoch,
        })
    }

    /// The PSAM's algorithm (one per PSAM).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The channel to the PSAM (e.g. to install a tracer or count APDUs).
    pub fn channel(&self) -> &Channel<T> {
        &self.channel
    }

    /// The channel to the PSAM, mutable.
    pub fn channel_mut(&mut self) -> &mut Channel<T> {
        &mut self.channel
    }

    /// Gives the transport back.
    pub fn into_inner(self) -> T {
        self.channel.into_inner()
    }

    /// Selects the application again if the PSAM was reset since it was last selected.
    fn ensure_selected(&mut self) -> Result<(), KeyHolderError> {
        let epoch = self.channel.reset_epoch();
        if epoch != self.epoch {
            let algorithm = select(&mut self.channel)?;
            if algorithm != self.algorithm {
                return Err(KeyHolderError::MalformedResponse {
                    command: "SELECT",
                    reason: format!(
                        "the PSAM changed its algorithm from {} to {algorithm} after a reset",
                        self.algorithm
                    ),
                });
            }
            self.epoch = epoch;
        }
        Ok(())
    }

    fn check_algorithm(&self, alg: Algorithm) -> Result<(), KeyHolderError> {
        if alg == self.algorithm {
            Ok(())
        } else {
            Err(KeyHolderError::AlgorithmNotHeld(alg))
        }
    }

    /// DIVERSIFY: the working key becomes master key `key` diversified by `factors`.
    fn diversify(&mut self, key: KeyId, factors: &[[u8; 8]]) -> Result<(), KeyHolderError> {
        if factors.is_empty() || factors.len() > MAX_FACTORS {
            return Err(KeyHolderError::FactorCount(factors.len()));
        }
        self.ensure_selected()?;
        let response = self
            .channel
            .send(&commands::psam_diversify(key.0, factors))?;
        match response.sw() {
            StatusWord::Ok => Ok(()),
            StatusWord::ReferenceNotFound => Err(KeyHolderError::UnknownKey {
                algorithm: self.algorithm,
                key,
            }),
            sw => Err(KeyHolderError::Psam {
                command: "DIVERSIFY",
                sw,
            }),
        }
    }

    /// CIPHER with the working key; the response data, which must be `expected_len` bytes.
    fn cipher(
        &mut self,
        command: &Command,
        expected_len: usize,
    ) -> Result<Zeroizing<Vec<u8>>, KeyHolderError> {
        let response: Response = self.channel.send(command)?;
        let sw = response.sw();
        let data = Zeroizing::new(response.into_data());
        if sw != StatusWord::Ok {
            return Err(KeyHolderError::Psam {
                command: "CIPHER",
                sw,
            });
        }
        if data.len() != expected_len {
            return Err(KeyHolderError::MalformedResponse {
                command: "CIPHER",
                reason: format!("{} bytes instead of {expected_len}", data.len()),
            });
        }
        Ok(data)
    }
}

/// SELECT the PSAM application; its algorithm.
fn select<T: Transport>(channel: &mut Channel<T>) -> Result<Algorithm, KeyHolderError> {
    let response = channel.send(&commands::select_aid(&PSAM_AID))?;
    if !response.is_ok() {
        return Err(KeyHolderError::NotPsam(response.sw()));
    }
    let byte = fci::algorithm_byte(response.data()).map_err(|reason| {
        KeyHolderError::MalformedResponse {
            command: "SELECT",
            reason,
        }
    })?;
    match byte {
        None => Ok(Algorithm::Tdes),
        Some(b) => Algorithm::from_byte(b).map_err(KeyHolderError::PsamAlgorithm),
    }
}

/// READ BINARY EF 0016: the terminal number, 12 BCD digits; `None` when the file is absent.
fn read_terminal_number<T: Transport>(
    channel: &mut Channel<T>,
) -> Result<Option<String>, KeyHolderError> {
    const COMMAND: &str = "READ BINARY (terminal number)";
    let response = channel.send(&commands::read_binary_sfi(
        TERMINAL_NUMBER_SFI,
        0,
        TERMINAL_NUMBER_LEN,
    ))?;
    match response.sw() {
        StatusWord::Ok => {}
        StatusWord::FileNotFound => return Ok(None),
        sw => {
            return Err(KeyHolderError::Psam {
                command: COMMAND,
                sw,
            })
        }
    }
    let data = response.data();
    if data.len() != usize::from(TERMINAL_NUMBER_LEN) {
        return Err(KeyHolderError::MalformedResponse {
            command: COMMAND,
            reason: format!("{} bytes instead of {TERMINAL_NUMBER_LEN}", data.len()),
        });
    }
    let mut digits = String::with_capacity(12);
    for nibble in data.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        if nibble > 9 {
            return Err(KeyHolderError::MalformedResponse {
                command: COMMAND,
                reason: format!("{} is not 12 BCD digits", hex::encode_upper(data)),
            });
        }
        digits.push(char::from(b'0' + nibble));
    }
    Ok(Some(digits))
}

impl<T: Transport> KeyHolder for PsamKeyHolder<T> {
    fn supports(&self, alg: Algorithm) -> bool {
        alg == self.algorithm
    }

    fn encipher(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyHolderError> {
        self.check_algorithm(alg)?;
        let block = alg.block_len();
        if data.is_empty() || data.len() % block != 0 {
            return Err(CryptoError::NotWholeBlocks {
                len: data.len(),
                block,
            }
            .into());
        }
        self.diversify(key, factors)?;
        self.cipher(&commands::psam_encipher(data), data.len())
    }

    fn mac(
        &mut self,
        alg: Algorithm,
        key: KeyId,
        factors: &[[u8; 8]],
        iv: &[u8],
        message: &[u8],
    ) -> Result<[u8; 4], KeyHolderError> {
        self.check_algorithm(alg)?;
        let block = alg.block_len();
        if iv.len() != block {
            return Err(CryptoError::IvLength {
                len: iv.len(),
                block,
            }
            .into());
        }
        self.diversify(key, factors)?;
        let data = self.cipher(&commands::psam_mac(iv, message), MAC_LEN)?;
        data.as_slice()
            .try_into()
            .map_err(|_| KeyHolderError::MalformedResponse {
                command: "CIPHER",
                reason: format!("{} bytes instead of {MAC_LEN}", data.len()),
            })
    }

    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        Ok(self.terminal_number.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::apdu::Command;
    use crate::crypto::{self, SecretKey};
    use crate::keyholder::KeyFile;
    use crate::transport::TransportError;

    const FIXTURE: &str = include_str!("../../../../fixtures/keys/test-keys.json");

    /// A tiny PSAM implementing `docs/card-os.md` §5 with the crate's own crypto: T=0 (`61xx`
    /// then GET RESPONSE), one algorithm, master keys from the test key file.
    struct FakePsam {
        algorithm: Algorithm,
        fci_algorithm: bool,
        terminal: Option<[u8; 6]>,
        keys: KeyFile,
        selected: bool,
        working: Option<SecretKey>,
        pending: Vec<u8>,
        log: Vec<String>,
        epoch: u64,
    }

    impl FakePsam {
        fn new(algorithm: Algorithm) -> FakePsam {
            FakePsam {
                algorithm,
                fci_algorithm: true,
                terminal: Some([0x41, 0x01, 0x00, 0x81, 0x34, 0x75]),
                keys: KeyFile::from_json(FIXTURE).unwrap(),
                selected: false,
                working: None,
                pending: Vec::new(),
                log: Vec::new(),
                epoch: 0,
            }
        }

        fn data(&mut self, data: Vec<u8>) -> Vec<u8> {
            let len = data.len() as u8;
            self.pending = data;
            vec![0x61, len]
        }

        fn handle(&mut self, c: &Command) -> Vec<u8> {
            let sw = |sw: StatusWord| sw.to_bytes().to_vec();
            let pending = std::mem::take(&mut self.pending);
            match (c.cla, c.ins, c.p1, c.p2) {
                (0x00, 0xC0, 0, 0) => {
                    let mut out = pending;
                    out.extend_from_slice(&[0x90, 0x00]);
                    out
                }
                (0x00, 0xA4, 0x04, 0x00) if c.data() == PSAM_AID => {
                    self.selected = true;
                    self.working = None;
                    let mut a5 = Vec::new();
                    if self.fci_algorithm {
                        a5 = vec![0x9F, 0x0C, 0x03, 0x86, 0x01, self.algorithm.to_byte()];
                    }
                    let mut inner = vec![0x84, 0x06];
                    inner.extend_from_slice(&PSAM_AID);
                    inner.push(0xA5);
                    inner.push(a5.len() as u8);
                    inner.extend_from_slice(&a5);
                    let mut fci = vec![0x6F, inner.len() as u8];
                    fci.extend_from_slice(&inner);
                    self.data(fci)
                }
                (0x00, 0xA4, _, _) => sw(StatusWord::FileNotFound),
                _ if !self.selected => sw(StatusWord::ConditionsNotSatisfied),
                (0x00, 0xB0, 0x96, 0x00) => match self.terminal {
                    Some(t) => self.data(t.to_vec()),
                    None => sw(StatusWord::FileNotFound),
                },
                (0xBF, 0xDE, 0x48, id) => {
                    self.working = None;
                    let data = c.data();
                    if !matches!(data.len(), 8 | 16 | 24) {
                        return sw(StatusWord::WrongLength);
                    }
                    let Ok(master) = self.keys.master_key(self.algorithm, KeyId(id)) else {
                        return sw(StatusWord::ReferenceNotFound);
                    };
                    let factors: Vec<[u8; 8]> =
                        data.chunks(8).map(|c| c.try_into().unwrap()).collect();
                    self.working =
                        Some(crypto::diversify_path(self.algorithm, master, &factors).unwrap());
                    sw(StatusWord::Ok)
                }
                (0x80, 0xFA, p1, 0x00) => {
                    let Some(key) = self.working.clone() else {
                        return sw(StatusWord::ConditionsNotSatisfied);
                    };
                    let b = self.algorithm.block_len();
                    let data = c.data().to_vec();
                    match p1 {
                        0x00 => match crypto::encipher(self.algorithm, &key, &data) {
                            Ok(out) => self.data(out.to_vec()),
                            Err(_) => sw(StatusWord::WrongLength),
                        },
                        0x05 if data.len() >= b => {
                            let (iv, msg) = data.split_at(b);
                            let mac = crypto::mac(self.algorithm, &key, iv, msg).unwrap();
                            self.data(mac.to_vec())
                        }
                        0x05 => sw(StatusWord::WrongLength),
                        _ => sw(StatusWord::IncorrectP1P2),
                    }
                }
                _ => sw(StatusWord::InsNotSupported),
            }
        }
    }

    impl Transport for FakePsam {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            let c = Command::parse(command).map_err(|e| TransportError::Other(e.to_string()))?;
            self.log.push(format!("{:02X}{:02X}", c.cla, c.ins));
            Ok(self.handle(&c))
        }
        fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }
        fn reset_epoch(&self) -> u64 {
            self.epoch
        }
    }

    const CARD: [u8; 8] = [0x86, 0x97, 0x15, 0x99, 0x00, 0xBF, 0x7C, 0x7A];
    const CITY: [u8; 8] = *b"639900sx";

    #[test]
    fn open_reads_algorithm_and_terminal_number() {
        for alg in Algorithm::ALL {
            let mut psam = PsamKeyHolder::open(FakePsam::new(alg)).unwrap();
            assert_eq!(psam.algorithm(), alg);
            assert!(psam.supports(alg));
            assert_eq!(
                psam.terminal_number().unwrap().as_deref(),
                Some("410100813475")
            );
            // SELECT + GET RESPONSE, READ BINARY + GET RESPONSE
            assert_eq!(psam.channel().apdu_count(), 4);
        }
        let mut fake = FakePsam::new(Algorithm::Tdes);
        fake.fci_algorithm = false;
        fake.terminal = None;
        let mut psam = PsamKeyHolder::open(fake).unwrap();
        assert_eq!(psam.algorithm(), Algorithm::Tdes);
        assert_eq!(psam.terminal_number().unwrap(), None);
        assert!(!psam.supports(Algorithm::Sm4));
    }

    #[test]
    fn same_results_as_the_key_file() {
        let mut file = KeyFile::from_json(FIXTURE).unwrap();
        for alg in Algorithm::ALL {
            let mut psam = PsamKeyHolder::open(FakePsam::new(alg)).unwrap();
            let b = alg.block_len();
            let challenge: Vec<u8> = (0..b as u8).map(|i| i.wrapping_mul(37)).collect();
            for key in KeyId::ALL {
                let mut path = crypto::key_factors(key, &CARD, &CITY);
                path.push(challenge[..8].try_into().unwrap());
                let before = psam.channel().apdu_count();
                let got = psam.encipher(alg, key, &path, &challenge).unwrap();
                // one DIVERSIFY, one CIPHER + its GET RESPONSE
                assert_eq!(psam.channel().apdu_count() - before, 3);
                assert_eq!(got, file.encipher(alg, key, &path, &challenge).unwrap());

                let path = crypto::key_factors(key, &CARD, &CITY);
                let msg = b"\x84\x24\x00\x01\x0C\x01\x02\x03\x04\x05\x06\x07\x08";
                let mac = psam.mac(alg, key, &path, &challenge, msg).unwrap();
                assert_eq!(mac, file.mac(alg, key, &path, &challenge, msg).unwrap());
            }
            let log = &psam.channel().transport().log;
            assert_eq!(
                log.iter().filter(|c| *c == "00A4").count(),
                1,
                "SELECT once"
            );
        }
    }

    #[test]
    fn errors() {
        let mut psam = PsamKeyHolder::open(FakePsam::new(Algorithm::Sm4)).unwrap();
        let err = psam
            .encipher(Algorithm::Sm4, KeyId(0x55), &[CARD], &[0; 16])
            .unwrap_err();
        assert!(matches!(
            err,
            KeyHolderError::UnknownKey {
                algorithm: Algorithm::Sm4,
                key: KeyId(0x55)
            }
        ));
        assert!(matches!(
            psam.encipher(Algorithm::Tdes, KeyId::READ, &[CARD], &[0; 8]),
            Err(KeyHolderError::AlgorithmNotHeld(Algorithm::Tdes))
        ));
        assert!(matches!(
            psam.encipher(Algorithm::Sm4, KeyId::READ, &[], &[0; 16]),
            Err(KeyHolderError::FactorCount(0))
        ));
        assert!(matches!(
            psam.encipher(Algorithm::Sm4, KeyId::READ, &[CARD; 4], &[0; 16]),
            Err(KeyHolderError::FactorCount(4))
        ));
        assert!(matches!(
            psam.encipher(Algorithm::Sm4, KeyId::READ, &[CARD], &[0; 15]),
            Err(KeyHolderError::Crypto(CryptoError::NotWholeBlocks { .. }))
        ));
        assert!(matches!(
            psam.mac(Algorithm::Sm4, KeyId::READ, &[CARD], &[0; 8], b""),
            Err(KeyHolderError::Crypto(CryptoError::IvLength { .. }))
        ));
        // a status word from CIPHER is reported with the command name
        let mut psam = PsamKeyHolder::open(FakePsam::new(Algorithm::Sm4)).unwrap();
        let err = psam
            .cipher(&commands::psam_encipher(&[0; 16]), 16)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("PSAM CIPHER: {}", StatusWord::ConditionsNotSatisfied)
        );
    }

    #[test]
    fn not_a_psam_and_unsupported_algorithm() {
        struct Nothing;
        impl Transport for Nothing {
            fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
                Ok(vec![0x6A, 0x82])
            }
            fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
                Ok(vec![])
            }
            fn reset_epoch(&self) -> u64 {
                0
            }
        }
        assert!(matches!(
            PsamKeyHolder::open(Nothing),
            Err(KeyHolderError::NotPsam(StatusWord::FileNotFound))
        ));
        struct Ssf33;
        impl Transport for Ssf33 {
            fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
                Ok(hex::decode("6F08A5069F0C038601029000").unwrap())
            }
            fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
                Ok(vec![])
            }
            fn reset_epoch(&self) -> u64 {
                0
            }
        }
        let err = PsamKeyHolder::open(Ssf33).unwrap_err();
        assert!(matches!(err, KeyHolderError::PsamAlgorithm(_)));
        assert!(err.to_string().contains("SSF33"));
    }

    #[test]
    fn reselects_after_a_reset() {
        let mut psam = PsamKeyHolder::open(FakePsam::new(Algorithm::Aes128)).unwrap();
        psam.encipher(Algorithm::Aes128, KeyId::READ, &[CARD], &[1; 16])
            .unwrap();
        // the PSAM was reset: its application is no longer selected
        let fake = psam.channel_mut().transport_mut();
        fake.epoch += 1;
        fake.selected = false;
        psam.encipher(Algorithm::Aes128, KeyId::READ, &[CARD], &[1; 16])
            .unwrap();
        let log = &psam.channel().transport().log;
        assert_eq!(log.iter().filter(|c| *c == "00A4").count(), 2);
        assert!(format!("{psam:?}").contains("Aes128"));
    }
}
