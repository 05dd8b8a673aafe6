//! The builder, [`Pool`], and the runs it starts.

use std::future::Future;
use std::sync::Arc;

use futures_core::{Stream, TryStream};
use futures_util::TryStreamExt as _;
use futures_util::stream::FuturesUnordered;

use crate::books::Shared;
use crate::config::{Outputs, Policy, Settings};
use crate::control::{Control, Progress};
use crate::drive::{drive, feed};
use crate::executor::Executor;
use crate::queue::Sender;
use crate::report::{Abort, Report};
use crate::spawn::Spawned;
use crate::stream::OutputStream;
use crate::worker::worker;

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
/// - `Ok(`[`Report`]`)`: the source was exhausted and every item that entered
///   was handled successfully, exactly once;
/// - `Err(`[`Abort`]`)`: the first handler error, handler panic or source error
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
/// assert_eq!(abort.error().to_string(), "item 11 failed: request 11 broke");
/// // Nothing is lost: every request that entered is accounted for.
/// let handled = abort.report().completed() + 1 + abort.other_errors().len();
/// assert_eq!(handled + abort.cancelled().len() + abort.unprocessed().len(), abort.entered());
/// # });
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pool<M = Inline> {
    pub(crate) workers: usize,
    pub(crate) settings: Settings,
    pub(crate) mode: M,
}

/// The default mode of a [`Pool`]: every worker runs inside the run's own
/// future, under whatever executor polls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inline;

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
    /// read its progress.
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
    /// `executor`, for real parallelism on a multi-threaded executor. Items,
    /// outputs, errors, the handler and its futures must then be `Send +
    /// 'static`. Everything else (errors, accounting, cancellation) is the
    /// same as inline.
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
    pub fn spawn_on<X: Executor>(self, executor: X) -> Pool<Spawned<X>> {
        Pool {
            workers: self.workers,
            settings: self.settings,
            mode: Spawned(executor),
        }
    }
}

impl Pool<Inline> {
    /// Handles every item of `source` with `handler`, on the pool's workers.
    ///
    /// Items are pulled from `source` only when the queue has room, numbered
    /// 0, 1, 2, … as they enter, and handled by `handler(item)`.
    ///
    /// # Errors
    ///
    /// Returns an [`Abort`] if a handler returns an error or panics: the first
    /// such error is its [`error`](Abort::error).
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels the run: every job in flight and
    /// the source are dropped; items in the queue are dropped unhandled.
    pub fn run<T, S, F, Fut, R, E>(
        self,
        source: S,
        handler: F,
    ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E>>>
    where
        S: Stream<Item = T>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        self.try_run(futures_util::StreamExt::map(source, Ok), handler)
    }

    /// Like [`run`](Pool::run), for a fallible source: an `Err` from `source`
    /// aborts the run with [`Error::Source`](crate::Error::Source).
    ///
    /// # Errors
    ///
    /// Returns an [`Abort`] if a handler returns an error or panics, or if the
    /// source returns an error or panics.
    ///
    /// # Cancel safety
    ///
    /// As for [`run`](Pool::run).
    pub fn try_run<T, SE, S, F, Fut, R, E>(
        self,
        source: S,
        handler: F,
    ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>
    where
        S: TryStream<Ok = T, Error = SE>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        self.run_with(move |tx| feed(source.into_stream(), tx, true), handler)
    }

