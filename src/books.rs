//! The state a run's workers and driver share, and its books: every item's
//! fate, the errors, the outputs, and the abort decision.

use std::collections::VecDeque;
use std::mem;
use std::sync::Arc;

use futures_util::task::AtomicWaker;

use crate::abort::{Abort, AbortParts};
use crate::config::{Outputs, Settings, Timeout};
use crate::control::Control;
use crate::error::Error;
use crate::panic::{Caught, catch};
use crate::progress::{Counters, OnProgress};
use crate::queue::Queue;
use crate::report::Report;
use crate::running::Slots;
use crate::sender::Sender;
use crate::state::{Level, State};
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Mutex, lock};
use crate::verdict::{Judge, Outcome, Verdict};

/// Everything recorded about a run's items, under one lock.
struct Books<R, E, SE> {
    error: Option<Error<E, SE>>,
    other_errors: Vec<Error<E, SE>>,
    /// Item errors so far, against the policy's limit.
    item_errors: usize,
    outputs: VecDeque<(usize, R)>,
    cancelled: Vec<usize>,
}

/// The state one run's workers and driver share.
pub(crate) struct Shared<T, R, E, SE> {
    pub(crate) queue: Arc<Queue<T>>,
    /// Open, closed (intake stopped by the control) or aborted.
    pub(crate) state: State,
    outputs: Outputs,
    error_limit: usize,
    /// The run's control: the user's, or a private one that only counts.
    pub(crate) control: Control,
    /// Whether the user gave a control, which the run must then obey.
    pub(crate) controlled: bool,
    /// Items completed; outside the books, so a run that discards outputs
    /// takes no lock per item.
    pub(crate) completed: AtomicUsize,
    /// Outputs are taken by an [`OutputStream`](crate::stream::OutputStream),
    /// which this wakes as they come.
    streaming: bool,
    /// How long a job may run, if the pool says.
    pub(crate) timeout: Option<Timeout>,
    /// A policy of the user's own, which decides after each item.
    pub(crate) judge: Option<Judge>,
    /// What each worker is running, if the run has a control to ask.
    pub(crate) running: Option<Arc<Slots>>,
    /// The custom policy's close, which the run's own task carries out (as
    /// it does a control's), so that it never lands between an item the
    /// feeder pulled and its send.
    pub(crate) verdicts: State,
    output_waker: AtomicWaker,
    books: Mutex<Books<R, E, SE>>,
}

impl<T, R, E, SE> Shared<T, R, E, SE> {
    /// The shared state of a run with `settings`; `progress` says whether a
    /// progress callback reads the counters.
    pub(crate) fn new(settings: &Settings, workers: usize, progress: bool) -> (Self, Sender<T>) {
        if let Some(control) = &settings.control {
            control.take_for_run();
        }
        // Only a control can ask what is running.
        let running = settings.control.as_ref().map(|c| c.watch_run(workers));
        let tracked = settings.control.is_some() || progress;
        let control = settings.control.clone().unwrap_or_default();
        let counters = tracked.then(|| Arc::clone(&control.state.counters));
        let (queue, tx) = Queue::new(settings.capacity, counters);
        let sender = Sender::new(&queue, tx);
        let shared = Shared {
            queue,
            state: State::default(),
            outputs: settings.outputs,
            // A custom policy decides instead of the error count.
            error_limit: match settings.custom {
                Some(_) => usize::MAX,
                None => settings.policy.limit(),
            },
            control,
            controlled: settings.control.is_some(),
            completed: AtomicUsize::new(0),
            streaming: settings.streaming,
            timeout: settings.timeout.clone(),
            judge: settings.custom.clone().map(Judge::new),
            verdicts: State::default(),
            running,
            output_waker: AtomicWaker::new(),
            books: Mutex::new(Books {
                error: None,
                other_errors: Vec::new(),
                item_errors: 0,
                outputs: VecDeque::new(),
                cancelled: Vec::new(),
            }),
        };
        (shared, sender)
    }

    /// Bumps a progress counter if progress is tracked.
    #[inline]
    pub(crate) fn count(&self, counter: impl FnOnce(&Counters) -> &AtomicUsize) {
        self.queue.count(counter, 1);
    }

    /// Tells the progress callback, if any, that an item has finished. A
    /// panic in the callback aborts the run with
    /// [`Error::ProgressPanicked`]; returns whether the run is aborting
    /// because of it.
    #[inline]
    fn report_progress<P: OnProgress>(&self, on_progress: &P) -> bool {
        if !P::ON {
            return false;
        }
        match catch(|| on_progress.call(&self.control.progress())) {
            Ok(()) => false,
            Err(panic) => self.fail(Error::progress_panicked(panic)),
        }
    }

    /// Records an error; returns whether the run is aborting. The first error
    /// becomes the cause. Item errors abort once the policy's limit is
    /// reached; any other error aborts at once. The decision is taken under
    /// the books' lock, so the run aborts exactly once.
    pub(crate) fn fail(&self, error: Error<E, SE>) -> bool {
        self.fail_unless(|_| false, error)
    }

    /// [`fail`](Shared::fail), unless `skip` (asked under the books' lock,
    /// with whether the run is aborting) says the error adds nothing.
    fn fail_unless(&self, skip: impl FnOnce(bool) -> bool, error: Error<E, SE>) -> bool {
        let item = error.index().is_some();
        let mut books = lock(&self.books);
        let aborting = self.state.is_aborted();
        if skip(aborting) {
            return aborting;
        }
        if item {
            books.item_errors += 1;
        }
        if books.error.is_none() {
            books.error = Some(error);
        } else {
            books.other_errors.push(error);
        }
        let limit_reached = !item || books.item_errors >= self.error_limit;
        // Raised before the lock is released: whoever finds the run aborting
        // (a second failure that then stops its worker) finds the workers
        // told too.
        let abort_now = limit_reached && self.state.abort_quietly();
        let aborting = self.state.is_aborted();
        drop(books);
        if abort_now {
            self.state.notify();
            self.queue.close();
        }
        if item {
            self.count(|c| &c.failed);
        }
        aborting
    }

