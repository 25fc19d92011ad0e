//! The proxy the harness runs for the workers' calls to the outside world:
//! each worker gets a listener of its own (so every request names its
//! sender), plain HTTP is forwarded and HTTPS is intercepted per host with
//! certificates of the suite's own CA; a [`Handler`] decides what each
//! request gets (recording and replay, faults).

mod handler;

pub(crate) use self::handler::{
    Canned, Chunk, Completed, Handler, Outbound, Reply, Seen, Served, Shape,
};
