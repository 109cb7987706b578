//! The data areas in the card OS (V2.0 notice §5.3-5.7, §6): SELECT of the DFs `DF01`-`DF04`,
//! `DF07` (and `DF05`, `DF06`, regional DFs) by AID, label or file identifier, their EFs by
//! file identifier or SFI; READ RECORD, UPDATE RECORD, READ BINARY, UPDATE BINARY under each
//! file's rules; EXTERNAL AUTHENTICATION with the DF's keys; cyclic files that keep their newest records.
//!
//! Rules (\[design\] D21-D24 of `docs/interop-profile.md`):
//! - read: free; PIN (verified since reset, or no PIN set, part 7 §5.6); a key (EXTERNAL
//!   AUTHENTICATION in this DF); PIN or key; PIN and key — else `6982`;
//! - write: the file's update key authenticated in this DF, else `6982`; a file the card OS
//!   alone writes (DF04 EF08) answers `6982` to every UPDATE RECORD;
//! - record files: one SIMPLE-TLV per record, the tag an item of the file (`6A80`), no longer
//!   than the item (`6A84`; a fixed record file's records exactly the item, `6700`); by
//!   identifier an absent occurrence is added while the item has fewer records than it may
//!   (`6A84` beyond);
//! - cyclic files: UPDATE RECORD with P1 `00` and P2 mode `011` ("previous", part 5 §6.13.1)
//!   appends a record of exactly the record length (`6700`), dropping the oldest when the file
//!   is full; any other mode is `6981`; record 1 is the newest (part 3 §5.3.2).

use zeroize::Zeroizing;

use sscard_core::keys::KeyRole;
use sscard_core::profile::areas::{DfId, FileId, FileSpec, ReadRule, Structure, WriteRule};
use sscard_core::profile::fci::Fci;
use sscard_core::tlv;

use super::files::{find, Address, Occurrence};
use super::{Abort, Change, Df, File, Outcome, Reply, SimCard};
use crate::apdu::{binary_address, binary_window, sw, Apdu};
use crate::areas::FileContent;
use crate::card_key::CardKey;
use crate::error::SimError;
use crate::image::{CardImage, HexBytes};

/// One atomic change of a data area ([`crate::tear`]).
#[derive(Debug)]
pub(crate) enum AreaChange {
    /// A key's try counter in a DF.
    KeyTries { df: u16, role: KeyRole, tries: u8 },
    /// Record `index` of a record file replaced (`None`: a record added).
    Record {
        file: FileId,
        index: Option<usize>,
        tlv: Vec<u8>,
    },
    /// A record appended to a cyclic file (the oldest dropped when it is full).
    Append { file: FileId, record: Vec<u8> },
    /// Bytes of a transparent file.
    Binary {
        file: FileId,
        offset: usize,
        data: Vec<u8>,
    },
}

/// Applies `change` to `image` (the body of [`SimCard::persist`] for the data areas).
pub(crate) fn apply(image: &mut CardImage, change: AreaChange) -> Result<(), Abort> {
    let fail = || Abort::Status(sw::MEMORY_FAILURE);
    match change {
        AreaChange::KeyTries { df, role, tries } => {
            let key = image
                .areas
                .get_mut(&DfId::Df(df).name())
                .and_then(|a| a.keys.get_mut(role.name()))
                .ok_or_else(fail)?;
            key.tries_left = tries;
        }
        AreaChange::Record { file, index, tlv } => {
            let content = stored_file(image, file).ok_or_else(fail)?;
            let FileContent::Records(records) = content else {
                return Err(fail());
            };
            match index {
                Some(i) => *records.get_mut(i).ok_or_else(fail)? = HexBytes(tlv),
                None => records.push(HexBytes(tlv)),
            }
        }
        AreaChange::Append { file, record } => {
            let content = stored_file(image, file).ok_or_else(fail)?;
            let FileContent::Cyclic { capacity, records } = content else {
                return Err(fail());
            };
            records.insert(0, HexBytes(record));
            records.truncate(*capacity);
        }
        AreaChange::Binary { file, offset, data } => {
            let content = stored_file(image, file).ok_or_else(fail)?;
            let FileContent::Binary(stored) = content else {
                return Err(fail());
            };
            stored.write_at(offset, &data);
        }
    }
    Ok(())
}

