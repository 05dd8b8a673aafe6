//! Steering a run from outside: [`Control`] (close, abort, deadline) and
//! [`Progress`] snapshots.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;

use event_listener::{Event, EventListener};

use crate::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use crate::sync::{Mutex, lock};

/// A snapshot of a run's progress, from [`Control::progress`] or given to
/// [`Pool::on_progress`](crate::Pool::on_progress).
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

const OPEN: u8 = 0;
const CLOSED: u8 = 1;
const ABORTED: u8 = 2;

type Deadline = Pin<Box<dyn Future<Output = ()> + Send>>;

pub(crate) struct ControlState {
    state: AtomicU8,
    changed: Event,
    /// Set once a deadline is given, so a run without one takes no lock.
    has_deadline: AtomicBool,
    deadline: Mutex<Option<Deadline>>,
    pub(crate) counters: Arc<Counters>,
}

/// A handle that steers a run from outside: close its intake, abort it, or
/// both with a deadline, and read its progress.
///
/// Make one, give a clone to [`Pool::control`](crate::Pool::control), keep the
/// other. It works before the run starts (a run that starts closed ends at
/// once) and while it runs. A `Control` is meant for one run.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Control, Pool};
///
/// let control = Control::new();
/// let stop = control.clone();
/// let report = Pool::new(2)
///     .control(&control)
///     .run(futures::stream::iter(0..u64::MAX), move |n| {
///         if n == 100 {
///             stop.close(); // no more intake; what is queued still runs
///         }
///         async move { Ok::<u64, std::io::Error>(n) }
///     })
///     .await
///     .unwrap();
/// assert!(report.closed_early());
/// assert!(report.completed() >= 101);
/// assert_eq!(control.progress().completed, report.completed());
/// # });
/// ```
#[derive(Clone)]
pub struct Control {
    pub(crate) state: Arc<ControlState>,
}

impl Default for Control {
    fn default() -> Self {
        Control::new()
    }
}

impl Control {
    /// A new handle, open.
    pub fn new() -> Control {
        Control {
            state: Arc::new(ControlState {
                state: AtomicU8::new(OPEN),
                changed: Event::new(),
                has_deadline: AtomicBool::new(false),
                deadline: Mutex::new(None),
                counters: Arc::default(),
            }),
        }
    }

    /// Stops intake: senders get a [`SendError`](crate::SendError) that hands
    /// their item back, a stream source is no longer pulled, and queued and
    /// in-flight items finish. The run then ends with a report whose
    /// [`closed_early`](crate::Report::closed_early) is true.
    ///
    /// A producer should take a refused send as the end of its work: one
    /// that returns the [`SendError`](crate::SendError) as its own `Err`
    /// (with `?`, say) fails the run with
    /// [`Error::Source`](crate::Error::Source). Check
    /// `tx.send(item).await.is_err()`, or race upstream work against
    /// [`Sender::stopped`](crate::Sender::stopped), to stop quietly.
    pub fn close(&self) {
        self.raise(CLOSED);
    }

    /// Aborts the run as a failure would, with
    /// [`Error::Aborted`](crate::Error::Aborted) as its cause (unless an
    /// error came first): no new job starts, jobs in flight are dropped,
    /// queued items are handed back.
    pub fn abort(&self) {
        self.raise(ABORTED);
    }

    /// Closes now, and aborts when `deadline` completes if the run has not
    /// ended by then. The crate owns no timer: pass your runtime's, such as
    /// `smol::Timer::after(..)` or `tokio::time::sleep(..)`. The run polls
    /// `deadline`.
    pub fn close_with_deadline(&self, deadline: impl Future<Output = ()> + Send + 'static) {
        *lock(&self.state.deadline) = Some(Box::pin(deadline));
        self.state.has_deadline.store(true, Ordering::SeqCst);
        self.close();
    }

    /// Whether [`close`](Control::close) (or an abort) was called.
    pub fn is_closed(&self) -> bool {
        self.state.state.load(Ordering::SeqCst) >= CLOSED
    }

    /// Whether [`abort`](Control::abort) was called (or a deadline fired).
    pub fn is_aborted(&self) -> bool {
        self.state.state.load(Ordering::SeqCst) == ABORTED
    }

    /// A snapshot of the run's progress. Each counter is read on its own, so
    /// while the run goes on the snapshot is approximate; once it has ended,
    /// it is exact.
    pub fn progress(&self) -> Progress {
        self.state.counters.snapshot()
    }

    fn raise(&self, to: u8) {
        self.state.state.fetch_max(to, Ordering::SeqCst);
        self.state.changed.notify(usize::MAX);
    }
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Control")
            .field("is_closed", &self.is_closed())
            .field("is_aborted", &self.is_aborted())
            .field("progress", &self.progress())
            .finish()
    }
}

/// What the run has seen of its control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    Open,
    Close,
    Abort,
}

/// The run's watch over a [`Control`]: polled by the run on every wake-up.
///
/// Every poll registers the waker again on the same listener and takes a
/// spent one's notification as a sign to look again, and reads the state and
/// the deadline only once listening. (Skipping the listener when the waker
/// has not changed loses a wake-up: a `close` that changes nothing still
/// notifies, and the spent listener would then miss the `abort` that
/// follows.)
pub(crate) struct Watcher<'a> {
    control: &'a Control,
    listener: Option<EventListener>,
}

impl<'a> Watcher<'a> {
    pub(crate) fn new(control: &'a Control) -> Self {
        Watcher {
            control,
            listener: None,
        }
    }

    /// The current command; arranges for `cx` to be woken when it changes or
    /// when the deadline fires.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Command {
        let state = &self.control.state;
        loop {
            let listener = self.listener.get_or_insert_with(|| state.changed.listen());
            if Pin::new(listener).poll(cx).is_ready() {
                // Notified: listen afresh, then look.
                self.listener = None;
                continue;
            }
            // Listening from here on, with `cx`: a later command wakes it, and
            // what an earlier one stored (the deadline before its close) is
            // visible below. Reading the deadline before listening could miss
            // one set in between, and the run would wait forever.
            if state.has_deadline.load(Ordering::SeqCst) {
                let mut deadline = lock(&state.deadline);
                if deadline
                    .as_mut()
                    .is_some_and(|d| d.as_mut().poll(cx).is_ready())
                {
                    *deadline = None;
                    drop(deadline);
                    self.control.abort();
                }
            }
            return match state.state.load(Ordering::SeqCst) {
                OPEN => Command::Open,
                CLOSED => Command::Close,
                _ => Command::Abort,
            };
        }
    }
}
