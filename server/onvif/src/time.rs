//! xs:dateTime as WS-Security writes it (`2026-12-06T06:40:00Z`, with
//! optional fractions and an offset), to and from Unix seconds.

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// A broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl Utc {
    pub fn from_unix(secs: i64) -> Self {
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let s = secs.rem_euclid(86_400);
        // Each part is in range by construction.
        let part = |v: i64| u8::try_from(v).unwrap_or(0);
        Self {
            year,
            month: part(month),
            day: part(day),
            hour: part(s / 3600),
            minute: part(s % 3600 / 60),
            second: part(s % 60),
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn text(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

fn digits(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Unix seconds of an xs:dateTime; one without a zone is taken as UTC
/// (what clients mean). Fractions are dropped.
pub fn parse(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_once('T')?;
    let mut d = date.split('-');
    let (y, m, day) = (
        digits(d.next()?, 4)?,
        digits(d.next()?, 2)?,
        digits(d.next()?, 2)?,
    );
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (c, z) = rest.split_at(i);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let (zh, zm) = z.get(1..)?.split_once(':')?;
        let (zh, zm) = (digits(zh, 2)?, digits(zm, 2)?);
        if zh > 14 || zm > 59 {
            return None;
        }
        (c, sign * (zh * 3600 + zm * 60))
    } else {
        (rest, 0)
    };
    let clock = clock.split_once('.').map_or(clock, |(c, frac)| {
        if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) {
            c
        } else {
            // Keeps the malformed fraction so the check below fails.
            clock
        }
    });
    let mut c = clock.split(':');
    let (h, mi, sec) = (
        digits(c.next()?, 2)?,
        digits(c.next()?, 2)?,
        digits(c.next()?, 2)?,
    );
    if c.next().is_some() || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_the_forms_clients_send() {
        // 2026-12-06T06:40:00Z
        let t = 1_796_539_200;
        assert_eq!(Utc::from_unix(t).text(), "2026-12-06T06:40:00Z");
        assert_eq!(parse("2026-12-06T06:40:00Z"), Some(t));
        assert_eq!(parse("2026-12-06T06:40:00.123456Z"), Some(t));
        assert_eq!(parse("2026-12-06T07:40:00+01:00"), Some(t));
        assert_eq!(parse("2026-12-06T06:40:00"), Some(t));
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(Utc::from_unix(951_782_400).text(), "2000-02-29T00:00:00Z");
        for bad in [
            "",
            "2026-12-06",
            "2026-13-06T06:40:00Z",
            "2026-12-06T24:00:00Z",
            "2026-12-06T06:40:00.Z",
            "2026-12-06T06:40:00+1:00",
            "２０２６-12-06T06:40:00Z",
            "2026-12-06T06:40Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
