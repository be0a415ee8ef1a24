//! What the KooGallery pages, the server functions and the services share: offerings, their
//! prices, subscriptions, and the Publish dialog's fields.

use serde::{Deserialize, Serialize};

/// The highest hourly price a publisher may ask, in cents.
pub const MAX_PRICE_CENTS: i64 = 100_000;

/// An image listed in KooGallery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Offering {
    pub image_id: String,
    pub name: String,
    pub description: String,
    pub publisher: String,
    /// Per hour; 0 is free.
    pub price_cents: i64,
    pub published_at: i64,
}

/// A project's acceptance of a paid image's price.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Subscription {
    pub id: String,
    pub image_id: String,
    pub image_name: String,
    pub publisher: String,
    pub price_cents: i64,
    pub accepted_by: String,
    pub created_at: i64,
    /// ECSs of the project that run this image now.
    pub servers: i64,
}

/// "Free", or the hourly price in US dollars.
pub fn price_label(cents: i64) -> String {
    if cents <= 0 {
        "Free".to_string()
    } else {
        format!("USD {}.{:02}/hour", cents / 100, cents % 100)
    }
}

/// The Publish dialog's price: dollars per hour with at most two decimals; empty is free.
pub fn parse_price(text: &str) -> Result<i64, String> {
    let text = text.trim().trim_start_matches('$');
    if text.is_empty() {
        return Ok(0);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    let valid = digits(whole) && (fraction.is_empty() || (digits(fraction) && fraction.len() <= 2)) && whole.len() <= 6;
    if !valid {
        return Err(format!("'{text}' is not a price: enter US dollars per hour, like 0.25."));
    }
    let cents = whole.parse::<i64>().unwrap_or(i64::MAX) * 100 + format!("{fraction:0<2}").parse::<i64>().unwrap_or(0);
    if cents > MAX_PRICE_CENTS {
        return Err(format!("The price can be at most {}.", price_label(MAX_PRICE_CENTS)));
    }
    Ok(cents)
}

/// Why an image cannot be published in KooGallery, if it cannot, as a clause that follows
/// "cannot be published:". The service and the detail page both ask this one.
pub fn publish_refusal(active: bool, kind: &str, encrypted: bool, shared: bool) -> Option<&'static str> {
    if !active {
        Some("only images in the Normal state can be published.")
    } else if kind != "system" {
        Some("only system disk images can be published in KooGallery.")
    } else if encrypted {
        Some("encrypted images cannot be published.")
    } else if shared {
        Some("it is shared with other projects, and shared images cannot be published. Stop sharing it first.")
    } else {
        None
    }
}

/// The Publish dialog's form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublishRequest {
    pub image_id: String,
    pub name: String,
    pub description: String,
    pub price: String,
}

/// A valid Publish form: name, description, price in cents.
pub struct ValidPublish {
    pub name: String,
    pub description: String,
    pub price_cents: i64,
}

impl PublishRequest {
    pub fn validate(&self) -> Result<ValidPublish, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_string();
        if !(1..=128).contains(&name.chars().count()) {
            errors.push(("name".to_string(), "Enter an offering name of 1 to 128 characters.".to_string()));
        }
        let description = self.description.trim().to_string();
        if description.chars().count() > 1024 {
            errors.push(("description".to_string(), "The description can be at most 1024 characters.".to_string()));
        }
        let price_cents = parse_price(&self.price).unwrap_or_else(|message| {
            errors.push(("price".to_string(), message));
            0
        });
        if errors.is_empty() {
            Ok(ValidPublish { name, description, price_cents })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_as_dollars_per_hour() {
        assert_eq!(parse_price(""), Ok(0));
        assert_eq!(parse_price("0.25"), Ok(25));
        assert_eq!(parse_price("$1.5"), Ok(150));
        assert_eq!(parse_price("3"), Ok(300));
        assert!(parse_price("1.234").unwrap_err().contains("not a price"));
        assert!(parse_price("-1").is_err());
        assert!(parse_price("5000").unwrap_err().contains("at most"));
        assert_eq!(price_label(0), "Free");
        assert_eq!(price_label(125), "USD 1.25/hour");
        assert_eq!(publish_refusal(true, "system", false, false), None);
        assert!(publish_refusal(true, "data", false, false).unwrap().contains("only system disk images"));
        assert!(publish_refusal(true, "system", false, true).unwrap().contains("Stop sharing"));
    }

    #[test]
    fn a_publish_form_names_each_bad_field() {
        let request = PublishRequest { name: " ".into(), price: "abc".into(), ..Default::default() };
        let fields: Vec<String> = request.validate().err().unwrap().into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, vec!["name", "price"]);
    }
}
