//! `Pool::timeout`: a job that outlives the timeout is dropped and its item
//! fails with `Error::TimedOut`, which the policy counts like any item
//! error; with smol's timer on every executor (see `tests/conformance.rs`),
//! and with tokio's on tokio, inline and spawned.

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::exec::Exec;
use common::{LiveCounter, check_accounting};
use failfast::{Error, Policy, Pool};

on_every_executor!(
    a_stuck_job_times_out_and_aborts_the_run,
    under_continue_every_timed_out_item_comes_back,
    a_job_that_finishes_in_time_is_not_timed_out,
);

const TIMEOUT: Duration = Duration::from_millis(100);

/// Items 3 and 4 never finish; every other item does at once. The first of
/// them to time out aborts the run (under `FailFast`); the other is
/// cancelled, or times out in the same instant.
fn a_stuck_job_times_out_and_aborts_the_run<X: Exec>(x: X) {
    let live = LiveCounter::new();
    let abort = x
        .block_on(x.run(
            Pool::new(2).queue(2).timeout(TIMEOUT, smol::Timer::after),
            futures::stream::iter(0..20usize),
            {
                let live = Arc::clone(&live);
                move |n| {
                    let guard = common::Live::new(n, &live);
                    async move {
                        if n == 3 || n == 4 {
                            futures::future::pending::<()>().await;
                        }
                        drop(guard);
                        Ok::<_, String>(n)
                    }
                }
            },
        ))
        .unwrap_err();
    check_accounting(&abort);
    match abort.error() {
        Error::TimedOut { index, after } => {
            assert!(*index == 3 || *index == 4, "{index}");
            assert_eq!(*after, TIMEOUT);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let mut stopped = abort.failed();
    stopped.extend(abort.cancelled());
    stopped.sort_unstable();
    assert_eq!(stopped, [3, 4], "the two stuck jobs, and no other");
    assert_eq!(live.live(), 0, "every timed-out job was dropped");
    assert!(
        abort.to_string().contains("timed out after 100ms"),
        "{abort}"
    );
}

/// Under `Continue`, every stuck item times out on its own and the run goes
/// on: every other item completes, and every timed-out item comes back
/// with its own error.
fn under_continue_every_timed_out_item_comes_back<X: Exec>(x: X) {
    let abort = x
        .block_on(
            x.run(
                Pool::new(3)
                    .queue(3)
                    .policy(Policy::Continue)
                    .timeout(TIMEOUT, smol::Timer::after),
                futures::stream::iter(0..20usize),
                |n| async move {
                    if n % 5 == 0 {
                        futures::future::pending::<()>().await;
                    }
                    Ok::<_, String>(n)
                },
            ),
        )
        .unwrap_err();
    check_accounting(&abort);
    assert_eq!(abort.failed(), vec![0, 5, 10, 15]);
    assert!(abort.cancelled().is_empty() && abort.unprocessed().is_empty());
    assert_eq!(abort.report().completed(), 16);
    let errors = std::iter::once(abort.error()).chain(abort.other_errors());
    for error in errors {
        assert!(
            matches!(error, Error::TimedOut { after, .. } if *after == TIMEOUT),
            "{error:?}"
        );
    }
}

/// Jobs that finish before their timeout (each yields a few times) are not
/// touched by it: the run succeeds, and no timer outlives its job.
fn a_job_that_finishes_in_time_is_not_timed_out<X: Exec>(x: X) {
    let report = x
        .block_on(
            x.run(
                Pool::new(3)
                    .queue(3)
                    .timeout(Duration::from_secs(30), smol::Timer::after),
                futures::stream::iter(0..50usize),
                |n| async move {
                    common::yield_times(n % 4).await;
                    Ok::<_, String>(n)
                },
            ),
        )
        .unwrap();
    common::check_all_once(&report, 50);
}

/// tokio's timer, inline on a tokio runtime.
#[test]
fn tokio_sleep_inline() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let abort = rt
        .block_on(common::watchdog(
            "tokio, inline",
            Pool::new(2)
                .timeout(TIMEOUT, tokio::time::sleep)
                .policy(Policy::Continue)
                .run(futures::stream::iter(0..10usize), |n| async move {
                    if n == 7 {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    Ok::<_, String>(n)
                }),
        ))
        .unwrap_err();
    check_accounting(&abort);
    assert_eq!(abort.failed(), vec![7]);
    assert!(matches!(abort.error(), Error::TimedOut { index: 7, .. }));
    assert_eq!(abort.report().completed(), 9);
}

/// tokio's timer, on workers spawned on a multi-threaded tokio runtime.
#[test]
fn tokio_sleep_spawned() {
    let rt = common::tokio_multi_thread(2);
    let abort = rt
        .block_on(common::watchdog(
            "tokio, spawned",
            Pool::new(4)
                .queue(4)
                .timeout(TIMEOUT, tokio::time::sleep)
                .spawn_on(rt.handle().clone())
                .run(futures::stream::iter(0..40usize), |n| async move {
                    if n == 13 {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    Ok::<_, String>(n)
                }),
        ))
        .unwrap_err();
    check_accounting(&abort);
    assert_eq!(abort.failed(), vec![13]);
    assert!(matches!(abort.error(), Error::TimedOut { index: 13, .. }));
}

/// A timer factory that panics is the job's panic.
#[test]
fn a_panicking_timer_is_the_jobs_panic() {
    common::quiet_planned_panics();
    let abort = futures::executor::block_on(
        Pool::new(1)
            .timeout(TIMEOUT, |_| -> futures::future::Pending<()> {
                panic!("{}: no clock", common::PLANNED)
            })
            .run(futures::stream::iter(0..4usize), |n| async move {
                common::yield_times(1).await; // waits once: the timer starts
                Ok::<_, String>(n)
            }),
    )
    .unwrap_err();
    check_accounting(&abort);
    assert!(
        matches!(abort.error(), Error::Panicked { index: 0, .. }),
        "{:?}",
        abort.error()
    );
}

/// A job that finishes in its first poll never starts a timer.
#[test]
fn a_job_done_in_its_first_poll_starts_no_timer() {
    let timers = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&timers);
    let report = futures::executor::block_on(
        Pool::new(2)
            .timeout(TIMEOUT, move |after| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                smol::Timer::after(after)
            })
            .run(futures::stream::iter(0..10usize), |n| async move {
                if n % 2 == 1 {
                    common::yield_times(1).await;
                }
                Ok::<_, String>(n)
            }),
    )
    .unwrap();
    assert_eq!(report.completed(), 10);
    let started = timers.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(started, 5, "one per job that waited");
}

#[test]
#[should_panic(expected = "a per-item timeout must be longer than zero")]
fn a_zero_timeout_is_refused() {
    let _ = Pool::new(1).timeout(Duration::ZERO, smol::Timer::after);
}
