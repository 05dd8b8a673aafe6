//! CPU-bound jobs on spawned workers: both cores busy.
//!
//! Runs the same jobs with one worker, then with one worker per core, each
//! spawned on a smol executor with as many threads as cores, and prints the
//! elapsed times and the speedup.
//!
//! ```text
//! cargo run --release --example cpu --features smol
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use failfast::{Outputs, Pool};

/// About `rounds` rounds of a 64-bit mixing function: pure CPU work.
fn burn(seed: u64, rounds: u32) -> u64 {
    let mut x = seed;
    for _ in 0..rounds {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
    }
    x
}

fn timed(
    executor: &Arc<smol::Executor<'static>>,
    workers: usize,
    jobs: u64,
    rounds: u32,
) -> Duration {
    let start = Instant::now();
    let pool = Pool::new(workers)
        .queue(64)
        .outputs(Outputs::Discard)
        .spawn_on(Arc::clone(executor));
    let report = smol::block_on(
        pool.run(futures::stream::iter(0..jobs), move |n| async move {
            std::hint::black_box(burn(n, rounds));
            Ok::<(), Infallible>(())
        }),
    )
    .expect("no job fails");
    assert_eq!(report.completed() as u64, jobs);
    start.elapsed()
}

fn main() {
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    let executor = Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::unbounded::<()>();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let executor = Arc::clone(&executor);
            let stopped = stopped.clone();
            thread::spawn(move || smol::block_on(executor.run(stopped.recv())))
        })
        .collect();

    let (jobs, rounds) = (2_000, 1_000_000);
    // Warm up the threads and caches once.
    timed(&executor, cores, 100, rounds);
    let one = timed(&executor, 1, jobs, rounds);
    let many = timed(&executor, cores, jobs, rounds);
    println!("{jobs} jobs of {rounds} rounds on {cores} executor threads");
    println!("  1 worker:  {:>8.3}s", one.as_secs_f64());
    println!("  {cores} workers: {:>8.3}s", many.as_secs_f64());
    println!(
        "  speedup:   {:>8.2}x",
        one.as_secs_f64() / many.as_secs_f64()
    );

    drop(stop);
    for thread in threads {
        thread.join().expect("executor thread").ok();
    }
}
