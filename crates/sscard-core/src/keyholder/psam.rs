//! A PSAM as key holder (part 9): DELIVERY SESSION KEY (`BFDE`) prepares the card's process key
//! inside the PSAM, CIPHER DATA (`80FA`) computes with it.

use std::collections::HashMap;
use std::fmt;

use zeroize::Zeroizing;

use super::{CardContext, KeyHolder, KeyHolderError, SecureMessage};
use crate::apdu::{commands, Command, Response, StatusWord};
use crate::channel::Channel;
use crate::crypto::{ld_blocks, pad_80, reduce_mac, CardFactors, KeyLevel, Pin, MAC_LEN};
use crate::keys::KeyRole;
use crate::profile::fci::Fci;
use crate::profile::PSAM_AID;
use crate::transport::Transport;
use crate::Algorithm;

/// Short file identifier of the PSAM's terminal information file EF 0016 (part 9 §5.3).
const TERMINAL_NUMBER_SFI: u8 = 0x16;
/// Length of the terminal number: 6 bytes cn, 12 digits.
const TERMINAL_NUMBER_LEN: usize = 6;

/// At which level of the diversification tree (part 9 figure 12) the PSAM holds each key: how
/// many factors DELIVERY SESSION KEY needs. Part 9 §8: terminals must cope with PSAMs holding
/// national, province or city keys; a wrong guess answers `6A80` and the other counts are tried
/// (scheme one), the working count is then remembered (scheme two).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PsamLevels {
    levels: HashMap<KeyRole, KeyLevel>,
}

impl PsamLevels {
    /// Every key held at `level`.
    pub fn all(level: KeyLevel) -> PsamLevels {
        PsamLevels {
            levels: KeyRole::ALL.iter().map(|&r| (r, level)).collect(),
        }
    }

    /// Sets the level of one key.
    pub fn set(&mut self, role: KeyRole, level: KeyLevel) {
        self.levels.insert(role, level);
    }

    /// The level of `role`: as set, else national (the test PSAMs hold national roots).
    pub fn get(&self, role: KeyRole) -> KeyLevel {
        self.levels
            .get(&role)
            .copied()
            .unwrap_or(KeyLevel::National)
    }
}

/// A PSAM holding the issuer's keys, behind its own [`Channel`].
///
/// [`PsamKeyHolder::open`] reads the terminal number (EF 0016 under the MF), selects the
/// social security application `D15600000590` and takes the algorithm from its FCI
/// (`9F0C 03 86 01 xx`; absent means DES). When the transport reports a reset, the application
/// is selected again before the next operation.
pub struct PsamKeyHolder<T: Transport> {
    channel: Channel<T>,
    algorithm: Algorithm,
    terminal_number: Option<String>,
    levels: PsamLevels,
    epoch: u64,
}

