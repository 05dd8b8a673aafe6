//! What a run did, entry by entry: [`Report`], [`Failure`], and the
//! [`Abort`] a stopped run returns.

use std::fmt;

use crate::error::Error;

/// One failed delivery: the entry's id, how many times it had been
/// delivered, and the handler's error (or panic) as text.
///
/// # Examples
///
/// ```
/// use failfast_redis::Failure;
///
/// let failure = Failure { id: "1-0".into(), deliveries: 2, error: "bad payload".into() };
/// assert_eq!(failure.to_string(), "entry 1-0 failed on delivery 2: bad payload");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The entry's id.
    pub id: String,
    /// How many times the entry had been delivered (to any consumer of the
    /// group) when it failed.
    pub deliveries: u64,
    /// The handler's error, or its panic's message, as text.
    pub error: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entry {} failed on delivery {}: {}",
            self.id, self.deliveries, self.error
        )
    }
}

/// What a run did with the entries it was delivered, by message id.
///
/// Every entry the run was delivered ends in exactly one of these lists
/// (a failed entry may fail several times in one run, once per delivery,
/// before it completes or is dead-lettered):
///
/// - [`completed`](Report::completed): handled and acknowledged by this run;
/// - [`acked_elsewhere`](Report::acked_elsewhere): handled, but another
///   consumer had already acknowledged it (it had claimed the entry after
///   the idle time);
/// - [`failed`](Report::failed): the handler failed; the entry stays pending
///   and is delivered again after the idle time;
/// - [`dead_lettered`](Report::dead_lettered): failed on its last allowed
///   delivery, copied to the dead-letter stream and acknowledged;
/// - [`released`](Report::released): cancelled in flight, handed back by
///   the pool, or prefetched and never started when the run ended: made
///   claimable by any consumer at once;
/// - [`deleted`](Report::deleted): deleted from the stream while pending
///   (Redis delivers no fields for it): acknowledged, nothing to handle.
///
/// # Examples
///
/// ```
/// let report = failfast_redis::Report::default();
/// assert!(report.completed().is_empty() && report.released().is_empty());
/// assert!(!report.closed_early());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub(crate) completed: Vec<String>,
    pub(crate) acked_elsewhere: Vec<String>,
    pub(crate) failed: Vec<Failure>,
    pub(crate) dead_lettered: Vec<Failure>,
    pub(crate) released: Vec<String>,
    pub(crate) deleted: Vec<String>,
    pub(crate) closed_early: bool,
    pub(crate) release_error: Option<String>,
}

impl Report {
    /// Ids of the entries handled and acknowledged by this run, in
    /// completion order.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(failfast_redis::Report::default().completed().is_empty());
    /// ```
    pub fn completed(&self) -> &[String] {
        &self.completed
    }

    /// Ids of the entries this run handled successfully but whose
    /// acknowledgement found them already acknowledged by another consumer
    /// (which had claimed them after the idle time): handled twice.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(failfast_redis::Report::default().acked_elsewhere().is_empty());
    /// ```
    pub fn acked_elsewhere(&self) -> &[String] {
        &self.acked_elsewhere
    }

    /// Every failed delivery, in the order they failed. The entries stay
    /// pending and are delivered again once idle for the configured time.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(failfast_redis::Report::default().failed().is_empty());
    /// ```
    pub fn failed(&self) -> &[Failure] {
        &self.failed
    }

    /// The entries moved to the dead-letter stream (and acknowledged), with
    /// their last error and delivery count.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(failfast_redis::Report::default().dead_lettered().is_empty());
    /// ```
    pub fn dead_lettered(&self) -> &[Failure] {
        &self.dead_lettered
    }

    /// Ids of the entries released when the run ended: delivered to this
    /// run but not finished (cancelled in flight, handed back unstarted, or
    /// prefetched). They stay pending, marked idle for a year, so any
    /// consumer's next claim takes them at once.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(failfast_redis::Report::default().released().is_empty());
    /// ```
    pub fn released(&self) -> &[String] {
        &self.released
    }

    /// Ids of pending entries that had been deleted from the stream: they
    /// were acknowledged without calling the handler.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(failfast_redis::Report::default().deleted().is_empty());
    /// ```
    pub fn deleted(&self) -> &[String] {
        &self.deleted
    }

    /// Whether the run ended because it was closed
    /// ([`Control::close`](failfast::Control::close)) rather than drained.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!failfast_redis::Report::default().closed_early());
    /// ```
    pub fn closed_early(&self) -> bool {
        self.closed_early
    }

    /// Why the entries to release could not be released (the server was
    /// gone, say). They then stay pending for this consumer: its next run
    /// reads them first, and other consumers claim them after the idle time.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(failfast_redis::Report::default().release_error(), None);
    /// ```
    pub fn release_error(&self) -> Option<&str> {
        self.release_error.as_deref()
    }
}

/// A run that stopped on an [`Error`], with the [`Report`] of what it did
/// before.
///
/// # Examples
///
/// ```no_run
/// # async fn run() {
/// use failfast_redis::Consumer;
///
/// let result = Consumer::new("redis://127.0.0.1:6379", "orders", "billing", "worker-1")
///     .run(|entry| async move { entry.text("order").map(|_| ()) })
///     .await;
/// if let Err(abort) = result {
///     eprintln!("stopped: {abort}");
///     eprintln!("released for other consumers: {:?}", abort.report().released());
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Abort {
    pub(crate) error: Error,
    pub(crate) report: Report,
}

impl Abort {
    /// What stopped the run.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() {
    /// use failfast_redis::{Consumer, Error};
    ///
    /// let abort = Consumer::new("redis://127.0.0.1:1", "s", "g", "c")
    ///     .run(|_entry| async { Ok::<(), String>(()) })
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(abort.error(), Error::Connect { .. }));
    /// # }
    /// ```
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// What the run did before it stopped.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() {
    /// use failfast_redis::Consumer;
    ///
    /// let abort = Consumer::new("redis://127.0.0.1:1", "s", "g", "c")
    ///     .run(|_entry| async { Ok::<(), String>(()) })
    ///     .await
    ///     .unwrap_err();
    /// assert!(abort.report().completed().is_empty());
    /// # }
    /// ```
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Takes the error and the report apart.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() {
    /// use failfast_redis::Consumer;
    ///
    /// let abort = Consumer::new("redis://127.0.0.1:1", "s", "g", "c")
    ///     .run(|_entry| async { Ok::<(), String>(()) })
    ///     .await
    ///     .unwrap_err();
    /// let (error, report) = abort.into_parts();
    /// eprintln!("{error}; released {:?}", report.released());
    /// # }
    /// ```
    pub fn into_parts(self) -> (Error, Report) {
        (self.error, self.report)
    }
}

impl fmt::Display for Abort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for Abort {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The error's own cause: the message above already says the error.
        std::error::Error::source(&self.error)
    }
}
