//! Helpers shared by the integration tests.
//!
//! Everything here is `Send + Sync + 'static` friendly (`Arc` + atomics), so
//! the same scenarios can later run on spawned, multi-threaded executors.

#![allow(dead_code)]

#[cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]
pub mod exec;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use failfast::{Abort, Fate, Report};
use futures::future::{Either, select};

/// How long a single run may take before the test declares it hung.
pub const WATCHDOG: Duration = Duration::from_secs(20);

/// Runs a fresh future from `make` once under `futures::executor::block_on`
/// and once under `smol::block_on`, each raced against the watchdog.
pub fn on_each_executor<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    futures::executor::block_on(watchdog("futures::executor::block_on", make()));
    smol::block_on(watchdog("smol::block_on", make()));
}

/// Races `future` against a [`WATCHDOG`] timer; panics with
/// "watchdog: the run hung" if the timer wins. `smol::Timer` is driven by
/// async-io's own thread when needed, so this works under any executor.
pub async fn watchdog<Fut: Future>(executor: &str, future: Fut) -> Fut::Output {
    watchdog_for(WATCHDOG, executor, future).await
}

/// [`watchdog`] with a custom limit.
pub async fn watchdog_for<Fut: Future>(
    limit: Duration,
    executor: &str,
    future: Fut,
) -> Fut::Output {
    let future = pin!(future);
    let timer = pin!(smol::Timer::after(limit));
    match select(future, timer).await {
        Either::Left((output, _)) => output,
        Either::Right(_) => panic!("watchdog: the run hung (under {executor}, after {limit:?})"),
    }
}

/// A smol executor served by `threads` threads of its own (they live as long
/// as the test binary).
pub fn smol_executor(threads: usize) -> Arc<smol::Executor<'static>> {
    let executor = Arc::new(smol::Executor::new());
    for _ in 0..threads {
        let executor = Arc::clone(&executor);
        std::thread::spawn(move || smol::block_on(executor.run(futures::future::pending::<()>())));
    }
    executor
}

/// A multi-thread tokio runtime with `workers` worker threads and timers.
pub fn tokio_multi_thread(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Yields to the executor `times` times.
pub async fn yield_times(times: usize) {
    for _ in 0..times {
        smol::future::yield_now().await;
    }
}

/// Counts how many [`DropGuard`]s made from it have been dropped (as in
/// smol-rs/async-executor's tests/drop.rs).
#[derive(Debug, Clone, Default)]
pub struct DropCounter(Arc<Gauge>);

impl DropCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A guard that bumps this counter when dropped.
    pub fn guard(&self) -> DropGuard {
        DropGuard(Arc::clone(&self.0))
    }

    /// How many guards have been dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.get()
    }

    /// Waits until at least `n` guards have been dropped.
    pub async fn until_dropped(&self, n: usize) {
        self.0.until(n).await;
    }

    /// Waits until `condition` holds of the number of guards dropped (checked
    /// again at every drop).
    pub async fn until(&self, condition: impl Fn(usize) -> bool) {
        self.0.changes.until(|| condition(self.0.get())).await;
    }
}

/// Bumps its [`DropCounter`] on drop.
#[derive(Debug)]
pub struct DropGuard(Arc<Gauge>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.add();
    }
}

/// A condition over shared state that tasks wait on: whoever changes the
/// state calls [`changed`](Changes::changed), and [`until`](Changes::until)
/// checks the condition again. No sleeping, no polling loop.
#[derive(Debug, Default)]
pub struct Changes(event_listener::Event);

impl Changes {
    /// Wakes everyone waiting, to check their condition again.
    pub fn changed(&self) {
        self.0.notify(usize::MAX);
    }

    /// Waits until `condition` holds.
    pub async fn until(&self, condition: impl Fn() -> bool) {
        loop {
            if condition() {
                return;
            }
            event_listener::listener!(self.0 => changed);
            if condition() {
                return;
            }
            changed.await;
        }
    }
}

/// A count that tasks can wait on (jobs started, guards dropped).
#[derive(Debug, Default)]
pub struct Gauge {
    count: AtomicUsize,
    changes: Changes,
}

