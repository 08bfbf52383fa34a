//! SQLite connections: pragmas, a small pool, write transactions, fork safety.

use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    Off,
    Normal,
    Full,
    Extra,
}

impl Synchronous {
    pub fn parse(text: &str) -> CoreResult<Self> {
        match text.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "normal" => Ok(Self::Normal),
            "full" => Ok(Self::Full),
            "extra" => Ok(Self::Extra),
            other => Err(CoreError::InvalidParameter(format!(
                "invalid synchronous mode '{other}': expected off, normal, full or extra"
            ))),
        }
    }
    fn pragma(self) -> &'static str {
        match self {
            Self::Off => "OFF",
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
            Self::Extra => "EXTRA",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: String,
    pub synchronous: Synchronous,
    pub busy_timeout: Duration,
}

/// Idle connections kept per backend; more are opened under load and closed when returned.
const POOL_KEEP: usize = 4;

pub struct SqliteBackend {
    options: SqliteOptions,
    idle: Mutex<Vec<Connection>>,
    owner_pid: u32,
}

impl SqliteBackend {
    pub fn open(options: SqliteOptions) -> CoreResult<Self> {
        let backend = Self {
            options,
            idle: Mutex::new(Vec::new()),
            owner_pid: std::process::id(),
        };
        // Fail early, naming the file, if it cannot be opened.
        let conn = backend.connect()?;
        backend.give_back(conn);
        Ok(backend)
    }

    pub fn path(&self) -> &str {
        &self.options.path
    }

    fn connect(&self) -> CoreResult<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.options.path, flags).map_err(|source| {
            CoreError::Sql {
                context: format!("opening {}", self.options.path),
                source,
            }
        })?;
        conn.busy_timeout(self.options.busy_timeout)?;
        // Same session settings MLflow applies on every SQLAlchemy session, plus durability.
        // A 32 MiB page cache (SQLite's default is 2 MiB) keeps the metric indexes of large
        // runs resident; sorts for ORDER BY stay in memory.
        // Checkpoint every 8192 WAL pages instead of 1000: a wide log_batch (many metric keys)
        // dirties pages all over MLflow's key-first indexes, so at the default nearly every
        // commit would run a checkpoint (two fsyncs). A longer WAL also copies each hot page
        // back once per checkpoint instead of once per commit.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
             PRAGMA case_sensitive_like = ON; PRAGMA synchronous = {}; \
             PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = 8192;",
            self.options.synchronous.pragma()
        ))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    fn take(&self) -> CoreResult<Connection> {
        let pooled = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        match pooled {
            Some(conn) => Ok(conn),
            None => self.connect(),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < POOL_KEEP {
                idle.push(conn);
            }
        }
    }

    /// Run `f` on a pooled connection (reads: each statement sees a consistent snapshot).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> CoreResult<T>) -> CoreResult<T> {
        let mut conn = self.take()?;
        // A read spanning several statements gets one snapshot.
        let result = {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = f(&tx);
            drop(tx); // rollback of a read-only transaction
            out
        };
        self.give_back(conn);
        result
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction: the write lock is taken up front (waiting
    /// up to the busy timeout) so a read-then-write can never fail with SQLITE_BUSY midway.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction) -> CoreResult<T>) -> CoreResult<T> {
        let mut conn = self.take()?;
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        self.give_back(conn);
        result
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        // Connections inherited through fork() must not be closed by the child: SQLite's
        // POSIX-lock bookkeeping belongs to the parent. Leak them instead.
        if std::process::id() != self.owner_pid {
            if let Ok(mut idle) = self.idle.lock() {
                for conn in idle.drain(..) {
                    std::mem::forget(conn);
                }
            }
        }
    }
}
