//! What the benchmarks share: the executors, the peers (failfast and the
//! designs it is compared with), and the jobs.
//!
//! Every peer runs the same handler over the same source with the same limits
//! (8 workers or 8 concurrent jobs, a queue of 64 where the design has one).
//! The single-threaded designs (failfast inline, the hand-written inline pool,
//! the `futures` combinators) run under `futures::executor::block_on` on the
//! bench's main thread. The multi-threaded ones have two placements
//! ([`Config`]): by default they run entirely on their executor's 2 threads
//! (the run's own future, producer and driver, is spawned there too, and the
//! main thread only waits for it); with `main_thread`, the run's own future
//! is driven from the bench's main thread, the caller's thread, as
//! `smol::block_on(run)` or `#[tokio::main]` code does, and only the workers
//! are spawned.

#![allow(dead_code)] // each bench uses a different part of this module

use std::fmt;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use event_listener::Event;
use failfast::{Outputs, Pool};
use futures::executor::block_on;
use futures::future::{self, Either};
use futures::{Stream, StreamExt as _, TryFutureExt as _, TryStreamExt as _};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Workers (or the concurrency limit of designs without workers).
pub const WORKERS: usize = 8;
/// Queue capacity, for the designs that have a queue.
pub const QUEUE: usize = 64;
/// Threads of each multi-threaded executor.
pub const THREADS: usize = 2;

/// The jobs' error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail(pub u64);

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} failed", self.0)
    }
}

impl std::error::Error for Fail {}

/// A smol `Executor` in an `Arc`, run by [`THREADS`] threads until dropped.
pub struct SmolThreads {
    pub executor: Arc<smol::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl SmolThreads {
    pub fn new(threads: usize) -> Self {
        let executor = Arc::new(smol::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..threads)
            .map(|i| {
                let executor = Arc::clone(&executor);
                let stopped = stopped.clone();
                thread::Builder::new()
                    .name(format!("smol-{i}"))
                    .spawn(move || {
                        smol::block_on(executor.run(stopped.recv())).ok();
                    })
                    .expect("spawn a smol thread")
            })
            .collect();
        SmolThreads {
            executor,
            stop: Some(stop),
            threads,
        }
    }
}

impl Drop for SmolThreads {
    fn drop(&mut self) {
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            thread.join().ok();
        }
    }
}

/// A tokio multi-thread runtime with [`THREADS`] workers, timers enabled.
pub fn tokio_runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_time()
        .build()
        .expect("build a tokio runtime")
}

/// The executors every peer may need, built once per bench process.
pub struct Env {
    pub smol: SmolThreads,
    pub tokio: tokio::runtime::Runtime,
}

impl Env {
    pub fn new() -> Self {
        Env {
            smol: SmolThreads::new(THREADS),
            tokio: tokio_runtime(THREADS),
        }
    }
}

/// What a peer's run ended with.
#[derive(Debug)]
pub struct Outcome {
    /// Jobs completed successfully, where the design counts them.
    pub completed: Option<usize>,
    /// The first error, if any.
    pub error: Option<Fail>,
    /// Whether the producer's `send` was refused, for the designs that have
    /// a producer of their own (the hand-written pool).
    pub released: Option<bool>,
    /// When the run's future returned, stamped where it ran.
    pub returned_at: Instant,
}

impl Outcome {
    /// Panics unless the run succeeded (and, where counted, completed `n`).
    pub fn expect_all(&self, n: usize) {
        assert!(self.error.is_none(), "unexpected error: {:?}", self.error);
        if let Some(completed) = self.completed {
            assert_eq!(completed, n, "every job completes");
        }
    }

    fn of_failfast(
        result: Result<failfast::Report<u64, u64>, failfast::Abort<u64, u64, Fail>>,
    ) -> Outcome {
        let returned_at = Instant::now();
        let (completed, error) = match result {
            Ok(report) => (report.completed(), None),
            Err(abort) => (
                abort.report().completed(),
                abort.error().handler_error().copied(),
            ),
        };
        Outcome {
            completed: Some(completed),
            error,
            released: None,
            returned_at,
        }
    }

    fn of_combinator(result: Result<(), Fail>) -> Outcome {
        Outcome {
            completed: None,
            error: result.err(),
            released: None,
            returned_at: Instant::now(),
        }
    }
}

/// The designs compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    FailfastInline,
    FailfastSmol,
    FailfastTokio,
    TryForEachConcurrent,
    BufferUnordered,
    HandInline,
    JoinSetSemaphore,
    HandSmol,
    HandTokio,
}

