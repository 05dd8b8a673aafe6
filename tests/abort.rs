//! How an abort stops a run: the blocked producer is released (no hang), jobs in
//! flight are dropped and nothing new starts (fail fast), and every item is
//! accounted for (nothing lost), also when the run's future itself is dropped (structured).

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    DropCounter, IndexSet, PLANNED, check_accounting, on_each_executor, quiet_planned_panics,
    unprocessed_indices, yield_times,
};
use failfast::{Error, Pool};
use futures::stream::{self, StreamExt as _};

/// Yields until `condition` holds. Only used where the condition is bound to
/// come true; the watchdog catches the rest.
async fn yield_until(condition: impl Fn() -> bool) {
    while !condition() {
        smol::future::yield_now().await;
    }
}

#[test]
fn blocked_producer_is_released_with_its_item() {
    on_each_executor(|| async {
        // The number of the item the producer is about to send, plus one.
        let about_to_send = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let producer_ended = Arc::new(AtomicBool::new(false));

        let result = Pool::new(1)
            .queue(1)
            .run_with(
                {
                    let about_to_send = Arc::clone(&about_to_send);
                    let refused = Arc::clone(&refused);
                    let producer_ended = Arc::clone(&producer_ended);
                    move |tx| async move {
                        for n in 0..10usize {
                            about_to_send.store(n + 1, Ordering::SeqCst);
                            if let Err(error) = tx.send(n).await {
                                assert!(tx.is_closed(), "a refused send leaves the queue open");
                                assert_eq!(error.to_string(), "sending into a stopped pool");
                                refused.lock().unwrap().push(error.into_inner());
                                break;
                            }
                        }
                        producer_ended.store(true, Ordering::SeqCst);
                        Ok::<(), Infallible>(())
                    }
                },
                {
                    let about_to_send = Arc::clone(&about_to_send);
                    move |n: usize| {
                        let about_to_send = Arc::clone(&about_to_send);
                        async move {
                            if n == 0 {
                                // Item 0 is in flight and item 1 fills the
                                // queue, so the producer's send of item 2
                                // cannot succeed: once it has been attempted,
                                // the producer is blocked.
                                yield_until(|| about_to_send.load(Ordering::SeqCst) == 3).await;
                                yield_times(3).await;
                                assert_eq!(about_to_send.load(Ordering::SeqCst), 3);
                                return Err("item 0 fails while the producer waits");
                            }
                            Ok(n)
                        }
                    }
                },
            )
            .await;

        let abort = result.expect_err("item 0 fails");
        assert!(matches!(abort.error(), Error::Failed { index: 0, .. }));
        assert_eq!(
            abort.to_string(),
            "item 0 failed: item 0 fails while the producer waits"
        );
        // The producer's pending send returned an error with item 2 in it,
        // and the producer then ran to its end.
        assert_eq!(*refused.lock().unwrap(), vec![2]);
        assert!(producer_ended.load(Ordering::SeqCst));
        assert!(abort.other_errors().is_empty());
        // Items 0 and 1 entered; item 1 was never started.
        assert_eq!(abort.entered(), 2);
        check_accounting(&abort);
        assert_eq!(abort.unprocessed().len(), 1);
        assert_eq!(abort.unprocessed()[0], (1, 1));
    });
}

