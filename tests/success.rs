//! Runs in which nothing fails (clean success): every item is handled exactly once, all
//! workers end, and the run returns a report.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{IndexSet, check_all_once, mix, on_each_executor, yield_times};
use failfast::{Job, Outputs, Pool, SendError};
use futures::stream;

#[test]
fn every_item_is_handled_exactly_once() {
    const ITEMS: usize = 100;
    for (workers, queue) in [(1, 1), (1, 10), (3, 1), (4, 4), (8, 2), (16, 100), (2, 200)] {
        on_each_executor(|| async {
            let handled = IndexSet::new();
            let report = Pool::new(workers)
                .queue(queue)
                .run(stream::iter(0..ITEMS as u64), {
                    let handled = handled.clone();
                    move |n| {
                        let handled = handled.clone();
                        async move {
                            yield_times((mix(7, n as usize) % 4) as usize).await;
                            handled.insert_once(n as usize);
                            Ok::<u64, Infallible>(n * 3 + 1)
                        }
                    }
                })
                .await
                .expect("nothing fails");
            check_all_once(&report, ITEMS);
            for (index, output) in report.outputs() {
                assert_eq!(*output, *index as u64 * 3 + 1, "output of item {index}");
            }
            assert_eq!(handled.snapshot(), (0..ITEMS).collect());
        });
    }
}

#[test]
fn producer_items_are_handled_exactly_once() {
    const ITEMS: usize = 64;
    for (workers, queue) in [(1, 1), (3, 2), (5, 50)] {
        on_each_executor(|| async {
            let report = Pool::new(workers)
                .queue(queue)
                .run_with(
                    |tx| async move {
                        for n in 0..ITEMS {
                            yield_times(n % 3).await;
                            tx.send(n.to_string()).await?;
                        }
                        Ok::<(), SendError<String>>(())
                    },
                    |s: String| async move {
                        yield_times(s.len()).await;
                        Ok::<usize, Infallible>(s.parse::<usize>().unwrap())
                    },
                )
                .await
                .expect("nothing fails");
            check_all_once(&report, ITEMS);
            // Items are numbered in the order they were sent.
            assert!(report.outputs().iter().all(|(i, n)| i == n));
        });
    }
}

#[test]
fn discarded_outputs_are_counted_but_not_kept() {
    on_each_executor(|| async {
        let calls = Arc::new(AtomicUsize::new(0));
        let report = Pool::new(3)
            .queue(4)
            .outputs(Outputs::Discard)
            .run(stream::iter(0..40), {
                let calls = Arc::clone(&calls);
                move |n: u32| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move {
                        yield_times(1).await;
                        Ok::<u32, Infallible>(n)
                    }
                }
            })
            .await
            .expect("nothing fails");
        assert_eq!(report.entered(), 40);
        assert_eq!(report.completed(), 40);
        assert!(report.outputs().is_empty());
        assert!(report.into_outputs().is_empty());
        assert_eq!(calls.load(Ordering::SeqCst), 40);
    });
}

