//! The interleaving suite: runs with spawned workers, explored under the
//! `shuttle` crate's schedulers.
//!
//! Built with `--cfg shuttle`, the crate's own atomics, mutexes and
//! thread-locals are shuttle's (see `src/sync.rs`), so every step where they
//! are touched is a point at which shuttle may switch to another task or
//! thread; async-channel and event-listener stay opaque. Each scenario runs
//! a whole run under `shuttle::future::block_on`, its workers spawned as
//! shuttle tasks (`Pool::spawn_on` with `shuttle::future::spawn`), its items
//! sent by clones of the run's `Sender` on shuttle threads (or pulled from a
//! stream), and checks the exact invariants after every schedule:
//!
//! 1. `books_balance_with_racing_senders`: with several sender threads, an
//!    abort's books balance: every index below `entered()`, each index once,
//!    and each index's item is the one its sender had accepted.
//! 2. `fail_fast_behind_a_slow_destructor`: while the failing job's future
//!    runs a slow destructor, at most one job per other worker begins, and at
//!    most that many begin once the queue reports closed.
//! 3. `control_sequences_end_the_run`: any sequence of close, close with a
//!    deadline (pending or ready) and abort ends the run (a hang is a shuttle
//!    deadlock), aborting ones with `Error::Aborted`.
//! 4. `progress_matches_the_books`: under every error policy, the control's
//!    progress once the run has ended equals the run's books, and snapshots
//!    taken during the run never count more items finished than entered.
//! 5. `dropped_run_drops_every_job`: dropping the run's future mid-way drops
//!    every job's future, releases the senders, and lets at most one job per
//!    worker begin after the drop.
//!
//! Each scenario is explored with `shuttle::check_random` and
//! `shuttle::check_pct` (depth [`PCT_DEPTH`]); the shape of a run (worker
//! and thread counts, queue capacity, commands, policy) is drawn from
//! shuttle's deterministic random source, so it is part of the schedule. A
//! failure prints the failing schedule (and, under the random scheduler, the
//! seed): `shuttle::replay(scenario_once, "<schedule>")` replays it, or
//! `SHUTTLE_RANDOM_SEED=<seed>` reruns the random scheduler from it.
//!
//! The file is only compiled with `--cfg shuttle`. CI runs it as
//!
//! ```text
//! RUSTFLAGS="--cfg shuttle" cargo test --target-dir target/shuttle --release --test shuttle
//! ```
//!
//! in a target directory of its own (the flag rebuilds every dependency), in
//! release (shuttle's executions are about ten times faster there). The
//! defaults, [`RANDOM_SCHEDULES`] and [`PCT_SCHEDULES`] per scenario, take
//! about 25 s on an idle two-core machine, after a build of about a minute.
//! To explore deeper, set `FAILFAST_SHUTTLE_ITERATIONS` to the number of
//! schedules per scheduler and scenario (`FAILFAST_SHUTTLE_ITERATIONS=2000000`
//! takes a few minutes per scenario), and pick one scenario by name as usual.

#![cfg(shuttle)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use common::{PLANNED, check_accounting, quiet_planned_panics};
use failfast::{Abort, Control, Error, Job, Policy, Pool, Progress, Report, Sender, Task};
use shuttle::future::{block_on, yield_now};
use shuttle::rand::{Rng, thread_rng};
use shuttle::thread;

/// Schedules per scenario under the random scheduler.
const RANDOM_SCHEDULES: usize = 200_000;
/// Schedules per scenario under the PCT scheduler.
const PCT_SCHEDULES: usize = 100_000;
/// The PCT scheduler's bug depth (the number of priority changes).
const PCT_DEPTH: usize = 3;
/// How many times the main thread yields, at most, waiting for the workers
/// of a dropped run to end.
const WAIT_BOUND: usize = 10_000;

