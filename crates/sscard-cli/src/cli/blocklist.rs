//! The options of `sscard blocklist` and of `--blocklist FILE --blocklist-key PUBKEY`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// The options of the commands that check a card against a blocklist.
#[derive(Debug, Args, Clone, Default)]
pub struct BlocklistArgs {
    /// Run the validity check of part 7 §5.4 with this blocklist: a signed full list (.ssbl)
    /// or a terminal's store directory (`sscard blocklist apply`). A listed card is refused
    /// (exit 5). Needs a key holder (INTERNAL AUTHENTICATION with IRK comes first).
    #[arg(long, value_name = "FILE", requires = "blocklist_key")]
    pub blocklist: Option<PathBuf>,
    /// The issuer's public key (SPKI PEM) the blocklist must be signed with.
    #[arg(long, value_name = "PUBKEY", requires = "blocklist")]
    pub blocklist_key: Option<PathBuf>,
}

/// `blocklist` subcommands.
#[derive(Debug, Subcommand)]
pub enum BlocklistCommand {
    /// Make the issuer's SM2 signing key (PKCS#8 PEM, mode 0600, never overwritten) and the
    /// public key terminals hold (SPKI PEM).
    Keygen(KeygenArgs),
    /// Create an empty working list (the issuer's, unsigned).
    New(ListArg),
    /// Add a card (card identification code and card number) or a card-number range, with the
    /// reason and the date; adding a listed entry again changes its reason and date.
    Add(AddArgs),
    /// Take a card or a range off the list.
    Remove(RemoveArgs),
    /// Publish the next version: the signed full list and the signed delta from the previous
    /// version, each valid for a period.
    Publish(PublishArgs),
    /// Terminal side: apply signed updates (full lists or deltas) to a store directory,
    /// atomically; a refused file leaves the store as it was.
    Apply(ApplyArgs),
    /// Check a signed file (or a store): signature, format, layout, validity period.
    Verify(FileArgs),
    /// Print the entries of a signed file, a store or a working list.
    Show(ShowArgs),
    /// Counts by kind and reason, version, validity, size.
    Stats(FileArgs),
    /// What changed between two full lists (or stores): added, removed, re-marked entries.
    Diff(DiffArgs),
}

/// `blocklist keygen` options.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the signing key (must not exist).
    #[arg(long, value_name = "KEY")]
    pub out: PathBuf,
    /// Where to write the public key for terminals.
    #[arg(long, value_name = "PUBKEY")]
    pub public_out: PathBuf,
}

/// The working list.
#[derive(Debug, Args)]
pub struct ListArg {
    /// The issuer's working list.
    #[arg(long, value_name = "LIST")]
    pub list: PathBuf,
}

/// What to add or remove: a card or a range.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["card_id", "range"])))]
pub struct Target {
    /// The card identification code (32 hex digits, EF05 01).
    #[arg(long, value_name = "HEX", requires = "card_number")]
    pub card_id: Option<String>,
    /// The card number (9 characters, EF05 07).
    #[arg(long, value_name = "NUMBER", requires = "card_id")]
    pub card_number: Option<String>,
    /// A card-number range: the first and last card numbers (or their first 8 characters).
    #[arg(long, num_args = 2, value_names = ["FIRST", "LAST"], conflicts_with = "card_id")]
    pub range: Option<Vec<String>>,
}

/// `blocklist add` options.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The working list.
    #[command(flatten)]
    pub list: ListArg,
    /// The card or range.
    #[command(flatten)]
    pub target: Target,
    /// Why: lost, damaged, replaced, revoked.
    #[arg(long)]
    pub reason: String,
    /// The date of the report, YYYYMMDD (default: today).
    #[arg(long, value_name = "YYYYMMDD")]
    pub date: Option<String>,
}

/// `blocklist remove` options.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The working list.
    #[command(flatten)]
    pub list: ListArg,
    /// The card or range.
    #[command(flatten)]
    pub target: Target,
}

/// `blocklist publish` options.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The working list.
    #[command(flatten)]
    pub list: ListArg,
    /// The issuer's signing key.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Where to write `full-<version>.ssbl` and `delta-<version>.ssbl`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Days the files stay valid, from today (a terminal refuses an expired list).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub valid_days: u32,
}

/// `blocklist apply` options.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The terminal's store directory (created from the first full list given).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The issuer's public key.
    #[arg(long, value_name = "PUBKEY")]
    pub key: PathBuf,
    /// Signed updates, applied in order.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// A file to check.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// A signed full list or delta, or a store directory.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The issuer's public key (without it, `show` and `stats` say the signature is not
    /// checked; `verify` needs it).
    #[arg(long, value_name = "PUBKEY")]
    pub key: Option<PathBuf>,
}

/// `blocklist show` options.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The file.
    #[command(flatten)]
    pub file: FileArgs,
    /// Print at most N entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// `blocklist diff` options.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older full list (or store).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The newer full list (or store).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// The issuer's public key (without it the signatures are not checked).
    #[arg(long, value_name = "PUBKEY")]
    pub key: Option<PathBuf>,
}
