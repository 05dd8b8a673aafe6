//! The bounded queue between the source and the workers: the channel, the
//! index counter, the waiters for room, and the items handed back. The
//! producer's handle on it, [`Sender`](crate::Sender), is in `sender.rs`.
//!
//! Items travel through an `async_channel` bounded channel. Each item gets its
//! index as it enters, under a small lock held only for a non-blocking
//! `try_send`, so indices follow queue order even with several senders on
//! several threads. Waiting for room is done here rather than inside the
//! channel (a stream feeder waits for room before it pulls an item), on an
//! `Event` that the workers notify after a receive, only when someone waits,
//! and that closing notifies for good.

use std::sync::Arc;

use event_listener::Event;

use crate::progress::Counters;
use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::{Mutex, lock};

/// An item with the position at which it entered the pool.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) index: usize,
    pub(crate) item: T,
}

/// The queue's state shared by the pool and every [`Sender`](crate::Sender).
#[derive(Debug)]
pub(crate) struct Queue<T> {
    pub(crate) rx: async_channel::Receiver<Entry<T>>,
    /// The next index to hand out; also the number of items that entered.
    /// Only senders touch it: on its own cache line, away from what the
    /// workers read for every item.
    pub(crate) next: CacheLine<Next>,
    /// Where producers wait for a free place (and, for good, for the queue
    /// to close).
    pub(crate) room: Room,
    /// An inline feeder waits for room without an event (see
    /// [`Sender::park`](crate::sender::Sender::park)); a receive then asks
    /// the run to poll it again.
    pub(crate) parked: AtomicBool,
    repoll: AtomicBool,
    /// A waiting stream feeder is woken once the queue holds at most this
    /// many.
    low_water: usize,
    /// Items that entered but will not be handled: taken by a worker after the
    /// abort, or pulled from a stream source after it.
    pub(crate) handed_back: Mutex<Vec<Entry<T>>>,
    /// Progress counters, when someone reads them.
    pub(crate) counters: Option<Arc<Counters>>,
}

impl<T> Queue<T> {
    /// A queue of `capacity` places, and the channel's sending side for the
    /// first [`Sender`](crate::Sender).
    pub(crate) fn new(
        capacity: usize,
        counters: Option<Arc<Counters>>,
    ) -> (Arc<Self>, async_channel::Sender<Entry<T>>) {
        let (tx, rx) = async_channel::bounded(capacity);
        let queue = Arc::new(Queue {
            rx,
            next: CacheLine(Next::default()),
            room: Room::default(),
            parked: AtomicBool::new(false),
            repoll: AtomicBool::new(false),
            low_water: capacity / 2,
            handed_back: Mutex::new(Vec::new()),
            counters,
        });
        (queue, tx)
    }

    /// The number of items that have entered so far. Waits for a sender
    /// that is putting an item in (see [`Sender::try_send`](crate::sender::Sender::try_send)), so every item
    /// in the queue or handed out is counted, and none whose send is still
    /// to fail.
    ///
    /// A stream feeder, the queue's only sender, takes no lock; it runs in
    /// the same task as every caller of this method, never beside it.
    pub(crate) fn entered(&self) -> usize {
        let next = &self.next.0;
        let _turn = lock(&next.lock);
        next.index.load(Ordering::Acquire)
    }

    /// Called by a worker after each receive: wakes a sender waiting for
    /// room, if any, and a stream feeder waiting for room once the queue has
    /// drained to half its capacity (the low watermark), so that a feeder on
    /// another thread (the caller's, say) is woken once per half a queue
    /// rather than once per item. Costs one load when nobody waits.
    #[inline(always)]
    pub(crate) fn freed_one(&self) {
        self.room.freed_one(|| self.rx.len() <= self.low_water);
        if self.parked.load(Ordering::Relaxed) {
            self.parked.store(false, Ordering::Relaxed);
            self.repoll.store(true, Ordering::Relaxed);
        }
    }

    /// Whether a parked inline feeder has room again (and must be polled).
    pub(crate) fn take_repoll(&self) -> bool {
        self.repoll.swap(false, Ordering::Relaxed)
    }

    /// Stops intake for good: senders fail from now on, waiting ones wake up.
    /// Items already queued can still be received. Returns whether this call
    /// closed it.
    pub(crate) fn close(&self) -> bool {
        let closed = self.rx.close();
        self.room.close();
        closed
    }

    /// Keeps an entry that a worker took but will not handle, to return it
    /// to the caller.
    pub(crate) fn hand_back(&self, entry: Entry<T>) {
        lock(&self.handed_back).push(entry);
        self.count(|c| &c.unprocessed, 1);
    }

