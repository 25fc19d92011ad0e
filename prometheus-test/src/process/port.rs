//! Free loopback ports for servers the framework starts itself (the private
//! `mongod`) and for tests and benchmarks.
//!
//! A port the OS hands out for `bind(0)` lies in the kernel's ephemeral
//! range, the same range outgoing connections take their local ports from:
//! between the check and the server's own `bind`, any client connection (a
//! MongoDB driver's, a worker's) may take it, and the server then fails with
//! "address in use". So ports are picked below that range, each one at most
//! once per process.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};

use anyhow::bail;
use std::sync::atomic::{AtomicU32, Ordering};

/// The one check of the ports of the workers a run starts, `(name, port)`
/// in order: each is a real port (not 0), no two share one, and nothing
/// listens on it yet. The first problem is the error.
pub(crate) fn check_free<'a>(
    ports: impl IntoIterator<Item = (&'a str, u16)>,
) -> anyhow::Result<()> {
    let mut seen: Vec<(&str, u16)> = Vec::new();
    for (name, port) in ports {
        if port == 0 {
            bail!("{name} has port 0: give it a fixed port to listen on");
        }
        if let Some((other, _)) = seen.iter().find(|(_, p)| *p == port) {
            bail!("{other} and {name} are both given port {port}: each needs a port of its own");
        }
        if in_use(port) {
            bail!(
                "port {port} of {name} is already in use by another process: stop that process \
                 or give {name} another port"
            );
        }
        seen.push((name, port));
    }
    Ok(())
}

/// True if something already listens on the port (IPv4 loopback or
/// wildcard, or IPv6 loopback). Other bind errors (no IPv6, no permission)
/// are left for the worker itself to report.
fn in_use(port: u16) -> bool {
    let taken = |result: std::io::Result<TcpListener>| matches!(result, Err(error) if error.kind() == ErrorKind::AddrInUse);
    taken(TcpListener::bind((Ipv4Addr::LOCALHOST, port)))
        || taken(TcpListener::bind((Ipv6Addr::LOCALHOST, port)))
}

/// The lowest port handed out.
const FIRST: u32 = 10_000;

/// Where the next search starts, spread by process so that parallel test
/// processes rarely try the same ports.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A loopback port nobody listens on right now, below the ephemeral range.
pub fn free_port() -> std::io::Result<u16> {
    let end = ephemeral_start().max(FIRST + 1_000);
    let span = end - FIRST;
    let seed = std::process::id().wrapping_mul(7_919) % span;
    let _ = NEXT.compare_exchange(0, seed + 1, Ordering::Relaxed, Ordering::Relaxed);
    for _ in 0..span {
        let offset = (NEXT.fetch_add(1, Ordering::Relaxed) - 1) % span;
        let Ok(port) = u16::try_from(FIRST + offset) else {
            continue;
        };
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    // Every port below the ephemeral range is taken: let the OS pick.
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()
        .map(|address| address.port())
}

/// The first port of the kernel's ephemeral range (Linux's default when it
/// cannot be read).
fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_free_distinct_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        let distinct: std::collections::BTreeSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "a port was handed out twice");
        for port in ports {
            assert!(u32::from(port) >= FIRST && u32::from(port) < ephemeral_start());
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the port is free");
        }
    }
}
