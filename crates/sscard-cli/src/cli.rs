//! The command line, declared with clap's derive API. `sscard man` and `sscard completions`
//! generate the man page and shell completions from this same declaration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::EXIT_CODES_HELP;

pub mod account;
pub mod areas;
pub mod blocklist;

const AFTER_HELP: &str = "\
Readers (--reader, or $SSCARD_READER):
  NAME | INDEX       a PC/SC reader by name fragment or number (see `sscard readers`)
  sim:IMAGE          a simulated card image file (JSON); its state is saved back after each write
  feeder:DIR         (batch) a simulated card feeder: a fresh blank card each time one is taken out

Key holders compute with the issuer's keys by role (part 9 appendix B): IRK proves a card
genuine, RKSSSE reads 3.0 holder data, UKSSSE writes the card, PUK and STKSSSE reload or
unblock the PIN, BK and STKSSSE block. They are: --keys FILE (a version-2 development key file
of root keys, mode 0600; `sscard keys new` writes one), --psam READER (a PSAM in a second
reader, or sim:PSAM-IMAGE), --test-keys (the embedded TEST KEYS, simulated cards only).
PINs and keys are never accepted on the command line: PINs come from a prompt without echo,
--pin-file FILE or --pin-fd N.
";

/// sscard: read, personalize, activate and manage China's social security card (社会保障卡).
#[derive(Debug, Parser)]
#[command(
    name = "sscard",
    version,
    about = "Read, personalize, activate and manage China's social security card (社会保障卡)",
    long_about = None,
    after_help = AFTER_HELP,
    after_long_help = format!("{AFTER_HELP}\n{EXIT_CODES_HELP}"),
    propagate_version = true
)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Text for people.
    #[default]
    Text,
    /// JSON with a versioned schema (`"schema": "sscard.<command>/<n>"`).
    Json,
    /// `read` only: exactly the `iReadCardBas` line of the reader interface.
    Basic,
}

/// Options every subcommand takes.
#[derive(Debug, Args, Clone)]
pub struct GlobalOpts {
    /// Card reader: PC/SC name fragment or index, `sim:IMAGE`, or (batch) `feeder:DIR`.
    /// Repeat for batches driven on several readers. Default: $SSCARD_READER, else the first
    /// PC/SC reader holding a card.
    #[arg(long, short = 'r', global = true, value_name = "READER",
          add = clap_complete::engine::ArgValueCompleter::new(crate::completion::readers))]
    pub reader: Vec<String>,
    /// Wait up to SECS for a card to be inserted.
    #[arg(long, global = true, value_name = "SECS")]
    pub wait: Option<u64>,
    /// Development key file (version 2: national root keys by role, mode 0600 or stricter) as
    /// key holder.
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "psam")]
    pub keys: Option<PathBuf>,
    /// A PSAM as key holder: a PC/SC reader (name fragment or index) or `sim:PSAM-IMAGE`.
    /// For `sim serve`: the PSAM image to plug into the next virtual reader.
    #[arg(long, global = true, value_name = "READER",
          add = clap_complete::engine::ArgValueCompleter::new(crate::completion::readers))]
    pub psam: Option<String>,
    /// Use the embedded TEST KEYS (fixtures/keys/test-keys.json) as key holder (simulated
    /// cards only).
    #[arg(long, global = true, conflicts_with_all = ["keys", "psam"])]
    pub test_keys: bool,
    /// Print every APDU with its time to stderr (PINs, authentication data, MACs and PSAM
    /// cryptograms redacted).
    #[arg(long, global = true)]
    pub trace: bool,
    /// Output format. Under `json` a failure also prints a JSON error document on stdout
    /// (`sscard.error/1`: code, exit code, message).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// Print only errors on stderr (no progress, no notes).
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more on stderr: -v each operation's APDU count and time, -vv every APDU as
    /// --trace does.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress display (a bar on a terminal, else a line every 10 s and at the end).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

