//! The card's symmetric algorithm (对称算法标识), announced in the SSSE FCI as `9F0C 03 86 01 xx`.

use thiserror::Error;

/// A symmetric algorithm a social security card can use.
///
/// The algorithm byte comes from the SSSE SELECT response (`86 01 xx` inside `9F0C`);
/// when it is absent the card uses 3DES.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum Algorithm {
    /// Two-key triple DES (EDE), 16-byte keys, 8-byte blocks. Byte `01`.
    #[serde(rename = "3des")]
    Tdes,
    /// SM4 (GB/T 32907), 16-byte keys and blocks. Byte `03`.
    Sm4,
    /// AES-128 (FIPS 197), 16-byte keys and blocks. Byte `04` (an sscard extension).
    #[serde(rename = "aes")]
    Aes128,
}

/// The card announced an algorithm sscard cannot compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UnsupportedAlgorithm {
    /// SSF33 (byte `02`): a national algorithm whose specification is not public.
    #[error("the card uses SSF33 (algorithm byte 02), which sscard does not implement")]
    Ssf33,
    /// A byte no specification defines.
    #[error("unknown card algorithm byte {0:02X}")]
    Unknown(u8),
}

impl Algorithm {
    /// All algorithms sscard implements, in byte order.
    pub const ALL: [Algorithm; 3] = [Algorithm::Tdes, Algorithm::Sm4, Algorithm::Aes128];

    /// Decodes the algorithm byte of the FCI.
    pub fn from_byte(byte: u8) -> Result<Algorithm, UnsupportedAlgorithm> {
        match byte {
            0x01 => Ok(Algorithm::Tdes),
            0x02 => Err(UnsupportedAlgorithm::Ssf33),
            0x03 => Ok(Algorithm::Sm4),
            0x04 => Ok(Algorithm::Aes128),
            other => Err(UnsupportedAlgorithm::Unknown(other)),
        }
    }

    /// The algorithm byte as the FCI carries it.
    pub fn to_byte(self) -> u8 {
        match self {
            Algorithm::Tdes => 0x01,
            Algorithm::Sm4 => 0x03,
            Algorithm::Aes128 => 0x04,
        }
    }

    /// Block length in bytes: 8 for 3DES, 16 for SM4 and AES. GET CHALLENGE asks for this many
    /// bytes and cryptograms are this long.
    pub fn block_len(self) -> usize {
        match self {
            Algorithm::Tdes => 8,
            Algorithm::Sm4 | Algorithm::Aes128 => 16,
        }
    }

    /// The name used on the command line and in key files: `3des`, `sm4`, `aes`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Tdes => "3des",
            Algorithm::Sm4 => "sm4",
            Algorithm::Aes128 => "aes",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = UnsupportedAlgorithm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "3des" | "tdes" | "des3" => Ok(Algorithm::Tdes),
            "sm4" => Ok(Algorithm::Sm4),
            "aes" | "aes128" | "aes-128" => Ok(Algorithm::Aes128),
            "ssf33" => Err(UnsupportedAlgorithm::Ssf33),
            _ => Err(UnsupportedAlgorithm::Unknown(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_round_trip_and_block_lengths() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_byte(alg.to_byte()), Ok(alg));
            assert_eq!(alg.name().parse::<Algorithm>(), Ok(alg));
        }
        assert_eq!(Algorithm::Tdes.block_len(), 8);
        assert_eq!(Algorithm::Sm4.block_len(), 16);
        assert_eq!(Algorithm::from_byte(0x02), Err(UnsupportedAlgorithm::Ssf33));
        assert_eq!(
            Algorithm::from_byte(0x7F),
            Err(UnsupportedAlgorithm::Unknown(0x7F))
        );
    }
}
