//! The motivating scenario, fixed.
//!
//! A producer sends 30 requests into a queue of 19 served by 3 workers; every
//! request above 10 fails, and each job takes 500 ms. Written by hand with a
//! channel and spawned workers, the workers die on their first failure, the
//! queue fills up and the producer waits forever. Here the first failure stops
//! the run: jobs in flight are cancelled, queued requests are handed back,
//! and the program ends in about the time of the jobs it really ran.
//!
//! `SEED_SLEEP_MS` sets the job time in milliseconds (default 500).
//!
//! ```text
//! cargo run --example seed
//! SEED_SLEEP_MS=20 cargo run --example seed
//! ```

use std::convert::Infallible;
use std::time::{Duration, Instant};

use failfast::{Job, Pool};
use smol::Timer;

/// The error of a failing request.
#[derive(Debug, thiserror::Error)]
#[error("request {0} broke")]
struct RequestError(u32);

const WORKERS: usize = 3;
const QUEUE: usize = 19;
const REQUESTS: u32 = 30;

fn main() {
    let sleep = std::env::var("SEED_SLEEP_MS")
        .ok()
        .map(|ms| {
            ms.parse()
                .expect("SEED_SLEEP_MS must be a number of milliseconds")
        })
        .map_or(Duration::from_millis(500), Duration::from_millis);
    let start = Instant::now();
    let stamp = move || format!("{:>6.3}s", start.elapsed().as_secs_f64());

    println!(
        "{WORKERS} workers, a queue of {QUEUE}, {REQUESTS} requests, \
         every request above 10 fails, {} ms per job",
        sleep.as_millis()
    );
    let pool = Pool::new(WORKERS).queue(QUEUE).on_progress(move |p| {
        println!(
            "{}     progress: {:>2} entered, {:>2} queued, {} in flight, {:>2} done, {} failed, {} cancelled",
            stamp(),
            p.entered,
            p.queued,
            p.in_flight,
            p.completed,
            p.failed,
            p.cancelled
        );
    });
    let result = smol::block_on(pool.run_with(
        |tx| async move {
            for request in 0..REQUESTS {
                println!(
                    "{} producer: sending request {request:>2} (queue length {:>2})",
                    stamp(),
                    tx.len()
                );
                if let Err(refused) = tx.send(request).await {
                    println!(
                        "{} producer: the pool has stopped; request {} handed back",
                        stamp(),
                        refused.into_inner()
                    );
                    break;
                }
            }
            Ok::<(), Infallible>(())
        },
        |request| async move {
            let worker = Job::current().map_or(0, |job| job.worker());
            println!("{}   worker {worker}: took request {request:>2}", stamp());
            Timer::after(sleep).await;
            if request > 10 {
                println!("{}   worker {worker}: request {request:>2} failed", stamp());
                return Err(RequestError(request));
            }
            println!("{}   worker {worker}: request {request:>2} done", stamp());
            Ok(request)
        },
    ));

    match result {
        Ok(report) => println!("all {} requests done", report.completed()),
        Err(abort) => {
            let mut done: Vec<usize> = abort.report().outputs().iter().map(|(i, _)| *i).collect();
            done.sort_unstable();
            let handed_back: Vec<usize> = abort.unprocessed().iter().map(|(i, _)| *i).collect();
            println!("run aborted: {abort}");
            println!("  done:                    {done:?}");
            println!("  cancelled in flight:     {:?}", abort.cancelled());
            println!("  handed back unprocessed: {handed_back:?}");
            for error in abort.other_errors() {
                println!("  also failed meanwhile:   {error}");
            }
        }
    }
    println!("elapsed: {:.3}s", start.elapsed().as_secs_f64());
}
