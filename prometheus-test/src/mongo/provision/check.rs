//! Checks that a provisioned mongod runs, and names the shared libraries it
//! misses (with the Debian packages that provide the common ones).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use tokio::process::Command;

/// How long `mongod --version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `binary --version` and returns its first line.
pub(crate) async fn check_runs(binary: &Path) -> anyhow::Result<String> {
    let shown = binary.display();
    let output = tokio::time::timeout(
        VERSION_TIMEOUT,
        Command::new(binary)
            .arg("--version")
            .kill_on_drop(true)
            .output(),
    )
    .await;
    let output = match output {
        Err(_) => bail!(
            "{shown} --version did not finish within {} s",
            VERSION_TIMEOUT.as_secs()
        ),
        Ok(Err(error)) => bail!("cannot run {shown}: {error}"),
        Ok(Ok(output)) => output,
    };
    if output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        return Ok(stdout.lines().next().unwrap_or_default().to_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut missing = missing_libraries(binary).await;
    if missing.is_empty() {
        missing.extend(loader_complaint(&stderr));
    }
    if missing.is_empty() {
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "{shown} does not run (`--version` exited with {}): {}",
            output.status,
            tail.join("\n")
        );
    }
    bail!("{shown} cannot run: {}", missing_advice(&missing))
}

/// What to install for `missing` libraries.
pub(crate) fn missing_advice(missing: &[String]) -> String {
    let packages: Vec<&str> = missing
        .iter()
        .filter_map(|lib| debian_package(lib))
        .collect();
    let unknown: Vec<&str> = missing
        .iter()
        .filter(|lib| debian_package(lib).is_none())
        .map(String::as_str)
        .collect();
    let mut advice = format!("shared libraries are missing: {}", missing.join(", "));
    if !packages.is_empty() {
        let _ = write!(
            advice,
            "; on Debian or Ubuntu install them with `apt-get install {}`",
            packages.join(" ")
        );
    }
    if !unknown.is_empty() {
        let _ = write!(
            advice,
            "; install the packages that provide {} with your system's package manager",
            unknown.join(", ")
        );
    }
    advice.push_str(", or set PROMETHEUS_TEST_MONGOD to a mongod built for this system");
    advice
}

/// The libraries `ldd` reports as not found (none when `ldd` is missing).
async fn missing_libraries(binary: &Path) -> Vec<String> {
    let Ok(output) = Command::new("ldd").arg(binary).output().await else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("not found"))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// The library the dynamic loader names in "error while loading shared libraries: X: …".
fn loader_complaint(stderr: &str) -> Option<String> {
    let rest = stderr
        .split("error while loading shared libraries: ")
        .nth(1)?;
    Some(rest.split(':').next()?.trim().to_owned())
}

/// The Debian package providing `library`, for those a mongod build commonly misses.
fn debian_package(library: &str) -> Option<&'static str> {
    Some(match library {
        "libcurl.so.4" => "libcurl4",
        "libssl.so.3" | "libcrypto.so.3" => "libssl3",
        "libssl.so.1.1" | "libcrypto.so.1.1" => "libssl1.1",
        "liblzma.so.5" => "liblzma5",
        "libz.so.1" => "zlib1g",
        lib if lib.starts_with("libsnappy.so.1") => "libsnappy1v5",
        lib if lib.starts_with("libyaml-cpp.so") => "libyaml-cpp0.7",
        lib if lib.starts_with("libstemmer.so") => "libstemmer0d",
        _ => return None,
    })
}
