// `Exit` may gain variants: a match on it outside the crate needs a `_` arm.
use prometheus_test::Exit;

fn describe(exit: Exit) -> &'static str {
    match exit {
        Exit::Passed => "passed",
        Exit::SetupFailed => "could not start",
        Exit::Failed => "failed",
        Exit::Interrupted => "interrupted",
        Exit::Terminated => "terminated",
    }
}

fn main() {
    let _ = describe(Exit::Passed);
}
