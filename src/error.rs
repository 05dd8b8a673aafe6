//! Why a run stopped: the [`Error`] of an item, of the source, of the
//! control or of the executor.

use std::any::Any;
use std::convert::Infallible;
use std::time::Duration;

use crate::panic::{Caught, PanicPayload};

/// Why a run aborted, or an error that arrived while it was aborting.
///
/// Item errors carry the item's index (items are numbered 0, 1, 2, … in the
/// order they entered the pool). As error chains go, the message says what
/// failed ("item 57 failed") and the handler's (or the source's) own error
/// is the [`source()`](std::error::Error::source), not repeated in the
/// message: an [`Abort`](crate::Abort)'s `Display` and anyhow's `{:#}` print
/// both, once each.
///
/// `Error` is a [`std::error::Error`] when the handler's and the source's
/// errors are; to use `?` with any error type, convert the whole
/// [`Abort`](crate::Abort) (see [`AbortError`](crate::AbortError)).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use std::error::Error as _;
/// use failfast::{Error, Pool};
///
/// let abort = Pool::new(2)
///     .run(futures::stream::iter(0..5u32), |n| async move {
///         if n == 3 { Err(std::io::Error::other("disk on fire")) } else { Ok(n) }
///     })
///     .await
///     .unwrap_err();
/// let error = abort.error();
/// assert!(matches!(error, Error::Failed { index: 3, .. }));
/// assert_eq!(error.to_string(), "item 3 failed");
/// assert_eq!(error.source().unwrap().to_string(), "disk on fire");
/// # });
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E, SE = Infallible> {
    /// The handler returned an error for the item at `index`.
    #[error("item {index} failed")]
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
        /// What the code panicked with.
        payload: PanicPayload,
    },
    /// The job for the item at `index` ran longer than the pool's
    /// [`timeout`](crate::Pool::timeout) and was dropped. Counted as an item
    /// error by the policy, like [`Failed`](Error::Failed).
    #[error("item {index} timed out after {after:?}")]
    TimedOut {
        /// The item's index.
        index: usize,
        /// The timeout it ran past.
        after: Duration,
    },
    /// The source (stream or producer) returned an error after `entered`
    /// items had entered the pool.
    #[error("source failed after {entered} items")]
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
        /// What the code panicked with.
        payload: PanicPayload,
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
    /// The executor polled spawned worker `worker` inside
    /// [`Executor::spawn`](crate::Executor::spawn), on the thread that called
    /// it, before `spawn` returned (an executor that runs each task to
    /// completion on the spot). Such a worker would wait for items that the
    /// run cannot send until `spawn` returns, so it ends at once and the run
    /// aborts instead of hanging.
    #[error(
        "worker {worker} was run inside `Executor::spawn`: an executor must not poll a task before `spawn` returns"
    )]
    SpawnedInline {
        /// The worker's number.
        worker: usize,
    },
    /// [`Executor::spawn`](crate::Executor::spawn) panicked while spawning
    /// worker `worker`. Workers spawned before it are stopped.
    #[error("spawning worker {worker} panicked: {message}")]
    SpawnPanicked {
        /// The worker's number.
        worker: usize,
        /// The panic's message, or `Box<dyn Any>` if it was not a string.
        message: String,
        /// What the code panicked with.
        payload: PanicPayload,
    },
    /// The pool's [`custom_policy`](crate::Pool::custom_policy) decided to
    /// abort the run when the item at `index` finished (say, at the first
    /// success of a hedged request). The cause of an abort only if no item
    /// had failed before; otherwise it comes after their errors.
    #[error("the policy stopped the run at item {index}")]
    Stopped {
        /// The item whose outcome the policy stopped at.
        index: usize,
    },
    /// The closure given to [`Pool::custom_policy`](crate::Pool::custom_policy)
    /// panicked. The item it was called for is counted as it finished.
    #[error("the custom policy panicked: {message}")]
    PolicyPanicked {
        /// The panic's message, or `Box<dyn Any>` if it was not a string.
        message: String,
        /// What the code panicked with.
        payload: PanicPayload,
    },
    /// The callback given to [`Pool::on_progress`](crate::Pool::on_progress)
    /// panicked. The item it was called for is counted as it finished.
    #[error("the progress callback panicked: {message}")]
    ProgressPanicked {
        /// The panic's message, or `Box<dyn Any>` if it was not a string.
        message: String,
        /// What the code panicked with.
        payload: PanicPayload,
    },
}

