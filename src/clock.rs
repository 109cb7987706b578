//! Today's date from the system clock, for expiry checks (the core crate has no clock).

use sscard_core::data::{BcdDate, DataError};

/// Today's date (UTC+8, China Standard Time) from the system clock. Fails only when the clock
/// is outside the years a card date can hold (1900-2199).
pub fn today() -> Result<BcdDate, DataError> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from((secs + 8 * 3600) / 86_400).unwrap_or(i64::MAX / 2);
    let (y, m, d) = civil_from_days(days);
    let year =
        u16::try_from(y).map_err(|_| DataError::invalid("today", "system clock out of range"))?;
    BcdDate::new(year, m as u8, d as u8).map_err(|e| e.in_field("today"))
}

/// Now (UTC+8, China Standard Time): the date and the time of day (hour, minute, second), from
/// one reading of the system clock — a terminal's transaction time (part 7 §12.3).
pub fn now() -> Result<(BcdDate, u8, u8, u8), DataError> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 8 * 3600;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let (y, m, d) = civil_from_days(days);
    let year =
        u16::try_from(y).map_err(|_| DataError::invalid("now", "system clock out of range"))?;
    let date = BcdDate::new(year, m as u8, d as u8).map_err(|e| e.in_field("now"))?;
    let of_day = secs % 86_400;
    Ok((
        date,
        (of_day / 3600) as u8,
        (of_day / 60 % 60) as u8,
        (of_day % 60) as u8,
    ))
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_780), (2026, 11, 23));
    }
}
