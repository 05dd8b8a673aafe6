//! The `Stream` extension that puts a pool one method call away:
//! [`PooledExt`]. The [`Pooled`] stream it makes is in `pooled.rs`.

use futures_core::{Stream, TryStream};

use crate::mode::Inline;
use crate::pool::Pool;
use crate::pooled::{Fallible, Pooled};

/// Puts a [`Pool`] one method call away from any [`Stream`]: a drop-in for
/// `try_for_each_concurrent` and `buffer_unordered` that adds a bounded
/// queue, fail-fast cancellation, accounting, and (with
/// [`spawn_on`](Pooled::spawn_on)) parallelism.
///
/// | you write today                                        | with failfast                                   |
/// |--------------------------------------------------------|-------------------------------------------------|
/// | `s.try_for_each_concurrent(8, f).await`                | `s.pooled(8).try_for_each(f).await`             |
/// | `s.map(f).buffer_unordered(8).try_collect().await`     | `s.pooled(8).try_map(f).try_collect().await`    |
/// | `try_s.try_for_each_concurrent(8, f).await`            | `try_s.try_pooled(8).try_for_each(f).await`     |
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::PooledExt as _;
/// use futures::TryStreamExt as _;
///
/// let doubled: Vec<u32> = futures::stream::iter(0..10u32)
///     .pooled(3)
///     .try_map(|n| async move { Ok::<u32, std::io::Error>(n * 2) })
///     .try_collect()
///     .await
///     .unwrap();
/// assert_eq!(doubled.len(), 10);
///
/// let abort = futures::stream::iter(0..10u32)
///     .pooled(3)
///     .try_for_each(|n| async move { if n == 4 { Err("four") } else { Ok(()) } })
///     .await
///     .unwrap_err();
/// assert_eq!(abort.error().index(), Some(4));
/// # });
/// ```
pub trait PooledExt: Stream + Sized {
    /// This stream, to be handled by `workers` workers through a bounded
    /// queue (of `workers` places, until [`Pooled::queue`] says otherwise).
    ///
    /// # Panics
    ///
    /// Panics if `workers` is 0, as [`Pool::new`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::PooledExt as _;
    ///
    /// let abort = futures::stream::iter(vec!["7", "x", "9"])
    ///     .pooled(2)
    ///     .try_for_each(|s: &str| async move { s.parse::<u8>().map(drop) })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.error().index(), Some(1));
    /// assert_eq!(abort.to_string(), "item 1 failed: invalid digit found in string");
    /// # });
    /// ```
    fn pooled(self, workers: usize) -> Pooled<Self> {
        Pooled::new(self, Pool::new(workers), ())
    }

    /// This fallible stream (a `TryStream`, as `try_for_each_concurrent`
    /// takes), to be handled by `workers` workers: its `Ok` items go to the
    /// handler, and its first `Err` aborts the run with
    /// [`Error::Source`](crate::Error::Source).
    ///
    /// # Panics
    ///
    /// Panics if `workers` is 0, as [`Pool::new`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::PooledExt as _;
    ///
    /// let lines = futures::stream::iter(vec![Ok("a"), Ok("b"), Err("unreadable"), Ok("c")]);
    /// let abort = lines
    ///     .try_pooled(2)
    ///     .try_for_each(|line: &str| async move { Ok::<(), &str>(drop(line)) })
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.to_string(), "source failed after 2 items: unreadable");
    /// # });
    /// ```
    fn try_pooled(self, workers: usize) -> Pooled<Self, Inline, Fallible>
    where
        Self: TryStream,
    {
        Pooled::new(self, Pool::new(workers), Fallible)
    }
}

impl<S: Stream> PooledExt for S {}
