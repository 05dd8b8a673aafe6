//! The core guarantees, on every executor: inline under
//! `futures::executor::block_on`, and spawned on smol (1 and 2 threads),
//! tokio (current-thread and multi-thread), async-std (through a closure)
//! and `futures`' `ThreadPool`.
//!
//! Each scenario is a function generic over the executor
//! ([`common::exec::Exec`]), called once per executor by
//! `on_every_executor!`. The control, the policies, progress, streaming and
//! the `Stream` extension have files of their own, built the same way.

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::exec::Exec;
use common::{
    DropCounter, Gauge, IndexSet, Live, LiveCounter, PLANNED, check_accounting, check_all_once,
};
use failfast::{Control, Error, Outputs, Pool, SendError};
use futures::StreamExt as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

on_every_executor!(
    seed_scenario,
    blocked_producer_is_released,
    never_completing_jobs_are_dropped,
    nothing_starts_after_the_first_error,
    success_handles_every_item_exactly_once,
    a_panic_is_an_error,
    dropping_the_run_cancels_everything,
    several_producers_share_one_queue,
    property,
);

/// How many cases the property test runs on each executor.
const CASES: u32 = 500;

fn seed_scenario<X: Exec>(x: X) {
    let started = IndexSet::new();
    let result = x.block_on({
        let started = started.clone();
        x.run_with(
            Pool::new(3).queue(19),
            |tx| async move {
                for request in 0..30usize {
                    tx.send(request).await?;
                }
                Ok::<(), SendError<usize>>(())
            },
            move |request| {
                let started = started.clone();
                async move {
                    started.insert_once(request);
                    smol::Timer::after(Duration::from_millis(10)).await;
                    if request > 10 {
                        return Err(format!("request {request} broke"));
                    }
                    Ok(request)
                }
            },
        )
    });
    let abort = result.unwrap_err();
    assert_eq!(abort.to_string(), "item 11 failed: request 11 broke");
    assert_eq!(abort.entered(), 30);
    check_accounting(&abort);
    // Three workers: at most 13 and 14 ran beside 11 when it failed.
    assert!(
        started.snapshot().iter().all(|&i| i <= 13),
        "{:?}",
        started.snapshot()
    );
    for (index, request) in abort.unprocessed() {
        assert_eq!(index, request);
        assert!(!started.contains(*index));
    }
}

fn blocked_producer_is_released<X: Exec>(x: X) {
    let parked = Gauge::new();
    let refused = Arc::new(AtomicUsize::new(usize::MAX));
    let result = x.block_on({
        let (parked, refused) = (Arc::clone(&parked), Arc::clone(&refused));
        let parked_in_job = Arc::clone(&parked);
        x.run_with(
            Pool::new(1).queue(1),
            move |tx| async move {
                for n in 0..100usize {
                    let mut send = pin!(tx.send(n));
                    // Polled once by hand: pending, the producer is parked on
                    // the full queue (item 0 in flight, item 1 queued).
                    if n == 2 && futures::poll!(send.as_mut()).is_pending() {
                        parked.add();
                    }
                    if let Err(SendError(back)) = send.await {
                        refused.store(back, Ordering::SeqCst);
                        return Ok(());
                    }
                }
                Ok::<(), std::convert::Infallible>(())
            },
            move |n: usize| {
                let parked = Arc::clone(&parked_in_job);
                async move {
                    // The only worker holds item 0 until the producer parks.
                    parked.until(1).await;
                    Err::<(), String>(format!("job {n} fails"))
                }
            },
        )
    });
    let abort = result.unwrap_err();
    assert_eq!(parked.get(), 1, "the producer was parked on item 2");
    assert_eq!(abort.error().index(), Some(0));
    assert_eq!(
        refused.load(Ordering::SeqCst),
        2,
        "the blocked send handed item 2 back"
    );
    assert_eq!(abort.entered(), 2);
    assert_eq!(abort.unprocessed().len(), 1);
    check_accounting(&abort);
}

