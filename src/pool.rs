//! The builder: [`Pool`] and its settings. Its run methods are in
//! `run.rs`.

use std::fmt;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;

use crate::config::{Outputs, Policy, Settings, Timeout, Timer};
use crate::control::Control;
use crate::executor::Executor;
use crate::mode::{Inline, Spawned};
use crate::progress::{NoProgress, OnProgress, Progress};
use crate::verdict::{Finished, Verdict};
use crate::wrap::NoWrap;

/// A pool of `workers` async workers fed through a bounded queue, in which the
/// first error or panic stops everything.
///
/// `Pool` is a plain configuration: each `run*` method consumes it and returns
/// a future that does the whole run when awaited. The workers run inside that
/// future (a `FuturesUnordered`), so it works under any executor, with no
/// `Send` or `'static` bound on items, handlers or their futures. Dropping the
/// future drops every worker, every job in flight and the source with it.
///
/// A run ends in one of two ways:
/// - `Ok(`[`Report`](crate::Report)`)`: the source was exhausted and every item that entered
///   was handled successfully, exactly once;
/// - `Err(`[`Abort`](crate::Abort)`)`: the first handler error, handler panic or source error
///   stopped the run. From that moment no new job starts, jobs in flight are
///   dropped at their next await point, a producer waiting on a full queue is
///   released with its item, and every item that entered is accounted for.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::Pool;
/// use futures::stream;
///
/// let result = Pool::new(3)
///     .queue(19)
///     .run(stream::iter(0..30u32), |request| async move {
///         if request > 10 {
///             return Err(format!("request {request} broke"));
///         }
///         Ok(request * 2)
///     })
///     .await;
///
/// let abort = result.unwrap_err();
/// assert_eq!(abort.to_string(), "item 11 failed: request 11 broke");
/// // Nothing is lost: every request that entered is accounted for.
/// let handled = abort.report().completed() + 1 + abort.other_errors().len();
/// assert_eq!(handled + abort.cancelled().len() + abort.unprocessed().len(), abort.entered());
/// # });
/// ```
#[derive(Clone)]
#[must_use = "a pool does nothing until one of its run methods is called and awaited"]
pub struct Pool<M = Inline, P = NoProgress, W = NoWrap> {
    pub(crate) workers: usize,
    pub(crate) settings: Settings,
    pub(crate) mode: M,
    /// The progress callback, or [`NoProgress`].
    pub(crate) progress: P,
    /// The job wrapper, or [`NoWrap`].
    pub(crate) wrap: W,
}

impl<M: fmt::Debug, P: OnProgress, W> fmt::Debug for Pool<M, P, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers)
            .field("settings", &self.settings)
            .field("mode", &self.mode)
            .field("on_progress", &P::ON)
            .finish()
    }
}

impl Pool {
    /// A pool of `workers` workers, with a queue of the same capacity until
    /// [`queue`](Pool::queue) says otherwise.
    ///
    /// # Panics
    ///
    /// Panics if `workers` is 0: no item could ever be handled, and a producer
    /// would wait forever.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let pool = Pool::new(3);
    /// assert_eq!((pool.workers(), pool.capacity()), (3, 3));
    /// let report = pool
    ///     .run(futures::stream::iter(1..=4u32), |n| async move { Ok::<u32, String>(n * n) })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.outputs().iter().map(|(_, n)| n).sum::<u32>(), 30);
    /// # });
    /// ```
    pub fn new(workers: usize) -> Pool {
        assert!(
            workers > 0,
            "failfast: a pool needs at least one worker, got 0"
        );
        Pool {
            workers,
            settings: Settings {
                capacity: workers,
                outputs: Outputs::CompletionOrder,
                policy: Policy::FailFast,
                control: None,
                streaming: false,
                timeout: None,
                custom: None,
            },
            mode: Inline,
            progress: NoProgress,
            wrap: NoWrap,
        }
    }
}

