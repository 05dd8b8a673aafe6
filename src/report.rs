//! What a run returns: a [`Report`] when every item was handled, an
//! [`Abort`] when the run stopped early (with the [`Error`] that stopped it).

use std::convert::Infallible;
use std::fmt;

use crate::error::Error;

/// The outcome of a run in which nothing failed, and the part of an
/// [`Abort`] that says what completed.
///
/// Every item that entered was completed, or (after a
/// [`Control::close`](crate::Control::close) or an abort) handed back
/// unprocessed, by value, in [`unprocessed`](Report::unprocessed). A run that
/// was neither closed nor aborted hands nothing back.
///
/// `T` is the item type and `R` the handler's output type.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::Pool;
///
/// let report = Pool::new(2)
///     .run(futures::stream::iter(0..5u32), |n| async move {
///         Ok::<u32, String>(n * n)
///     })
///     .await
///     .unwrap();
/// assert_eq!((report.entered(), report.completed()), (5, 5));
/// assert!(!report.closed_early());
/// assert!(report.unprocessed().is_empty());
/// # });
/// ```
pub struct Report<T, R> {
    pub(crate) entered: usize,
    pub(crate) completed: usize,
    pub(crate) closed_early: bool,
    pub(crate) outputs: Vec<(usize, R)>,
    pub(crate) unprocessed: Vec<(usize, T)>,
}

impl<T, R> Report<T, R> {
    /// How many items entered the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let report = Pool::new(3)
    ///     .run(futures::stream::iter(["a", "b", "c", "d"]), |s| async move {
    ///         Ok::<usize, String>(s.len())
    ///     })
    ///     .await
    ///     .unwrap();
    /// // A run that ends in `Ok` took every item of its source.
    /// assert_eq!(report.entered(), 4);
    /// # });
    /// ```
    pub fn entered(&self) -> usize {
        self.entered
    }

    /// How many items the handler completed successfully.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Outputs, Pool};
    ///
    /// let report = Pool::new(2)
    ///     .outputs(Outputs::Discard)
    ///     .run(futures::stream::iter(0..100u32), |n| async move {
    ///         Ok::<u32, String>(n)
    ///     })
    ///     .await
    ///     .unwrap();
    /// // Counted even when the outputs are discarded.
    /// assert_eq!(report.completed(), 100);
    /// assert!(report.outputs().is_empty());
    /// # });
    /// ```
    pub fn completed(&self) -> usize {
        self.completed
    }

    /// Whether the run obeyed a [`Control::close`](crate::Control::close)
    /// (or a deadline's close) before it ended. The source may have ended on
    /// its own meanwhile: [`entered`](Report::entered) says how many items
    /// were taken from it.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Pool};
    ///
    /// let control = Control::new();
    /// control.close(); // before the run starts: nothing is taken from the source
    /// let report = Pool::new(2)
    ///     .control(&control)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         Ok::<u32, String>(n)
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert!(report.closed_early());
    /// assert_eq!(report.entered(), 0);
    /// # });
    /// ```
    pub fn closed_early(&self) -> bool {
        self.closed_early
    }

