//! Tenant keys as the console shows them, and the rules for their fields. Shared by the
//! server and the browser (the Create Key form checks as the user types).

use serde::{Deserialize, Serialize};

/// The most keys a project may hold (KMS's default quota of customer master keys).
pub const MAX_KEYS_PER_PROJECT: i64 = 20;
/// A deletion waits at least this many days, and at most `MAX_PENDING_DAYS`, so that a mistake
/// can still be cancelled.
pub const MIN_PENDING_DAYS: i64 = 7;
pub const MAX_PENDING_DAYS: i64 = 30;
const MAX_ALIAS_CHARS: usize = 64;
const MAX_DESCRIPTION_CHARS: usize = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "enabled",
            KeyState::Disabled => "disabled",
            KeyState::PendingDeletion => "pending_deletion",
        }
    }

    pub fn parse(text: &str) -> Option<KeyState> {
        [KeyState::Enabled, KeyState::Disabled, KeyState::PendingDeletion]
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    /// What the console calls the state.
    pub fn label(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "Pending deletion",
        }
    }

    /// Whether data under a key in this state may be used (read, copied, booted).
    pub fn usable(self) -> bool {
        self == KeyState::Enabled
    }
}

#[cfg(feature = "ssr")]
crate::db::text_column!(KeyState);

/// An image encrypted under a key: what the Keys page lists as the key's use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUser {
    pub image_id: String,
    pub image_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub alias: String,
    pub description: String,
    pub state: KeyState,
    pub created_at: i64,
    /// When a key pending deletion is deleted.
    pub deletion_at: Option<i64>,
    pub images: Vec<KeyUser>,
}

/// 1–64 letters, digits, '_', '-', '/' or ':', unique in the project; "…/default" names the
/// services' own default keys, so it is kept for them.
pub fn validate_alias(alias: &str) -> Result<(), String> {
    if alias.is_empty() {
        return Err("Enter an alias for the key.".into());
    }
    if alias.chars().count() > MAX_ALIAS_CHARS {
        return Err(format!("The alias is longer than {MAX_ALIAS_CHARS} characters."));
    }
    if let Some(bad) = alias.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | ':'))) {
        return Err(format!("The alias may hold only letters, digits, '_', '-', '/' and ':', not '{bad}'."));
    }
    if alias.ends_with("/default") {
        return Err("Aliases ending in \"/default\" are kept for the services' default keys.".into());
    }
    Ok(())
}

pub fn validate_description(description: &str) -> Result<(), String> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(format!("The description is longer than {MAX_DESCRIPTION_CHARS} characters."));
    }
    if description.chars().any(|c| c.is_control()) {
        return Err("The description may not hold control characters or line breaks.".into());
    }
    Ok(())
}

/// The waiting period of a deletion, as typed: a whole number of days from 7 to 30.
pub fn parse_pending_days(text: &str) -> Result<i64, String> {
    let range = format!("Enter a whole number of days from {MIN_PENDING_DAYS} to {MAX_PENDING_DAYS}.");
    let days: i64 = text.trim().parse().map_err(|_| range.clone())?;
    if (MIN_PENDING_DAYS..=MAX_PENDING_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(validate_alias("backup/prod-2026:a_1").is_ok());
        assert!(validate_alias("").is_err());
        assert!(validate_alias(&"a".repeat(65)).is_err());
        assert!(validate_alias(&"a".repeat(64)).is_ok());
        assert_eq!(
            validate_alias("my key").unwrap_err(),
            "The alias may hold only letters, digits, '_', '-', '/' and ':', not ' '."
        );
        assert!(validate_alias("ims/default").is_err());
        assert!(validate_alias("clé").is_err());
    }

    #[test]
    fn descriptions() {
        assert!(validate_description("").is_ok());
        assert!(validate_description(&"d".repeat(255)).is_ok());
        assert!(validate_description(&"d".repeat(256)).is_err());
        assert!(validate_description("two\nlines").is_err());
    }

    #[test]
    fn pending_days() {
        assert_eq!(parse_pending_days("7"), Ok(7));
        assert_eq!(parse_pending_days(" 30 "), Ok(30));
        for bad in ["6", "31", "", "7.5", "-7", "x"] {
            assert!(parse_pending_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn states_round_trip() {
        for state in [KeyState::Enabled, KeyState::Disabled, KeyState::PendingDeletion] {
            assert_eq!(KeyState::parse(state.as_str()), Some(state));
        }
        assert_eq!(KeyState::parse("deleted"), None);
        assert!(KeyState::Enabled.usable() && !KeyState::Disabled.usable() && !KeyState::PendingDeletion.usable());
    }
}
