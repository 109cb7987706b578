//! Reading and writing the data areas (V2.0 notice §5.3-5.7; part 7 §6-7): any data item of
//! any file by area, file and tag, with the authentication its file asks for — VERIFY of the
//! holder's PIN, EXTERNAL AUTHENTICATION with the file's RK or UK key through the key holder,
//! either for "PIN or RK" files (the reader interface's `iAuthType`, §2.1.2(2)), both for "PIN
//! & RK" files (the key first, §2.1.3(6)) — appending to cyclic files in order, the photo, and
//! the reader interface's file-address syntax ([`read_address`], [`write_address`]) on which
//! `iReadCard` and `iWriteCard` are a thin layer.
//!
//! APDUs: SELECT of the DF by its AID (`00A4 0400 06 D156000005xx 00`, V2.0 notice §5.1:
//! "通过 RID 选择该应用"), the authentication, then READ RECORD by SFI and record identifier
//! with the exact Le (the n-th occurrence of an item: first, then "next", part 3 §5.3.1),
//! READ RECORD by number for cyclic files (1 the newest), SELECT of the EF and READ BINARY for
//! transparent files; writes: UPDATE RECORD by identifier (an absent record is added, part 5
//! §6.13.1), UPDATE RECORD `P1 00` mode "previous" to append a cyclic record, UPDATE BINARY.
//! Values are checked against the table before the first APDU: bad input writes nothing.

use crate::apdu::{commands, RecordRef, StatusWord};
use crate::crypto::Pin;
use crate::error::{Error, Result};
use crate::fileaddr::{CardInfo, FileAddress, FileData, Resolved, Target};
use crate::keyholder::KeyHolder;
use crate::keys::KeyRole;
use crate::profile::areas::{
    Area, AreaError, AreaProfile, DfId, FileId, FileSpec, ItemSpec, ReadRule, Reading, Structure,
    Value, WriteRule,
};
use crate::profile::{self, Ef, Generation};
use crate::transport::Transport;

use super::card::{status_error, Card};
use super::session::BINARY_CHUNK;

/// How a "PIN or RK" file is opened (reader interface §2.1.2(2), `iAuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadAuth {
    /// `1`: VERIFY of the holder's PIN (the default when a PIN is given).
    #[default]
    Pin,
    /// `2`: EXTERNAL AUTHENTICATION with the file's RK key through the key holder.
    Key,
}

/// What reading and writing the data areas may use: the file structure (national, or with a
/// region's extensions), the holder's PIN, a key holder, and the choice for "PIN or RK" files.
pub struct AreaAccess<'a> {
    profile: AreaProfile,
    pin: Option<&'a Pin>,
    key_holder: Option<&'a mut dyn KeyHolder>,
    prefer: ReadAuth,
    pin_epoch: Option<u64>,
}

impl std::fmt::Debug for AreaAccess<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AreaAccess")
            .field("pin", &self.pin.map(|_| "REDACTED"))
            .field("key_holder", &self.key_holder.is_some())
            .field("prefer", &self.prefer)
            .finish_non_exhaustive()
    }
}

impl Default for AreaAccess<'_> {
    fn default() -> Self {
        AreaAccess::new()
    }
}

impl<'a> AreaAccess<'a> {
    /// The national file structure, no PIN, no key holder.
    pub fn new() -> AreaAccess<'a> {
        AreaAccess {
            profile: AreaProfile::national(),
            pin: None,
            key_holder: None,
            prefer: ReadAuth::Pin,
            pin_epoch: None,
        }
    }

    /// Uses `profile` (a region's extensions).
    pub fn with_profile(mut self, profile: AreaProfile) -> AreaAccess<'a> {
        self.profile = profile;
        self
    }

    /// The holder's PIN, for the files read with the PIN.
    pub fn with_pin(mut self, pin: &'a Pin) -> AreaAccess<'a> {
        self.pin = Some(pin);
        self
    }

    /// A key holder, for the RK and UK keys.
    pub fn with_key_holder(mut self, key_holder: &'a mut dyn KeyHolder) -> AreaAccess<'a> {
        self.key_holder = Some(key_holder);
        self
    }

    /// How "PIN or RK" files are opened when both a PIN and a key holder are given.
    pub fn prefer(mut self, auth: ReadAuth) -> AreaAccess<'a> {
        self.prefer = auth;
        self
    }

    /// The file structure used.
    pub fn profile(&self) -> &AreaProfile {
        &self.profile
    }
}

/// One item as read: its place and its value (`None`: no such record on the card).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemValue {
    /// The record identifier.
    pub tag: u8,
    /// Which record of the item (1 for most).
    pub occurrence: u8,
    /// The item's JSON name.
    pub field: String,
    /// The notice's name.
    pub name_zh: String,
    /// The value; `None` when the card has no such record.
    pub reading: Option<Reading>,
}

/// What a file holds, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContents {
    /// A record file's items, every occurrence, in table order.
    Items(Vec<ItemValue>),
    /// A cyclic file's records (fields), record 1 (the newest) first.
    Records(Vec<Value>),
    /// A transparent file's content.
    Binary(Vec<u8>),
}

/// A file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReading {
    /// The file.
    pub file: FileId,
    /// The notice's name of the file.
    pub name_zh: String,
    /// Its contents.
    pub contents: FileContents,
}

