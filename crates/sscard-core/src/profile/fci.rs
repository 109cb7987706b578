//! File control information (FCI) of a SELECT response: part 5 tables 36-38 (SSSE, DDF, ADF)
//! and the PSAM's application. The terminal parses it ([`Fci::parse`]); the simulated card and
//! PSAM answer with [`Fci::to_bytes`].

use crate::tlv;

/// FCI template.
const FCI_TEMPLATE: u8 = 0x6F;
/// DF name.
const DF_NAME: u8 = 0x84;
/// FCI proprietary template.
const PROPRIETARY: u8 = 0xA5;
/// SFI of the directory elementary file.
const DIRECTORY_SFI: u8 = 0x88;
/// The algorithm information (reader interface §10.1; part 7 §5.3).
const ALGORITHM_INFO: [u8; 2] = [0x9F, 0x0C];
/// The algorithm byte inside [`ALGORITHM_INFO`].
const ALGORITHM: u8 = 0x86;

/// What an FCI says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fci {
    /// `84`: the DF name.
    pub df_name: Option<Vec<u8>>,
    /// `88` inside `A5`: the SFI of the directory EF.
    pub directory_sfi: Option<u8>,
    /// `86` inside `9F0C`: the algorithm byte (part 7 §5.3; reader interface §10.1): `01` DES,
    /// `02` SSF33, `03` SM4.
    pub algorithm: Option<u8>,
}

impl Fci {
    /// Parses an FCI (an empty answer, as a case-3 SELECT of an EF gives, is an empty FCI).
    pub fn parse(data: &[u8]) -> Result<Fci, String> {
        let find = |data, tag: &[u8]| tlv::find_ber(data, tag).map_err(|e| e.to_string());
        let df_name = find(data, &[DF_NAME])?.map(<[u8]>::to_vec);
        let directory_sfi = match find(data, &[DIRECTORY_SFI])? {
            Some([sfi]) => Some(*sfi),
            Some(other) => return Err(format!("directory SFI (88) has {} bytes", other.len())),
            None => None,
        };
        let algorithm = match find(data, &ALGORITHM_INFO)? {
            None => None,
            Some(info) => match find(info, &[ALGORITHM])? {
                Some([byte]) => Some(*byte),
                Some(other) => {
                    return Err(format!(
                        "algorithm (86) has {} bytes instead of 1",
                        other.len()
                    ))
                }
                None => return Err("9F0C without an algorithm (86)".into()),
            },
        };
        Ok(Fci {
            df_name,
            directory_sfi,
            algorithm,
        })
    }

    /// The FCI as a card answers it: `6F { 84 <DF name>, A5 { 88 <SFI>, 9F0C { 86 <algorithm> } } }`,
    /// each part only when present (no `A5` when it would be empty).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut proprietary = Vec::new();
        if let Some(sfi) = self.directory_sfi {
            proprietary.extend(tlv::ber(&[DIRECTORY_SFI], &[sfi]));
        }
        if let Some(algorithm) = self.algorithm {
            proprietary.extend(tlv::ber(
                &ALGORITHM_INFO,
                &tlv::ber(&[ALGORITHM], &[algorithm]),
            ));
        }
        let mut body = Vec::new();
        if let Some(name) = &self.df_name {
            body.extend(tlv::ber(&[DF_NAME], name));
        }
        if !proprietary.is_empty() {
            body.extend(tlv::ber(&[PROPRIETARY], &proprietary));
        }
        tlv::ber(&[FCI_TEMPLATE], &body)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// The SSSE FCI of the field trace.
    #[test]
    fn field_trace_fci() {
        let fci =
            hex::decode("6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C03860103").unwrap();
        let f = Fci::parse(&fci).unwrap();
        assert_eq!(f.df_name.as_deref(), Some(&crate::profile::SSSE_AID[..]));
        assert_eq!(f.directory_sfi, Some(0x1E));
        assert_eq!(f.algorithm, Some(0x03));
        assert_eq!(f.to_bytes(), fci, "the card's FCI, byte for byte");
    }

    #[test]
    fn variants() {
        let fci = hex::decode("6F108406D15600000590A5069F0C03860103").unwrap();
        assert_eq!(Fci::parse(&fci).unwrap().algorithm, Some(0x03));
        let fci = hex::decode("6F0A8406D15600000590A500").unwrap();
        assert_eq!(Fci::parse(&fci).unwrap().algorithm, None);
        assert_eq!(Fci::parse(&[]).unwrap(), Fci::default());
        assert!(Fci::parse(&hex::decode("9F0C028600").unwrap()).is_err());
        // A5 announces 4 bytes but carries 6: truncated
        let fci = hex::decode("6F0E8406D15600000590A5049F0C03860103").unwrap();
        assert!(Fci::parse(&fci).is_err());
    }
}
