//! Buckets, objects and multipart uploads as files under one directory.
//!
//! Layout (`<root>` is `<state-dir>/s3`):
//!
//! ```text
//! <root>/buckets/<bucket>/bucket.json          creation date, region
//! <root>/buckets/<bucket>/objects/<h>.json     an object's metadata (key, size, ETag, headers)
//! <root>/buckets/<bucket>/objects/<h>.<uuid>   its bytes
//! <root>/uploads/<upload id>/upload.json       a multipart upload in progress
//! <root>/uploads/<upload id>/<n>.part|.json    its part n and the part's ETag
//! <root>/tmp/                                  bodies being received
//! ```
//!
//! `<h>` is the SHA-256 of the key: S3 keys are up to 1,024 bytes of any
//! UTF-8, and `a` and `a/b` are two objects, neither of which a file tree of
//! keys could hold (this is where a file-per-key store like s3s-fs fails).
//! The metadata file is the commit point: bytes land under a fresh name,
//! then the metadata is renamed into place, then the old bytes are removed,
//! so a killed server (even `kill -9`) leaves either the old object or the
//! new one. Nothing is fsynced: this is a development store, and a power
//! loss may lose the last writes (as the page cache would). An index of every
//! bucket's keys is kept in memory (read once at open) for listings.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::error::{OpenError, S3Error};

/// Keys longer than this are `KeyTooLongError` (S3's limit, in UTF-8 bytes).
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// Parts but the last must be at least this big (S3's multipart limits).
pub(crate) const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// An object's metadata, as stored and as listings give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// The ETag without quotes: the MD5 of the bytes in hex, or for a
    /// multipart object the MD5 of the parts' MD5s, `-`, the part count.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    /// `Content-Type`, `Content-Encoding`, `Content-Disposition`,
    /// `Content-Language`, `Cache-Control`, `Expires`, as given (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// `x-amz-meta-*` user metadata (names without the prefix, lower-case).
    pub metadata: BTreeMap<String, String>,
    /// The file holding the bytes, in the bucket's `objects/` directory.
    data: String,
}

impl ObjectMeta {
    #[cfg(test)]
    pub(crate) fn for_test(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            size: 0,
            etag: String::new(),
            last_modified: DateTime::<Utc>::UNIX_EPOCH,
            headers: BTreeMap::new(),
            metadata: BTreeMap::new(),
            data: String::new(),
        }
    }
}

/// What a new object gets from its request besides its bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct NewObject {
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) metadata: BTreeMap<String, String>,
}

/// Bytes received into a temporary file.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) md5: [u8; 16],
}

