//! A model-based random test: proptest generates whole scenarios (executor,
//! source, pool shape, policy, what each item's handler does, a timed
//! sequence of control commands, a progress callback), runs each one, and
//! checks the crate's guarantees against what the scenario's own
//! instrumentation saw:
//!
//! - the run ends (watchdog), and a run that cannot work (an executor that
//!   runs tasks inside `spawn`) ends promptly;
//! - no job future outlives the run (checked the moment it returns);
//! - the books balance: every index below `entered()` is in exactly one place,
//!   and each place fits what the item's handler did;
//! - every error is explained by the scenario, and everything that must have
//!   produced an error did;
//! - the progress counters equal the books once the run is over;
//! - every item made is dropped exactly once, or handed back by value;
//! - the pool holds at most `queue + workers` items (plus one per producer
//!   thread, the item it is sending);
//! - control semantics: an abort the run surely saw (issued between two of
//!   its polls) or issued by a handler ends it in `Err`; a close it saw
//!   before the source
//!   ended shows in `closed_early()`; an `Ok` report with items left in the
//!   source was closed early;
//! - the error policy: short of its limit, and with nothing else going wrong,
//!   nothing is cancelled or handed back;
//! - inline, the first error is the cause and no job starts after the error
//!   that aborted the run; spawned, at most one job per other worker begins
//!   after the abort was decided (see `check_late_starts`).
//!
//! `FAILFAST_MODEL_CASES` raises the number of cases (never lowers it).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{PLANNED, mix, quiet_planned_panics, watchdog_for};
use failfast::{Abort, Control, Error, Job, Policy, Pool, Progress, Report, Sender, Task, Wrap};
use futures::StreamExt as _;
use futures::stream::Stream;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

/// How many scenarios the test runs; `FAILFAST_MODEL_CASES` may raise it.
const MIN_CASES: u32 = 60_000;

/// How long one run may take before the test declares it hung.
const WATCHDOG: Duration = Duration::from_secs(20);

/// How long a run whose executor cannot run its workers may take.
const PROMPT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------
// Executors, built once per test binary.

static SMOL: LazyLock<Arc<smol::Executor<'static>>> = LazyLock::new(|| common::smol_executor(2));

static TOKIO: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| common::tokio_multi_thread(2));

static THREAD_POOL: LazyLock<futures::executor::ThreadPool> = LazyLock::new(|| {
    futures::executor::ThreadPool::builder()
        .pool_size(2)
        .create()
        .expect("a thread pool")
});

// ---------------------------------------------------------------------------
// The scenario.

/// Where the workers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exec {
    /// Inline, the run awaited under `futures::executor::block_on`.
    Inline,
    /// A smol executor served by 2 threads; the run under `smol::block_on`.
    Smol,
    /// A tokio multi-thread runtime with 2 workers; the run under its
    /// `block_on`.
    Tokio,
    /// `futures`' `ThreadPool` of 2 threads.
    ThreadPool,
    /// A closure that drops spawn number `w` unpolled when
    /// `w % every == every - 1` (at least one, as `every <= workers`), and
    /// spawns the others on smol.
    Dropping { every: usize },
    /// `|task| futures::executor::block_on(task)`: runs the task inside
    /// `spawn` (the run itself under `smol::block_on`, since
    /// `futures::executor::block_on` does not nest).
    Synchronous,
    /// A closure that panics in spawn number `at` (`at < workers`) and spawns
    /// the others on the `ThreadPool`.
    PanicSpawn { at: usize },
}

impl Exec {
    /// The executor makes the run fail whatever the items do.
    fn always_fails(self) -> bool {
        matches!(
            self,
            Exec::Dropping { .. } | Exec::Synchronous | Exec::PanicSpawn { .. }
        )
    }

    fn is_inline(self) -> bool {
        self == Exec::Inline
    }
}

/// What the handler does with one item (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Completes after `yields` yields.
    Ok { yields: u8 },
    /// Returns `Err` after `yields` yields.
    Err { yields: u8 },
    /// Panics in its future after `yields` yields.
    Panic { yields: u8 },
    /// The handler's call panics (no future is made).
    PanicInCall,
    /// Completes after `yields` yields, but its future's destructor panics.
    PanicOnDrop { yields: u8 },
    /// Never completes (only in scenarios that surely abort).
    Pending,
}

impl Behaviour {
    fn yields(self) -> u8 {
        match self {
            Behaviour::Ok { yields }
            | Behaviour::Err { yields }
            | Behaviour::Panic { yields }
            | Behaviour::PanicOnDrop { yields } => yields,
            Behaviour::PanicInCall | Behaviour::Pending => 0,
        }
    }
}

/// How the source fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceFailure {
    /// A `TryStream` `Err` instead of item `at`.
    Err { at: usize },
    /// The stream panics instead of yielding item `at`.
    Panic { at: usize },
}

impl SourceFailure {
    fn at(self) -> usize {
        match self {
            SourceFailure::Err { at } | SourceFailure::Panic { at } => at,
        }
    }
}

/// Where the items come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A stream of the items, through `Pool::run` (`try_run: false`, an
    /// infallible stream) or `Pool::try_run`. `slow`: each item comes after a
    /// few yields or a short smol timer. `failure`: the stream fails there
    /// (if before the end).
    Stream {
        try_run: bool,
        slow: bool,
        failure: Option<SourceFailure>,
    },
    /// `Pool::run_with`: `threads` OS threads, each with a clone of the
    /// `Sender`, send their share of the items with
    /// `futures::executor::block_on(tx.send(item))`, stopping at the first
    /// refused send.
    Senders { threads: usize },
}

/// A control command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Close,
    /// `close_with_deadline(smol::Timer::after(ms))`.
    DeadlineAfter {
        ms: u64,
    },
    /// `close_with_deadline(pending())`.
    DeadlineNever,
    Abort,
}

impl Command {
    /// Whether the command can abort the run (now or when its deadline fires).
    fn can_abort(self) -> bool {
        matches!(self, Command::Abort | Command::DeadlineAfter { .. })
    }

    /// Whether the command closes intake.
    fn closes(self) -> bool {
        !matches!(self, Command::Abort)
    }
}

/// Who issues a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Issuer {
    /// The commander thread, after sleeping `delay_us` since its previous
    /// command.
    Thread { delay_us: u64 },
    /// The handler's call for item `at`, before it makes the future.
    Handler { at: usize },
}

/// The error policy (mirrors `failfast::Policy`, which is `non_exhaustive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyModel {
    FailFast,
    Continue,
    AbortAfter(usize),
}

impl PolicyModel {
    fn policy(self) -> Policy {
        match self {
            PolicyModel::FailFast => Policy::FailFast,
            PolicyModel::Continue => Policy::Continue,
            PolicyModel::AbortAfter(n) => Policy::AbortAfter(n),
        }
    }

    /// How many item errors abort the run.
    fn limit(self) -> usize {
        match self {
            PolicyModel::FailFast => 1,
            PolicyModel::Continue => usize::MAX,
            PolicyModel::AbortAfter(n) => n,
        }
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    exec: Exec,
    workers: usize,
    capacity: usize,
    policy: PolicyModel,
    /// One behaviour per item; the source offers `items.len()` items.
    items: Vec<Behaviour>,
    source: Source,
    commands: Vec<(Command, Issuer)>,
    /// The commander thread issues each command between two polls of the run
    /// (it holds the lock the run is polled under), so it knows whether the
    /// run has returned and that the run will see the command if not.
    /// Otherwise it issues them at any moment.
    synced: bool,
    /// A `Control` is attached (always, when there are commands).
    control: bool,
    /// An `on_progress` callback; `Some(Some(n))` panics at its `n`-th call.
    progress: Option<Option<usize>>,
    /// Drives the slow stream's delays and the sender threads' yields.
    seed: u64,
}

impl Scenario {
    fn total(&self) -> usize {
        self.items.len()
    }

