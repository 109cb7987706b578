//! SELECT, READ RECORD, UPDATE RECORD, READ BINARY, UPDATE BINARY (part 5 §6.9-§6.13) and
//! GET PROCESSING OPTIONS of the financial application.

use zeroize::Zeroizing;

use sscard_core::profile::fci::Fci;
use sscard_core::profile::{self, Access, Ef, SSSE_AID};
use sscard_core::tlv;

use super::{Abort, Change, Df, File, Outcome, Reply, SimCard};
use crate::apdu::{binary_address, binary_window, sw, Apdu};
use crate::financial::{FinancialApp, PSE_NAME, RECORD_SFI};

/// FID of the MF.
const MF_FID: [u8; 2] = [0x3F, 0x00];

/// Which record P1 names, by number or by record identifier (part 5 table 32, part 3 §5.3).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Address {
    /// Mode `100`: record number P1 (`00`: the current record).
    Number(u8),
    /// Modes `000`-`011`: an occurrence of the record identifier P1.
    Identifier(u8, Occurrence),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Occurrence {
    First,
    Last,
    Next,
    Previous,
}

impl Address {
    /// Decodes P1 and the mode bits b3-b1 of P2. READ RECORD's modes `101` and `110` (several
    /// records at once) are `6A81`: the card returns one record whole (\[design\] D16); the
    /// other values are `6A86`.
    pub(crate) fn decode(p1: u8, p2: u8) -> Result<Address, u16> {
        Ok(match p2 & 0x07 {
            0b100 => Address::Number(p1),
            0b000 => Address::Identifier(p1, Occurrence::First),
            0b001 => Address::Identifier(p1, Occurrence::Last),
            0b010 => Address::Identifier(p1, Occurrence::Next),
            0b011 => Address::Identifier(p1, Occurrence::Previous),
            0b101 | 0b110 => return Err(sw::NOT_SUPPORTED),
            _ => return Err(sw::P1P2),
        })
    }
}

/// Finds the record `address` names among `records` (whole records, the identifier is the
/// first byte, part 3 §5.3.1), with `pointer` the current record.
pub(crate) fn find(records: &[Vec<u8>], address: Address, pointer: Option<usize>) -> Option<usize> {
    match address {
        Address::Number(0) => pointer.filter(|p| *p < records.len()),
        Address::Number(n) => Some(usize::from(n) - 1).filter(|i| *i < records.len()),
        Address::Identifier(id, occurrence) => {
            // identifier 00 stands for any record (part 3 §5.3.1, last rule)
            let mut matching = records
                .iter()
                .enumerate()
                .filter(|(_, r)| id == 0 || r.first() == Some(&id))
                .map(|(i, _)| i);
            match (occurrence, pointer) {
                (Occurrence::First, _) | (Occurrence::Next, None) => matching.next(),
                (Occurrence::Last, _) | (Occurrence::Previous, None) => matching.next_back(),
                (Occurrence::Next, Some(p)) => matching.find(|i| *i > p),
                (Occurrence::Previous, Some(p)) => matching.rfind(|i| *i < p),
            }
        }
    }
}

/// The SFI READ/UPDATE BINARY names in P1 (`100xxxxx`), 0 for the current EF.
fn binary_sfi(p1: u8) -> u8 {
    match binary_address(p1, 0) {
        Ok((Some(sfi), _)) => sfi,
        _ => 0,
    }
}

impl SimCard {
    /// Makes `df` current. Another DF drops the security state and the challenge (\[design\]
    /// D10, part 5 §6.11.1); the same DF keeps them. Either way no EF is current.
    pub(crate) fn enter(&mut self, df: Df) {
        if self.vol.df != df {
            self.vol.authenticated.clear();
            self.vol.challenge = None;
        }
        self.vol.df = df;
        self.vol.ef = None;
        self.vol.record = None;
    }

    fn financial(&self) -> Option<&FinancialApp> {
        self.image.financial.as_ref()
    }

    /// The SSSE FCI of part 5 table 36: `6F { 84 <DF name>, A5 { 9F0C 03 86 01 <algorithm> } }`
    /// (no `88`: the simulated SSSE has no directory file, part 3 §5.1.4).
    pub(crate) fn ssse_fci(&self) -> Vec<u8> {
        Fci {
            df_name: Some(SSSE_AID.to_vec()),
            directory_sfi: None,
            algorithm: Some(self.image.algorithm.to_byte()),
        }
        .to_bytes()
    }

