//! File control information (FCI) of a SELECT response: part 5 tables 36-38 (SSSE, DDF, ADF)
//! and the PSAM's application.

use crate::tlv;

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
        let df_name = tlv::find(data, &[0x84])?.map(<[u8]>::to_vec);
        let directory_sfi = match tlv::find(data, &[0x88])? {
            Some([sfi]) => Some(*sfi),
            Some(other) => return Err(format!("directory SFI (88) has {} bytes", other.len())),
            None => None,
        };
        let algorithm = match tlv::find(data, &[0x9F, 0x0C])? {
            None => None,
            Some(info) => match tlv::find(info, &[0x86])? {
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