    /// Adds `n` to a progress counter if progress is tracked.
    #[inline]
    pub(crate) fn count(&self, counter: impl FnOnce(&Counters) -> &AtomicUsize, n: usize) {
        if let Some(counters) = &self.counters {
            counter(counters).fetch_add(n, Ordering::SeqCst);
        }
    }

    /// The number of items that have entered, and everything handed back
    /// plus everything still queued, in index order. Call once no worker
    /// runs any more and intake has stopped (closed, or every sender gone).
    pub(crate) fn take_unprocessed(&self) -> (usize, Vec<(usize, T)>) {
        // Holding the index lock, no sender is half-way through a send: the
        // count and the queue's content agree.
        let next = &self.next.0;
        let _turn = lock(&next.lock);
        let entered = next.index.load(Ordering::Acquire);
        let handed_back = std::mem::take(&mut *lock(&self.handed_back));
        let mut items = Vec::with_capacity(handed_back.len() + self.rx.len());
        items.extend(handed_back.into_iter().map(|e| (e.index, e.item)));
        let mut drained = 0;
        while let Ok(entry) = self.rx.try_recv() {
            items.push((entry.index, entry.item));
            drained += 1;
        }
        if drained > 0 {
            self.count(|c| &c.taken, drained);
            self.count(|c| &c.unprocessed, drained);
        }
        // The queue is in index order; only items handed back by workers
        // can be out of it.
        if !items.is_sorted_by_key(|(index, _)| *index) {
            items.sort_unstable_by_key(|(index, _)| *index);
        }
        (entered, items)
    }
}

/// The index counter. Senders that may race take `lock` around moving the
/// index on, queueing the item and (if that fails) moving it back, so indices
/// follow queue order, and whoever reads the count under the lock sees every
/// item that is in the queue or was taken from it. A sender known to be the
/// only one skips the lock.
#[derive(Debug, Default)]
pub(crate) struct Next {
    pub(crate) index: AtomicUsize,
    pub(crate) lock: Mutex<()>,
}

/// Keeps its content on a cache line of its own.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CacheLine<T>(pub(crate) T);

/// One stream feeder waiting, in [`Room`]'s count (senders count 1 each).
const FEEDER: usize = 1 << (usize::BITS / 2);

/// Where producers wait for room: senders on `senders`, woken for every free
/// place, and a stream feeder on `feeder`, woken once the queue has drained
/// to its low watermark (so that a feeder on another thread, the caller's
/// say, is woken once per half a queue). One word counts both kinds of
/// waiter, so that a receive with nobody waiting costs one load, and one
/// with only the feeder waiting notifies no sender.
#[derive(Debug, Default)]
pub(crate) struct Room {
    pub(crate) senders: Event,
    pub(crate) feeder: Event,
    /// Senders waiting, plus [`FEEDER`] if the feeder waits.
    waiting: AtomicUsize,
}

impl Room {
    /// Counts the caller (the stream feeder if `feeder`, or a sender) as
    /// waiting until the guard is dropped. Call it before listening and
    /// re-checking the condition: a notifier that saw nobody waiting acted
    /// before the re-check, which then sees its effect.
    pub(crate) fn enter(&self, feeder: bool) -> Waiting<'_> {
        let weight = if feeder { FEEDER } else { 1 };
        self.waiting.fetch_add(weight, Ordering::SeqCst);
        Waiting(&self.waiting, weight)
    }

    /// After a receive: wakes a waiting sender, and the waiting feeder if
    /// `at_low_water` says the queue has drained to its low watermark. One
    /// load when nobody waits.
    #[inline(always)]
    fn freed_one(&self, at_low_water: impl FnOnce() -> bool) {
        let waiting = self.waiting.load(Ordering::SeqCst);
        if waiting != 0 {
            if waiting % FEEDER != 0 {
                self.senders.notify(1);
            }
            if waiting >= FEEDER && at_low_water() {
                self.feeder.notify(1);
            }
        }
    }

    /// Makes sure one waiting sender is woken: does nothing if one already
    /// is and has not run yet. The woken one passes the turn on if room is
    /// left (see [`Sender::send`](crate::sender::Sender::send)).
    pub(crate) fn notify_sender(&self) {
        if self.waiting.load(Ordering::SeqCst) % FEEDER != 0 {
            self.senders.notify(1);
        }
    }

    /// Wakes every waiter, for good: the queue is closed.
    fn close(&self) {
        self.senders.notify(usize::MAX);
        self.feeder.notify(usize::MAX);
    }
}

/// One waiter, counted in [`Room`] until dropped.
pub(crate) struct Waiting<'a>(&'a AtomicUsize, usize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(self.1, Ordering::SeqCst);
    }
}
