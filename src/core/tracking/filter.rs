//! Building parameterised SQL for search filters: comparators, values, bind lists.

use rusqlite::types::Value;

use super::dialect::Dialect;
use super::model::FilterValue;
use crate::error::{declined, CoreResult};

/// Accumulates bind values and hands out dialect placeholders for them.
pub struct Binds<'d> {
    dialect: &'d dyn Dialect,
    pub values: Vec<Value>,
}

impl<'d> Binds<'d> {
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        Self {
            dialect,
            values: Vec::new(),
        }
    }

    pub fn dialect(&self) -> &'d dyn Dialect {
        self.dialect
    }

    pub fn push(&mut self, value: Value) -> String {
        self.values.push(value);
        self.dialect.placeholder(self.values.len())
    }

    pub fn text(&mut self, text: &str) -> String {
        self.push(Value::Text(text.to_owned()))
    }

    fn scalar(&mut self, value: &FilterValue) -> CoreResult<String> {
        Ok(match value {
            FilterValue::Text(t) => self.push(Value::Text(t.clone())),
            FilterValue::Int(i) => self.push(Value::Integer(*i)),
            FilterValue::Real(r) => self.push(Value::Real(*r)),
            FilterValue::Null | FilterValue::List(_) => {
                return Err(declined("comparison needs a scalar value"))
            }
        })
    }
}

/// `column <comparator> value` as SQLAlchemy renders MLflow's comparison functions.
pub fn compare(
    binds: &mut Binds<'_>,
    column: &str,
    comparator: &str,
    value: &FilterValue,
) -> CoreResult<String> {
    let op = match comparator {
        "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" => comparator,
        "ILIKE" => {
            let p = binds.scalar(value)?;
            return Ok(binds.dialect().ilike(column, &p));
        }
        "IN" | "NOT IN" => {
            let FilterValue::List(items) = value else {
                return Err(declined("IN needs a list"));
            };
            if items.is_empty() {
                return Err(declined("empty IN list"));
            }
            let marks = items
                .iter()
                .map(|item| binds.scalar(item))
                .collect::<CoreResult<Vec<_>>>()?;
            return Ok(format!("{column} {comparator} ({})", marks.join(", ")));
        }
        other => return Err(declined(format!("comparator {other}"))),
    };
    let p = binds.scalar(value)?;
    Ok(format!("{column} {op} {p}"))
}
