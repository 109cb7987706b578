//! Personalization input: a person's data as JSON, validated into typed values.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    BcdDate, CardIdentificationCode, CardIssuingData, CardNumber, DataError, Ethnicity, HolderData,
    Name, RegionCode, Sex, SocialSecurityNumber,
};
use crate::profile::Generation;

/// Deserializes a code given either as a string (`"01"`) or as a non-negative integer (`1`).
pub(crate) fn code_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a code as a string or an integer")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(V)
}

fn default_card_type() -> String {
    "3".into()
}

/// The JSON input of a personalization, as given (strings, unvalidated).
///
/// Unknown fields are an error, so a misspelt field name is caught. `sex`, `ethnicity`,
/// `generation` and `card_type` may also be given as numbers. Example:
///
/// ```json
/// {
///   "ssn": "111111198101011110", "name": "张三", "sex": "1", "ethnicity": "01",
///   "birthplace": "639900", "birth_date": "19810101", "card_number": "KD5578904",
///   "generation": "2.0", "issue_date": "20150711", "expiry_date": "20250711",
///   "region": "639900", "initializing_body": "915600000263990063990001"
/// }
/// ```
///
/// [`PersonRecord::validate`] turns it into a [`Personalization`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRecord {
    /// Social security number (18 characters).
    pub ssn: String,
    /// Name, UTF-8 (must be representable in GBK).
    pub name: String,
    /// Sex: `1`/`male`/`男`, `2`/`female`/`女` (must agree with the SSN).
    #[serde(deserialize_with = "code_text")]
    pub sex: String,
    /// Ethnicity: GB 3304 code (`01`) or Chinese name.
    #[serde(deserialize_with = "code_text")]
    pub ethnicity: String,
    /// Birthplace region code (6 digits).
    pub birthplace: String,
    /// Birth date `YYYYMMDD` (must equal the SSN's).
    pub birth_date: String,
    /// Card number with its check character (9 characters).
    pub card_number: String,
    /// Card type, one digit; default `3`.
    #[serde(default = "default_card_type", deserialize_with = "code_text")]
    pub card_type: String,
    /// Card generation: `1.0`, `2.0`, `3.0` (or `1`, `2`, `3`).
    #[serde(deserialize_with = "code_text")]
    pub generation: String,
    /// Issue date `YYYYMMDD`.
    pub issue_date: String,
    /// Expiry date `YYYYMMDD` (after the issue date).
    pub expiry_date: String,
    /// Issuing region code (6 digits): card identification code and city factor.
    pub region: String,
    /// Initializing body number (初始化机构编号), 1 to 24 digits: V2.0 notice §8.1.1.4 gives 24,
    /// `9156000002` ‖ issuing region ‖ initializing body's region ‖ 2-digit sequence.
    pub initializing_body: String,
}

impl PersonRecord {
    /// Parses the JSON text of a person record (no file I/O: the caller reads the file).
    pub fn from_json(text: &str) -> Result<PersonRecord, DataError> {
        serde_json::from_str(text).map_err(|e| DataError::Json(e.to_string()))
    }

