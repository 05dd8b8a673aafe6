//! Steering a run from outside with a `Control`: close, abort, a deadline,
//! on every executor (see `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::exec::Exec;
use common::{DropCounter, check_accounting, check_all_once};
use failfast::{Control, Error, Pool, SendError};

on_every_executor!(
    close_stops_intake_and_finishes_what_entered,
    close_refuses_senders_and_wakes_idle_producers,
    abort_from_outside_is_a_failure,
    close_with_deadline_aborts_when_the_deadline_fires,
    a_producer_ends_intake_with_close_whatever_its_clones,
);

fn close_stops_intake_and_finishes_what_entered<X: Exec>(x: X) {
    let control = Control::new();
    let report = x
        .block_on({
            let stop = control.clone();
            x.run(
                Pool::new(3).queue(5).control(&control),
                futures::stream::iter(0..usize::MAX),
                move |n| {
                    if n == 50 {
                        stop.close();
                    }
                    async move {
                        common::yield_times(n % 3).await;
                        Ok::<usize, String>(n)
                    }
                },
            )
        })
        .unwrap();
    assert!(report.closed_early());
    assert!(report.entered() > 50);
    check_all_once(&report, report.entered());
    let progress = control.progress();
    assert_eq!(
        (progress.entered, progress.completed),
        (report.entered(), report.entered())
    );
    assert_eq!(
        (progress.queued, progress.in_flight, progress.failed),
        (0, 0, 0)
    );
}

fn close_refuses_senders_and_wakes_idle_producers<X: Exec>(x: X) {
    let control = Control::new();
    let refused = Arc::new(AtomicUsize::new(usize::MAX));
    let report = x
        .block_on({
            let (stop, refused) = (control.clone(), Arc::clone(&refused));
            x.run_with(
                Pool::new(2).queue(2).control(&control),
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
                            Box::pin(watcher.closed()),
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
    assert_eq!(
        refused.load(Ordering::SeqCst),
        report.entered(),
        "the refused item came back"
    );
}

fn abort_from_outside_is_a_failure<X: Exec>(x: X) {
    let control = Control::new();
    let dropped = DropCounter::new();
    let abort = x
        .block_on({
            let (stop, dropped) = (control.clone(), dropped.clone());
            x.run(
                Pool::new(3).queue(4).control(&control),
                futures::stream::iter(0..100usize),
                move |n| {
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
                },
            )
        })
        .unwrap_err();
    assert!(
        matches!(abort.error(), Error::Aborted { .. }),
        "{:?}",
        abort.error()
    );
    assert_eq!(
        abort.error().to_string(),
        format!("aborted from outside after {} items", abort.entered())
    );
    assert!(abort.cancelled().contains(&5));
    assert!(control.is_aborted());
    check_accounting(&abort);
    assert_eq!(dropped.dropped(), 3 + abort.cancelled().len());
}

fn close_with_deadline_aborts_when_the_deadline_fires<X: Exec>(x: X) {
    let control = Control::new();
    let abort = x
        .block_on({
            let stop = control.clone();
            x.run(
                Pool::new(2).queue(3).control(&control),
                futures::stream::iter(0..100usize),
                move |n| {
                    if n == 4 {
                        // The deadline is the user's timer, whichever
                        // executor runs the pool.
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
                },
            )
        })
        .unwrap_err();
    assert!(matches!(abort.error(), Error::Aborted { .. }));
    assert!(abort.report().closed_early());
    assert_eq!(abort.report().completed(), 4);
    // After the close, queued items still start: both workers took one (item
    // 5 only if it entered before the close; spawned, the feeder may not have
    // got that far), and whatever else entered was handed back when the
    // deadline aborted the run.
    let entered = abort.entered();
    assert_eq!(abort.cancelled(), (4..entered.min(6)).collect::<Vec<_>>());
    let unprocessed: Vec<usize> = abort.unprocessed().iter().map(|(i, _)| *i).collect();
    assert_eq!(unprocessed, (6..entered.max(6)).collect::<Vec<_>>());
    check_accounting(&abort);
}

/// A clone of the sender kept past the producer (here, by the test) would
/// keep intake open and the run waiting; `Sender::close` ends intake on
/// purpose, and the stashed clone is refused with its item.
fn a_producer_ends_intake_with_close_whatever_its_clones<X: Exec>(x: X) {
    let stash = Arc::new(std::sync::Mutex::new(None));
    let report = x
        .block_on({
            let stash = Arc::clone(&stash);
            x.run_with(
                Pool::new(2).queue(2),
                move |tx| async move {
                    *stash.lock().unwrap() = Some(tx.clone());
                    for n in 0..10usize {
                        tx.send(n).await?;
                    }
                    assert!(tx.close(), "this call ended intake");
                    assert!(!tx.close(), "already ended");
                    Ok::<(), SendError<usize>>(())
                },
                |n| async move {
                    common::yield_times(n % 2).await;
                    Ok::<usize, String>(n)
                },
            )
        })
        .unwrap();
    check_all_once(&report, 10);
    assert!(
        !report.closed_early(),
        "ended by the producer, not a control"
    );
    let stashed = stash.lock().unwrap().take().expect("the stashed clone");
    assert!(stashed.is_closed());
    let refused = x.block_on(stashed.send(10)).unwrap_err();
    assert_eq!(refused.into_inner(), 10);
}

/// A `Control` is for one run: a second run set up with it (a cloned pool
/// run again) panics at once with a clear message, instead of adding to the
/// first run's progress or starting closed.
#[test]
fn a_control_is_for_one_run() {
    let control = Control::new();
    let pool = Pool::new(2).control(&control);
    let report = futures::executor::block_on(
        pool.clone()
            .run(futures::stream::iter(0..10u32), |n| async move {
                Ok::<u32, String>(n)
            }),
    )
    .unwrap();
    assert_eq!(report.completed(), 10);
    control.close();
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drop(pool.run(futures::stream::iter(0..10u32), |n| async move {
            Ok::<u32, String>(n)
        }))
    }));
    let message = again.expect_err("a second run panics");
    let message = message.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("a Control is for one run"), "{message}");
    assert_eq!(
        control.progress().completed,
        10,
        "the first run's counts stay"
    );
}