impl<M, P, W> Pool<M, P, W> {
    /// Sets how many items may wait in the queue for a free worker. A producer
    /// that finds the queue full waits (backpressure). At most `capacity +
    /// workers` items are held by the pool at once.
    ///
    /// A producer's [`Sender::send`](crate::Sender::send) waiting on a full
    /// queue goes on as soon as a place is free. A stream source of a run
    /// whose workers are spawned is pulled again once a full queue has
    /// drained to half its capacity, and then until it is full: the thread
    /// that drives the run (the caller's, often) is woken once per half a
    /// queue rather than once per item.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is 0 (a rendezvous queue is not supported: use 1).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use failfast::Pool;
    ///
    /// let most_held = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&most_held);
    /// let report = Pool::new(2)
    ///     .queue(3)
    ///     .on_progress(move |p| {
    ///         seen.fetch_max(p.queued + p.in_flight, Ordering::SeqCst);
    ///     })
    ///     .run(futures::stream::iter(0..1000u32), |n| async move { Ok::<u32, String>(n) })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.completed(), 1000);
    /// // Never more than `capacity + workers` items held at once.
    /// assert!(most_held.load(Ordering::SeqCst) <= 3 + 2);
    /// # });
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn queue(self, capacity: usize) -> Pool<M, P, W> {
        assert!(
            capacity > 0,
            "failfast: the queue capacity must be at least 1, got 0"
        );
        let mut pool = self;
        pool.settings.capacity = capacity;
        pool
    }

    /// Sets what the run keeps of the handlers' outputs (by default, all of
    /// them, in completion order).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Outputs, Pool};
    ///
    /// let items = || futures::stream::iter(0..20u32);
    /// let sorted = Pool::new(4)
    ///     .outputs(Outputs::InputOrder)
    ///     .run(items(), |n| async move { Ok::<u32, String>(n + 100) })
    ///     .await
    ///     .unwrap();
    /// assert!(sorted.outputs().iter().enumerate().all(|(i, &(index, out))| {
    ///     index == i && out == i as u32 + 100
    /// }));
    ///
    /// let discarded = Pool::new(4)
    ///     .outputs(Outputs::Discard)
    ///     .run(items(), |n| async move { Ok::<u32, String>(n + 100) })
    ///     .await
    ///     .unwrap();
    /// assert_eq!((discarded.completed(), discarded.outputs().len()), (20, 0));
    /// # });
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn outputs(self, outputs: Outputs) -> Pool<M, P, W> {
        let mut pool = self;
        pool.settings.outputs = outputs;
        pool
    }

    /// Sets when item errors stop the run (by default, the first one does).
    ///
    /// # Panics
    ///
    /// Panics on `Policy::AbortAfter(0)`: a run cannot abort before any
    /// error.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Policy, Pool};
    ///
    /// // Try every item, and collect every error.
    /// let abort = Pool::new(3)
    ///     .policy(Policy::Continue)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n == 3 || n == 7 { Err(format!("{n} is unlucky")) } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.failed(), vec![3, 7]);
    /// assert_eq!(abort.report().completed(), 8);
    /// assert!(abort.cancelled().is_empty() && abort.unprocessed().is_empty());
    /// # });
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn policy(self, policy: Policy) -> Pool<M, P, W> {
        assert!(
            policy != Policy::AbortAfter(0),
            "failfast: Policy::AbortAfter needs at least 1 error, got 0"
        );
        let mut pool = self;
        pool.settings.policy = policy;
        pool.settings.custom = None;
        pool
    }

    /// Lets `control` steer the run from outside (close, abort, deadline) and
    /// read its progress. A `Control` is for one run: a second run set up
    /// with it panics (see [`Control`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Error, Pool};
    ///
    /// let control = Control::new();
    /// let abort_now = control.clone();
    /// let abort = Pool::new(2)
    ///     .control(&control)
    ///     .run(futures::stream::iter(0..u64::MAX), move |n| {
    ///         if n == 50 {
    ///             abort_now.abort(); // stop everything, from outside the pool
    ///         }
    ///         async move { Ok::<u64, String>(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(abort.error(), Error::Aborted { .. }));
    /// assert!(control.is_aborted());
    /// assert_eq!(control.progress().entered, abort.entered());
    /// # });
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn control(self, control: &Control) -> Pool<M, P, W> {
        let mut pool = self;
        pool.settings.control = Some(control.clone());
        pool
    }

