//! The handlers under the fault layer that are not the recording: one that
//! forwards every request as it is, and one that keeps the runner's calls
//! to the workers away from the recording (they are no outside call).

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::faults::link::RUNNER;
use crate::proxy::{Completed, Handler, Outbound, Reply, Shape};

/// Forwards every request unchanged.
pub(super) struct Forward;

impl Handler for Forward {
    fn decide<'a>(&'a self, _request: &'a Outbound) -> BoxFuture<'a, Reply> {
        Box::pin(async { Reply::Forward(Shape::default()) })
    }

    fn completed(&self, _exchange: Completed) {}
}

/// The runner's requests forwarded, the workers' given to `workers`.
pub(super) struct RunnerApart {
    pub(super) workers: Arc<dyn Handler>,
}

impl Handler for RunnerApart {
    fn decide<'a>(&'a self, request: &'a Outbound) -> BoxFuture<'a, Reply> {
        if request.client == RUNNER {
            return Forward.decide(request);
        }
        self.workers.decide(request)
    }

    fn completed(&self, exchange: Completed) {
        if exchange.request.client != RUNNER {
            self.workers.completed(exchange);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::proxy::{Canned, Served};

    /// A stand-in for the recording: answers `599` and keeps whom it heard of.
    #[derive(Default)]
    struct Tape(Mutex<Vec<String>>);

    impl Handler for Tape {
        fn decide<'a>(&'a self, _request: &'a Outbound) -> BoxFuture<'a, Reply> {
            Box::pin(async {
                Reply::Respond(Canned {
                    status: 599,
                    headers: Vec::new(),
                    body: Vec::new(),
                })
            })
        }

        fn completed(&self, exchange: Completed) {
            self.0.lock().unwrap().push(exchange.request.client);
        }
    }

    fn request(client: &str) -> Outbound {
        Outbound {
            client: client.to_owned(),
            method: "GET".to_owned(),
            url: "http://127.0.0.1:5001/".to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    #[tokio::test]
    async fn the_runners_calls_are_forwarded_and_never_reach_the_recording() {
        let tape = Arc::new(Tape::default());
        let apart = RunnerApart {
            workers: Arc::clone(&tape) as Arc<dyn Handler>,
        };
        let runner = request(RUNNER);
        let worker = request("worker1");
        assert_eq!(
            apart.decide(&runner).await,
            Reply::Forward(Shape::default())
        );
        assert!(matches!(apart.decide(&worker).await, Reply::Respond(_)));
        for request in [runner, worker] {
            apart.completed(Completed {
                request,
                served: Served::Forwarded,
                response: None,
                error: None,
                duration: Duration::ZERO,
            });
        }
        assert_eq!(*tape.0.lock().unwrap(), ["worker1"]);
    }
}
