//! The medical insurance account on the card (part 5 §7, part 7 §10-12, §14): credit, offline
//! purchase, balance, transaction records, proof, starting day.
//!
//! Every operation selects SSSE (the card's algorithm and identification code, for the keys),
//! then DF04 by its AID (`00A4 0400 06 D15600000503 00`), and presents the holder's PIN with
//! VERIFY when one is given (part 7 §11, §12: "要求提交个人密码（PIN）（如果持卡人设置）"; a card
//! asking for one answers `6982`, [`AccountError::PinRequired`]).
//!
//! A purchase ([`purchase`], or [`prepare_purchase`] then [`debit`] for a terminal with a
//! journal) is INITIALIZE FOR PURCHASE, MAC1 from the [`PurchaseKeys`] (a PSAM's INIT SAM FOR
//! PURCHASE), DEBIT FOR PURCHASE, and the card's MAC2 checked by the key holder (CREDIT SAM FOR
//! PURCHASE). A credit ([`credit`]) is INITIALIZE FOR LOAD, MAC1 checked and MAC2 computed by
//! the host's [`CreditKeys`], CREDIT FOR LOAD. When the answer to DEBIT or CREDIT is lost the
//! operation returns [`AccountError::Interrupted`] with the [`PendingTransaction`], and
//! [`recover`] asks the card (GET TRANSACTION PROOF, part 7 §14): the proof means applied, `9406`
//! means not applied and the transaction may be started again. Amounts are checked before the
//! first APDU; what the card refuses before its write (`9401`, `9403`, `9402`, `9302`, `6901`)
//! writes nothing.

use crate::account::commands::{self as cmd, Mac1Request};
use crate::account::{
    bcd2, AccountError, BalanceKind, DetailRecord, Fen, LoadInit, PendingTransaction,
    ProcessingMode, Proof, PurchaseAmounts, PurchaseInit, TerminalNumber, TransactionKind,
    TransactionTime, DEFAULT_KEY_INDEX, DETAIL_SFI, DF04, DF04_AID, DSK_KEY_ID,
};
use crate::apdu::{commands, Command, RecordRef, StatusWord};
use crate::crypto::Pin;
use crate::data::CardNumber;
use crate::error::{Error, Result};
use crate::keyholder::account::{
    dpk_address, dtk_address, hsm_step1_line, parse_hsm_pkey, CreditKeys, Mac2Check, PurchaseKeys,
    PurchaseMac1,
};
use crate::keyholder::{CardContext, KeyHolder};
use crate::keys::KeyRole;
use crate::profile::{self, Generation};
use crate::transport::Transport;

use super::card::{item, status_error, Card};

/// The balances GET BALANCE reads (part 5 §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Balance {
    /// CIA: the personal account's balance.
    pub account: Fen,
    /// SPIP: the payment year's self-pay total.
    pub self_pay_total: Fen,
    /// SPFP: the payment year's pooled-fund total.
    pub pooled_total: Fen,
    /// The payment year of the totals (`0` when the card has none yet).
    pub payment_year: u16,
}

/// A credit to ask for (part 7 §11).
#[derive(Debug, Clone, Copy)]
pub struct CreditRequest<'a> {
    /// The amount (more than zero).
    pub amount: Fen,
    /// The host's time (交易时间（主机）).
    pub host_time: TransactionTime,
    /// The terminal number (`000000000000` without one).
    pub terminal: TerminalNumber,
    /// The key index (DLK), [`DEFAULT_KEY_INDEX`] normally.
    pub key_index: u8,
    /// The holder's PIN, for a card that has one.
    pub pin: Option<&'a Pin>,
}

/// A purchase to ask for (part 7 §12).
#[derive(Debug, Clone, Copy)]
pub struct PurchaseRequest<'a> {
    /// The three amounts (not all zero).
    pub amounts: PurchaseAmounts,
    /// The terminal's time.
    pub time: TransactionTime,
    /// The key index (DPK version), [`DEFAULT_KEY_INDEX`] normally.
    pub key_index: u8,
    /// The holder's PIN, for a card that has one.
    pub pin: Option<&'a Pin>,
}

impl<'a> PurchaseRequest<'a> {
    /// A purchase of `amounts` at `time` with key index 1, without PIN.
    pub fn new(amounts: PurchaseAmounts, time: TransactionTime) -> PurchaseRequest<'a> {
        PurchaseRequest {
            amounts,
            time,
            key_index: DEFAULT_KEY_INDEX,
            pin: None,
        }
    }

    /// With the holder's PIN.
    pub fn with_pin(mut self, pin: &'a Pin) -> PurchaseRequest<'a> {
        self.pin = Some(pin);
        self
    }
}

