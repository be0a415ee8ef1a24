//! What the sharing pages, the server functions and the services share: member statuses, the
//! account's sharing policy, My Credentials, and the parsing of the Share dialog's fields.

use crate::caller::Role;
use crate::format::parse_date_start_ms;
use serde::{Deserialize, Serialize};

/// IMS: an image can be shared with at most this many projects.
pub const MAX_MEMBERS: usize = 128;
/// A share that ends within this many days counts as expiring soon in the header.
pub const EXPIRING_SOON_DAYS: i64 = 7;
pub const DAY_MS: i64 = 86_400_000;

/// Where a share stands on the recipient's side (the IMS API's `member_status` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Pending,
    Accepted,
    Rejected,
}

impl MemberStatus {
    pub const ALL: [MemberStatus; 3] = [MemberStatus::Accepted, MemberStatus::Pending, MemberStatus::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Pending => "pending",
            MemberStatus::Accepted => "accepted",
            MemberStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<MemberStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            MemberStatus::Pending => "Pending",
            MemberStatus::Accepted => "Accepted",
            MemberStatus::Rejected => "Rejected",
        }
    }
}

#[cfg(feature = "ssr")]
crate::db::text_column!(MemberStatus);

/// One project an image is shared with, as its owner sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub project_id: String,
    pub account_name: String,
    pub status: MemberStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
}

/// Who an account lets its images be shared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharingPolicy {
    Any,
    Listed,
    None,
}

impl SharingPolicy {
    pub const ALL: [SharingPolicy; 3] = [SharingPolicy::Any, SharingPolicy::Listed, SharingPolicy::None];

    pub fn as_str(self) -> &'static str {
        match self {
            SharingPolicy::Any => "any",
            SharingPolicy::Listed => "listed",
            SharingPolicy::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<SharingPolicy> {
        Self::ALL.into_iter().find(|policy| policy.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            SharingPolicy::Any => "Share with any project",
            SharingPolicy::Listed => "Share only with listed accounts",
            SharingPolicy::None => "Block all sharing",
        }
    }
}

#[cfg(feature = "ssr")]
crate::db::text_column!(SharingPolicy);

/// A share of one of the account's images that its current policy would not allow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForbiddenShare {
    pub image_id: String,
    pub image_name: String,
    pub project_id: String,
    pub account_name: String,
}

/// The Account Settings page: the sharing policy, and what it forbids today.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    pub policy: SharingPolicy,
    /// Account names a `Listed` policy allows.
    pub allowed_accounts: Vec<String>,
    pub forbidden_shares: Vec<ForbiddenShare>,
    /// Only the account's admins may change the policy.
    pub can_edit: bool,
}

/// One row of My Credentials' Projects table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectView {
    pub region: String,
    pub region_name: String,
    pub project_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub account_name: String,
    pub account_id: String,
    pub user_name: String,
    pub role: Role,
    pub projects: Vec<ProjectView>,
}

/// What the header's notification indicator counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeCounts {
    /// Images shared with the caller's project, waiting for it to accept or reject.
    pub pending: i64,
    /// Shares with the caller's project that end within `EXPIRING_SOON_DAYS`.
    pub expiring: i64,
}

/// When a share ends, as the last second it is live (an expiry date ends with its day).
pub fn expiry_label(expires_at: Option<i64>) -> String {
    match expires_at {
        Some(end) => crate::format::format_time(end - 1000),
        None => "Never".to_string(),
    }
}

/// `expiry_label` to the minute, for tables.
pub fn expiry_short(expires_at: Option<i64>) -> String {
    match expires_at {
        Some(end) => crate::format::format_time_short(end - 1000),
        None => "Never".to_string(),
    }
}

/// Why an image cannot be shared at all (IMS rules), if it cannot, as a clause that follows
/// "cannot be shared:". The service, the image list and the detail page all ask this one.
pub fn share_refusal(active: bool, kind: &str, encrypted: bool, published: bool) -> Option<&'static str> {
    if !active {
        Some("only images in the Normal state can be shared.")
    } else if kind == "full_ecs" {
        Some(
            "full-ECS images cannot be shared: IMS shares only full-ECS images made from CBR backups, and this \
             console has no CBR.",
        )
    } else if encrypted {
        Some("encrypted images cannot be shared.")
    } else if published {
        Some("images published in KooGallery cannot be shared; unpublish it first.")
    } else {
        None
    }
}

