//! The session's default schema, which also answers to file paths: SQL can say
//! `SELECT … FROM 'data/lineitem.parquet'` (or a glob) without registering anything.
//!
//! Registered tables win; a name that is not registered and looks like a path is opened with
//! [`open_table`] on each query, so the file's current contents and schema are always used.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::execution::context::SessionState;
use parking_lot::RwLock;

use super::format::{CsvOptions, FileKind};
use super::open::open_table;
use super::remote::is_remote;
use super::resolve::is_glob;

/// A schema of registered tables that falls back to opening file paths.
#[derive(Debug)]
pub struct PathSchema {
    tables: MemorySchemaProvider,
    /// Weak: the session state owns the catalog that owns this schema.
    state: Weak<RwLock<SessionState>>,
}

impl PathSchema {
    pub fn new(state: Weak<RwLock<SessionState>>) -> Self {
        Self {
            tables: MemorySchemaProvider::new(),
            state,
        }
    }
}

/// True when a table name can only be meant as a file path.
pub fn looks_like_path(name: &str) -> bool {
    is_remote(name)
        || name.contains('/')
        || name.contains('\\')
        || is_glob(name)
        || FileKind::from_extension(std::path::Path::new(name)).is_some()
}

#[async_trait]
impl SchemaProvider for PathSchema {
    fn table_names(&self) -> Vec<String> {
        self.tables.table_names()
    }

    async fn table(&self, name: &str) -> DFResult<Option<Arc<dyn TableProvider>>> {
        if let Some(table) = self.tables.table(name).await? {
            return Ok(Some(table));
        }
        if !looks_like_path(name) {
            return Ok(None);
        }
        let state = self
            .state
            .upgrade()
            .ok_or_else(|| DataFusionError::Internal("the session was dropped".into()))?
            .read()
            .clone();
        open_table(&state, name, None, &CsvOptions::default())
            .await
            .map(Some)
            .map_err(|e| e.into_datafusion())
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> DFResult<Option<Arc<dyn TableProvider>>> {
        self.tables.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> DFResult<Option<Arc<dyn TableProvider>>> {
        self.tables.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.table_exist(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_recognised() {
        assert!(looks_like_path("data/lineitem.parquet"));
        assert!(looks_like_path("lineitem.parquet"));
        assert!(looks_like_path("data/*.csv"));
        assert!(looks_like_path("t.csv.gz"));
        assert!(looks_like_path("s3://bucket/key"));
        assert!(!looks_like_path("lineitem"));
    }
}
