//! Challenge, authentication, PIN, blocking and lifecycle commands (docs/card-os.md §2-§4).

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use sscard_core::apdu::{Command, StatusWord};

use super::{is_pin_bcd, Abort, Change, Outcome, Reply, SimCard};
use crate::image::{AppState, BlockState, PinState, SecretBytes};
use crate::ops;

/// Key ids of docs/card-os.md §4.
const KEY_MASTER: u8 = 0x00;
const KEY_UPDATE: u8 = 0x04;
const KEY_PIN_RELOAD: u8 = 0x06;
const KEY_MAINTENANCE: u8 = 0x07;
const KEY_INTERNAL_AUTH: u8 = 0x08;

/// Length of a MAC on the card.
const MAC_LEN: usize = 4;

fn no_data(command: &Command) -> Result<(), Abort> {
    if command.data().is_empty() {
        Ok(())
    } else {
        Err(StatusWord::WrongLength.into())
    }
}

fn p1p2(command: &Command, p1: u8, p2: u8) -> Result<(), Abort> {
    if command.p1 == p1 && command.p2 == p2 {
        Ok(())
    } else {
        Err(StatusWord::IncorrectP1P2.into())
    }
}

impl SimCard {
    /// The card key `CK_id`, or `6A88`.
    fn card_key(&self, id: u8) -> Result<SecretBytes, Abort> {
        self.image
            .key(id)
            .cloned()
            .ok_or_else(|| StatusWord::ReferenceNotFound.into())
    }

    /// Takes (consumes) the current challenge; it must be one block long (`6985` otherwise).
    fn take_block_challenge(&mut self) -> Option<Zeroizing<Vec<u8>>> {
        let b = self.block_len();
        self.vol.challenge.take().filter(|c| c.len() == b)
    }

    /// GET CHALLENGE `0084 0000 Le`, Le = 4, 8 or 16.
    pub(crate) fn get_challenge(&mut self, command: &Command) -> Outcome {
        p1p2(command, 0, 0)?;
        no_data(command)?;
        let len = match command.le() {
            Some(len @ (4 | 8 | 16)) => len,
            _ => return Err(StatusWord::WrongLength.into()),
        };
        let challenge = self.random(len);
        self.vol.challenge = Some(challenge.clone());
        Ok(Reply::Data(challenge))
    }

    /// EXTERNAL AUTHENTICATE `0082 00 <key id> Lc <cryptogram>`.
    pub(crate) fn external_authenticate(&mut self, command: &Command) -> Outcome {
        if command.p1 != 0 {
            return Err(StatusWord::IncorrectP1P2.into());
        }
        self.require_ssse()?;
        if command.data().len() != self.block_len() {
            return Err(StatusWord::WrongLength.into());
        }
        let challenge = self.take_block_challenge();
        let key_id = command.p2;
        let key = self.card_key(key_id)?;
        let challenge = challenge.ok_or(StatusWord::ConditionsNotSatisfied)?;
        let expected = ops::external_auth_cryptogram(self.image.algorithm, &key, &challenge)?;
        if bool::from(expected.as_slice().ct_eq(command.data())) {
            self.vol.authenticated.insert(key_id);
            Ok(Reply::Status(StatusWord::Ok))
        } else {
            self.vol.authenticated.remove(&key_id);
            Err(StatusWord::AuthenticationFailed.into())
        }
    }

    /// INTERNAL AUTHENTICATE `0088 0000 Lc <process factor 8> <data: one block> [Le]`.
    pub(crate) fn internal_authenticate(&mut self, command: &Command) -> Outcome {
        p1p2(command, 0, 0)?;
        self.require_ssse()?;
        let (factor, data) = command
            .data()
            .split_first_chunk::<8>()
            .ok_or(StatusWord::WrongLength)?;
        if data.len() != self.block_len() {
            return Err(StatusWord::WrongLength.into());
        }
        let key = self.card_key(KEY_INTERNAL_AUTH)?;
        let response = ops::internal_auth_response(self.image.algorithm, &key, factor, data)?;
        Ok(Reply::Data(response))
    }

    /// Spends one PIN try (persistently, before comparing) and compares `candidate` with the
    /// PIN in constant time. On success the caller persists the restored counter (or a new
    /// PIN); on failure the counter stays spent and `63Cx` is returned.
    fn check_pin(&mut self, candidate: &[u8]) -> Result<PinState, Abort> {
        let pin = self
            .image
            .pin
            .clone()
            .ok_or(StatusWord::ConditionsNotSatisfied)?;
        if pin.tries_left == 0 {
            return Err(StatusWord::AuthMethodBlocked.into());
        }
        let left = pin.tries_left - 1;
        self.persist(Change::PinTries(left))?;
        if bool::from(pin.bcd.expose().ct_eq(candidate)) {
            Ok(pin)
        } else {
            self.vol.pin_verified = false;
            Err(StatusWord::WrongPin { tries_left: left }.into())
        }
    }