pub const PEERS: [Peer; 9] = [
    Peer::FailfastInline,
    Peer::FailfastSmol,
    Peer::FailfastTokio,
    Peer::TryForEachConcurrent,
    Peer::BufferUnordered,
    Peer::HandInline,
    Peer::JoinSetSemaphore,
    Peer::HandSmol,
    Peer::HandTokio,
];

impl Peer {
    /// A short, path-safe id (criterion's function id, the JSON key).
    pub fn id(self) -> &'static str {
        match self {
            Peer::FailfastInline => "failfast-inline",
            Peer::FailfastSmol => "failfast-smol",
            Peer::FailfastTokio => "failfast-tokio",
            Peer::TryForEachConcurrent => "try_for_each_concurrent",
            Peer::BufferUnordered => "buffer_unordered",
            Peer::HandInline => "hand-inline",
            Peer::JoinSetSemaphore => "joinset-semaphore",
            Peer::HandSmol => "hand-smol",
            Peer::HandTokio => "hand-tokio",
        }
    }

    /// Whether the design runs on tokio (and its jobs may use tokio's timers).
    pub fn on_tokio(self) -> bool {
        matches!(
            self,
            Peer::FailfastTokio | Peer::JoinSetSemaphore | Peer::HandTokio
        )
    }

    /// Whether the design spawns its workers on a multi-threaded executor
    /// (and so has a [`Config`] with the run driven from the main thread).
    pub fn multi_threaded(self) -> bool {
        matches!(
            self,
            Peer::FailfastSmol
                | Peer::FailfastTokio
                | Peer::JoinSetSemaphore
                | Peer::HandSmol
                | Peer::HandTokio
        )
    }

    /// Runs `handler` over `source` with [`WORKERS`] workers and a queue of
    /// `queue`, and waits for the run to end; a multi-threaded design's run is
    /// spawned onto its executor.
    pub fn run<Src, F, Fut>(self, env: &Env, queue: usize, source: Src, handler: F) -> Outcome
    where
        Src: Stream<Item = u64> + Send + 'static,
        F: Fn(u64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<u64, Fail>> + Send + 'static,
    {
        Config::of(self).run(env, queue, source, handler)
    }
}

/// A configuration benchmarked: a design, and for a multi-threaded one,
/// where the run's own future (producer, driver) is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub peer: Peer,
    /// The run's own future is driven from the bench's main thread (smol:
    /// `futures::executor::block_on(run)`; tokio: `Runtime::block_on(run)`,
    /// as `#[tokio::main]` does), its workers spawned; otherwise a
    /// multi-threaded design's run is spawned onto its executor. The
    /// single-threaded designs always run on the main thread, and have no
    /// `main_thread` configuration.
    pub main_thread: bool,
}

impl Config {
    /// `peer` where it runs by default.
    pub fn of(peer: Peer) -> Config {
        Config {
            peer,
            main_thread: false,
        }
    }

    /// A multi-threaded `peer` with its run driven from the main thread.
    pub fn main_thread(peer: Peer) -> Config {
        assert!(
            peer.multi_threaded(),
            "{} runs on the main thread",
            peer.id()
        );
        Config {
            peer,
            main_thread: true,
        }
    }

    /// Every configuration: each peer where it runs by default, then each
    /// multi-threaded peer with its run driven from the main thread.
    pub fn all() -> Vec<Config> {
        let main_thread = PEERS.into_iter().filter(|p| p.multi_threaded());
        PEERS
            .into_iter()
            .map(Config::of)
            .chain(main_thread.map(Config::main_thread))
            .collect()
    }

    /// A short, path-safe id: the peer's, with `-main-thread` for the run
    /// driven from the main thread (`failfast-smol-main-thread`).
    pub fn id(self) -> String {
        if self.main_thread {
            format!("{}-main-thread", self.peer.id())
        } else {
            self.peer.id().to_owned()
        }
    }

    /// The configuration with this [`id`](Config::id).
    pub fn from_id(id: &str) -> Option<Config> {
        Config::all().into_iter().find(|c| c.id() == id)
    }

