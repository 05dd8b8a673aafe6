//! A run's configuration: the error [`Policy`], what it keeps of the
//! outputs ([`Outputs`]), and the settings a [`Pool`](crate::Pool) builds up.

use std::fmt;
use std::sync::Arc;

use crate::control::{Control, Progress};

/// When item errors stop a run.
///
/// Source errors, lost workers and
/// [`Control::abort`](crate::Control::abort) always stop it.
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

/// A progress callback, as given to [`Pool::on_progress`](crate::Pool::on_progress).
pub(crate) type OnProgress = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A run's settings, apart from the worker count and the mode.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) capacity: usize,
    pub(crate) outputs: Outputs,
    pub(crate) policy: Policy,
    pub(crate) control: Option<Control>,
    pub(crate) on_progress: Option<OnProgress>,
    /// Outputs go to an [`OutputStream`](crate::stream::OutputStream) as they come, not into the report.
    pub(crate) streaming: bool,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("capacity", &self.capacity)
            .field("outputs", &self.outputs)
            .field("policy", &self.policy)
            .field("control", &self.control)
            .field("on_progress", &self.on_progress.as_ref().map(|_| ".."))
            .finish()
    }
}
