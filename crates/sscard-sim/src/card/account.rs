//! The medical account in the card OS (part 5 §7; part 7 §11-12, §14): the proprietary
//! commands of class `B0` in DF04 of a card with an account ([`crate::account`]).
//!
//! # State (part 5 §7, table 49)
//!
//! Idle after selecting the application (and after reset). INITIALIZE FOR LOAD enters the
//! credit state, INITIALIZE FOR PURCHASE the purchase state (from any state); CREDIT FOR LOAD
//! needs the credit state, DEBIT FOR PURCHASE the purchase state (`6901` otherwise, and the
//! card is idle); GET BALANCE and GET TRANSACTION PROOF keep the state. A command that fails
//! leaves the card idle, and so does any command of another class except GET RESPONSE
//! (INITIALIZE "仅对下一条命令有效", \[design\] D33).
//!
//! # Commands
//!
//! - INITIALIZE FOR LOAD `B028 0001 0B`: PIN presented (`6982`), key index (`9403`), counter
//!   (`9402`), balance limit (`6985`, \[design\] D35); answers balance ‖ serial ‖ key version ‖
//!   algorithm ‖ random ‖ MAC1 with SESLK = DLK(random ‖ serial ‖ `8000`);
//! - CREDIT FOR LOAD `B02A 0000 0B`: MAC2 (`9302`), host time a real time (`6985`); then in
//!   one write: balance + amount, serial + 1, the record `serial ‖ '1' ‖ terminal ‖ time ‖
//!   amount [‖ 0 ‖ 0]` appended to EF08, the proof (MAC2, TAC) kept; answers the TAC;
//! - INITIALIZE FOR PURCHASE `B028 0101 13`: PIN, key index, counter, balance ≥ the account
//!   amount (`9401`); answers balance ‖ SPIP ‖ SPFP ‖ payment year ‖ serial ‖ key version ‖
//!   algorithm ‖ random;
//! - DEBIT FOR PURCHASE `B02C 0100 0F`: MAC1 with SESPK = DPK(random ‖ serial ‖ terminal
//!   serial's last 2 bytes) (`9302`), a real terminal time (`6985`); then in one write: the
//!   balance debited, SPIP and SPFP accumulated or restarted by the payment-year rule of part 7
//!   §12.6 (three-amount cards), serial + 1, the record appended, the proof kept; answers TAC ‖
//!   MAC2;
//! - GET BALANCE `B026 00 01|02|03` (PIN; Le `04`/`06`, `6700` otherwise);
//! - GET TRANSACTION PROOF `B02E 00 01|02 02 <serial>`: MAC ‖ TAC of the last transaction of
//!   that kind if its serial is the one asked, `9406` otherwise;
//! - UPDATE STARTING DAY `B056 0000 02 mmdd` (DSK authenticated in DF04, key id `87`,
//!   \[design\] D34), GET STARTING DAY `B056 0100 02` (PIN).
//!
//! Outside DF04 the class answers `6985`; a card without the account does not know the class
//! (`6E00`).

use zeroize::Zeroizing;

use sscard_core::account::{
    to_bcd2, DetailRecord, Fen, ProcessingMode, PurchaseAmounts, TerminalNumber, TransactionKind,
    TransactionTime, DSK_KEY_ID, MAX_SERIAL,
};
use sscard_core::crypto::{account as ac, ct_equal, SecretKey};
use sscard_core::keys::KeyRole;
use sscard_core::profile::areas::DfId;

use super::{Abort, Change, Df, Outcome, Reply, SimCard};
use crate::account::{AccountImage, StoredProof, ACCOUNT_ROLES};
use sscard_core::apdu::commands;
use sscard_core::apdu::instruction::{
    CREDIT_FOR_LOAD, DEBIT_FOR_PURCHASE, GET_BALANCE, GET_TRANSACTION_PROOF, INITIALIZE,
    STARTING_DAY,
};

