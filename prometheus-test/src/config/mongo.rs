//! The `mongodb` section of config.yaml.

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

use super::reader::Reader;
use super::typed::{COUNT, found, string};

/// Which database and collections the suite seeds (config.yaml `mongodb`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct MongoSettings {
    /// Database name; required whenever the suite uses MongoDB (empty only
    /// when config.yaml has no `mongodb` section and counts no rounds).
    pub(crate) database: String,
    /// Collections cleared on a fresh run, keyed by collection name.
    pub(crate) collections: BTreeMap<String, CollectionSettings>,
}

/// One collection of the `mongodb.collections` map. Both keys are optional:
/// `audits: {}` (or `audits:` alone) names a collection a fresh run only clears.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct CollectionSettings {
    /// Fixture file under `data_dir`: a JSON array or a single object.
    pub(crate) data_file: Option<String>,
    /// Documents the collection must hold for this task after import.
    pub(crate) required_count: u64,
}

/// The keys of one collection's settings.
const COLLECTION_KEYS: &[&str] = &["data_file", "required_count"];

/// The `mongodb` section, and whether config.yaml has one. `database` is
/// required whenever MongoDB is used: a section is present, or the rounds
/// are counted (`counts_rounds`). Problems go to `reader`.
pub(super) fn mongo_settings(
    reader: &mut Reader<'_>,
    counts_rounds: bool,
) -> (MongoSettings, bool) {
    let configured = reader.value(&["mongodb"]).is_some();
    let section = reader.section(&["mongodb"], &["database", "collections"]);
    let database = match reader.read(
        &["mongodb", "database"],
        &string("a database name (a string)"),
    ) {
        Some(name) if name.trim().is_empty() => {
            reader.problem(
                &["mongodb", "database"],
                "`mongodb.database` must not be empty",
            );
            name
        }
        Some(name) => name,
        None => {
            let written = reader.value(&["mongodb", "database"]).is_some();
            let needed = (configured && section.is_some()) || (!configured && counts_rounds);
            if needed && !written {
                let rounds = if counts_rounds {
                    " and counts the rounds in"
                } else {
                    ""
                };
                reader.missing(
                    &["mongodb", "database"],
                    format_args!(
                        "missing `mongodb.database`: the database the suite seeds{rounds}"
                    ),
                );
            }
            String::new()
        }
    };
    let settings = MongoSettings {
        database,
        collections: collections(reader),
    };
    (settings, configured)
}

/// `mongodb.collections`: collection name → its settings.
fn collections(reader: &mut Reader<'_>) -> BTreeMap<String, CollectionSettings> {
    let mut collections = BTreeMap::new();
    let path = ["mongodb", "collections"];
    let expected = "a mapping of collection names to their settings";
    let Some(section) = reader.mapping(&path, expected) else {
        return collections;
    };
    for (name, value) in section {
        let Some(name) = name.as_str() else {
            reader.problem(
                &path,
                format_args!("collection names must be strings, found {}", found(name)),
            );
            continue;
        };
        let path = ["mongodb", "collections", name];
        let settings = match value {
            Value::Null => CollectionSettings::default(),
            Value::Mapping(keys) => {
                let what = format!("`{}`", path.join("."));
                reader.unknown_keys(&path, keys, COLLECTION_KEYS, &what);
                let at = |key| [path[0], path[1], path[2], key];
                CollectionSettings {
                    data_file: reader.read(
                        &at("data_file"),
                        &string("a file name under `data_dir` (a string)"),
                    ),
                    required_count: reader.read(&at("required_count"), &COUNT).unwrap_or(0),
                }
            }
            other => {
                reader.problem(
                    &path,
                    format_args!(
                        "`{}` must be a mapping with `data_file` and `required_count` (or \
                         nothing, for a collection a fresh run only clears), found {}",
                        path.join("."),
                        found(other)
                    ),
                );
                continue;
            }
        };
        collections.insert(name.to_owned(), settings);
    }
    collections
}
