//! Time zones by their IANA names (`Asia/Shanghai`), from the zone database built into the
//! binary, so a server without tzdata knows them too.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Timestamp;

#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a known time zone (an IANA name such as Asia/Shanghai)")]
pub struct UnknownZone;

impl Zone {
    /// The longest zone name accepted; the database's longest is 32 characters.
    pub const MAX_NAME: usize = 64;

    pub fn parse(name: &str) -> Result<Zone, UnknownZone> {
        let name = name.trim();
        if name.is_empty() || name.len() > Self::MAX_NAME {
            return Err(UnknownZone);
        }
        let tz = jiff::tz::db().get(name).map_err(|_| UnknownZone)?;
        // The database's own spelling, so `asia/shanghai` is kept as `Asia/Shanghai`.
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Zone { name, tz })
    }

    pub fn shanghai() -> Zone {
        Zone::parse("Asia/Shanghai").expect("the built-in zone database knows Asia/Shanghai")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The wall-clock time of an instant in this zone.
    pub fn civil(&self, at: Timestamp) -> jiff::ZonedDateTime {
        jiff::Timestamp::from_millisecond(at.as_millis())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(self.tz.clone())
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Zone, D::Error> {
        let name = String::deserialize(deserializer)?;
        Zone::parse(&name).map_err(|e| serde::de::Error::custom(format!("{name:?} {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_known_by_their_iana_names() {
        assert_eq!(
            Zone::parse("asia/shanghai").unwrap().name(),
            "Asia/Shanghai"
        );
        assert_eq!(Zone::parse("Mars/Olympus"), Err(UnknownZone));
        assert_eq!(Zone::parse(""), Err(UnknownZone));
    }

    #[test]
    fn civil_time_follows_the_zone_and_its_summer_time() {
        // 2026-12-01T11:14:19Z
        let at = Timestamp::from_millis(1_796_123_659_000);
        let shanghai = Zone::shanghai().civil(at);
        assert_eq!((shanghai.hour(), shanghai.minute()), (19, 14));
        let summer = Timestamp::from_millis(1_782_904_459_000); // 2026-07-01T11:14:19Z
        let london = Zone::parse("Europe/London").unwrap();
        assert_eq!(london.civil(at).hour(), 11);
        assert_eq!(london.civil(summer).hour(), 12);
    }
}