/// `FAILFAST_SHUTTLE_ITERATIONS`, if set, replaces both schedule counts.
fn schedules(default: usize) -> usize {
    match std::env::var("FAILFAST_SHUTTLE_ITERATIONS") {
        Ok(n) => n
            .parse()
            .expect("FAILFAST_SHUTTLE_ITERATIONS must be a number"),
        Err(_) => default,
    }
}

/// Explores `scenario` under the random scheduler, then under PCT.
fn explore(scenario: fn()) {
    shuttle::check_random(scenario, schedules(RANDOM_SCHEDULES));
    shuttle::check_pct(scenario, schedules(PCT_SCHEDULES), PCT_DEPTH);
}

/// The executor: each worker is a shuttle task, detached (dropping shuttle's
/// `JoinHandle` detaches it; the pool keeps its own link to the task).
fn spawn_task(task: Task) {
    drop(shuttle::future::spawn(task));
}

/// Sends `values` in order from the calling shuttle thread; returns each
/// value with whether it was accepted. Every value is tried, so the caller
/// can check that once a send is refused, every later one is too.
fn send_all(tx: &Sender<u32>, values: &[u32]) -> Vec<(u32, bool)> {
    values
        .iter()
        .map(|&value| (value, block_on(tx.send(value)).is_ok()))
        .collect()
}

/// Starts one shuttle thread per list of values, each sending its list
/// through its own clone of `tx`.
fn start_senders(
    tx: &Sender<u32>,
    lists: Vec<Vec<u32>>,
) -> Vec<thread::JoinHandle<Vec<(u32, bool)>>> {
    lists
        .into_iter()
        .map(|values| {
            let tx = tx.clone();
            thread::spawn(move || send_all(&tx, &values))
        })
        .collect()
}

/// Joins the sender threads; checks that each thread's accepted sends come
/// before its refused ones (once the pool stops accepting, it stays so), and
/// returns the accepted values.
fn join_senders(senders: Vec<thread::JoinHandle<Vec<(u32, bool)>>>) -> BTreeSet<u32> {
    let mut accepted = BTreeSet::new();
    for sender in senders {
        let sent = sender.join().expect("a sender thread panicked");
        let refused_at = sent.iter().position(|(_, ok)| !ok);
        if let Some(first) = refused_at {
            assert!(
                sent[first..].iter().all(|(_, ok)| !ok),
                "a send was accepted after an earlier one was refused: {sent:?}"
            );
        }
        for (value, ok) in sent {
            if ok {
                assert!(accepted.insert(value), "value {value} was sent twice");
            }
        }
    }
    accepted
}

/// The values sender thread `t` sends: `10 * t`, `10 * t + 1`, ...
fn values_of(t: u32, count: u32) -> Vec<u32> {
    (0..count).map(|j| 10 * t + j).collect()
}

/// Records which item each handler call was for, by the index
/// [`Job::current`] gives: a handler is called at most once per index.
#[derive(Clone, Default)]
struct Started(Arc<Mutex<BTreeMap<usize, u32>>>);

impl Started {
    fn record(&self, value: u32) {
        let index = Job::current().expect("inside a handler").index();
        let earlier = self.0.lock().unwrap().insert(index, value);
        assert!(
            earlier.is_none(),
            "item {index} was handed to a handler twice"
        );
    }

    /// Every index's item: the started ones, and the unprocessed ones handed
    /// back. Checks that no unprocessed item was started and that together
    /// they are exactly the items in `0..entered`, which are exactly the
    /// values the senders had accepted.
    fn items(
        &self,
        entered: usize,
        unprocessed: &[(usize, u32)],
        accepted: &BTreeSet<u32>,
    ) -> BTreeMap<usize, u32> {
        let mut items = self.0.lock().unwrap().clone();
        for &(index, value) in unprocessed {
            let started = items.insert(index, value);
            assert!(
                started.is_none(),
                "item {index} is unprocessed but was handed to a handler"
            );
        }
        assert_eq!(
            items.keys().copied().collect::<Vec<_>>(),
            (0..entered).collect::<Vec<_>>(),
            "the started and unprocessed items are not exactly 0..entered() = 0..{entered}"
        );
        let values: BTreeSet<u32> = items.values().copied().collect();
        assert_eq!(
            values.len(),
            entered,
            "two indices hold the same item: {items:?}"
        );
        assert_eq!(
            &values, accepted,
            "the items that entered are not the sends that were accepted"
        );
        items
    }
}

