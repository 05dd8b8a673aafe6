//! The abort signal: an atomic flag plus an `event_listener::Event`.
//!
//! The flag answers "has the run aborted?" with one load; the event wakes every
//! task that waits on it. A [`Watch`] is one waiter's view: it registers a
//! listener once and re-registers only when the task's waker changes, so a
//! worker that polls its job many times pays one atomic load per poll.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use event_listener::{Event, EventListener};

use crate::sync::atomic::{AtomicBool, Ordering};

/// A one-shot flag that wakes its watchers when raised.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    raised: AtomicBool,
    event: Event,
}

impl Signal {
    /// Raises the flag and wakes every watcher. Idempotent.
    pub(crate) fn raise(&self) {
        self.set();
        self.event.notify(usize::MAX);
    }

    /// Raises the flag without waking anyone yet (for use under a lock);
    /// [`raise`](Signal::raise) must follow.
    pub(crate) fn set(&self) {
        self.raised.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised.load(Ordering::SeqCst)
    }

    pub(crate) fn watch(&self) -> Watch<'_> {
        Watch {
            signal: self,
            listener: None,
            waker: None,
        }
    }
}

/// One task's registration on a [`Signal`].
#[derive(Debug)]
pub(crate) struct Watch<'a> {
    signal: &'a Signal,
    listener: Option<EventListener>,
    waker: Option<Waker>,
}

impl Watch<'_> {
    /// Ready once the signal is raised; otherwise makes sure `cx` is woken when
    /// it is.
    pub(crate) fn poll_raised(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.is_raised() {
            return Poll::Ready(());
        }
        if self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            // Already registered with this very waker: the raise will wake it.
            return Poll::Pending;
        }
        let signal = self.signal;
        let listener = self.listener.get_or_insert_with(|| signal.event.listen());
        // The listener exists before the flag is read again, so a raise between
        // the two is not missed.
        if Pin::new(listener).poll(cx).is_ready() || signal.is_raised() {
            return Poll::Ready(());
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