    /// The stream's failure, if it comes before the stream's end.
    fn source_failure(&self) -> Option<SourceFailure> {
        match self.source {
            Source::Stream { failure, .. } => failure.filter(|f| f.at() < self.total()),
            Source::Senders { .. } => None,
        }
    }

    fn threads(&self) -> usize {
        match self.source {
            Source::Senders { threads } => threads,
            Source::Stream { .. } => 0,
        }
    }

    /// Workers the dropping executor drops.
    fn dropped_workers(&self) -> BTreeSet<usize> {
        match self.exec {
            Exec::Dropping { every } => (0..self.workers)
                .filter(|w| w % every == every - 1)
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    fn behaviour(&self, index: usize) -> Option<Behaviour> {
        self.items.get(index).copied()
    }

    /// Whether every job goes through a counting wrapper (`Pool::wrap`);
    /// from the seed, so the scenario's shape stays as it was.
    fn wrapped(&self) -> bool {
        self.seed % 2 == 0
    }
}

fn behaviour_of(roll: u32, density: u32, yields: u8, kind: u8) -> Behaviour {
    if roll >= density {
        return Behaviour::Ok { yields };
    }
    match kind {
        0 => Behaviour::Err { yields },
        1 => Behaviour::Panic { yields },
        2 => Behaviour::PanicInCall,
        3 => Behaviour::PanicOnDrop { yields },
        _ => Behaviour::Pending,
    }
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let exec = prop_oneof![
        3 => Just(Exec::Inline),
        2 => Just(Exec::Smol),
        2 => Just(Exec::Tokio),
        2 => Just(Exec::ThreadPool),
        1 => (1usize..=4).prop_map(|every| Exec::Dropping { every }),
        1 => Just(Exec::Synchronous),
        1 => (0usize..4).prop_map(|at| Exec::PanicSpawn { at }),
    ];
    let policy = prop_oneof![
        Just(PolicyModel::FailFast),
        Just(PolicyModel::Continue),
        (1usize..=3).prop_map(PolicyModel::AbortAfter),
    ];
    // Faults per 1000 items: none, few, some, many.
    let density = prop_oneof![
        3 => Just(0u32),
        2 => Just(15u32),
        2 => Just(60u32),
        1 => Just(250u32),
    ];
    let items = proptest::collection::vec((0u32..1000, 0u8..4, 0u8..6), 0..=40);
    let failure = proptest::option::weighted(
        0.3,
        (0usize..45, any::<bool>()).prop_map(|(at, panics)| {
            if panics {
                SourceFailure::Panic { at }
            } else {
                SourceFailure::Err { at }
            }
        }),
    );
    let source = prop_oneof![
        3 => (any::<bool>(), any::<bool>(), failure).prop_map(|(try_run, slow, failure)| {
            Source::Stream { try_run, slow, failure }
        }),
        2 => (1usize..=4).prop_map(|threads| Source::Senders { threads }),
    ];
    let command = prop_oneof![
        Just(Command::Close),
        (0u64..=5).prop_map(|ms| Command::DeadlineAfter { ms }),
        Just(Command::DeadlineNever),
        Just(Command::Abort),
    ];
    let issuer = prop_oneof![
        3 => (0usize..40).prop_map(|at| Issuer::Handler { at }),
        2 => (0u64..200).prop_map(|delay_us| Issuer::Thread { delay_us }),
        1 => (0u64..3000).prop_map(|delay_us| Issuer::Thread { delay_us }),
    ];
    let commands = prop_oneof![
        2 => Just(Vec::new()),
        3 => proptest::collection::vec((command, issuer), 1..=4),
    ];
    let progress = prop_oneof![
        2 => Just(None),
        1 => Just(Some(None)),
        1 => (1usize..=40).prop_map(|n| Some(Some(n))),
    ];
    (
        exec,
        1usize..=4,
        1usize..=4,
        policy,
        (density, items),
        source,
        commands,
        any::<bool>(),
        any::<bool>(),
        progress,
        any::<u64>(),
    )
        .prop_map(
            |(
                exec,
                workers,
                capacity,
                policy,
                (density, items),
                source,
                commands,
                synced,
                control,
                progress,
                seed,
            )| {
                let exec = match exec {
                    Exec::Dropping { every } => Exec::Dropping {
                        every: every.min(workers),
                    },
                    Exec::PanicSpawn { at } => Exec::PanicSpawn { at: at % workers },
                    exec => exec,
                };
                // An erroring source needs `try_run`.
                let source = match source {
                    Source::Stream {
                        slow,
                        failure: failure @ Some(SourceFailure::Err { .. }),
                        ..
                    } => Source::Stream {
                        try_run: true,
                        slow,
                        failure,
                    },
                    source => source,
                };
                // A job that never ends only where the run surely aborts:
                // the executor fails, the commander thread aborts, or it sets
                // a timed deadline that no never-ready one can replace.
                let from_thread = |command: Command| {
                    commands
                        .iter()
                        .any(|(c, i)| *c == command && matches!(i, Issuer::Thread { .. }))
                };
                let timed_deadline = commands.iter().any(|(c, i)| {
                    matches!(
                        (c, i),
                        (Command::DeadlineAfter { .. }, Issuer::Thread { .. })
                    )
                });
                let never = commands.iter().any(|(c, _)| *c == Command::DeadlineNever);
                let surely_aborts = exec.always_fails()
                    || from_thread(Command::Abort)
                    || (timed_deadline && !never);
                let items = items
                    .into_iter()
                    .map(
                        |(roll, yields, kind)| match behaviour_of(roll, density, yields, kind) {
                            Behaviour::Pending if !surely_aborts => Behaviour::Err { yields: 1 },
                            behaviour => behaviour,
                        },
                    )
                    .collect();
                Scenario {
                    exec,
                    workers,
                    capacity,
                    policy,
                    items,
                    control: control || !commands.is_empty(),
                    source,
                    commands,
                    synced,
                    progress,
                    seed,
                }
            },
        )
}

// ---------------------------------------------------------------------------
// Instrumentation.

/// The handler's error.
#[derive(Debug, PartialEq, Eq)]
struct Fail(usize);

/// The source's error: the position it replaced.
#[derive(Debug, PartialEq, Eq)]
struct SourceFail(usize);

/// A source error type the checks can read.
trait SourceError: fmt::Debug {
    fn position(&self) -> usize;
}

impl SourceError for Infallible {
    fn position(&self) -> usize {
        match *self {}
    }
}

impl SourceError for SourceFail {
    fn position(&self) -> usize {
        self.0
    }
}

/// Counts items: made, alive now, alive at most, and drops per item.
#[derive(Debug, Default)]
struct Tracker {
    created: AtomicUsize,
    live: AtomicUsize,
    max_live: AtomicUsize,
    drops: Mutex<Vec<u32>>,
}

/// An item: `id` numbers items in the order they are made.
#[derive(Debug)]
struct Item {
    id: usize,
    tracker: Arc<Tracker>,
}

impl Item {
    fn new(tracker: &Arc<Tracker>) -> Item {
        let id = tracker.created.fetch_add(1, SeqCst);
        let live = tracker.live.fetch_add(1, SeqCst) + 1;
        tracker.max_live.fetch_max(live, SeqCst);
        Item {
            id,
            tracker: Arc::clone(tracker),
        }
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        {
            let mut drops = lock(&self.tracker.drops);
            if drops.len() <= self.id {
                drops.resize(self.id + 1, 0);
            }
            drops[self.id] += 1;
        }
        self.tracker.live.fetch_sub(1, SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A command as it was issued.
#[derive(Debug, Clone, Copy)]
struct Issued {
    command: Command,
    /// Surely issued before the run returned.
    during_run: bool,
    /// Surely seen by the run: it polls its control after this.
    seen: bool,
    /// The source had not ended when it was issued.
    before_source_end: bool,
}

/// A handler call.
#[derive(Debug, Clone, Copy)]
struct Start {
    stamp: usize,
    id: usize,
    worker: usize,
}

/// Everything one run's instrumentation records, shared by the handler, the
/// source, the sender threads, the commander thread and the checks.
struct Ctx {
    sc: Scenario,
    control: Control,
    /// Orders the events below.
    clock: AtomicUsize,
    tracker: Arc<Tracker>,
    /// Handler calls by index.
    starts: Mutex<BTreeMap<usize, Start>>,
    /// Things the handler saw that are wrong (a job called twice, a wrong
    /// `Job::current()`).
    oddities: Mutex<Vec<String>>,
    /// When each item failure happened (Err returned, panic), with its index.
    failures: Mutex<Vec<(usize, usize)>>,
    source_failed: Mutex<Option<usize>>,
    progress_calls: AtomicUsize,
    progress_panicked: Mutex<Option<usize>>,
    /// The first progress call that saw the policy's limit of item errors:
    /// after the abort was decided (it is decided before the count moves).
    decided_by: Mutex<Option<usize>>,
    futures_made: AtomicUsize,
    futures_dropped: AtomicUsize,
    /// Job futures wrapped by the pool's wrapper, and wrapped futures
    /// dropped (when the scenario wraps its jobs).
    wrappers_made: AtomicUsize,
    wrappers_dropped: AtomicUsize,
    issued: Mutex<Vec<Issued>>,
    source_ended: AtomicBool,
    /// Held while the run is polled (and by a synced commander).
    gate: Mutex<()>,
    returned: AtomicBool,
    /// Sender threads: items accepted and refused, threads that sent all.
    sent: AtomicUsize,
    refused: AtomicUsize,
    threads_done: AtomicUsize,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Ctx {
    fn new(sc: &Scenario) -> Arc<Ctx> {
        Arc::new(Ctx {
            sc: sc.clone(),
            control: Control::new(),
            clock: AtomicUsize::new(0),
            tracker: Arc::default(),
            starts: Mutex::default(),
            oddities: Mutex::default(),
            failures: Mutex::default(),
            source_failed: Mutex::default(),
            progress_calls: AtomicUsize::new(0),
            progress_panicked: Mutex::default(),
            decided_by: Mutex::default(),
            futures_made: AtomicUsize::new(0),
            futures_dropped: AtomicUsize::new(0),
            wrappers_made: AtomicUsize::new(0),
            wrappers_dropped: AtomicUsize::new(0),
            issued: Mutex::default(),
            source_ended: AtomicBool::new(false),
            gate: Mutex::new(()),
            returned: AtomicBool::new(false),
            sent: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            threads_done: AtomicUsize::new(0),
            threads: Mutex::default(),
        })
    }

    fn tick(&self) -> usize {
        self.clock.fetch_add(1, SeqCst)
    }

    fn oddity(&self, what: String) {
        lock(&self.oddities).push(what);
    }

    fn item_failed(&self, index: usize) {
        let stamp = self.tick();
        lock(&self.failures).push((stamp, index));
    }

    fn issue(&self, command: Command, during_run: bool, seen: bool) {
        let before_source_end = !self.source_ended.load(SeqCst);
        match command {
            Command::Close => self.control.close(),
            Command::DeadlineAfter { ms } => self.control.close_with_deadline(async move {
                smol::Timer::after(Duration::from_millis(ms)).await;
            }),
            Command::DeadlineNever => self
                .control
                .close_with_deadline(futures::future::pending::<()>()),
            Command::Abort => self.control.abort(),
        }
        lock(&self.issued).push(Issued {
            command,
            during_run,
            seen,
            before_source_end,
        });
    }
}

/// A job's future: holds its item until it completes, counts its own drop,
/// and behaves as the scenario says.
struct JobFuture {
    ctx: Arc<Ctx>,
    index: usize,
    id: usize,
    item: Option<Item>,
    behaviour: Behaviour,
    yields_left: u8,
}

impl Future for JobFuture {
    type Output = Result<usize, Fail>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.yields_left > 0 {
            this.yields_left -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match this.behaviour {
            Behaviour::Ok { .. } | Behaviour::PanicOnDrop { .. } => {
                drop(this.item.take());
                Poll::Ready(Ok(this.id))
            }
            Behaviour::Err { .. } => {
                this.ctx.item_failed(this.index);
                Poll::Ready(Err(Fail(this.index)))
            }
            Behaviour::Panic { .. } => {
                this.ctx.item_failed(this.index);
                panic!("{PLANNED}: the future of item {}", this.index);
            }
            Behaviour::Pending => Poll::Pending,
            Behaviour::PanicInCall => unreachable!("no future is made"),
        }
    }
}

impl Drop for JobFuture {
    fn drop(&mut self) {
        drop(self.item.take());
        self.ctx.futures_dropped.fetch_add(1, SeqCst);
        if matches!(self.behaviour, Behaviour::PanicOnDrop { .. }) && !std::thread::panicking() {
            self.ctx.item_failed(self.index);
            panic!("{PLANNED}: the destructor of item {}'s future", self.index);
        }
    }
}

/// The handler: records the call, issues the commands due at this item, and
/// makes the item's future (or panics, as the scenario says).
fn handler(ctx: &Arc<Ctx>) -> impl Fn(Item) -> JobFuture + Send + Sync + 'static {
    let ctx = Arc::clone(ctx);
    move |item: Item| {
        let stamp = ctx.tick();
        let (index, worker) = match Job::current() {
            Some(job) => {
                if job.worker() >= ctx.sc.workers {
                    ctx.oddity(format!("Job::current() names worker {}", job.worker()));
                }
                (job.index(), job.worker())
            }
            None => {
                ctx.oddity(format!("Job::current() is None for item {}", item.id));
                (item.id, usize::MAX)
            }
        };
        if ctx.sc.control {
            // The job being made is in flight, on its own worker.
            let running = ctx.control.in_flight();
            if !running
                .iter()
                .any(|r| r.index == index && r.worker == worker)
            {
                ctx.oddity(format!(
                    "item {index} (worker {worker}) not in flight: {running:?}"
                ));
            }
            let mut workers: Vec<usize> = running.iter().map(|r| r.worker).collect();
            workers.sort_unstable();
            workers.dedup();
            if workers.len() != running.len() || workers.iter().any(|w| *w >= ctx.sc.workers) {
                ctx.oddity(format!("in flight: {running:?}"));
            }
        }
        let id = item.id;
        let start = Start { stamp, id, worker };
        if lock(&ctx.starts).insert(index, start).is_some() {
            ctx.oddity(format!("item {index}'s handler was called twice"));
        }
        for (command, issuer) in &ctx.sc.commands {
            if *issuer == (Issuer::Handler { at: index }) {
                // Issued during the run, but not surely seen by it: the run
                // reads its control at the start of each poll, and may find
                // every worker done later in that same poll (inline, this
                // very handler's; spawned, on other threads meanwhile).
                ctx.issue(*command, true, false);
            }
        }
        let behaviour = ctx.sc.behaviour(index).unwrap_or_else(|| {
            ctx.oddity(format!("index {index} is beyond the source's items"));
            Behaviour::Ok { yields: 0 }
        });
        if behaviour == Behaviour::PanicInCall {
            ctx.item_failed(index);
            panic!("{PLANNED}: the call for item {index}");
        }
        ctx.futures_made.fetch_add(1, SeqCst);
        JobFuture {
            ctx: Arc::clone(&ctx),
            index,
            id,
            item: Some(item),
            behaviour,
            yields_left: behaviour.yields(),
        }
    }
}

/// The stream source: makes item `i` when it yields it, after a delay if
/// slow; fails where the scenario says; records its end.
struct SourceStream {
    ctx: Arc<Ctx>,
    next: usize,
    delay: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Stream for SourceStream {
    type Item = Result<Item, SourceFail>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let sc = &this.ctx.sc;
        if this.next >= sc.total() {
            this.ctx.source_ended.store(true, SeqCst);
            return Poll::Ready(None);
        }
        let i = this.next;
        if let Source::Stream { slow: true, .. } = sc.source {
            let delay = this.delay.get_or_insert_with(|| {
                let r = mix(sc.seed, i);
                match r % 4 {
                    0 => Box::pin(async {}),
                    1 | 2 => Box::pin(common::yield_times((r % 4) as usize)),
                    _ => Box::pin(async move {
                        smol::Timer::after(Duration::from_micros(50 + (r >> 8) % 250)).await;
                    }),
                }
            });
            if delay.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.delay = None;
        }
        this.next += 1;
        match sc.source_failure() {
            Some(SourceFailure::Err { at }) if at == i => {
                *lock(&this.ctx.source_failed) = Some(this.ctx.tick());
                Poll::Ready(Some(Err(SourceFail(i))))
            }
            Some(SourceFailure::Panic { at }) if at == i => {
                *lock(&this.ctx.source_failed) = Some(this.ctx.tick());
                panic!("{PLANNED}: the source at item {i}");
            }
            _ => Poll::Ready(Some(Ok(Item::new(&this.ctx.tracker)))),
        }
    }
}

fn source_stream(ctx: &Arc<Ctx>) -> SourceStream {
    SourceStream {
        ctx: Arc::clone(ctx),
        next: 0,
        delay: None,
    }
}

/// `run_with`'s producer: starts the sender threads and returns.
fn producer(
    ctx: &Arc<Ctx>,
) -> impl FnOnce(Sender<Item>) -> futures::future::Ready<Result<(), SourceFail>> {
    let ctx = Arc::clone(ctx);
    move |tx: Sender<Item>| {
        let threads = ctx.sc.threads();
        let total = ctx.sc.total();
        for t in 0..threads {
            let share = (t..total).step_by(threads).count();
            let tx = tx.clone();
            let thread_ctx = Arc::clone(&ctx);
            let handle = std::thread::spawn(move || send_share(&thread_ctx, t, share, tx));
            lock(&ctx.threads).push(handle);
        }
        drop(tx);
        futures::future::ready(Ok(()))
    }
}

/// One sender thread: sends `share` items, stops at the first refused send
/// (whose item comes back to it).
fn send_share(ctx: &Ctx, t: usize, share: usize, tx: Sender<Item>) {
    let mut sent = 0;
    for k in 0..share {
        if mix(ctx.sc.seed, 1000 + 100 * t + k) % 3 == 0 {
            std::thread::yield_now();
        }
        let item = Item::new(&ctx.tracker);
        let id = item.id;
        match futures::executor::block_on(tx.send(item)) {
            Ok(()) => sent += 1,
            Err(refused) => {
                let back = refused.into_inner();
                if back.id != id {
                    ctx.oddity(format!(
                        "a refused send handed back item {} for {id}",
                        back.id
                    ));
                }
                ctx.refused.fetch_add(1, SeqCst);
                drop(back);
                break;
            }
        }
    }
    ctx.sent.fetch_add(sent, SeqCst);
    drop(tx);
    if sent == share && ctx.threads_done.fetch_add(1, SeqCst) + 1 == ctx.sc.threads() {
        ctx.source_ended.store(true, SeqCst);
    }
}

/// The commander thread: the scenario's thread-issued commands, in order,
/// with their delays.
fn commander(ctx: Arc<Ctx>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for (command, issuer) in &ctx.sc.commands {
            let Issuer::Thread { delay_us } = *issuer else {
                continue;
            };
            if delay_us > 0 {
                // A timed schedule, not a wait for a state.
                std::thread::sleep(Duration::from_micros(delay_us));
            }
            if ctx.sc.synced {
                // Between two polls of the run: if it has not returned, its
                // next poll looks at the control first.
                let _between_polls = lock(&ctx.gate);
                let running = !ctx.returned.load(SeqCst);
                ctx.issue(*command, running, running);
            } else {
                ctx.issue(*command, false, false);
            }
        }
    })
}

/// A progress callback, boxed so that a pool with one and a pool without
/// have the same type.
type Callback = Box<dyn Fn(&Progress) + Send + Sync>;

fn base_pool(ctx: &Arc<Ctx>) -> Pool<failfast::Inline, Callback, ModelWrap> {
    let sc = &ctx.sc;
    let mut pool = Pool::new(sc.workers)
        .queue(sc.capacity)
        .policy(sc.policy.policy());
    if sc.control {
        pool = pool.control(&ctx.control);
    }
    // No callback: one that does nothing (the pool without any callback at
    // all is what every other suite runs).
    let mut callback: Callback = Box::new(|_: &Progress| {});
    if let Some(panic_at) = sc.progress {
        let ctx = Arc::clone(ctx);
        callback = Box::new(move |progress: &Progress| {
            if progress.failed >= ctx.sc.policy.limit() {
                let stamp = ctx.tick();
                let mut decided_by = lock(&ctx.decided_by);
                *decided_by = Some(decided_by.map_or(stamp, |d| d.min(stamp)));
            }
            let call = ctx.progress_calls.fetch_add(1, SeqCst) + 1;
            if Some(call) == panic_at {
                *lock(&ctx.progress_panicked) = Some(ctx.tick());
                panic!("{PLANNED}: the progress callback, call {call}");
            }
        });
    }
    let wrap = ModelWrap(sc.wrapped().then(|| Arc::clone(ctx)));
    pool.on_progress(callback).wrap(wrap)
}

/// The pool's job wrapper: when the scenario wraps its jobs, counts the
/// wrapped futures made and dropped, and checks that each is polled as its
/// own job.
struct ModelWrap(Option<Arc<Ctx>>);

struct Wrapped<Fut> {
    job: Job,
    future: Pin<Box<Fut>>,
    ctx: Option<Arc<Ctx>>,
}

impl<Fut: Future> Wrap<Fut> for ModelWrap {
    type Wrapped = Wrapped<Fut>;

    fn wrap(&self, job: Job, future: Fut) -> Wrapped<Fut> {
        if let Some(ctx) = &self.0 {
            ctx.wrappers_made.fetch_add(1, SeqCst);
        }
        Wrapped {
            job,
            future: Box::pin(future),
            ctx: self.0.clone(),
        }
    }
}

impl<Fut: Future> Future for Wrapped<Fut> {
    type Output = Fut::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        if let Some(ctx) = &self.ctx {
            if Job::current() != Some(self.job) {
                ctx.oddity(format!(
                    "a wrapped job {:?} polled as {:?}",
                    self.job,
                    Job::current()
                ));
            }
        }
        self.future.as_mut().poll(cx)
    }
}

impl<Fut> Drop for Wrapped<Fut> {
    fn drop(&mut self) {
        if let Some(ctx) = &self.ctx {
            ctx.wrappers_dropped.fetch_add(1, SeqCst);
        }
    }
}

/// The dropping executor: drops spawn number `w` when `w % every == every - 1`.
fn dropping(every: usize) -> impl Fn(Task) + Send + Sync + 'static {
    let calls = AtomicUsize::new(0);
    move |task: Task| {
        let call = calls.fetch_add(1, SeqCst);
        if call % every == every - 1 {
            drop(task);
        } else {
            SMOL.spawn(task).detach();
        }
    }
}

/// The panicking executor: panics in spawn number `at`.
fn panicking(at: usize) -> impl Fn(Task) + Send + Sync + 'static {
    let calls = AtomicUsize::new(0);
    move |task: Task| {
        let call = calls.fetch_add(1, SeqCst);
        if call == at {
            drop(task);
            panic!("{PLANNED}: spawn number {call}");
        }
        THREAD_POOL.spawn_ok(task);
    }
}

type RunResult<SE> = Result<Report<Item, usize>, Abort<Item, usize, Fail, SE>>;

/// What was seen the moment the run's future returned.
#[derive(Debug, Clone, Copy)]
struct AtReturn {
    futures_made: usize,
    futures_dropped: usize,
}

/// Polls `run` under the gate, notes what is alive the moment it returns,
/// and races it against the watchdog.
async fn observed<F: Future>(ctx: &Ctx, limit: Duration, run: F) -> (F::Output, AtReturn) {
    let mut run = pin!(run);
    let gated = poll_fn(|cx| {
        let _polling = lock(&ctx.gate);
        match run.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(output) => {
                ctx.returned.store(true, SeqCst);
                let futures_dropped = ctx.futures_dropped.load(SeqCst);
                let futures_made = ctx.futures_made.load(SeqCst);
                Poll::Ready((
                    output,
                    AtReturn {
                        futures_made,
                        futures_dropped,
                    },
                ))
            }
        }
    });
    watchdog_for(limit, &format!("{:?}", ctx.sc), gated).await
}

