//! The stream [`PooledExt`](crate::PooledExt) makes, [`Pooled`]: the
//! pool's builder and the drop-ins for `try_for_each_concurrent` and
//! `buffer_unordered`.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;

use futures_core::{Stream, TryStream};
use futures_util::StreamExt as _;

use crate::abort::Abort;
use crate::config::{Outputs, Policy};
use crate::control::Control;
use crate::executor::Executor;
use crate::mode::{Inline, Mode, Spawned};
use crate::pool::Pool;
use crate::progress::{NoProgress, OnProgress, Progress};

/// Marks a [`Pooled`] stream whose items are `Result`s: made by
/// [`PooledExt::try_pooled`](crate::PooledExt::try_pooled).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Fallible, Inline, Pooled, PooledExt as _};
///
/// let source = futures::stream::iter(vec![Ok(1u32), Ok(2), Err("lost the connection")]);
/// let pooled: Pooled<_, Inline, Fallible> = source.try_pooled(2);
/// let abort = pooled
///     .try_for_each(|n| async move { Ok::<(), String>(drop(n)) })
///     .await
///     .unwrap_err();
/// assert_eq!(abort.error().to_string(), "source failed after 2 items");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallible;

/// A stream waiting for its handler; made by [`PooledExt::pooled`](crate::PooledExt::pooled) (`K` is
/// `()`) or [`PooledExt::try_pooled`](crate::PooledExt::try_pooled) (`K` is [`Fallible`]).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use failfast::{Policy, PooledExt as _};
///
/// let total = AtomicU64::new(0);
/// let pooled = futures::stream::iter(1..=10u64).pooled(3).queue(6).policy(Policy::FailFast);
/// pooled
///     .try_for_each(|n| {
///         total.fetch_add(n, Ordering::SeqCst);
///         async { Ok::<(), String>(()) }
///     })
///     .await
///     .unwrap();
/// assert_eq!(total.into_inner(), 55);
/// # });
/// ```
#[must_use = "a pooled stream does nothing until `try_for_each` or `try_map` is called"]
pub struct Pooled<S, M = Inline, K = (), C = NoProgress> {
    stream: S,
    pool: Pool<M, C>,
    source: K,
}

impl<S, M: fmt::Debug, K, C: OnProgress> fmt::Debug for Pooled<S, M, K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pooled")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl<S, M, K, C> Pooled<S, M, K, C> {
    /// `stream`, to be handled by `pool`; `source` says whether its items
    /// are `Result`s.
    pub(crate) fn new(stream: S, pool: Pool<M, C>, source: K) -> Self {
        Pooled {
            stream,
            pool,
            source,
        }
    }

    /// Sets the queue's capacity, as [`Pool::queue`] does.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use failfast::PooledExt as _;
    ///
    /// let most_held = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&most_held);
    /// futures::stream::iter(0..500u32)
    ///     .pooled(2)
    ///     .queue(8)
    ///     .on_progress(move |p| {
    ///         seen.fetch_max(p.queued + p.in_flight, Ordering::SeqCst);
    ///     })
    ///     .try_for_each(|_| async { Ok::<(), String>(()) })
    ///     .await
    ///     .unwrap();
    /// assert!(most_held.load(Ordering::SeqCst) <= 8 + 2);
    /// # });
    /// ```
    #[must_use = "the builder returns the changed stream"]
    pub fn queue(self, capacity: usize) -> Self {
        Pooled {
            pool: self.pool.queue(capacity),
            ..self
        }
    }

    /// Sets the error policy, as [`Pool::policy`] does.
    ///
    /// # Panics
    ///
    /// Panics on `Policy::AbortAfter(0)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Policy, PooledExt as _};
    ///
    /// let abort = futures::stream::iter(0..12u32)
    ///     .pooled(3)
    ///     .policy(Policy::Continue)
    ///     .try_for_each(|n| async move { if n % 5 == 0 { Err(n) } else { Ok(()) } })
    ///     .await
    ///     .unwrap_err();
    /// // Every item was tried: each failure is listed.
    /// assert_eq!(abort.failed(), vec![0, 5, 10]);
    /// assert_eq!(abort.report().completed(), 9);
    /// # });
    /// ```
    #[must_use = "the builder returns the changed stream"]
    pub fn policy(self, policy: Policy) -> Self {
        Pooled {
            pool: self.pool.policy(policy),
            ..self
        }
    }

    /// Lets `control` steer the run from outside (close, abort, deadline)
    /// and read its progress, as [`Pool::control`] does: Ctrl-C handling or
    /// a progress bar through the drop-in.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, PooledExt as _};
    ///
    /// let control = Control::new();
    /// let stop = control.clone();
    /// let done = futures::stream::iter(0..u64::MAX)
    ///     .pooled(2)
    ///     .control(&control)
    ///     .try_for_each(move |n| {
    ///         if n == 10 {
    ///             stop.close(); // no more intake; what entered finishes
    ///         }
    ///         async move { Ok::<(), String>(()) }
    ///     })
    ///     .await;
    /// assert!(done.is_ok());
    /// assert!(control.progress().completed >= 11);
    /// # });
    /// ```
    #[must_use = "the builder returns the changed stream"]
    pub fn control(self, control: &Control) -> Self {
        Pooled {
            pool: self.pool.control(control),
            ..self
        }
    }

    /// Calls `on_progress` each time an item finishes, as
    /// [`Pool::on_progress`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use failfast::PooledExt as _;
    ///
    /// let finished = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&finished);
    /// futures::stream::iter(0..20u32)
    ///     .pooled(4)
    ///     .on_progress(move |progress| {
    ///         seen.fetch_max(progress.completed, Ordering::SeqCst);
    ///     })
    ///     .try_for_each(|_| async { Ok::<(), String>(()) })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(finished.load(Ordering::SeqCst), 20);
    /// # });
    /// ```
    #[must_use = "the builder returns the changed stream"]
    pub fn on_progress<G: Fn(&Progress)>(self, on_progress: G) -> Pooled<S, M, K, G> {
        Pooled {
            stream: self.stream,
            pool: self.pool.on_progress(on_progress),
            source: self.source,
        }
    }

    /// Spawns the workers on `executor`, as [`Pool::spawn_on`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use failfast::PooledExt as _;
    ///
    /// let thread_pool = futures::executor::ThreadPool::new().unwrap();
    /// let total = Arc::new(AtomicU64::new(0));
    /// let sum = Arc::clone(&total);
    /// futures::stream::iter(1..=100u64)
    ///     .pooled(4)
    ///     .spawn_on(move |task| thread_pool.spawn_ok(task))
    ///     .try_for_each(move |n| {
    ///         let sum = Arc::clone(&sum);
    ///         async move { Ok::<(), String>(drop(sum.fetch_add(n, Ordering::SeqCst))) }
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(total.load(Ordering::SeqCst), 5050);
    /// # });
    /// ```
    #[must_use = "the builder returns the changed stream"]
    pub fn spawn_on<X: Executor>(self, executor: X) -> Pooled<S, Spawned<X>, K, C> {
        Pooled {
            stream: self.stream,
            pool: self.pool.spawn_on(executor),
            source: self.source,
        }
    }
}

