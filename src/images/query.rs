//! The image list's filter, sort and page state. It lives in the URL (`/images/{tab}?...`), so a
//! reload, the back button or a pasted link shows the same view.

use super::model::{ImageStatus, IMAGE_KINDS, OS_TYPES, PLATFORMS};
use crate::error::AppError;
use crate::format::{day_range, page_number, url_encode};
use crate::sharing::model::MemberStatus;
use serde::{Deserialize, Serialize};

pub const PAGE_SIZES: &[u32] = &[10, 20, 50, 100];
const DEFAULT_PAGE_SIZE: u32 = 10;
const MAX_NAME_FILTER: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageTab {
    Public,
    Private,
    Shared,
    Market,
}

impl ImageTab {
    pub const ALL: [ImageTab; 4] = [ImageTab::Public, ImageTab::Private, ImageTab::Shared, ImageTab::Market];

    pub fn parse(text: &str) -> Option<ImageTab> {
        match text {
            "public" => Some(ImageTab::Public),
            "private" => Some(ImageTab::Private),
            "shared" => Some(ImageTab::Shared),
            "market" => Some(ImageTab::Market),
            _ => None,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            ImageTab::Public => "public",
            ImageTab::Private => "private",
            ImageTab::Shared => "shared",
            ImageTab::Market => "market",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ImageTab::Public => "Public Images",
            ImageTab::Private => "Private Images",
            ImageTab::Shared => "Images Shared with Me",
            ImageTab::Market => "KooGallery Images",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    Created,
    Name,
    Size,
}

impl SortKey {
    pub fn slug(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Name => "name",
            SortKey::Size => "size",
        }
    }
}

/// The raw URL parameters, exactly as typed; `validate` turns them into a `ValidQuery`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageQuery {
    pub tab: String,
    pub name: String,
    pub os_type: String,
    pub platform: String,
    pub image_type: String,
    pub status: String,
    pub tag_key: String,
    pub tag_value: String,
    pub created_from: String,
    pub created_to: String,
    pub sort: String,
    pub order: String,
    pub page: String,
    pub page_size: String,
    /// Images Shared with Me: `accepted` (the default), `pending` or `rejected`.
    pub member_status: String,
    /// `1`: only the images the user starred.
    pub frequently_used: String,
    /// `1`: deprecated images too (they are left out otherwise).
    pub show_deprecated: String,
}

/// The URL parameter names other than the tab, in the order links write them.
pub const QUERY_KEYS: &[&str] = &[
    "name",
    "os_type",
    "platform",
    "image_type",
    "status",
    "tag_key",
    "tag_value",
    "created_from",
    "created_to",
    "sort",
    "order",
    "page",
    "page_size",
    "member_status",
    "frequently_used",
    "show_deprecated",
];

#[derive(Clone, Debug, PartialEq)]
pub struct ValidQuery {
    pub tab: ImageTab,
    pub name: Option<String>,
    pub os_type: Option<String>,
    pub platform: Option<String>,
    pub kind: Option<String>,
    pub status: Option<ImageStatus>,
    pub tag_key: Option<String>,
    pub tag_value: Option<String>,
    /// Inclusive start, unix ms.
    pub created_from_ms: Option<i64>,
    /// Exclusive end (the start of the day after `created_to`), unix ms.
    pub created_until_ms: Option<i64>,
    pub sort: SortKey,
    pub descending: bool,
    pub page: u32,
    pub page_size: u32,
    pub member_status: MemberStatus,
    pub frequently_used: bool,
    pub show_deprecated: bool,
}

