//! Fixture files: read, parsed (`MongoDB` Extended JSON) and validated before the
//! database is touched: counts against `required_count` and unique `_id`s included.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use mongodb::bson::{Bson, Document, RawDocumentBuf};
use serde_json::Value;

use super::position::{Step, dotted, locate};
use super::raw_json;
use crate::config::MongoSettings;

/// The documents of every configured data file, each tagged with the task id.
#[derive(Debug, Default)]
pub struct Fixtures {
    sets: Vec<FixtureSet>,
}

/// The documents one data file holds for one collection.
#[derive(Debug)]
pub(crate) struct FixtureSet {
    /// The collection the documents go into.
    pub(crate) collection: String,
    /// The data file they came from.
    pub(crate) file: PathBuf,
    /// The documents as raw BSON, `taskId` included and `_id` given to those without.
    pub(crate) documents: Vec<RawDocumentBuf>,
}

impl Fixtures {
    /// The fixtures of `collection`, if it has a data file that exists.
    pub(crate) fn get(&self, collection: &str) -> Option<&FixtureSet> {
        self.sets.iter().find(|set| set.collection == collection)
    }

    /// The documents read for `collection` (empty when it has no data file).
    #[must_use]
    pub fn documents(&self, collection: &str) -> &[RawDocumentBuf] {
        self.get(collection)
            .map_or(&[], |set| set.documents.as_slice())
    }

    /// Documents over all collections.
    #[cfg(test)]
    pub(crate) fn document_count(&self) -> usize {
        self.sets.iter().map(|set| set.documents.len()).sum()
    }
}

/// Reads and validates every configured data file under `data_dir` without touching
/// the database. A missing file is an error when the collection has a
/// `required_count`, and skipped otherwise (as in the original). A file with fewer
/// documents than `required_count`, or two documents with the same `_id`, is an
/// error here, before a fresh run clears anything.
pub(crate) fn read_fixtures(
    settings: &MongoSettings,
    data_dir: &Path,
    task_id: &str,
) -> anyhow::Result<Fixtures> {
    let mut fixtures = Fixtures::default();
    for (collection, config) in &settings.collections {
        let Some(data_file) = &config.data_file else {
            if config.required_count > 0 {
                bail!(
                    "mongodb.collections.{collection}.required_count is {} but the collection has \
                     no data_file: a fresh run clears it, so it could never hold them; add a \
                     data_file or set required_count to 0",
                    config.required_count
                );
            }
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
        // Every document gets this task's id, so they all count.
        if (documents.len() as u64) < config.required_count {
            bail!(
                "{}: holds {} document{}, but mongodb.collections.{collection}.required_count is {}; \
                 add documents or lower required_count",
                file.display(),
                documents.len(),
                if documents.len() == 1 { "" } else { "s" },
                config.required_count
            );
        }
        fixtures.sets.push(FixtureSet {
            collection: collection.clone(),
            file,
            documents,
        });
    }
    Ok(fixtures)
}

/// The documents of one data file: a JSON array of objects or a single object,
/// UTF-8 with or without a byte-order mark, `_id`s unique. Each document gets
/// `taskId` and, without an `_id`, a new `ObjectId` (as the driver would give it).
pub(crate) fn read_documents(file: &Path, task_id: &str) -> anyhow::Result<Vec<RawDocumentBuf>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read the data file", file.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let source = Source { file, text };
    if let Some(parsed) = raw_json::parse(text, task_id) {
        let ids = parsed.file_ids.iter().filter_map(|&index| {
            let id = parsed.documents[index].get("_id").ok()??;
            Some((index, IdKey::of(&Bson::try_from(id).ok()?)))
        });
        check_unique_ids(&source, ids, parsed.in_array)?;
        return Ok(parsed.documents);
    }
    // The `Value` route: slower, and the one that words every error.
    let (documents, in_array) = read_through_value(&source, task_id)?;
    let ids = documents
        .iter()
        .enumerate()
        .filter_map(|(index, document)| Some((index, IdKey::of(document.get("_id")?))));
    check_unique_ids(&source, ids, in_array)?;
    documents
        .iter()
        .enumerate()
        .map(|(index, document)| {
            raw_json::with_id(document).with_context(|| {
                format!(
                    "{}: element {index} cannot be stored: MongoDB field names may not contain \
                     a NUL character (\\u0000)",
                    source.at(in_array.then_some(Step::Index(index)), &[])
                )
            })
        })
        .collect()
}

