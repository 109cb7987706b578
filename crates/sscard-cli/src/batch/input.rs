//! The bureau's data file: CSV, a header row naming the columns, one person per row.
//!
//! Columns are the fields of a person record (`sscard_core::data::PersonRecord`), in any
//! order, names matched ignoring case: `ssn`, `name`, `sex`, `ethnicity`, `birthplace`,
//! `birth_date`, `card_number`, `generation`, `issue_date`, `expiry_date`, `region`,
//! `initializing_body` (required; up to 24 digits, V2.0 notice §8.1.1.4), `card_type`
//! (optional, default `3`; an empty cell means the default). Unknown columns are an error (a
//! misspelt header is never ignored), among them `person_id` and `first_region` of sscard
//! before the specification protocol (EF0D is not in the V2.0 file structure).
//!
//! Encoding: UTF-8 with or without BOM; with `--encoding auto` (the default) a file that is not
//! valid UTF-8 is decoded as GBK (GB18030, its superset), and the return file is written in the
//! same encoding as the input.
//!
//! Columns naming a data area item (`DF01EF05|20`, `DF01EF15|40:2`) or a cyclic file
//! (`DF02EF07`, one record per cell, fields separated by `^`) carry the data areas the bureau
//! fills (V2.0 notice §5.3-5.7; cards with data areas, `sim new --data-areas`); an empty cell
//! writes nothing. They are written after the personalization (\[design\] D29).
//!
//! Every row is validated on its own; a bad row is reported with its line number and field and
//! skipped. A person (social security number) or card number that appears twice is reported as
//! a duplicate of the first line and skipped.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use sscard_core::data::{PersonRecord, Personalization};

use crate::cli::Encoding;
use crate::error::{CliError, CliResult};

const REQUIRED: [&str; 12] = [
    "ssn",
    "name",
    "sex",
    "ethnicity",
    "birthplace",
    "birth_date",
    "card_number",
    "generation",
    "issue_date",
    "expiry_date",
    "region",
    "initializing_body",
];
const OPTIONAL: [&str; 1] = ["card_type"];
/// Columns of the old supplementary file EF0D, which the V2.0 notice's file structure dropped.
const DROPPED: [&str; 2] = ["person_id", "first_region"];

/// What the file says about one row.
#[derive(Debug, Clone)]
pub enum RowStatus {
    /// A valid person.
    Valid(Box<Personalization>),
    /// The row is not valid: the field (or `row`) and why.
    Invalid {
        /// The column at fault, or `row` for the row as a whole.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The person or card number appeared on an earlier line.
    Duplicate {
        /// The earlier line.
        of_line: u64,
        /// `ssn` or `card_number`.
        field: &'static str,
    },
}

/// One data row of the file.
#[derive(Debug, Clone)]
pub struct Row {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// The SSN cell as given (may be invalid).
    pub ssn: String,
    /// The name cell as given.
    pub name: String,
    /// What the row is.
    pub status: RowStatus,
}

/// The parsed file.
#[derive(Debug)]
pub struct InputFile {
    /// Data rows in file order.
    pub rows: Vec<Row>,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// Whether the file was GBK (the return file is written in GBK too).
    pub gbk: bool,
    /// The data area cells of the valid rows, by line.
    pub areas: HashMap<u64, crate::areas::RowAreas>,
}

/// The name of the encoding a file was read in.
pub fn encoding_name(gbk: bool) -> &'static str {
    if gbk {
        "GBK"
    } else {
        "UTF-8"
    }
}

/// The first line (numbered from 1) and cell where two readings of a file differ.
fn first_difference<'a>(a: &'a str, b: &'a str) -> Option<(usize, &'a str, &'a str)> {
    for (n, (la, lb)) in a.split('\n').zip(b.split('\n')).enumerate() {
        if la != lb {
            let cell = la
                .split(',')
                .zip(lb.split(','))
                .find(|(ca, cb)| ca != cb)
                .unwrap_or((la, lb));
            return Some((n + 1, cell.0.trim(), cell.1.trim()));
        }
    }
    None
}

