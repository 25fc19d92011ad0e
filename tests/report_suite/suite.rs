//! The suite behind the workspace's report tests (`tests/reports/`): one
//! python worker, three steps in one round. `login` obtains a session and
//! marks it secret, `submit` posts a signed payload, `audit` posts a signed
//! payload the worker rejects with a 500, so the run fails with an HTTP
//! transcript to report.
//!
//! The `wide` steps (played with `--skip steps::`, skipped by the other
//! tests with `--skip wide::`) make a grid of eighteen columns: most only
//! wait, three pause, stop or kill the worker in the middle of their bar and
//! bring it back before they end.

mod steps {
    use std::sync::OnceLock;

    use prometheus_test::{Runner, Worker, step};
    use serde_json::json;

    /// The session `login` obtained; kept in memory, not in the state file.
    static SESSION: OnceLock<String> = OnceLock::new();

    fn session() -> anyhow::Result<&'static str> {
        SESSION
            .get()
            .map(String::as_str)
            .ok_or_else(|| anyhow::anyhow!("no session: `login` did not run in this process"))
    }

    /// Logs in and keeps the session, marked secret.
    #[step(worker = "worker1", order = 1)]
    async fn login(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
        let reply: serde_json::Value = runner
            .http()
            .post(format!("{}/login", worker.url()))
            .json(&json!({"worker": worker.name()}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let session = reply["session"].as_str().unwrap_or_default().to_owned();
        runner.secret("session", &session);
        let _ = SESSION.set(session);
        Ok(())
    }

    /// Posts the round's submission, signed with the staking key.
    #[step(worker = "worker1", order = 2)]
    async fn submit(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
        let session = session()?;
        let signature = worker.sign_staking(&json!({
            "action": "submit",
            "round": runner.current_round(),
            "pr_url": "https://example.invalid/pull/1",
            "taskId": worker.env("TASK_ID"),
        }))?;
        runner
            .http()
            .post(format!("{}/submit", worker.url()))
            .header("x-session", session)
            .bearer_auth(worker.env("API_TOKEN").unwrap_or_default())
            .json(&json!({"signature": signature, "stakingKey": worker.staking_public_key()?}))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Asks for the audit, which the worker rejects.
    #[step(worker = "worker1", order = 3)]
    async fn audit(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
        let session = session()?;
        let signature = worker.sign_staking(&json!({
            "action": "audit",
            "round": runner.current_round(),
            "session": session,
        }))?;
        runner
            .http()
            .post(format!("{}/audit", worker.url()))
            .json(&json!({"signature": signature, "round": runner.current_round()}))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

mod wide {
    use std::time::Duration;

    use prometheus_test::{Runner, Worker, step};

    async fn wait(ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    /// Steps that only take a little time, one column each.
    macro_rules! waits {
        ($($name:ident = $order:literal;)*) => {$(
            #[doc = concat!("Waits a little: column ", stringify!($order), ".")]
            #[step(worker = "worker1", order = $order)]
            async fn $name(_: &Runner, _: &Worker) -> anyhow::Result<()> {
                wait(30).await;
                Ok(())
            }
        )*};
    }

    waits! {
        fetches_the_round = 11;
        reads_the_task_state = 12;
        checks_the_stake = 13;
        prepares_the_work = 14;
        submits_the_work = 16;
        checks_the_submission = 17;
        picks_an_auditor = 18;
        audits_the_peer = 20;
        votes_on_the_audit = 21;
        tallies_the_votes = 22;
        distributes_rewards = 24;
        checks_the_rewards = 25;
        reads_the_logs_back = 26;
        compares_the_totals = 27;
        closes_the_round = 28;
    }

    /// Pauses its worker in the middle of its bar and resumes it.
    #[step(worker = "worker1", order = 15)]
    async fn pauses_the_worker(_: &Runner, worker: &Worker) -> anyhow::Result<()> {
        wait(60).await;
        worker.pause().await?;
        wait(250).await;
        worker.resume().await?;
        wait(60).await;
        Ok(())
    }

    /// Stops its worker (SIGTERM) and starts it again.
    #[step(worker = "worker1", order = 19)]
    async fn stops_the_worker(_: &Runner, worker: &Worker) -> anyhow::Result<()> {
        wait(60).await;
        worker.stop().await?;
        wait(200).await;
        worker.start().await?;
        wait(60).await;
        Ok(())
    }

    /// Kills its worker (SIGKILL) and starts it again.
    #[step(worker = "worker1", order = 23)]
    async fn kills_the_worker(_: &Runner, worker: &Worker) -> anyhow::Result<()> {
        wait(60).await;
        worker.kill().await?;
        wait(200).await;
        worker.start().await?;
        wait(60).await;
        Ok(())
    }
}

prometheus_test::main!();
