//! The options of `sscard account`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use sscard_core::account::DEFAULT_KEY_INDEX;

use super::blocklist::BlocklistArgs;
use super::PinSource;

/// `account` subcommands.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// The account's balance and the payment year's self-pay and pooled-fund totals (GET
    /// BALANCE).
    Balance(ReadArgs),
    /// The transaction records of the card (DF04 EF08), newest first.
    Records(ReadArgs),
    /// Credit the holder's online account to the card (帐户划入, part 7 §11): the host's
    /// keys from --keys/--test-keys, or a PSAM holding DLK.
    Credit(CreditArgs),
    /// An offline purchase (医疗消费, part 7 §12) with a PSAM (--psam) or a development key file.
    Purchase(PurchaseArgs),
    /// The proof (MAC, TAC) of a transaction (GET TRANSACTION PROOF); with --journal the
    /// journal's unresolved transactions of this card reconciled with it (part 7 §14).
    Proof(ProofArgs),
}

/// Options of `account balance` and `account records`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The holder's PIN (default: asked for when the card needs one).
    #[command(flatten)]
    pub pin: PinSource,
    /// Refuse a blocklisted card first.
    #[command(flatten)]
    pub blocklist: BlocklistArgs,
}

/// What every transaction takes.
#[derive(Debug, Args)]
pub struct TransactionArgs {
    /// The terminal's journal (JSON lines, created mode 0600): written before the card writes,
    /// reconciled with the card before the next transaction.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// The transaction time, YYYYMMDDHHMMSS [default: now, China Standard Time].
    #[arg(long, value_name = "YYYYMMDDHHMMSS")]
    pub time: Option<String>,
    /// The terminal number (12 digits) of a terminal without PSAM [default: the PSAM's, or
    /// 000000000000].
    #[arg(long, value_name = "DIGITS")]
    pub terminal_number: Option<String>,
    /// The key index the card's INITIALIZE takes.
    #[arg(long, default_value_t = DEFAULT_KEY_INDEX)]
    pub key_index: u8,
    /// The holder's PIN (default: asked for when the card needs one).
    #[command(flatten)]
    pub pin: PinSource,
    /// Refuse a blocklisted card before any money moves.
    #[command(flatten)]
    pub blocklist: BlocklistArgs,
}

/// `account credit` options.
#[derive(Debug, Args)]
pub struct CreditArgs {
    /// The amount in yuan (at most two decimals), e.g. 200.00.
    #[arg(long, value_name = "YUAN", allow_hyphen_values = true)]
    pub amount: String,
    /// The transaction.
    #[command(flatten)]
    pub tx: TransactionArgs,
}

/// `account purchase` options.
#[derive(Debug, Args)]
pub struct PurchaseArgs {
    /// Paid from the card's personal account, in yuan (个人帐户支付金额).
    #[arg(
        long,
        value_name = "YUAN",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub account: String,
    /// The self-paid part within the pooled fund's scope, in yuan (个人自付金额).
    #[arg(
        long,
        value_name = "YUAN",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub self_pay: String,
    /// Paid by the pooled fund, in yuan (统筹基金支付金额).
    #[arg(
        long,
        value_name = "YUAN",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub pooled: String,
    /// The transaction.
    #[command(flatten)]
    pub tx: TransactionArgs,
}

/// The kind of transaction a proof is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// A credit (type 01).
    Credit,
    /// A purchase (type 02).
    Purchase,
}

/// `account proof` options.
#[derive(Debug, Args)]
pub struct ProofArgs {
    /// The kind of the transaction.
    #[arg(long, value_enum, requires = "serial", conflicts_with = "journal")]
    pub kind: Option<KindArg>,
    /// The card's serial of the transaction (INITIALIZE's, the records' 交易序号).
    #[arg(long, requires = "kind")]
    pub serial: Option<u16>,
    /// Reconcile this journal's unresolved transactions of the card in the reader.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
}