    /// SELECT (part 5 §6.11): P1 `00` the MF (`3F00` or no data), P1 `02` an EF of the current
    /// DF by FID, P1 `04` a DF by name; P2 `00` (first) or `02` (next occurrence: there never
    /// is one, `6A82`). DFs answer their FCI, EFs none; the MF, which has no DF name, answers
    /// none either. SSSE, once blocked, answers `9303` to its SELECT and to the SELECT of its
    /// EFs (part 5 §6.1.1, part 7 §13.2), but the MF and the other applications stay
    /// selectable.
    pub(crate) fn select(&mut self, a: &Apdu<'_>) -> Outcome {
        if !matches!(a.p2, 0x00 | 0x02) {
            return Err(sw::P1P2.into());
        }
        let next = a.p2 == 0x02;
        match a.p1 {
            0x00 => {
                let mf = match a.data {
                    [] => true,
                    [hi, lo] => [*hi, *lo] == MF_FID,
                    _ => return Err(sw::WRONG_LENGTH.into()),
                };
                if let ([hi, lo], false, false) = (a.data, mf, next) {
                    if let Some(outcome) = self.select_area_by_fid(u16::from_be_bytes([*hi, *lo])) {
                        return outcome;
                    }
                }
                if !mf || next {
                    return Err(sw::FILE_NOT_FOUND.into());
                }
                self.enter(Df::Mf);
                Ok(Reply::Done)
            }
            0x02 => {
                if self.vol.df == Df::Ssse && self.image.ssse_blocked {
                    return Err(sw::APP_BLOCKED.into());
                }
                let fid = match a.data {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => return Err(sw::WRONG_LENGTH.into()),
                };
                if !next {
                    if let Some(outcome) = self.select_area_ef(fid) {
                        return outcome;
                    }
                }
                let ef = Ef::from_fid(fid)
                    .filter(|ef| self.vol.df == Df::Ssse && !next && self.has_ef(*ef))
                    .ok_or(sw::FILE_NOT_FOUND)?;
                self.vol.ef = Some(File::Ssse(ef));
                self.vol.record = None;
                Ok(Reply::Done)
            }
            0x04 => {
                if !(5..=16).contains(&a.data.len()) {
                    return Err(sw::WRONG_LENGTH.into());
                }
                if next {
                    return Err(sw::FILE_NOT_FOUND.into());
                }
                if a.data == SSSE_AID.as_slice() {
                    self.enter(Df::Ssse);
                    if self.image.ssse_blocked {
                        return Err(sw::APP_BLOCKED.into());
                    }
                    return Ok(Reply::Outgoing(Zeroizing::new(self.ssse_fci())));
                }
                if let Some(outcome) = self.select_area_by_name(a.data) {
                    return outcome;
                }
                let app = self.financial().cloned().ok_or(sw::FILE_NOT_FOUND)?;
                if a.data == PSE_NAME.as_slice() {
                    self.enter(Df::Pse);
                    Ok(Reply::Outgoing(Zeroizing::new(app.pse_fci())))
                } else if a.data == app.aid.0.as_slice() {
                    self.enter(Df::Adf);
                    Ok(Reply::Outgoing(Zeroizing::new(app.adf_fci())))
                } else {
                    Err(sw::FILE_NOT_FOUND.into())
                }
            }
            _ => Err(sw::P1P2.into()),
        }
    }

    /// Whether SSSE has `ef` on this card (EF07 and EF08 from 2.0 on).
    fn has_ef(&self, ef: Ef) -> bool {
        match ef {
            Ef::Ef05 | Ef::Ef06 => true,
            Ef::Ef07 => self.image.ef07.is_some(),
            Ef::Ef08 => self.image.ef08.is_some(),
        }
    }

    /// The file a short file identifier names in the current DF (`6A82` when none).
    fn file_by_sfi(&self, sfi: u8) -> Result<File, u16> {
        let file = match self.vol.df {
            Df::Ssse => Ef::from_sfi(sfi)
                .filter(|ef| self.has_ef(*ef))
                .map(File::Ssse),
            Df::Pse if sfi == RECORD_SFI => Some(File::PseDir),
            Df::Adf if sfi == RECORD_SFI => Some(File::AdfRecords),
            Df::Mf | Df::Pse | Df::Adf | Df::Area(_) => None,
        };
        file.ok_or(sw::FILE_NOT_FOUND)
    }

    /// The EF a command addresses: by SFI (which makes it the current EF; a different EF loses
    /// the record pointer), or the current EF (`6986` when there is none).
    fn addressed_file(&mut self, sfi: u8) -> Result<File, u16> {
        if sfi == 0 {
            return self.vol.ef.ok_or(sw::NO_CURRENT_EF);
        }
        let file = self.file_by_sfi(sfi)?;
        if self.vol.ef != Some(file) {
            self.vol.ef = Some(file);
            self.vol.record = None;
        }
        Ok(file)
    }

