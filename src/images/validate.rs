//! IMS rules for image attributes, shared by the browser (to point at the field) and the server
//! (which is the guard).

/// An error that belongs to one form field.
pub type FieldErrors = Vec<(String, String)>;

/// 1-128 characters: letters, digits, '-', '.', '_', spaces and CJK; no leading or trailing space.
pub fn image_name(name: &str) -> Result<(), String> {
    let length = name.chars().count();
    if !(1..=128).contains(&length) {
        return Err("Enter a name of 1 to 128 characters.".into());
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return Err("The name cannot start or end with a space.".into());
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ' ') || ('\u{4e00}'..='\u{9fff}').contains(&c)
    };
    match name.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(format!(
            "The name cannot contain '{c}': use letters, digits, spaces, '-', '.', '_' or Chinese characters."
        )),
        None => Ok(()),
    }
}

/// At most 1024 characters, without carriage returns, '<' or '>'.
pub fn description(text: &str) -> Result<(), String> {
    if text.chars().count() > 1024 {
        return Err("The description can have at most 1024 characters.".into());
    }
    if text.contains(['\r', '<', '>']) {
        return Err("The description cannot contain carriage returns, '<' or '>'.".into());
    }
    Ok(())
}

/// A whole number in `range`, or `None` when the field is empty.
pub fn optional_number(text: &str, range: std::ops::RangeInclusive<i64>, what: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(value) if range.contains(&value) => Ok(Some(value)),
        _ => Err(format!("{what} must be a whole number from {} to {}.", range.start(), range.end())),
    }
}

/// The most tags an image may have.
pub const MAX_TAGS: usize = 10;

/// Letters (any script), digits, '_' and '-'.
fn tag_text_allowed(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-')
}

fn tag_text(text: &str, what: &str) -> Result<(), String> {
    match text.chars().find(|c| !tag_text_allowed(*c)) {
        Some(c) => Err(format!("{what} cannot contain '{c}': use letters, digits, '_' or '-'.")),
        None => Ok(()),
    }
}

/// 1-36 characters: letters (any script), digits, '_' and '-'.
pub fn tag_key(key: &str) -> Result<(), String> {
    if !(1..=36).contains(&key.chars().count()) {
        return Err("A tag key has 1 to 36 characters.".into());
    }
    tag_text(key, "A tag key")
}

/// 0-43 characters: letters (any script), digits, '_' and '-'.
pub fn tag_value(value: &str) -> Result<(), String> {
    if value.chars().count() > 43 {
        return Err("A tag value has at most 43 characters.".into());
    }
    tag_text(value, "A tag value")
}

/// `key=value` pairs separated by commas, each checked as above; at most MAX_TAGS, keys unique.
pub fn tags(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((pair, ""));
        tag_key(key).map_err(|message| format!("Tag '{pair}': {message}"))?;
        tag_value(value).map_err(|message| format!("Tag '{pair}': {message}"))?;
        if tags.iter().any(|(existing, _)| existing == key) {
            return Err(format!("Tag key '{key}' appears twice."));
        }
        tags.push((key.to_string(), value.to_string()));
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("An image can have at most {MAX_TAGS} tags."));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_ims_rules() {
        assert!(image_name("web-server_01 v2.1").is_ok());
        assert!(image_name("中文镜像").is_ok());
        assert!(image_name("").is_err());
        assert!(image_name(" padded").is_err());
        assert!(image_name(&"x".repeat(129)).is_err());
        assert!(image_name("semi;colon").unwrap_err().contains("';'"));
    }

    #[test]
    fn descriptions_numbers_and_tags() {
        assert!(description("fine text").is_ok());
        assert!(description("<script>").is_err());
        assert_eq!(optional_number(" 40 ", 1..=1024, "Min. disk"), Ok(Some(40)));
        assert_eq!(optional_number("", 1..=1024, "Min. disk"), Ok(None));
        assert!(optional_number("2048", 1..=1024, "Min. disk").unwrap_err().contains("1 to 1024"));
        assert_eq!(
            tags("env=prod, team = web").unwrap(),
            vec![("env".into(), "prod".into()), ("team".into(), "web".into())]
        );
        assert!(tags("env=a, env=b").unwrap_err().contains("twice"));
        assert!(tags("=x").is_err());
        let eleven: Vec<String> = (0..11).map(|n| format!("k{n}=v")).collect();
        assert!(tags(&eleven.join(",")).unwrap_err().contains("at most 10"));
    }

    #[test]
    fn tag_keys_and_values_follow_ims_rules() {
        assert!(tag_key("cost-center_2").is_ok());
        assert!(tag_key("環境").is_ok(), "Unicode letters are allowed");
        assert!(tag_key("").unwrap_err().contains("1 to 36"));
        assert!(tag_key(&"k".repeat(36)).is_ok());
        assert!(tag_key(&"k".repeat(37)).is_err());
        assert!(tag_key("a.b").unwrap_err().contains("'.'"));
        assert!(tag_value("").is_ok());
        assert!(tag_value(&"v".repeat(43)).is_ok());
        assert!(tag_value(&"v".repeat(44)).unwrap_err().contains("43"));
        assert!(tag_value("a b").unwrap_err().contains("' '"));
    }
}