/// Parses through `serde_json::Value` and `Document`; returns the documents
/// and whether the text was an array.
fn read_through_value(source: &Source<'_>, task_id: &str) -> anyhow::Result<(Vec<Document>, bool)> {
    let (file, text) = (source.file, source.text);
    let value: Value = serde_json::from_str(text).map_err(|error| {
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
    let (items, in_array) = match value {
        Value::Array(items) => (items, true),
        Value::Object(_) => (vec![value], false),
        other => bail!(
            "{}: expected a JSON array of objects or a single object, found {}",
            file.display(),
            kind(&other)
        ),
    };
    let element = |index: usize| in_array.then_some(Step::Index(index));
    let mut documents = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let Value::Object(object) = item else {
            bail!(
                "{}: element {index} is {}, expected an object",
                source.at(element(index), &[]),
                kind(&item)
            );
        };
        let mut document = match Document::try_from(object) {
            Ok(document) => document,
            Err(error) => {
                // The slow path: parse again to find the field (the fast one moved the value).
                let path = serde_json::from_str::<Value>(text)
                    .ok()
                    .and_then(|value| match value {
                        Value::Array(mut items) if index < items.len() => {
                            Some(items.swap_remove(index))
                        }
                        Value::Object(_) => Some(value),
                        _ => None,
                    })
                    .map(|item| failing_path(&item))
                    .unwrap_or_default();
                bail!(
                    "{}: element {index}, field `{}`, is not valid MongoDB Extended JSON: {error}",
                    source.at(element(index), &path),
                    dotted(&path)
                );
            }
        };
        document.insert("taskId", task_id);
        documents.push(document);
    }
    Ok((documents, in_array))
}

/// A data file and its text, for positions in errors.
struct Source<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    /// `file:line:column` of `path` inside `element`, or `file` when it cannot be found.
    fn at(&self, element: Option<Step>, path: &[Step]) -> String {
        let full: Vec<Step> = element.into_iter().chain(path.iter().cloned()).collect();
        match locate(self.text, &full) {
            Some((line, column)) => format!("{}:{line}:{column}", self.file.display()),
            None => self.file.display().to_string(),
        }
    }
}

/// The path to the innermost value that does not convert, e.g. `_id.$oid`.
fn failing_path(value: &Value) -> Vec<Step> {
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(key, child)| (Step::Key(key.clone()), child))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(index, child)| (Step::Index(index), child))
            .collect(),
        _ => return Vec::new(),
    };
    if let Some((step, child)) = children
        .into_iter()
        .find(|(_, child)| Bson::try_from((*child).clone()).is_err())
    {
        let mut path = vec![step];
        path.extend(failing_path(child));
        return path;
    }
    // Every member converts alone: the object is an Extended JSON form (`{"$oid": …}`)
    // whose value is wrong; name its first key.
    match value {
        Value::Object(map) => map
            .keys()
            .next()
            .filter(|key| key.starts_with('$'))
            .map(|key| vec![Step::Key(key.clone())])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Fails when two documents share an `_id`, which the import would reject halfway.
/// `ids` holds each document's index and `_id`, in order.
fn check_unique_ids(
    source: &Source<'_>,
    ids: impl Iterator<Item = (usize, IdKey)>,
    in_array: bool,
) -> anyhow::Result<()> {
    let mut seen: HashMap<IdKey, usize> = HashMap::with_capacity(ids.size_hint().0);
    for (index, id) in ids {
        if let Some(first) = seen.insert(id, index) {
            let element = |index: usize| in_array.then_some(Step::Index(index));
            let id_path = [Step::Key("_id".to_owned())];
            bail!(
                "{}: element {index} has the same _id as element {first} ({}): MongoDB keeps one \
                 document per _id; give each its own",
                source.at(element(index), &id_path),
                source.at(element(first), &id_path),
            );
        }
    }
    Ok(())
}

/// An `_id` as `MongoDB` compares it: numbers of any type by value.
#[derive(Debug, PartialEq, Eq, Hash)]
enum IdKey {
    Integer(i64),
    ObjectId([u8; 12]),
    String(String),
    Other(String),
}

impl IdKey {
    fn of(id: &Bson) -> Self {
        match id {
            Bson::Int32(n) => Self::Integer(i64::from(*n)),
            Bson::Int64(n) => Self::Integer(*n),
            Bson::Double(n) => whole(*n).map_or_else(|| Self::other(id), Self::Integer),
            Bson::ObjectId(oid) => Self::ObjectId(oid.bytes()),
            Bson::String(text) => Self::String(text.clone()),
            other => Self::other(other),
        }
    }

    fn other(id: &Bson) -> Self {
        Self::Other(id.clone().into_canonical_extjson().to_string())
    }
}

/// `n` as an integer when it is a whole number within the `i64` range.
#[expect(
    clippy::cast_possible_truncation,
    reason = "only whole numbers within the i64 range are cast"
)]
fn whole(n: f64) -> Option<i64> {
    (n.fract() == 0.0 && n.abs() < 9.2e18).then_some(n as i64)
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