impl<T: Transport> fmt::Debug for PsamKeyHolder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsamKeyHolder")
            .field("algorithm", &self.algorithm)
            .field("terminal_number", &self.terminal_number)
            .field("levels", &self.levels)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> PsamKeyHolder<T> {
    /// Opens the PSAM on `transport`.
    pub fn open(transport: T) -> Result<Self, KeyHolderError> {
        PsamKeyHolder::with_channel(Channel::new(transport))
    }

    /// Like [`PsamKeyHolder::open`] on an existing channel (e.g. one with a tracer installed).
    pub fn with_channel(mut channel: Channel<T>) -> Result<Self, KeyHolderError> {
        let epoch = channel.reset_epoch();
        let terminal_number = read_terminal_number(&mut channel)?;
        let algorithm = select(&mut channel)?;
        Ok(PsamKeyHolder {
            channel,
            algorithm,
            terminal_number,
            levels: PsamLevels::default(),
            epoch,
        })
    }

    /// Sets where the PSAM holds its keys (the first guess of each DELIVERY SESSION KEY).
    pub fn with_levels(mut self, levels: PsamLevels) -> Self {
        self.levels = levels;
        self
    }

    /// The PSAM's algorithm (one per PSAM application).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The channel to the PSAM (e.g. to count APDUs).
    pub fn channel(&self) -> &Channel<T> {
        &self.channel
    }

    /// The channel to the PSAM, mutable (e.g. to install a tracer).
    pub fn channel_mut(&mut self) -> &mut Channel<T> {
        &mut self.channel
    }

    /// Gives the transport back.
    pub fn into_inner(self) -> T {
        self.channel.into_inner()
    }

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

    /// Sends the command `command` builds for a key level and its diversification factors (D6:
    /// listed from the last level applied to the first), for the level remembered for `role`
    /// first, then the others while the PSAM answers `6A80` (part 9 §8: a PSAM may hold
    /// national, province or city keys); the level that worked is remembered. `6A88`: the PSAM
    /// does not hold the key. `name` names the command in errors.
    pub(crate) fn send_at_key_level(
        &mut self,
        role: KeyRole,
        factors: &CardFactors,
        name: &'static str,
        mut command: impl FnMut(KeyLevel, &[[u8; 8]]) -> Command,
    ) -> Result<Response, KeyHolderError> {
        self.ensure_selected()?;
        let first = self.levels.get(role);
        let order = [
            first,
            KeyLevel::National,
            KeyLevel::Province,
            KeyLevel::City,
        ];
        let mut last = StatusWord::WrongData;
        for (i, level) in order.into_iter().enumerate() {
            if i > 0 && level == first {
                continue;
            }
            let mut path = factors.path_from(level);
            path.reverse();
            let response = self.channel.send(&command(level, &path))?;
            match response.sw() {
                StatusWord::Ok => {
                    self.levels.set(role, level);
                    return Ok(response);
                }
                StatusWord::WrongData => last = StatusWord::WrongData,
                StatusWord::ReferenceNotFound => {
                    return Err(KeyHolderError::UnknownKey {
                        algorithm: self.algorithm,
                        role,
                    })
                }
                sw => return Err(KeyHolderError::Psam { command: name, sw }),
            }
        }
        Err(KeyHolderError::Psam {
            command: name,
            sw: last,
        })
    }

    /// DELIVERY SESSION KEY: the process key of `role`'s card key for `process_factor` becomes
    /// the PSAM's temporary key, at the key level that works ([`Self::send_at_key_level`]).
    fn deliver(
        &mut self,
        role: KeyRole,
        factors: &CardFactors,
        process_factor: &[u8],
    ) -> Result<(), KeyHolderError> {
        let block = self.algorithm.block_len();
        let mut pf = Zeroizing::new(vec![0u8; block]);
        let n = process_factor.len().min(block);
        pf[..n].copy_from_slice(&process_factor[..n]);
        self.send_at_key_level(role, factors, "DELIVERY SESSION KEY", |level, path| {
            let usage = (level.diversifications() << 5) | role.psam_key_type();
            commands::delivery_session_key(usage, role.psam_key_id(), path, &pf)
        })?;
        Ok(())
    }

    /// CIPHER DATA with the temporary key.
    fn cipher(
        &mut self,
        p1: u8,
        data: &[u8],
        le: usize,
    ) -> Result<Zeroizing<Vec<u8>>, KeyHolderError> {
        let response = self.channel.send(&commands::cipher_data(p1, data, le))?;
        let sw = response.sw();
        let out = Zeroizing::new(response.into_data());
        if sw != StatusWord::Ok {
            return Err(KeyHolderError::Psam {
                command: "CIPHER DATA",
                sw,
            });
        }
        Ok(out)
    }
}

// The medical account's PSAM commands (INIT SAM FOR PURCHASE, CREDIT SAM FOR PURCHASE, and a
// credit's MACs) live in `keyholder::account`; these give it the selected channel, the key
// levels and the MAC.
impl<T: Transport> PsamKeyHolder<T> {
    /// The channel, the social security application selected again after a reset.
    pub(crate) fn selected_channel(&mut self) -> Result<&mut Channel<T>, KeyHolderError> {
        self.ensure_selected()?;
        Ok(&mut self.channel)
    }

    /// Refuses a card whose algorithm is not the PSAM's.
    pub(crate) fn check_algorithm(&self, alg: Algorithm) -> Result<(), KeyHolderError> {
        if alg == self.algorithm {
            Ok(())
        } else {
            Err(KeyHolderError::AlgorithmNotHeld(alg))
        }
    }

    /// The MAC of `message` under `role`'s process key for `process_factor`, computed by the
    /// PSAM: DELIVERY SESSION KEY, then CIPHER DATA `80FA 05 00` (the first block the initial
    /// value, \[design\] D8: 4 bytes; a PSAM answering the whole last block is reduced here).
    pub(crate) fn mac(
        &mut self,
        factors: &CardFactors,
        role: KeyRole,
        process_factor: &[u8],
        message: &[u8],
    ) -> Result<[u8; MAC_LEN], KeyHolderError> {
        self.deliver(role, factors, process_factor)?;
        let block = self.algorithm.block_len();
        let mut data = vec![0u8; block];
        data.extend_from_slice(&pad_80(message, block));
        let out = self.cipher(commands::CIPHER_MAC_ONLY, &data, MAC_LEN)?;
        match out.len() {
            MAC_LEN => {
                let mut m = [0u8; MAC_LEN];
                m.copy_from_slice(&out);
                Ok(m)
            }
            n if n == block => Ok(reduce_mac(self.algorithm, &out)),
            n => Err(KeyHolderError::MalformedResponse {
                command: "CIPHER DATA",
                reason: format!("a MAC of {n} bytes"),
            }),
        }
    }
}