/// The stored content of an area file.
fn stored_file(image: &mut CardImage, file: FileId) -> Option<&mut FileContent> {
    image
        .areas
        .get_mut(&file.df.name())
        .and_then(|a| a.file_mut(file.ef))
}

/// The records of a record or cyclic file (cyclic: newest first).
fn records_of(content: Option<&FileContent>) -> Vec<Vec<u8>> {
    match content {
        Some(FileContent::Records(r)) | Some(FileContent::Cyclic { records: r, .. }) => {
            r.iter().map(|r| r.0.clone()).collect()
        }
        _ => Vec::new(),
    }
}

impl SimCard {
    /// The DF a data area command works in: the current area DF, or SSSE for SSSE's regional
    /// EFs.
    fn area_df(&self) -> DfId {
        match self.vol.df {
            Df::Area(fid) => DfId::Df(fid),
            _ => DfId::Ssse,
        }
    }

    /// Whether a command with this SFI (0: the current EF) goes to a data area: the current
    /// DF is an area DF, or SSSE with one of its regional EFs addressed.
    pub(crate) fn in_area(&self, sfi: u8) -> bool {
        match self.vol.df {
            Df::Area(_) => true,
            Df::Ssse if sfi == 0 => matches!(self.vol.ef, Some(File::Area(..))),
            Df::Ssse => self
                .ssse_regional()
                .is_some_and(|files| files.iter().any(|f| f.sfi == sfi)),
            _ => false,
        }
    }

    /// SSSE's regional EFs (from `EF0C`) the card has.
    fn ssse_regional(&self) -> Option<Vec<FileSpec>> {
        let area = self.image.area(DfId::Ssse)?;
        let df = self.profile.df(DfId::Ssse)?;
        Some(
            df.files
                .iter()
                .filter(|f| f.id.ef >= 0xEF0C && area.file(f.id.ef).is_some())
                .cloned()
                .collect(),
        )
    }

    /// The area DF with DF name `name` the card has.
    fn area_by_name(&self, name: &[u8]) -> Option<u16> {
        match self.profile.df_by_name(name)?.id {
            DfId::Df(fid) if self.image.area(DfId::Df(fid)).is_some() => Some(fid),
            _ => None,
        }
    }

    /// The FCI of an area DF (part 5 table 38: `6F { 84 <DF name> }`).
    fn area_fci(&self, fid: u16) -> Vec<u8> {
        let name = self
            .profile
            .df(DfId::Df(fid))
            .map(|d| d.df_name.to_vec())
            .unwrap_or_default();
        Fci {
            df_name: Some(name),
            directory_sfi: None,
            algorithm: None,
        }
        .to_bytes()
    }

    fn enter_area(&mut self, fid: u16) -> Outcome {
        self.enter(Df::Area(fid));
        // the data areas are inside SSSE: blocked with it (part 7 §13.2)
        if self.image.ssse_blocked {
            return Err(sw::APP_BLOCKED.into());
        }
        Ok(Reply::Outgoing(Zeroizing::new(self.area_fci(fid))))
    }

    /// SELECT by DF name of an area DF (its AID `D156000005 xx`, appendix B's label, a
    /// regional DF's name); `None` when no area has the name.
    pub(crate) fn select_area_by_name(&mut self, name: &[u8]) -> Option<Outcome> {
        let fid = self.area_by_name(name)?;
        Some(self.enter_area(fid))
    }

    /// SELECT by file identifier (P1 `00`) of an area DF; `None` when the card has no such
    /// DF.
    pub(crate) fn select_area_by_fid(&mut self, fid: u16) -> Option<Outcome> {
        self.image.area(DfId::Df(fid))?;
        Some(self.enter_area(fid))
    }