/// Checks an abort's item errors against the items: each is `Failed` with
/// the value of the item at its index, and that value is one that fails.
fn check_errors<T, R, SE: std::fmt::Debug>(
    abort: &Abort<T, R, u32, SE>,
    items: &BTreeMap<usize, u32>,
    fails: impl Fn(u32) -> bool,
) {
    for error in std::iter::once(abort.error()).chain(abort.other_errors()) {
        match error {
            Error::Failed { index, source } => {
                assert_eq!(items[index], *source, "error {error:?} is not its item's");
                assert!(fails(*source), "item {source} failed but should not");
            }
            other => panic!("unexpected error {other:?}"),
        }
    }
}

/// Checks that the control's progress, read after the run, equals the run's
/// books.
fn check_progress<T, R, E, SE>(
    progress: Progress,
    result: &Result<Report<T, R>, Abort<T, R, E, SE>>,
) {
    let (report, failed, cancelled) = match result {
        Ok(report) => (report, 0, 0),
        Err(abort) => {
            let failed = std::iter::once(abort.error())
                .chain(abort.other_errors())
                .filter(|e| e.index().is_some())
                .count();
            (abort.report(), failed, abort.cancelled().len())
        }
    };
    let books = [
        ("entered", progress.entered, report.entered()),
        ("queued", progress.queued, 0),
        ("in_flight", progress.in_flight, 0),
        ("completed", progress.completed, report.completed()),
        ("failed", progress.failed, failed),
        ("cancelled", progress.cancelled, cancelled),
        (
            "unprocessed",
            progress.unprocessed,
            report.unprocessed().len(),
        ),
    ];
    for (name, seen, expected) in books {
        assert_eq!(
            seen, expected,
            "progress.{name} after the run disagrees with the books: {progress:?}"
        );
    }
    assert_eq!(
        progress.entered,
        progress.completed + progress.failed + progress.cancelled + progress.unprocessed,
        "progress after the run does not add up: {progress:?}"
    );
}

/// A job's future that yields `yields` times, then returns `Ok(value)`, or
/// `Err(value)` if `fail`; or never returns if `forever`.
async fn job(value: u32, yields: u32, fail: bool, forever: bool) -> Result<u32, u32> {
    if forever {
        std::future::pending::<()>().await;
    }
    for _ in 0..yields {
        yield_now().await;
    }
    if fail { Err(value) } else { Ok(value) }
}

// ---------------------------------------------------------------------------
// 1. Books balance with racing senders.

/// Items that fail in scenario 1: one from thread 0, one from thread 1. Only
/// they can stop intake, so the first of them to be sent always enters and
/// the run aborts.
fn fails_1(value: u32) -> bool {
    value == 1 || value == 12
}

fn books_balance_once() {
    let mut rng = thread_rng();
    let threads = rng.gen_range(2..=3u32);
    let capacity = rng.gen_range(1..=2);
    let started = Started::default();
    let mut senders = Vec::new();

    let result = block_on(Pool::new(2).queue(capacity).spawn_on(spawn_task).run_with(
        |tx| {
            senders = start_senders(&tx, (0..threads).map(|t| values_of(t, 3)).collect());
            async move {
                drop(tx);
                Ok::<(), Infallible>(())
            }
        },
        {
            let started = started.clone();
            // A failing item fails at once: the abort then races the
            // senders as closely as it can.
            move |value: u32| {
                started.record(value);
                let fails = fails_1(value);
                job(value, if fails { 0 } else { value % 3 }, fails, false)
            }
        },
    ));
    let accepted = join_senders(senders);

    let abort = result.expect_err("a failing item always enters, so the run aborts");
    check_accounting(&abort);
    assert!(abort.report().completed() <= abort.entered());
    let items = started.items(abort.entered(), abort.unprocessed(), &accepted);
    for (index, output) in abort.report().outputs() {
        assert_eq!(
            items[index], *output,
            "output of item {index} is another item's"
        );
    }
    check_errors(&abort, &items, fails_1);
}