/// SELECT the PSAM's social security application; its algorithm.
fn select<T: Transport>(channel: &mut Channel<T>) -> Result<Algorithm, KeyHolderError> {
    let response = channel.send(&commands::select_aid(&PSAM_AID))?;
    if !response.is_ok() {
        return Err(KeyHolderError::NotPsam(response.sw()));
    }
    let fci = Fci::parse(response.data()).map_err(|reason| KeyHolderError::MalformedResponse {
        command: "SELECT",
        reason,
    })?;
    match fci.algorithm {
        None => Ok(Algorithm::Tdes),
        Some(b) => Algorithm::from_byte(b).map_err(KeyHolderError::PsamAlgorithm),
    }
}

/// READ BINARY EF 0016: the terminal number, 12 digits; `None` when the file is absent.
fn read_terminal_number<T: Transport>(
    channel: &mut Channel<T>,
) -> Result<Option<String>, KeyHolderError> {
    const COMMAND: &str = "READ BINARY (terminal number)";
    let (p1, p2) = commands::binary_p1_p2(Some(TERMINAL_NUMBER_SFI), 0).unwrap_or((0x96, 0));
    let response = channel.send(&commands::read_binary(p1, p2, TERMINAL_NUMBER_LEN))?;
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
    if data.len() != TERMINAL_NUMBER_LEN {
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
                reason: format!("{} is not 12 digits", hex::encode_upper(data)),
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

    fn random(&mut self) -> Result<[u8; 8], KeyHolderError> {
        self.ensure_selected()?;
        let response = self.channel.send(&commands::get_challenge(8))?;
        if response.sw() != StatusWord::Ok {
            return Err(KeyHolderError::Psam {
                command: "GET CHALLENGE",
                sw: response.sw(),
            });
        }
        response
            .data()
            .try_into()
            .map_err(|_| KeyHolderError::MalformedResponse {
                command: "GET CHALLENGE",
                reason: format!("{} bytes instead of 8", response.data().len()),
            })
    }

    fn authenticate(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], KeyHolderError> {
        self.check_algorithm(card.algorithm)?;
        let factors = card.factors()?;
        self.deliver(role, &factors, process_factor)?;
        // part 9 §9.4.1: 16-byte blocks encipher original ‖ 00…00 and fold the halves
        let block = self.algorithm.block_len();
        let mut input = vec![0u8; block];
        input[..8].copy_from_slice(original);
        let out = self.cipher(commands::CIPHER_ENCIPHER, &input, block)?;
        if out.len() != block {
            return Err(KeyHolderError::MalformedResponse {
                command: "CIPHER DATA",
                reason: format!("{} bytes instead of {block}", out.len()),
            });
        }
        let mut auth = [0u8; 8];
        for (i, b) in out.iter().enumerate() {
            auth[i % 8] ^= b;
        }
        Ok(auth)
    }

    fn secure_message(
        &mut self,
        card: &CardContext,
        role: KeyRole,
        challenge: &[u8],
        header: [u8; 4],
        new_pin: Option<&Pin>,
    ) -> Result<SecureMessage, KeyHolderError> {
        self.check_algorithm(card.algorithm)?;
        let factors = card.factors()?;
        let enciphered = match new_pin {
            Some(pin) => {
                self.deliver(role, &factors, challenge)?;
                // part 4 §8.3.3: LD ‖ data, 80 00… only when the last block is short
                let plain = ld_blocks(self.algorithm, &pin.to_bcd())?;
                let out = self.cipher(commands::CIPHER_ENCIPHER, &plain, plain.len())?;
                if out.len() != plain.len() {
                    return Err(KeyHolderError::MalformedResponse {
                        command: "CIPHER DATA",
                        reason: format!("{} bytes instead of {}", out.len(), plain.len()),
                    });
                }
                out
            }
            None => Zeroizing::new(Vec::new()),
        };
        // a fresh process key for the MAC (part 9 §9.8.2 keeps it only within one kind of
        // computation)
        let [cla, ins, p1, p2] = header;
        let message = commands::mac_input(cla, ins, p1, p2, &enciphered);
        let mac = self.mac(&factors, role, challenge, &message)?;
        Ok(SecureMessage { enciphered, mac })
    }

    fn terminal_number(&mut self) -> Result<Option<String>, KeyHolderError> {
        Ok(self.terminal_number.clone())
    }
}
