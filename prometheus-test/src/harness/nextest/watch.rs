//! nextest's process, as the coordinator follows it: found among a test
//! process's ancestors, named by PID and start time (a reused PID is not
//! taken for it) and looked up in `/proc`.

use std::fmt;

/// One process, as `<pid>:<start time>` (clock ticks after boot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Watched {
    pid: u32,
    start: u64,
}

/// What `/proc/<pid>/stat` says of a process.
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    comm: String,
    state: char,
    ppid: u32,
    start: u64,
}

/// The name nextest's process has.
const NEXTEST_COMM: &str = "cargo-nextest";

/// How many ancestors are searched for nextest (a wrapper script or a
/// target runner may stand between nextest and the test).
const MAX_DEPTH: usize = 8;

impl Watched {
    /// nextest's process as a test process sees it: the nearest ancestor
    /// named `cargo-nextest`, else the parent. `None` without `/proc`.
    pub(super) fn nextest() -> Option<Self> {
        let parent = std::os::unix::process::parent_id();
        let mut pid = parent;
        for _ in 0..MAX_DEPTH {
            if pid <= 1 {
                break;
            }
            let stat = read_stat(pid)?;
            if stat.comm == NEXTEST_COMM {
                return Some(Self {
                    pid,
                    start: stat.start,
                });
            }
            pid = stat.ppid;
        }
        read_stat(parent).map(|stat| Self {
            pid: parent,
            start: stat.start,
        })
    }

    pub(super) fn pid(self) -> u32 {
        self.pid
    }

    /// Whether the process still runs (a zombie has ended).
    pub(super) fn is_alive(self) -> bool {
        read_stat(self.pid).is_some_and(|stat| stat.start == self.start && stat.state != 'Z')
    }

    /// Reads [`Display`](fmt::Display)'s form.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let (pid, start) = text.split_once(':')?;
        Some(Self {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }
}

impl fmt::Display for Watched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.pid, self.start)
    }
}

fn read_stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `pid (comm) state ppid …`, the start time being the 22nd field; `comm`
/// may hold spaces and parentheses, so it ends at the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    Some(Stat {
        comm,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_the_name_state_parent_and_start_time() {
        let line = "4321 (cargo-nextest) S 4000 4321 4000 34816 4321 4194560 2 0 0 0 \
                    1 2 0 0 20 0 9 0 987654 1000 100 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                comm: "cargo-nextest".to_owned(),
                state: 'S',
                ppid: 4000,
                start: 987_654
            })
        );
        let odd = "7 (a) b (c)) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        assert_eq!(
            parse_stat(odd).map(|s| (s.comm, s.state, s.start)),
            Some(("a) b (c)".to_owned(), 'Z', 55))
        );
        assert_eq!(parse_stat("7 (short) S 1"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_another_process() {
        let me = read_stat(std::process::id()).expect("/proc is readable");
        let watched = Watched {
            pid: std::process::id(),
            start: me.start,
        };
        assert!(watched.is_alive());
        assert_eq!(Watched::parse(&watched.to_string()), Some(watched));
        let reused = Watched {
            start: me.start + 1,
            ..watched
        };
        assert!(!reused.is_alive());
        assert_eq!(Watched::parse("12"), None);
    }
}
