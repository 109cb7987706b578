//! GET CHALLENGE, EXTERNAL and INTERNAL AUTHENTICATION, VERIFY, CHANGE PIN, PIN
//! CHANGE/UNBLOCK, APPLICATION BLOCK and CARD BLOCK (part 5 §6.1-§6.8, §6.14; part 4 §8-§9;
//! part 7 §5.4-§5.8, §6.6, §9, §13).

use zeroize::Zeroizing;

use sscard_core::crypto::{self, ct_equal, SecretKey, AUTH_LEN, MAC_LEN};
use sscard_core::keys::KeyRole;
use sscard_core::Algorithm;

use super::{Abort, Change, Df, Outcome, Reply, SimCard};
use crate::apdu::{sw, Apdu};
use crate::image::{is_pin_cn, SecretBytes};

/// A failed EXTERNAL AUTHENTICATION with a key whose failures do not count (\[design\] D4).
const NOT_COUNTED: u16 = 0x63CF;

impl SimCard {
    /// The card key of `role` (`6A88` when missing).
    fn card_key(&self, role: KeyRole) -> Result<SecretKey, Abort> {
        let key = self.current_key(role).ok_or(sw::NOT_FOUND)?;
        SecretKey::from_bytes(key.value.expose()).map_err(|_| Abort::Status(sw::NOT_FOUND))
    }

    fn alg(&self) -> Algorithm {
        self.image.algorithm
    }

    /// Takes the current challenge: `6984` when there is none or when it cannot be a process
    /// factor (16 bytes on a 3DES card, \[design\] D7). It is gone either way (\[design\] D10).
    fn take_challenge(&mut self) -> Result<Zeroizing<Vec<u8>>, Abort> {
        let challenge = self.vol.challenge.take().ok_or(sw::NO_CHALLENGE)?;
        if challenge.len() > self.alg().block_len() {
            return Err(sw::NO_CHALLENGE.into());
        }
        Ok(challenge)
    }

    /// GET CHALLENGE `0084 0000 Le` with Le `04`, `08` or `10` (part 5 §6.5): the random becomes
    /// the current challenge, replacing an unused one.
    pub(crate) fn get_challenge(&mut self, a: &Apdu<'_>) -> Outcome {
        a.p1p2(0, 0)?;
        a.no_data()?;
        let len = match a.le {
            Some(len @ (4 | 8 | 16)) => len,
            _ => return Err(sw::WRONG_LENGTH.into()),
        };
        let challenge = self.random(len);
        self.vol.challenge = Some(challenge.clone());
        Ok(Reply::Exact(challenge))
    }

    /// The SSSE key EXTERNAL AUTHENTICATION names with P2 (part 5 table 14, \[design\] D2): `6A88`
    /// for an unknown id, outside SSSE, and for IRK, which only INTERNAL AUTHENTICATION uses.
    fn external_role(&self, p2: u8) -> Result<KeyRole, Abort> {
        if let Df::Area(fid) = self.vol.df {
            return self.area_external_role(fid, p2);
        }
        if self.vol.df != Df::Ssse {
            return Err(sw::NOT_FOUND.into());
        }
        KeyRole::SSSE
            .into_iter()
            .find(|r| *r != KeyRole::Irk && r.card_key_id() == Some(p2))
            .ok_or_else(|| sw::NOT_FOUND.into())
    }

