//! The machinery of a run: the shared books, the worker loop, and the loop
//! that drives the producer together with the workers.
//!
//! The same code serves every mode: the workers are futures in a
//! `FuturesUnordered`, whether they are the worker loops themselves (inline)
//! or handles of tasks that run them elsewhere.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::mem;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;

use crate::config::{OnProgress, Outputs, Settings};
use crate::control::{Command, Control, Counters, Watcher};
use crate::job::{Job, catch};
use crate::queue::{Entry, Queue, Sender};
use crate::report::{Abort, AbortParts, Error, Report};
use crate::signal::Signal;
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Mutex, lock};

/// Everything recorded about a run's items, under one lock.
struct Books<R, E, SE> {
    error: Option<Error<E, SE>>,
    other_errors: Vec<Error<E, SE>>,
    /// Item errors so far, against the policy's limit.
    item_errors: usize,
    aborting: bool,
    closed_early: bool,
    outputs: VecDeque<(usize, R)>,
    cancelled: Vec<usize>,
}

/// The state one run's workers and driver share.
pub(crate) struct Shared<T, R, E, SE> {
    queue: Arc<Queue<T>>,
    abort: Signal,
    outputs: Outputs,
    error_limit: usize,
    /// The run's control: the user's, or a private one that only counts.
    control: Control,
    /// Whether the user gave a control, which the run must then obey.
    controlled: bool,
    on_progress: Option<OnProgress>,
    /// Items completed; outside the books, so a run that discards outputs
    /// takes no lock per item.
    completed: AtomicUsize,
    /// Outputs are taken by an [`OutputStream`](crate::stream::OutputStream),
    /// which this wakes as they come.
    streaming: bool,
    output_waker: AtomicWaker,
    books: Mutex<Books<R, E, SE>>,
}

impl<T, R, E, SE> Shared<T, R, E, SE> {
    pub(crate) fn new(settings: &Settings) -> (Self, Sender<T>) {
        let tracked = settings.control.is_some() || settings.on_progress.is_some();
        let control = settings.control.clone().unwrap_or_default();
        let counters = tracked.then(|| Arc::clone(&control.state.counters));
        let (queue, sender) = Queue::new(settings.capacity, counters);
        let shared = Shared {
            queue,
            abort: Signal::default(),
            outputs: settings.outputs,
            error_limit: settings.policy.limit(),
            control,
            controlled: settings.control.is_some(),
            on_progress: settings.on_progress.clone(),
            completed: AtomicUsize::new(0),
            streaming: settings.streaming,
            output_waker: AtomicWaker::new(),
            books: Mutex::new(Books {
                error: None,
                other_errors: Vec::new(),
                item_errors: 0,
                aborting: false,
                closed_early: false,
                outputs: VecDeque::new(),
                cancelled: Vec::new(),
            }),
        };
        (shared, sender)
    }

    /// Bumps a progress counter if progress is tracked.
    fn count(&self, counter: impl FnOnce(&Counters) -> &AtomicUsize) {
        self.queue.count(counter, 1);
    }

    /// Tells the progress callback, if any, that an item has finished. A
    /// panic in the callback aborts the run with
    /// [`Error::ProgressPanicked`]; returns whether the run is aborting
    /// because of it.
    fn report_progress(&self) -> bool {
        let Some(on_progress) = &self.on_progress else {
            return false;
        };
        match catch(|| on_progress(&self.control.progress())) {
            Ok(()) => false,
            Err(message) => self.fail(Error::ProgressPanicked { message }),
        }
    }

    /// Records an error; returns whether the run is aborting. The first error
    /// becomes the cause. Item errors abort once the policy's limit is
    /// reached; any other error aborts at once. The decision is taken under
    /// the books' lock, so the run aborts exactly once.
    pub(crate) fn fail(&self, error: Error<E, SE>) -> bool {
        let item = error.index().is_some();
        let mut books = lock(&self.books);
        if item {
            books.item_errors += 1;
        }
        if books.error.is_none() {
            books.error = Some(error);
        } else {
            books.other_errors.push(error);
        }
        let abort_now = !books.aborting && (!item || books.item_errors >= self.error_limit);
        books.aborting |= abort_now;
        let aborting = books.aborting;
        if abort_now {
            // Raised before the lock is released: whoever finds the run
            // aborting in the books (a second failure that then stops its
            // worker) finds the workers told too.
            self.abort.set();
        }
        drop(books);
        if abort_now {
            self.abort.raise();
            self.queue.close();
        }
        if item {
            self.count(|c| &c.failed);
            // A panicking callback adds its own error; the decision is made.
            self.report_progress();
        }
        aborting
    }