    /// Runs `producer` and the workers together: the producer gets a
    /// [`Sender`] and puts items in the queue with
    /// [`send(item).await`](Sender::send), which waits while the queue is full.
    ///
    /// Intake ends when the producer's future returns (with its [`Sender`])
    /// and every clone of the sender it handed out is dropped. If the run
    /// aborts or is closed first, the producer's pending and later sends fail at once with a
    /// [`SendError`](crate::SendError) that hands the item back; a producer
    /// that is not sending when the workers have all stopped is dropped. An
    /// `Err` returned by the producer aborts the run with
    /// [`Error::Source`](crate::Error::Source) (or, if the run had already
    /// aborted, is kept among [`other_errors`](Abort::other_errors)).
    ///
    /// # Errors
    ///
    /// Returns an [`Abort`] if a handler returns an error or panics, or if the
    /// producer returns an error or panics.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels the run: the producer, every job in
    /// flight and every queued item are dropped.
    ///
    /// # Examples
    ///
    /// A producer blocked on a full queue is released when the run aborts:
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(2)
    ///     .queue(1)
    ///     .run_with(
    ///         |tx| async move {
    ///             for n in 0.. {
    ///                 if let Err(refused) = tx.send(n).await {
    ///                     assert!(refused.into_inner() >= 3);
    ///                     break;
    ///                 }
    ///             }
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n: u64| async move {
    ///             if n == 2 { Err("two is too many") } else { Ok(n) }
    ///         },
    ///     )
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.error().index(), Some(2));
    /// # });
    /// ```
    pub fn run_with<T, SE, P, PF, F, Fut, R, E>(
        self,
        producer: P,
        handler: F,
    ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>
    where
        P: FnOnce(Sender<T>) -> PF,
        PF: Future<Output = Result<(), SE>>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        self.start(producer, handler).1
    }

    /// Like [`run`](Pool::run), but hands out each output as its item
    /// completes, as a stream of `Ok((index, output))`, instead of collecting
    /// them. If the run aborts, the stream's last item is `Err(abort)` (whose
    /// report has no outputs: they all went through the stream). Nothing
    /// runs unless the stream is polled.
    ///
    /// Memory: the queue, the items in flight, and the outputs the consumer
    /// has not taken yet.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    /// use futures::StreamExt as _;
    ///
    /// let mut outputs = Pool::new(3).stream(futures::stream::iter(0..10u32), |n| async move {
    ///     if n == 7 { Err("seven") } else { Ok(n * 10) }
    /// });
    /// let mut seen = Vec::new();
    /// while let Some(next) = outputs.next().await {
    ///     match next {
    ///         Ok((index, output)) => seen.push((index, output)),
    ///         Err(abort) => assert_eq!(abort.error().index(), Some(7)),
    ///     }
    /// }
    /// assert!(seen.iter().all(|(index, output)| *output == *index as u32 * 10));
    /// # });
    /// ```
    pub fn stream<T, S, F, Fut, R, E>(
        self,
        source: S,
        handler: F,
    ) -> impl Stream<Item = Result<(usize, R), Abort<T, R, E>>>
    where
        S: Stream<Item = T>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        self.stream_with(
            move |tx| feed(futures_util::StreamExt::map(source, Ok), tx, true),
            handler,
        )
    }

    /// Like [`run_with`](Pool::run_with), with the outputs handed out as a
    /// stream, as [`stream`](Pool::stream) describes.
    pub fn stream_with<T, SE, P, PF, F, Fut, R, E>(
        self,
        producer: P,
        handler: F,
    ) -> impl Stream<Item = Result<(usize, R), Abort<T, R, E, SE>>>
    where
        P: FnOnce(Sender<T>) -> PF,
        PF: Future<Output = Result<(), SE>>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        let (shared, run) = self.streaming().start(producer, handler);
        OutputStream::new(shared, run)
    }

    /// Sets up a run: its shared state, and the future that does it.
    // The future's type cannot be named in a type alias on stable Rust.
    #[allow(clippy::type_complexity)]
    fn start<T, SE, P, PF, F, Fut, R, E>(
        self,
        producer: P,
        handler: F,
    ) -> (
        Arc<Shared<T, R, E, SE>>,
        impl Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>,
    )
    where
        P: FnOnce(Sender<T>) -> PF,
        PF: Future<Output = Result<(), SE>>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        let (shared, sender) = Shared::new(&self.settings);
        let shared = Arc::new(shared);
        let run = {
            let shared = Arc::clone(&shared);
            async move {
                let workers: FuturesUnordered<_> = (0..self.workers)
                    .map(|id| worker(id, &shared, &handler))
                    .collect();
                drive(&shared, producer(sender), workers).await
            }
        };
        (shared, run)
    }
}
