//! CPU-bound jobs: 20,000 jobs that each burn about 20 µs of CPU (a
//! deterministic loop, calibrated at start-up), through every peer and through
//! a plain sequential loop. The speedup of a peer is the sequential loop's
//! time over the peer's. Every multi-threaded design also runs with the run's
//! own future driven from the main thread (`block_on`, as `smol::block_on` or
//! `#[tokio::main]` code does), its workers spawned: the `-main-thread` ids.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{Config, Env, QUEUE, burn, calibrate, results_dir};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use futures::stream;

const JOBS: u64 = 20_000;
const JOB_TIME: Duration = Duration::from_micros(20);

fn cpu(c: &mut Criterion) {
    let env = Env::new();
    let rounds = calibrate(JOB_TIME);
    println!("cpu: {JOBS} jobs of {rounds} rounds (about {JOB_TIME:?} each)");
    std::fs::write(
        results_dir().join("cpu.json"),
        format!(
            "{{\"jobs\": {JOBS}, \"rounds\": {rounds}, \"target_ns\": {}}}\n",
            JOB_TIME.as_nanos()
        ),
    )
    .expect("write cpu.json");

    let mut group = c.benchmark_group("cpu");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(JOBS));
    group.bench_function("sequential", |b| {
        b.iter(|| {
            for x in 0..JOBS {
                black_box(burn(x, rounds));
            }
        });
    });
    for config in Config::all() {
        group.bench_function(config.id(), |b| {
            b.iter(|| {
                let outcome = config.run(&env, QUEUE, stream::iter(0..JOBS), move |x| async move {
                    Ok(burn(x, rounds))
                });
                outcome.expect_all(JOBS as usize);
            });
        });
    }
    group.finish();
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
criterion_main!(benches);
