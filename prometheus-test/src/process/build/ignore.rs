//! A build context's `.dockerignore`, read as the Docker CLI reads it: one
//! pattern a line (`#` comments, blank lines skipped), relative to the
//! context, `*` and `?` within a path segment, `**` across segments, `!` to
//! take a path back; the last pattern that matches decides, and a pattern
//! that matches a folder leaves out everything in it. The Dockerfile and
//! `.dockerignore` are sent whatever they say, as the CLI sends them.

use std::path::Path;

use anyhow::Context as _;

/// The patterns of a context.
#[derive(Debug, Default)]
pub(super) struct Ignore {
    /// (pattern segments, is an exception), in the file's order.
    patterns: Vec<(Vec<String>, bool)>,
    /// Paths always sent: the Dockerfile and `.dockerignore`.
    kept: Vec<String>,
}

impl Ignore {
    /// The `.dockerignore` of `context` (none: nothing left out); the
    /// Dockerfile `dockerfile` is always sent.
    pub(super) fn of(context: &Path, dockerfile: &str) -> anyhow::Result<Self> {
        let file = context.join(".dockerignore");
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", file.display()));
            }
        };
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                let (line, exception) = match line.strip_prefix('!') {
                    Some(rest) => (rest.trim(), true),
                    None => (line, false),
                };
                (segments(line), exception)
            })
            .filter(|(segments, _)| !segments.is_empty())
            .collect();
        Ok(Self {
            patterns,
            kept: vec![segments(dockerfile).join("/"), ".dockerignore".to_owned()],
        })
    }

    /// Whether `relative` (a path of the context, `/`-separated) is left out.
    pub(super) fn excludes(&self, relative: &str) -> bool {
        if self.kept.iter().any(|kept| kept == relative) {
            return false;
        }
        let path: Vec<&str> = relative.split('/').collect();
        let mut excluded = false;
        for (pattern, exception) in &self.patterns {
            // A pattern naming a folder leaves out what the folder holds.
            let matched = (1..=path.len()).any(|len| matches(pattern, &path[..len]));
            if matched {
                excluded = !exception;
            }
        }
        excluded
    }

    /// Whether a folder left out may still hold a path an exception takes
    /// back (then it is walked, and each of its paths decided).
    pub(super) fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|(_, exception)| *exception)
    }
}

/// The segments of `pattern` once cleaned: no leading `/` or `./`, no empty
/// or `.` segments.
fn segments(pattern: &str) -> Vec<String> {
    pattern
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
        .map(str::to_owned)
        .collect()
}

/// Whether the path segments `path` match the pattern segments `pattern`.
fn matches(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skipped| matches(rest, &path[skipped..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((segment, path_rest)) => {
                segment_matches(first, segment) && matches(rest, path_rest)
            }
            None => false,
        },
    }
}

/// Whether one path segment matches one pattern segment (`*`: any run of
/// characters, `?`: one character, `\` escapes the next).
fn segment_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some('?') => {
                p += 1;
                t += 1;
            }
            Some('\\') if pattern.get(p + 1) == Some(&text[t]) => {
                p += 2;
                t += 1;
            }
            Some(c) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> Ignore {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dockerignore"), text).unwrap();
        Ignore::of(dir.path(), "Dockerfile").unwrap()
    }

    #[test]
    fn patterns_leave_out_paths_and_folders_and_exceptions_take_them_back() {
        let ignore = ignore(
            "# build output\ntarget\n*.log\n/secrets/*.pem\n**/__pycache__\ndocs/**/*.md\n\
             !docs/keep.md\n*.md\n!README.md\nDockerfile\n.dockerignore\n",
        );
        for (path, excluded) in [
            ("target", true),
            ("target/debug/app", true),
            ("app.log", true),
            ("logs/app.log", false),
            ("secrets/key.pem", true),
            ("secrets/key.txt", false),
            ("src/__pycache__/x.pyc", true),
            ("__pycache__", true),
            ("docs/a/b/guide.md", true),
            ("notes.md", true),
            ("README.md", false),
            ("docs/keep.md", false),
            ("server.py", false),
            ("Dockerfile", false),
            (".dockerignore", false),
        ] {
            assert_eq!(ignore.excludes(path), excluded, "{path}");
        }
        assert!(ignore.has_exceptions());
    }

    #[test]
    fn no_dockerignore_leaves_nothing_out() {
        let dir = tempfile::tempdir().unwrap();
        let ignore = Ignore::of(dir.path(), "Dockerfile").unwrap();
        assert!(!ignore.excludes("target/app"));
        assert!(!ignore.has_exceptions());
    }

    #[test]
    fn a_segment_matches_stars_question_marks_and_escapes() {
        assert!(segment_matches("*.py", "server.py"));
        assert!(!segment_matches("*.py", "server.pyc"));
        assert!(segment_matches("a?c", "abc"));
        assert!(!segment_matches("a?c", "ac"));
        assert!(segment_matches(r"\*", "*"));
        assert!(!segment_matches(r"\*", "x"));
        assert!(segment_matches("*", ""));
    }
}
