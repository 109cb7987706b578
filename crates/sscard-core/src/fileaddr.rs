//! The file-address syntax of the reader interface (§2.1.2(4), §3.1.2(3)-(4)): which files and
//! data items `iReadCard` reads and `iWriteCard` writes, and the data they return or take.
//!
//! ```text
//! SSSEEF05|01|07|$DF01EF15|2A|40:2|$        an address: files and items
//! DF01EF0A|CHN|$                             data: the same shape, values in place of items
//! DF02EF07|$                                 a cyclic file: every record (read), a new one (write)
//! DF02EF07|2010100^20150301^20191231^某公司^|2020100^20200101^^某某公司^|$
//!                                            cyclic records: fields each ended by ^, records by |
//! ```
//!
//! A file is its reader-interface name (`SSSEEF05`, `DF01EF15`); then `|`; then each item
//! followed by `|`; each file is ended by `$`. An item is a record identifier in hex, with `:n`
//! for the n-th record of an item that occurs several times (`40:2`). In a cyclic file an item
//! is a record number (decimal, 1 the newest). A transparent file takes no items (its whole
//! content, in hex); a record file without items means all its items (\[design\] D22).
//!
//! [`FileAddress`] and [`FileData`] parse and print the syntax; [`FileAddress::resolve`]
//! checks an address against an [`AreaProfile`] and gives [`Target`]s, so that the C
//! library's `iReadCard`/`iWriteCard` are a thin layer over
//! [`crate::lifecycle::areas::read_address`] and [`crate::lifecycle::areas::write_address`].

use std::fmt;

use thiserror::Error;

use crate::profile::areas::{AreaError, AreaProfile, FileId, FileSpec, Structure};

/// Ends every item and value.
pub const ITEM_END: char = '|';
/// Ends every file.
pub const FILE_END: char = '$';

/// Why a file address or file data string is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FileAddressError {
    /// The text does not follow the syntax.
    #[error("file address: {reason} (at character {at} of {text:?})")]
    Syntax {
        /// The whole text.
        text: String,
        /// Where (0-based, in characters).
        at: usize,
        /// What is wrong.
        reason: String,
    },
    /// The address names something the card's file structure does not have.
    #[error(transparent)]
    Area(#[from] AreaError),
    /// The data does not have the address's shape (another file, another number of values).
    #[error("file data does not match the address: {0}")]
    Mismatch(String),
}

/// One file of a text: its name and its tokens (items or values), as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    file: FileId,
    tokens: Vec<String>,
}

/// Splits `FILE|t|t|$FILE|$` into segments.
fn segments(text: &str) -> Result<Vec<Segment>, FileAddressError> {
    let err = |at: usize, reason: &str| FileAddressError::Syntax {
        text: text.to_owned(),
        at,
        reason: reason.to_owned(),
    };
    if text.trim().is_empty() {
        return Err(err(0, "empty"));
    }
    if !text.ends_with(FILE_END) {
        return Err(err(text.chars().count(), "the last file must end with $"));
    }
    let mut out = Vec::new();
    let mut at = 0;
    for part in text.split_inclusive(FILE_END) {
        let body = part.strip_suffix(FILE_END).unwrap_or(part);
        let (name, rest) = match body.split_once(ITEM_END) {
            Some((name, rest)) => (name, Some(rest)),
            None => (body, None),
        };
        let file = FileId::parse(name).ok_or_else(|| {
            err(
                at,
                &format!("{name:?} is not a file name like SSSEEF05 or DF01EF15"),
            )
        })?;
        let tokens = match rest {
            None | Some("") => Vec::new(),
            Some(rest) => {
                let Some(items) = rest.strip_suffix(ITEM_END) else {
                    return Err(err(at + body.chars().count(), "every item must end with |"));
                };
                items.split(ITEM_END).map(str::to_owned).collect()
            }
        };
        out.push(Segment { file, tokens });
        at += part.chars().count();
    }
    Ok(out)
}

fn print(f: &mut fmt::Formatter<'_>, file: FileId, tokens: &[String]) -> fmt::Result {
    write!(f, "{file}{ITEM_END}")?;
    for t in tokens {
        write!(f, "{t}{ITEM_END}")?;
    }
    write!(f, "{FILE_END}")
}

