//! The README's comparison table, cell by cell: what the usual ways of
//! running jobs concurrently do on the first error, with a full queue, with a
//! panic, when the run's future is dropped, and with items not yet started.
//!
//! Each test is named `<row>_<column>`:
//!
//! - rows: `first_error`, `full_queue`, `panic`, `dropped`, `unstarted`;
//! - columns:
//!   - `channel_pool`: a hand-written pool, `async_channel::bounded` plus N
//!     workers spawned with `tokio::spawn` that end on their first error, and
//!     a producer doing `send().await` (see [`channel_pool`]);
//!   - `try_for_each_concurrent`: `futures`' `TryStreamExt`;
//!   - `buffer_unordered`: `futures`' `StreamExt`, with `try_collect`;
//!   - `joinset`: tokio's `JoinSet` with one task per item, each waiting for
//!     one of N `Semaphore` permits, and `abort_all` on the first error (see
//!     [`joinset_run`]);
//!   - `failfast`: this crate, through `PooledExt` where it is the drop-in.
//!
//! Every test asserts what it observes, and every test that could hang runs
//! under the watchdog. The hand-written pool's hang is shown without hanging:
//! its producer's `send` is raced against a short timer.

mod common;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::future::{Future, pending};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{
    DropCounter, IndexSet, Live, LiveCounter, PLANNED, quiet_planned_panics, watchdog, yield_times,
};
use failfast::{Error, Pool, PooledExt as _};
use futures::executor::block_on;
use futures::future::{Either, join_all, select};
use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinHandle, JoinSet};

/// Records which jobs started (in the order they started) and how many of
/// their futures are gone, finished or dropped.
#[derive(Debug, Clone, Default)]
struct Probe {
    started: IndexSet,
    order: Arc<AtomicUsize>,
    gone: DropCounter,
}

impl Probe {
    /// A job for item `n`: the `fail_at`-th job to start (0-based) fails after
    /// a few yields, every other one waits forever (until it is dropped).
    fn job(
        &self,
        n: usize,
        fail_at: usize,
    ) -> impl Future<Output = Result<(), String>> + Send + use<> {
        let probe = self.clone();
        async move {
            let (position, _guard) = probe.start(n);
            if position == fail_at {
                yield_times(3).await;
                return Err(format!("item {n} failed"));
            }
            pending().await
        }
    }

    /// Like [`job`](Probe::job), but the `panic_at`-th job to start panics.
    fn panicking_job(
        &self,
        n: usize,
        panic_at: usize,
    ) -> impl Future<Output = Result<(), String>> + Send + use<> {
        let probe = self.clone();
        async move {
            let (position, _guard) = probe.start(n);
            if position == panic_at {
                yield_times(3).await;
                panic!("{PLANNED}: item {n} panicked");
            }
            pending().await
        }
    }

    fn start(&self, n: usize) -> (usize, common::DropGuard) {
        self.started.insert_once(n);
        (self.order.fetch_add(1, Ordering::SeqCst), self.gone.guard())
    }

    fn started(&self) -> BTreeSet<usize> {
        self.started.snapshot()
    }

    /// How many started jobs' futures have finished or been dropped.
    fn gone(&self) -> usize {
        self.gone.dropped()
    }
}

/// Waits until `condition` holds, checking every millisecond (under any
/// executor: `smol::Timer` has its own driver thread).
async fn eventually(condition: impl Fn() -> bool) {
    while !condition() {
        smol::Timer::after(Duration::from_millis(1)).await;
    }
}

/// The panic message carried by a caught panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a non-string payload")
}

// ---------------------------------------------------------------------------
// The hand-written channel pool.