    /// VERIFY `0020 0000 Lc <PIN BCD>`; without data: the counter as `63Cx` (`6983` when
    /// blocked).
    pub(crate) fn verify(&mut self, command: &Command) -> Outcome {
        p1p2(command, 0, 0)?;
        self.require_ssse()?;
        let tries_left = match &self.image.pin {
            Some(pin) => pin.tries_left,
            None => return Err(StatusWord::ConditionsNotSatisfied.into()),
        };
        if command.data().is_empty() {
            return Err(if tries_left == 0 {
                StatusWord::AuthMethodBlocked.into()
            } else {
                StatusWord::WrongPin { tries_left }.into()
            });
        }
        if !is_pin_bcd(command.data()) {
            return Err(StatusWord::WrongData.into());
        }
        let pin = self.check_pin(command.data())?;
        self.persist(Change::PinTries(pin.max_tries))?;
        self.vol.pin_verified = true;
        Ok(Reply::Status(StatusWord::Ok))
    }

    /// CHANGE PIN `805E 0100 Lc <old BCD> FF <new BCD>`: a VERIFY of the old PIN (the counter
    /// decrement is the first write), then the new PIN (not initial); on a personalized card the
    /// new PIN and personalized → activated are one atomic write. New = old: `6A80` (no try
    /// spent).
    pub(crate) fn change_pin(&mut self, command: &Command) -> Outcome {
        p1p2(command, 0x01, 0x00)?;
        self.require_ssse()?;
        if self.image.pin.is_none() {
            return Err(StatusWord::ConditionsNotSatisfied.into());
        }
        let data = command.data();
        let separator = data
            .iter()
            .position(|b| *b == 0xFF)
            .ok_or(StatusWord::WrongData)?;
        let old = data.get(..separator).unwrap_or_default();
        let new = data.get(separator + 1..).unwrap_or_default();
        if !is_pin_bcd(old) || !is_pin_bcd(new) {
            return Err(StatusWord::WrongData.into());
        }
        if self.image.pin.as_ref().is_some_and(|p| p.tries_left == 0) {
            return Err(StatusWord::AuthMethodBlocked.into());
        }
        if bool::from(old.ct_eq(new)) {
            return Err(StatusWord::WrongData.into());
        }
        let pin = self.check_pin(old)?;
        let new_pin = PinState {
            bcd: SecretBytes::from_slice(new),
            tries_left: pin.max_tries,
            max_tries: pin.max_tries,
            initial: false,
        };
        // personalized → activated: the new PIN and the state byte in one atomic write, so a
        // tear never separates them (docs/reliability.md)
        if self.image.app_state == AppState::Personalized {
            self.persist(Change::Activation(new_pin))?;
        } else {
            self.persist(Change::Pin(new_pin))?;
        }
        self.vol.pin_verified = true;
        Ok(Reply::Status(StatusWord::Ok))
    }

    /// Checks the MAC closing `command` (its last 4 data bytes) with `CK_key_id` and the current
    /// challenge as IV; the challenge is consumed whatever the outcome.
    fn check_mac(&mut self, command: &Command, key_id: u8) -> Result<(), Abort> {
        let challenge = self.take_block_challenge();
        let key = self.card_key(key_id)?;
        let challenge = challenge.ok_or(StatusWord::ConditionsNotSatisfied)?;
        let data = command.data();
        let (before, mac) = data
            .split_at_checked(data.len().saturating_sub(MAC_LEN))
            .ok_or(StatusWord::WrongLength)?;
        let lc = u8::try_from(data.len()).map_err(|_| StatusWord::WrongLength)?;
        let mut input = Zeroizing::new(vec![command.cla, command.ins, command.p1, command.p2, lc]);
        input.extend_from_slice(before);
        let expected = ops::mac(self.image.algorithm, &key, &challenge, &input)?;
        if bool::from(expected.as_slice().ct_eq(mac)) {
            Ok(())
        } else {
            Err(StatusWord::WrongMac.into())
        }
    }

