//! The simulated card feeder, one for `sscard batch --reader feeder:DIR` (in process) and for
//! `sscard sim serve --feeder DIR` (in pcscd's virtual reader): a folder that plays a card
//! printer's hopper and trays.
//!
//! - `DIR/in-reader.json`: the card in the reader (at most one);
//! - `DIR/cards/`, `DIR/rejected/`, `DIR/unused/`: cards taken out (personalized, not usable,
//!   blank but of another generation or region), each named by its card identification code;
//! - a fresh blank card is manufactured when the reader is empty: a random serial, used both as
//!   the ATR serial (part 2 table 16) and as the serial of the card identification code (V2.0
//!   notice table 10), that no card filed before has.
//!
//! The feeder's folder is locked by its user for the whole run ([`crate::context::lock_feeder`]).

use std::path::{Path, PathBuf};

use sscard_core::data::RegionCode;
use sscard_core::keys::RootKeys;
use sscard_core::profile::Generation;
use sscard_core::Algorithm;
use sscard_files::Durability;
use sscard_sim::{CardSpec, SimCard};

use crate::cardstate::image_card_id;
use crate::context;
use crate::error::{io_err, CliError, CliResult};

/// Where a card taken out of the reader goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tray {
    /// Personalized.
    Cards,
    /// Not usable.
    Rejected,
    /// Blank, but not of the generation or region the next person needs.
    Unused,
}

impl Tray {
    const ALL: [Tray; 3] = [Tray::Cards, Tray::Rejected, Tray::Unused];

    fn folder(self) -> &'static str {
        match self {
            Tray::Cards => "cards",
            Tray::Rejected => "rejected",
            Tray::Unused => "unused",
        }
    }
}

/// A simulated card feeder in a folder (see the module documentation).
pub struct Feeder {
    dir: PathBuf,
    keys: RootKeys,
    algorithm: Algorithm,
    /// Blank cards with the data areas of the V2.0 notice.
    pub areas: bool,
}

impl Feeder {
    /// The feeder in `dir` (its folders created when missing), making blank cards of
    /// `algorithm` with the card keys of `keys`.
    pub fn open(dir: &Path, keys: RootKeys, algorithm: Algorithm) -> CliResult<Feeder> {
        let folders = std::iter::once(dir.to_path_buf())
            .chain(Tray::ALL.iter().map(|t| dir.join(t.folder())));
        for folder in folders {
            std::fs::create_dir_all(&folder).map_err(|e| io_err("cannot create", &folder, e))?;
        }
        Ok(Feeder {
            dir: dir.to_path_buf(),
            keys,
            algorithm,
            areas: false,
        })
    }

    /// The image of the card in the reader.
    pub fn slot_path(&self) -> PathBuf {
        self.dir.join("in-reader.json")
    }

    /// Where a card taken out into `tray` is filed.
    pub fn filed_path(&self, tray: Tray, card: &SimCard) -> PathBuf {
        self.dir
            .join(tray.folder())
            .join(format!("{}.json", image_card_id(card.image())))
    }

    /// The card in the reader, if any.
    pub fn current(&self) -> CliResult<Option<SimCard>> {
        let path = self.slot_path();
        if !path.exists() {
            return Ok(None);
        }
        context::load_card_image(&path).map(Some)
    }

    /// A new blank card of `generation` and `region` (not yet in the reader).
    pub fn blank(&self, generation: Generation, region: RegionCode) -> CliResult<SimCard> {
        loop {
            let serial: [u8; 4] = rand::random();
            let mut spec =
                CardSpec::new(generation, self.algorithm, region, serial).with_card_serial(serial);
            if self.areas {
                spec = spec.with_data_areas(sscard_sim::DataAreas::national());
            }
            let name = format!("{}.json", hex::encode_upper(spec.card_id()));
            if Tray::ALL
                .iter()
                .all(|t| !self.dir.join(t.folder()).join(&name).exists())
            {
                return SimCard::blank(spec, &self.keys)
                    .map_err(|e| CliError::KeyHolder(format!("manufacturing a blank card: {e}")));
            }
        }
    }

    /// Writes `card` as the card in the reader (a blank one put in, or the one there saved):
    /// atomically, not fsynced (like the card's own writes in a feeder, it survives a killed
    /// process).
    pub fn store(&self, card: &SimCard) -> CliResult<()> {
        let path = self.slot_path();
        let text = card
            .save_json()
            .map_err(|e| CliError::Other(format!("saving {}: {e}", path.display())))?;
        sscard_files::write_atomically(&path, text.as_bytes(), Durability::Quick)
            .map_err(|e| io_err("cannot save", &path, e))
    }

    /// Takes the card in the reader out into `tray`: its image (saved by the caller) is moved
    /// there by a rename. Returns where it went.
    pub fn take_out(&self, card: &SimCard, tray: Tray) -> CliResult<PathBuf> {
        let to = self.filed_path(tray, card);
        std::fs::rename(self.slot_path(), &to)
            .map_err(|e| io_err("cannot move card to", &to, e))?;
        Ok(to)
    }
}
