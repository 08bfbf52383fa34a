//! Google Cloud Storage through its JSON API, as an `ObjectStore` for the transfer layer.
//!
//! object_store's own GCS client speaks the XML API and requires `ETag`/`Last-Modified` on
//! every response; the GCS emulator this project tests against (gcp-storage-emulator, the
//! one the registries offer) serves the JSON API that google-cloud-storage and MLflow use,
//! and no XML multipart. So GCS bytes move here: multipart uploads for small files, resumable
//! uploads (chunks in order, as the protocol requires; no partial object is visible before
//! the last one) for large ones, ranged `alt=media` reads in parallel for downloads. Listing
//! and deletion stay with MLflow's repository (google-cloud-storage).

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, CredentialProvider, GetOptions, GetRange, GetResult, GetResultPayload,
    ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions,
    PutPayload, PutResult, UploadPart,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::watch;

/// An OAuth bearer token (google-auth's, asked for through the Python layer).
#[derive(Debug)]
pub struct GcsToken {
    pub bearer: String,
}

pub type GcsCredentials = Arc<dyn CredentialProvider<Credential = GcsToken>>;

/// Everything but RFC 3986 unreserved characters is escaped in names (path and query).
const NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Resumable uploads take chunks in multiples of this (all but the last).
pub const RESUMABLE_QUANTUM: usize = 256 << 10;

#[derive(Clone)]
struct Retry {
    max_retries: usize,
    timeout: Duration,
}

pub struct GcsJson {
    client: reqwest::Client,
    /// `https://storage.googleapis.com` or an emulator's URL.
    base: String,
    bucket: String,
    credentials: Option<GcsCredentials>,
    retry: Retry,
}

impl fmt::Debug for GcsJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GcsJson({}, bucket {})", self.base, self.bucket)
    }
}

impl fmt::Display for GcsJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GCS(gs://{})", self.bucket)
    }
}

fn generic(message: String) -> object_store::Error {
    object_store::Error::Generic {
        store: "GCS",
        source: message.into(),
    }
}

fn not_found(path: &str, message: String) -> object_store::Error {
    object_store::Error::NotFound {
        path: path.to_string(),
        source: message.into(),
    }
}

fn transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

impl GcsJson {
    pub fn new(
        bucket: &str,
        base: Option<&str>,
        credentials: Option<GcsCredentials>,
        max_retries: usize,
        retry_timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()?;
        Ok(GcsJson {
            client,
            base: base
                .unwrap_or("https://storage.googleapis.com")
                .trim_end_matches('/')
                .to_string(),
            bucket: bucket.to_string(),
            credentials,
            retry: Retry {
                max_retries,
                timeout: retry_timeout,
            },
        })
    }

    fn object_url(&self, location: &Path) -> String {
        format!(
            "{}/storage/v1/b/{}/o/{}",
            self.base,
            utf8_percent_encode(&self.bucket, NAME),
            utf8_percent_encode(location.as_ref(), NAME)
        )
    }

    fn upload_url(&self, location: &Path, kind: &str) -> String {
        format!(
            "{}/upload/storage/v1/b/{}/o?uploadType={kind}&name={}",
            self.base,
            utf8_percent_encode(&self.bucket, NAME),
            utf8_percent_encode(location.as_ref(), NAME)
        )
    }

    async fn authorize(&self, request: RequestBuilder) -> object_store::Result<RequestBuilder> {
        match &self.credentials {
            Some(provider) => {
                let credential = provider.get_credential().await?;
                Ok(request.bearer_auth(&credential.bearer))
            }
            None => Ok(request),
        }
    }

    /// Send what `build` makes, again with exponential backoff while the failure is
    /// transient (connection errors, 408/429/5xx) and retries and time are left.
    async fn send(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> object_store::Result<Response> {
        let started = Instant::now();
        let mut backoff = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            let request = self.authorize(build()).await?;
            let failure = match request.send().await {
                Ok(response) if !transient(response.status()) => return Ok(response),
                Ok(response) => format!("{what}: HTTP {}", response.status()),
                Err(e) => format!("{what}: {e}"),
            };
            attempt += 1;
            if attempt > self.retry.max_retries || started.elapsed() + backoff > self.retry.timeout
            {
                return Err(generic(format!("{failure} (after {attempt} attempts)")));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(15));
        }
    }

