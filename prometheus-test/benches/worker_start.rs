//! Worker start-up: time from `Fleet::start` to every worker ready, for 3 and
//! 20 workers of the python3 fixture server (`tests/fixtures/servers/good_server.py`),
//! next to, measured in the same runs: the boot time of one such worker
//! spawned by hand and timed until its port accepts a connection, and the
//! floor for N workers (N spawned by hand at once, each port polled every
//! 1 ms), which on a small machine is set by CPU, not by the fleet. Also times
//! the fleet's shutdown. Each figure is the median of `RUNS` runs, the fleet
//! and the hand-spawned floor paired and alternated within each run.
//!
//! The Python original starts workers one by one with a fixed 3 s sleep each,
//! so it needs 3 s per worker whatever the boot time.
//!
//! A stack: one service (the same fixture) and then 3 workers, started
//! wave by wave by `Fleet::start_in_waves`, against the same started by hand
//! in the same order (the service, its port polled until it accepts, then
//! the 3 workers at once); the target is <= 1.2x.
//!
//! Run: `cargo bench -p prometheus-test --bench worker_start`

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use common::{block_on, median};
use prometheus_test::__bench::{Fleet, LaunchSpec, LogMode, free_port};
use tokio::net::TcpStream;
use tokio::process::Command;

/// Runs per figure (`PROMETHEUS_TEST_BENCH_RUNS` overrides).
const RUNS: usize = 5;
/// Fleet sizes timed.
const SIZES: [usize; 2] = [3, 20];