fn never_completing_jobs_are_dropped<X: Exec>(x: X) {
    let dropped = DropCounter::new();
    let started = Gauge::new();
    let result = x.block_on({
        let (dropped, started) = (dropped.clone(), Arc::clone(&started));
        x.run(
            Pool::new(4).queue(8),
            futures::stream::iter(0..20usize),
            move |n| {
                let guard = dropped.guard();
                let started = Arc::clone(&started);
                async move {
                    let _guard = guard;
                    started.add();
                    if n == 3 {
                        // Fails once the other three jobs are running.
                        started.until(4).await;
                        return Err("job 3 fails");
                    }
                    futures::future::pending::<()>().await;
                    Ok(())
                }
            },
        )
    });
    let abort = result.unwrap_err();
    assert_eq!(abort.error().index(), Some(3));
    assert_eq!(abort.cancelled(), &[0, 1, 2]);
    // The three pending jobs and the failing one were all dropped.
    assert_eq!(dropped.dropped(), 4);
    check_accounting(&abort);
}

fn nothing_starts_after_the_first_error<X: Exec>(x: X) {
    for workers in [1, 2, 5] {
        let started = IndexSet::new();
        let control = Control::new();
        let after = Arc::new(AtomicUsize::new(0));
        let result = x.block_on({
            let (started, after) = (started.clone(), after.clone());
            let watch = control.clone();
            x.run(
                Pool::new(workers).queue(4).control(&control),
                futures::stream::iter(0..200usize),
                move |n| {
                    // The failure is counted right after the abort is
                    // decided: a call that sees it began after the decision.
                    if watch.progress().failed > 0 {
                        after.fetch_add(1, Ordering::SeqCst);
                    }
                    let started = started.clone();
                    async move {
                        started.insert_once(n);
                        common::yield_times(n % 3).await;
                        if n == 40 {
                            return Err("job 40 fails");
                        }
                        Ok(())
                    }
                },
            )
        });
        let abort = result.unwrap_err();
        assert_eq!(abort.error().index(), Some(40));
        check_accounting(&abort);
        // No handler is called for an item taken after the decision was
        // visible to its worker: only a worker that had taken its item before
        // may still call the handler (spawned mode), one call per other
        // worker at most. Inline, the decision is taken in the failing
        // worker's poll, before any other is polled.
        let racing = if X::INLINE { 0 } else { workers - 1 };
        let after = after.load(Ordering::SeqCst);
        assert!(
            after <= racing,
            "{after} handler calls began after the decision"
        );
        // No handed-back item was ever started; every started one is
        // completed, failed or cancelled.
        for (index, _) in abort.unprocessed() {
            assert!(
                !started.contains(*index),
                "unprocessed item {index} had started"
            );
        }
        let finished =
            abort.report().completed() + 1 + abort.other_errors().len() + abort.cancelled().len();
        assert_eq!(started.len(), finished);
    }
}

fn success_handles_every_item_exactly_once<X: Exec>(x: X) {
    for (workers, capacity, n) in [(1, 1, 50), (3, 2, 200), (8, 64, 1000)] {
        let started = IndexSet::new();
        let report = x
            .block_on({
                let started = started.clone();
                x.run(
                    Pool::new(workers).queue(capacity),
                    futures::stream::iter(0..n),
                    move |x: usize| {
                        let started = started.clone();
                        async move {
                            started.insert_once(x);
                            common::yield_times(x % 4).await;
                            Ok::<usize, String>(x * 2)
                        }
                    },
                )
            })
            .unwrap();
        check_all_once(&report, n);
        assert!(report.outputs().iter().all(|(i, out)| *out == i * 2));
        assert_eq!(started.len(), n);
    }
}

