//! Connecting: `MONGO_URI`, a server on localhost:27017, or a private `mongod`
//! (installed, or downloaded on first use).

use std::path::Path;
use std::time::Duration;

use anyhow::anyhow;
use mongodb::Client;
use mongodb::bson::doc;
use mongodb::error::ErrorKind;
use mongodb::options::ClientOptions;

use super::locate::find_mongod;
use super::managed::ManagedMongod;
use super::provision::provision;
use crate::config::EnvMap;

/// The server the original uses when `MONGO_URI` is unset.
pub(crate) const DEFAULT_URI: &str = "mongodb://localhost:27017";
/// How long connecting may take before a run fails (server selection and TCP connect).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the probe of localhost:27017 waits before starting a private server.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long closing the client may take; the driver's shutdown handshake with its
/// background monitors has been seen to hang (driver 3.2.5 against mongod 4.0).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// A connected `MongoDB` client, and the private server behind it if this run started one.
pub(crate) struct Mongo {
    client: Client,
    uri: String,
    managed: Option<ManagedMongod>,
}

impl Mongo {
    /// The driver client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The real connection string, for the workers' `MONGO_URI`. May hold credentials.
    pub(crate) fn uri(&self) -> &str {
        &self.uri
    }

    /// The connection string with credentials replaced by `***`, for messages.
    pub(crate) fn display_uri(&self) -> String {
        redact(&self.uri)
    }

    /// Whether this run started the server (and stops it at [`Mongo::shutdown`]).
    pub(crate) fn is_managed(&self) -> bool {
        self.managed.is_some()
    }

    /// The PID of the private server, if this run started one.
    pub(crate) fn managed_pid(&self) -> Option<u32> {
        self.managed.as_ref().and_then(ManagedMongod::pid)
    }

    /// The private server, if this run started one.
    #[cfg(test)]
    pub(crate) fn managed(&self) -> Option<&ManagedMongod> {
        self.managed.as_ref()
    }

    /// Closes the client and stops the private server (removing its data unless it is kept).
    pub(crate) async fn shutdown(self) {
        close_client(self.client).await;
        if let Some(server) = self.managed {
            server.stop().await;
        }
    }
}

impl std::fmt::Debug for Mongo {
    /// Shows the URI with credentials redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mongo")
            .field("uri", &self.display_uri())
            .field("managed", &self.is_managed())
            .finish_non_exhaustive()
    }
}

/// The server used when `MONGO_URI` is unset, and the address probed to see
/// whether it answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DefaultServer<'a> {
    /// Its connection string.
    pub(crate) uri: &'a str,
    /// `host:port` probed with a TCP connect.
    pub(crate) address: &'a str,
}

/// The original's default: `mongodb://localhost:27017`.
pub(crate) const LOCALHOST: DefaultServer<'static> = DefaultServer {
    uri: DEFAULT_URI,
    address: "localhost:27017",
};

/// The cargo feature that builds the driver's DNS resolver, which a
/// `mongodb+srv://` URI needs (its hosts are DNS records).
const SRV_FEATURE: &str = "mongodb-srv";

/// Why this build cannot connect to `MONGO_URI`: a `mongodb+srv://` URI
/// while the `mongodb-srv` feature is off. Checked before anything starts;
/// names where the URI came from and the feature, never the URI (it may hold
/// credentials).
pub(crate) fn srv_unsupported(env: &EnvMap) -> Option<String> {
    let uri = env.get("MONGO_URI")?;
    if cfg!(feature = "mongodb-srv") || !uri.starts_with("mongodb+srv://") {
        return None;
    }
    let from = env.file_of("MONGO_URI").map_or_else(
        || "of the environment".to_owned(),
        |file| format!("of {}", file.display()),
    );
    Some(format!(
        "MONGO_URI {from} is a `mongodb+srv://` URI, whose servers are found through DNS, and \
         this build of prometheus-test has no DNS resolver for MongoDB: enable the \
         `{SRV_FEATURE}` feature (`prometheus-test = {{ version = \"0.1\", features = \
         [\"{SRV_FEATURE}\"] }}` in Cargo.toml) or give a `mongodb://host:port` URI"
    ))
}

/// Connects to `MONGO_URI` (default `mongodb://localhost:27017`). When `MONGO_URI`
/// is unset and nothing answers on localhost:27017, starts a private `mongod`
/// (`$PROMETHEUS_TEST_MONGOD`, else `mongod` on `PATH`, else one downloaded into
/// the user's cache on first use) and says so on stderr;
/// its data goes to `keep_data_in` when given (so a resumed run finds it),
/// else to a temporary directory.
pub(crate) async fn connect(env: &EnvMap, keep_data_in: Option<&Path>) -> anyhow::Result<Mongo> {
    connect_with_default(env, keep_data_in, LOCALHOST).await
}

