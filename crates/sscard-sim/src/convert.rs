//! Conversion of version-1 card images (sscard before the specification protocol) to version 2.

use serde_json::Value;
use zeroize::Zeroizing;

use sscard_core::data::RegionCode;
use sscard_core::keys::RootKeys;
use sscard_core::profile::{self, Ef, Generation};
use sscard_core::tlv;
use sscard_core::Algorithm;

use crate::atr::HistoricalBytes;
use crate::card_key::{DEFAULT_TRIES, MAX_TRIES};
use crate::error::SimError;
use crate::image::{
    is_pin_cn, is_version_one, CardImage, HexBytes, PinRecord, SecretBytes, CARD_IMAGE_FORMAT,
    IMAGE_VERSION,
};
use crate::spec::{card_keys, CARD_ID_RID};

fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Result<&'a Value, SimError> {
    obj.get(name)
        .ok_or_else(|| SimError::InvalidImage(format!("version-1 image: no {name:?}")))
}

fn text<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Result<&'a str, SimError> {
    field(obj, name)?
        .as_str()
        .ok_or_else(|| SimError::InvalidImage(format!("version-1 image: {name:?} is not text")))
}

fn hex_field(value: &Value, what: &str) -> Result<Vec<u8>, SimError> {
    value
        .as_str()
        .and_then(|t| hex::decode(t).ok())
        .ok_or_else(|| SimError::InvalidImage(format!("version-1 image: {what} is not hex")))
}