#[test]
fn books_balance_with_racing_senders() {
    explore(books_balance_once);
}

// ---------------------------------------------------------------------------
// 2. Fail fast behind a slow destructor.

/// The item that fails in scenario 2.
const FAILING_2: u32 = 1;
/// How many times the failing job's destructor yields.
const DESTRUCTOR_YIELDS: usize = 5;

/// A job's future that is ready at once; the failing one's destructor is
/// slow: it says it has begun, then yields several times.
struct SlowDrop {
    value: u32,
    slow: Option<Arc<AtomicBool>>,
}

impl Future for SlowDrop {
    type Output = Result<u32, u32>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<u32, u32>> {
        Poll::Ready(match self.slow {
            Some(_) => Err(self.value),
            None => Ok(self.value),
        })
    }
}

impl Drop for SlowDrop {
    fn drop(&mut self) {
        if let Some(drop_began) = &self.slow {
            drop_began.store(true, Ordering::SeqCst);
            for _ in 0..DESTRUCTOR_YIELDS {
                thread::yield_now();
            }
        }
    }
}

/// Counts the handler calls that begin (the synchronous part of the handler,
/// before its future) after the failing job's destructor began, and those
/// that begin once the queue says it is closed (a sender clone kept as a
/// probe; run_with only). The abort is decided before the failing job's
/// future is dropped, and the queue closes right after the decision: from
/// then on, only a worker that had already looked at the abort signal can
/// still begin a job, at most one per other worker.
fn fail_fast_once() {
    let mut rng = thread_rng();
    let workers = rng.gen_range(2..=3);
    let via_thread = rng.gen_bool(0.5);
    // Progress counters add a scheduling point between a worker's look at
    // the abort and its handler call.
    let tracked = rng.gen_bool(0.5);
    let drop_began = Arc::new(AtomicBool::new(false));
    let after_drop = Arc::new(AtomicUsize::new(0));
    let after_close = Arc::new(AtomicUsize::new(0));
    let probe: Arc<Mutex<Option<Sender<u32>>>> = Arc::default();

    let handler = {
        let (drop_began, after_drop) = (Arc::clone(&drop_began), Arc::clone(&after_drop));
        let (after_close, probe) = (Arc::clone(&after_close), Arc::clone(&probe));
        move |value: u32| {
            if drop_began.load(Ordering::SeqCst) {
                after_drop.fetch_add(1, Ordering::SeqCst);
            }
            if probe
                .lock()
                .unwrap()
                .as_ref()
                .is_some_and(Sender::is_closed)
            {
                after_close.fetch_add(1, Ordering::SeqCst);
            }
            SlowDrop {
                value,
                slow: (value == FAILING_2).then(|| Arc::clone(&drop_began)),
            }
        }
    };
    let mut pool = Pool::new(workers).queue(4);
    if tracked {
        pool = pool.control(&Control::new());
    }
    let pool = pool.spawn_on(spawn_task);
    let mut senders = Vec::new();
    let result = if via_thread {
        block_on(pool.run_with(
            |tx| {
                *probe.lock().unwrap() = Some(tx.clone());
                senders = start_senders(&tx, vec![(0..8).collect()]);
                async move {
                    drop(tx);
                    Ok::<(), Infallible>(())
                }
            },
            handler,
        ))
    } else {
        block_on(pool.run(futures::stream::iter(0..8u32), handler))
    };
    drop(probe.lock().unwrap().take());
    join_senders(senders);

    let abort = result.expect_err("item 1 always enters and fails");
    check_accounting(&abort);
    let after_drop = after_drop.load(Ordering::SeqCst);
    assert!(
        after_drop < workers,
        "{after_drop} jobs began after the failing job's destructor began, with {workers} workers"
    );
    let after_close = after_close.load(Ordering::SeqCst);
    assert!(
        after_close < workers,
        "{after_close} jobs began after the queue said it was closed, with {workers} workers"
    );
}

