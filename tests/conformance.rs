//! One suite, run on every executor: inline under `futures::executor::block_on`,
//! and spawned on smol (1 and 2 threads), tokio (current-thread and
//! multi-thread), async-std (through a closure) and `futures`' `ThreadPool`.
//!
//! The scenarios are written once, in `conformance!`; each executor's module
//! supplies `pool(workers, capacity)` and `block_on(future)`. Handlers are
//! `Send + 'static` so every mode can run them.

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use common::{
    DropCounter, IndexSet, Live, LiveCounter, PLANNED, check_accounting, check_all_once,
    check_counts,
};
use failfast::{Control, Error, Outputs, Policy, Pool, PooledExt as _, Progress, SendError, Task};
use futures::TryStreamExt as _;
use proptest::prelude::*;

/// How many cases the property test runs on each executor.
const CASES: u32 = 500;

macro_rules! conformance {
    (inline: $inline:expr) => {
        /// Inline, every worker runs in one task: the failure and the abort
        /// decision happen in the same poll.
        const INLINE: bool = $inline;

        #[test]
        fn seed_scenario() {
            let started = IndexSet::new();
            let result = block_on({
                let started = started.clone();
                pool(3, 19).run_with(
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
            assert!(started.snapshot().iter().all(|&i| i <= 13), "{:?}", started.snapshot());
            for (index, request) in abort.unprocessed() {
                assert_eq!(index, request);
                assert!(!started.contains(*index));
            }
        }

        #[test]
        fn blocked_producer_is_released() {
            let blocked = Arc::new(AtomicBool::new(false));
            let refused = Arc::new(AtomicUsize::new(usize::MAX));
            let result = block_on({
                let (blocked, refused) = (Arc::clone(&blocked), Arc::clone(&refused));
                let blocked_in_job = Arc::clone(&blocked);
                pool(1, 1).run_with(
                    move |tx| async move {
                        for n in 0..100usize {
                            if n == 2 {
                                // Item 0 is in flight and item 1 fills the queue.
                                blocked.store(true, Ordering::SeqCst);
                            }
                            if let Err(SendError(back)) = tx.send(n).await {
                                refused.store(back, Ordering::SeqCst);
                                return Ok(());
                            }
                        }
                        Ok::<(), std::convert::Infallible>(())
                    },
                    move |n: usize| {
                        let blocked = Arc::clone(&blocked_in_job);
                        async move {
                            while !blocked.load(Ordering::SeqCst) {
                                smol::Timer::after(Duration::from_millis(1)).await;
                            }
                            // Give the producer time to park on the full queue.
                            smol::Timer::after(Duration::from_millis(20)).await;
                            Err::<(), String>(format!("job {n} fails"))
                        }
                    },
                )
            });
            let abort = result.unwrap_err();
            assert_eq!(abort.error().index(), Some(0));
            assert_eq!(refused.load(Ordering::SeqCst), 2, "the blocked send handed item 2 back");
            assert_eq!(abort.entered(), 2);
            assert_eq!(abort.unprocessed().len(), 1);
            check_accounting(&abort);
        }

        #[test]
        fn never_completing_jobs_are_dropped() {
            let dropped = DropCounter::new();
            let result = block_on({
                let dropped = dropped.clone();
                pool(4, 8).run(futures::stream::iter(0..20usize), move |n| {
                    let guard = dropped.guard();
                    async move {
                        let _guard = guard;
                        if n == 3 {
                            smol::Timer::after(Duration::from_millis(20)).await;
                            return Err("job 3 fails");
                        }
                        futures::future::pending::<()>().await;
                        Ok(())
                    }
                })
            });
            let abort = result.unwrap_err();
            assert_eq!(abort.error().index(), Some(3));
            assert_eq!(abort.cancelled(), &[0, 1, 2]);
            // The three pending jobs and the failing one were all dropped.
            assert_eq!(dropped.dropped(), 4);
            check_accounting(&abort);
        }

        #[test]
        fn nothing_starts_after_the_first_error() {
            for workers in [1, 2, 5] {
                let started = IndexSet::new();
                let control = Control::new();
                let after = Arc::new(AtomicUsize::new(0));
                let result = block_on({
                    let (started, after) = (started.clone(), after.clone());
                    let watch = control.clone();
                    pool(workers, 4).control(&control).run(futures::stream::iter(0..200usize), move |n| {
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
                    })
                });
                let abort = result.unwrap_err();
                assert_eq!(abort.error().index(), Some(40));
                check_accounting(&abort);
                // No handler is called for an item taken after the decision
                // was visible to its worker: only a worker that had taken its
                // item before may still call the handler (spawned mode), one
                // call per other worker at most. Inline, the decision is taken
                // in the failing worker's poll, before any other is polled.
                let racing = if INLINE { 0 } else { workers - 1 };
                let after = after.load(Ordering::SeqCst);
                assert!(after <= racing, "{after} handler calls began after the decision");
                // No handed-back item was ever started; every started one is
                // completed, failed or cancelled.
                for (index, _) in abort.unprocessed() {
                    assert!(!started.contains(*index), "unprocessed item {index} had started");
                }
                let finished = abort.report().completed() + 1 + abort.other_errors().len() + abort.cancelled().len();
                assert_eq!(started.len(), finished);
            }
        }

        #[test]
        fn success_handles_every_item_exactly_once() {
            for (workers, capacity, n) in [(1, 1, 50), (3, 2, 200), (8, 64, 1000)] {
                let started = IndexSet::new();
                let report = block_on({
                    let started = started.clone();
                    pool(workers, capacity).run(futures::stream::iter(0..n), move |x: usize| {
                        let started = started.clone();
                        async move {
                            started.insert_once(x);
                            common::yield_times(x % 4).await;
                            Ok::<usize, String>(x * 2)
                        }
                    })
                })
                .unwrap();
                check_all_once(&report, n);
                assert!(report.outputs().iter().all(|(i, out)| *out == i * 2));
                assert_eq!(started.len(), n);
            }
        }

        #[test]
        fn a_panic_is_an_error() {
            common::quiet_planned_panics();
            let result = block_on(pool(3, 4).run(futures::stream::iter(0..50usize), |n| async move {
                common::yield_times(n % 2).await;
                if n == 7 {
                    panic!("{PLANNED}: job {n}");
                }
                Ok::<(), String>(())
            }));
            let abort = result.unwrap_err();
            match abort.error() {
                Error::Panicked { index, message } => {
                    assert_eq!(*index, 7);
                    assert_eq!(message, &format!("{PLANNED}: job 7"));
                }
                other => panic!("expected a panic error, got {other:?}"),
            }
            check_accounting(&abort);
        }

        #[test]
        fn dropping_the_run_cancels_everything() {
            let in_flight = DropCounter::new();
            let handler_gone = DropCounter::new();
            let started = Arc::new(AtomicUsize::new(0));
            let items = LiveCounter::new();
            let run = {
                let (in_flight, started, items) = (in_flight.clone(), started.clone(), items.clone());
                let handler_guard = handler_gone.guard();
                pool(3, 5).run(
                    futures::stream::iter(0..100usize).map(move |i| Live::new(i, &items)),
                    move |item: Live| {
                        let _keep = &handler_guard;
                        let guard = in_flight.guard();
                        started.fetch_add(1, Ordering::SeqCst);
                        async move {
                            let _guard = guard;
                            let _item = item;
                            futures::future::pending::<Result<(), String>>().await
                        }
                    },
                )
            };
            // Drive the run until every worker holds a job, then drop it.
            block_on(async {
                let mut run = Box::pin(run);
                while started.load(Ordering::SeqCst) < 3 {
                    futures::future::select(run.as_mut(), smol::Timer::after(Duration::from_millis(1))).await;
                }
                drop(run);
                // Spawned workers drop their jobs at their next poll.
                while in_flight.dropped() < 3 || handler_gone.dropped() < 1 || items.live() > 0 {
                    smol::Timer::after(Duration::from_millis(1)).await;
                }
            });
            assert_eq!(started.load(Ordering::SeqCst), 3);
            assert_eq!(in_flight.dropped(), 3);
            assert_eq!(handler_gone.dropped(), 1, "the handler (and with it every worker) is gone");
            assert_eq!(items.live(), 0, "queued items were dropped");
            assert!(items.max() <= 3 + 5);
        }

        #[test]
        fn policy_continue_tries_every_item() {
            let report_or_abort = block_on(
                pool(3, 4)
                    .policy(Policy::Continue)
                    .run(futures::stream::iter(0..50usize), |n| async move {
                        common::yield_times(n % 3).await;
                        if n % 7 == 3 { Err(format!("item {n} fails")) } else { Ok(n) }
                    }),
            );
            let abort = report_or_abort.unwrap_err();
            let mut failed: Vec<usize> = std::iter::once(abort.error())
                .chain(abort.other_errors())
                .filter_map(|e| e.index())
                .collect();
            failed.sort_unstable();
            assert_eq!(failed, (0..50).filter(|n| n % 7 == 3).collect::<Vec<_>>());
            assert_eq!(abort.report().completed(), 50 - failed.len());
            assert!(abort.cancelled().is_empty() && abort.unprocessed().is_empty());
            check_accounting(&abort);
        }

        #[test]
        fn policy_abort_after_k_errors() {
            for workers in [1, 3] {
                let abort = block_on(
                    pool(workers, 2)
                        .policy(Policy::AbortAfter(3))
                        .run(futures::stream::iter(0..1000usize), |n| async move {
                            common::yield_times(n % 2).await;
                            if n % 5 == 0 { Err(format!("item {n} fails")) } else { Ok(n) }
                        }),
                )
                .unwrap_err();
                let errors = 1 + abort.other_errors().len();
                // The third error aborts; the other workers may fail meanwhile.
                assert!((3..3 + workers).contains(&errors), "{errors} errors");
                assert!(abort.entered() < 1000, "the run stopped early");
                check_accounting(&abort);
            }
        }

        #[test]
        fn close_stops_intake_and_finishes_what_entered() {
            let control = Control::new();
            let report = block_on({
                let stop = control.clone();
                pool(3, 5).control(&control).run(futures::stream::iter(0..usize::MAX), move |n| {
                    if n == 50 {
                        stop.close();
                    }
                    async move {
                        common::yield_times(n % 3).await;
                        Ok::<usize, String>(n)
                    }
                })
            })
            .unwrap();
            assert!(report.closed_early());
            assert!(report.entered() > 50);
            check_all_once(&report, report.entered());
            let progress = control.progress();
            assert_eq!((progress.entered, progress.completed), (report.entered(), report.entered()));
            assert_eq!((progress.queued, progress.in_flight, progress.failed), (0, 0, 0));
        }

        #[test]
        fn close_refuses_senders_and_wakes_idle_producers() {
            let control = Control::new();
            let refused = Arc::new(AtomicUsize::new(usize::MAX));
            let report = block_on({
                let (stop, refused) = (control.clone(), Arc::clone(&refused));
                pool(2, 2).control(&control).run_with(
                    move |tx| async move {
                        let watcher = tx.clone();
                        let sending = async {
                            for n in 0.. {
                                if let Err(SendError(back)) = tx.send(n).await {
                                    refused.store(back, Ordering::SeqCst);
                                    break;
                                }
                            }
                        };
                        // A second producer, idle upstream, stops when the pool does.
                        let idle = async {
                            futures::future::select(
                                Box::pin(watcher.stopped()),
                                Box::pin(futures::future::pending::<()>()),
                            )
                            .await;
                        };
                        futures::future::join(sending, idle).await;
                        Ok::<(), std::convert::Infallible>(())
                    },
                    move |n: usize| {
                        if n == 30 {
                            stop.close();
                        }
                        async move { Ok::<usize, String>(n) }
                    },
                )
            })
            .unwrap();
            assert!(report.closed_early());
            check_all_once(&report, report.entered());
            assert_eq!(refused.load(Ordering::SeqCst), report.entered(), "the refused item came back");
        }

        #[test]
        fn abort_from_outside_is_a_failure() {
            let control = Control::new();
            let dropped = DropCounter::new();
            let abort = block_on({
                let (stop, dropped) = (control.clone(), dropped.clone());
                pool(3, 4).control(&control).run(futures::stream::iter(0..100usize), move |n| {
                    let guard = dropped.guard();
                    let stop = stop.clone();
                    async move {
                        let _guard = guard;
                        if n == 5 {
                            stop.abort();
                        }
                        if n >= 3 {
                            futures::future::pending::<()>().await;
                        }
                        Ok::<usize, String>(n)
                    }
                })
            })
            .unwrap_err();
            assert!(matches!(abort.error(), Error::Aborted { .. }), "{:?}", abort.error());
            assert_eq!(abort.error().to_string(), format!("aborted from outside after {} items", abort.entered()));
            assert!(abort.cancelled().contains(&5));
            assert!(control.is_aborted());
            check_accounting(&abort);
            assert_eq!(dropped.dropped(), 3 + abort.cancelled().len());
        }

        #[test]
        fn close_with_deadline_aborts_when_the_deadline_fires() {
            let control = Control::new();
            let abort = block_on({
                let stop = control.clone();
                pool(2, 3).control(&control).run(futures::stream::iter(0..100usize), move |n| {
                    if n == 4 {
                        stop.close_with_deadline(async {
                            smol::Timer::after(Duration::from_millis(30)).await;
                        });
                    }
                    async move {
                        if n >= 4 {
                            futures::future::pending::<()>().await;
                        }
                        Ok::<usize, String>(n)
                    }
                })
            })
            .unwrap_err();
            assert!(matches!(abort.error(), Error::Aborted { .. }));
            assert!(abort.report().closed_early());
            assert_eq!(abort.report().completed(), 4);
            // After the close, queued items still start: both workers took
            // one (item 5 only if it entered before the close; spawned, the
            // feeder may not have got that far), and whatever else entered
            // was handed back when the deadline aborted the run.
            let entered = abort.entered();
            assert_eq!(abort.cancelled(), (4..entered.min(6)).collect::<Vec<_>>());
            let unprocessed: Vec<usize> = abort.unprocessed().iter().map(|(i, _)| *i).collect();
            assert_eq!(unprocessed, (6..entered.max(6)).collect::<Vec<_>>());
            check_accounting(&abort);
        }

        #[test]
        fn several_producers_share_one_queue() {
            let report = block_on(pool(3, 4).outputs(Outputs::InputOrder).run_with(
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
            assert!(report.outputs().windows(2).all(|w| w[0].0 < w[1].0), "input order");
            seen.sort_unstable();
            let expected: Vec<usize> = (0..3).flat_map(|p| (0..100).map(move |k| p * 1000 + k)).collect();
            assert_eq!(seen, expected);
        }

        #[test]
        fn progress_is_reported_per_item() {
            let calls = Arc::new(AtomicUsize::new(0));
            let last_completed = Arc::new(AtomicUsize::new(0));
            let report = block_on({
                let (calls, last) = (Arc::clone(&calls), Arc::clone(&last_completed));
                pool(4, 4)
                    .on_progress(move |progress: &Progress| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        last.fetch_max(progress.completed, Ordering::SeqCst);
                        assert!(progress.completed <= progress.entered);
                    })
                    .run(futures::stream::iter(0..200usize), |n| async move {
                        common::yield_times(n % 2).await;
                        Ok::<usize, String>(n)
                    })
            })
            .unwrap();
            check_all_once(&report, 200);
            assert_eq!(calls.load(Ordering::SeqCst), 200);
            assert_eq!(last_completed.load(Ordering::SeqCst), 200);
        }

        #[test]
        fn streamed_outputs_come_while_the_pool_runs() {
            let outputs: Vec<_> = block_on(
                pool(3, 4)
                    .stream(futures::stream::iter(0..300usize), |n| async move {
                        common::yield_times(n % 3).await;
                        Ok::<usize, String>(n * 2)
                    })
                    .collect::<Vec<_>>(),
            );
            let mut indices: Vec<usize> = outputs
                .into_iter()
                .map(|next| {
                    let (index, output) = next.expect("no failure");
                    assert_eq!(output, index * 2);
                    index
                })
                .collect();
            indices.sort_unstable();
            assert_eq!(indices, (0..300).collect::<Vec<_>>());
        }

        #[test]
        fn a_streamed_run_ends_with_its_abort_and_loses_nothing() {
            let items: Vec<_> = block_on(
                pool(3, 4)
                    .stream(futures::stream::iter(0..300usize), |n| async move {
                        common::yield_times(n % 3).await;
                        if n == 120 { Err(format!("item {n} fails")) } else { Ok(n) }
                    })
                    .collect::<Vec<_>>(),
            );
            let (last, outputs) = items.split_last().expect("at least the abort");
            let abort = last.as_ref().expect_err("the stream ends with the abort");
            assert_eq!(abort.error().index(), Some(120));
            assert!(abort.report().outputs().is_empty(), "outputs went through the stream");
            let mut place = vec![0usize; abort.entered()];
            for next in outputs {
                place[next.as_ref().expect("only the last item is an error").0] += 1;
            }
            for index in abort.error().index().into_iter().chain(abort.other_errors().iter().filter_map(|e| e.index())) {
                place[index] += 1;
            }
            for &index in abort.cancelled() {
                place[index] += 1;
            }
            for (index, _) in abort.unprocessed() {
                place[*index] += 1;
            }
            assert!(place.iter().all(|&n| n == 1), "every item exactly once: {place:?}");
            assert_eq!(outputs.len(), abort.report().completed());
        }

        #[test]
        fn pooled_extension_is_a_drop_in() {
            let sum = block_on(
                mode(futures::stream::iter(1..=100usize).pooled(4))
                    .try_map(|n| async move { Ok::<usize, String>(n) })
                    .try_fold(0, |sum, n| async move { Ok(sum + n) }),
            )
            .unwrap();
            assert_eq!(sum, 5050);
            let abort = block_on(
                mode(futures::stream::iter(0..100usize).pooled(4)).try_for_each(|n| async move {
                    if n == 10 { Err("ten") } else { Ok(()) }
                }),
            )
            .unwrap_err();
            assert_eq!(abort.error().index(), Some(10));
            check_counts(&abort);
            let lines = futures::stream::iter((0..100usize).map(|n| if n == 50 { Err("unreadable".to_owned()) } else { Ok(n) }));
            let abort = block_on(mode(lines.try_pooled(4)).try_for_each(|n| async move {
                common::yield_times(n % 2).await;
                Ok::<(), String>(())
            }))
            .unwrap_err();
            assert_eq!(abort.to_string(), "source failed after 50 items: unreadable");
            assert_eq!(abort.report().completed() + abort.unprocessed().len() + abort.cancelled().len(), 50);
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(CASES))]

            #[test]
            fn property(
                workers in 1usize..16,
                capacity in 1usize..32,
                n in 0usize..300,
                fail_at in proptest::option::of(0usize..400),
                panics in any::<bool>(),
                seed in any::<u64>(),
            ) {
                common::quiet_planned_panics();
                let live = LiveCounter::new();
                let started = IndexSet::new();
                let result = block_on({
                    let (live, started) = (live.clone(), started.clone());
                    pool(workers, capacity).run(
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
                prop_assert!(live.max() <= capacity + workers, "held {} > {} + {}", live.max(), capacity, workers);
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
            }
        }
    };
}

use futures::StreamExt as _;

/// Races `future` against the watchdog.
fn guarded<F: std::future::Future>(future: F) -> impl std::future::Future<Output = F::Output> {
    common::watchdog("conformance", future)
}

mod inline {
    use super::*;

    fn pool(workers: usize, capacity: usize) -> Pool {
        Pool::new(workers).queue(capacity)
    }

    fn mode<S, K>(
        pooled: failfast::Pooled<S, failfast::Inline, K>,
    ) -> failfast::Pooled<S, failfast::Inline, K> {
        pooled
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        futures::executor::block_on(guarded(future))
    }

    conformance!(inline: true);
}

/// A module running the suite on a smol executor served by `$threads` threads.
macro_rules! smol_mode {
    ($name:ident, $threads:expr) => {
        mod $name {
            use super::*;

            static EXECUTOR: LazyLock<Arc<smol::Executor<'static>>> =
                LazyLock::new(|| common::smol_executor($threads));

            fn pool(
                workers: usize,
                capacity: usize,
            ) -> Pool<failfast::Spawned<Arc<smol::Executor<'static>>>> {
                Pool::new(workers)
                    .queue(capacity)
                    .spawn_on(Arc::clone(&EXECUTOR))
            }

            fn block_on<F: std::future::Future>(future: F) -> F::Output {
                smol::block_on(guarded(future))
            }

            fn mode<S, K>(pooled: failfast::Pooled<S, failfast::Inline, K>) -> failfast::Pooled<S, failfast::Spawned<Arc<smol::Executor<'static>>>, K> {

                pooled.spawn_on(Arc::clone(&EXECUTOR))

            }

            conformance!(inline: false);
        }
    };
}

smol_mode!(smol_1_thread, 1);
smol_mode!(smol_2_threads, 2);

mod tokio_current_thread {
    use super::*;

    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
    }

    fn pool(workers: usize, capacity: usize) -> Pool<failfast::Spawned<tokio::runtime::Handle>> {
        let handle = RUNTIME.with(|rt| rt.handle().clone());
        Pool::new(workers).queue(capacity).spawn_on(handle)
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        RUNTIME.with(|rt| rt.block_on(guarded(future)))
    }

    fn mode<S, K>(
        pooled: failfast::Pooled<S, failfast::Inline, K>,
    ) -> failfast::Pooled<S, failfast::Spawned<tokio::runtime::Handle>, K> {
        pooled.spawn_on(RUNTIME.with(|rt| rt.handle().clone()))
    }

    conformance!(inline: false);
}

mod tokio_multi_thread {
    use super::*;

    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    });

    fn pool(workers: usize, capacity: usize) -> Pool<failfast::Spawned<tokio::runtime::Handle>> {
        Pool::new(workers)
            .queue(capacity)
            .spawn_on(RUNTIME.handle().clone())
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        RUNTIME.block_on(guarded(future))
    }

    fn mode<S, K>(
        pooled: failfast::Pooled<S, failfast::Inline, K>,
    ) -> failfast::Pooled<S, failfast::Spawned<tokio::runtime::Handle>, K> {
        pooled.spawn_on(RUNTIME.handle().clone())
    }

    conformance!(inline: false);
}

