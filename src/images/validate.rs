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

/// `key=value` pairs separated by commas; keys 1-128 characters, values up to 255, at most 20.
pub fn tags(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((pair, ""));
        if key.is_empty() || key.chars().count() > 128 {
            return Err(format!("Tag '{pair}' needs a key of 1 to 128 characters."));
        }
        if value.chars().count() > 255 {
            return Err(format!("The value of tag '{key}' can have at most 255 characters."));
        }
        if tags.iter().any(|(existing, _)| existing == key) {
            return Err(format!("Tag key '{key}' appears twice."));
        }
        tags.push((key.to_string(), value.to_string()));
    }
    if tags.len() > 20 {
        return Err("An image can have at most 20 tags.".into());
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
    }
}
