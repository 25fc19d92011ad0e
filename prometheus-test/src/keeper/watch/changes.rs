//! What the watch loop watches, and what a changed file means.
//!
//! The package's folder is watched whole (inotify, every folder but
//! `target/`, hidden ones and the data folder), the data folder only for the
//! fixtures config.yaml names. A change is a change of the configuration
//! (config.yaml, workers.json, a `.env` file, a fixture: the run starts
//! over), of code cargo builds (`.rs`, `Cargo.toml`), or of another file,
//! which matters when it is a script a kept process runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// What the loop needs to tell changes apart.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The package's folder (its `Cargo.toml`).
    pub(crate) package: PathBuf,
    /// config.yaml's folder, when outside the package.
    pub(crate) suite: PathBuf,
    pub(crate) data_dir: PathBuf,
    /// config.yaml, workers.json and the `.env` files.
    pub(crate) config_files: BTreeSet<PathBuf>,
    /// The fixtures config.yaml names.
    pub(crate) fixtures: BTreeSet<PathBuf>,
}

/// One changed file, as the loop acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A configuration file or a fixture: the run starts over.
    Config(PathBuf),
    /// Code cargo builds: the test target is built again.
    Code(PathBuf),
    /// Any other file: it matters if a kept process runs it.
    Other(PathBuf),
    /// Not a file: the user asks for every process to start again.
    Restart,
}

impl Layout {
    /// What a change of `path` means; `None` for files no run reads
    /// (what runs write, builds, hidden files, editors' backups).
    pub(crate) fn classify(&self, path: &Path) -> Option<Change> {
        if self.config_files.contains(path) || self.fixtures.contains(path) {
            return Some(Change::Config(path.to_path_buf()));
        }
        if path.starts_with(&self.data_dir) || !self.watched(path) {
            return None;
        }
        let name = path.file_name()?.to_str()?;
        let swap = Path::new(name)
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("swp"));
        if name.starts_with('.') || name.ends_with('~') || swap {
            return None;
        }
        let code = Path::new(name)
            .extension()
            .is_some_and(|extension| extension == "rs")
            || name == "Cargo.toml"
            || name == "Cargo.lock";
        Some(if code {
            Change::Code(path.to_path_buf())
        } else {
            Change::Other(path.to_path_buf())
        })
    }

    /// Whether a folder (or a file's folders) lies in what is watched: not
    /// in `target/` or a hidden folder.
    fn watched(&self, path: &Path) -> bool {
        let root = if path.starts_with(&self.package) {
            &self.package
        } else if path.starts_with(&self.suite) {
            &self.suite
        } else {
            return false;
        };
        let Ok(inside) = path.strip_prefix(root) else {
            return false;
        };
        let mut folders = inside.components().collect::<Vec<_>>();
        folders.pop();
        !folders.iter().any(|part| {
            let part = part.as_os_str().to_string_lossy();
            part == "target" || part == "node_modules" || part.starts_with('.')
        })
    }

    /// The folders to watch: the package's and the suite's, all the way
    /// down (but `target/`, hidden folders and the data folder), and the
    /// data folder itself (for its fixtures).
    fn folders(&self) -> Vec<PathBuf> {
        let mut folders = Vec::new();
        for root in [&self.package, &self.suite] {
            if folders
                .iter()
                .any(|known: &PathBuf| root.starts_with(known))
            {
                continue;
            }
            self.collect(root, &mut folders);
        }
        for file in self.config_files.iter().chain(&self.fixtures) {
            if let Some(parent) = file.parent()
                && !folders.iter().any(|known| known == parent)
                && parent.is_dir()
            {
                folders.push(parent.to_path_buf());
            }
        }
        folders
    }

    fn collect(&self, dir: &Path, folders: &mut Vec<PathBuf>) {
        if dir.starts_with(&self.data_dir) || !self.watched(&dir.join("x")) {
            return;
        }
        folders.push(dir.to_path_buf());
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                self.collect(&entry.path(), folders);
            }
        }
    }
}

