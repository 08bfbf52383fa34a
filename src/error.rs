//! The one error type of the core. The binding layer maps each variant to one Python
//! exception class (`src/py/errors.rs`); the Python layer maps those to MLflow's codes.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    /// The fast path does not cover this input or state; MLflow's own code must serve it.
    #[error("declined: {0}")]
    Declined(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// SQLite stayed locked past the configured busy timeout.
    #[error("database busy: {0}")]
    Busy(String),
    /// Input a metric cannot be computed on (Python `ValueError`).
    #[error("{0}")]
    Value(String),
    /// Ctrl-C reached a long computation.
    #[error("interrupted")]
    Cancelled,
    /// An object store request that failed after its retries (names the object).
    #[error("{0}")]
    Storage(String),
    /// A local file or directory an artifact transfer reads or writes.
    #[error("{0}")]
    Io(String),
    /// A serialized state that cannot be read back.
    #[error("{0}")]
    Decode(String),
    #[error("{context}: {source}")]
    Sql {
        context: String,
        #[source]
        source: rusqlite::Error,
    },
}

pub type CoreResult<T> = Result<T, CoreError>;

impl From<rusqlite::Error> for CoreError {
    fn from(source: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        if matches!(
            source,
            rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
        ) {
            // A value stored outside MLflow's declared types (stock MLflow accepts e.g. a
            // float step and stores REAL): MLflow's ORM knows how to read it back.
            return CoreError::Declined(format!("unexpected stored type: {source}"));
        }
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
                CoreError::Busy(source.to_string())
            }
            _ => CoreError::Sql {
                context: "sqlite".to_owned(),
                source,
            },
        }
    }
}

pub fn value_error(message: impl Into<String>) -> CoreError {
    CoreError::Value(message.into())
}

pub fn declined(reason: impl Into<String>) -> CoreError {
    CoreError::Declined(reason.into())
}
