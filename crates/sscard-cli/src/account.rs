//! `sscard account`: the medical insurance account on the card (part 5 §7, part 7 §10-12, §14;
//! docs/cli.md, "The medical account"):
//!
//! - `account balance`: GET BALANCE — the account, the year's self-pay and pooled-fund totals;
//! - `account records`: the transaction details of DF04 EF08, newest first;
//! - `account credit --amount YUAN`: 帐户划入 with the host's keys (a key file, or a PSAM holding
//!   DLK);
//! - `account purchase --account YUAN [--self-pay YUAN] [--pooled YUAN]`: an offline purchase
//!   with a PSAM (or a development key file);
//! - `account proof --kind credit|purchase --serial N`: GET TRANSACTION PROOF; with `--journal`
//!   the journal's unresolved transactions of the card in the reader reconciled with it.
//!
//! Amounts are yuan with at most two decimals, read and printed exactly (fen on the card). The
//! holder's PIN comes from `--pin-file`/`--pin-fd`, else the card is asked whether it needs one
//! (VERIFY without data) and it is prompted for. Credits and purchases write to the terminal's
//! journal ([`journal`]) before the card is asked to write, and reconcile its unresolved
//! transactions of the card first; with `--blocklist` a listed card is refused before anything.

mod journal;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use sscard_cli::documents::{
    AccountBalanceDocument, AccountCreditDocument, AccountProofDocument, AccountPurchaseDocument,
    AccountReconcileDocument, AccountRecord, AccountRecordsDocument, AccountTransaction,
    ReceiptSource, ReconcileOutcome, ReconciledTransaction,
};

use sscard_core::account::{
    AccountError, Fen, PendingTransaction, ProcessingMode, PurchaseAmounts, TerminalNumber,
    TransactionKind, TransactionTime,
};
use sscard_core::channel::Channel;
use sscard_core::crypto::Pin;
use sscard_core::keyholder::account::{CreditKeys, Mac2Check, PurchaseKeys, SoftTerminal};
use sscard_core::keyholder::{KeyFile, PsamKeyHolder};
use sscard_core::lifecycle::account::{
    self as acct, CreditRequest, PurchaseRequest, Receipt, Recovery,
};
use sscard_core::lifecycle::{self, Card, PinStatus};
use sscard_core::transport::Transport;
use sscard_core::Error as CardError;
use sscard_files::FileLock;
use sscard_sim::{SimPsam, SimTransport};

use crate::blocklist;
use crate::cli::account::{
    AccountCommand, CreditArgs, KindArg, ProofArgs, PurchaseArgs, ReadArgs, TransactionArgs,
};
use crate::cli::blocklist::BlocklistArgs;
use crate::cli::{GlobalOpts, OutputFormat, PinSource};
use crate::context::{self, finish_card, open_card, ReaderSpec, Timed};
use crate::error::{CliError, CliResult};
use crate::output::{basic_not_supported, print_document};
use crate::pin;

use journal::{Journal, Source};

/// Runs an `account` subcommand.
pub fn run(global: &GlobalOpts, command: &AccountCommand) -> CliResult<()> {
    basic_not_supported(global, "account")?;
    match command {
        AccountCommand::Balance(a) => balance(global, a),
        AccountCommand::Records(a) => records(global, a),
        AccountCommand::Credit(a) => credit(global, a),
        AccountCommand::Purchase(a) => purchase(global, a),
        AccountCommand::Proof(a) => proof(global, a),
    }
}

// ---------------------------------------------------------------------------------------------
// input

fn yuan(text: &str, option: &str) -> CliResult<Fen> {
    Fen::parse_yuan(text).map_err(|e| CliError::BadInput(format!("{option}: {e}")))
}

fn time_of(text: &Option<String>) -> CliResult<TransactionTime> {
    match text {
        Some(t) => {
            TransactionTime::parse(t).map_err(|e| CliError::BadInput(format!("--time: {e}")))
        }
        None => {
            let (date, h, m, s) =
                sscard::clock::now().map_err(|e| CliError::Other(format!("system clock: {e}")))?;
            TransactionTime::new(date, h, m, s)
                .map_err(|e| CliError::Other(format!("system clock: {e}")))
        }
    }
}