/// Runs `run` to its end on the thread the scenario's executor wants.
fn block<F: Future>(exec: Exec, run: F) -> F::Output {
    match exec {
        Exec::Smol | Exec::Synchronous => smol::block_on(run),
        Exec::Tokio => TOKIO.block_on(run),
        Exec::Inline | Exec::ThreadPool | Exec::Dropping { .. } | Exec::PanicSpawn { .. } => {
            futures::executor::block_on(run)
        }
    }
}

/// What a run left behind for the checks.
struct Executed<SE> {
    result: RunResult<SE>,
    at_return: AtReturn,
    elapsed: Duration,
}

fn execute<SE, F>(ctx: &Arc<Ctx>, run: F) -> Executed<SE>
where
    F: Future<Output = RunResult<SE>>,
{
    let limit = if ctx.sc.exec.always_fails() {
        PROMPT
    } else {
        WATCHDOG
    };
    let start = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        block(ctx.sc.exec, observed(ctx, limit, run))
    }));
    let elapsed = start.elapsed();
    match outcome {
        Ok((result, at_return)) => Executed {
            result,
            at_return,
            elapsed,
        },
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            join_threads(ctx);
            panic!("the run unwound into its caller (or hung) after {elapsed:?}: {message}");
        }
    }
}

/// Runs the scenario on its executor, with `$run` (using `$pool`) as the run.
macro_rules! on_executor {
    ($ctx:expr, |$pool:ident| $run:expr) => {{
        let ctx: &Arc<Ctx> = $ctx;
        let base = base_pool(ctx);
        match ctx.sc.exec {
            Exec::Inline => {
                let $pool = base;
                finish(ctx, execute(ctx, $run))
            }
            Exec::Smol => {
                let $pool = base.spawn_on(Arc::clone(&SMOL));
                finish(ctx, execute(ctx, $run))
            }
            Exec::Tokio => {
                let $pool = base.spawn_on(TOKIO.handle().clone());
                finish(ctx, execute(ctx, $run))
            }
            Exec::ThreadPool => {
                let $pool = base.spawn_on(THREAD_POOL.clone());
                finish(ctx, execute(ctx, $run))
            }
            Exec::Dropping { every } => {
                let $pool = base.spawn_on(dropping(every));
                finish(ctx, execute(ctx, $run))
            }
            Exec::Synchronous => {
                let $pool = base.spawn_on(|task: Task| futures::executor::block_on(task));
                finish(ctx, execute(ctx, $run))
            }
            Exec::PanicSpawn { at } => {
                let $pool = base.spawn_on(panicking(at));
                finish(ctx, execute(ctx, $run))
            }
        }
    }};
}

