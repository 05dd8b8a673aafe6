//! The producer's handle on a pool's queue, [`Sender`]. The errors that hand
//! a refused item back are in `send_error.rs`.

use std::fmt;
use std::sync::Arc;

use event_listener::listener;

use crate::queue::{Entry, Queue};
use crate::send_error::{SendError, TrySendError};
use crate::sync::atomic::Ordering;
use crate::sync::lock;

/// The producer's handle on a pool's queue, given to the closure passed to
/// [`Pool::run_with`](crate::Pool::run_with).
///
/// The queue accepts items until every `Sender` (the producer's and its
/// clones) is dropped, a sender [closes](Sender::close) it, or the run is
/// closed or aborts; from then on every send fails at once and hands the
/// item back. A clone kept anywhere keeps intake open: end it with
/// [`close`](Sender::close). Items are numbered 0, 1, 2, … in
/// the order they are accepted.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Outputs, Pool, SendError};
///
/// let report = Pool::new(2)
///     .outputs(Outputs::InputOrder)
///     .run_with(
///         |tx| async move {
///             for word in ["alpha", "beta", "gamma"] {
///                 tx.send(word).await?;
///             }
///             Ok::<(), SendError<&str>>(())
///         },
///         |word| async move { Ok::<usize, String>(word.len()) },
///     )
///     .await
///     .unwrap();
/// // Numbered in the order they were accepted.
/// assert_eq!(report.outputs(), &[(0, 5), (1, 4), (2, 5)]);
/// # });
/// ```
pub struct Sender<T> {
    tx: async_channel::Sender<Entry<T>>,
    queue: Arc<Queue<T>>,
    /// This sender is the queue's only one (a stream feeder): no lock needed.
    sole: bool,
}

impl<T> Sender<T> {
    /// The first sender of `queue`, which feeds the channel through `tx`.
    pub(crate) fn new(queue: &Arc<Queue<T>>, tx: async_channel::Sender<Entry<T>>) -> Self {
        Sender {
            tx,
            queue: Arc::clone(queue),
            sole: false,
        }
    }

    /// Puts `item` in the queue, waiting while the queue is full.
    ///
    /// # Errors
    ///
    /// Returns [`SendError`] holding `item` if the run has aborted or its
    /// intake has closed (also when that happens while this call waits). Once
    /// that has happened, every later call fails at once.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, the item was
    /// not queued (it is dropped with the future) and no index was used.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Pool, SendError};
    ///
    /// let report = Pool::new(2)
    ///     .queue(4)
    ///     .run_with(
    ///         |tx| async move {
    ///             for n in 0..10 {
    ///                 tx.send(n).await?;
    ///             }
    ///             Ok::<(), SendError<u32>>(())
    ///         },
    ///         |n| async move { Ok::<u32, std::io::Error>(n * 2) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.completed(), 10);
    /// # });
    /// ```
    pub async fn send(&self, item: T) -> Result<(), SendError<T>> {
        let mut item = item;
        let mut waited = false;
        loop {
            match self.try_send(item) {
                Ok(()) => {
                    if waited && !self.tx.is_full() {
                        // Woken for one place and more are free: pass it on.
                        self.queue.room.notify_sender();
                    }
                    return Ok(());
                }
                Err(TrySendError::Closed(back)) => return Err(SendError(back)),
                Err(TrySendError::Full(back)) => item = back,
            }
            waited |= self.wait_for_room().await;
        }
    }

