//! Typed, validated values of the card's data elements (docs/card-os.md §1).
//!
//! Every value here can only be constructed valid: a [`SocialSecurityNumber`] has a correct
//! GB 11643 check digit, a [`BcdDate`] is a real calendar date, a [`Name`] is representable in
//! GBK, and so on. Errors are [`DataError`]s naming the field with its JSON field name (the names
//! used by [`PersonRecord`] and [`crate::profile::ElementSpec::field`]).
//!
//! The EF level types [`CardIssuingData`] (EF05) and [`HolderData`] (EF06) convert to and from
//! the card's SIMPLE-TLV records for each [`Generation`](crate::profile::Generation).

/// The `String` conversions of a value type that serde reads and writes as text
/// (`#[serde(try_from = "String", into = "String")]`): `FromStr` through its parser (unless the
/// type has its own), `TryFrom<String>` through `FromStr`, `String::from` through `Display`.
macro_rules! text_conversions {
    ($t:ident, $err:ty, $parse:path) => {
        impl ::core::str::FromStr for $t {
            type Err = $err;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                $parse(s)
            }
        }
        $crate::data::text_conversions!($t, $err);
    };
    ($t:ident, $err:ty) => {
        impl TryFrom<String> for $t {
            type Error = $err;
            fn try_from(s: String) -> ::core::result::Result<Self, Self::Error> {
                s.parse()
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.to_string()
            }
        }
    };
}
pub(crate) use text_conversions;

mod card_id;
mod card_number;
mod codes;
mod date;
mod name;
mod person;
mod records;
mod region;
mod ssn;

pub use card_id::CardIdentificationCode;
pub use card_number::CardNumber;
pub use codes::{Ethnicity, Sex};
pub use date::BcdDate;
pub use name::Name;
pub use person::{PersonRecord, Personalization};
pub use records::{CardIssuingData, HolderData};
pub use region::RegionCode;
pub use ssn::SocialSecurityNumber;

use thiserror::Error;

/// Why a data element, a record or a personalization input is not acceptable.
///
/// `field` is always the JSON field name of the element (`ssn`, `name`, `issue_date`, ...), so
/// a terminal can point at the offending input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DataError {
    /// The value of `field` is not valid.
    #[error("{field}: {reason}")]
    Invalid {
        /// JSON field name of the element.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A record the element needs is not among the records read.
    #[error("{field}: the record (tag {tag:02X}) is missing")]
    Missing {
        /// JSON field name of the element.
        field: &'static str,
        /// The record's tag.
        tag: u8,
    },
    /// The record of `field` is blank (value all `00`): the card is not personalized.
    #[error("{field}: the record is blank (all 00): the card is not personalized")]
    Blank {
        /// JSON field name of the element found blank.
        field: &'static str,
    },
    /// The personalization input is not well-formed JSON or has unknown / missing fields.
    #[error("personalization input: {0}")]
    Json(String),
}

impl DataError {
    /// An [`DataError::Invalid`] for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> DataError {
        DataError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Refuses a value of `field` whose check character `given` is not the `expected` one.
    pub(crate) fn check_character(
        field: &'static str,
        given: u8,
        expected: u8,
    ) -> Result<(), DataError> {
        if given == expected {
            return Ok(());
        }
        Err(DataError::invalid(
            field,
            format!(
                "wrong check character {} (expected {})",
                char::from(given),
                char::from(expected)
            ),
        ))
    }

    /// The JSON field name the error is about, if it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DataError::Invalid { field, .. }
            | DataError::Missing { field, .. }
            | DataError::Blank { field } => Some(field),
            _ => None,
        }
    }

    /// The same error reported against another field name, for a value type used in several
    /// places (a [`BcdDate`] is an `issue_date`, an `expiry_date` or a `birth_date`).
    pub fn in_field(self, field: &'static str) -> DataError {
        match self {
            DataError::Invalid { reason, .. } => DataError::Invalid { field, reason },
            DataError::Missing { tag, .. } => DataError::Missing { field, tag },
            DataError::Blank { .. } => DataError::Blank { field },
            other => other,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn field_names_and_renaming() {
        let e = DataError::invalid("date", "bad");
        assert_eq!(e.field(), Some("date"));
        let e = e.in_field("issue_date");
        assert_eq!(e.to_string(), "issue_date: bad");
        assert_eq!(
            DataError::Blank { field: "ssn" }.in_field("x").field(),
            Some("x")
        );
        let j = DataError::Json("not JSON".into());
        assert_eq!(j.field(), None);
        assert_eq!(j.clone().in_field("x"), j);
    }
}