#[test]
fn fail_fast_behind_a_slow_destructor() {
    explore(fail_fast_once);
}

// ---------------------------------------------------------------------------
// 3. Control sequences end the run.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Close,
    DeadlinePending,
    DeadlineReady,
    Abort,
}

fn control_sequence_once() {
    let mut rng = thread_rng();
    let commands: Vec<Command> = (0..rng.gen_range(1..=3))
        .map(|_| match rng.gen_range(0..4) {
            0 => Command::Close,
            1 => Command::DeadlinePending,
            2 => Command::DeadlineReady,
            _ => Command::Abort,
        })
        .collect();
    // A later deadline replaces an earlier one, so a ready deadline followed
    // by a pending one aborts only if the run polled it in between.
    let last_deadline = commands
        .iter()
        .rev()
        .find(|c| matches!(c, Command::DeadlinePending | Command::DeadlineReady));
    let must_abort =
        commands.contains(&Command::Abort) || last_deadline == Some(&Command::DeadlineReady);
    let may_abort = must_abort || commands.contains(&Command::DeadlineReady);
    let shown = format!("{commands:?}");
    let control = Control::new();
    let steer = {
        let control = control.clone();
        thread::spawn(move || {
            for command in commands {
                match command {
                    Command::Close => control.close(),
                    Command::DeadlinePending => control.close_with_deadline(std::future::pending()),
                    Command::DeadlineReady => control.close_with_deadline(std::future::ready(())),
                    Command::Abort => control.abort(),
                }
            }
        })
    };
    let started = Started::default();
    let mut senders = Vec::new();

    let result = block_on(
        Pool::new(2)
            .queue(1)
            .control(&control)
            .spawn_on(spawn_task)
            .run_with(
                |tx| {
                    senders = start_senders(&tx, vec![(0..5).collect()]);
                    async move {
                        drop(tx);
                        Ok::<(), Infallible>(())
                    }
                },
                {
                    let started = started.clone();
                    // Only an abort can end a run whose jobs never end: those are
                    // only in runs that will be aborted.
                    move |value: u32| {
                        started.record(value);
                        let forever = must_abort && value % 2 == 0;
                        job(value, 1 + value % 2, false, forever)
                    }
                },
            ),
    );
    steer.join().unwrap();
    let accepted = join_senders(senders);
    check_progress(control.progress(), &result);

    match result {
        Err(abort) => {
            assert!(may_abort, "{shown}: aborted without an abort: {abort:?}");
            assert!(control.is_aborted());
            match abort.error() {
                Error::Aborted { entered } => assert!(*entered <= abort.entered()),
                other => panic!("{shown}: aborted with {other:?}"),
            }
            assert!(abort.other_errors().is_empty(), "{abort:?}");
            check_accounting(&abort);
            let items = started.items(abort.entered(), abort.unprocessed(), &accepted);
            for (index, output) in abort.report().outputs() {
                assert_eq!(items[index], *output);
                assert!(
                    !must_abort || output % 2 == 1,
                    "{shown}: item {output} never ends, yet completed"
                );
            }
        }
        Ok(report) => {
            assert!(!report.closed_early() || control.is_closed());
            if must_abort {
                // The run ended before the abort: closed before item 0,
                // which never ends, could enter.
                assert!(
                    report.entered() == 0 && report.closed_early(),
                    "{shown}: the run ended without the abort it was given: {report:?}"
                );
            }
            assert!(
                report.unprocessed().is_empty(),
                "a run that ends in Ok hands nothing back"
            );
            assert_eq!(report.completed(), report.entered());
            let items = started.items(report.entered(), &[], &accepted);
            let mut outputs: Vec<(usize, u32)> = report.outputs().to_vec();
            outputs.sort_unstable();
            assert_eq!(outputs, items.into_iter().collect::<Vec<_>>());
        }
    }
}

