//! What is running now: one slot per worker with the item it works on, read
//! by [`Control::in_flight`](crate::Control::in_flight) as a list of
//! [`Running`] jobs.
//!
//! A worker writes its slot twice per job, with plain stores; it reads the
//! clock only once somebody has asked, so a run whose control is never
//! asked pays two stores per item, and a run without a control nothing.

use std::time::{Duration, Instant};

use crate::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// A job in flight, from [`Control::in_flight`](crate::Control::in_flight).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Control, Pool};
///
/// let control = Control::new();
/// let watcher = control.clone();
/// let report = Pool::new(2)
///     .control(&control)
///     .run(futures::stream::iter(0..4u32), move |n| {
///         let watcher = watcher.clone();
///         async move {
///             // This very job is among the ones running.
///             let running = watcher.in_flight();
///             assert!(running.iter().any(|r| r.index == n as usize));
///             Ok::<_, String>(running.len())
///         }
///     })
///     .await
///     .unwrap();
/// assert_eq!(report.completed(), 4);
/// assert!(control.in_flight().is_empty()); // the run has ended
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Running {
    /// The item's index.
    pub index: usize,
    /// The worker running it.
    pub worker: usize,
    /// How long it has been running: since its job started, or, for a job
    /// that started before the control's first `in_flight` call, since that
    /// call (nobody had asked, so nobody read the clock).
    pub elapsed: Duration,
}

/// One worker's job: its index plus one (0: none), and when it started, in
/// nanoseconds since the epoch plus one (0: not timed).
#[derive(Default)]
pub(crate) struct Slot {
    job: AtomicUsize,
    started: AtomicU64,
}

/// The slots of one run's workers.
pub(crate) struct Slots {
    epoch: Instant,
    /// Somebody has asked: workers time their jobs from now on.
    watching: AtomicBool,
    slots: Box<[Slot]>,
}

impl Slot {
    /// The job in this slot has ended (or was dropped).
    #[inline]
    pub(crate) fn stop(&self) {
        self.job.store(0, Ordering::Release);
    }
}

impl Slots {
    /// Slots for `workers` workers, timing jobs from the start if
    /// `watching`.
    pub(crate) fn new(workers: usize, watching: bool) -> Self {
        Slots {
            epoch: Instant::now(),
            watching: AtomicBool::new(watching),
            slots: (0..workers).map(|_| Slot::default()).collect(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
    }

    /// Worker `worker`'s slot.
    pub(crate) fn slot(&self, worker: usize) -> &Slot {
        &self.slots[worker]
    }

    /// The job for item `index` starts in `slot`.
    #[inline]
    pub(crate) fn start(&self, slot: &Slot, index: usize) {
        // Until somebody asks, `started` stays 0 (not timed): no clock, no
        // store.
        if self.watching.load(Ordering::Relaxed) {
            // Release: a reader that sees this start also sees the end of
            // the previous job (see `snapshot`).
            slot.started.store(self.now(), Ordering::Release);
        }
        slot.job.store(index + 1, Ordering::Release);
    }

    /// The jobs running now, in index order. The first call starts the
    /// workers' clocks; jobs already running count from it.
    pub(crate) fn snapshot(&self) -> Vec<Running> {
        self.watching.store(true, Ordering::SeqCst);
        let mut running = Vec::new();
        for (worker, slot) in self.slots.iter().enumerate() {
            loop {
                let job = slot.job.load(Ordering::Acquire);
                if job == 0 {
                    break;
                }
                let mut started = slot.started.load(Ordering::Acquire);
                if started == 0 {
                    // Not timed yet: it runs since now, at the latest.
                    let now = self.now();
                    started = match slot.started.compare_exchange(
                        0,
                        now,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => now,
                        Err(other) => other,
                    };
                }
                // The same job still: `started` is its own (a later job's
                // start is stored after this job's end, which a changed
                // `job` would show).
                if slot.job.load(Ordering::Acquire) == job {
                    let elapsed = self.now().saturating_sub(started);
                    running.push(Running {
                        index: job - 1,
                        worker,
                        elapsed: Duration::from_nanos(elapsed),
                    });
                    break;
                }
            }
        }
        running.sort_unstable_by_key(|r| r.index);
        running
    }
}
