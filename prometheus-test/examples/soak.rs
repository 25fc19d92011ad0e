//! The soak benchmark's suite (`scripts/bench-soak.sh`): ten steps a round
//! on three workers, each one small JSON POST to its worker
//! (`benches/soak/worker.py`, which answers at once and logs a line) whose
//! reply it stores in the round's state (`runner.set`, as real suites keep
//! their submissions), for as many rounds as config.yaml's `max_rounds`.
//! The last step reads the first one's stored reply back. `SOAK_STATE=0`
//! leaves the state alone (nothing stored, nothing read).
//!
//! Each step appends `round step microseconds` to the file named by
//! `SOAK_TIMINGS`: the time of its HTTP call, measured around it, finer than
//! the millisecond durations of the recorded exchanges. Built only by the
//! bench script.

mod steps {
    use std::io::Write as _;
    use std::sync::{Mutex, OnceLock};
    use std::time::Instant;

    use prometheus_test::{Runner, Worker, step};
    use serde_json::{Value, json};

    /// `SOAK_TIMINGS`, opened for appending once.
    fn timings() -> &'static Mutex<Option<std::fs::File>> {
        static FILE: OnceLock<Mutex<Option<std::fs::File>>> = OnceLock::new();
        FILE.get_or_init(|| {
            let file = std::env::var_os("SOAK_TIMINGS").and_then(|path| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .ok()
            });
            Mutex::new(file)
        })
    }

    /// Whether the steps store and read state (not when `SOAK_STATE=0`).
    fn uses_state() -> bool {
        std::env::var_os("SOAK_STATE").is_none_or(|value| value != "0")
    }

    /// One POST to `worker`'s `/echo`, failing on an error status; the reply
    /// goes into the round's state at `echo.STEP`.
    async fn echo(runner: &Runner, worker: &Worker, step: &str) -> anyhow::Result<()> {
        let round = runner.current_round();
        let started = Instant::now();
        let reply: Value = runner
            .http()
            .post(format!("{}/echo", worker.url()))
            .json(&json!({"round": round, "step": step, "worker": worker.name()}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let micros = started.elapsed().as_micros();
        if let Some(file) = timings()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_mut()
        {
            writeln!(file, "{round} {step} {micros}")?;
        }
        if uses_state() {
            runner.set(&format!("echo.{step}"), &reply)?;
        }
        Ok(())
    }

    macro_rules! echo_steps {
        ($($name:ident: $worker:literal, $order:literal;)*) => {$(
            #[doc = concat!("Echo step `", stringify!($name), "` on ", $worker, ".")]
            #[step(worker = $worker, order = $order)]
            async fn $name(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
                echo(runner, worker, stringify!($name)).await
            }
        )*};
    }

    echo_steps! {
        fetch: "worker1", 1;
        submit: "worker1", 2;
        check: "worker2", 3;
        audit: "worker2", 4;
        vote: "worker3", 5;
        distribute: "worker3", 6;
        upload: "worker1", 7;
        verify: "worker2", 8;
        tally: "worker3", 9;
    }

    /// Echo step `close` on worker1, after reading `fetch`'s stored reply.
    #[step(worker = "worker1", order = 10)]
    async fn close(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
        if uses_state() {
            let fetched: Value = runner.get("echo.fetch")?;
            anyhow::ensure!(
                fetched["echo"]["round"] == runner.current_round(),
                "`echo.fetch` holds round {} in round {}",
                fetched["echo"]["round"],
                runner.current_round()
            );
        }
        echo(runner, worker, "close").await
    }
}

prometheus_test::main!();
