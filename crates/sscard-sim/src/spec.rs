//! What a card is made from: [`CardSpec`], and the card images it gives — blank as it leaves
//! initialization (\[design\] D14) or personalized directly (for tests that need a ready card).

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use sscard_core::crypto::{CardFactors, Pin};
use sscard_core::data::RegionCode;
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::profile::{self, Ef, Generation};
use sscard_core::tlv;
use sscard_core::Algorithm;

use crate::areas::DataAreas;
use crate::atr::{self, HistoricalBytes, DEFAULT_CHIP_PROVIDER, DEFAULT_COS, DEFAULT_MANUFACTURER};
use crate::card_key::{diversified_keys, CardKey, DEFAULT_KEY_VERSION};
use crate::error::SimError;
use crate::financial::FinancialApp;
use crate::image::{CardImage, HexBytes, PinRecord, SecretBytes, CARD_IMAGE_FORMAT, IMAGE_VERSION};

/// The registered identifier of the social security card in the card identification code
/// (V2.0 notice §8.1.1.1 table 10).
pub const CARD_ID_RID: [u8; 5] = [0xD1, 0x56, 0x00, 0x00, 0x05];

/// Everything the card manufacturer and the issuer's initialization decide about a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSpec {
    /// The generation (1.0, 2.0, 3.0).
    pub generation: Generation,
    /// The card's algorithm.
    pub algorithm: Algorithm,
    /// The issuing region (card identification code, T8-T9 of the ATR, the factors).
    pub region: RegionCode,
    /// The ATR serial, historical bytes TA-TD (part 2 table 16).
    pub atr_serial: [u8; 4],
    /// The serial the issuer gives the card at initialization: bytes 9-12 of the card
    /// identification code (V2.0 notice table 10). Not the ATR serial.
    pub card_serial: [u8; 4],
    /// The authentication code, bytes 13-16 of the card identification code: opaque
    /// (\[design\] D15).
    pub auth_code: [u8; 4],
    /// Historical bytes T1-T2.
    pub chip_provider: [u8; 2],
    /// Historical bytes T3-T5.
    pub cos: [u8; 3],
    /// Historical bytes T6-T7.
    pub manufacturer: [u8; 2],
    /// T=0 (the default) or T=1 ([`crate::atr`]).
    pub t0: bool,
    /// The financial application of a bank-issued card.
    pub financial: Option<FinancialApp>,
    /// The data areas below SSSE (V2.0 notice §5.3-5.7, §6); none by default.
    pub areas: Option<DataAreas>,
}

impl CardSpec {
    /// A T=0 card without financial application, with the default T1-T7 (the field trace
    /// card's, [`crate::atr`]), the card serial equal to the ATR serial (two cards with
    /// different ATRs get different card identification codes; [`CardSpec::with_card_serial`]
    /// sets another) and authentication code `FFFFFFFF` (the field trace card's; opaque,
    /// \[design\] D15).
    pub fn new(
        generation: Generation,
        algorithm: Algorithm,
        region: RegionCode,
        atr_serial: [u8; 4],
    ) -> CardSpec {
        CardSpec {
            generation,
            algorithm,
            region,
            atr_serial,
            card_serial: atr_serial,
            auth_code: [0xFF; 4],
            chip_provider: DEFAULT_CHIP_PROVIDER,
            cos: DEFAULT_COS,
            manufacturer: DEFAULT_MANUFACTURER,
            t0: true,
            financial: None,
            areas: None,
        }
    }

    /// Gives the card the data areas (DF01-DF04, DF07 with their keys, files empty; appendix
    /// B's DF05 and DF06 and regional extensions as `areas` says).
    pub fn with_data_areas(mut self, areas: DataAreas) -> CardSpec {
        self.areas = Some(areas);
        self
    }

    /// Sets the issuer's serial of the card identification code.
    pub fn with_card_serial(mut self, serial: [u8; 4]) -> CardSpec {
        self.card_serial = serial;
        self
    }

    /// Sets the authentication code of the card identification code.
    pub fn with_auth_code(mut self, code: [u8; 4]) -> CardSpec {
        self.auth_code = code;
        self
    }

    /// Announces T=1 instead of T=0.
    pub fn with_t1(mut self) -> CardSpec {
        self.t0 = false;
        self
    }

    /// Adds the financial application.
    pub fn with_financial(mut self, app: FinancialApp) -> CardSpec {
        self.financial = Some(app);
        self
    }

    /// Sets T1-T7 of the historical bytes.
    pub fn with_historical(
        mut self,
        chip_provider: [u8; 2],
        cos: [u8; 3],
        manufacturer: [u8; 2],
    ) -> CardSpec {
        self.chip_provider = chip_provider;
        self.cos = cos;
        self.manufacturer = manufacturer;
        self
    }

    /// The historical bytes.
    pub fn historical(&self) -> HistoricalBytes {
        HistoricalBytes {
            chip_provider: self.chip_provider,
            cos: self.cos,
            manufacturer: self.manufacturer,
            ..HistoricalBytes::new(&self.region, self.atr_serial)
        }
    }

