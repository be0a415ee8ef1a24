//! Replication: a copy of a private image within its region under a new name
//! (`imsCopyImageInRegionJob`), or into the account's project of another region
//! (`imsCrossRegionCopyImageJob`). The form and the IMS rules, shared by the dialog (to say
//! why before asking) and the service (which is the guard).

use super::model::{ImageDetail, ImageStatus};
use super::validate::{self, FieldErrors};
use serde::{Deserialize, Serialize};

/// Images whose disk is larger than this cannot be replicated (IMS: 128 GB).
pub const MAX_REPLICA_BYTES: i64 = 128 << 30;
/// The most images one cross-region request may carry.
pub const MAX_CROSS_REGION_IMAGES: usize = 5;

/// The Replicate dialog, and the API bodies mapped onto it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplicateRequest {
    /// Comma-separated ids: one within a region, up to five across regions.
    pub images: String,
    /// `region` (within the image's region) or `cross` (to another region).
    pub replication_type: String,
    /// The replica's name; across regions with several images, empty keeps each one's name.
    pub name: String,
    pub description: String,
    /// Across regions: the destination region and the account's project there.
    pub region: String,
    pub project_id: String,
}

/// A destination region and the account's project there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationTarget {
    pub region: String,
    pub region_name: String,
    pub project_id: String,
    pub project_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replication {
    InRegion {
        image_id: String,
        name: String,
        description: String,
    },
    CrossRegion {
        image_ids: Vec<String>,
        name: Option<String>,
        description: String,
        region: String,
        project_id: String,
    },
}

impl ReplicateRequest {
    /// Checks every field; `current_region` is where the caller works (and the images live).
    pub fn validate(&self, current_region: &str) -> Result<Replication, FieldErrors> {
        let mut errors: FieldErrors = Vec::new();
        let mut push = |field: &str, message: String| errors.push((field.to_string(), message));
        let ids: Vec<String> =
            self.images.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_string).collect();
        if ids.is_empty() {
            push("images", "Choose the image to replicate.".into());
        }
        let cross = match self.replication_type.as_str() {
            "region" => false,
            "cross" => true,
            _ => {
                push("replication_type", "Choose within the region or across regions.".into());
                false
            }
        };
        if !cross && ids.len() > 1 {
            push("images", "Replicate one image at a time within a region.".into());
        }
        if cross && ids.len() > MAX_CROSS_REGION_IMAGES {
            push(
                "images",
                format!(
                    "At most {MAX_CROSS_REGION_IMAGES} images can be replicated across regions in one request; {} are selected.",
                    ids.len()
                ),
            );
        }
        let name = self.name.trim().to_string();
        // With several images, each replica may keep its source's name.
        if !(cross && ids.len() > 1 && name.is_empty()) {
            if let Err(message) = validate::image_name(&name) {
                push("name", message);
            }
        }
        if let Err(message) = validate::description(&self.description) {
            push("description", message);
        }
        if cross {
            match crate::regions::find_region(self.region.trim()) {
                None => push("region", "Choose the destination region.".into()),
                Some(region) if region.id == current_region => push(
                    "region",
                    format!(
                        "The image is already in {}: choose another region, or replicate within the region.",
                        region.name
                    ),
                ),
                Some(_) => {}
            }
            if self.project_id.trim().is_empty() {
                push("project_id", "Choose the destination project.".into());
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let description = self.description.clone();
        Ok(if cross {
            Replication::CrossRegion {
                image_ids: ids,
                name: (!name.is_empty()).then_some(name),
                description,
                region: self.region.trim().to_string(),
                project_id: self.project_id.trim().to_string(),
            }
        } else {
            Replication::InRegion { image_id: ids.into_iter().next().unwrap_or_default(), name, description }
        })
    }
}

/// What the rules look at of a source image.
#[derive(Clone, Copy, Debug)]
pub struct ReplicaSource<'a> {
    /// `private`, `gold` (public) or `market`.
    pub imagetype: &'a str,
    /// The caller owns it (else it is shared with the caller, or a platform image).
    pub owned: bool,
    /// system, data, iso or full_ecs.
    pub kind: &'a str,
    pub status: ImageStatus,
    pub virtual_size: i64,
    pub encrypted: bool,
    /// Published in KooGallery.
    pub published: bool,
}