    fn satisfied(&self, access: Access) -> bool {
        match access {
            Access::Free => true,
            Access::Key(role) => self.vol.authenticated.contains(&role),
        }
    }

    /// The records of a record file (`6981` for a transparent file).
    fn file_records(&self, file: File) -> Result<Vec<Vec<u8>>, u16> {
        match file {
            File::Ssse(ef) if ef.is_transparent() => Err(sw::INCOMPATIBLE_FILE),
            File::Ssse(ef) => Ok(self.image.records(ef).iter().map(|r| r.0.clone()).collect()),
            File::PseDir => Ok(self
                .financial()
                .map(FinancialApp::pse_records)
                .unwrap_or_default()),
            File::AdfRecords => Ok(self
                .financial()
                .map(FinancialApp::adf_records)
                .unwrap_or_default()),
            File::Area(..) => Err(sw::INCOMPATIBLE_FILE),
        }
    }

    /// READ RECORD (part 5 §6.10): one record whole. The checks: P2 mode, the file (`6A82`,
    /// `6986`, `6981`), the read rule of \[design\] D11 (`6982`), the record (`6A83`), then Le:
    /// anything but the record's length, `00` included, answers `6Cxx` with that length (part 5
    /// §6.10.4, \[design\] D16). Reading by identifier moves the record pointer (part 3 §5.3).
    pub(crate) fn read_record(&mut self, a: &Apdu<'_>) -> Outcome {
        if self.in_area(a.p2 >> 3) {
            return self.area_read_record(a);
        }
        a.no_data()?;
        let address = Address::decode(a.p1, a.p2)?;
        let file = self.addressed_file(a.p2 >> 3)?;
        let records = self.file_records(file)?;
        if let File::Ssse(ef) = file {
            if !self.satisfied(ef.read_access(self.image.generation)) {
                return Err(sw::SECURITY.into());
            }
        }
        let index = find(&records, address, self.vol.record).ok_or(sw::RECORD_NOT_FOUND)?;
        if let Address::Identifier(..) = address {
            self.vol.record = Some(index);
        }
        let record = records.into_iter().nth(index).unwrap_or_default();
        // without Le the T=0 header still has P3 = 00
        let le = a.le.unwrap_or(256);
        // the financial application follows JR/T 0025 (ISO 7816-4): on T=1, Le 00 asks for
        // the whole record (on T=0 P3 = 00 is a wrong length, 6Cxx); SSSE follows part 5
        // §6.10.4 (Le 00 answers 6Cxx on either protocol)
        let financial = matches!(file, File::PseDir | File::AdfRecords) && !self.image.t0;
        if le != record.len() && !(financial && le == 256 && record.len() <= 256) {
            return Err(sw::wrong_le(record.len()).into());
        }
        Ok(Reply::Exact(Zeroizing::new(record)))
    }

    /// UPDATE RECORD (part 5 §6.13) of EF05 or EF06, with UKSSSE authenticated (\[design\] D11).
    /// The data is one SIMPLE-TLV (`6A85` otherwise) of a data item of the file (`6A80`); by
    /// identifier, its tag must be P1 (`6A80`) and an absent record is added (§6.13.1); by
    /// number, the record's tag may not change (`6A80`) and number *count + 1* adds a record; a
    /// value longer than the item is `6A84` (\[design\] D13). One transaction.
    pub(crate) fn update_record(&mut self, a: &Apdu<'_>) -> Outcome {
        if self.in_area(a.p2 >> 3) {
            return self.area_update_record(a);
        }
        if a.data.is_empty() {
            return Err(sw::WRONG_LENGTH.into());
        }
        let address = match Address::decode(a.p1, a.p2) {
            Ok(address) => address,
            Err(_) => return Err(sw::P1P2.into()),
        };
        let file = self.addressed_file(a.p2 >> 3)?;
        let records = self.file_records(file)?;
        let ef = match file {
            File::Ssse(ef) => ef,
            File::PseDir | File::AdfRecords | File::Area(..) => return Err(sw::SECURITY.into()),
        };
        if !self.satisfied(ef.write_access()) {
            return Err(sw::SECURITY.into());
        }
        let (tag, value) = match tlv::parse_simple(a.data).as_deref() {
            Ok([(tag, value)]) => (*tag, value.to_vec()),
            _ => return Err(sw::LC_TLV.into()),
        };
        if let Address::Identifier(id, _) = address {
            if id != tag {
                return Err(sw::WRONG_DATA.into());
            }
        }
        let item = profile::records(self.image.generation, ef)
            .iter()
            .find(|item| item.tag == tag)
            .ok_or(sw::WRONG_DATA)?;
        if value.len() > item.len {
            return Err(sw::NO_SPACE.into());
        }
        let target = match address {
            Address::Number(n) if usize::from(n) == records.len() + 1 => None,
            Address::Number(_) => {
                Some(find(&records, address, self.vol.record).ok_or(sw::RECORD_NOT_FOUND)?)
            }
            Address::Identifier(..) => find(&records, address, self.vol.record),
        };
        let existing = records.iter().position(|r| r.first() == Some(&tag));
        match target {
            Some(i) if existing != Some(i) => return Err(sw::WRONG_DATA.into()),
            None if existing.is_some() => return Err(sw::WRONG_DATA.into()),
            _ => {}
        }
        self.persist(Change::Record {
            ef,
            index: target,
            tlv: tlv::simple(tag, &value),
        })?;
        self.vol.record = Some(target.unwrap_or(records.len()));
        Ok(Reply::Done)
    }