    /// Waits for `future`, a run on smol: spawned onto the executor, or
    /// driven here.
    fn on_smol<T: Send + 'static>(
        self,
        env: &Env,
        future: impl Future<Output = T> + Send + 'static,
    ) -> T {
        if self.main_thread {
            block_on(future)
        } else {
            env.smol.run(future)
        }
    }

    /// Waits for `future`, a run on tokio: spawned onto the runtime, or
    /// driven here by `Runtime::block_on`.
    fn on_tokio<T: Send + 'static>(
        self,
        env: &Env,
        future: impl Future<Output = T> + Send + 'static,
    ) -> T {
        if self.main_thread {
            env.tokio.block_on(future)
        } else {
            on_tokio(env, future)
        }
    }

    /// Runs `handler` over `source` with [`WORKERS`] workers and a queue of
    /// `queue`, and waits for the run to end.
    pub fn run<Src, F, Fut>(self, env: &Env, queue: usize, source: Src, handler: F) -> Outcome
    where
        Src: Stream<Item = u64> + Send + 'static,
        F: Fn(u64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<u64, Fail>> + Send + 'static,
    {
        let pool = Pool::new(WORKERS).queue(queue).outputs(Outputs::Discard);
        match self.peer {
            Peer::FailfastInline => Outcome::of_failfast(block_on(pool.run(source, handler))),
            Peer::FailfastSmol => {
                let run = pool
                    .spawn_on(Arc::clone(&env.smol.executor))
                    .run(source, handler);
                self.on_smol(env, async move { Outcome::of_failfast(run.await) })
            }
            Peer::FailfastTokio => {
                let run = pool
                    .spawn_on(env.tokio.handle().clone())
                    .run(source, handler);
                self.on_tokio(env, async move { Outcome::of_failfast(run.await) })
            }
            Peer::TryForEachConcurrent => Outcome::of_combinator(block_on(
                source
                    .map(Ok)
                    .try_for_each_concurrent(WORKERS, |x| handler(x).map_ok(drop)),
            )),
            Peer::BufferUnordered => Outcome::of_combinator(block_on(
                source
                    .map(&handler)
                    .buffer_unordered(WORKERS)
                    .try_for_each(|_| future::ready(Ok(()))),
            )),
            Peer::HandInline => block_on(hand_inline(queue, source, handler)),
            Peer::JoinSetSemaphore => self.on_tokio(env, joinset_semaphore(source, handler)),
            Peer::HandSmol => {
                let run = hand_pool(Arc::clone(&env.smol.executor), queue, source, handler);
                self.on_smol(env, run)
            }
            Peer::HandTokio => {
                let run = hand_pool(env.tokio.handle().clone(), queue, source, handler);
                self.on_tokio(env, run)
            }
        }
    }
}

impl SmolThreads {
    /// Spawns `future` on the executor and waits for its output.
    pub fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> T {
        block_on(self.executor.spawn(future))
    }
}

/// Spawns `future` on the tokio runtime and waits for its output.
pub fn on_tokio<T: Send + 'static>(
    env: &Env,
    future: impl Future<Output = T> + Send + 'static,
) -> T {
    env.tokio
        .block_on(env.tokio.spawn(future))
        .expect("the run does not panic")
}

/// tokio's `JoinSet` with a `Semaphore`: one task per item, at most
/// [`WORKERS`] alive (a permit is taken before the item is pulled and spawned,
/// and released when the task ends); finished tasks are reaped as the loop
/// goes, and the first error aborts every other task (`abort_all`), whose end
/// is awaited before returning. Call inside a tokio runtime.
pub async fn joinset_semaphore<Src, F, Fut>(source: Src, handler: F) -> Outcome
where
    Src: Stream<Item = u64>,
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<u64, Fail>> + Send + 'static,
{
    let semaphore = Arc::new(Semaphore::new(WORKERS));
    let mut tasks = JoinSet::new();
    let mut source = pin!(source);
    let mut completed = 0;
    let mut error = None;
    let mut reap = |joined: Result<Result<u64, Fail>, tokio::task::JoinError>| match joined
        .expect("no job panics")
    {
        Ok(_) => {
            completed += 1;
            None
        }
        Err(fail) => Some(fail),
    };
    'feed: loop {
        tokio::select! {
            biased;
            Some(joined) = tasks.join_next() => {
                if let Some(fail) = reap(joined) {
                    error = Some(fail);
                    break 'feed;
                }
            }
            permit = Arc::clone(&semaphore).acquire_owned() => {
                let permit = permit.expect("the semaphore is never closed");
                let Some(item) = source.next().await else { break 'feed };
                let job = handler(item);
                tasks.spawn(async move {
                    let _permit = permit;
                    job.await
                });
            }
        }
    }
    if error.is_none() {
        while let Some(joined) = tasks.join_next().await {
            if let Some(fail) = reap(joined) {
                error = Some(fail);
                break;
            }
        }
    }
    if error.is_some() {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    Outcome {
        completed: Some(completed),
        error,
        released: None,
        returned_at: Instant::now(),
    }
}

/// Spawning for the hand-written pool.
pub trait Spawn {
    type Join: Future + Send + 'static;
    fn spawn_task<F: Future<Output = ()> + Send + 'static>(&self, task: F) -> Self::Join;
}

impl Spawn for Arc<smol::Executor<'static>> {
    type Join = smol::Task<()>;
    fn spawn_task<F: Future<Output = ()> + Send + 'static>(&self, task: F) -> Self::Join {
        self.spawn(task)
    }
}

