//! Object storage over the `object_store` crate: a folder under the data directory (default)
//! or an S3-compatible service. One store holds every region's image files
//! (`images/{region}/...`), the tenants' buckets (`buckets/{region}/{bucket}/...`) and
//! upload chunks (`uploads/{id}/...`). Everything streams; memory stays bounded.

use crate::format::hex;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use md5::Md5;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where objects live, from configuration.
#[derive(Clone, Debug)]
pub enum StorageConfig {
    Local {
        root: PathBuf,
    },
    S3 {
        endpoint: String,
        region: String,
        bucket: String,
        access_key_id: String,
        secret_access_key: String,
        /// Console regions whose objects live in a bucket (and maybe an endpoint) of their own.
        regional: Vec<RegionalBucket>,
    },
}

/// The bucket, and the endpoint, of one console region's objects in S3 mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionalBucket {
    pub region: String,
    pub endpoint: String,
    pub bucket: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
}

/// How `link_or_copy` made its copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Copied {
    /// The same file under a second name: its checksums are the source's.
    Linked { size: u64 },
    /// Streamed and hashed on the way.
    Streamed(Digests),
}

/// Checksums computed while streaming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    pub sha256: String,
    pub md5: String,
}

/// SHA-256 and MD5 of a stream, each computed on its own thread while the caller moves the
/// bytes on, so hashing overlaps reading and writing instead of adding to their time.
struct Hasher {
    size: u64,
    feeds: [tokio::sync::mpsc::Sender<Bytes>; 2],
    sha256: std::thread::JoinHandle<String>,
    md5: std::thread::JoinHandle<String>,
}

impl Hasher {
    fn new() -> Self {
        fn worker<D: Digest + Send + 'static>(
            mut digest: D,
        ) -> (tokio::sync::mpsc::Sender<Bytes>, std::thread::JoinHandle<String>) {
            // A few chunks of slack; a slower hash holds the stream back instead of buffering it.
            let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(8);
            let thread = std::thread::spawn(move || {
                while let Some(bytes) = receiver.blocking_recv() {
                    digest.update(&bytes);
                }
                hex(&digest.finalize())
            });
            (sender, thread)
        }
        let (sha256_feed, sha256) = worker(Sha256::new());
        let (md5_feed, md5) = worker(Md5::new());
        Hasher { size: 0, feeds: [sha256_feed, md5_feed], sha256, md5 }
    }

    async fn update(&mut self, bytes: &Bytes) {
        self.size += bytes.len() as u64;
        for feed in &self.feeds {
            // A closed feed means its thread died; finish() reports that.
            let _ = feed.send(bytes.clone()).await;
        }
    }

    async fn finish(self) -> Result<Digests, StorageError> {
        let Hasher { size, feeds, sha256, md5 } = self;
        // Closing the feeds ends the threads once they have hashed what was sent.
        drop(feeds);
        let failed = |_| StorageError::Io(std::io::Error::other("a hashing thread failed"));
        let joined = tokio::task::spawn_blocking(move || {
            Ok::<_, StorageError>((sha256.join().map_err(failed)?, md5.join().map_err(failed)?))
        });
        let (sha256, md5) =
            joined.await.map_err(|_| StorageError::Io(std::io::Error::other("hashing was interrupted")))??;
        Ok(Digests { size, sha256, md5 })
    }
}

fn local_chunks(file: tokio::fs::File) -> BoxStream<'static, object_store::Result<Bytes>> {
    futures::stream::try_unfold(file, |mut file| async move {
        let mut buffer = vec![0u8; READ_BUFFER];
        let read = file
            .read(&mut buffer)
            .await
            .map_err(|source| object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(source) })?;
        if read == 0 {
            return Ok(None);
        }
        buffer.truncate(read);
        Ok(Some((Bytes::from(buffer), file)))
    })
    .boxed()
}

const READ_BUFFER: usize = 1 << 20;
/// Parts in flight while writing one object: 5 MiB each, so about 20 MiB per writer.
const MAX_PARTS_IN_FLIGHT: usize = 4;

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// Stores of the regions that have their own bucket (S3 mode); the others use `store`.
    regional: Arc<Vec<(String, Arc<dyn ObjectStore>)>>,
    local: Option<Arc<LocalFileSystem>>,
}