    /// Validates every field and the relations between them:
    /// the birth date and the sex agree with the SSN, the expiry date is after the issue date,
    /// the birth date is not after the issue date, and the name fits the generation.
    pub fn validate(&self) -> Result<Personalization, DataError> {
        let generation: Generation = self.generation.parse()?;
        let ssn = SocialSecurityNumber::parse(&self.ssn)?;
        let name = Name::new(&self.name)?;
        name.check_generation(generation)?;
        let sex: Sex = self.sex.parse()?;
        let ethnicity: Ethnicity = self.ethnicity.parse()?;
        let birthplace =
            RegionCode::parse(&self.birthplace).map_err(|e| e.in_field("birthplace"))?;
        let birth_date = BcdDate::parse(&self.birth_date).map_err(|e| e.in_field("birth_date"))?;
        let card_number = CardNumber::parse(&self.card_number)?;
        let card_type = match self.card_type.as_bytes() {
            [d] if d.is_ascii_digit() => char::from(*d),
            _ => {
                return Err(DataError::invalid(
                    "card_type",
                    format!("{:?} is not one digit", self.card_type),
                ))
            }
        };
        let issue_date = BcdDate::parse(&self.issue_date).map_err(|e| e.in_field("issue_date"))?;
        let expiry_date =
            BcdDate::parse(&self.expiry_date).map_err(|e| e.in_field("expiry_date"))?;
        let region = RegionCode::parse(&self.region)?;
        let body = &self.initializing_body;
        if body.is_empty() || body.len() > 24 || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DataError::invalid(
                "initializing_body",
                format!("{body:?} is not 1 to 24 digits"),
            ));
        }

        if birth_date != ssn.birth_date() {
            return Err(DataError::invalid(
                "birth_date",
                format!(
                    "{birth_date} differs from the birth date in the ssn ({})",
                    ssn.birth_date()
                ),
            ));
        }
        if sex != ssn.sex() {
            return Err(DataError::invalid(
                "sex",
                format!("{sex} disagrees with the ssn, which says {}", ssn.sex()),
            ));
        }
        if expiry_date <= issue_date {
            return Err(DataError::invalid(
                "expiry_date",
                format!("{expiry_date} is not after the issue date {issue_date}"),
            ));
        }
        if birth_date > issue_date {
            return Err(DataError::invalid(
                "issue_date",
                format!("{issue_date} is before the birth date {birth_date}"),
            ));
        }

        Ok(Personalization {
            generation,
            region,
            card_type,
            initializing_body: body.clone(),
            issue_date,
            expiry_date,
            card_number,
            holder: HolderData {
                ssn,
                name,
                sex,
                ethnicity,
                birthplace,
                birth_date,
            },
        })
    }
}

/// Validated personalization data: everything written to a card except the card
/// identification code, which the card carries from its initialization
/// ([`Personalization::issuing_data`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Personalization {
    generation: Generation,
    region: RegionCode,
    card_type: char,
    initializing_body: String,
    issue_date: BcdDate,
    expiry_date: BcdDate,
    card_number: CardNumber,
    holder: HolderData,
}

impl Personalization {
    /// The card generation the data is for.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// The issuing region.
    pub fn region(&self) -> RegionCode {
        self.region
    }

    /// The card type digit.
    pub fn card_type(&self) -> char {
        self.card_type
    }

    /// The initializing body number.
    pub fn initializing_body(&self) -> &str {
        &self.initializing_body
    }

    /// The issue date.
    pub fn issue_date(&self) -> BcdDate {
        self.issue_date
    }

    /// The expiry date.
    pub fn expiry_date(&self) -> BcdDate {
        self.expiry_date
    }

    /// The card number.
    pub fn card_number(&self) -> &CardNumber {
        &self.card_number
    }

    /// The holder data (EF06).
    pub fn holder(&self) -> &HolderData {
        &self.holder
    }

