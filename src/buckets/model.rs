//! What the bucket pages, the upload endpoints and the services share: the records and the
//! naming rules of buckets and objects.

use serde::{Deserialize, Serialize};

/// Chunk size of browser uploads; each chunk is stored as it arrives, so an interrupted
/// upload resumes from the last stored chunk.
pub const UPLOAD_CHUNK_SIZE: u64 = 8 * 1024 * 1024;
/// The largest object one upload may create.
pub const MAX_OBJECT_SIZE: u64 = 1 << 41;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BucketView {
    pub name: String,
    pub created_at: i64,
    pub objects: i64,
    pub bytes: i64,
}

/// An upload that has not completed: choosing the same file again resumes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadView {
    pub key: String,
    pub size: i64,
    pub received_bytes: i64,
    pub updated_at: i64,
}

/// Where a chunked upload stands: the answer of the upload endpoints, which the browser's
/// uploader reads to know which chunks it still has to send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadState {
    pub upload_id: String,
    pub key: String,
    pub size: u64,
    pub chunk_size: u64,
    pub chunk_count: u64,
    pub received: Vec<u64>,
}

/// The object a completed upload made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompletedUpload {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectView {
    pub key: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

/// S3 bucket naming rules: 3-63 characters of lowercase letters, digits, hyphens and dots,
/// starting and ending with a letter or digit, no "..", not shaped like an IP address.
pub fn validate_bucket_name(name: &str) -> Result<(), String> {
    let length = name.chars().count();
    if !(3..=63).contains(&length) {
        return Err("A bucket name has 3 to 63 characters.".into());
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
        return Err("A bucket name may contain only lowercase letters, digits, hyphens (-) and periods (.).".into());
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Err("A bucket name starts and ends with a lowercase letter or a digit.".into());
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err("A bucket name cannot contain two periods in a row or a period next to a hyphen.".into());
    }
    if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Err("A bucket name cannot look like an IP address.".into());
    }
    Ok(())
}

/// Object names: 1-1024 bytes, no control characters, no empty, "." or ".." path segments.
pub fn validate_object_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 1024 {
        return Err("An object name has 1 to 1024 bytes.".into());
    }
    if key.chars().any(|c| c.is_control()) {
        return Err("An object name cannot contain control characters.".into());
    }
    if key.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return Err("An object name cannot start or end with '/', contain '//', or use '.' or '..' as a folder.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["images", "my-bucket.2026", "abc", "a1b"] {
            assert!(validate_bucket_name(good).is_ok(), "{good}");
        }
        for (bad, message) in [
            ("ab", "3 to 63"),
            ("My-Bucket", "lowercase"),
            ("-images", "starts and ends"),
            ("images-", "starts and ends"),
            ("a..b", "two periods"),
            ("192.168.1.10", "IP address"),
            ("under_score", "lowercase"),
        ] {
            assert!(validate_bucket_name(bad).unwrap_err().contains(message), "{bad}");
        }
    }

    #[test]
    fn object_keys_cannot_escape() {
        assert!(validate_object_key("images/ubuntu 22.04.qcow2").is_ok());
        for bad in ["", "/abs", "a//b", "a/../b", "./a", "dir/", "tab\there"] {
            assert!(validate_object_key(bad).is_err(), "{bad:?}");
        }
    }
}
