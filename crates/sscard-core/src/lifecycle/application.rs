//! The SSSE application as its SELECT response (FCI) shows it: algorithm, application state,
//! block state and generation (docs/card-os.md §2).

use crate::error::{Error, Result};
use crate::profile::Generation;
use crate::Algorithm;

/// Application state of SSSE as the card shows it in FCI tag `DF01` (docs/card-os.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppState {
    /// Initialized by the manufacturer, no holder data (空白卡).
    Blank,
    /// Personalization started and did not finish (个人化中).
    Personalizing,
    /// Personalized; the PIN is still the initial PIN (已个人化).
    Personalized,
    /// The holder replaced the initial PIN (已启用).
    Activated,
}

impl AppState {
    /// Decodes the `DF01` byte.
    pub fn from_byte(b: u8) -> Option<AppState> {
        match b {
            0x01 => Some(AppState::Blank),
            0x02 => Some(AppState::Personalizing),
            0x03 => Some(AppState::Personalized),
            0x04 => Some(AppState::Activated),
            _ => None,
        }
    }

    /// The `DF01` byte.
    pub fn to_byte(self) -> u8 {
        match self {
            AppState::Blank => 0x01,
            AppState::Personalizing => 0x02,
            AppState::Personalized => 0x03,
            AppState::Activated => 0x04,
        }
    }
}

/// Block state of SSSE as the card shows it in FCI tag `DF02`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockState {
    /// Not blocked.
    None,
    /// Temporarily blocked (`6A81` on use); APPLICATION UNBLOCK lifts it.
    Temporary,
    /// Permanently blocked (`9303` on use).
    Permanent,
}

impl BlockState {
    /// Decodes the `DF02` byte.
    pub fn from_byte(b: u8) -> Option<BlockState> {
        match b {
            0x00 => Some(BlockState::None),
            0x01 => Some(BlockState::Temporary),
            0x02 => Some(BlockState::Permanent),
            _ => None,
        }
    }

    /// The `DF02` byte.
    pub fn to_byte(self) -> u8 {
        match self {
            BlockState::None => 0x00,
            BlockState::Temporary => 0x01,
            BlockState::Permanent => 0x02,
        }
    }
}

/// What the SSSE SELECT response (FCI) tells about the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Application {
    /// The symmetric algorithm (`9F0C 03 86 01 xx`; 3DES when absent).
    pub algorithm: Algorithm,
    /// Application state (`DF01`), when the card shows it.
    pub state: Option<AppState>,
    /// Block state (`DF02`), when the card shows it.
    pub block: Option<BlockState>,
    /// The chip's profile (`DF03`), when the card shows it.
    pub generation: Option<Generation>,
}

impl Application {
    /// Parses an FCI. Unknown tags are ignored; a malformed FCI is an error.
    pub fn from_fci(fci: &[u8]) -> Result<Application> {
        let mut app = Application {
            algorithm: Algorithm::Tdes,
            state: None,
            block: None,
            generation: None,
        };
        if fci.is_empty() {
            return Ok(app);
        }
        let mut found = Vec::new();
        collect_primitives(fci, 0, &mut found).map_err(|reason| Error::MalformedResponse {
            command: "SELECT SSSE",
            reason,
        })?;
        // `9F0C` is primitive by its tag bits yet carries `86 01 xx` inside: look in it too
        let mut inner = Vec::new();
        for (tag, value) in &found {
            if *tag == 0x9F0C {
                collect_primitives(value, 1, &mut inner).map_err(|reason| {
                    Error::MalformedResponse {
                        command: "SELECT SSSE",
                        reason,
                    }
                })?;
            }
        }
        found.extend(inner);
        for (tag, value) in found {
            match (tag, value.as_slice()) {
                (0x86, [b]) => app.algorithm = Algorithm::from_byte(*b)?,
                (0xDF01, [b]) => app.state = AppState::from_byte(*b),
                (0xDF02, [b]) => app.block = BlockState::from_byte(*b),
                (0xDF03, [b]) => {
                    app.generation = match b {
                        1 => Some(Generation::V1),
                        2 => Some(Generation::V2),
                        3 => Some(Generation::V3),
                        _ => None,
                    }
                }
                _ => {}
            }
        }
        Ok(app)
    }
}

/// Walks BER-TLV data and collects every primitive (tag, value), descending into constructed
/// objects. Depth-limited; never panics.
fn collect_primitives(
    mut data: &[u8],
    depth: usize,
    out: &mut Vec<(u32, Vec<u8>)>,
) -> std::result::Result<(), String> {
    if depth > 8 {
        return Err("FCI nested too deeply".into());
    }
    while let Some((&first, rest)) = data.split_first() {
        if first == 0x00 || first == 0xFF {
            // padding between objects
            data = rest;
            continue;
        }
        let constructed = first & 0x20 != 0;
        let mut tag = u32::from(first);
        let mut rest = rest;
        if first & 0x1F == 0x1F {
            loop {
                let (&b, r) = rest.split_first().ok_or("truncated tag")?;
                rest = r;
                tag = (tag << 8) | u32::from(b);
                if b & 0x80 == 0 {
                    break;
                }
                if tag > 0x00FF_FFFF {
                    return Err("tag too long".into());
                }
            }
        }
        let (&l0, r) = rest.split_first().ok_or("truncated length")?;
        rest = r;
        let len = match l0 {
            0..=0x7F => usize::from(l0),
            0x81 => {
                let (&l, r) = rest.split_first().ok_or("truncated length")?;
                rest = r;
                usize::from(l)
            }
            0x82 => {
                let (l, r) = rest.split_at_checked(2).ok_or("truncated length")?;
                rest = r;
                usize::from(u16::from_be_bytes([l[0], l[1]]))
            }
            _ => return Err(format!("unsupported length byte {l0:02X}")),
        };
        let (value, r) = rest
            .split_at_checked(len)
            .ok_or_else(|| format!("object {tag:X} longer than the data"))?;
        if constructed {
            collect_primitives(value, depth + 1, out)?;
        } else {
            out.push((tag, value.to_vec()));
        }
        data = r;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fci_with_every_sscard_tag() {
        let fci = hex::decode(
            "6F25840F7378312E73682EC9E7BBE1B1A3D5CFA5129F0C03860103DF010103DF020100DF030102",
        )
        .unwrap();
        let app = Application::from_fci(&fci).unwrap();
        assert_eq!(app.algorithm, Algorithm::Sm4);
        assert_eq!(app.state, Some(AppState::Personalized));
        assert_eq!(app.block, Some(BlockState::None));
        assert_eq!(app.generation, Some(Generation::V2));
    }

    #[test]
    fn fci_without_algorithm_means_3des_and_unknown_states() {
        let fci = hex::decode("6F11840F7378312E73682EC9E7BBE1B1A3D5CF").unwrap();
        let app = Application::from_fci(&fci).unwrap();
        assert_eq!(app.algorithm, Algorithm::Tdes);
        assert_eq!(app.state, None);
        assert_eq!(app.generation, None);
    }

    #[test]
    fn malformed_fci_is_an_error_not_a_panic() {
        for bad in ["6F", "6F05", "6F0584", "9F", "9F0C0586", "DF"] {
            let bytes = hex::decode(bad).unwrap();
            assert!(Application::from_fci(&bytes).is_err(), "{bad}");
        }
        assert!(matches!(
            Application::from_fci(&hex::decode("9F0C03860102").unwrap()),
            Err(Error::UnsupportedAlgorithm(_))
        ));
    }
}