/// Runs one scenario and checks everything.
fn run_scenario(sc: &Scenario) {
    let ctx = Ctx::new(sc);
    let commander = sc
        .commands
        .iter()
        .any(|(_, issuer)| matches!(issuer, Issuer::Thread { .. }))
        .then(|| commander(Arc::clone(&ctx)));
    *lock(&ctx.threads) = commander.into_iter().collect();
    match sc.source {
        Source::Stream { try_run: false, .. } => on_executor!(&ctx, |pool| pool.run(
            source_stream(&ctx).map(|next| match next {
                Ok(item) => item,
                Err(SourceFail(at)) => unreachable!("an Err at {at} from a `run` source"),
            }),
            handler(&ctx)
        )),
        Source::Stream { try_run: true, .. } => {
            on_executor!(&ctx, |pool| pool
                .try_run(source_stream(&ctx), handler(&ctx)))
        }
        Source::Senders { .. } => {
            on_executor!(&ctx, |pool| pool.run_with(producer(&ctx), handler(&ctx)))
        }
    }
}

fn join_threads(ctx: &Ctx) {
    loop {
        // Joined outside the lock: the producer may still push a handle.
        let Some(handle) = lock(&ctx.threads).pop() else {
            break;
        };
        handle
            .join()
            .expect("a sender or commander thread panicked");
    }
}