/// The panic variants, made from a caught panic: its message for display,
/// and its payload.
impl<E, SE> Error<E, SE> {
    pub(crate) fn panicked(index: usize, panic: Caught) -> Self {
        let (message, payload) = panic.into_parts();
        Error::Panicked {
            index,
            message,
            payload,
        }
    }

    pub(crate) fn source_panicked(entered: usize, panic: Caught) -> Self {
        let (message, payload) = panic.into_parts();
        Error::SourcePanicked {
            entered,
            message,
            payload,
        }
    }

    pub(crate) fn spawn_panicked(worker: usize, panic: Caught) -> Self {
        let (message, payload) = panic.into_parts();
        Error::SpawnPanicked {
            worker,
            message,
            payload,
        }
    }

    pub(crate) fn progress_panicked(panic: Caught) -> Self {
        let (message, payload) = panic.into_parts();
        Error::ProgressPanicked { message, payload }
    }

    pub(crate) fn policy_panicked(panic: Caught) -> Self {
        let (message, payload) = panic.into_parts();
        Error::PolicyPanicked { message, payload }
    }
}

impl<E, SE> Error<E, SE> {
    /// The index of the item that failed (an error, a panic or a timeout);
    /// `None` for errors about no one item: the source's, the control's, the
    /// executor's, the callbacks' and [`Stopped`](Error::Stopped).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let failed = Pool::new(2)
    ///     .run(futures::stream::iter(0..5u32), |n| async move {
    ///         if n == 3 { Err("three") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(failed.error().index(), Some(3));
    ///
    /// // A source error is about no item.
    /// let source = Pool::new(2)
    ///     .try_run(futures::stream::iter([Ok(0u32), Err("disconnected")]), |n| async move {
    ///         Ok::<u32, String>(n)
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(source.error().index(), None);
    /// # });
    /// ```
    pub fn index(&self) -> Option<usize> {
        match self {
            Error::Failed { index, .. }
            | Error::Panicked { index, .. }
            | Error::TimedOut { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// The handler's error, if this is [`Error::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::num::IntErrorKind;
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(1)
    ///     .run(futures::stream::iter(["1", "x", "3"]), |s| async move {
    ///         s.parse::<u32>()
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// let error = abort.error().handler_error().expect("the handler failed");
    /// assert_eq!(error.kind(), &IntErrorKind::InvalidDigit);
    /// # });
    /// ```
    pub fn handler_error(&self) -> Option<&E> {
        match self {
            Error::Failed { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The panic message, if a handler, the source, an executor's `spawn` or the
    /// progress callback panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(2)
    ///     .run(futures::stream::iter(0..4u32), |n| async move {
    ///         if n == 2 { panic!("two is too many") }
    ///         Ok::<u32, String>(n)
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// let error = abort.error();
    /// assert_eq!(error.panic_message(), Some("two is too many"));
    /// assert_eq!(error.index(), Some(2));
    /// assert!(error.handler_error().is_none());
    /// # });
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            Error::Panicked { message, .. }
            | Error::SourcePanicked { message, .. }
            | Error::SpawnPanicked { message, .. }
            | Error::ProgressPanicked { message, .. }
            | Error::PolicyPanicked { message, .. } => Some(message),
            _ => None,
        }
    }

    /// What the code panicked with, if this is a panic (a handler's, the
    /// source's, an executor's `spawn` or the progress callback's) and its
    /// payload was not taken. Pass it to [`std::panic::resume_unwind`] to
    /// carry on the panic.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let abort = failfast::Pool::new(2)
    ///     .run(futures::stream::iter(0..4u32), |n| async move {
    ///         if n == 2 { panic!("two") }
    ///         Ok::<u32, String>(n)
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// let payload = abort.into_error().into_panic().expect("a panic");
    /// let resume = std::panic::AssertUnwindSafe(|| std::panic::resume_unwind(payload));
    /// let resumed = std::panic::catch_unwind(resume);
    /// assert_eq!(resumed.unwrap_err().downcast_ref::<&str>(), Some(&"two"));
    /// # });
    /// ```
    pub fn into_panic(self) -> Option<Box<dyn Any + Send>> {
        match self {
            Error::Panicked { payload, .. }
            | Error::SourcePanicked { payload, .. }
            | Error::SpawnPanicked { payload, .. }
            | Error::ProgressPanicked { payload, .. }
            | Error::PolicyPanicked { payload, .. } => payload.into_inner(),
            _ => None,
        }
    }
}