    async fn check(
        what: &str,
        location: &Path,
        response: Response,
    ) -> object_store::Result<Response> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let message = format!("{what} {location}: HTTP {status}: {}", body.trim());
        if status == StatusCode::NOT_FOUND {
            Err(not_found(location.as_ref(), message))
        } else {
            Err(generic(message))
        }
    }

    async fn metadata(&self, location: &Path) -> object_store::Result<ObjectMeta> {
        let url = self.object_url(location);
        let response = self.send("metadata", || self.client.get(&url)).await?;
        let response = Self::check("metadata of", location, response).await?;
        let json: serde_json::Value = response
            .json()
            .await
            .map_err(|e| generic(format!("metadata of {location}: {e}")))?;
        let size = json["size"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| generic(format!("metadata of {location}: no size")))?;
        Ok(ObjectMeta {
            location: location.clone(),
            last_modified: chrono::Utc::now(),
            size,
            e_tag: md5_etag(&json),
            version: json["generation"].as_str().map(str::to_string),
        })
    }
}

/// The object's MD5 as the hex "ETag" the download check reads (GCS states it in base64).
fn md5_etag(json: &serde_json::Value) -> Option<String> {
    use base64::Engine;
    let encoded = json["md5Hash"].as_str()?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    Some(raw.iter().map(|b| format!("{b:02x}")).collect())
}

/// A multipart boundary no content will contain by chance (128 random-enough bits).
fn boundary() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let mixed = (nanos ^ (u64::from(std::process::id()) << 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ NEXT
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0xbf58_476d_1ce4_e5b9);
    format!("oxide-{nanos:016x}{mixed:016x}")
}

fn content_type(attributes: &Attributes) -> String {
    attributes
        .get(&Attribute::ContentType)
        .map(|v| v.as_ref().to_string())
        .unwrap_or_else(|| "application/octet-stream".to_string())
}

