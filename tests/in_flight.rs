//! `Control::in_flight`: the jobs running now, with their index, worker and
//! running time; on every executor (see `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::time::Duration;

use common::exec::Exec;
use common::{IndexSet, check_accounting};
use failfast::{Control, Error, Job, Pool, Running};

on_every_executor!(
    a_stuck_job_is_listed_until_the_watchdog_aborts,
    every_handler_sees_itself_in_flight,
    a_control_asked_before_the_run_times_every_job,
);

/// Polls `control.in_flight()` (yielding between polls) until `found`
/// accepts what it lists.
async fn until_listed(control: &Control, found: impl Fn(&[Running]) -> bool) -> Vec<Running> {
    loop {
        let running = control.in_flight();
        if found(&running) {
            return running;
        }
        common::yield_times(1).await;
    }
}

/// Item 5 never finishes. A watchdog beside the run finds it listed, with
/// a running time that grows, and aborts the run: item 5 is cancelled, and
/// nothing is listed once the run has ended.
fn a_stuck_job_is_listed_until_the_watchdog_aborts<X: Exec>(x: X) {
    let control = Control::new();
    let run = x.run(
        Pool::new(2).queue(2).control(&control),
        futures::stream::iter(0..20usize),
        |n| async move {
            if n == 5 {
                futures::future::pending::<()>().await;
            }
            Ok::<_, String>(n)
        },
    );
    let watchdog = async {
        let first = until_listed(&control, |r| r.iter().any(|r| r.index == 5)).await;
        let stuck = *first.iter().find(|r| r.index == 5).unwrap();
        assert!(stuck.worker < 2);
        // The stuck job's time grows (and it stays on its worker).
        let later = until_listed(&control, |r| {
            r.iter()
                .any(|r| r.index == 5 && r.elapsed > stuck.elapsed + Duration::from_millis(5))
        })
        .await;
        assert!(
            later
                .iter()
                .any(|r| r.index == 5 && r.worker == stuck.worker)
        );
        // Once the others are done, it is the only one left.
        until_listed(&control, |r| r.len() == 1 && r[0].index == 5).await;
        control.abort();
    };
    let (result, ()) = x.block_on(async { futures::join!(run, watchdog) });
    let abort = result.unwrap_err();
    check_accounting(&abort);
    assert!(matches!(abort.error(), Error::Aborted { .. }));
    assert_eq!(abort.cancelled(), &[5]);
    assert!(control.in_flight().is_empty(), "nothing runs after the run");
}

/// Every handler finds its own job among those in flight, on its own
/// worker; at most one job per worker is listed.
fn every_handler_sees_itself_in_flight<X: Exec>(x: X) {
    let control = Control::new();
    let seen = IndexSet::new();
    let report = x
        .block_on(x.run(
            Pool::new(3).queue(3).control(&control),
            futures::stream::iter(0..60usize),
            {
                let (control, seen) = (control.clone(), seen.clone());
                move |n| {
                    let (control, seen) = (control.clone(), seen.clone());
                    async move {
                        common::yield_times(n % 3).await;
                        let job = Job::current().unwrap();
                        let running = control.in_flight();
                        assert!(running.len() <= 3, "{running:?}");
                        let mut workers: Vec<usize> = running.iter().map(|r| r.worker).collect();
                        workers.sort_unstable();
                        workers.dedup();
                        assert_eq!(workers.len(), running.len(), "one job per worker");
                        if running
                            .iter()
                            .any(|r| r.index == n && r.worker == job.worker())
                        {
                            seen.insert_once(n);
                        }
                        Ok::<_, String>(n)
                    }
                }
            },
        ))
        .unwrap();
    common::check_all_once(&report, 60);
    assert_eq!(seen.len(), 60, "every job saw itself");
    assert!(control.in_flight().is_empty());
}

/// A control asked before its run starts times every job from its start:
/// a job that has been running for a while shows at least that long.
fn a_control_asked_before_the_run_times_every_job<X: Exec>(x: X) {
    let control = Control::new();
    assert!(control.in_flight().is_empty(), "no run yet");
    let report = x
        .block_on(x.run(
            Pool::new(2).control(&control),
            futures::stream::iter(0..4usize),
            {
                let control = control.clone();
                move |n| {
                    let control = control.clone();
                    async move {
                        let start = std::time::Instant::now();
                        while start.elapsed() < Duration::from_millis(20) {
                            common::yield_times(1).await;
                        }
                        let me = control
                            .in_flight()
                            .into_iter()
                            .find(|r| r.index == n)
                            .expect("listed while running");
                        Ok::<_, String>(me.elapsed >= Duration::from_millis(20))
                    }
                }
            },
        ))
        .unwrap();
    assert!(
        report.outputs().iter().all(|(_, timed)| *timed),
        "{:?}",
        report.outputs()
    );
}

/// Without a control nothing can ask, and a run with one lists nothing
/// before it starts.
#[test]
fn a_new_control_lists_nothing() {
    assert!(Control::new().in_flight().is_empty());
}
