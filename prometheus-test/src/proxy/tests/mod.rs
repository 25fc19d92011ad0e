//! Tests of the proxy against fake upstreams on loopback.

mod answers;
mod ca;
mod clients;
mod forwarding;
mod support;
