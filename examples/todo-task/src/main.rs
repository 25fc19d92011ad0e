//! `todo-task`: a small Koii-style task worker.
//!
//! Each round a worker *does the task* (claims a todo from Mongo and hashes
//! it), *submits* its result, and *audits* other workers' submissions. Every
//! POST is a Koii signed payload checked against the sender's staking key.
//!
//! With `LLM_URL` set, a worker also asks that LLM for a one-line summary of
//! each todo it claims.
//!
//! Environment: `PORT`, `DATABASE_PATH`, `MONGO_URI`, `MONGO_DB`, `TASK_ID`;
//! optionally `LLM_URL`, `LLM_API_KEY`, `SSL_CERT_FILE`, `MIDDLE_SERVER_URL`
//! (the task's middle server, told of each submission), the proxy
//! variables (`HTTPS_PROXY`, `NO_PROXY`, ...) and `TODO_TASK_PLANTED_BUG`
//! (a bug planted on purpose for the suite's faults to find).

mod config;
mod error;
mod llm;
mod middle;
mod reports;
mod routes;
mod signing;
mod store;
mod tls;
mod todos;

use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::Config;
use crate::llm::Llm;
use crate::middle::Middle;
use crate::store::WorkStore;
use crate::todos::TaskData;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("todo-task: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("todo-task: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let store = WorkStore::open(&config.database_path)?;
    let data = TaskData::connect(&config.mongo_uri, &config.mongo_db, &config.task_id).await?;
    let llm = config.llm.as_ref().map(Llm::new).transpose()?;
    let middle = config
        .middle_server_url
        .as_deref()
        .map(Middle::new)
        .transpose()?;
    if let Some(llm) = &llm {
        println!("todo-task: summaries from {}", llm.url());
    }
    if let Some(bug) = config.planted_bug {
        println!("todo-task: planted bug on: {bug}");
    }
    if !config.start_delay.is_zero() {
        println!(
            "todo-task: starting slowly: {} ms (TODO_TASK_START_DELAY_MS)",
            config.start_delay.as_millis()
        );
        tokio::time::sleep(config.start_delay).await;
    }
    let app = routes::router(routes::AppState::new(
        config.task_id.clone(),
        data,
        store,
        llm,
        middle,
        config.planted_bug,
    ));

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", config.port))?;
    println!(
        "todo-task: task {} listening on http://127.0.0.1:{}",
        config.task_id, config.port
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server error")?;
    println!("todo-task: stopped");
    Ok(())
}

/// Resolves on SIGTERM (how the harness stops workers) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