/// The photo of SSSE EF08 (V2.0 notice §8.1.4: JPEG or BMP in 4 KB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// The image bytes, without the file's padding.
    pub bytes: Vec<u8>,
    /// The image format.
    pub format: PhotoFormat,
}

/// What the photo file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    /// A JPEG image (`FFD8` … `FFD9`).
    Jpeg,
    /// A BMP image (`BM`, its size in the header).
    Bmp,
    /// No photo (all `00` or `FF`).
    Empty,
    /// Something else.
    Unknown,
}

impl Photo {
    /// Recognises the image in the content of EF08 and cuts the padding after it.
    pub fn from_file(content: &[u8]) -> Photo {
        if content.iter().all(|&b| b == 0 || b == 0xFF) {
            return Photo {
                bytes: Vec::new(),
                format: PhotoFormat::Empty,
            };
        }
        if content.starts_with(&[0xFF, 0xD8]) {
            let end = content
                .windows(2)
                .rposition(|w| w == [0xFF, 0xD9])
                .map_or(content.len(), |i| i + 2);
            return Photo {
                bytes: content.get(..end).unwrap_or(content).to_vec(),
                format: PhotoFormat::Jpeg,
            };
        }
        if let Some([b'B', b'M', s0, s1, s2, s3]) = content.get(..6) {
            let size = u32::from_le_bytes([*s0, *s1, *s2, *s3]) as usize;
            if (14..=content.len()).contains(&size) {
                return Photo {
                    bytes: content.get(..size).unwrap_or(content).to_vec(),
                    format: PhotoFormat::Bmp,
                };
            }
        }
        let end = content.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        Photo {
            bytes: content.get(..end).unwrap_or(content).to_vec(),
            format: PhotoFormat::Unknown,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// DF selection and authentication

/// Makes `df` the card's current DF: SSSE, or an area DF selected by its DF name (AID).
fn enter<T: Transport>(card: &mut Card<T>, profile: &AreaProfile, df: DfId) -> Result<()> {
    let DfId::Df(fid) = df else {
        card.application()?;
        return Ok(());
    };
    if card.area == Some(fid) {
        return Ok(());
    }
    // what the key holder needs (algorithm, card identification code) is read in SSSE first
    card.context()?;
    let spec = profile
        .df(df)
        .ok_or_else(|| AreaError::UnknownFile(df.to_string()))?;
    match card.exchange_raw(&commands::select_aid(&spec.df_name))? {
        (_, StatusWord::Ok) => {}
        (_, StatusWord::FileNotFound) => {
            return Err(AreaError::AreaMissing {
                df: df.to_string(),
                name: spec.name_zh.to_string(),
            }
            .into())
        }
        (_, sw) => return Err(status_error("SELECT DF", sw)),
    }
    // another DF: the card dropped the security state of the previous one (part 7 §6.6)
    card.authenticated.clear();
    card.forget_current_ef();
    card.area = Some(fid);
    Ok(())
}

fn access_needed(file: &FileSpec, rule: ReadRule, what: &str) -> Error {
    AreaError::AccessNeeded {
        file: file.label(),
        rule: rule.to_string(),
        what: what.to_owned(),
    }
    .into()
}

/// EXTERNAL AUTHENTICATION with `role` unless the card holds it already in this DF.
fn authenticate<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: &FileSpec,
    rule: ReadRule,
    role: KeyRole,
) -> Result<()> {
    if card.authenticated.contains(&role) {
        return Ok(());
    }
    let key_holder = access
        .key_holder
        .as_deref_mut()
        .ok_or_else(|| access_needed(file, rule, &format!("a key holder with {role}")))?;
    card.external_authenticate(key_holder, role)
}

/// VERIFY of the holder's PIN, once per card session; without a PIN, VERIFY without data
/// tells whether the card has one (part 7 §5.6: `9000`, no PIN needed).
fn present_pin<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: &FileSpec,
    rule: ReadRule,
) -> Result<()> {
    if access.pin_epoch == Some(card.epoch()) {
        return Ok(());
    }
    let command = match access.pin {
        Some(pin) => commands::verify(pin.to_bcd()),
        None => commands::verify_probe(),
    };
    match card.exchange_raw(&command)? {
        (_, StatusWord::Ok) => {
            access.pin_epoch = Some(card.epoch());
            Ok(())
        }
        (_, StatusWord::VerificationFailed { .. }) if access.pin.is_none() => {
            Err(access_needed(file, rule, "the holder's PIN"))
        }
        (_, StatusWord::VerificationFailed { tries_left: 0 } | StatusWord::AuthMethodBlocked) => {
            Err(Error::PinBlocked)
        }
        (_, StatusWord::VerificationFailed { tries_left }) => Err(Error::WrongPin { tries_left }),
        (_, sw) => Err(status_error("VERIFY", sw)),
    }
}

/// Opens `file` for reading as its rule says (the DF is current).
fn open_for_read<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: &FileSpec,
    generation: Generation,
) -> Result<()> {
    let rule = file.read_rule(generation);
    match rule {
        ReadRule::Free => Ok(()),
        ReadRule::Pin => present_pin(card, access, file, rule),
        ReadRule::Key(k) => authenticate(card, access, file, rule, k),
        ReadRule::PinOrKey(k) => {
            if card.authenticated.contains(&k) || access.pin_epoch == Some(card.epoch()) {
                return Ok(());
            }
            let use_pin = match (access.pin.is_some(), access.key_holder.is_some()) {
                (true, true) => access.prefer == ReadAuth::Pin,
                (true, false) => true,
                (false, true) => false,
                (false, false) => {
                    return Err(access_needed(
                        file,
                        rule,
                        "the holder's PIN or a key holder",
                    ))
                }
            };
            if use_pin {
                present_pin(card, access, file, rule)
            } else {
                authenticate(card, access, file, rule, k)
            }
        }
        ReadRule::PinAndKey(k) => {
            authenticate(card, access, file, rule, k)?;
            present_pin(card, access, file, rule)
        }
    }
}

