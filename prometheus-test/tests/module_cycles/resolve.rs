//! Which file defines what a path names, through `use` re-exports: the
//! `crate::Exit` of `pub use conclusion::Exit` is conclusion.rs, not lib.rs.

use crate::tree::{ModId, Tree};

/// What a path names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Module(ModId),
    /// An item, or something inside one (an enum's variant, a type's method),
    /// defined in this file.
    Item(String),
}

/// How many `use` hops a path may take before it counts as unresolved (only
/// a `use` loop takes more).
const MAX_HOPS: usize = 32;

impl Tree {
    /// What `path`, written in module `from`, names; `None` for paths
    /// outside the crate (`std::…`, other crates) and local names.
    pub(crate) fn resolve(&self, from: ModId, path: &[String]) -> Option<Target> {
        self.resolve_in(from, path, 0)
    }

    fn resolve_in(&self, from: ModId, path: &[String], hops: usize) -> Option<Target> {
        let (mut module, rest) = self.start(from, path)?;
        for segment in rest {
            match self.lookup(module, segment, hops)? {
                Target::Module(child) => module = child,
                item @ Target::Item(_) => return Some(item),
            }
        }
        Some(Target::Module(module))
    }

    /// The module a path starts from (`crate`, `self`, `super`s, or `from`
    /// itself for a name in its scope) and the segments left to look up.
    fn start<'p>(&self, from: ModId, path: &'p [String]) -> Option<(ModId, &'p [String])> {
        match path.first().map(String::as_str) {
            Some("crate") => Some((0, &path[1..])),
            Some("self") => Some((from, &path[1..])),
            Some("super") => {
                let supers = path.iter().take_while(|s| *s == "super").count();
                let mut module = from;
                for _ in 0..supers {
                    module = self.modules[module].parent?;
                }
                Some((module, &path[supers..]))
            }
            _ => Some((from, path)),
        }
    }

    /// What `name` is in `module`: a child, an item it defines, or what one
    /// of its imports names.
    fn lookup(&self, module: ModId, name: &str, hops: usize) -> Option<Target> {
        let m = &self.modules[module];
        if let Some(&child) = m.children.get(name) {
            return Some(Target::Module(child));
        }
        if m.defines.contains(name) {
            return Some(Target::Item(m.file.clone()));
        }
        if hops >= MAX_HOPS {
            return None;
        }
        if let Some(path) = m.imports.get(name) {
            return self.resolve_in(module, path, hops + 1);
        }
        m.globs
            .iter()
            .find_map(|glob| match self.resolve_in(module, glob, hops + 1)? {
                Target::Module(source) => self.lookup(source, name, hops + 1),
                Target::Item(_) => None,
            })
    }
}