impl GlobalOpts {
    /// Whether APDUs are traced: `--trace` or `-vv`.
    pub fn tracing(&self) -> bool {
        self.trace || self.verbose >= 2
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List PC/SC readers with card state and ATR.
    Readers,
    /// Read the card issuing data (EF05) and the holder data (EF06); with --area,
    /// --file-address or --photo the data areas of the V2.0 notice.
    Read(ReadArgs),
    /// Write the data areas of the V2.0 notice (--file-address with --data, --area with
    /// --record) or the photo, with the key holder's update keys.
    Write(areas::WriteArgs),
    /// Personalize one card from a person record (JSON): initial PIN 123456 (PIN RELOAD with
    /// PUK and STKSSSE), then the data items (UKSSSE).
    Personalize(PersonalizeArgs),
    /// Personalize a whole data file from the bureau (CSV), with a journal and a return file.
    Batch(BatchArgs),
    /// Activate a card at the bank outlet: the holder replaces the initial PIN 123456.
    Activate(ActivateArgs),
    /// PIN management: verify, change, status, unblock, reload.
    Pin(PinArgs),
    /// Block a lost card for good: APPLICATION BLOCK of the social security application, or
    /// the whole card (--card, CARD BLOCK). Needs BK and STKSSSE. There is no unblock.
    Block(BlockArgs),
    /// Removed: the specification has no application unblock (a blocked card is replaced).
    #[command(hide = true)]
    Unblock(RemovedArgs),
    /// Read the bank account number (tag 5A) of the card's financial application.
    BankAccount,
    /// Send raw APDUs (hex), with automatic GET RESPONSE, like `opensc-tool -s`.
    Apdu(ApduArgs),
    /// Simulated cards and PSAMs: create, convert, serve to pcscd.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Development key files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The blocklist of lost and replaced cards (part 8 §7): issue, publish signed full lists
    /// and deltas, apply them at a terminal, verify, show, stats, diff.
    #[command(subcommand)]
    Blocklist(blocklist::BlocklistCommand),
    /// The medical insurance account on the card (part 5 §7, part 7 §11-12): balance,
    /// records, credit, purchase, proof.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// The main job on an embedded simulated card: personalize, read, activate, PIN, block
    /// (no hardware, no pcscd).
    Demo,
    /// Print the man page (roff) of sscard or of a subcommand to stdout, or write every page
    /// into a folder (--out-dir).
    Man(ManArgs),
    /// Print shell completions to stdout (static; for completion of reader names from PC/SC
    /// as you type, see `COMPLETE=bash sscard` in docs/cli.md).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `man` options.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`sscard man pin verify`); none: sscard's own page.
    #[arg(value_name = "SUBCOMMAND")]
    pub command: Vec<String>,
    /// Write every page (`sscard.1`, `sscard-read.1`, `sscard-pin-verify.1` …) into DIR.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub out_dir: Option<PathBuf>,
}

/// Whatever follows a removed subcommand (accepted so the message explains the removal).
#[derive(Debug, Args)]
pub struct RemovedArgs {
    /// Ignored.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

/// `read` options.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Skip the genuineness check (INTERNAL AUTHENTICATION with IRK) a key holder makes.
    #[arg(long, conflicts_with = "check_validity")]
    pub no_verify: bool,
    /// Run the validity check of part 7 §5.4 with today's date (genuine, initializing body,
    /// card type, spec version, expiry) and the PIN question of §5.6. Needs a key holder; exit
    /// code 5 when the card is not valid.
    #[arg(long)]
    pub check_validity: bool,
    /// The validity check with a blocklist (implies --check-validity).
    #[command(flatten)]
    pub blocklist: blocklist::BlocklistArgs,
    /// The data areas of the V2.0 notice instead (--area, --file-address, --photo).
    #[command(flatten)]
    pub areas: areas::AreaReadArgs,
}

/// `personalize` options.
#[derive(Debug, Args)]
pub struct PersonalizeArgs {
    /// The person record (JSON, see docs/cli.md).
    #[arg(long, value_name = "FILE")]
    pub person: PathBuf,
    /// Write over a card personalized with another card number.
    #[arg(long, alias = "repersonalize")]
    pub overwrite: bool,
    /// Do not read the records back before finishing.
    #[arg(long)]
    pub no_verify: bool,
}

/// Input encoding of a batch file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Encoding {
    /// UTF-8 (optional BOM) when the file is valid UTF-8, else GBK (GB18030).
    #[default]
    Auto,
    /// UTF-8 only (optional BOM).
    #[value(name = "utf-8")]
    Utf8,
    /// GBK (decoded as GB18030, its superset).
    Gbk,
}

/// Algorithms of simulated cards and PSAMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// Two-key triple DES (FCI algorithm byte 01).
    #[value(name = "3des")]
    Tdes,
    /// SM4 (byte 03).
    Sm4,
    /// AES-128 (byte 04, an sscard extension no specification card has).
    Aes,
}

impl From<AlgorithmArg> for sscard_core::Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Tdes => sscard_core::Algorithm::Tdes,
            AlgorithmArg::Sm4 => sscard_core::Algorithm::Sm4,
            AlgorithmArg::Aes => sscard_core::Algorithm::Aes128,
        }
    }
}