fn a_panic_is_an_error<X: Exec>(x: X) {
    common::quiet_planned_panics();
    let result = x.block_on(x.run(
        Pool::new(3).queue(4),
        futures::stream::iter(0..50usize),
        |n| async move {
            common::yield_times(n % 2).await;
            if n == 7 {
                panic!("{PLANNED}: job {n}");
            }
            Ok::<(), String>(())
        },
    ));
    let abort = result.unwrap_err();
    match abort.error() {
        Error::Panicked { index, message, .. } => {
            assert_eq!(*index, 7);
            assert_eq!(message, &format!("{PLANNED}: job 7"));
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    check_accounting(&abort);
}

fn dropping_the_run_cancels_everything<X: Exec>(x: X) {
    let in_flight = DropCounter::new();
    let handler_gone = DropCounter::new();
    let started = Gauge::new();
    let items = LiveCounter::new();
    let run = {
        let (in_flight, started, items) = (in_flight.clone(), started.clone(), items.clone());
        let handler_guard = handler_gone.guard();
        x.run(
            Pool::new(3).queue(5),
            futures::stream::iter(0..100usize).map(move |i| Live::new(i, &items)),
            move |item: Live| {
                let _keep = &handler_guard;
                let guard = in_flight.guard();
                started.add();
                async move {
                    let _guard = guard;
                    let _item = item;
                    futures::future::pending::<Result<(), String>>().await
                }
            },
        )
    };
    x.block_on(async {
        // Drive the run until every worker holds a job, then drop it.
        let mut run = Box::pin(run);
        futures::future::select(run.as_mut(), pin!(started.until(3))).await;
        drop(run);
        // Spawned workers drop their jobs at their next poll.
        in_flight.until_dropped(3).await;
        handler_gone.until_dropped(1).await;
        items.until_none_live().await;
    });
    assert_eq!(started.get(), 3);
    assert_eq!(in_flight.dropped(), 3);
    assert_eq!(
        handler_gone.dropped(),
        1,
        "the handler (and with it every worker) is gone"
    );
    assert_eq!(items.live(), 0, "queued items were dropped");
    assert!(items.max() <= 3 + 5);
}

fn several_producers_share_one_queue<X: Exec>(x: X) {
    let report = x
        .block_on(x.run_with(
            Pool::new(3).queue(4).outputs(Outputs::InputOrder),
            |tx| async move {
                let producers = (0..3usize).map(|p| {
                    let tx = tx.clone();
                    async move {
                        for k in 0..100usize {
                            tx.send(p * 1000 + k).await?;
                        }
                        Ok::<(), SendError<usize>>(())
                    }
                });
                futures::future::try_join_all(producers).await?;
                Ok::<(), SendError<usize>>(())
            },
            |n| async move {
                common::yield_times(n % 3).await;
                Ok::<usize, String>(n)
            },
        ))
        .unwrap();
    check_all_once(&report, 300);
    let mut seen: Vec<usize> = report.outputs().iter().map(|(_, n)| *n).collect();
    assert!(
        report.outputs().windows(2).all(|w| w[0].0 < w[1].0),
        "input order"
    );
    seen.sort_unstable();
    let expected: Vec<usize> = (0..3)
        .flat_map(|p| (0..100).map(move |k| p * 1000 + k))
        .collect();
    assert_eq!(seen, expected);
}

/// Random pools, sources and failures: at most `capacity + workers` items
/// held at once, and every item accounted for exactly once.
fn property<X: Exec>(x: X) {
    common::quiet_planned_panics();
    let cases = (
        1usize..16,
        1usize..32,
        0usize..300,
        proptest::option::of(0usize..400),
        any::<bool>(),
        any::<u64>(),
    );
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    let result = runner.run(&cases, |(workers, capacity, n, fail_at, panics, seed)| {
        let live = LiveCounter::new();
        let started = IndexSet::new();
        let result = x.block_on({
            let (live, started) = (live.clone(), started.clone());
            x.run(
                Pool::new(workers).queue(capacity),
                futures::stream::iter(0..n).map(move |i| Live::new(i, &live)),
                move |item: Live| {
                    let started = started.clone();
                    async move {
                        let index = item.index();
                        started.insert_once(index);
                        common::yield_times((common::mix(seed, index) % 4) as usize).await;
                        if Some(index) == fail_at {
                            if panics {
                                panic!("{PLANNED}: item {index}");
                            }
                            return Err(format!("item {index} fails"));
                        }
                        drop(item);
                        Ok(index)
                    }
                },
            )
        });
        prop_assert!(
            live.max() <= capacity + workers,
            "held {} > {} + {}",
            live.max(),
            capacity,
            workers
        );
        match result {
            Ok(report) => {
                prop_assert!(fail_at.is_none_or(|f| f >= n));
                check_all_once(&report, n);
                prop_assert!(report.outputs().iter().all(|(i, out)| i == out));
            }
            Err(abort) => {
                let f = fail_at.expect("a failure was planned");
                prop_assert!(f < n);
                prop_assert_eq!(abort.error().index(), Some(f));
                prop_assert_eq!(abort.error().panic_message().is_some(), panics);
                check_accounting(&abort);
                for (index, item) in abort.unprocessed() {
                    prop_assert_eq!(*index, item.index());
                    prop_assert!(!started.contains(*index));
                }
            }
        }
        prop_assert!(live.live() == 0 || live.live() <= capacity + workers);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{}: {failure}", X::NAME);
    }
}
