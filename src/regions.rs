//! The regions this deployment serves. Every image lives in exactly one of them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub id: &'static str,
    pub name: &'static str,
}

pub const REGIONS: &[Region] =
    &[Region { id: "cn-north-4", name: "CN North-Beijing4" }, Region { id: "ap-southeast-1", name: "AP-Hong Kong" }];

pub const DEFAULT_REGION: &str = "cn-north-4";

pub fn find_region(id: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|region| region.id == id)
}

pub fn region_name(id: &str) -> &str {
    find_region(id).map(|region| region.name).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_region_is_configured() {
        assert!(find_region(DEFAULT_REGION).is_some());
        assert!(REGIONS.len() >= 2);
        assert_eq!(region_name("ap-southeast-1"), "AP-Hong Kong");
        assert!(find_region("moon-1").is_none());
    }
}