impl CardImage {
    /// Converts a version-1 card image (the invented protocol sscard spoke before the national
    /// specification) into a version-2 card that behaves as the specification says.
    ///
    /// Kept: the generation, the algorithm, the region, the T=0 or T=1 protocol, the records of
    /// EF05 and EF06 (EF0D is not in the specification and is dropped), the PIN with its
    /// counter, and the block states. Changed:
    ///
    /// - the ATR: the old T1-T7 stay, T8-T9 become the region's first four digits (part 2 table
    ///   16) and TA-TD the old chip serial; the card factor therefore changes;
    /// - the card keys are derived anew from `keys` for that card factor (\[design\] D1) with full
    ///   try counters (the old keys by invented ids cannot be used by a specification terminal);
    /// - a blank or half-personalized old card kept all-`00` placeholder records; those are
    ///   dropped (absent, as on a specification blank card, \[design\] D14), and a card
    ///   identification code `region ‖ D156000005 ‖ old chip serial ‖ 00000000` is written when
    ///   the old one was such a placeholder;
    /// - an application block, temporary or permanent, becomes the (permanent) APPLICATION
    ///   BLOCK of part 5 §6.1: the specification has no other.
    pub fn convert_v1(old_json: &str, keys: &RootKeys) -> Result<CardImage, SimError> {
        let value: Value = serde_json::from_str(old_json)?;
        if !is_version_one(&value) {
            return Err(SimError::InvalidImage(
                "not a version-1 card image (no numeric format 1 with chip_serial and files)"
                    .into(),
            ));
        }
        let obj = value
            .as_object()
            .ok_or_else(|| SimError::InvalidImage("the top level is not an object".into()))?;
        let generation: Generation = serde_json::from_value(field(obj, "generation")?.clone())?;
        let algorithm: Algorithm = serde_json::from_value(field(obj, "algorithm")?.clone())?;
        let region = RegionCode::parse(text(obj, "region")?)
            .map_err(|e| SimError::InvalidImage(format!("version-1 image: {e}")))?;
        let chip_serial: [u8; 4] = hex_field(field(obj, "chip_serial")?, "chip_serial")?
            .try_into()
            .map_err(|_| {
                SimError::InvalidImage("version-1 image: chip_serial is not 4 bytes".into())
            })?;
        let t0 = obj
            .get("options")
            .and_then(|o| o.get("t0_mode"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let app_state = obj
            .get("app_state")
            .and_then(Value::as_str)
            .unwrap_or("blank");
        let placeholders_dropped = matches!(app_state, "blank" | "personalizing");

        // the version-1 historical bytes: 00 81 53 53 43 41 52 44 31 ‖ chip serial
        let mut historical = HistoricalBytes::new(&region, chip_serial);
        historical.chip_provider = [0x00, 0x81];
        historical.cos = [0x53, 0x53, 0x43];
        historical.manufacturer = [0x41, 0x52];

        let files = field(obj, "files")?.as_object().ok_or_else(|| {
            SimError::InvalidImage("version-1 image: files is not an object".into())
        })?;
        let mut lists = [Vec::new(), Vec::new()];
        for (ef, list) in [Ef::Ef05, Ef::Ef06].into_iter().zip(lists.iter_mut()) {
            let name = match ef {
                Ef::Ef05 => "Ef05",
                _ => "Ef06",
            };
            let Some(records) = files.get(name).and_then(Value::as_array) else {
                continue;
            };
            for record in records {
                let tlv = hex_field(record, &format!("a {ef} record"))?;
                let (tag, value) = match tlv.as_slice() {
                    [tag, len, value @ ..] if usize::from(*len) == value.len() => (*tag, value),
                    _ => {
                        return Err(SimError::InvalidImage(format!(
                            "version-1 image: a {ef} record is not one SIMPLE-TLV"
                        )))
                    }
                };
                if placeholders_dropped && value.iter().all(|&b| b == 0) {
                    continue;
                }
                let item = profile::records(generation, ef)
                    .iter()
                    .find(|s| s.tag == tag)
                    .ok_or_else(|| {
                        SimError::InvalidImage(format!(
                            "version-1 image: {ef} tag {tag:02X} is no data item of a {generation} card"
                        ))
                    })?;
                if value.len() > item.len {
                    return Err(SimError::InvalidImage(format!(
                        "version-1 image: {ef} tag {tag:02X} has {} bytes, the item {}",
                        value.len(),
                        item.len
                    )));
                }
                list.push(HexBytes(tlv::simple(tag, value)));
            }
        }
        let [mut ef05, ef06] = lists;
        if !ef05
            .iter()
            .any(|r| r.0.first() == Some(&profile::tag::CARD_ID))
        {
            let mut id = region.to_bcd().to_vec();
            id.extend_from_slice(&CARD_ID_RID);
            id.extend_from_slice(&chip_serial);
            id.extend_from_slice(&[0; 4]);
            ef05.insert(0, HexBytes(tlv::simple(profile::tag::CARD_ID, &id)));
        }

        let pin = match obj.get("pin") {
            Some(Value::Object(p)) => {
                let cn = Zeroizing::new(hex_field(field(p, "bcd")?, "the PIN")?);
                if !is_pin_cn(&cn) {
                    return Err(SimError::InvalidImage(
                        "version-1 image: the PIN is not cn digits".into(),
                    ));
                }
                let number = |name: &str| {
                    p.get(name)
                        .and_then(Value::as_u64)
                        .and_then(|n| u8::try_from(n).ok())
                        .filter(|n| *n <= MAX_TRIES)
                };
                let max_tries = number("max_tries")
                    .filter(|n| *n > 0)
                    .unwrap_or(DEFAULT_TRIES);
                PinRecord {
                    value: SecretBytes::from_slice(&cn),
                    tries_left: number("tries_left").unwrap_or(max_tries).min(max_tries),
                    max_tries,
                }
            }
            _ => PinRecord::empty(),
        };
        let block_state = obj
            .get("block_state")
            .and_then(Value::as_str)
            .unwrap_or("none");
        let card_blocked = obj
            .get("card_blocked")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut image = CardImage {
            format: CARD_IMAGE_FORMAT.into(),
            version: IMAGE_VERSION,
            generation,
            algorithm,
            t0,
            historical_bytes: HexBytes(historical.to_bytes().to_vec()),
            region,
            keys: Default::default(),
            ef05,
            ef06,
            ef07: generation.has_transparent_files().then(HexBytes::default),
            ef08: generation.has_transparent_files().then(HexBytes::default),
            pin,
            ssse_blocked: block_state != "none",
            card_blocked,
            financial: None,
            areas: Default::default(),
            extensions: Default::default(),
        };
        image.keys = card_keys(keys, algorithm, &image.factors()?)?;
        image.validate()?;
        Ok(image)
    }
}
