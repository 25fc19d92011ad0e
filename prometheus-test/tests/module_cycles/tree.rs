//! The crate's module tree as a build without `cfg(test)` sees it: for each
//! module, its file, its children, the names it defines and imports, and the
//! paths its code names.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, ImplItem, Item, Stmt, UseTree};

/// A module's index in [`Tree::modules`]; the crate root is 0.
pub(crate) type ModId = usize;

/// A path as written, one string per segment (`crate`, `super` included).
pub(crate) type Segments = Vec<String>;

/// One module: a file, or a `mod x { … }` inside one.
#[derive(Default)]
pub(crate) struct Module {
    /// The file it is written in, relative to the source root (`harness/mod.rs`).
    pub(crate) file: String,
    pub(crate) parent: Option<ModId>,
    pub(crate) children: BTreeMap<String, ModId>,
    /// Names of the items it defines (types, functions, constants, macros).
    pub(crate) defines: BTreeSet<String>,
    /// Names its `use` items bring in, with the path each one names.
    pub(crate) imports: BTreeMap<String, Segments>,
    /// Modules whose items a `use x::*` brings in.
    pub(crate) globs: Vec<Segments>,
    /// Every path of two or more segments its code and `use` items name.
    pub(crate) references: Vec<Segments>,
}

/// All modules of a crate, the root first.
pub(crate) struct Tree {
    pub(crate) modules: Vec<Module>,
}

impl Tree {
    /// Reads the crate whose root is `src/lib.rs`, following `mod x;` to
    /// `x.rs` or `x/mod.rs` and leaving out whatever is `cfg(test)`.
    pub(crate) fn load(src: &Path) -> Result<Self, String> {
        let mut tree = Self {
            modules: Vec::new(),
        };
        tree.add_file(src, "lib.rs", None)?;
        Ok(tree)
    }

    fn add_file(&mut self, src: &Path, file: &str, parent: Option<ModId>) -> Result<ModId, String> {
        let text = fs::read_to_string(src.join(file))
            .map_err(|err| format!("cannot read {file}: {err}"))?;
        let parsed = syn::parse_file(&text).map_err(|err| format!("cannot parse {file}: {err}"))?;
        self.add_module(src, file, &children_dir(file), parent, &parsed.items)
    }

    /// Adds the module made of `items`, written in `file`, whose `mod x;`
    /// children live in `dir`.
    fn add_module(
        &mut self,
        src: &Path,
        file: &str,
        dir: &str,
        parent: Option<ModId>,
        items: &[Item],
    ) -> Result<ModId, String> {
        let id = self.modules.len();
        self.modules.push(Module {
            file: file.to_owned(),
            parent,
            ..Module::default()
        });
        for item in items.iter().filter(|item| !test_only(item_attrs(item))) {
            match item {
                Item::Mod(module) => {
                    let name = module.ident.to_string();
                    let child = match &module.content {
                        Some((_, inner)) => {
                            self.add_module(src, file, &join(dir, &name), Some(id), inner)?
                        }
                        None => self.add_file(src, &child_file(src, dir, &name), Some(id))?,
                    };
                    self.modules[id].children.insert(name, child);
                }
                Item::Use(item_use) => self.add_imports(id, &item_use.tree),
                other => {
                    if let Some(name) = defined_name(other) {
                        self.modules[id].defines.insert(name);
                    }
                }
            }
        }
        let mut paths = PathCollector::default();
        for item in items {
            paths.visit_item(item);
        }
        self.modules[id].references = paths.found;
        Ok(id)
    }

    fn add_imports(&mut self, id: ModId, tree: &UseTree) {
        let module = &mut self.modules[id];
        for import in flatten_use(tree, &[]) {
            match import.name {
                _ if import.glob => module.globs.push(import.path),
                Some(name) => {
                    module.imports.insert(name, import.path);
                }
                None => {}
            }
        }
    }
}

/// Where the `mod x;` children of a module written in `file` live.
fn children_dir(file: &str) -> String {
    let dir = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    match file.rsplit('/').next() {
        Some("lib.rs" | "mod.rs") => dir.to_owned(),
        _ => file.trim_end_matches(".rs").to_owned(),
    }
}