fn generation<T: Transport>(card: &mut Card<T>) -> Result<Generation> {
    Ok(card.generation()?.unwrap_or(Generation::V2))
}

// ---------------------------------------------------------------------------------------------
// Reading

/// READ RECORD of `item` in `file` by identifier with P2 mode `mode` (`000` first, `010`
/// next); `None` for `6A83`.
fn read_tag<T: Transport>(
    card: &mut Card<T>,
    file: &FileSpec,
    item: &ItemSpec,
    next: bool,
) -> Result<Option<Vec<u8>>> {
    let record = if next {
        RecordRef::NextTag(item.tag)
    } else {
        RecordRef::Tag(item.tag)
    };
    let command = commands::read_record(Some(file.sfi), record, item.len + 2);
    match card.exchange_raw(&command)? {
        (data, StatusWord::Ok) => match crate::tlv::parse_simple(&data).as_deref() {
            Ok([(t, value)]) if *t == item.tag => Ok(Some(value.to_vec())),
            _ => Err(Error::MalformedResponse {
                command: "READ RECORD",
                reason: format!(
                    "{} {}: not one record with tag {:02X}",
                    file.id, item.field, item.tag
                ),
            }),
        },
        (_, StatusWord::RecordNotFound) => Ok(None),
        (_, sw) => Err(status_error("READ RECORD", sw)),
    }
}

/// Reads occurrences 1 to `upto` of `item` (absent ones `None`; the first absent one ends
/// the list, the rest are absent too).
fn read_occurrences<T: Transport>(
    card: &mut Card<T>,
    file: &FileSpec,
    item: &ItemSpec,
    upto: u8,
) -> Result<Vec<Option<Vec<u8>>>> {
    let mut out = Vec::new();
    for n in 1..=upto {
        let value = if out.last().is_some_and(Option::is_none) {
            None
        } else if file.id.df == DfId::Ssse && Ef::from_fid(file.id.ef).is_some() {
            // SSSE's own items: the card's usual read (addressing as configured)
            let g = generation(card)?;
            match profile::element(g, item.tag) {
                Some(spec) => card.read_item(spec)?,
                None => None,
            }
        } else {
            read_tag(card, file, item, n > 1)?
        };
        out.push(value);
    }
    Ok(out)
}

/// Reads a cyclic file's records by number: `numbers`, or all of them (until `6A83`).
fn read_records<T: Transport>(
    card: &mut Card<T>,
    file: &FileSpec,
    numbers: Option<&[u8]>,
) -> Result<Vec<Option<Vec<u8>>>> {
    let all: Vec<u8> = (1..0xFF).collect();
    let list = numbers.unwrap_or(&all);
    let mut out = Vec::new();
    for &n in list {
        let command =
            commands::read_record(Some(file.sfi), RecordRef::Number(n), file.record_len());
        match card.exchange_raw(&command)? {
            (data, StatusWord::Ok) => out.push(Some(data)),
            (_, StatusWord::RecordNotFound) if numbers.is_none() => break,
            (_, StatusWord::RecordNotFound) => out.push(None),
            (_, sw) => return Err(status_error("READ RECORD", sw)),
        }
    }
    Ok(out)
}