#[test]
fn empty_source_gives_an_empty_report() {
    on_each_executor(|| async {
        let calls = Arc::new(AtomicUsize::new(0));
        let report = Pool::new(4)
            .run(stream::empty::<u8>(), {
                let calls = Arc::clone(&calls);
                move |n| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move { Ok::<u8, Infallible>(n) }
                }
            })
            .await
            .expect("nothing to fail");
        assert_eq!(report.entered(), 0);
        assert_eq!(report.completed(), 0);
        assert!(report.outputs().is_empty());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn producer_that_sends_nothing_gives_an_empty_report() {
    on_each_executor(|| async {
        let report = Pool::new(2)
            .queue(3)
            .run_with(
                |_tx| async move {
                    yield_times(2).await;
                    Ok::<(), Infallible>(())
                },
                |n: u8| async move { Ok::<u8, Infallible>(n) },
            )
            .await
            .expect("nothing to fail");
        assert_eq!(report.entered(), 0);
        assert_eq!(report.completed(), 0);
        assert!(report.outputs().is_empty());

        // Also when the producer keeps its sender until it returns.
        let report = Pool::new(2)
            .run_with(
                |tx| async move {
                    yield_times(2).await;
                    assert!(tx.is_empty());
                    assert!(!tx.is_closed());
                    assert_eq!(tx.capacity(), 2);
                    Ok::<(), Infallible>(())
                },
                |n: u8| async move { Ok::<u8, Infallible>(n) },
            )
            .await
            .expect("nothing to fail");
        assert_eq!(report.entered(), 0);
    });
}

#[test]
fn producer_dropping_its_sender_early_still_ends() {
    on_each_executor(|| async {
        let report = Pool::new(2)
            .queue(2)
            .run_with(
                |tx| async move {
                    for n in 0..5u8 {
                        tx.send(n).await.unwrap();
                    }
                    drop(tx);
                    // More work after intake ended.
                    yield_times(5).await;
                    Ok::<(), Infallible>(())
                },
                |n: u8| async move {
                    yield_times(1).await;
                    Ok::<u8, Infallible>(n)
                },
            )
            .await
            .expect("nothing fails");
        check_all_once(&report, 5);
    });
}

#[test]
fn job_current_names_the_item_and_the_worker() {
    const WORKERS: usize = 3;
    const ITEMS: usize = 30;
    assert_eq!(Job::current(), None);
    on_each_executor(|| async {
        assert_eq!(Job::current(), None);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let report = Pool::new(WORKERS)
            .queue(2)
            .run_with(
                |tx| async move {
                    for n in 0..ITEMS {
                        // The producer is not a job.
                        assert_eq!(Job::current(), None);
                        tx.send(n).await.unwrap();
                    }
                    Ok::<(), Infallible>(())
                },
                {
                    let seen = Arc::clone(&seen);
                    move |n: usize| {
                        // In the call that creates the future...
                        let job = Job::current().expect("inside a handler");
                        assert_eq!(job.index(), n);
                        assert!(job.worker() < WORKERS);
                        let seen = Arc::clone(&seen);
                        async move {
                            // ...and in every poll of it.
                            assert_eq!(Job::current(), Some(job));
                            yield_times(n % 4).await;
                            assert_eq!(Job::current(), Some(job));
                            seen.lock().unwrap().push(job);
                            Ok::<_, Infallible>(job.worker())
                        }
                    }
                },
            )
            .await
            .expect("nothing fails");
        assert_eq!(Job::current(), None);
        check_all_once(&report, ITEMS);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), ITEMS);
        assert!(seen.iter().all(|job| job.worker() < WORKERS));
        // Each output is the worker the job reported.
        for (index, worker) in report.outputs() {
            let job = seen.iter().find(|job| job.index() == *index).unwrap();
            assert_eq!(job.worker(), *worker);
        }
    });
    assert_eq!(Job::current(), None);
}

#[test]
fn every_worker_takes_part() {
    const WORKERS: usize = 4;
    on_each_executor(|| async {
        let report = Pool::new(WORKERS)
            .queue(WORKERS)
            .run(stream::iter(0..40usize), |_| async {
                // Long enough that every worker gets a turn.
                yield_times(3).await;
                Ok::<usize, Infallible>(Job::current().unwrap().worker())
            })
            .await
            .expect("nothing fails");
        let mut workers: Vec<usize> = report.outputs().iter().map(|(_, w)| *w).collect();
        workers.sort_unstable();
        workers.dedup();
        assert_eq!(workers, (0..WORKERS).collect::<Vec<_>>());
    });
}

/// Any executor: inline runs make no `Send` or `'static` demands. This is the one test
/// here that relies on that (`Rc`, `RefCell`, borrowed locals), on purpose:
/// it cannot move to spawned mode.
#[test]
fn inline_runs_accept_borrowed_and_non_send_handlers() {
    use std::cell::RefCell;
    use std::rc::Rc;

    on_each_executor(|| async {
        let log = RefCell::new(Vec::new());
        let prefix = String::from("item");
        let items = (0..12).map(Rc::new);
        let report = Pool::new(3)
            .queue(2)
            .run(stream::iter(items), |n: Rc<u32>| {
                let log = &log;
                let prefix = prefix.as_str();
                async move {
                    yield_times(*n as usize % 3).await;
                    log.borrow_mut().push(*n);
                    Ok::<_, Infallible>(Rc::new(format!("{prefix} {n}")))
                }
            })
            .await
            .expect("nothing fails");
        check_all_once(&report, 12);
        for (index, text) in report.outputs() {
            assert_eq!(**text, format!("item {index}"));
        }
        let mut log = log.into_inner();
        log.sort_unstable();
        assert_eq!(log, (0..12).collect::<Vec<_>>());
    });
}
