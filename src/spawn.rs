//! Spawned mode: each worker runs as a task on an [`Executor`], and the run
//! polls a handle per worker in the same `FuturesUnordered` the inline mode
//! fills with the workers themselves.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use futures_core::{Stream, TryStream};
use futures_util::TryStreamExt as _;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;

use crate::executor::{Executor, Task};
use crate::pool::Pool;
use crate::queue::Sender;
use crate::report::{Abort, Report};
use crate::run::{Shared, WorkerExit, drive, feed, worker};
use crate::stream::OutputStream;

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

/// How a spawned worker's task tells the run that it has ended.
#[derive(Default)]
struct Link {
    state: AtomicU8,
    waker: AtomicWaker,
}

/// Lives inside the spawned task; its drop reports the end, whether the worker
/// finished or the executor dropped the task unfinished.
struct Finish {
    link: Arc<Link>,
    finished: bool,
}

impl Drop for Finish {
    fn drop(&mut self) {
        let state = if self.finished { FINISHED } else { LOST };
        self.link.state.store(state, Ordering::Release);
        self.link.waker.wake();
    }
}

/// The run's side of a spawned worker: ready once the task has ended.
struct Handle {
    link: Arc<Link>,
    worker: usize,
}

impl Future for Handle {
    type Output = WorkerExit;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WorkerExit> {
        let exit = |state| match state {
            RUNNING => None,
            FINISHED => Some(WorkerExit::Finished),
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

fn spawn_worker<X, T, R, E, SE, F, Fut>(
    executor: &X,
    id: usize,
    shared: &Arc<Shared<T, R, E, SE>>,
    handler: &Arc<F>,
) -> Handle
where
    X: Executor,
    T: Send + 'static,
    R: Send + 'static,
    E: Send + 'static,
    SE: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
{
    let link = Arc::new(Link::default());
    let finish = Finish {
        link: Arc::clone(&link),
        finished: false,
    };
    let shared = Arc::clone(shared);
    let handler = Arc::clone(handler);
    executor.spawn(Task::new(async move {
        // Locals, in this order, so that if the task is dropped unfinished the
        // worker (and its tally) goes before `finish` reports the loss.
        let mut finish = finish;
        let (shared, handler) = (shared, handler);
        worker(id, &shared, &*handler).await;
        // Let go of the run's state before saying so.
        drop((shared, handler));
        finish.finished = true;
        drop(finish);
    }));
    Handle { link, worker: id }
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
    /// executor drops a worker unfinished.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels the run: the source is dropped,
    /// and every worker is told to stop and drops its job at its next poll.
    pub fn run<T, S, F, Fut, R, E>(
        self,
        source: S,
        handler: F,
    ) -> impl Future<Output = Result<Report<R>, Abort<T, R, E>>>
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
    ) -> impl Future<Output = Result<Report<R>, Abort<T, R, E, SE>>>
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
    /// queued item are dropped, and every worker is told to stop and drops its
    /// job at its next poll.
    pub fn run_with<T, SE, P, PF, F, Fut, R, E>(
        self,
        producer: P,
        handler: F,
    ) -> impl Future<Output = Result<Report<R>, Abort<T, R, E, SE>>>
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
        impl Future<Output = Result<Report<R>, Abort<T, R, E, SE>>>,
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
                let workers: FuturesUnordered<_> = (0..workers)
                    .map(|id| spawn_worker(&executor, id, &shared, &handler))
                    .collect();
                drive(&shared, producer(sender), workers).await
            }
        };
        (shared, run)
    }
}
