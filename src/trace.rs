//! `tracing` integration (feature `tracing`): [`JobSpans`], a [`Wrap`] that
//! puts every job in a span, and the run's events (a close, the end).

use std::future::Future;

use tracing::Instrument as _;
use tracing::instrument::Instrumented;

use crate::job::Job;
use crate::wrap::Wrap;

/// A job wrapper that runs every job in its own `tracing` span, named `job`
/// (target `failfast`, level INFO) with fields `index` and `worker`.
///
/// The span is entered on every poll of the job (and when its future is
/// dropped), so whatever the handler logs nests under it. Its parent is
/// the span that was current when the `JobSpans` was made, so on any
/// executor (spawned workers included) jobs sit under the caller's span.
///
/// With the `tracing` feature, a run also emits events (target
/// `failfast`): `run closed` (INFO, with `entered`) when a
/// [`Control`](crate::Control) or a custom policy closes it, `run aborted`
/// (WARN, with `cause` and the counts `entered`, `completed`, `failed`,
/// `cancelled`, `unprocessed`) when it ends in an abort, and `run finished`
/// (DEBUG, with `entered` and `completed`) when it succeeds.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{JobSpans, Pool};
///
/// let report = Pool::new(2)
///     .wrap(JobSpans::new())
///     .run(futures::stream::iter(0..4u32), |n| async move {
///         tracing::info!(n, "handling"); // inside span `job{index=.. worker=..}`
///         Ok::<_, String>(n)
///     })
///     .await
///     .unwrap();
/// assert_eq!(report.completed(), 4);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct JobSpans {
    parent: tracing::Span,
}

impl JobSpans {
    /// Job spans under the current span.
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast::{JobSpans, Pool};
    ///
    /// let run = tracing::info_span!("import", file = "items.csv");
    /// let pool = run.in_scope(|| Pool::new(4).wrap(JobSpans::new()));
    /// # let _ = pool;
    /// ```
    pub fn new() -> Self {
        JobSpans {
            parent: tracing::Span::current(),
        }
    }
}

impl Default for JobSpans {
    fn default() -> Self {
        JobSpans::new()
    }
}

impl<Fut: Future> Wrap<Fut> for JobSpans {
    type Wrapped = Instrumented<Fut>;

    fn wrap(&self, job: Job, job_future: Fut) -> Instrumented<Fut> {
        let span = tracing::info_span!(
            target: "failfast",
            parent: &self.parent,
            "job",
            index = job.index(),
            worker = job.worker()
        );
        job_future.instrument(span)
    }
}
