//! The transparent files of SSSE: the fingerprint EF07 and the photo EF08 (V2.0 notice §5.2),
//! read with RKSSSE.

use crate::apdu::commands;
use crate::error::{Error, Result};
use crate::keyholder::KeyHolder;
use crate::keys::KeyRole;
use crate::profile::{Access, Ef};
use crate::transport::Transport;

use super::card::Card;

/// Reads the whole transparent file `ef` (EF07 or EF08): EXTERNAL AUTHENTICATION with RKSSSE,
/// SELECT of the EF, then READ BINARY with Le `00` (256 bytes, part 5 §6.9.4) until the end.
pub fn read_binary_file<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    ef: Ef,
) -> Result<Vec<u8>> {
    if !ef.is_transparent() {
        return Err(Error::MalformedResponse {
            command: "READ BINARY",
            reason: format!("{ef} is a record file"),
        });
    }
    card.operation(|card| {
        card.application()?;
        let generation = card.generation()?.unwrap_or(crate::profile::Generation::V2);
        if let Access::Key(role) = ef.read_access(generation) {
            if role == KeyRole::Rkssse {
                card.ensure_authenticated(&mut *key_holder, role)?;
            }
        }
        card.select_ef(ef)?;
        let mut out = Vec::with_capacity(ef.size());
        while out.len() < ef.size() {
            let offset = u16::try_from(out.len()).unwrap_or(u16::MAX);
            let (p1, p2) =
                commands::binary_p1_p2(None, offset).ok_or(Error::MalformedResponse {
                    command: "READ BINARY",
                    reason: format!("offset {offset} out of range"),
                })?;
            let want = (ef.size() - out.len()).min(256);
            let data = card.exchange("READ BINARY", &commands::read_binary(p1, p2, want))?;
            if data.is_empty() {
                break;
            }
            if data.len() > want {
                return Err(Error::MalformedResponse {
                    command: "READ BINARY",
                    reason: format!("{} bytes asked for, {} answered", want, data.len()),
                });
            }
            out.extend_from_slice(&data);
        }
        Ok(out)
    })
}