/// Decodes the file. `--encoding auto` decides only on evidence: a UTF-8 byte order mark, or
/// bytes that are valid in one of the two encodings only (or read the same in both, plain
/// ASCII). Bytes valid in both with different readings (GBK names such as 路梅 are valid UTF-8
/// too) are refused, naming the first row that differs: the operator says which.
fn decode(bytes: &[u8], encoding: Encoding, path: &Path) -> CliResult<(String, bool)> {
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let utf8 = std::str::from_utf8(body);
    let gbk = || encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes);
    match (encoding, utf8) {
        (Encoding::Utf8, Ok(text)) => Ok((text.to_owned(), false)),
        (Encoding::Auto, Ok(text)) if bom => Ok((text.to_owned(), false)),
        (Encoding::Auto, Ok(text)) => match gbk() {
            None => Ok((text.to_owned(), false)),
            Some(other) => match first_difference(text, &other) {
                None => Ok((text.to_owned(), false)),
                Some((line, as_utf8, as_gbk)) => Err(CliError::BadInput(format!(
                    "{}: line {line}: the bytes are valid both as UTF-8 ({as_utf8:?}) and as GBK ({as_gbk:?}), and they differ: say which with --encoding utf-8 or --encoding gbk (--check-only shows the names as read)",
                    path.display()
                ))),
            },
        },
        (Encoding::Utf8, Err(e)) => {
            let line = 1 + body
                .get(..e.valid_up_to())
                .unwrap_or_default()
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(CliError::BadInput(format!(
                "{}: line {line}: not UTF-8 (use --encoding gbk for GBK files)",
                path.display()
            )))
        }
        (Encoding::Gbk, _) | (Encoding::Auto, Err(_)) => match gbk() {
            Some(text) => Ok((text.into_owned(), true)),
            None => Err(CliError::BadInput(format!(
                "{}: neither UTF-8 nor GBK text",
                path.display()
            ))),
        },
    }
}

/// The physical lines of the text with their numbers (from 1), without their `\n` or `\r\n`.
fn physical_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// Splits one physical line into its cells. Each line is one record: a cell may be quoted
/// (`"a, b"`, `""` for a quote inside), but its quotes must close on the same line and be
/// followed by a comma or the end of the line. No data item of a person holds a line break, so
/// a quote that does not close is an error of this row alone and never swallows the rows after
/// it. A quote inside an unquoted cell is an ordinary character.
pub fn split_record(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut cell = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "the quote opening cell {} is not closed on this line",
                            cells.len() + 1
                        ))
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        cell.push('"');
                    }
                    Some('"') => break,
                    Some(c) => cell.push(c),
                }
            }
            match chars.next() {
                None => {
                    cells.push(cell);
                    return Ok(cells);
                }
                Some(',') => cells.push(cell),
                Some(_) => {
                    return Err(format!(
                        "text after the closing quote of cell {}",
                        cells.len() + 1
                    ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        cells.push(cell);
                        return Ok(cells);
                    }
                    Some(',') => {
                        cells.push(cell);
                        break;
                    }
                    Some(c) => cell.push(c),
                }
            }
        }
    }
}

