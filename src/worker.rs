//! One worker: the loop that takes items from the queue and runs each job
//! against the abort signal. The same loop runs inline (inside the run's
//! future) and spawned (inside a task).

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::Either;

use crate::books::Shared;
use crate::config::Timer;
use crate::error::Error;
use crate::job::Job;
use crate::panic::Caught;
use crate::progress::OnProgress;
use crate::queue::Entry;
use crate::running::Slot;
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
struct InFlight<'a, const EXTRAS: bool, T, R, E, SE, P: OnProgress> {
    shared: &'a Shared<T, R, E, SE>,
    progress: &'a P,
    /// The worker's slot, if the run has a control to ask.
    slot: Option<&'a Slot>,
    index: usize,
    armed: bool,
}

impl<const EXTRAS: bool, T, R, E, SE, P: OnProgress> Drop for InFlight<'_, EXTRAS, T, R, E, SE, P> {
    fn drop(&mut self) {
        if EXTRAS {
            if let Some(slot) = self.slot {
                slot.stop();
            }
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
    /// Ran past the pool's timeout, which it names.
    TimedOut(Duration),
    Cancelled,
}

/// One worker: takes items from the queue until it is closed and empty, or
/// until the run aborts. Each job races the abort signal (and its timeout,
/// if any); a job that loses is dropped on the spot.
pub(crate) fn worker<T, R, E, SE, F, Fut, P, V>(
    id: usize,
    shared: Arc<Shared<T, R, E, SE>>,
    hooks: Arc<Hooks<F, P, V>>,
) -> impl Future<Output = WorkerExit>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, E>>,
    P: OnProgress,
    V: Wrap<Fut>,
{
    // A run with no control to ask what runs, no timeout and no custom
    // policy runs a loop compiled without them, so they cost it nothing.
    match shared.extras() {
        true => Either::Left(work::<true, _, _, _, _, _, _, _, _>(id, shared, hooks)),
        false => Either::Right(work::<false, _, _, _, _, _, _, _, _>(id, shared, hooks)),
    }
}

/// The worker loop; `EXTRAS` says whether it keeps the in-flight slots,
/// the timeouts and the custom policy.
async fn work<const EXTRAS: bool, T, R, E, SE, F, Fut, P, V>(
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
    let (slots, timeout) = match EXTRAS {
        true => (shared.running.as_deref(), shared.timeout.as_ref()),
        false => (None, None),
    };
    let slot = slots.map(|slots| (slots, slots.slot(id)));
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
        // An item already queued is taken without making a receive future.
        let entry = match shared.queue.rx.try_recv() {
            Ok(entry) => entry,
            Err(async_channel::TryRecvError::Closed) => return WorkerExit::Finished,
            Err(async_channel::TryRecvError::Empty) => {
                let mut recv = pin!(shared.queue.rx.recv());
                let next = poll_fn(|cx| match recv.as_mut().poll(cx) {
                    Poll::Ready(entry) => Poll::Ready(entry.ok()),
                    Poll::Pending => aborted(cx).map(|()| None),
                });
                match next.await {
                    Some(entry) => entry,
                    None => return WorkerExit::Finished,
                }
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
        if EXTRAS {
            if let Some((slots, slot)) = slot {
                slots.start(slot, index);
            }
        }
        let mut in_flight = InFlight::<EXTRAS, _, _, _, _, _> {
            shared,
            progress,
            slot: slot.map(|(_, slot)| slot),
            index,
            armed: true,
        };
        // The item until the job's future is made, and its timer once it
        // waits: one capture for the poll below.
        let mut pending = (Some(item), None::<Timer>);
        let mut slot = pin!(None);
        // One catch per poll: the first also makes the future, and the last
        // of a successful job also drops it, so a panic in either is caught
        // with the poll's. A failed job's future is dropped only once the
        // failure is decided (below). A job that does not finish in its first
        // poll starts its timer, if the pool has a timeout, and the timer is
        // polled after the job, under the job's guard too.
        let outcome = poll_fn(|cx| {
            let (item, timer) = &mut pending;
            let step = job.enter(|| {
                if let Some(item) = item.take() {
                    slot.set(Some(wrap.wrap(job, handler(item))));
                }
                let Some(running) = slot.as_mut().as_pin_mut() else {
                    return Poll::Pending;
                };
                let poll = running.poll(cx);
                if let Poll::Ready(Ok(_)) = poll {
                    slot.set(None);
                }
                poll
            });
            match step {
                Ok(Poll::Ready(result)) => Poll::Ready(Outcome::Done(result)),
                Err(panic) => Poll::Ready(Outcome::Panicked(panic)),
                Ok(Poll::Pending) => {
                    if let (true, Some(timeout)) = (EXTRAS, timeout) {
                        let fired = job.enter(|| {
                            timer
                                .get_or_insert_with(|| timeout.start())
                                .as_mut()
                                .poll(cx)
                                .is_ready()
                        });
                        match fired {
                            Ok(false) => {}
                            Ok(true) => return Poll::Ready(Outcome::TimedOut(timeout.after)),
                            Err(panic) => return Poll::Ready(Outcome::Panicked(panic)),
                        }
                    }
                    aborted(cx).map(|()| Outcome::Cancelled)
                }
            }
        })
        .await;
        in_flight.armed = false;
        // A failed or cancelled job's future is dropped in `drop_job`, where
        // a panicking destructor is caught. A failure is decided before that:
        // the destructor is user code, and however long it takes, no worker
        // starts a job meanwhile. (A destructor that panics after its job
        // failed adds nothing: the item is already accounted as failed.)
        let mut drop_job = || job.enter(|| slot.set(None));
        let aborting = match outcome {
            Outcome::Done(Ok(output)) => {
                tally.completed += 1;
                shared.complete::<EXTRAS>(index, output, progress)
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
            Outcome::TimedOut(after) => {
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
        if EXTRAS && pending.1.is_some() {
            // Dropped once the job's outcome is recorded: a panic here adds
            // nothing.
            let _ = job.enter(|| pending.1 = None);
        }
        if aborting {
            return WorkerExit::Finished;
        }
    }
}