#[test]
fn control_sequences_end_the_run() {
    explore(control_sequence_once);
}

// ---------------------------------------------------------------------------
// 4. Progress matches the books.

fn progress_once() {
    quiet_planned_panics();
    let mut rng = thread_rng();
    let policy = match rng.gen_range(0..3) {
        0 => Policy::FailFast,
        1 => Policy::AbortAfter(2),
        _ => Policy::Continue,
    };
    let control = Control::new();
    let off_the_books = Arc::new(Mutex::new(Vec::new()));
    let started = Started::default();
    let mut senders = Vec::new();

    let pool = Pool::new(2)
        .queue(rng.gen_range(1..=2))
        .policy(policy)
        .control(&control)
        .on_progress({
            let off_the_books = Arc::clone(&off_the_books);
            move |p: &Progress| {
                if p.completed + p.failed + p.cancelled + p.unprocessed > p.entered {
                    off_the_books.lock().unwrap().push(*p);
                }
            }
        })
        .spawn_on(spawn_task);
    let result = block_on(pool.run_with(
        |tx| {
            senders = start_senders(&tx, vec![values_of(0, 3), values_of(1, 3)]);
            async move {
                drop(tx);
                Ok::<(), Infallible>(())
            }
        },
        {
            let started = started.clone();
            move |value: u32| {
                started.record(value);
                if value == 11 {
                    panic!("{PLANNED}: item {value}");
                }
                job(value, value % 2, value == 1 || value == 12, false)
            }
        },
    ));
    let accepted = join_senders(senders);
    check_progress(control.progress(), &result);
    let off_the_books = off_the_books.lock().unwrap();
    assert!(
        off_the_books.is_empty(),
        "progress counted more items finished than entered: {off_the_books:?}"
    );

    let abort = result.expect_err("items 1 and 12 fail and item 11 panics");
    check_accounting(&abort);
    let items = started.items(abort.entered(), abort.unprocessed(), &accepted);
    for error in std::iter::once(abort.error()).chain(abort.other_errors()) {
        let index = error.index().expect("only items fail");
        assert!(
            matches!(items[&index], 1 | 11 | 12),
            "item {} failed: {error:?}",
            items[&index]
        );
    }
    if policy == Policy::Continue {
        assert!(abort.cancelled().is_empty(), "{abort:?}");
        assert!(abort.unprocessed().is_empty(), "{abort:?}");
        assert_eq!(abort.entered(), 6, "every send is accepted");
    }
}

#[test]
fn progress_matches_the_books() {
    explore(progress_once);
}

// ---------------------------------------------------------------------------
// 4b. What is running, read from another thread while the run goes on.

fn in_flight_once() {
    let mut rng = thread_rng();
    let control = Control::new();
    if rng.gen_bool(0.5) {
        // Asked before the run: every job is timed from its start.
        assert!(control.in_flight().is_empty());
    }
    let reader = {
        let control = control.clone();
        thread::spawn(move || {
            let mut listed = Vec::new();
            for _ in 0..3 {
                let running = control.in_flight();
                let entered = control.progress().entered;
                let mut workers: Vec<usize> = running.iter().map(|r| r.worker).collect();
                workers.sort_unstable();
                workers.dedup();
                assert_eq!(
                    workers.len(),
                    running.len(),
                    "one job per worker: {running:?}"
                );
                assert!(
                    running.windows(2).all(|w| w[0].index < w[1].index),
                    "{running:?}"
                );
                for r in &running {
                    assert!(
                        r.worker < 2 && r.index < entered,
                        "{r:?}, entered {entered}"
                    );
                }
                listed.extend(running.iter().map(|r| r.index));
                thread::yield_now();
            }
            listed
        })
    };
    let result = block_on(
        Pool::new(2)
            .queue(1)
            .control(&control)
            .spawn_on(spawn_task)
            .run(futures::stream::iter(0..4u32), |value| {
                job(value, value % 3, false, false)
            }),
    );
    let listed = reader.join().unwrap();
    let report = result.expect("nothing fails");
    assert_eq!(report.completed(), 4);
    assert!(listed.iter().all(|i| *i < 4));
    assert!(control.in_flight().is_empty(), "nothing runs after the run");
}

