//! Which item and which worker the code running now belongs to.

use std::cell::Cell;

use crate::panic::{Caught, catch};
use crate::sync::thread_local;

thread_local! {
    static CURRENT: Cell<Option<Job>> = const { Cell::new(None) };
}

/// The item a handler is working on and the worker running it.
///
/// [`Job::current`] returns it from inside a handler: in the call that creates
/// the handler's future and in every poll of that future. Outside a handler it
/// returns `None`.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Job, Pool};
///
/// let report = Pool::new(2)
///     .run(futures::stream::iter(10..13), |n| async move {
///         let job = Job::current().expect("inside a handler");
///         Ok::<_, std::io::Error>((job.index(), job.worker(), n))
///     })
///     .await
///     .unwrap();
/// for (index, (seen, worker, n)) in report.outputs() {
///     assert_eq!(index, seen);
///     assert!(*worker < 2);
///     assert_eq!(*n, 10 + *index as u32);
/// }
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Job {
    index: usize,
    worker: usize,
}

impl Job {
    pub(crate) fn new(index: usize, worker: usize) -> Self {
        Job { index, worker }
    }

    /// The job running on this thread right now, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Job, Pool};
    ///
    /// assert_eq!(Job::current(), None); // not in a handler
    /// let report = Pool::new(2)
    ///     .run(futures::stream::iter(0..4u32), |n| {
    ///         let creating = Job::current(); // the call that creates the future
    ///         async move {
    ///             let polling = Job::current(); // a poll of that future
    ///             Ok::<_, std::io::Error>(creating.is_some() && creating == polling)
    ///         }
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert!(report.outputs().iter().all(|(_, same)| *same));
    /// assert_eq!(Job::current(), None);
    /// # });
    /// ```
    pub fn current() -> Option<Job> {
        CURRENT.with(Cell::get)
    }

    /// The item's index: items are numbered 0, 1, 2, … as they enter the pool.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Job, Outputs, Pool};
    ///
    /// let report = Pool::new(3)
    ///     .outputs(Outputs::InputOrder)
    ///     .run(futures::stream::iter(["a", "b", "c"]), |s| async move {
    ///         Ok::<_, std::io::Error>((Job::current().unwrap().index(), s))
    ///     })
    ///     .await
    ///     .unwrap();
    /// let seen: Vec<_> = report.outputs().iter().map(|(_, out)| *out).collect();
    /// assert_eq!(seen, [(0, "a"), (1, "b"), (2, "c")]);
    /// # });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The worker's number, from 0 to the pool's worker count minus one.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Job, Pool};
    ///
    /// let pool = Pool::new(3);
    /// let workers = pool.workers();
    /// let report = pool
    ///     .run(futures::stream::iter(0..20u32), |_| async move {
    ///         Ok::<_, std::io::Error>(Job::current().unwrap().worker())
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert!(report.outputs().iter().all(|(_, worker)| *worker < workers));
    /// # });
    /// ```
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// Runs `f` with this job as the current one, catching a panic.
    pub(crate) fn enter<O>(self, f: impl FnOnce() -> O) -> Result<O, Caught> {
        struct Restore(Option<Job>);
        impl Drop for Restore {
            #[inline]
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(CURRENT.with(|c| c.replace(Some(self))));
        catch(f)
    }
}