/// Watches `layout`'s folders from a thread of its own, sending each
/// changed file's path to `changed`; new folders are watched as they come.
pub(crate) fn watch(layout: Layout, changed: Sender<PathBuf>) -> std::io::Result<()> {
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC).map_err(std::io::Error::from)?;
    let flags = AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_ONLYDIR;
    let mut folders: BTreeMap<WatchDescriptor, PathBuf> = BTreeMap::new();
    for folder in layout.folders() {
        let descriptor = inotify
            .add_watch(&folder, flags)
            .map_err(std::io::Error::from)?;
        folders.insert(descriptor, folder);
    }
    std::thread::Builder::new()
        .name("prometheus-test-watch".to_owned())
        .spawn(move || {
            while let Ok(events) = inotify.read_events() {
                for event in events {
                    let (Some(folder), Some(name)) = (folders.get(&event.wd), event.name) else {
                        continue;
                    };
                    let path = folder.join(name);
                    if event.mask.contains(AddWatchFlags::IN_ISDIR) {
                        if event.mask.contains(AddWatchFlags::IN_CREATE)
                            && !path.starts_with(&layout.data_dir)
                            && layout.watched(&path.join("x"))
                            && let Ok(descriptor) = inotify.add_watch(&path, flags)
                        {
                            folders.insert(descriptor, path);
                        }
                        continue;
                    }
                    if event.mask.contains(AddWatchFlags::IN_CREATE) {
                        // Its content comes with IN_CLOSE_WRITE.
                        continue;
                    }
                    if changed.send(path).is_err() {
                        return;
                    }
                }
            }
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(root: &Path) -> Layout {
        let package = root.join("task");
        let suite = package.join("tests");
        Layout {
            data_dir: suite.join("data"),
            config_files: [suite.join("config.yaml"), suite.join("workers.json")].into(),
            fixtures: [suite.join("data/todos.json")].into(),
            package,
            suite,
        }
    }

    #[test]
    fn a_change_is_config_code_or_another_file_and_what_runs_write_is_none() {
        let root = Path::new("/p");
        let layout = layout(root);
        let at = |path: &str| layout.classify(&root.join(path));
        assert_eq!(
            at("task/tests/config.yaml"),
            Some(Change::Config(root.join("task/tests/config.yaml")))
        );
        assert_eq!(
            at("task/tests/data/todos.json"),
            Some(Change::Config(root.join("task/tests/data/todos.json")))
        );
        assert_eq!(
            at("task/tests/steps/audit.rs"),
            Some(Change::Code(root.join("task/tests/steps/audit.rs")))
        );
        assert_eq!(
            at("task/Cargo.toml"),
            Some(Change::Code(root.join("task/Cargo.toml")))
        );
        assert_eq!(
            at("task/middle/server.py"),
            Some(Change::Other(root.join("task/middle/server.py")))
        );
        for written in [
            "task/tests/data/test_state.json",
            "task/tests/data/middle/round-1.json",
            "task/target/debug/build.rs",
            "task/.git/index",
            "task/tests/.audit.rs.swp",
            "task/tests/steps/audit.rs~",
            "elsewhere/x.rs",
        ] {
            assert_eq!(at(written), None, "{written}");
        }
    }

    #[test]
    fn new_files_and_folders_are_seen_and_the_data_folder_is_not_walked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let layout = layout(&root);
        std::fs::create_dir_all(layout.suite.join("data/snapshots")).unwrap();
        std::fs::create_dir_all(layout.package.join("target/debug")).unwrap();
        std::fs::create_dir_all(layout.package.join("src")).unwrap();
        let folders = layout.folders();
        assert!(folders.contains(&layout.package.join("src")), "{folders:?}");
        assert!(
            folders.contains(&layout.suite.join("data")),
            "for the fixtures"
        );
        assert!(!folders.contains(&layout.suite.join("data/snapshots")));
        assert!(!folders.contains(&layout.package.join("target/debug")));

        let (sender, changed) = std::sync::mpsc::channel();
        watch(layout.clone(), sender).unwrap();
        std::fs::create_dir(layout.suite.join("steps")).unwrap();
        // The new folder's watch is added when its creation is read.
        std::thread::sleep(std::time::Duration::from_millis(200));
        std::fs::write(layout.suite.join("steps/new.rs"), "fn x() {}").unwrap();
        let seen = changed
            .recv_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(seen, layout.suite.join("steps/new.rs"));
    }
}
