//! Reading the values of config.yaml or workers.json by kind, every
//! problem kept: each names where the value came from (the file and line,
//! or the override) and what was expected, in our words.

use std::fmt::Display;

use serde_yaml_ng::{Mapping, Value};

use super::located::Syntax;
use super::typed::{Kind, found, found_json};
use super::typos::likely_meant;
use super::{Overrides, Problems};

/// A file's values (config.yaml's with the overrides applied) and the
/// problems found in them so far.
pub(super) struct Reader<'a> {
    /// The file, as messages show it.
    shown: &'a str,
    /// The file's text, for line numbers.
    text: &'a str,
    syntax: Syntax,
    tree: &'a Mapping,
    overrides: Option<&'a Overrides>,
    /// The section read (a worker of workers.json), paths being relative
    /// to it; empty for the whole file.
    scope: Vec<&'a str>,
    /// What messages name before the problem (`` worker `a`: ``).
    subject: String,
    pub(super) problems: Problems,
}

impl<'a> Reader<'a> {
    /// A reader of config.yaml.
    pub(super) fn new(
        shown: &'a str,
        text: &'a str,
        tree: &'a Mapping,
        overrides: &'a Overrides,
    ) -> Self {
        Self {
            syntax: Syntax::Yaml,
            overrides: Some(overrides),
            ..Self::json(shown, text, tree)
        }
    }

    /// A reader of a JSON file, read as the YAML `tree` of the same values.
    pub(super) fn json(shown: &'a str, text: &'a str, tree: &'a Mapping) -> Self {
        Self {
            shown,
            text,
            syntax: Syntax::Json,
            tree,
            overrides: None,
            scope: Vec::new(),
            subject: String::new(),
            problems: Problems::default(),
        }
    }

    /// A reader of the section at `key`, its messages about `subject`
    /// (`` worker `a` ``), with no problems yet.
    pub(super) fn within(&self, key: &'a str, subject: &str) -> Self {
        Self {
            scope: self.scope.iter().copied().chain([key]).collect(),
            subject: format!("{}{subject}: ", self.subject),
            problems: Problems::default(),
            ..*self
        }
    }

    /// `path` from the top of the file.
    fn full<'p>(&self, path: &[&'p str]) -> Vec<&'p str>
    where
        'a: 'p,
    {
        self.scope
            .iter()
            .copied()
            .chain(path.iter().copied())
            .collect()
    }

    /// The value at `path` (`["mongodb", "database"]`); in YAML `null`
    /// (a key left empty) counts as absent, in JSON it is a value.
    pub(super) fn value(&self, path: &[&str]) -> Option<&'a Value> {
        let full = self.full(path);
        let (first, rest) = full.split_first()?;
        let mut value = self.tree.get(*first)?;
        for key in rest {
            value = value.get(*key)?;
        }
        (!value.is_null() || self.syntax == Syntax::Json).then_some(value)
    }

    /// The override variable that set the value at `path`, if one did.
    pub(super) fn override_of(&self, path: &[&str]) -> Option<&'a str> {
        self.overrides?.source_at(&self.full(path))
    }

    /// The scalar at `path` as written, in the override's value or the
    /// file (`1.10` where the value reads as the number 1.1).
    pub(super) fn written(&self, path: &[&str]) -> Option<String> {
        match self.override_of(path) {
            Some(_) => self.overrides?.text_at(&self.full(path)).map(str::to_owned),
            None => self.syntax.written_scalar(self.text, &self.full(path)),
        }
    }

    /// Where the value at `path` came from: `PROMETHEUS_TEST_SET_… (overriding
    /// <file>)`, `<file>: line <n>`, or the file alone.
    pub(super) fn at(&self, path: &[&str]) -> String {
        if let Some(source) = self.override_of(path) {
            return format!("{source} (overriding {})", self.shown);
        }
        match self.syntax.line_of(self.text, &self.full(path)) {
            Some(line) => format!("{}: line {line}", self.shown),
            None => self.shown.to_owned(),
        }
    }

    /// How a message shows `value`, found where another kind was expected.
    pub(super) fn found(&self, value: &Value) -> String {
        match self.syntax {
            Syntax::Yaml => found(value),
            Syntax::Json => found_json(value),
        }
    }

    /// `message` about the value at `path`, after where it came from.
    pub(super) fn about(&self, path: &[&str], message: impl Display) -> String {
        format!("{}: {}{message}", self.at(path), self.subject)
    }

    /// Records a problem with the value at `path`.
    pub(super) fn problem(&mut self, path: &[&str], message: impl Display) {
        let problem = self.about(path, message);
        self.problems.push(problem);
    }

    /// Records that the required key at `path` is missing: a problem of
    /// the file, or of the override that removed the key (`null` or empty).
    pub(super) fn missing(&mut self, path: &[&str], message: impl Display) {
        let at = match self.override_of(path) {
            Some(source) => format!("{source} (overriding {})", self.shown),
            None => self.shown.to_owned(),
        };
        self.problems
            .push(format!("{at}: {}{message}", self.subject));
    }

    /// The value at `path` read as `kind`; `None` when it is absent, or of
    /// another kind (a problem: "`key` must be …, found …").
    pub(super) fn read<T>(&mut self, path: &[&str], kind: &Kind<T>) -> Option<T> {
        let value = self.value(path)?;
        let read = (kind.read)(value);
        if read.is_none() {
            self.problem(
                path,
                format_args!(
                    "`{}` must be {}, found {}",
                    path.join("."),
                    kind.expected,
                    self.found(value)
                ),
            );
        }
        read
    }

    /// The mapping at `path`; a value of another kind is a problem
    /// ("`key` must be …, found …").
    pub(super) fn mapping(&mut self, path: &[&str], expected: &str) -> Option<&'a Mapping> {
        let value = self.value(path)?;
        if let Value::Mapping(mapping) = value {
            return Some(mapping);
        }
        self.problem(
            path,
            format_args!(
                "`{}` must be {expected}, found {}",
                path.join("."),
                self.found(value)
            ),
        );
        None
    }

    /// The section at `path` with the keys in `known` (all optional); any
    /// other key is a problem.
    pub(super) fn section(&mut self, path: &[&str], known: &[&str]) -> Option<&'a Mapping> {
        let expected = format!("a mapping with {}", listed(known, "and"));
        let section = self.mapping(path, &expected)?;
        self.unknown_keys(path, section, known, &format!("`{}`", path.join(".")));
        Some(section)
    }

    /// A problem for each key of `section` (at `path`, described as `what`)
    /// that is not in `known`, with the known key it may be a misspelling of.
    pub(super) fn unknown_keys(
        &mut self,
        path: &[&str],
        section: &Mapping,
        known: &[&str],
        what: &str,
    ) {
        for key in section.keys() {
            let Some(key) = key.as_str() else {
                self.problem(
                    path,
                    format_args!(
                        "the keys of `{}` must be strings, found {}",
                        path.join("."),
                        self.found(key)
                    ),
                );
                continue;
            };
            if known.contains(&key) {
                continue;
            }
            let hint = likely_meant(key, known)
                .map(|meant| format!("; did you mean `{meant}`?"))
                .unwrap_or_default();
            let full: Vec<&str> = path.iter().copied().chain([key]).collect();
            self.problem(
                &full,
                format_args!(
                    "`{}` is unknown: {what} takes {}{hint}",
                    full.join("."),
                    listed(known, "and")
                ),
            );
        }
    }
}