use crate::apdu::{sw, Apdu};
use crate::areas::FileContent;
use crate::image::{CardImage, SecretBytes};

/// The class of the account commands.
pub(crate) const CLA: u8 = commands::CLA_ACCOUNT;
/// DF04.
const DF04: u16 = 0xDF04;
/// The detail file DF04 EF08.
const EF08: u16 = 0xEF08;

/// A credit between INITIALIZE FOR LOAD and CREDIT FOR LOAD.
pub(crate) struct CreditSession {
    seslk: SecretKey,
    amount: Fen,
    terminal: TerminalNumber,
    serial: u16,
    balance: u32,
}

/// A purchase between INITIALIZE FOR PURCHASE and DEBIT FOR PURCHASE.
pub(crate) struct PurchaseSession {
    dpk: SecretKey,
    random: [u8; 4],
    serial: u16,
    amounts: PurchaseAmounts,
    terminal: TerminalNumber,
}

/// The account's state (part 5 table 49), in RAM.
#[derive(Default)]
pub(crate) enum State {
    /// 空闲.
    #[default]
    Idle,
    /// 帐户划入.
    Credit(CreditSession),
    /// 医疗消费.
    Purchase(PurchaseSession),
}

/// One atomic change of the account ([`crate::tear`]).
#[derive(Debug)]
pub(crate) enum AccountChange {
    /// A credit or a purchase: the new amounts and counters, the proof and the detail record,
    /// all or nothing (part 7 §11.8, §12.6, §14).
    Transaction {
        balance: u32,
        online_serial: u16,
        offline_serial: u16,
        self_pay_total: u32,
        pooled_total: u32,
        payment_year: String,
        proof: StoredProof,
        record: Vec<u8>,
    },
    /// UPDATE STARTING DAY.
    StartingDay(String),
    /// DSK's try counter.
    KeyTries { role: KeyRole, tries: u8 },
}

/// Applies `change` (the body of `SimCard::persist` for the account).
pub(crate) fn apply(image: &mut CardImage, change: AccountChange) -> Result<(), Abort> {
    let fail = || Abort::Status(sw::MEMORY_FAILURE);
    let area = image
        .areas
        .get_mut(&DfId::Df(DF04).name())
        .ok_or_else(fail)?;
    match change {
        AccountChange::Transaction {
            balance,
            online_serial,
            offline_serial,
            self_pay_total,
            pooled_total,
            payment_year,
            proof,
            record,
        } => {
            let Some(FileContent::Cyclic { capacity, records }) = area.file_mut(EF08) else {
                return Err(fail());
            };
            records.insert(0, crate::image::HexBytes(record));
            records.truncate(*capacity);
            let account = area.account.as_mut().ok_or_else(fail)?;
            account.balance = balance;
            account.online_serial = online_serial;
            account.offline_serial = offline_serial;
            account.self_pay_total = self_pay_total;
            account.pooled_total = pooled_total;
            account.payment_year = payment_year;
            account.proofs.retain(|p| p.kind != proof.kind);
            account.proofs.push(proof);
        }
        AccountChange::StartingDay(mmdd) => {
            area.account.as_mut().ok_or_else(fail)?.starting_day = mmdd;
        }
        AccountChange::KeyTries { role, tries } => {
            let key = area
                .account
                .as_mut()
                .and_then(|a| a.keys.get_mut(role.name()))
                .ok_or_else(fail)?;
            key.tries_left = tries;
        }
    }
    Ok(())
}

fn key_of(account: &AccountImage, role: KeyRole) -> Result<SecretKey, Abort> {
    let key = account.key(role).ok_or(sw::NOT_FOUND)?;
    SecretKey::from_bytes(key.value.expose()).map_err(|_| Abort::Status(sw::NOT_FOUND))
}

fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], Abort> {
    bytes
        .try_into()
        .map_err(|_| Abort::Status(sw::WRONG_LENGTH))
}