// ---------------------------------------------------------------------------
// The checks.

/// Where the books put an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Output { value: usize },
    Failed,
    Panicked,
    Cancelled,
    Unprocessed { id: usize },
}

/// Collects violated expectations, to report them all at once.
#[derive(Default)]
struct Violations(Vec<String>);

macro_rules! expect {
    ($v:expr, $cond:expr, $($what:tt)+) => {
        if !$cond {
            $v.0.push(format!($($what)+));
        }
    };
}

/// Joins the threads, checks the run's result against the scenario and the
/// instrumentation, drops the result and checks the items.
fn finish<SE: SourceError>(ctx: &Arc<Ctx>, executed: Executed<SE>) {
    let Executed {
        result,
        at_return,
        elapsed,
    } = executed;
    join_threads(ctx);
    let sc = &ctx.sc;
    let mut v = Violations::default();

    // Structured: the moment the run returned, no job future was alive.
    expect!(
        v,
        at_return.futures_made == at_return.futures_dropped,
        "job futures alive when the run returned: {} made, {} dropped",
        at_return.futures_made,
        at_return.futures_dropped
    );
    if sc.exec.always_fails() {
        expect!(v, elapsed < PROMPT, "the run took {elapsed:?}");
    }
    for oddity in lock(&ctx.oddities).iter() {
        v.0.push(oddity.clone());
    }
    // Every job's future went through the wrapper, and every wrapped one
    // was dropped by the time the run returned.
    if sc.wrapped() {
        let made = ctx.wrappers_made.load(SeqCst);
        let dropped = ctx.wrappers_dropped.load(SeqCst);
        expect!(
            v,
            made == ctx.futures_made.load(SeqCst) && made == dropped,
            "wrapped futures: {made} made, {dropped} dropped, {} job futures made",
            ctx.futures_made.load(SeqCst)
        );
    }
    if sc.control {
        let running = ctx.control.in_flight();
        expect!(
            v,
            running.is_empty(),
            "in flight after the run: {running:?}"
        );
    }

    if let Err(abort) = &result {
        expect!(
            v,
            abort.entered() == abort.report().entered(),
            "Abort::entered() {} != report().entered() {}",
            abort.entered(),
            abort.report().entered()
        );
        expect!(
            v,
            abort.unprocessed().len() == abort.report().unprocessed().len(),
            "Abort::unprocessed() differs from report().unprocessed()"
        );
    }
    let (report, cancelled): (&Report<Item, usize>, &[usize]) = match &result {
        Ok(report) => (report, &[]),
        Err(abort) => (abort.report(), abort.cancelled()),
    };
    // The cause first, then the other errors.
    let errors: Vec<&Error<Fail, SE>> = match &result {
        Ok(_) => Vec::new(),
        Err(abort) => std::iter::once(abort.error())
            .chain(abort.other_errors())
            .collect(),
    };
    let entered = report.entered();
    let starts = lock(&ctx.starts).clone();
    let failures = lock(&ctx.failures).clone();
    let source_failed = *lock(&ctx.source_failed);
    let progress_panicked = *lock(&ctx.progress_panicked);
    let issued = lock(&ctx.issued).clone();

    check_books(&mut v, sc, report, &errors, cancelled, result.is_ok());
    let places = places(&mut v, report, &errors, cancelled);
    check_items_against_behaviour(&mut v, sc, &places, &starts, &failures, entered);
    check_errors(
        &mut v,
        sc,
        &result,
        &errors,
        &failures,
        source_failed,
        progress_panicked,
        &issued,
        &starts,
    );
    check_policy(&mut v, sc, &errors, cancelled, report);
    if !sc.exec.is_inline() {
        if let Some(decided) = *lock(&ctx.decided_by) {
            check_late_starts(&mut v, sc, &starts, decided);
        }
    }
    if sc.exec.is_inline() {
        check_inline_order(
            &mut v,
            sc,
            &errors,
            &starts,
            &failures,
            source_failed,
            progress_panicked,
        );
    }
    check_control(&mut v, sc, ctx, &result, &issued);
    if sc.control {
        check_progress(&mut v, ctx.control.progress(), report, &errors, cancelled);
    }

    // Items: made, entered, handed back by value, dropped.
    let tracker = &ctx.tracker;
    let created = tracker.created.load(SeqCst);
    let refused = ctx.refused.load(SeqCst);
    match sc.source {
        Source::Stream { .. } => {
            expect!(
                v,
                created == entered,
                "{created} items made, {entered} entered"
            );
        }
        Source::Senders { .. } => {
            let sent = ctx.sent.load(SeqCst);
            expect!(
                v,
                sent == entered,
                "{sent} sends accepted, {entered} entered"
            );
            expect!(
                v,
                created == entered + refused,
                "{created} items made, {entered} entered + {refused} refused"
            );
        }
    }
    let outside = sc.threads();
    let max_live = tracker.max_live.load(SeqCst);
    expect!(
        v,
        max_live <= sc.capacity + sc.workers + outside,
        "{max_live} items alive at once, more than queue {} + workers {} (+ {outside} held by senders)",
        sc.capacity,
        sc.workers
    );
    let live = tracker.live.load(SeqCst);
    expect!(
        v,
        live == report.unprocessed().len(),
        "{live} items alive after the run, {} handed back",
        report.unprocessed().len()
    );
    drop(errors);
    drop(result);
    let live = tracker.live.load(SeqCst);
    expect!(
        v,
        live == 0,
        "{live} items alive after the result was dropped"
    );
    let drops = lock(&tracker.drops).clone();
    for id in 0..created {
        let n = drops.get(id).copied().unwrap_or(0);
        expect!(v, n == 1, "item {id} was dropped {n} times");
    }

    assert!(
        v.0.is_empty(),
        "{} violated expectation(s):\n  - {}",
        v.0.len(),
        v.0.join("\n  - ")
    );
}

