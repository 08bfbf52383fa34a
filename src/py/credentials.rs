//! Credentials the native object stores ask a Python callable for, so they come from the same
//! chains MLflow's repositories use (boto3, azure-identity, google-auth) and refresh the same
//! way. The answer is cached: static keys for a minute, tokens until shortly before expiry.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use object_store::aws::AwsCredential;
use object_store::azure::AzureCredential;
use object_store::CredentialProvider;
use pyo3::prelude::*;

use crate::core::artifacts::gcs::GcsToken;

/// A credential as a Python callable returns it, plus when to ask again.
pub trait FromCallback: Debug + Send + Sync + Sized + 'static {
    const STORE: &'static str;
    fn extract(answer: &Bound<'_, PyAny>) -> PyResult<(Self, Option<Duration>)>;
}

/// How long a key pair (which the Python side refreshes itself) is reused.
const KEYS_TTL: Duration = Duration::from_secs(60);
/// Tokens are renewed this long before they expire, as the SDKs do.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// `(token, expires_at_unix_seconds | None)` → the time left to use it.
fn token_ttl(expires_at: Option<f64>) -> Option<Duration> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let left = expires_at.map_or(KEYS_TTL.as_secs_f64(), |at| at - now);
    Some(Duration::from_secs_f64(
        (left - TOKEN_MARGIN.as_secs_f64()).max(1.0),
    ))
}

/// S3: `(access_key_id, secret_access_key, session_token | None)`.
impl FromCallback for AwsCredential {
    const STORE: &'static str = "S3";
    fn extract(answer: &Bound<'_, PyAny>) -> PyResult<(Self, Option<Duration>)> {
        let (key_id, secret_key, token): (String, String, Option<String>) = answer.extract()?;
        let credential = AwsCredential {
            key_id,
            secret_key,
            token,
        };
        Ok((credential, Some(KEYS_TTL)))
    }
}

/// Azure: `(bearer_token, expires_at | None)` from an azure-identity credential.
impl FromCallback for AzureCredential {
    const STORE: &'static str = "MicrosoftAzure";
    fn extract(answer: &Bound<'_, PyAny>) -> PyResult<(Self, Option<Duration>)> {
        let (token, expires_at): (String, Option<f64>) = answer.extract()?;
        Ok((AzureCredential::BearerToken(token), token_ttl(expires_at)))
    }
}

/// GCS: `(bearer_token, expires_at | None)` from google-auth.
impl FromCallback for GcsToken {
    const STORE: &'static str = "GCS";
    fn extract(answer: &Bound<'_, PyAny>) -> PyResult<(Self, Option<Duration>)> {
        let (bearer, expires_at): (String, Option<f64>) = answer.extract()?;
        Ok((GcsToken { bearer }, token_ttl(expires_at)))
    }
}

type Cached<C> = Option<(Arc<C>, Instant, Duration)>;

#[derive(Debug)]
pub struct PythonCredentials<C> {
    source: Py<PyAny>,
    cached: Mutex<Cached<C>>,
}

impl<C: FromCallback> PythonCredentials<C> {
    pub fn provider(source: Py<PyAny>) -> Arc<dyn CredentialProvider<Credential = C>> {
        Arc::new(PythonCredentials {
            source,
            cached: Mutex::new(None),
        })
    }
}

#[async_trait]
impl<C: FromCallback> CredentialProvider for PythonCredentials<C> {
    type Credential = C;

    async fn get_credential(&self) -> object_store::Result<Arc<C>> {
        if let Some((credential, at, ttl)) = self.cached.lock().unwrap().as_ref() {
            if at.elapsed() < *ttl {
                return Ok(Arc::clone(credential));
            }
        }
        let (fresh, ttl) = Python::attach(|py| C::extract(self.source.call0(py)?.bind(py)))
            .map_err(|e: PyErr| object_store::Error::Generic {
                store: C::STORE,
                source: format!("resolving {} credentials failed: {e}", C::STORE).into(),
            })?;
        let credential = Arc::new(fresh);
        if let Some(ttl) = ttl {
            *self.cached.lock().unwrap() = Some((Arc::clone(&credential), Instant::now(), ttl));
        }
        Ok(credential)
    }
}
