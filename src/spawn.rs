//! Spawned mode: each worker runs as a task on an [`Executor`], and the run
//! polls a handle per worker in the same `FuturesUnordered` the inline mode
//! fills with the workers themselves.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::{Stream, TryStream};
use futures_util::TryStreamExt as _;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;

use crate::books::Shared;
use crate::drive::{drive, feed};
use crate::executor::{Executor, Task};
use crate::job::catch;
use crate::pool::Pool;
use crate::queue::Sender;
use crate::report::Error;
use crate::report::{Abort, Report};
use crate::stream::OutputStream;
use crate::sync::atomic::{AtomicU8, Ordering};
use crate::sync::thread_local;
use crate::worker::{WorkerExit, worker};

/// The mode of a [`Pool`] whose workers are spawned on an executor; made by
/// [`Pool::spawn_on`].
#[derive(Clone, Copy)]
pub struct Spawned<X>(pub(crate) X);

impl<X> fmt::Debug for Spawned<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Spawned(..)")
    }
}

const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const LOST: u8 = 2;
/// The executor polled the task inside `Executor::spawn`.
const INLINE: u8 = 3;

thread_local! {
    /// Set while this thread is inside `Executor::spawn` for a worker, so a
    /// worker polled there (by an executor that runs tasks on the spot) can
    /// tell, and end at once instead of waiting for items forever.
    static SPAWNING: Cell<bool> = const { Cell::new(false) };
}

/// How a spawned worker's task tells the run that it has ended.
#[derive(Default)]
struct Link {
    state: AtomicU8,
    waker: AtomicWaker,
}

/// Lives inside the spawned task; its drop reports the end: `state` says
/// how (`LOST` unless the task got to say otherwise).
struct Finish {
    link: Arc<Link>,
    state: u8,
}

impl Drop for Finish {
    fn drop(&mut self) {
        self.link.state.store(self.state, Ordering::Release);
        self.link.waker.wake();
    }
}

/// The run's side of a spawned worker: ready once the task has ended.
struct Handle {
    link: Arc<Link>,
    worker: usize,
    /// `Executor::spawn` panicked for this worker (which the run has
    /// recorded): the task's loss, if it was dropped, is no news.
    spawn_panicked: bool,
}

impl Future for Handle {
    type Output = WorkerExit;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WorkerExit> {
        let exit = |state| match state {
            RUNNING => None,
            FINISHED => Some(WorkerExit::Finished),
            INLINE => Some(WorkerExit::SpawnedInline(self.worker)),
            _ if self.spawn_panicked => Some(WorkerExit::Finished),
            _ => Some(WorkerExit::Lost(self.worker)),
        };
        if let Some(exit) = exit(self.link.state.load(Ordering::Acquire)) {
            return Poll::Ready(exit);
        }
        self.link.waker.register(cx.waker());
        match exit(self.link.state.load(Ordering::Acquire)) {
            Some(exit) => Poll::Ready(exit),
            None => Poll::Pending,
        }
    }
}

/// Spawns the run's workers on `executor`, stopping at the first that
/// cannot run: `spawn` panicked, or ran the worker on the spot. A panic in
/// `Executor::spawn` is caught and recorded as the run's error; its handle
/// is kept either way, so the run waits for the task if the executor kept it.
fn spawn_workers<X, T, R, E, SE, F, Fut>(
    executor: &X,
    workers: usize,
    shared: &Arc<Shared<T, R, E, SE>>,
    handler: &Arc<F>,
) -> FuturesUnordered<Handle>
where
    X: Executor,
    T: Send + 'static,
    R: Send + 'static,
    E: Send + 'static,
    SE: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
{
    let handles = FuturesUnordered::new();
    for id in 0..workers {
        let link = Arc::new(Link::default());
        let finish = Finish {
            link: Arc::clone(&link),
            state: LOST,
        };
        let task = {
            let shared = Arc::clone(shared);
            let handler = Arc::clone(handler);
            Task::new(async move {
                // Locals, in this order, so that if the task is dropped
                // unfinished the worker (and its tally) goes before `finish`
                // reports the loss.
                let mut finish = finish;
                let (shared, handler) = (shared, handler);
                if SPAWNING.with(Cell::get) {
                    // Polled inside `spawn`: the run cannot send an item
                    // before `spawn` returns, so waiting for one would hang.
                    drop((shared, handler));
                    finish.state = INLINE;
                    return;
                }
                worker(id, &shared, &*handler).await;
                // Let go of the run's state before saying so.
                drop((shared, handler));
                finish.state = FINISHED;
            })
        };
        let was_spawning = SPAWNING.with(|s| s.replace(true));
        let spawned = catch(|| executor.spawn(task));
        SPAWNING.with(|s| s.set(was_spawning));
        let spawn_panicked = match spawned {
            Ok(()) => false,
            Err(message) => {
                shared.fail(Error::SpawnPanicked {
                    worker: id,
                    message,
                });
                true
            }
        };
        let ran_inline = link.state.load(Ordering::Acquire) == INLINE;
        handles.push(Handle {
            link,
            worker: id,
            spawn_panicked,
        });
        if spawn_panicked || ran_inline {
            break;
        }
    }
    handles
}