    /// Records an item whose handler failed, panicked or timed out, reports
    /// it to the progress callback and asks the custom policy, if any;
    /// returns whether the run is aborting (a panicking callback adds its
    /// own error).
    pub(crate) fn fail_item(&self, error: Error<E, SE>, on_progress: &impl OnProgress) -> bool {
        let judged = self.judge.as_ref().and_then(|judge| {
            let outcome = match error {
                Error::Panicked { .. } => Outcome::Panicked,
                Error::TimedOut { .. } => Outcome::TimedOut,
                _ => Outcome::Failed,
            };
            Some((judge, error.index()?, outcome))
        });
        let aborting = self.fail(error) | self.report_progress(on_progress);
        match judged {
            Some((judge, index, outcome)) => self.judged(judge, index, outcome),
            None => aborting,
        }
    }

    /// Asks the custom policy about an item that finished, and does as it
    /// says; returns whether the run is aborting.
    fn judged(&self, judge: &Judge, index: usize, outcome: Outcome) -> bool {
        match catch(|| judge.decide(index, outcome)) {
            Ok(Verdict::Continue) => {}
            Ok(Verdict::Close) => self.verdicts.raise(Level::Closed),
            // Once: a verdict after the run is aborting changes nothing.
            Ok(Verdict::Abort) => {
                self.fail_unless(|aborting| aborting, Error::Stopped { index });
            }
            Err(panic) => {
                self.fail(Error::policy_panicked(panic));
            }
        }
        self.state.is_aborted()
    }

    /// Records a completed item, and reports it to the progress callback;
    /// returns whether the run is aborting (the callback panicked). The
    /// count itself is kept by the worker's `Tally`, so workers on different
    /// threads do not share a counter.
    /// `EXTRAS` is false only when the run has no custom policy (see
    /// [`extras`](Shared::extras)), so that such a run does not look for one.
    #[inline(always)]
    pub(crate) fn complete<const EXTRAS: bool>(
        &self,
        index: usize,
        output: R,
        on_progress: &impl OnProgress,
    ) -> bool {
        if self.outputs != Outputs::Discard {
            lock(&self.books).outputs.push_back((index, output));
        }
        if self.streaming {
            self.output_waker.wake();
        }
        self.count(|c| &c.completed);
        let aborting = self.report_progress(on_progress);
        match (EXTRAS, &self.judge) {
            (true, Some(judge)) => self.judged(judge, index, Outcome::Completed),
            _ => aborting,
        }
    }

    /// Whether the run has any of the options a worker's loop is compiled
    /// without otherwise: a control that may ask what runs, a timeout, a
    /// custom policy.
    pub(crate) fn extras(&self) -> bool {
        self.running.is_some() || self.timeout.is_some() || self.judge.is_some()
    }

    /// Records an item cancelled in flight, and reports it to the progress
    /// callback.
    pub(crate) fn cancelled(&self, index: usize, on_progress: &impl OnProgress) {
        lock(&self.books).cancelled.push(index);
        self.count(|c| &c.cancelled);
        self.report_progress(on_progress);
    }

    /// The next output not yet taken by the stream, or `None`; registers
    /// `waker` to be woken when one comes.
    pub(crate) fn next_output(&self, waker: &std::task::Waker) -> Option<(usize, R)> {
        self.output_waker.register(waker);
        lock(&self.books).outputs.pop_front()
    }

    /// Stops intake on the control's command; queued and in-flight items
    /// finish.
    pub(crate) fn close(&self) {
        #[cfg(feature = "tracing")]
        if self.state.level() == Level::Open {
            tracing::info!(target: "failfast", entered = self.queue.entered(), "run closed");
        }
        self.state.raise(Level::Closed);
        self.queue.close();
    }

    /// Whether intake was stopped by an abort or a close.
    pub(crate) fn intake_stopped(&self) -> bool {
        self.state.level() != Level::Open
    }

    /// The producer (or stream feeder) has returned. Its sender is gone with
    /// it; clones it handed out keep intake open.
    pub(crate) fn producer_done(&self, result: Result<Result<(), SE>, Caught>) {
        let entered = self.queue.entered();
        match result {
            Ok(Ok(())) => {}
            Ok(Err(source)) => {
                self.fail(Error::Source { entered, source });
            }
            Err(panic) => {
                self.fail(Error::source_panicked(entered, panic));
            }
        }
    }

    /// The run's result, once the producer and every worker are gone.
    pub(crate) fn finish(&self) -> Result<Report<T, R>, Abort<T, R, E, SE>> {
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
            closed_early: self.state.was_closed(),
            outputs,
            unprocessed,
        };
        match books.error.take() {
            None => {
                #[cfg(feature = "tracing")]
                tracing::debug!(
                    target: "failfast",
                    entered = report.entered,
                    completed = report.completed,
                    "run finished"
                );
                Ok(report)
            }
            Some(error) => {
                let mut cancelled = mem::take(&mut books.cancelled);
                cancelled.sort_unstable();
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    target: "failfast",
                    cause = %error,
                    entered = report.entered,
                    completed = report.completed,
                    failed = books.item_errors,
                    cancelled = cancelled.len(),
                    unprocessed = report.unprocessed.len(),
                    "run aborted"
                );
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