/// A refusal clause as a sentence of its own (for a tooltip or a hint).
pub fn sentence(clause: &str) -> String {
    let mut chars = clause.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A project id as this console makes them: 32 lower-case hexadecimal characters.
pub fn is_project_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

/// The Share dialog's Project ID field: ids separated by commas, spaces or new lines,
/// duplicates dropped, order kept.
pub fn parse_project_ids(text: &str) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for word in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|word| !word.is_empty()) {
        let id = word.to_ascii_lowercase();
        if !is_project_id(&id) {
            let shown: String = word.chars().take(40).collect();
            return Err(format!(
                "'{shown}' is not a project ID. A project ID is 32 hexadecimal characters; the recipient finds \
                 it on their My Credentials page."
            ));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    match ids.len() {
        0 => Err("Enter at least one project ID.".into()),
        count if count > MAX_MEMBERS => {
            Err(format!("{count} project IDs: an image can be shared with at most {MAX_MEMBERS} projects."))
        }
        _ => Ok(ids),
    }
}

/// The Share dialog's expiry date (`YYYY-MM-DD`, optional): the share ends when that day ends
/// (UTC). The day must not be over yet.
pub fn parse_expiry(text: &str, now_ms: i64) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let start = parse_date_start_ms(text).ok_or_else(|| format!("'{text}' is not a date like 2026-12-31."))?;
    let end = start + DAY_MS;
    if end <= now_ms {
        return Err(format!("{text} is over: choose today or a later day."));
    }
    Ok(Some(end))
}

/// The image ids of a batch operation, comma separated.
pub fn parse_image_ids(text: &str) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for id in text.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        if id.len() > 64 {
            return Err("An image ID is at most 64 characters.".into());
        }
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    match ids.len() {
        0 => Err("Select at least one image.".into()),
        count if count > 100 => Err(format!("{count} images selected: act on at most 100 at once.")),
        _ => Ok(ids),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID_A: &str = "0123456789abcdef0123456789abcdef";
    const ID_B: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn project_ids_split_on_commas_and_lines_and_drop_duplicates() {
        let text = format!("{ID_A}, {}\n{ID_B}\n\n", ID_A.to_uppercase());
        assert_eq!(parse_project_ids(&text).unwrap(), vec![ID_A.to_string(), ID_B.to_string()]);
    }

    #[test]
    fn bad_project_ids_are_named() {
        assert!(parse_project_ids("").unwrap_err().contains("at least one"));
        assert!(parse_project_ids(&format!("{ID_A},nope")).unwrap_err().starts_with("'nope' is not a project ID"));
        let many: Vec<String> = (0..129).map(|n| format!("{n:032x}")).collect();
        assert!(parse_project_ids(&many.join(",")).unwrap_err().contains("at most 128"));
    }

    #[test]
    fn an_expiry_date_ends_with_its_day_and_must_not_be_over() {
        let day = parse_date_start_ms("2026-12-01").unwrap();
        assert_eq!(parse_expiry("2026-12-01", day + 1000).unwrap(), Some(day + DAY_MS));
        assert_eq!(parse_expiry(" ", day).unwrap(), None);
        assert!(parse_expiry("2026-11-30", day + 1000).unwrap_err().contains("is over"));
        assert!(parse_expiry("tomorrow", day).unwrap_err().contains("not a date"));
        assert_eq!(expiry_label(Some(day + DAY_MS)), "2026-12-01 23:59:59 UTC");
        assert_eq!(expiry_label(None), "Never");
    }

    #[test]
    fn statuses_and_policies_round_trip() {
        for status in MemberStatus::ALL {
            assert_eq!(MemberStatus::parse(status.as_str()), Some(status));
        }
        for policy in SharingPolicy::ALL {
            assert_eq!(SharingPolicy::parse(policy.as_str()), Some(policy));
        }
        assert_eq!(parse_image_ids(" a, b ,a").unwrap(), vec!["a", "b"]);
        assert_eq!(share_refusal(true, "system", false, false), None);
        assert!(share_refusal(true, "full_ecs", false, false).unwrap().contains("CBR"));
        assert_eq!(sentence("encrypted images cannot be shared."), "Encrypted images cannot be shared.");
        assert!(parse_image_ids(",").is_err());
    }
}
