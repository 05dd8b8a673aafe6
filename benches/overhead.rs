//! Overhead: trivial jobs, and trivial jobs with one `yield_now().await`, run
//! through every peer. Each iteration handles `FAILFAST_BENCH_ITEMS` items
//! (100,000 by default); throughput is set in elements, so criterion reports
//! the time per item.
//!
//! For profilers, `FAILFAST_BENCH_PROFILE=<group>/<peer>` (e.g.
//! `overhead-yield/failfast-inline`) skips criterion and runs that benchmark
//! `FAILFAST_BENCH_PROFILE_ITERS` times (default 20), so a profile covers a
//! known number of items; `scripts/profile.sh` uses it.

mod common;

use std::time::{Duration, Instant};

use common::{Env, PEERS, Peer, QUEUE, trivial, yielding};
use criterion::{Criterion, Throughput, criterion_group};
use futures::stream;

const GROUPS: [&str; 2] = ["overhead-trivial", "overhead-yield"];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn items() -> u64 {
    env_number("FAILFAST_BENCH_ITEMS", 100_000)
}

/// One iteration: `n` items of the group's job through `peer`.
fn run_once(env: &Env, group: &str, peer: Peer, n: u64) {
    let source = stream::iter(0..n);
    let outcome = match group {
        "overhead-trivial" => peer.run(env, QUEUE, source, trivial),
        _ => peer.run(env, QUEUE, source, yielding),
    };
    outcome.expect_all(n as usize);
}

fn overhead(c: &mut Criterion) {
    let env = Env::new();
    let n = items();
    for name in GROUPS {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(n));
        for peer in PEERS {
            group.bench_function(peer.id(), |b| b.iter(|| run_once(&env, name, peer, n)));
        }
        group.finish();
    }
}

/// The profiling mode: runs one benchmark a fixed number of times.
fn profile(id: &str) {
    let (group, peer) = id.split_once('/').expect("<group>/<peer>");
    assert!(GROUPS.contains(&group), "unknown group {group}");
    let peer = PEERS
        .into_iter()
        .find(|p| p.id() == peer)
        .unwrap_or_else(|| panic!("unknown peer {peer}"));
    let (n, iterations) = (items(), env_number("FAILFAST_BENCH_PROFILE_ITERS", 20));
    let env = Env::new();
    run_once(&env, group, peer, n); // warm up
    let start = Instant::now();
    for _ in 0..iterations {
        run_once(&env, group, peer, n);
    }
    let elapsed = start.elapsed();
    let total = n * iterations;
    println!(
        "{id}: {total} items in {elapsed:?}, {:.0} ns per item",
        elapsed.as_nanos() as f64 / total as f64
    );
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = overhead
}

fn main() {
    if let Ok(id) = std::env::var("FAILFAST_BENCH_PROFILE") {
        profile(&id);
        return;
    }
    // What `criterion_main!` expands to.
    benches();
    Criterion::default().configure_from_args().final_summary();
}