impl Gauge {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Adds one, and wakes whoever waits.
    pub fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.changes.changed();
    }

    pub fn get(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until the count is at least `n`.
    pub async fn until(&self, n: usize) {
        self.changes.until(|| self.get() >= n).await;
    }
}

/// Counts [`Live`] items: how many exist now, the most that existed at once,
/// and how many were ever created.
#[derive(Debug, Default)]
pub struct LiveCounter {
    live: AtomicUsize,
    max: AtomicUsize,
    created: AtomicUsize,
    changes: Changes,
}

impl LiveCounter {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    pub fn created(&self) -> usize {
        self.created.load(Ordering::SeqCst)
    }

    /// Waits until no item is live any more.
    pub async fn until_none_live(&self) {
        self.changes.until(|| self.live() == 0).await;
    }
}

/// An item that is counted live from its creation until it is dropped.
#[derive(Debug)]
pub struct Live {
    index: usize,
    counter: Arc<LiveCounter>,
}

impl Live {
    pub fn new(index: usize, counter: &Arc<LiveCounter>) -> Self {
        counter.created.fetch_add(1, Ordering::SeqCst);
        let now = counter.live.fetch_add(1, Ordering::SeqCst) + 1;
        counter.max.fetch_max(now, Ordering::SeqCst);
        Live {
            index,
            counter: Arc::clone(counter),
        }
    }

    pub fn index(&self) -> usize {
        self.index
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.counter.live.fetch_sub(1, Ordering::SeqCst);
        self.counter.changes.changed();
    }
}

/// A shared set of indices (e.g. the jobs that started).
#[derive(Debug, Clone, Default)]
pub struct IndexSet(Arc<Mutex<BTreeSet<usize>>>);

impl IndexSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts `index`; panics if it was already there (a job ran twice).
    pub fn insert_once(&self, index: usize) {
        let fresh = self.0.lock().unwrap().insert(index);
        assert!(fresh, "index {index} was recorded twice");
    }

    pub fn contains(&self, index: usize) -> bool {
        self.0.lock().unwrap().contains(&index)
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn snapshot(&self) -> BTreeSet<usize> {
        self.0.lock().unwrap().clone()
    }
}

