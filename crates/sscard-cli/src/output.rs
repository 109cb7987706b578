//! What the commands print: JSON documents on stdout (`--output-format json`), one-line results,
//! and the words for the library's answers (a PIN status, a validity verdict).

use sscard_cli::documents::{self, Document};
use sscard_core::lifecycle::{PinStatus, Verdict};

use crate::cli::{GlobalOpts, OutputFormat};
use crate::error::{CliError, CliResult};

/// Whether a JSON document was printed on stdout: a failure after it (a validity verdict, an
/// incomplete batch) adds no error document, stdout stays one document.
static DOCUMENT_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints a JSON document on one line of stdout, its schema name first.
pub(crate) fn print_document<D: Document>(document: &D) {
    DOCUMENT_PRINTED.store(true, std::sync::atomic::Ordering::SeqCst);
    match documents::to_json(document) {
        Ok(text) => println!("{text}"),
        // not expected (every member is a string, a number or a map with string keys)
        Err(e) => eprintln!("sscard: the {} document cannot be printed: {e}", D::SCHEMA),
    }
}

/// Whether [`print_document`] printed a document.
pub(crate) fn document_printed() -> bool {
    DOCUMENT_PRINTED.load(std::sync::atomic::Ordering::SeqCst)
}

pub(crate) fn basic_not_supported(global: &GlobalOpts, what: &str) -> CliResult<()> {
    if global.output_format == OutputFormat::Basic {
        return Err(CliError::BadInput(format!(
            "--output-format basic is for `read` only, not `{what}`"
        )));
    }
    Ok(())
}

/// A result in words: the message as text, or under `--output-format json` the document
/// (which carries the same message).
pub(crate) fn print_result<D: Document>(global: &GlobalOpts, message: &str, document: D) {
    match global.output_format {
        OutputFormat::Json => print_document(&document),
        _ => println!("{message}"),
    }
}

/// What the PIN question (VERIFY without data, part 7 §5.6) answered, in words.
pub(crate) fn pin_status_text(status: PinStatus) -> String {
    match status {
        PinStatus::NotSet => "no PIN is set (none needed)".into(),
        PinStatus::Required { tries_left } => format!(
            "a PIN is set: {} left",
            crate::progress::count(u64::from(tries_left), "try", "tries")
        ),
        PinStatus::Blocked => "the PIN is blocked".into(),
    }
}

/// The verdict of the validity check in words, `None` when the card is valid.
pub(crate) fn verdict_problem(verdict: &Verdict) -> Option<String> {
    Some(match verdict {
        Verdict::Valid { .. } => return None,
        Verdict::NotGenuine => {
            "the card is not genuine: INTERNAL AUTHENTICATION with IRK failed (part 7 §5.4)".into()
        }
        Verdict::Expired(date) => format!("the card expired on {date} (part 7 §5.4)"),
        Verdict::Blocklisted { reason } => format!("the card is on the blocklist: {reason}"),
        Verdict::BlocklistedAndBlocked { reason } => format!(
            "the card is on the blocklist ({reason}); its application is now blocked (9303)"
        ),
        Verdict::UnsupportedInitializingBody(body) => {
            format!("initializing body {body} is not supported")
        }
        Verdict::UnsupportedCardType(t) => format!("card type {t} is not supported"),
        Verdict::UnsupportedVersion(v) => format!("spec version {v} is not supported"),
        other => format!("the card is not valid: {other:?}"),
    })
}