#[test]
fn in_flight_lists_running_jobs_only() {
    explore(in_flight_once);
}

// ---------------------------------------------------------------------------
// 5. A dropped run drops every job.

/// A job's future that counts its drop.
struct Counted<F> {
    job: Pin<Box<F>>,
    dropped: Arc<AtomicUsize>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.job.as_mut().poll(cx)
    }
}

impl<F> Drop for Counted<F> {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

fn dropped_run_once() {
    let mut rng = thread_rng();
    let workers = rng.gen_range(2..=3);
    let polls = rng.gen_range(1..=8);
    let created = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let run_dropped = Arc::new(AtomicBool::new(false));
    let after_drop = Arc::new(AtomicUsize::new(0));
    let tasks_ended = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();

    let spawn = {
        let tasks_ended = Arc::clone(&tasks_ended);
        move |task: Task| {
            let tasks_ended = Arc::clone(&tasks_ended);
            drop(shuttle::future::spawn(async move {
                task.await;
                tasks_ended.fetch_add(1, Ordering::SeqCst);
            }));
        }
    };
    let handler = {
        let (created, dropped) = (Arc::clone(&created), Arc::clone(&dropped));
        let (run_dropped, after_drop) = (Arc::clone(&run_dropped), Arc::clone(&after_drop));
        move |value: u32| {
            created.fetch_add(1, Ordering::SeqCst);
            if run_dropped.load(Ordering::SeqCst) {
                after_drop.fetch_add(1, Ordering::SeqCst);
            }
            Counted {
                job: Box::pin(job(value, 2, false, value % 2 == 0)),
                dropped: Arc::clone(&dropped),
            }
        }
    };
    let run = Pool::new(workers).queue(1).spawn_on(spawn).run_with(
        |tx| {
            senders = start_senders(&tx, vec![values_of(0, 3), values_of(1, 3)]);
            async move {
                drop(tx);
                Ok::<(), Infallible>(())
            }
        },
        handler,
    );
    let mut run = Box::pin(run);
    let ended = block_on(async {
        for _ in 0..polls {
            if futures::poll!(run.as_mut()).is_ready() {
                return true;
            }
            yield_now().await;
        }
        false
    });
    assert!(!ended, "item 0 never ends, so the run cannot");
    drop(run);
    run_dropped.store(true, Ordering::SeqCst);

    // Every sender blocked on the queue is released.
    join_senders(senders);
    // Every worker ends, and with it every job.
    let mut waited = 0;
    while tasks_ended.load(Ordering::SeqCst) < workers && waited < WAIT_BOUND {
        thread::yield_now();
        waited += 1;
    }
    assert_eq!(
        tasks_ended.load(Ordering::SeqCst),
        workers,
        "workers still running {WAIT_BOUND} yields after the run was dropped"
    );
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        created.load(Ordering::SeqCst),
        "job futures not dropped once every worker has ended"
    );
    let after_drop = after_drop.load(Ordering::SeqCst);
    assert!(
        after_drop <= workers,
        "{after_drop} jobs began after the run was dropped, with {workers} workers"
    );
}

#[test]
fn dropped_run_drops_every_job() {
    explore(dropped_run_once);
}