    /// Records a completed item; returns whether the run is aborting (the
    /// progress callback panicked). The count itself is kept by the worker's
    /// [`Tally`], so workers on different threads do not share a counter.
    fn complete(&self, index: usize, output: R) -> bool {
        if self.outputs != Outputs::Discard {
            lock(&self.books).outputs.push_back((index, output));
        }
        if self.streaming {
            self.output_waker.wake();
        }
        self.count(|c| &c.completed);
        self.report_progress()
    }

    /// Records an item cancelled in flight.
    fn cancelled(&self, index: usize) {
        lock(&self.books).cancelled.push(index);
        self.count(|c| &c.cancelled);
        self.report_progress();
    }

    /// The next output not yet taken by the stream, or `None`; registers
    /// `waker` to be woken when one comes.
    pub(crate) fn next_output(&self, waker: &std::task::Waker) -> Option<(usize, R)> {
        self.output_waker.register(waker);
        lock(&self.books).outputs.pop_front()
    }

    /// Stops intake on the control's command; queued and in-flight items
    /// finish.
    fn close(&self) {
        lock(&self.books).closed_early = true;
        self.queue.close();
    }

    /// Whether intake was stopped by an abort or a close.
    fn intake_stopped(&self) -> bool {
        self.abort.is_raised() || lock(&self.books).closed_early
    }

    /// The producer (or stream feeder) has returned. Its sender is gone with
    /// it; clones it handed out keep intake open.
    fn producer_done(&self, result: Result<Result<(), SE>, String>) {
        let entered = self.queue.entered();
        match result {
            Ok(Ok(())) => {}
            Ok(Err(source)) => {
                self.fail(Error::Source { entered, source });
            }
            Err(message) => {
                self.fail(Error::SourcePanicked { entered, message });
            }
        }
    }

    /// The run's result, once the producer and every worker are gone.
    fn finish(&self) -> Result<Report<T, R>, Abort<T, R, E, SE>> {
        let mut books = lock(&self.books);
        let (entered, unprocessed) = self.queue.take_unprocessed();
        // Streamed outputs stay where the stream takes them from.
        let mut outputs = if self.streaming {
            Vec::new()
        } else {
            Vec::from(mem::take(&mut books.outputs))
        };
        if self.outputs == Outputs::InputOrder {
            outputs.sort_unstable_by_key(|(index, _)| *index);
        }
        let report = Report {
            entered,
            // Every worker has ended: their counts are all in.
            completed: self.completed.load(Ordering::Acquire),
            closed_early: books.closed_early,
            outputs,
            unprocessed,
        };
        match books.error.take() {
            None => Ok(report),
            Some(error) => {
                let mut cancelled = mem::take(&mut books.cancelled);
                cancelled.sort_unstable();
                Err(Abort::new(AbortParts {
                    error,
                    other_errors: mem::take(&mut books.other_errors),
                    cancelled,
                    report,
                }))
            }
        }
    }
}

/// How a worker ended, as the run sees it.
pub(crate) enum WorkerExit {
    /// The worker loop returned.
    Finished,
    /// The executor dropped the worker's task before it finished.
    Lost(usize),
    /// The executor polled the worker's task inside `Executor::spawn`.
    SpawnedInline(usize),
}

/// Records a job as cancelled if it is dropped before its outcome is known:
/// when the run aborts, or when the worker itself is dropped mid-job.
struct InFlight<'a, T, R, E, SE> {
    shared: &'a Shared<T, R, E, SE>,
    index: usize,
    armed: bool,
}

impl<T, R, E, SE> Drop for InFlight<'_, T, R, E, SE> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.cancelled(self.index);
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
    Panicked(String),
    Cancelled,
}

