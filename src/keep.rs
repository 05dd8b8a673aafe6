//! The items of failed and cancelled jobs, for a retry: [`Keeper`], an
//! opt-in handler wrapper that keeps a clone of each item until its job
//! succeeds.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::abort::Abort;
use crate::job::Job;
use crate::unfinished::{Fate, Unfinished};

/// Keeps the items whose job did not succeed, so every item that did not
/// complete can come back by value, not only the unprocessed ones.
///
/// A failed or cancelled item was moved into its handler, so an
/// [`Abort`] can only name it by index. Wrap the handler with
/// [`wrap`](Keeper::wrap): it clones each item (so `T: Clone`) and drops the
/// clone when the job succeeds; the clone of a job that fails, panics or is
/// cancelled stays here. [`unfinished`](Keeper::unfinished) then gives every
/// unfinished item of the run by value, in index order. Nothing is cloned or
/// kept unless a handler is wrapped; a wrapped job costs a clone of its item
/// and one allocation. Use one `Keeper` per run.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Keeper, Pool};
///
/// let urls: Vec<String> = (0..20).map(|n| format!("https://example.com/{n}")).collect();
/// let keeper = Keeper::new();
/// let abort = Pool::new(4)
///     .run(
///         futures::stream::iter(urls.clone()),
///         keeper.wrap(|url: String| async move {
///             if url.ends_with("/7") { Err(format!("{url}: timed out")) } else { Ok(url.len()) }
///         }),
///     )
///     .await
///     .unwrap_err();
/// let retry: Vec<String> = keeper.unfinished(abort).into_iter().map(|u| u.item.unwrap()).collect();
/// assert_eq!(retry[0], urls[7]); // the failed one, by value
/// # });
/// ```
pub struct Keeper<T> {
    kept: Arc<Mutex<Vec<(usize, T)>>>,
}

impl<T> Keeper<T> {
    /// An empty keeper.
    ///
    /// # Examples
    ///
    /// ```
    /// let keeper = failfast::Keeper::<String>::new();
    /// assert!(keeper.take().is_empty());
    /// ```
    pub fn new() -> Self {
        Keeper {
            kept: Arc::default(),
        }
    }

    /// `handler`, keeping a clone of each item until its job succeeds. A
    /// handler called outside a pool's job keeps nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Keeper, Policy, Pool};
    ///
    /// let keeper = Keeper::new();
    /// let abort = Pool::new(2)
    ///     .policy(Policy::Continue)
    ///     .run(
    ///         futures::stream::iter(0..10u32),
    ///         keeper.wrap(|n: u32| async move { if n % 3 == 0 { Err(n) } else { Ok(n) } }),
    ///     )
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.failed(), vec![0, 3, 6, 9]);
    /// assert_eq!(keeper.take(), vec![(0, 0), (3, 3), (6, 6), (9, 9)]);
    /// # });
    /// ```
    pub fn wrap<F, Fut, R, E>(
        &self,
        handler: F,
    ) -> impl Fn(T) -> KeptJob<Fut, T> + use<F, Fut, R, E, T>
    where
        T: Clone,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        let kept = Arc::clone(&self.kept);
        move |item: T| {
            let keep = Job::current().map(|job| Keep {
                kept: Arc::clone(&kept),
                item: Some((job.index(), item.clone())),
            });
            KeptJob {
                job: Box::pin(handler(item)),
                keep,
            }
        }
    }

    /// Takes what was kept: the items whose job failed, panicked or was
    /// cancelled, with their indices, in index order.
    ///
    /// # Examples
    ///
    /// ```
    /// let keeper = failfast::Keeper::<u32>::new();
    /// assert_eq!(keeper.take(), vec![]);
    /// ```
    pub fn take(&self) -> Vec<(usize, T)> {
        let mut kept = std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()));
        kept.sort_unstable_by_key(|(index, _)| *index);
        kept
    }

    /// Every item of `abort`'s run that did not complete, in index order, as
    /// [`Abort::into_unfinished`] lists them, with the items of failed and
    /// cancelled jobs filled in from what this keeper kept (the handler must
    /// have been [wrapped](Keeper::wrap) by it).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Fate, Keeper, Pool};
    ///
    /// let keeper = Keeper::new();
    /// let abort = Pool::new(1)
    ///     .queue(2)
    ///     .run(
    ///         futures::stream::iter(vec!["a", "b", "c", "d"]),
    ///         keeper.wrap(|s: &str| async move { if s == "a" { Err(s) } else { Ok(s) } }),
    ///     )
    ///     .await
    ///     .unwrap_err();
    /// let unfinished = keeper.unfinished(abort);
    /// assert_eq!((unfinished[0].fate, unfinished[0].item), (Fate::Failed, Some("a")));
    /// assert!(unfinished.iter().all(|u| u.item.is_some()));
    /// # });
    /// ```
    pub fn unfinished<R, E, SE>(&self, abort: Abort<T, R, E, SE>) -> Vec<Unfinished<T>> {
        let mut kept = self.take().into_iter().peekable();
        let mut unfinished = abort.into_unfinished();
        for u in &mut unfinished {
            if u.fate == Fate::Unprocessed {
                continue;
            }
            while kept.next_if(|(index, _)| *index < u.index).is_some() {}
            if let Some((_, item)) = kept.next_if(|(index, _)| *index == u.index) {
                u.item = Some(item);
            }
        }
        unfinished
    }
}

impl<T> Default for Keeper<T> {
    fn default() -> Self {
        Keeper::new()
    }
}

impl<T> Clone for Keeper<T> {
    /// Another handle on the same kept items.
    fn clone(&self) -> Self {
        Keeper {
            kept: Arc::clone(&self.kept),
        }
    }
}

impl<T> fmt::Debug for Keeper<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = self.kept.lock().map_or(0, |kept| kept.len());
        f.debug_struct("Keeper").field("kept", &kept).finish()
    }
}

/// A job whose handler was wrapped by [`Keeper::wrap`]: the handler's
/// future, and the clone of its item, kept unless the job succeeds.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let keeper = failfast::Keeper::new();
/// let handler = keeper.wrap(|n: u32| async move { Ok::<u32, String>(n) });
/// let job: failfast::KeptJob<_, u32> = handler(1); // outside a pool: keeps nothing
/// assert_eq!(job.await, Ok(1));
/// # });
/// ```
#[must_use = "a job does nothing unless polled"]
pub struct KeptJob<Fut, T> {
    job: std::pin::Pin<Box<Fut>>,
    keep: Option<Keep<T>>,
}

// The item is only ever moved, never pinned.
impl<Fut, T> Unpin for KeptJob<Fut, T> {}

impl<Fut, T> fmt::Debug for KeptJob<Fut, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeptJob(..)")
    }
}

impl<Fut, T, R, E> Future for KeptJob<Fut, T>
where
    Fut: Future<Output = Result<R, E>>,
{
    type Output = Result<R, E>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<R, E>> {
        let result = std::task::ready!(self.job.as_mut().poll(cx));
        if result.is_ok() {
            // Succeeded: nothing to keep.
            if let Some(keep) = &mut self.keep {
                keep.item = None;
            }
        }
        std::task::Poll::Ready(result)
    }
}

/// The clone of a job's item, kept when dropped unless the job succeeded.
struct Keep<T> {
    kept: Arc<Mutex<Vec<(usize, T)>>>,
    item: Option<(usize, T)>,
}

impl<T> Drop for Keep<T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.kept
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(item);
        }
    }
}
