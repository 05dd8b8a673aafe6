//! What did not finish, in one call: [`Abort::unfinished`] and
//! [`Abort::into_unfinished`], every item that did not complete in index
//! order, with its [`Fate`].

use crate::abort::Abort;

/// What became of an item that did not complete.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Fate, Pool};
///
/// // One worker: when item 0 fails, nothing else is in flight.
/// let abort = Pool::new(1)
///     .queue(3)
///     .run(futures::stream::iter(0..10u32), |n| async move {
///         if n == 0 { Err("zero") } else { Ok(n) }
///     })
///     .await
///     .unwrap_err();
/// for unfinished in abort.unfinished() {
///     match unfinished.fate {
///         Fate::Failed => assert_eq!(unfinished.index, 0),
///         Fate::Unprocessed => assert_eq!(unfinished.item, Some(&(unfinished.index as u32))),
///         other => panic!("unexpected {other:?}"),
///     }
/// }
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fate {
    /// Its handler returned an error or panicked (see
    /// [`Abort::error`] and [`Abort::other_errors`]).
    Failed,
    /// Its handler was running when the run aborted, and was dropped.
    Cancelled,
    /// It entered but was never started: the item itself came back.
    Unprocessed,
}

/// An item that did not complete: its index, its [`Fate`], and the item
/// itself when it came back. Only an unprocessed item comes back: a failed
/// or cancelled one was moved into its handler.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Fate, Pool};
///
/// let abort = Pool::new(1)
///     .queue(2)
///     .run(futures::stream::iter(0..10u32), |n| async move {
///         if n == 0 { Err("zero") } else { Ok(n) }
///     })
///     .await
///     .unwrap_err();
/// let first = &abort.unfinished()[0];
/// assert_eq!((first.index, first.fate, first.item), (0, Fate::Failed, None));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Unfinished<T> {
    /// The item's index.
    pub index: usize,
    /// What became of it.
    pub fate: Fate,
    /// The item, if it came back ([`Fate::Unprocessed`]).
    pub item: Option<T>,
}

impl<T, R, E, SE> Abort<T, R, E, SE> {
    /// Indices of the items whose handler returned an error or panicked (the
    /// cause and every later item error), in increasing order.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Policy, Pool};
    ///
    /// let abort = Pool::new(2)
    ///     .policy(Policy::Continue)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n % 4 == 1 { Err(n) } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.failed(), vec![1, 5, 9]);
    /// # });
    /// ```
    pub fn failed(&self) -> Vec<usize> {
        let later = self.other_errors().iter().filter_map(|e| e.index());
        let mut failed: Vec<usize> = self.error().index().into_iter().chain(later).collect();
        failed.sort_unstable();
        failed
    }

    /// Every item that entered and did not complete, in index order: failed,
    /// cancelled in flight, or never started (by reference). With the
    /// report's completed items, these are exactly the `entered()` items.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Fate, Pool};
    ///
    /// let abort = Pool::new(2)
    ///     .queue(2)
    ///     .run(futures::stream::iter(0..100u32), |n| async move {
    ///         if n == 3 { Err("three") } else { Ok(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// let unfinished = abort.unfinished();
    /// assert!(unfinished.iter().any(|u| (u.index, u.fate) == (3, Fate::Failed)));
    /// assert!(unfinished.windows(2).all(|w| w[0].index < w[1].index));
    /// assert_eq!(abort.report().completed() + unfinished.len(), abort.entered());
    /// # });
    /// ```
    pub fn unfinished(&self) -> Vec<Unfinished<&T>> {
        let unprocessed = self
            .unprocessed()
            .iter()
            .map(|(index, item)| (*index, item));
        merge(self.failed(), self.cancelled().to_vec(), unprocessed)
    }

    /// Takes every item that did not complete, in index order, as
    /// [`unfinished`](Abort::unfinished) lists them, with the unprocessed
    /// items by value: the list to retry from.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Fate, Pool};
    ///
    /// let urls: Vec<String> = (0..20).map(|n| format!("https://example.com/{n}")).collect();
    /// let abort = Pool::new(2)
    ///     .queue(2)
    ///     .run(futures::stream::iter(urls.clone()), |url| async move {
    ///         if url.ends_with("/4") { Err(format!("{url}: timed out")) } else { Ok(url.len()) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// // Retry what did not finish: the queued URLs come back by value; a
    /// // failed or cancelled one by index.
    /// let retry: Vec<String> = abort
    ///     .into_unfinished()
    ///     .into_iter()
    ///     .map(|u| u.item.unwrap_or_else(|| urls[u.index].clone()))
    ///     .collect();
    /// assert!(retry.contains(&urls[4]));
    /// # });
    /// ```
    pub fn into_unfinished(self) -> Vec<Unfinished<T>> {
        let (failed, cancelled) = (self.failed(), self.cancelled().to_vec());
        merge(failed, cancelled, self.into_unprocessed())
    }
}

/// Merges three lists sorted by index into one, in index order.
fn merge<T>(
    failed: Vec<usize>,
    cancelled: Vec<usize>,
    unprocessed: impl IntoIterator<Item = (usize, T)>,
) -> Vec<Unfinished<T>> {
    let failed = failed.into_iter().map(|index| Unfinished {
        index,
        fate: Fate::Failed,
        item: None,
    });
    let cancelled = cancelled.into_iter().map(|index| Unfinished {
        index,
        fate: Fate::Cancelled,
        item: None,
    });
    let unprocessed = unprocessed.into_iter().map(|(index, item)| Unfinished {
        index,
        fate: Fate::Unprocessed,
        item: Some(item),
    });
    let mut all: Vec<Unfinished<T>> = failed.chain(cancelled).chain(unprocessed).collect();
    all.sort_by_key(|u| u.index);
    all
}