    /// SELECT of an EF (P1 `02`) in an area DF, or of a regional EF of SSSE; `None` when the
    /// current DF has no such area EF (SSSE then looks at its own EFs).
    pub(crate) fn select_area_ef(&mut self, fid: u16) -> Option<Outcome> {
        let df = match self.vol.df {
            Df::Area(d) => DfId::Df(d),
            Df::Ssse if fid >= 0xEF0C => DfId::Ssse,
            _ => return None,
        };
        let exists = self.image.area(df).is_some_and(|a| a.file(fid).is_some())
            && self.profile.file(FileId { df, ef: fid }).is_some();
        if !exists {
            return matches!(self.vol.df, Df::Area(_)).then(|| Err(sw::FILE_NOT_FOUND.into()));
        }
        self.vol.ef = Some(File::Area(df, fid));
        self.vol.record = None;
        Some(Ok(Reply::Done))
    }

    /// The area file a command addresses: by SFI (it becomes the current EF; another EF loses
    /// the record pointer) or the current EF (`6986`).
    fn area_file(&mut self, sfi: u8) -> Result<FileSpec, u16> {
        let id = if sfi == 0 {
            match self.vol.ef {
                Some(File::Area(df, ef)) => FileId { df, ef },
                Some(_) => return Err(sw::INCOMPATIBLE_FILE),
                None => return Err(sw::NO_CURRENT_EF),
            }
        } else {
            let df = self.area_df();
            let spec = self.profile.df(df).ok_or(sw::FILE_NOT_FOUND)?;
            let file = spec
                .files
                .iter()
                .find(|f| {
                    f.sfi == sfi
                        && (df != DfId::Ssse || f.id.ef >= 0xEF0C)
                        && self
                            .image
                            .area(df)
                            .is_some_and(|a| a.file(f.id.ef).is_some())
                })
                .ok_or(sw::FILE_NOT_FOUND)?;
            let current = Some(File::Area(df, file.id.ef));
            if self.vol.ef != current {
                self.vol.ef = current;
                self.vol.record = None;
            }
            file.id
        };
        self.profile.file(id).cloned().ok_or(sw::FILE_NOT_FOUND)
    }

    /// Whether the holder's PIN counts as presented: verified since reset, or no PIN set
    /// (VERIFY without data answers `9000`, part 7 §5.6).
    fn pin_presented(&self) -> bool {
        self.vol.pin_verified || self.image.pin.value.is_empty()
    }

    fn read_allowed(&self, file: &FileSpec) -> bool {
        let key = |k: KeyRole| self.vol.authenticated.contains(&k);
        match file.read_rule(self.image.generation) {
            ReadRule::Free => true,
            ReadRule::Pin => self.pin_presented(),
            ReadRule::Key(k) => key(k),
            ReadRule::PinOrKey(k) => self.pin_presented() || key(k),
            ReadRule::PinAndKey(k) => self.pin_presented() && key(k),
        }
    }

    fn write_allowed(&self, file: &FileSpec) -> bool {
        match file.write {
            WriteRule::Key(k) => self.vol.authenticated.contains(&k),
            WriteRule::Internal => false,
        }
    }

    /// [`Self::area_file`] when it is a record file (`records`) or a transparent one; the
    /// other kind is `6981`.
    fn area_file_of_kind(&mut self, sfi: u8, records: bool) -> Result<FileSpec, u16> {
        let file = self.area_file(sfi)?;
        if file.structure.is_records() != records {
            return Err(sw::INCOMPATIBLE_FILE);
        }
        Ok(file)
    }

    fn area_records(&self, file: FileId) -> Vec<Vec<u8>> {
        records_of(self.image.area(file.df).and_then(|a| a.file(file.ef)))
    }

    /// READ RECORD in a data area: one record whole, Le exactly its length (`6Cxx`
    /// otherwise, part 5 §6.10.4, \[design\] D16); by identifier it moves the record pointer.
    pub(crate) fn area_read_record(&mut self, a: &Apdu<'_>) -> Outcome {
        a.no_data()?;
        let address = Address::decode(a.p1, a.p2)?;
        let file = self.area_file_of_kind(a.p2 >> 3, true)?;
        if !self.read_allowed(&file) {
            return Err(sw::SECURITY.into());
        }
        let records = self.area_records(file.id);
        let index = find(&records, address, self.vol.record).ok_or(sw::RECORD_NOT_FOUND)?;
        if let Address::Identifier(..) = address {
            self.vol.record = Some(index);
        }
        let record = records.into_iter().nth(index).unwrap_or_default();
        if a.le.unwrap_or(256) != record.len() {
            return Err(sw::wrong_le(record.len()).into());
        }
        Ok(Reply::Exact(Zeroizing::new(record)))
    }