/// SELECT of a transparent file and READ BINARY to its end.
fn read_binary<T: Transport>(card: &mut Card<T>, file: &FileSpec) -> Result<Vec<u8>> {
    select_ef(card, file)?;
    let size = file.record_len();
    let mut out = Vec::with_capacity(size);
    while out.len() < size {
        let offset = u16::try_from(out.len()).unwrap_or(u16::MAX);
        let (p1, p2) = commands::binary_p1_p2(None, offset).ok_or(Error::MalformedResponse {
            command: "READ BINARY",
            reason: format!("offset {offset} out of range"),
        })?;
        let want = (size - out.len()).min(256);
        let data = card.exchange("READ BINARY", &commands::read_binary(p1, p2, want))?;
        if data.is_empty() || data.len() > want {
            return Err(Error::MalformedResponse {
                command: "READ BINARY",
                reason: format!("{want} bytes asked for, {} answered", data.len()),
            });
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
}

fn select_ef<T: Transport>(card: &mut Card<T>, file: &FileSpec) -> Result<()> {
    if file.id.df == DfId::Ssse {
        if let Some(ef) = Ef::from_fid(file.id.ef) {
            return card.select_ef(ef);
        }
    }
    card.forget_current_ef();
    card.exchange("SELECT EF", &commands::select_ef(file.id.ef))
        .map(|_| ())
}

/// Reads what `targets` name of `file` (its DF current, opened for reading).
fn read_targets<T: Transport>(
    card: &mut Card<T>,
    file: &FileSpec,
    targets: &[Target],
) -> Result<FileContents> {
    match targets {
        [Target::Content] => Ok(FileContents::Binary(read_binary(card, file)?)),
        [Target::Records] => Ok(FileContents::Records(
            read_records(card, file, None)?
                .into_iter()
                .flatten()
                .map(|r| file.read_record(&r))
                .collect(),
        )),
        _ if file.structure.is_cyclic() => {
            let numbers: Vec<u8> = targets
                .iter()
                .filter_map(|t| match t {
                    Target::Record(n) => Some(*n),
                    _ => None,
                })
                .collect();
            Ok(FileContents::Records(
                read_records(card, file, Some(&numbers))?
                    .into_iter()
                    .map(|r| r.map_or(Value::Parts(Vec::new()), |r| file.read_record(&r)))
                    .collect(),
            ))
        }
        _ => {
            let g = generation(card)?;
            let wanted: Vec<(&ItemSpec, u8)> = if targets == [Target::AllItems] {
                file.items_on(g).map(|i| (i, i.occurs)).collect()
            } else {
                let mut v = Vec::new();
                for t in targets {
                    if let Target::Item { tag, occurrence } = t {
                        v.push((file.require_item(*tag)?, *occurrence));
                    }
                }
                v
            };
            let mut out = Vec::new();
            for (item, upto) in wanted {
                let values = read_occurrences(card, file, item, upto)?;
                let all = targets == [Target::AllItems];
                for (i, value) in values.into_iter().enumerate() {
                    let occurrence = u8::try_from(i + 1).unwrap_or(u8::MAX);
                    if !all && occurrence != upto {
                        continue;
                    }
                    out.push(ItemValue {
                        tag: item.tag,
                        occurrence,
                        field: item.field.to_string(),
                        name_zh: item.name_zh.to_string(),
                        reading: value.map(|v| item.read(&v)),
                    });
                }
            }
            Ok(FileContents::Items(out))
        }
    }
}

fn read_file_inner<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: &FileSpec,
    targets: &[Target],
) -> Result<FileReading> {
    let g = generation(card)?;
    enter(card, &access.profile.clone(), file.id.df)?;
    open_for_read(card, access, file, g)?;
    Ok(FileReading {
        file: file.id,
        name_zh: file.name_zh.to_string(),
        contents: read_targets(card, file, targets)?,
    })
}

fn whole(file: &FileSpec) -> Target {
    match file.structure {
        Structure::Transparent { .. } => Target::Content,
        Structure::Cyclic { .. } => Target::Records,
        Structure::Variable | Structure::Fixed => Target::AllItems,
    }
}

/// Reads every item (every record, the whole content) of `file`, authenticating as its read
/// rule says.
pub fn read_file<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: FileId,
) -> Result<FileReading> {
    let spec = access.profile.require_file(file)?.clone();
    card.operation(|card| read_file_inner(card, access, &spec, &[whole(&spec)]))
}

/// Reads every file of `area` (`--area employment`): the DF's EFs in table order.
pub fn read_area<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    area: Area,
) -> Result<Vec<FileReading>> {
    let df = access
        .profile
        .area(area)
        .ok_or_else(|| AreaError::UnknownFile(area.to_string()))?
        .clone();
    card.operation(|card| {
        df.files
            .iter()
            .map(|f| read_file_inner(card, access, f, &[whole(f)]))
            .collect()
    })
}

/// The text of what was read, in the file-address syntax.
fn texts(contents: &FileContents) -> Vec<String> {
    match contents {
        FileContents::Items(items) => items
            .iter()
            .map(|i| {
                i.reading
                    .as_ref()
                    .map(|r| r.value.text())
                    .unwrap_or_default()
            })
            .collect(),
        FileContents::Records(records) => records.iter().map(Value::text).collect(),
        FileContents::Binary(b) => vec![hex::encode_upper(b)],
    }
}

/// `iReadCard` (reader interface §2.1): reads what `address` names and answers it in the same
/// syntax (`DF01EF0A|CHN|$`). An absent record is an empty value.
pub fn read_address<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    address: &FileAddress,
) -> Result<FileData> {
    let profile = access.profile.clone();
    let resolved = address.resolve(&profile).map_err(Error::from)?;
    card.operation(|card| {
        let mut out = FileData::new();
        for r in &resolved {
            let reading = read_file_inner(card, access, r.file, &r.targets)?;
            out.push(r.file.id, texts(&reading.contents));
        }
        Ok(out)
    })
}

/// `iReadCard` step (5) (reader interface §2.1.3): the card identification code and card
/// number given must be the card's.
pub fn check_card_info<T: Transport>(card: &mut Card<T>, info: &CardInfo) -> Result<()> {
    card.operation(|card| {
        let id = card.card_id()?.to_string();
        let g = generation(card)?;
        let spec =
            profile::element(g, profile::tag::CARD_NUMBER).ok_or(Error::Blank("no card number"))?;
        let number = card
            .read_item(spec)?
            .map(|v| String::from_utf8_lossy(crate::codec::strip_padding(&v)).into_owned())
            .unwrap_or_default();
        if !id.eq_ignore_ascii_case(&info.card_id) || number != info.card_number {
            return Err(Error::WrongCard(format!(
                "the card is {id} {number}, the card info says {} {}",
                info.card_id, info.card_number
            )));
        }
        Ok(())
    })
}