impl Spawn for tokio::runtime::Handle {
    type Join = tokio::task::JoinHandle<()>;
    fn spawn_task<F: Future<Output = ()> + Send + 'static>(&self, task: F) -> Self::Join {
        self.spawn(task)
    }
}

/// The abort signal of the hand-written pools: a flag, an event, the error.
struct HandAbort {
    raised: AtomicBool,
    event: Event,
    error: Mutex<Option<Fail>>,
}

impl HandAbort {
    fn new() -> Self {
        HandAbort {
            raised: AtomicBool::new(false),
            event: Event::new(),
            error: Mutex::new(None),
        }
    }

    /// The outcome of a hand-written pool's run, which has just returned.
    fn outcome(&self, completed: usize, released: bool) -> Outcome {
        let returned_at = Instant::now();
        Outcome {
            completed: Some(completed),
            error: self.error.lock().unwrap().take(),
            released: Some(released),
            returned_at,
        }
    }
}

/// A worker of the hand-written pools: takes items from the queue until it
/// is closed and empty, racing each job against the abort; the first error
/// raises the abort and closes the queue, which releases a producer blocked
/// on a full queue. Returns the jobs it completed.
async fn hand_worker<F, Fut>(
    rx: async_channel::Receiver<u64>,
    abort: &HandAbort,
    handler: &F,
) -> usize
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<u64, Fail>>,
{
    // One listener per worker: the abort fires once, for good.
    let mut stop = abort.event.listen();
    let mut done = 0;
    while let Ok(item) = rx.recv().await {
        if abort.raised.load(Ordering::Acquire) {
            break;
        }
        let job = pin!(handler(item));
        match future::select(job, &mut stop).await {
            Either::Left((Ok(_), _)) => done += 1,
            Either::Left((Err(fail), _)) => {
                abort.error.lock().unwrap().get_or_insert(fail);
                abort.raised.store(true, Ordering::Release);
                abort.event.notify(usize::MAX);
                rx.close();
                break;
            }
            Either::Right(((), _)) => break,
        }
    }
    done
}

/// The producer of the hand-written pools: sends every item of `source`;
/// `true` if a send was refused (the queue was closed by an abort).
async fn hand_producer(tx: async_channel::Sender<u64>, source: impl Stream<Item = u64>) -> bool {
    let mut source = pin!(source);
    while let Some(item) = source.next().await {
        if tx.send(item).await.is_err() {
            return true;
        }
    }
    false
}

/// The pool you would write yourself: an `async_channel::bounded` queue,
/// [`WORKERS`] spawned workers, an abort flag (`AtomicBool` +
/// `event_listener::Event`) that every worker races its job against (see
/// [`hand_worker`]). The producer runs in the run's own future, which ends
/// when the producer and every worker have ended.
pub async fn hand_pool<S, Src, F, Fut>(spawner: S, queue: usize, source: Src, handler: F) -> Outcome
where
    S: Spawn,
    Src: Stream<Item = u64>,
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<u64, Fail>> + Send + 'static,
{
    let (tx, rx) = async_channel::bounded::<u64>(queue);
    let abort = Arc::new(HandAbort::new());
    let completed = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(handler);
    let workers: Vec<S::Join> = (0..WORKERS)
        .map(|_| {
            let (rx, abort, completed, handler) = (
                rx.clone(),
                Arc::clone(&abort),
                Arc::clone(&completed),
                Arc::clone(&handler),
            );
            spawner.spawn_task(async move {
                let done = hand_worker(rx, &abort, &*handler).await;
                completed.fetch_add(done, Ordering::Relaxed);
            })
        })
        .collect();
    drop(rx);
    let (released, _) = future::join(hand_producer(tx, source), future::join_all(workers)).await;
    abort.outcome(completed.load(Ordering::Relaxed), released)
}