    /// UPDATE RECORD in a data area (module documentation). One transaction.
    pub(crate) fn area_update_record(&mut self, a: &Apdu<'_>) -> Outcome {
        if a.data.is_empty() {
            return Err(sw::WRONG_LENGTH.into());
        }
        let address = Address::decode(a.p1, a.p2).map_err(|_| sw::P1P2)?;
        let file = self.area_file_of_kind(a.p2 >> 3, true)?;
        if !self.write_allowed(&file) {
            return Err(sw::SECURITY.into());
        }
        let records = self.area_records(file.id);
        if let Structure::Cyclic { record_len, .. } = file.structure {
            if !matches!(address, Address::Identifier(0, Occurrence::Previous)) {
                return Err(sw::INCOMPATIBLE_FILE.into());
            }
            if a.data.len() != record_len {
                return Err(sw::WRONG_LENGTH.into());
            }
            self.persist(Change::Area(AreaChange::Append {
                file: file.id,
                record: a.data.to_vec(),
            }))?;
            self.vol.record = Some(0);
            return Ok(Reply::Done);
        }
        let (tag, value) = match tlv::parse_simple(a.data).as_deref() {
            Ok([(tag, value)]) => (*tag, value.to_vec()),
            _ => return Err(sw::LC_TLV.into()),
        };
        if matches!(address, Address::Identifier(id, _) if id != tag) {
            return Err(sw::WRONG_DATA.into());
        }
        let item = file.item(tag).ok_or(sw::WRONG_DATA)?;
        if value.len() > item.len {
            return Err(sw::NO_SPACE.into());
        }
        if file.structure == Structure::Fixed && value.len() != item.len {
            return Err(sw::WRONG_LENGTH.into());
        }
        let target = match address {
            Address::Number(n) if usize::from(n) == records.len() + 1 => None,
            Address::Number(_) => {
                let i = find(&records, address, self.vol.record).ok_or(sw::RECORD_NOT_FOUND)?;
                if records.get(i).and_then(|r| r.first()) != Some(&tag) {
                    return Err(sw::WRONG_DATA.into());
                }
                Some(i)
            }
            Address::Identifier(..) => find(&records, address, self.vol.record),
        };
        if target.is_none() {
            let present = records.iter().filter(|r| r.first() == Some(&tag)).count();
            if present >= usize::from(item.occurs) {
                return Err(sw::NO_SPACE.into());
            }
        }
        self.persist(Change::Area(AreaChange::Record {
            file: file.id,
            index: target,
            tlv: tlv::simple(tag, &value),
        }))?;
        self.vol.record = Some(target.unwrap_or(records.len()));
        Ok(Reply::Done)
    }

    /// The transparent area file and offset of READ/UPDATE BINARY (part 5 tables 29, 41).
    fn area_binary_target(&mut self, p1: u8, p2: u8) -> Result<(FileSpec, usize), u16> {
        let (file, offset) = match binary_address(p1, p2)? {
            (Some(0), _) => return Err(sw::P1P2),
            (sfi, offset) => (self.area_file_of_kind(sfi.unwrap_or(0), false)?, offset),
        };
        Ok((file, offset))
    }

    /// READ BINARY of a transparent area file: `6B00` at or past the end, Le `00` up to 256
    /// bytes, an Le past the end `6Cxx` (part 5 §6.9).
    pub(crate) fn area_read_binary(&mut self, a: &Apdu<'_>) -> Outcome {
        a.no_data()?;
        let (file, offset) = self.area_binary_target(a.p1, a.p2)?;
        if !self.read_allowed(&file) {
            return Err(sw::SECURITY.into());
        }
        let mut content = match self.image.area(file.id.df).and_then(|x| x.file(file.id.ef)) {
            Some(FileContent::Binary(b)) => b.0.clone(),
            _ => Vec::new(),
        };
        content.resize(file.record_len().max(content.len()), 0x00);
        let window = binary_window(&content, offset, a.le)?;
        Ok(Reply::Exact(Zeroizing::new(window.to_vec())))
    }

