//! `CoreError` -> Python exception classes, mapped once. The Python layer
//! (`mlflow_oxide.exceptions`) turns these into MLflow's exceptions and error codes.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;

use crate::error::CoreError;

create_exception!(
    mlflow_oxide._native,
    StoreError,
    PyException,
    "Base of native store errors."
);
create_exception!(
    mlflow_oxide._native,
    Declined,
    StoreError,
    "The fast path does not cover this call; MLflow's own code must serve it."
);
create_exception!(
    mlflow_oxide._native,
    NotFound,
    StoreError,
    "A run, experiment or tag does not exist."
);
create_exception!(
    mlflow_oxide._native,
    InvalidParameter,
    StoreError,
    "MLflow's rules refuse this input."
);
create_exception!(
    mlflow_oxide._native,
    InvalidState,
    StoreError,
    "The stored data is not in the state MLflow expects."
);
create_exception!(
    mlflow_oxide._native,
    AlreadyExists,
    StoreError,
    "The entity already exists."
);
create_exception!(
    mlflow_oxide._native,
    DatabaseBusy,
    StoreError,
    "SQLite stayed locked past the busy timeout."
);
create_exception!(
    mlflow_oxide._native,
    DatabaseError,
    StoreError,
    "SQLite failed."
);

create_exception!(
    mlflow_oxide._native,
    StorageError,
    PyException,
    "An object store request failed after its retries."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("StoreError", py.get_type::<StoreError>())?;
    m.add("Declined", py.get_type::<Declined>())?;
    m.add("NotFound", py.get_type::<NotFound>())?;
    m.add("InvalidParameter", py.get_type::<InvalidParameter>())?;
    m.add("InvalidState", py.get_type::<InvalidState>())?;
    m.add("AlreadyExists", py.get_type::<AlreadyExists>())?;
    m.add("DatabaseBusy", py.get_type::<DatabaseBusy>())?;
    m.add("DatabaseError", py.get_type::<DatabaseError>())?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    Ok(())
}

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        let text = err.to_string();
        match err {
            CoreError::Declined(_) => Declined::new_err(text),
            CoreError::NotFound(_) => NotFound::new_err(text),
            CoreError::InvalidParameter(_) => InvalidParameter::new_err(text),
            CoreError::InvalidState(_) => InvalidState::new_err(text),
            CoreError::AlreadyExists(_) => AlreadyExists::new_err(text),
            CoreError::Busy(_) => DatabaseBusy::new_err(text),
            CoreError::Sql { .. } => DatabaseError::new_err(text),
            CoreError::Value(_) | CoreError::Decode(_) => PyValueError::new_err(text),
            CoreError::Cancelled => PyKeyboardInterrupt::new_err(text),
            CoreError::Storage(_) => StorageError::new_err(text),
            CoreError::Io(_) => pyo3::exceptions::PyOSError::new_err(text),
        }
    }
}