    /// The card issuing data (EF05) with the card identification code of the chip.
    pub fn issuing_data(&self, card_id: CardIdentificationCode) -> CardIssuingData {
        CardIssuingData {
            card_id,
            card_type: self.card_type,
            spec_version: self.generation.spec_version().to_owned(),
            initializing_body: self.initializing_body.clone(),
            issue_date: self.issue_date,
            expiry_date: self.expiry_date,
            card_number: self.card_number.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "ssn": "111111198101011110", "name": "张三", "sex": "1", "ethnicity": "01",
        "birthplace": "639900", "birth_date": "19810101", "card_number": "KD5578904",
        "generation": "2.0", "issue_date": "20150711", "expiry_date": "20250711",
        "region": "639900", "initializing_body": "915600000263990063990001"
    }"#;

    fn good() -> PersonRecord {
        PersonRecord::from_json(GOOD).unwrap()
    }

    fn err_with(change: impl FnOnce(&mut PersonRecord)) -> DataError {
        let mut r = good();
        change(&mut r);
        r.validate().unwrap_err()
    }

    #[test]
    fn valid_record() {
        let p = good().validate().unwrap();
        assert_eq!(p.generation(), Generation::V2);
        assert_eq!(p.region().as_str(), "639900");
        assert_eq!(p.card_type(), '3');
        assert_eq!(p.holder().name.as_str(), "张三");
        assert_eq!(p.holder().sex, Sex::Male);
        assert_eq!(p.card_number().as_str(), "KD5578904");
        assert_eq!(p.initializing_body(), "915600000263990063990001");
        assert_eq!(p.issue_date().to_string(), "20150711");
        assert_eq!(p.expiry_date().to_string(), "20250711");
        let id: CardIdentificationCode = "639900D15600000500BF7C7A48FB4966".parse().unwrap();
        let issuing = p.issuing_data(id);
        assert_eq!(issuing.spec_version, "2.00");
        assert_eq!(issuing.card_id, id);
        // everything encodes for the generation
        assert_eq!(issuing.to_records(p.generation()).unwrap().len(), 7);
        assert_eq!(p.holder().to_records(p.generation()).unwrap().len(), 7);
        assert!(serde_json::to_string(&p).is_ok());
    }

    #[test]
    fn defaults_and_numbers() {
        let json = r#"{
            "ssn": "111111198101011110", "name": "张三", "sex": 1, "ethnicity": 1,
            "birthplace": "639900", "birth_date": "19810101", "card_number": "X00000019",
            "generation": 3, "issue_date": "20101001", "expiry_date": "20201001",
            "region": "639900", "initializing_body": "6399"
        }"#;
        let r = PersonRecord::from_json(json).unwrap();
        assert_eq!(r.card_type, "3");
        let p = r.validate().unwrap();
        assert_eq!(p.generation(), Generation::V3);
        assert_eq!(p.holder().ethnicity, Ethnicity::HAN);
        // serialization round trip of the input form
        let again = PersonRecord::from_json(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn json_errors() {
        let typo = GOOD.replace("\"birthplace\"", "\"birth_place\"");
        assert!(matches!(
            PersonRecord::from_json(&typo),
            Err(DataError::Json(_))
        ));
        let missing = GOOD.replace("\"ssn\": \"111111198101011110\",", "");
        let e = PersonRecord::from_json(&missing).unwrap_err();
        assert!(e.to_string().contains("ssn"), "{e}");
        assert!(PersonRecord::from_json("not json").is_err());
        assert!(PersonRecord::from_json(&GOOD.replace("\"1\"", "true")).is_err());
    }

    #[test]
    fn every_field_rejection_names_the_field() {
        type Change = Box<dyn FnOnce(&mut PersonRecord)>;
        let cases: Vec<(&str, Change)> = vec![
            ("ssn", Box::new(|r| r.ssn = "111111198101011111".into())),
            ("name", Box::new(|r| r.name = "张😀".into())),
            ("name", Box::new(|r| r.name = String::new())),
            ("name", Box::new(|r| r.name = "张".repeat(26))),
            (
                "name",
                Box::new(|r| {
                    r.generation = "1.0".into();
                    r.name = "张".repeat(16);
                }),
            ),
            ("sex", Box::new(|r| r.sex = "3".into())),
            ("sex", Box::new(|r| r.sex = "2".into())),
            ("ethnicity", Box::new(|r| r.ethnicity = "57".into())),
            ("birthplace", Box::new(|r| r.birthplace = "990000".into())),
            ("birth_date", Box::new(|r| r.birth_date = "20230229".into())),
            ("birth_date", Box::new(|r| r.birth_date = "19810102".into())),
            (
                "card_number",
                Box::new(|r| r.card_number = "KD5578905".into()),
            ),
            ("card_type", Box::new(|r| r.card_type = "A".into())),
            ("card_type", Box::new(|r| r.card_type = "33".into())),
            ("generation", Box::new(|r| r.generation = "4.0".into())),
            ("issue_date", Box::new(|r| r.issue_date = "20150732".into())),
            ("issue_date", Box::new(|r| r.issue_date = "19801231".into())),
            (
                "expiry_date",
                Box::new(|r| r.expiry_date = "2025071".into()),
            ),
            (
                "expiry_date",
                Box::new(|r| r.expiry_date = "20150711".into()),
            ),
            (
                "expiry_date",
                Box::new(|r| r.expiry_date = "20140711".into()),
            ),
            ("region", Box::new(|r| r.region = "000000".into())),
            (
                "initializing_body",
                Box::new(|r| r.initializing_body = String::new()),
            ),
            (
                "initializing_body",
                Box::new(|r| r.initializing_body = "1".repeat(25)),
            ),
            (
                "initializing_body",
                Box::new(|r| r.initializing_body = "12a".into()),
            ),
        ];
        for (field, change) in cases {
            let e = err_with(change);
            assert_eq!(e.field(), Some(field), "{e}");
        }
    }
}
