//! The suite's CA kept in its folder.

use std::os::unix::fs::PermissionsExt as _;

use crate::proxy::Ca;
use crate::proxy::ca::{CERT_FILE, KEY_FILE};

#[test]
fn the_ca_is_made_once_and_kept_private_and_out_of_git() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("data/.proxy");
    let first = Ca::load_or_create(&folder).unwrap();
    let second = Ca::load_or_create(&folder).unwrap();
    assert_eq!(first.cert(), second.cert());
    let mode = |name: &str| {
        std::fs::metadata(folder.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!((mode(KEY_FILE), mode(CERT_FILE)), (0o600, 0o644));
    assert_eq!(
        std::fs::read_to_string(folder.join(".gitignore")).unwrap(),
        "*\n"
    );
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, [".gitignore", KEY_FILE, CERT_FILE]);
}

/// A folder whose certificate is another CA's (the key is not its key):
/// refused, naming both files, and showing no key.
#[test]
fn a_certificate_that_is_not_the_keys_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (one, other) = (dir.path().join("one"), dir.path().join("other"));
    Ca::load_or_create(&one).unwrap();
    Ca::load_or_create(&other).unwrap();
    std::fs::copy(other.join(CERT_FILE), one.join(CERT_FILE)).unwrap();
    let error = format!("{:#}", Ca::load_or_create(&one).unwrap_err());
    let cert = one.join(CERT_FILE);
    let key = one.join(KEY_FILE);
    assert!(
        error.starts_with(&format!(
            "{} does not belong to the key {}, or was not made by prometheus-test; \
             delete both to make a new CA: ",
            cert.display(),
            key.display()
        )),
        "{error}"
    );
    assert!(!error.contains("PRIVATE KEY"), "{error}");
}

/// Only the certificate is left (a kill before the key was written): a new
/// CA is made.
#[test]
fn a_folder_without_the_key_gets_a_new_ca() {
    let dir = tempfile::tempdir().unwrap();
    let first = Ca::load_or_create(dir.path()).unwrap();
    std::fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
    let second = Ca::load_or_create(dir.path()).unwrap();
    assert_ne!(first.cert(), second.cert());
}

#[test]
fn a_key_file_that_holds_no_key_is_refused_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    Ca::load_or_create(dir.path()).unwrap();
    std::fs::write(dir.path().join(KEY_FILE), "not a key\n").unwrap();
    let error = format!("{:#}", Ca::load_or_create(dir.path()).unwrap_err());
    assert_eq!(
        error,
        format!(
            "{}: expected the suite CA's key, a PKCS#8 PEM block (`-----BEGIN PRIVATE KEY-----`); \
             delete it to make a new CA",
            dir.path().join(KEY_FILE).display()
        )
    );
}