/// `dir/name.rs`, or `dir/name/mod.rs` when that is the one that exists.
fn child_file(src: &Path, dir: &str, name: &str) -> String {
    let flat = join(dir, &format!("{name}.rs"));
    if src.join(&flat).exists() {
        flat
    } else {
        join(dir, &format!("{name}/mod.rs"))
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Whether the attributes keep an item out of a build without tests.
fn test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("test")
            || (attr.path().is_ident("cfg")
                && attr
                    .parse_args::<syn::Ident>()
                    .is_ok_and(|cfg| cfg == "test" || cfg == "doctest"))
    })
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// The attributes of the expressions a statement usually is.
fn expr_attrs(expr: &Expr) -> &[Attribute] {
    match expr {
        Expr::Assign(e) => &e.attrs,
        Expr::Await(e) => &e.attrs,
        Expr::Block(e) => &e.attrs,
        Expr::Call(e) => &e.attrs,
        Expr::ForLoop(e) => &e.attrs,
        Expr::If(e) => &e.attrs,
        Expr::Macro(e) => &e.attrs,
        Expr::Match(e) => &e.attrs,
        Expr::MethodCall(e) => &e.attrs,
        Expr::Try(e) => &e.attrs,
        _ => &[],
    }
}

fn defined_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::Fn(i) => &i.sig.ident,
        Item::Static(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::TraitAlias(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Union(i) => &i.ident,
        Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

/// One name (or glob) a `use` item brings in.
pub(crate) struct Import {
    pub(crate) path: Segments,
    /// The name it is known by here; `None` for `as _`.
    pub(crate) name: Option<String>,
    pub(crate) glob: bool,
}

/// The imports of a `use` tree: `use a::{b, c::d as e}` is `a::b` as `b` and
/// `a::c::d` as `e`.
pub(crate) fn flatten_use(tree: &UseTree, prefix: &[String]) -> Vec<Import> {
    let extend = |ident: &syn::Ident| {
        let mut path = prefix.to_vec();
        if ident != "self" {
            path.push(ident.to_string());
        }
        path
    };
    match tree {
        UseTree::Path(p) => flatten_use(&p.tree, &extend(&p.ident)),
        UseTree::Name(n) => {
            let path = extend(&n.ident);
            let name = path.last().cloned();
            vec![Import {
                path,
                name,
                glob: false,
            }]
        }
        UseTree::Rename(r) => vec![Import {
            path: extend(&r.ident),
            name: Some(r.rename.to_string()).filter(|name| name != "_"),
            glob: false,
        }],
        UseTree::Glob(_) => vec![Import {
            path: prefix.to_vec(),
            name: None,
            glob: true,
        }],
        UseTree::Group(g) => g
            .items
            .iter()
            .flat_map(|tree| flatten_use(tree, prefix))
            .collect(),
    }
}

/// Collects the paths a module's items name, skipping `cfg(test)` items,
/// attributes and nested modules (which are modules of their own).
#[derive(Default)]
struct PathCollector {
    found: Vec<Segments>,
}

impl PathCollector {
    fn add(&mut self, path: Segments) {
        if path.len() >= 2 {
            self.found.push(path);
        }
    }

    /// Paths inside a macro call's tokens (`format!("{}", crate::a::B)`),
    /// which syn leaves unparsed.
    fn add_token_paths(&mut self, tokens: TokenStream) {
        let mut path = Vec::new();
        let mut colons = 0;
        for token in tokens {
            match token {
                TokenTree::Ident(ident) => {
                    if colons != 2 {
                        self.add(std::mem::take(&mut path));
                    }
                    path.push(ident.to_string());
                    colons = 0;
                }
                TokenTree::Punct(punct)
                    if punct.as_char() == ':' && !path.is_empty() && colons < 2 =>
                {
                    colons += 1;
                }
                other => {
                    self.add(std::mem::take(&mut path));
                    colons = 0;
                    if let TokenTree::Group(group) = other {
                        self.add_token_paths(group.stream());
                    }
                }
            }
        }
        self.add(path);
    }
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_item(&mut self, item: &'ast Item) {
        if !test_only(item_attrs(item)) && !matches!(item, Item::Mod(_)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        let attrs: &[Attribute] = match item {
            ImplItem::Const(i) => &i.attrs,
            ImplItem::Fn(i) => &i.attrs,
            ImplItem::Type(i) => &i.attrs,
            ImplItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_stmt(&mut self, stmt: &'ast Stmt) {
        let attrs: &[Attribute] = match stmt {
            Stmt::Local(local) => &local.attrs,
            Stmt::Macro(mac) => &mac.attrs,
            Stmt::Expr(expr, _) => expr_attrs(expr),
            Stmt::Item(_) => &[],
        };
        if !test_only(attrs) {
            visit::visit_stmt(self, stmt);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_none() {
            for import in flatten_use(&item.tree, &[]) {
                self.add(import.path);
            }
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            self.add(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.add_token_paths(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }

    fn visit_attribute(&mut self, _: &'ast Attribute) {}
}