    /// The handler's outputs with their items' indices, in completion order
    /// or input order as [`Outputs`](crate::Outputs) says. Empty if the pool
    /// was told to discard outputs
    /// ([`Outputs::Discard`](crate::Outputs::Discard)).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Outputs, Pool};
    ///
    /// let report = Pool::new(3)
    ///     .outputs(Outputs::InputOrder)
    ///     .run(futures::stream::iter(["one", "two", "three"]), |s| async move {
    ///         Ok::<usize, String>(s.len())
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.outputs(), &[(0, 3), (1, 3), (2, 5)]);
    /// # });
    /// ```
    pub fn outputs(&self) -> &[(usize, R)] {
        &self.outputs
    }

    /// Takes the outputs, as [`outputs`](Report::outputs) describes them.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Outputs, Pool};
    ///
    /// let report = Pool::new(2)
    ///     .outputs(Outputs::InputOrder)
    ///     .run(futures::stream::iter(1..=4u32), |n| async move {
    ///         Ok::<String, String>(n.to_string())
    ///     })
    ///     .await
    ///     .unwrap();
    /// let outputs: Vec<String> = report.into_outputs().into_iter().map(|(_, s)| s).collect();
    /// assert_eq!(outputs, ["1", "2", "3", "4"]);
    /// # });
    /// ```
    pub fn into_outputs(self) -> Vec<(usize, R)> {
        self.outputs
    }

    /// Items that entered the pool but were never started, with their
    /// indices, in increasing order of index: handed back by value.
    ///
    /// Empty in a run that ends in `Ok`: a close stops intake before another
    /// item is taken (a stream source is not pulled again, a producer's send
    /// is refused and hands the item back to it) and every item that entered
    /// is handled. In an [`Abort`]'s report it holds the items the abort
    /// handed back ([`Abort::unprocessed`] is the same list).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(1)
    ///     .queue(4)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n == 0 { Err("the first one fails") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// // Item 0 failed; the items queued behind it come back by value.
    /// let report = abort.report();
    /// assert_eq!(report.unprocessed(), &[(1, 1), (2, 2), (3, 3)]);
    /// assert_eq!(abort.entered(), 4);
    /// assert_eq!(report.unprocessed(), abort.unprocessed());
    /// # });
    /// ```
    pub fn unprocessed(&self) -> &[(usize, T)] {
        &self.unprocessed
    }

    /// Takes the items that were never started, as
    /// [`unprocessed`](Report::unprocessed) describes them.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Pool};
    ///
    /// let control = Control::new();
    /// let report = Pool::new(1)
    ///     .control(&control)
    ///     .run(futures::stream::iter(0..100u32), |n| {
    ///         if n == 2 { control.close() }
    ///         async move { Ok::<u32, String>(n) }
    ///     })
    ///     .await
    ///     .unwrap();
    /// // A close stops intake, and every item that entered was handled.
    /// assert!(report.closed_early());
    /// assert_eq!(report.completed(), report.entered());
    /// assert!(report.into_unprocessed().is_empty());
    /// # });
    /// ```
    pub fn into_unprocessed(self) -> Vec<(usize, T)> {
        self.unprocessed
    }
}

impl<T, R> fmt::Debug for Report<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("entered", &self.entered)
            .field("completed", &self.completed)
            .field("closed_early", &self.closed_early)
            .field("outputs", &self.outputs.len())
            .field("unprocessed", &self.unprocessed.len())
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
/// It displays as its cause and the handler's (or the source's) error:
/// "item 11 failed: request 11 broke".
///
/// # With `?`
///
/// `?` turns an `Abort` into a `Box<dyn Error + Send + Sync>`, a
/// `Box<dyn Error>`, an `anyhow::Error` (feature `anyhow`) or an
/// `eyre::Report` (feature `eyre`), whatever the handler's error type:
/// any `std::error::Error + Send + Sync`, `anyhow::Error`, `eyre::Report`,
/// `Box<dyn Error + Send + Sync>`, `String` or `&str`. The result is an
/// [`AbortError`](crate::AbortError): its message names what failed, and
/// its `source()` is the handler's error with its own chain, so each cause
/// prints once. The items and outputs stay behind (they need not be `Send`,
/// `Sync` or `'static` for `?` to work): keep the `Abort` to retry them.
///
/// `Abort` is not itself a [`std::error::Error`]: that is what lets these
/// conversions exist for handler errors that are not one (Rust's coherence
/// rules allow a conversion from a type of this crate into `anyhow::Error`
/// only while that type is known not to be an error `anyhow` converts by
/// itself).
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::Pool;
///
/// async fn sum() -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
///     let report = Pool::new(2)
///         .run(futures::stream::iter(0..5u32), |n| async move {
///             if n == 3 { Err(format!("{n} is unlucky")) } else { Ok(n) }
///         })
///         .await?;
///     Ok(report.outputs().iter().map(|(_, n)| n).sum())
/// }
///
/// let error = sum().await.unwrap_err();
/// assert_eq!(error.to_string(), "item 3 failed");
/// assert_eq!(error.source().unwrap().to_string(), "3 is unlucky");
/// # });
/// ```
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
    /// What completed, and the items handed back.
    pub(crate) report: Report<T, R>,
}

impl<T, R, E, SE> Abort<T, R, E, SE> {
    pub(crate) fn new(parts: AbortParts<T, R, E, SE>) -> Self {
        Abort {
            parts: Box::new(parts),
        }
    }

    /// The first error: under [`Policy::FailFast`](crate::Policy::FailFast)
    /// (the default), the one that stopped the run.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(2)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n == 3 { Err("three") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.error().index(), Some(3));
    /// assert_eq!(abort.error().to_string(), "item 3 failed");
    /// # });
    /// ```
    pub fn error(&self) -> &Error<E, SE> {
        &self.parts.error
    }

