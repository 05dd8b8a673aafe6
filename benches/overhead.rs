//! Overhead: trivial jobs, and trivial jobs with one `yield_now().await`, run
//! through every peer. Each iteration handles `FAILFAST_BENCH_ITEMS` items
//! (100,000 by default); throughput is set in elements, so criterion reports
//! the time per item.
//!
//! For profilers, `FAILFAST_BENCH_PROFILE=<group>/<peer>` (e.g.
//! `overhead-yield/failfast-inline`) skips criterion and runs that benchmark
//! `FAILFAST_BENCH_PROFILE_ITERS` times (default 20), so a profile covers a
//! known number of items; `scripts/profile.sh` uses it. There, peer ids
//! `failfast-inline+control`, `failfast-inline+in-flight` and
//! `failfast-inline+wrap` are the inline run with a `Control` attached (so
//! its workers keep the in-flight slots), with that control asked once
//! before the run (so every job also reads the clock), and with an identity
//! job wrapper: what these options cost per item, against `failfast-inline`.

mod common;

use std::time::{Duration, Instant};

use common::{Env, Fail, PEERS, Peer, QUEUE, WORKERS, trivial, yielding};
use criterion::{Criterion, Throughput, criterion_group};
use failfast::{Control, Outputs, Pool};
use futures::executor::block_on;
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

/// One iteration of an inline run with one of the pool's options (see the
/// module's docs); `false` if `variant` is not one.
fn run_variant(group: &str, variant: &str, n: u64) -> bool {
    let pool = Pool::new(WORKERS).queue(QUEUE).outputs(Outputs::Discard);
    let handler = |x: u64| async move {
        if group == "overhead-yield" {
            smol::future::yield_now().await;
        }
        Ok::<u64, Fail>(x)
    };
    let source = stream::iter(0..n);
    let report = match variant {
        "failfast-inline+control" => block_on(pool.control(&Control::new()).run(source, handler)),
        "failfast-inline+in-flight" => {
            let control = Control::new();
            assert!(control.in_flight().is_empty());
            block_on(pool.control(&control).run(source, handler))
        }
        "failfast-inline+wrap" => block_on(pool.wrap(|_, job| job).run(source, handler)),
        _ => return false,
    };
    assert_eq!(report.expect("nothing fails").completed(), n as usize);
    true
}

/// The profiling mode: runs one benchmark a fixed number of times.
fn profile(id: &str) {
    let (group, peer) = id.split_once('/').expect("<group>/<peer>");
    assert!(GROUPS.contains(&group), "unknown group {group}");
    let (n, iterations) = (items(), env_number("FAILFAST_BENCH_PROFILE_ITERS", 20));
    let env = Env::new();
    let mut once: Box<dyn FnMut()> = if run_variant(group, peer, n) {
        Box::new(|| assert!(run_variant(group, peer, n)))
    } else {
        let peer = PEERS
            .into_iter()
            .find(|p| p.id() == peer)
            .unwrap_or_else(|| panic!("unknown peer {peer}"));
        run_once(&env, group, peer, n); // warm up
        Box::new(move || run_once(&env, group, peer, n))
    };
    let start = Instant::now();
    for _ in 0..iterations {
        once();
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
