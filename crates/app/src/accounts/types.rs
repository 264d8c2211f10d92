//! Account vocabulary: handles, names, passwords, roles, and the user as others see it.

use kernel::{Id, Timestamp, Zone};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldError};

/// Words that would collide with Hongshu's own pages or impersonate staff.
const RESERVED_HANDLES: &[&str] = &[
    "about",
    "account",
    "accounts",
    "admin",
    "administrator",
    "api",
    "app",
    "auth",
    "brand",
    "brands",
    "explore",
    "feed",
    "help",
    "hongshu",
    "login",
    "logout",
    "me",
    "mod",
    "moderator",
    "new",
    "note",
    "notes",
    "notifications",
    "official",
    "orgs",
    "post",
    "root",
    "search",
    "settings",
    "shop",
    "signin",
    "signout",
    "signup",
    "static",
    "support",
    "system",
    "topic",
    "topics",
    "user",
    "users",
    "www",
];

/// Passwords that appear at the top of every breach list.
const COMMON_PASSWORDS: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "password",
    "password1",
    "password123",
    "qwerty123",
    "qwertyuiop",
    "11111111",
    "00000000",
    "88888888",
    "66666666",
    "iloveyou",
    "abc12345",
    "abcd1234",
    "a1234567",
    "1q2w3e4r",
    "1qaz2wsx",
    "woaini1314",
    "aa123456",
    "qq123456",
    "zxcvbnm123",
    "admin123",
    "letmein1",
    "welcome1",
    "sunshine",
    "princess",
    "football",
];

/// A person's unique name in URLs (`/@handle`): 3–24 of `a-z 0-9 _ .`, compared and stored in
/// lower case, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle(String);

impl Handle {
    pub fn parse(field: &str, input: &str) -> Result<Handle, FieldError> {
        let handle = input.trim().to_ascii_lowercase();
        let fail = |why: &str| Err(FieldError::new(field, why));
        if handle.is_empty() {
            return fail("is required");
        }
        if !(3..=24).contains(&handle.len()) {
            return fail("must be 3 to 24 characters");
        }
        if !handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        {
            return fail("may contain only letters a-z, digits, '_' and '.'");
        }
        if !handle.as_bytes()[0].is_ascii_alphanumeric() {
            return fail("must start with a letter or a digit");
        }
        if RESERVED_HANDLES.contains(&handle.as_str()) {
            return fail("is reserved");
        }
        Ok(Handle(handle))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Any non-blank value, as given.
pub fn required<'a>(field: &str, input: &'a str) -> Result<&'a str, FieldError> {
    if input.trim().is_empty() {
        Err(FieldError::new(field, "is required"))
    } else {
        Ok(input)
    }
}