/// `a`, `b` and `c` (with `and` or `or` before the last).
pub(super) fn listed(keys: &[&str], last: &str) -> String {
    let quoted: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((only, [])) => only.clone(),
        Some((tail, head)) => format!("{} {last} {tail}", head.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::typed::PORT;
    use super::*;

    fn tree(text: &str) -> Mapping {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn a_problem_names_the_line_or_the_override() {
        let text = "base_port: high\nmongodb:\n  database: 5\n";
        let mut tree = tree(text);
        let overrides = Overrides::from_vars([("PROMETHEUS_TEST_SET_MONGODB__DATABASE", "7")])
            .map_err(|p| p.to_string())
            .unwrap();
        overrides.apply(&mut tree, &mut Problems::default());
        let mut reader = Reader::new("c.yaml", text, &tree, &overrides);
        assert_eq!(reader.read(&["base_port"], &PORT), None);
        assert_eq!(reader.read(&["mongodb", "database"], &PORT), Some(7));
        assert_eq!(reader.read(&["max_rounds"], &PORT), None);
        reader.section(&["mongodb"], &["database", "collections"]);
        assert_eq!(
            reader.problems.to_string(),
            "c.yaml: line 1: `base_port` must be an integer from 1 to 65535, found \"high\""
        );
        assert_eq!(
            reader.at(&["mongodb", "database"]),
            "PROMETHEUS_TEST_SET_MONGODB__DATABASE (overriding c.yaml)"
        );
        assert_eq!(reader.at(&["max_rounds"]), "c.yaml");
    }

    #[test]
    fn sections_list_their_keys_and_suggest_one() {
        let text = "poll: 5\nmongodb:\n  databse: x\n  1: y\n  other: z\n";
        let tree = tree(text);
        let overrides = Overrides::default();
        let mut reader = Reader::new("c.yaml", text, &tree, &overrides);
        assert!(
            reader
                .section(&["poll"], &["interval", "deadline"])
                .is_none()
        );
        assert!(
            reader
                .section(&["mongodb"], &["database", "collections"])
                .is_some()
        );
        assert_eq!(
            reader.problems.to_string(),
            "4 problems:\n  \
             - c.yaml: line 1: `poll` must be a mapping with `interval` and `deadline`, found 5\n  \
             - c.yaml: line 3: `mongodb.databse` is unknown: `mongodb` takes `database` and \
               `collections`; did you mean `database`?\n  \
             - c.yaml: line 2: the keys of `mongodb` must be strings, found 1\n  \
             - c.yaml: line 5: `mongodb.other` is unknown: `mongodb` takes `database` and \
               `collections`"
        );
    }
}
