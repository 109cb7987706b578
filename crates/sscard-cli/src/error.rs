//! The CLI's error type and its exit codes: one code per class of failure, so scripts can react
//! without parsing messages. The table is printed in `sscard --help` and docs/cli.md.

use sscard_core::transport::TransportError;
use sscard_core::Error as CardError;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: any failure not in another class (local files, internal errors).
pub const EXIT_OTHER: i32 = 1;
/// Exit code: the command line is wrong (clap's own code; also a removed subcommand).
pub const EXIT_USAGE: i32 = 2;
/// Exit code: no smart-card service, no reader, no card, card removed, card image missing.
pub const EXIT_NO_CARD: i32 = 3;
/// Exit code: wrong PIN (tries left shown) or PIN blocked.
pub const EXIT_PIN: i32 = 4;
/// Exit code: the card refuses the operation or is not fit for it: blocked, expired, not
/// genuine, blank, personalized already, another region, no financial application, a locked
/// card key, an algorithm sscard cannot compute.
pub const EXIT_CARD_REFUSED: i32 = 5;
/// Exit code: bad input data (person record, CSV row, PIN format, weak PIN, hex, old image).
pub const EXIT_BAD_INPUT: i32 = 6;
/// Exit code: key holder problems (no key holder, key file refused or invalid, PSAM, keys
/// that do not match the card).
pub const EXIT_KEY_HOLDER: i32 = 7;
/// Exit code: any other card error (unexpected status word, malformed response, card reset).
pub const EXIT_CARD_ERROR: i32 = 8;
/// Exit code: a batch finished, but some persons were not personalized (bad rows, duplicates,
/// failures, undecided cards): see the return file.
pub const EXIT_BATCH_INCOMPLETE: i32 = 9;
/// Exit code: interrupted (Ctrl-C); a batch can be resumed.
pub const EXIT_INTERRUPTED: i32 = 130;

/// The exit code table for `--help` and the docs.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    other failure (local files, internal error; a journal or feeder in use)
  2    usage error (bad command line, a removed command such as `unblock`, an
       ambiguous reader name, a reader given twice, two paths naming one file)
  3    card or reader not available (no pcscd, no reader, no card, card removed, no image,
       an image served by `sim serve`)
  4    wrong PIN (tries left are shown) or PIN blocked
  5    card refused or unfit: permanently blocked (9303), card blocked (6A81), expired, not
       genuine, blank, already personalized, another region, no financial application,
       a locked card key
  6    bad input data (person record, CSV row, PIN format, weak PIN, hex, version-1 image)
  7    key holder problem (none given, key file refused, invalid or version 1, PSAM, keys do
       not match the card)
  8    other card error (unexpected status word, malformed response, card reset)
  9    batch finished with persons not personalized (see the return file)
  130  interrupted (Ctrl-C); a batch resumes from its journal";

/// A failure of one CLI command, with the class that picks the exit code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// An error of a card operation.
    #[error("{0}")]
    Card(#[from] CardError),
    /// A transport error outside a card operation.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A card or reader could not be reached.
    #[error("{0}")]
    NoCard(String),
    /// The card is not fit for the operation (a validity check verdict, …).
    #[error("{0}")]
    Refused(String),
    /// Input data is invalid.
    #[error("{0}")]
    BadInput(String),
    /// The command line asks for something that does not exist (a removed command).
    #[error("{0}")]
    Usage(String),
    /// Key holder problem.
    #[error("{0}")]
    KeyHolder(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
    /// A batch ended with persons not personalized.
    #[error("{0}")]
    BatchIncomplete(String),
    /// Interrupted by the user.
    #[error("interrupted")]
    Interrupted(String),
}

impl CliError {
    /// The process exit code of this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Card(e) => card_error_code(e),
            CliError::Transport(e) => transport_code(e),
            CliError::NoCard(_) => EXIT_NO_CARD,
            CliError::Refused(_) => EXIT_CARD_REFUSED,
            CliError::BadInput(_) => EXIT_BAD_INPUT,
            CliError::Usage(_) => EXIT_USAGE,
            CliError::KeyHolder(_) => EXIT_KEY_HOLDER,
            CliError::Other(_) => EXIT_OTHER,
            CliError::BatchIncomplete(_) => EXIT_BATCH_INCOMPLETE,
            CliError::Interrupted(_) => EXIT_INTERRUPTED,
        }
    }

    /// What the operator can do about it, when the CLI knows more than the library's message.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Card(CardError::Transport(TransportError::ReaderNotFound(name)))
            | CliError::Transport(TransportError::ReaderNotFound(name)) => {
                Some(reader_not_found_hint(name))
            }
            CliError::Card(e) => card_hint(e).map(str::to_owned),
            _ => None,
        }
    }
}