    /// The ATR.
    pub fn atr(&self) -> Vec<u8> {
        atr::atr(&self.historical().to_bytes(), self.t0)
    }

    /// The diversification factors of the card (part 9 §7.3, \[design\] D5).
    pub fn factors(&self) -> CardFactors {
        CardFactors {
            province: sscard_core::crypto::province_factor(&self.region),
            city: sscard_core::crypto::city_factor(&self.region),
            card: self.historical().card_factor(),
        }
    }

    /// The card identification code: region (BCD) ‖ `D156000005` ‖ card serial ‖
    /// authentication code (V2.0 notice §8.1.1.1).
    pub fn card_id(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let parts = [
            &self.region.to_bcd()[..],
            &CARD_ID_RID[..],
            &self.card_serial[..],
            &self.auth_code[..],
        ];
        for (o, b) in out.iter_mut().zip(parts.concat()) {
            *o = b;
        }
        out
    }
}

/// The card keys of `alg` for a card with `factors`: each SSSE role's national root
/// diversified by the province, city and card factors (\[design\] D1).
pub(crate) fn card_keys(
    keys: &RootKeys,
    alg: Algorithm,
    factors: &CardFactors,
) -> Result<BTreeMap<String, CardKey>, SimError> {
    diversified_keys(
        keys,
        alg,
        factors,
        &KeyRole::SSSE,
        |_| DEFAULT_KEY_VERSION,
        "",
    )
}

impl CardImage {
    /// A card as it leaves initialization (\[design\] D14): the SSSE files created, the card keys
    /// of `keys` loaded, the PIN empty, and only EF05 record `01` (the card identification code
    /// of [`CardSpec::card_id`]) written.
    pub fn blank(spec: &CardSpec, keys: &RootKeys) -> Result<CardImage, SimError> {
        if let Some(app) = &spec.financial {
            app.validate()?;
        }
        let has_binaries = spec.generation.has_transparent_files();
        let factors = spec.factors();
        let (areas, extensions) = match &spec.areas {
            Some(a) => (
                crate::areas::blank_areas(a, keys, spec.algorithm, &factors)?,
                a.extensions.clone(),
            ),
            None => Default::default(),
        };
        let image = CardImage {
            format: CARD_IMAGE_FORMAT.into(),
            version: IMAGE_VERSION,
            generation: spec.generation,
            algorithm: spec.algorithm,
            t0: spec.t0,
            historical_bytes: HexBytes(spec.historical().to_bytes().to_vec()),
            region: spec.region,
            keys: card_keys(keys, spec.algorithm, &factors)?,
            ef05: vec![HexBytes(tlv::simple(
                profile::tag::CARD_ID,
                &spec.card_id(),
            ))],
            ef06: Vec::new(),
            ef07: has_binaries.then(HexBytes::default),
            ef08: has_binaries.then(HexBytes::default),
            pin: PinRecord::empty(),
            ssse_blocked: false,
            card_blocked: false,
            financial: spec.financial.clone(),
            areas,
            extensions,
        };
        image.validate()?;
        Ok(image)
    }

    /// A personalized card in one step, for tests that need one: [`CardImage::blank`], then
    /// every `(tag, value)` of `records` as its record (in the order of V2.0 notice table 9,
    /// whatever the order given), then `pin` as the PIN. Values are stored as given (callers
    /// pad them as V2.0 notice §7 says); tag `01` comes from the spec and may not be given.
    pub fn personalized(
        spec: &CardSpec,
        keys: &RootKeys,
        records: &[(u8, Vec<u8>)],
        pin: &Pin,
    ) -> Result<CardImage, SimError> {
        let mut image = CardImage::blank(spec, keys)?;
        for &(tag, ref value) in records {
            let item = profile::element(spec.generation, tag).ok_or_else(|| {
                SimError::InvalidSpec(format!(
                    "tag {tag:02X} is no data item of a {} card",
                    spec.generation
                ))
            })?;
            if tag == profile::tag::CARD_ID {
                return Err(SimError::InvalidSpec(
                    "the card identification code comes from the card spec".into(),
                ));
            }
            if value.len() > item.len {
                return Err(SimError::InvalidSpec(format!(
                    "tag {tag:02X} ({}): {} bytes, the item has {}",
                    item.name,
                    value.len(),
                    item.len
                )));
            }
            let list = match item.ef {
                Ef::Ef05 => &mut image.ef05,
                _ => &mut image.ef06,
            };
            if list.iter().any(|r| r.0.first() == Some(&tag)) {
                return Err(SimError::InvalidSpec(format!("tag {tag:02X} given twice")));
            }
            list.push(HexBytes(tlv::simple(tag, value)));
        }
        for ef in Ef::RECORD_FILES {
            let order = |r: &HexBytes| {
                let tag = r.0.first().copied().unwrap_or_default();
                profile::record_number(spec.generation, ef, tag).unwrap_or(u8::MAX)
            };
            match ef {
                Ef::Ef05 => image.ef05.sort_by_key(order),
                _ => image.ef06.sort_by_key(order),
            }
        }
        image.pin.value = SecretBytes::new(Zeroizing::new(pin.to_bcd().to_vec()));
        image.validate()?;
        Ok(image)
    }
}