#[async_trait]
impl ObjectStore for GcsJson {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        // A multipart (metadata + media) upload, as google-cloud-storage sends small files: a
        // bare media upload of a JSON or empty body is one the emulator cannot take.
        let url = self.upload_url(location, "multipart");
        let content: Bytes = payload.into();
        let ct = content_type(&opts.attributes);
        let boundary = boundary();
        let metadata = serde_json::json!({ "name": location.as_ref(), "contentType": ct });
        let mut body = Vec::with_capacity(content.len() + 512);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n\
                 {metadata}\r\n--{boundary}\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let body = Bytes::from(body);
        let header = format!("multipart/related; boundary=\"{boundary}\"");
        let response = self
            .send("upload", || {
                self.client
                    .post(&url)
                    .header("Content-Type", &header)
                    .body(body.clone())
            })
            .await?;
        let response = Self::check("upload of", location, response).await?;
        let json: serde_json::Value = response.json().await.unwrap_or_default();
        Ok(PutResult {
            e_tag: json["etag"].as_str().map(str::to_string),
            version: json["generation"].as_str().map(str::to_string),
        })
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let url = self.upload_url(location, "resumable");
        let ct = content_type(&opts.attributes);
        let metadata = serde_json::json!({ "contentType": ct }).to_string();
        let response = self
            .send("resumable upload", || {
                self.client
                    .post(&url)
                    .header("Content-Type", "application/json; charset=UTF-8")
                    .header("X-Upload-Content-Type", &ct)
                    .body(metadata.clone())
            })
            .await?;
        let response = Self::check("resumable upload of", location, response).await?;
        let session = response
            .headers()
            .get("Location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| generic(format!("resumable upload of {location}: no session URI")))?
            .to_string();
        let (turn, _) = watch::channel(0usize);
        Ok(Box::new(Resumable {
            shared: Arc::new(Session {
                store: GcsJson {
                    client: self.client.clone(),
                    base: self.base.clone(),
                    bucket: self.bucket.clone(),
                    credentials: self.credentials.clone(),
                    retry: self.retry.clone(),
                },
                url: session,
                location: location.clone(),
                turn,
                offset: Mutex::new(0),
            }),
            parts: 0,
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        if options.head {
            let meta = self.metadata(location).await?;
            let range = 0..meta.size;
            return Ok(GetResult {
                payload: GetResultPayload::Stream(stream::empty().boxed()),
                meta,
                range,
                attributes: Attributes::new(),
            });
        }
        let url = format!("{}?alt=media", self.object_url(location));
        let header = match &options.range {
            None => None,
            Some(GetRange::Bounded(r)) if r.end > r.start => {
                Some(format!("bytes={}-{}", r.start, r.end - 1))
            }
            Some(GetRange::Offset(start)) => Some(format!("bytes={start}-")),
            Some(GetRange::Suffix(n)) => Some(format!("bytes=-{n}")),
            Some(other) => return Err(generic(format!("unsupported range {other:?}"))),
        };
        let response = self
            .send("download", || {
                let request = self.client.get(&url);
                match &header {
                    Some(h) => request.header("Range", h),
                    None => request,
                }
            })
            .await?;
        let response = Self::check("download of", location, response).await?;
        let total = content_range_total(&response);
        let start = match &options.range {
            Some(GetRange::Bounded(r)) => r.start,
            Some(GetRange::Offset(s)) => *s,
            _ => 0,
        };
        let length = response.content_length().unwrap_or(0);
        let range: Range<u64> = start..start + length;
        let size = total.unwrap_or(range.end);
        let what = location.to_string();
        // The body as it arrives, chunk by chunk.
        let body = stream::unfold(Some(response), move |response| {
            let what = what.clone();
            async move {
                let mut response = response?;
                match response.chunk().await {
                    Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
                    Ok(None) => None,
                    Err(e) => Some((Err(generic(format!("download of {what}: {e}"))), None)),
                }
            }
        });
        Ok(GetResult {
            payload: GetResultPayload::Stream(body.boxed()),
            meta: ObjectMeta {
                location: location.clone(),
                last_modified: chrono::Utc::now(),
                size,
                e_tag: None,
                version: None,
            },
            range,
            attributes: Attributes::new(),
        })
    }

    async fn delete(&self, location: &Path) -> object_store::Result<()> {
        let url = self.object_url(location);
        let response = self.send("delete", || self.client.delete(&url)).await?;
        Self::check("deletion of", location, response).await?;
        Ok(())
    }

    fn list(&self, _prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        // Listing is MLflow's (google-cloud-storage); nothing here calls it.
        stream::once(async { Err(object_store::Error::NotImplemented) }).boxed()
    }

    async fn list_with_delimiter(
        &self,
        _prefix: Option<&Path>,
    ) -> object_store::Result<ListResult> {
        Err(object_store::Error::NotImplemented)
    }

    async fn copy(&self, _from: &Path, _to: &Path) -> object_store::Result<()> {
        Err(object_store::Error::NotImplemented)
    }

    async fn copy_if_not_exists(&self, _from: &Path, _to: &Path) -> object_store::Result<()> {
        Err(object_store::Error::NotImplemented)
    }
}

/// The total size a `Content-Range: bytes a-b/total` header states.
fn content_range_total(response: &Response) -> Option<u64> {
    response
        .headers()
        .get("Content-Range")?
        .to_str()
        .ok()?
        .rsplit('/')
        .next()?
        .parse()
        .ok()
}

struct Session {
    store: GcsJson,
    url: String,
    location: Path,
    /// Index of the part whose turn it is: the protocol takes chunks strictly in order.
    turn: watch::Sender<usize>,
    offset: Mutex<u64>,
}

impl Session {
    /// Bytes the server has persisted, from a status query (`Range: bytes=0-N`).
    async fn persisted(&self) -> object_store::Result<Option<u64>> {
        let response = self
            .store
            .send("resumable status", || {
                self.store
                    .client
                    .put(&self.url)
                    .header("Content-Range", "bytes */*")
                    .header("Content-Length", "0")
            })
            .await?;
        if response.status().as_u16() != 308 {
            return Ok(None);
        }
        Ok(Some(
            response
                .headers()
                .get("Range")
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.rsplit('-').next())
                .and_then(|n| n.parse::<u64>().ok())
                .map_or(0, |last| last + 1),
        ))
    }

    /// Send `data` as the chunk at the current offset; after a failed attempt, resume from
    /// what the server says it has.
    async fn send_chunk(&self, data: Bytes) -> object_store::Result<()> {
        let start = *self.offset.lock().unwrap();
        let end = start + data.len() as u64;
        let mut from = start;
        let mut attempts = 0;
        loop {
            let slice = data.slice((from - start) as usize..);
            let range = format!("bytes {from}-{}/*", end - 1);
            let result = self
                .store
                .client
                .put(&self.url)
                .header("Content-Range", range)
                .body(slice)
                .send()
                .await;
            match result {
                Ok(r) if r.status().as_u16() == 308 => break,
                Ok(r) if !transient(r.status()) => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    return Err(generic(format!(
                        "resumable upload of {}: HTTP {status}: {}",
                        self.location,
                        body.trim()
                    )));
                }
                _ => {}
            }
            attempts += 1;
            if attempts > self.store.retry.max_retries {
                return Err(generic(format!(
                    "resumable upload of {}: chunk at {start} failed after {attempts} attempts",
                    self.location
                )));
            }
            tokio::time::sleep(Duration::from_millis(100 << attempts.min(7))).await;
            match self.persisted().await? {
                Some(n) if n >= end => break,
                Some(n) if n >= start => from = n,
                _ => {
                    return Err(generic(format!(
                        "resumable upload of {}: the session was lost",
                        self.location
                    )))
                }
            }
        }
        *self.offset.lock().unwrap() = end;
        Ok(())
    }

    async fn wait_turn(&self, part: usize) -> object_store::Result<()> {
        let mut turn = self.turn.subscribe();
        turn.wait_for(|t| *t >= part)
            .await
            .map_err(|_| generic(format!("resumable upload of {}: aborted", self.location)))?;
        if *turn.borrow() != part {
            return Err(generic(format!(
                "resumable upload of {}: an earlier chunk failed",
                self.location
            )));
        }
        Ok(())
    }
}

/// A GCS resumable upload behind object_store's multipart interface: parts may be started
/// concurrently but go to the server one after another, in order.
struct Resumable {
    shared: Arc<Session>,
    parts: usize,
}

impl fmt::Debug for Resumable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Resumable({})", self.shared.location)
    }
}

