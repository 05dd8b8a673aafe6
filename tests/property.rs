//! Property tests over random pools, sources and failures, under both
//! `futures::executor::block_on` and `smol::block_on`:
//!
//! - no hang: every run ends (watchdog);
//! - fail fast: no job starts after the failing handler decided to fail;
//! - nothing lost: every entered item is accounted for exactly once, and the cause is
//!   the failing item;
//! - clean success: without a failure every item is handled exactly once;
//! - bounded memory: at most `capacity + workers` items are alive at once.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{
    LiveCounter, PLANNED, check_accounting, check_all_once, mix, quiet_planned_panics,
    watchdog_for, yield_times,
};
use failfast::{Error, Job, Pool, SendError};
use futures::stream::{self, StreamExt as _};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

const CASE_WATCHDOG: Duration = Duration::from_secs(20);

/// How the failing item fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Its future returns `Err`.
    Err,
    /// Its future panics.
    PanicInFuture,
    /// The call that would create its future panics.
    PanicInCall,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Err),
        Just(Kind::PanicInFuture),
        Just(Kind::PanicInCall)
    ]
}

#[derive(Debug, PartialEq, Eq)]
struct Failure(usize);

#[derive(Debug, Clone, Copy)]
struct Case {
    workers: usize,
    capacity: usize,
    count: usize,
    /// The index of the item that fails; at or beyond `count`: no failure.
    fail_at: Option<usize>,
    kind: Kind,
    /// Derives each job's number of yields (0..4).
    seed: u64,
}

/// What the handlers saw, shared with the test.
#[derive(Debug, Default)]
struct Seen {
    failed: AtomicBool,
    starts: AtomicUsize,
    starts_after_failure: AtomicUsize,
    wrong_job: AtomicUsize,
}

impl Case {
    fn failing(&self) -> Option<usize> {
        self.fail_at.filter(|&f| f < self.count)
    }

    /// The handler: holds its item until its future completes, yields a
    /// seeded number of times, fails as told.
    fn handler(
        self,
        seen: &Arc<Seen>,
    ) -> impl Fn(common::Live) -> futures::future::BoxFuture<'static, Result<usize, Failure>>
    + Send
    + Sync
    + 'static {
        let seen = Arc::clone(seen);
        move |item: common::Live| {
            if seen.failed.load(Ordering::SeqCst) {
                seen.starts_after_failure.fetch_add(1, Ordering::SeqCst);
            }
            seen.starts.fetch_add(1, Ordering::SeqCst);
            let index = item.index();
            if Job::current().map(|job| (job.index(), job.worker() < self.workers))
                != Some((index, true))
            {
                seen.wrong_job.fetch_add(1, Ordering::SeqCst);
            }
            let fails = self.fail_at == Some(index);
            if fails && self.kind == Kind::PanicInCall {
                seen.failed.store(true, Ordering::SeqCst);
                panic!("{PLANNED}: in the call for item {index}");
            }
            let yields = (mix(self.seed, index) % 4) as usize;
            let seen = Arc::clone(&seen);
            Box::pin(async move {
                let item = item;
                yield_times(yields).await;
                if fails {
                    seen.failed.store(true, Ordering::SeqCst);
                    if self.kind == Kind::PanicInFuture {
                        panic!("{PLANNED}: in the future of item {index}");
                    }
                    return Err(Failure(index));
                }
                let output = item.index() * 2;
                drop(item);
                Ok(output)
            })
        }
    }

    /// Checks the outcome of a run whose items were all `Live`.
    fn check<SE: std::fmt::Debug>(
        &self,
        result: Result<
            failfast::Report<common::Live, usize>,
            failfast::Abort<common::Live, usize, Failure, SE>,
        >,
        live: &LiveCounter,
        seen: &Seen,
        outside: usize,
        refused: usize,
    ) {
        // Bounded memory (`outside` counts the item a producer holds while it waits to
        // send it: that one is not held by the pool).
        assert!(
            live.max() <= self.capacity + self.workers + outside,
            "{} items alive at once, more than capacity {} + workers {} (+{outside})",
            live.max(),
            self.capacity,
            self.workers
        );
        assert_eq!(
            seen.wrong_job.load(Ordering::SeqCst),
            0,
            "Job::current() was wrong"
        );
        assert_eq!(
            seen.starts_after_failure.load(Ordering::SeqCst),
            0,
            "a job started after the failure"
        );
        let starts = seen.starts.load(Ordering::SeqCst);
        match (self.failing(), result) {
            (None, Ok(report)) => {
                check_all_once(&report, self.count);
                assert!(report.outputs().iter().all(|(i, r)| *r == i * 2));
                assert_eq!(starts, self.count);
                assert_eq!(live.created(), self.count);
                assert_eq!(live.live(), 0, "items leaked");
            }
            (Some(fail_at), Err(abort)) => {
                match (self.kind, abort.error()) {
                    (Kind::Err, Error::Failed { index, source }) => {
                        assert_eq!(*index, fail_at);
                        assert_eq!(*source, Failure(fail_at));
                    }
                    (
                        Kind::PanicInFuture | Kind::PanicInCall,
                        Error::Panicked { index, message, .. },
                    ) => {
                        assert_eq!(*index, fail_at);
                        assert!(message.starts_with(PLANNED), "message: {message}");
                    }
                    (kind, error) => panic!("{kind:?} failure, but the cause is {error:?}"),
                }
                assert!(
                    abort.other_errors().is_empty(),
                    "{:?}",
                    abort.other_errors()
                );
                check_accounting(&abort);
                assert!(abort.entered() > fail_at);
                assert!(abort.entered() <= self.count);
                // Every started job completed, is the failure, or was
                // cancelled; every item made entered and is alive only if
                // it was handed back.
                assert_eq!(
                    starts,
                    abort.report().completed() + 1 + abort.cancelled().len()
                );
                assert_eq!(live.created(), abort.entered() + refused);
                assert_eq!(live.live(), abort.unprocessed().len(), "items leaked");
                assert!(
                    abort
                        .unprocessed()
                        .iter()
                        .all(|(i, item)| *i == item.index())
                );
                assert!(abort.report().outputs().iter().all(|(i, r)| *r == i * 2));
                drop(abort);
                assert_eq!(live.live(), 0, "items leaked");
            }
            (expected, result) => panic!(
                "expected a failure at {expected:?}, got {:?}",
                result
                    .map(|report| report.entered())
                    .map_err(|abort| abort.entered())
            ),
        }
    }

    /// A stream source of live-counted items.
    async fn run_stream(self) {
        let live = LiveCounter::new();
        let seen = Arc::new(Seen::default());
        let source = stream::iter(0..self.count).map({
            let live = Arc::clone(&live);
            move |index| common::Live::new(index, &live)
        });
        let result = Pool::new(self.workers)
            .queue(self.capacity)
            .run(source, self.handler(&seen))
            .await;
        self.check::<Infallible>(result, &live, &seen, 0, 0);
    }

    /// A producer that makes live-counted items and sends them, yielding
    /// now and then; it stops at the first refused send.
    async fn run_producer(self) {
        let live = LiveCounter::new();
        let seen = Arc::new(Seen::default());
        let refused = Arc::new(AtomicUsize::new(0));
        let result = Pool::new(self.workers)
            .queue(self.capacity)
            .run_with(
                {
                    let live = Arc::clone(&live);
                    let refused = Arc::clone(&refused);
                    move |tx| async move {
                        for index in 0..self.count {
                            yield_times((mix(!self.seed, index) % 3) as usize).await;
                            if let Err(error) = tx.send(common::Live::new(index, &live)).await {
                                assert_eq!(error.into_inner().index(), index);
                                refused.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                        }
                        Ok::<(), SendError<common::Live>>(())
                    }
                },
                self.handler(&seen),
            )
            .await;
        // The producer may have made one more item than entered, which it
        // got back from a refused send and dropped.
        self.check(result, &live, &seen, 1, refused.load(Ordering::SeqCst));
    }
}

