//! Worker output: line readers, `[name]` prefixes, colours, per-step capture
//! and the per-worker tail kept for crash reports.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::os::fd::AsFd as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::unix::pipe::Receiver;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::line::{LogLine, Stream};
use crate::config::EnvMap;

/// Where worker output goes besides the crash tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogMode {
    /// Lines are kept per step (see `Fleet::take_captured`) and printed only on demand.
    Capture,
    /// Lines are kept per step as in `Capture` and also printed live to stderr (`--nocapture`).
    Stream,
}

/// Rewrites each line a worker prints before it is shown or kept anywhere:
/// the run redacts secrets with it.
pub(crate) type LineFilter = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Lines kept per worker for crash and start-up reports.
const TAIL_LINES: usize = 50;
/// Lines kept for one step; older ones are dropped and counted.
const STEP_LINES: usize = 10_000;
/// Longest line kept; longer output is split.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Bytes asked of a pipe per read.
const READ_CHUNK: usize = 8 * 1024;
/// ANSI colours given to worker names in turn (no red: it reads as an error).
const PALETTE: [u8; 6] = [36, 35, 33, 32, 34, 96];

/// Output state shared by every worker of a fleet.
pub(super) struct LogHub {
    mode: LogMode,
    colour: bool,
    filter: Option<LineFilter>,
    /// `None` outside any step.
    step: Mutex<Option<StepLines>>,
}

