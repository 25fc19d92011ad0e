//! The suite behind the workspace's report tests (`tests/reports.rs`): one
//! python worker, three steps in one round. `login` obtains a session and
//! marks it secret, `submit` posts a signed payload, `audit` posts a signed
//! payload the worker rejects with a 500, so the run fails with an HTTP
//! transcript to report.

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

prometheus_test::main!();
