//! The outcome of a run that stopped early: [`Abort`], the error that
//! stopped it and an account of every item that entered.

use std::convert::Infallible;
use std::fmt;

use crate::error::Error;
use crate::report::Report;

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
