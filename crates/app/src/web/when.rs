//! Times as a reader reads them: in their own time zone, recent ones relative ("3分钟前",
//! "5 min ago"), older ones as a date ("12月1日 19:14"). The patterns are the language's texts.

use kernel::{Timestamp, Zone};

use super::i18n::Texts;

/// The zones the settings page offers (any other IANA name works through the API).
pub const OFFERED_ZONES: [&str; 16] = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Australia/Sydney",
    "Europe/London",
    "Europe/Paris",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "UTC",
];

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How long ago `at` was, for the last week; before that (or in the future), its date and time.
pub fn ago(t: &Texts, zone: &Zone, at: Timestamp, now: Timestamp) -> String {
    let past = now.as_millis() - at.as_millis();
    match past {
        p if (0..MINUTE).contains(&p) => t.just_now.to_owned(),
        p if (0..HOUR).contains(&p) => t.minutes_ago.replace("{n}", &(p / MINUTE).to_string()),
        p if (0..DAY).contains(&p) => t.hours_ago.replace("{n}", &(p / HOUR).to_string()),
        p if (0..7 * DAY).contains(&p) => t.days_ago.replace("{n}", &(p / DAY).to_string()),
        _ => moment(t, zone, at, now),
    }
}

/// The date and time of `at`; the year only when it is not this year.
pub fn moment(t: &Texts, zone: &Zone, at: Timestamp, now: Timestamp) -> String {
    let civil = zone.civil(at);
    let pattern = if civil.year() == zone.civil(now).year() {
        t.date_time_this_year
    } else {
        t.date_time
    };
    civil.strftime(pattern).to_string()
}

/// The calendar day of `at`.
pub fn day(t: &Texts, zone: &Zone, at: Timestamp) -> String {
    zone.civil(at).strftime(t.date).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{EN, ZH_CN};

    // 2026-12-01T11:14:19Z, 19:14 in Shanghai.
    const AT: Timestamp = Timestamp::from_millis(1_796_123_659_000);

    fn later(ms: i64) -> Timestamp {
        Timestamp::from_millis(AT.as_millis() + ms)
    }

    #[test]
    fn recent_times_are_relative_in_the_readers_language() {
        let zone = Zone::shanghai();
        assert_eq!(ago(&ZH_CN, &zone, AT, later(20_000)), "刚刚");
        assert_eq!(ago(&ZH_CN, &zone, AT, later(3 * MINUTE + 5)), "3分钟前");
        assert_eq!(ago(&EN, &zone, AT, later(5 * HOUR)), "5 h ago");
        assert_eq!(ago(&EN, &zone, AT, later(2 * DAY)), "2 d ago");
    }

    #[test]
    fn older_times_are_dates_in_the_readers_zone() {
        let shanghai = Zone::shanghai();
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        let now = later(10 * DAY);
        assert_eq!(ago(&ZH_CN, &shanghai, AT, now), "12月1日 19:14");
        assert_eq!(ago(&EN, &berlin, AT, now), "Dec 1, 12:14");
        let next_year = later(40 * DAY);
        assert_eq!(
            moment(&ZH_CN, &shanghai, AT, next_year),
            "2026年12月1日 19:14"
        );
        assert_eq!(day(&EN, &shanghai, AT), "Dec 1, 2026");
        // A time still to come (a payment deadline) is a moment, not "ago".
        assert_eq!(ago(&EN, &shanghai, later(HOUR), AT), "Dec 1, 20:14");
    }
}
