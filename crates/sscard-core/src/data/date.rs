//! Dates as the card stores them: `YYYYMMDD` in 4 bytes of packed BCD.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DataError;

const FIELD: &str = "date";

/// A real calendar date between 1900-01-01 and 2199-12-31, stored on the card as `YYYYMMDD`
/// packed BCD. Ordered chronologically; serialized as `"YYYYMMDD"`.
///
/// There is no "today" here: sscard-core has no clock; callers pass dates in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct BcdDate {
    year: u16,
    month: u8,
    day: u8,
}

/// Whether `year` is a leap year in the Gregorian calendar.
pub(crate) fn is_leap_year(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl BcdDate {
    /// The earliest year accepted.
    pub const MIN_YEAR: u16 = 1900;
    /// The latest year accepted.
    pub const MAX_YEAR: u16 = 2199;

    /// The date `year`-`month`-`day`; an error unless it exists (leap years included) and
    /// `year` is within 1900..=2199.
    pub fn new(year: u16, month: u8, day: u8) -> Result<BcdDate, DataError> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(DataError::invalid(
                FIELD,
                format!(
                    "year {year} is outside {}..={}",
                    Self::MIN_YEAR,
                    Self::MAX_YEAR
                ),
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(DataError::invalid(
                FIELD,
                format!("month {month:02} does not exist"),
            ));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(DataError::invalid(
                FIELD,
                format!("{year:04}-{month:02}-{day:02} does not exist"),
            ));
        }
        Ok(BcdDate { year, month, day })
    }

    /// Parses `YYYYMMDD` (exactly 8 ASCII digits).
    pub fn parse(text: &str) -> Result<BcdDate, DataError> {
        let b = text.as_bytes();
        if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
            return Err(DataError::invalid(
                FIELD,
                format!("{text:?} is not YYYYMMDD"),
            ));
        }
        let num = |r: std::ops::Range<usize>| {
            b.get(r)
                .unwrap_or_default()
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
        };
        let month = u8::try_from(num(4..6)).unwrap_or(0);
        let day = u8::try_from(num(6..8)).unwrap_or(0);
        BcdDate::new(num(0..4), month, day)
    }

    /// Decodes the 4-byte packed BCD value of a card date record.
    pub fn from_bcd(value: &[u8]) -> Result<BcdDate, DataError> {
        if value.len() != 4 {
            return Err(DataError::invalid(
                FIELD,
                format!("{} bytes, a date has 4", value.len()),
            ));
        }
        let digits = crate::codec::decode_cn(FIELD, value)?;
        BcdDate::parse(&digits)
    }

    /// The 4-byte packed BCD value `YYYYMMDD`.
    pub fn to_bcd(&self) -> [u8; 4] {
        let bcd = |n: u8| ((n / 10) << 4) | (n % 10);
        let century = u8::try_from(self.year / 100).unwrap_or(0);
        let yy = u8::try_from(self.year % 100).unwrap_or(0);
        [bcd(century), bcd(yy), bcd(self.month), bcd(self.day)]
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1..=31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The same day `years` years later (29 February becomes 28 February in a common year),
    /// e.g. an expiry date from an issue date.
    pub fn plus_years(&self, years: u16) -> Result<BcdDate, DataError> {
        let year = self.year.saturating_add(years);
        let day = self.day.min(days_in_month(year, self.month));
        BcdDate::new(year, self.month, day)
    }

    /// Days since 1970-01-01 (proleptic Gregorian calendar; Howard Hinnant's
    /// `days_from_civil`).
    pub fn days_since_epoch(&self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's `civil_from_days`); an error
    /// outside the years a card date holds.
    pub fn from_days_since_epoch(days: i64) -> Result<BcdDate, DataError> {
        let z = days.saturating_add(719_468);
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let year = u16::try_from(year)
            .map_err(|_| DataError::invalid(FIELD, format!("year {year} is out of range")))?;
        // day 1..=31 and month 1..=12 by construction
        BcdDate::new(year, month as u8, day as u8)
    }
}

impl fmt::Display for BcdDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

crate::data::text_conversions!(BcdDate, DataError, BcdDate::parse);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn real_dates_only() {
        assert!(BcdDate::parse("20240229").is_ok());
        assert!(BcdDate::parse("20000229").is_ok());
        for bad in [
            "20230229",
            "19000229",
            "21000229",
            "20230431",
            "20231301",
            "20230001",
            "20230100",
            "18991231",
            "22000101",
            "2023011",
            "202301011",
            "2023-1-1",
            "２０２３０１０１",
            "",
        ] {
            let e = BcdDate::parse(bad).unwrap_err();
            assert_eq!(e.field(), Some("date"), "{bad}");
        }
        assert!(BcdDate::parse("19000101").is_ok());
        assert!(BcdDate::parse("21991231").is_ok());
        assert!(BcdDate::new(2023, 2, 29).is_err());
    }

    #[test]
    fn bcd_round_trip_and_order() {
        let d = BcdDate::parse("20150711").unwrap();
        assert_eq!(d.to_bcd(), [0x20, 0x15, 0x07, 0x11]);
        assert_eq!(BcdDate::from_bcd(&d.to_bcd()).unwrap(), d);
        assert_eq!(d.to_string(), "20150711");
        assert_eq!((d.year(), d.month(), d.day()), (2015, 7, 11));
        assert!(BcdDate::from_bcd(&[0x20, 0x23, 0x02, 0x29]).is_err());
        assert!(BcdDate::from_bcd(&[0x20, 0x23, 0x02]).is_err());
        assert!(BcdDate::from_bcd(&[0x20, 0x23, 0x0A, 0x01]).is_err());
        assert!(BcdDate::from_bcd(&[0; 4]).is_err());
        assert!(d < BcdDate::parse("20250711").unwrap());
        assert!(BcdDate::parse("20151231").unwrap() < BcdDate::parse("20160101").unwrap());
    }

    #[test]
    fn day_counts() {
        let date = |days| BcdDate::from_days_since_epoch(days).unwrap().to_string();
        assert_eq!(date(0), "19700101");
        assert_eq!(date(11_016), "20000229");
        assert_eq!(date(20_780), "20261123");
        assert_eq!(date(-1), "19691231");
        // every day of 1900 to 2199 and back
        let first = BcdDate::new(1900, 1, 1).unwrap().days_since_epoch();
        let last = BcdDate::new(2199, 12, 31).unwrap().days_since_epoch();
        assert_eq!(
            last - first + 1,
            300 * 365 + 73,
            "73 leap days: every fourth year but 1900 and 2100"
        );
        for days in first..=last {
            let d = BcdDate::from_days_since_epoch(days).unwrap();
            assert_eq!(d.days_since_epoch(), days, "{d}");
        }
        assert!(BcdDate::from_days_since_epoch(first - 1).is_err());
        assert!(BcdDate::from_days_since_epoch(last + 1).is_err());
        assert!(BcdDate::from_days_since_epoch(i64::MAX).is_err());
        assert!(BcdDate::from_days_since_epoch(i64::MIN).is_err());
    }

    #[test]
    fn plus_years_and_serde() {
        let leap = BcdDate::parse("20240229").unwrap();
        assert_eq!(leap.plus_years(1).unwrap().to_string(), "20250228");
        assert_eq!(leap.plus_years(4).unwrap().to_string(), "20280229");
        assert!(leap.plus_years(200).is_err());
        let json = serde_json::to_string(&leap).unwrap();
        assert_eq!(json, "\"20240229\"");
        assert_eq!(serde_json::from_str::<BcdDate>(&json).unwrap(), leap);
        assert!(serde_json::from_str::<BcdDate>("\"20230229\"").is_err());
    }
}