    /// Puts `item` in the queue if there is room now.
    ///
    /// # Errors
    ///
    /// Returns [`TrySendError::Full`] if the queue is full and
    /// [`TrySendError::Closed`] if the run has aborted or its intake has
    /// closed; both hand `item` back.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Pool, TrySendError};
    ///
    /// let report = Pool::new(1)
    ///     .queue(1)
    ///     .run_with(
    ///         |tx| async move {
    ///             assert!(tx.try_send(0).is_ok());
    ///             // The queue holds one item and no worker has run yet.
    ///             assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    ///             tx.send(1).await // waits for room instead
    ///         },
    ///         |n: u32| async move { Ok::<u32, String>(n) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.completed(), 2);
    /// # });
    /// ```
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let next = &self.queue.next.0;
        let _turn = (!self.sole).then(|| lock(&next.lock));
        if self.tx.is_closed() {
            // Refused before anything is counted: once the run has ended
            // (intake is closed by then), no send moves a count, even for a
            // moment.
            return Err(TrySendError::Closed(item));
        }
        self.queue_item(item)
    }

    /// Numbers `item` and puts it in the queue if there is room; the caller
    /// holds the index lock, or is the only sender.
    #[inline]
    fn queue_item(&self, item: T) -> Result<(), TrySendError<T>> {
        let next = &self.queue.next.0;
        let index = next.index.load(Ordering::Relaxed);
        // Counted before it can be received, so no index handed out is at or
        // past the count, and progress never shows an item handled before it
        // entered; taken back if the send fails.
        next.index.store(index + 1, Ordering::Release);
        self.queue.count(|c| &c.entered, 1);
        let refused = match self.tx.try_send(Entry { index, item }) {
            Ok(()) => return Ok(()),
            Err(async_channel::TrySendError::Full(e)) => TrySendError::Full(e.item),
            Err(async_channel::TrySendError::Closed(e)) => TrySendError::Closed(e.item),
        };
        if let Some(counters) = &self.queue.counters {
            counters.entered.fetch_sub(1, Ordering::SeqCst);
        }
        next.index.store(index, Ordering::Release);
        Err(refused)
    }

    /// Waits until the queue has room, without taking an item; `false` once
    /// the queue is closed. Used to pull from a stream only when the item can
    /// go straight in, so the pool never holds an extra item.
    ///
    /// Only a stream feeder calls it, the queue's only sender: there is no
    /// other waiter to pass a free place on to.
    pub(crate) async fn room(&self) -> bool {
        loop {
            if self.tx.is_closed() {
                return false;
            }
            if !self.tx.is_full() {
                return true;
            }
            // A feeder is woken at the queue's low watermark only.
            self.wait_in(true).await;
        }
    }

    /// Waits once for a place to free up or the queue to close; returns
    /// whether it had to wait (not if either happened meanwhile).
    async fn wait_for_room(&self) -> bool {
        self.wait_in(false).await
    }

    /// Waits once for a place to free up or the queue to close, as the
    /// stream feeder if `feeder` (woken at the low watermark) or as a sender
    /// (woken for one place), counted among the queue's waiters for room;
    /// returns whether it had to wait.
    async fn wait_in(&self, feeder: bool) -> bool {
        let room = &self.queue.room;
        let _waiting = room.enter(feeder);
        let event = if feeder { &room.feeder } else { &room.senders };
        listener!(event => room);
        if self.tx.is_closed() || !self.tx.is_full() {
            return false;
        }
        room.await;
        true
    }

    /// [`try_send`](Sender::try_send) for the inline stream feeder, the
    /// queue's only sender, which runs in the run's own task: nothing else
    /// takes the index, and nothing closes the queue while it runs (it has
    /// just seen the queue open), so neither the lock nor the check first.
    pub(crate) fn try_send_in_run(&self, item: T) -> Result<(), TrySendError<T>> {
        debug_assert!(self.sole);
        self.queue_item(item)
    }

    /// Whether the queue is full.
    pub(crate) fn is_full(&self) -> bool {
        self.tx.is_full()
    }

    /// Parks an inline feeder that found the queue full: the run polls it
    /// again once a worker has taken an item (see `Queue::take_repoll`).
    pub(crate) fn park(&self) {
        self.queue.parked.store(true, Ordering::Relaxed);
    }

    /// Records an item that was pulled from a stream source but could not be
    /// queued because the run was closed or aborted meanwhile: it enters with
    /// the next index and is handed back at once, so it is not lost.
    pub(crate) fn hand_back_late(&self, item: T) {
        let next = &self.queue.next.0;
        let _turn = (!self.sole).then(|| lock(&next.lock));
        let index = next.index.load(Ordering::Relaxed);
        lock(&self.queue.handed_back).push(Entry { index, item });
        next.index.store(index + 1, Ordering::Release);
        // It entered and, never queued, left the queue at once.
        self.queue.count(|c| &c.entered, 1);
        self.queue.count(|c| &c.taken, 1);
        self.queue.count(|c| &c.unprocessed, 1);
    }

    /// This sender, marked as the queue's only one, which lets it skip the
    /// index lock. Only for the sender [`Queue::new`] made, before anyone
    /// could clone it: a stream feeder's.
    pub(crate) fn into_sole(self) -> Sender<T> {
        Sender { sole: true, ..self }
    }

    /// Ends intake for every sender, on purpose: later sends fail with a
    /// [`SendError`] that hands the item back, and what entered finishes.
    /// The run ends as when every sender is dropped (its report is not
    /// [`closed_early`](crate::Report::closed_early): that is for a
    /// [`Control::close`](crate::Control::close)). Returns whether this
    /// call closed it (`false` if intake had already ended).
    ///
    /// Intake otherwise stays open while any clone of the sender lives: one
    /// kept somewhere (in a struct, a spawned task) keeps a run that has
    /// nothing more to do from ending. `close` ends it whatever the clones.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let report = Pool::new(2)
    ///     .run_with(
    ///         |tx| async move {
    ///             let stashed = tx.clone(); // would keep intake open
    ///             for n in 0..5u32 {
    ///                 tx.send(n).await.unwrap();
    ///             }
    ///             assert!(tx.close());
    ///             assert!(stashed.send(5).await.is_err());
    ///             std::mem::forget(stashed);
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n| async move { Ok::<u32, String>(n) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.completed(), 5);
    /// assert!(!report.closed_early());
    /// # });
    /// ```
    pub fn close(&self) -> bool {
        self.queue.close()
    }

    /// Waits until the pool stops accepting items: the run was closed or
    /// aborted, a sender [closed](Sender::close) it, or every sender is
    /// gone. A producer busy upstream can race its work against this to stop
    /// promptly. (Named as `async_channel` names it.)
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Pool};
    ///
    /// let control = Control::new();
    /// control.close(); // closed before the run starts: it ends at once
    /// let report = Pool::new(1)
    ///     .control(&control)
    ///     .run_with(
    ///         |tx| async move {
    ///             tx.closed().await; // resolves: intake has stopped
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n: u32| async move { Ok::<u32, String>(n) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.entered(), 0);
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// The number of items waiting in the queue (not counting those in flight).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// Pool::new(1)
    ///     .queue(4)
    ///     .run_with(
    ///         |tx| async move {
    ///             assert_eq!(tx.len(), 0);
    ///             tx.try_send("a").unwrap();
    ///             tx.try_send("b").unwrap();
    ///             assert_eq!(tx.len(), 2); // no worker has taken one yet
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |s| async move { Ok::<&str, String>(s) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        self.tx.len()
    }

    /// Whether the queue holds no waiting item.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// Pool::new(1)
    ///     .run_with(
    ///         |tx| async move {
    ///             assert!(tx.is_empty());
    ///             tx.try_send(7).unwrap();
    ///             assert!(!tx.is_empty()); // no worker has taken it yet
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n: u32| async move { Ok::<u32, String>(n) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tx.is_empty()
    }

    /// The queue's capacity, as set by [`Pool::queue`](crate::Pool::queue).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// Pool::new(2)
    ///     .queue(8)
    ///     .run_with(
    ///         |tx| async move {
    ///             assert_eq!(tx.capacity(), 8);
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n: u32| async move { Ok::<u32, String>(n) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn capacity(&self) -> usize {
        self.tx.capacity().unwrap_or(usize::MAX)
    }

    /// Whether the queue has stopped accepting items (the run aborted or its
    /// intake closed).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// Pool::new(2)
    ///     .run_with(
    ///         |tx| async move {
    ///             assert!(!tx.is_closed());
    ///             tx.close();
    ///             assert!(tx.is_closed());
    ///             assert!(tx.send(1).await.is_err());
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n: u32| async move { Ok::<u32, String>(n) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Another handle on the same queue. Intake ends when every sender is dropped
/// (so a clone kept anywhere keeps it open), when one of them
/// [closes](Sender::close) it, or when the run is closed or aborted.
impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
            queue: Arc::clone(&self.queue),
            // Two senders now: both must take the lock. (A sole sender is
            // never cloned: it stays inside the stream feeder.)
            sole: false,
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("is_closed", &self.is_closed())
            .finish()
    }
}