    /// The transparent file and offset of READ/UPDATE BINARY (part 5 tables 29 and 41): P1
    /// `100xxxxx` names the file by SFI with P2 the offset, P1 `0xxxxxxx` takes the current EF
    /// with P1 ‖ P2 the offset.
    fn binary_target(&mut self, p1: u8, p2: u8) -> Result<(Ef, usize), u16> {
        let (file, offset) = match binary_address(p1, p2)? {
            (Some(0), _) => return Err(sw::P1P2),
            (Some(sfi), offset) => (self.addressed_file(sfi)?, offset),
            (None, offset) => (self.vol.ef.ok_or(sw::NO_CURRENT_EF)?, offset),
        };
        match file {
            File::Ssse(ef) if ef.is_transparent() => Ok((ef, offset)),
            _ => Err(sw::INCOMPATIBLE_FILE),
        }
    }

    /// READ BINARY (part 5 §6.9) of EF07 or EF08 with RKSSSE authenticated (\[design\] D11). An
    /// offset at or past the end is `6B00`; Le `00` (or none) reads up to 256 bytes (§6.9.4);
    /// an Le past the end answers `6Cxx` with what is left (table 30).
    pub(crate) fn read_binary(&mut self, a: &Apdu<'_>) -> Outcome {
        if self.in_area(binary_sfi(a.p1)) {
            return self.area_read_binary(a);
        }
        a.no_data()?;
        let (ef, offset) = self.binary_target(a.p1, a.p2)?;
        if !self.satisfied(ef.read_access(self.image.generation)) {
            return Err(sw::SECURITY.into());
        }
        let content = self.image.binary(ef).unwrap_or_default();
        let window = binary_window(&content, offset, a.le)?;
        Ok(Reply::Exact(Zeroizing::new(window.to_vec())))
    }

    /// UPDATE BINARY (part 5 §6.12) of EF07 or EF08 with UKSSSE authenticated. An offset at
    /// or past the end is `6B00`, data running past the end `6700`. One transaction.
    pub(crate) fn update_binary(&mut self, a: &Apdu<'_>) -> Outcome {
        if self.in_area(binary_sfi(a.p1)) {
            return self.area_update_binary(a);
        }
        if a.data.is_empty() {
            return Err(sw::WRONG_LENGTH.into());
        }
        let (ef, offset) = self.binary_target(a.p1, a.p2)?;
        if !self.satisfied(ef.write_access()) {
            return Err(sw::SECURITY.into());
        }
        if offset >= ef.size() {
            return Err(sw::OFFSET.into());
        }
        if offset + a.data.len() > ef.size() {
            return Err(sw::WRONG_LENGTH.into());
        }
        self.persist(Change::Binary {
            ef,
            offset,
            data: a.data.to_vec(),
        })?;
        Ok(Reply::Done)
    }

    /// GET PROCESSING OPTIONS `80A8 0000 02 8300 00` of the financial application (JR/T 0025):
    /// `6985` outside it, data other than the empty PDOL data `8300` is `6700` / `6A80`.
    pub(crate) fn get_processing_options(&mut self, a: &Apdu<'_>) -> Outcome {
        a.p1p2(0, 0)?;
        let app = match (self.vol.df, self.financial()) {
            (Df::Adf, Some(app)) => app.clone(),
            _ => return Err(sw::CONDITIONS.into()),
        };
        match a.data {
            [0x83, 0x00] => Ok(Reply::Outgoing(Zeroizing::new(app.gpo_response()))),
            [_, _] => Err(Abort::Status(sw::WRONG_DATA)),
            _ => Err(sw::WRONG_LENGTH.into()),
        }
    }
}