/// Reads, decodes and validates the data file.
pub fn read(path: &Path, encoding: Encoding) -> CliResult<InputFile> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::BadInput(format!("input {}: {e}", path.display())))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let (text, gbk) = decode(&bytes, encoding, path)?;
    let mut lines = physical_lines(&text).filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header_text)) = lines.next() else {
        return Err(CliError::BadInput(format!(
            "{}: empty file (a header row is needed)",
            path.display()
        )));
    };
    let headers = split_record(header_text).map_err(|e| {
        CliError::BadInput(format!(
            "{}: line {header_line}: header row: {e}",
            path.display()
        ))
    })?;
    let mut columns: HashMap<&'static str, usize> = HashMap::new();
    let mut area_columns = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(column) = crate::areas::batch_column(h.trim()) {
            area_columns.push((i, h.trim().to_owned(), column));
            continue;
        }
        let h = h.trim().to_ascii_lowercase();
        let h = h.trim_start_matches('\u{feff}').to_owned();
        if DROPPED.contains(&h.as_str()) {
            return Err(CliError::BadInput(format!(
                "{}: line 1: column {h:?} is not a data item of the specification (the supplementary file EF0D of older sscard versions is not in the V2.0 file structure): remove the column",
                path.display()
            )));
        }
        let known = REQUIRED
            .iter()
            .chain(OPTIONAL.iter())
            .find(|k| **k == h)
            .ok_or_else(|| {
                CliError::BadInput(format!(
                    "{}: line 1: unknown column {h:?} (columns: {}, {}, and data area items like DF01EF05|20)",
                    path.display(),
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                ))
            })?;
        if columns.insert(known, i).is_some() {
            return Err(CliError::BadInput(format!(
                "{}: line 1: column {h:?} appears twice",
                path.display()
            )));
        }
    }
    let missing: Vec<_> = REQUIRED
        .iter()
        .filter(|c| !columns.contains_key(*c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(CliError::BadInput(format!(
            "{}: line 1: missing columns: {}",
            path.display(),
            missing.join(", ")
        )));
    }

    let mut rows = Vec::new();
    let mut areas = HashMap::new();
    let mut seen_ssn: HashMap<String, u64> = HashMap::new();
    let mut seen_card: HashMap<String, u64> = HashMap::new();
    let today = crate::context::today().ok();
    for (line, raw) in lines {
        let record = match split_record(raw) {
            Ok(r) => r,
            Err(reason) => {
                // the row's person still appears in the return file, as INVALID
                let naive: Vec<&str> = raw.split(',').collect();
                let naive_cell = |name: &str| {
                    columns
                        .get(name)
                        .and_then(|&i| naive.get(i))
                        .map(|c| c.trim().trim_matches('"').to_owned())
                        .unwrap_or_default()
                };
                rows.push(Row {
                    line,
                    ssn: naive_cell("ssn"),
                    name: naive_cell("name"),
                    status: RowStatus::Invalid {
                        field: "row".into(),
                        reason,
                    },
                });
                continue;
            }
        };
        let cell = |name: &str| -> String {
            columns
                .get(name)
                .and_then(|&i| record.get(i))
                .map_or("", String::as_str)
                .trim()
                .to_owned()
        };
        let ssn = cell("ssn");
        let name = cell("name");
        let status = if record.len() != headers.len() {
            RowStatus::Invalid {
                field: "row".into(),
                reason: format!("{} cells, the header has {}", record.len(), headers.len()),
            }
        } else {
            let optional = |name: &str| Some(cell(name)).filter(|v| !v.is_empty());
            let person = PersonRecord {
                ssn: ssn.clone(),
                name: name.clone(),
                sex: cell("sex"),
                ethnicity: cell("ethnicity"),
                birthplace: cell("birthplace"),
                birth_date: cell("birth_date"),
                card_number: cell("card_number"),
                card_type: optional("card_type").unwrap_or_else(|| "3".into()),
                generation: cell("generation"),
                issue_date: cell("issue_date"),
                expiry_date: cell("expiry_date"),
                region: cell("region"),
                initializing_body: cell("initializing_body"),
            };
            let dates = |p: &Personalization| match today {
                Some(t) => crate::context::check_person_dates(p, t),
                None => Ok(()),
            };
            match person.validate() {
                Err(e) => RowStatus::Invalid {
                    field: e.field().unwrap_or("row").to_owned(),
                    reason: e.to_string(),
                },
                Ok(p) if dates(&p).is_err() => {
                    let (field, reason) = dates(&p).err().unwrap_or_default();
                    RowStatus::Invalid { field, reason }
                }
                Ok(p) => {
                    let card = cell("card_number").to_ascii_uppercase();
                    let area_cells = crate::areas::batch_row_areas(&area_columns, |i| {
                        record
                            .get(i)
                            .map(String::as_str)
                            .unwrap_or("")
                            .trim()
                            .to_owned()
                    });
                    if let Err((field, reason)) = area_cells {
                        RowStatus::Invalid { field, reason }
                    } else if let Some(&first) = seen_ssn.get(&ssn.to_ascii_uppercase()) {
                        RowStatus::Duplicate {
                            of_line: first,
                            field: "ssn",
                        }
                    } else if let Some(&first) = seen_card.get(&card) {
                        RowStatus::Duplicate {
                            of_line: first,
                            field: "card_number",
                        }
                    } else {
                        seen_ssn.insert(ssn.to_ascii_uppercase(), line);
                        seen_card.insert(card, line);
                        if let Ok(Some(cells)) = area_cells {
                            areas.insert(line, cells);
                        }
                        RowStatus::Valid(Box::new(p))
                    }
                }
            }
        };
        rows.push(Row {
            line,
            ssn,
            name,
            status,
        });
    }
    Ok(InputFile {
        rows,
        sha256,
        gbk,
        areas,
    })
}