/// A failed chunk makes every later one fail instead of waiting forever.
const POISONED: usize = usize::MAX;

#[async_trait]
impl MultipartUpload for Resumable {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let part = self.parts;
        self.parts += 1;
        let shared = Arc::clone(&self.shared);
        let upload: BoxFuture<'static, object_store::Result<()>> = Box::pin(async move {
            shared.wait_turn(part).await?;
            let result = shared.send_chunk(data.into()).await;
            shared
                .turn
                .send_replace(if result.is_ok() { part + 1 } else { POISONED });
            result
        });
        upload
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        let shared = &self.shared;
        shared.wait_turn(self.parts).await?;
        let total = *shared.offset.lock().unwrap();
        let response = shared
            .store
            .send("resumable upload completion", || {
                shared
                    .store
                    .client
                    .put(&shared.url)
                    .header("Content-Range", format!("bytes */{total}"))
                    .header("Content-Length", "0")
            })
            .await?;
        let response = GcsJson::check("resumable upload of", &shared.location, response).await?;
        let json: serde_json::Value = response.json().await.unwrap_or_default();
        Ok(PutResult {
            e_tag: json["etag"].as_str().map(str::to_string),
            version: json["generation"].as_str().map(str::to_string),
        })
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.shared.turn.send_replace(POISONED);
        // GCS answers 499 to a cancelled session; either way nothing was finalized.
        let _ = self
            .shared
            .store
            .client
            .delete(&self.shared.url)
            .send()
            .await;
        Ok(())
    }
}
