//! The `mongodb` section of config.yaml.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Which database and collections the suite seeds (config.yaml `mongodb`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct MongoSettings {
    /// Database name; required whenever the suite uses MongoDB (empty only
    /// when config.yaml has no `mongodb` section and counts no rounds).
    pub(crate) database: String,
    /// Collections cleared on a fresh run, keyed by collection name.
    pub(crate) collections: BTreeMap<String, CollectionSettings>,
}

/// The `mongodb` section as written: a missing `database` is reported with
/// the file's other problems rather than stopping at the first.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMongoSettings {
    pub(super) database: Option<String>,
    #[serde(default)]
    pub(super) collections: BTreeMap<String, CollectionSettings>,
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