impl std::fmt::Debug for LogHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogHub")
            .field("mode", &self.mode)
            .field("colour", &self.colour)
            .field("filtered", &self.filter.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct StepLines {
    lines: VecDeque<LogLine>,
    dropped: usize,
}

impl LogHub {
    #[cfg(test)]
    pub(super) fn new(mode: LogMode) -> Arc<Self> {
        Self::filtered(mode, None, &EnvMap::default())
    }

    /// A hub whose lines all pass through `filter` first, coloured as the
    /// run's environment `env` allows ([`colours`]).
    pub(super) fn filtered(mode: LogMode, filter: Option<LineFilter>, env: &EnvMap) -> Arc<Self> {
        Arc::new(Self {
            mode,
            colour: colours(std::io::stderr().is_terminal(), env),
            filter,
            step: Mutex::new(None),
        })
    }

    /// Starts a step: lines from now on are captured for it.
    pub(super) fn begin_step(&self) {
        *lock(&self.step) = Some(StepLines::default());
    }

    /// Ends the current step and returns its lines (empty outside a step),
    /// after a line of the harness's own when older ones were dropped.
    pub(super) fn take_step(&self) -> Vec<LogLine> {
        let Some(step) = lock(&self.step).take() else {
            return Vec::new();
        };
        let mut lines = Vec::with_capacity(step.lines.len() + 1);
        if step.dropped > 0 {
            lines.push(LogLine::harness(format!(
                "[... {} earlier lines not kept]",
                step.dropped
            )));
        }
        lines.extend(step.lines);
        lines
    }

    fn record(&self, line: LogLine) {
        if let Some(step) = lock(&self.step).as_mut() {
            if step.lines.len() == STEP_LINES {
                step.lines.pop_front();
                step.dropped += 1;
            }
            step.lines.push_back(line);
        }
    }
}

/// The output of one worker.
#[derive(Debug)]
pub(super) struct WorkerLog {
    hub: Arc<LogHub>,
    name: String,
    colour: u8,
    tail: Mutex<VecDeque<String>>,
    /// How many of the worker's pipes are still open.
    open_pipes: watch::Sender<usize>,
    /// Signalled on every line: servers often print as they start listening,
    /// so the readiness probe tries again at once instead of at its next tick.
    printed: Notify,
    /// One per open pipe: asks its reader to read everything the pipe holds
    /// now and answer on the enclosed sender (see [`Self::caught_up`]).
    catch_up: Mutex<Vec<mpsc::UnboundedSender<oneshot::Sender<()>>>>,
}

impl WorkerLog {
    /// `index` picks the worker's colour.
    pub(super) fn new(hub: Arc<LogHub>, name: &str, index: usize) -> Arc<Self> {
        Arc::new(Self {
            hub,
            name: name.to_owned(),
            colour: PALETTE[index % PALETTE.len()],
            tail: Mutex::new(VecDeque::with_capacity(TAIL_LINES)),
            open_pipes: watch::Sender::new(0),
            printed: Notify::new(),
            catch_up: Mutex::new(Vec::new()),
        })
    }

    /// Reads `pipe` line by line until it closes, in a background task.
    pub(super) fn follow(self: &Arc<Self>, reader: Receiver, pipe: Stream) {
        self.open_pipes.send_modify(|open| *open += 1);
        let (requests, mut catch_up) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
        lock(&self.catch_up).push(requests);
        let log = Arc::clone(self);
        tokio::spawn(async move {
            let mut lines = Lines::default();
            loop {
                let open = tokio::select! {
                    biased;
                    Some(answer) = catch_up.recv() => {
                        let open = log.read_available(&reader, Read::Now, pipe, &mut lines);
                        let _ = answer.send(());
                        open
                    }
                    ready = reader.readable() => {
                        ready.is_ok()
                            && log.read_available(&reader, Read::WhenReady, pipe, &mut lines)
                    }
                };
                if !open {
                    break;
                }
            }
            if let Some(last) = lines.rest() {
                log.push(pipe, &last);
            }
            log.open_pipes.send_modify(|open| *open -= 1);
        });
    }

    /// Reads what `reader` holds without waiting and pushes its whole
    /// lines; `false` once the pipe is closed or broken.
    fn read_available(
        &self,
        reader: &Receiver,
        how: Read,
        pipe: Stream,
        lines: &mut Lines,
    ) -> bool {
        let mut chunk = [0; READ_CHUNK];
        loop {
            let read = match how {
                Read::WhenReady => reader.try_read(&mut chunk),
                Read::Now => nix::unistd::read(reader.as_fd(), &mut chunk).map_err(Into::into),
            };
            match read {
                Ok(0) => return false,
                Ok(read) => {
                    for line in lines.feed(&chunk[..read]) {
                        self.push(pipe, &line);
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// Resolves once each open pipe's reader has read everything the pipe
    /// held when this was called (at most `limit`): a line the worker wrote
    /// before answering a request is then kept for the step that sent it,
    /// however busy the machine.
    pub(super) async fn caught_up(&self, limit: Duration) {
        let answers: Vec<_> = lock(&self.catch_up)
            .iter()
            .filter_map(|requests| {
                let (answer, answered) = oneshot::channel();
                requests.send(answer).ok().map(|()| answered)
            })
            .collect();
        let _ = tokio::time::timeout(limit, futures_util::future::join_all(answers)).await;
    }

    /// Waits (at most `limit`) until both pipes reached their end, so the tail
    /// holds the last words of a process that just exited.
    pub(super) async fn drained(&self, limit: Duration) {
        let mut open = self.open_pipes.subscribe();
        let _ = tokio::time::timeout(limit, open.wait_for(|open| *open == 0)).await;
    }

    /// Resolves once the worker printed a line (at once if it did since the last call).
    pub(super) async fn printed(&self) {
        self.printed.notified().await;
    }

    /// The last lines of output, prefixed, oldest first.
    pub(super) fn tail(&self, max: usize) -> Vec<String> {
        let tail = lock(&self.tail);
        tail.iter()
            .skip(tail.len().saturating_sub(max))
            .cloned()
            .collect()
    }

    fn push(&self, pipe: Stream, raw: &str) {
        let text = raw.trim_end_matches(['\n', '\r']);
        let filtered = self.hub.filter.as_ref().map(|filter| filter(text));
        let text = filtered.as_deref().unwrap_or(text);
        let line = LogLine::new(self.name.as_str(), pipe, text);
        if self.hub.mode == LogMode::Stream {
            let colour = self.hub.colour.then_some(self.colour);
            // A closed stderr must not stop the reader: the line is still kept.
            let _ = writeln!(std::io::stderr().lock(), "{}", shown(&line, colour));
        }
        let mut tail = lock(&self.tail);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line.to_string());
        drop(tail);
        self.hub.record(line);
        self.printed.notify_one();
    }
}

/// How [`WorkerLog::read_available`] reads.
#[derive(Clone, Copy)]
enum Read {
    /// Through tokio, which skips the system call while it has seen no
    /// readiness (and learns from a `WouldBlock` that the pipe is empty).
    WhenReady,
    /// With the system call itself: what the pipe holds at this moment,
    /// even before tokio's event loop has reported it.
    Now,
}

/// Splits a pipe's bytes into lines (without their `\n`), a line longer than
/// [`MAX_LINE_BYTES`] into pieces of that size.
#[derive(Debug, Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// The lines `bytes` completes.
    fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                lines.push(String::from_utf8_lossy(&self.partial).into_owned());
                self.partial.clear();
            } else {
                self.partial.push(byte);
                if self.partial.len() == MAX_LINE_BYTES {
                    lines.push(String::from_utf8_lossy(&self.partial).into_owned());
                    self.partial.clear();
                }
            }
        }
        lines
    }

    /// The unfinished last line, if any (at the end of the pipe).
    fn rest(&mut self) -> Option<String> {
        (!self.partial.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned())
    }
}

/// Whether worker names are coloured on a stderr that is a `terminal`: unless
/// `NO_COLOR` is set (not empty) in the run's environment `env`.
fn colours(terminal: bool, env: &EnvMap) -> bool {
    terminal && env.get("NO_COLOR").is_none()
}

/// `line` as printed live: `[name] text` or `[name ERR] text`, the prefix
/// in ANSI colour `colour` if given.
fn shown(line: &LogLine, colour: Option<u8>) -> String {
    let Some(code) = colour else {
        return line.to_string();
    };
    let tag = match line.stream {
        Stream::Stdout => format!("[{}]", line.worker),
        Stream::Stderr => format!("[{} ERR]", line.worker),
    };
    format!("\x1b[{code}m{tag}\x1b[0m {}", line.text)
}

/// Indented tail lines for an error message, or a note that there were none.
pub(super) fn render_tail(name: &str, lines: &[String]) -> String {
    if lines.is_empty() {
        return format!("\n  {name} printed nothing");
    }
    let mut text = format!("\n  last output of {name}:");
    for line in lines {
        text.push_str("\n    ");
        text.push_str(line);
    }
    text
}

/// A poisoned lock only means a reader panicked mid-push; the lines are still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::time::Duration;

    use super::{Lines, LogHub, LogMode, Stream, WorkerLog, colours, shown};
    use crate::config::EnvMap;
    use crate::process::LogLine;

    /// The step's lines as shown: `[w ERR] text`.
    fn step_lines(hub: &LogHub) -> Vec<String> {
        hub.take_step().iter().map(LogLine::to_string).collect()
    }

    #[test]
    fn prefixes_name_and_err_tag() {
        assert_eq!(
            shown(&LogLine::new("worker1", Stream::Stdout, "hi"), None),
            "[worker1] hi"
        );
        assert_eq!(
            shown(&LogLine::new("worker1", Stream::Stderr, "oops"), None),
            "[worker1 ERR] oops"
        );
        assert_eq!(
            shown(&LogLine::new("w", Stream::Stderr, "x"), Some(36)),
            "\x1b[36m[w ERR]\x1b[0m x"
        );
    }

    /// `NO_COLOR` is read from the run's environment, never from the process's.
    #[test]
    fn no_color_of_the_runs_environment_turns_colours_off() {
        let with = |value: &str| EnvMap::from_pairs([("NO_COLOR", value)]);
        assert!(
            !colours(true, &with("1")),
            "NO_COLOR=1 in the run's environment"
        );
        assert!(colours(true, &with("")), "an empty NO_COLOR is not set");
        assert!(
            colours(true, &EnvMap::default()),
            "no NO_COLOR in the run's environment"
        );
        assert!(!colours(false, &EnvMap::default()), "stderr is no terminal");
    }

    #[test]
    fn lines_outside_a_step_go_to_the_tail_only() {
        let hub = LogHub::new(LogMode::Capture);
        let log = WorkerLog::new(hub.clone(), "w", 0);
        log.push(Stream::Stdout, "before\n");
        hub.begin_step();
        log.push(Stream::Stderr, "during\r\n");
        assert_eq!(step_lines(&hub), ["[w ERR] during"]);
        log.push(Stream::Stdout, "after");
        assert!(hub.take_step().is_empty());
        assert_eq!(log.tail(10), ["[w] before", "[w ERR] during", "[w] after"]);
        assert_eq!(log.tail(1), ["[w] after"]);
    }

    #[test]
    fn tail_keeps_only_the_last_lines() {
        let log = WorkerLog::new(LogHub::new(LogMode::Capture), "w", 0);
        for n in 0..(super::TAIL_LINES + 5) {
            log.push(Stream::Stdout, &n.to_string());
        }
        let tail = log.tail(usize::MAX);
        assert_eq!(tail.len(), super::TAIL_LINES);
        assert_eq!(tail[0], "[w] 5");
    }

    /// The reader task never runs between the write and `caught_up` on this
    /// one-thread runtime unless `caught_up` makes it: without the catch-up,
    /// the step would end without the line.
    #[tokio::test]
    async fn caught_up_reads_what_the_pipe_holds_before_the_step_ends() {
        let hub = LogHub::new(LogMode::Capture);
        let log = WorkerLog::new(hub.clone(), "w", 0);
        let (writer, reader) = tokio::net::unix::pipe::pipe().unwrap();
        let mut writer = std::fs::File::from(writer.into_blocking_fd().unwrap());
        log.follow(reader, Stream::Stderr);
        hub.begin_step();
        // A blocking write: nothing yields to the reader task before `caught_up`.
        writer
            .write_all(b"written before the answer\nunfinished")
            .unwrap();
        log.caught_up(Duration::from_secs(5)).await;
        assert_eq!(step_lines(&hub), ["[w ERR] written before the answer"]);
        drop(writer);
        log.drained(Duration::from_secs(5)).await;
        assert_eq!(
            log.tail(1),
            ["[w ERR] unfinished"],
            "the last line without a newline is kept at the end of the pipe"
        );
    }

    #[test]
    fn lines_split_at_newlines_and_at_the_longest_line() {
        let mut lines = Lines::default();
        assert_eq!(lines.feed(b"a\nb"), ["a"]);
        assert_eq!(lines.feed(b"c\r\n\n"), ["bc\r", ""]);
        let long = vec![b'x'; super::MAX_LINE_BYTES + 3];
        let pieces = lines.feed(&long);
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].len(), super::MAX_LINE_BYTES);
        assert_eq!(lines.rest().as_deref(), Some("xxx"));
        assert_eq!(lines.rest(), None);
    }
}
