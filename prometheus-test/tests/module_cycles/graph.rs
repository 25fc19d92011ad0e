//! The files' dependency graph and its cycles.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::resolve::Target;
use crate::tree::Tree;

/// File `from` names an item defined in file `to`, through `path`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Edge {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) path: String,
}

/// Every edge between two different files: each path a module names,
/// resolved to the file that defines the item. A path that names a module
/// (`use super::store;`) makes no edge; the items named through it do.
pub(crate) fn edges(tree: &Tree) -> BTreeSet<Edge> {
    let mut edges = BTreeSet::new();
    for (id, module) in tree.modules.iter().enumerate() {
        for path in &module.references {
            if let Some(Target::Item(to)) = tree.resolve(id, path)
                && to != module.file
            {
                edges.insert(Edge {
                    from: module.file.clone(),
                    to,
                    path: path.join("::"),
                });
            }
        }
    }
    edges
}

/// The sets of two or more files that depend on each other (the strongly
/// connected components of the graph), each sorted, in sorted order.
pub(crate) fn cycles(edges: &BTreeSet<Edge>) -> BTreeSet<BTreeSet<String>> {
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for edge in edges {
        next.entry(&edge.from).or_default().insert(&edge.to);
        next.entry(&edge.to).or_default();
    }
    let mut tarjan = Tarjan {
        next: &next,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: BTreeSet::new(),
    };
    for file in next.keys() {
        if !tarjan.index.contains_key(file) {
            tarjan.visit(file);
        }
    }
    tarjan.found
}

/// Tarjan's strongly connected components.
struct Tarjan<'g> {
    next: &'g BTreeMap<&'g str, BTreeSet<&'g str>>,
    index: BTreeMap<&'g str, usize>,
    low: BTreeMap<&'g str, usize>,
    stack: Vec<&'g str>,
    found: BTreeSet<BTreeSet<String>>,
}

impl<'g> Tarjan<'g> {
    fn visit(&mut self, file: &'g str) {
        let index = self.index.len();
        self.index.insert(file, index);
        self.low.insert(file, index);
        self.stack.push(file);
        for &to in &self.next[file] {
            if !self.index.contains_key(to) {
                self.visit(to);
                self.lower(file, self.low[to]);
            } else if self.stack.contains(&to) {
                self.lower(file, self.index[to]);
            }
        }
        if self.low[file] == index {
            let at = self.stack.iter().rposition(|&f| f == file).unwrap_or(0);
            let component: BTreeSet<String> = self.stack.drain(at..).map(str::to_owned).collect();
            if component.len() > 1 {
                self.found.insert(component);
            }
        }
    }

    fn lower(&mut self, file: &'g str, to: usize) {
        let low = self.low.get_mut(file).expect("visited");
        *low = (*low).min(to);
    }
}

/// A cycle as a reader fixes it: its files, then each pair of them that
/// depends on each other, with the paths that make the dependency.
pub(crate) fn describe(cycle: &BTreeSet<String>, edges: &BTreeSet<Edge>) -> String {
    let mut pairs: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for edge in edges {
        if cycle.contains(&edge.from) && cycle.contains(&edge.to) {
            pairs
                .entry((&edge.from, &edge.to))
                .or_default()
                .push(&edge.path);
        }
    }
    let mut text = format!("cycle of {}:\n", join(cycle));
    for ((from, to), paths) in pairs {
        let _ = writeln!(text, "  {from} -> {to}: {}", paths.join(", "));
    }
    text
}

pub(crate) fn join(files: &BTreeSet<String>) -> String {
    files
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
