//! The executor trait through which a pool spawns its workers, and its
//! adapters.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A worker, ready to be spawned: a boxed `Send + 'static` future with no
/// output.
///
/// The pool keeps its own link to every task it spawns, so an [`Executor`]
/// can spawn it and forget it: the pool learns when it ends (or is dropped
/// unfinished) and stops it when the run ends or is dropped.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use failfast::{Pool, Task};
///
/// let spawned = Arc::new(AtomicUsize::new(0));
/// let count = Arc::clone(&spawned);
/// let report = Pool::new(3)
///     .spawn_on(move |task: Task| {
///         count.fetch_add(1, Ordering::SeqCst);
///         // A task is a future: any thread that polls it to the end will do.
///         std::thread::spawn(move || futures::executor::block_on(task));
///     })
///     .run(futures::stream::iter(0..10u32), |n| async move { Ok::<u32, String>(n) })
///     .await
///     .unwrap();
/// assert_eq!(report.completed(), 10);
/// assert_eq!(spawned.load(Ordering::SeqCst), 3); // one task per worker
/// # });
/// ```
#[must_use = "a task does nothing unless it is spawned or polled"]
pub struct Task(Pin<Box<dyn Future<Output = ()> + Send + 'static>>);

impl Task {
    pub(crate) fn new(future: impl Future<Output = ()> + Send + 'static) -> Self {
        Task(Box::pin(future))
    }
}

impl Future for Task {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Task(..)")
    }
}

/// Something that can run a [`Task`] to completion, on some thread.
///
/// Implemented for every `Fn(Task)` closure, so any executor plugs in with one
/// line, and, behind features, for smol's and tokio's executors and for
/// `futures`' `ThreadPool`.
///
/// Spawning may detach: the pool does not need the executor's join handle.
/// What `spawn` must do, and what happens if it does not:
///
/// - poll the task until it completes, on any thread, without making `spawn`
///   wait for it. An executor that polls it inside `spawn` on the calling
///   thread (runs it on the spot, as `|task| block_on(task)` does) would
///   have the worker wait for items the run cannot send before `spawn`
///   returns: the worker notices, ends at once, and the run aborts with
///   [`Error::SpawnedInline`](crate::Error::SpawnedInline). (One that blocks
///   in `spawn` until another thread has run the task cannot be told from a
///   busy executor, and hangs the run.)
/// - or drop it: a task dropped unfinished (a runtime shutting down) aborts
///   the run with [`Error::WorkerLost`](crate::Error::WorkerLost).
/// - a panic in `spawn` is caught: no further worker is spawned, the
///   workers already spawned are stopped, and the run aborts with
///   [`Error::SpawnPanicked`](crate::Error::SpawnPanicked).
///
/// An executor that keeps a task and never polls nor drops it leaves its
/// worker waiting, and the run waits for that worker: that, no pool can
/// detect without a timer.
///
/// # Examples
///
/// Any executor plugs in through a closure; here async-std's (discontinued,
/// but still in use; this crate has no feature for it):
///
/// ```
/// use failfast::{Pool, Task};
///
/// let report = async_std::task::block_on(
///     Pool::new(4)
///         .spawn_on(|task: Task| {
///             async_std::task::spawn(task);
///         })
///         .run(futures::stream::iter(0..100u64), |n| async move {
///             Ok::<u64, std::io::Error>(n * n)
///         }),
/// )
/// .unwrap();
/// assert_eq!(report.completed(), 100);
/// ```
///
/// Or, crudely, a thread per task:
///
/// ```
/// use failfast::{Pool, Task};
///
/// let report = futures::executor::block_on(
///     Pool::new(2)
///         .spawn_on(|task: Task| {
///             std::thread::spawn(move || futures::executor::block_on(task));
///         })
///         .run(futures::stream::iter(0..10u64), |n| async move {
///             Ok::<u64, std::io::Error>(n * n)
///         }),
/// )
/// .unwrap();
/// assert_eq!(report.completed(), 10);
/// ```
pub trait Executor {
    /// Spawns `task`, to be polled to completion.
    ///
    /// # Examples
    ///
    /// An executor of your own, implemented on a type:
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Executor, Pool, Task};
    ///
    /// struct ThreadPerTask;
    ///
    /// impl Executor for ThreadPerTask {
    ///     fn spawn(&self, task: Task) {
    ///         std::thread::spawn(move || futures::executor::block_on(task));
    ///     }
    /// }
    ///
    /// let report = Pool::new(2)
    ///     .spawn_on(ThreadPerTask)
    ///     .run(futures::stream::iter(0..8u64), |n| async move { Ok::<u64, String>(n + 1) })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.outputs().iter().map(|(_, n)| n).sum::<u64>(), 36);
    /// # });
    /// ```
    fn spawn(&self, task: Task);
}

impl<F> Executor for F
where
    F: Fn(Task),
{
    fn spawn(&self, task: Task) {
        self(task);
    }
}

#[cfg(feature = "smol")]
#[cfg_attr(docsrs, doc(cfg(feature = "smol")))]
mod smol_adapter {
    use std::sync::Arc;

    use super::{Executor, Task};

    impl Executor for smol::Executor<'static> {
        fn spawn(&self, task: Task) {
            smol::Executor::spawn(self, task).detach();
        }
    }

    impl Executor for Arc<smol::Executor<'static>> {
        fn spawn(&self, task: Task) {
            smol::Executor::spawn(self, task).detach();
        }
    }

    impl Executor for &'static smol::Executor<'static> {
        fn spawn(&self, task: Task) {
            smol::Executor::spawn(self, task).detach();
        }
    }

    /// smol's global executor ([`smol::spawn`]), which starts its own threads
    /// on first use (`SMOL_THREADS` sets how many).
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast::{Pool, SmolGlobal};
    ///
    /// let report = smol::block_on(
    ///     Pool::new(4)
    ///         .spawn_on(SmolGlobal)
    ///         .run(smol::stream::iter(0..50u64), |n| async move {
    ///             Ok::<u64, String>(n * 3)
    ///         }),
    /// )
    /// .unwrap();
    /// assert_eq!(report.completed(), 50);
    /// assert_eq!(report.outputs().iter().map(|(_, n)| n).sum::<u64>(), 3675);
    /// ```
    #[derive(Debug, Clone, Copy, Default)]
    pub struct SmolGlobal;

    impl Executor for SmolGlobal {
        fn spawn(&self, task: Task) {
            smol::spawn(task).detach();
        }
    }
}

#[cfg(feature = "smol")]
pub use smol_adapter::SmolGlobal;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl Executor for tokio::runtime::Handle {
    fn spawn(&self, task: Task) {
        // Detached on purpose: the pool stops its workers itself, so a tokio
        // `JoinHandle` (which detaches on drop) is never what keeps one alive.
        drop(tokio::runtime::Handle::spawn(self, task));
    }
}

#[cfg(feature = "futures-executor")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures-executor")))]
impl Executor for futures_executor::ThreadPool {
    fn spawn(&self, task: Task) {
        self.spawn_ok(task);
    }
}