/// What a completed transaction left: the transaction, the new balance, the card's TAC and
/// MAC (MAC2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Receipt {
    /// The transaction (card, serials, amounts, time, balance before).
    pub transaction: PendingTransaction,
    /// The balance after.
    pub balance_after: Fen,
    /// The TAC (the host checks it with DTK).
    #[serde(serialize_with = "crate::codec::serialize_hex")]
    #[cfg_attr(feature = "schemars", schemars(with = "String"))]
    pub tac: [u8; 4],
    /// MAC2: the card's (purchase) or the host's (credit).
    #[serde(serialize_with = "crate::codec::serialize_hex")]
    #[cfg_attr(feature = "schemars", schemars(with = "String"))]
    pub mac2: [u8; 4],
    /// Whether the key holder checked the card's MAC2 (purchases; credits: `Verified`, the
    /// card checked the host's MAC2).
    pub mac2_check: Mac2Check,
    /// The card's algorithm.
    pub algorithm: crate::Algorithm,
}

impl Receipt {
    /// The reader interface's "交易金额" (§8.1.2(4)): the last two amounts of INITIALIZE FOR
    /// PURCHASE in hex, self-pay ‖ pooled (\[design\] D36).
    fn ri_amounts(&self) -> String {
        hex::encode_upper(&self.transaction.amounts.to_bytes()[4..])
    }

    /// `iDoDebit`'s answer (reader interface §8.1.2(4)): `算法标识|密钥地址|交易金额|交易类型|
    /// 终端机编号|终端交易序号|交易时间|TAC|`, the key address DTK's of key group `group`
    /// (where the host checks the TAC, \[design\] D36).
    pub fn ri_debit_line(&self, group: u8) -> String {
        format!(
            "{:02X}|{:04X}|{}|{:02X}|{}|{:08X}|{}|{}|",
            self.algorithm.to_byte(),
            dtk_address(group).unwrap_or(0x00B5),
            self.ri_amounts(),
            self.transaction.kind.type_byte(),
            self.transaction.terminal,
            self.transaction.terminal_serial,
            self.transaction.time,
            hex::encode_upper(self.tac)
        )
    }

    /// `iDoDebit_HSM_Step2`'s answer (§8.3.2(2)): `MAC2|` then [`Receipt::ri_debit_line`].
    pub fn ri_hsm_step2_line(&self, group: u8) -> String {
        format!(
            "{}|{}",
            hex::encode_upper(self.mac2),
            self.ri_debit_line(group)
        )
    }
}

/// A purchase the card initialized and the key holder authorized (MAC1), not yet sent to the
/// card: the journal keeps [`PreparedPurchase::pending`] before [`debit`].
#[derive(Debug, Clone)]
pub struct PreparedPurchase {
    /// The transaction.
    pub pending: PendingTransaction,
    mac1: [u8; 4],
    context: CardContext,
    epoch: u64,
    mode: ProcessingMode,
}

impl PreparedPurchase {
    /// The processing mode found (or assumed: the V2.0 notice's 28 bytes when the card has no
    /// record yet) for the card.
    pub fn mode(&self) -> ProcessingMode {
        self.mode
    }
}

/// What the card says about a transaction whose answer was lost (part 7 §14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The card applied it: here is its proof (MAC, TAC).
    Completed(Proof),
    /// The card did not apply it (`9406`): nothing moved; it may be started again.
    NotApplied,
}

// ---------------------------------------------------------------------------------------------
// entering the account

/// SELECT of DF04 by its AID, unless current; what the key holder needs is read in SSSE first.
fn enter<T: Transport>(card: &mut Card<T>) -> Result<CardContext> {
    let ctx = card.context()?;
    if card.area == Some(DF04) {
        return Ok(ctx);
    }
    match card.exchange_raw(&commands::select_aid(&DF04_AID))? {
        (_, StatusWord::Ok) => {}
        (_, StatusWord::FileNotFound) => {
            return Err(AccountError::NoAccount(
                "the card has no DF04 (SELECT D15600000503 answered 6A82)".into(),
            )
            .into())
        }
        (_, sw) => return Err(status_error("SELECT DF04", sw)),
    }
    card.authenticated.clear();
    card.forget_current_ef();
    card.area = Some(DF04);
    Ok(ctx)
}

/// VERIFY of the holder's PIN (it holds until reset; VERIFY works inside the DFs, \[design\] D24).
fn verify<T: Transport>(card: &mut Card<T>, pin: Option<&Pin>) -> Result<()> {
    let Some(pin) = pin else {
        return Ok(());
    };
    match card.exchange_raw(&commands::verify(pin.to_bcd()))? {
        (_, StatusWord::Ok) => Ok(()),
        (_, StatusWord::VerificationFailed { tries_left: 0 } | StatusWord::AuthMethodBlocked) => {
            Err(Error::PinBlocked)
        }
        (_, StatusWord::VerificationFailed { tries_left }) => Err(Error::WrongPin { tries_left }),
        (_, sw) => Err(status_error("VERIFY", sw)),
    }
}