#[test]
fn failure_cancels_jobs_that_never_complete() {
    const PENDING: usize = 3;
    on_each_executor(|| async {
        let guards = DropCounter::new();
        let started = Arc::new(AtomicUsize::new(0));
        let guards_at_failure = Arc::new(AtomicUsize::new(usize::MAX));

        let result = Pool::new(PENDING + 1)
            .queue(4)
            .run(stream::iter(0..20usize), {
                let guards = guards.clone();
                let started = Arc::clone(&started);
                let guards_at_failure = Arc::clone(&guards_at_failure);
                move |n| {
                    let guard = guards.guard();
                    let guards = guards.clone();
                    let started = Arc::clone(&started);
                    let guards_at_failure = Arc::clone(&guards_at_failure);
                    async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        if n < PENDING {
                            let _guard = guard;
                            futures::future::pending::<()>().await;
                            unreachable!("a pending future completed");
                        }
                        drop(guard);
                        yield_until(|| started.load(Ordering::SeqCst) == PENDING + 1).await;
                        // Only this job's own guard is gone so far.
                        guards_at_failure.store(guards.dropped(), Ordering::SeqCst);
                        Err::<usize, _>(format!("item {n} fails"))
                    }
                }
            })
            .await;

        let abort = result.expect_err("item 3 fails");
        assert_eq!(abort.error().index(), Some(PENDING));
        assert_eq!(guards_at_failure.load(Ordering::SeqCst), 1);
        // The pending jobs were dropped, and say so.
        assert_eq!(guards.dropped(), PENDING + 1);
        assert_eq!(
            abort.cancelled(),
            (0..PENDING).collect::<Vec<_>>().as_slice()
        );
        assert_eq!(started.load(Ordering::SeqCst), PENDING + 1);
        assert!(abort.report().outputs().is_empty());
        check_accounting(&abort);
        assert!(abort.unprocessed().iter().all(|(i, n)| i == n));
    });
}

#[test]
fn failure_cancels_jobs_that_would_take_an_hour() {
    on_each_executor(|| async {
        let guards = DropCounter::new();
        let started = Arc::new(AtomicUsize::new(0));
        let result = Pool::new(4)
            .queue(2)
            .run(stream::iter(0..10usize), {
                let guards = guards.clone();
                let started = Arc::clone(&started);
                move |n| {
                    let guard = guards.guard();
                    let started = Arc::clone(&started);
                    async move {
                        let _guard = guard;
                        started.fetch_add(1, Ordering::SeqCst);
                        if n == 2 {
                            // Fail once every worker is busy.
                            yield_until(|| started.load(Ordering::SeqCst) == 4).await;
                            return Err("item 2 fails");
                        }
                        smol::Timer::after(Duration::from_secs(3600)).await;
                        Ok(n)
                    }
                }
            })
            .await;
        let abort = result.expect_err("item 2 fails");
        assert_eq!(abort.error().index(), Some(2));
        // Items 0, 1 and 3 were sleeping; all four jobs' futures are gone.
        assert_eq!(abort.cancelled(), &[0, 1, 3]);
        assert_eq!(guards.dropped(), 4);
        check_accounting(&abort);
    });
}

/// Runs `items` items on `workers` workers where item `fail_at` fails (or
/// panics), every job yields a few times, and checks that no job started
/// after the failing handler raised its flag.
fn nothing_starts_after_the_first_error(workers: usize, queue: usize, fail_at: usize, panic: bool) {
    const ITEMS: usize = 60;
    on_each_executor(|| async {
        let failed = Arc::new(AtomicBool::new(false));
        let starts = Arc::new(AtomicUsize::new(0));
        let starts_after_failure = Arc::new(AtomicUsize::new(0));

        let result = Pool::new(workers)
            .queue(queue)
            .run(stream::iter(0..ITEMS), {
                let failed = Arc::clone(&failed);
                let starts = Arc::clone(&starts);
                let starts_after_failure = Arc::clone(&starts_after_failure);
                move |n| {
                    if failed.load(Ordering::SeqCst) {
                        starts_after_failure.fetch_add(1, Ordering::SeqCst);
                    }
                    starts.fetch_add(1, Ordering::SeqCst);
                    let failed = Arc::clone(&failed);
                    async move {
                        yield_times((n * 7) % 4).await;
                        if n == fail_at {
                            failed.store(true, Ordering::SeqCst);
                            if panic {
                                panic!("{PLANNED}: item {n}");
                            }
                            return Err(format!("item {n} fails"));
                        }
                        yield_times(n % 3).await;
                        Ok(n)
                    }
                }
            })
            .await;

        let abort = result.expect_err("one item fails");
        assert_eq!(
            starts_after_failure.load(Ordering::SeqCst),
            0,
            "a job started after the failure (workers {workers}, queue {queue})"
        );
        assert_eq!(abort.error().index(), Some(fail_at));
        if panic {
            assert_eq!(
                abort.error().panic_message(),
                Some(format!("{PLANNED}: item {fail_at}").as_str())
            );
        } else {
            assert_eq!(
                abort.error().handler_error(),
                Some(&format!("item {fail_at} fails"))
            );
        }
        assert!(abort.other_errors().is_empty());
        check_accounting(&abort);
        // Every started job is either completed, the failure, or cancelled.
        assert_eq!(
            starts.load(Ordering::SeqCst),
            abort.report().completed() + 1 + abort.cancelled().len()
        );
        assert!(abort.entered() > fail_at);
    });
}

