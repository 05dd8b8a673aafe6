//! CPU-bound jobs: 20,000 jobs that each burn about 20 µs of CPU (a
//! deterministic loop, calibrated at start-up), through every peer and through
//! a plain sequential loop. The speedup of a peer is the sequential loop's
//! time over the peer's. Two more configurations: failfast on smol and on
//! tokio with the run's own future driven from the main thread (`block_on`,
//! as `smol::block_on` or `#[tokio::main]` code does), its workers spawned.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use common::{Env, Fail, PEERS, QUEUE, WORKERS, burn, calibrate, results_dir};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use failfast::{Outputs, Pool};
use futures::executor::block_on;
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
    for peer in PEERS {
        group.bench_function(peer.id(), |b| {
            b.iter(|| {
                let outcome = peer.run(&env, QUEUE, stream::iter(0..JOBS), move |x| async move {
                    Ok(burn(x, rounds))
                });
                outcome.expect_all(JOBS as usize);
            });
        });
    }
    // For reference: failfast on smol with the run's own future driven from
    // the main thread (a third busy thread on 2 cores) instead of spawned.
    group.bench_function("failfast-smol-main-thread", |b| {
        b.iter(|| {
            let run = Pool::new(WORKERS)
                .queue(QUEUE)
                .outputs(Outputs::Discard)
                .spawn_on(Arc::clone(&env.smol.executor))
                .run(stream::iter(0..JOBS), move |x| async move {
                    Ok::<u64, Fail>(burn(x, rounds))
                });
            let report = block_on(run).expect("no job fails");
            assert_eq!(report.completed() as u64, JOBS);
        });
    });
    // The same on tokio: the run's future driven by `Runtime::block_on` on
    // the main thread (as in `#[tokio::main]`), its workers spawned.
    group.bench_function("failfast-tokio-main-thread", |b| {
        b.iter(|| {
            let run = Pool::new(WORKERS)
                .queue(QUEUE)
                .outputs(Outputs::Discard)
                .spawn_on(env.tokio.handle().clone())
                .run(stream::iter(0..JOBS), move |x| async move {
                    Ok::<u64, Fail>(burn(x, rounds))
                });
            let report = env.tokio.block_on(run).expect("no job fails");
            assert_eq!(report.completed() as u64, JOBS);
        });
    });
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
