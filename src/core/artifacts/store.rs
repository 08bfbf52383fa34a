//! Building an object store for an artifact root: S3 (and S3-compatible endpoints) or a local
//! directory. Credentials are resolved by the caller (the Python layer uses boto3's chain).

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AwsCredential};
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

pub fn s3(config: &S3Config, credentials: Option<Credentials>) -> CoreResult<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&config.bucket)
        .with_region(&config.region)
        .with_virtual_hosted_style_request(config.virtual_hosted)
        .with_retry(retry(config.max_retries, config.retry_timeout))
        .with_client_options(
            ClientOptions::new()
                .with_allow_invalid_certificates(config.ignore_tls)
                .with_timeout(Duration::from_secs(300))
                .with_connect_timeout(Duration::from_secs(10)),
        )
        .with_skip_signature(config.unsigned);
    if let Some(endpoint) = &config.endpoint {
        builder = builder
            .with_endpoint(endpoint.trim_end_matches('/'))
            .with_allow_http(endpoint.starts_with("http://"));
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

pub fn local(root: &str) -> CoreResult<Arc<dyn ObjectStore>> {
    std::fs::create_dir_all(root).map_err(|e| CoreError::Io(format!("{root}: {e}")))?;
    LocalFileSystem::new_with_prefix(root)
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| CoreError::Io(format!("{root}: {e}")))
}