/// The counts and orders of the books.
fn check_books<SE>(
    v: &mut Violations,
    sc: &Scenario,
    report: &Report<Item, usize>,
    errors: &[&Error<Fail, SE>],
    cancelled: &[usize],
    ok: bool,
) {
    let entered = report.entered();
    expect!(
        v,
        entered <= sc.total(),
        "entered() {entered} > the source's {} items",
        sc.total()
    );
    expect!(
        v,
        report.completed() <= entered,
        "completed() {} > entered() {entered}",
        report.completed()
    );
    expect!(
        v,
        report.completed() == report.outputs().len(),
        "completed() {} but {} outputs",
        report.completed(),
        report.outputs().len()
    );
    expect!(
        v,
        cancelled.windows(2).all(|w| w[0] < w[1]),
        "cancelled() not strictly increasing: {cancelled:?}"
    );
    let unprocessed: Vec<usize> = report.unprocessed().iter().map(|(i, _)| *i).collect();
    expect!(
        v,
        unprocessed.windows(2).all(|w| w[0] < w[1]),
        "unprocessed() not strictly increasing: {unprocessed:?}"
    );
    if ok {
        expect!(
            v,
            entered == report.completed() + report.unprocessed().len(),
            "Ok: entered() {entered} != completed() {} + unprocessed {}",
            report.completed(),
            report.unprocessed().len()
        );
        expect!(
            v,
            report.unprocessed().is_empty(),
            "Ok with items handed back: {unprocessed:?}"
        );
    } else {
        let item_errors = errors.iter().filter(|e| e.index().is_some()).count();
        expect!(
            v,
            report.completed() + item_errors + cancelled.len() + unprocessed.len() == entered,
            "completed {} + item errors {item_errors} + cancelled {} + unprocessed {} != entered {entered}",
            report.completed(),
            cancelled.len(),
            unprocessed.len()
        );
    }
}

/// Every index's place; each index below `entered()` exactly once.
fn places<SE>(
    v: &mut Violations,
    report: &Report<Item, usize>,
    errors: &[&Error<Fail, SE>],
    cancelled: &[usize],
) -> BTreeMap<usize, Place> {
    let entered = report.entered();
    let mut places = BTreeMap::new();
    let mut put = |index: usize, place: Place| {
        if index >= entered {
            v.0.push(format!(
                "index {index} ({place:?}) is not below entered() {entered}"
            ));
        } else if let Some(first) = places.insert(index, place) {
            v.0.push(format!(
                "index {index} is accounted twice: {first:?} and {place:?}"
            ));
        }
    };
    for (index, value) in report.outputs() {
        put(*index, Place::Output { value: *value });
    }
    for error in errors {
        match error {
            Error::Failed { index, .. } => put(*index, Place::Failed),
            Error::Panicked { index, .. } => put(*index, Place::Panicked),
            _ => {}
        }
    }
    for index in cancelled {
        put(*index, Place::Cancelled);
    }
    for (index, item) in report.unprocessed() {
        put(*index, Place::Unprocessed { id: item.id });
    }
    let missing: Vec<usize> = (0..entered).filter(|i| !places.contains_key(i)).collect();
    expect!(
        v,
        missing.is_empty(),
        "indices not accounted for: {missing:?} (entered {entered})"
    );
    places
}

