//! Selecting SSSE and choosing the algorithm (part 7 §5.2-5.3; reader interface §10.1): the
//! FCI's `9F0C 86` decides; without it, regions `11xxxx` use SSF33 and every other region DES.
//! SSF33 is refused with a clear error (its algorithm is not public).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard_core::algorithm::UnsupportedAlgorithm;
use sscard_core::lifecycle::Card;
use sscard_core::transport::{Transport, TransportError};
use sscard_core::{Algorithm, Error};

/// A card that answers SELECT SSSE with `fci` and READ RECORD EF05 01 with `card_id`.
struct FciCard {
    fci: &'static str,
    card_id: &'static str,
}

impl Transport for FciCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let hex = hex::encode_upper(command);
        let answer = if hex.starts_with("00A40400") {
            format!("{}9000", self.fci)
        } else if hex.starts_with("00B20128") {
            format!("0110{}9000", self.card_id)
        } else {
            "6D00".to_owned()
        };
        Ok(hex::decode(answer).unwrap())
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(hex::decode("3B6D000000814A444686605199000001AC").unwrap())
    }
    fn reset_epoch(&self) -> u64 {
        0
    }
}

const NO_9F0C: &str = "6F13840F7378312E73682EC9E7BBE1B1A3D5CFA500";

fn open(fci: &'static str, card_id: &'static str) -> Card<FciCard> {
    Card::open(FciCard { fci, card_id }).unwrap()
}

#[test]
fn the_fci_decides() {
    let sm4 = "6F19840F7378312E73682EC9E7BBE1B1A3D5CFA5069F0C03860103";
    assert_eq!(
        open(sm4, "519900D15600000510000B26FFFFFFFF")
            .algorithm()
            .unwrap(),
        Algorithm::Sm4
    );
    let ssf33 = "6F19840F7378312E73682EC9E7BBE1B1A3D5CFA5069F0C03860102";
    let err = open(ssf33, "519900D15600000510000B26FFFFFFFF")
        .algorithm()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::UnsupportedAlgorithm(UnsupportedAlgorithm::Ssf33)
    ));
    assert!(err.to_string().contains("SSF33"), "{err}");
}

#[test]
fn without_9f0c_the_region_decides() {
    assert_eq!(
        open(NO_9F0C, "519900D15600000510000B26FFFFFFFF")
            .algorithm()
            .unwrap(),
        Algorithm::Tdes
    );
    let err = open(NO_9F0C, "110100D15600000510000B26FFFFFFFF")
        .algorithm()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::UnsupportedAlgorithm(UnsupportedAlgorithm::Ssf33)
    ));
}

#[test]
fn an_fci_naming_another_df_is_refused() {
    let other = "6F0A8408A000000333010101";
    let err = open(other, "519900D15600000510000B26FFFFFFFF")
        .algorithm()
        .unwrap_err();
    assert!(matches!(err, Error::MalformedResponse { .. }), "{err:?}");
}
