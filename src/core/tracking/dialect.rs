//! SQL text that differs between databases. The search builders only speak through this, so a
//! PostgreSQL backend reuses them with its own `Dialect`.

pub trait Dialect: Send + Sync {
    /// Bind placeholder for the `index`-th (1-based) parameter.
    fn placeholder(&self, index: usize) -> String;
    /// Case-insensitive LIKE, as SQLAlchemy renders `ilike` for the dialect.
    fn ilike(&self, column: &str, placeholder: &str) -> String;
    /// `LIMIT/OFFSET` tail; `None` means no limit.
    fn limit_offset(&self, limit: &str, offset: &str, has_limit: bool) -> String;
    fn true_literal(&self) -> &'static str;
    fn false_literal(&self) -> &'static str;
}

/// SQLite as MLflow configures it: `PRAGMA case_sensitive_like = true`, so `LIKE` is case
/// sensitive and SQLAlchemy's `ilike` (`lower(x) LIKE lower(y)`) is the insensitive one.
pub struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, index: usize) -> String {
        format!("?{index}")
    }
    fn ilike(&self, column: &str, placeholder: &str) -> String {
        format!("lower({column}) LIKE lower({placeholder})")
    }
    fn limit_offset(&self, limit: &str, offset: &str, has_limit: bool) -> String {
        if has_limit {
            format!(" LIMIT {limit} OFFSET {offset}")
        } else {
            format!(" LIMIT -1 OFFSET {offset}")
        }
    }
    fn true_literal(&self) -> &'static str {
        "1"
    }
    fn false_literal(&self) -> &'static str {
        "0"
    }
}

/// PostgreSQL text for the same builders (used by the builder tests; its executor comes later).
pub struct Postgres;

impl Dialect for Postgres {
    fn placeholder(&self, index: usize) -> String {
        format!("${index}")
    }
    fn ilike(&self, column: &str, placeholder: &str) -> String {
        format!("{column} ILIKE {placeholder}")
    }
    fn limit_offset(&self, limit: &str, offset: &str, has_limit: bool) -> String {
        if has_limit {
            format!(" LIMIT {limit} OFFSET {offset}")
        } else {
            format!(" OFFSET {offset}")
        }
    }
    fn true_literal(&self) -> &'static str {
        "true"
    }
    fn false_literal(&self) -> &'static str {
        "false"
    }
}