fn terminal_of(text: &Option<String>) -> CliResult<Option<TerminalNumber>> {
    text.as_deref()
        .map(|t| {
            TerminalNumber::parse(t)
                .map_err(|e| CliError::BadInput(format!("--terminal-number: {e}")))
        })
        .transpose()
}

/// The holder's PIN: the given source; else the card is asked (VERIFY without data) and a PIN
/// prompted for only when it has one.
fn holder_pin<T: Transport>(card: &mut Card<T>, source: &PinSource) -> CliResult<Option<Pin>> {
    if source.pin_file.is_some() || source.pin_fd.is_some() {
        return Ok(Some(pin::current_pin(source, None, "Holder's PIN: ")?));
    }
    match lifecycle::pin_status(card)? {
        PinStatus::NotSet => Ok(None),
        PinStatus::Blocked => Err(CardError::PinBlocked.into()),
        _ => Ok(Some(pin::current_pin(source, None, "Holder's PIN: ")?)),
    }
}

/// A library error as the command line reports it.
fn failure(e: CardError) -> CliError {
    match &e {
        CardError::Account(a) => match a {
            AccountError::BadInput(_) | AccountError::Amount(_) => {
                CliError::BadInput(e.to_string())
            }
            AccountError::PinRequired => CliError::BadInput(format!(
                "{e}: give --pin-file or --pin-fd (or answer the prompt)"
            )),
            AccountError::InsufficientBalance { .. }
            | AccountError::BalanceLimit { .. }
            | AccountError::KeyIndex(_)
            | AccountError::CounterAtMaximum(_)
            | AccountError::NoAccount(_)
            | AccountError::AccountOnlyCard
            | AccountError::UnknownMode(_)
            | AccountError::OtherCard(_) => CliError::Refused(e.to_string()),
            AccountError::Mac1Refused
            | AccountError::CardMac1Invalid
            | AccountError::Mac2Refused => CliError::KeyHolder(e.to_string()),
            _ => CliError::Card(e),
        },
        _ => CliError::Card(e),
    }
}

// ---------------------------------------------------------------------------------------------
// key holders

/// The key holder of a transaction.
enum Keys {
    /// A development key file: the host of credits, a terminal without PSAM for purchases.
    Soft(Box<SoftTerminal>),
    /// A simulated PSAM from an image file, saved back (its EF 0019 counts).
    SimPsam {
        holder: Box<PsamKeyHolder<SimTransport<SimPsam>>>,
        path: PathBuf,
        _lock: FileLock,
    },
    /// A PSAM in a reader.
    Psam(Box<PsamKeyHolder<Timed>>),
}

impl Keys {
    fn open(
        global: &GlobalOpts,
        terminal: Option<TerminalNumber>,
        journal: &Journal,
    ) -> CliResult<Keys> {
        let soft = |keys: KeyFile| {
            let t = terminal.unwrap_or(TerminalNumber::NONE);
            Keys::Soft(Box::new(SoftTerminal::new(
                keys,
                t,
                journal.next_terminal_serial(t),
            )))
        };
        if let Some(path) = &global.keys {
            return Ok(soft(context::load_keys(path)?));
        }
        if global.test_keys {
            if !matches!(context::single_reader(global)?, ReaderSpec::Sim(_)) {
                return Err(CliError::KeyHolder(
                    "--test-keys works with simulated cards only (sim: readers)".into(),
                ));
            }
            return Ok(soft(context::test_keys()?));
        }
        let Some(psam) = &global.psam else {
            return Err(CliError::KeyHolder(
                "an account transaction needs a key holder: --psam READER (or sim:PSAM-IMAGE), or --keys FILE / --test-keys (development keys)".into(),
            ));
        };
        if terminal.is_some() {
            return Err(CliError::BadInput(
                "--terminal-number is for terminals without a PSAM: a PSAM has its own (EF 0016)"
                    .into(),
            ));
        }
        let open_error = |e: sscard_core::keyholder::KeyHolderError| {
            CliError::KeyHolder(format!("PSAM {psam}: {e}"))
        };
        match ReaderSpec::parse(psam) {
            ReaderSpec::Sim(path) => {
                let lock = context::lock_image(&path, "PSAM image", "sscard account")?;
                let sim = context::load_psam_image(&path)?;
                let mut channel = Channel::new(SimTransport::new(sim));
                if global.trace {
                    channel.set_tracer(Some(context::tracer("psam", Arc::new(AtomicU64::new(0)))));
                }
                let holder = PsamKeyHolder::with_channel(channel).map_err(open_error)?;
                Ok(Keys::SimPsam {
                    holder: Box::new(holder),
                    path,
                    _lock: lock,
                })
            }
            ReaderSpec::Feeder(_) => Err(CliError::BadInput("--psam cannot be a feeder".into())),
            spec => {
                let timed = Timed::new(context::open_transport(&spec, global.wait)?);
                let last = timed.last_micros();
                let mut channel = Channel::new(timed);
                if global.trace {
                    channel.set_tracer(Some(context::tracer("psam", last)));
                }
                Ok(Keys::Psam(Box::new(
                    PsamKeyHolder::with_channel(channel).map_err(open_error)?,
                )))
            }
        }
    }