impl<X: Executor> Pool<Spawned<X>> {
    /// Handles every item of `source` with `handler`, on workers spawned on
    /// the pool's executor. See [`Pool::run`](Pool::run) for the inline
    /// version: the behaviour is the same.
    ///
    /// The returned future is `Send` whenever the source, items, outputs and
    /// errors are, so it can itself be spawned.
    ///
    /// # Errors
    ///
    /// Returns an [`Abort`] if a handler returns an error or panics, or if the
    /// executor drops a worker unfinished, runs one inside
    /// [`Executor::spawn`] or panics there.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels the run: the source is dropped,
    /// and every worker is told to stop, takes no further item and drops its
    /// job as soon as the poll it is in returns (see
    /// [`spawn_on`](Pool::spawn_on)).
    pub fn run<T, S, F, Fut, R, E>(
        self,
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
    {
        self.try_run(futures_util::StreamExt::map(source, Ok), handler)
    }

    /// Like [`run`](Pool::run), for a fallible source. See
    /// [`Pool::try_run`](Pool::try_run) for the inline version.
    ///
    /// # Errors
    ///
    /// As for [`run`](Pool::run), and if the source returns an error or
    /// panics.
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
        T: Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
        SE: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
    {
        self.run_with(move |tx| feed(source.into_stream(), tx, false), handler)
    }

    /// Runs `producer` (in the run's own task) and the spawned workers
    /// together. See [`Pool::run_with`](Pool::run_with) for the inline
    /// version: the behaviour is the same.
    ///
    /// # Errors
    ///
    /// As for [`run`](Pool::run), and if the producer returns an error or
    /// panics.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels the run: the producer and every
    /// queued item are dropped, and every worker is told to stop, takes no
    /// further item and drops its job as soon as the poll it is in returns
    /// (see [`spawn_on`](Pool::spawn_on)).
    pub fn run_with<T, SE, P, PF, F, Fut, R, E>(
        self,
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
    {
        self.start(producer, handler).1
    }

    /// Like [`run`](Pool::run), with the outputs handed out as a stream. See
    /// [`Pool::stream`](Pool::stream) for the inline version: the behaviour
    /// is the same.
    pub fn stream<T, S, F, Fut, R, E>(
        self,
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
    {
        self.stream_with(
            move |tx| feed(futures_util::StreamExt::map(source, Ok), tx, false),
            handler,
        )
    }

    /// Like [`run_with`](Pool::run_with), with the outputs handed out as a
    /// stream. See [`Pool::stream`](Pool::stream) for the inline version.
    pub fn stream_with<T, SE, P, PF, F, Fut, R, E>(
        self,
        producer: P,
        handler: F,
    ) -> impl Stream<Item = Result<(usize, R), Abort<T, R, E, SE>>>
    where
        P: FnOnce(Sender<T>) -> PF,
        PF: Future<Output = Result<(), SE>>,
        T: Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
        SE: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
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
        T: Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
        SE: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
    {
        let (shared, sender) = Shared::new(&self.settings);
        let shared = Arc::new(shared);
        let run = {
            let shared = Arc::clone(&shared);
            let handler = Arc::new(handler);
            let executor = self.mode.0;
            let workers = self.workers;
            async move {
                let workers = spawn_workers(&executor, workers, &shared, &handler);
                drive(&shared, producer(sender), workers).await
            }
        };
        (shared, run)
    }
}