/// The error of an account command's status word.
fn account_error(what: &'static str, sw: StatusWord, kind: TransactionKind) -> Error {
    match sw {
        StatusWord::SecurityNotSatisfied => AccountError::PinRequired.into(),
        StatusWord::KeyIndexNotSupported => AccountError::KeyIndex(DEFAULT_KEY_INDEX).into(),
        StatusWord::CounterAtMaximum => AccountError::CounterAtMaximum(kind).into(),
        StatusWord::CommandNotAccepted => AccountError::NotAccepted(what).into(),
        StatusWord::ClaNotSupported
        | StatusWord::InsNotSupported
        | StatusWord::FunctionNotSupported => {
            AccountError::NoAccount(format!("{what} answered {:04X}", u16::from(sw))).into()
        }
        sw => status_error(what, sw),
    }
}

/// Sends an account command; `9000` gives its data.
fn send<T: Transport>(
    card: &mut Card<T>,
    what: &'static str,
    command: &Command,
    kind: TransactionKind,
) -> Result<Vec<u8>> {
    match card.exchange_raw(command)? {
        (data, StatusWord::Ok) => Ok(data),
        (_, sw) => Err(account_error(what, sw, kind)),
    }
}

fn malformed(command: &'static str, reason: String) -> Error {
    Error::MalformedResponse { command, reason }
}

/// The card number (EF05 `07`), read in SSSE (part 7 §14: the terminal knows the card by its
/// identification code and card number).
fn card_number<T: Transport>(card: &mut Card<T>) -> Result<CardNumber> {
    let spec = item(Generation::V1, profile::tag::CARD_NUMBER)?;
    let value = card
        .read_item(spec)?
        .ok_or(Error::PersonalizationIncomplete)?;
    let text = crate::codec::decode_an("card_number", &value)?;
    Ok(CardNumber::from_card(&text)?)
}

/// How a credit or a purchase starts (part 7 §11.1, §12.1): the card's context and number, read
/// in SSSE, then DF04 and the holder's PIN.
fn begin_transaction<T: Transport>(
    card: &mut Card<T>,
    pin: Option<&Pin>,
) -> Result<(CardContext, CardNumber)> {
    let ctx = card.context()?;
    let number = card_number(card)?;
    enter(card)?;
    verify(card, pin)?;
    Ok((ctx, number))
}

// ---------------------------------------------------------------------------------------------
// reading

/// GET BALANCE of the account and both totals (part 5 §7.3): three APDUs after DF04.
pub fn balance<T: Transport>(card: &mut Card<T>, pin: Option<&Pin>) -> Result<Balance> {
    card.operation(|card| {
        enter(card)?;
        verify(card, pin)?;
        let mut values = Vec::with_capacity(3);
        for kind in [
            BalanceKind::Account,
            BalanceKind::SelfPayTotal,
            BalanceKind::PooledTotal,
        ] {
            let data = send(
                card,
                "GET BALANCE",
                &cmd::get_balance(kind),
                TransactionKind::Purchase,
            )?;
            if data.len() != kind.le() {
                return Err(malformed(
                    "GET BALANCE",
                    format!("{} bytes instead of {}", data.len(), kind.le()),
                ));
            }
            let amount = Fen::from_bytes([data[0], data[1], data[2], data[3]]);
            let year = match data.get(4..6) {
                Some([a, b]) => bcd2([*a, *b]).unwrap_or(0),
                _ => 0,
            };
            values.push((amount, year));
        }
        Ok(Balance {
            account: values[0].0,
            self_pay_total: values[1].0,
            pooled_total: values[2].0,
            payment_year: values[1].1,
        })
    })
}

/// The balance of the account alone (one GET BALANCE).
pub fn account_balance<T: Transport>(card: &mut Card<T>, pin: Option<&Pin>) -> Result<Fen> {
    card.operation(|card| {
        enter(card)?;
        verify(card, pin)?;
        let data = send(
            card,
            "GET BALANCE",
            &cmd::get_balance(BalanceKind::Account),
            TransactionKind::Purchase,
        )?;
        match data.as_slice() {
            [a, b, c, d] => Ok(Fen::from_bytes([*a, *b, *c, *d])),
            _ => Err(malformed(
                "GET BALANCE",
                format!("{} bytes instead of 4", data.len()),
            )),
        }
    })
}