/// Reads the photo (SSSE EF08, RKSSSE; V2.0 notice §5.2 table 3, §8.1.4).
pub fn read_photo<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
) -> Result<Photo> {
    let mut access = AreaAccess::new().with_key_holder(key_holder);
    let reading = read_file(card, &mut access, FileId::ssse(0xEF08))?;
    match reading.contents {
        FileContents::Binary(b) => Ok(Photo::from_file(&b)),
        _ => Err(Error::MalformedResponse {
            command: "READ BINARY EF08",
            reason: "not a transparent file".into(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// One write, checked and encoded before any APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Write {
    Item {
        item: ItemSpec,
        occurrence: u8,
        value: Vec<u8>,
    },
    Append(Vec<u8>),
    Content(Vec<u8>),
}

/// Checks and encodes the values of one file: one per item target; cyclic files take new
/// records; a transparent file its content in hex (padded with `00` to the file's size).
fn encode_writes(file: &FileSpec, targets: &[Target], values: &[String]) -> Result<Vec<Write>> {
    if let WriteRule::Internal = file.write {
        return Err(AreaError::NotWritable(file.label()).into());
    }
    match file.structure {
        Structure::Transparent { size } => {
            let text = values.first().map(String::as_str).unwrap_or_default();
            let mut bytes = hex::decode(text.trim()).map_err(|_| AreaError::Invalid {
                file: file.id.to_string(),
                item: file.field.to_string(),
                reason: "a transparent file's content is given in hex".into(),
            })?;
            if bytes.len() > size {
                return Err(AreaError::Invalid {
                    file: file.label(),
                    item: file.field.to_string(),
                    reason: format!("{} bytes, the file holds {size}", bytes.len()),
                }
                .into());
            }
            bytes.resize(size, 0x00);
            Ok(vec![Write::Content(bytes)])
        }
        Structure::Cyclic { .. } => {
            if targets != [Target::Records] {
                return Err(AreaError::Invalid {
                    file: file.label(),
                    item: "record".into(),
                    reason: "records are only appended (give the file name alone)".into(),
                }
                .into());
            }
            let mut out = Vec::new();
            let mut previous: Option<Vec<u8>> = None;
            for v in values {
                let record = file.encode_record(v)?;
                file.check_order(previous.as_deref(), &record)?;
                previous = Some(record.clone());
                out.push(Write::Append(record));
            }
            Ok(out)
        }
        Structure::Variable | Structure::Fixed => {
            let items: Vec<(ItemSpec, u8)> = if targets == [Target::AllItems] {
                return Err(AreaError::Invalid {
                    file: file.label(),
                    item: String::new(),
                    reason: "name the items to write (DF01EF07|29|$)".into(),
                }
                .into());
            } else {
                targets
                    .iter()
                    .filter_map(|t| match t {
                        Target::Item { tag, occurrence } => Some((*tag, *occurrence)),
                        _ => None,
                    })
                    .map(|(tag, occ)| Ok((file.require_item(tag)?.clone(), occ)))
                    .collect::<Result<_, AreaError>>()?
            };
            items
                .into_iter()
                .zip(values)
                .map(|((item, occurrence), v)| {
                    let value = file.encode_item(&item, v)?;
                    Ok(Write::Item {
                        item,
                        occurrence,
                        value,
                    })
                })
                .collect()
        }
    }
}

/// Positions the record pointer on occurrence `n - 1` of `item` (READ RECORD first, then
/// next), so that UPDATE RECORD "next" writes occurrence `n`.
fn position<T: Transport>(
    card: &mut Card<T>,
    file: &FileSpec,
    item: &ItemSpec,
    n: u8,
) -> Result<()> {
    for k in 1..n {
        if read_tag(card, file, item, k > 1)?.is_none() {
            return Err(AreaError::Invalid {
                file: file.id.to_string(),
                item: item.label(),
                reason: format!(
                    "occurrence {n} cannot be written before occurrence {k} (records of an item are kept in order)"
                ),
            }
            .into());
        }
    }
    Ok(())
}

fn write_file_inner<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: &FileSpec,
    writes: &[Write],
) -> Result<()> {
    let g = generation(card)?;
    let WriteRule::Key(uk) = file.write else {
        return Err(AreaError::NotWritable(file.label()).into());
    };
    if file.id.df == DfId::Ssse && Ef::from_fid(file.id.ef).is_some() {
        return write_ssse(card, access, file, writes, g);
    }
    enter(card, &access.profile.clone(), file.id.df)?;
    // positioning on an item's earlier records and the order of cyclic records read the file
    let reads = writes.iter().any(|w| match w {
        Write::Item { occurrence, .. } => *occurrence > 1,
        Write::Append(_) => true,
        Write::Content(_) => false,
    });
    if reads {
        open_for_read(card, access, file, g)?;
    }
    let rule = file.read;
    authenticate(card, access, file, rule, uk)?;
    for w in writes {
        match w {
            Write::Item {
                item,
                occurrence,
                value,
            } => {
                position(card, file, item, *occurrence)?;
                let record = if *occurrence > 1 {
                    RecordRef::NextTag(item.tag)
                } else {
                    RecordRef::Tag(item.tag)
                };
                let command = commands::update_record(
                    Some(file.sfi),
                    record,
                    crate::tlv::simple(item.tag, value),
                );
                card.exchange("UPDATE RECORD", &command)?;
            }
            Write::Append(record) => {
                let newest = read_records(card, file, Some(&[1]))?
                    .into_iter()
                    .next()
                    .flatten();
                if newest.as_deref() == Some(record.as_slice()) {
                    // already the newest record: a rerun after a lost answer or a torn
                    // write does not append it twice ([design] D23)
                    continue;
                }
                file.check_order(newest.as_deref(), record)?;
                let command = commands::update_record(
                    Some(file.sfi),
                    RecordRef::PreviousTag(0x00),
                    record.clone(),
                );
                card.exchange("UPDATE RECORD", &command)?;
            }
            Write::Content(bytes) => {
                select_ef(card, file)?;
                write_chunks(card, bytes)?;
            }
        }
    }
    Ok(())
}

fn write_chunks<T: Transport>(card: &mut Card<T>, bytes: &[u8]) -> Result<()> {
    for (i, chunk) in bytes.chunks(BINARY_CHUNK).enumerate() {
        let at = u16::try_from(i * BINARY_CHUNK).unwrap_or(u16::MAX);
        let (p1, p2) = commands::binary_p1_p2(None, at).ok_or(Error::MalformedResponse {
            command: "UPDATE BINARY",
            reason: format!("offset {at} out of range"),
        })?;
        card.exchange(
            "UPDATE BINARY",
            &commands::update_binary(p1, p2, chunk.to_vec()),
        )?;
    }
    Ok(())
}

/// Writes SSSE's own files with UKSSSE (V2.0 notice §5.2 table 3): UPDATE RECORD of each item
/// by SFI and record identifier, UPDATE BINARY of EF07/EF08 (as `AuthenticatedSession` does).
fn write_ssse<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: &FileSpec,
    writes: &[Write],
    g: Generation,
) -> Result<()> {
    card.application()?;
    authenticate(card, access, file, file.read, KeyRole::Ukssse)?;
    for w in writes {
        match w {
            Write::Item { item, value, .. } => {
                let spec = profile::element(g, item.tag).ok_or_else(|| AreaError::UnknownTag {
                    file: file.id.to_string(),
                    tag: item.tag,
                    known: String::new(),
                })?;
                card.forget_current_ef();
                let command = commands::update_record(
                    Some(spec.ef.sfi()),
                    crate::apdu::RecordRef::Tag(spec.tag),
                    crate::tlv::simple(spec.tag, value),
                );
                card.exchange("UPDATE RECORD", &command)?;
            }
            Write::Content(bytes) => {
                select_ef(card, file)?;
                write_chunks(card, bytes)?;
            }
            Write::Append(_) => return Err(AreaError::NotWritable(file.label()).into()),
        }
    }
    Ok(())
}

/// `iWriteCard` (reader interface §3.1): writes `data` where `address` says, with the update
/// key of each file through the key holder. Every value is checked against the table first:
/// a bad value, an unknown item, a file the card OS alone writes or a cyclic record out of
/// order writes nothing.
pub fn write_address<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    address: &FileAddress,
    data: &FileData,
) -> Result<()> {
    let profile = access.profile.clone();
    let resolved = address.resolve(&profile).map_err(Error::from)?;
    let values = data.matching(&resolved).map_err(Error::from)?;
    let mut plan = Vec::new();
    for (r, v) in resolved.iter().zip(values) {
        plan.push((r.file, encode_writes(r.file, &r.targets, v)?));
    }
    card.operation(|card| {
        for (file, writes) in &plan {
            write_file_inner(card, access, file, writes)?;
        }
        Ok(())
    })
}

/// Writes items of `file`: `(target, value)` in the text form (`"11"`; a B-TLV group's parts
/// separated by `^`).
pub fn write_items<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: FileId,
    items: &[(Target, String)],
) -> Result<()> {
    let address = FileAddress::new().with(file, &items.iter().map(|(t, _)| *t).collect::<Vec<_>>());
    let mut data = FileData::new();
    data.push(file, items.iter().map(|(_, v)| v.clone()).collect());
    write_address(card, access, &address, &data)
}

