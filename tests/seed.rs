//! The motivating scenario, with 20 ms jobs instead of 0.5 s:
//! 3 workers, a queue of 19, 30 requests, every request above 10 fails.
//!
//! Written naively this hangs. With failfast the run must end with the error
//! of request 11, account for all 30 requests, and never start or finish the
//! work that comes after the failure.

mod common;

use std::fmt;
use std::time::{Duration, Instant};

use common::{IndexSet, check_accounting, on_each_executor, output_indices, unprocessed_indices};
use failfast::{Abort, Error, Pool, SendError};
use futures::stream;

const WORKERS: usize = 3;
const QUEUE: usize = 19;
const REQUESTS: usize = 30;
const JOB: Duration = Duration::from_millis(20);

#[derive(Debug, PartialEq, Eq)]
struct Broke(usize);

impl fmt::Display for Broke {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request {} broke", self.0)
    }
}

impl std::error::Error for Broke {}

/// The handler of the scenario: records the start, sleeps one job's length,
/// then fails for requests above 10 and records the finish otherwise.
fn handler(
    started: &IndexSet,
    finished: &IndexSet,
) -> impl Fn(usize) -> std::pin::Pin<Box<dyn Future<Output = Result<usize, Broke>> + Send>>
+ Send
+ Sync
+ 'static {
    let started = started.clone();
    let finished = finished.clone();
    move |request| {
        let started = started.clone();
        let finished = finished.clone();
        Box::pin(async move {
            started.insert_once(request);
            smol::Timer::after(JOB).await;
            if request > 10 {
                return Err(Broke(request));
            }
            finished.insert_once(request);
            Ok(request)
        })
    }
}

/// Everything the scenario must show, whatever fed the queue.
fn check_scenario<SE: fmt::Debug + fmt::Display + std::error::Error + 'static>(
    abort: &Abort<usize, usize, Broke, SE>,
    started: &IndexSet,
    finished: &IndexSet,
    elapsed: Duration,
) {
    // The cause is request 11, with its own error.
    match abort.error() {
        Error::Failed { index, source } => {
            assert_eq!(*index, 11);
            assert_eq!(*source, Broke(11));
        }
        other => panic!("expected Error::Failed for item 11, got {other:?}"),
    }
    // The cause names the item; its source is the handler's error, printed
    // once when the abort is.
    assert_eq!(abort.error().to_string(), "item 11 failed");
    let source = std::error::Error::source(abort.error()).expect("the handler's error");
    assert_eq!(source.to_string(), "request 11 broke");
    assert_eq!(abort.to_string(), "item 11 failed: request 11 broke");
    assert!(
        abort.other_errors().is_empty(),
        "unexpected other errors: {:?}",
        abort.other_errors()
    );

    // Nothing lost: all 30 requests entered (the queue had room for the last
    // one as soon as request 10 started) and each is in exactly one place.
    assert_eq!(abort.entered(), REQUESTS);
    check_accounting(abort);

    // Requests 0..=10 finished, and nothing after them did.
    let finished = finished.snapshot();
    assert_eq!(finished, (0..=10).collect());
    assert_eq!(output_indices(abort.report()), finished);
    assert!(abort.report().outputs().iter().all(|(i, r)| i == r));

    // Requests 0..=11 started. Only the workers freed by requests 9 and 10
    // (which end no later than request 11) could start one more request
    // each before the abort: nothing above 13 ever started.
    let started = started.snapshot();
    assert!(
        (0..=11).all(|i| started.contains(&i)),
        "not all of 0..=11 started: {started:?}"
    );
    assert!(
        started.iter().all(|&i| i <= 13),
        "a request above 13 started: {started:?}"
    );
    // Those late starters were cancelled, not finished.
    let late: Vec<usize> = started.iter().copied().filter(|&i| i > 11).collect();
    assert_eq!(abort.cancelled(), late.as_slice());

    // The rest were handed back untouched, each with its own index.
    let expected: std::collections::BTreeSet<usize> =
        (12..REQUESTS).filter(|i| !started.contains(i)).collect();
    assert_eq!(unprocessed_indices(abort), expected);
    assert!(abort.unprocessed().iter().all(|(i, r)| i == r));

    // Sanity: request 11 is in the fourth round of jobs, so at least four
    // job lengths passed. (No upper bound on wall time: the proof that the
    // run did not wait for the cancelled work is that none of it finished.)
    assert!(elapsed >= 4 * JOB, "too fast to be real: {elapsed:?}");
}

#[test]
fn producer_scenario_fails_with_request_11_and_accounts_for_all_30() {
    on_each_executor(|| async {
        let started = IndexSet::new();
        let finished = IndexSet::new();
        let begin = Instant::now();
        let result = Pool::new(WORKERS)
            .queue(QUEUE)
            .run_with(
                |tx| async move {
                    for request in 0..REQUESTS {
                        tx.send(request).await?;
                    }
                    Ok::<(), SendError<usize>>(())
                },
                handler(&started, &finished),
            )
            .await;
        let elapsed = begin.elapsed();
        let abort = result.expect_err("the scenario must abort");
        check_scenario(&abort, &started, &finished, elapsed);
    });
}

#[test]
fn stream_scenario_fails_with_request_11_and_accounts_for_all_30() {
    on_each_executor(|| async {
        let started = IndexSet::new();
        let finished = IndexSet::new();
        let begin = Instant::now();
        let result = Pool::new(WORKERS)
            .queue(QUEUE)
            .run(stream::iter(0..REQUESTS), handler(&started, &finished))
            .await;
        let elapsed = begin.elapsed();
        let abort = result.expect_err("the scenario must abort");
        check_scenario(&abort, &started, &finished, elapsed);
    });
}

#[test]
fn scenario_without_failures_handles_all_30() {
    on_each_executor(|| async {
        let started = IndexSet::new();
        let report = Pool::new(WORKERS)
            .queue(QUEUE)
            .run(stream::iter(0..REQUESTS), {
                let started = started.clone();
                move |request: usize| {
                    let started = started.clone();
                    async move {
                        started.insert_once(request);
                        smol::Timer::after(Duration::from_millis(2)).await;
                        Ok::<usize, Broke>(request)
                    }
                }
            })
            .await
            .expect("nothing fails");
        common::check_all_once(&report, REQUESTS);
        assert!(report.outputs().iter().all(|(i, r)| i == r));
        assert_eq!(started.snapshot(), (0..REQUESTS).collect());
    });
}