/// READ RECORD `n` of the detail file (SFI 8, by number): its bytes, `None` past the last.
fn read_detail<T: Transport>(card: &mut Card<T>, n: u8, le: usize) -> Result<Option<Vec<u8>>> {
    let command = commands::read_record(Some(DETAIL_SFI), RecordRef::Number(n), le);
    match card.exchange_raw(&command)? {
        (data, StatusWord::Ok) => Ok(Some(data)),
        (_, StatusWord::RecordNotFound) => Ok(None),
        (_, StatusWord::SecurityNotSatisfied) => Err(AccountError::PinRequired.into()),
        (_, StatusWord::FileNotFound) => {
            Err(AccountError::NoAccount("DF04 has no transaction detail file (EF08)".into()).into())
        }
        (_, sw) => Err(status_error("READ RECORD DF04 EF08", sw)),
    }
}

/// The records of the transaction detail file DF04 EF08, newest first (part 3 §5.3.2), and
/// the card's processing mode (their length); `None` mode for a card without records.
pub fn records<T: Transport>(
    card: &mut Card<T>,
    pin: Option<&Pin>,
) -> Result<(Vec<DetailRecord>, Option<ProcessingMode>)> {
    card.operation(|card| {
        enter(card)?;
        verify(card, pin)?;
        let mut out = Vec::new();
        let mut mode = None;
        for n in 1..=u8::MAX {
            // the V2.0 notice's 28 bytes first: a 20-byte card answers 6C14, which the
            // channel follows
            let le = mode.map_or(28, ProcessingMode::record_len);
            let Some(bytes) = read_detail(card, n, le)? else {
                break;
            };
            let record =
                DetailRecord::parse(&bytes).ok_or(AccountError::UnknownMode(bytes.len()))?;
            mode = Some(record.mode);
            out.push(record);
        }
        Ok((out, mode))
    })
}

/// The processing mode of the card from its newest record (one READ RECORD); the V2.0
/// notice's 28 bytes when it has none yet.
fn mode_of<T: Transport>(card: &mut Card<T>) -> Result<ProcessingMode> {
    match read_detail(card, 1, ProcessingMode::ThreeAmounts.record_len())? {
        None => Ok(ProcessingMode::ThreeAmounts),
        Some(bytes) => ProcessingMode::from_record_len(bytes.len())
            .ok_or_else(|| AccountError::UnknownMode(bytes.len()).into()),
    }
}

/// GET TRANSACTION PROOF of the `kind` transaction with card serial `serial` (part 5 §7.4):
/// `None` when the card has no proof for it (`9406`).
pub fn proof<T: Transport>(
    card: &mut Card<T>,
    kind: TransactionKind,
    serial: u16,
) -> Result<Option<Proof>> {
    card.operation(|card| {
        enter(card)?;
        get_proof(card, kind, serial)
    })
}

fn get_proof<T: Transport>(
    card: &mut Card<T>,
    kind: TransactionKind,
    serial: u16,
) -> Result<Option<Proof>> {
    let command = cmd::get_transaction_proof(kind, serial);
    match card.exchange_raw(&command)? {
        (data, StatusWord::Ok) => match data.as_slice() {
            [m0, m1, m2, m3, t0, t1, t2, t3] => Ok(Some(Proof {
                mac: [*m0, *m1, *m2, *m3],
                tac: [*t0, *t1, *t2, *t3],
            })),
            _ => Err(malformed(
                "GET TRANSACTION PROOF",
                format!("{} bytes instead of 8", data.len()),
            )),
        },
        (_, StatusWord::MacNotAvailable) => Ok(None),
        (_, sw) => Err(account_error("GET TRANSACTION PROOF", sw, kind)),
    }
}

/// GET STARTING DAY (part 5 §7.8): the payment year's starting day as `(month, day)`.
pub fn starting_day<T: Transport>(card: &mut Card<T>, pin: Option<&Pin>) -> Result<(u8, u8)> {
    card.operation(|card| {
        enter(card)?;
        verify(card, pin)?;
        let data = send(
            card,
            "GET STARTING DAY",
            &cmd::get_starting_day(),
            TransactionKind::Purchase,
        )?;
        let value = match data.as_slice() {
            [a, b] => bcd2([*a, *b]),
            _ => None,
        }
        .ok_or_else(|| malformed("GET STARTING DAY", "not 2 BCD bytes".into()))?;
        Ok((
            u8::try_from(value / 100).unwrap_or(0),
            u8::try_from(value % 100).unwrap_or(0),
        ))
    })
}

