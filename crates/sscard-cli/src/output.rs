//! What the commands print: JSON documents on stdout (`--output-format json`), one-line results,
//! and the words for the library's answers (a PIN status, a validity verdict).

use serde_json::json;
use sscard_core::lifecycle::{PinStatus, Verdict};

use crate::cli::{GlobalOpts, OutputFormat};
use crate::error::{CliError, CliResult};

/// Whether a JSON document was printed on stdout: a failure after it (a validity verdict, an
/// incomplete batch) adds no error document, stdout stays one document.
static DOCUMENT_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(crate) fn print_json(value: &serde_json::Value) {
    DOCUMENT_PRINTED.store(true, std::sync::atomic::Ordering::SeqCst);
    println!("{value}");
}

/// Whether [`print_json`] printed a document.
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

/// A one-line result: the message as text, or a JSON document with `schema`, `result`,
/// `message` and the fields of `extra`.
pub(crate) fn simple_output(
    global: &GlobalOpts,
    schema: &str,
    message: &str,
    extra: serde_json::Value,
) {
    match global.output_format {
        OutputFormat::Json => {
            let mut doc = json!({"schema": schema, "result": "ok", "message": message});
            if let (Some(obj), serde_json::Value::Object(more)) = (doc.as_object_mut(), extra) {
                obj.extend(more);
            }
            print_json(&doc);
        }
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