/// Trimmed text of 1 to `max` characters, without control characters.
pub fn parse_line(field: &str, input: &str, max: usize) -> Result<String, FieldError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    if let Some(c) = hidden_character(text) {
        return Err(FieldError::new(
            field,
            format!(
                "must not contain invisible or direction-changing characters (U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    Ok(text.to_owned())
}

/// The first character that would let a one-line name pass for another: bidirectional
/// overrides, embeddings and isolates, and zero-width characters. The zero-width joiner is
/// kept between two emoji, where it makes one (👩‍💻).
fn hidden_character(text: &str) -> Option<char> {
    let chars: Vec<char> = text.chars().collect();
    let is_symbol =
        |c: Option<&char>| c.is_some_and(|c| !c.is_alphanumeric() && !c.is_whitespace());
    chars.iter().enumerate().find_map(|(i, &c)| {
        let hidden = match c {
            '\u{200D}' => !(i > 0 && is_symbol(chars.get(i - 1)) && is_symbol(chars.get(i + 1))),
            '\u{061C}'
            | '\u{200B}'
            | '\u{200C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}' => true,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
            _ => false,
        };
        hidden.then_some(c)
    })
}

pub fn parse_display_name(input: &str) -> Result<String, FieldError> {
    parse_line("display_name", input, 40)
}

/// Up to 300 characters; line breaks allowed, other control characters not.
/// A member's time zone: an IANA name, or empty for the site's zone.
pub fn parse_time_zone(input: &str) -> Result<Option<Zone>, FieldError> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    Zone::parse(input)
        .map(Some)
        .map_err(|e| FieldError::new("time_zone", e.to_string()))
}

pub fn parse_bio(input: &str) -> Result<String, FieldError> {
    let text = input.trim();
    if text.chars().count() > 300 {
        return Err(FieldError::new("bio", "must be at most 300 characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(FieldError::new(
            "bio",
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// A new password that passes the policy: 8 to 128 characters, not a well-known password, not
/// the handle itself.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(input: &str, handle: Option<&Handle>) -> Result<NewPassword, FieldError> {
        let fail = |why: &str| Err(FieldError::new("password", why));
        let length = input.chars().count();
        if length == 0 {
            return fail("is required");
        }
        if length < 8 {
            return fail("must be at least 8 characters");
        }
        if length > 128 {
            return fail("must be at most 128 characters");
        }
        let lower = input.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) || lower.chars().all(|c| lower.starts_with(c))
        {
            return fail("is too easy to guess");
        }
        if handle.is_some_and(|h| lower.contains(h.as_str())) {
            return fail("must not contain your handle");
        }
        Ok(NewPassword(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Collects field errors so that a form reports every mistake at once.
#[derive(Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    pub fn check<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        parsed.map_err(|e| self.0.push(e)).ok()
    }

    /// `Ok` with the values when nothing failed.
    pub fn finish<T>(self, values: Option<T>) -> Result<T, AppError> {
        match values {
            Some(values) if self.0.is_empty() => Ok(values),
            _ => Err(AppError::Validation(self.0)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

/// A member of Hongshu, as anyone may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Id,
    pub handle: String,
    pub display_name: String,
    pub bio: String,
    pub role: Role,
    pub created_at: Timestamp,
    /// The zone they read times in; none: the site's. Their own business, not on their profile.
    #[serde(skip)]
    pub time_zone: Option<Zone>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

impl store::TextState for Role {
    const WHAT: &'static str = "role";
    const ALL: &'static [Role] = &[Role::Member, Role::Moderator, Role::Admin];

    fn spelling(self) -> &'static str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_hidden_or_direction_changing_characters_are_refused() {
        for spoof in [
            "admin\u{202E}nimda",
            "Li\u{200B}Na",
            "\u{2066}official\u{2069}",
            "a\u{200D}b",
            "\u{FEFF}红薯",
            "shop\u{200F}",
        ] {
            let refused = parse_display_name(spoof).unwrap_err();
            assert!(
                refused.detail.contains("U+"),
                "{spoof:?}: {}",
                refused.detail
            );
        }
        for fine in ["李娜 Li Na", "👩\u{200D}💻 coder", "Café ☕", "مرحبا"] {
            assert_eq!(
                parse_display_name(fine).ok().as_deref(),
                Some(fine),
                "{fine:?}"
            );
        }
    }

    #[test]
    fn handles_are_lower_cased_and_checked() {
        assert_eq!(
            Handle::parse("handle", " Alice.W_1 ").unwrap().as_str(),
            "alice.w_1"
        );
        for bad in [
            "",
            "ab",
            "a-b-c",
            "名字名字",
            ".alice",
            "admin",
            "API",
            &"x".repeat(25),
        ] {
            assert!(
                Handle::parse("handle", bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let alice = Handle::parse("handle", "alice").unwrap();
        for (bad, why) in [
            ("", "is required"),
            ("short", "must be at least 8 characters"),
            ("password123", "is too easy to guess"),
            ("aaaaaaaaaa", "is too easy to guess"),
            ("alice-is-great", "must not contain your handle"),
        ] {
            let err = NewPassword::parse(bad, Some(&alice)).err().expect(bad);
            assert_eq!((err.field.as_str(), err.detail.as_str()), ("password", why));
        }
        assert!(NewPassword::parse("red potato 红薯 42", Some(&alice)).is_ok());
    }

    #[test]
    fn display_names_and_bios_are_bounded() {
        assert!(parse_display_name("   ").is_err());
        assert!(parse_display_name(&"名".repeat(40)).is_ok());
        assert!(parse_display_name(&"名".repeat(41)).is_err());
        assert!(parse_display_name("tab\there").is_err());
        assert!(parse_bio("line one\nline two").is_ok());
        assert!(parse_bio(&"x".repeat(301)).is_err());
    }
}