/// One worker: takes items from the queue until it is closed and empty, or
/// until the run aborts. Each job races the abort signal; a job that loses is
/// dropped on the spot.
pub(crate) async fn worker<T, R, E, SE, F, Fut>(
    id: usize,
    shared: &Shared<T, R, E, SE>,
    handler: &F,
) -> WorkerExit
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    let mut abort = shared.abort.watch();
    let mut tally = Tally {
        total: &shared.completed,
        completed: 0,
    };
    loop {
        let entry = {
            let mut recv = pin!(shared.queue.rx.recv());
            let next = poll_fn(|cx| match recv.as_mut().poll(cx) {
                Poll::Ready(entry) => Poll::Ready(entry.ok()),
                Poll::Pending => abort.poll_raised(cx).map(|()| None),
            });
            match next.await {
                Some(entry) => entry,
                None => return WorkerExit::Finished,
            }
        };
        shared.queue.freed_one();
        shared.count(|c| &c.taken);
        if shared.abort.is_raised() {
            // Decided before this job could start: it is handed back.
            shared.queue.hand_back(entry);
            return WorkerExit::Finished;
        }
        shared.count(|c| &c.started);
        let Entry { index, item } = entry;
        let job = Job::new(index, id);
        // Declared before the job's future, so dropped after it.
        let mut in_flight = InFlight {
            shared,
            index,
            armed: true,
        };
        let mut item = Some(item);
        let mut slot = pin!(None);
        // One catch per poll: the first also makes the future, and the last
        // of a successful job also drops it, so a panic in either is caught
        // with the poll's. A failed job's future is dropped only once the
        // failure is decided (below).
        let outcome = poll_fn(|cx| {
            let step = job.enter(|| {
                if let Some(item) = item.take() {
                    slot.set(Some(handler(item)));
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
                Err(message) => Poll::Ready(Outcome::Panicked(message)),
                Ok(Poll::Pending) => abort.poll_raised(cx).map(|()| Outcome::Cancelled),
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
                shared.complete(index, output)
            }
            Outcome::Done(Err(source)) => {
                let aborting = shared.fail(Error::Failed { index, source });
                let _ = drop_job();
                aborting
            }
            Outcome::Panicked(message) => {
                let aborting = shared.fail(Error::Panicked { index, message });
                let _ = drop_job();
                aborting
            }
            Outcome::Cancelled => match drop_job() {
                Ok(()) => {
                    shared.cancelled(index);
                    true
                }
                Err(message) => shared.fail(Error::Panicked { index, message }),
            },
        };
        if aborting {
            return WorkerExit::Finished;
        }
    }
}

/// Feeds a stream into the queue. It waits for room before pulling the next
/// item, so the pool never holds more than the queue plus the items in flight.
///
/// `in_run` says the workers run in the run's own task (inline): room can
/// then only be freed while the run polls them, and the run polls the feeder
/// again when it was, so the feeder waits without an event.
pub(crate) async fn feed<T, SE, S>(source: S, tx: Sender<T>, in_run: bool) -> Result<(), SE>
where
    S: Stream<Item = Result<T, SE>>,
{
    let mut source = pin!(source);
    // The feeder's sender is the queue's only one.
    let tx = tx.into_sole();
    loop {
        let open = if in_run {
            tx.room_in_run().await
        } else {
            tx.room().await
        };
        if !open {
            break;
        }
        // Once intake has stopped, a source waiting for its next item is
        // not polled again: nothing was taken from it, so nothing is lost.
        // (Intake is closed by the run's own task, which polls this feeder:
        // a close never lands between a pulled item and its send.)
        let next = poll_fn(|cx| match tx.is_closed() {
            true => Poll::Ready(None),
            false => source.as_mut().poll_next(cx),
        });
        match next.await {
            None => break,
            Some(Err(error)) => return Err(error),
            Some(Ok(item)) => {
                if let Err(refused) = tx.send(item).await {
                    // Aborted by a worker on another thread since: the item
                    // entered, and goes back with the abort.
                    tx.hand_back_late(refused.into_inner());
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Polls the producer together with the workers until both are done, then
/// settles the books.
///
/// The producer is polled first on every wake-up, so one blocked on a full
/// queue sees an abort as soon as the workers do. When the run has aborted and
/// every worker has stopped, the producer gets one more poll (enough for a
/// refused send to reach it) and is dropped if it still has not returned.
pub(crate) async fn drive<T, R, E, SE, P, W>(
    shared: &Shared<T, R, E, SE>,
    producer: P,
    workers: FuturesUnordered<W>,
) -> Result<Report<T, R>, Abort<T, R, E, SE>>
where
    P: Future<Output = Result<(), SE>>,
    W: Future<Output = WorkerExit>,
{
    // If the run's future is dropped mid-run, every worker is told to stop,
    // wherever it runs.
    let _stop = StopOnDrop(&shared.abort, &shared.queue);
    let mut producer = pin!(Some(producer));
    let mut workers = workers;
    let mut control = shared.controlled.then(|| Watcher::new(&shared.control));
    let mut obeyed = Command::Open;
    poll_fn(|cx| {
        obey(&mut control, &mut obeyed, shared, cx);
        poll_producer(producer.as_mut(), shared, cx);
        loop {
            match workers.poll_next_unpin(cx) {
                Poll::Ready(Some(WorkerExit::Finished)) => {}
                Poll::Ready(Some(WorkerExit::Lost(worker))) => {
                    shared.fail(Error::WorkerLost { worker });
                }
                Poll::Ready(Some(WorkerExit::SpawnedInline(worker))) => {
                    shared.fail(Error::SpawnedInline { worker });
                }
                Poll::Ready(None) => break,
                Poll::Pending => {
                    if shared.queue.take_repoll() {
                        // A parked inline feeder has room again: have the
                        // executor poll the run again (rather than loop here,
                        // so other tasks, timers and the control get a turn).
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
            }
        }
        // Every worker has ended, maybe within this very poll: a command
        // given meanwhile (by a handler, say) is obeyed before the books are
        // settled.
        obey(&mut control, &mut obeyed, shared, cx);
        if producer.is_some() {
            if !shared.intake_stopped() {
                // The producer dropped its sender but has more to do: wait.
                return Poll::Pending;
            }
            poll_producer(producer.as_mut(), shared, cx);
            if producer.is_some() {
                if let Err(message) = catch(|| producer.set(None)) {
                    let entered = shared.queue.entered();
                    shared.fail(Error::SourcePanicked { entered, message });
                }
            }
        }
        Poll::Ready(())
    })
    .await;
    shared.finish()
}

/// Reads the control, if any, and carries out a command not yet obeyed.
fn obey<T, R, E, SE>(
    control: &mut Option<Watcher<'_>>,
    obeyed: &mut Command,
    shared: &Shared<T, R, E, SE>,
    cx: &mut std::task::Context<'_>,
) {
    let command = control
        .as_mut()
        .map_or(Command::Open, |control| control.poll(cx));
    if command != *obeyed {
        *obeyed = command;
        if command == Command::Abort {
            let entered = shared.queue.entered();
            shared.fail(Error::Aborted { entered });
        } else {
            shared.close();
        }
    }
}

/// Raises the abort signal and closes the queue when dropped.
struct StopOnDrop<'a, T>(&'a Signal, &'a Queue<T>);

impl<T> Drop for StopOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.raise();
        self.1.close();
    }
}

/// Polls the producer if it is still running, and records its end.
fn poll_producer<T, R, E, SE, P>(
    mut producer: std::pin::Pin<&mut Option<P>>,
    shared: &Shared<T, R, E, SE>,
    cx: &mut std::task::Context<'_>,
) where
    P: Future<Output = Result<(), SE>>,
{
    let Some(running) = producer.as_mut().as_pin_mut() else {
        return;
    };
    let result = match catch(|| running.poll(cx)) {
        Ok(Poll::Pending) => return,
        Ok(Poll::Ready(result)) => Ok(result),
        Err(message) => Err(message),
    };
    let dropped = catch(|| producer.set(None));
    shared.producer_done(dropped.and(result));
}
