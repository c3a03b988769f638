//! The real clock, and the admin API's time format. Only the edges read the clock (request handlers, the background delivery loop);
//! everything they call takes `now` as an argument, so tests choose the time.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// `unix_ms` as an RFC 3339 time in UTC, to the second unless it has milliseconds:
/// `2026-12-01T21:33:46Z`, `2026-12-01T21:33:46.250Z`. The admin API's time format.
pub fn rfc3339(unix_ms: i64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
    else {
        return String::new();
    };
    let format = if unix_ms.rem_euclid(1000) == 0 {
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")
    } else {
        time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        )
    };
    at.format(&format).unwrap_or_default()
}

/// An RFC 3339 time (any offset) as unix milliseconds; `None` if it is not one.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let at =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        assert_eq!(rfc3339(1_447_823_677_000), "2015-11-18T05:14:37Z");
        assert_eq!(rfc3339(1_447_823_677_250), "2015-11-18T05:14:37.250Z");
        assert_eq!(
            parse_rfc3339("2015-11-18T05:14:37Z"),
            Some(1_447_823_677_000)
        );
        assert_eq!(
            parse_rfc3339("2015-11-18T15:14:37.25+10:00"),
            Some(1_447_823_677_250)
        );
        assert_eq!(parse_rfc3339("2015-11-18"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
