//! Python objects -> owned core inputs. Anything outside the shapes MLflow's validation
//! certainly accepts becomes `Declined`, so MLflow's own code judges it.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::core::tracking::{Batch, Filter, FilterValue, MetricIn, OrderBy};
use crate::error::{declined, CoreError};

/// A `str` attribute (keys and values of params/tags); anything else is MLflow's to judge.
fn attr(obj: &Bound<'_, PyAny>, name: &str) -> Result<String, CoreError> {
    obj.getattr(name)
        .ok()
        .and_then(|v| v.extract::<String>().ok())
        .ok_or_else(|| declined(format!("attribute {name}")))
}

/// An `int` that is not a `bool` (MLflow refuses bools as numbers).
fn strict_int(obj: &Bound<'_, PyAny>) -> Result<i64, CoreError> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(declined("expected int"));
    }
    obj.extract::<i64>()
        .map_err(|_| declined("int out of range"))
}

fn metric(obj: &Bound<'_, PyAny>) -> Result<MetricIn, CoreError> {
    for extra in ["model_id", "dataset_name", "dataset_digest"] {
        // Model-scoped metrics go through MLflow's logged-model code.
        if obj.getattr(extra).map(|v| !v.is_none()).unwrap_or(false) {
            return Err(declined("model or dataset metric"));
        }
    }
    let value = obj.getattr("value").map_err(|_| declined("metric value"))?;
    let value = if value.is_instance_of::<PyFloat>() {
        value
            .extract::<f64>()
            .map_err(|_| declined("metric value"))?
    } else {
        strict_int(&value)? as f64
    };
    let timestamp = strict_int(
        &obj.getattr("timestamp")
            .map_err(|_| declined("timestamp"))?,
    )?;
    let step = strict_int(&obj.getattr("step").map_err(|_| declined("step"))?)?;
    Ok(MetricIn {
        key: attr(obj, "key")?,
        value,
        timestamp,
        step,
    })
}

fn key_value(obj: &Bound<'_, PyAny>) -> Result<(String, String), CoreError> {
    Ok((attr(obj, "key")?, attr(obj, "value")?))
}

pub fn batch(
    metrics: &Bound<'_, PyAny>,
    params: &Bound<'_, PyAny>,
    tags: &Bound<'_, PyAny>,
) -> Result<Batch, CoreError> {
    let mut out = Batch::default();
    for m in metrics
        .try_iter()
        .map_err(|_| declined("metrics not iterable"))?
    {
        out.metrics
            .push(metric(&m.map_err(|_| declined("metrics"))?)?);
    }
    for p in params
        .try_iter()
        .map_err(|_| declined("params not iterable"))?
    {
        out.params
            .push(key_value(&p.map_err(|_| declined("params"))?)?);
    }
    for t in tags.try_iter().map_err(|_| declined("tags not iterable"))? {
        out.tags.push(key_value(&t.map_err(|_| declined("tags"))?)?);
    }
    Ok(out)
}

pub fn filter_value(obj: &Bound<'_, PyAny>) -> Result<FilterValue, CoreError> {
    if obj.is_none() {
        Ok(FilterValue::Null)
    } else if obj.is_instance_of::<PyString>() {
        Ok(FilterValue::Text(
            obj.extract().map_err(|_| declined("text"))?,
        ))
    } else if obj.is_instance_of::<PyBool>() {
        Err(declined("bool filter value"))
    } else if obj.is_instance_of::<PyInt>() {
        Ok(FilterValue::Int(strict_int(obj)?))
    } else if obj.is_instance_of::<PyFloat>() {
        Ok(FilterValue::Real(
            obj.extract().map_err(|_| declined("float"))?,
        ))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items = obj.try_iter().map_err(|_| declined("list"))?;
        let mut out = Vec::new();
        for item in items {
            out.push(filter_value(&item.map_err(|_| declined("list item"))?)?);
        }
        Ok(FilterValue::List(out))
    } else {
        Err(declined("filter value type"))
    }
}

pub fn filters(list: &Bound<'_, PyAny>) -> Result<Vec<Filter>, CoreError> {
    let mut out = Vec::new();
    for item in list.try_iter().map_err(|_| declined("filters"))? {
        let item = item.map_err(|_| declined("filters"))?;
        let (kind, key, comparator, value): (String, String, String, Bound<'_, PyAny>) =
            item.extract().map_err(|_| declined("filter tuple"))?;
        out.push(Filter {
            kind,
            key,
            comparator,
            value: filter_value(&value)?,
        });
    }
    Ok(out)
}

pub fn order_by(list: &Bound<'_, PyAny>) -> Result<Vec<OrderBy>, CoreError> {
    let mut out = Vec::new();
    for item in list.try_iter().map_err(|_| declined("order_by"))? {
        let item = item.map_err(|_| declined("order_by"))?;
        let (kind, key, ascending): (String, String, bool) =
            item.extract().map_err(|_| declined("order_by tuple"))?;
        out.push(OrderBy {
            kind,
            key,
            ascending,
        });
    }
    Ok(out)
}
