//! The options of the data-area subcommands: `read --area/--file-address/--photo` and `write`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::PinSource;

/// How "PIN or RK" files are opened (the reader interface's `iAuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthChoice {
    /// 1: VERIFY of the holder's PIN.
    Pin,
    /// 2: EXTERNAL AUTHENTICATION with the file's RK key through the key holder.
    Key,
}

/// The data area options of `read`.
#[derive(Debug, Args, Clone, Default)]
pub struct AreaReadArgs {
    /// Read a data area of the V2.0 notice: public (DF01), employment (DF02), insurance
    /// (DF03), medical (DF04), talent (DF07), health (DF05, appendix B), assistance (DF06,
    /// appendix B), or all (the five areas of the notice proper).
    #[arg(long, value_name = "AREA", conflicts_with = "file_address")]
    pub area: Option<String>,
    /// Read what a reader-interface file address names and print the `iReadCard` answer, e.g.
    /// 'SSSEEF05|01|07|$DF01EF15|2A|40:2|$' (RI §2.1.2).
    #[arg(long, value_name = "ADDRESS")]
    pub file_address: Option<String>,
    /// Save the photo (SSSE EF08, read with RKSSSE) to FILE as the card stores it (a JPEG, or
    /// a BMP).
    #[arg(long, value_name = "FILE")]
    pub photo: Option<PathBuf>,
    /// Open "PIN or RK" files with the holder's PIN (default when a PIN is given) or with the
    /// RK key of the key holder.
    #[arg(long, value_enum)]
    pub auth: Option<AuthChoice>,
    /// The holder's PIN, for files read with it.
    #[command(flatten)]
    pub pin: PinSource,
    /// The region's extensions of the file structure (JSON, V2.0 notice §6).
    #[arg(long, value_name = "FILE")]
    pub extensions: Option<PathBuf>,
}

impl AreaReadArgs {
    /// Whether `read` was asked for the data areas rather than the basic read.
    pub fn requested(&self) -> bool {
        self.area.is_some() || self.file_address.is_some() || self.photo.is_some()
    }
}

/// `sscard write`.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Where to write, as the reader interface's file address ('DF01EF07|29|$').
    #[arg(long, value_name = "ADDRESS", requires = "data", conflicts_with_all = ["record", "photo"])]
    pub file_address: Option<String>,
    /// What to write, in the address's shape ('DF01EF07|1|$'); cyclic records as fields ended
    /// by ^, each record ended by |.
    #[arg(long, value_name = "DATA", requires = "file_address")]
    pub data: Option<String>,
    /// The area the record file writes to (public, employment, insurance, medical, talent,
    /// health, assistance).
    #[arg(long, value_name = "AREA", requires = "record")]
    pub area: Option<String>,
    /// The data to write (JSON): file name or file field → item tag or field → value; a
    /// cyclic file → a list of records (see docs/cli.md).
    #[arg(
        long,
        value_name = "FILE.json",
        requires = "area",
        conflicts_with = "photo"
    )]
    pub record: Option<PathBuf>,
    /// Write the photo (SSSE EF08, UKSSSE) from FILE (a JPEG or BMP of at most 4096 bytes).
    #[arg(long, value_name = "FILE")]
    pub photo: Option<PathBuf>,
    /// The holder's PIN, when a write reads first (an item's second record, the order of a
    /// cyclic file) and the key holder has no RK key.
    #[command(flatten)]
    pub pin: PinSource,
    /// The region's extensions of the file structure (JSON, V2.0 notice §6).
    #[arg(long, value_name = "FILE")]
    pub extensions: Option<PathBuf>,
}