/// What to try when no reader has the name given: the readers there are, and `sim:` when the
/// name is a file.
fn reader_not_found_hint(name: &str) -> String {
    let mut hint = String::new();
    if std::path::Path::new(name).is_file() {
        hint.push_str(&format!(
            "{name} is a file: a simulated card image is given as --reader sim:{name}; "
        ));
    }
    let readers = sscard_pcsc::Pcsc::establish().and_then(|mut p| p.list_readers());
    match readers {
        Ok(readers) if !readers.is_empty() => {
            let names: Vec<String> = readers
                .iter()
                .enumerate()
                .map(|(i, r)| format!("{i}: \"{}\"", r.name))
                .collect();
            hint.push_str(&format!("the readers are {}", names.join(", ")));
        }
        Ok(_) => hint.push_str("no PC/SC reader is connected"),
        Err(e) => hint.push_str(&format!("the readers cannot be listed: {e}")),
    }
    hint
}

/// The one-word name of an exit code, for the JSON error document.
pub fn code_name(exit_code: i32) -> &'static str {
    match exit_code {
        EXIT_OK => "ok",
        EXIT_USAGE => "usage",
        EXIT_NO_CARD => "no_card",
        EXIT_PIN => "pin",
        EXIT_CARD_REFUSED => "refused",
        EXIT_BAD_INPUT => "bad_input",
        EXIT_KEY_HOLDER => "key_holder",
        EXIT_CARD_ERROR => "card_error",
        EXIT_BATCH_INCOMPLETE => "batch_incomplete",
        EXIT_INTERRUPTED => "interrupted",
        _ => "other",
    }
}

fn transport_code(e: &TransportError) -> i32 {
    match e {
        TransportError::NoService
        | TransportError::NoReaders
        | TransportError::ReaderNotFound(_)
        | TransportError::NoCard
        | TransportError::CardRemoved
        | TransportError::SharingViolation
        | TransportError::Timeout
        | TransportError::NoCardInserted(_) => EXIT_NO_CARD,
        TransportError::AmbiguousReader(_) => EXIT_USAGE,
        _ => EXIT_CARD_ERROR,
    }
}

/// The exit code of a library error.
pub fn card_error_code(e: &CardError) -> i32 {
    match e {
        CardError::Transport(t) => transport_code(t),
        CardError::WrongPin { .. } | CardError::PinBlocked => EXIT_PIN,
        CardError::ApplicationBlocked
        | CardError::CardBlocked
        | CardError::NotGenuine
        | CardError::Expired { .. }
        | CardError::NotSocialSecurityCard
        | CardError::Blank(_)
        | CardError::PersonalizationIncomplete
        | CardError::AlreadyPersonalized { .. }
        | CardError::RegionMismatch { .. }
        | CardError::WrongCard(_)
        | CardError::NoFinancialApplication
        | CardError::KeyLocked { .. }
        | CardError::UnsupportedAlgorithm(_) => EXIT_CARD_REFUSED,
        CardError::Data(_) | CardError::WeakPin | CardError::InitialPin => EXIT_BAD_INPUT,
        CardError::KeyHolder(_)
        | CardError::KeyHolderAlgorithm(_)
        | CardError::KeyHolderRequired(_)
        | CardError::AuthenticationFailed { .. }
        | CardError::ReadKeyRequired => EXIT_KEY_HOLDER,
        _ => EXIT_CARD_ERROR,
    }
}

/// The CLI's advice for a library error: which option or command helps.
fn card_hint(e: &CardError) -> Option<&'static str> {
    Some(match e {
        CardError::ReadKeyRequired => {
            "give a key holder: --keys FILE, --psam READER (or --test-keys on a simulated card)"
        }
        CardError::AlreadyPersonalized { .. } => {
            "to write another person's data over it, run again with --overwrite"
        }
        CardError::PersonalizationIncomplete => {
            "run `sscard personalize` (or the batch) again with the same person to complete the card"
        }
        CardError::PinBlocked => {
            "the issuer can unblock it (`sscard pin unblock`) or set a new one (`sscard pin reload`); both need PUK and STKSSSE"
        }
        CardError::AuthenticationFailed { .. } | CardError::NotGenuine => {
            "check that the key file or PSAM belongs to this card's issuer (and --test-keys only for simulated cards made with them)"
        }
        CardError::KeyHolderAlgorithm(_) => {
            "a key file needs a \"roots\" section for the card's algorithm; a PSAM holds one algorithm"
        }
        _ => return None,
    })
}

/// Shorthand result.
pub type CliResult<T> = Result<T, CliError>;

/// Wraps an I/O error on a local file with the file's name.
pub fn io_err(what: &str, path: &std::path::Path, e: std::io::Error) -> CliError {
    CliError::Other(format!("{what} {}: {e}", path.display()))
}