/// An item of an address as written: a record identifier with its occurrence, or a cyclic
/// record number (told apart by [`FileAddress::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The `occurrence`-th record (1-based) of the item with record identifier `tag`.
    Item {
        /// The record identifier.
        tag: u8,
        /// Which record of the item (`40:2` → 2).
        occurrence: u8,
    },
    /// Record number `n` of a cyclic file (1: the newest).
    Record(u8),
    /// Every record of a cyclic file (read) or a new record (write).
    Records,
    /// The whole content of a transparent file.
    Content,
    /// Every item of a record file.
    AllItems,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Item { tag, occurrence: 1 } => write!(f, "{tag:02X}"),
            Target::Item { tag, occurrence } => write!(f, "{tag:02X}:{occurrence}"),
            Target::Record(n) => write!(f, "{n}"),
            Target::Records | Target::Content | Target::AllItems => Ok(()),
        }
    }
}

/// A file address: the files and items to read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAddress {
    entries: Vec<Segment>,
}

/// A file of an address, resolved against a file structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'p> {
    /// The file.
    pub file: &'p FileSpec,
    /// What of it.
    pub targets: Vec<Target>,
}

impl FileAddress {
    /// Parses an address (`SSSEEF05|01|07|$DF01EF15|2A|40:2|$`). Only the syntax is checked:
    /// [`FileAddress::resolve`] checks files and items.
    pub fn parse(text: &str) -> Result<FileAddress, FileAddressError> {
        Ok(FileAddress {
            entries: segments(text)?,
        })
    }

    /// The address of `targets` in `file`.
    pub fn new() -> FileAddress {
        FileAddress {
            entries: Vec::new(),
        }
    }

    /// Adds a file with its targets.
    pub fn with(mut self, file: FileId, targets: &[Target]) -> FileAddress {
        self.entries.push(Segment {
            file,
            tokens: targets
                .iter()
                .map(Target::to_string)
                .filter(|t| !t.is_empty())
                .collect(),
        });
        self
    }

    /// The files named, in order.
    pub fn files(&self) -> Vec<FileId> {
        self.entries.iter().map(|e| e.file).collect()
    }

    /// Checks every file and item against `profile`: the file exists; an item of a record
    /// file is a record identifier of the file with an occurrence it has; an item of a cyclic
    /// file is a record number; a transparent file takes no item.
    pub fn resolve<'p>(
        &self,
        profile: &'p AreaProfile,
    ) -> Result<Vec<Resolved<'p>>, FileAddressError> {
        self.entries
            .iter()
            .map(|e| {
                let file = profile.require_file(e.file)?;
                let targets = resolve_tokens(file, &e.tokens)?;
                Ok(Resolved { file, targets })
            })
            .collect()
    }
}

impl Default for FileAddress {
    fn default() -> Self {
        FileAddress::new()
    }
}

fn resolve_tokens(file: &FileSpec, tokens: &[String]) -> Result<Vec<Target>, FileAddressError> {
    let syntax = |token: &str, reason: String| FileAddressError::Syntax {
        text: token.to_owned(),
        at: 0,
        reason: format!("{}: {reason}", file.id),
    };
    match file.structure {
        Structure::Transparent { .. } => {
            if let Some(t) = tokens.first() {
                return Err(syntax(
                    t,
                    "a transparent file is read and written whole: give no item".into(),
                ));
            }
            Ok(vec![Target::Content])
        }
        Structure::Cyclic { .. } => {
            if tokens.is_empty() {
                return Ok(vec![Target::Records]);
            }
            tokens
                .iter()
                .map(|t| match t.trim().parse::<u8>() {
                    Ok(n) if (1..0xFF).contains(&n) => Ok(Target::Record(n)),
                    _ => Err(syntax(
                        t,
                        "an item of a cyclic file is a record number (1 the newest)".into(),
                    )),
                })
                .collect()
        }
        Structure::Variable | Structure::Fixed => {
            if tokens.is_empty() {
                return Ok(vec![Target::AllItems]);
            }
            tokens
                .iter()
                .map(|t| {
                    let (tag, occurrence) = match t.trim().split_once(':') {
                        Some((tag, n)) => (tag, Some(n)),
                        None => (t.trim(), None),
                    };
                    let tag = match (tag.len(), u8::from_str_radix(tag, 16)) {
                        (2, Ok(tag)) => tag,
                        _ => {
                            return Err(syntax(
                                t,
                                "an item is a record identifier in two hex digits (2A, 40:2)"
                                    .into(),
                            ))
                        }
                    };
                    let item = file.require_item(tag)?;
                    let occurrence = match occurrence {
                        None => 1,
                        Some(n) => n
                            .parse::<u8>()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or_else(|| syntax(t, format!("{n:?} is not a record count")))?,
                    };
                    if occurrence > item.occurs {
                        return Err(AreaError::Occurrence {
                            file: file.id.to_string(),
                            item: item.label(),
                            occurrence,
                            max: item.occurs,
                        }
                        .into());
                    }
                    Ok(Target::Item { tag, occurrence })
                })
                .collect()
        }
    }
}

