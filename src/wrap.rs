//! The per-job hook: [`Wrap`], which [`Pool::wrap`](crate::Pool::wrap)
//! takes to decorate every job's future, and [`NoWrap`], a pool's default.

use std::future::Future;

use crate::job::Job;

/// Decorates each job: receives the handler's future with its [`Job`]
/// (index, worker) and returns the future the worker runs instead.
///
/// Given to [`Pool::wrap`](crate::Pool::wrap). Any `Fn(Job, Fut) -> W`
/// closure (or generic function) whose `W` is a future with the same output
/// is one; a type of your own can implement it for every `Fut` when the
/// wrapper must be generic over the handler's future (a closure's is fixed
/// by the first handler it meets).
///
/// The wrapped future is the job. Its creation and every poll run under
/// [`Job::current`] and the job's panic guard, so a panic in the wrapper is
/// the job's panic; when the run aborts, a timeout fires or the run is
/// dropped, the wrapped future is dropped (and with it the handler's) and the
/// item is counted as cancelled or timed out, as it would be unwrapped.
///
/// # Examples
///
/// A wrapper of your own, generic over every handler's future:
///
/// ```
/// use std::future::Future;
/// use failfast::{Job, Wrap};
///
/// /// Prints which worker took which item.
/// struct Announce;
///
/// impl<Fut: Future> Wrap<Fut> for Announce {
///     type Wrapped = Fut;
///
///     fn wrap(&self, job: Job, job_future: Fut) -> Fut {
///         println!("worker {} takes item {}", job.worker(), job.index());
///         job_future
///     }
/// }
///
/// # futures::executor::block_on(async {
/// let report = failfast::Pool::new(2)
///     .wrap(Announce)
///     .run(futures::stream::iter(0..3u32), |n| async move { Ok::<_, String>(n) })
///     .await
///     .unwrap();
/// assert_eq!(report.completed(), 3);
/// # });
/// ```
pub trait Wrap<Fut: Future> {
    /// The future the worker runs for the job.
    type Wrapped: Future<Output = Fut::Output>;

    /// Wraps one job's future.
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast::{Job, NoWrap, Wrap};
    ///
    /// let job = Job::current(); // None outside a handler; a wrapper gets the job's
    /// # let _ = job;
    /// let wrapped = |job: Job, fut| async move {
    ///     let out = fut.await;
    ///     println!("item {} done", job.index());
    ///     out
    /// };
    /// # fn takes<W: Wrap<std::future::Ready<u8>>>(_: W) {}
    /// # takes(wrapped);
    /// # takes(NoWrap);
    /// ```
    fn wrap(&self, job: Job, job_future: Fut) -> Self::Wrapped;
}

impl<G, Fut, W> Wrap<Fut> for G
where
    G: Fn(Job, Fut) -> W,
    Fut: Future,
    W: Future<Output = Fut::Output>,
{
    type Wrapped = W;

    #[inline]
    fn wrap(&self, job: Job, job_future: Fut) -> W {
        self(job, job_future)
    }
}

/// No wrapper: each job runs the handler's future as it is. A pool's default
/// until [`Pool::wrap`](crate::Pool::wrap) gives it one; it costs nothing.
///
/// # Examples
///
/// ```
/// use failfast::{Inline, NoProgress, NoWrap, Pool};
///
/// let pool: Pool<Inline, NoProgress, NoWrap> = Pool::new(2);
/// assert_eq!(pool.workers(), 2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoWrap;

impl<Fut: Future> Wrap<Fut> for NoWrap {
    type Wrapped = Fut;

    #[inline]
    fn wrap(&self, _: Job, job_future: Fut) -> Fut {
        job_future
    }
}
