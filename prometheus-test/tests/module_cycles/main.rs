//! Layers only point down: no two source files of the runtime crate depend
//! on each other, directly or through others.
//!
//! A file depends on another when it names an item (in a `use`, in code or
//! in a macro call) that the other file defines; a `pub use` re-export is
//! followed to the file that defines the item, and `mod x;` alone is no
//! dependency. Whatever is `cfg(test)` is left out. The signing crate is held
//! to the same rule, but for its `canonical/` serializer, whose value, map,
//! sequence and number serializers call each other by nature.
//!
//! Run it with `cargo test -p prometheus-test --test module_cycles`.

mod graph;
mod resolve;
mod synthetic;
mod tree;

use std::collections::BTreeSet;
use std::path::Path;

use graph::{Edge, cycles, describe, edges};
use tree::Tree;

fn crate_edges(src: &Path) -> BTreeSet<Edge> {
    let tree = Tree::load(src).unwrap_or_else(|err| panic!("{err}"));
    edges(&tree)
}

/// Each cycle of `edges` whose files are not all under `exempt`, described.
fn cycles_outside(edges: &BTreeSet<Edge>, exempt: Option<&str>) -> Vec<String> {
    cycles(edges)
        .iter()
        .filter(|cycle| !exempt.is_some_and(|folder| cycle.iter().all(|f| f.starts_with(folder))))
        .map(|cycle| describe(cycle, edges))
        .collect()
}

#[test]
fn no_two_files_of_the_runtime_crate_depend_on_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = cycles_outside(&crate_edges(&src), None);
    assert!(
        found.is_empty(),
        "files under prometheus-test/src/ depend on each other:\n{}",
        found.concat()
    );
}

#[test]
fn no_two_files_of_the_signing_crate_depend_on_each_other_outside_its_serializer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prometheus-test-signing/src");
    let edges = crate_edges(&src);
    assert!(
        !cycles(&edges).is_empty(),
        "the scan sees the serializer's own cycle"
    );
    let found = cycles_outside(&edges, Some("canonical/"));
    assert!(
        found.is_empty(),
        "files under prometheus-test-signing/src/ depend on each other:\n{}",
        found.concat()
    );
}