fn s3_store(
    endpoint: &str,
    region: &str,
    bucket: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let store = AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_region(region)
        .with_bucket_name(bucket)
        .with_access_key_id(access_key_id)
        .with_secret_access_key(secret_access_key)
        .with_allow_http(endpoint.starts_with("http://"))
        .with_virtual_hosted_style_request(false)
        .build()?;
    Ok(Arc::new(store))
}

impl Storage {
    pub fn open(config: &StorageConfig) -> Result<Storage, StorageError> {
        match config {
            StorageConfig::Local { root } => {
                std::fs::create_dir_all(root)?;
                let local = Arc::new(LocalFileSystem::new_with_prefix(root)?.with_automatic_cleanup(true));
                Ok(Storage { store: local.clone(), regional: Arc::new(Vec::new()), local: Some(local) })
            }
            StorageConfig::S3 { endpoint, region, bucket, access_key_id, secret_access_key, regional } => {
                let store = s3_store(endpoint, region, bucket, access_key_id, secret_access_key)?;
                let regional = regional
                    .iter()
                    .map(|own| {
                        let store = s3_store(&own.endpoint, region, &own.bucket, access_key_id, secret_access_key)?;
                        Ok((own.region.clone(), store))
                    })
                    .collect::<Result<Vec<_>, StorageError>>()?;
                Ok(Storage { store, regional: Arc::new(regional), local: None })
            }
        }
    }

    /// The store of `key`: a region's own bucket for its images, disks, buckets and staged
    /// uploads when it has one, else the main one.
    fn store_for(&self, key: &str) -> &Arc<dyn ObjectStore> {
        let mut segments = key.splitn(3, '/');
        match (segments.next(), segments.next()) {
            (Some("images" | "disks" | "buckets" | "staging"), Some(region)) => {
                self.regional.iter().find(|(own, _)| own == region).map(|(_, store)| store).unwrap_or(&self.store)
            }
            _ => &self.store,
        }
    }

    pub fn image_key(region: &str, image_id: &str, extension: &str) -> String {
        format!("{}/disk.{extension}", Storage::image_folder(region, image_id))
    }

    /// Where every file of one image lives, and nothing else.
    pub fn image_folder(region: &str, image_id: &str) -> String {
        format!("images/{region}/{image_id}")
    }

    /// Data disk `position` (1, 2, ...) of a full-ECS image.
    pub fn image_part_key(region: &str, image_id: &str, position: i64) -> String {
        format!("images/{region}/{image_id}/data-{position}.qcow2")
    }

    /// A new file of an EVS disk (each rewrite of a disk, a change of OS say, gets a new one).
    pub fn disk_key(region: &str, disk_id: &str) -> String {
        format!("disks/{region}/{disk_id}/{}.qcow2", crate::db::new_hex_id())
    }

    pub fn bucket_key(region: &str, bucket: &str, key: &str) -> String {
        format!("buckets/{region}/{bucket}/{key}")
    }

    /// Where a Glance upload waits for its import job (removed by the job).
    pub fn staging_key(region: &str, image_id: &str) -> String {
        format!("staging/{region}/{image_id}")
    }

    pub fn chunk_key(upload_id: &str, index: u64) -> String {
        format!("uploads/{upload_id}/{index:08}")
    }