/// `yyyymmdd` of a time.
fn date_number(time: &TransactionTime) -> i64 {
    let d = time.date();
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

impl SimCard {
    /// The medical account, if the card has one.
    pub(crate) fn account(&self) -> Option<&AccountImage> {
        self.image.area(DfId::Df(DF04))?.account.as_ref()
    }

    fn account_or_fail(&self) -> Result<&AccountImage, Abort> {
        self.account().ok_or(Abort::Status(sw::MEMORY_FAILURE))
    }

    fn pin_presented_here(&self) -> bool {
        self.vol.pin_verified || self.image.pin.value.is_empty()
    }

    /// The account key of `role` in DF04 (EXTERNAL AUTHENTICATION with DSK).
    pub(crate) fn account_key(&self, role: KeyRole) -> Option<&crate::card_key::CardKey> {
        self.account()?.key(role)
    }

    /// The role EXTERNAL AUTHENTICATION names with P2 in DF04, if it is DSK.
    pub(crate) fn account_external_role(&self, fid: u16, p2: u8) -> Option<KeyRole> {
        (fid == DF04 && p2 == DSK_KEY_ID && self.account_key(KeyRole::Dsk).is_some())
            .then_some(KeyRole::Dsk)
    }

    /// The change of an account key's try counter, `None` for other keys.
    pub(crate) fn account_key_tries(&self, role: KeyRole, tries: u8) -> Option<Change> {
        ACCOUNT_ROLES
            .contains(&role)
            .then_some(Change::Account(AccountChange::KeyTries { role, tries }))
    }

    /// A command of class `B0` (see the module documentation). The state goes to idle unless
    /// the command succeeds and table 49 says otherwise.
    pub(crate) fn account_command(&mut self, bytes: &[u8]) -> Result<Vec<u8>, Abort> {
        let prior = std::mem::take(&mut self.vol.account);
        if self.account().is_none() {
            return Err(sw::CLA.into());
        }
        let ins = bytes.get(1).copied().unwrap_or_default();
        if !matches!(
            ins,
            INITIALIZE
                | CREDIT_FOR_LOAD
                | DEBIT_FOR_PURCHASE
                | GET_BALANCE
                | GET_TRANSACTION_PROOF
                | STARTING_DAY
        ) {
            return Err(sw::INS.into());
        }
        let a = Apdu::parse(bytes)?;
        if self.vol.df != Df::Area(DF04) {
            return Err(sw::CONDITIONS.into());
        }
        let reply = match ins {
            INITIALIZE => self.initialize(&a),
            CREDIT_FOR_LOAD => self.credit_for_load(&a, prior),
            DEBIT_FOR_PURCHASE => self.debit_for_purchase(&a, prior),
            GET_BALANCE => self.get_balance(&a).inspect(|_| self.vol.account = prior),
            GET_TRANSACTION_PROOF => self
                .get_transaction_proof(&a)
                .inspect(|_| self.vol.account = prior),
            _ => self.starting_day(&a),
        }?;
        Ok(self.deliver(reply, a.le))
    }

    fn initialize(&mut self, a: &Apdu<'_>) -> Outcome {
        let load = match (a.p1, a.p2) {
            (0x00, 0x01) => true,
            (0x01, 0x01) => false,
            _ => return Err(sw::P1P2.into()),
        };
        let expected = if load { 0x0B } else { 0x13 };
        if a.data.len() != expected {
            return Err(sw::WRONG_LENGTH.into());
        }
        if !self.pin_presented_here() {
            return Err(sw::SECURITY.into());
        }
        let account = self.account_or_fail()?.clone();
        let alg = self.image.algorithm;
        if a.data[0] != account.key_index {
            return Err(sw::KEY_INDEX.into());
        }
        let terminal = TerminalNumber(array(&a.data[expected - 6..])?);
        let random: [u8; 4] = array(&self.random(4))?;
        if load {
            let amount = Fen::from_bytes(array(&a.data[1..5])?);
            if account.online_serial == MAX_SERIAL {
                return Err(sw::COUNTER_MAX.into());
            }
            let fits = account
                .balance
                .checked_add(amount.0)
                .is_some_and(|b| b <= account.balance_limit);
            if !fits {
                return Err(sw::CONDITIONS.into());
            }
            let dlk = key_of(&account, KeyRole::Dlk)?;
            let serial = account.online_serial;
            let seslk = ac::seslk(alg, &dlk, random, serial).map_err(|_| sw::MEMORY_FAILURE)?;
            let mac1 = ac::credit_mac1(alg, &seslk, Fen(account.balance), amount, terminal)
                .map_err(|_| sw::MEMORY_FAILURE)?;
            let answer = sscard_core::account::LoadInit {
                balance: Fen(account.balance),
                serial,
                key_version: account.key(KeyRole::Dlk).map_or(0, |k| k.version),
                algorithm: alg.to_byte(),
                random,
                mac1,
            };
            self.vol.account = State::Credit(CreditSession {
                seslk,
                amount,
                terminal,
                serial,
                balance: account.balance,
            });
            Ok(Reply::Outgoing(Zeroizing::new(answer.to_bytes().to_vec())))
        } else {
            let amounts = PurchaseAmounts::from_bytes(&array(&a.data[1..13])?);
            if account.offline_serial == MAX_SERIAL {
                return Err(sw::COUNTER_MAX.into());
            }
            if amounts.account.0 > account.balance {
                return Err(sw::INSUFFICIENT.into());
            }
            let dpk = key_of(&account, KeyRole::Dpk)?;
            let answer = sscard_core::account::PurchaseInit {
                balance: Fen(account.balance),
                self_pay_total: Fen(account.self_pay_total),
                pooled_total: Fen(account.pooled_total),
                payment_year: account.payment_year_bcd(),
                serial: account.offline_serial,
                key_version: account.key(KeyRole::Dpk).map_or(0, |k| k.version),
                algorithm: alg.to_byte(),
                random,
            };
            self.vol.account = State::Purchase(PurchaseSession {
                dpk,
                random,
                serial: account.offline_serial,
                amounts,
                terminal,
            });
            Ok(Reply::Outgoing(Zeroizing::new(answer.to_bytes().to_vec())))
        }
    }

    fn credit_for_load(&mut self, a: &Apdu<'_>, prior: State) -> Outcome {
        a.p1p2(0x00, 0x00)?;
        if a.data.len() != 0x0B {
            return Err(sw::WRONG_LENGTH.into());
        }
        let State::Credit(session) = prior else {
            return Err(sw::NOT_ACCEPTED.into());
        };
        let alg = self.image.algorithm;
        let host_time: [u8; 7] = array(&a.data[..7])?;
        let expected = ac::credit_mac2(
            alg,
            &session.seslk,
            session.amount,
            session.terminal,
            host_time,
        )
        .map_err(|_| sw::MEMORY_FAILURE)?;
        if !ct_equal(&expected, &a.data[7..]) {
            return Err(sw::MAC_INVALID.into());
        }
        if TransactionTime::from_bcd(host_time).is_none() {
            return Err(sw::CONDITIONS.into());
        }
        let account = self.account_or_fail()?.clone();
        if account.balance != session.balance || account.online_serial != session.serial {
            return Err(sw::NOT_ACCEPTED.into());
        }
        let balance = account
            .balance
            .checked_add(session.amount.0)
            .filter(|b| *b <= account.balance_limit)
            .ok_or(sw::CONDITIONS)?;
        let dtk = key_of(&account, KeyRole::Dtk)?;
        let tac = ac::credit_tac(
            alg,
            &dtk,
            Fen(balance),
            session.serial,
            session.amount,
            session.terminal,
            host_time,
        )
        .map_err(|_| sw::MEMORY_FAILURE)?;
        let mode = account.mode().ok_or(sw::MEMORY_FAILURE)?;
        let record = DetailRecord::encode(
            mode,
            session.serial,
            TransactionKind::Credit,
            session.terminal,
            host_time,
            PurchaseAmounts::account_only(session.amount),
        );
        self.persist(Change::Account(AccountChange::Transaction {
            balance,
            online_serial: session.serial + 1,
            offline_serial: account.offline_serial,
            self_pay_total: account.self_pay_total,
            pooled_total: account.pooled_total,
            payment_year: account.payment_year.clone(),
            proof: StoredProof {
                kind: TransactionKind::Credit.type_byte(),
                serial: session.serial,
                mac: SecretBytes::from_slice(&a.data[7..]),
                tac: SecretBytes::from_slice(&tac),
            },
            record,
        }))?;
        Ok(Reply::Outgoing(Zeroizing::new(tac.to_vec())))
    }

    fn debit_for_purchase(&mut self, a: &Apdu<'_>, prior: State) -> Outcome {
        a.p1p2(0x01, 0x00)?;
        if a.data.len() != 0x0F {
            return Err(sw::WRONG_LENGTH.into());
        }
        let State::Purchase(session) = prior else {
            return Err(sw::NOT_ACCEPTED.into());
        };
        let alg = self.image.algorithm;
        let terminal_serial = u32::from_be_bytes(array(&a.data[..4])?);
        let time_bytes: [u8; 7] = array(&a.data[4..11])?;
        let sespk = ac::sespk(
            alg,
            &session.dpk,
            session.random,
            session.serial,
            terminal_serial,
        )
        .map_err(|_| sw::MEMORY_FAILURE)?;
        let expected = ac::purchase_mac1(
            alg,
            &sespk,
            session.amounts,
            TransactionKind::Purchase.type_byte(),
            session.terminal,
            time_bytes,
        )
        .map_err(|_| sw::MEMORY_FAILURE)?;
        if !ct_equal(&expected, &a.data[11..]) {
            return Err(sw::MAC_INVALID.into());
        }
        let time = TransactionTime::from_bcd(time_bytes).ok_or(sw::CONDITIONS)?;
        let account = self.account_or_fail()?.clone();
        if account.offline_serial != session.serial {
            return Err(sw::NOT_ACCEPTED.into());
        }
        let amounts = session.amounts;
        let balance = account
            .balance
            .checked_sub(amounts.account.0)
            .ok_or(sw::INSUFFICIENT)?;
        let mode = account.mode().ok_or(sw::MEMORY_FAILURE)?;
        let (mut spip, mut spfp, mut year) = (
            account.self_pay_total,
            account.pooled_total,
            account.payment_year_value(),
        );
        if mode == ProcessingMode::ThreeAmounts {
            // part 7 §12.6: n = date − (payment year × 10000 + starting day)
            let start = account.starting_day_value();
            let date = date_number(&time);
            let n = date - (i64::from(year) * 10_000 + i64::from(start));
            if n < 10_000 {
                spip = spip.checked_add(amounts.self_pay.0).ok_or(sw::CONDITIONS)?;
                spfp = spfp.checked_add(amounts.pooled.0).ok_or(sw::CONDITIONS)?;
            } else {
                let d = time.date();
                let mmdd = u16::from(d.month()) * 100 + u16::from(d.day());
                year = if mmdd >= start {
                    d.year()
                } else {
                    d.year() - 1
                };
                spip = amounts.self_pay.0;
                spfp = amounts.pooled.0;
            }
        }
        let mac2 = ac::purchase_mac2(alg, &sespk, amounts).map_err(|_| sw::MEMORY_FAILURE)?;
        let dtk = key_of(&account, KeyRole::Dtk)?;
        let tac = ac::purchase_tac_raw(
            alg,
            &dtk,
            amounts,
            session.terminal,
            terminal_serial,
            time_bytes,
        )
        .map_err(|_| sw::MEMORY_FAILURE)?;
        let record = DetailRecord::encode(
            mode,
            session.serial,
            TransactionKind::Purchase,
            session.terminal,
            time_bytes,
            amounts,
        );
        self.persist(Change::Account(AccountChange::Transaction {
            balance,
            online_serial: account.online_serial,
            offline_serial: session.serial + 1,
            self_pay_total: spip,
            pooled_total: spfp,
            payment_year: format!("{year:04}"),
            proof: StoredProof {
                kind: TransactionKind::Purchase.type_byte(),
                serial: session.serial,
                mac: SecretBytes::from_slice(&mac2),
                tac: SecretBytes::from_slice(&tac),
            },
            record,
        }))?;
        let mut out = Zeroizing::new(tac.to_vec());
        out.extend_from_slice(&mac2);
        Ok(Reply::Outgoing(out))
    }

    fn get_balance(&mut self, a: &Apdu<'_>) -> Outcome {
        if a.p1 != 0x00 || !matches!(a.p2, 0x01..=0x03) {
            return Err(sw::P1P2.into());
        }
        a.no_data()?;
        let le = if a.p2 == 0x01 { 4 } else { 6 };
        if a.le != Some(le) {
            return Err(sw::WRONG_LENGTH.into());
        }
        if !self.pin_presented_here() {
            return Err(sw::SECURITY.into());
        }
        let account = self.account_or_fail()?;
        let mut out = match a.p2 {
            0x01 => account.balance,
            0x02 => account.self_pay_total,
            _ => account.pooled_total,
        }
        .to_be_bytes()
        .to_vec();
        if a.p2 != 0x01 {
            out.extend_from_slice(&account.payment_year_bcd());
        }
        Ok(Reply::Exact(Zeroizing::new(out)))
    }

    fn get_transaction_proof(&mut self, a: &Apdu<'_>) -> Outcome {
        if a.p1 != 0x00 || !matches!(a.p2, 0x01 | 0x02) {
            return Err(sw::P1P2.into());
        }
        if a.data.len() != 2 || !matches!(a.le, None | Some(8)) {
            return Err(sw::WRONG_LENGTH.into());
        }
        let serial = u16::from_be_bytes([a.data[0], a.data[1]]);
        let account = self.account_or_fail()?;
        let proof = account
            .proof(a.p2)
            .filter(|p| p.serial == serial)
            .ok_or(sw::NO_PROOF)?;
        let mut out = Zeroizing::new(proof.mac.expose().to_vec());
        out.extend_from_slice(proof.tac.expose());
        Ok(Reply::Outgoing(out))
    }

    fn starting_day(&mut self, a: &Apdu<'_>) -> Outcome {
        match (a.p1, a.p2) {
            (0x00, 0x00) => {
                if a.data.len() != 2 || a.le.is_some() {
                    return Err(sw::WRONG_LENGTH.into());
                }
                if !self.vol.authenticated.contains(&KeyRole::Dsk) {
                    return Err(sw::SECURITY.into());
                }
                let value = sscard_core::account::bcd2([a.data[0], a.data[1]])
                    .filter(|v| (1..=12).contains(&(v / 100)) && (1..=31).contains(&(v % 100)))
                    .ok_or(sw::CONDITIONS)?;
                self.persist(Change::Account(AccountChange::StartingDay(format!(
                    "{value:04}"
                ))))?;
                Ok(Reply::Done)
            }
            (0x01, 0x00) => {
                a.no_data()?;
                if a.le != Some(2) {
                    return Err(sw::WRONG_LENGTH.into());
                }
                if !self.pin_presented_here() {
                    return Err(sw::SECURITY.into());
                }
                let day = self.account_or_fail()?.starting_day_value();
                Ok(Reply::Exact(Zeroizing::new(to_bcd2(day).to_vec())))
            }
            _ => Err(sw::P1P2.into()),
        }
    }
}
