//! SELECT, READ RECORD and UPDATE RECORD (docs/card-os.md §1 and §3).

use zeroize::Zeroizing;

use sscard_core::apdu::{Command, StatusWord};
use sscard_core::codec;
use sscard_core::profile::{self, Access, Ef, ElementSpec};

use super::{Abort, Change, Df, Outcome, Reply, SimCard};
use crate::image::AppState;

/// FID of the MF.
const MF_FID: u16 = 0x3F00;

/// How P1/P2 address records.
enum Addressing {
    /// Mode `100`: record number P1.
    Number(u8),
    /// Mode `000`: first record whose tag is P1.
    Tag(u8),
    /// Mode `101`: every record from number P1 to the last.
    AllFrom(u8),
}

impl SimCard {
    /// SELECT by AID (`00A4 0400`) or by FID (`00A4 0000` / `00A4 0200`).
    pub(crate) fn select(&mut self, command: &Command) -> Outcome {
        match (command.p1, command.p2) {
            (0x04, 0x00) => {
                if command.data().is_empty() {
                    return Err(StatusWord::WrongLength.into());
                }
                if command.data() != profile::SSSE_AID.as_slice() {
                    return Err(StatusWord::FileNotFound.into());
                }
                self.vol.df = Df::Ssse;
                self.vol.ef = None;
                self.clear_security_state();
                // A T=0 card cannot tell a case 3 from a case 4 command (the Le is not sent):
                // it always offers the FCI, announced with 61xx.
                if command.le().is_some() || self.image.options.t0_mode {
                    Ok(Reply::Data(Zeroizing::new(self.fci())))
                } else {
                    Ok(Reply::Status(StatusWord::Ok))
                }
            }
            (0x00 | 0x02, 0x00) => {
                let fid = match command.data() {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    _ => return Err(StatusWord::WrongLength.into()),
                };
                if fid == MF_FID {
                    self.vol.df = Df::Mf;
                    self.vol.ef = None;
                    self.clear_security_state();
                    return Ok(Reply::Status(StatusWord::Ok));
                }
                let ef = Ef::from_fid(fid).ok_or(StatusWord::FileNotFound)?;
                if self.vol.df != Df::Ssse || !self.image.files.contains_key(&ef) {
                    return Err(StatusWord::FileNotFound.into());
                }
                self.vol.ef = Some(ef);
                Ok(Reply::Status(StatusWord::Ok))
            }
            _ => Err(StatusWord::IncorrectP1P2.into()),
        }
    }

    /// The EF addressed by the SFI in the top 5 bits of P2 (0 = the current EF).
    fn addressed_ef(&self, p2: u8) -> Result<Ef, Abort> {
        let sfi = p2 >> 3;
        if sfi == 0 {
            return self.vol.ef.ok_or_else(|| StatusWord::NoCurrentEf.into());
        }
        let ef = Ef::from_sfi(sfi).ok_or(StatusWord::FileNotFound)?;
        if self.vol.df != Df::Ssse || !self.image.files.contains_key(&ef) {
            return Err(StatusWord::FileNotFound.into());
        }
        Ok(ef)
    }

    /// 0-based index of the record `tag_or_number` addresses.
    fn record_index(&self, ef: Ef, addressing: &Addressing) -> Result<usize, Abort> {
        let records = self.image.records(ef);
        let found = match *addressing {
            Addressing::Number(n) | Addressing::AllFrom(n) => {
                usize::from(n).checked_sub(1).filter(|i| *i < records.len())
            }
            Addressing::Tag(tag) => records.iter().position(|r| r.0.first() == Some(&tag)),
        };
        found.ok_or_else(|| StatusWord::RecordNotFound.into())
    }