/// Appends `records` (each its fields separated by `^`, oldest first) to the cyclic `file`,
/// after checking they come after its newest record (\[design\] D23).
pub fn append_records<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    file: FileId,
    records: &[String],
) -> Result<()> {
    let address = FileAddress::new().with(file, &[Target::Records]);
    let mut data = FileData::new();
    data.push(file, records.to_vec());
    write_address(card, access, &address, &data)
}

/// Writes the photo (SSSE EF08, UKSSSE): at most 4096 bytes (V2.0 notice table 9, §8.1.4),
/// the rest of the file set to `00`.
pub fn write_photo<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    photo: &[u8],
) -> Result<()> {
    let size = Ef::Ef08.size();
    if photo.len() > size {
        return Err(AreaError::Invalid {
            file: "SSSEEF08".into(),
            item: "photo (照片信息文件)".into(),
            reason: format!(
                "{} bytes, the photo file holds {size} (V2.0 notice §8.1.4: 4 KB)",
                photo.len()
            ),
        }
        .into());
    }
    let mut access = AreaAccess::new().with_key_holder(key_holder);
    let address = FileAddress::new().with(FileId::ssse(0xEF08), &[Target::Content]);
    let mut data = FileData::new();
    data.push(FileId::ssse(0xEF08), vec![hex::encode_upper(photo)]);
    write_address(card, &mut access, &address, &data)
}

