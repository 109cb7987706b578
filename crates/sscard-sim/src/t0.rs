//! T=0 response handling shared by the card and the PSAM: `61xx` and GET RESPONSE.

use zeroize::Zeroizing;

use sscard_core::apdu::{Command, StatusWord};

/// The `xx` of `61xx` / `6Cxx` for `len` bytes (`00` for 256 or more).
pub(crate) fn length_byte(len: usize) -> u8 {
    u8::try_from(len).unwrap_or(0)
}

/// Keeps `data` for GET RESPONSE and answers `61xx`.
pub(crate) fn announce(
    pending: &mut Option<Zeroizing<Vec<u8>>>,
    data: Zeroizing<Vec<u8>>,
) -> Vec<u8> {
    let sw = StatusWord::MoreData(length_byte(data.len()));
    *pending = Some(data);
    sw.to_bytes().to_vec()
}

/// GET RESPONSE `00C0 0000 Le` over the pending data. Le must be the pending length (`00`
/// = 256 takes 256 bytes of a longer answer, the rest announced with `61xx`); any other Le
/// answers `6Cxx` and keeps the data. No pending data: `6985`.
pub(crate) fn get_response(
    pending: &mut Option<Zeroizing<Vec<u8>>>,
    command: &Command,
) -> Result<Vec<u8>, StatusWord> {
    if command.p1 != 0 || command.p2 != 0 {
        return Err(StatusWord::IncorrectP1P2);
    }
    if !command.data().is_empty() {
        return Err(StatusWord::WrongLength);
    }
    let data = pending.take().ok_or(StatusWord::ConditionsNotSatisfied)?;
    let available = data.len();
    let le = match command.le() {
        Some(le) => le,
        None => {
            *pending = Some(data);
            return Err(StatusWord::WrongLength);
        }
    };
    let fits = le == available || (le == 256 && available > 256);
    if !fits {
        *pending = Some(data);
        return Err(StatusWord::WrongLe(length_byte(available)));
    }
    let (now, rest) = data.split_at(le.min(available));
    let mut out = now.to_vec();
    if rest.is_empty() {
        out.extend_from_slice(&StatusWord::Ok.to_bytes());
    } else {
        out.extend_from_slice(&StatusWord::MoreData(length_byte(rest.len())).to_bytes());
        *pending = Some(Zeroizing::new(rest.to_vec()));
    }
    Ok(out)
}
