//! Signatures per second for a typical Koii task payload.
//!
//! Times, each as the median of several timed batches:
//! `canonical_json` alone, raw ed25519 signing of the same canonical bytes
//! (the floor), `create_signature` (canonical JSON + signing + base58) and
//! `verify_signature`; then prints `create_signature` against raw signing.
//! When `python3` with `PyNaCl` and `base58` is installed, it also times the
//! Python original's `create_signature` on the same payload and key, and
//! checks that it produces the same signature.
//!
//! Run: `cargo bench -p prometheus-test --bench signing`

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use ed25519_dalek::Signer as _;
use prometheus_test::{Keypair, canonical_json, create_signature, verify_signature};
use serde::Serialize;

/// How many timed batches each measurement takes the median of.
const BATCHES: usize = 15;
/// Roughly how long one batch runs.
const BATCH_TIME: Duration = Duration::from_millis(40);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskPayload {
    task_id: String,
    round_number: u64,
    action: String,
    github_username: String,
    staking_key: String,
    pub_key: String,
    pr_url: String,
}

fn main() {
    let staking = Keypair::from_seed([0x5a; 32]);
    let main_key = Keypair::from_seed([0xa5; 32]);
    let payload = TaskPayload {
        task_id: "BXbYKFdXZhQgEaMFbeShaisQBYG1FD4MiSf9gg4n6mVn".to_owned(),
        round_number: 42,
        action: "audit".to_owned(),
        github_username: "alice-dev".to_owned(),
        staking_key: staking.public_key().to_owned(),
        pub_key: main_key.public_key().to_owned(),
        pr_url: "https://github.com/koii-network/builder-repo/pull/12".to_owned(),
    };
    let canonical = canonical_json(&payload).expect("payload serialises");
    let signed = create_signature(staking.signing_key(), &payload).expect("payload signs");

    println!(
        "signing: typical Koii payload ({} canonical bytes, 7 fields), median of {BATCHES} batches of ~{} ms",
        canonical.len(),
        BATCH_TIME.as_millis()
    );
    let canonical_ns = measure(|| {
        black_box(canonical_json(black_box(&payload)).expect("serialises"));
    });
    report("canonical_json", canonical_ns, None);
    let raw_ns = measure(|| {
        black_box(staking.signing_key().sign(black_box(canonical.as_bytes())));
    });
    report("raw ed25519 sign (same bytes)", raw_ns, None);
    let create_ns = measure(|| {
        black_box(create_signature(staking.signing_key(), black_box(&payload)).expect("signs"));
    });
    report("create_signature", create_ns, Some(raw_ns));
    let verify_ns = measure(|| {
        black_box(verify_signature(black_box(&signed), staking.public_key()).expect("verifies"));
    });
    report("verify_signature", verify_ns, Some(raw_ns));
    println!(
        "  create_signature / raw sign = {:.2}x; canonical_json is {:.1}% of create_signature",
        create_ns / raw_ns,
        100.0 * canonical_ns / create_ns
    );

    match python_create_signature(&staking, &canonical) {
        Ok((python_ns, python_signed)) => {
            report("python create_signature (PyNaCl)", python_ns, Some(raw_ns));
            println!(
                "  python / rust create_signature = {:.2}x; same signature: {}",
                python_ns / create_ns,
                python_signed == signed
            );
            assert_eq!(
                python_signed, signed,
                "the Python original signs this payload differently"
            );
        }
        Err(why) => println!("  python create_signature: skipped ({why})"),
    }
}

/// Median nanoseconds per call of `f` over [`BATCHES`] batches.
fn measure(mut f: impl FnMut()) -> f64 {
    // Calibrate: how many calls fill one batch.
    let start = Instant::now();
    let mut calls: u32 = 0;
    while start.elapsed() < BATCH_TIME / 4 {
        f();
        calls += 1;
    }
    let per_batch = (calls * 4).max(1);
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(per_batch)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[BATCHES / 2]
}

fn report(name: &str, ns_per_op: f64, against_raw_sign: Option<f64>) {
    let ratio = against_raw_sign
        .map(|raw| format!("  ({:.2}x raw sign)", ns_per_op / raw))
        .unwrap_or_default();
    println!(
        "  {name:<34} {:>9.2} µs/op {:>11.0} ops/s{ratio}",
        ns_per_op / 1e3,
        1e9 / ns_per_op
    );
}

/// Times the Python original's `create_signature` (json.dumps + PyNaCl +
/// base58) on the same payload and key; returns ns per call and its output.
fn python_create_signature(keypair: &Keypair, canonical: &str) -> Result<(f64, String), String> {
    const SCRIPT: &str = r"
import json, sys, time
import base58
from nacl.signing import SigningKey

def create_signature(signing_key, payload):
    payload_str = json.dumps(payload, sort_keys=True).encode()
    signed = signing_key.sign(payload_str)
    return base58.b58encode(signed.signature + payload_str).decode()

seed = bytes.fromhex(sys.argv[1])
payload = json.loads(sys.argv[2])
key = SigningKey(seed)
calls = 1
while True:
    start = time.perf_counter()
    for _ in range(calls):
        create_signature(key, payload)
    if time.perf_counter() - start > 0.01:
        break
    calls *= 2
per_batch = calls * 4
samples = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    for _ in range(per_batch):
        create_signature(key, payload)
    samples.append((time.perf_counter() - start) * 1e9 / per_batch)
samples.sort()
print(samples[len(samples) // 2])
print(create_signature(key, payload))
";
    let seed_hex = keypair
        .signing_key()
        .to_bytes()
        .iter()
        .fold(String::new(), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        });
    let output = Command::new("python3")
        .args(["-c", SCRIPT, &seed_hex, canonical, &BATCHES.to_string()])
        .output()
        .map_err(|err| format!("python3 not runnable: {err}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("no output");
        return Err(format!("python3 with PyNaCl and base58 needed: {last}"));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let ns = lines
        .next()
        .and_then(|l| l.trim().parse::<f64>().ok())
        .ok_or("unexpected python output")?;
    let signed = lines.next().ok_or("unexpected python output")?.to_owned();
    Ok((ns, signed))
}
