use prometheus_test::__private::{StepDef, inventory};

mod worker1 {
    use prometheus_test::{Runner, Worker, step};

    #[step(worker = "worker1", order = 1)]
    async fn task(_runner: &Runner, _worker: &Worker) -> prometheus_test::Result {
        Ok(())
    }

    pub mod audit {
        use prometheus_test::{Runner, Worker, step};

        #[step(worker = "worker1", order = 2)]
        async fn task(_runner: &Runner, _worker: &Worker) -> prometheus_test::Result {
            Ok(())
        }
    }
}

// A step switched off by `cfg` is not registered.
#[cfg(any())]
#[prometheus_test::step(worker = "worker1", order = 3)]
async fn disabled(_runner: &prometheus_test::Runner, _worker: &prometheus_test::Worker) {}

fn main() {
    let mut names: Vec<String> = inventory::iter::<StepDef>
        .into_iter()
        .map(StepDef::test_name)
        .collect();
    names.sort();
    assert_eq!(names, ["worker1::audit::task", "worker1::task"]);
}
