//! The in-process transport: a [`VirtualCard`] in a virtual reader, for tests and demos; and
//! [`FileCard`], a simulated card whose persistent memory lives in an image file.

use std::path::{Path, PathBuf};

use sscard_core::transport::{Transport, TransportError};
use sscard_files::Durability;

use crate::card::SimCard;
use crate::image::Guarded;

use crate::virtual_card::VirtualCard;

/// A virtual reader holding one [`VirtualCard`], implementing [`Transport`] in process.
///
/// [`SimTransport::power_cycle`] resets the card and increments the reset epoch, as a real
/// reader does when the card is reset or reconnected; [`SimTransport::remove_card`] takes the
/// card out (every exchange then fails with [`TransportError::CardRemoved`]) until
/// [`SimTransport::insert_card`].
#[derive(Debug)]
pub struct SimTransport<C: VirtualCard> {
    card: C,
    epoch: u64,
    present: bool,
    exchanges: u64,
}

impl<C: VirtualCard> SimTransport<C> {
    /// A reader with `card` inserted and powered.
    pub fn new(card: C) -> SimTransport<C> {
        SimTransport {
            card,
            epoch: 0,
            present: true,
            exchanges: 0,
        }
    }

    /// The card in the reader (also while removed), e.g. to inspect its image.
    pub fn card(&self) -> &C {
        &self.card
    }

    /// Mutable access to the card, e.g. to change options in a test.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    /// Takes the card back out of the reader.
    pub fn into_card(self) -> C {
        self.card
    }

    /// Resets the card (volatile state lost) and increments the reset epoch.
    pub fn power_cycle(&mut self) {
        self.card.reset();
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Removes the card: exchanges fail with [`TransportError::CardRemoved`].
    pub fn remove_card(&mut self) {
        self.present = false;
    }

    /// Inserts the card again: it is powered up afresh (a reset, a new epoch).
    pub fn insert_card(&mut self) {
        self.present = true;
        self.power_cycle();
    }

    /// Whether the card is in the reader.
    pub fn is_present(&self) -> bool {
        self.present
    }

    /// Number of APDUs the card answered through this reader.
    pub fn exchanges(&self) -> u64 {
        self.exchanges
    }
}

impl<C: VirtualCard> Transport for SimTransport<C> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if !self.present {
            return Err(TransportError::CardRemoved);
        }
        self.exchanges = self.exchanges.wrapping_add(1);
        let response = self.card.handle(command);
        if response.len() < 2 {
            // a card that lost power mid-command answers nothing
            self.present = false;
            return Err(TransportError::CardRemoved);
        }
        Ok(response)
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        if !self.present {
            return Err(TransportError::NoCard);
        }
        Ok(self.card.atr())
    }

    fn reset_epoch(&self) -> u64 {
        self.epoch
    }
}
/// A simulated card in an in-process reader whose persistent memory (its EEPROM) is an image
/// file, saved once per operation rather than after every write.
///
/// The save policy:
///
/// - **at the end of an operation**: the terminal library runs every operation inside a
///   transport transaction ([`Transport::begin_transaction`] … [`Transport::end_transaction`],
///   the outermost of nested ones); when it ends, a card that changed is saved, whether the
///   operation succeeded or not (a torn operation leaves what the card had written before the
///   power loss, as an EEPROM would);
/// - **at once**: an APDU sent outside any transaction (a raw `apdu` command), and a write that
///   lowers a try counter or moves the medical account ([`crate::image::Guarded`]) even inside
///   an operation: a process stopped in the middle must not give PIN or key tries, or a
///   purchase, back;
/// - **explicitly**: [`FileCard::save`] (a feeder's card leaving its reader).
///
/// Each save writes the whole image atomically ([`sscard_files::write_atomically`]): a process killed
/// mid-operation loses the writes of that operation (the file holds the card as it was when
/// the operation began, or as the last guarded write left it), never half an image.
#[derive(Debug)]
pub struct FileCard {
    transport: SimTransport<SimCard>,
    path: PathBuf,
    durability: Durability,
    saved_writes: u64,
    guarded: Guarded,
    in_operation: bool,
    saves: u64,
    save_failed: Option<String>,
}

