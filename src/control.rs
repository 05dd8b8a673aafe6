//! Steering a run from outside: [`Control`] (close, abort, deadline, and
//! the run's [`Progress`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;

use crate::progress::{Counters, Progress};
use crate::running::{Running, Slots};
use crate::state::{Level, State};
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Mutex, lock};

type Deadline = Pin<Box<dyn Future<Output = ()> + Send>>;

pub(crate) struct ControlState {
    /// The commands given so far, as a level the run follows.
    pub(crate) commands: State,
    /// Set once a deadline is given, so a run without one takes no lock.
    has_deadline: AtomicBool,
    deadline: Mutex<Option<Deadline>>,
    pub(crate) counters: Arc<Counters>,
    /// A run has taken this control: no other may.
    taken: AtomicBool,
    /// What the run's workers are running.
    running: Mutex<Option<Arc<Slots>>>,
    /// `in_flight` was called: a run started later times its jobs at once.
    asked: AtomicBool,
}

/// A handle that steers a run from outside: close its intake, abort it, or
/// both with a deadline, and read its progress.
///
/// Make one, give a clone to [`Pool::control`](crate::Pool::control), keep the
/// other. It works before the run starts (a run that starts closed ends at
/// once) and while it runs.
///
/// A `Control` is for one run: its counters and its commands belong to that
/// run. A second run set up with it (a cloned pool run again, say) panics
/// when its run method is called, instead of adding to the first run's
/// progress or starting closed; make a new `Control` for each run.
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
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Pool};
    ///
    /// let control = Control::new();
    /// assert!(!control.is_closed() && !control.is_aborted());
    /// let report = Pool::new(2)
    ///     .control(&control)
    ///     .run(futures::stream::iter(0..5u32), |n| async move { Ok::<_, std::io::Error>(n) })
    ///     .await
    ///     .unwrap();
    /// assert!(!report.closed_early());
    /// assert_eq!(control.progress().completed, 5);
    /// # });
    /// ```
    pub fn new() -> Control {
        Control {
            state: Arc::new(ControlState {
                commands: State::default(),
                has_deadline: AtomicBool::new(false),
                deadline: Mutex::new(None),
                counters: Arc::default(),
                taken: AtomicBool::new(false),
                running: Mutex::new(None),
                asked: AtomicBool::new(false),
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
    /// [`Sender::closed`](crate::Sender::closed), to stop quietly.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Pool};
    ///
    /// let control = Control::new();
    /// control.close(); // before the run: it starts closed and ends at once
    /// let report = Pool::new(2)
    ///     .control(&control)
    ///     .run(futures::stream::iter(0..10u32), |n| async move { Ok::<_, std::io::Error>(n) })
    ///     .await
    ///     .unwrap();
    /// assert!(report.closed_early());
    /// assert_eq!(report.entered(), 0);
    /// assert!(control.is_closed());
    /// # });
    /// ```
    pub fn close(&self) {
        self.state.commands.raise_and_touch(Level::Closed);
    }

    /// Aborts the run as a failure would, with
    /// [`Error::Aborted`](crate::Error::Aborted) as its cause (unless an
    /// error came first): no new job starts, jobs in flight are dropped,
    /// queued items are handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Error, Pool};
    ///
    /// let control = Control::new();
    /// let stop = control.clone();
    /// let abort = Pool::new(1)
    ///     .control(&control)
    ///     .run(futures::stream::iter(0..100u32), move |n| {
    ///         if n == 3 {
    ///             stop.abort();
    ///         }
    ///         async move { Ok::<_, std::io::Error>(n) }
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(abort.error(), Error::Aborted { .. }));
    /// assert!(abort.entered() < 100);
    /// assert!(control.is_aborted());
    /// # });
    /// ```
    pub fn abort(&self) {
        self.state.commands.raise_and_touch(Level::Aborted);
    }

    /// Closes now, and aborts when `deadline` completes if the run has not
    /// ended by then. The crate owns no timer: pass your runtime's, such as
    /// `smol::Timer::after(..)` or `tokio::time::sleep(..)`. The run polls
    /// `deadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Error, Pool};
    ///
    /// // A deadline that never fires: the run just closes.
    /// let control = Control::new();
    /// control.close_with_deadline(futures::future::pending());
    /// let source = futures::stream::iter(0..10u32);
    /// let report = Pool::new(2).control(&control).run(source, |n| async move { Ok::<_, String>(n) });
    /// assert!(report.await.unwrap().closed_early());
    /// assert!(!control.is_aborted());
    ///
    /// // A deadline that has already passed: the run aborts.
    /// let control = Control::new();
    /// control.close_with_deadline(futures::future::ready(()));
    /// let source = futures::stream::iter(0..10u32);
    /// let abort = Pool::new(2).control(&control).run(source, |n| async move { Ok::<_, String>(n) });
    /// assert!(matches!(abort.await.unwrap_err().error(), Error::Aborted { .. }));
    /// assert!(control.is_aborted());
    /// # });
    /// ```
    pub fn close_with_deadline(&self, deadline: impl Future<Output = ()> + Send + 'static) {
        *lock(&self.state.deadline) = Some(Box::pin(deadline));
        self.state.has_deadline.store(true, Ordering::SeqCst);
        // Closed already or not, the run looks at the new deadline.
        self.state.commands.raise_and_touch(Level::Closed);
    }

    /// Whether [`close`](Control::close) (or an abort) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Control;
    ///
    /// let control = Control::new();
    /// assert!(!control.is_closed());
    /// control.close();
    /// assert!(control.is_closed());
    ///
    /// let aborted = Control::new();
    /// aborted.abort(); // an abort closes too
    /// assert!(aborted.is_closed());
    /// # });
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.commands.level() >= Level::Closed
    }

    /// Whether [`abort`](Control::abort) was called (or a deadline fired).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Control;
    ///
    /// let control = Control::new();
    /// control.close(); // closing is not aborting
    /// assert!(!control.is_aborted());
    /// control.abort();
    /// assert!(control.is_aborted());
    /// # });
    /// ```
    pub fn is_aborted(&self) -> bool {
        self.state.commands.is_aborted()
    }

    /// A snapshot of the run's progress. Each counter is read on its own, so
    /// while the run goes on the snapshot is approximate; once it has ended,
    /// it is exact.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Control, Policy, Pool};
    ///
    /// let control = Control::new();
    /// let result = Pool::new(3)
    ///     .control(&control)
    ///     .policy(Policy::Continue)
    ///     .run(futures::stream::iter(0..10u32), |n| async move {
    ///         if n % 2 == 0 { Err("even") } else { Ok(n) }
    ///     })
    ///     .await;
    /// assert!(result.is_err());
    /// let progress = control.progress();
    /// assert_eq!((progress.entered, progress.completed, progress.failed), (10, 5, 5));
    /// assert_eq!((progress.cancelled, progress.unprocessed), (0, 0));
    /// # });
    /// ```
    pub fn progress(&self) -> Progress {
        self.state.counters.snapshot()
    }

    /// The jobs running now, in index order: each item's index, its worker,
    /// and how long it has been running. Empty before the run starts and
    /// once it has ended.
    ///
    /// For a watchdog: list what is stuck, and [`abort`](Control::abort)
    /// (or log) as you see fit. Until it is first called, the run keeps only
    /// each worker's current index (two plain stores per job); from then on
    /// each job also reads the clock when it starts. So a
    /// job that was already running at the first call counts from that
    /// call; call it once before the run starts to time every job exactly.
    /// The list is a snapshot taken worker by worker: a job that
    /// ends while it is taken may be missing or still listed.
    ///
    /// # Examples
    ///
    /// A watchdog that aborts the run when a job has run for too long:
    ///
    /// ```
    /// use std::time::Duration;
    /// use failfast::{Control, Error, Pool};
    ///
    /// let control = Control::new();
    /// let watchdog = {
    ///     let control = control.clone();
    ///     std::thread::spawn(move || loop {
    ///         let running = control.in_flight();
    ///         if let Some(stuck) = running.iter().find(|r| r.elapsed > Duration::from_millis(50)) {
    ///             control.abort();
    ///             return stuck.index;
    ///         }
    ///         std::thread::sleep(Duration::from_millis(5));
    ///     })
    /// };
    /// let abort = futures::executor::block_on(Pool::new(2).control(&control).run(
    ///     futures::stream::iter(0..10u32),
    ///     |n| async move {
    ///         if n == 3 {
    ///             futures::future::pending::<()>().await; // stuck
    ///         }
    ///         Ok::<_, String>(n)
    ///     },
    /// ))
    /// .unwrap_err();
    /// assert_eq!(watchdog.join().unwrap(), 3);
    /// assert!(matches!(abort.error(), Error::Aborted { .. }));
    /// assert_eq!(abort.cancelled(), &[3]);
    /// ```
    pub fn in_flight(&self) -> Vec<Running> {
        let slots = {
            let running = lock(&self.state.running);
            self.state.asked.store(true, Ordering::SeqCst);
            running.clone()
        };
        slots.map_or_else(Vec::new, |slots| slots.snapshot())
    }

    /// Takes this control for a run.
    ///
    /// # Panics
    ///
    /// Panics if a run has taken it already.
    /// The slots in which the run this control steers shows its `workers`'
    /// jobs.
    pub(crate) fn watch_run(&self, workers: usize) -> Arc<Slots> {
        let mut running = lock(&self.state.running);
        let slots = Arc::new(Slots::new(workers, self.state.asked.load(Ordering::SeqCst)));
        *running = Some(Arc::clone(&slots));
        slots
    }

    pub(crate) fn take_for_run(&self) {
        assert!(
            !self.state.taken.swap(true, Ordering::SeqCst),
            "failfast: this Control already steers another run; a Control is for one run, make a new one for each"
        );
    }

    /// Polls the deadline, if one was given and has not fired; when it
    /// fires, aborts and returns `true`. The run calls it while watching the
    /// commands, so a deadline set later wakes it (see
    /// [`close_with_deadline`](Control::close_with_deadline)).
    pub(crate) fn poll_deadline(&self, cx: &mut Context<'_>) -> bool {
        if !self.state.has_deadline.load(Ordering::SeqCst) {
            return false;
        }
        let mut deadline = lock(&self.state.deadline);
        let fired = deadline
            .as_mut()
            .is_some_and(|d| d.as_mut().poll(cx).is_ready());
        if fired {
            *deadline = None;
            drop(deadline);
            self.abort();
        }
        fired
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