#[test]
fn nothing_starts_after_the_first_error_with_various_worker_counts() {
    quiet_planned_panics();
    for workers in [1, 2, 3, 4, 7, 16] {
        for queue in [1, 5, 32] {
            for fail_at in [0, 1, workers, 23] {
                nothing_starts_after_the_first_error(workers, queue, fail_at, false);
                nothing_starts_after_the_first_error(workers, queue, fail_at, true);
            }
        }
    }
}

/// A stream item that bumps a counter when dropped.
struct Guarded {
    _guard: common::DropGuard,
}

#[test]
fn dropping_the_run_future_drops_jobs_and_queued_items() {
    const WORKERS: usize = 3;
    const QUEUE: usize = 5;
    on_each_executor(|| async {
        let created = Arc::new(AtomicUsize::new(0));
        let items = DropCounter::new();
        let jobs = DropCounter::new();
        let started = Arc::new(AtomicUsize::new(0));

        let source = stream::iter(0..1000usize).map({
            let created = Arc::clone(&created);
            let items = items.clone();
            move |_| {
                created.fetch_add(1, Ordering::SeqCst);
                Guarded {
                    _guard: items.guard(),
                }
            }
        });
        let mut run = Box::pin(Pool::new(WORKERS).queue(QUEUE).run(source, {
            let jobs = jobs.clone();
            let started = Arc::clone(&started);
            move |item: Guarded| {
                let guard = jobs.guard();
                started.fetch_add(1, Ordering::SeqCst);
                async move {
                    let _item = item;
                    let _guard = guard;
                    futures::future::pending::<()>().await;
                    Ok::<(), Infallible>(())
                }
            }
        }));
        for _ in 0..5 {
            assert!(futures::poll!(run.as_mut()).is_pending());
        }
        // Every worker is busy and the queue is full; nothing dropped yet.
        assert_eq!(started.load(Ordering::SeqCst), WORKERS);
        assert_eq!(created.load(Ordering::SeqCst), WORKERS + QUEUE);
        assert_eq!(items.dropped(), 0);
        assert_eq!(jobs.dropped(), 0);

        drop(run);
        assert_eq!(jobs.dropped(), WORKERS, "in-flight jobs not dropped");
        assert_eq!(
            items.dropped(),
            WORKERS + QUEUE,
            "in-flight or queued items not dropped"
        );
    });
}

