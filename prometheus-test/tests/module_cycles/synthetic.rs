//! The checker on small crates written to a temporary directory.

use std::collections::BTreeSet;
use std::fs;

use crate::graph::{Edge, cycles, edges, join};
use crate::tree::Tree;

/// The dependency edges of the crate made of `files` (path under `src/`, text).
fn edges_of(files: &[(&str, &str)]) -> BTreeSet<Edge> {
    let src = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let file = src.path().join(path);
        fs::create_dir_all(file.parent().expect("a parent")).expect("dirs");
        fs::write(file, text).expect("write");
    }
    let tree = Tree::load(src.path()).unwrap_or_else(|err| panic!("{err}"));
    edges(&tree)
}

/// The cycles of the crate made of `files`, each as its files joined.
fn cycles_of(files: &[(&str, &str)]) -> Vec<String> {
    cycles(&edges_of(files)).iter().map(join).collect()
}

#[test]
fn two_files_that_use_each_other_are_a_cycle() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub(crate) struct A(B);\n"),
        (
            "b.rs",
            "pub(crate) struct B;\nfn f() { let _ = crate::a::A; }\n",
        ),
    ]);
    assert_eq!(found, ["a.rs, b.rs"]);
}

#[test]
fn a_path_inside_a_macro_call_is_a_dependency() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        (
            "a.rs",
            "pub(crate) const A: u8 = 1;\nfn f() { println!(\"{}\", crate::b::B); }\n",
        ),
        ("b.rs", "pub(crate) const B: u8 = crate::a::A;\n"),
    ]);
    assert_eq!(found, ["a.rs, b.rs"]);
}

#[test]
fn a_child_using_what_its_parent_defines_is_a_cycle() {
    let found = cycles_of(&[
        ("lib.rs", "mod parent;\n"),
        (
            "parent/mod.rs",
            "mod child;\npub(crate) struct Shared;\nfn f() { child::work(); }\n",
        ),
        (
            "parent/child.rs",
            "use super::Shared;\npub(crate) fn work() {}\n",
        ),
    ]);
    assert_eq!(found, ["parent/child.rs, parent/mod.rs"]);
}

#[test]
fn names_reached_through_re_exports_point_at_the_defining_file() {
    let crate_files = [
        (
            "lib.rs",
            "mod parent;\nmod top;\npub use parent::Thing;\npub use top::Top;\n",
        ),
        ("top.rs", "pub struct Top;\n"),
        (
            "parent/mod.rs",
            "mod child;\nmod other;\npub use child::Thing;\npub(crate) use other::helper;\n",
        ),
        (
            "parent/child.rs",
            "pub struct Thing(crate::Top);\nfn f() { super::helper(); }\n",
        ),
        ("parent/other.rs", "pub(crate) fn helper() {}\n"),
    ];
    let pairs: Vec<String> = edges_of(&crate_files)
        .iter()
        .map(|e| format!("{} -> {} ({})", e.from, e.to, e.path))
        .collect();
    assert_eq!(
        pairs,
        [
            "lib.rs -> parent/child.rs (parent::Thing)",
            "lib.rs -> top.rs (top::Top)",
            "parent/child.rs -> parent/other.rs (super::helper)",
            "parent/child.rs -> top.rs (crate::Top)",
            "parent/mod.rs -> parent/child.rs (child::Thing)",
            "parent/mod.rs -> parent/other.rs (other::helper)",
        ]
    );
    assert!(cycles_of(&crate_files).is_empty());
}

#[test]
fn test_only_modules_and_items_are_left_out() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;\n"),
        (
            "a.rs",
            "pub(crate) struct A;\n#[cfg(test)]\nfn check() { crate::b::B; }\n",
        ),
        (
            "b.rs",
            "pub(crate) struct B(crate::a::A);\n#[cfg(test)]\nmod tests { use crate::a::A; }\n",
        ),
        ("tests.rs", "use crate::a::A;\n"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}