    /// Calls `on_progress` with a [`Progress`] snapshot each time an item
    /// finishes (completed, failed or cancelled), on the worker that finished
    /// it. Keep it cheap: it runs on the workers' path.
    ///
    /// Inline, `on_progress` may be any `Fn(&Progress)`: an `Rc` counter, a
    /// closure that borrows from the caller. A spawned run calls it on the
    /// workers' threads, so there it must be `Send + Sync + 'static` (the
    /// run methods' [`Mode`](crate::Mode) bound says so). It changes the
    /// pool's type (its second parameter): to set one only sometimes, box it
    /// (`Box<dyn Fn(&Progress) + Send + Sync>`) in both branches.
    ///
    /// A panic in `on_progress` is caught: the item it was called for counts
    /// as it finished, and the run aborts with
    /// [`Error::ProgressPanicked`](crate::Error::ProgressPanicked) (unless an
    /// error came first); the caller does not unwind.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::{Arc, Mutex};
    /// use failfast::Pool;
    ///
    /// let snapshots = Arc::new(Mutex::new(Vec::new()));
    /// let log = Arc::clone(&snapshots);
    /// Pool::new(2)
    ///     .on_progress(move |progress| log.lock().unwrap().push(*progress))
    ///     .run(futures::stream::iter(0..5u32), |n| async move { Ok::<u32, String>(n) })
    ///     .await
    ///     .unwrap();
    /// let snapshots = snapshots.lock().unwrap();
    /// // One call per finished item, the last one when all five are done.
    /// assert_eq!(snapshots.len(), 5);
    /// assert_eq!(snapshots.iter().map(|p| p.completed).max(), Some(5));
    /// # });
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn on_progress<G: Fn(&Progress)>(self, on_progress: G) -> Pool<M, G, W> {
        Pool {
            workers: self.workers,
            settings: self.settings,
            mode: self.mode,
            progress: on_progress,
            wrap: self.wrap,
        }
    }

    /// Wraps every job: `wrap` receives each handler's future with its
    /// [`Job`](crate::Job) (index, worker) and returns the future to run in
    /// its place, so every job can be instrumented, timed or decorated
    /// without touching the handler. See [`Wrap`](crate::Wrap) for what may
    /// be a wrapper; with the `tracing` feature, `JobSpans` is one that
    /// puts each job in a span.
    ///
    /// The wrapped future is the job, with every guarantee: it is created
    /// and polled under [`Job::current`](crate::Job::current) and the job's
    /// panic guard (a panic in the wrapper is the job's panic), it races the
    /// abort and the timeout, and when it is dropped unfinished the item is
    /// counted as cancelled (or timed out). Inline, the wrapper needs no
    /// `Send` or `'static`; a spawned run creates and polls wrapped futures
    /// on the workers' threads, so there (see [`Mode`](crate::Mode)) it must
    /// be `Send + Sync + 'static`, and its futures `Send + 'static`. A pool
    /// without one ([`NoWrap`](crate::NoWrap)) pays nothing for the hook.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::{Arc, Mutex};
    /// use std::time::{Duration, Instant};
    /// use failfast::{Job, Pool};
    ///
    /// // How long each job took, by index, without touching the handler.
    /// let took = Arc::new(Mutex::new(Vec::new()));
    /// let log = Arc::clone(&took);
    /// let report = Pool::new(2)
    ///     .wrap(move |job: Job, fut| {
    ///         let log = Arc::clone(&log);
    ///         async move {
    ///             let start = Instant::now();
    ///             let out = fut.await;
    ///             log.lock().unwrap().push((job.index(), start.elapsed()));
    ///             out
    ///         }
    ///     })
    ///     .run(futures::stream::iter(0..4u32), |n| async move { Ok::<_, String>(n) })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.completed(), 4);
    /// let mut indices: Vec<usize> = took.lock().unwrap().iter().map(|(i, _)| *i).collect();
    /// indices.sort();
    /// assert_eq!(indices, [0, 1, 2, 3]);
    /// # let _: Duration = took.lock().unwrap()[0].1;
    /// # });
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn wrap<V>(self, wrap: V) -> Pool<M, P, V> {
        Pool {
            workers: self.workers,
            settings: self.settings,
            mode: self.mode,
            progress: self.progress,
            wrap,
        }
    }