#[test]
fn dropping_the_run_future_drops_the_producer_and_its_pending_item() {
    const WORKERS: usize = 2;
    const QUEUE: usize = 3;
    on_each_executor(|| async {
        let items = DropCounter::new();
        let jobs = DropCounter::new();
        let producer = DropCounter::new();
        let sent = Arc::new(AtomicUsize::new(0));

        let mut run = Box::pin(Pool::new(WORKERS).queue(QUEUE).run_with(
            {
                let items = items.clone();
                let producer = producer.clone();
                let sent = Arc::clone(&sent);
                move |tx| async move {
                    let _producer = producer.guard();
                    loop {
                        let item = Guarded {
                            _guard: items.guard(),
                        };
                        if tx.send(item).await.is_err() {
                            break;
                        }
                        sent.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok::<(), Infallible>(())
                }
            },
            {
                let jobs = jobs.clone();
                move |item: Guarded| {
                    let guard = jobs.guard();
                    async move {
                        let _item = item;
                        let _guard = guard;
                        futures::future::pending::<()>().await;
                        Ok::<(), Infallible>(())
                    }
                }
            },
        ));
        for _ in 0..5 {
            assert!(futures::poll!(run.as_mut()).is_pending());
        }
        assert_eq!(sent.load(Ordering::SeqCst), WORKERS + QUEUE);
        assert_eq!(items.dropped() + jobs.dropped() + producer.dropped(), 0);

        drop(run);
        assert_eq!(producer.dropped(), 1, "the producer was not dropped");
        assert_eq!(jobs.dropped(), WORKERS, "in-flight jobs not dropped");
        // The queued and in-flight items, and the one the producer was
        // trying to send.
        assert_eq!(items.dropped(), WORKERS + QUEUE + 1);
    });
}

#[test]
fn immediate_errors_in_one_poll_keep_one_cause() {
    on_each_executor(|| async {
        let started = IndexSet::new();
        let result = Pool::new(2)
            .queue(100)
            .run(stream::iter(0..50usize), {
                let started = started.clone();
                move |n| {
                    started.insert_once(n);
                    // Fails without ever awaiting.
                    async move { Err::<(), _>(format!("item {n} fails at once")) }
                }
            })
            .await;
        let abort = result.expect_err("everything fails");
        check_accounting(&abort);
        let started = started.snapshot();
        let cause = abort.error().index().expect("an item's error");
        assert!(cause <= 1, "the cause is item {cause}");
        assert!(started.contains(&cause));
        // Every job that started failed: it is the cause or another error.
        let others: Vec<usize> = abort
            .other_errors()
            .iter()
            .filter_map(|e| e.index())
            .collect();
        assert_eq!(others.len(), abort.other_errors().len());
        assert_eq!(started.len(), 1 + others.len());
        assert!(others.iter().all(|i| started.contains(i)));
        assert!(abort.cancelled().is_empty());
        assert!(abort.report().outputs().is_empty());
        // Whatever did not start came back.
        let not_started: std::collections::BTreeSet<usize> = (0..abort.entered())
            .filter(|i| !started.contains(i))
            .collect();
        assert_eq!(unprocessed_indices(&abort), not_started);
        for error in abort.other_errors() {
            let index = error.index().unwrap();
            assert_eq!(
                error.to_string(),
                format!("item {index} failed: item {index} fails at once")
            );
        }
    });
}

#[test]
fn errors_arriving_while_aborting_are_kept_in_other_errors() {
    on_each_executor(|| async {
        let arrived = Arc::new(AtomicUsize::new(0));
        let result = Pool::new(2)
            .queue(100)
            .run(stream::iter(0..50usize), {
                let arrived = Arc::clone(&arrived);
                move |n| {
                    let arrived = Arc::clone(&arrived);
                    async move {
                        if n < 2 {
                            // Both jobs are in flight before either fails.
                            arrived.fetch_add(1, Ordering::SeqCst);
                            yield_until(|| arrived.load(Ordering::SeqCst) == 2).await;
                            return Err(format!("item {n} fails"));
                        }
                        Ok(n)
                    }
                }
            })
            .await;
        let abort = result.expect_err("items 0 and 1 fail");
        check_accounting(&abort);
        let cause = abort.error().index().expect("an item's error");
        assert!(cause < 2);
        let other = 1 - cause;
        assert_eq!(abort.other_errors().len(), 1, "{abort:?}");
        match &abort.other_errors()[0] {
            Error::Failed { index, source } => {
                assert_eq!(*index, other);
                assert_eq!(*source, format!("item {other} fails"));
            }
            e => panic!("expected the other failure, got {e:?}"),
        }
        assert!(abort.cancelled().is_empty());
        assert!(abort.report().outputs().is_empty());
        assert_eq!(unprocessed_indices(&abort), (2..abort.entered()).collect());
    });
}

/// A job future that panics when dropped before it completes.
struct PanicOnCancel;

impl Drop for PanicOnCancel {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{PLANNED}: dropped while in flight");
        }
    }
}