/// `batch` options.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The bureau's data file: CSV with a header row, one person per row (see docs/cli.md).
    #[arg(long, value_name = "FILE.csv")]
    pub input: PathBuf,
    /// The journal (SQLite): created on the first run, resumed on the next.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// The return file (回盘), CSV: each person with card id, card number, ATR and result.
    #[arg(long, value_name = "FILE.csv")]
    pub return_file: PathBuf,
    /// Encoding of the input file.
    #[arg(long, value_enum, default_value_t = Encoding::Auto)]
    pub encoding: Encoding,
    /// Algorithm of the blank cards a `feeder:` reader supplies.
    #[arg(long, value_enum, default_value = "3des")]
    pub feeder_algorithm: AlgorithmArg,
    /// Do not read the records back before finishing each card.
    #[arg(long)]
    pub no_verify: bool,
    /// Personalize again the persons whose card left the reader mid-way and was not found
    /// (after checking that card is destroyed).
    #[arg(long)]
    pub retry_undecided: bool,
    /// Only validate the file (bad rows, duplicates); touch no card and no journal.
    #[arg(long)]
    pub check_only: bool,
    /// The station key that keys the journal's chain (a file of mode 0600, `sscard keys
    /// new-station`). Default: $SSCARD_STATION_KEY, else ~/.config/sscard/station.key
    /// (created by the first batch when missing).
    #[arg(long, value_name = "FILE", env = "SSCARD_STATION_KEY")]
    pub station_key: Option<PathBuf>,
    /// Testing aids, compiled into test builds only (the `test-hooks` feature).
    #[cfg(feature = "test-hooks")]
    #[command(flatten)]
    pub hooks: TestHooks,
}

/// Testing aids of `sscard batch`: only in builds with the `test-hooks` cargo feature, which the
/// CLI's own tests enable (a dev-dependency of the crate on itself); a release build or `cargo
/// install` has none of them.
#[cfg(feature = "test-hooks")]
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct TestHooks {
    /// Testing aid: abort the process (as a power loss would) after this many cards were
    /// personalized and before the journal records them.
    #[arg(long, hide = true, value_name = "N")]
    pub crash_after: Option<u64>,
    /// Testing aid: a simulated power loss on the card a `feeder:` reader gives the person on
    /// input line LINE, counted from the start of that person's personalization:
    /// `LINE:at-write:N` (at the card's N-th persistent write) or `LINE:after-apdu:N` (the N-th
    /// APDU runs, its response is lost).
    #[arg(long, hide = true, value_name = "LINE:KIND:N", value_parser = parse_tear)]
    pub tear: Option<TearSpec>,
}

/// A `--tear` testing aid: where the card of one person loses power.
#[cfg(feature = "test-hooks")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TearSpec {
    /// Input line of the person.
    pub line: u64,
    /// The tear point, counted from the start of the person's personalization.
    pub tear: sscard_sim::Tear,
}

#[cfg(feature = "test-hooks")]
fn parse_tear(text: &str) -> Result<TearSpec, String> {
    let usage = || format!("{text:?}: expected LINE:at-write:N or LINE:after-apdu:N");
    let mut parts = text.split(':');
    let (Some(line), Some(kind), Some(n), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(usage());
    };
    let line: u64 = line.parse().map_err(|_| usage())?;
    let n: u64 = n.parse().map_err(|_| usage())?;
    if n == 0 {
        return Err(usage());
    }
    let tear = match kind {
        "at-write" => sscard_sim::Tear::AtWrite(n),
        "after-apdu" => sscard_sim::Tear::AfterApdu(n),
        _ => return Err(usage()),
    };
    Ok(TearSpec { line, tear })
}

/// Where a PIN comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct PinSource {
    /// Read the PIN from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "pin_fd")]
    pub pin_file: Option<PathBuf>,
    /// Read the PIN from a line of file descriptor N.
    #[arg(long, value_name = "N")]
    pub pin_fd: Option<i32>,
}

/// Where a new PIN comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct NewPinSource {
    /// Read the new PIN from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "new_pin_fd")]
    pub new_pin_file: Option<PathBuf>,
    /// Read the new PIN from a line of file descriptor N.
    #[arg(long, value_name = "N")]
    pub new_pin_fd: Option<i32>,
}

/// `activate` options.
#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// The holder's new PIN, 6 digits or more recommended (default: typed twice without echo).
    #[command(flatten)]
    pub new_pin: NewPinSource,
    /// Activate without a key holder, skipping the validity check (genuineness with IRK,
    /// expiry).
    #[arg(long, conflicts_with = "blocklist")]
    pub no_verify: bool,
    /// The validity check with a blocklist.
    #[command(flatten)]
    pub blocklist: blocklist::BlocklistArgs,
}