/// [`connect`] with another default server than localhost:27017.
pub(crate) async fn connect_with_default(
    env: &EnvMap,
    keep_data_in: Option<&Path>,
    default: DefaultServer<'_>,
) -> anyhow::Result<Mongo> {
    if let Some(uri) = env.get("MONGO_URI") {
        let client = open(uri).await.map_err(|error| {
            anyhow!(
                "{error}: start mongod there, fix MONGO_URI, or unset MONGO_URI to use a \
                 private mongod (PROMETHEUS_TEST_MONGOD, else mongod on PATH, else one \
                 downloaded on first use)"
            )
        })?;
        return Ok(Mongo {
            client,
            uri: uri.to_owned(),
            managed: None,
        });
    }
    if answers(default.address).await {
        let client = open(default.uri).await.map_err(|error| {
            anyhow!(
                "{error}: something else listens on {}; stop it or set MONGO_URI",
                default.address
            )
        })?;
        return Ok(Mongo {
            client,
            uri: default.uri.to_owned(),
            managed: None,
        });
    }
    let binary = match find_mongod(env)? {
        Some(binary) => binary,
        None => provision(&|name| env.get(name).map(str::to_owned))
            .await
            .map_err(|error| {
                anyhow!(
                    "no MongoDB server: MONGO_URI is unset, nothing answers on {}, no mongod \
                     is installed (PROMETHEUS_TEST_MONGOD is unset and there is none on \
                     PATH), and {error:#}",
                    default.uri
                )
            })?,
    };
    let (server, client) = ManagedMongod::start_in(&binary, keep_data_in).await?;
    let uri = server.uri();
    let kept = keep_data_in.map_or_else(
        || "its data is removed at exit".to_owned(),
        |dir| format!("its data is kept in {}", dir.display()),
    );
    eprintln!(
        "prometheus-test: MONGO_URI is unset and nothing answers on {}: started a \
         private mongod ({}) at {uri} in {} ms; {kept}",
        default.uri,
        binary.display(),
        server.startup().as_millis()
    );
    Ok(Mongo {
        client,
        uri,
        managed: Some(server),
    })
}

/// Closes `client`, giving up after `SHUTDOWN_TIMEOUT`: its background tasks then
/// end with the runtime.
pub async fn close_client(client: Client) {
    let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, client.shutdown()).await;
}

/// A client for `uri` that has answered a ping within [`CONNECT_TIMEOUT`].
async fn open(uri: &str) -> anyhow::Result<Client> {
    let shown = redact(uri);
    let mut options = ClientOptions::parse(uri)
        .await
        .map_err(|error| anyhow!("MongoDB URI {shown} is invalid: {}", error.kind))?;
    options
        .app_name
        .get_or_insert_with(|| "prometheus-test".to_owned());
    options
        .server_selection_timeout
        .get_or_insert(CONNECT_TIMEOUT);
    options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
    let client = Client::with_options(options)
        .map_err(|error| anyhow!("MongoDB URI {shown} is invalid: {}", error.kind))?;
    client
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .map_err(|error| {
            let detail = first_line(&error.kind.to_string()).to_owned();
            if is_authentication_failure(&error) {
                anyhow!(
                    "authentication to MongoDB at {shown} failed ({detail}); check the user \
                     name, password and authSource in the URI"
                )
            } else {
                anyhow!(
                    "cannot reach MongoDB at {shown} within {} s ({detail})",
                    CONNECT_TIMEOUT.as_secs(),
                )
            }
        })?;
    Ok(client)
}

/// Whether something accepts TCP connections at `address` within [`PROBE_TIMEOUT`].
async fn answers(address: &str) -> bool {
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(address)).await,
        Ok(Ok(_))
    )
}

/// Whether `error` is the server refusing the credentials (not an unreachable server).
fn is_authentication_failure(error: &mongodb::error::Error) -> bool {
    matches!(*error.kind, ErrorKind::Authentication { .. }) || {
        let text = error.kind.to_string();
        text.contains("Authentication failed") || text.contains("SCRAM failure")
    }
}

/// URI options whose values are credentials (matched case-insensitively, as the
/// driver does): replaced by `***` in every message.
const SECRET_OPTIONS: [&str; 5] = [
    "authmechanismproperties",
    "tlscertificatekeyfilepassword",
    "sslpemkeypassword",
    "proxypassword",
    "password",
];

/// `uri` with its user information (everything before the last `@` of the
/// authority) and the values of credential-bearing query options replaced by `***`.
pub(crate) fn redact(uri: &str) -> String {
    let uri = redact_options(uri);
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri;
    };
    // The last `@` anywhere: a raw `/` or `?` in a password must not hide it. This
    // may also hide part of a query, which errs on the safe side.
    match rest.rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => uri,
    }
}

/// `uri` with the value of every option in [`SECRET_OPTIONS`] replaced by `***`.
/// Options are found after any `?` or `&`, so a raw `?` in a password cannot hide them.
fn redact_options(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(at) = rest.find(['?', '&']) {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let end = rest.find('&').unwrap_or(rest.len());
        let option = &rest[..end];
        match option.split_once('=') {
            Some((name, _)) if SECRET_OPTIONS.contains(&name.to_ascii_lowercase().as_str()) => {
                out.push_str(name);
                out.push_str("=***");
                rest = &rest[end..];
            }
            _ => {}
        }
    }
    out.push_str(rest);
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