// ---------------------------------------------------------------------------------------------
// The HSM steps of iReadCard / iWriteCard (reader interface §2.2-2.3, §3.2-3.3)

/// The state between the two HSM steps of a data area read or write: the request for the HSM
/// (`算法标识|密钥地址|过程因子|原始信息|`), and what step two does with its answer.
#[derive(Debug, Clone)]
pub struct AreaHsmStep {
    /// The request for the HSM: the algorithm byte, the key's logical address (RI appendix
    /// B), the process factor and the original data (both card randoms), each followed by `|`
    /// (§2.2.2 (4)).
    pub request: String,
    file: FileSpec,
    targets: Vec<Target>,
    role: KeyRole,
    writes: Vec<Write>,
    epoch: u64,
}

/// Step one (`iReadCard_HSM_Step1`, `iWriteCard_HSM_Step1`): the first file of `address`
/// only (§2.2.2 (3)); its DF selected, for a "PIN & RK" read the PIN verified first (§2.2.3
/// (6)), then two card challenges — the original data, then the process factor, as the
/// field trace's HSM flows. `data`: the values of a write (checked here, before anything).
/// A file read freely or with the PIN alone is [`AreaError::NoKeyNeeded`] (`-2204`).
pub fn hsm_step1<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    address: &FileAddress,
    data: Option<&FileData>,
) -> Result<AreaHsmStep> {
    let intent = match data {
        Some(data) => Intent::Write(Some(data)),
        None => Intent::Read,
    };
    step1(card, access, address, intent)
}

/// Step one of a write whose values come with step two, as the reader interface has it
/// (`iWriteCard_HSM_Step1` takes no `pWriteData`, §3.2): the first file of `address` must be
/// writable with a key; the values are given to [`AreaHsmStep::set_values`] before
/// [`hsm_write_step2`].
pub fn hsm_write_step1<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    address: &FileAddress,
) -> Result<AreaHsmStep> {
    step1(card, access, address, Intent::Write(None))
}

/// What step one prepares.
enum Intent<'d> {
    Read,
    /// A write, with its values now or later.
    Write(Option<&'d FileData>),
}

impl AreaHsmStep {
    /// The values of a write prepared by [`hsm_write_step1`] (`pWriteData`, in the shape of the
    /// address, §3.3.2): checked against the file's items before anything reaches the card.
    pub fn set_values(&mut self, data: &FileData) -> Result<()> {
        let resolved = Resolved {
            file: &self.file,
            targets: self.targets.clone(),
        };
        let values = data
            .matching(std::slice::from_ref(&resolved))
            .map_err(Error::from)?;
        self.writes = encode_writes(
            &self.file,
            &self.targets,
            values.first().map_or(&[][..], |v| v),
        )?;
        Ok(())
    }
}

fn step1<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    address: &FileAddress,
    intent: Intent<'_>,
) -> Result<AreaHsmStep> {
    let profile = access.profile.clone();
    let resolved = address.resolve(&profile).map_err(Error::from)?;
    let first = resolved
        .into_iter()
        .next()
        .ok_or_else(|| AreaError::UnknownFile("no file in the address".into()))?;
    let file = first.file.clone();
    let g = generation(card)?;
    let reading = matches!(intent, Intent::Read);
    let (role, writes) = match intent {
        Intent::Write(data) => {
            let writes = match data {
                Some(data) => {
                    let values = data
                        .matching(std::slice::from_ref(&first))
                        .map_err(Error::from)?;
                    encode_writes(&file, &first.targets, values.first().map_or(&[][..], |v| v))?
                }
                None => Vec::new(),
            };
            match file.write {
                WriteRule::Key(k) => (k, writes),
                WriteRule::Internal => return Err(AreaError::NotWritable(file.label()).into()),
            }
        }
        Intent::Read => match file.read_rule(g).key() {
            Some(k) => (k, Vec::new()),
            None => return Err(AreaError::NoKeyNeeded(file.label()).into()),
        },
    };
    // before the card is touched: a key the reader interface gives no HSM address (DF06 of
    // appendix B, [design] D38) has no HSM step
    let address = role.hsm_address(1).ok_or_else(|| AreaError::Invalid {
        file: file.id.to_string(),
        item: role.to_string(),
        reason: format!(
            "the reader interface's appendix B gives {role} no HSM key address ([design] D38): use a PSAM or a key file for this file"
        ),
    })?;
    let algorithm = card.algorithm()?;
    enter(card, &profile, file.id.df)?;
    if reading {
        if let ReadRule::PinAndKey(_) = file.read_rule(g) {
            present_pin(card, access, &file, file.read_rule(g))?;
        }
    }
    let original = card.challenge()?;
    let factor = card.challenge()?;
    Ok(AreaHsmStep {
        request: format!(
            "{:02X}|{address:04X}|{}|{}|",
            algorithm.to_byte(),
            hex::encode_upper(factor),
            hex::encode_upper(original)
        ),
        file,
        targets: first.targets,
        role,
        writes,
        epoch: card.epoch(),
    })
}