    fn element(&self, ef: Ef, tag: u8) -> Option<&'static ElementSpec> {
        profile::records(self.image.generation, ef)
            .iter()
            .find(|spec| spec.tag == tag)
    }

    fn satisfied(&self, access: Access) -> bool {
        match access {
            Access::Free => true,
            Access::Key(id) => self.vol.authenticated.contains(&id),
        }
    }

    fn may_read(&self, ef: Ef, tag: u8) -> bool {
        let access = match self.element(ef, tag) {
            Some(spec) => profile::read_access(self.image.generation, spec),
            // a record the profile does not know: protected like holder data
            None if self.image.generation.needs_read_key() => Access::Key(profile::KEY_READ),
            None => Access::Free,
        };
        self.satisfied(access)
    }

    fn may_write(&self, ef: Ef, tag: u8) -> bool {
        let access = match self.element(ef, tag) {
            Some(spec) => profile::write_access(spec),
            None if ef == Ef::Ef0d => Access::Key(profile::KEY_UPDATE_EF0D),
            None => Access::Key(profile::KEY_UPDATE),
        };
        self.satisfied(access)
    }

    /// READ RECORD `00B2 P1 P2 [Le]`.
    pub(crate) fn read_record(&mut self, command: &Command) -> Outcome {
        if !command.data().is_empty() {
            return Err(StatusWord::WrongLength.into());
        }
        let addressing = match command.p2 & 0x07 {
            0b100 => Addressing::Number(command.p1),
            0b000 => Addressing::Tag(command.p1),
            0b101 if self.image.options.all_records_mode => Addressing::AllFrom(command.p1),
            _ => return Err(StatusWord::IncorrectP1P2.into()),
        };
        let ef = self.addressed_ef(command.p2)?;
        let first = self.record_index(ef, &addressing)?;
        let last = match addressing {
            Addressing::AllFrom(_) => self.image.records(ef).len().saturating_sub(1),
            _ => first,
        };
        let records = self.image.records(ef).get(first..=last).unwrap_or_default();
        let mut out = Zeroizing::new(Vec::new());
        for record in records {
            let tag = record.0.first().copied().unwrap_or_default();
            if !self.may_read(ef, tag) {
                return Err(StatusWord::SecurityNotSatisfied.into());
            }
            out.extend_from_slice(&record.0);
        }
        self.vol.ef = Some(ef);
        Ok(Reply::Data(out))
    }

    /// UPDATE RECORD `00DC P1 P2 Lc <TLV>`: the TLV must carry the record's tag (`6A80`) and
    /// its exact value length (`6700`). Allowed on blank and personalizing cards only (`6985`
    /// otherwise: re-personalization starts with DEACTIVATE FILE); the first write on a blank
    /// card moves it to personalizing, persisted before the record itself.
    pub(crate) fn update_record(&mut self, command: &Command) -> Outcome {
        if command.data().is_empty() {
            return Err(StatusWord::WrongLength.into());
        }
        let addressing = match command.p2 & 0x07 {
            0b100 => Addressing::Number(command.p1),
            0b000 => Addressing::Tag(command.p1),
            _ => return Err(StatusWord::IncorrectP1P2.into()),
        };
        let ef = self.addressed_ef(command.p2)?;
        let index = self.record_index(ef, &addressing)?;
        let (tag, value_len) = match self.image.records(ef).get(index).map(|r| r.0.as_slice()) {
            Some([tag, _len, value @ ..]) => (*tag, value.len()),
            _ => return Err(StatusWord::RecordNotFound.into()),
        };
        if !self.may_write(ef, tag) {
            return Err(StatusWord::SecurityNotSatisfied.into());
        }
        if !matches!(
            self.image.app_state,
            AppState::Blank | AppState::Personalizing
        ) {
            return Err(StatusWord::ConditionsNotSatisfied.into());
        }
        let parsed = codec::parse_records(command.data()).map_err(|_| StatusWord::WrongData)?;
        let (new_tag, new_value) = match parsed.as_slice() {
            [(new_tag, new_value)] => (*new_tag, *new_value),
            _ => return Err(StatusWord::WrongLength.into()),
        };
        if new_tag != tag {
            return Err(StatusWord::WrongData.into());
        }
        if new_value.len() != value_len {
            return Err(StatusWord::WrongLength.into());
        }
        // a canonical short-length TLV (the image keeps one-byte lengths)
        let mut tlv = vec![tag, value_len as u8];
        tlv.extend_from_slice(new_value);
        if self.image.app_state == AppState::Blank {
            self.persist(Change::AppState(AppState::Personalizing))?;
        }
        self.persist(Change::Record { ef, index, tlv })?;
        self.vol.ef = Some(ef);
        Ok(Reply::Status(StatusWord::Ok))
    }
}