    /// Gives each job at most `after`, from its first wait, to finish: a job
    /// still running then is dropped, and its item fails with
    /// [`Error::TimedOut`](crate::Error::TimedOut) (with its index), which
    /// the policy counts like any item error: under
    /// [`Policy::FailFast`] the run aborts, under [`Policy::Continue`] it
    /// goes on and every timed-out item comes back among the errors.
    ///
    /// `timer` makes the clock: given a duration, it returns a future that
    /// completes once that much time has passed, from any executor's timer
    /// (smol's `Timer::after`, tokio's `time::sleep`, async-io's). It is
    /// called once per job, when the job first waits (the end of its first
    /// poll: time in the queue does not count, and a job that finishes in
    /// its first poll never starts a timer), on the thread that runs the
    /// job; its future is polled each time the job is, after the job, and
    /// dropped once the job's outcome is recorded. A panic in `timer` or its
    /// future is the job's panic. The
    /// timer must be `Send + Sync + 'static` and its future `Send +
    /// 'static`, inline too. (A timer such as tokio's, which needs its
    /// runtime, must be called where that runtime is current.)
    ///
    /// A timeout ends a job but does not retry it: retries belong in the
    /// handler, which owns the item (see
    /// [Retrying an item](crate#retrying-an-item)).
    ///
    /// # Panics
    ///
    /// If `after` is zero.
    ///
    /// # Examples
    ///
    /// With smol's timer:
    ///
    /// ```
    /// use std::time::Duration;
    /// use failfast::{Error, Policy, Pool};
    ///
    /// let abort = smol::block_on(
    ///     Pool::new(4)
    ///         .policy(Policy::Continue)
    ///         .timeout(Duration::from_millis(50), smol::Timer::after)
    ///         .run(futures::stream::iter(0..8u32), |n| async move {
    ///             if n % 4 == 3 {
    ///                 futures::future::pending::<()>().await; // stuck
    ///             }
    ///             Ok::<_, String>(n)
    ///         }),
    /// )
    /// .unwrap_err();
    /// assert_eq!(abort.failed(), vec![3, 7]);
    /// assert!(matches!(abort.error(), Error::TimedOut { .. }));
    /// assert_eq!(abort.report().completed(), 6);
    /// ```
    ///
    /// With tokio's, on a runtime:
    ///
    /// ```
    /// use std::time::Duration;
    /// use failfast::{Error, Pool};
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() {
    ///     let abort = Pool::new(2)
    ///         .timeout(Duration::from_millis(20), tokio::time::sleep)
    ///         .run(futures::stream::iter(0..10u32), |n| async move {
    ///             if n == 4 {
    ///                 tokio::time::sleep(Duration::from_secs(3600)).await;
    ///             }
    ///             Ok::<_, String>(n)
    ///         })
    ///         .await
    ///         .unwrap_err();
    ///     assert!(matches!(abort.error(), Error::TimedOut { index: 4, .. }));
    ///     assert_eq!(abort.to_string(), "item 4 timed out after 20ms");
    /// }
    /// # main();
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn timeout<TF, Fut>(self, after: Duration, timer: TF) -> Pool<M, P, W>
    where
        TF: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
    {
        assert!(
            !after.is_zero(),
            "failfast: a per-item timeout must be longer than zero"
        );
        let timer = move |after| -> Timer { Box::pin(timer(after).map(drop)) };
        let mut pool = self;
        pool.settings.timeout = Some(Timeout {
            after,
            timer: Arc::new(timer),
        });
        pool
    }

    /// Replaces the [`policy`](Pool::policy) with one of your own: after
    /// each item finishes (completed, failed, panicked or timed out),
    /// `decide` sees it with the run's counts so far ([`Finished`]) and says
    /// whether the run goes on, closes (intake stops, what entered finishes)
    /// or aborts ([`Verdict`]). Item errors then abort the run only when
    /// `decide` says so; a run in which any item failed still ends in an
    /// [`Abort`](crate::Abort) that lists them all, as under
    /// [`Policy::Continue`]. An abort decided on an item that did not fail
    /// has [`Error::Stopped`](crate::Error::Stopped) as its cause (or after
    /// the earlier failures).
    ///
    /// `decide` runs on the thread of the worker whose item finished, once
    /// per item, and may be called from several workers at once; it must be
    /// `Send + Sync + 'static`, inline too. A panic in it aborts the run with
    /// [`Error::PolicyPanicked`](crate::Error::PolicyPanicked). Calling
    /// [`policy`](Pool::policy) afterwards puts a built-in policy back.
    ///
    /// # Examples
    ///
    /// Stop at the first success (a hedged request, a search): the rest are
    /// cancelled or handed back.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Pool, Verdict};
    ///
    /// let abort = Pool::new(4)
    ///     .custom_policy(|f| if f.outcome.is_completed() { Verdict::Abort } else { Verdict::Continue })
    ///     .run(futures::stream::iter(["a", "b", "found", "c", "d"]), |s| async move {
    ///         if s == "found" { Ok(s) } else { Err(format!("{s}: no")) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.report().outputs(), &[(2, "found")]);
    /// # });
    /// ```
    ///
    /// Abort when more than 5% of the items failed, once 20 have finished:
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Pool, Verdict};
    ///
    /// let abort = Pool::new(4)
    ///     .custom_policy(|f| {
    ///         if f.total() >= 20 && f.failed * 20 > f.total() { Verdict::Abort } else { Verdict::Continue }
    ///     })
    ///     .run(futures::stream::iter(0..1000u32), |n| async move {
    ///         if n % 10 == 0 { Err(format!("{n} failed")) } else { Ok(n) } // 10% fail
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert!(abort.entered() < 1000);
    /// assert_eq!(abort.error().index(), Some(0)); // the first failure is the cause
    /// # });
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn custom_policy(
        self,
        decide: impl Fn(&Finished) -> Verdict + Send + Sync + 'static,
    ) -> Pool<M, P, W> {
        let mut pool = self;
        pool.settings.custom = Some(Arc::new(decide));
        pool
    }

