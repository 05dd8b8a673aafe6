//! A policy of the user's own: what [`Pool::custom_policy`](crate::Pool::custom_policy)'s
//! closure sees ([`Finished`], [`Outcome`]) and what it decides
//! ([`Verdict`]).

use std::fmt;
use std::sync::Arc;

use crate::sync::atomic::{AtomicUsize, Ordering};

/// How an item's job ended, as a custom policy sees it.
///
/// # Examples
///
/// ```
/// use failfast::Outcome;
///
/// assert!(Outcome::Completed.is_completed());
/// assert!(!Outcome::TimedOut.is_completed());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler returned `Ok`.
    Completed,
    /// The handler returned an error.
    Failed,
    /// The handler panicked.
    Panicked,
    /// The job ran past the pool's [`timeout`](crate::Pool::timeout).
    TimedOut,
}

impl Outcome {
    /// Whether the item completed (its handler returned `Ok`).
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast::Outcome;
    ///
    /// assert!(Outcome::Completed.is_completed());
    /// assert!(!Outcome::Failed.is_completed());
    /// ```
    pub fn is_completed(self) -> bool {
        self == Outcome::Completed
    }
}

/// An item that has just finished, with the run's counts so far (this item
/// included): what a [`custom_policy`](crate::Pool::custom_policy) decides
/// on.
///
/// Workers on several threads may finish items at the same moment, so the
/// counts one call sees may include items whose calls come later. Each
/// item is seen exactly once; items cancelled in flight are not seen.
///
/// # Examples
///
/// ```
/// use failfast::{Finished, Outcome, Verdict};
///
/// // Abort once more than 5% of at least 20 finished items failed.
/// let too_many_failures = |f: &Finished| {
///     if f.total() >= 20 && f.failed * 20 > f.total() { Verdict::Abort } else { Verdict::Continue }
/// };
/// # let _ = too_many_failures;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finished {
    /// The item's index.
    pub index: usize,
    /// How its job ended.
    pub outcome: Outcome,
    /// Items completed so far.
    pub completed: usize,
    /// Items failed so far: errors, panics and timeouts.
    pub failed: usize,
}

impl Finished {
    /// Items finished so far, completed or failed.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::{Arc, Mutex};
    /// use failfast::{Pool, Verdict};
    ///
    /// let totals = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&totals);
    /// Pool::new(1)
    ///     .custom_policy(move |f| {
    ///         seen.lock().unwrap().push(f.total());
    ///         Verdict::Continue
    ///     })
    ///     .run(futures::stream::iter(0..3u32), |n| async move { Ok::<_, String>(n) })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(*totals.lock().unwrap(), [1, 2, 3]);
    /// # });
    /// ```
    pub fn total(&self) -> usize {
        self.completed + self.failed
    }
}

/// What a [`custom_policy`](crate::Pool::custom_policy) decides after an
/// item finished.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Error, Pool, Verdict};
///
/// // Stop at the first success: a search, a hedged request.
/// let abort = Pool::new(3)
///     .custom_policy(|f| if f.outcome.is_completed() { Verdict::Abort } else { Verdict::Continue })
///     .run(futures::stream::iter(0..100u32), |n| async move {
///         if n == 42 { Ok(n) } else { Err(format!("{n} is not it")) }
///     })
///     .await
///     .unwrap_err();
/// assert_eq!(abort.report().outputs(), &[(42, 42)]);
/// let stopped_at = std::iter::once(abort.error()).chain(abort.other_errors()).find_map(|e| match e {
///     Error::Stopped { index } => Some(*index),
///     _ => None,
/// });
/// assert_eq!(stopped_at, Some(42));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The run goes on.
    Continue,
    /// Intake stops; what entered finishes (as after
    /// [`Control::close`](crate::Control::close)).
    Close,
    /// The run aborts at once, as after a failure under
    /// [`Policy::FailFast`](crate::Policy::FailFast). If no item had failed,
    /// the cause is [`Error::Stopped`](crate::Error::Stopped).
    Abort,
}

/// The user's policy closure, shared by the pool's clones.
pub(crate) type Decide = Arc<dyn Fn(&Finished) -> Verdict + Send + Sync>;

/// A run's custom policy: the closure and the counts it is shown.
pub(crate) struct Judge {
    decide: Decide,
    completed: AtomicUsize,
    failed: AtomicUsize,
}

impl Judge {
    pub(crate) fn new(decide: Decide) -> Self {
        Judge {
            decide,
            completed: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    /// Counts the item and asks the closure (which may panic).
    pub(crate) fn decide(&self, index: usize, outcome: Outcome) -> Verdict {
        let (completed, failed) = if outcome.is_completed() {
            let completed = self.completed.fetch_add(1, Ordering::SeqCst) + 1;
            (completed, self.failed.load(Ordering::SeqCst))
        } else {
            let failed = self.failed.fetch_add(1, Ordering::SeqCst) + 1;
            (self.completed.load(Ordering::SeqCst), failed)
        };
        (self.decide)(&Finished {
            index,
            outcome,
            completed,
            failed,
        })
    }
}

impl fmt::Debug for Judge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Judge").finish_non_exhaustive()
    }
}
