//! A run's [`Progress`], and the counters behind it.

use crate::sync::atomic::{AtomicUsize, Ordering};

/// A snapshot of a run's progress, from [`Control::progress`](crate::Control::progress) or given to
/// [`Pool::on_progress`](crate::Pool::on_progress).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Control, Pool, Progress};
///
/// let control = Control::new();
/// assert_eq!(control.progress(), Progress::default());
/// let _ = Pool::new(1)
///     .queue(4)
///     .control(&control)
///     .run(futures::stream::iter(0..10u32), |n| async move {
///         if n == 0 { Err("the first one fails") } else { Ok(n) }
///     })
///     .await;
/// // Once the run has ended, the snapshot is exact and adds up.
/// let p = control.progress();
/// assert_eq!((p.entered, p.failed, p.unprocessed), (4, 1, 3));
/// assert_eq!(p.entered, p.completed + p.failed + p.cancelled + p.unprocessed);
/// assert_eq!((p.queued, p.in_flight), (0, 0));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Progress {
    /// Items that entered the pool.
    pub entered: usize,
    /// Items waiting in the queue.
    pub queued: usize,
    /// Items whose handler is running.
    pub in_flight: usize,
    /// Items handled successfully.
    pub completed: usize,
    /// Items whose handler failed or panicked.
    pub failed: usize,
    /// Items cancelled while in flight.
    pub cancelled: usize,
    /// Items that entered but will not be handled: handed back by value in
    /// the run's [`Report`](crate::Report) or [`Abort`](crate::Abort).
    ///
    /// Once the run has ended, `entered == completed + failed + cancelled +
    /// unprocessed`, and `queued` and `in_flight` are 0.
    pub unprocessed: usize,
}

/// The counters behind [`Progress`], updated by the queue and the workers.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) entered: AtomicUsize,
    /// Items that left the queue (taken by a worker, or drained when the run
    /// ends), or entered without being queued (handed back at once).
    pub(crate) taken: AtomicUsize,
    pub(crate) started: AtomicUsize,
    pub(crate) completed: AtomicUsize,
    pub(crate) failed: AtomicUsize,
    pub(crate) cancelled: AtomicUsize,
    pub(crate) unprocessed: AtomicUsize,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Progress {
        let get = |c: &AtomicUsize| c.load(Ordering::SeqCst);
        // Read the later stages first (every counter is SeqCst), so no stage
        // looks negative.
        let (completed, failed, cancelled, unprocessed) = (
            get(&self.completed),
            get(&self.failed),
            get(&self.cancelled),
            get(&self.unprocessed),
        );
        let started = get(&self.started);
        let taken = get(&self.taken);
        let entered = get(&self.entered);
        Progress {
            entered,
            queued: entered.saturating_sub(taken),
            in_flight: started.saturating_sub(completed + failed + cancelled),
            completed,
            failed,
            cancelled,
            unprocessed,
        }
    }
}

mod sealed {
    /// Only `Fn(&Progress)` closures and [`NoProgress`](super::NoProgress)
    /// are progress callbacks.
    pub trait Sealed {}
}

/// What [`Pool::on_progress`](crate::Pool::on_progress) takes: any
/// `Fn(&Progress)`, or [`NoProgress`] (a pool's default). Sealed.
///
/// Inline, the callback may be anything that is `Fn(&Progress)` (an `Rc`
/// counter, a closure that borrows); a spawned run calls it on the workers'
/// threads, so there (see [`Mode`](crate::Mode)) it must be `Send + Sync +
/// 'static`.
///
/// # Examples
///
/// ```
/// use failfast::{NoProgress, OnProgress, Progress};
///
/// fn takes<P: OnProgress>(_: P) {}
/// takes(NoProgress);
/// takes(|progress: &Progress| assert!(progress.completed <= progress.entered));
/// ```
#[allow(private_bounds)]
pub trait OnProgress: sealed::Sealed {
    /// Whether there is a callback to call (and progress to count).
    #[doc(hidden)]
    const ON: bool;

    /// Calls the callback.
    #[doc(hidden)]
    fn call(&self, progress: &Progress);
}

impl<G: Fn(&Progress)> sealed::Sealed for G {}

impl<G: Fn(&Progress)> OnProgress for G {
    const ON: bool = true;

    fn call(&self, progress: &Progress) {
        self(progress);
    }
}

/// No progress callback: what a [`Pool`](crate::Pool) has until
/// [`on_progress`](crate::Pool::on_progress) gives it one.
///
/// # Examples
///
/// ```
/// use failfast::{Inline, NoProgress, Pool};
///
/// let pool: Pool<Inline, NoProgress> = Pool::new(2);
/// assert_eq!(pool.workers(), 2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoProgress;

impl sealed::Sealed for NoProgress {}

impl OnProgress for NoProgress {
    const ON: bool = false;

    fn call(&self, _: &Progress) {}
}