impl<S: Stream, M, C: OnProgress> Pooled<S, M, (), C> {
    /// Runs `f` on every item; the first error (or panic) stops everything.
    /// Like `try_for_each_concurrent`, with a bounded queue, accounting of
    /// every item, and panics turned into errors. With
    /// [`spawn_on`](Pooled::spawn_on), `f`, its futures and the items must
    /// be `Send + 'static` (see [`Mode`]).
    ///
    /// # Errors
    ///
    /// Returns the [`Abort`] of the run, as [`Pool::run`] does.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the run, as for [`Pool::run`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::Mutex;
    /// use failfast::PooledExt as _;
    ///
    /// let seen = Mutex::new(Vec::new());
    /// futures::stream::iter(0..6u32)
    ///     .pooled(2)
    ///     .try_for_each(|n| {
    ///         seen.lock().unwrap().push(n);
    ///         async { Ok::<(), String>(()) }
    ///     })
    ///     .await
    ///     .unwrap();
    /// let mut seen = seen.into_inner().unwrap();
    /// seen.sort();
    /// assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
    /// # });
    /// ```
    pub fn try_for_each<F, Fut, E>(
        self,
        f: F,
    ) -> impl Future<Output = Result<(), Abort<S::Item, (), E>>>
    where
        F: Fn(S::Item) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        M: Mode<S::Item, (), E, Infallible, F, C>,
    {
        let run = self.pool.outputs(Outputs::Discard).run(self.stream, f);
        async move { run.await.map(drop) }
    }

    /// Maps every item through `f`, yielding outputs as they complete (like
    /// `buffer_unordered`); after the first error (or panic) the stream
    /// yields the run's `Err(abort)` and ends.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::PooledExt as _;
    /// use futures::StreamExt as _;
    ///
    /// let mut lengths = futures::stream::iter(["a", "bb", "", "dddd"])
    ///     .pooled(2)
    ///     .try_map(|word: &str| async move {
    ///         if word.is_empty() { Err("empty word") } else { Ok(word.len()) }
    ///     });
    /// let mut total = 0;
    /// while let Some(next) = lengths.next().await {
    ///     match next {
    ///         Ok(length) => total += length,
    ///         Err(abort) => assert_eq!(abort.error().index(), Some(2)),
    ///     }
    /// }
    /// assert!(total <= 7);
    /// # });
    /// ```
    pub fn try_map<F, Fut, R, E>(self, f: F) -> impl Stream<Item = Result<R, Abort<S::Item, R, E>>>
    where
        F: Fn(S::Item) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        M: Mode<S::Item, R, E, Infallible, F, C>,
    {
        self.pool
            .stream(self.stream, f)
            .map(|next| next.map(|(_, output)| output))
    }
}

impl<S: TryStream, M, C: OnProgress> Pooled<S, M, Fallible, C> {
    /// Runs `f` on every `Ok` item; the first error (of `f` or of the
    /// stream) or panic stops everything. Like `try_for_each_concurrent`,
    /// with a bounded queue, accounting of every item, and panics turned into
    /// errors. With [`spawn_on`](Pooled::spawn_on), the stream's `Ok` and
    /// `Error` types, `f` and its futures must be `Send + 'static` (see
    /// [`Mode`]).
    ///
    /// # Errors
    ///
    /// Returns the [`Abort`] of the run, as [`Pool::try_run`] does.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the run, as for [`Pool::run`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use failfast::PooledExt as _;
    ///
    /// let total = AtomicU32::new(0);
    /// let readings = futures::stream::iter(vec![Ok::<u32, String>(3), Ok(4), Ok(5)]);
    /// readings
    ///     .try_pooled(2)
    ///     .try_for_each(|n| {
    ///         total.fetch_add(n, Ordering::SeqCst);
    ///         async { Ok::<(), String>(()) }
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(total.into_inner(), 12);
    /// # });
    /// ```
    pub fn try_for_each<F, Fut, E>(
        self,
        f: F,
    ) -> impl Future<Output = Result<(), Abort<S::Ok, (), E, S::Error>>>
    where
        F: Fn(S::Ok) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        M: Mode<S::Ok, (), E, S::Error, F, C>,
    {
        let run = self.pool.outputs(Outputs::Discard).try_run(self.stream, f);
        async move { run.await.map(drop) }
    }
}
