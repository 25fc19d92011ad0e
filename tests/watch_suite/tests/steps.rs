//! One step that checks the world it starts in and says which processes
//! answer it.

use prometheus_test::mongodb::bson::{Document, doc};
use prometheus_test::{Runner, Worker, step};

/// Marks its round once: a world restored from before it has no mark yet.
/// Prints the PID each worker answers from.
#[step(worker = "worker1", order = 1)]
async fn marks_its_round(runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    let marks = runner.db()?.collection::<Document>("marks");
    let round = runner.current_round();
    let id = format!("round-{round}");
    let before = marks.count_documents(doc! { "_id": &id }).await?;
    anyhow::ensure!(
        before == 0,
        "round {round} is marked already: the world was not restored"
    );
    marks.insert_one(doc! { "_id": &id }).await?;
    for name in ["worker1", "worker2"] {
        let url = format!("{}/pid", runner.worker(name)?.url());
        let pid = runner.http().get(url).send().await?.text().await?;
        println!("{name} answers from PID {pid}");
    }
    Ok(())
}