/// `pin` options and subcommand.
#[derive(Debug, Args)]
pub struct PinArgs {
    /// With a blocklist, the card must pass the validity check first (needs a key holder).
    #[command(flatten)]
    pub blocklist: blocklist::BlocklistArgs,
    /// The PIN operation.
    #[command(subcommand)]
    pub command: PinCommand,
}

/// `pin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Verify the holder's PIN (wrong PIN: tries left shown).
    Verify(PinSource),
    /// Change the holder's PIN (CHANGE PIN).
    Change {
        /// The current PIN.
        #[command(flatten)]
        pin: PinSource,
        /// The new PIN.
        #[command(flatten)]
        new_pin: NewPinSource,
    },
    /// Whether a PIN is set and the tries left, or blocked (VERIFY without data: uses no try).
    #[command(alias = "tries")]
    Status,
    /// Reset the PIN try counter with the issuer's PUK and STKSSSE (the PIN stays).
    Unblock,
    /// Set a new PIN with the issuer's PUK and STKSSSE (the holder forgot theirs).
    Reload(NewPinSource),
}

/// `block` options.
#[derive(Debug, Args)]
pub struct BlockArgs {
    /// Block the whole card (CARD BLOCK: every command then answers 6A81) instead of the
    /// social security application (APPLICATION BLOCK: 9303).
    #[arg(long)]
    pub card: bool,
    /// Accepted for scripts of older versions: every block is permanent.
    #[arg(long, hide = true)]
    pub permanent: bool,
}

/// `apdu` options.
#[derive(Debug, Args)]
pub struct ApduArgs {
    /// Command APDUs in hex (spaces and colons allowed inside one argument).
    #[arg(value_name = "HEX", required_unless_present = "script")]
    pub apdus: Vec<String>,
    /// A script: one APDU per line in hex; `#` starts a comment.
    #[arg(long, value_name = "FILE", conflicts_with = "apdus")]
    pub script: Option<PathBuf>,
    /// The PIN for VERIFY commands given without data (never as an APDU argument).
    #[command(flatten)]
    pub pin: PinSource,
}

/// `sim` subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Create a blank (or, with --person, personalized) simulated card image.
    New(SimNewArgs),
    /// Create a simulated PSAM image (root keys of one algorithm, a terminal number).
    NewPsam(SimNewPsamArgs),
    /// Convert a version-1 card image (sscard before the specification protocol) to version 2.
    Convert(SimConvertArgs),
    /// Plug a card image into pcscd's virtual reader (vpcd) until Ctrl-C; saves it on exit.
    Serve(SimServeArgs),
}

/// `sim new` options.
#[derive(Debug, Args)]
pub struct SimNewArgs {
    /// Where to write the image (JSON, mode 0600: it holds the card keys).
    #[arg(long, value_name = "IMAGE")]
    pub out: PathBuf,
    /// Card generation: 1, 2 or 3 [default: 2, or the person record's].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub generation: Option<u8>,
    /// Card algorithm.
    #[arg(long, value_enum, default_value = "3des")]
    pub algorithm: AlgorithmArg,
    /// Issuing region, 6 digits [default: 639900, or the person record's].
    #[arg(long)]
    pub region: Option<String>,
    /// The ATR serial (historical bytes TA-TD, part 2 table 16), 8 hex digits (default:
    /// random).
    #[arg(long, value_name = "HEX", alias = "serial")]
    pub atr_serial: Option<String>,
    /// The serial of the card identification code (V2.0 notice table 10), 8 hex digits
    /// (default: the ATR serial).
    #[arg(long, value_name = "HEX")]
    pub card_serial: Option<String>,
    /// Announce T=1 instead of T=0 (the specification's protocol, part 2 §9).
    #[arg(long)]
    pub t1: bool,
    /// Add a financial application (PBOC debit) with this account number (12 to 19 digits).
    #[arg(long, value_name = "PAN")]
    pub financial: Option<String>,
    /// Add the data areas of the V2.0 notice (DF01-DF04, DF07 with their keys; 2.0 and 3.0
    /// cards).
    #[arg(long)]
    pub data_areas: bool,
    /// Give DF04 the offline medical account (balance 0, three amounts; implies
    /// --data-areas): `sscard account`.
    #[arg(long)]
    pub medical_account: bool,
    /// Also add the V2.0 notice's appendix B applications (informative): DF05 life and
    /// health, DF06 social assistance and special care (implies --data-areas).
    #[arg(long)]
    pub appendix_b: bool,
    /// Personalize the new card with this person record (generation and region from it).
    #[arg(long, value_name = "FILE")]
    pub person: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// The level of the root keys a PSAM holds (part 9 §7.3 figure 12, §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// National roots: three diversifications to a card key.
    National,
    /// Province keys: two.
    Province,
    /// City keys: one.
    City,
}

