//! Display helpers shared by server rendering and the browser (same output on both sides,
//! so hydration matches): all times are shown in UTC.

use time::{macros::format_description, OffsetDateTime};

/// Lower-case hex of `bytes` (checksums, raw disk bytes).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `2026-11-22 14:39:05 UTC` for a unix-millisecond timestamp.
pub fn format_time(unix_ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    OffsetDateTime::from_unix_timestamp_nanos(unix_ms as i128 * 1_000_000)
        .ok()
        .and_then(|time| time.format(&format).ok())
        .unwrap_or_else(|| "—".to_string())
}

/// `2026-11-22T14:39:05Z`, as the APIs write times.
pub fn iso_time(unix_ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp_nanos(unix_ms as i128 * 1_000_000)
        .ok()
        .and_then(|time| time.format(&format).ok())
        .unwrap_or_default()
}

/// `2026-11-22 14:39` (UTC), for tables; the full time goes in a tooltip.
pub fn format_time_short(unix_ms: i64) -> String {
    format_time(unix_ms).get(..16).map(str::to_string).unwrap_or_else(|| "—".to_string())
}

/// Human size with binary units, as cloud consoles show image sizes: `1.5 GB`.
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    if bytes <= 0 {
        return "0 B".to_string();
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// Parses `YYYY-MM-DD` into the unix-millisecond start of that UTC day.
pub fn parse_date_start_ms(date: &str) -> Option<i64> {
    let format = format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(date, &format).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// A list's date-range filter: `from` and `to` (`YYYY-MM-DD`, each optional) as the unix-ms
/// start of `from` and the start of the day after `to`; a bad date or a reversed range is the
/// user's message.
pub fn day_range(from: &str, to: &str) -> Result<(Option<i64>, Option<i64>), String> {
    let day = |text: &str, what: &str| match text.trim() {
        "" => Ok(None),
        day => parse_date_start_ms(day)
            .map(Some)
            .ok_or_else(|| format!("The {what} '{day}' is not a date like 2026-01-31.")),
    };
    let start = day(from, "start date")?;
    let end = day(to, "end date")?.map(|start| start + 86_400_000);
    if let (Some(start), Some(end)) = (start, end) {
        if start >= end {
            return Err("The start date must not be after the end date.".into());
        }
    }
    Ok((start, end))
}

/// A list's page number (empty is the first page).
pub fn page_number(text: &str) -> Result<u32, String> {
    match text.trim() {
        "" => Ok(1),
        text => text
            .parse::<u32>()
            .ok()
            .filter(|page| (1..=1_000_000).contains(page))
            .ok_or_else(|| format!("'{text}' is not a page number.")),
    }
}

/// Parses `YYYY-MM-DDTHH:MM` (what a `datetime-local` input sends), read as UTC, into unix ms.
pub fn parse_datetime_ms(text: &str) -> Option<i64> {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let with_seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let time = time::PrimitiveDateTime::parse(text, &format)
        .or_else(|_| time::PrimitiveDateTime::parse(text, &with_seconds))
        .ok()?;
    Some(time.assume_utc().unix_timestamp() * 1000)
}

/// The `datetime-local` value (`YYYY-MM-DDTHH:MM`, UTC) of a unix-millisecond time.
pub fn datetime_input_value(unix_ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    OffsetDateTime::from_unix_timestamp_nanos(unix_ms as i128 * 1_000_000)
        .ok()
        .and_then(|time| time.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_datetime_inputs() {
        assert_eq!(parse_datetime_ms("1970-01-02T01:00"), Some(90_000_000));
        assert_eq!(parse_datetime_ms("1970-01-02T01:00:30"), Some(90_030_000));
        assert_eq!(parse_datetime_ms("tomorrow"), None);
        assert_eq!(datetime_input_value(90_000_000), "1970-01-02T01:00");
    }

    #[test]
    fn formats_times_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_time_short(1_700_000_000_123), "2023-11-14 22:13");
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.50 KB");
        assert_eq!(format_bytes(3 * 1024 * 1024 * 1024), "3.00 GB");
    }

    #[test]
    fn parses_dates() {
        assert_eq!(parse_date_start_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date_start_ms("2026-13-01"), None);
        assert_eq!(parse_date_start_ms("yesterday"), None);
    }
}

/// Percent-encodes a query-string component (RFC 3986 unreserved characters stay literal).
pub fn url_encode(text: &str) -> String {
    percent_encode(text.as_bytes())
}

/// Percent-encodes every byte but RFC 3986's unreserved characters (upper-case hex).
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut encoded = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Decodes `%XX` escapes (others are left as they are); bytes that are not UTF-8 become U+FFFD.
pub fn url_decode(text: &str) -> String {
    String::from_utf8_lossy(&percent_decode(text)).into_owned()
}

/// Decodes `%XX` escapes into bytes, whatever they are (a malformed escape stays as it is).
pub fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    decoded
}

#[cfg(test)]
mod url_tests {
    use super::{url_decode, url_encode};

    #[test]
    fn decodes_what_it_encodes() {
        for text in ["my image/1 & 2", "ünï", "%", "100%"] {
            assert_eq!(url_decode(&url_encode(text)), text);
        }
        assert_eq!(url_decode("%2f%2F%zz%4"), "//%zz%4");
    }

    #[test]
    fn encodes_query_components() {
        assert_eq!(url_encode("my image/1 & 2"), "my%20image%2F1%20%26%202");
        assert_eq!(url_encode("ünï"), "%C3%BCn%C3%AF");
        assert_eq!(url_encode("a-b_c.d~e"), "a-b_c.d~e");
    }
}
