//! The `mongodb` section of config.yaml.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Which database and collections the suite seeds (config.yaml `mongodb`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MongoSettings {
    /// Database name; `builder247` when absent, as in the original.
    #[serde(default = "default_database")]
    pub(crate) database: String,
    /// Collections cleared on a fresh run, keyed by collection name.
    #[serde(default)]
    pub(crate) collections: BTreeMap<String, CollectionSettings>,
}

/// One collection of the `mongodb.collections` map.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CollectionSettings {
    /// Fixture file under `data_dir`: a JSON array or a single object.
    #[serde(default)]
    pub(crate) data_file: Option<String>,
    /// Documents the collection must hold for this task after import.
    #[serde(default)]
    pub(crate) required_count: u64,
}

fn default_database() -> String {
    "builder247".to_owned()
}

impl Default for MongoSettings {
    fn default() -> Self {
        Self {
            database: default_database(),
            collections: BTreeMap::new(),
        }
    }
}