    fn purchase(&mut self) -> &mut dyn PurchaseKeys {
        match self {
            Keys::Soft(k) => k.as_mut(),
            Keys::SimPsam { holder, .. } => holder.as_mut(),
            Keys::Psam(h) => h.as_mut(),
        }
    }

    fn credit(&mut self) -> &mut dyn CreditKeys {
        match self {
            Keys::Soft(k) => k.as_mut(),
            Keys::SimPsam { holder, .. } => holder.as_mut(),
            Keys::Psam(h) => h.as_mut(),
        }
    }

    /// What checked MAC2, for people.
    fn label(&self) -> &'static str {
        match self {
            Keys::Soft(_) => "the key file",
            _ => "the PSAM",
        }
    }

    /// Saves a simulated PSAM's image (its transaction serial).
    fn save(&self) -> CliResult<()> {
        if let Keys::SimPsam { holder, path, .. } = self {
            holder
                .channel()
                .transport()
                .card()
                .image()
                .save(path)
                .map_err(|e| CliError::Other(format!("PSAM image {}: {e}", path.display())))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// reading

fn with_card<R>(
    global: &GlobalOpts,
    checks: &BlocklistArgs,
    what: &str,
    f: impl FnOnce(&mut Card<Timed>) -> CliResult<R>,
) -> CliResult<R> {
    blocklist::check_before(global, checks, what)?;
    let mut card = open_card(global)?;
    let result = f(&mut card);
    finish_card(card, result)
}

fn balance(global: &GlobalOpts, args: &ReadArgs) -> CliResult<()> {
    let (number, b) = with_card(global, &args.blocklist, "reading the account", |card| {
        let pin = holder_pin(card, &args.pin)?;
        let b = acct::balance(card, pin.as_ref()).map_err(failure)?;
        Ok((card_number(card)?, b))
    })?;
    let year = if b.payment_year == 0 {
        String::new()
    } else {
        format!(" ({})", b.payment_year)
    };
    match global.output_format {
        OutputFormat::Json => print_document(&AccountBalanceDocument {
            card_number: number,
            balance: b,
        }),
        _ => {
            println!("Card number          {number}");
            println!("Balance              {} yuan", b.account.yuan());
            println!("Self-pay{year:<13}{} yuan", b.self_pay_total.yuan());
            println!("Pooled fund{year:<10}{} yuan", b.pooled_total.yuan());
        }
    }
    Ok(())
}

/// The card number read in this session.
fn card_number<T: Transport>(card: &mut Card<T>) -> CliResult<String> {
    let spec = sscard_core::profile::element(
        sscard_core::profile::Generation::V1,
        sscard_core::profile::tag::CARD_NUMBER,
    )
    .ok_or_else(|| CliError::Other("no card number item".into()))?;
    let value = card.read_item(spec)?.unwrap_or_default();
    sscard_core::codec::decode_an("card_number", &value).map_err(|e| CliError::Card(e.into()))
}

fn time_text(raw: &str) -> String {
    if raw.len() == 14 && raw.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "{}-{}-{} {}:{}:{}",
            &raw[..4],
            &raw[4..6],
            &raw[6..8],
            &raw[8..10],
            &raw[10..12],
            &raw[12..]
        )
    } else {
        raw.to_owned()
    }
}

