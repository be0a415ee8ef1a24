//! Secrets at rest: the server's master key (`IMS_MASTER_KEY_FILE`) and what it seals. Access
//! keys' secret keys and tenants' key material are stored sealed: AES-256-GCM
//! under the master key, bound to what they belong to (the associated data), so a sealed value
//! copied onto another row does not open there.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use std::io::Write;
use std::path::Path;

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// The one secret an operator backs up: without it no sealed value can be opened again.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("cannot read or create the master key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the master key file {path} must hold 64 hex digits (32 bytes)")]
    Malformed { path: String },
    #[error("the master key file {path} may be read by other users (mode {mode:o}); make it 0600")]
    Exposed { path: String, mode: u32 },
}

/// A sealed value that does not open: the wrong key, the wrong owner, or damage.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("a sealed secret could not be opened")]
pub struct OpenError;

impl MasterKey {
    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> MasterKey {
        MasterKey { cipher: Aes256Gcm::new(bytes.into()) }
    }

    /// Reads the key from `path`, creating it (mode 0600, 32 random bytes as hex) when the file
    /// does not exist. A key file other users can read is refused.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, MasterKeyError> {
        let shown = path.display().to_string();
        let io = |source| MasterKeyError::Io { path: shown.clone(), source };
        if !path.exists() {
            if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let mut bytes = [0u8; KEY_BYTES];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
            match options.open(path) {
                Ok(mut file) => {
                    file.write_all(format!("{}\n", hex(&bytes)).as_bytes()).map_err(io)?;
                    file.sync_all().map_err(io)?;
                }
                // Another instance created it first: use that one.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(io(error)),
            }
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(MasterKeyError::Exposed { path: shown, mode });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let bytes = unhex(text.trim()).filter(|bytes| bytes.len() == KEY_BYTES);
        let bytes: [u8; KEY_BYTES] =
            bytes.and_then(|bytes| bytes.try_into().ok()).ok_or(MasterKeyError::Malformed { path: shown })?;
        Ok(MasterKey::from_bytes(&bytes))
    }

    /// Seals `secret` for `owner` (e.g. "access-key:<AK>"): hex of nonce + ciphertext + tag.
    pub fn seal(&self, secret: &[u8], owner: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: owner.as_bytes() })
            .expect("AES-GCM encryption of a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        hex(&out)
    }

    /// Opens what `seal` made for the same `owner`.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<Vec<u8>, OpenError> {
        let bytes = unhex(sealed).ok_or(OpenError)?;
        if bytes.len() < NONCE_BYTES + 16 {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: owner.as_bytes() })
            .map_err(|_| OpenError)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_owner() {
        let key = MasterKey::from_bytes(&[7; 32]);
        let sealed = key.seal(b"secret key", "access-key:AK1");
        assert!(!sealed.contains(&hex(b"secret key")), "the secret must not appear in clear");
        assert_eq!(key.open(&sealed, "access-key:AK1").unwrap(), b"secret key");
        assert_eq!(key.open(&sealed, "access-key:AK2"), Err(OpenError));
        assert_eq!(MasterKey::from_bytes(&[8; 32]).open(&sealed, "access-key:AK1"), Err(OpenError));
        assert_ne!(key.seal(b"secret key", "access-key:AK1"), sealed, "every seal has its own nonce");
        let mut damaged = sealed.clone().into_bytes();
        damaged[30] = if damaged[30] == b'0' { b'1' } else { b'0' };
        assert_eq!(key.open(&String::from_utf8(damaged).unwrap(), "access-key:AK1"), Err(OpenError));
        assert_eq!(key.open("zz", "access-key:AK1"), Err(OpenError));
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ims-master-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("keys/master.key");
        let first = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(again.open(&first.seal(b"x", "o"), "o").unwrap(), b"x");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(MasterKey::load_or_create(&path), Err(MasterKeyError::Exposed { .. })));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(MasterKey::load_or_create(&path), Err(MasterKeyError::Malformed { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