/// UPDATE STARTING DAY (part 5 §7.7): EXTERNAL AUTHENTICATION with DSK (card key id `87`,
/// \[design\] D34) through the key holder, then `B056 0000 02 mmdd`.
pub fn update_starting_day<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    month: u8,
    day: u8,
) -> Result<()> {
    let days = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day == 0 || day > days[usize::from(month)] {
        return Err(AccountError::BadInput(format!(
            "starting day {month:02}{day:02}: a month and a day of it (mmdd)"
        ))
        .into());
    }
    card.operation(|card| {
        let ctx = enter(card)?;
        if !key_holder.supports(ctx.algorithm) {
            return Err(Error::KeyHolderAlgorithm(ctx.algorithm));
        }
        if !card.authenticated.contains(&KeyRole::Dsk) {
            card.authenticate_key(&mut *key_holder, &ctx, KeyRole::Dsk, DSK_KEY_ID)?;
        }
        let mmdd = crate::account::to_bcd2(u16::from(month) * 100 + u16::from(day));
        send(
            card,
            "UPDATE STARTING DAY",
            &cmd::update_starting_day(mmdd),
            TransactionKind::Purchase,
        )
        .map(|_| ())
    })
}

// ---------------------------------------------------------------------------------------------
// credit

/// A credit (帐户划入, part 7 §11): INITIALIZE FOR LOAD, the host's MAC2 (after checking the
/// card's MAC1), CREDIT FOR LOAD ([`prepare_credit`] then [`complete_credit`]). The card adds
/// the amount, counts the serial and records the transaction in one step (§11.8); the receipt
/// carries its TAC.
pub fn credit<T: Transport>(
    card: &mut Card<T>,
    host: &mut dyn CreditKeys,
    request: &CreditRequest<'_>,
) -> Result<Receipt> {
    let prepared = prepare_credit(card, host, request)?;
    complete_credit(card, prepared)
}

/// A credit the card initialized and the host authorized (MAC2), not yet sent: the journal
/// keeps [`PreparedCredit::pending`] before [`complete_credit`].
#[derive(Debug, Clone)]
pub struct PreparedCredit {
    /// The transaction.
    pub pending: PendingTransaction,
    mac2: [u8; 4],
    algorithm: crate::Algorithm,
    epoch: u64,
}

/// INITIALIZE FOR LOAD and the host's MAC2 (part 7 §11.1-11.5). Nothing is written.
pub fn prepare_credit<T: Transport>(
    card: &mut Card<T>,
    host: &mut dyn CreditKeys,
    request: &CreditRequest<'_>,
) -> Result<PreparedCredit> {
    if request.amount.is_zero() {
        return Err(AccountError::BadInput("a credit of 0.00 yuan".into()).into());
    }
    card.transaction(|card| {
        let (ctx, number) = begin_transaction(card, request.pin)?;
        let command = cmd::initialize_for_load(request.key_index, request.amount, request.terminal);
        let data = match card.exchange_raw(&command)? {
            (data, StatusWord::Ok) => data,
            (_, StatusWord::KeyIndexNotSupported) => {
                return Err(AccountError::KeyIndex(request.key_index).into())
            }
            (_, StatusWord::ConditionsNotSatisfied) => {
                return Err(AccountError::BalanceLimit {
                    amount: request.amount,
                    balance: None,
                }
                .into())
            }
            (_, sw) => {
                return Err(account_error(
                    "INITIALIZE FOR LOAD",
                    sw,
                    TransactionKind::Credit,
                ))
            }
        };
        let init = LoadInit::parse(&data).ok_or_else(|| {
            malformed(
                "INITIALIZE FOR LOAD",
                format!("{} bytes instead of 16", data.len()),
            )
        })?;
        if init.balance.checked_add(request.amount).is_none() {
            return Err(AccountError::BalanceLimit {
                amount: request.amount,
                balance: Some(init.balance),
            }
            .into());
        }
        let mac2 = host
            .credit_mac2(
                &ctx,
                &init,
                request.amount,
                request.terminal,
                request.host_time,
            )?
            .ok_or(AccountError::CardMac1Invalid)?;
        Ok(PreparedCredit {
            pending: PendingTransaction {
                kind: TransactionKind::Credit,
                card_id: ctx.card_id,
                card_number: number,
                card_serial: init.serial,
                terminal_serial: 0,
                terminal: request.terminal,
                amounts: PurchaseAmounts::account_only(request.amount),
                time: request.host_time,
                balance_before: init.balance,
            },
            mac2,
            algorithm: ctx.algorithm,
            epoch: card.epoch(),
        })
    })
}

