//! Where a pool's workers run: [`Inline`] (inside the run's own future) or
//! [`Spawned`] (as tasks on an [`Executor`]), behind the sealed [`Mode`]
//! trait that the one family of run methods is generic over.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::Either;
use futures_util::stream::FuturesUnordered;

use crate::books::Shared;
use crate::executor::Executor;
use crate::progress::{NoProgress, OnProgress};
use crate::spawn::{Handle, spawn_workers};
use crate::worker::{Hooks, WorkerExit, worker};
use crate::wrap::{NoWrap, Wrap};

/// The default mode of a [`Pool`](crate::Pool): every worker runs inside the
/// run's own future, under whatever executor polls it. Items, outputs,
/// errors, the handler and its futures need not be `Send` or `'static`.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Inline, Pool};
///
/// // A handler that borrows from the caller: fine inline.
/// let offset = 10;
/// let pool: Pool<Inline> = Pool::new(2);
/// let report = pool
///     .run(futures::stream::iter(0..4), |n| async move { Ok::<_, ()>(n + offset) })
///     .await
///     .unwrap();
/// assert_eq!(report.completed(), 4);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inline;

/// The mode of a [`Pool`](crate::Pool) whose workers are spawned on an
/// executor; made by [`Pool::spawn_on`](crate::Pool::spawn_on). Items,
/// outputs, errors, the source's error, the handler (also `Sync`) and its
/// futures must be `Send + 'static`.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Pool, Spawned};
///
/// let executor = futures::executor::ThreadPool::new().unwrap();
/// let spawn = move |task| executor.spawn_ok(task);
/// let pool: Pool<Spawned<_>> = Pool::new(2).spawn_on(spawn);
/// let report = pool
///     .run(futures::stream::iter(0..4), |n| async move { Ok::<_, ()>(n * 2) })
///     .await
///     .unwrap();
/// assert_eq!(report.completed(), 4);
/// # });
/// ```
#[derive(Clone, Copy)]
pub struct Spawned<X>(pub(crate) X);

impl<X> fmt::Debug for Spawned<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Spawned(..)")
    }
}

/// The run's worker function, which the inline mode calls once per worker.
type MakeWorker<T, R, E, SE, F, P, V, W> =
    fn(usize, Arc<Shared<T, R, E, SE>>, Arc<Hooks<F, P, V>>) -> W;

mod sealed {
    /// Only this crate's modes implement [`Mode`](super::Mode).
    pub trait Sealed {}
    impl Sealed for super::Inline {}
    impl<X> Sealed for super::Spawned<X> {}
}

/// Where a [`Pool`](crate::Pool)'s workers run, and so what its run methods
/// require of their types: sealed, implemented by [`Inline`] and
/// [`Spawned`] only.
///
/// `M: Mode<T, R, E, SE, F, P, V>` reads "a pool in mode `M` can run
/// handler `F` over items `T`, with outputs `R`, handler errors `E`, source
/// errors `SE`, progress callback `P` and job wrapper `V`" (`P` is
/// [`NoProgress`] unless [`on_progress`](crate::Pool::on_progress) gave one,
/// `V` is [`NoWrap`] unless [`wrap`](crate::Pool::wrap) gave one):
///
/// - [`Inline`]: always. The workers run inside the run's future, so
///   nothing needs to be `Send` or `'static`.
/// - [`Spawned<X>`](Spawned) (for any [`Executor`] `X`): when `T`, `R`, `E`
///   and `SE` are `Send + 'static`, `F` is `Fn(T) -> Fut + Send + Sync +
///   'static`, its futures `Fut` are `Send + 'static`, the progress
///   callback `P` and the wrapper `V` are `Send + Sync + 'static` and the
///   wrapped futures `Send + 'static`: they cross to the executor's threads.
///
/// `F` is the handler's own type, so code generic over the mode takes a
/// handler whose type it can name (a function, as below, or a boxed
/// closure); a closure written inside such code needs a concrete mode.
///
/// # Examples
///
/// Code generic over the mode names the bound once:
///
/// ```
/// # futures::executor::block_on(async {
/// use std::convert::Infallible;
/// use failfast::{Mode, Pool};
///
/// async fn double_all<M>(pool: Pool<M>) -> usize
/// where
///     M: Mode<u32, u32, String, Infallible, fn(u32) -> std::future::Ready<Result<u32, String>>>,
/// {
///     let handler: fn(u32) -> _ = |n| std::future::ready(Ok(n * 2));
///     pool.run(futures::stream::iter(0..5), handler).await.unwrap().completed()
/// }
///
/// assert_eq!(double_all(Pool::new(2)).await, 5);
/// let executor = futures::executor::ThreadPool::new().unwrap();
/// let spawned = Pool::new(2).spawn_on(move |task| executor.spawn_ok(task));
/// assert_eq!(double_all(spawned).await, 5);
/// # });
/// ```
// The hidden method takes the run's private state: it cannot be called
// from outside the crate.
#[allow(private_interfaces, private_bounds)]
pub trait Mode<T, R, E, SE, F, P = NoProgress, V = NoWrap>: sealed::Sealed {
    /// Whether the workers run in the run's own task: the feeder then waits
    /// for room without an event, since the run polls it again as soon as a
    /// worker has taken an item.
    #[doc(hidden)]
    const IN_RUN: bool;

