//! Layers only point down: no two source files of the runtime crate depend
//! on each other, directly or through others.
//!
//! A file depends on another when it names an item (in a `use`, in code or
//! in a macro call) that the other file defines; a `pub use` re-export is
//! followed to the file that defines the item, and `mod x;` alone is no
//! dependency. Whatever is `cfg(test)` is left out. The cycles still known
//! are listed in [`KNOWN_CYCLES`]; the test fails when one appears that is not
//! listed and when a listed one is gone, so the list only shrinks.
//!
//! Run it with `cargo test -p prometheus-test --test module_cycles`.

mod graph;
mod resolve;
mod synthetic;
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use graph::{Edge, cycles, describe, edges, join};
use tree::Tree;

/// A cycle of files that is known and why it is still there.
struct KnownCycle {
    files: &'static [&'static str],
    reason: &'static str,
}

/// The cycles the runtime crate still has, by file under `src/`.
const KNOWN_CYCLES: &[KnownCycle] = &[
    KnownCycle {
        files: &[
            "harness/execute.rs",
            "harness/interrupts.rs",
            "harness/watchdog.rs",
        ],
        reason: "`TimeLimit` lives in execute.rs; being removed by the one-model change",
    },
    KnownCycle {
        files: &["harness/mod.rs", "harness/session.rs"],
        reason: "`SuiteFiles` lives in harness/mod.rs; being removed by the one-model change",
    },
    KnownCycle {
        files: &["harness/world.rs", "harness/writers/notes.rs"],
        reason: "each uses a helper of the other; being removed by the one-model change",
    },
];

/// The dependency edges between the files of the crate rooted at `src/lib.rs`.
fn crate_edges(src: &Path) -> BTreeSet<Edge> {
    let tree = Tree::load(src).unwrap_or_else(|err| panic!("{err}"));
    edges(&tree)
}

/// The known cycles, each file set with its reason.
fn known_cycles() -> BTreeMap<BTreeSet<String>, &'static str> {
    KNOWN_CYCLES
        .iter()
        .map(|cycle| {
            let files = cycle.files.iter().map(|&f| f.to_owned()).collect();
            (files, cycle.reason)
        })
        .collect()
}

#[test]
fn the_runtime_crate_has_only_the_known_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = crate_edges(&src);
    let found = cycles(&edges);
    let known = known_cycles();
    let mut problems = Vec::new();
    for cycle in found.iter().filter(|cycle| !known.contains_key(*cycle)) {
        problems.push(format!("new {}", describe(cycle, &edges)));
    }
    for (cycle, reason) in known.iter().filter(|(cycle, _)| !found.contains(*cycle)) {
        problems.push(format!(
            "gone: the cycle of {} ({reason}) is no longer there: remove it from KNOWN_CYCLES\n",
            join(cycle),
        ));
    }
    assert!(
        problems.is_empty(),
        "the cycles between files under src/ are not the known ones:\n{}",
        problems.concat()
    );
}
