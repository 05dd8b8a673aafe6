//! A run's configuration: the error [`Policy`], what it keeps of the
//! outputs ([`Outputs`]), and the settings a [`Pool`](crate::Pool) builds up.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::control::Control;
use crate::verdict::Decide;

/// When item errors stop a run.
///
/// Source errors, lost workers and
/// [`Control::abort`](crate::Control::abort) always stop it.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Policy, Pool};
///
/// assert_eq!(Policy::default(), Policy::FailFast);
/// let abort = Pool::new(2)
///     .policy(Policy::Continue)
///     .run(futures::stream::iter(0..6u32), |n| async move {
///         if n % 2 == 1 { Err(format!("{n} is odd")) } else { Ok(n) }
///     })
///     .await
///     .unwrap_err();
/// // Every item was tried: three completed, three failed.
/// assert_eq!(abort.report().completed(), 3);
/// assert_eq!(1 + abort.other_errors().len(), 3);
/// assert!(abort.cancelled().is_empty() && abort.unprocessed().is_empty());
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Policy {
    /// The first item error (or panic) aborts the run (the default).
    #[default]
    FailFast,
    /// Every item is tried; every error comes back with its index, like a
    /// gather that returns exceptions. The run still ends in an
    /// [`Abort`](crate::Abort) if any item failed; unless something else
    /// stopped it (a source error, a lost worker,
    /// [`Control::abort`](crate::Control::abort) or a panicking progress
    /// callback), nothing is cancelled or unprocessed.
    Continue,
    /// The `n`-th item error aborts the run; earlier ones are recorded and
    /// the run goes on. `AbortAfter(1)` is `FailFast`.
    AbortAfter(usize),
}

impl Policy {
    /// How many item errors abort the run.
    pub(crate) fn limit(self) -> usize {
        match self {
            Policy::FailFast => 1,
            Policy::Continue => usize::MAX,
            Policy::AbortAfter(n) => n,
        }
    }
}

/// What a run keeps of its handlers' outputs.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Outputs, Pool};
///
/// let squares = |n: u32| async move { Ok::<_, std::io::Error>(n * n) };
/// let report = Pool::new(3)
///     .outputs(Outputs::InputOrder)
///     .run(futures::stream::iter(1..=4u32), squares)
///     .await
///     .unwrap();
/// assert_eq!(report.outputs(), &[(0, 1), (1, 4), (2, 9), (3, 16)]);
///
/// let report = Pool::new(3)
///     .outputs(Outputs::Discard)
///     .run(futures::stream::iter(1..=4u32), squares)
///     .await
///     .unwrap();
/// assert!(report.outputs().is_empty());
/// assert_eq!(report.completed(), 4);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Outputs {
    /// Keep every output with its item's index, in completion order (the
    /// default).
    #[default]
    CompletionOrder,
    /// Keep every output with its item's index, in input order (sorted by
    /// index when the run ends).
    InputOrder,
    /// Count completed items but drop their outputs, so a long run's memory
    /// does not grow with the number of items.
    Discard,
}

/// A run's settings, apart from the worker count and the mode.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) capacity: usize,
    pub(crate) outputs: Outputs,
    pub(crate) policy: Policy,
    pub(crate) control: Option<Control>,
    /// Outputs go to an [`OutputStream`](crate::stream::OutputStream) as they come, not into the report.
    pub(crate) streaming: bool,
    /// How long a job may run, and the user's timer.
    pub(crate) timeout: Option<Timeout>,
    /// A policy of the user's own, in place of `policy`.
    pub(crate) custom: Option<Decide>,
}

/// A timer future, as the user's factory made it.
pub(crate) type Timer = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A per-item timeout: how long a job may run, and the user's timer
/// factory, which makes a future that completes after a given duration.
#[derive(Clone)]
pub(crate) struct Timeout {
    pub(crate) after: Duration,
    pub(crate) timer: Arc<dyn Fn(Duration) -> Timer + Send + Sync>,
}

impl Timeout {
    /// A timer for one job.
    pub(crate) fn start(&self) -> Timer {
        (self.timer)(self.after)
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("capacity", &self.capacity)
            .field("outputs", &self.outputs)
            .field("policy", &self.policy)
            .field("control", &self.control)
            .field("timeout", &self.timeout.as_ref().map(|t| t.after))
            .field("custom_policy", &self.custom.is_some())
            .finish()
    }
}
