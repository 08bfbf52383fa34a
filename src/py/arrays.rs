//! Borrowing numpy arrays without copies. The Python layer hands over C-contiguous arrays of
//! the dtypes below (it converts anything else once); the arrays must not be mutated by other
//! threads during a call.

use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// A 1-D float column, float64 or float32.
#[derive(FromPyObject)]
pub enum Floats<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
}

/// A 2-D row-major score matrix, float64 or float32.
#[derive(FromPyObject)]
pub enum Matrix<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

/// A 1-D label column: int64 (also codes of string labels) or float64.
#[derive(FromPyObject)]
pub enum Labels<'py> {
    I64(PyReadonlyArray1<'py, i64>),
    F64(PyReadonlyArray1<'py, f64>),
}

pub fn contiguous<'a, T: numpy::Element>(
    array: &'a PyReadonlyArray1<'_, T>,
    name: &str,
) -> PyResult<&'a [T]> {
    array
        .as_slice()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a C-contiguous array")))
}

pub fn contiguous2<'a, T: numpy::Element>(
    array: &'a PyReadonlyArray2<'_, T>,
    name: &str,
) -> PyResult<(&'a [T], usize)> {
    let cols = array.shape()[1];
    let data = array
        .as_slice()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a C-contiguous array")))?;
    Ok((data, cols))
}

pub fn weights<'a>(weight: &'a Option<PyReadonlyArray1<'_, f64>>) -> PyResult<Option<&'a [f64]>> {
    weight
        .as_ref()
        .map(|w| contiguous(w, "sample_weight"))
        .transpose()
}

pub fn codes_u32(codes: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<u32>> {
    Ok(contiguous(codes, "codes")?
        .iter()
        .map(|&c| c as u32)
        .collect())
}
