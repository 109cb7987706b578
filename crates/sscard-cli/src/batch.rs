//! placeholder
use crate::cli::{BatchArgs, GlobalOpts};
use crate::error::{CliError, CliResult};
/// `sscard batch`.
pub fn run(_g: &GlobalOpts, _a: &BatchArgs) -> CliResult<()> {
    Err(CliError::Other("todo".into()))
}
