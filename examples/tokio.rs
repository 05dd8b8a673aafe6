//! The motivating scenario on tokio's multi-thread runtime, with workers
//! spawned on it, and the run itself spawned as a task (its future is `Send`).
//!
//! ```text
//! cargo run --example tokio --features tokio
//! ```

use std::time::{Duration, Instant};

use failfast::{Job, Pool, SendError};

/// The error of a failing request.
#[derive(Debug, thiserror::Error)]
#[error("request {0} broke")]
struct RequestError(u32);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sleep = Duration::from_millis(
        std::env::var("SEED_SLEEP_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(500),
    );
    let start = Instant::now();
    let pool = Pool::new(3)
        .queue(19)
        .spawn_on(tokio::runtime::Handle::current());
    let run = pool.run_with(
        |tx| async move {
            for request in 0..30u32 {
                tx.send(request).await?;
            }
            Ok::<(), SendError<u32>>(())
        },
        move |request| async move {
            let job = Job::current().expect("inside a handler");
            println!("worker {} took request {request:>2}", job.worker());
            tokio::time::sleep(sleep).await;
            if request > 10 {
                Err(RequestError(request))
            } else {
                Ok(request)
            }
        },
    );
    // The run is a `Send` future: spawn it like any other task.
    let result = tokio::spawn(run).await.expect("the run does not panic");
    match result {
        Ok(report) => println!("all {} requests done", report.completed()),
        Err(abort) => {
            println!("run aborted: {abort}");
            println!("  cancelled in flight:     {:?}", abort.cancelled());
            let back: Vec<usize> = abort.unprocessed().iter().map(|(i, _)| *i).collect();
            println!("  handed back unprocessed: {back:?}");
        }
    }
    println!("elapsed: {:.3}s", start.elapsed().as_secs_f64());
}