fn non_empty(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn one_of(value: &str, allowed: &[&str], what: &str) -> Result<Option<String>, AppError> {
    match non_empty(value) {
        None => Ok(None),
        Some(value) if allowed.contains(&value.as_str()) => Ok(Some(value)),
        Some(value) => {
            Err(AppError::Invalid(format!("'{value}' is not a valid {what}. Choose one of: {}.", allowed.join(", "))))
        }
    }
}

impl ImageQuery {
    /// Builds the query from the tab and a URL-parameter lookup.
    pub fn from_params(tab: &str, get: impl Fn(&str) -> Option<String>) -> ImageQuery {
        let value = |key: &str| get(key).unwrap_or_default();
        ImageQuery {
            tab: tab.to_string(),
            name: value("name"),
            os_type: value("os_type"),
            platform: value("platform"),
            image_type: value("image_type"),
            status: value("status"),
            tag_key: value("tag_key"),
            tag_value: value("tag_value"),
            created_from: value("created_from"),
            created_to: value("created_to"),
            sort: value("sort"),
            order: value("order"),
            page: value("page"),
            page_size: value("page_size"),
            member_status: value("member_status"),
            frequently_used: value("frequently_used"),
            show_deprecated: value("show_deprecated"),
        }
    }

    pub fn get(&self, key: &str) -> &str {
        match key {
            "name" => &self.name,
            "os_type" => &self.os_type,
            "platform" => &self.platform,
            "image_type" => &self.image_type,
            "status" => &self.status,
            "tag_key" => &self.tag_key,
            "tag_value" => &self.tag_value,
            "created_from" => &self.created_from,
            "created_to" => &self.created_to,
            "sort" => &self.sort,
            "order" => &self.order,
            "page" => &self.page,
            "page_size" => &self.page_size,
            "member_status" => &self.member_status,
            "frequently_used" => &self.frequently_used,
            "show_deprecated" => &self.show_deprecated,
            _ => "",
        }
    }

    /// The link to this view; empty parameters are left out.
    pub fn href(&self) -> String {
        let pairs: Vec<String> = QUERY_KEYS
            .iter()
            .filter(|key| !self.get(key).is_empty())
            .map(|key| format!("{key}={}", url_encode(self.get(key))))
            .collect();
        let path = format!("/images/{}", if self.tab.is_empty() { "public" } else { &self.tab });
        if pairs.is_empty() {
            path
        } else {
            format!("{path}?{}", pairs.join("&"))
        }
    }

    /// Export List's link: this view's tab, filters and sort, over all pages.
    pub fn export_href(&self) -> String {
        let tab = if self.tab.is_empty() { "public" } else { &self.tab };
        let pairs: String = QUERY_KEYS
            .iter()
            .filter(|key| !matches!(**key, "page" | "page_size") && !self.get(key).is_empty())
            .map(|key| format!("&{key}={}", url_encode(self.get(key))))
            .collect();
        format!("/export/images.csv?tab={}{pairs}", url_encode(tab))
    }

    pub fn with_page(&self, page: u32) -> ImageQuery {
        ImageQuery { page: if page <= 1 { String::new() } else { page.to_string() }, ..self.clone() }
    }

    /// Sorting by a column: a new column starts descending for time and size, ascending for
    /// names; the same column again flips the order. Sorting goes back to the first page.
    pub fn with_sort(&self, key: SortKey, current: &ValidQuery) -> ImageQuery {
        let order = if current.sort == key {
            if current.descending {
                "asc"
            } else {
                "desc"
            }
        } else if key == SortKey::Name {
            "asc"
        } else {
            "desc"
        };
        ImageQuery { sort: key.slug().to_string(), order: order.to_string(), page: String::new(), ..self.clone() }
    }

    pub fn validate(&self) -> Result<ValidQuery, AppError> {
        let tab = ImageTab::parse(&self.tab)
            .ok_or_else(|| AppError::NotFound(format!("There is no image list called '{}'.", self.tab)))?;
        let name = non_empty(&self.name);
        if name.as_ref().is_some_and(|name| name.chars().count() > MAX_NAME_FILTER) {
            return Err(AppError::Invalid(format!(
                "The name filter can be at most {MAX_NAME_FILTER} characters long."
            )));
        }
        let kind_values: Vec<&str> = IMAGE_KINDS.iter().map(|(value, _)| *value).collect();
        let status_values: Vec<&str> = ImageStatus::FILTERS.iter().map(|status| status.as_str()).collect();
        let tag_key = non_empty(&self.tag_key);
        let tag_value = non_empty(&self.tag_value);
        if tag_value.is_some() && tag_key.is_none() {
            return Err(AppError::Invalid("Enter a tag key to filter by tag value.".into()));
        }
        let (created_from_ms, created_until_ms) =
            day_range(&self.created_from, &self.created_to).map_err(AppError::Invalid)?;
        let sort = match self.sort.trim() {
            "" | "created" => SortKey::Created,
            "name" => SortKey::Name,
            "size" => SortKey::Size,
            other => {
                return Err(AppError::Invalid(format!("Cannot sort by '{other}'. Sort by name, created or size.")))
            }
        };
        let descending = match self.order.trim() {
            "" => sort != SortKey::Name,
            "desc" => true,
            "asc" => false,
            other => return Err(AppError::Invalid(format!("'{other}' is not a sort order. Use asc or desc."))),
        };
        let page = page_number(&self.page).map_err(AppError::Invalid)?;
        let page_size = match self.page_size.trim() {
            "" => DEFAULT_PAGE_SIZE,
            text => text.parse::<u32>().ok().filter(|size| PAGE_SIZES.contains(size)).ok_or_else(|| {
                AppError::Invalid(format!("Page size '{text}' is not offered. Choose 10, 20, 50 or 100."))
            })?,
        };
        let member_status = match self.member_status.trim() {
            "" => MemberStatus::Accepted,
            text => MemberStatus::parse(text).ok_or_else(|| {
                AppError::Invalid(format!("'{text}' is not a share status. Use accepted, pending or rejected."))
            })?,
        };
        Ok(ValidQuery {
            member_status,
            frequently_used: switch(&self.frequently_used, "Frequently Used")?,
            show_deprecated: switch(&self.show_deprecated, "Show deprecated")?,
            tab,
            name,
            os_type: one_of(&self.os_type, OS_TYPES, "OS type")?,
            platform: one_of(&self.platform, PLATFORMS, "OS platform")?,
            kind: one_of(&self.image_type, &kind_values, "image type")?,
            status: one_of(&self.status, &status_values, "status")?.as_deref().and_then(ImageStatus::parse),
            tag_key,
            tag_value,
            created_from_ms,
            created_until_ms,
            sort,
            descending,
            page,
            page_size,
        })
    }
}

/// A filter that is on (`1`, as a checkbox sends it) or off (empty).
fn switch(text: &str, what: &str) -> Result<bool, AppError> {
    match text.trim() {
        "" | "0" => Ok(false),
        "1" | "on" | "true" => Ok(true),
        other => {
            Err(AppError::Invalid(format!("'{other}' is not a value of the {what} filter. Use 1 or leave it out.")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> ImageQuery {
        ImageQuery::from_params("private", |key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn defaults_sort_newest_first_ten_a_page() {
        let valid = query(&[]).validate().unwrap();
        assert_eq!(valid.tab, ImageTab::Private);
        assert!(!valid.frequently_used && !valid.show_deprecated);
        assert!(query(&[("frequently_used", "1"), ("show_deprecated", "1")]).validate().unwrap().frequently_used);
        assert_eq!((valid.sort, valid.descending, valid.page, valid.page_size), (SortKey::Created, true, 1, 10));
    }

    #[test]
    fn href_round_trips_through_the_url() {
        let original = query(&[("name", "web server"), ("os_type", "Linux"), ("page", "3"), ("page_size", "20")]);
        assert_eq!(original.href(), "/images/private?name=web%20server&os_type=Linux&page=3&page_size=20");
        assert_eq!(original.with_page(1).href(), "/images/private?name=web%20server&os_type=Linux&page_size=20");
    }

    #[test]
    fn the_export_link_keeps_filters_and_sort_but_not_the_page() {
        let view = query(&[("name", "web"), ("sort", "name"), ("page", "3"), ("page_size", "20")]);
        assert_eq!(view.export_href(), "/export/images.csv?tab=private&name=web&sort=name");
    }

    #[test]
    fn sorting_toggles_and_resets_the_page() {
        let base = query(&[("page", "4")]);
        let valid = base.validate().unwrap();
        let by_name = base.with_sort(SortKey::Name, &valid);
        assert_eq!((by_name.sort.as_str(), by_name.order.as_str(), by_name.page.as_str()), ("name", "asc", ""));
        let flipped = base.with_sort(SortKey::Created, &valid);
        assert_eq!(flipped.order, "asc");
    }

    #[test]
    fn rejects_bad_values_with_specific_messages() {
        let message = |pairs: &[(&str, &str)]| query(pairs).validate().unwrap_err().to_string();
        assert!(message(&[("page_size", "37")]).contains("Choose 10, 20, 50 or 100"));
        assert!(message(&[("page", "0")]).contains("not a page number"));
        assert!(message(&[("os_type", "Plan9")]).contains("OS type"));
        assert!(message(&[("status", "gone")]).contains("status"));
        assert!(message(&[("sort", "owner")]).contains("Cannot sort by 'owner'"));
        assert!(message(&[("tag_value", "prod")]).contains("tag key"));
        assert!(message(&[("created_from", "2026-02-30")]).contains("not a date"));
        assert!(message(&[("created_from", "2026-03-02"), ("created_to", "2026-03-01")]).contains("start date"));
        assert!(message(&[("frequently_used", "maybe")]).contains("Frequently Used"));
        let unknown_tab = ImageQuery { tab: "secret".into(), ..Default::default() };
        assert!(matches!(unknown_tab.validate(), Err(AppError::NotFound(_))));
    }

    #[test]
    fn a_one_day_range_covers_that_whole_day() {
        let valid = query(&[("created_from", "2026-03-01"), ("created_to", "2026-03-01")]).validate().unwrap();
        assert_eq!(valid.created_until_ms.unwrap() - valid.created_from_ms.unwrap(), 86_400_000);
    }
}