    /// Starts `workers` workers, handling items with the hooks' handler; the run
    /// polls what this returns until every worker has ended: the workers
    /// themselves, made by `inline` (the run's own worker function, passed
    /// in so that the run's future names no type of the mode's own), or the
    /// handles of spawned ones.
    #[doc(hidden)]
    fn start<W>(
        self,
        workers: usize,
        shared: &Arc<Shared<T, R, E, SE>>,
        hooks: Hooks<F, P, V>,
        inline: MakeWorker<T, R, E, SE, F, P, V, W>,
    ) -> FuturesUnordered<Either<W, Handle>>
    where
        W: Future<Output = WorkerExit>;
}

#[allow(private_interfaces, private_bounds)]
impl<T, R, E, SE, F, Fut, P, V> Mode<T, R, E, SE, F, P, V> for Inline
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, E>>,
    P: OnProgress,
    V: Wrap<Fut>,
{
    const IN_RUN: bool = true;

    fn start<W>(
        self,
        workers: usize,
        shared: &Arc<Shared<T, R, E, SE>>,
        hooks: Hooks<F, P, V>,
        inline: MakeWorker<T, R, E, SE, F, P, V, W>,
    ) -> FuturesUnordered<Either<W, Handle>>
    where
        W: Future<Output = WorkerExit>,
    {
        let hooks = Arc::new(hooks);
        (0..workers)
            .map(|id| Either::Left(inline(id, Arc::clone(shared), Arc::clone(&hooks))))
            .collect()
    }
}

#[allow(private_interfaces, private_bounds)]
impl<X, T, R, E, SE, F, Fut, P, V> Mode<T, R, E, SE, F, P, V> for Spawned<X>
where
    X: Executor,
    T: Send + 'static,
    R: Send + 'static,
    E: Send + 'static,
    SE: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    P: OnProgress + Send + Sync + 'static,
    V: Wrap<Fut> + Send + Sync + 'static,
    V::Wrapped: Send + 'static,
{
    const IN_RUN: bool = false;

    fn start<W>(
        self,
        workers: usize,
        shared: &Arc<Shared<T, R, E, SE>>,
        hooks: Hooks<F, P, V>,
        _inline: MakeWorker<T, R, E, SE, F, P, V, W>,
    ) -> FuturesUnordered<Either<W, Handle>>
    where
        W: Future<Output = WorkerExit>,
    {
        let hooks = Arc::new(hooks);
        let worker = |id| worker(id, Arc::clone(shared), Arc::clone(&hooks));
        spawn_workers(&self.0, workers, shared, worker)
            .into_iter()
            .map(Either::Right)
            .collect()
    }
}
