//! Where a scenario runs its pool: [`Inline`] under
//! `futures::executor::block_on`, or [`Spawn`]ed on one of the executors the
//! crate supports. A scenario is written once, as a function generic over
//! [`Exec`], and called once per executor by [`on_every_executor!`].
//!
//! A scenario builds an inline [`Pool`] with its settings and hands it, with
//! the source and the handler, to the executor's run methods, which switch
//! it to the executor's mode. Handlers are `Send + 'static` so every mode can
//! run them.

use std::future::Future;
use std::sync::{Arc, LazyLock};

use failfast::{Abort, Executor, Fallible, Pool, Pooled, Report, Sender, Task};
use futures::{Stream, TryStream};

use super::watchdog;

/// An executor a scenario runs on.
pub trait Exec: Copy + Send + Sync + 'static {
    /// Every worker runs in the run's own task: a failure and the abort
    /// decision happen in the same poll.
    const INLINE: bool;

    /// The executor's name, for the watchdog's message.
    const NAME: &'static str;

    /// Runs `future` to completion on the executor's own `block_on`, under the
    /// watchdog.
    fn block_on<F: Future>(self, future: F) -> F::Output;

    /// [`Pool::run`] in this executor's mode.
    fn run<T, S, F, Fut, R, E, C, W>(
        self,
        pool: Pool<failfast::Inline, C, W>,
        source: S,
        handler: F,
    ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E>>>
    where
        S: Stream<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static,
        W: failfast::Wrap<Fut> + Send + Sync + 'static,
        W::Wrapped: Send + 'static;

    /// [`Pool::run_with`] in this executor's mode.
    fn run_with<T, SE, P, PF, F, Fut, R, E, C>(
        self,
        pool: Pool<failfast::Inline, C>,
        producer: P,
        handler: F,
    ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>
    where
        P: FnOnce(Sender<T>) -> PF,
        PF: Future<Output = Result<(), SE>>,
        T: Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
        SE: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static;

    /// [`Pool::stream`] in this executor's mode.
    fn stream<T, S, F, Fut, R, E, C>(
        self,
        pool: Pool<failfast::Inline, C>,
        source: S,
        handler: F,
    ) -> impl Stream<Item = Result<(usize, R), Abort<T, R, E>>>
    where
        S: Stream<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static;

    /// [`Pooled::try_map`] in this executor's mode.
    fn try_map<S, F, Fut, R, E, C>(
        self,
        pooled: Pooled<S, failfast::Inline, (), C>,
        f: F,
    ) -> impl Stream<Item = Result<R, Abort<S::Item, R, E>>>
    where
        S: Stream,
        S::Item: Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
        F: Fn(S::Item) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static;

    /// [`Pooled::try_for_each`] in this executor's mode.
    fn try_for_each<S, F, Fut, E, C>(
        self,
        pooled: Pooled<S, failfast::Inline, (), C>,
        f: F,
    ) -> impl Future<Output = Result<(), Abort<S::Item, (), E>>>
    where
        S: Stream,
        S::Item: Send + 'static,
        E: Send + 'static,
        F: Fn(S::Item) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static;

    /// [`Pooled::try_for_each`] in this executor's mode, for a fallible
    /// stream.
    fn try_for_each_fallible<S, F, Fut, E, C>(
        self,
        pooled: Pooled<S, failfast::Inline, Fallible, C>,
        f: F,
    ) -> impl Future<Output = Result<(), Abort<S::Ok, (), E, S::Error>>>
    where
        S: TryStream,
        S::Ok: Send + 'static,
        S::Error: Send + 'static,
        E: Send + 'static,
        F: Fn(S::Ok) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static;
}

/// Inline, under `futures::executor::block_on`.
#[derive(Debug, Clone, Copy)]
pub struct Inline;

/// Spawned on the executor of runtime `Rt`, and driven by its `block_on`.
#[derive(Debug, Clone, Copy)]
pub struct Spawn<Rt>(pub Rt);

/// The implementations of [`Exec`]'s methods, for a mode made by `$mode`
/// from the pool.
macro_rules! exec_methods {
    ($this:ident, $pool:ident => $mode:expr) => {
        fn run<T, S, F, Fut, R, E, C, W>(
            $this,
            $pool: Pool<failfast::Inline, C, W>,
            source: S,
            handler: F,
        ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E>>>
        where
            S: Stream<Item = T>,
            T: Send + 'static,
            R: Send + 'static,
            E: Send + 'static,
            F: Fn(T) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<R, E>> + Send + 'static,
            C: failfast::OnProgress + Send + Sync + 'static,
            W: failfast::Wrap<Fut> + Send + Sync + 'static,
            W::Wrapped: Send + 'static,
        {
            $mode.run(source, handler)
        }

        fn run_with<T, SE, P, PF, F, Fut, R, E, C>(
            $this,
            $pool: Pool<failfast::Inline, C>,
            producer: P,
            handler: F,
        ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>
        where
            P: FnOnce(Sender<T>) -> PF,
            PF: Future<Output = Result<(), SE>>,
            T: Send + 'static,
            R: Send + 'static,
            E: Send + 'static,
            SE: Send + 'static,
            F: Fn(T) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<R, E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static,
        {
            $mode.run_with(producer, handler)
        }

        fn stream<T, S, F, Fut, R, E, C>(
            $this,
            $pool: Pool<failfast::Inline, C>,
            source: S,
            handler: F,
        ) -> impl Stream<Item = Result<(usize, R), Abort<T, R, E>>>
        where
            S: Stream<Item = T>,
            T: Send + 'static,
            R: Send + 'static,
            E: Send + 'static,
            F: Fn(T) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<R, E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static,
        {
            $mode.stream(source, handler)
        }

        fn try_map<S, F, Fut, R, E, C>(
            $this,
            $pool: Pooled<S, failfast::Inline, (), C>,
            f: F,
        ) -> impl Stream<Item = Result<R, Abort<S::Item, R, E>>>
        where
            S: Stream,
            S::Item: Send + 'static,
            R: Send + 'static,
            E: Send + 'static,
            F: Fn(S::Item) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<R, E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static,
        {
            $mode.try_map(f)
        }

        fn try_for_each<S, F, Fut, E, C>(
            $this,
            $pool: Pooled<S, failfast::Inline, (), C>,
            f: F,
        ) -> impl Future<Output = Result<(), Abort<S::Item, (), E>>>
        where
            S: Stream,
            S::Item: Send + 'static,
            E: Send + 'static,
            F: Fn(S::Item) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<(), E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static,
        {
            $mode.try_for_each(f)
        }

        fn try_for_each_fallible<S, F, Fut, E, C>(
            $this,
            $pool: Pooled<S, failfast::Inline, Fallible, C>,
            f: F,
        ) -> impl Future<Output = Result<(), Abort<S::Ok, (), E, S::Error>>>
        where
            S: TryStream,
            S::Ok: Send + 'static,
            S::Error: Send + 'static,
            E: Send + 'static,
            F: Fn(S::Ok) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<(), E>> + Send + 'static,
        C: failfast::OnProgress + Send + Sync + 'static,
        {
            $mode.try_for_each(f)
        }
    };
}

impl Exec for Inline {
    const INLINE: bool = true;
    const NAME: &'static str = "inline";

    fn block_on<F: Future>(self, future: F) -> F::Output {
        futures::executor::block_on(watchdog(Self::NAME, future))
    }

    exec_methods!(self, pool => pool);
}

impl<Rt: Runtime> Exec for Spawn<Rt> {
    const INLINE: bool = false;
    const NAME: &'static str = Rt::NAME;

    fn block_on<F: Future>(self, future: F) -> F::Output {
        self.0.block_on(watchdog(Self::NAME, future))
    }

    exec_methods!(self, pool => pool.spawn_on(self.0.executor()));
}

/// An executor to spawn workers on, and its way of blocking on a future.
pub trait Runtime: Copy + Send + Sync + 'static {
    /// What the pool spawns on.
    type X: Executor;
    /// The runtime's name.
    const NAME: &'static str;
    /// A handle to spawn on.
    fn executor(self) -> Self::X;
    /// Runs `future` to completion.
    fn block_on<F: Future>(self, future: F) -> F::Output;
}

/// A smol executor served by `THREADS` threads (1 or 2).
#[derive(Debug, Clone, Copy)]
pub struct Smol<const THREADS: usize>;

static SMOL_1: LazyLock<Arc<smol::Executor<'static>>> = LazyLock::new(|| super::smol_executor(1));
static SMOL_2: LazyLock<Arc<smol::Executor<'static>>> = LazyLock::new(|| super::smol_executor(2));

impl<const THREADS: usize> Runtime for Smol<THREADS> {
    type X = Arc<smol::Executor<'static>>;
    const NAME: &'static str = if THREADS == 1 {
        "smol, 1 thread"
    } else {
        "smol, 2 threads"
    };

    fn executor(self) -> Self::X {
        Arc::clone(if THREADS == 1 { &SMOL_1 } else { &SMOL_2 })
    }

    fn block_on<F: Future>(self, future: F) -> F::Output {
        smol::block_on(future)
    }
}

/// A current-thread tokio runtime, one per test thread.
#[derive(Debug, Clone, Copy)]
pub struct TokioCurrentThread;

thread_local! {
    static TOKIO_CURRENT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
}

impl Runtime for TokioCurrentThread {
    type X = tokio::runtime::Handle;
    const NAME: &'static str = "tokio, current thread";

    fn executor(self) -> Self::X {
        TOKIO_CURRENT.with(|rt| rt.handle().clone())
    }

    fn block_on<F: Future>(self, future: F) -> F::Output {
        TOKIO_CURRENT.with(|rt| rt.block_on(future))
    }
}

/// A multi-thread tokio runtime with 2 worker threads.
#[derive(Debug, Clone, Copy)]
pub struct TokioMultiThread;

static TOKIO_MULTI: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| super::tokio_multi_thread(2));