/// Each index's place fits what its handler did.
fn check_items_against_behaviour(
    v: &mut Violations,
    sc: &Scenario,
    places: &BTreeMap<usize, Place>,
    starts: &BTreeMap<usize, Start>,
    failures: &[(usize, usize)],
    entered: usize,
) {
    let failed: BTreeSet<usize> = failures.iter().map(|(_, i)| *i).collect();
    expect!(
        v,
        failed.len() == failures.len(),
        "an item failed twice: {failures:?}"
    );
    for index in starts.keys() {
        expect!(
            v,
            *index < entered,
            "item {index} started but entered() is {entered}"
        );
    }
    let ids: Vec<usize> = (0..entered)
        .filter_map(|i| match places.get(&i) {
            Some(Place::Unprocessed { id }) => Some(*id),
            _ => starts.get(&i).map(|s| s.id),
        })
        .collect();
    let distinct: BTreeSet<usize> = ids.iter().copied().collect();
    expect!(
        v,
        distinct.len() == ids.len(),
        "one item under two indices: {ids:?}"
    );
    for (&index, &place) in places {
        let Some(behaviour) = sc.behaviour(index) else {
            continue;
        };
        let start = starts.get(&index);
        if let Source::Stream { .. } = sc.source {
            let id = match place {
                Place::Unprocessed { id } => Some(id),
                _ => start.map(|s| s.id),
            };
            expect!(
                v,
                id.is_none_or(|id| id == index),
                "stream item {id:?} entered as index {index}"
            );
        }
        match place {
            Place::Unprocessed { .. } => {
                expect!(
                    v,
                    start.is_none(),
                    "item {index} started but was handed back unprocessed"
                );
                continue;
            }
            _ => expect!(
                v,
                start.is_some(),
                "item {index} never started but is {place:?}"
            ),
        }
        let fits = match place {
            Place::Output { value } => {
                expect!(
                    v,
                    start.is_none_or(|s| s.id == value),
                    "item {index}'s output {value} is not its item's id {:?}",
                    start.map(|s| s.id)
                );
                matches!(behaviour, Behaviour::Ok { .. })
            }
            Place::Failed => matches!(behaviour, Behaviour::Err { .. }) && failed.contains(&index),
            Place::Panicked => {
                matches!(
                    behaviour,
                    Behaviour::Panic { .. }
                        | Behaviour::PanicInCall
                        | Behaviour::PanicOnDrop { .. }
                ) && failed.contains(&index)
            }
            Place::Cancelled => match behaviour {
                Behaviour::Pending => true,
                Behaviour::PanicInCall | Behaviour::PanicOnDrop { .. } => false,
                other => other.yields() > 0,
            },
            Place::Unprocessed { .. } => true,
        };
        expect!(v, fits, "item {index} ({behaviour:?}) ended as {place:?}");
    }
    // Every failure that happened is in the books, as an error of its item.
    for (_, index) in failures {
        let place = places.get(index);
        expect!(
            v,
            matches!(place, Some(Place::Failed | Place::Panicked)),
            "item {index} failed but the books have it as {place:?}"
        );
    }
}

/// Every error is explained by the scenario; every error that must be there
/// is.
#[allow(clippy::too_many_arguments)]
fn check_errors<SE: SourceError>(
    v: &mut Violations,
    sc: &Scenario,
    result: &RunResult<SE>,
    errors: &[&Error<Fail, SE>],
    failures: &[(usize, usize)],
    source_failed: Option<usize>,
    progress_panicked: Option<usize>,
    issued: &[Issued],
    starts: &BTreeMap<usize, Start>,
) {
    let entered = match result {
        Ok(report) => report.entered(),
        Err(abort) => abort.entered(),
    };
    let planned = |message: &str| message.starts_with(PLANNED);
    let dropped = sc.dropped_workers();
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut lost = BTreeSet::new();
    for error in errors {
        let (kind, explained) = match error {
            Error::Failed { index, source } => ("Failed", *source == Fail(*index)),
            Error::Panicked { message, .. } => ("Panicked", planned(message)),
            Error::Source {
                entered: at,
                source,
            } => (
                "Source",
                matches!(sc.source_failure(), Some(SourceFailure::Err { at: f }) if f == *at)
                    && source.position() == *at
                    && source_failed.is_some()
                    && entered == *at,
            ),
            Error::SourcePanicked {
                entered: at,
                message,
                ..
            } => (
                "SourcePanicked",
                matches!(sc.source_failure(), Some(SourceFailure::Panic { at: f }) if f == *at)
                    && planned(message)
                    && source_failed.is_some()
                    && entered == *at,
            ),
            Error::Aborted { entered: at } => (
                "Aborted",
                *at <= entered && issued.iter().any(|i| i.command.can_abort()),
            ),
            Error::WorkerLost { worker } => (
                "WorkerLost",
                dropped.contains(worker) && lost.insert(*worker),
            ),
            Error::SpawnedInline { worker } => (
                "SpawnedInline",
                sc.exec == Exec::Synchronous && *worker == 0,
            ),
            Error::SpawnPanicked {
                worker, message, ..
            } => (
                "SpawnPanicked",
                sc.exec == (Exec::PanicSpawn { at: *worker }) && planned(message),
            ),
            Error::ProgressPanicked { message, .. } => (
                "ProgressPanicked",
                progress_panicked.is_some() && planned(message),
            ),
            other => ("unknown", {
                v.0.push(format!("an error this test does not know: {other:?}"));
                true
            }),
        };
        expect!(
            v,
            explained,
            "an error the scenario does not explain: {error:?}"
        );
        if kind != "WorkerLost" && kind != "Failed" && kind != "Panicked" {
            *kinds.entry(kind).or_default() += 1;
        }
    }
    for (kind, n) in &kinds {
        expect!(v, *n == 1, "{n} errors of kind {kind}");
    }
    let has = |kind: &str| kinds.contains_key(kind);

    // What must be there.
    let item_errors = errors.iter().filter(|e| e.index().is_some()).count();
    expect!(
        v,
        item_errors == failures.len(),
        "{} item failures happened, {item_errors} item errors in the result",
        failures.len()
    );
    if source_failed.is_some() {
        expect!(
            v,
            has("Source") || has("SourcePanicked"),
            "the source failed but no source error is in the result"
        );
    }
    if progress_panicked.is_some() {
        expect!(
            v,
            has("ProgressPanicked"),
            "the progress callback panicked but no ProgressPanicked is in the result"
        );
    }
    expect!(
        v,
        lost == dropped,
        "workers dropped by the executor: {dropped:?}, WorkerLost for {lost:?}"
    );
    match sc.exec {
        Exec::Synchronous => {
            expect!(v, has("SpawnedInline"), "no SpawnedInline");
            expect!(v, starts.is_empty(), "jobs started: {:?}", starts.keys());
        }
        Exec::PanicSpawn { at } => {
            let cause = errors.first();
            expect!(
                v,
                matches!(cause, Some(Error::SpawnPanicked { worker, .. }) if *worker == at),
                "spawn {at} panicked but the cause is {cause:?}"
            );
            expect!(
                v,
                entered == 0,
                "{entered} items entered after spawn panicked"
            );
            expect!(v, starts.is_empty(), "jobs started: {:?}", starts.keys());
        }
        _ => {}
    }
    // An abort issued while the run runs ends it in `Err` (with `Aborted`
    // as the cause unless another error came first). Includes aborts issued
    // from inside an inline handler.
    if let Some(abort) = issued
        .iter()
        .find(|i| i.command == Command::Abort && i.seen)
    {
        expect!(
            v,
            result.is_err(),
            "abort() was issued between two polls of the running run ({abort:?}), but it returned Ok"
        );
    }
    // An abort issued by a handler was issued while the run ran: it is
    // obeyed, even when that handler's job is among the last to finish.
    if let Some(abort) = issued
        .iter()
        .find(|i| i.command == Command::Abort && i.during_run)
    {
        expect!(
            v,
            result.is_err(),
            "abort() was issued by a handler during the run ({abort:?}), but the run returned Ok"
        );
    }
}