/// The classic hand-written pool: `workers` tasks spawned with `tokio::spawn`,
/// each taking items from a clone of `rx` until the channel closes or its
/// first error, which ends it. The caller keeps `rx` (and the handles).
fn channel_pool<T, E, F, Fut>(
    workers: usize,
    rx: &async_channel::Receiver<T>,
    handler: F,
) -> Vec<JoinHandle<Result<(), E>>>
where
    T: Send + 'static,
    E: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
{
    (0..workers)
        .map(|_| {
            let rx = rx.clone();
            let handler = handler.clone();
            tokio::spawn(async move {
                while let Ok(item) = rx.recv().await {
                    handler(item).await?;
                }
                Ok(())
            })
        })
        .collect()
}

/// A job that ticks `ticks` every millisecond, forever.
async fn tick_forever(ticks: Arc<AtomicUsize>) -> Result<(), String> {
    loop {
        ticks.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_error_channel_pool() {
    watchdog("tokio", async {
        let handled = IndexSet::new();
        let (tx, rx) = async_channel::bounded(20);
        let workers = channel_pool(3, &rx, {
            let handled = handled.clone();
            move |n: usize| {
                let handled = handled.clone();
                async move {
                    yield_times(2).await;
                    if n == 5 {
                        return Err(format!("item {n} failed"));
                    }
                    handled.insert_once(n);
                    Ok(())
                }
            }
        });
        for n in 0..20 {
            tx.send(n).await.unwrap();
        }
        drop(tx);

        // Nothing stops: the two other workers handle every other item, and
        // the error only shows up in the failed worker's handle.
        let errors: Vec<String> = join_all(workers)
            .await
            .into_iter()
            .filter_map(|joined| joined.expect("no worker panics").err())
            .collect();
        assert_eq!(errors, ["item 5 failed"]);
        assert_eq!(
            handled.snapshot(),
            (0..20).filter(|n| *n != 5).collect::<BTreeSet<_>>()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_channel_pool() {
    watchdog("tokio", async {
        let (tx, rx) = async_channel::bounded(2);
        let workers = channel_pool(2, &rx, |n: usize| async move {
            Err::<(), _>(format!("item {n} failed"))
        });
        tx.send(0).await.unwrap();
        tx.send(1).await.unwrap();
        // Each worker takes one item, fails and ends.
        for worker in workers {
            assert!(worker.await.unwrap().is_err());
        }
        // Nobody takes from the queue any more: it fills up.
        tx.send(2).await.unwrap();
        tx.send(3).await.unwrap();
        assert!(tx.is_full());

        // The producer's next send waits for a worker that will never come:
        // 200 ms after the last worker died, it is still pending. That is the
        // hang; we drop the send instead of waiting forever.
        let send = Box::pin(tx.send(4));
        let timer = smol::Timer::after(Duration::from_millis(200));
        match select(send, timer).await {
            Either::Left((sent, _)) => panic!("the send finished: {sent:?}"),
            Either::Right((_, send)) => drop(send),
        }
        assert!(!tx.is_closed(), "`rx` is alive, so the channel stays open");
        assert_eq!(rx.len(), 2);
    })
    .await;
}

/// The hang needs a receiver left alive: here the caller drops its own `rx`,
/// so the channel closes when the last worker ends and the send fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_channel_pool_without_a_spare_receiver() {
    watchdog("tokio", async {
        let (tx, rx) = async_channel::bounded(2);
        let workers = channel_pool(2, &rx, |n: usize| async move {
            Err::<(), _>(format!("item {n} failed"))
        });
        drop(rx);
        tx.send(0).await.unwrap();
        tx.send(1).await.unwrap();
        for worker in workers {
            assert!(worker.await.unwrap().is_err());
        }
        assert!(tx.is_closed());
        assert_eq!(tx.send(2).await, Err(async_channel::SendError(2)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_channel_pool() {
    quiet_planned_panics();
    watchdog("tokio", async {
        let handled = IndexSet::new();
        let (tx, rx) = async_channel::bounded(10);
        let workers = channel_pool(2, &rx, {
            let handled = handled.clone();
            move |n: usize| {
                let handled = handled.clone();
                async move {
                    yield_times(2).await;
                    if n == 3 {
                        panic!("{PLANNED}: item {n} panicked");
                    }
                    handled.insert_once(n);
                    Ok::<(), String>(())
                }
            }
        });
        for n in 0..10 {
            tx.send(n).await.unwrap();
        }
        drop(tx);

        // The panicking worker's task dies; its handle holds the panic, the
        // other worker handles every other item.
        let mut panicked: Vec<JoinError> = join_all(workers)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect();
        assert_eq!(panicked.len(), 1);
        let panicked = panicked.pop().unwrap();
        assert!(panicked.is_panic());
        assert_eq!(
            panic_message(&*panicked.into_panic()),
            format!("{PLANNED}: item 3 panicked")
        );
        assert_eq!(
            handled.snapshot(),
            (0..10).filter(|n| *n != 3).collect::<BTreeSet<_>>()
        );
    })
    .await;
}

/// The workers are plain `tokio::spawn` tasks: dropping their `JoinHandle`s
/// (with the run's future) detaches them.
#[test]
fn dropped_channel_pool() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let probe = Probe::default();
    let ticks = Arc::new(AtomicUsize::new(0));
    runtime.block_on(watchdog("tokio", async {
        let run = {
            let probe = probe.clone();
            let ticks = Arc::clone(&ticks);
            async move {
                let (tx, rx) = async_channel::bounded(4);
                let _workers = channel_pool(2, &rx, move |n: usize| {
                    let (_, guard) = probe.start(n);
                    let ticks = Arc::clone(&ticks);
                    async move {
                        let _guard = guard;
                        tick_forever(ticks).await
                    }
                });
                for n in 0..4 {
                    tx.send(n).await.unwrap();
                }
                pending::<()>().await;
            }
        };
        let mut run = Box::pin(run);
        select(
            run.as_mut(),
            pin!(eventually(|| probe.started().len() == 2)),
        )
        .await;
        drop(run);

        // The jobs keep running after the run's future is gone.
        let before = ticks.load(Ordering::SeqCst);
        eventually(|| ticks.load(Ordering::SeqCst) >= before + 20).await;
        assert_eq!(probe.gone(), 0);
    }));
    // Only the runtime's shutdown drops them.
    runtime.shutdown_timeout(Duration::from_secs(5));
    assert_eq!(probe.gone(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unstarted_channel_pool() {
    watchdog("tokio", async {
        let counter = LiveCounter::new();
        let (tx, rx) = async_channel::bounded(4);
        let workers = channel_pool(2, &rx, |item: Live| async move {
            Err::<(), _>(format!("item {} failed", item.index()))
        });
        // Items 0 and 1 go to the two workers, which fail and end; 2..=5 fill
        // the queue.
        for n in 0..6 {
            tx.send(Live::new(n, &counter)).await.unwrap();
        }
        for worker in workers {
            assert!(worker.await.unwrap().is_err());
        }
        // They stay there, alive and unhandled, until someone drains the
        // channel by hand.
        assert_eq!(rx.len(), 4);
        assert_eq!(counter.live(), 4);
        let stuck: Vec<usize> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|item| item.index())
            .collect();
        assert_eq!(stuck, [2, 3, 4, 5]);
    })
    .await;
}

// ---------------------------------------------------------------------------
// `try_for_each_concurrent`

#[test]
fn first_error_try_for_each_concurrent() {
    block_on(watchdog("futures", async {
        let probe = Probe::default();
        let result = stream::iter((0..20).map(Ok))
            .try_for_each_concurrent(3, |n| probe.job(n, 2))
            .await;
        // Returned at once, though jobs 0 and 1 would never end: dropped.
        assert_eq!(result, Err("item 2 failed".to_string()));
        assert_eq!(probe.started(), BTreeSet::from([0, 1, 2]));
        assert_eq!(probe.gone(), 3);
    }));
}

#[test]
fn full_queue_try_for_each_concurrent() {
    block_on(watchdog("futures", async {
        let (tx, rx) = async_channel::bounded(2);
        let producer = async move {
            for n in 0..100usize {
                if let Err(refused) = tx.send(n).await {
                    return Some(refused.into_inner());
                }
            }
            None
        };
        let run = rx.map(Ok).try_for_each_concurrent(2, |n| async move {
            yield_times(2).await;
            if n == 3 {
                return Err(format!("item {n} failed"));
            }
            Ok(())
        });
        let (refused, result) = futures::join!(producer, run);
        assert_eq!(result, Err("item 3 failed".to_string()));
        // The run dropped the stream, the last receiver: the channel closed
        // and the producer's send failed with its item.
        let refused = refused.expect("the producer was released");
        assert!(refused > 3, "refused {refused}");
    }));
}

#[test]
fn panic_try_for_each_concurrent() {
    quiet_planned_panics();
    let probe = Probe::default();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        block_on(watchdog(
            "futures",
            stream::iter((0..20).map(Ok)).try_for_each_concurrent(3, |n| probe.panicking_job(n, 2)),
        ))
    }));
    let payload = caught.expect_err("the panic unwinds through the caller");
    assert_eq!(
        panic_message(&*payload),
        format!("{PLANNED}: item 2 panicked")
    );
    assert_eq!(probe.started(), BTreeSet::from([0, 1, 2]));
    assert_eq!(probe.gone(), 3);
}

#[test]
fn dropped_try_for_each_concurrent() {
    block_on(watchdog("futures", async {
        let probe = Probe::default();
        let mut run = Box::pin(
            stream::iter((0..20).map(Ok)).try_for_each_concurrent(3, |n| probe.job(n, usize::MAX)),
        );
        select(
            run.as_mut(),
            pin!(eventually(|| probe.started().len() == 3)),
        )
        .await;
        assert_eq!(probe.gone(), 0);
        drop(run);
        assert_eq!(probe.gone(), 3);
    }));
}

#[test]
fn unstarted_try_for_each_concurrent() {
    block_on(watchdog("futures", async {
        let counter = LiveCounter::new();
        let items: Vec<Live> = (0..20).map(|n| Live::new(n, &counter)).collect();
        let probe = Probe::default();
        let result = stream::iter(items)
            .map(Ok)
            .try_for_each_concurrent(2, |item: Live| {
                let job = probe.job(item.index(), 0);
                async move {
                    let _item = item;
                    job.await
                }
            })
            .await;
        assert_eq!(result, Err("item 0 failed".to_string()));
        assert_eq!(probe.started(), BTreeSet::from([0, 1]));
        // The 18 items never started went with the stream: dropped unhandled,
        // and the error hands none of them back.
        assert_eq!(counter.created(), 20);
        assert_eq!(counter.live(), 0);
    }));
}

/// Passed `&mut stream`, the items it has not pulled stay in the stream.
#[test]
fn unstarted_try_for_each_concurrent_by_ref() {
    block_on(watchdog("futures", async {
        let counter = LiveCounter::new();
        let mut source = stream::iter((0..20).map(|n| Live::new(n, &counter)).collect::<Vec<_>>());
        let probe = Probe::default();
        let result = (&mut source)
            .map(Ok)
            .try_for_each_concurrent(2, |item: Live| {
                let job = probe.job(item.index(), 0);
                async move {
                    let _item = item;
                    job.await
                }
            })
            .await;
        assert_eq!(result, Err("item 0 failed".to_string()));
        let rest: Vec<usize> = source.map(|item| item.index()).collect().await;
        assert_eq!(rest, (2..20).collect::<Vec<_>>());
    }));
}

// ---------------------------------------------------------------------------
// `buffer_unordered`

#[test]
fn first_error_buffer_unordered() {
    block_on(watchdog("futures", async {
        // By itself the stream does not stop at an error: it is one more item.
        let results: Vec<Result<usize, String>> = stream::iter(0..6)
            .map(|n| async move {
                yield_times(n).await;
                if n == 1 {
                    return Err(format!("item {n} failed"));
                }
                Ok(n)
            })
            .buffer_unordered(3)
            .collect()
            .await;
        let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(errors, ["item 1 failed"]);
        assert_eq!(results.len(), 6, "items after the error are still yielded");

        // `try_collect` returns the first error at once and drops the stream,
        // with the jobs in flight.
        let probe = Probe::default();
        let result: Result<Vec<()>, String> = stream::iter(0..20)
            .map(|n| probe.job(n, 2))
            .buffer_unordered(3)
            .try_collect()
            .await;
        assert_eq!(result, Err("item 2 failed".to_string()));
        assert_eq!(probe.started(), BTreeSet::from([0, 1, 2]));
        assert_eq!(probe.gone(), 3);
    }));
}

#[test]
fn full_queue_buffer_unordered() {
    block_on(watchdog("futures", async {
        let (tx, rx) = async_channel::bounded(2);
        let producer = async move {
            for n in 0..100usize {
                if let Err(refused) = tx.send(n).await {
                    return Some(refused.into_inner());
                }
            }
            None
        };
        let run = rx
            .map(|n| async move {
                yield_times(2).await;
                if n == 3 {
                    return Err(format!("item {n} failed"));
                }
                Ok(())
            })
            .buffer_unordered(2)
            .try_collect::<Vec<()>>();
        let (refused, result) = futures::join!(producer, run);
        assert_eq!(result, Err("item 3 failed".to_string()));
        let refused = refused.expect("the producer was released");
        assert!(refused > 3, "refused {refused}");
    }));
}

#[test]
fn panic_buffer_unordered() {
    quiet_planned_panics();
    let probe = Probe::default();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        block_on(watchdog(
            "futures",
            stream::iter(0..20)
                .map(|n| probe.panicking_job(n, 2))
                .buffer_unordered(3)
                .try_collect::<Vec<()>>(),
        ))
    }));
    let payload = caught.expect_err("the panic unwinds through the caller");
    assert_eq!(
        panic_message(&*payload),
        format!("{PLANNED}: item 2 panicked")
    );
    assert_eq!(probe.started(), BTreeSet::from([0, 1, 2]));
    assert_eq!(probe.gone(), 3);
}

#[test]
fn dropped_buffer_unordered() {
    block_on(watchdog("futures", async {
        let probe = Probe::default();
        let mut run = Box::pin(
            stream::iter(0..20)
                .map(|n| probe.job(n, usize::MAX))
                .buffer_unordered(3)
                .try_collect::<Vec<()>>(),
        );
        select(
            run.as_mut(),
            pin!(eventually(|| probe.started().len() == 3)),
        )
        .await;
        assert_eq!(probe.gone(), 0);
        drop(run);
        assert_eq!(probe.gone(), 3);
    }));
}

#[test]
fn unstarted_buffer_unordered() {
    block_on(watchdog("futures", async {
        let counter = LiveCounter::new();
        let items: Vec<Live> = (0..20).map(|n| Live::new(n, &counter)).collect();
        let probe = Probe::default();
        let result: Result<Vec<()>, String> = stream::iter(items)
            .map(|item: Live| {
                let job = probe.job(item.index(), 0);
                async move {
                    let _item = item;
                    job.await
                }
            })
            .buffer_unordered(2)
            .try_collect()
            .await;
        assert_eq!(result, Err("item 0 failed".to_string()));
        assert_eq!(probe.started(), BTreeSet::from([0, 1]));
        assert_eq!(counter.created(), 20);
        assert_eq!(counter.live(), 0);
    }));
}

// ---------------------------------------------------------------------------
// tokio `JoinSet` + `Semaphore`

/// Why [`joinset_run`] stopped.
#[derive(Debug)]
enum Stopped<E> {
    /// A job returned an error.
    Failed(E),
    /// A task panicked (or was cancelled).
    Joined(JoinError),
}

/// The usual tokio pattern: one task per item in a `JoinSet`, each waiting
/// for one of `limit` semaphore permits before it runs its job; the first
/// error or panic seen by `join_next` calls `abort_all` and is returned.
async fn joinset_run<T, E, F, Fut>(
    items: impl IntoIterator<Item = T>,
    limit: usize,
    handler: F,
) -> Result<(), Stopped<E>>
where
    E: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    let semaphore = Arc::new(Semaphore::new(limit));
    let mut set = JoinSet::new();
    for item in items {
        let semaphore = Arc::clone(&semaphore);
        let job = handler(item);
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("never closed");
            job.await
        });
    }
    while let Some(joined) = set.join_next().await {
        let stopped = match joined {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => Stopped::Failed(error),
            Err(error) => Stopped::Joined(error),
        };
        set.abort_all();
        return Err(stopped);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_error_joinset() {
    watchdog("tokio", async {
        let probe = Probe::default();
        // The third job to start fails; the others would run forever.
        let result = joinset_run(0..20, 3, |n| probe.job(n, 2)).await;
        let Err(Stopped::Failed(error)) = result else {
            panic!("expected a job's error, got {result:?}")
        };
        let started = probe.started();
        assert!(started.len() >= 3, "started {started:?}");
        assert!(started.iter().any(|n| error == format!("item {n} failed")));
        // `abort_all` cancels every other task; they are dropped by the
        // runtime, soon after.
        eventually(|| probe.gone() == probe.started().len()).await;
    })
    .await;
}

/// Between a job's error and `abort_all`, a job waiting for a permit can
/// start: the failed job's permit is freed before `join_next` sees its
/// error. On a current-thread runtime this happens every time (the runtime
/// runs the woken task before it polls the caller again); on a multi-thread
/// one, often.
#[tokio::test(flavor = "current_thread")]
async fn first_error_joinset_starts_a_waiting_job() {
    watchdog("tokio", async {
        let probe = Probe::default();
        let result = joinset_run(0..20, 3, |n| probe.job(n, 2)).await;
        let Err(Stopped::Failed(error)) = result else {
            panic!("expected a job's error, got {result:?}")
        };
        assert_eq!(error, "item 2 failed");
        // Only 3 permits, jobs 0 and 1 never end: job 3 could only start
        // with job 2's permit, after job 2 had failed.
        assert_eq!(probe.started(), BTreeSet::from([0, 1, 2, 3]));
        eventually(|| probe.gone() == 4).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_joinset() {
    watchdog("tokio", async {
        let counter = LiveCounter::new();
        let items = (0..100).map(|n| Live::new(n, &counter));
        // Every job fails at once, yet the loop that spawns one task per item
        // never waits: all 100 items are taken and spawned before anyone
        // looks at an error. There is no queue, and no backpressure.
        let result = joinset_run(items, 2, |item: Live| async move {
            Err::<(), _>(format!("item {} failed", item.index()))
        })
        .await;
        assert!(matches!(result, Err(Stopped::Failed(_))), "{result:?}");
        assert_eq!(counter.created(), 100);
        eventually(|| counter.live() == 0).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_joinset() {
    quiet_planned_panics();
    watchdog("tokio", async {
        let probe = Probe::default();
        let result = joinset_run(0..20, 3, |n| probe.panicking_job(n, 2)).await;
        let Err(Stopped::Joined(error)) = result else {
            panic!("expected a JoinError, got {result:?}")
        };
        assert!(error.is_panic());
        let message = panic_message(&*error.into_panic()).to_string();
        let started = probe.started();
        assert!(
            started
                .iter()
                .any(|n| message == format!("{PLANNED}: item {n} panicked")),
            "{message}"
        );
        eventually(|| probe.gone() == probe.started().len()).await;
    })
    .await;
}

/// Dropping a `JoinSet` (here, with the run's future) aborts its tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_joinset() {
    watchdog("tokio", async {
        let probe = Probe::default();
        let counter = LiveCounter::new();
        let items = (0..10).map(|n| Live::new(n, &counter));
        let mut run = Box::pin(joinset_run(items, 3, |item: Live| {
            let job = probe.job(item.index(), usize::MAX);
            async move {
                let _item = item;
                job.await
            }
        }));
        select(
            run.as_mut(),
            pin!(eventually(|| probe.started().len() == 3)),
        )
        .await;
        drop(run);
        // The running jobs and the tasks waiting for a permit are all
        // dropped, by the runtime, after the `JoinSet` is. (Meanwhile, a
        // permit freed by an aborted job can let a waiting one start.)
        eventually(|| probe.gone() == probe.started().len() && counter.live() == 0).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unstarted_joinset() {
    watchdog("tokio", async {
        let counter = LiveCounter::new();
        let items: Vec<Live> = (0..20).map(|n| Live::new(n, &counter)).collect();
        let probe = Probe::default();
        let result = joinset_run(items, 2, |item: Live| {
            let job = probe.job(item.index(), 0);
            async move {
                let _item = item;
                job.await
            }
        })
        .await;
        assert!(matches!(result, Err(Stopped::Failed(_))), "{result:?}");
        let started = probe.started().len();
        assert!(started < 20, "started {started}");
        // The items that never started are dropped with their aborted tasks;
        // the error hands none of them back.
        eventually(|| counter.live() == 0).await;
        assert_eq!(counter.created(), 20);
    })
    .await;
}

// ---------------------------------------------------------------------------
// failfast

#[test]
fn first_error_failfast() {
    block_on(watchdog("futures", async {
        let probe = Probe::default();
        let abort = stream::iter(0..20)
            .pooled(3)
            .try_for_each(|n| probe.job(n, 2))
            .await
            .unwrap_err();
        // Returned at once, though jobs 0 and 1 would never end: dropped,
        // and listed by index.
        assert!(
            matches!(abort.error(), Error::Failed { index: 2, source } if source == "item 2 failed"),
            "{abort:?}"
        );
        assert_eq!(abort.cancelled(), [0, 1]);
        assert_eq!(probe.started(), BTreeSet::from([0, 1, 2]));
        assert_eq!(probe.gone(), 3);
    }));
}

#[test]
fn full_queue_failfast() {
    block_on(watchdog("futures", async {
        // The number of the item the producer is about to send, plus one.
        let about_to_send = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(usize::MAX));
        let result = Pool::new(2)
            .queue(2)
            .run_with(
                |tx| {
                    let about_to_send = Arc::clone(&about_to_send);
                    let refused = Arc::clone(&refused);
                    async move {
                        for n in 0..100usize {
                            about_to_send.store(n + 1, Ordering::SeqCst);
                            if let Err(error) = tx.send(n).await {
                                refused.store(error.into_inner(), Ordering::SeqCst);
                                break;
                            }
                        }
                        Ok::<(), Infallible>(())
                    }
                },
                |n: usize| {
                    let about_to_send = Arc::clone(&about_to_send);
                    async move {
                        // Every job fails, once items 0 and 1 are in flight,
                        // 2 and 3 fill the queue, and the producer waits to
                        // send item 4.
                        eventually(|| about_to_send.load(Ordering::SeqCst) == 5).await;
                        yield_times(3).await;
                        Err::<(), _>(format!("item {n} failed"))
                    }
                },
            )
            .await;
        let abort = result.unwrap_err();
        assert!(
            matches!(abort.error(), Error::Failed { index: 0 | 1, .. }),
            "{abort:?}"
        );
        // The producer was released with item 4; the queued items come back.
        assert_eq!(refused.load(Ordering::SeqCst), 4);
        assert_eq!(abort.unprocessed(), [(2, 2), (3, 3)]);
    }));
}

#[test]
fn panic_failfast() {
    quiet_planned_panics();
    block_on(watchdog("futures", async {
        let probe = Probe::default();
        let abort = stream::iter(0..20)
            .pooled(3)
            .try_for_each(|n| probe.panicking_job(n, 2))
            .await
            .unwrap_err();
        match abort.error() {
            Error::Panicked { index, message, .. } => {
                assert_eq!(*index, 2);
                assert_eq!(message, &format!("{PLANNED}: item 2 panicked"));
            }
            error => panic!("expected Error::Panicked, got {error:?}"),
        }
        assert_eq!(abort.cancelled(), [0, 1]);
        assert_eq!(probe.gone(), 3);
    }));
}

#[test]
fn dropped_failfast() {
    block_on(watchdog("futures", async {
        let probe = Probe::default();
        let mut run = Box::pin(
            stream::iter(0..20)
                .pooled(3)
                .try_for_each(|n| probe.job(n, usize::MAX)),
        );
        select(
            run.as_mut(),
            pin!(eventually(|| probe.started().len() == 3)),
        )
        .await;
        assert_eq!(probe.gone(), 0);
        drop(run);
        assert_eq!(probe.gone(), 3);
    }));
}

/// Spawned on tokio, the workers are told to stop when the run's future is
/// dropped, and drop their jobs at their next poll: none is left running.
#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_failfast_spawned_on_tokio() {
    watchdog("tokio", async {
        let probe = Probe::default();
        let mut run = Box::pin(
            stream::iter(0..20)
                .pooled(3)
                .spawn_on(tokio::runtime::Handle::current())
                .try_for_each({
                    let probe = probe.clone();
                    move |n| probe.job(n, usize::MAX)
                }),
        );
        select(
            run.as_mut(),
            pin!(eventually(|| probe.started().len() == 3)),
        )
        .await;
        drop(run);
        eventually(|| probe.gone() == 3).await;
        assert_eq!(probe.started().len(), 3);
    })
    .await;
}

#[test]
fn unstarted_failfast() {
    block_on(watchdog("futures", async {
        let counter = LiveCounter::new();
        let items: Vec<Live> = (0..20).map(|n| Live::new(n, &counter)).collect();
        let probe = Probe::default();
        let abort = stream::iter(items)
            .pooled(2)
            .queue(4)
            .try_for_each(|item: Live| {
                let job = probe.job(item.index(), 0);
                async move {
                    let _item = item;
                    yield_times(10).await;
                    job.await
                }
            })
            .await
            .unwrap_err();
        assert_eq!(abort.error().index(), Some(0));
        assert_eq!(abort.cancelled(), [1]);
        // The queued items come back by value, alive; the items the pool had
        // not pulled from the stream yet went with it.
        let unprocessed: Vec<(usize, usize)> = abort
            .unprocessed()
            .iter()
            .map(|(index, item)| (*index, item.index()))
            .collect();
        assert_eq!(unprocessed, [(2, 2), (3, 3), (4, 4), (5, 5)]);
        assert_eq!(counter.live(), 4);
        drop(abort);
        assert_eq!(counter.live(), 0);
    }));
}

/// Passed `&mut stream`, the items the pool has not pulled stay in the
/// stream, and the queued ones come back: no item is lost.
#[test]
fn unstarted_failfast_by_ref() {
    block_on(watchdog("futures", async {
        let counter = LiveCounter::new();
        let mut source = stream::iter((0..20).map(|n| Live::new(n, &counter)).collect::<Vec<_>>());
        let probe = Probe::default();
        let abort = (&mut source)
            .pooled(2)
            .queue(4)
            .try_for_each(|item: Live| {
                let job = probe.job(item.index(), 0);
                async move {
                    let _item = item;
                    yield_times(10).await;
                    job.await
                }
            })
            .await
            .unwrap_err();
        let unprocessed: Vec<usize> = abort
            .into_unprocessed()
            .into_iter()
            .map(|(_, item)| item.index())
            .collect();
        let rest: Vec<usize> = source.map(|item| item.index()).collect().await;
        assert_eq!(unprocessed, [2, 3, 4, 5]);
        assert_eq!(rest, (6..20).collect::<Vec<_>>());
    }));
}
