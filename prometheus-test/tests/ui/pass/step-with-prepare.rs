use prometheus_test::__private::{StepDef, inventory};
use prometheus_test::{Runner, Worker, step};

mod fixtures {
    use prometheus_test::{Runner, Worker};

    pub struct Todo {
        pub title: String,
    }

    pub async fn prepare_todo(_runner: &Runner, worker: &Worker) -> anyhow::Result<Todo> {
        let _ = worker;
        Ok(Todo {
            title: String::from("buy milk"),
        })
    }
}

#[step(worker = "worker1", order = 2, prepare = fixtures::prepare_todo)]
async fn submit_todo(
    _runner: &Runner,
    _worker: &Worker,
    todo: fixtures::Todo,
) -> Result<(), std::io::Error> {
    assert!(!todo.title.is_empty());
    Ok(())
}

fn main() {
    let step = inventory::iter::<StepDef>.into_iter().next().unwrap();
    assert_eq!(step.name, "submit_todo");
    assert_eq!(step.order, 2);
}
