//! Image families (beyond IMS): a name shared by the successive versions of an image. "Latest
//! of family X" is the project's newest Normal, non-deprecated member, which Create ECS can
//! pick. A family's policy keeps the newest N members (older ones go to the recycle bin) and
//! replicates each new member to listed regions. The names, views and forms, shared by the
//! pages (to point at the field) and the services (which are the guard).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most members a policy may keep.
pub const MAX_KEEP_NEWEST: i64 = 100;
/// What Create ECS's image choice holds for "latest of a family": this prefix and the name.
pub const FAMILY_CHOICE_PREFIX: &str = "family:";

/// 1–63 lowercase letters, digits and '-', starting with a letter and not ending with '-'.
pub fn validate_family_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err("Enter a family name of 1 to 63 characters.".into());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!("A family name may hold only lowercase letters, digits and '-', not '{c}'."));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.ends_with('-') {
        return Err("A family name starts with a letter and does not end with '-'.".into());
    }
    Ok(())
}

/// An optional family field: empty for none, else a valid name.
pub fn validate_optional_family(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Ok(())
    } else {
        validate_family_name(name)
    }
}

/// One family of the project, as the Image Families page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyView {
    pub name: String,
    /// Live members (not in the recycle bin).
    pub members: i64,
    /// The newest Normal, non-deprecated member: (id, name).
    pub latest: Option<(String, String)>,
    pub keep_newest: Option<i64>,
    /// Region ids new members are replicated to.
    pub replicate_to: Vec<String>,
}

/// The Edit Policy dialog.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FamilyPolicyRequest {
    pub name: String,
    /// Empty keeps every member.
    pub keep_newest: String,
    /// The regions to replicate to: region id to "on" (one checkbox each in the dialog).
    pub replicate_to: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidPolicy {
    pub keep_newest: Option<i64>,
    pub replicate_to: Vec<String>,
}

impl FamilyPolicyRequest {
    /// Checks every field; `current_region` is the family's own region, which it does not
    /// replicate to.
    pub fn validate(&self, current_region: &str) -> Result<ValidPolicy, Vec<(String, String)>> {
        let mut errors = Vec::new();
        if let Err(message) = validate_family_name(self.name.trim()) {
            errors.push(("name".to_string(), message));
        }
        let keep_newest = match self.keep_newest.trim() {
            "" => None,
            text => match text.parse::<i64>() {
                Ok(count) if (1..=MAX_KEEP_NEWEST).contains(&count) => Some(count),
                _ => {
                    errors.push((
                        "keep_newest".to_string(),
                        format!(
                            "Keep newest takes a whole number from 1 to {MAX_KEEP_NEWEST}, or nothing to keep all."
                        ),
                    ));
                    None
                }
            },
        };
        let mut replicate_to: Vec<String> = Vec::new();
        let chosen = self.replicate_to.iter().filter(|(_, on)| !on.trim().is_empty()).map(|(region, _)| region.trim());
        for region in chosen {
            match crate::regions::find_region(region) {
                None => errors.push(("replicate_to".to_string(), format!("'{region}' is not a region."))),
                Some(found) if found.id == current_region => errors.push((
                    "replicate_to".to_string(),
                    format!("The family is in {} already; choose other regions.", found.name),
                )),
                Some(found) if !replicate_to.iter().any(|known| known == found.id) => {
                    replicate_to.push(found.id.to_string())
                }
                Some(_) => {}
            }
        }
        if errors.is_empty() {
            Ok(ValidPolicy { keep_newest, replicate_to })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_names_follow_the_rules() {
        assert_eq!(validate_family_name("web-frontend-2"), Ok(()));
        assert!(validate_family_name("").is_err());
        assert!(validate_family_name("Web").unwrap_err().contains("not 'W'"));
        assert!(validate_family_name("2web").unwrap_err().contains("starts with a letter"));
        assert!(validate_family_name("web-").is_err());
        assert!(validate_family_name(&"a".repeat(64)).is_err());
        assert_eq!(validate_optional_family(""), Ok(()));
    }

    #[test]
    fn policies_point_at_their_fields() {
        let good = FamilyPolicyRequest {
            name: "web".into(),
            keep_newest: "3".into(),
            replicate_to: [("ap-southeast-1".to_string(), "on".to_string())].into(),
        };
        assert_eq!(
            good.validate("cn-north-4"),
            Ok(ValidPolicy { keep_newest: Some(3), replicate_to: vec!["ap-southeast-1".into()] })
        );
        let keep_all =
            FamilyPolicyRequest { keep_newest: String::new(), replicate_to: BTreeMap::new(), ..good.clone() };
        assert_eq!(keep_all.validate("cn-north-4").unwrap().keep_newest, None);
        let bad = FamilyPolicyRequest {
            name: "Web".into(),
            keep_newest: "0".into(),
            replicate_to: [("cn-north-4".to_string(), "on".to_string()), ("moon-1".to_string(), "on".to_string())]
                .into(),
        };
        let fields: Vec<String> = bad.validate("cn-north-4").unwrap_err().into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["name", "keep_newest", "replicate_to", "replicate_to"]);
    }
}