impl fmt::Display for FileAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            print(f, e.file, &e.tokens)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for FileAddress {
    type Err = FileAddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FileAddress::parse(s)
    }
}

/// File data: the values read (`pOutInfo`) or to write (`pWriteData`), in an address's
/// shape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileData {
    entries: Vec<Segment>,
}

impl FileData {
    /// No files yet.
    pub fn new() -> FileData {
        FileData::default()
    }

    /// Parses data (`DF01EF0A|CHN|$`).
    pub fn parse(text: &str) -> Result<FileData, FileAddressError> {
        Ok(FileData {
            entries: segments(text)?,
        })
    }

    /// Adds a file with its values (each without the final `|`).
    pub fn push(&mut self, file: FileId, values: Vec<String>) {
        self.entries.push(Segment {
            file,
            tokens: values,
        });
    }

    /// The files with their values.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &[String])> {
        self.entries.iter().map(|e| (e.file, e.tokens.as_slice()))
    }

    /// Pairs each file of `address` with its values here: the same files in the same order,
    /// one value per item (a cyclic file's new records and a transparent file's content are
    /// given as they are).
    pub fn matching<'d>(
        &'d self,
        address: &[Resolved<'_>],
    ) -> Result<Vec<&'d [String]>, FileAddressError> {
        if address.len() != self.entries.len() {
            return Err(FileAddressError::Mismatch(format!(
                "{} files in the address, {} in the data",
                address.len(),
                self.entries.len()
            )));
        }
        address
            .iter()
            .zip(&self.entries)
            .map(|(a, d)| {
                if a.file.id != d.file {
                    return Err(FileAddressError::Mismatch(format!(
                        "the address names {}, the data {}",
                        a.file.id, d.file
                    )));
                }
                let expected = match a.targets.as_slice() {
                    [Target::Records] => None,
                    [Target::Content] => Some(1),
                    [Target::AllItems] => None,
                    targets => Some(targets.len()),
                };
                if let Some(n) = expected {
                    if d.tokens.len() != n {
                        return Err(FileAddressError::Mismatch(format!(
                            "{}: {n} items in the address, {} values in the data",
                            d.file,
                            d.tokens.len()
                        )));
                    }
                }
                Ok(d.tokens.as_slice())
            })
            .collect()
    }
}

impl fmt::Display for FileData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            print(f, e.file, &e.tokens)?;
        }
        Ok(())
    }
}

/// The `pCardInfo` of `iReadCard`/`iWriteCard` (reader interface §2.1.2(3)): the card
/// identification code and the card number, each followed by `|`; the functions check them
/// against the card before anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInfo {
    /// The card identification code (32 hex digits).
    pub card_id: String,
    /// The card number.
    pub card_number: String,
}

impl CardInfo {
    /// Parses `<card id>|<card number>|`.
    pub fn parse(text: &str) -> Result<CardInfo, FileAddressError> {
        let err = |reason: &str| FileAddressError::Syntax {
            text: text.to_owned(),
            at: 0,
            reason: reason.to_owned(),
        };
        let body = text
            .strip_suffix(ITEM_END)
            .ok_or_else(|| err("card info ends with |"))?;
        let (id, number) = body
            .split_once(ITEM_END)
            .ok_or_else(|| err("card info is <card identification code>|<card number>|"))?;
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err("the card identification code is 32 hex digits"));
        }
        if number.is_empty() || number.contains(ITEM_END) {
            return Err(err("the card number is missing"));
        }
        Ok(CardInfo {
            card_id: id.to_ascii_uppercase(),
            card_number: number.to_owned(),
        })
    }
}

