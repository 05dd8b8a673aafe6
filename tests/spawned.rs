//! What only spawned mode has: `Send` run futures, workers lost by their
//! executor, and a stress test of many small runs on multi-threaded executors.

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures::StreamExt as _;

use common::{check_accounting, check_all_once, mix, watchdog};
use failfast::{Error, Pool, SendError, Task};

fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

/// The run future of every entry point is `Send` when its parts are, in both
/// modes, so it can be spawned on tokio's multi-thread runtime. This test
/// fails to compile if that breaks.
#[test]
fn run_futures_are_send() {
    let handle_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = handle_runtime.handle().clone();
    let handler = |n: u64| async move { Ok::<u64, std::io::Error>(n + 1) };

    let inline = assert_send(Pool::new(2).run(futures::stream::iter(0..10u64), handler));
    let spawned = assert_send(
        Pool::new(2)
            .spawn_on(handle.clone())
            .run(futures::stream::iter(0..10u64), handler),
    );
    let try_run = assert_send(Pool::new(2).spawn_on(handle.clone()).try_run(
        futures::stream::iter((0..10u64).map(Ok::<u64, std::io::Error>)),
        handler,
    ));
    let run_with = assert_send(Pool::new(2).spawn_on(handle.clone()).run_with(
        |tx| async move {
            for n in 0..10u64 {
                tx.send(n).await?;
            }
            Ok::<(), SendError<u64>>(())
        },
        handler,
    ));

    let reports = handle_runtime.block_on(async {
        let inline = tokio::spawn(inline);
        let spawned = tokio::spawn(spawned);
        let try_run = tokio::spawn(try_run);
        let run_with = tokio::spawn(run_with);
        [
            inline.await.unwrap().unwrap().completed(),
            spawned.await.unwrap().unwrap().completed(),
            try_run.await.unwrap().unwrap().completed(),
            run_with.await.unwrap().unwrap().completed(),
        ]
    });
    assert_eq!(reports, [10; 4]);
}

/// The same on smol, whose executor type carries a lifetime
/// (`Arc<smol::Executor<'static>>`): the run future, spawned on the executor
/// its own workers use, is `Send`. This test fails to compile if that breaks.
#[test]
fn run_futures_on_smol_are_send() {
    let executor = common::smol_executor(2);
    let handler = |n: u64| async move { Ok::<u64, std::io::Error>(n + 1) };
    let outputs = Pool::new(2)
        .spawn_on(Arc::clone(&executor))
        .stream(futures::stream::iter(0..10u64), handler);
    let run = assert_send(futures::StreamExt::collect::<Vec<_>>(outputs));
    let outputs = smol::block_on(watchdog("smol", executor.spawn(run)));
    assert_eq!(outputs.len(), 10);
    assert!(outputs.iter().all(Result::is_ok));
}

/// smol's global executor, through the `SmolGlobal` adapter.
#[test]
fn smol_global_executor_runs_a_pool() {
    let report = smol::block_on(watchdog(
        "smol's global executor",
        Pool::new(4).spawn_on(failfast::SmolGlobal).run(
            futures::stream::iter(0..500u64),
            |n| async move {
                smol::future::yield_now().await;
                Ok::<u64, String>(n)
            },
        ),
    ))
    .unwrap();
    check_all_once(&report, 500);
}

/// An executor that drops what it is given: the run aborts with
/// `WorkerLost` instead of hanging, and every item is accounted for.
#[test]
fn workers_dropped_by_their_executor_abort_the_run() {
    let result = futures::executor::block_on(watchdog(
        "a dropping executor",
        Pool::new(3)
            .queue(4)
            .spawn_on(|task: Task| drop(task))
            .run(futures::stream::iter(0..100u32), |n| async move {
                Ok::<u32, String>(n)
            }),
    ));
    let abort = result.unwrap_err();
    assert!(
        matches!(abort.error(), Error::WorkerLost { .. }),
        "{:?}",
        abort.error()
    );
    assert_eq!(abort.error().to_string().split(' ').next(), Some("worker"));
    // The other two workers were lost too, while aborting.
    assert_eq!(abort.other_errors().len(), 2);
    assert_eq!(abort.report().completed(), 0);
    check_accounting(&abort);
}