impl Received {
    /// Hands the file to `take` (a store method that moves it into place);
    /// when that fails the file is removed, as nothing else would remove it.
    pub(crate) fn give_to<T>(
        self,
        take: impl FnOnce(Self) -> Result<T, S3Error>,
    ) -> Result<T, S3Error> {
        let path = self.path.clone();
        take(self).inspect_err(|_| {
            let _ = fs::remove_file(&path);
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BucketInfo {
    created: DateTime<Utc>,
    region: String,
}

#[derive(Debug)]
struct Bucket {
    info: BucketInfo,
    objects: BTreeMap<String, ObjectMeta>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Upload {
    bucket: String,
    key: String,
    new: NewObject,
    initiated: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Part {
    size: u64,
    etag: String,
}

#[derive(Debug, Default)]
struct State {
    buckets: BTreeMap<String, Bucket>,
    uploads: BTreeMap<String, Upload>,
}

/// The store. Every method is blocking (file I/O): call it off the async
/// workers for large bodies.
#[derive(Debug)]
pub(crate) struct Store {
    root: PathBuf,
    state: Mutex<State>,
}

fn key_hash(key: &str) -> String {
    let digest = sha2::Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` atomically (a temporary file renamed into place).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    fs::rename(&tmp, path)
}

fn internal(context: &str) -> impl Fn(std::io::Error) -> S3Error + '_ {
    move |error| S3Error::io(context, error)
}

fn json_error(context: &str) -> impl Fn(serde_json::Error) -> S3Error + '_ {
    move |error| S3Error::io(context, error)
}

impl Store {
    /// Opens (creating) the store at `root` and reads its index.
    pub(crate) fn open(root: &Path) -> Result<Self, OpenError> {
        let failed = |path: &Path| {
            let path = path.to_owned();
            move |source| OpenError { path, source }
        };
        let buckets_dir = root.join("buckets");
        let uploads_dir = root.join("uploads");
        let tmp = root.join("tmp");
        for dir in [&buckets_dir, &uploads_dir, &tmp] {
            fs::create_dir_all(dir).map_err(failed(dir))?;
        }
        // Bodies that were being received when the last run stopped.
        for entry in fs::read_dir(&tmp).map_err(failed(&tmp))?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        let mut state = State::default();
        for entry in fs::read_dir(&buckets_dir)
            .map_err(failed(&buckets_dir))?
            .flatten()
        {
            let dir = entry.path();
            let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            let info_path = dir.join("bucket.json");
            let Ok(text) = fs::read(&info_path) else {
                // Not a bucket (a removal cut short): ignore it.
                continue;
            };
            let info: BucketInfo = serde_json::from_slice(&text).map_err(|e| OpenError {
                path: info_path.clone(),
                source: std::io::Error::other(e),
            })?;
            let objects_dir = dir.join("objects");
            fs::create_dir_all(&objects_dir).map_err(failed(&objects_dir))?;
            let mut objects = BTreeMap::new();
            let mut referenced = std::collections::BTreeSet::new();
            let mut data_files = Vec::new();
            for file in fs::read_dir(&objects_dir)
                .map_err(failed(&objects_dir))?
                .flatten()
            {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "json") {
                    // Metadata is written without fsync (see the module doc): after a
                    // power loss one file may be empty or cut. That object is lost,
                    // not the store: it is skipped, said, and its bytes removed below.
                    let meta = fs::read(&path).map_err(|e| e.to_string()).and_then(|text| {
                        serde_json::from_slice::<ObjectMeta>(&text).map_err(|e| e.to_string())
                    });
                    match meta {
                        Ok(meta) => {
                            referenced.insert(meta.data.clone());
                            objects.insert(meta.key.clone(), meta);
                        }
                        Err(error) => {
                            tracing::warn!(file = %path.display(), %error, "local S3: skipping an object whose metadata cannot be read");
                            let _ = fs::remove_file(&path);
                        }
                    }
                } else {
                    data_files.push(path);
                }
            }
            // Bytes no metadata names: a put or delete cut short.
            for path in data_files {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if !referenced.contains(name) {
                    let _ = fs::remove_file(&path);
                }
            }
            state.buckets.insert(name, Bucket { info, objects });
        }
        for entry in fs::read_dir(&uploads_dir)
            .map_err(failed(&uploads_dir))?
            .flatten()
        {
            let path = entry.path().join("upload.json");
            let Some(id) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if let Ok(text) = fs::read(&path)
                && let Ok(upload) = serde_json::from_slice::<Upload>(&text)
            {
                state.uploads.insert(id, upload);
            }
        }
        Ok(Self {
            root: root.to_owned(),
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join("buckets").join(bucket)
    }

    fn upload_dir(&self, upload_id: &str) -> PathBuf {
        self.root.join("uploads").join(upload_id)
    }

    /// A fresh path for a body being received.
    pub(crate) fn temp_path(&self) -> PathBuf {
        self.root
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Every bucket with its creation date, by name.
    pub(crate) fn list_buckets(&self) -> Vec<(String, DateTime<Utc>)> {
        self.lock()
            .buckets
            .iter()
            .map(|(name, bucket)| (name.clone(), bucket.info.created))
            .collect()
    }

    /// The bucket's region, or `NoSuchBucket`.
    pub(crate) fn bucket_region(&self, bucket: &str) -> Result<String, S3Error> {
        self.lock()
            .buckets
            .get(bucket)
            .map(|b| b.info.region.clone())
            .ok_or_else(|| no_such_bucket(bucket))
    }

    /// Creates a bucket; `Ok(false)` when it already exists, with its region.
    pub(crate) fn create_bucket(
        &self,
        bucket: &str,
        region: &str,
    ) -> Result<Result<(), String>, S3Error> {
        let mut state = self.lock();
        if let Some(existing) = state.buckets.get(bucket) {
            return Ok(Err(existing.info.region.clone()));
        }
        let dir = self.bucket_dir(bucket);
        fs::create_dir_all(dir.join("objects")).map_err(internal("creating the bucket"))?;
        let info = BucketInfo {
            created: Utc::now(),
            region: region.to_owned(),
        };
        let json = serde_json::to_vec(&info).map_err(json_error("bucket.json"))?;
        write_atomic(&dir.join("bucket.json"), &json).map_err(internal("bucket.json"))?;
        state.buckets.insert(
            bucket.to_owned(),
            Bucket {
                info,
                objects: BTreeMap::new(),
            },
        );
        Ok(Ok(()))
    }

    /// Deletes an empty bucket (and any multipart upload in progress in it).
    pub(crate) fn delete_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        let mut state = self.lock();
        let existing = state
            .buckets
            .get(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        if !existing.objects.is_empty() {
            return Err(S3Error::BucketNotEmpty {
                bucket: bucket.to_owned(),
            });
        }
        let dir = self.bucket_dir(bucket);
        // bucket.json first: a removal cut short leaves no bucket behind.
        fs::remove_file(dir.join("bucket.json")).map_err(internal("removing the bucket"))?;
        let _ = fs::remove_dir_all(&dir);
        state.buckets.remove(bucket);
        let uploads: Vec<String> = state
            .uploads
            .iter()
            .filter(|(_, u)| u.bucket == bucket)
            .map(|(id, _)| id.clone())
            .collect();
        for id in uploads {
            state.uploads.remove(&id);
            let _ = fs::remove_dir_all(self.upload_dir(&id));
        }
        Ok(())
    }

    /// Stores `received` as `bucket/key`, replacing any object there.
    pub(crate) fn put_object(
        &self,
        bucket: &str,
        key: &str,
        received: Received,
        etag: String,
        new: NewObject,
    ) -> Result<ObjectMeta, S3Error> {
        let mut state = self.lock();
        let objects = objects_mut(&mut state, bucket)?;
        let dir = self.bucket_dir(bucket).join("objects");
        let hash = key_hash(key);
        let data = format!("{hash}.{}", uuid::Uuid::new_v4().simple());
        fs::rename(&received.path, dir.join(&data)).map_err(internal("storing the object"))?;
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: received.size,
            etag,
            last_modified: Utc::now(),
            headers: new.headers,
            metadata: new.metadata,
            data,
        };
        let json = serde_json::to_vec(&meta).map_err(json_error("object metadata"))?;
        write_atomic(&dir.join(format!("{hash}.json")), &json)
            .map_err(internal("storing the object's metadata"))?;
        if let Some(old) = objects.insert(key.to_owned(), meta.clone()) {
            let _ = fs::remove_file(dir.join(old.data));
        }
        Ok(meta)
    }

    /// The object's metadata and its bytes, opened (so a later overwrite
    /// does not change what this read gives).
    pub(crate) fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(ObjectMeta, fs::File), S3Error> {
        let state = self.lock();
        let meta = state
            .buckets
            .get(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?
            .objects
            .get(key)
            .ok_or_else(|| S3Error::NoSuchKey {
                key: key.to_owned(),
            })?
            .clone();
        let path = self.bucket_dir(bucket).join("objects").join(&meta.data);
        let file = fs::File::open(&path).map_err(internal("reading the object"))?;
        Ok((meta, file))
    }

    /// The object's metadata.
    pub(crate) fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, S3Error> {
        self.lock()
            .buckets
            .get(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?
            .objects
            .get(key)
            .cloned()
            .ok_or_else(|| S3Error::NoSuchKey {
                key: key.to_owned(),
            })
    }

    /// Deletes an object; deleting one that is not there succeeds, as on S3.
    pub(crate) fn delete_object(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        let mut state = self.lock();
        let objects = objects_mut(&mut state, bucket)?;
        // The metadata file first: if its removal fails, the object stays, in
        // memory as on disk, instead of coming back at the next start.
        if let Some(old) = objects.get(key) {
            let dir = self.bucket_dir(bucket).join("objects");
            fs::remove_file(dir.join(format!("{}.json", key_hash(key))))
                .map_err(internal("deleting the object"))?;
            let _ = fs::remove_file(dir.join(&old.data));
            objects.remove(key);
        }
        Ok(())
    }

    /// `read` of the bucket's objects, by key, under the store's lock (a listing
    /// reads one consistent state).
    pub(crate) fn read_objects<R>(
        &self,
        bucket: &str,
        read: impl FnOnce(&BTreeMap<String, ObjectMeta>) -> R,
    ) -> Result<R, S3Error> {
        let state = self.lock();
        let bucket = state
            .buckets
            .get(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        Ok(read(&bucket.objects))
    }

    /// Starts a multipart upload; gives its id.
    pub(crate) fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        new: NewObject,
    ) -> Result<String, S3Error> {
        let mut state = self.lock();
        if !state.buckets.contains_key(bucket) {
            return Err(no_such_bucket(bucket));
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let upload = Upload {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            new,
            initiated: Utc::now(),
        };
        let dir = self.upload_dir(&id);
        fs::create_dir_all(&dir).map_err(internal("starting the upload"))?;
        let json = serde_json::to_vec(&upload).map_err(json_error("upload.json"))?;
        write_atomic(&dir.join("upload.json"), &json).map_err(internal("upload.json"))?;
        state.uploads.insert(id.clone(), upload);
        Ok(id)
    }

    fn upload(state: &State, bucket: &str, key: &str, upload_id: &str) -> Result<Upload, S3Error> {
        if !state.buckets.contains_key(bucket) {
            return Err(no_such_bucket(bucket));
        }
        state
            .uploads
            .get(upload_id)
            .filter(|u| u.bucket == bucket && u.key == key)
            .cloned()
            .ok_or_else(|| S3Error::NoSuchUpload {
                upload_id: upload_id.to_owned(),
            })
    }

    /// Stores part `number` of an upload (replacing one of that number).
    pub(crate) fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        received: Received,
        etag: String,
    ) -> Result<(), S3Error> {
        let state = self.lock();
        Self::upload(&state, bucket, key, upload_id)?;
        let dir = self.upload_dir(upload_id);
        fs::rename(&received.path, dir.join(format!("{number}.part")))
            .map_err(internal("storing the part"))?;
        let part = Part {
            size: received.size,
            etag,
        };
        let json = serde_json::to_vec(&part).map_err(json_error("part"))?;
        write_atomic(&dir.join(format!("{number}.json")), &json)
            .map_err(internal("storing the part"))?;
        Ok(())
    }

    /// Joins the listed parts (number, ETag as the client gives it) into the
    /// object, with S3's checks, and ends the upload.
    pub(crate) fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<ObjectMeta, S3Error> {
        // Taken out of the uploads while it completes: a second Complete (an SDK
        // retry) or an Abort meanwhile gets NoSuchUpload instead of finding the
        // parts half gone. Put back if it fails, so the client may try again.
        let upload = {
            let mut state = self.lock();
            let upload = Self::upload(&state, bucket, key, upload_id)?;
            state.uploads.remove(upload_id);
            upload
        };
        match self.join_parts(bucket, key, upload_id, parts, upload.clone()) {
            Ok(meta) => {
                let _ = fs::remove_dir_all(self.upload_dir(upload_id));
                Ok(meta)
            }
            Err(error) => {
                self.lock().uploads.insert(upload_id.to_owned(), upload);
                Err(error)
            }
        }
    }

    /// The object the upload's `parts` make, stored under `key`.
    fn join_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
        upload: Upload,
    ) -> Result<ObjectMeta, S3Error> {
        if parts.is_empty() {
            return Err(S3Error::MalformedXml);
        }
        if parts.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(S3Error::InvalidPartOrder);
        }
        let dir = self.upload_dir(upload_id);
        let mut stored = Vec::new();
        for (number, etag) in parts {
            let part: Part = fs::read(dir.join(format!("{number}.json")))
                .ok()
                .and_then(|text| serde_json::from_slice(&text).ok())
                .ok_or(S3Error::InvalidPart)?;
            if part.etag != etag.trim_matches('"') {
                return Err(S3Error::InvalidPart);
            }
            stored.push((*number, part));
        }
        if stored[..stored.len() - 1]
            .iter()
            .any(|(_, part)| part.size < MIN_PART_BYTES)
        {
            return Err(S3Error::EntityTooSmall);
        }
        // The multipart ETag: MD5 of the concatenated binary part MD5s, "-", count.
        let mut md5s = Vec::new();
        for (_, part) in &stored {
            let bytes = decode_hex(&part.etag).ok_or(S3Error::InvalidPart)?;
            md5s.extend_from_slice(&bytes);
        }
        let etag = format!("{}-{}", hex(&md5::Md5::digest(&md5s)), stored.len());
        let target = self.temp_path();
        let mut out = fs::File::create(&target).map_err(internal("joining the parts"))?;
        let mut size = 0;
        for (number, _) in &stored {
            let mut input = fs::File::open(dir.join(format!("{number}.part")))
                .map_err(internal("joining the parts"))?;
            size += std::io::copy(&mut input, &mut out).map_err(internal("joining the parts"))?;
        }
        drop(out);
        let received = Received {
            path: target,
            size,
            md5: [0; 16],
        };
        self.put_object(bucket, key, received, etag, upload.new)
    }

    /// Ends an upload without an object.
    pub(crate) fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), S3Error> {
        let mut state = self.lock();
        Self::upload(&state, bucket, key, upload_id)?;
        state.uploads.remove(upload_id);
        let _ = fs::remove_dir_all(self.upload_dir(upload_id));
        Ok(())
    }
}

/// The bucket's objects, to change, or `NoSuchBucket`.
fn objects_mut<'s>(
    state: &'s mut State,
    bucket: &str,
) -> Result<&'s mut BTreeMap<String, ObjectMeta>, S3Error> {
    state
        .buckets
        .get_mut(bucket)
        .map(|b| &mut b.objects)
        .ok_or_else(|| no_such_bucket(bucket))
}

fn no_such_bucket(bucket: &str) -> S3Error {
    S3Error::NoSuchBucket {
        bucket: bucket.to_owned(),
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(store: &Store, bytes: &[u8]) -> Received {
        let path = store.temp_path();
        fs::write(&path, bytes).expect("temp file");
        Received {
            path,
            size: bytes.len() as u64,
            md5: md5::Md5::digest(bytes).into(),
        }
    }

    fn put(store: &Store, bucket: &str, key: &str, bytes: &[u8]) -> ObjectMeta {
        let received = receive(store, bytes);
        let etag = hex(&received.md5);
        store
            .put_object(bucket, key, received, etag, NewObject::default())
            .expect("put")
    }

    fn read(store: &Store, bucket: &str, key: &str) -> Vec<u8> {
        let (_, mut file) = store.open_object(bucket, key).expect("object");
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).expect("read");
        bytes
    }

    #[test]
    fn a_key_and_keys_under_it_coexist_and_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        assert_eq!(store.create_bucket("b", "us-east-1"), Ok(Ok(())));
        assert_eq!(
            store.create_bucket("b", "us-east-1"),
            Ok(Err("us-east-1".to_owned()))
        );
        put(&store, "b", "a", b"file");
        put(&store, "b", "a/b", b"under");
        put(&store, "b", "../../escape", b"stays inside");
        put(&store, "b", "a", b"replaced");
        drop(store);

        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(read(&store, "b", "a"), b"replaced");
        assert_eq!(read(&store, "b", "a/b"), b"under");
        assert_eq!(read(&store, "b", "../../escape"), b"stays inside");
        // One data file per object: the replaced bytes are gone.
        let files = fs::read_dir(dir.path().join("buckets/b/objects"))
            .expect("objects dir")
            .count();
        assert_eq!(files, 6, "three objects, each metadata and bytes");
        assert_eq!(
            store.delete_bucket("b"),
            Err(S3Error::BucketNotEmpty { bucket: "b".into() })
        );
        for key in ["a", "a/b", "../../escape", "never there"] {
            store.delete_object("b", key).expect("delete");
        }
        store.delete_bucket("b").expect("empty bucket deleted");
        assert_eq!(
            store.head_object("b", "a"),
            Err(S3Error::NoSuchBucket { bucket: "b".into() })
        );
        assert!(
            Store::open(dir.path())
                .expect("reopen")
                .list_buckets()
                .is_empty()
        );
    }

    #[test]
    fn multipart_checks_order_etags_and_sizes_and_computes_s3s_etag() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        store.create_bucket("b", "us-east-1").expect("bucket").ok();
        let id = store
            .create_upload("b", "big", NewObject::default())
            .expect("upload");
        let first = vec![b'x'; MIN_PART_BYTES as usize];
        let parts: Vec<(u32, Vec<u8>)> = vec![(1, first), (2, b"tail".to_vec())];
        let mut listed = Vec::new();
        for (n, bytes) in &parts {
            let received = receive(&store, bytes);
            let etag = hex(&received.md5);
            store
                .put_part("b", "big", &id, *n, received, etag.clone())
                .expect("part");
            listed.push((*n, format!("\"{etag}\"")));
        }
        let reversed: Vec<_> = listed.iter().rev().cloned().collect();
        assert_eq!(
            store.complete_upload("b", "big", &id, &reversed),
            Err(S3Error::InvalidPartOrder)
        );
        let wrong = vec![(1, listed[0].1.clone()), (2, "\"00\"".to_owned())];
        assert_eq!(
            store.complete_upload("b", "big", &id, &wrong),
            Err(S3Error::InvalidPart)
        );
        let meta = store
            .complete_upload("b", "big", &id, &listed)
            .expect("completed");
        // MD5 of the two binary MD5s, then "-2".
        let mut md5s = Vec::new();
        for (_, bytes) in &parts {
            md5s.extend_from_slice(&md5::Md5::digest(bytes));
        }
        assert_eq!(meta.etag, format!("{}-2", hex(&md5::Md5::digest(&md5s))));
        assert_eq!(meta.size, MIN_PART_BYTES + 4);
        assert_eq!(read(&store, "b", "big").len() as u64, MIN_PART_BYTES + 4);
        assert!(matches!(
            store.abort_upload("b", "big", &id),
            Err(S3Error::NoSuchUpload { .. })
        ));

        // A small part that is not the last is EntityTooSmall.
        let id = store
            .create_upload("b", "small", NewObject::default())
            .expect("upload");
        let mut listed = Vec::new();
        for n in [1, 2] {
            let received = receive(&store, b"tiny");
            let etag = hex(&received.md5);
            store
                .put_part("b", "small", &id, n, received, etag.clone())
                .expect("part");
            listed.push((n, etag));
        }
        assert_eq!(
            store.complete_upload("b", "small", &id, &listed),
            Err(S3Error::EntityTooSmall)
        );
        store.abort_upload("b", "small", &id).expect("aborted");
        assert!(
            fs::read_dir(dir.path().join("uploads"))
                .expect("uploads")
                .next()
                .is_none()
        );
    }
}
