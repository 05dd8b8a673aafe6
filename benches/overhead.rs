//! Overhead: trivial jobs, and trivial jobs with one `yield_now().await`, run
//! through every configuration (each peer, and each multi-threaded peer with
//! its run driven from the main thread). Each iteration handles
//! `FAILFAST_BENCH_ITEMS` items (100,000 by default). Three modes:
//!
//! - `cargo bench --bench overhead`: criterion, with throughput set in
//!   elements, so it reports the time per item (and HTML reports).
//! - `cargo bench --bench overhead -- --processes` (what `scripts/bench.sh`
//!   runs): every configuration in `FAILFAST_BENCH_PROCESSES` separate child
//!   processes (default 5), taken in turn (one process of each configuration,
//!   then the next round), each running the profile mode below with
//!   `FAILFAST_BENCH_PROCESS_ITERS` iterations (default 10); writes each
//!   process's ns per item to `target/failfast-bench/overhead.json`. One
//!   process of a multi-threaded design can settle in a slow or a fast state
//!   for its whole life (where its threads land), so a figure is only
//!   trustworthy as a median over processes.
//! - `FAILFAST_BENCH_PROFILE=<group>/<config>` (e.g.
//!   `overhead-yield/failfast-inline`), for profilers: skips criterion and
//!   runs that benchmark once to warm up, then `FAILFAST_BENCH_PROFILE_ITERS`
//!   times (default 20), so a profile covers a known number of items, and
//!   prints the time per item; `scripts/profile.sh` and the callgrind step
//!   of `scripts/bench.sh` use it.
//!
//! In the profile mode, configuration ids `failfast-inline+control`,
//! `failfast-inline+in-flight` and `failfast-inline+wrap` are the inline run
//! with a `Control` attached (so its workers keep the in-flight slots), with
//! that control asked once before the run (so every job also reads the
//! clock), and with an identity job wrapper: what these options cost per
//! item, against `failfast-inline`.

mod common;

use std::time::{Duration, Instant};

use common::{
    Child, Config, Env, Fail, QUEUE, WORKERS, env_number, median, results_dir, run_processes,
    trivial, yielding,
};
use criterion::{Criterion, Throughput, criterion_group};
use failfast::{Control, Outputs, Pool};
use futures::executor::block_on;
use futures::stream;

const GROUPS: [&str; 2] = ["overhead-trivial", "overhead-yield"];

fn items() -> u64 {
    env_number("FAILFAST_BENCH_ITEMS", 100_000)
}

/// One iteration: `n` items of the group's job through `config`.
fn run_once(env: &Env, group: &str, config: Config, n: u64) {
    let source = stream::iter(0..n);
    let outcome = match group {
        "overhead-trivial" => config.run(env, QUEUE, source, trivial),
        _ => config.run(env, QUEUE, source, yielding),
    };
    outcome.expect_all(n as usize);
}

fn overhead(c: &mut Criterion) {
    let env = Env::new();
    let n = items();
    for name in GROUPS {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(n));
        for config in Config::all() {
            group.bench_function(config.id(), |b| {
                b.iter(|| run_once(&env, name, config, n));
            });
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

/// The profiling mode: runs one benchmark once to warm up, then a fixed
/// number of times, and prints the time per item (also as
/// `ns_per_item=<ns>`, for the processes mode).
fn profile(id: &str) {
    let (group, peer) = id.split_once('/').expect("<group>/<config>");
    assert!(GROUPS.contains(&group), "unknown group {group}");
    let (n, iterations) = (items(), env_number("FAILFAST_BENCH_PROFILE_ITERS", 20));
    let env = Env::new();
    let mut once: Box<dyn FnMut()> = if run_variant(group, peer, n) {
        Box::new(|| assert!(run_variant(group, peer, n)))
    } else {
        let config = Config::from_id(peer).unwrap_or_else(|| panic!("unknown config {peer}"));
        run_once(&env, group, config, n); // warm up
        Box::new(move || run_once(&env, group, config, n))
    };
    let start = Instant::now();
    for _ in 0..iterations {
        once();
    }
    let elapsed = start.elapsed();
    let total = n * iterations;
    let per_item = elapsed.as_nanos() as f64 / total as f64;
    println!("{id}: {total} items in {elapsed:?}, {per_item:.0} ns per item");
    println!("ns_per_item={per_item:.3}");
}

/// The processes mode: every configuration of every group, each in
/// `FAILFAST_BENCH_PROCESSES` child processes running the profile mode.
fn processes() {
    let rounds = env_number("FAILFAST_BENCH_PROCESSES", 5).max(1);
    let iterations = env_number("FAILFAST_BENCH_PROCESS_ITERS", 10).max(1);
    let n = items();
    let runs: Vec<(&str, String)> = GROUPS
        .into_iter()
        .flat_map(|group| Config::all().into_iter().map(move |c| (group, c.id())))
        .collect();
    println!(
        "overhead: {} configurations, {rounds} processes each, {iterations} iterations of {n} items per process",
        runs.len()
    );
    let children: Vec<Child> = runs
        .iter()
        .map(|(group, id)| Child {
            name: format!("{group}/{id}"),
            env: vec![
                ("FAILFAST_BENCH_PROFILE", format!("{group}/{id}")),
                ("FAILFAST_BENCH_PROFILE_ITERS", iterations.to_string()),
                ("FAILFAST_BENCH_ITEMS", n.to_string()),
            ],
        })
        .collect();
    let figures = run_processes(&children, rounds, "ns_per_item");
    let mut json = Vec::new();
    for ((group, id), figures) in runs.iter().zip(&figures) {
        let (min, max) = figures
            .iter()
            .fold((f64::INFINITY, 0.0_f64), |(lo, hi), &f| {
                (lo.min(f), hi.max(f))
            });
        println!(
            "{:<46} median {:>6.0} ns per item  ({min:.0} to {max:.0})",
            format!("{group}/{id}"),
            median(figures)
        );
        let list: Vec<String> = figures.iter().map(|f| format!("{f:.3}")).collect();
        json.push(format!(
            "  {{\"group\": \"{group}\", \"config\": \"{id}\", \"items\": {n}, \"iterations\": {iterations}, \"ns_per_item\": [{}]}}",
            list.join(", ")
        ));
    }
    let path = results_dir().join("overhead.json");
    std::fs::write(&path, format!("[\n{}\n]\n", json.join(",\n"))).expect("write overhead.json");
    println!("wrote {}", path.display());
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
    common::bench_main("FAILFAST_BENCH_PROFILE", profile, processes, || {
        // What `criterion_main!` expands to.
        benches();
        Criterion::default().configure_from_args().final_summary();
    });
}