impl Runtime for TokioMultiThread {
    type X = tokio::runtime::Handle;
    const NAME: &'static str = "tokio, multi-thread";

    fn executor(self) -> Self::X {
        TOKIO_MULTI.handle().clone()
    }

    fn block_on<F: Future>(self, future: F) -> F::Output {
        TOKIO_MULTI.block_on(future)
    }
}

/// async-std, spawned through a plain function, as any executor can be.
#[derive(Debug, Clone, Copy)]
pub struct AsyncStd;

fn async_std_spawn(task: Task) {
    async_std::task::spawn(task);
}

impl Runtime for AsyncStd {
    type X = fn(Task);
    const NAME: &'static str = "async-std, through a closure";

    fn executor(self) -> Self::X {
        async_std_spawn
    }

    fn block_on<F: Future>(self, future: F) -> F::Output {
        async_std::task::block_on(future)
    }
}

/// `futures`' `ThreadPool` with 2 threads.
#[derive(Debug, Clone, Copy)]
pub struct ThreadPool;

static THREAD_POOL: LazyLock<futures::executor::ThreadPool> = LazyLock::new(|| {
    futures::executor::ThreadPool::builder()
        .pool_size(2)
        .create()
        .expect("a thread pool")
});

impl Runtime for ThreadPool {
    type X = futures::executor::ThreadPool;
    const NAME: &'static str = "futures' ThreadPool";

    fn executor(self) -> Self::X {
        THREAD_POOL.clone()
    }

    fn block_on<F: Future>(self, future: F) -> F::Output {
        futures::executor::block_on(future)
    }
}

/// Makes, for each scenario `f` (a function generic over [`Exec`]), a module
/// `f` with one test per executor: `f::inline`, `f::smol_1_thread`, ….
#[macro_export]
macro_rules! on_every_executor {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use $crate::common::exec::*;

            #[test]
            fn inline() {
                super::$scenario(Inline);
            }

            #[test]
            fn smol_1_thread() {
                super::$scenario(Spawn(Smol::<1>));
            }

            #[test]
            fn smol_2_threads() {
                super::$scenario(Spawn(Smol::<2>));
            }

            #[test]
            fn tokio_current_thread() {
                super::$scenario(Spawn(TokioCurrentThread));
            }

            #[test]
            fn tokio_multi_thread() {
                super::$scenario(Spawn(TokioMultiThread));
            }

            #[test]
            fn async_std_closure() {
                super::$scenario(Spawn(AsyncStd));
            }

            #[test]
            fn futures_thread_pool() {
                super::$scenario(Spawn(ThreadPool));
            }
        }
    )*};
}