impl<'a> ReplicaSource<'a> {
    pub fn of(image: &'a ImageDetail) -> ReplicaSource<'a> {
        ReplicaSource {
            imagetype: &image.imagetype,
            owned: image.owned,
            kind: &image.kind,
            status: image.status,
            virtual_size: image.virtual_size,
            encrypted: !image.cmk_id.is_empty(),
            published: image.offering.is_some(),
        }
    }
}

/// Why the image cannot be replicated at all, whichever way (the checks both kinds share).
fn common_refusal(image: &ReplicaSource) -> Option<String> {
    Some(match () {
        _ if image.imagetype == "gold" => "Public images cannot be replicated.".into(),
        _ if image.imagetype == "market" || image.published => "KooGallery images cannot be replicated.".into(),
        _ if !image.owned => {
            "Images shared with you cannot be replicated; ask the owner to replicate it in their project.".into()
        }
        _ if image.kind == "iso" => "ISO images cannot be replicated.".into(),
        _ if image.virtual_size > MAX_REPLICA_BYTES => format!(
            "Images larger than 128 GB cannot be replicated; this one's disk is {} GB.",
            (image.virtual_size as u64).div_ceil(1 << 30)
        ),
        _ if image.status != ImageStatus::Active => "Only images in the Normal state can be replicated.".into(),
        _ => return None,
    })
}

/// Why the image cannot be replicated within its region, if it cannot.
pub fn in_region_refusal(image: &ReplicaSource) -> Option<String> {
    common_refusal(image).or_else(|| {
        (image.kind == "full_ecs").then(|| "Full-ECS images cannot be replicated within a region.".to_string())
    })
}

/// Why the image cannot be replicated to another region, if it cannot.
pub fn cross_region_refusal(image: &ReplicaSource) -> Option<String> {
    common_refusal(image).or_else(|| match () {
        _ if image.encrypted => Some("Encrypted images cannot be replicated across regions.".to_string()),
        _ if image.kind == "full_ecs" => {
            Some("Full-ECS images cannot be replicated across regions: their backups stay in the region.".to_string())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> ReplicaSource<'static> {
        ReplicaSource {
            imagetype: "private",
            owned: true,
            kind: "system",
            status: ImageStatus::Active,
            virtual_size: 40 << 30,
            encrypted: false,
            published: false,
        }
    }

    #[test]
    fn each_refusal_gives_its_reason() {
        assert_eq!(in_region_refusal(&source()), None);
        assert_eq!(cross_region_refusal(&source()), None);
        let iso = ReplicaSource { kind: "iso", ..source() };
        assert!(in_region_refusal(&iso).unwrap().starts_with("ISO images"));
        let full = ReplicaSource { kind: "full_ecs", ..source() };
        assert!(in_region_refusal(&full).unwrap().starts_with("Full-ECS images"));
        assert!(cross_region_refusal(&full).unwrap().starts_with("Full-ECS images"));
        let big = ReplicaSource { virtual_size: (128 << 30) + 1, ..source() };
        assert!(cross_region_refusal(&big).unwrap().contains("129 GB"));
        assert_eq!(in_region_refusal(&ReplicaSource { virtual_size: 128 << 30, ..source() }), None);
        let shared = ReplicaSource { owned: false, ..source() };
        assert!(in_region_refusal(&shared).unwrap().starts_with("Images shared with you"));
        let market = ReplicaSource { published: true, ..source() };
        assert!(in_region_refusal(&market).unwrap().starts_with("KooGallery"));
        let encrypted = ReplicaSource { encrypted: true, ..source() };
        assert_eq!(in_region_refusal(&encrypted), None);
        assert!(cross_region_refusal(&encrypted).unwrap().starts_with("Encrypted images"));
        let saving = ReplicaSource { status: ImageStatus::Saving, ..source() };
        assert!(in_region_refusal(&saving).unwrap().contains("Normal"));
    }

    #[test]
    fn requests_point_at_their_fields() {
        let within = ReplicateRequest {
            images: "a".into(),
            replication_type: "region".into(),
            name: "copy".into(),
            ..Default::default()
        };
        assert_eq!(
            within.validate("cn-north-4"),
            Ok(Replication::InRegion { image_id: "a".into(), name: "copy".into(), description: String::new() })
        );
        let across = ReplicateRequest {
            images: "a,b".into(),
            replication_type: "cross".into(),
            region: "ap-southeast-1".into(),
            project_id: "p".into(),
            ..Default::default()
        };
        assert!(matches!(across.validate("cn-north-4"), Ok(Replication::CrossRegion { name: None, .. })));
        let fields = |request: &ReplicateRequest| -> Vec<String> {
            request.validate("cn-north-4").unwrap_err().into_iter().map(|(field, _)| field).collect()
        };
        let same = ReplicateRequest { region: "cn-north-4".into(), project_id: String::new(), ..across.clone() };
        assert_eq!(fields(&same), ["region", "project_id"]);
        let six = ReplicateRequest { images: "a,b,c,d,e,f".into(), ..across.clone() };
        assert_eq!(fields(&six), ["images"]);
        let bad = ReplicateRequest { images: "a,b".into(), name: "a;b".into(), ..within.clone() };
        assert_eq!(fields(&bad), ["images", "name"]);
        assert_eq!(fields(&ReplicateRequest::default()), ["images", "replication_type", "name"]);
    }
}