impl fmt::Display for CardInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}|", self.card_id, self.card_number)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_interface_examples_parse_and_print_back() {
        for text in [
            "SSSEEF05|01|07|$DF01EF15|2A|40:2|$",
            "DF01EF15|40:2|$",
            "DF01EF0A|37|$DF01EF15|2A|40:2|$",
            "DF01EF07|29|$",
            "DF02EF07|$",
            "DF02EF07|2|$",
        ] {
            let a = FileAddress::parse(text).unwrap();
            assert_eq!(a.to_string(), text);
        }
        for text in [
            "DF01EF0A|CHN|$",
            "DF01EF07|1|$",
            "DF02EF07|2010100^20150301^20191231^某公司^|3^^^^|$",
        ] {
            assert_eq!(FileData::parse(text).unwrap().to_string(), text);
        }
        // a file without items may be written with or without its |
        assert_eq!(
            FileAddress::parse("DF02EF07$").unwrap().to_string(),
            "DF02EF07|$"
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        for (text, words) in [
            ("", "empty"),
            ("DF01EF07|29|", "end with $"),
            ("DF01EF07|29$", "end with |"),
            ("DF01XX07|29|$", "file name"),
            ("DF01EF07|29|$DF01|$", "file name"),
        ] {
            let e = FileAddress::parse(text).unwrap_err().to_string();
            assert!(e.contains(words), "{text:?}: {e}");
        }
    }

    #[test]
    fn addresses_resolve_against_the_profile() {
        let p = AreaProfile::national();
        let a =
            FileAddress::parse("SSSEEF05|01|07|$DF01EF15|2A|40:2|$DF02EF07|$DF01EF16|$").unwrap();
        let r = a.resolve(&p).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(
            r[1].targets,
            vec![
                Target::Item {
                    tag: 0x2A,
                    occurrence: 1
                },
                Target::Item {
                    tag: 0x40,
                    occurrence: 2
                }
            ]
        );
        assert_eq!(r[2].targets, vec![Target::Records]);
        assert_eq!(r[3].targets, vec![Target::Content]);
        let r = FileAddress::parse("DF02EF07|1|3|$")
            .unwrap()
            .resolve(&p)
            .unwrap();
        assert_eq!(r[0].targets, vec![Target::Record(1), Target::Record(3)]);
        let r = FileAddress::parse("DF01EF05|$")
            .unwrap()
            .resolve(&p)
            .unwrap();
        assert_eq!(r[0].targets, vec![Target::AllItems]);
        let refused = |text: &str| {
            FileAddress::parse(text)
                .unwrap()
                .resolve(&p)
                .unwrap_err()
                .to_string()
        };
        assert!(refused("DF01EF15|40:4|$").contains("occurrence 4, the item has 3"));
        assert!(refused("DF01EF05|42|$").contains("no data item with tag 42"));
        assert!(refused("DF09EF05|01|$").contains("unknown file DF09EF05"));
        assert!(refused("DF02EF07|x|$").contains("record number"));
        assert!(refused("DF01EF16|01|$").contains("whole"));
        assert!(refused("DF01EF05|2|$").contains("two hex digits"));
        let built = FileAddress::new()
            .with(
                FileId::area(0xDF01, 0xEF15),
                &[Target::Item {
                    tag: 0x40,
                    occurrence: 2,
                }],
            )
            .with(FileId::area(0xDF02, 0xEF07), &[Target::Records]);
        assert_eq!(built.to_string(), "DF01EF15|40:2|$DF02EF07|$");
    }

    #[test]
    fn data_must_match_the_address() {
        let p = AreaProfile::national();
        let a = FileAddress::parse("DF01EF07|29|$DF01EF0A|37|38|$").unwrap();
        let r = a.resolve(&p).unwrap();
        let ok = FileData::parse("DF01EF07|1|$DF01EF0A|CHN|01|$").unwrap();
        assert_eq!(
            ok.matching(&r).unwrap()[1],
            ["CHN".to_owned(), "01".to_owned()]
        );
        for (bad, words) in [
            ("DF01EF07|1|$", "2 files in the address, 1"),
            (
                "DF01EF07|1|$DF01EF09|x|y|$",
                "names DF01EF0A, the data DF01EF09",
            ),
            (
                "DF01EF07|1|$DF01EF0A|CHN|$",
                "2 items in the address, 1 values",
            ),
        ] {
            let e = FileData::parse(bad)
                .unwrap()
                .matching(&r)
                .unwrap_err()
                .to_string();
            assert!(e.contains(words), "{bad}: {e}");
        }
    }

    #[test]
    fn card_info() {
        let info = CardInfo::parse("639900D15600000500000001FFFFFFFF|KD5578904|").unwrap();
        assert_eq!(info.card_number, "KD5578904");
        assert_eq!(
            info.to_string(),
            "639900D15600000500000001FFFFFFFF|KD5578904|"
        );
        assert!(CardInfo::parse("639900|KD5578904|").is_err());
        assert!(CardInfo::parse("639900D15600000500000001FFFFFFFF|KD5578904").is_err());
    }
}