impl FileCard {
    /// `card`, to be saved to `path` with `durability` (the caller loaded it from there, or
    /// saves it there first).
    pub fn new(card: SimCard, path: PathBuf, durability: Durability) -> FileCard {
        FileCard {
            saved_writes: card.persistent_writes(),
            guarded: card.image().guarded(),
            transport: SimTransport::new(card),
            path,
            durability,
            in_operation: false,
            saves: 0,
            save_failed: None,
        }
    }

    /// The card.
    pub fn card(&self) -> &SimCard {
        self.transport.card()
    }

    /// The card, mutable (to arm a tear in a test, for example).
    pub fn card_mut(&mut self) -> &mut SimCard {
        self.transport.card_mut()
    }

    /// The image file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes how the next saves reach the disk.
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    /// How many times the image was written by this object.
    pub fn saves(&self) -> u64 {
        self.saves
    }

    /// Whether the card changed since it was last saved.
    pub fn unsaved(&self) -> bool {
        self.transport.card().persistent_writes() != self.saved_writes
    }

    /// Whether a save failed (and was not taken with [`FileCard::take_save_failure`]).
    pub fn save_failed(&self) -> bool {
        self.save_failed.is_some()
    }

    /// The first save that failed, if any, taken (the next call says `None`).
    pub fn take_save_failure(&mut self) -> Option<String> {
        self.save_failed.take()
    }

