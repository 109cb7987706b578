//! The JSON documents of `sscard --output-format json`: one typed structure per document, each
//! with its `schema` name (`sscard.<command>/<version>`), printed by the CLI and described by
//! the JSON Schema of the same name in `docs/schema/`.

use serde::Serialize;

/// The document printed on stdout, under `--output-format json`, when a command fails (the
/// message is also printed on stderr).
#[derive(Debug, Clone, Serialize)]
pub struct ErrorDocument {
    /// `sscard.error/1`.
    pub schema: &'static str,
    /// The class of the failure, one word (`no_card`, `pin`, `refused`, `bad_input`, …).
    pub code: String,
    /// The process exit code (docs/cli.md, "Exit codes").
    pub exit_code: i32,
    /// The message, as on stderr.
    pub message: String,
    /// What may help, when sscard knows more than the message says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ErrorDocument {
    /// The schema name of the error document.
    pub const SCHEMA: &'static str = "sscard.error/1";
}