    /// The number of workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast::Pool;
    ///
    /// let pool = Pool::new(8).queue(100);
    /// assert_eq!(pool.workers(), 8);
    /// ```
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The queue's capacity.
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast::Pool;
    ///
    /// // The queue holds as many items as there are workers, by default.
    /// assert_eq!(Pool::new(4).capacity(), 4);
    /// assert_eq!(Pool::new(4).queue(64).capacity(), 64);
    /// ```
    pub fn capacity(&self) -> usize {
        self.settings.capacity
    }

    /// The same pool, set up to hand out its outputs as a stream.
    pub(crate) fn streaming(self) -> Pool<M, P, W> {
        let mut pool = self;
        pool.settings.streaming = true;
        pool
    }

    /// Switches to spawned workers: each worker runs as a task spawned on
    /// `executor`, for real parallelism on a multi-threaded executor. The
    /// run methods then require (through [`Mode`](crate::Mode)) that the items, outputs,
    /// handler errors and source errors are `Send + 'static`, the handler
    /// `Send + Sync + 'static` and its futures `Send + 'static`, and a
    /// progress callback `Send + Sync + 'static`. The run
    /// itself (the source or producer, and the driver) stays in the run's
    /// future, which is `Send` whenever the source is. Everything else
    /// (errors, accounting, cancellation) is the same as inline.
    ///
    /// When the run returns, every worker has ended and every job future has
    /// been dropped. When the run's future is dropped, every worker is told
    /// to stop at once: it takes no further item (one that had taken its item
    /// just before may still call the handler for it) and drops its job as
    /// soon as the poll it is in returns, or at its next poll; a job that
    /// blocks its thread is dropped when it yields. No worker is detached,
    /// but the drop does not wait for them: they stop on their own threads,
    /// shortly after.
    ///
    /// The executor must poll each task it is given after `spawn` returns,
    /// on any thread, until it completes, or drop it (see [`Executor`]).
    ///
    /// # Where to poll the run
    ///
    /// The run's future feeds the queue and settles the books; with a stream
    /// source it is woken about once per half a queue, not per item. Polled
    /// by a thread outside the executor (`block_on`, the main task of
    /// `#[tokio::main]`), that thread competes with the workers for the
    /// cores. With CPU-bound jobs of tens of microseconds this costs little.
    /// With jobs of well under a microsecond on few cores, the workers run
    /// out of items while that thread waits for a core, and each item can
    /// cost two to two and a half times as much as with the run's future
    /// spawned on the executor too; a pool written by hand pays the same
    /// kind of price there (the caller's-thread rows of BENCHMARKS.md
    /// measure both placements). Spawning the run's future needs a source
    /// that is `Send + 'static`; the second example shows how.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Outputs, Pool};
    ///
    /// let thread_pool = futures::executor::ThreadPool::new().unwrap();
    /// let report = Pool::new(4)
    ///     .outputs(Outputs::InputOrder)
    ///     .spawn_on(move |task| thread_pool.spawn_ok(task))
    ///     .run(futures::stream::iter(0..100u64), |n| async move {
    ///         Ok::<u64, String>((0..=n).sum())
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.completed(), 100);
    /// assert_eq!(report.outputs()[99], (99, 4950));
    /// # });
    /// ```
    ///
    /// The run's future spawned on the executor too (with tokio,
    /// `tokio::spawn(run).await`; with smol, `executor.spawn(run).await`):
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    /// use futures::task::SpawnExt as _;
    ///
    /// let thread_pool = futures::executor::ThreadPool::new().unwrap();
    /// let workers = thread_pool.clone();
    /// let run = Pool::new(4)
    ///     .spawn_on(move |task| workers.spawn_ok(task))
    ///     .run(futures::stream::iter(0..1000u64), |n| async move {
    ///         Ok::<u64, String>(n * 2)
    ///     });
    /// let report = thread_pool.spawn_with_handle(run).unwrap().await.unwrap();
    /// assert_eq!(report.completed(), 1000);
    /// # });
    /// ```
    #[must_use = "the builder returns the changed pool"]
    pub fn spawn_on<X: Executor>(self, executor: X) -> Pool<Spawned<X>, P, W> {
        Pool {
            progress: self.progress,
            workers: self.workers,
            settings: self.settings,
            mode: Spawned(executor),
            wrap: self.wrap,
        }
    }
}