    /// Takes the error that stopped the run.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Error, Pool};
    ///
    /// let abort = Pool::new(2)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n == 3 { Err(format!("{n} is unlucky")) } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// match abort.into_error() {
    ///     Error::Failed { index, source } => {
    ///         assert_eq!(index, 3);
    ///         assert_eq!(source, "3 is unlucky"); // the handler's error, by value
    ///     }
    ///     other => panic!("unexpected error: {other}"),
    /// }
    /// # });
    /// ```
    pub fn into_error(self) -> Error<E, SE> {
        self.parts.error
    }

    /// Every later error, in the order they arrived: errors the
    /// [`Policy`](crate::Policy) let the run go on after, and errors that
    /// arrived while it was aborting (a handler that failed at about the same
    /// time, a producer that returned an error after its send was refused).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Policy, Pool};
    ///
    /// let abort = Pool::new(1)
    ///     .policy(Policy::Continue)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n % 3 == 1 { Err(n) } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.error().index(), Some(1));
    /// let later: Vec<_> = abort.other_errors().iter().map(|e| e.index()).collect();
    /// assert_eq!(later, [Some(4), Some(7)]);
    /// # });
    /// ```
    pub fn other_errors(&self) -> &[Error<E, SE>] {
        &self.parts.other_errors
    }

    /// Indices of the items whose handler was running when the run aborted
    /// and was cancelled (dropped), in increasing order.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(2)
    ///     .run(futures::stream::iter(0..2u32), |n| async move {
    ///         if n == 0 {
    ///             std::future::pending::<()>().await; // never finishes on its own
    ///         }
    ///         if n == 1 { Err("one") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.error().index(), Some(1));
    /// assert_eq!(abort.cancelled(), &[0]);
    /// # });
    /// ```
    pub fn cancelled(&self) -> &[usize] {
        &self.parts.cancelled
    }

    /// Items that entered the pool but were never started, with their indices,
    /// in increasing order of index.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(1)
    ///     .queue(3)
    ///     .run(futures::stream::iter(["a", "b", "c", "d", "e"]), |s| async move {
    ///         if s == "a" { Err("bad item") } else { Ok(s.len()) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// // Item 0 failed; the items queued behind it come back by value.
    /// assert_eq!(abort.unprocessed(), &[(1, "b"), (2, "c")]);
    /// # });
    /// ```
    pub fn unprocessed(&self) -> &[(usize, T)] {
        self.parts.report.unprocessed()
    }

    /// Takes the items that were never started, as
    /// [`unprocessed`](Abort::unprocessed) describes them.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(1)
    ///     .queue(4)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n == 0 { Err("the first one fails") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// // The items to retry, by value.
    /// let retry: Vec<u32> = abort.into_unprocessed().into_iter().map(|(_, n)| n).collect();
    /// assert_eq!(retry, [1, 2, 3]);
    /// # });
    /// ```
    pub fn into_unprocessed(self) -> Vec<(usize, T)> {
        self.parts.report.unprocessed
    }

    /// What completed before the run stopped; its
    /// [`unprocessed`](Report::unprocessed) items are this abort's.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(1)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n == 2 { Err("two") } else { Ok(n * 10) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// // One worker: items 0 and 1 completed before item 2 failed.
    /// let report = abort.report();
    /// assert_eq!(report.completed(), 2);
    /// assert_eq!(report.outputs(), &[(0, 0), (1, 10)]);
    /// # });
    /// ```
    pub fn report(&self) -> &Report<T, R> {
        &self.parts.report
    }

    /// How many items entered the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(2)
    ///     .run(futures::stream::iter(0..100u32), |n| async move {
    ///         if n == 5 { Err("five") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// // Every item that entered is accounted for exactly once.
    /// let failed = 1 + abort.other_errors().len();
    /// let done = abort.report().completed() + failed + abort.cancelled().len();
    /// assert_eq!(done + abort.unprocessed().len(), abort.entered());
    /// assert!(abort.entered() < 100);
    /// # });
    /// ```
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
            .field("unprocessed", &self.parts.report.unprocessed.len())
            .field("report", &self.parts.report)
            .finish()
    }
}

/// The cause and, after a colon, the handler's or the source's own error:
/// "item 11 failed: request 11 broke". (The [`Error`] alone says only
/// "item 11 failed", and leaves the rest to its `source()`.)
impl<T, R, E: fmt::Display, SE: fmt::Display> fmt::Display for Abort<T, R, E, SE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = &self.parts.error;
        write!(f, "{error}")?;
        match error {
            Error::Failed { source, .. } => write!(f, ": {source}"),
            Error::Source { source, .. } => write!(f, ": {source}"),
            _ => Ok(()),
        }
    }
}