    /// UPDATE BINARY of a transparent area file with its update key. One transaction.
    pub(crate) fn area_update_binary(&mut self, a: &Apdu<'_>) -> Outcome {
        if a.data.is_empty() {
            return Err(sw::WRONG_LENGTH.into());
        }
        let (file, offset) = self.area_binary_target(a.p1, a.p2)?;
        if !self.write_allowed(&file) {
            return Err(sw::SECURITY.into());
        }
        let size = file.record_len();
        if offset >= size {
            return Err(sw::OFFSET.into());
        }
        if offset + a.data.len() > size {
            return Err(sw::WRONG_LENGTH.into());
        }
        self.persist(Change::Area(AreaChange::Binary {
            file: file.id,
            offset,
            data: a.data.to_vec(),
        }))?;
        Ok(Reply::Done)
    }

    /// The key of the current area DF that EXTERNAL AUTHENTICATION names with P2 (`6A88`
    /// when none).
    pub(crate) fn area_external_role(&self, fid: u16, p2: u8) -> Result<KeyRole, Abort> {
        if let Some(role) = self.account_external_role(fid, p2) {
            return Ok(role);
        }
        let area = self.image.area(DfId::Df(fid)).ok_or(sw::NOT_FOUND)?;
        area.keys
            .keys()
            .filter_map(|name| KeyRole::from_name(name))
            .find(|r| r.card_key_id() == Some(p2))
            .ok_or_else(|| sw::NOT_FOUND.into())
    }

    /// The key of `role` in the current DF: an area DF's own key, SSSE's otherwise.
    pub(crate) fn current_key(&self, role: KeyRole) -> Option<&CardKey> {
        match self.vol.df {
            Df::Area(fid) => self
                .image
                .area(DfId::Df(fid))?
                .key(role)
                .or_else(|| self.account_key(role).filter(|_| fid == 0xDF04)),
            _ => self.image.key(role),
        }
    }

    /// The change that sets `role`'s try counter in the current DF.
    pub(crate) fn key_tries(&self, role: KeyRole, tries: u8) -> Change {
        match self.vol.df {
            Df::Area(df) => match self
                .account_key(role)
                .and_then(|_| self.account_key_tries(role, tries))
            {
                Some(change) => change,
                None => Change::Area(AreaChange::KeyTries { df, role, tries }),
            },
            _ => Change::KeyTries { role, tries },
        }
    }

    /// The card OS appending a record to one of its cyclic files, the way the medical
    /// account commands record a transaction in DF04 EF08 (V2.0 notice table 7: "不允许改写"
    /// from outside). One persistent write, torn like any other; the oldest record goes when
    /// the file is full.
    pub fn card_os_append(&mut self, file: FileId, record: &[u8]) -> Result<(), SimError> {
        let spec = self
            .profile
            .file(file)
            .filter(|f| f.structure.is_cyclic())
            .ok_or_else(|| SimError::InvalidSpec(format!("{file} is no cyclic file")))?;
        if record.len() != spec.record_len() || self.image.area(file.df).is_none() {
            return Err(SimError::InvalidSpec(format!(
                "{file}: a record of {} bytes, the file's records have {}",
                record.len(),
                spec.record_len()
            )));
        }
        match self.persist(Change::Area(AreaChange::Append {
            file,
            record: record.to_vec(),
        })) {
            Ok(()) => Ok(()),
            Err(Abort::PowerLoss) => {
                self.reset();
                Err(SimError::InvalidSpec("power lost during the write".into()))
            }
            Err(Abort::Status(s)) => Err(SimError::InvalidSpec(format!(
                "{file}: the write failed ({s:04X})"
            ))),
        }
    }
}
