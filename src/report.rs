//! What a run returns: a [`Report`] when every item was handled, an [`Abort`]
//! when the run stopped early, and the [`Error`] that stopped it.

use std::convert::Infallible;
use std::fmt;

/// Why a run aborted, or an error that arrived while it was aborting.
///
/// Item errors carry the item's index (items are numbered 0, 1, 2, … in the
/// order they entered the pool); the handler's own error is the
/// [`source()`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E, SE = Infallible> {
    /// The handler returned an error for the item at `index`.
    #[error("item {index} failed: {source}")]
    Failed {
        /// The item's index.
        index: usize,
        /// The handler's error.
        source: E,
    },
    /// The handler panicked on the item at `index`.
    #[error("item {index} panicked: {message}")]
    Panicked {
        /// The item's index.
        index: usize,
        /// The panic's message, or `Box<dyn Any>` if it was not a string.
        message: String,
    },
    /// The source (stream or producer) returned an error after `entered`
    /// items had entered the pool.
    #[error("source failed after {entered} items: {source}")]
    Source {
        /// How many items had entered the pool.
        entered: usize,
        /// The source's error.
        source: SE,
    },
    /// The source (stream or producer) panicked after `entered` items had
    /// entered the pool.
    #[error("source panicked after {entered} items: {message}")]
    SourcePanicked {
        /// How many items had entered the pool.
        entered: usize,
        /// The panic's message, or `Box<dyn Any>` if it was not a string.
        message: String,
    },
    /// The run was aborted from outside, with
    /// [`Control::abort`](crate::Control::abort) or a deadline, after
    /// `entered` items had entered.
    #[error("aborted from outside after {entered} items")]
    Aborted {
        /// How many items had entered the pool.
        entered: usize,
    },
    /// The executor dropped the task of spawned worker `worker` before it
    /// finished (a runtime shutting down, say); its job, if any, is counted
    /// as cancelled.
    #[error("worker {worker} was dropped by its executor")]
    WorkerLost {
        /// The worker's number.
        worker: usize,
    },
}

impl<E, SE> Error<E, SE> {
    /// The index of the item this error is about; `None` for source errors.
    pub fn index(&self) -> Option<usize> {
        match self {
            Error::Failed { index, .. } | Error::Panicked { index, .. } => Some(*index),
            Error::Source { .. }
            | Error::SourcePanicked { .. }
            | Error::Aborted { .. }
            | Error::WorkerLost { .. } => None,
        }
    }

    /// The handler's error, if this is [`Error::Failed`].
    pub fn handler_error(&self) -> Option<&E> {
        match self {
            Error::Failed { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The panic message, if a handler or the source panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            Error::Panicked { message, .. } | Error::SourcePanicked { message, .. } => {
                Some(message)
            }
            _ => None,
        }
    }
}

/// The outcome of a run in which nothing failed: every item that entered was
/// handled exactly once.
pub struct Report<R> {
    pub(crate) entered: usize,
    pub(crate) completed: usize,
    pub(crate) closed_early: bool,
    pub(crate) outputs: Vec<(usize, R)>,
}

impl<R> Report<R> {
    /// How many items entered the pool.
    pub fn entered(&self) -> usize {
        self.entered
    }

    /// How many items the handler completed successfully.
    pub fn completed(&self) -> usize {
        self.completed
    }

    /// Whether intake was stopped from outside
    /// ([`Control::close`](crate::Control::close)) before the source ended.
    pub fn closed_early(&self) -> bool {
        self.closed_early
    }

    /// The handler's outputs with their items' indices, in completion order
    /// or input order as [`Outputs`](crate::Outputs) says. Empty if the pool
    /// was told to discard outputs
    /// ([`Outputs::Discard`](crate::Outputs::Discard)).
    pub fn outputs(&self) -> &[(usize, R)] {
        &self.outputs
    }

