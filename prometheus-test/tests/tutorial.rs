//! The user guide's tutorial ("A suite in five minutes" in `README.md`)
//! builds as a crate of its own: its `Cargo.toml` lines and its code are
//! copied into a throwaway crate outside the workspace, so a dependency the
//! code uses but the tutorial forgets to list fails here (doctests would
//! not notice: they see this crate's dev-dependencies).

mod throwaway;

use throwaway::Crate;

const GUIDE: &str = include_str!("../README.md");

#[test]
fn the_tutorial_builds_and_lists_its_steps() {
    let tutorial = Tutorial::from_guide(GUIDE);
    assert!(
        tutorial.test_target.contains("harness = false"),
        "the tutorial's [[test]] target must set `harness = false`:\n{}",
        tutorial.test_target
    );
    let project = Crate::new(&tutorial.dev_dependencies, "harness = false\n");
    project.write("tests/e2e.rs", &tutorial.code);
    let run = project.cargo(&["test", "--test", "e2e", "--", "--list"]);
    assert!(run.success, "the tutorial does not build:\n{}", run.output);
    let listed: Vec<&str> = run
        .output
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .collect();
    assert!(
        !tutorial.steps.is_empty(),
        "no #[step] function found in the tutorial"
    );
    for step in &tutorial.steps {
        assert!(
            listed
                .iter()
                .any(|name| name == step || name.starts_with(&format!("{step}["))),
            "step `{step}` is not listed: {listed:?}\n{}",
            run.output
        );
    }
}

/// What the tutorial section of the guide holds.
struct Tutorial {
    /// The `[dev-dependencies]` lines, with the runtime as `{runtime}`.
    dev_dependencies: String,
    /// The `[[test]]` table.
    test_target: String,
    /// Every Rust block, in order, without rustdoc's hidden lines.
    code: String,
    /// The `#[step]` functions' names.
    steps: Vec<String>,
}

impl Tutorial {
    fn from_guide(guide: &str) -> Self {
        let start = guide
            .find("## A suite in five minutes")
            .expect("the guide has a tutorial section");
        let section = &guide[start..];
        let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
        let blocks = code_blocks(&section[..end]);
        let toml = blocks
            .iter()
            .find(|(lang, _)| lang == "toml")
            .map(|(_, text)| text.as_str())
            .expect("the tutorial has a toml block");
        let (dependencies, test_target) = toml
            .split_once("[[test]]")
            .expect("the toml block declares the [[test]] target");
        let dev_dependencies = dependencies
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('['))
            .map(|line| {
                if line.starts_with("prometheus-test ") || line.starts_with("prometheus-test=") {
                    "{runtime}"
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            dev_dependencies.contains("{runtime}"),
            "the tutorial's dependencies do not name prometheus-test:\n{dependencies}"
        );
        let mut code = String::new();
        let lines = blocks
            .iter()
            .filter(|(lang, _)| lang.starts_with("rust"))
            .flat_map(|(_, text)| text.lines())
            .filter(|line| !(line.starts_with("# ") || *line == "#"));
        for line in lines {
            code.push_str(line);
            code.push('\n');
        }
        Self {
            steps: step_functions(&code),
            dev_dependencies,
            test_target: test_target.to_owned(),
            code,
        }
    }
}

/// The fenced blocks of `markdown`: (info string, text).
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let text: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        blocks.push((info.trim().to_owned(), text.join("\n")));
    }
    blocks
}

/// The names of the `async fn`s that follow a `#[step(…)]` attribute.
fn step_functions(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut after_step = false;
    for line in code.lines().map(str::trim) {
        if line.starts_with("#[step") {
            after_step = true;
        } else if after_step && let Some(rest) = line.strip_prefix("async fn ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
            after_step = false;
        }
    }
    names
}

#[test]
fn tutorial_parsing_finds_blocks_and_steps() {
    let guide = "intro\n## A suite in five minutes\n```toml\n[dev-dependencies]\nprometheus-test = \"0.1\"\nanyhow = \"1\"\n\n[[test]]\nname = \"e2e\"\nharness = false\n```\n```rust,no_run\n# use x;\n#[step(worker = \"w\", order = 1)]\nasync fn first(r: &Runner) {}\n```\n## Next\n```rust\n#[step(worker = \"w\", order = 2)]\nasync fn not_in_the_tutorial() {}\n```\n";
    let tutorial = Tutorial::from_guide(guide);
    assert_eq!(tutorial.dev_dependencies, "{runtime}\nanyhow = \"1\"");
    assert!(tutorial.test_target.contains("harness = false"));
    assert_eq!(tutorial.steps, ["first"]);
    assert!(!tutorial.code.contains("use x;"));
}