/// What the error policy promises.
fn check_policy<SE>(
    v: &mut Violations,
    sc: &Scenario,
    errors: &[&Error<Fail, SE>],
    cancelled: &[usize],
    report: &Report<Item, usize>,
) {
    let item_errors = errors.iter().filter(|e| e.index().is_some()).count();
    let other_errors = errors.len() - item_errors;
    if item_errors < sc.policy.limit() && other_errors == 0 {
        // Nothing aborted the run: every item that entered was tried.
        expect!(
            v,
            cancelled.is_empty() && report.unprocessed().is_empty(),
            "{item_errors} item error(s) under {:?} and nothing else, yet cancelled {cancelled:?} and {} unprocessed",
            sc.policy,
            report.unprocessed().len()
        );
    }
}

/// Inline, everything happens on one thread: the first error recorded is the
/// first that happened, and no job starts after the error that aborted the
/// run.
fn check_inline_order<SE: fmt::Debug>(
    v: &mut Violations,
    sc: &Scenario,
    errors: &[&Error<Fail, SE>],
    starts: &BTreeMap<usize, Start>,
    failures: &[(usize, usize)],
    source_failed: Option<usize>,
    progress_panicked: Option<usize>,
) {
    let mut item_stamps: Vec<usize> = failures.iter().map(|(s, _)| *s).collect();
    item_stamps.sort_unstable();
    let limit_reached = item_stamps
        .get(sc.policy.limit().saturating_sub(1))
        .copied();
    let aborted_at = [limit_reached, source_failed, progress_panicked]
        .into_iter()
        .flatten()
        .min();
    if let Some(at) = aborted_at {
        let late: Vec<usize> = starts
            .iter()
            .filter(|(_, s)| s.stamp > at)
            .map(|(i, _)| *i)
            .collect();
        expect!(
            v,
            late.is_empty(),
            "jobs started after the error that aborted the run: {late:?}"
        );
    }
    // The cause is the first failure, unless it came from the control.
    let first_item = failures.iter().min().copied();
    let first = [
        first_item.map(|(s, i)| (s, Some(i))),
        source_failed.map(|s| (s, None)),
        progress_panicked.map(|s| (s, None)),
    ]
    .into_iter()
    .flatten()
    .min();
    let Some(cause) = errors.first() else {
        return;
    };
    if matches!(cause, Error::Aborted { .. }) {
        return;
    }
    let fits = match (cause, first) {
        (Error::Failed { index, .. } | Error::Panicked { index, .. }, Some((_, Some(i)))) => {
            *index == i
        }
        (Error::Source { .. } | Error::SourcePanicked { .. }, Some((s, None))) => {
            source_failed == Some(s)
        }
        (Error::ProgressPanicked { .. }, Some((s, None))) => progress_panicked == Some(s),
        _ => false,
    };
    expect!(
        v,
        fits,
        "the cause is {cause:?}, but the first failure was {first:?} (stamp, item)"
    );
}

/// Spawned, a worker that took its item before the abort decision reached it
/// may still start it: at most one job per other worker begins after the
/// decision (`decided` is a progress call that came after it).
///
/// (This once failed, rarely: a second failure could find the run aborting
/// in the books and stop its worker before the decider had raised the flag
/// the other workers check. The flag is now raised under the books' lock.)
fn check_late_starts(
    v: &mut Violations,
    sc: &Scenario,
    starts: &BTreeMap<usize, Start>,
    decided: usize,
) {
    let late: Vec<(usize, usize)> = starts
        .iter()
        .filter(|(_, s)| s.stamp > decided)
        .map(|(i, s)| (*i, s.worker))
        .collect();
    let workers: BTreeSet<usize> = late.iter().map(|(_, w)| *w).collect();
    expect!(
        v,
        workers.len() == late.len() && late.len() < sc.workers,
        "jobs (item, worker) begun after the abort was decided: {late:?}, with {} workers",
        sc.workers
    );
}

/// Close semantics and `closed_early()`.
fn check_control<SE>(
    v: &mut Violations,
    sc: &Scenario,
    ctx: &Ctx,
    result: &RunResult<SE>,
    issued: &[Issued],
) {
    let report = match result {
        Ok(report) => report,
        Err(abort) => abort.report(),
    };
    let any_close = issued.iter().any(|i| i.command.closes());
    let any_abort = issued.iter().any(|i| i.command.can_abort());
    if report.closed_early() {
        expect!(v, any_close, "closed_early() but no close was issued");
    }
    if result.is_ok() && !report.closed_early() {
        // Not closed early: the source was used up.
        expect!(
            v,
            report.entered() == sc.total() && ctx.refused.load(SeqCst) == 0,
            "Ok, not closed early, but {} of {} items entered ({} refused)",
            report.entered(),
            sc.total(),
            ctx.refused.load(SeqCst)
        );
    }
    // A close the run saw before the source ended shows (unless an abort
    // overtook it).
    if let Some(close) = issued
        .iter()
        .find(|i| i.command.closes() && i.seen && i.before_source_end)
    {
        if !any_abort {
            expect!(
                v,
                report.closed_early(),
                "a close the run saw before the source ended ({close:?}), but not closed_early()"
            );
        }
    }
}

/// Once the run is over, the progress counters are the books.
fn check_progress<SE>(
    v: &mut Violations,
    progress: Progress,
    report: &Report<Item, usize>,
    errors: &[&Error<Fail, SE>],
    cancelled: &[usize],
) {
    let item_errors = errors.iter().filter(|e| e.index().is_some()).count();
    let books = (
        report.entered(),
        0,
        0,
        report.completed(),
        item_errors,
        cancelled.len(),
        report.unprocessed().len(),
    );
    let counters = (
        progress.entered,
        progress.queued,
        progress.in_flight,
        progress.completed,
        progress.failed,
        progress.cancelled,
        progress.unprocessed,
    );
    expect!(
        v,
        counters == books,
        "progress {counters:?} != the books {books:?} (entered, queued, in flight, completed, failed, cancelled, unprocessed)"
    );
}

// ---------------------------------------------------------------------------
// The test.

/// Runs the scenario on a thread of its own, under a watchdog that also
/// catches a run that blocks its thread (which the timer raced inside the
/// run cannot); a panic there comes back here.
fn on_own_thread(sc: Scenario) {
    let (done, finished) = std::sync::mpsc::channel();
    let label = format!("{sc:?}");
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| run_scenario(&sc));
        let _ = done.send(outcome);
    });
    match finished.recv_timeout(WATCHDOG + PROMPT) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("watchdog: the scenario hung (its thread is blocked): {label}"),
    }
}

fn cases() -> u32 {
    std::env::var("FAILFAST_MODEL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .map_or(MIN_CASES, |n: u32| n.max(MIN_CASES))
}

#[test]
fn random_scenarios_keep_every_guarantee() {
    quiet_planned_panics();
    let cases = cases();
    let config = ProptestConfig {
        cases,
        source_file: Some(file!()),
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let ran = AtomicUsize::new(0);
    let start = Instant::now();
    let result = runner.run(&scenario(), |sc| {
        ran.fetch_add(1, SeqCst);
        on_own_thread(sc);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}\n{runner}");
    }
    let ran = ran.into_inner();
    assert!(ran >= cases as usize, "only {ran} of {cases} cases ran");
    eprintln!("model: {ran} scenarios in {:.1?}", start.elapsed());
}