    /// Takes the outputs, as [`outputs`](Report::outputs) describes them.
    pub fn into_outputs(self) -> Vec<(usize, R)> {
        self.outputs
    }
}

impl<R> fmt::Debug for Report<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("entered", &self.entered)
            .field("completed", &self.completed)
            .field("closed_early", &self.closed_early)
            .field("outputs", &self.outputs.len())
            .finish()
    }
}

/// The outcome of a run that stopped early: the error that stopped it, and an
/// account of every item that entered the pool.
///
/// Every entered item is in exactly one place: completed (in
/// [`report`](Abort::report)), failed (the [`error`](Abort::error) or one of
/// the [`other_errors`](Abort::other_errors)), cancelled while in flight (by
/// index, in [`cancelled`](Abort::cancelled)), or never started and handed
/// back by value (in [`unprocessed`](Abort::unprocessed)).
///
/// Displays as its cause and implements [`std::error::Error`], so `?` can pass
/// it on to `Box<dyn Error>` or `anyhow`.
///
/// It is one pointer wide (its parts are boxed), so `Result<_, Abort<..>>`
/// stays small.
pub struct Abort<T, R, E, SE = Infallible> {
    parts: Box<AbortParts<T, R, E, SE>>,
}

/// What an [`Abort`] holds.
pub(crate) struct AbortParts<T, R, E, SE> {
    pub(crate) error: Error<E, SE>,
    pub(crate) other_errors: Vec<Error<E, SE>>,
    pub(crate) cancelled: Vec<usize>,
    pub(crate) unprocessed: Vec<(usize, T)>,
    pub(crate) report: Report<R>,
}

impl<T, R, E, SE> Abort<T, R, E, SE> {
    pub(crate) fn new(parts: AbortParts<T, R, E, SE>) -> Self {
        Abort {
            parts: Box::new(parts),
        }
    }

    /// The first error: under [`Policy::FailFast`](crate::Policy::FailFast)
    /// (the default), the one that stopped the run.
    pub fn error(&self) -> &Error<E, SE> {
        &self.parts.error
    }

    /// Takes the error that stopped the run.
    pub fn into_error(self) -> Error<E, SE> {
        self.parts.error
    }

    /// Every later error, in the order they arrived: errors the
    /// [`Policy`](crate::Policy) let the run go on after, and errors that
    /// arrived while it was aborting (a handler that failed at about the same
    /// time, a producer that returned an error after its send was refused).
    pub fn other_errors(&self) -> &[Error<E, SE>] {
        &self.parts.other_errors
    }

    /// Indices of the items whose handler was running when the run aborted
    /// and was cancelled (dropped), in increasing order.
    pub fn cancelled(&self) -> &[usize] {
        &self.parts.cancelled
    }

    /// Items that entered the pool but were never started, with their indices,
    /// in increasing order of index.
    pub fn unprocessed(&self) -> &[(usize, T)] {
        &self.parts.unprocessed
    }

    /// Takes the items that were never started, as
    /// [`unprocessed`](Abort::unprocessed) describes them.
    pub fn into_unprocessed(self) -> Vec<(usize, T)> {
        self.parts.unprocessed
    }

    /// What completed before the run stopped.
    pub fn report(&self) -> &Report<R> {
        &self.parts.report
    }

    /// How many items entered the pool.
    pub fn entered(&self) -> usize {
        self.parts.report.entered
    }
}

impl<T, R, E: fmt::Debug, SE: fmt::Debug> fmt::Debug for Abort<T, R, E, SE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Abort")
            .field("error", &self.parts.error)
            .field("other_errors", &self.parts.other_errors)
            .field("cancelled", &self.parts.cancelled)
            .field("unprocessed", &self.parts.unprocessed.len())
            .field("report", &self.parts.report)
            .finish()
    }
}

impl<T, R, E: fmt::Display, SE: fmt::Display> fmt::Display for Abort<T, R, E, SE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.parts.error, f)
    }
}

impl<T, R, E, SE> std::error::Error for Abort<T, R, E, SE>
where
    E: std::error::Error + 'static,
    SE: std::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.parts.error)
    }
}
