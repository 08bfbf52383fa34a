//! Building an object store for an artifact root: S3 (and S3-compatible endpoints), Azure Blob
//! Storage (also serving ADLS Gen2 accounts), Google Cloud Storage (our JSON-API client, see
//! `gcs`), or a local directory.
//! Credentials are resolved by the caller, the way MLflow's own repositories resolve them
//! (boto3's chain, Azure connection strings / keys / `DefaultAzureCredential`, google-auth).

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::azure::{AzureConfigKey, AzureCredential, MicrosoftAzureBuilder};
use object_store::local::LocalFileSystem;
use object_store::{BackoffConfig, ClientOptions, CredentialProvider, ObjectStore, RetryConfig};

use crate::error::{CoreError, CoreResult};

/// Where S3 requests go and how they are signed.
#[derive(Clone, Debug, Default)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// `MLFLOW_S3_ENDPOINT_URL`; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// `MLFLOW_S3_IGNORE_TLS`.
    pub ignore_tls: bool,
    /// Virtual-hosted-style requests (`bucket.host`) instead of path style.
    pub virtual_hosted: bool,
    /// Requests not signed (public buckets, anonymous access).
    pub unsigned: bool,
    pub max_retries: usize,
    pub retry_timeout: Duration,
}

pub type Credentials = Arc<dyn CredentialProvider<Credential = AwsCredential>>;
pub type AzureCredentials = Arc<dyn CredentialProvider<Credential = AzureCredential>>;
pub use super::gcs::GcsCredentials;

/// Where Azure Blob requests go and how they are authorized (first match wins: `credentials`
/// given to [`azure`], then `access_key`, then `sas`; none of them means anonymous).
#[derive(Clone, Debug, Default)]
pub struct AzureConfig {
    pub account: String,
    pub container: String,
    /// The account's blob endpoint (`BlobEndpoint` of a connection string, Azurite, sovereign
    /// clouds); `None` for `https://<account>.blob.core.windows.net`.
    pub endpoint: Option<String>,
    pub access_key: Option<String>,
    /// A shared access signature (`?sv=...` query string).
    pub sas: Option<String>,
    pub ignore_tls: bool,
    pub max_retries: usize,
    pub retry_timeout: Duration,
}

/// Where GCS requests go. `emulator` (`STORAGE_EMULATOR_HOST`) sends unauthenticated
/// requests there, as google-cloud-storage does.
#[derive(Clone, Debug, Default)]
pub struct GcsConfig {
    pub bucket: String,
    pub emulator: Option<String>,
    pub max_retries: usize,
    pub retry_timeout: Duration,
}

fn retry(max_retries: usize, retry_timeout: Duration) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(15),
            base: 2.0,
        },
        max_retries,
        retry_timeout,
    }
}

fn client_options(ignore_tls: bool, allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_invalid_certificates(ignore_tls)
        .with_allow_http(allow_http)
        .with_timeout(Duration::from_secs(300))
        .with_connect_timeout(Duration::from_secs(10))
}

pub fn s3(config: &S3Config, credentials: Option<Credentials>) -> CoreResult<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&config.bucket)
        .with_region(&config.region)
        .with_virtual_hosted_style_request(config.virtual_hosted)
        .with_retry(retry(config.max_retries, config.retry_timeout))
        .with_client_options(client_options(
            config.ignore_tls,
            config
                .endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("http://")),
        ))
        // Payloads are not hashed into the signature (as boto3 does over HTTPS): hashing
        // every byte costs more CPU than the transfer itself on a fast network.
        .with_unsigned_payload(true)
        .with_skip_signature(config.unsigned);
    if let Some(endpoint) = &config.endpoint {
        builder = builder.with_endpoint(endpoint.trim_end_matches('/'));
    }
    if let Some(credentials) = credentials {
        builder = builder.with_credentials(credentials);
    }
    builder
        .build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| {
            CoreError::Storage(format!(
                "cannot configure S3 bucket {:?}: {e}",
                config.bucket
            ))
        })
}

pub fn azure(
    config: &AzureConfig,
    credentials: Option<AzureCredentials>,
) -> CoreResult<Arc<dyn ObjectStore>> {
    let allow_http = config
        .endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"));
    let mut builder = MicrosoftAzureBuilder::new()
        .with_account(&config.account)
        .with_container_name(&config.container)
        .with_retry(retry(config.max_retries, config.retry_timeout))
        .with_client_options(client_options(config.ignore_tls, allow_http))
        // MLflow's repository writes no blob index tags; not every account (or Azurite)
        // accepts the header.
        .with_disable_tagging(true);
    if let Some(endpoint) = &config.endpoint {
        builder = builder.with_endpoint(endpoint.trim_end_matches('/').to_string());
    }
    if let Some(credentials) = credentials {
        builder = builder.with_credentials(credentials);
    } else if let Some(key) = &config.access_key {
        builder = builder.with_access_key(key);
    } else if let Some(sas) = &config.sas {
        builder = builder.with_config(AzureConfigKey::SasKey, sas.trim_start_matches('?'));
    } else {
        builder = builder.with_skip_signature(true);
    }
    builder
        .build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| {
            CoreError::Storage(format!(
                "cannot configure Azure container {:?} of account {:?}: {e}",
                config.container, config.account
            ))
        })
}

pub fn gcs(
    config: &GcsConfig,
    credentials: Option<GcsCredentials>,
) -> CoreResult<Arc<dyn ObjectStore>> {
    let credentials = if config.emulator.is_some() {
        None // google-cloud-storage sends emulators no credentials either
    } else {
        credentials
    };
    super::gcs::GcsJson::new(
        &config.bucket,
        config.emulator.as_deref(),
        credentials,
        config.max_retries,
        config.retry_timeout,
    )
    .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
    .map_err(|e| {
        CoreError::Storage(format!(
            "cannot configure GCS bucket {:?}: {e}",
            config.bucket
        ))
    })
}

pub fn local(root: &str) -> CoreResult<Arc<dyn ObjectStore>> {
    std::fs::create_dir_all(root).map_err(|e| CoreError::Io(format!("{root}: {e}")))?;
    LocalFileSystem::new_with_prefix(root)
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| CoreError::Io(format!("{root}: {e}")))
}
