//! Fixture files: read, parsed (`MongoDB` Extended JSON) and validated before the
//! database is touched.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use mongodb::bson::Document;
use serde_json::Value;

use crate::config::MongoSettings;

/// The documents of every configured data file, each tagged with the task id.
#[derive(Debug, Default)]
pub(crate) struct Fixtures {
    sets: Vec<FixtureSet>,
}

/// The documents one data file holds for one collection.
#[derive(Debug)]
pub(crate) struct FixtureSet {
    /// The collection the documents go into.
    pub(crate) collection: String,
    /// The data file they came from.
    pub(crate) file: PathBuf,
    /// The documents, `taskId` included.
    pub(crate) documents: Vec<Document>,
}

impl Fixtures {
    /// The fixtures of `collection`, if it has a data file that exists.
    pub(crate) fn get(&self, collection: &str) -> Option<&FixtureSet> {
        self.sets.iter().find(|set| set.collection == collection)
    }

    /// Documents over all collections.
    #[cfg(test)]
    pub(crate) fn document_count(&self) -> usize {
        self.sets.iter().map(|set| set.documents.len()).sum()
    }
}

/// Reads and validates every configured data file under `data_dir` without touching
/// the database. A missing file is an error when the collection has a
/// `required_count`, and skipped otherwise (as in the original).
pub(crate) fn read_fixtures(
    settings: &MongoSettings,
    data_dir: &Path,
    task_id: &str,
) -> anyhow::Result<Fixtures> {
    let mut fixtures = Fixtures::default();
    for (collection, config) in &settings.collections {
        let Some(data_file) = &config.data_file else {
            continue;
        };
        let file = data_dir.join(data_file);
        if !file.exists() {
            if config.required_count > 0 {
                bail!(
                    "{}: required data file not found (mongodb.collections.{collection}.data_file; \
                     required_count is {})",
                    file.display(),
                    config.required_count
                );
            }
            continue;
        }
        let documents = read_documents(&file, task_id)?;
        fixtures.sets.push(FixtureSet {
            collection: collection.clone(),
            file,
            documents,
        });
    }
    Ok(fixtures)
}

/// The documents of one data file: a JSON array of objects or a single object.
pub(crate) fn read_documents(file: &Path, task_id: &str) -> anyhow::Result<Vec<Document>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read the data file", file.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|error| {
        let full = error.to_string();
        let position = format!(" at line {} column {}", error.line(), error.column());
        let reason = full.strip_suffix(&position).unwrap_or(&full);
        anyhow!(
            "{}:{}:{}: invalid JSON: {reason}",
            file.display(),
            error.line(),
            error.column()
        )
    })?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(_) => vec![value],
        other => bail!(
            "{}: expected a JSON array of objects or a single object, found {}",
            file.display(),
            kind(&other)
        ),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let Value::Object(object) = item else {
                bail!(
                    "{}: element {index} is {}, expected an object",
                    file.display(),
                    kind(&item)
                );
            };
            let mut document = Document::try_from(object).map_err(|error| {
                anyhow!(
                    "{}: element {index} is not valid MongoDB Extended JSON: {error}",
                    file.display()
                )
            })?;
            document.insert("taskId", task_id);
            Ok(document)
        })
        .collect()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