fn records(global: &GlobalOpts, args: &ReadArgs) -> CliResult<()> {
    let (number, (list, mode)) =
        with_card(global, &args.blocklist, "reading the account", |card| {
            let pin = holder_pin(card, &args.pin)?;
            let r = acct::records(card, pin.as_ref()).map_err(failure)?;
            Ok((card_number(card)?, r))
        })?;
    let mode_name = match mode {
        Some(ProcessingMode::ThreeAmounts) => "three amounts (28-byte records)",
        Some(ProcessingMode::AccountOnly) => "personal account only (20-byte records)",
        None => "no records yet",
    };
    match global.output_format {
        OutputFormat::Json => print_document(&AccountRecordsDocument {
            card_number: number,
            mode,
            records: list
                .iter()
                .enumerate()
                .map(|(i, r)| AccountRecord {
                    record: i + 1,
                    kind: r.kind(),
                    detail: r.clone(),
                })
                .collect(),
        }),
        _ => {
            println!("Card {number}: {} records, {mode_name}", list.len());
            if !list.is_empty() {
                println!(
                    "{:>3} {:>6}  {:<8}  {:<19}  {:<12}  {:>12}  {:>12}  {:>12}",
                    "#", "serial", "type", "time", "terminal", "account", "self-pay", "pooled"
                );
            }
            for (i, r) in list.iter().enumerate() {
                println!(
                    "{:>3} {:>6}  {:<8}  {:<19}  {:<12}  {:>12}  {:>12}  {:>12}",
                    i + 1,
                    r.serial,
                    r.kind()
                        .map_or_else(|| r.type_code.to_string(), |k| k.name().to_owned()),
                    time_text(&r.time),
                    r.terminal,
                    r.account.yuan(),
                    r.self_pay.yuan(),
                    r.pooled.yuan()
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// transactions

/// What the journal's reconciliation found for one transaction.
struct Reconciled {
    seq: u64,
    transaction: PendingTransaction,
    outcome: ReconcileOutcome,
    tac: Option<[u8; 4]>,
}

/// Reconciles the journal's unresolved transactions of the card in the reader with it (part
/// 7 §14); warns about other cards'.
fn reconcile<T: Transport>(
    card: &mut Card<T>,
    journal: &mut Journal,
) -> CliResult<Vec<Reconciled>> {
    let id = card.context()?.card_id;
    for other in journal.unresolved_elsewhere(&id) {
        eprintln!(
            "sscard: warning: journal {}: the {} of card {} (serial {}, entry {}) is unresolved: insert that card and run `sscard account proof --journal {}`",
            journal.path().display(),
            other.transaction.kind,
            other.transaction.card_number.as_str(),
            other.transaction.card_serial,
            other.seq,
            journal.path().display()
        );
    }
    let mut out = Vec::new();
    for record in journal.unresolved_of(&id) {
        match acct::recover(card, &record.transaction).map_err(failure)? {
            Recovery::Completed(proof) => {
                let after = record.transaction.balance_after().unwrap_or(Fen::ZERO);
                journal.done(
                    record.seq,
                    proof.tac,
                    proof.mac,
                    after,
                    Source::Proof,
                    Mac2Check::NotChecked,
                )?;
                out.push(Reconciled {
                    seq: record.seq,
                    transaction: record.transaction,
                    outcome: ReconcileOutcome::Done,
                    tac: Some(proof.tac),
                });
            }
            Recovery::NotApplied => {
                journal.void(record.seq, "not applied (GET TRANSACTION PROOF 9406)")?;
                out.push(Reconciled {
                    seq: record.seq,
                    transaction: record.transaction,
                    outcome: ReconcileOutcome::Void,
                    tac: None,
                });
            }
        }
    }
    Ok(out)
}

/// The ends of a transaction: the card's answer, or the recovery after a lost answer.
fn complete(
    card: &mut Card<Timed>,
    journal: &mut Journal,
    seq: u64,
    result: Result<Receipt, CardError>,
) -> CliResult<(Receipt, Source)> {
    match result {
        Ok(r) => {
            journal.done(seq, r.tac, r.mac2, r.balance_after, Source::Card, r.mac2_check)?;
            Ok((r, Source::Card))
        }
        Err(CardError::Account(AccountError::Interrupted { pending, reason })) => {
            match acct::recover(card, &pending) {
                Ok(Recovery::Completed(proof)) => {
                    let after = pending.balance_after().unwrap_or(Fen::ZERO);
                    journal.done(seq, proof.tac, proof.mac, after, Source::Proof, Mac2Check::NotChecked)?;
                    let algorithm = card.context()?.algorithm;
                    Ok((
                        Receipt {
                            transaction: *pending,
                            balance_after: after,
                            tac: proof.tac,
                            mac2: proof.mac,
                            mac2_check: Mac2Check::NotChecked,
                            algorithm,
                        },
                        Source::Proof,
                    ))
                }
                Ok(Recovery::NotApplied) => {
                    journal.void(seq, "not applied (GET TRANSACTION PROOF 9406)")?;
                    Err(CliError::Card(CardError::Account(AccountError::Interrupted {
                        pending,
                        reason: format!("{reason}; the card did not apply it (9406): nothing moved, run the command again"),
                    })))
                }
                Err(e) => Err(CliError::Other(format!(
                    "{}: the card's answer was lost ({reason}) and it cannot be asked now ({e}); the transaction stays pending in journal {}: insert the card and run `sscard account proof --journal {}`",
                    pending.kind,
                    journal.path().display(),
                    journal.path().display()
                ))),
            }
        }
        // nothing was written: the card refused before its write, or DEBIT/CREDIT was not sent
        Err(e) => {
            journal.void(seq, &e.to_string())?;
            Err(failure(e))
        }
    }
}

fn receipt_output(
    global: &GlobalOpts,
    receipt: &Receipt,
    source: Source,
    seq: u64,
    journal: &Path,
    checker: &str,
    reconciled: &[Reconciled],
) {
    let t = &receipt.transaction;
    let check = match receipt.mac2_check {
        Mac2Check::Verified if t.kind == TransactionKind::Credit => {
            "the card accepted the host's MAC2".to_owned()
        }
        Mac2Check::Verified => format!("MAC2 verified by {checker}"),
        Mac2Check::Refused => format!("MAC2 REFUSED by {checker}: report the transaction"),
        Mac2Check::NotChecked => "MAC2 not checked (proof read from the card)".to_owned(),
    };
    match global.output_format {
        OutputFormat::Json => {
            let document = AccountTransaction {
                receipt: receipt.clone(),
                source: match source {
                    Source::Card => ReceiptSource::Card,
                    Source::Proof => ReceiptSource::Proof,
                },
                journal: journal.display().to_string(),
                journal_entry: seq,
                reconciled: reconciled.iter().map(reconciled_document).collect(),
            };
            match t.kind {
                TransactionKind::Credit => {
                    print_document(&AccountCreditDocument { done: document })
                }
                TransactionKind::Purchase => {
                    print_document(&AccountPurchaseDocument { done: document })
                }
            }
        }
        _ => {
            for r in reconciled {
                println!("{}", reconciled_text(r));
            }
            let what = match t.kind {
                TransactionKind::Credit => format!("credit of {} yuan", t.amounts.account.yuan()),
                TransactionKind::Purchase => format!(
                    "purchase: {} yuan from the account, self-pay {} yuan, pooled fund {} yuan",
                    t.amounts.account.yuan(),
                    t.amounts.self_pay.yuan(),
                    t.amounts.pooled.yuan()
                ),
            };
            println!(
                "{what} done on card {} (card serial {}, terminal {} serial {}, {})",
                t.card_number.as_str(),
                t.card_serial,
                t.terminal,
                t.terminal_serial,
                time_text(&t.time.to_string())
            );
            println!(
                "balance {} → {} yuan; TAC {}, {check}",
                t.balance_before.yuan(),
                receipt.balance_after.yuan(),
                hex::encode_upper(receipt.tac)
            );
            println!("journal {} entry {seq}", journal.display());
        }
    }
}

fn reconciled_document(r: &Reconciled) -> ReconciledTransaction {
    ReconciledTransaction {
        journal_entry: r.seq,
        transaction: r.transaction.clone(),
        outcome: r.outcome,
        tac: r.tac.map(hex::encode_upper),
    }
}

fn reconciled_text(r: &Reconciled) -> String {
    match r.tac {
        Some(tac) => format!(
            "journal entry {}: the earlier {} (card serial {}, {} yuan) was applied: TAC {} (GET TRANSACTION PROOF)",
            r.seq,
            r.transaction.kind,
            r.transaction.card_serial,
            r.transaction.amounts.account.yuan(),
            hex::encode_upper(tac)
        ),
        None => format!(
            "journal entry {}: the earlier {} (card serial {}, {} yuan) was not applied (9406): nothing moved",
            r.seq,
            r.transaction.kind,
            r.transaction.card_serial,
            r.transaction.amounts.account.yuan()
        ),
    }
}

/// A credit or a purchase about to start: its time, the terminal number asked for, the journal
/// and the key holder.
struct Transaction {
    time: TransactionTime,
    terminal: Option<TerminalNumber>,
    journal: Journal,
    keys: Keys,
}

impl Transaction {
    /// The transaction's time, terminal number, journal and key holder from its options; a card
    /// on `--blocklist` is refused before anything (`what` names the transaction).
    fn begin(global: &GlobalOpts, tx: &TransactionArgs, what: &str) -> CliResult<Transaction> {
        let time = time_of(&tx.time)?;
        let terminal = terminal_of(&tx.terminal_number)?;
        blocklist::check_before(global, &tx.blocklist, what)?;
        let journal = Journal::open(&tx.journal)?;
        let keys = Keys::open(global, terminal, &journal)?;
        Ok(Transaction {
            time,
            terminal,
            journal,
            keys,
        })
    }

    /// Runs it on the card (part 7 §11-12, §14): the holder's PIN, the journal's unresolved
    /// transactions of the card reconciled, then `transact` prepares the transaction, journals
    /// it as pending and sends the writing command (its journal entry and the card's answer);
    /// the outcome, recovered with GET TRANSACTION PROOF when the answer was lost, is
    /// journalled, the key holder's state kept and the receipt shown.
    fn run(
        self,
        global: &GlobalOpts,
        tx: &TransactionArgs,
        transact: impl FnOnce(
            &mut Card<Timed>,
            &mut Keys,
            &mut Journal,
            Option<&Pin>,
        ) -> CliResult<(u64, Result<Receipt, CardError>)>,
    ) -> CliResult<()> {
        let Transaction {
            mut journal,
            mut keys,
            ..
        } = self;
        let mut card = open_card(global)?;
        let result = (|| {
            let pin = holder_pin(&mut card, &tx.pin)?;
            let reconciled = reconcile(&mut card, &mut journal)?;
            let (seq, result) = transact(&mut card, &mut keys, &mut journal, pin.as_ref())?;
            let (receipt, source) = complete(&mut card, &mut journal, seq, result)?;
            Ok((receipt, source, seq, reconciled))
        })();
        let saved = keys.save();
        let (receipt, source, seq, reconciled) = finish_card(card, result)?;
        saved?;
        receipt_output(
            global,
            &receipt,
            source,
            seq,
            journal.path(),
            keys.label(),
            &reconciled,
        );
        Ok(())
    }
}

fn credit(global: &GlobalOpts, args: &CreditArgs) -> CliResult<()> {
    let amount = yuan(&args.amount, "--amount")?;
    if amount.is_zero() {
        return Err(CliError::BadInput("--amount: a credit of 0.00 yuan".into()));
    }
    let mut credit = Transaction::begin(global, &args.tx, "the credit")?;
    let time = credit.time;
    let terminal = match (&mut credit.keys, credit.terminal) {
        (_, Some(t)) => t,
        (Keys::Soft(_), None) => TerminalNumber::NONE,
        (k, None) => k
            .purchase()
            .purchase_terminal()
            .map_err(|e| CliError::KeyHolder(e.to_string()))?,
    };
    credit.run(global, &args.tx, |card, keys, journal, pin| {
        let request = CreditRequest {
            amount,
            host_time: time,
            terminal,
            key_index: args.tx.key_index,
            pin,
        };
        let prepared = acct::prepare_credit(card, keys.credit(), &request).map_err(failure)?;
        let seq = journal.pending(&prepared.pending, time.to_string())?;
        Ok((seq, acct::complete_credit(card, prepared)))
    })
}

fn purchase(global: &GlobalOpts, args: &PurchaseArgs) -> CliResult<()> {
    let amounts = PurchaseAmounts {
        account: yuan(&args.account, "--account")?,
        self_pay: yuan(&args.self_pay, "--self-pay")?,
        pooled: yuan(&args.pooled, "--pooled")?,
    };
    if amounts.is_zero() {
        return Err(CliError::BadInput(
            "a purchase of 0.00 yuan: give --account, --self-pay or --pooled".into(),
        ));
    }
    let purchase = Transaction::begin(global, &args.tx, "the purchase")?;
    let time = purchase.time;
    purchase.run(global, &args.tx, |card, keys, journal, pin| {
        let mut request = PurchaseRequest::new(amounts, time);
        request.key_index = args.tx.key_index;
        request.pin = pin;
        let prepared = acct::prepare_purchase(card, keys.purchase(), &request).map_err(failure)?;
        // the PSAM counted its serial: keep it before the card writes
        keys.save()?;
        let seq = journal.pending(&prepared.pending, time.to_string())?;
        Ok((seq, acct::debit(card, keys.purchase(), prepared)))
    })
}

fn proof(global: &GlobalOpts, args: &ProofArgs) -> CliResult<()> {
    if let Some(path) = &args.journal {
        let mut journal = Journal::open(path)?;
        let mut card = open_card(global)?;
        let result = (|| {
            let reconciled = reconcile(&mut card, &mut journal)?;
            let id = card.context()?.card_id;
            Ok((reconciled, id))
        })();
        let (reconciled, id) = finish_card(card, result)?;
        let of_card: Vec<_> = journal
            .records()
            .iter()
            .filter(|r| r.transaction.card_id == id)
            .collect();
        match global.output_format {
            OutputFormat::Json => print_document(&AccountReconcileDocument {
                journal: path.display().to_string(),
                card_id: id,
                transactions: of_card.len(),
                reconciled: reconciled.iter().map(reconciled_document).collect(),
                unresolved_elsewhere: journal.unresolved_elsewhere(&id).len(),
            }),
            _ => {
                for r in &reconciled {
                    println!("{}", reconciled_text(r));
                }
                println!(
                    "journal {}: {} transactions of card {id}, {} reconciled now, none unresolved",
                    path.display(),
                    of_card.len(),
                    reconciled.len()
                );
            }
        }
        return Ok(());
    }
    let (Some(kind), Some(serial)) = (args.kind, args.serial) else {
        return Err(CliError::BadInput(
            "account proof: give --kind and --serial, or --journal FILE".into(),
        ));
    };
    let kind = match kind {
        KindArg::Credit => TransactionKind::Credit,
        KindArg::Purchase => TransactionKind::Purchase,
    };
    let mut card = open_card(global)?;
    let result = acct::proof(&mut card, kind, serial).map_err(failure);
    let proof = finish_card(card, result)?;
    match (global.output_format, proof) {
        (OutputFormat::Json, proof) => print_document(&AccountProofDocument {
            kind,
            serial,
            proof,
        }),
        (_, Some(p)) => println!(
            "{kind} {serial}: MAC {}, TAC {}",
            hex::encode_upper(p.mac),
            hex::encode_upper(p.tac)
        ),
        (_, None) => println!(
            "{kind} {serial}: no proof (9406): the card has no such transaction as its last {kind}"
        ),
    }
    Ok(())
}
