//! `Pool::custom_policy`: a closure sees each item's outcome and decides
//! whether the run goes on, closes or aborts; on every executor (see
//! `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::exec::Exec;
use common::{PLANNED, check_accounting};
use failfast::{Abort, Error, Fate, Finished, Outcome, Pool, Verdict};

on_every_executor!(
    stop_at_the_first_success,
    abort_past_a_failure_ratio,
    below_the_ratio_every_item_is_tried,
    close_after_enough_successes,
    the_policy_sees_every_outcome_once,
    a_panicking_policy_aborts_the_run,
);

fn stopped<T, R, E, SE>(abort: &Abort<T, R, E, SE>) -> Vec<usize> {
    std::iter::once(abort.error())
        .chain(abort.other_errors())
        .filter_map(|e| match e {
            Error::Stopped { index } => Some(*index),
            _ => None,
        })
        .collect()
}

/// A search: items before 30 fail, item 30 succeeds after a few yields,
/// items after it never finish. The first success aborts the run: the jobs
/// still running are cancelled, the queued items come back.
fn stop_at_the_first_success<X: Exec>(x: X) {
    let abort = x
        .block_on(x.run(
            Pool::new(3).queue(4).custom_policy(|f| match f.outcome {
                Outcome::Completed => Verdict::Abort,
                _ => Verdict::Continue,
            }),
            futures::stream::iter(0..1000usize),
            |n| async move {
                match n {
                    ..30 => Err(format!("{n}: not it")),
                    30 => {
                        common::yield_times(3).await;
                        Ok(n * 2)
                    }
                    _ => futures::future::pending().await,
                }
            },
        ))
        .unwrap_err();
    check_accounting(&abort);
    assert_eq!(abort.report().outputs(), &[(30, 60)]);
    assert_eq!(stopped(&abort), [30]);
    // Every item before 30 failed, unless (spawned) a worker that had taken
    // it found the run aborting and handed it back.
    for u in abort.unfinished().iter().filter(|u| u.index < 30) {
        assert!(matches!(u.fate, Fate::Failed | Fate::Unprocessed), "{u:?}");
    }
    assert!(abort.failed().iter().all(|i| *i < 30));
    if X::INLINE {
        assert_eq!(abort.failed(), (0..30).collect::<Vec<_>>());
    }
    assert!(abort.entered() < 1000);
}

/// Aborts once more than 5% of at least 20 finished items failed.
fn past_five_percent(f: &Finished) -> Verdict {
    if f.total() >= 20 && f.failed * 20 > f.total() {
        Verdict::Abort
    } else {
        Verdict::Continue
    }
}

/// One item in ten fails; the policy aborts once more than 5% of at least
/// 20 finished items failed.
fn abort_past_a_failure_ratio<X: Exec>(x: X) {
    let abort = x
        .block_on(x.run(
            Pool::new(3).queue(6).custom_policy(past_five_percent),
            futures::stream::iter(0..10_000usize),
            |n| async move {
                common::yield_times(n % 2).await;
                if n % 10 == 0 {
                    Err(format!("{n} failed"))
                } else {
                    Ok(n)
                }
            },
        ))
        .unwrap_err();
    check_accounting(&abort);
    assert!(
        matches!(abort.error(), Error::Failed { .. }),
        "{:?}",
        abort.error()
    );
    assert_eq!(stopped(&abort).len(), 1, "stopped once");
    assert!(abort.failed().iter().all(|n| n % 10 == 0));
    let finished = abort.report().completed() + abort.failed().len();
    assert!(finished >= 20, "not before 20 finished: {finished}");
    assert!(abort.entered() < 200, "stopped early: {}", abort.entered());
}

/// One item in fifty fails: below the ratio, so every item is tried and
/// every failure comes back, as under `Policy::Continue`.
fn below_the_ratio_every_item_is_tried<X: Exec>(x: X) {
    let abort = x
        .block_on(x.run(
            Pool::new(3).queue(6).custom_policy(past_five_percent),
            futures::stream::iter(0..200usize),
            |n| async move {
                // Item 0 fails; so do 50, 100, 150, after 20 finished.
                if n % 50 == 0 {
                    Err(format!("{n} failed"))
                } else {
                    Ok(n)
                }
            },
        ))
        .unwrap_err();
    check_accounting(&abort);
    assert_eq!(abort.failed(), [0, 50, 100, 150]);
    assert!(stopped(&abort).is_empty());
    assert_eq!(abort.report().completed(), 196);
    assert!(abort.cancelled().is_empty() && abort.unprocessed().is_empty());
}

