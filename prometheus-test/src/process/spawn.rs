//! The port checks done before any worker starts, and the command that runs
//! a worker process.

use std::process::Stdio;

use anyhow::bail;
use tokio::process::Command;

use super::spec::LaunchSpec;

/// Fails if two workers share a port or a port is already taken, before
/// anything starts. Containers on a `remote` engine are left out: their ports
/// are the engine host's.
pub(super) fn check_ports(specs: &[LaunchSpec], remote: bool) -> anyhow::Result<()> {
    super::port::check_free(
        specs
            .iter()
            .filter(|spec| spec.container.is_none() || !remote)
            .map(|spec| (spec.name.as_str(), spec.port)),
    )
}

/// The command for a worker: piped output, no input, `PYTHONUNBUFFERED=1`
/// (overridable by `spec.env`) so Python workers log line by line.
pub(super) fn worker_command(spec: &LaunchSpec) -> anyhow::Result<Command> {
    let Some((program, args)) = spec.command.split_first() else {
        bail!("{}: the command to start it is empty", spec.name);
    };
    match std::fs::metadata(&spec.cwd) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => bail!(
            "{}: working directory {} is not a directory",
            spec.name,
            spec.cwd.display()
        ),
        Err(error) => bail!(
            "{}: working directory {}: {error}",
            spec.name,
            spec.cwd.display()
        ),
    }
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(&spec.cwd)
        .env("PYTHONUNBUFFERED", "1")
        .envs(spec.env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(command)
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, TcpListener};
    use std::time::Duration;

    use super::{LaunchSpec, check_ports};

    fn spec(name: &str, port: u16) -> LaunchSpec {
        LaunchSpec {
            name: name.to_owned(),
            command: vec!["true".into()],
            cwd: ".".into(),
            env: Vec::new(),
            port,
            health_url: None,
            start_timeout: Duration::from_secs(1),
            container: None,
        }
    }

    #[test]
    fn shared_port_names_both_workers() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error =
            check_ports(&[spec("worker1", port), spec("worker2", port)], false).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("worker1 and worker2"), "{text}");
        assert!(text.contains(&port.to_string()), "{text}");
    }

    #[test]
    fn taken_port_names_worker_and_port() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let error = check_ports(&[spec("worker3", port)], false).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "port {port} of worker3 is already in use by another process: stop that process or give worker3 another port"
            )
        );
        drop(listener);
        check_ports(&[spec("worker3", port)], false).unwrap();
    }
}