fn main() -> anyhow::Result<()> {
    block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let runs = std::env::var("PROMETHEUS_TEST_BENCH_RUNS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(RUNS);
    let mut boots = Vec::with_capacity(runs);
    let mut floors = vec![Vec::with_capacity(runs); SIZES.len()];
    let mut starts = vec![Vec::with_capacity(runs); SIZES.len()];
    let mut stops = vec![Vec::with_capacity(runs); SIZES.len()];
    // Per run, the fleet's start minus (and over) the hand-spawned floor
    // measured right next to it: on a shared machine whose load drifts, the
    // paired figures are steadier than a difference of medians.
    let mut extras = vec![Vec::with_capacity(runs); SIZES.len()];
    let mut ratios = vec![Vec::with_capacity(runs); SIZES.len()];
    for run in 0..runs {
        boots.push(boot_by_hand(1).await?);
        for (index, &size) in SIZES.iter().enumerate() {
            // Alternate which goes first, so a rising or falling load favours neither.
            let (floor, (start, stop)) = if run % 2 == 0 {
                (boot_by_hand(size).await?, fleet_start_and_stop(size).await?)
            } else {
                let fleet = fleet_start_and_stop(size).await?;
                (boot_by_hand(size).await?, fleet)
            };
            floors[index].push(floor);
            starts[index].push(start);
            stops[index].push(stop);
            extras[index].push(start.as_secs_f64() - floor.as_secs_f64());
            ratios[index].push(start.as_secs_f64() / floor.as_secs_f64());
        }
    }
    let mut stack_ratios = Vec::with_capacity(runs);
    let (mut stacks, mut stacks_by_hand) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for run in 0..runs {
        let (by_hand, stack) = if run % 2 == 0 {
            (stack_by_hand().await?, stack_start().await?)
        } else {
            let stack = stack_start().await?;
            (stack_by_hand().await?, stack)
        };
        stack_ratios.push(stack.as_secs_f64() / by_hand.as_secs_f64());
        stacks.push(stack);
        stacks_by_hand.push(by_hand);
    }
    let boot = median(&mut boots);
    println!(
        "one worker booting alone (spawned by hand): median {}",
        ms(boot)
    );
    for (index, &size) in SIZES.iter().enumerate() {
        let floor = median(&mut floors[index]);
        let start = median(&mut starts[index]);
        let stop = median(&mut stops[index]);
        println!(
            "fleet of {size:>2}: start to all ready median {} = {:.2}x one boot; the {size} \
             spawned by hand at once: median {}; per run the fleet took {:+.0} ms, {:.3}x \
             (medians of paired runs); shutdown median {}; Python original: {} s of fixed sleeps",
            ms(start),
            start.as_secs_f64() / boot.as_secs_f64(),
            ms(floor),
            median_f64(&mut extras[index]) * 1000.0,
            median_f64(&mut ratios[index]),
            ms(stop),
            3 * size
        );
    }
    println!(
        "stack of 1 service + 3 workers: start to all ready median {}; by hand in the same \
         order median {}; {:.3}x (median of paired runs; target <= 1.2x)",
        ms(median(&mut stacks)),
        ms(median(&mut stacks_by_hand)),
        median_f64(&mut stack_ratios)
    );
    Ok(())
}

/// A fixture server's launch as `name` on `port`.
fn fixture_spec(name: String, port: u16) -> LaunchSpec {
    LaunchSpec {
        name,
        command: vec!["python3".into(), server_script().into()],
        cwd: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        env: vec![("PORT".to_owned(), port.to_string())],
        port,
        health_url: None,
        start_timeout: Duration::from_secs(60),
        container: None,
    }
}

/// A stack of one service, then 3 workers, through the fleet: start to
/// all ready.
async fn stack_start() -> anyhow::Result<Duration> {
    let ports = free_ports(4)?;
    let service = vec![fixture_spec("middle".to_owned(), ports[0])];
    let workers = (1..4)
        .map(|n| fixture_spec(format!("worker{n}"), ports[n]))
        .collect();
    let started = Instant::now();
    let fleet = Fleet::start_in_waves(vec![service, workers], LogMode::Capture).await?;
    let start = started.elapsed();
    fleet.shutdown().await;
    Ok(start)
}

/// The same stack by hand: the service until its port accepts, then the 3
/// workers at once until theirs do.
async fn stack_by_hand() -> anyhow::Result<Duration> {
    let started = Instant::now();
    boot_by_hand(1).await?;
    boot_by_hand(3).await?;
    Ok(started.elapsed())
}

/// The median of `samples` (the upper one of an even count).
fn median_f64(samples: &mut [f64]) -> f64 {
    samples.sort_unstable_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn server_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/servers/good_server.py")
}

/// `count` distinct ports nobody listens on right now.
fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let mut ports = Vec::with_capacity(count);
    while ports.len() < count {
        let port = free_port()?;
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    Ok(ports)
}

/// `count` fixture servers spawned directly at once, timed until every port
/// accepts (each polled every 1 ms).
async fn boot_by_hand(count: usize) -> anyhow::Result<Duration> {
    let ports = free_ports(count)?;
    let started = Instant::now();
    let mut children = ports
        .iter()
        .map(|port| {
            Command::new("python3")
                .arg(server_script())
                .env("PORT", port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .context("spawn python3")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (port, child) in ports.iter().zip(&mut children) {
        while TcpStream::connect(("127.0.0.1", *port)).await.is_err() {
            anyhow::ensure!(child.try_wait()?.is_none(), "the fixture server exited");
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "the fixture server never listened"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let boot = started.elapsed();
    for child in &mut children {
        child.kill().await?;
    }
    Ok(boot)
}

/// Starts a fleet of `size` fixture servers; returns (start to ready, shutdown) times.
async fn fleet_start_and_stop(size: usize) -> anyhow::Result<(Duration, Duration)> {
    let specs = free_ports(size)?
        .into_iter()
        .enumerate()
        .map(|(index, port)| fixture_spec(format!("worker{}", index + 1), port))
        .collect();
    let started = Instant::now();
    let fleet = Fleet::start(specs, LogMode::Capture).await?;
    let start = started.elapsed();
    let stopping = Instant::now();
    fleet.shutdown().await;
    Ok((start, stopping.elapsed()))
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}
