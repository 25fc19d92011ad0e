//! The `MongoDB` primitives the benchmarks in `benches/` time, re-exported as
//! `prometheus_test::__bench`. Measuring and printing live in the benchmarks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mongodb::Client;

pub use super::connect::close_client;
pub use super::fixtures::Fixtures;
pub use super::import::IMPORT_BATCH;
pub use super::locate::find_or_provision_mongod;
pub use super::managed::ManagedMongod;
use crate::config::{CollectionSettings, MongoSettings};

/// One collection seeded from one data file, as a fresh run does it.
#[derive(Debug)]
pub struct FixtureImport {
    settings: MongoSettings,
    data_dir: PathBuf,
    task_id: String,
}

impl FixtureImport {
    /// `collection` of `database`, filled from `data_dir/data_file` for `task_id`.
    #[must_use]
    pub fn new(
        database: &str,
        collection: &str,
        data_file: &str,
        required_count: u64,
        data_dir: &Path,
        task_id: &str,
    ) -> Self {
        let config = CollectionSettings {
            data_file: Some(data_file.to_owned()),
            required_count,
        };
        Self {
            settings: MongoSettings {
                database: database.to_owned(),
                collections: BTreeMap::from([(collection.to_owned(), config)]),
            },
            data_dir: data_dir.to_path_buf(),
            task_id: task_id.to_owned(),
        }
    }

    /// Reads and validates the data file (`read_fixtures`).
    pub fn read(&self) -> anyhow::Result<Fixtures> {
        super::read_fixtures(&self.settings, &self.data_dir, &self.task_id)
    }

    /// Clears the collection, imports `fixtures` and checks the count (`reset`).
    pub async fn reset(&self, client: &Client, fixtures: &Fixtures) -> anyhow::Result<()> {
        let db = client.database(&self.settings.database);
        super::reset(&db, &self.settings, fixtures, &self.task_id).await?;
        Ok(())
    }
}