/// CREDIT FOR LOAD (part 7 §11.6-11.9). A card reset since [`prepare_credit`] sends nothing
/// ([`Error::CardReset`]: nothing was credited).
pub fn complete_credit<T: Transport>(
    card: &mut Card<T>,
    prepared: PreparedCredit,
) -> Result<Receipt> {
    card.sync_epoch()?;
    if card.epoch() != prepared.epoch {
        return Err(Error::CardReset);
    }
    let pending = prepared.pending;
    let command = cmd::credit_for_load(pending.time, prepared.mac2);
    let data = match write_command(card, &command, &pending)? {
        (data, StatusWord::Ok) => data,
        (_, StatusWord::MacInvalid) => return Err(AccountError::Mac2Refused.into()),
        (_, sw) => {
            return Err(account_error(
                "CREDIT FOR LOAD",
                sw,
                TransactionKind::Credit,
            ))
        }
    };
    let tac: [u8; 4] = data.as_slice().try_into().map_err(|_| {
        malformed(
            "CREDIT FOR LOAD",
            format!("{} bytes instead of 4", data.len()),
        )
    })?;
    Ok(Receipt {
        balance_after: pending.balance_after().unwrap_or(Fen::MAX),
        transaction: pending,
        tac,
        mac2: prepared.mac2,
        mac2_check: Mac2Check::Verified,
        algorithm: prepared.algorithm,
    })
}

