//! The handlers under the fault layer that are not the recording: one that
//! forwards every request as it is, and one that keeps the runner's calls
//! to the workers and the workers' calls to the machine itself away from
//! the recording (they are no outside calls).

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

/// The runner's requests and the workers' calls to the machine itself
/// (to each other, to local services) forwarded; the workers' calls to
/// the outside world given to `outside`.
pub(super) struct LocalApart {
    pub(super) outside: Arc<dyn Handler>,
}

impl Handler for LocalApart {
    fn decide<'a>(&'a self, request: &'a Outbound) -> BoxFuture<'a, Reply> {
        if is_local(request) {
            return Forward.decide(request);
        }
        self.outside.decide(request)
    }

    fn completed(&self, exchange: Completed) {
        if !is_local(&exchange.request) {
            self.outside.completed(exchange);
        }
    }
}

/// Whether `request` stays on the machine: the runner's, or one to a
/// loopback host.
fn is_local(request: &Outbound) -> bool {
    request.client == RUNNER
        || reqwest::Url::parse(&request.url).is_ok_and(|url| {
            url.host_str().is_some_and(|host| {
                host.eq_ignore_ascii_case("localhost")
                    || host
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|address| address.is_loopback())
            })
        })
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

    fn request(client: &str, url: &str) -> Outbound {
        Outbound {
            client: client.to_owned(),
            method: "GET".to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    #[tokio::test]
    async fn the_runners_and_the_local_calls_are_forwarded_and_never_reach_the_recording() {
        let tape = Arc::new(Tape::default());
        let apart = LocalApart {
            outside: Arc::clone(&tape) as Arc<dyn Handler>,
        };
        let local = [
            request(RUNNER, "http://127.0.0.1:5001/"),
            request("worker1", "http://127.0.0.1:5002/audit"),
            request("worker1", "http://LOCALHOST:5002/"),
            request("worker2", "http://[::1]:5001/"),
        ];
        let outside = request("worker1", "https://api.example.com/v1");
        for request in &local {
            assert_eq!(
                apart.decide(request).await,
                Reply::Forward(Shape::default())
            );
        }
        assert!(matches!(apart.decide(&outside).await, Reply::Respond(_)));
        for request in local.into_iter().chain([outside]) {
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
