//! What a run returns when every item was handled: [`Report`], also the
//! part of an [`Abort`](crate::Abort) that says what completed.

use std::fmt;

/// The outcome of a run in which nothing failed, and the part of an
/// [`Abort`](crate::Abort) that says what completed.
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
    /// is handled. In an [`Abort`](crate::Abort)'s report it holds the items the abort
    /// handed back ([`Abort::unprocessed`](crate::Abort::unprocessed) is the same list).
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