/// Sends the writing command of a transaction: a lost answer becomes
/// [`AccountError::Interrupted`] with the transaction to recover.
fn write_command<T: Transport>(
    card: &mut Card<T>,
    command: &Command,
    pending: &PendingTransaction,
) -> Result<(Vec<u8>, StatusWord)> {
    let interrupted = |reason: String| -> Error {
        AccountError::Interrupted {
            pending: Box::new(pending.clone()),
            reason,
        }
        .into()
    };
    match card.channel.send(command) {
        Ok(response) => {
            let sw = response.sw();
            Ok((response.into_data(), sw))
        }
        // sent (or maybe sent): whatever failed, the card may have applied it
        Err(e) => {
            let error = card.transport_error(e);
            Err(interrupted(error.to_string()))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// purchase

/// INITIALIZE FOR PURCHASE and MAC1 (part 7 §12.1-12.3): the card checks its key index and
/// balance, the key holder computes MAC1 with its next terminal serial. Nothing is written;
/// the terminal's journal keeps `pending` before [`debit`].
pub fn prepare_purchase<T: Transport>(
    card: &mut Card<T>,
    keys: &mut dyn PurchaseKeys,
    request: &PurchaseRequest<'_>,
) -> Result<PreparedPurchase> {
    let terminal = keys.purchase_terminal()?;
    let initialized = initialize_purchase(card, request, terminal)?;
    let mac1 = keys.purchase_mac1(&initialized.context, &initialized.mac1_request())?;
    Ok(initialized.authorize(mac1))
}

/// A purchase the card initialized, before MAC1.
#[derive(Debug, Clone)]
struct Initialized {
    context: CardContext,
    number: CardNumber,
    init: PurchaseInit,
    mode: ProcessingMode,
    epoch: u64,
    amounts: PurchaseAmounts,
    time: TransactionTime,
    terminal: TerminalNumber,
}

impl Initialized {
    /// The data of INIT SAM FOR PURCHASE (part 9 §9.9.3).
    fn mac1_request(&self) -> Mac1Request {
        Mac1Request {
            card_random: self.init.random,
            card_serial: self.init.serial,
            amounts: self.amounts,
            type_byte: TransactionKind::Purchase.type_byte(),
            time: self.time,
            key_version: self.init.key_version,
            algorithm: self.init.algorithm,
            terminal: self.terminal,
        }
    }

    /// With MAC1 and the terminal serial, ready for DEBIT.
    fn authorize(self, mac1: PurchaseMac1) -> PreparedPurchase {
        PreparedPurchase {
            pending: PendingTransaction {
                kind: TransactionKind::Purchase,
                card_id: self.context.card_id,
                card_number: self.number,
                card_serial: self.init.serial,
                terminal_serial: mac1.terminal_serial,
                terminal: self.terminal,
                amounts: self.amounts,
                time: self.time,
                balance_before: self.init.balance,
            },
            mac1: mac1.mac1,
            context: self.context,
            epoch: self.epoch,
            mode: self.mode,
        }
    }
}

/// SSSE, the card number, DF04, VERIFY, the mode when it matters, INITIALIZE FOR PURCHASE.
fn initialize_purchase<T: Transport>(
    card: &mut Card<T>,
    request: &PurchaseRequest<'_>,
    terminal: TerminalNumber,
) -> Result<Initialized> {
    let amounts = request.amounts;
    if amounts.is_zero() {
        return Err(AccountError::BadInput("a purchase of 0.00 yuan".into()).into());
    }
    card.transaction(|card| {
        let (ctx, number) = begin_transaction(card, request.pin)?;
        let needs_three = !amounts.self_pay.is_zero() || !amounts.pooled.is_zero();
        let mode = if needs_three {
            let mode = mode_of(card)?;
            if mode == ProcessingMode::AccountOnly {
                return Err(AccountError::AccountOnlyCard.into());
            }
            mode
        } else {
            ProcessingMode::ThreeAmounts
        };
        let command = cmd::initialize_for_purchase(request.key_index, amounts, terminal);
        let data = match card.exchange_raw(&command)? {
            (data, StatusWord::Ok) => data,
            (_, StatusWord::InsufficientBalance) => {
                return Err(AccountError::InsufficientBalance {
                    amount: amounts.account,
                    balance: None,
                }
                .into())
            }
            (_, StatusWord::KeyIndexNotSupported) => {
                return Err(AccountError::KeyIndex(request.key_index).into())
            }
            (_, sw) => {
                return Err(account_error(
                    "INITIALIZE FOR PURCHASE",
                    sw,
                    TransactionKind::Purchase,
                ))
            }
        };
        let init = PurchaseInit::parse(&data).ok_or_else(|| {
            malformed(
                "INITIALIZE FOR PURCHASE",
                format!("{} bytes instead of 22", data.len()),
            )
        })?;
        if init.balance < amounts.account {
            return Err(AccountError::InsufficientBalance {
                amount: amounts.account,
                balance: Some(init.balance),
            }
            .into());
        }
        Ok(Initialized {
            context: ctx,
            number,
            init,
            mode,
            epoch: card.epoch(),
            amounts,
            time: request.time,
            terminal,
        })
    })
}

/// DEBIT FOR PURCHASE (part 7 §12.4-12.7): the card checks MAC1, debits, adds the totals,
/// counts and records in one step; the key holder checks its MAC2. A card reset since
/// [`prepare_purchase`] sends nothing ([`Error::CardReset`]: nothing was debited).
pub fn debit<T: Transport>(
    card: &mut Card<T>,
    keys: &mut dyn PurchaseKeys,
    prepared: PreparedPurchase,
) -> Result<Receipt> {
    let (tac, mac2) = debit_card(card, &prepared)?;
    let mac2_check = keys
        .check_purchase_mac2(&prepared.context, mac2)
        .unwrap_or(Mac2Check::NotChecked);
    Ok(receipt(prepared, tac, mac2, mac2_check))
}

fn receipt(prepared: PreparedPurchase, tac: [u8; 4], mac2: [u8; 4], check: Mac2Check) -> Receipt {
    Receipt {
        algorithm: prepared.context.algorithm,
        balance_after: prepared.pending.balance_after().unwrap_or(Fen::ZERO),
        transaction: prepared.pending,
        tac,
        mac2,
        mac2_check: check,
    }
}

/// Sends DEBIT FOR PURCHASE: TAC and MAC2.
pub(crate) fn debit_card<T: Transport>(
    card: &mut Card<T>,
    prepared: &PreparedPurchase,
) -> Result<([u8; 4], [u8; 4])> {
    card.sync_epoch()?;
    if card.epoch() != prepared.epoch {
        return Err(Error::CardReset);
    }
    let p = &prepared.pending;
    let command = cmd::debit_for_purchase(p.terminal_serial, p.time, prepared.mac1);
    let data = match write_command(card, &command, p)? {
        (data, StatusWord::Ok) => data,
        (_, StatusWord::MacInvalid) => return Err(AccountError::Mac1Refused.into()),
        (_, StatusWord::InsufficientBalance) => {
            return Err(AccountError::InsufficientBalance {
                amount: p.amounts.account,
                balance: Some(p.balance_before),
            }
            .into())
        }
        (_, sw) => {
            return Err(account_error(
                "DEBIT FOR PURCHASE",
                sw,
                TransactionKind::Purchase,
            ))
        }
    };
    match data.as_slice() {
        [t0, t1, t2, t3, m0, m1, m2, m3] => Ok(([*t0, *t1, *t2, *t3], [*m0, *m1, *m2, *m3])),
        _ => Err(malformed(
            "DEBIT FOR PURCHASE",
            format!("{} bytes instead of 8", data.len()),
        )),
    }
}

/// A whole purchase: [`prepare_purchase`], [`debit`]; when DEBIT's answer is lost and the card
/// answers again, [`recover`] at once (a completed debit gives its receipt from the proof,
/// with MAC2 not checked); otherwise the [`AccountError::Interrupted`] error to recover later.
pub fn purchase<T: Transport>(
    card: &mut Card<T>,
    keys: &mut dyn PurchaseKeys,
    request: &PurchaseRequest<'_>,
) -> Result<Receipt> {
    let prepared = prepare_purchase(card, keys, request)?;
    let kept = prepared.clone();
    match debit(card, keys, prepared) {
        Err(Error::Account(AccountError::Interrupted { pending, reason })) => {
            match recover(card, &pending) {
                Ok(Recovery::Completed(proof)) => {
                    Ok(receipt(kept, proof.tac, proof.mac, Mac2Check::NotChecked))
                }
                Ok(Recovery::NotApplied) => Err(AccountError::Interrupted {
                    pending,
                    reason: format!(
                        "{reason}; the card says it did not apply it (9406): nothing moved"
                    ),
                }
                .into()),
                Err(_) => Err(AccountError::Interrupted { pending, reason }.into()),
            }
        }
        other => other,
    }
}

/// The recovery of part 7 §14 for a transaction whose answer was lost: the same card (its
/// identification code and card number), DF04, GET TRANSACTION PROOF of the transaction's kind
/// and card serial. The PIN is not needed.
pub fn recover<T: Transport>(card: &mut Card<T>, pending: &PendingTransaction) -> Result<Recovery> {
    card.operation(|card| {
        let ctx = card.context()?;
        if ctx.card_id != pending.card_id {
            return Err(AccountError::OtherCard(format!(
                "card id {} instead of {}",
                ctx.card_id, pending.card_id
            ))
            .into());
        }
        let number = card_number(card)?;
        if number != pending.card_number {
            return Err(AccountError::OtherCard(format!(
                "card number {} instead of {}",
                number.as_str(),
                pending.card_number.as_str()
            ))
            .into());
        }
        enter(card)?;
        Ok(match get_proof(card, pending.kind, pending.card_serial)? {
            Some(proof) => Recovery::Completed(proof),
            None => Recovery::NotApplied,
        })
    })
}

// ---------------------------------------------------------------------------------------------
// the HSM steps of the reader interface (iDoDebit_HSM_Step1/2)

/// What `iDoDebit_HSM_Step1` leaves for step two: the card initialized for the purchase, and
/// the line for the HSM.
#[derive(Debug, Clone)]
pub struct HsmPurchaseStep {
    initialized: Initialized,
    group: u8,
}

impl HsmPurchaseStep {
    /// `iDoDebit_HSM_Step1`'s answer (reader interface §8.2.2(4)): `算法标识|密钥地址|伪随机数|
    /// 医疗消费交易序号|交易金额|交易类型|终端机编号|交易时间|` with the DPK address of the card's
    /// key version and the key group ([`hsm_step1_line`]).
    pub fn line(&self) -> String {
        let request = self.initialized.mac1_request();
        let address = dpk_address(request.key_version, self.group).unwrap_or(0x017F);
        hsm_step1_line(&request, address)
    }

    /// The card's balance before the purchase.
    pub fn balance(&self) -> Fen {
        self.initialized.init.balance
    }
}

/// `iDoDebit_HSM_Step1` (reader interface §8.2.3): the card checked (the caller checks
/// `pCardInfo` first), the PIN verified, INITIALIZE FOR PURCHASE; the line for the HSM. The
/// line carries the self-pay and pooled amounts only, so the account amount must be zero
/// (\[design\] D36); `terminal` is `000000000000` without a PSAM (§8.2.2(4) note).
pub fn hsm_purchase_step1<T: Transport>(
    card: &mut Card<T>,
    request: &PurchaseRequest<'_>,
    terminal: TerminalNumber,
    group: u8,
) -> Result<HsmPurchaseStep> {
    if !request.amounts.account.is_zero() {
        return Err(AccountError::BadInput(
            "the reader interface's HSM line carries the self-pay and pooled amounts only: the account amount must be 0".into(),
        )
        .into());
    }
    if dpk_address(DEFAULT_KEY_INDEX, group).is_none() {
        return Err(AccountError::BadInput(format!("key group {group}: 1 to 3")).into());
    }
    let initialized = initialize_purchase(card, request, terminal)?;
    Ok(HsmPurchaseStep { initialized, group })
}

/// `iDoDebit_HSM_Step2` (§8.3.3): the HSM's `pKey` (`终端交易序号|交易时间|MAC1|`, the time
/// step one's), DEBIT FOR PURCHASE; the receipt, whose [`Receipt::ri_hsm_step2_line`] is the
/// answer. MAC2 is the HSM's to check ([`Mac2Check::NotChecked`]). A malformed `pKey` sends
/// nothing.
pub fn hsm_purchase_step2<T: Transport>(
    card: &mut Card<T>,
    step: HsmPurchaseStep,
    pkey: &str,
) -> Result<Receipt> {
    let mac1 = parse_hsm_pkey(pkey, step.initialized.time)
        .map_err(crate::keyholder::KeyHolderError::from)?;
    let prepared = step.initialized.authorize(mac1);
    let (tac, mac2) = debit_card(card, &prepared)?;
    Ok(receipt(prepared, tac, mac2, Mac2Check::NotChecked))
}