mod async_std_closure {
    use super::*;

    /// Spawned through a plain function, as any executor can be.
    type Mode = failfast::Spawned<fn(Task)>;

    fn spawn(task: Task) {
        async_std::task::spawn(task);
    }

    fn pool(workers: usize, capacity: usize) -> Pool<Mode> {
        Pool::new(workers)
            .queue(capacity)
            .spawn_on(spawn as fn(Task))
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        async_std::task::block_on(guarded(future))
    }

    fn mode<S, K>(
        pooled: failfast::Pooled<S, failfast::Inline, K>,
    ) -> failfast::Pooled<S, Mode, K> {
        pooled.spawn_on(spawn as fn(Task))
    }

    conformance!(inline: false);
}

mod futures_thread_pool {
    use super::*;

    static POOL: LazyLock<futures::executor::ThreadPool> = LazyLock::new(|| {
        futures::executor::ThreadPool::builder()
            .pool_size(2)
            .create()
            .expect("a thread pool")
    });

    fn pool(
        workers: usize,
        capacity: usize,
    ) -> Pool<failfast::Spawned<futures::executor::ThreadPool>> {
        Pool::new(workers).queue(capacity).spawn_on(POOL.clone())
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        futures::executor::block_on(guarded(future))
    }

    fn mode<S, K>(
        pooled: failfast::Pooled<S, failfast::Inline, K>,
    ) -> failfast::Pooled<S, failfast::Spawned<futures::executor::ThreadPool>, K> {
        pooled.spawn_on(POOL.clone())
    }

    conformance!(inline: false);
}
