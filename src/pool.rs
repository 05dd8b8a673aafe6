//! The builder: [`Pool`] and its settings. Its run methods are in
//! `run.rs`.

use std::sync::Arc;

use crate::config::{Outputs, Policy, Settings};
use crate::control::{Control, Progress};
use crate::executor::Executor;
use crate::mode::{Inline, Spawned};

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
#[derive(Debug, Clone)]
#[must_use = "a pool does nothing until one of its run methods is called and awaited"]
pub struct Pool<M = Inline> {
    pub(crate) workers: usize,
    pub(crate) settings: Settings,
    pub(crate) mode: M,
}

impl Pool {
    /// A pool of `workers` workers, with a queue of the same capacity until
    /// [`queue`](Pool::queue) says otherwise.
    ///
    /// # Panics
    ///
    /// Panics if `workers` is 0: no item could ever be handled, and a producer
    /// would wait forever.
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
                on_progress: None,
                streaming: false,
            },
            mode: Inline,
        }
    }
}

impl<M> Pool<M> {
    /// Sets how many items may wait in the queue for a free worker. A producer
    /// that finds the queue full waits (backpressure). At most `capacity +
    /// workers` items are held by the pool at once.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is 0 (a rendezvous queue is not supported: use 1).
    #[must_use = "the builder returns the changed pool"]
    pub fn queue(self, capacity: usize) -> Pool<M> {
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
    #[must_use = "the builder returns the changed pool"]
    pub fn outputs(self, outputs: Outputs) -> Pool<M> {
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
    #[must_use = "the builder returns the changed pool"]
    pub fn policy(self, policy: Policy) -> Pool<M> {
        assert!(
            policy != Policy::AbortAfter(0),
            "failfast: Policy::AbortAfter needs at least 1 error, got 0"
        );
        let mut pool = self;
        pool.settings.policy = policy;
        pool
    }

    /// Lets `control` steer the run from outside (close, abort, deadline) and
    /// read its progress. A `Control` is for one run: a second run set up
    /// with it panics (see [`Control`]).
    #[must_use = "the builder returns the changed pool"]
    pub fn control(self, control: &Control) -> Pool<M> {
        let mut pool = self;
        pool.settings.control = Some(control.clone());
        pool
    }

    /// Calls `on_progress` with a [`Progress`] snapshot each time an item
    /// finishes (completed, failed or cancelled), on the worker that finished
    /// it. Keep it cheap: it runs on the workers' path.
    ///
    /// A panic in `on_progress` is caught: the item it was called for counts
    /// as it finished, and the run aborts with
    /// [`Error::ProgressPanicked`](crate::Error::ProgressPanicked) (unless an
    /// error came first); the caller does not unwind.
    #[must_use = "the builder returns the changed pool"]
    pub fn on_progress(self, on_progress: impl Fn(&Progress) + Send + Sync + 'static) -> Pool<M> {
        let mut pool = self;
        pool.settings.on_progress = Some(Arc::new(on_progress));
        pool
    }

    /// The number of workers.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.settings.capacity
    }

    /// The same pool, set up to hand out its outputs as a stream.
    pub(crate) fn streaming(self) -> Pool<M> {
        let mut pool = self;
        pool.settings.streaming = true;
        pool
    }

    /// Switches to spawned workers: each worker runs as a task spawned on
    /// `executor`, for real parallelism on a multi-threaded executor. The
    /// run methods then require (through [`Mode`](crate::Mode)) that the items, outputs,
    /// handler errors and source errors are `Send + 'static`, the handler
    /// `Send + Sync + 'static` and its futures `Send + 'static`. The run
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
    #[must_use = "the builder returns the changed pool"]
    pub fn spawn_on<X: Executor>(self, executor: X) -> Pool<Spawned<X>> {
        Pool {
            workers: self.workers,
            settings: self.settings,
            mode: Spawned(executor),
        }
    }
}
