//! Response APDUs: data followed by the status word `SW1 SW2`.

use std::fmt;

use zeroize::Zeroize;

use super::{ApduError, StatusWord};

/// A response APDU: response data (possibly empty) and the status word.
///
/// The data is zeroized when the response is dropped, and `Debug` shows only its length,
/// because some responses carry secrets (challenges, cryptograms, PSAM results).
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    data: Vec<u8>,
    sw: StatusWord,
}

impl Response {
    /// A response with `data` and status word `sw`.
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Response {
        Response { data, sw }
    }

    /// A response without data.
    pub fn status(sw: StatusWord) -> Response {
        Response::new(Vec::new(), sw)
    }

    /// Splits raw response bytes (`data ‖ SW1 SW2`); at least the two status bytes are needed.
    pub fn parse(raw: &[u8]) -> Result<Response, ApduError> {
        match raw.split_last_chunk::<2>() {
            Some((data, &[sw1, sw2])) => Ok(Response::new(
                data.to_vec(),
                StatusWord::from_bytes(sw1, sw2),
            )),
            None => Err(ApduError::ResponseTooShort(raw.len())),
        }
    }

    /// The response data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The status word.
    pub fn sw(&self) -> StatusWord {
        self.sw
    }

    /// Whether the status word is `9000`.
    pub fn is_ok(&self) -> bool {
        self.sw.is_ok()
    }

    /// Takes the data out of the response.
    pub fn into_data(mut self) -> Vec<u8> {
        std::mem::take(&mut self.data)
    }

    /// Encodes the response as `data ‖ SW1 SW2` (what a card sends).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_bytes());
        out
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("data_len", &self.data.len())
            .field("sw", &self.sw)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_splits_data_and_status() {
        let r = Response::parse(&[0x6F, 0x01, 0xAA, 0x90, 0x00]).unwrap();
        assert_eq!(r.data(), &[0x6F, 0x01, 0xAA]);
        assert_eq!(r.sw(), StatusWord::Ok);
        assert!(r.is_ok());
        assert_eq!(r.to_bytes(), vec![0x6F, 0x01, 0xAA, 0x90, 0x00]);
        assert_eq!(r.into_data(), vec![0x6F, 0x01, 0xAA]);
    }

    #[test]
    fn status_only() {
        let r = Response::parse(&[0x63, 0xC2]).unwrap();
        assert!(r.data().is_empty());
        assert_eq!(r.sw(), StatusWord::VerificationFailed { tries_left: 2 });
        assert!(!r.is_ok());
        assert_eq!(
            Response::status(StatusWord::Ok).to_bytes(),
            vec![0x90, 0x00]
        );
    }

    #[test]
    fn too_short() {
        assert_eq!(Response::parse(&[]), Err(ApduError::ResponseTooShort(0)));
        assert_eq!(
            Response::parse(&[0x90]),
            Err(ApduError::ResponseTooShort(1))
        );
    }

    #[test]
    fn debug_hides_data() {
        let r = Response::new(vec![0xDE, 0xAD, 0xBE, 0xEF], StatusWord::Ok);
        let text = format!("{r:?}");
        assert!(
            !text.contains("222") && !text.to_uppercase().contains("DEAD"),
            "{text}"
        );
        assert!(text.contains("data_len: 4"), "{text}");
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            match Response::parse(&raw) {
                Ok(r) => prop_assert_eq!(r.to_bytes(), raw),
                Err(_) => prop_assert!(raw.len() < 2),
            }
        }
    }
}
