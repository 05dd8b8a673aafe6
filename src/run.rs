//! The machinery of a run: the shared books, the worker loop, and the loop
//! that drives the producer together with the workers.
//!
//! The same code serves every mode: the workers are futures in a
//! `FuturesUnordered`, whether they are the worker loops themselves (inline)
//! or handles of tasks that run them elsewhere.

use std::future::{Future, poll_fn};
use std::mem;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

use crate::job::{Job, catch};
use crate::queue::{Entry, Queue, Sender, lock};
use crate::report::{Abort, AbortParts, Error, Report};
use crate::signal::Signal;

/// What a run keeps of its handlers' outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Outputs {
    /// Keep every output with its item's index, in completion order (the
    /// default).
    #[default]
    Collect,
    /// Count completed items but drop their outputs, so a long run's memory
    /// does not grow with the number of items.
    Discard,
}

/// Everything recorded about a run's items, under one lock.
struct Books<R, E, SE> {
    error: Option<Error<E, SE>>,
    other_errors: Vec<Error<E, SE>>,
    completed: usize,
    outputs: Vec<(usize, R)>,
    cancelled: Vec<usize>,
}

/// The state one run's workers and driver share.
pub(crate) struct Shared<T, R, E, SE> {
    queue: Arc<Queue<T>>,
    abort: Signal,
    outputs: Outputs,
    books: Mutex<Books<R, E, SE>>,
}

impl<T, R, E, SE> Shared<T, R, E, SE> {
    pub(crate) fn new(capacity: usize, outputs: Outputs) -> (Self, Sender<T>) {
        let (queue, sender) = Queue::new(capacity);
        let shared = Shared {
            queue,
            abort: Signal::default(),
            outputs,
            books: Mutex::new(Books {
                error: None,
                other_errors: Vec::new(),
                completed: 0,
                outputs: Vec::new(),
                cancelled: Vec::new(),
            }),
        };
        (shared, sender)
    }

    /// Records an error. The first one becomes the cause and aborts the run:
    /// the flag is set under the books' lock, so exactly one error wins.
    fn fail(&self, error: Error<E, SE>) {
        let mut books = lock(&self.books);
        if books.error.is_none() {
            books.error = Some(error);
            drop(books);
            self.abort.raise();
            self.queue.close();
        } else {
            books.other_errors.push(error);
        }
    }

    fn complete(&self, index: usize, output: R) {
        let mut books = lock(&self.books);
        books.completed += 1;
        if self.outputs == Outputs::Collect {
            books.outputs.push((index, output));
        }
    }

    fn cancelled(&self, index: usize) {
        lock(&self.books).cancelled.push(index);
    }

    /// The producer (or stream feeder) has returned: intake ends here.
    fn producer_done(&self, result: Result<Result<(), SE>, String>) {
        self.queue.close();
        let entered = self.queue.entered();
        match result {
            Ok(Ok(())) => {}
            Ok(Err(source)) => self.fail(Error::Source { entered, source }),
            Err(message) => self.fail(Error::SourcePanicked { entered, message }),
        }
    }

    /// The run's result, once the producer and every worker are gone.
    fn finish(&self) -> Result<Report<R>, Abort<T, R, E, SE>> {
        let mut books = lock(&self.books);
        let unprocessed = self.queue.take_unprocessed();
        let report = Report {
            entered: self.queue.entered(),
            completed: books.completed,
            outputs: mem::take(&mut books.outputs),
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
                    unprocessed,
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
        if shared.abort.is_raised() {
            // Decided before this job could start: it is handed back.
            shared.queue.hand_back(entry);
            return WorkerExit::Finished;
        }
        let Entry { index, item } = entry;
        let job = Job::new(index, id);
        let job_future = match job.enter(|| handler(item)) {
            Ok(job_future) => job_future,
            Err(message) => {
                shared.fail(Error::Panicked { index, message });
                return WorkerExit::Finished;
            }
        };
        // Declared before the job's future, so dropped after it.
        let mut in_flight = InFlight {
            shared,
            index,
            armed: true,
        };
        let mut slot = pin!(Some(job_future));
        let outcome = poll_fn(|cx| {
            let Some(running) = slot.as_mut().as_pin_mut() else {
                return Poll::Ready(Outcome::Cancelled);
            };
            match job.enter(|| running.poll(cx)) {
                Ok(Poll::Ready(result)) => Poll::Ready(Outcome::Done(result)),
                Err(message) => Poll::Ready(Outcome::Panicked(message)),
                Ok(Poll::Pending) => abort.poll_raised(cx).map(|()| Outcome::Cancelled),
            }
        })
        .await;
        // Drop the job's future here, where a panicking destructor is caught.
        let dropped = job.enter(|| slot.set(None));
        in_flight.armed = false;
        match (outcome, dropped) {
            (Outcome::Done(Ok(output)), Ok(())) => shared.complete(index, output),
            (Outcome::Done(Err(source)), _) => {
                shared.fail(Error::Failed { index, source });
                return WorkerExit::Finished;
            }
            (Outcome::Panicked(message), _) | (_, Err(message)) => {
                shared.fail(Error::Panicked { index, message });
                return WorkerExit::Finished;
            }
            (Outcome::Cancelled, Ok(())) => {
                shared.cancelled(index);
                return WorkerExit::Finished;
            }
        }
    }
}

/// Feeds a stream into the queue. It waits for room before pulling the next
/// item, so the pool never holds more than the queue plus the items in flight.
pub(crate) async fn feed<T, SE, S>(source: S, tx: Sender<T>) -> Result<(), SE>
where
    S: Stream<Item = Result<T, SE>>,
{
    let mut source = pin!(source);
    while tx.room().await {
        match source.next().await {
            None => break,
            Some(Err(error)) => return Err(error),
            Some(Ok(item)) => {
                if let Err(refused) = tx.send(item).await {
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
) -> Result<Report<R>, Abort<T, R, E, SE>>
where
    P: Future<Output = Result<(), SE>>,
    W: Future<Output = WorkerExit>,
{
    // If the run's future is dropped mid-run, every worker is told to stop,
    // wherever it runs.
    let _stop = StopOnDrop(&shared.abort, &shared.queue);
    let mut producer = pin!(Some(producer));
    let mut workers = workers;
    poll_fn(|cx| {
        poll_producer(producer.as_mut(), shared, cx);
        loop {
            match workers.poll_next_unpin(cx) {
                Poll::Ready(Some(WorkerExit::Finished)) => {}
                Poll::Ready(Some(WorkerExit::Lost(worker))) => {
                    shared.fail(Error::WorkerLost { worker });
                }
                Poll::Ready(None) => break,
                Poll::Pending => return Poll::Pending,
            }
        }
        if producer.is_some() {
            if !shared.abort.is_raised() {
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
