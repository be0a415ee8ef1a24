//! SDK-HMAC-SHA256, the AK/SK request signature of Huawei Cloud's SDKs, checked the way
//! `huaweicloudsdkcore/signer/signer.py` computes it (reference: ims-api.md §6). Plain
//! functions over the request's parts, so the reference's worked examples are unit tests.

use crate::format::{percent_decode, percent_encode as encode};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DATE_HEADER: &str = "x-sdk-date";
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// sha256 of nothing: the payload hash of a request without a body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The parts of an `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    /// Lower-cased header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Why a request's signature was not accepted (the API says which, never the expected value).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Authorization header is missing")]
    Missing,
    #[error("the Authorization header is not an SDK-HMAC-SHA256 signature")]
    Malformed,
    #[error("the signature does not cover the {0} header")]
    HeaderNotSigned(&'static str),
    #[error("the signed header {0} is not in the request")]
    SignedHeaderAbsent(String),
    #[error("X-Sdk-Date must be a UTC time like 20240102T030405Z")]
    BadDate,
    #[error("X-Sdk-Date is more than 15 minutes away from the server's time")]
    StaleDate,
    #[error("the signature does not match the request")]
    Mismatch,
}

/// Reads the Authorization header's value.
pub fn parse_authorization(value: &str) -> Result<Authorization, SignatureError> {
    let rest = value.trim().strip_prefix(ALGORITHM).ok_or(SignatureError::Malformed)?;
    if !rest.starts_with(' ') {
        return Err(SignatureError::Malformed);
    }
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        let slot = match name.trim() {
            "Access" => &mut access,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return Err(SignatureError::Malformed),
        };
        if slot.replace(value.trim().to_string()).is_some() {
            return Err(SignatureError::Malformed);
        }
    }
    let (Some(access_key), Some(signed), Some(signature)) = (access, signed, signature) else {
        return Err(SignatureError::Malformed);
    };
    let signed_headers: Vec<String> = signed.split(';').map(|name| name.trim().to_ascii_lowercase()).collect();
    let plausible_key = !access_key.is_empty() && access_key.len() <= 128;
    if !plausible_key || signed_headers.iter().any(String::is_empty) || signature.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    Ok(Authorization { access_key, signed_headers, signature: signature.to_ascii_lowercase() })
}

/// Unix seconds of an `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`).
pub fn parse_sdk_date(text: &str) -> Result<i64, SignatureError> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let at = time::PrimitiveDateTime::parse(text.trim(), &format).map_err(|_| SignatureError::BadDate)?;
    Ok(at.assume_utc().unix_timestamp())
}

/// Within the 15 minutes either way that the gateway allows.
pub fn check_skew(signed_at: i64, now: i64) -> Result<(), SignatureError> {
    if (signed_at - now).abs() > 15 * 60 {
        Err(SignatureError::StaleDate)
    } else {
        Ok(())
    }
}

/// The path as signed: fully decoded, each segment re-encoded, always ending in `/`.
pub fn canonical_uri(raw_path: &str) -> String {
    let decoded = percent_decode(raw_path);
    let mut uri = decoded.split(|byte| *byte == b'/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The query as signed: its pairs decoded, sorted, re-encoded.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(key, value)| format!("{}={}", encode(key), encode(value))).collect::<Vec<_>>().join("&")
}

/// The canonical request of ims-api.md §6.2, step 3. `header` gives a received header's value
/// by lower-case name; every signed header must be there.
pub fn canonical_request(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    signed_headers: &[String],
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<String, SignatureError> {
    let mut canonical_headers = String::new();
    for name in signed_headers {
        let value = header(name).ok_or_else(|| SignatureError::SignedHeaderAbsent(name.clone()))?;
        canonical_headers.push_str(&format!("{name}:{}\n", value.trim()));
    }
    let unsigned_payload = signed_headers.iter().any(|name| name == CONTENT_SHA256_HEADER)
        && header(CONTENT_SHA256_HEADER).is_some_and(|value| value.trim() == UNSIGNED_PAYLOAD);
    let payload_hash = if body.is_empty() {
        EMPTY_SHA256.to_string()
    } else if unsigned_payload {
        UNSIGNED_PAYLOAD.to_string()
    } else {
        sha256_hex(body)
    };
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_uri(raw_path),
        canonical_query(raw_query),
        canonical_headers,
        signed_headers.join(";"),
        payload_hash
    ))
}

pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", sha256_hex(canonical_request.as_bytes()))
}

pub fn sign(secret_key: &[u8], string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key).expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    crate::engine::sealed::hex(&mac.finalize().into_bytes())
}

/// Checks `signature` (lower-case hex) against the request in constant time.
pub fn verify(secret_key: &[u8], string_to_sign: &str, signature: &str) -> Result<(), SignatureError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key).expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    let bytes: Option<Vec<u8>> =
        (0..signature.len()).step_by(2).map(|at| u8::from_str_radix(signature.get(at..at + 2)?, 16).ok()).collect();
    mac.verify_slice(&bytes.ok_or(SignatureError::Mismatch)?).map_err(|_| SignatureError::Mismatch)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::engine::sealed::hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked examples of ims-api.md §6.4, computed by the SDK's own Signer.sign().
    const SK: &[u8] = b"ExampleSecretKey/0123456789abcdefghijklmn";
    const DATE: &str = "20240102T030405Z";

    fn headers(content_type: &'static str, unsigned: bool) -> impl Fn(&str) -> Option<String> {
        move |name: &str| {
            Some(
                match name {
                    "content-type" => content_type,
                    "host" => "127.0.0.1:3000",
                    "user-agent" => "huaweicloud-usdk-python/3.0",
                    "x-project-id" => "0123456789abcdef0123456789abcdef",
                    "x-sdk-date" => DATE,
                    "x-sdk-content-sha256" if unsigned => UNSIGNED_PAYLOAD,
                    _ => return None,
                }
                .to_string(),
            )
        }
    }

    fn names(list: &str) -> Vec<String> {
        list.split(';').map(str::to_string).collect()
    }

    const SIGNED: &str = "content-type;host;user-agent;x-project-id;x-sdk-date";

    #[test]
    fn example_1_get_with_a_query() {
        let query =
            "__imagetype=private&created_at=gt%3A2024-01-01T00%3A00%3A00Z&limit=10&name=my%20image&protected=false";
        let canonical =
            canonical_request("GET", "/v2/cloudimages", query, &names(SIGNED), headers("application/json", false), b"")
                .unwrap();
        assert_eq!(
            canonical,
            format!(
                "GET\n/v2/cloudimages/\n{query}\ncontent-type:application/json\nhost:127.0.0.1:3000\n\
                 user-agent:huaweicloud-usdk-python/3.0\nx-project-id:0123456789abcdef0123456789abcdef\n\
                 x-sdk-date:20240102T030405Z\n\n{SIGNED}\n{EMPTY_SHA256}"
            )
        );
        let to_sign = string_to_sign(DATE, &canonical);
        assert!(to_sign.ends_with("755ca8b8e64a1da78628aefe66bff3e3e578c5ce408818cfcb2aeff735352ca1"));
        let signature = "025198ba90830555c468ca5d075142acc4b4ea2d3d43351f5ad360af23abd36a";
        assert_eq!(sign(SK, &to_sign), signature);
        assert_eq!(verify(SK, &to_sign, signature), Ok(()));
        // The same query in another order signs the same.
        let shuffled =
            "name=my%20image&limit=10&protected=false&__imagetype=private&created_at=gt%3A2024-01-01T00%3A00%3A00Z";
        assert_eq!(canonical_query(shuffled), query);
    }

    #[test]
    fn example_2_post_with_a_json_body() {
        let body = br#"{"name": "img-from-obs", "image_url": "my-bucket:centos.qcow2", "min_disk": 40}"#;
        let canonical = canonical_request(
            "POST",
            "/v2/cloudimages/action",
            "",
            &names(SIGNED),
            headers("application/json;charset=utf-8", false),
            body,
        )
        .unwrap();
        assert!(canonical.ends_with("4343f51b410f6ef6f65ee464e63aca2ac028646abedadd5e43ddae9bb0caaaaa"));
        let to_sign = string_to_sign(DATE, &canonical);
        assert!(to_sign.ends_with("b87ad7f8cbf10d8f8385cf4dbb941bbe9136ad9419541f6eda0da4be6ae29c4c"));
        assert_eq!(sign(SK, &to_sign), "02557301a6fb28767c05c522420b7ed16476c8f2e196071cdc1b84997c1b35b6");
        // A changed body no longer matches.
        let tampered = canonical_request(
            "POST",
            "/v2/cloudimages/action",
            "",
            &names(SIGNED),
            headers("application/json;charset=utf-8", false),
            br#"{"name": "img-from-obs", "image_url": "my-bucket:other.qcow2", "min_disk": 40}"#,
        )
        .unwrap();
        let signature = "02557301a6fb28767c05c522420b7ed16476c8f2e196071cdc1b84997c1b35b6";
        assert_eq!(verify(SK, &string_to_sign(DATE, &tampered), signature), Err(SignatureError::Mismatch));
    }

    #[test]
    fn example_3_an_encoded_slash_in_a_path_parameter() {
        let path = "/v2/images/11111111-2222-3333-4444-555555555555/tags/a%20b%2Fc";
        assert_eq!(canonical_uri(path), "/v2/images/11111111-2222-3333-4444-555555555555/tags/a%20b/c/");
        let canonical =
            canonical_request("DELETE", path, "", &names(SIGNED), headers("application/json", false), b"").unwrap();
        let to_sign = string_to_sign(DATE, &canonical);
        assert!(to_sign.ends_with("ea338a958e28289369443dc4f291876acb5988b3f79f35a42dec9c9f75e01021"));
        assert_eq!(sign(SK, &to_sign), "0a0203cc3777bb2193d0a69bb21a02bec93757622c2c1450756e84b280cefafa");
    }

    #[test]
    fn example_4_json_patch_with_an_unsigned_payload() {
        let signed = names("content-type;host;user-agent;x-project-id;x-sdk-content-sha256;x-sdk-date");
        let canonical = canonical_request(
            "PATCH",
            "/v2/images/11111111-2222-3333-4444-555555555555",
            "",
            &signed,
            headers("application/openstack-images-v2.1-json-patch", true),
            br#"[{"op": "replace", "path": "/name", "value": "new-name"}]"#,
        )
        .unwrap();
        assert!(canonical.ends_with("\nUNSIGNED-PAYLOAD"));
        let to_sign = string_to_sign(DATE, &canonical);
        assert!(to_sign.ends_with("7f5fb3954842cd958f316893e6ff7e5034e698380064eec978dabf455dfe43d8"));
        assert_eq!(sign(SK, &to_sign), "30d92c04c01a0daddbf1a3726e8e50fb2862863679870056d2e31360f46bc7c7");
    }

    #[test]
    fn the_authorization_header_is_read_strictly() {
        let header = "SDK-HMAC-SHA256 Access=EXAMPLEAK0123456789AB, SignedHeaders=content-type;host;x-sdk-date, \
                      Signature=025198ba90830555c468ca5d075142acc4b4ea2d3d43351f5ad360af23abd36a";
        let parsed = parse_authorization(header).unwrap();
        assert_eq!(parsed.access_key, "EXAMPLEAK0123456789AB");
        assert_eq!(parsed.signed_headers, names("content-type;host;x-sdk-date"));
        for bad in [
            "",
            "AWS4-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=00",
            "SDK-HMAC-SHA256Access=a, SignedHeaders=host, Signature=00",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=abc",
            "SDK-HMAC-SHA256 Access=a, Access=b, SignedHeaders=host, Signature=025198ba90830555c468ca5d075142acc4b4ea2d3d43351f5ad360af23abd36a",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host;;x, Signature=025198ba90830555c468ca5d075142acc4b4ea2d3d43351f5ad360af23abd36a",
        ] {
            assert_eq!(parse_authorization(bad), Err(SignatureError::Malformed), "{bad}");
        }
    }

    #[test]
    fn dates_are_checked_for_form_and_skew() {
        let at = parse_sdk_date("20240102T030405Z").unwrap();
        assert_eq!(at, 1_704_164_645);
        assert_eq!(parse_sdk_date("2024-01-02T03:04:05Z"), Err(SignatureError::BadDate));
        assert_eq!(check_skew(at, at + 15 * 60), Ok(()));
        assert_eq!(check_skew(at, at - 15 * 60 - 1), Err(SignatureError::StaleDate));
    }

    #[test]
    fn a_missing_signed_header_is_named() {
        let missing =
            canonical_request("GET", "/", "", &names("host;x-other"), headers("application/json", false), b"");
        assert_eq!(missing, Err(SignatureError::SignedHeaderAbsent("x-other".into())));
    }
}
