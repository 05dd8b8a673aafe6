//! A run's state: one level that only rises, open -> closed -> aborted, and
//! [`Watch`], the one way to wait on it.
//!
//! The run keeps one [`State`] (the workers stop when it reaches
//! [`Level::Aborted`]; intake stops when it leaves [`Level::Open`]), and a
//! [`Control`](crate::Control) keeps another for the commands it was given,
//! which the run's own task follows.
//!
//! The level is read with one atomic load, so a worker that polls its job
//! many times pays one load per poll; a [`Watch`] registers its listener
//! again only when the state or the task's waker has changed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};

use event_listener::{Event, EventListener};
use futures_util::task::noop_waker_ref;

use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Mutex, lock};

/// How far a run (or a control's commands) has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// Items may enter.
    Open,
    /// Intake has stopped; what entered finishes.
    Closed,
    /// Everything stops: no job starts, jobs in flight are dropped.
    Aborted,
}

/// The word's bits: whether a close was ever raised (kept when an abort
/// follows, for [`State::was_closed`]), whether an abort was, and above them
/// a count of [`State::raise_and_touch`] calls.
const CLOSED: usize = 1;
const ABORTED: usize = 2;
const TOUCH: usize = 4;

/// A level that only rises, and wakes its watchers when it changes.
#[derive(Debug, Default)]
pub(crate) struct State {
    word: AtomicUsize,
    event: Event,
    /// Held while a change is stored, while watchers are notified, and
    /// while a [`Watch`] registers or lets go of its listener: a watch that
    /// has registered is notified of every later change, and of no earlier
    /// one (see [`Watch::poll`]).
    turn: Mutex<()>,
}

impl State {
    /// The current level.
    pub(crate) fn level(&self) -> Level {
        level(self.word.load(Ordering::SeqCst))
    }

    /// Whether the state has reached [`Level::Aborted`].
    #[inline]
    pub(crate) fn is_aborted(&self) -> bool {
        self.word.load(Ordering::SeqCst) & ABORTED != 0
    }

    /// Whether a close was raised (even if an abort followed).
    pub(crate) fn was_closed(&self) -> bool {
        self.word.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Raises the level to `to` (at least) and, if that changed it, wakes
    /// every watcher.
    pub(crate) fn raise(&self, to: Level) {
        let _turn = lock(&self.turn);
        if self.store(to) {
            self.event.notify(usize::MAX);
        }
    }

    /// Raises the level to [`Level::Aborted`] without waking anyone yet (for
    /// use under another lock); [`notify`](State::notify) must follow.
    /// Only for the last level: a watch that registers in between sees it,
    /// and has nothing further to miss.
    pub(crate) fn abort_quietly(&self) -> bool {
        let _turn = lock(&self.turn);
        self.store(Level::Aborted)
    }

    /// Wakes every watcher, after [`abort_quietly`](State::abort_quietly).
    pub(crate) fn notify(&self) {
        let _turn = lock(&self.turn);
        self.event.notify(usize::MAX);
    }

    /// Raises the level to `to` (at least) and, whether that changed it or
    /// not, wakes every watcher to look again (at a control's deadline, say).
    pub(crate) fn raise_and_touch(&self, to: Level) {
        let _turn = lock(&self.turn);
        self.store(to);
        self.word.fetch_add(TOUCH, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    fn store(&self, to: Level) -> bool {
        let bit = match to {
            Level::Open => return false,
            Level::Closed => CLOSED,
            Level::Aborted => ABORTED,
        };
        let before = self.word.fetch_or(bit, Ordering::SeqCst);
        level(before | bit) != level(before)
    }
}

#[inline]
fn level(word: usize) -> Level {
    if word & ABORTED != 0 {
        Level::Aborted
    } else if word & CLOSED != 0 {
        Level::Closed
    } else {
        Level::Open
    }
}

/// One task's watch over a [`State`].
#[derive(Debug)]
pub(crate) struct Watch<'a> {
    state: &'a State,
    /// Registered with `waker` when the word was `seen`.
    listener: Option<EventListener>,
    seen: usize,
    waker: Option<Waker>,
}

impl<'a> Watch<'a> {
    pub(crate) fn new(state: &'a State) -> Self {
        Watch {
            state,
            listener: None,
            seen: 0,
            waker: None,
        }
    }

    /// The current level; `cx` is woken at the next change.
    ///
    /// While the state and the waker are the ones it registered with, this
    /// is one load. Otherwise it listens afresh, under the state's turn: every
    /// change stored before it looked has notified before it listened (so the
    /// new listener is not spent by an old change), and every later one
    /// changes the word and notifies it.
    #[inline]
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Level {
        let word = self.state.word.load(Ordering::SeqCst);
        // Aborted is the last level: nothing further to wait for. (The waker
        // is set only along with the listener.)
        if word & ABORTED != 0
            || word == self.seen && self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()))
        {
            return level(word);
        }
        self.register(cx)
    }

    /// Listens afresh with `cx`; returns the level seen once listening.
    #[cold]
    fn register(&mut self, cx: &mut Context<'_>) -> Level {
        let _turn = lock(&self.state.turn);
        retire(self.listener.take());
        let mut listener = self.state.event.listen();
        let word = self.state.word.load(Ordering::SeqCst);
        // Registers `cx`; not ready, as nothing notifies during the turn.
        let _ = Pin::new(&mut listener).poll(cx);
        self.listener = Some(listener);
        self.seen = word;
        self.waker = Some(cx.waker().clone());
        level(word)
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if self.listener.is_some() {
            let _turn = lock(&self.state.turn);
            retire(self.listener.take());
        }
    }
}

/// Lets go of a listener (under the state's turn). A listener dropped with
/// a notification it has not taken passes it on to another listener, which
/// would then be spent without a change to show for it, and miss the next
/// one: the notification is taken first.
fn retire(listener: Option<EventListener>) {
    if let Some(mut listener) = listener {
        let _ = Pin::new(&mut listener).poll(&mut Context::from_waker(noop_waker_ref()));
    }
}
