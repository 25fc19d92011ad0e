//! The keypair a workers.json `keypairs` variable holds.
//!
//! The variable's value is a keypair file's path, relative to the tests
//! directory or the project, or the key itself: the text of a keypair file
//! (a JSON array of 64 numbers), as CI systems inject secrets. Its value may
//! be a key, so no message shows it, except a path that names a `.json` file.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};

use super::{Keypair, load_keypair};

/// The keypair that `var`, named by `keypairs.{role}`, holds; `role` is the
/// key as workers.json writes it (`staking`, `main`, or `public` for main),
/// `value` the variable's value in the run's environment (`None` when it is
/// not set or empty) and `dirs` the directories a relative path is looked up
/// in, in order (the first is the default for a missing file).
pub(crate) fn keypair_from_variable(
    role: &str,
    var: &str,
    value: Option<&str>,
    dirs: &[&Path],
) -> anyhow::Result<Keypair> {
    let Some(value) = value else {
        bail!(
            "`keypairs.{role}` names {var}, which is not set (or is empty) in the environment, the project's .env or the tests' .env"
        );
    };
    let text = value.trim();
    if text.starts_with('[') {
        return Keypair::from_keypair_file_json(text).map_err(|problem| {
            anyhow!(
                "`keypairs.{role}`: {var} holds a key inline (it starts with `[`), but not a valid one \
                 ({problem}); it must be a keypair file's text, a JSON array of 64 integers"
            )
        });
    }
    if text.is_empty() {
        bail!(
            "`keypairs.{role}`: {var} is empty; set it to a keypair file's path or to the file's text"
        );
    }
    let candidates: Vec<PathBuf> = dirs.iter().map(|dir| dir.join(value)).collect();
    let found = candidates.iter().find(|path| path.exists());
    match found {
        Some(path) => load_keypair(path).with_context(|| format!("`keypairs.{role}` ({var})")),
        None if names_a_json_file(value) => {
            let path = candidates
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from(value));
            load_keypair(&path).with_context(|| format!("`keypairs.{role}` ({var})"))
        }
        None => {
            let looked_in: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            bail!(
                "`keypairs.{role}`: {var} holds something that is not a path to a keypair file \
                 (no such file under {}); its value is not shown, as it may be a key. \
                 Set it to a keypair file's path, or to the file's text (a JSON array of 64 integers)",
                looked_in.join(" or ")
            )
        }
    }
}

/// Whether `value` reads as a keypair file's path, which is safe to show.
fn names_a_json_file(value: &str) -> bool {
    let has_json_extension = Path::new(value)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    has_json_extension && !value.contains(|c: char| c.is_whitespace() || c == '[' || c == ',')
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::fs;

    use super::*;

    /// A keypair with distinctive seed bytes, and its 64 keypair-file bytes.
    fn planted() -> (Keypair, [u8; 64]) {
        let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from((i * 7 + 82) % 251).unwrap());
        let keypair = Keypair::from_seed(seed);
        let bytes = keypair.signing_key().to_keypair_bytes();
        (keypair, bytes)
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
    }

    fn decimal(bytes: &[u8], separator: &str) -> String {
        let parts: Vec<String> = bytes.iter().map(ToString::to_string).collect();
        parts.join(separator)
    }

    /// The secret as raw numbers, base58 and hex: none may appear in a message.
    fn secret_renderings(bytes: &[u8; 64]) -> Vec<String> {
        let seed = &bytes[..32];
        vec![
            decimal(&seed[..6], ","),
            decimal(&seed[..6], ", "),
            bs58::encode(seed).into_string(),
            bs58::encode(bytes).into_string(),
            hex(seed),
            hex(seed).to_uppercase(),
        ]
    }

    fn error_of(value: &str, dir: &Path) -> String {
        let err = keypair_from_variable("staking", "WORKER1_STAKING_KEYPAIR", Some(value), &[dir])
            .map(|keypair| keypair.public_key().to_owned())
            .expect_err("the value is not a usable keypair");
        format!("{err:#} / {err:?}")
    }

    #[test]
    fn inline_key_material_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let (keypair, bytes) = planted();
        for value in [
            keypair.to_keypair_file_json(),
            format!("  [{}]\n", decimal(&bytes, ", ")),
        ] {
            let loaded = keypair_from_variable("main", "KEY", Some(&value), &[dir.path()])
                .unwrap_or_else(|err| panic!("{err:#}"));
            assert_eq!(loaded.public_key(), keypair.public_key());
        }
    }

    #[test]
    fn a_value_that_may_be_a_key_never_appears_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let (_, bytes) = planted();
        let mut mismatched = bytes;
        mismatched[40] ^= 0xff;
        let values = [
            // Inline, but broken: the public half is wrong, one number is missing,
            // a syntax error after the secret.
            format!("[{}]", decimal(&mismatched, ",")),
            format!("[{}]", decimal(&bytes[..63], ",")),
            format!("[{}] x", decimal(&bytes, ",")),
            // Not a path: the key in other encodings.
            decimal(&bytes, ","),
            bs58::encode(bytes).into_string(),
            bs58::encode(&bytes[..32]).into_string(),
            hex(&bytes),
            hex(&bytes[..32]),
        ];
        let secrets = secret_renderings(&bytes);
        for value in &values {
            let message = error_of(value, dir.path());
            assert!(message.contains("WORKER1_STAKING_KEYPAIR"), "{message}");
            for secret in &secrets {
                assert!(
                    !message.contains(secret.as_str()),
                    "the error for a planted key shows it as {secret:?}: {message}"
                );
            }
        }
        let message = error_of(&bs58::encode(bytes).into_string(), dir.path());
        assert!(message.contains("not a path"), "{message}");
        let message = error_of(&format!("[{}]", decimal(&mismatched, ",")), dir.path());
        assert!(message.contains("public half does not match"), "{message}");
    }

    #[test]
    fn a_path_is_looked_up_in_each_directory_in_turn() {
        let tests = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let keypair = Keypair::from_seed([3; 32]);
        fs::create_dir(project.path().join("keys")).unwrap();
        fs::write(
            project.path().join("keys/id.json"),
            keypair.to_keypair_file_json(),
        )
        .unwrap();
        let dirs = [tests.path(), project.path()];
        let loaded = keypair_from_variable("staking", "KEY", Some("keys/id.json"), &dirs).unwrap();
        assert_eq!(loaded.public_key(), keypair.public_key());

        let err =
            keypair_from_variable("staking", "KEY", Some("keys/other.json"), &dirs).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains(&tests.path().join("keys/other.json").display().to_string())
                && message.contains("does not exist"),
            "a missing .json file is named: {message}"
        );
    }

    #[test]
    fn unset_and_empty_variables_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let unset = keypair_from_variable("public", "MAIN_KEY", None, &[dir.path()]).unwrap_err();
        assert_eq!(
            unset.to_string(),
            "`keypairs.public` names MAIN_KEY, which is not set (or is empty) in the \
             environment, the project's .env or the tests' .env"
        );
        let empty =
            keypair_from_variable("main", "MAIN_KEY", Some(" "), &[dir.path()]).unwrap_err();
        assert!(empty.to_string().contains("MAIN_KEY is empty"), "{empty}");
    }
}