#[test]
fn a_cancelled_job_panicking_in_drop_is_kept_in_other_errors() {
    quiet_planned_panics();
    on_each_executor(|| async {
        let started = Arc::new(AtomicUsize::new(0));
        let result = Pool::new(2)
            .queue(10)
            .run(stream::iter(0..10usize), {
                let started = Arc::clone(&started);
                move |n| {
                    let started = Arc::clone(&started);
                    async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        if n == 0 {
                            let bomb = PanicOnCancel;
                            futures::future::pending::<()>().await;
                            std::mem::forget(bomb);
                        }
                        yield_until(|| started.load(Ordering::SeqCst) == 2).await;
                        Err::<(), _>("item 1 fails")
                    }
                }
            })
            .await;
        let abort = result.expect_err("item 1 fails");
        assert_eq!(abort.error().index(), Some(1));
        assert_eq!(abort.other_errors().len(), 1);
        match &abort.other_errors()[0] {
            Error::Panicked {
                index: 0, message, ..
            } => {
                assert_eq!(message, &format!("{PLANNED}: dropped while in flight"));
            }
            e => panic!("expected item 0's panic, got {e:?}"),
        }
        // Item 0 is among the errors, so not among the cancelled.
        assert!(abort.cancelled().is_empty());
        check_accounting(&abort);
    });
}

#[test]
fn producer_waiting_on_something_else_is_dropped_after_an_abort() {
    on_each_executor(|| async {
        let producer = DropCounter::new();
        let result = Pool::new(2)
            .queue(4)
            .run_with(
                {
                    let producer = producer.clone();
                    move |tx| async move {
                        let _guard = producer.guard();
                        tx.send(0usize).await.unwrap();
                        tx.send(1).await.unwrap();
                        // Not sending, and never done: only the abort can end
                        // the run, by dropping the producer.
                        futures::future::pending::<()>().await;
                        Ok::<(), Infallible>(())
                    }
                },
                |n: usize| async move {
                    yield_times(n).await;
                    if n == 1 {
                        return Err("item 1 fails");
                    }
                    Ok(n)
                },
            )
            .await;
        let abort = result.expect_err("item 1 fails");
        assert_eq!(abort.error().index(), Some(1));
        assert_eq!(producer.dropped(), 1, "the producer was not dropped");
        assert_eq!(abort.entered(), 2);
        assert!(abort.other_errors().is_empty());
        check_accounting(&abort);
    });
}

#[test]
fn stream_that_never_ends_is_dropped_after_an_abort() {
    on_each_executor(|| async {
        let source = stream::iter(0..3usize).chain(stream::pending());
        let result = Pool::new(2)
            .queue(2)
            .run(source, |n| async move {
                yield_times(2).await;
                if n == 2 {
                    return Err("item 2 fails");
                }
                Ok(n)
            })
            .await;
        let abort = result.expect_err("item 2 fails");
        assert_eq!(abort.error().index(), Some(2));
        assert_eq!(abort.entered(), 3);
        check_accounting(&abort);
    });
}

#[test]
fn discarded_outputs_still_balance_on_abort() {
    on_each_executor(|| async {
        let result = Pool::new(3)
            .queue(3)
            .outputs(failfast::Outputs::Discard)
            .run(stream::iter(0..40usize), |n| async move {
                yield_times(n % 4).await;
                if n == 20 {
                    return Err("item 20 fails");
                }
                Ok(n)
            })
            .await;
        let abort = result.expect_err("item 20 fails");
        assert_eq!(abort.error().index(), Some(20));
        assert!(abort.report().outputs().is_empty());
        assert!(abort.report().completed() >= 17, "{abort:?}");
        common::check_counts(&abort);
    });
}