/// Checks that nothing is lost, on an abort whose outputs were collected: the indices of the
/// outputs, of the cause, of the other errors, of the cancelled jobs and of
/// the unprocessed items are pairwise disjoint and together are exactly
/// `0..entered()`. Also checks the documented orders and counts.
pub fn check_accounting<T, R, E, SE>(abort: &Abort<T, R, E, SE>) {
    let entered = abort.entered();
    let report = abort.report();
    assert_eq!(report.entered(), entered, "report().entered() != entered()");
    assert_eq!(
        report.completed(),
        report.outputs().len(),
        "completed() disagrees with the collected outputs"
    );

    let cancelled = abort.cancelled();
    assert!(
        cancelled.windows(2).all(|w| w[0] < w[1]),
        "cancelled() is not strictly increasing: {cancelled:?}"
    );
    let unprocessed: Vec<usize> = abort.unprocessed().iter().map(|(i, _)| *i).collect();
    assert!(
        unprocessed.windows(2).all(|w| w[0] < w[1]),
        "unprocessed() is not strictly increasing: {unprocessed:?}"
    );

    let mut seen: Vec<(usize, &'static str)> = Vec::new();
    seen.extend(report.outputs().iter().map(|(i, _)| (*i, "output")));
    seen.extend(abort.error().index().map(|i| (i, "cause")));
    seen.extend(
        abort
            .other_errors()
            .iter()
            .filter_map(|e| e.index())
            .map(|i| (i, "other error")),
    );
    seen.extend(cancelled.iter().map(|i| (*i, "cancelled")));
    seen.extend(unprocessed.iter().map(|i| (*i, "unprocessed")));

    let mut place: Vec<Option<&'static str>> = vec![None; entered];
    for (index, kind) in seen {
        assert!(
            index < entered,
            "index {index} ({kind}) is not below entered() = {entered}"
        );
        if let Some(first) = place[index] {
            panic!("index {index} is accounted twice: as {first} and as {kind}");
        }
        place[index] = Some(kind);
    }
    let missing: Vec<usize> = (0..entered).filter(|i| place[*i].is_none()).collect();
    assert!(
        missing.is_empty(),
        "indices not accounted for: {missing:?} (entered = {entered})"
    );
    check_unfinished(abort, &place);
}

/// Checks `failed()` and `unfinished()` against the places found by
/// [`check_accounting`]: every index not completed, once, in order, with its
/// fate, and the unprocessed items by reference.
fn check_unfinished<T, R, E, SE>(abort: &Abort<T, R, E, SE>, place: &[Option<&'static str>]) {
    let failed: Vec<usize> = (0..place.len())
        .filter(|i| matches!(place[*i], Some("cause" | "other error")))
        .collect();
    assert_eq!(abort.failed(), failed, "failed()");
    let expected: Vec<(usize, Fate)> = (0..place.len())
        .filter_map(|i| match place[i] {
            Some("cause" | "other error") => Some((i, Fate::Failed)),
            Some("cancelled") => Some((i, Fate::Cancelled)),
            Some("unprocessed") => Some((i, Fate::Unprocessed)),
            _ => None,
        })
        .collect();
    let unfinished = abort.unfinished();
    let got: Vec<(usize, Fate)> = unfinished.iter().map(|u| (u.index, u.fate)).collect();
    assert_eq!(got, expected, "unfinished()");
    let mut items = abort.unprocessed().iter();
    for u in &unfinished {
        match u.fate {
            Fate::Unprocessed => {
                let (index, item) = items.next().expect("an unprocessed item");
                assert_eq!(*index, u.index);
                assert!(
                    std::ptr::eq(item, u.item.expect("the item")),
                    "the item itself"
                );
            }
            _ => assert!(
                u.item.is_none(),
                "a failed or cancelled item does not come back"
            ),
        }
    }
}

/// Checks that nothing is lost, by counts only, for runs with `Outputs::Discard`.
pub fn check_counts<T, R, E, SE>(abort: &Abort<T, R, E, SE>) {
    let indexed_errors = abort.error().index().iter().count()
        + abort
            .other_errors()
            .iter()
            .filter(|e| e.index().is_some())
            .count();
    assert_eq!(
        abort.report().completed()
            + indexed_errors
            + abort.cancelled().len()
            + abort.unprocessed().len(),
        abort.entered(),
        "the counts do not add up to entered()"
    );
}

/// Checks a clean success on a report with collected outputs: `n` items entered and each
/// index in `0..n` has exactly one output.
pub fn check_all_once<T, R>(report: &Report<T, R>, n: usize) {
    assert_eq!(report.entered(), n, "entered()");
    assert_eq!(report.completed(), n, "completed()");
    let mut indices: Vec<usize> = report.outputs().iter().map(|(i, _)| *i).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..n).collect::<Vec<_>>(), "outputs' indices");
}

/// The index set of an abort's unprocessed items.
pub fn unprocessed_indices<T, R, E, SE>(abort: &Abort<T, R, E, SE>) -> BTreeSet<usize> {
    abort.unprocessed().iter().map(|(i, _)| *i).collect()
}

/// The index set of an abort's (or report's) outputs.
pub fn output_indices<T, R>(report: &Report<T, R>) -> BTreeSet<usize> {
    report.outputs().iter().map(|(i, _)| *i).collect()
}

/// Prefix of the messages of panics the tests cause on purpose.
pub const PLANNED: &str = "planned panic";

/// Installs (once per test binary) a panic hook that stays silent for panics
/// whose message starts with [`PLANNED`] and reports every other panic as
/// usual.
pub fn quiet_planned_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if message.is_some_and(|m| m.starts_with(PLANNED)) {
                return;
            }
            default(info);
        }));
    });
}

/// A small deterministic mix, to derive per-item behaviour from a seed.
pub fn mix(seed: u64, index: usize) -> u64 {
    let mut z = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