    /// Splits the 16 or 17 data bytes of INTERNAL / EXTERNAL AUTHENTICATION (part 5 §6.4.3,
    /// §6.7.3) and checks the optional version byte against the key's (`6A88`, \[design\] D3).
    fn auth_fields<'a>(
        &self,
        data: &'a [u8],
        role: KeyRole,
    ) -> Result<(&'a [u8; 8], &'a [u8; 8]), Abort> {
        let (first, rest) = data.split_first_chunk::<8>().ok_or(sw::WRONG_LENGTH)?;
        let (second, version) = rest.split_first_chunk::<8>().ok_or(sw::WRONG_LENGTH)?;
        let key = self.current_key(role).ok_or(sw::NOT_FOUND)?;
        match version {
            [] => {}
            [v] if *v == key.version => {}
            [_] => return Err(sw::NOT_FOUND.into()),
            _ => return Err(sw::WRONG_LENGTH.into()),
        }
        Ok((first, second))
    }

    /// EXTERNAL AUTHENTICATION `0082 00 <key id> 10|11 <auth data 8> <original 8> [<version>]`
    /// (part 5 §6.4, part 7 §6.6). The card computes the authentication data of the original
    /// with the process key of the key for its current challenge (part 4 §8.4, §9.3) and
    /// compares. Checks: P1 `00` and key id `00` (reserved) `6A86`; Lc `6700`; key `6A88`; key
    /// locked `6983`; challenge `6984`. A counted key (\[design\] D4) spends a try before the
    /// comparison (`63Cx` on failure, [`crate::tear`]) and gets them all back on success; BK
    /// and STKSSSE failures answer `63CF` and cost nothing.
    pub(crate) fn external_authentication(&mut self, a: &Apdu<'_>) -> Outcome {
        if a.p1 != 0x00 || a.p2 == 0x00 {
            return Err(sw::P1P2.into());
        }
        if !matches!(a.data.len(), 16 | 17) {
            return Err(sw::WRONG_LENGTH.into());
        }
        let role = self.external_role(a.p2)?;
        let (auth, original) = self.auth_fields(a.data, role)?;
        let key = self.card_key(role)?;
        let (tries, max) = match self.current_key(role) {
            Some(k) => (k.tries_left, k.max_tries),
            None => return Err(sw::NOT_FOUND.into()),
        };
        if tries == 0 {
            return Err(sw::BLOCKED.into());
        }
        let challenge = self.take_challenge()?;
        let counted = role.failures_count();
        if counted {
            self.persist(self.key_tries(role, tries - 1))?;
        }
        let expected = crypto::authenticate(self.alg(), &key, &challenge, original)
            .map_err(|_| Abort::Status(sw::NO_CHALLENGE))?;
        if !ct_equal(&expected, auth) {
            return Err(if counted {
                sw::tries_left(tries - 1)
            } else {
                NOT_COUNTED
            }
            .into());
        }
        if counted {
            self.persist(self.key_tries(role, max))?;
        }
        self.vol.authenticated.insert(role);
        Ok(Reply::Done)
    }

    /// INTERNAL AUTHENTICATION `0088 0000 10|11 <process factor 8> <original 8> [<version>] 00`
    /// (part 5 §6.7, part 7 §5.4): the 8-byte authentication data of the original under the
    /// process key of IRK for the process factor (part 4 §8.4, §9.3; folded on 16-byte blocks).
    /// IRK is key `00` (\[design\] D2): another P2 is `6A88`, as is the command outside SSSE.
    pub(crate) fn internal_authentication(&mut self, a: &Apdu<'_>) -> Outcome {
        if a.p1 != 0x00 {
            return Err(sw::P1P2.into());
        }
        if !matches!(a.data.len(), 16 | 17) {
            return Err(sw::WRONG_LENGTH.into());
        }
        if a.p2 != 0x00 || self.vol.df != Df::Ssse {
            return Err(sw::NOT_FOUND.into());
        }
        let (factor, original) = self.auth_fields(a.data, KeyRole::Irk)?;
        let key = self.card_key(KeyRole::Irk)?;
        let answer: [u8; AUTH_LEN] = crypto::authenticate(self.alg(), &key, factor, original)
            .map_err(|_| Abort::Status(sw::NO_DATA))?;
        Ok(Reply::Outgoing(Zeroizing::new(answer.to_vec())))
    }

    /// Spends a PIN try before the comparison (its own transaction, [`crate::tear`]) and
    /// compares `candidate` with the PIN. `6983` when blocked, `63Cx` on a wrong PIN (an empty
    /// PIN matches nothing but an empty candidate).
    fn check_pin(&mut self, candidate: &[u8]) -> Result<u8, Abort> {
        let (tries, max) = (self.image.pin.tries_left, self.image.pin.max_tries);
        if tries == 0 {
            return Err(sw::BLOCKED.into());
        }
        self.persist(Change::PinTries(tries - 1))?;
        if ct_equal(self.image.pin.value.expose(), candidate) {
            Ok(max)
        } else {
            Err(sw::tries_left(tries - 1).into())
        }
    }

    /// VERIFY `0020 0000 Lc <PIN cn>` (part 5 §6.14, part 7 §5.6-§5.8). Lc `02`-`08` compares
    /// (a PIN that is not right, the empty PIN's case included, spends a try: `63Cx`, then
    /// `6983`); no data (Lc `00`) asks: `9000` for an empty PIN, `63Cx` with the tries left
    /// otherwise, nothing spent. The PIN is SSSE's, also in its data area DFs (the reader
    /// interface verifies it after EXTERNAL AUTHENTICATION there, §2.1.3(6)); elsewhere there
    /// is no PIN: `6A88`.
    pub(crate) fn verify(&mut self, a: &Apdu<'_>) -> Outcome {
        a.p1p2(0, 0)?;
        if !matches!(a.data.len(), 0 | 2..=8) {
            return Err(sw::WRONG_LENGTH.into());
        }
        if !matches!(self.vol.df, Df::Ssse | Df::Area(_)) {
            return Err(sw::NOT_FOUND.into());
        }
        if a.data.is_empty() {
            return if self.image.pin.value.is_empty() {
                Ok(Reply::Done)
            } else {
                Err(sw::tries_left(self.image.pin.tries_left).into())
            };
        }
        let max = self.check_pin(a.data)?;
        self.persist(Change::PinTries(max))?;
        self.vol.pin_verified = true;
        Ok(Reply::Done)
    }

    /// CHANGE PIN `805E 0100 Lc <old> FF <new>` (part 5 §6.3, part 7 §9.5), Lc `03`-`11`.
    /// Either PIN may be absent (§6.3.3): an absent old PIN matches the empty PIN, an absent
    /// new PIN empties it. A new PIN that is not 4-16 digits in cn, or data without the `FF`
    /// separator, is `6A80` (nothing spent). Then a try is spent, the old PIN compared (`63Cx`),
    /// and the new PIN with a full counter written in one transaction.
    pub(crate) fn change_pin(&mut self, a: &Apdu<'_>) -> Outcome {
        a.p1p2(0x01, 0x00)?;
        if !(3..=0x11).contains(&a.data.len()) {
            return Err(sw::WRONG_LENGTH.into());
        }
        if self.vol.df != Df::Ssse {
            return Err(sw::NOT_FOUND.into());
        }
        let separator = a
            .data
            .iter()
            .position(|b| *b == 0xFF)
            .ok_or(sw::WRONG_DATA)?;
        let old = a.data.get(..separator).unwrap_or_default();
        let new = a.data.get(separator + 1..).unwrap_or_default();
        if !(old.is_empty() || (2..=8).contains(&old.len())) || !(new.is_empty() || is_pin_cn(new))
        {
            return Err(sw::WRONG_DATA.into());
        }
        let max = self.check_pin(old)?;
        self.persist(Change::Pin {
            value: SecretBytes::from_slice(new),
            tries: max,
        })?;
        self.vol.pin_verified = true;
        Ok(Reply::Done)
    }

    /// The process key of STKSSSE for the current challenge, which secures the maintenance
    /// commands (\[design\] D9, D12; part 7 §13).
    fn maintenance_key(&mut self) -> Result<SecretKey, Abort> {
        let challenge = self.take_challenge()?;
        let stk = self.card_key(KeyRole::Stkssse)?;
        crypto::process_key(self.alg(), &stk, &challenge)
            .map_err(|_| Abort::Status(sw::NO_CHALLENGE))
    }

    /// Checks the MAC ending the command data (part 4 §8.2): over `CLA INS P1 P2 Lc ‖ data`
    /// with Lc counting the MAC, under `session`; `6988` when wrong (\[design\] D13).
    fn check_mac(&self, a: &Apdu<'_>, session: &SecretKey) -> Result<(), Abort> {
        let split = a.data.len().checked_sub(MAC_LEN).ok_or(sw::WRONG_LENGTH)?;
        let (body, mac) = a.data.split_at(split);
        let lc = u8::try_from(a.data.len()).map_err(|_| sw::WRONG_LENGTH)?;
        let mut message = Zeroizing::new(vec![a.cla, a.ins, a.p1, a.p2, lc]);
        message.extend_from_slice(body);
        let expected = crypto::mac(self.alg(), session, &message).map_err(|_| sw::WRONG_MAC)?;
        if ct_equal(&expected, mac) {
            Ok(())
        } else {
            Err(sw::WRONG_MAC.into())
        }
    }

    /// The security a maintenance command needs: `role` authenticated (`6982`), then a challenge
    /// (`6984`) and the command's MAC under STKSSSE (`6988`). Returns the process key.
    fn maintenance(&mut self, a: &Apdu<'_>, role: KeyRole) -> Result<SecretKey, Abort> {
        if self.vol.df != Df::Ssse || !self.vol.authenticated.contains(&role) {
            return Err(sw::SECURITY.into());
        }
        let session = self.maintenance_key()?;
        self.check_mac(a, &session)?;
        Ok(session)
    }

    /// PIN CHANGE/UNBLOCK `8424 00 P2 Lc <data> <MAC>` (part 5 §6.8, \[design\] D9 and D12) after
    /// EXTERNAL AUTHENTICATION with PUK. P2 `00` unblocks (Lc `04`, the MAC only: the counter
    /// is restored); P2 `01` reloads (Lc `0C` or `14` on 3DES cards, `14` on 16-byte-block
    /// cards): `LD ‖ PIN ‖ padding` enciphered with the same process key as the MAC (part 4
    /// §8.3); LD `00` empties the PIN (§6.8.3), otherwise the PIN must be 4-16 digits in cn
    /// (`6A80`). The new PIN and its full counter are one transaction.
    pub(crate) fn pin_change_unblock(&mut self, a: &Apdu<'_>) -> Outcome {
        if a.p1 != 0x00 || a.p2 > 0x01 {
            return Err(sw::P1P2.into());
        }
        let reload = a.p2 == 0x01;
        let lengths: &[usize] = match (reload, self.alg().block_len()) {
            (false, _) => &[4],
            (true, 8) => &[0x0C, 0x14],
            (true, _) => &[0x14],
        };
        if !lengths.contains(&a.data.len()) {
            return Err(sw::WRONG_LENGTH.into());
        }
        let session = self.maintenance(a, KeyRole::Puk)?;
        let max = self.image.pin.max_tries;
        if !reload {
            self.persist(Change::PinTries(max))?;
            return Ok(Reply::Done);
        }
        let enciphered = a.data.get(..a.data.len() - MAC_LEN).unwrap_or_default();
        let pin =
            crypto::decipher_data(self.alg(), &session, enciphered).map_err(|_| sw::WRONG_DATA)?;
        if !pin.is_empty() && !is_pin_cn(&pin) {
            return Err(sw::WRONG_DATA.into());
        }
        self.persist(Change::Pin {
            value: SecretBytes::new(pin),
            tries: max,
        })?;
        Ok(Reply::Done)
    }

    /// APPLICATION BLOCK `841E 0001 04 <MAC>` (part 5 §6.1, part 7 §13.2) after EXTERNAL
    /// AUTHENTICATION with BK (\[design\] D12): SSSE is blocked for good; from now on SELECT of
    /// SSSE and every command inside it answer `9303`.
    pub(crate) fn application_block(&mut self, a: &Apdu<'_>) -> Outcome {
        self.block(a, 0x01, Change::SsseBlocked)
    }

    /// CARD BLOCK `8416 0000 04 <MAC>` (part 5 §6.2, part 7 §13.1) after EXTERNAL
    /// AUTHENTICATION with BK (\[design\] D12): every later command answers `6A81`.
    pub(crate) fn card_block(&mut self, a: &Apdu<'_>) -> Outcome {
        self.block(a, 0x00, Change::CardBlocked)
    }

    /// A block command: P1 `00`, P2 `p2`, the MAC alone as data, BK authenticated; `change`
    /// is what the card keeps.
    fn block(&mut self, a: &Apdu<'_>, p2: u8, change: Change) -> Outcome {
        a.p1p2(0x00, p2)?;
        if a.data.len() != MAC_LEN {
            return Err(sw::WRONG_LENGTH.into());
        }
        self.maintenance(a, KeyRole::Bk)?;
        self.persist(change)?;
        Ok(Reply::Done)
    }
}
