//! From `pcsc::Error` to sscard's typed [`TransportError`].

use sscard_core::transport::TransportError;

/// Maps a PC/SC error to a [`TransportError`]. `reader` names the reader the call was about,
/// for [`TransportError::ReaderNotFound`].
pub fn map_error(error: pcsc::Error, reader: Option<&str>) -> TransportError {
    use pcsc::Error as E;
    match error {
        E::NoService | E::ServiceStopped => TransportError::NoService,
        E::NoReadersAvailable => TransportError::NoReaders,
        E::UnknownReader | E::ReaderUnavailable => {
            TransportError::ReaderNotFound(reader.unwrap_or_default().to_owned())
        }
        E::NoSmartcard => TransportError::NoCard,
        E::RemovedCard => TransportError::CardRemoved,
        E::ResetCard => TransportError::CardReset,
        E::SharingViolation => TransportError::SharingViolation,
        E::Timeout => TransportError::Timeout,
        // the card (and the transaction with it) is gone: swapped faster than pcscd polls
        E::NotTransacted => TransportError::CardRemoved,
        E::UnresponsiveCard
        | E::UnpoweredCard
        | E::UnsupportedCard
        | E::InvalidAtr
        | E::ProtoMismatch
        | E::InsufficientBuffer => TransportError::Protocol(format!("PC/SC: {error}")),
        E::CommError | E::CommDataLost | E::NotReady => {
            TransportError::Io(format!("PC/SC: {error}"))
        }
        other => TransportError::Other(format!("PC/SC: {other}")),
    }
}

/// Errors after which the PC/SC context is unusable and must be established again.
pub(crate) fn context_lost(error: pcsc::Error) -> bool {
    matches!(
        error,
        pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::InvalidHandle
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_errors_that_matter() {
        assert_eq!(
            map_error(pcsc::Error::NoService, None),
            TransportError::NoService
        );
        assert!(map_error(pcsc::Error::NoService, None)
            .to_string()
            .contains("is pcscd running?"));
        assert_eq!(
            map_error(pcsc::Error::NoReadersAvailable, None),
            TransportError::NoReaders
        );
        assert_eq!(
            map_error(pcsc::Error::UnknownReader, Some("ACS")),
            TransportError::ReaderNotFound("ACS".into())
        );
        assert_eq!(
            map_error(pcsc::Error::NoSmartcard, None),
            TransportError::NoCard
        );
        assert_eq!(
            map_error(pcsc::Error::RemovedCard, None),
            TransportError::CardRemoved
        );
        assert_eq!(
            map_error(pcsc::Error::ResetCard, None),
            TransportError::CardReset
        );
        assert_eq!(
            map_error(pcsc::Error::SharingViolation, None),
            TransportError::SharingViolation
        );
        assert_eq!(
            map_error(pcsc::Error::Timeout, None),
            TransportError::Timeout
        );
        // a card swapped faster than pcscd polls: its transaction is gone with it (issue 13
        // item 17), not "end a non-existent transaction"
        assert_eq!(
            map_error(pcsc::Error::NotTransacted, None),
            TransportError::CardRemoved
        );
        assert!(matches!(
            map_error(pcsc::Error::UnresponsiveCard, None),
            TransportError::Protocol(_)
        ));
        assert!(matches!(
            map_error(pcsc::Error::CommError, None),
            TransportError::Io(_)
        ));
        assert!(matches!(
            map_error(pcsc::Error::Cancelled, None),
            TransportError::Other(_)
        ));
        assert!(context_lost(pcsc::Error::ServiceStopped));
        assert!(!context_lost(pcsc::Error::RemovedCard));
    }
}