/// The policy closes the run after ten successes: intake stops, what
/// entered finishes, and the run succeeds.
fn close_after_enough_successes<X: Exec>(x: X) {
    let report = x
        .block_on(x.run(
            Pool::new(3).queue(5).custom_policy(|f| {
                if f.completed >= 10 {
                    Verdict::Close
                } else {
                    Verdict::Continue
                }
            }),
            futures::stream::iter(0..100_000usize),
            |n| async move {
                common::yield_times(n % 3).await;
                Ok::<_, String>(n)
            },
        ))
        .unwrap();
    assert!(report.closed_early());
    assert!(report.completed() >= 10);
    assert_eq!(report.completed(), report.entered());
    assert!(
        report.entered() < 100,
        "closed promptly: {}",
        report.entered()
    );
    assert!(report.unprocessed().is_empty());
}

/// Completed, failed, panicked and timed-out items each reach the policy
/// once, with their own outcome.
fn the_policy_sees_every_outcome_once<X: Exec>(x: X) {
    common::quiet_planned_panics();
    let seen = Arc::new(Mutex::new(BTreeMap::new()));
    let abort = x
        .block_on(
            x.run(
                Pool::new(3)
                    .queue(3)
                    .timeout(Duration::from_millis(50), smol::Timer::after)
                    .custom_policy({
                        let seen = Arc::clone(&seen);
                        move |f| {
                            let old = seen.lock().unwrap().insert(f.index, f.outcome);
                            assert!(old.is_none(), "item {} seen twice", f.index);
                            Verdict::Continue
                        }
                    }),
                futures::stream::iter(0..40usize),
                |n| async move {
                    match n % 4 {
                        0 => Ok(n),
                        1 => Err(format!("{n} failed")),
                        2 => panic!("{PLANNED}: {n}"),
                        _ => futures::future::pending().await,
                    }
                },
            ),
        )
        .unwrap_err();
    check_accounting(&abort);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 40);
    for (index, outcome) in seen.iter() {
        let expected = [
            Outcome::Completed,
            Outcome::Failed,
            Outcome::Panicked,
            Outcome::TimedOut,
        ][index % 4];
        assert_eq!(*outcome, expected, "item {index}");
    }
    assert_eq!(abort.report().completed(), 10);
    assert_eq!(abort.failed().len(), 30);
}

/// A policy that panics aborts the run with its own error.
fn a_panicking_policy_aborts_the_run<X: Exec>(x: X) {
    common::quiet_planned_panics();
    let abort = x
        .block_on(x.run(
            Pool::new(2).queue(2).custom_policy(|f| {
                if f.index == 7 {
                    panic!("{PLANNED}: policy at 7");
                }
                Verdict::Continue
            }),
            futures::stream::iter(0..100usize),
            |n| async move { Ok::<_, String>(n) },
        ))
        .unwrap_err();
    check_accounting(&abort);
    match abort.error() {
        Error::PolicyPanicked { message, .. } => assert!(message.contains("policy at 7")),
        other => panic!("expected the policy's panic, got {other:?}"),
    }
    // Item 7 counts as it finished: completed.
    assert!(abort.report().outputs().iter().any(|(i, _)| *i == 7));
}

#[test]
fn policy_after_custom_policy_puts_the_built_in_back() {
    let abort = futures::executor::block_on(
        Pool::new(1)
            .custom_policy(|_| Verdict::Continue)
            .policy(failfast::Policy::FailFast)
            .run(futures::stream::iter(0..10usize), |n| async move {
                if n == 2 { Err("two") } else { Ok(n) }
            }),
    )
    .unwrap_err();
    assert!(abort.other_errors().is_empty());
    assert_eq!(abort.report().completed(), 2);
}