/// A worker dropped by its executor in the middle of a job: the job counts as
/// cancelled.
#[test]
fn a_job_dropped_with_its_worker_is_cancelled() {
    let polls = Arc::new(AtomicUsize::new(0));
    let executor = {
        let polls = Arc::clone(&polls);
        // Polls each task a few times on its own thread, then drops it.
        move |task: Task| {
            let polls = Arc::clone(&polls);
            std::thread::spawn(move || {
                let mut task = Box::pin(task);
                let waker = futures::task::noop_waker();
                let mut cx = std::task::Context::from_waker(&waker);
                for _ in 0..50 {
                    if task.as_mut().poll(&mut cx).is_ready() {
                        return;
                    }
                    polls.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            });
        }
    };
    let result = smol::block_on(watchdog(
        "an executor that gives up",
        Pool::new(1).queue(2).spawn_on(executor).run(
            futures::stream::iter(0..5u32),
            |n| async move {
                futures::future::pending::<()>().await;
                Ok::<u32, String>(n)
            },
        ),
    ));
    let abort = result.unwrap_err();
    assert!(matches!(abort.error(), Error::WorkerLost { worker: 0 }));
    assert_eq!(abort.cancelled(), &[0]);
    check_accounting(&abort);
    assert!(polls.load(Ordering::SeqCst) > 0);
}

/// How many runs the stress test does in all; `FAILFAST_STRESS_RUNS` raises it.
fn stress_runs() -> usize {
    std::env::var("FAILFAST_STRESS_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// One small random run; checks the books whatever happened.
async fn one_run<X: failfast::Executor>(pool: Pool<failfast::Spawned<X>>, seed: u64) {
    let n = (mix(seed, 0) % 40) as usize;
    let fail_at = mix(seed, 1) % 60;
    let result = pool
        .run(futures::stream::iter(0..n), move |i| async move {
            for _ in 0..mix(seed, i + 2) % 3 {
                futures::future::ready(()).await;
                smol::future::yield_now().await;
            }
            if i as u64 == fail_at {
                Err(format!("item {i} fails"))
            } else {
                Ok(i)
            }
        })
        .await;
    match result {
        Ok(report) => {
            assert!(
                fail_at as usize >= n,
                "seed {seed}: item {fail_at} should have failed"
            );
            check_all_once(&report, n);
        }
        Err(abort) => {
            assert_eq!(abort.error().index(), Some(fail_at as usize), "seed {seed}");
            check_accounting(&abort);
        }
    }
}

/// `runs` small random runs, one after the other, on pools made by `spawn`.
async fn stress_on<X: failfast::Executor>(
    runs: usize,
    spawn: impl Fn(Pool) -> Pool<failfast::Spawned<X>>,
) {
    for seed in 0..runs as u64 {
        let workers = 1 + (mix(seed, 100) % 6) as usize;
        let capacity = 1 + (mix(seed, 101) % 5) as usize;
        one_run(spawn(Pool::new(workers).queue(capacity)), seed).await;
    }
}

/// Many small random runs on the multi-threaded executors, to shake out races.
#[test]
fn stress_many_small_runs() {
    let runs = stress_runs();
    let per_executor = runs.div_ceil(3);
    let start = Instant::now();

    let smol_executor = Arc::new(smol::Executor::<'static>::new());
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let executor = Arc::clone(&smol_executor);
            std::thread::spawn(move || {
                smol::block_on(
                    executor.run(smol::Timer::after(std::time::Duration::from_secs(600))),
                )
            })
        })
        .collect();
    drop(threads); // detached: they serve the executor until the process ends
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let thread_pool = futures::executor::ThreadPool::builder()
        .pool_size(2)
        .create()
        .unwrap();

    smol::block_on(watchdog(
        "stress on smol",
        stress_on(per_executor, |pool| {
            pool.spawn_on(Arc::clone(&smol_executor))
        }),
    ));
    tokio.block_on(watchdog(
        "stress on tokio",
        stress_on(per_executor, |pool| {
            pool.spawn_on(tokio::runtime::Handle::current())
        }),
    ));
    futures::executor::block_on(watchdog(
        "stress on a ThreadPool",
        stress_on(per_executor, |pool| pool.spawn_on(thread_pool.clone())),
    ));
    eprintln!(
        "stress: {} runs in {:.2?}",
        per_executor * 3,
        start.elapsed()
    );
}

/// A run driven from the caller's thread with its workers spawned: the
/// feeder waiting for room is woken once the queue has drained to half its
/// capacity, not after every item, so the caller's thread polls the run
/// about once per half a queue (here at most once per 8 items, where one
/// wake per item would be 10,000 polls).
#[test]
fn the_callers_thread_is_woken_once_per_half_a_queue() {
    let executor = common::smol_executor(2);
    let polls = AtomicUsize::new(0);
    let items = 10_000u64;
    let run = Pool::new(4).queue(64).spawn_on(Arc::clone(&executor)).run(
        futures::stream::iter(0..items),
        |n: u64| async move {
            // A few microseconds of work, so the workers are the bottleneck
            // and the queue fills up.
            let mut x = n;
            for _ in 0..2_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            Ok::<u64, std::io::Error>(x)
        },
    );
    let mut run = std::pin::pin!(run);
    let counted = std::future::poll_fn(|cx| {
        polls.fetch_add(1, Ordering::Relaxed);
        run.as_mut().poll(cx)
    });
    let report = futures::executor::block_on(watchdog("smol, caller's thread", counted)).unwrap();
    assert_eq!(report.completed() as u64, items);
    let polls = polls.load(Ordering::Relaxed) as u64;
    assert!(
        polls <= items / 8,
        "the run was polled {polls} times for {items} items"
    );
}

/// With workers on other threads freeing places as fast as the stream
/// feeder fills them, one poll of the run's future does not feed on and on:
/// after every queue's worth of items, the run's task goes round (and obeys
/// a close there). The source counts the items it yields within each poll
/// of the run; none may hold more than a queue's worth.
#[test]
fn one_poll_of_the_run_feeds_at_most_a_queues_worth() {
    let executor = futures::executor::ThreadPool::builder()
        .pool_size(4)
        .create()
        .unwrap();
    let queue = 4;
    let items = 200_000u64;
    let in_this_poll = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let source = {
        let (in_this_poll, most) = (Arc::clone(&in_this_poll), Arc::clone(&most));
        futures::stream::iter(0..items).inspect(move |_| {
            let pulled = in_this_poll.fetch_add(1, Ordering::Relaxed) + 1;
            most.fetch_max(pulled, Ordering::Relaxed);
        })
    };
    let run = Pool::new(4)
        .queue(queue)
        .spawn_on(move |task| executor.spawn_ok(task))
        .run(source, |n: u64| async move { Ok::<u64, std::io::Error>(n) });
    let mut run = std::pin::pin!(run);
    let counted = std::future::poll_fn(|cx| {
        in_this_poll.store(0, Ordering::Relaxed);
        run.as_mut().poll(cx)
    });
    let report =
        futures::executor::block_on(watchdog("ThreadPool, caller's thread", counted)).unwrap();
    assert_eq!(report.completed() as u64, items);
    let most = most.load(Ordering::Relaxed);
    assert!(
        most <= queue,
        "one poll of the run pulled {most} items, with a queue of {queue}"
    );
}
