//! Where a suite's keeper listens: a Unix socket in the abstract namespace
//! named after the suite's data folder. No file is left behind when the
//! keeper dies (SIGKILL included), a second keeper of the same folder cannot
//! bind the name, and both sides check that the other runs as the same user.

use std::os::linux::net::SocketAddrExt as _;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::Path;

/// The name's prefix.
const PREFIX: &str = "prometheus-test-keeper-";

/// The socket address of the keeper of `data_dir`.
fn address(data_dir: &Path) -> std::io::Result<SocketAddr> {
    let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let name = format!(
        "{PREFIX}{:016x}",
        fnv1a(canonical.as_os_str().as_encoded_bytes())
    );
    SocketAddr::from_abstract_name(name.as_bytes())
}

/// FNV-1a, 64 bits: the same name from every build of the crate.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Listens as the keeper of `data_dir`; `AddrInUse` when one is up.
pub(crate) fn bind(data_dir: &Path) -> std::io::Result<UnixListener> {
    UnixListener::bind_addr(&address(data_dir)?)
}

/// The keeper of `data_dir`, when one is up.
pub(crate) fn connect(data_dir: &Path) -> std::io::Result<Option<UnixStream>> {
    match UnixStream::connect_addr(&address(data_dir)?) {
        Ok(stream) => {
            same_user(&stream)?;
            Ok(Some(stream))
        }
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => Ok(None),
        Err(err) => Err(err),
    }
}

/// Fails unless the process at the other end runs as this one's user.
pub(crate) fn same_user(stream: &UnixStream) -> std::io::Result<()> {
    use std::os::fd::AsFd as _;
    let theirs =
        nix::sys::socket::getsockopt(&stream.as_fd(), nix::sys::socket::sockopt::PeerCredentials)
            .map_err(std::io::Error::from)?;
    if theirs.uid() == nix::unistd::getuid().as_raw() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "the keeper's socket is held by another user's process (PID {})",
                theirs.pid()
            ),
        ))
    }
}

/// The PID of the process at the other end.
pub(crate) fn peer_pid(stream: &UnixStream) -> Option<i32> {
    use std::os::fd::AsFd as _;
    nix::sys::socket::getsockopt(&stream.as_fd(), nix::sys::socket::sockopt::PeerCredentials)
        .ok()
        .map(|credentials| credentials.pid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_keeper_per_data_folder_and_none_after_it_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        assert!(connect(dir.path()).unwrap().is_none(), "no keeper yet");
        let listener = bind(dir.path()).unwrap();
        let err = bind(dir.path()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        let other = tempfile::tempdir().unwrap();
        let _elsewhere = bind(other.path()).unwrap();
        let stream = connect(dir.path()).unwrap().expect("the keeper answers");
        let (accepted, _) = listener.accept().unwrap();
        assert_eq!(
            peer_pid(&accepted),
            Some(i32::try_from(std::process::id()).unwrap())
        );
        drop((stream, accepted, listener));
        assert!(
            connect(dir.path()).unwrap().is_none(),
            "gone with its listener"
        );
    }
}