    /// The file behind an object when the store is a local folder, so qemu-img can read it
    /// in place instead of from a downloaded copy.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.local.as_ref().and_then(|local| local.path_to_filesystem(&ObjectPath::from(key)).ok())
    }

    /// `key` as a local file for qemu-img: the object itself with a folder store, else a copy
    /// downloaded to `copy` (its folder is created).
    pub async fn local_file(&self, key: &str, copy: &Path) -> Result<PathBuf, StorageError> {
        if let Some(path) = self.local_path(key).filter(|path| path.exists()) {
            return Ok(path);
        }
        if let Some(folder) = copy.parent() {
            tokio::fs::create_dir_all(folder).await?;
        }
        self.download_to(key, copy).await?;
        Ok(copy.to_path_buf())
    }

    /// A private, unchanging copy of object `key` at `path` (its folder must exist): a hard
    /// link with a folder store (objects are only ever replaced by renaming a new file over
    /// the key, so the linked file never changes), a copy across file systems, a download
    /// from S3. Whatever later happens to the key, the copy stays what it was.
    pub async fn snapshot(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        if let Some(object) = self.local_path(key) {
            let _ = tokio::fs::remove_file(path).await;
            return match tokio::fs::hard_link(&object, path).await {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    Err(object_store::Error::NotFound { path: key.to_string(), source: Box::new(error) }.into())
                }
                Err(_) => {
                    tokio::fs::copy(&object, path).await?;
                    Ok(())
                }
            };
        }
        self.download_to(key, path).await.map(|_| ())
    }

    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store_for(key).put(&ObjectPath::from(key), PutPayload::from_bytes(bytes)).await?;
        Ok(())
    }

    /// Size of an object, or `None` if it does not exist.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self.store_for(key).head(&ObjectPath::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Moves object `from` to `to`, replacing it: readers of `to` see the old object or the
    /// new one, whole (a rename in a folder store; a server-side copy in S3; a streamed copy
    /// when the two live in different buckets).
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), StorageError> {
        let (source, target) = (self.store_for(from), self.store_for(to));
        if Arc::ptr_eq(source, target) {
            source.rename(&ObjectPath::from(from), &ObjectPath::from(to)).await?;
            return Ok(());
        }
        self.copy_object(from, to, &std::sync::atomic::AtomicBool::new(false), |_, _| {}).await?;
        self.delete(from).await
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store_for(key).delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes every object under `prefix`.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        let store = self.store_for(prefix);
        let prefix = ObjectPath::from(prefix);
        let mut listing = store.list(Some(&prefix));
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            keys.push(meta?.location);
        }
        for key in keys {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    pub async fn stream(
        &self,
        key: &str,
    ) -> Result<(u64, BoxStream<'static, object_store::Result<Bytes>>), StorageError> {
        if let Some(path) = self.local_path(key) {
            // object_store's local reader yields 8 KiB chunks; reading 1 MiB at a time cuts
            // the work per chunk (hashing hand-offs, multipart writes) 128-fold.
            let file = match tokio::fs::File::open(&path).await {
                Ok(file) => file,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Err(object_store::Error::NotFound { path: key.to_string(), source: Box::new(error) }.into())
                }
                Err(error) => return Err(error.into()),
            };
            let size = file.metadata().await?.len();
            return Ok((size, local_chunks(file)));
        }
        let result = self.store_for(key).get(&ObjectPath::from(key)).await?;
        let size = result.meta.size;
        Ok((size, result.into_stream()))
    }

    /// Streams the objects `parts`, in order, into one object `key`.
    pub async fn compose(&self, parts: &[String], key: &str) -> Result<Digests, StorageError> {
        let upload = self.store_for(key).put_multipart(&ObjectPath::from(key)).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Hasher::new();
        for part in parts {
            let (_, mut stream) = self.stream(part).await?;
            while let Some(bytes) = stream.next().await {
                let bytes = bytes?;
                hasher.update(&bytes).await;
                writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await?;
                writer.write(&bytes);
            }
        }
        writer.finish().await?;
        hasher.finish().await
    }

    /// Streams `body` into object `key`, refusing (and removing what was written) past
    /// `max_bytes`: `Ok(None)` then.
    pub async fn put_stream<S, E>(
        &self,
        key: &str,
        mut body: S,
        max_bytes: u64,
    ) -> Result<Option<Digests>, StorageError>
    where
        S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self.store_for(key).put_multipart(&ObjectPath::from(key)).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Hasher::new();
        let mut written = 0u64;
        while let Some(bytes) = body.next().await {
            let bytes = match bytes {
                Ok(bytes) => bytes,
                Err(error) => {
                    writer.abort().await.ok();
                    return Err(std::io::Error::other(format!("the request body broke off: {error}")).into());
                }
            };
            written += bytes.len() as u64;
            if written > max_bytes {
                writer.abort().await.ok();
                return Ok(None);
            }
            hasher.update(&bytes).await;
            writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await?;
            writer.write(&bytes);
        }
        writer.finish().await?;
        Ok(Some(hasher.finish().await?))
    }

    /// Streams object `from` into object `to` (replacing it whole), calling `on_progress`
    /// with the bytes copied so far and the total after each chunk. Setting `cancel` stops
    /// it, leaving `to` as it was.
    pub async fn copy_object(
        &self,
        from: &str,
        to: &str,
        cancel: &std::sync::atomic::AtomicBool,
        mut on_progress: impl FnMut(u64, u64),
    ) -> Result<Digests, StorageError> {
        let (size, mut stream) = self.stream(from).await?;
        let upload = self.store_for(to).put_multipart(&ObjectPath::from(to)).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Hasher::new();
        while let Some(bytes) = stream.next().await {
            let bytes = match bytes {
                Ok(bytes) if !cancel.load(std::sync::atomic::Ordering::Relaxed) => bytes,
                Ok(_) => {
                    writer.abort().await.ok();
                    return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled").into());
                }
                Err(error) => {
                    writer.abort().await.ok();
                    return Err(error.into());
                }
            };
            hasher.update(&bytes).await;
            writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await?;
            writer.write(&bytes);
            on_progress(hasher.size, size);
        }
        writer.finish().await?;
        hasher.finish().await
    }

    /// Copies object `from` to `to` as `copy_object` does, except in a folder store, where `to`
    /// becomes a hard link of `from`: objects are never changed in place (only replaced by a
    /// rename), so the link stays the bytes `from` had, whatever later happens to `from`.
    pub async fn link_or_copy(
        &self,
        from: &str,
        to: &str,
        cancel: &std::sync::atomic::AtomicBool,
        on_progress: impl FnMut(u64, u64),
    ) -> Result<Copied, StorageError> {
        if let (Some(source), Some(target)) = (self.local_path(from), self.local_path(to)) {
            if let Some(folder) = target.parent() {
                tokio::fs::create_dir_all(folder).await?;
            }
            let _ = tokio::fs::remove_file(&target).await;
            match tokio::fs::hard_link(&source, &target).await {
                Ok(()) => return Ok(Copied::Linked { size: tokio::fs::metadata(&target).await?.len() }),
                // Another file system: copy the bytes instead.
                Err(error) if error.kind() == std::io::ErrorKind::CrossesDevices => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Err(object_store::Error::NotFound { path: from.to_string(), source: Box::new(error) }.into())
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(Copied::Streamed(self.copy_object(from, to, cancel, on_progress).await?))
    }

    /// Removes everything under `prefix`, including what a killed writer left half-written
    /// (a folder store's temporary files, which listings do not show).
    pub async fn clear_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        if let Some(folder) = self.local_path(prefix) {
            return match tokio::fs::remove_dir_all(&folder).await {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
                _ => Ok(()),
            };
        }
        self.delete_prefix(prefix).await
    }

    /// Streams a local file into object `key`.
    pub async fn upload_file(&self, path: &Path, key: &str) -> Result<Digests, StorageError> {
        let mut file = tokio::fs::File::open(path).await?;
        let upload = self.store_for(key).put_multipart(&ObjectPath::from(key)).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut hasher = Hasher::new();
        let mut buffer = vec![0u8; READ_BUFFER];
        loop {
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            let bytes = Bytes::copy_from_slice(&buffer[..read]);
            hasher.update(&bytes).await;
            writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await?;
            writer.write(&bytes);
        }
        writer.finish().await?;
        hasher.finish().await
    }

    /// Streams object `key` into a local file.
    pub async fn download_to(&self, key: &str, path: &Path) -> Result<Digests, StorageError> {
        let (_, mut stream) = self.stream(key).await?;
        let mut file = tokio::fs::File::create(path).await?;
        let mut hasher = Hasher::new();
        while let Some(bytes) = stream.next().await {
            let bytes = bytes?;
            hasher.update(&bytes).await;
            file.write_all(&bytes).await?;
        }
        file.flush().await?;
        hasher.finish().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_objects_stream_compose_and_delete() {
        let root = std::env::temp_dir().join(format!("ims-storage-{}", std::process::id()));
        let storage = Storage::open(&StorageConfig::Local { root: root.clone() }).unwrap();
        storage.put_bytes("uploads/u1/00000000", Bytes::from_static(b"hello ")).await.unwrap();
        storage.put_bytes("uploads/u1/00000001", Bytes::from_static(b"world")).await.unwrap();
        let parts = vec!["uploads/u1/00000000".to_string(), "uploads/u1/00000001".to_string()];
        let digests = storage.compose(&parts, "buckets/r/b/greeting.txt").await.unwrap();
        assert_eq!(digests.size, 11);
        assert_eq!(digests.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert_eq!(digests.md5, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        let path = storage.local_path("buckets/r/b/greeting.txt").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
        assert_eq!(storage.size("buckets/r/b/greeting.txt").await.unwrap(), Some(11));
        storage.delete_prefix("uploads/u1").await.unwrap();
        assert_eq!(storage.size("uploads/u1/00000000").await.unwrap(), None);
        storage.delete("buckets/r/b/greeting.txt").await.unwrap();
        storage.delete("buckets/r/b/greeting.txt").await.unwrap();
        std::fs::remove_dir_all(root).unwrap();
    }
}
