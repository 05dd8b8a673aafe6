//! One worker: the loop that takes items from the queue and runs each job
//! against the abort signal. The same loop runs inline (inside the run's
//! future) and spawned (inside a task).

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::books::Shared;
use crate::config::Timeout;
use crate::error::Error;
use crate::job::Job;
use crate::panic::Caught;
use crate::progress::OnProgress;
use crate::queue::Entry;
use crate::state::{Level, Watch};
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::wrap::Wrap;

/// How a worker ended, as the run sees it.
pub(crate) enum WorkerExit {
    /// The worker loop returned.
    Finished,
    /// The executor dropped the worker's task before it finished.
    Lost(usize),
    /// The executor polled the worker's task inside `Executor::spawn`.
    SpawnedInline(usize),
}

/// What a worker runs each item through: the handler, the progress
/// callback, and the job wrapper.
pub(crate) struct Hooks<F, P, V> {
    pub(crate) handler: F,
    pub(crate) progress: P,
    pub(crate) wrap: V,
}

/// A job in flight: shown in its worker's slot (if the run has a control)
/// while it lives, and recorded as cancelled if it is dropped before its
/// outcome is known: when the run aborts, or when the worker itself is
/// dropped mid-job.
struct InFlight<'a, T, R, E, SE, P: OnProgress> {
    shared: &'a Shared<T, R, E, SE>,
    progress: &'a P,
    index: usize,
    worker: usize,
    armed: bool,
}

impl<'a, T, R, E, SE, P: OnProgress> InFlight<'a, T, R, E, SE, P> {
    #[inline]
    fn new(shared: &'a Shared<T, R, E, SE>, progress: &'a P, index: usize, worker: usize) -> Self {
        if let Some(slots) = &shared.running {
            slots.start(worker, index);
        }
        InFlight {
            shared,
            progress,
            index,
            worker,
            armed: true,
        }
    }
}

impl<T, R, E, SE, P: OnProgress> Drop for InFlight<'_, T, R, E, SE, P> {
    fn drop(&mut self) {
        if let Some(slots) = &self.shared.running {
            slots.stop(self.worker);
        }
        if self.armed {
            self.shared.cancelled(self.index, self.progress);
        }
    }
}

/// A worker's count of completed items, added to the run's when the worker
/// ends or is dropped, so workers do not contend on one counter per item.
struct Tally<'a> {
    total: &'a AtomicUsize,
    completed: usize,
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        self.total.fetch_add(self.completed, Ordering::Release);
    }
}

/// What became of one job.
enum Outcome<R, E> {
    Done(Result<R, E>),
    Panicked(Caught),
    TimedOut,
    Cancelled,
}

/// One worker: takes items from the queue until it is closed and empty, or
/// until the run aborts. Each job races the abort signal (and its timeout,
/// if any); a job that loses is dropped on the spot.
pub(crate) async fn worker<T, R, E, SE, F, Fut, P, V>(
    id: usize,
    shared: Arc<Shared<T, R, E, SE>>,
    hooks: Arc<Hooks<F, P, V>>,
) -> WorkerExit
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, E>>,
    P: OnProgress,
    V: Wrap<Fut>,
{
    // The worker owns its share of the run, and lets go of it when it ends.
    let (shared, hooks) = (&*shared, &*hooks);
    let (handler, progress, wrap) = (&hooks.handler, &hooks.progress, &hooks.wrap);
    let mut state = Watch::new(&shared.state);
    let mut aborted = |cx: &mut Context<'_>| match state.poll(cx) {
        Level::Aborted => Poll::Ready(()),
        _ => Poll::Pending,
    };
    let mut tally = Tally {
        total: &shared.completed,
        completed: 0,
    };
    loop {
        let entry = {
            let mut recv = pin!(shared.queue.rx.recv());
            let next = poll_fn(|cx| match recv.as_mut().poll(cx) {
                Poll::Ready(entry) => Poll::Ready(entry.ok()),
                Poll::Pending => aborted(cx).map(|()| None),
            });
            match next.await {
                Some(entry) => entry,
                None => return WorkerExit::Finished,
            }
        };
        shared.queue.freed_one();
        shared.count(|c| &c.taken);
        if shared.state.is_aborted() {
            // Decided before this job could start: it is handed back.
            shared.queue.hand_back(entry);
            return WorkerExit::Finished;
        }
        shared.count(|c| &c.started);
        let Entry { index, item } = entry;
        let job = Job::new(index, id);
        // Declared before the job's future, so dropped after it.
        let mut in_flight = InFlight::new(shared, progress, index, id);
        let mut item = Some(item);
        let mut slot = pin!(None);
        let mut timer = None;
        // One catch per poll: the first also makes the future (and starts
        // its timer), and the last of a successful job also drops it, so a
        // panic in either is caught with the poll's. A failed job's future
        // is dropped only once the failure is decided (below). `Ready(None)`
        // is a timeout.
        let outcome = poll_fn(|cx| {
            let step = job.enter(|| {
                if let Some(item) = item.take() {
                    slot.set(Some(wrap.wrap(job, handler(item))));
                    timer = shared.timeout.as_ref().map(Timeout::start);
                }
                let Some(running) = slot.as_mut().as_pin_mut() else {
                    return Poll::Pending;
                };
                match running.poll(cx) {
                    Poll::Ready(Ok(output)) => {
                        slot.set(None);
                        timer = None;
                        Poll::Ready(Some(Ok(output)))
                    }
                    Poll::Ready(Err(error)) => Poll::Ready(Some(Err(error))),
                    Poll::Pending => match &mut timer {
                        Some(timer) => timer.as_mut().poll(cx).map(|()| None),
                        None => Poll::Pending,
                    },
                }
            });
            match step {
                Ok(Poll::Ready(Some(result))) => Poll::Ready(Outcome::Done(result)),
                Ok(Poll::Ready(None)) => Poll::Ready(Outcome::TimedOut),
                Err(panic) => Poll::Ready(Outcome::Panicked(panic)),
                Ok(Poll::Pending) => aborted(cx).map(|()| Outcome::Cancelled),
            }
        })
        .await;
        in_flight.armed = false;
        // A failed or cancelled job's future is dropped in `drop_job`, where
        // a panicking destructor is caught. A failure is decided before that:
        // the destructor is user code, and however long it takes, no worker
        // starts a job meanwhile. (A destructor that panics after its job
        // failed adds nothing: the item is already accounted as failed.)
        let mut drop_job = || {
            job.enter(|| {
                slot.set(None);
                timer = None;
            })
        };
        let aborting = match outcome {
            Outcome::Done(Ok(output)) => {
                tally.completed += 1;
                shared.complete(index, output, progress)
            }
            Outcome::Done(Err(source)) => {
                let aborting = shared.fail_item(Error::Failed { index, source }, progress);
                let _ = drop_job();
                aborting
            }
            Outcome::Panicked(panic) => {
                let aborting = shared.fail_item(Error::panicked(index, panic), progress);
                let _ = drop_job();
                aborting
            }
            Outcome::TimedOut => {
                let after = shared
                    .timeout
                    .as_ref()
                    .map_or_else(Default::default, |t| t.after);
                let aborting = shared.fail_item(Error::TimedOut { index, after }, progress);
                let _ = drop_job();
                aborting
            }
            Outcome::Cancelled => match drop_job() {
                Ok(()) => {
                    shared.cancelled(index, progress);
                    true
                }
                Err(panic) => shared.fail_item(Error::panicked(index, panic), progress),
            },
        };
        if aborting {
            return WorkerExit::Finished;
        }
    }
}