/// EXTERNAL AUTHENTICATION with the HSM's answer `pKey` (authentication data ‖ original data,
/// 32 hex digits, §2.3.2 (1)).
fn hsm_authenticate<T: Transport>(
    card: &mut Card<T>,
    step: &AreaHsmStep,
    answer: &str,
) -> Result<()> {
    card.sync_epoch()?;
    if card.epoch() != step.epoch
        || card.area.map(DfId::Df).unwrap_or(DfId::Ssse) != step.file.id.df
    {
        return Err(Error::CardReset);
    }
    let bytes = hex::decode(answer.trim())
        .ok()
        .filter(|b| b.len() == 16)
        .ok_or_else(|| AreaError::Invalid {
            file: step.file.id.to_string(),
            item: "pKey".into(),
            reason: "the HSM's answer is 32 hex digits (authentication data ‖ original data)"
                .into(),
        })?;
    let mut auth = [0u8; 8];
    let mut original = [0u8; 8];
    auth.copy_from_slice(bytes.get(..8).unwrap_or_default());
    original.copy_from_slice(bytes.get(8..).unwrap_or_default());
    let key_id = step.role.card_key_id().ok_or(Error::MalformedResponse {
        command: "EXTERNAL AUTHENTICATION",
        reason: format!("{} has no card key id", step.role),
    })?;
    card.send_external_authenticate(step.role, key_id, auth, original)
}

/// Step two of a read (`iReadCard_HSM_Step2`): EXTERNAL AUTHENTICATION with the HSM's answer,
/// then what step one's address named, in the file-address syntax.
pub fn hsm_read_step2<T: Transport>(
    card: &mut Card<T>,
    step: &AreaHsmStep,
    answer: &str,
) -> Result<FileData> {
    hsm_authenticate(card, step, answer)?;
    let contents = read_targets(card, &step.file, &step.targets)?;
    let mut out = FileData::new();
    out.push(step.file.id, texts(&contents));
    Ok(out)
}

/// Step two of a write (`iWriteCard_HSM_Step2`): EXTERNAL AUTHENTICATION with the HSM's answer
/// (the file's UK key), then the writes of step one. A write that reads first (an item's later
/// record, a cyclic file's order) opens the file with `access` (the PIN, or a key holder).
pub fn hsm_write_step2<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    step: &AreaHsmStep,
    answer: &str,
) -> Result<()> {
    if step.writes.is_empty() {
        return Err(AreaError::Invalid {
            file: step.file.label(),
            item: "pWriteData".into(),
            reason: "no values to write: give them to step one or to AreaHsmStep::set_values"
                .into(),
        }
        .into());
    }
    hsm_authenticate(card, step, answer)?;
    write_file_inner(card, access, &step.file, &step.writes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_recognised_and_cut() {
        let mut jpeg = vec![0xFF, 0xD8, 1, 2, 0xFF, 0xD9];
        jpeg.resize(4096, 0);
        let p = Photo::from_file(&jpeg);
        assert_eq!((p.format, p.bytes.len()), (PhotoFormat::Jpeg, 6));
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&20u32.to_le_bytes());
        bmp.resize(20, 7);
        bmp.resize(4096, 0);
        let p = Photo::from_file(&bmp);
        assert_eq!((p.format, p.bytes.len()), (PhotoFormat::Bmp, 20));
        assert_eq!(Photo::from_file(&[0; 4096]).format, PhotoFormat::Empty);
        let p = Photo::from_file(&[1, 2, 3, 0, 0]);
        assert_eq!((p.format, p.bytes), (PhotoFormat::Unknown, vec![1, 2, 3]));
    }

    #[test]
    fn bad_writes_are_refused_before_any_apdu() {
        let p = AreaProfile::national();
        let f = p.file(FileId::area(0xDF04, 0xEF08)).unwrap();
        let e = encode_writes(f, &[Target::Records], &["0001^1^^^^^^".into()]).unwrap_err();
        assert!(e.to_string().contains("card OS only"), "{e}");
        let f = p.file(FileId::area(0xDF02, 0xEF07)).unwrap();
        let e = encode_writes(
            f,
            &[Target::Records],
            &["1^20200101^^A^".into(), "1^20100101^^B^".into()],
        )
        .unwrap_err();
        assert!(e.to_string().contains("out of order"), "{e}");
        let f = p.file(FileId::area(0xDF01, 0xEF16)).unwrap();
        let e = encode_writes(f, &[Target::Content], &["00".repeat(0x129)]).unwrap_err();
        assert!(
            e.to_string().contains("297 bytes, the file holds 296"),
            "{e}"
        );
        let w = encode_writes(f, &[Target::Content], &["AABB".into()]).unwrap();
        assert!(
            matches!(&w[..], [Write::Content(b)] if b.len() == 0x128 && b[..2] == [0xAA, 0xBB])
        );
    }
}
