//! Where each cassette lives in the cassettes folder.
//!
//! `round-002/steps.audit.audits_its_peer[worker3].json` for a step
//! instance, `outside-steps.json` for the requests no step was running for
//! (worker start-up). The round is padded to three digits so folders sort in
//! round order; a step's file is named after the step alone (not its place in
//! the round), so reordering steps renames nothing and a pull request's diff
//! shows exactly which steps' calls changed. `::` becomes `.`, which no Rust
//! name holds, so two steps never share a file; any other character but
//! ASCII letters, digits, `_`, `-`, `[` and `]` is written `%XX`, which
//! keeps names safe on every file system and tells them apart.

use std::fmt::Write as _;
use std::path::PathBuf;

/// The cassette of the requests sent while no step ran.
pub(crate) const OUTSIDE_STEPS: &str = "outside-steps.json";

/// A step instance of a round: what a cassette is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct StepKey {
    /// The round, from 1.
    pub(crate) round: u32,
    /// The step's test name, with the worker of an instance appended
    /// (`steps::audit::audits_its_peer[worker3]`).
    pub(crate) name: String,
}

impl StepKey {
    /// The step's cassette, relative to the cassettes folder.
    pub(crate) fn cassette(&self) -> PathBuf {
        PathBuf::from(format!("round-{:03}", self.round))
            .join(format!("{}.json", file_stem(&self.name)))
    }
}

/// `name` as a file name: `::` as `.`, unsafe characters as `%XX`.
fn file_stem(name: &str) -> String {
    let mut stem = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("::") {
            stem.push('.');
            rest = after;
            continue;
        }
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '[' | ']') {
            stem.push(c);
        } else {
            let mut buffer = [0; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                let _ = write!(stem, "%{byte:02X}");
            }
        }
        rest = &rest[c.len_utf8()..];
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_instance_has_a_file_of_its_round() {
        let key = StepKey {
            round: 2,
            name: "steps::audit::audits_its_peer[worker3]".into(),
        };
        assert_eq!(
            key.cassette(),
            PathBuf::from("round-002/steps.audit.audits_its_peer[worker3].json")
        );
    }

    #[test]
    fn unsafe_characters_are_escaped_and_a_dot_never_comes_from_the_name() {
        let key = StepKey {
            round: 12,
            name: "steps::send[worker/é.1 x]".into(),
        };
        assert_eq!(
            key.cassette(),
            PathBuf::from("round-012/steps.send[worker%2F%C3%A9%2E1%20x].json")
        );
    }
}