fn on_each_executor_quick<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    futures::executor::block_on(watchdog_for(
        CASE_WATCHDOG,
        "futures::executor::block_on",
        make(),
    ));
    smol::block_on(watchdog_for(CASE_WATCHDOG, "smol::block_on", make()));
}

fn case() -> impl Strategy<Value = Case> {
    (
        1usize..16,
        1usize..32,
        0usize..300,
        proptest::option::of(0usize..400),
        kind(),
        any::<u64>(),
    )
        .prop_map(|(workers, capacity, count, fail_at, kind, seed)| Case {
            workers,
            capacity,
            count,
            fail_at,
            kind,
            seed,
        })
}

/// The number of cases each property runs. `PROPTEST_CASES` may raise it but
/// not lower it: unlike the `proptest!` macro, whose config the environment
/// overrides, these tests always run at least this many cases.
const MIN_CASES: u32 = 2000;

/// Runs `property` on [`MIN_CASES`] (or more) random cases.
fn check_property(property: impl Fn(Case)) {
    quiet_planned_panics();
    let defaults = ProptestConfig::default();
    let config = ProptestConfig {
        cases: MIN_CASES.max(defaults.cases),
        source_file: Some(file!()),
        ..defaults
    };
    assert!(config.cases >= MIN_CASES);
    let mut runner = TestRunner::new(config);
    let ran = AtomicUsize::new(0);
    let result = runner.run(&case(), |case| {
        ran.fetch_add(1, Ordering::SeqCst);
        property(case);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}\n{runner}");
    }
    let ran = ran.into_inner();
    assert!(ran >= MIN_CASES as usize, "only {ran} cases ran");
}

#[test]
fn stream_runs_end_balance_and_stay_bounded() {
    check_property(|case| on_each_executor_quick(|| case.run_stream()));
}

#[test]
fn producer_runs_end_balance_and_stay_bounded() {
    check_property(|case| on_each_executor_quick(|| case.run_producer()));
}
