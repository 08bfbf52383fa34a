//! Binding of the model loader's native parts: MLmodel parsing, the model cache, and the
//! schema-enforcement data checks.

use std::path::PathBuf;

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::arrays::contiguous;
use crate::core::models::cache::{self, ManifestEntry};
use crate::core::models::mlmodel::{self, Value};
use crate::core::models::schema;

fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::BigInt(digits) => py
            .get_type::<pyo3::types::PyInt>()
            .call1((digits.as_str(),))?,
        Value::Float(f) => f.into_pyobject(py)?.into_any(),
        Value::Str(s) => s.into_pyobject(py)?.into_any(),
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Map(entries) => {
            let dict = PyDict::new(py);
            for (key, item) in entries {
                dict.set_item(key, to_python(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// `(doc, has_pyfunc, loader_module, data, is_external)`.
type ParsedMlModel<'py> = (
    Bound<'py, PyAny>,
    bool,
    Option<String>,
    Option<String>,
    bool,
);

/// Raises `Declined` for YAML whose PyYAML reading this parser does not reproduce (the caller
/// then uses PyYAML).
#[pyfunction]
fn parse_mlmodel<'py>(py: Python<'py>, text: &str) -> PyResult<ParsedMlModel<'py>> {
    let model = mlmodel::parse_mlmodel(text)?;
    Ok((
        to_python(py, &model.doc)?,
        model.has_pyfunc,
        model.loader_module,
        model.data,
        model.is_external,
    ))
}

type Manifest = Vec<(String, u64, String)>;

fn manifest_tuples(manifest: Vec<ManifestEntry>) -> Manifest {
    manifest
        .into_iter()
        .map(|e| (e.path, e.size, e.sha256))
        .collect()
}

/// Publish the downloaded model directory `staged` (under `<root>/tmp`) as a cache tree:
/// `(tree_id, [(path, size, sha256)])`.
#[pyfunction]
fn model_cache_ingest(
    py: Python<'_>,
    root: PathBuf,
    staged: PathBuf,
) -> PyResult<(String, Manifest)> {
    let (tree_id, manifest) = py.detach(|| cache::ingest(&root, &staged))?;
    Ok((tree_id, manifest_tuples(manifest)))
}

/// The manifest of a complete, unaltered cache tree, or `None`.
#[pyfunction]
fn model_cache_manifest(
    py: Python<'_>,
    root: PathBuf,
    tree_id: String,
) -> PyResult<Option<Manifest>> {
    let manifest = py.detach(|| cache::intact_manifest(&root, &tree_id))?;
    Ok(manifest.map(manifest_tuples))
}

#[pyfunction]
fn all_zero_or_one(py: Python<'_>, values: PyReadonlyArray1<'_, i64>) -> PyResult<bool> {
    let values = contiguous(&values, "values")?;
    Ok(py.detach(|| schema::all_zero_or_one(values)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parse_mlmodel, m)?)?;
    m.add_function(wrap_pyfunction!(model_cache_ingest, m)?)?;
    m.add_function(wrap_pyfunction!(model_cache_manifest, m)?)?;
    m.add_function(wrap_pyfunction!(all_zero_or_one, m)?)?;
    Ok(())
}
