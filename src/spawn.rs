//! The link between the run and a worker spawned as a task on an
//! [`Executor`]: the run
//! polls a handle per worker in the same `FuturesUnordered` the inline mode
//! fills with the workers themselves.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;

use crate::books::Shared;
use crate::error::Error;
use crate::executor::{Executor, Task};
use crate::panic::catch;
use crate::sync::atomic::{AtomicU8, Ordering};
use crate::sync::thread_local;
use crate::worker::WorkerExit;

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
pub(crate) struct Handle {
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

/// Spawns `workers` workers made by `worker` on `executor`, stopping at
/// the first that cannot run: `spawn` panicked, or ran the worker on the
/// spot. A panic in `Executor::spawn` is caught and recorded as the run's
/// error; its handle is kept either way, so the run waits for the task if
/// the executor kept it.
pub(crate) fn spawn_workers<T, R, E, SE, W>(
    executor: &impl Executor,
    workers: usize,
    shared: &Shared<T, R, E, SE>,
    worker: impl Fn(usize) -> W,
) -> FuturesUnordered<Handle>
where
    W: Future<Output = WorkerExit> + Send + 'static,
{
    let handles = FuturesUnordered::new();
    for id in 0..workers {
        let link = Arc::new(Link::default());
        let finish = Finish {
            link: Arc::clone(&link),
            state: LOST,
        };
        let work = worker(id);
        let task = Task::new(async move {
            // Locals, in this order, so that if the task is dropped
            // unfinished the worker (and its tally) goes before `finish`
            // reports the loss.
            let mut finish = finish;
            let work = work;
            if SPAWNING.with(Cell::get) {
                // Polled inside `spawn`: the run cannot send an item before
                // `spawn` returns, so waiting for one would hang.
                drop(work);
                finish.state = INLINE;
                return;
            }
            // The worker lets go of the run's state before it is said done.
            work.await;
            finish.state = FINISHED;
        });
        let was_spawning = SPAWNING.with(|s| s.replace(true));
        let spawned = catch(|| executor.spawn(task));
        SPAWNING.with(|s| s.set(was_spawning));
        let spawn_panicked = match spawned {
            Ok(()) => false,
            Err(panic) => {
                shared.fail(Error::spawn_panicked(id, panic));
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
