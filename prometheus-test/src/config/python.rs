//! The interpreter of `.py` entrypoints, chosen like the environment that
//! runs the suite would choose it, so a task's dependencies installed in the
//! project's virtual environment are found.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::bail;

use super::EnvMap;

/// In order: the explicit `python` setting (a path, relative to the
/// project, or a program name looked up on `PATH`); the active virtual
/// environment (`$VIRTUAL_ENV`); a `.venv` or `venv` in the project folder;
/// else `python3` from `PATH`.
pub(crate) fn python_interpreter(
    explicit: Option<&str>,
    project_dir: &Path,
    env: &EnvMap,
) -> anyhow::Result<OsString> {
    if let Some(python) = explicit {
        if !python.contains('/') {
            return Ok(python.into());
        }
        let path = project_dir.join(python);
        if !path.exists() {
            bail!("`python`: no interpreter at {}", path.display());
        }
        return Ok(path.into_os_string());
    }
    if let Some(venv) = env.get("VIRTUAL_ENV") {
        let path = venv_python(Path::new(venv));
        if !path.exists() {
            bail!(
                "`VIRTUAL_ENV` is set, but there is no interpreter at {}; deactivate it or set `python`",
                path.display()
            );
        }
        return Ok(path.into_os_string());
    }
    Ok([".venv", "venv"]
        .iter()
        .map(|dir| venv_python(&project_dir.join(dir)))
        .find(|path| path.exists())
        .map_or_else(|| OsString::from("python3"), PathBuf::into_os_string))
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn imports(python: &OsString, module: &str) -> bool {
        Command::new(python)
            .args(["-c", &format!("import {module}")])
            .env_remove("PYTHONPATH")
            .output()
            .expect("run python")
            .status
            .success()
    }

    /// A real virtual environment holding a module nothing else has.
    fn project_with_venv(dir_name: &str) -> (tempfile::TempDir, PathBuf) {
        let project = tempfile::tempdir().unwrap();
        let venv = project.path().join(dir_name);
        let made = Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(made.success());
        let site = std::fs::read_dir(venv.join("lib"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("site-packages");
        std::fs::write(site.join("only_in_this_venv.py"), "").unwrap();
        (project, venv)
    }

    #[test]
    fn the_projects_venv_is_chosen_and_has_its_modules() {
        let (project, venv) = project_with_venv(".venv");
        let python = python_interpreter(None, project.path(), &EnvMap::default()).unwrap();
        assert_eq!(python, venv.join("bin/python").into_os_string());
        assert!(imports(&python, "only_in_this_venv"));
        assert!(
            !imports(&"python3".into(), "only_in_this_venv"),
            "the module must exist only in the venv"
        );
    }

    #[test]
    fn an_active_venv_comes_before_the_projects_and_explicit_before_both() {
        let (project, _) = project_with_venv("venv");
        let (_active, active_venv) = project_with_venv(".venv");
        let env = EnvMap::from_pairs([("VIRTUAL_ENV", active_venv.to_str().unwrap())]);
        let python = python_interpreter(None, project.path(), &env).unwrap();
        assert_eq!(python, active_venv.join("bin/python").into_os_string());
        let from_project = python_interpreter(None, project.path(), &EnvMap::default()).unwrap();
        assert_eq!(
            from_project,
            project.path().join("venv/bin/python").into_os_string()
        );
        let explicit = python_interpreter(Some("venv/bin/python"), project.path(), &env).unwrap();
        assert_eq!(explicit, from_project);
        assert_eq!(
            python_interpreter(Some("python3.11"), project.path(), &env).unwrap(),
            "python3.11"
        );
    }

    #[test]
    fn without_a_venv_python3_runs_and_a_missing_interpreter_is_named() {
        let project = tempfile::tempdir().unwrap();
        let python = python_interpreter(None, project.path(), &EnvMap::default()).unwrap();
        assert_eq!(python, "python3");
        let err = python_interpreter(Some("env/bin/python"), project.path(), &EnvMap::default())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("`python`: no interpreter at "), "{err}");
        let env = EnvMap::from_pairs([("VIRTUAL_ENV", "/nonexistent/venv")]);
        let err = python_interpreter(None, project.path(), &env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`VIRTUAL_ENV` is set"), "{err}");
    }
}