    /// Writes the image now.
    pub fn save(&mut self) -> Result<(), TransportError> {
        let card = self.transport.card();
        let written = card
            .save_json()
            .map_err(|e| e.to_string())
            .and_then(|text| {
                sscard_files::write_atomically(&self.path, text.as_bytes(), self.durability)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            let message = format!("saving card image {}: {e}", self.path.display());
            self.save_failed.get_or_insert(message.clone());
            return Err(TransportError::Io(message));
        }
        self.saves += 1;
        self.saved_writes = card.persistent_writes();
        self.guarded = card.image().guarded();
        Ok(())
    }

    /// Writes the image when the card changed since the last save.
    pub fn save_if_changed(&mut self) -> Result<(), TransportError> {
        if self.unsaved() {
            self.save()?;
        }
        Ok(())
    }

    /// Takes the card out (unsaved changes stay unsaved: call [`FileCard::save_if_changed`]
    /// first).
    pub fn into_card(self) -> SimCard {
        self.transport.into_card()
    }
}

impl Transport for FileCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let result = self.transport.transmit(command);
        if self.unsaved()
            && (!self.in_operation
                || self
                    .guarded
                    .must_save_now(&self.transport.card().image().guarded()))
        {
            self.save()?;
        }
        result
    }

    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.transport.atr()
    }

    fn reset_epoch(&self) -> u64 {
        self.transport.reset_epoch()
    }

    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        self.in_operation = true;
        Ok(())
    }

    fn end_transaction(&mut self) -> Result<(), TransportError> {
        self.in_operation = false;
        self.save_if_changed()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::test_support::{h, Terminal};
    use sscard_core::profile::Generation;
    use sscard_core::Algorithm;

    #[test]
    fn power_cycle_removal_and_epochs() {
        let t = Terminal::new(Generation::V3, Algorithm::Sm4);
        let atr = t.card.atr();
        let mut transport = SimTransport::new(t.card);
        assert_eq!(transport.reset_epoch(), 0);
        assert_eq!(transport.atr().unwrap(), atr);
        let select = h("00A404000F7378312E73682EC9E7BBE1B1A3D5CF");
        assert_eq!(transport.transmit(&select).unwrap(), [0x61, 0x1B]);
        assert_eq!(
            transport.transmit(&h("00A4020002EF05")).unwrap(),
            [0x90, 0x00]
        );
        assert_eq!(transport.exchanges(), 2);
        // a power cycle: new epoch, the MF current again
        transport.power_cycle();
        assert_eq!(transport.reset_epoch(), 1);
        assert_eq!(
            transport.transmit(&h("00A4020002EF05")).unwrap(),
            [0x6A, 0x82]
        );
        // removal
        transport.remove_card();
        assert!(matches!(
            transport.transmit(&select),
            Err(TransportError::CardRemoved)
        ));
        assert!(matches!(transport.atr(), Err(TransportError::NoCard)));
        assert_eq!(transport.card().atr(), atr, "still there to inspect");
        transport.insert_card();
        assert_eq!(transport.reset_epoch(), 2);
        assert!(transport.transmit(&select).is_ok());
        transport.card_mut().reset();
        assert_eq!(transport.into_card().atr(), atr);
    }

    /// VERIFY with `pin` (on the SSSE, selected first by the caller).
    fn verify_apdu(pin: &str) -> Vec<u8> {
        let cn = sscard_core::crypto::Pin::new(pin).unwrap().to_bcd();
        let mut apdu = vec![0x00, 0x20, 0x00, 0x00, cn.len() as u8];
        apdu.extend_from_slice(&cn);
        apdu
    }

    fn tries_on_disk(path: &std::path::Path) -> u8 {
        crate::image::CardImage::load(path).unwrap().pin.tries_left
    }

    #[test]
    fn a_file_card_saves_per_operation_and_guarded_writes_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.json");
        let t = Terminal::personalized(Generation::V2, Algorithm::Sm4);
        t.card.save(&path).unwrap();
        let mut card = FileCard::new(t.card, path.clone(), Durability::Quick);
        let select = h("00A404000F7378312E73682EC9E7BBE1B1A3D5CF");

        // inside an operation: a wrong PIN (a try lost) is on disk at once
        card.begin_transaction().unwrap();
        assert_eq!(card.transmit(&select).unwrap(), [0x61, 0x1B]);
        assert_eq!(card.transmit(&verify_apdu("999999")).unwrap(), [0x63, 0xC2]);
        assert_eq!(
            tries_on_disk(&path),
            2,
            "a lost try is saved before the operation ends"
        );
        assert_eq!(card.saves(), 1);
        // the right PIN restores the counter: a write that can wait for the operation's end
        assert_eq!(card.transmit(&verify_apdu("123456")).unwrap(), [0x90, 0x00]);
        assert!(card.unsaved());
        assert_eq!(tries_on_disk(&path), 2);
        assert_eq!(card.saves(), 1);
        card.end_transaction().unwrap();
        assert_eq!(tries_on_disk(&path), 3, "saved at the end of the operation");
        assert_eq!(card.saves(), 2);
        // an operation that writes nothing saves nothing
        card.begin_transaction().unwrap();
        card.transmit(&select).unwrap();
        card.end_transaction().unwrap();
        assert_eq!(card.saves(), 2);
        // outside an operation every write is saved as it happens
        assert_eq!(card.transmit(&verify_apdu("999999")).unwrap(), [0x63, 0xC2]);
        assert_eq!(card.transmit(&verify_apdu("123456")).unwrap(), [0x90, 0x00]);
        assert_eq!(card.saves(), 4);
        assert_eq!(tries_on_disk(&path), 3);
        assert!(!card.unsaved());
    }

    #[test]
    fn a_failed_save_is_an_error_and_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone/card.json");
        let t = Terminal::personalized(Generation::V2, Algorithm::Tdes);
        let mut card = FileCard::new(t.card, path, Durability::Quick);
        card.transmit(&h("00A404000F7378312E73682EC9E7BBE1B1A3D5CF"))
            .unwrap();
        let lost = card.transmit(&verify_apdu("999999"));
        assert!(matches!(lost, Err(TransportError::Io(_))), "{lost:?}");
        let failure = card.take_save_failure().unwrap();
        assert!(failure.contains("saving card image"), "{failure}");
        assert!(card.take_save_failure().is_none());
        assert!(card.unsaved());
    }

    #[test]
    fn boxed_virtual_cards() {
        let t = Terminal::new(Generation::V1, Algorithm::Tdes);
        let boxed: Box<dyn VirtualCard> = Box::new(t.card);
        let mut transport = SimTransport::new(boxed);
        assert_eq!(
            transport.transmit(&[0x00, 0xCA, 0x00, 0x00, 0x00]).unwrap(),
            [0x6D, 0x00]
        );
    }
}
