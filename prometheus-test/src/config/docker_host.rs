//! Where a run's Docker Engine is: `DOCKER_HOST` of the run's environment
//! (the process environment with the `.env` files), and whether that engine
//! is on another host (then a container worker's port is published there).

use super::EnvMap;

/// The engine used when `DOCKER_HOST` is not set.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// `DOCKER_HOST` of the run's environment `env`, else the default local socket.
pub(crate) fn docker_host_in(env: &EnvMap) -> String {
    env.get("DOCKER_HOST").unwrap_or(DEFAULT_HOST).to_owned()
}

/// The host name of a remote engine at `docker_host` (`tcp://h:p` or
/// `http://h:p` with `h` not a loopback name or address); `None` for a local one.
pub(crate) fn remote_host(docker_host: &str) -> Option<String> {
    let rest = docker_host
        .strip_prefix("tcp://")
        .or_else(|| docker_host.strip_prefix("http://"))
        .or_else(|| docker_host.strip_prefix("https://"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(bracketed),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback && !host.is_empty()).then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::remote_host;

    #[test]
    fn only_a_tcp_engine_on_another_host_is_remote() {
        assert_eq!(remote_host("unix:///var/run/docker.sock"), None);
        assert_eq!(remote_host("tcp://127.0.0.1:2375"), None);
        assert_eq!(remote_host("tcp://localhost:2375"), None);
        assert_eq!(remote_host("tcp://[::1]:2375"), None);
        assert_eq!(
            remote_host("tcp://build-box.lan:2376").as_deref(),
            Some("build-box.lan")
        );
        assert_eq!(
            remote_host("http://10.0.0.7:2375/").as_deref(),
            Some("10.0.0.7")
        );
    }
}
