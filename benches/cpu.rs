//! CPU-bound jobs: 20,000 jobs that each burn about 20 µs of CPU (a
//! deterministic loop, calibrated at start-up), through every peer and through
//! a plain sequential loop. The speedup of a peer is the sequential loop's
//! time over the peer's. Every multi-threaded design also runs with the run's
//! own future driven from the main thread (`block_on`, as `smol::block_on` or
//! `#[tokio::main]` code does), its workers spawned: the `-main-thread` ids.
//! Three modes:
//!
//! - `cargo bench --bench cpu`: criterion, 10 samples of every configuration
//!   in this one process (and HTML reports).
//! - `cargo bench --bench cpu -- --processes` (what `scripts/bench.sh` runs):
//!   calibrates once, then runs the sequential loop and every configuration
//!   in `FAILFAST_BENCH_PROCESSES` separate child processes each (default 5),
//!   taken in turn (one process of each configuration, then the next round),
//!   every child burning the same rounds per job. Each child runs the child
//!   mode below; the per-process figures go to `target/failfast-bench/cpu.json`.
//!   One process of a multi-threaded design can settle in a slow or a fast
//!   state for its whole life (where its threads land), and the machine's
//!   speed drifts between processes, so a figure is only trustworthy as a
//!   median over processes.
//! - `FAILFAST_BENCH_CPU_CONFIG=<config>` (`sequential` or a configuration
//!   id, e.g. `failfast-smol-main-thread`): one warm-up run, then
//!   `FAILFAST_BENCH_CPU_RUNS` timed runs (default 3); prints each run's time
//!   and their median (also as `ns_per_run=<ns>`, for the processes mode).
//!   The rounds per job come from `FAILFAST_BENCH_CPU_ROUNDS`, or are
//!   calibrated when it is not set.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{
    Child, Config, Env, QUEUE, burn, calibrate, env_number, median, results_dir, run_processes,
};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group};
use futures::stream;

const JOBS: u64 = 20_000;
const JOB_TIME: Duration = Duration::from_micros(20);
const SEQUENTIAL: &str = "sequential";

/// The jobs through a plain loop.
fn sequential(rounds: u32) {
    for x in 0..JOBS {
        black_box(burn(x, rounds));
    }
}

/// The jobs through `config`.
fn run_config(env: &Env, config: Config, rounds: u32) {
    let outcome = config.run(env, QUEUE, stream::iter(0..JOBS), move |x| async move {
        Ok(burn(x, rounds))
    });
    outcome.expect_all(JOBS as usize);
}

fn cpu(c: &mut Criterion) {
    let env = Env::new();
    let rounds = calibrate(JOB_TIME);
    println!("cpu: {JOBS} jobs of {rounds} rounds (about {JOB_TIME:?} each)");

    let mut group = c.benchmark_group("cpu");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(JOBS));
    group.bench_function(SEQUENTIAL, |b| b.iter(|| sequential(rounds)));
    for config in Config::all() {
        group.bench_function(config.id(), |b| {
            b.iter(|| run_config(&env, config, rounds));
        });
    }
    group.finish();
}

/// The child mode: one warm-up run of `id`, then the timed runs; prints
/// their median as `ns_per_run=<ns>`.
fn child(id: &str) {
    let runs = env_number("FAILFAST_BENCH_CPU_RUNS", 3).max(1);
    let rounds = match std::env::var("FAILFAST_BENCH_CPU_ROUNDS") {
        Ok(rounds) => rounds.parse().expect("FAILFAST_BENCH_CPU_ROUNDS: a count"),
        Err(_) => calibrate(JOB_TIME),
    };
    let mut once: Box<dyn FnMut()> = if id == SEQUENTIAL {
        Box::new(move || sequential(rounds))
    } else {
        let config = Config::from_id(id).unwrap_or_else(|| panic!("unknown config {id}"));
        let env = Env::new();
        Box::new(move || run_config(&env, config, rounds))
    };
    once(); // warm up
    let times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            once();
            start.elapsed().as_nanos() as f64
        })
        .collect();
    let shown: Vec<String> = times.iter().map(|t| format!("{:.1}", t / 1e6)).collect();
    let median = median(&times);
    println!(
        "{id}: {JOBS} jobs of {rounds} rounds, runs of {} ms, median {:.1} ms",
        shown.join(", "),
        median / 1e6
    );
    println!("ns_per_run={median:.0}");
}

/// The processes mode: the sequential loop and every configuration, each in
/// `FAILFAST_BENCH_PROCESSES` child processes running the child mode with
/// the rounds calibrated here.
fn processes() {
    let processes = env_number("FAILFAST_BENCH_PROCESSES", 5).max(1);
    let runs = env_number("FAILFAST_BENCH_CPU_RUNS", 3).max(1);
    let rounds = calibrate(JOB_TIME);
    let ids: Vec<String> = std::iter::once(SEQUENTIAL.to_owned())
        .chain(Config::all().into_iter().map(Config::id))
        .collect();
    println!(
        "cpu: {JOBS} jobs of {rounds} rounds (about {JOB_TIME:?} each), {} configurations, \
         {processes} processes each, 1 warm-up and {runs} timed runs per process",
        ids.len()
    );
    let children: Vec<Child> = ids
        .iter()
        .map(|id| Child {
            name: format!("cpu/{id}"),
            env: vec![
                ("FAILFAST_BENCH_CPU_CONFIG", id.clone()),
                ("FAILFAST_BENCH_CPU_ROUNDS", rounds.to_string()),
                ("FAILFAST_BENCH_CPU_RUNS", runs.to_string()),
            ],
        })
        .collect();
    let figures = run_processes(&children, processes, "ns_per_run");
    let base = median(&figures[0]);
    let mut json = Vec::new();
    for (id, figures) in ids.iter().zip(&figures) {
        let (min, max) = figures
            .iter()
            .fold((f64::INFINITY, 0.0_f64), |(lo, hi), &f| {
                (lo.min(f), hi.max(f))
            });
        let mid = median(figures);
        println!(
            "{:<40} median {:>6.1} ms per run  ({:.1} to {:.1}), speedup {:.2}x",
            format!("cpu/{id}"),
            mid / 1e6,
            min / 1e6,
            max / 1e6,
            base / mid
        );
        let list: Vec<String> = figures.iter().map(|f| format!("{f:.0}")).collect();
        json.push(format!(
            "    {{\"config\": \"{id}\", \"ns_per_run\": [{}]}}",
            list.join(", ")
        ));
    }
    let path = results_dir().join("cpu.json");
    std::fs::write(
        &path,
        format!(
            "{{\n  \"jobs\": {JOBS},\n  \"rounds\": {rounds},\n  \"target_ns\": {},\n  \
             \"runs\": {runs},\n  \"configs\": [\n{}\n  ]\n}}\n",
            JOB_TIME.as_nanos(),
            json.join(",\n")
        ),
    )
    .expect("write cpu.json");
    println!("wrote {}", path.display());
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
}

criterion_group! {
    name = benches;
    config = config();
    targets = cpu
}

fn main() {
    common::bench_main("FAILFAST_BENCH_CPU_CONFIG", child, processes, || {
        // What `criterion_main!` expands to.
        benches();
        Criterion::default().configure_from_args().final_summary();
    });
}
