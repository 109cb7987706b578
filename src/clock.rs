//! Today's date from the system clock, for expiry checks (the core crate has no clock).

use sscard_core::data::{BcdDate, DataError};

/// Seconds since 1970-01-01 00:00 in China Standard Time (UTC+8).
fn seconds_cst() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 8 * 3600
}

/// The date of `secs` seconds since 1970-01-01.
fn date_of(secs: u64, field: &'static str) -> Result<BcdDate, DataError> {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    BcdDate::from_days_since_epoch(days).map_err(|e| e.in_field(field))
}

/// Today's date (UTC+8, China Standard Time) from the system clock. Fails only when the clock
/// is outside the years a card date can hold (1900-2199).
pub fn today() -> Result<BcdDate, DataError> {
    date_of(seconds_cst(), "today")
}

/// Now (UTC+8, China Standard Time): the date and the time of day (hour, minute, second), from
/// one reading of the system clock — a terminal's transaction time (part 7 §12.3).
pub fn now() -> Result<(BcdDate, u8, u8, u8), DataError> {
    let secs = seconds_cst();
    let date = date_of(secs, "now")?;
    let of_day = secs % 86_400;
    Ok((
        date,
        (of_day / 3600) as u8,
        (of_day / 60 % 60) as u8,
        (of_day % 60) as u8,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_of_the_clock() {
        assert_eq!(date_of(0, "today").unwrap().to_string(), "19700101");
        assert_eq!(
            date_of(11_016 * 86_400 + 86_399, "today")
                .unwrap()
                .to_string(),
            "20000229"
        );
        let (date, h, m, s) = now().unwrap();
        assert!(h < 24 && m < 60 && s < 60, "{date} {h}:{m}:{s}");
        assert_eq!(
            date_of(u64::MAX, "today").unwrap_err().field(),
            Some("today")
        );
    }
}
