//! What a run and its keeper say to each other: one JSON object a line over
//! a Unix stream socket.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What a run asks of the keeper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Request {
    /// The first line of a run.
    Hello(Hello),
    /// Start a process member, or hand over the one kept.
    Spawn(SpawnRequest),
    /// The ports the run's proxy listens on for each worker, to listen on
    /// again next time (a worker's environment names them).
    ProxyPorts { ports: BTreeMap<String, u16> },
    /// What the run played, sent as it ends.
    Report(Report),
}

/// A run introduces itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hello {
    pub(crate) pid: u32,
    /// Every step of the suite, with the file it is written in.
    pub(crate) steps: Vec<StepSource>,
}

/// A step and the file that defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StepSource {
    pub(crate) name: String,
    pub(crate) file: PathBuf,
}

/// How to start one process member. Its variables may be secret: the
/// request goes to the keeper only, which never prints them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SpawnRequest {
    pub(crate) name: String,
    pub(crate) command: Vec<String>,
    pub(crate) cwd: PathBuf,
    /// The member's own variables (those of the run's environment that
    /// differ from the process's: the `.env` files, workers.json's
    /// `env_vars`, `PORT`, ...), over `inherited`.
    pub(crate) env: Vec<(String, String)>,
    /// The run's process environment, which the member inherits (not
    /// compared when the keeper decides whether to start it again).
    pub(crate) inherited: Vec<(String, String)>,
    pub(crate) port: u16,
    /// The run starts fresh: a kept process is started again.
    pub(crate) fresh: bool,
}

impl std::fmt::Debug for SpawnRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnRequest")
            .field("name", &self.name)
            .field("command", &self.command)
            .field("cwd", &self.cwd)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// What a run played.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Report {
    /// The step executions, in order.
    pub(crate) played: Vec<Played>,
    /// The restore before the first step, if the run restored the world.
    pub(crate) restored: Option<Restored>,
    /// Time spent in the steps, in milliseconds.
    pub(crate) steps_ms: u64,
    /// Whether the suite keeps snapshots (a rerun can rewind).
    pub(crate) snapshots: bool,
}

/// One step execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Played {
    pub(crate) round: u32,
    pub(crate) name: String,
    pub(crate) outcome: Outcome,
}

/// How a step execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// A restore of the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Restored {
    /// The point, as `--from` names it.
    pub(crate) before: String,
    pub(crate) ms: u64,
}

/// What the keeper answers, and tells unasked ([`Reply::Exited`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Reply {
    Welcome(Welcome),
    /// The process runs; what it prints from now on comes through two
    /// FIFOs, which the run opens (and removes).
    Spawned {
        name: String,
        pid: u32,
        kept: bool,
        stdout: PathBuf,
        stderr: PathBuf,
    },
    /// The request could not be done.
    Refused {
        error: String,
    },
    /// Taken note of.
    Noted,
    /// A process the keeper runs ended.
    Exited {
        pid: u32,
        code: Option<i32>,
        signal: Option<i32>,
    },
}

/// The keeper's answer to [`Request::Hello`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Welcome {
    pub(crate) keeper: u32,
    /// The `MONGO_URI` of the `mongod` the keeper runs, if it runs one.
    pub(crate) mongo_uri: Option<String>,
    /// The proxy ports the last run listened on.
    pub(crate) proxy_ports: BTreeMap<String, u16>,
    /// The processes running now, with their ports.
    pub(crate) kept_ports: BTreeMap<String, u16>,
}

/// Writes `message` as one line.
pub(crate) fn send(stream: &UnixStream, message: &impl Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut writer = stream;
    writer.write_all(&line)
}

/// The lines coming in on a stream.
pub(crate) struct Incoming(BufReader<UnixStream>);

impl Incoming {
    pub(crate) fn new(stream: UnixStream) -> Self {
        Self(BufReader::new(stream))
    }

    /// The next line as a `T`; `None` once the other side closed.
    pub(crate) fn next<T: DeserializeOwned>(&mut self) -> std::io::Result<Option<T>> {
        let mut line = String::new();
        if self.0.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        serde_json::from_str(&line)
            .map(Some)
            .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidData, err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_arrive_in_order_and_the_end_is_none() {
        let (left, right) = UnixStream::pair().unwrap();
        send(&left, &Reply::Noted).unwrap();
        let spawned = Reply::Spawned {
            name: "worker1".to_owned(),
            pid: 42,
            kept: true,
            stdout: PathBuf::from("/k/worker1-1.out"),
            stderr: PathBuf::from("/k/worker1-1.err"),
        };
        send(&left, &spawned).unwrap();
        drop(left);
        let mut incoming = Incoming::new(right);
        assert_eq!(incoming.next::<Reply>().unwrap(), Some(Reply::Noted));
        assert_eq!(incoming.next::<Reply>().unwrap(), Some(spawned));
        assert_eq!(incoming.next::<Reply>().unwrap(), None, "closed");
    }

    #[test]
    fn a_spawn_request_never_shows_its_variables() {
        let request = SpawnRequest {
            name: "worker1".to_owned(),
            command: vec!["python3".to_owned()],
            cwd: PathBuf::from("/x"),
            env: vec![("TOKEN".to_owned(), "s3cret".to_owned())],
            inherited: vec![("HOME".to_owned(), "/h0me".to_owned())],
            port: 1,
            fresh: false,
        };
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("h0me"),
            "{shown}"
        );
    }
}