/// The same pool without spawning: the producer and the [`WORKERS`] worker
/// futures are joined in the one future the caller runs
/// (`join(producer, join_all(workers))`), so everything runs in one task on
/// one thread, as failfast's inline mode does.
pub async fn hand_inline<Src, F, Fut>(queue: usize, source: Src, handler: F) -> Outcome
where
    Src: Stream<Item = u64>,
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<u64, Fail>>,
{
    let (tx, rx) = async_channel::bounded::<u64>(queue);
    let abort = HandAbort::new();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| hand_worker(rx.clone(), &abort, &handler))
        .collect();
    drop(rx);
    let (released, done) = future::join(hand_producer(tx, source), future::join_all(workers)).await;
    abort.outcome(done.iter().sum(), released)
}

/// The trivial job.
pub async fn trivial(x: u64) -> Result<u64, Fail> {
    Ok(x)
}

/// The trivial job with one `yield_now().await` (futures-lite's, which works
/// the same under every executor: wake, return `Pending` once).
pub async fn yielding(x: u64) -> Result<u64, Fail> {
    smol::future::yield_now().await;
    Ok(x)
}

/// `rounds` rounds of a 64-bit mixing function: deterministic CPU work.
pub fn burn(seed: u64, rounds: u32) -> u64 {
    let mut x = black_box(seed);
    for _ in 0..rounds {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
    }
    black_box(x)
}

/// The number of [`burn`] rounds that take about `target` on this machine
/// (the best of several timings of a long burn, so the estimate is not
/// inflated by preemption).
pub fn calibrate(target: Duration) -> u32 {
    const PROBE: u32 = 2_000_000;
    burn(1, PROBE); // warm up
    let best = (0..7)
        .map(|i| {
            let start = Instant::now();
            burn(i, PROBE);
            start.elapsed()
        })
        .min()
        .expect("timings");
    let per_round = best.as_secs_f64() / f64::from(PROBE);
    (target.as_secs_f64() / per_round).round().max(1.0) as u32
}

/// The directory where the custom harnesses leave their results (next to
/// criterion's), `$CARGO_TARGET_DIR/failfast-bench` or `target/failfast-bench`.
pub fn results_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("failfast-bench");
    std::fs::create_dir_all(&dir).expect("create the results directory");
    dir
}

/// A count from the environment variable `name`, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    assert!(!values.is_empty(), "no figures");
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// One kind of child process of a processes mode: a name for the messages,
/// and the environment that tells this bench's binary what to run.
pub struct Child {
    pub name: String,
    pub env: Vec<(&'static str, String)>,
}

/// The processes mode shared by the benches: runs this binary `rounds` times
/// per child, taken in rounds (one process of each child, then the next
/// round), so a slow spell of the machine spreads over every child rather
/// than landing on one. Each process must print a line `<key>=<figure>`;
/// returns the figures, per child in the order of `children`, in the order
/// the processes ran.
pub fn run_processes(children: &[Child], rounds: u64, key: &str) -> Vec<Vec<f64>> {
    let exe = std::env::current_exe().expect("this binary");
    let prefix = format!("{key}=");
    let mut figures = vec![Vec::new(); children.len()];
    for round in 0..rounds {
        let start = Instant::now();
        for (child, figures) in children.iter().zip(&mut figures) {
            let output = std::process::Command::new(&exe)
                .envs(child.env.iter().map(|(k, v)| (k, v)))
                .output()
                .expect("run a child");
            assert!(
                output.status.success(),
                "{} failed: {}",
                child.name,
                String::from_utf8_lossy(&output.stderr)
            );
            let figure: f64 = String::from_utf8_lossy(&output.stdout)
                .lines()
                .find_map(|line| line.strip_prefix(&prefix))
                .and_then(|figure| figure.parse().ok())
                .unwrap_or_else(|| panic!("{}: no {key} in its output", child.name));
            figures.push(figure);
        }
        println!(
            "round {} of {rounds} in {:.1} s",
            round + 1,
            start.elapsed().as_secs_f64()
        );
    }
    figures
}

/// The `main` of a bench with a processes mode: a child process (`child_var`
/// set, naming its configuration) runs `child`; `--processes` runs
/// `processes`; otherwise `criterion` runs.
pub fn bench_main(child_var: &str, child: fn(&str), processes: fn(), criterion: impl FnOnce()) {
    if let Ok(id) = std::env::var(child_var) {
        child(&id);
    } else if std::env::args().any(|a| a == "--processes") {
        processes();
    } else {
        criterion();
    }
}
