//! An [`Abort`] as an error for `?`: [`AbortError`], and the conversions
//! into `Box<dyn Error>`, `anyhow::Error` and `eyre::Report`.

use std::error::Error as StdError;
use std::fmt;

use crate::abort::Abort;
use crate::error::Error;

/// A boxed error, as `?` makes one.
type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What `?` makes of an [`Abort`]: an error whose message names what failed
/// ("item 57 failed") and whose [`source()`](StdError::source) is the
/// handler's (or the source's) own error, with its own chain. It keeps the
/// index and the count of items that entered; the items themselves stay in
/// the `Abort`.
///
/// Made by `?` (or `From`) from an `Abort` into `Box<dyn Error + Send +
/// Sync>`, `Box<dyn Error>`, `anyhow::Error` (feature `anyhow`) or
/// `eyre::Report` (feature `eyre`), when the handler's and the source's
/// errors convert into `Box<dyn Error + Send + Sync>`: every
/// `std::error::Error + Send + Sync + 'static`, `anyhow::Error`,
/// `eyre::Report`, `Box<dyn Error + Send + Sync>`, `String` and `&str` do.
/// Downcast to it to read the index.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{AbortError, Pool};
///
/// let abort = Pool::new(2)
///     .run(futures::stream::iter(0..5u32), |n| async move {
///         if n == 2 { Err(std::io::Error::other("disk on fire")) } else { Ok(n) }
///     })
///     .await
///     .unwrap_err();
/// let error: Box<dyn std::error::Error + Send + Sync> = abort.into();
/// assert_eq!(error.to_string(), "item 2 failed");
/// let cause = error.source().unwrap();
/// assert_eq!(cause.downcast_ref::<std::io::Error>().unwrap().to_string(), "disk on fire");
/// assert_eq!(error.downcast_ref::<AbortError>().unwrap().index(), Some(2));
/// # });
/// ```
#[derive(Debug)]
pub struct AbortError {
    message: String,
    index: Option<usize>,
    entered: usize,
    source: Option<BoxError>,
}

impl AbortError {
    /// The index of the item whose failure stopped the run; `None` when
    /// something else did (the source, the control, the executor).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{AbortError, Pool};
    ///
    /// let abort = Pool::new(1)
    ///     .run(futures::stream::iter(0..3u32), |n| async move {
    ///         if n == 1 { Err("one") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(AbortError::from(abort).index(), Some(1));
    /// # });
    /// ```
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// How many items had entered the pool when the run ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{AbortError, Pool};
    ///
    /// let abort = Pool::new(1)
    ///     .queue(1)
    ///     .run(futures::stream::iter(0..100u32), |n| async move {
    ///         if n == 0 { Err("zero") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// let entered = abort.entered();
    /// assert_eq!(AbortError::from(abort).entered(), entered);
    /// # });
    /// ```
    pub fn entered(&self) -> usize {
        self.entered
    }
}

impl fmt::Display for AbortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for AbortError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl<T, R, E, SE> From<Abort<T, R, E, SE>> for AbortError
where
    E: Into<BoxError>,
    SE: Into<BoxError>,
{
    fn from(abort: Abort<T, R, E, SE>) -> Self {
        let entered = abort.entered();
        let error = abort.into_error();
        let (message, index) = (error.to_string(), error.index());
        let source = match error {
            Error::Failed { source, .. } => Some(source.into()),
            Error::Source { source, .. } => Some(source.into()),
            _ => None,
        };
        AbortError {
            message,
            index,
            entered,
            source,
        }
    }
}

impl<T, R, E, SE> From<Abort<T, R, E, SE>> for BoxError
where
    E: Into<BoxError>,
    SE: Into<BoxError>,
{
    fn from(abort: Abort<T, R, E, SE>) -> Self {
        Box::new(AbortError::from(abort))
    }
}

impl<T, R, E, SE> From<Abort<T, R, E, SE>> for Box<dyn StdError + 'static>
where
    E: Into<BoxError>,
    SE: Into<BoxError>,
{
    fn from(abort: Abort<T, R, E, SE>) -> Self {
        Box::new(AbortError::from(abort))
    }
}

#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
impl<T, R, E, SE> From<Abort<T, R, E, SE>> for anyhow::Error
where
    E: Into<BoxError>,
    SE: Into<BoxError>,
{
    fn from(abort: Abort<T, R, E, SE>) -> Self {
        anyhow::Error::new(AbortError::from(abort))
    }
}

#[cfg(feature = "eyre")]
#[cfg_attr(docsrs, doc(cfg(feature = "eyre")))]
impl<T, R, E, SE> From<Abort<T, R, E, SE>> for eyre::Report
where
    E: Into<BoxError>,
    SE: Into<BoxError>,
{
    fn from(abort: Abort<T, R, E, SE>) -> Self {
        eyre::Report::new(AbortError::from(abort))
    }
}