impl From<LevelArg> for sscard_core::crypto::KeyLevel {
    fn from(l: LevelArg) -> Self {
        match l {
            LevelArg::National => sscard_core::crypto::KeyLevel::National,
            LevelArg::Province => sscard_core::crypto::KeyLevel::Province,
            LevelArg::City => sscard_core::crypto::KeyLevel::City,
        }
    }
}

/// `sim new-psam` options.
#[derive(Debug, Args)]
pub struct SimNewPsamArgs {
    /// Where to write the PSAM image (JSON, mode 0600: it holds root keys).
    #[arg(long, value_name = "IMAGE")]
    pub out: PathBuf,
    /// The PSAM's algorithm.
    #[arg(long, value_enum, default_value = "3des")]
    pub algorithm: AlgorithmArg,
    /// Terminal number (EF 0016), 12 digits; its first six are the terminal's region.
    #[arg(long, default_value = "410100813475")]
    pub terminal_number: String,
    /// The level of the keys the PSAM holds.
    #[arg(long, value_enum, default_value = "national")]
    pub level: LevelArg,
    /// The region of province or city keys, 6 digits (default: the terminal number's first
    /// six).
    #[arg(long)]
    pub region: Option<String>,
    /// Also hold the medical account's keys: DPK for purchases (INIT SAM FOR PURCHASE) and
    /// DLK for credits.
    #[arg(long)]
    pub medical_account: bool,
    /// Also hold the data areas' read and update keys (RKn and UKn of DF01-DF07) for `sscard
    /// read --area` and `sscard write` with --psam.
    #[arg(long)]
    pub data_areas: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// `sim convert` options.
#[derive(Debug, Args)]
pub struct SimConvertArgs {
    /// The version-1 card image.
    #[arg(long = "in", value_name = "OLD-IMAGE")]
    pub input: PathBuf,
    /// Where to write the version-2 image.
    #[arg(long, value_name = "IMAGE")]
    pub out: PathBuf,
    /// Overwrite an existing file (also the input itself).
    #[arg(long)]
    pub force: bool,
}

/// `sim serve` options.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("card").required(true).args(["image", "feeder"])))]
pub struct SimServeArgs {
    /// The card image to plug in (saved after every persistent write).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<PathBuf>,
    /// Serve a simulated card feeder from DIR instead: a blank card is in the reader; once it
    /// was personalized and the terminal lets go of it (reset or power-off), it is ejected to
    /// DIR/cards/ and a fresh blank card is inserted.
    #[arg(long, value_name = "DIR", conflicts_with = "image")]
    pub feeder: Option<PathBuf>,
    /// Feeder: generation of the blank cards.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=3), requires = "feeder")]
    pub generation: u8,
    /// Feeder: algorithm of the blank cards.
    #[arg(long, value_enum, default_value = "3des", requires = "feeder")]
    pub algorithm: AlgorithmArg,
    /// Feeder: issuing region of the blank cards, 6 digits.
    #[arg(long, default_value = "639900", requires = "feeder")]
    pub region: String,
    // The global `--psam IMAGE` names the PSAM image to plug into the next virtual reader
    // (slot + 1): one option name cannot be declared twice.
    /// The first virtual reader's TCP port (default $SSCARD_VPCD_PORT, else 35963).
    #[arg(long)]
    pub port: Option<u16>,
    /// Which virtual reader of that driver: 0 (port, "Virtual PCD 00 00"), 1 (port + 1,
    /// "Virtual PCD 00 01").
    #[arg(long, default_value_t = 0)]
    pub slot: u16,
}

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new development key file (version 2) of random national root keys for every
    /// role (IRK, RKSSSE, UKSSSE, PUK, STKSSSE, BK, DLK, DPK, DTK, DSK), mode 0600. Never
    /// overwrites a file.
    New(KeysNewArgs),
    /// Write a new station key (mode 0600): the key of a card-printing station's batch
    /// journals (`sscard batch --station-key FILE`). Never overwrites a file.
    NewStation(StationKeyArgs),
}

/// `keys new-station` options.
#[derive(Debug, Args)]
pub struct StationKeyArgs {
    /// Where to write the station key (must not exist).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `keys new` options.
#[derive(Debug, Args)]
pub struct KeysNewArgs {
    /// Where to write the key file (must not exist).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Algorithms to make keys for (repeat; default: 3des, sm4 and aes).
    #[arg(long, value_enum)]
    pub algorithm: Vec<AlgorithmArg>,
}