    /// PIN RELOAD / UNBLOCK `8424 00 P2 Lc [<PIN block>] <MAC>` (key 06).
    pub(crate) fn pin_reload(&mut self, command: &Command) -> Outcome {
        if command.p1 != 0 || command.p2 > 1 {
            return Err(StatusWord::IncorrectP1P2.into());
        }
        self.require_ssse()?;
        let reload = command.p2 == 1;
        let expected_len = if reload {
            self.block_len() + MAC_LEN
        } else {
            MAC_LEN
        };
        if command.data().len() != expected_len {
            return Err(StatusWord::WrongLength.into());
        }
        self.check_mac(command, KEY_PIN_RELOAD)?;
        if !reload {
            let max = match &self.image.pin {
                Some(pin) => pin.max_tries,
                None => return Err(StatusWord::ConditionsNotSatisfied.into()),
            };
            self.persist(Change::PinTries(max))?;
            return Ok(Reply::Status(StatusWord::Ok));
        }
        let key = self.card_key(KEY_PIN_RELOAD)?;
        let block = command
            .data()
            .get(..self.block_len())
            .ok_or(StatusWord::WrongLength)?;
        let bcd = ops::pin_from_block(self.image.algorithm, &key, block)?;
        if !is_pin_bcd(&bcd) {
            return Err(StatusWord::WrongData.into());
        }
        let max_tries = self.image.options.pin_max_tries;
        if self.image.app_state == AppState::Blank {
            self.persist(Change::AppState(AppState::Personalizing))?;
        }
        self.persist(Change::Pin(PinState {
            bcd: SecretBytes::new(bcd),
            tries_left: max_tries,
            max_tries,
            initial: true,
        }))?;
        self.vol.pin_verified = false;
        Ok(Reply::Status(StatusWord::Ok))
    }

    /// A MAC-only command `84xx P1 P2 04 <MAC>`: checks Lc, the MAC with `key_id`.
    fn mac_only(&mut self, command: &Command, key_id: u8) -> Result<(), Abort> {
        self.require_ssse()?;
        if command.data().len() != MAC_LEN {
            return Err(StatusWord::WrongLength.into());
        }
        self.check_mac(command, key_id)
    }

    /// APPLICATION BLOCK `841E 0000|0001 04 <MAC>` (key 07): temporary or permanent.
    pub(crate) fn application_block(&mut self, command: &Command) -> Outcome {
        if command.p1 != 0 || command.p2 > 1 {
            return Err(StatusWord::IncorrectP1P2.into());
        }
        self.mac_only(command, KEY_MAINTENANCE)?;
        let state = if command.p2 == 1 {
            BlockState::Permanent
        } else {
            BlockState::Temporary
        };
        self.persist(Change::BlockState(state))?;
        Ok(Reply::Status(StatusWord::Ok))
    }

    /// APPLICATION UNBLOCK `8418 0000 04 <MAC>` (key 07): lifts a temporary block (a card that
    /// is not blocked answers `9000` and stays as it is).
    pub(crate) fn application_unblock(&mut self, command: &Command) -> Outcome {
        p1p2(command, 0, 0)?;
        self.mac_only(command, KEY_MAINTENANCE)?;
        if self.image.block_state == BlockState::Temporary {
            self.persist(Change::BlockState(BlockState::None))?;
        }
        Ok(Reply::Status(StatusWord::Ok))
    }

    /// CARD BLOCK `8416 0000 04 <MAC>` (key 00): every later command answers `9303`.
    pub(crate) fn card_block(&mut self, command: &Command) -> Outcome {
        p1p2(command, 0, 0)?;
        self.mac_only(command, KEY_MASTER)?;
        self.persist(Change::CardBlocked)?;
        Ok(Reply::Status(StatusWord::Ok))
    }

    /// ACTIVATE FILE `0044 0000`: personalizing → personalized; needs key 04 or 00 and a PIN.
    pub(crate) fn activate_file(&mut self, command: &Command) -> Outcome {
        p1p2(command, 0, 0)?;
        no_data(command)?;
        self.require_ssse()?;
        let auth = &self.vol.authenticated;
        if !auth.contains(&KEY_UPDATE) && !auth.contains(&KEY_MASTER) {
            return Err(StatusWord::SecurityNotSatisfied.into());
        }
        if self.image.app_state != AppState::Personalizing || self.image.pin.is_none() {
            return Err(StatusWord::ConditionsNotSatisfied.into());
        }
        self.persist(Change::AppState(AppState::Personalized))?;
        Ok(Reply::Status(StatusWord::Ok))
    }

    /// DEACTIVATE FILE `0004 0000`: personalized/activated → personalizing; needs key 00.
    pub(crate) fn deactivate_file(&mut self, command: &Command) -> Outcome {
        p1p2(command, 0, 0)?;
        no_data(command)?;
        self.require_ssse()?;
        if !self.vol.authenticated.contains(&KEY_MASTER) {
            return Err(StatusWord::SecurityNotSatisfied.into());
        }
        if !matches!(
            self.image.app_state,
            AppState::Personalized | AppState::Activated
        ) {
            return Err(StatusWord::ConditionsNotSatisfied.into());
        }
        self.persist(Change::AppState(AppState::Personalizing))?;
        Ok(Reply::Status(StatusWord::Ok))
    }
}
