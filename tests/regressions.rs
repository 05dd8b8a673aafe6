//! One test (or a few) per defect found by trying the crate as an outside
//! reviewer would: sequences of control commands, senders on several OS
//! threads, slow sources and destructors, executors that run tasks inside
//! `spawn` or panic there, a panicking progress callback, and dropped runs.
//! Each test failed before its fix.

#![cfg(all(feature = "smol", feature = "tokio"))]

mod common;

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::{DropCounter, Gauge, PLANNED, check_accounting};
use failfast::{Control, Error, Pool, Progress, SendError, Task};

/// A smol executor served by two threads, for the whole test binary.
static SMOL: LazyLock<Arc<smol::Executor<'static>>> = LazyLock::new(|| common::smol_executor(2));

/// A multi-thread tokio runtime, for the whole test binary.
static TOKIO: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| common::tokio_multi_thread(2));

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs `f` on a thread of its own and waits for it under a watchdog: a run
/// that blocks its thread (inside `Executor::spawn`, say) fails the test
/// instead of hanging it.
fn on_own_thread<O: Send + 'static>(what: &str, f: impl FnOnce() -> O + Send + 'static) -> O {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(common::WATCHDOG) {
        Ok(Ok(output)) => output,
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => panic!("watchdog: {what} hung"),
    }
}

// A lost abort: a control command that changed nothing consumed the run's
// wake-up, and the abort that followed was never seen.

/// A control command.
type Command = fn(&Control);

/// The command sequences that used to lose the final abort.
fn sequences() -> Vec<(&'static str, Vec<Command>)> {
    let close: Command = Control::close;
    let deadline: Command = |c| c.close_with_deadline(futures::future::pending());
    vec![
        ("close, close", vec![close, close]),
        ("close, close_with_deadline", vec![close, deadline]),
        ("close_with_deadline, close", vec![deadline, close]),
        ("close, close, close", vec![close, close, close]),
    ]
}

/// Polls `run` by hand with a counting waker: after every command the run
/// must have been woken, and after the final abort it must end with
/// `Error::Aborted` when polled.
fn abort_after<F>(mode: &str, make: impl Fn(&Control) -> F, finish: impl Fn(F))
where
    F: Future + Unpin,
{
    for (name, commands) in sequences() {
        let control = Control::new();
        let mut run = make(&control);
        let waker = Arc::new(CountingWaker::default());
        let as_waker = Waker::from(Arc::clone(&waker));
        let mut cx = Context::from_waker(&as_waker);
        assert!(Pin::new(&mut run).poll(&mut cx).is_pending());
        for command in commands {
            let before = waker.wakes();
            command(&control);
            assert!(
                waker.wakes() > before,
                "{mode}, {name}: a command did not wake the run"
            );
            assert!(
                Pin::new(&mut run).poll(&mut cx).is_pending(),
                "{mode}, {name}"
            );
        }
        let before = waker.wakes();
        control.abort();
        assert!(
            waker.wakes() > before,
            "{mode}, {name}, abort: the abort did not wake the run (a lost wake-up: the run hangs)"
        );
        finish(run);
    }
}

#[test]
fn an_abort_after_repeated_closes_wakes_the_run_inline() {
    abort_after(
        "inline",
        |control| {
            Box::pin(
                Pool::new(2)
                    .control(control)
                    .run(futures::stream::iter(0..10u32), |_| {
                        futures::future::pending::<Result<(), String>>()
                    }),
            )
        },
        |mut run| {
            // Woken by the abort: the next poll ends the run.
            let waker = Waker::from(Arc::new(CountingWaker::default()));
            match run.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(Err(abort)) => {
                    assert!(matches!(abort.error(), Error::Aborted { .. }));
                    check_accounting(&abort);
                }
                Poll::Ready(Ok(report)) => panic!("the run ended without the abort: {report:?}"),
                Poll::Pending => panic!("the run did not end on the poll after the abort"),
            }
        },
    );
}

#[test]
fn an_abort_after_repeated_closes_ends_a_spawned_run() {
    abort_after(
        "spawned",
        |control| {
            Box::pin(
                Pool::new(2)
                    .control(control)
                    .spawn_on(Arc::clone(&SMOL))
                    .run(futures::stream::iter(0..10u32), |_| {
                        futures::future::pending::<Result<(), String>>()
                    }),
            )
        },
        |run| {
            let abort = smol::block_on(common::watchdog("smol", run)).unwrap_err();
            assert!(matches!(abort.error(), Error::Aborted { .. }));
            check_accounting(&abort);
        },
    );
}

/// Found by the model-based suite: an abort given while the run's last jobs
/// finish (here by the handler of the last item) was read before they
/// finished, and the run returned `Ok`.
#[test]
fn an_abort_from_the_last_handler_is_obeyed() {
    for spawned in [false, true] {
        let control = Control::new();
        let stop = control.clone();
        let pool = Pool::new(1).queue(2).control(&control);
        let source = futures::stream::iter(0..3u32);
        let handler = move |n: u32| {
            if n == 2 {
                stop.abort();
            }
            async move { Ok::<u32, String>(n) }
        };
        let result = smol::block_on(common::watchdog("smol", async {
            if spawned {
                pool.spawn_on(Arc::clone(&SMOL)).run(source, handler).await
            } else {
                pool.run(source, handler).await
            }
        }));
        let abort = match result {
            Err(abort) => abort,
            Ok(report) => panic!("spawned = {spawned}: the abort was lost: {report:?}"),
        };
        assert!(
            matches!(abort.error(), Error::Aborted { .. }),
            "{:?}",
            abort.error()
        );
        check_accounting(&abort);
    }
}

// An index at or past `entered()`: senders on other threads moved the index
// on only after their item was in the queue.

#[test]
fn no_index_at_or_past_entered_with_senders_on_several_threads() {
    const RUNS: usize = 1500;
    for run in 0..RUNS {
        let senders = Arc::new(Mutex::new(Vec::new()));
        let abort = smol::block_on(common::watchdog("smol", {
            let senders = Arc::clone(&senders);
            Pool::new(2).queue(2).spawn_on(Arc::clone(&SMOL)).run_with(
                move |tx| async move {
                    for thread in 0..3usize {
                        let tx = tx.clone();
                        senders.lock().unwrap().push(std::thread::spawn(move || {
                            for n in 0..4 {
                                if futures::executor::block_on(tx.send(thread * 4 + n)).is_err() {
                                    break;
                                }
                            }
                        }));
                    }
                    Ok::<(), SendError<usize>>(())
                },
                // Every item fails: the first one received aborts the run.
                |n: usize| async move { Err::<(), String>(format!("item {n} fails")) },
            )
        }))
        .unwrap_err();
        let entered = abort.entered();
        if let Some(index) = abort.error().index() {
            assert!(
                index < entered,
                "run {run}: cause at {index}, entered() = {entered}"
            );
        }
        assert!(abort.report().completed() <= entered);
        check_accounting(&abort);
        for sender in senders.lock().unwrap().drain(..) {
            sender.join().unwrap();
        }
    }
}

// An item lost after a close: the stream feeder, waiting inside a slow
// `source.next()` when the close came, took the next item, could not queue
// it, and dropped it with the `Ok` report; progress disagreed with the books.

/// A source whose item `slow_at` is late: the source returns `Pending`
/// there until `release` is set, and says when it waits.
fn slow_source(
    n: u32,
    slow_at: u32,
    waiting: Arc<AtomicBool>,
    release: Arc<AtomicBool>,
) -> impl futures::Stream<Item = u32> {
    let mut next = 0;
    futures::stream::poll_fn(move |cx| {
        if next == n {
            return Poll::Ready(None);
        }
        if next == slow_at && !release.load(Ordering::SeqCst) {
            waiting.store(true, Ordering::SeqCst);
            // Polled again by the test's loop below, which wakes the run.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        next += 1;
        Poll::Ready(Some(next - 1))
    })
}

#[test]
fn a_close_during_a_slow_source_loses_no_item() {
    for spawned in [false, true] {
        let control = Control::new();
        let (waiting, release) = (Arc::new(AtomicBool::new(false)), Arc::default());
        let source = slow_source(10, 3, Arc::clone(&waiting), Arc::clone(&release));
        let handler = |n: u32| async move { Ok::<u32, String>(n) };
        let pool = Pool::new(2).control(&control);
        let steer = {
            let control = control.clone();
            async move {
                // Close while the feeder waits for item 3, then let it come.
                while !waiting.load(Ordering::SeqCst) {
                    smol::future::yield_now().await;
                }
                control.close();
                smol::future::yield_now().await;
                release.store(true, Ordering::SeqCst);
            }
        };
        let report = smol::block_on(common::watchdog("smol", async {
            if spawned {
                let run = pool.spawn_on(Arc::clone(&SMOL)).run(source, handler);
                futures::join!(run, steer).0
            } else {
                futures::join!(pool.run(source, handler), steer).0
            }
        }))
        .unwrap();
        assert!(report.closed_early());
        assert_eq!(
            report.entered(),
            report.completed() + report.unprocessed().len(),
            "spawned = {spawned}: an item that entered is neither completed nor handed back"
        );
        assert_eq!(report.entered(), report.completed(), "spawned = {spawned}");
        assert_eq!(
            report.entered(),
            3,
            "the source was not pulled after the close"
        );
        assert_progress_is_the_books(
            &control.progress(),
            report.entered(),
            report.completed(),
            0,
            0,
            0,
        );
    }
}

/// Checks that a finished run's progress equals its books.
fn assert_progress_is_the_books(
    progress: &Progress,
    entered: usize,
    completed: usize,
    failed: usize,
    cancelled: usize,
    unprocessed: usize,
) {
    assert_eq!(progress.entered, entered, "progress.entered: {progress:?}");
    assert_eq!(
        progress.completed, completed,
        "progress.completed: {progress:?}"
    );
    assert_eq!(progress.failed, failed, "progress.failed: {progress:?}");
    assert_eq!(
        progress.cancelled, cancelled,
        "progress.cancelled: {progress:?}"
    );
    assert_eq!(
        progress.unprocessed, unprocessed,
        "progress.unprocessed: {progress:?}"
    );
    assert_eq!(
        (progress.queued, progress.in_flight),
        (0, 0),
        "{progress:?}"
    );
}

fn assert_progress_is_the_abort<T, R, E, SE>(
    progress: &Progress,
    abort: &failfast::Abort<T, R, E, SE>,
) {
    let failed = std::iter::once(abort.error())
        .chain(abort.other_errors())
        .filter(|e| e.index().is_some())
        .count();
    assert_progress_is_the_books(
        progress,
        abort.entered(),
        abort.report().completed(),
        failed,
        abort.cancelled().len(),
        abort.unprocessed().len(),
    );
}

#[test]
fn progress_counts_items_handed_back_from_the_queue() {
    for spawned in [false, true] {
        let control = Control::new();
        let pool = Pool::new(1).queue(4).control(&control);
        let source = futures::stream::iter(0..10u32);
        let watch = control.clone();
        let handler = move |n: u32| {
            let watch = watch.clone();
            async move {
                // Item 0 fails once three items wait behind it. (Spawned, a
                // full queue is refilled once it has drained to half: the
                // one worker, busy with item 0, leaves 3 or 4 queued.)
                while n == 0 && watch.progress().queued < 3 {
                    common::yield_times(1).await;
                }
                if n == 0 { Err("item 0 fails") } else { Ok(n) }
            }
        };
        let abort = smol::block_on(common::watchdog("smol", async {
            if spawned {
                pool.spawn_on(Arc::clone(&SMOL)).run(source, handler).await
            } else {
                pool.run(source, handler).await
            }
        }))
        .unwrap_err();
        check_accounting(&abort);
        assert!(
            !abort.unprocessed().is_empty(),
            "items were queued behind item 0"
        );
        assert_progress_is_the_abort(&control.progress(), &abort);
    }
}

// Late starts: the abort was decided only after the failing job's future
// was dropped, so a slow destructor let the other workers start job after
// job.

/// Sleeps in its destructor, as a slow user destructor would.
struct SlowDrop(Arc<AtomicBool>);

impl Drop for SlowDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A job future that keeps `guard` until it is dropped (not merely until it
/// completes, as an `async` block's locals are), as a hand-written future or
/// a combinator holding resources does.
struct Holding<O> {
    job: Pin<Box<dyn Future<Output = O> + Send>>,
    _guard: Option<SlowDrop>,
}

impl<O> Future for Holding<O> {
    type Output = O;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O> {
        self.job.as_mut().poll(cx)
    }
}

#[test]
fn a_slow_destructor_of_the_failing_job_delays_no_decision() {
    const WORKERS: usize = 4;
    let dropping = Arc::new(AtomicBool::new(false));
    let late = Arc::new(AtomicUsize::new(0));
    let abort = TOKIO
        .block_on(common::watchdog("tokio", {
            let (dropping, late) = (Arc::clone(&dropping), Arc::clone(&late));
            Pool::new(WORKERS)
                .queue(8)
                .spawn_on(TOKIO.handle().clone())
                .run(futures::stream::iter(0..1_000_000usize), move |n| {
                    if dropping.load(Ordering::SeqCst) {
                        // Called after the failing job's destructor began.
                        late.fetch_add(1, Ordering::SeqCst);
                    }
                    Holding {
                        job: Box::pin(async move {
                            tokio::task::yield_now().await;
                            if n == 100 {
                                Err("item 100 fails")
                            } else {
                                Ok(())
                            }
                        }),
                        _guard: (n == 100).then(|| SlowDrop(Arc::clone(&dropping))),
                    }
                })
        }))
        .unwrap_err();
    assert_eq!(abort.error().index(), Some(100));
    check_accounting(&abort);
    let late = late.load(Ordering::SeqCst);
    // Decided before the destructor ran: only a worker that had already
    // taken its item may still call the handler.
    assert!(
        late < WORKERS,
        "{late} handler calls began during the failing job's destructor"
    );
}

#[test]
fn no_handler_call_for_an_item_taken_after_the_decision() {
    const WORKERS: usize = 4;
    for _ in 0..20 {
        let seen_closed = Arc::new(AtomicUsize::new(0));
        let keep = Arc::new(Mutex::new(None));
        let abort = TOKIO
            .block_on(common::watchdog("tokio", {
                let (seen_closed, keep) = (Arc::clone(&seen_closed), Arc::clone(&keep));
                let watch = Arc::clone(&keep);
                Pool::new(WORKERS)
                    .queue(8)
                    .spawn_on(TOKIO.handle().clone())
                    .run_with(
                        move |tx| async move {
                            *keep.lock().unwrap() = Some(tx.clone());
                            for n in 0..100_000usize {
                                if tx.send(n).await.is_err() {
                                    break;
                                }
                            }
                            Ok::<(), SendError<usize>>(())
                        },
                        move |n| {
                            // The queue closes right after the decision: a
                            // call that sees it closed began after it.
                            let closed = watch
                                .lock()
                                .unwrap()
                                .as_ref()
                                .is_some_and(|tx: &failfast::Sender<usize>| tx.is_closed());
                            if closed {
                                seen_closed.fetch_add(1, Ordering::SeqCst);
                            }
                            async move {
                                tokio::task::yield_now().await;
                                if n == 500 {
                                    Err("item 500 fails")
                                } else {
                                    Ok(())
                                }
                            }
                        },
                    )
            }))
            .unwrap_err();
        drop(keep.lock().unwrap().take());
        assert_eq!(abort.error().index(), Some(500));
        check_accounting(&abort);
        let seen = seen_closed.load(Ordering::SeqCst);
        assert!(
            seen < WORKERS,
            "{seen} handler calls began after the decision"
        );
    }
}

// Executors that run the task inside `spawn`, or panic there.

#[test]
fn an_executor_that_runs_tasks_inside_spawn_ends_the_run_with_an_error() {
    let abort = on_own_thread("a run on a synchronous executor", || {
        smol::block_on(
            Pool::new(3)
                .spawn_on(|task: Task| futures::executor::block_on(task))
                .run(futures::stream::iter(0..10u32), |n| async move {
                    Ok::<u32, String>(n)
                }),
        )
    })
    .unwrap_err();
    assert!(
        matches!(abort.error(), Error::SpawnedInline { worker: 0 }),
        "{:?}",
        abort.error()
    );
    assert!(
        abort
            .error()
            .to_string()
            .contains("inside `Executor::spawn`")
    );
    check_accounting(&abort);
}

#[test]
fn a_panic_in_spawn_is_an_error_and_stops_the_spawned_workers() {
    common::quiet_planned_panics();
    let jobs = DropCounter::new();
    let started = Arc::new(AtomicUsize::new(0));
    let spawns = Arc::new(AtomicUsize::new(0));
    let result = on_own_thread("a run whose executor panics in spawn", {
        let (jobs, started, spawns) = (jobs.clone(), Arc::clone(&started), Arc::clone(&spawns));
        let check = jobs.clone();
        move || {
            let result = smol::block_on(common::watchdog(
                "smol",
                Pool::new(3)
                    .spawn_on(move |task: Task| {
                        if spawns.fetch_add(1, Ordering::SeqCst) == 2 {
                            panic!("{PLANNED}: the executor refuses a task");
                        }
                        SMOL.spawn(task).detach();
                    })
                    .run(futures::stream::iter(0..10u32), move |_| {
                        started.fetch_add(1, Ordering::SeqCst);
                        let guard = jobs.guard();
                        async move {
                            let _guard = guard;
                            futures::future::pending::<Result<(), String>>().await
                        }
                    }),
            ));
            // When the run returns, no job of the workers spawned before the
            // panic is alive.
            (result, check.dropped())
        }
    });
    let (result, dropped_at_return) = result;
    let abort = result.unwrap_err();
    match abort.error() {
        Error::SpawnPanicked {
            worker, message, ..
        } => {
            assert_eq!(*worker, 2);
            assert_eq!(message, &format!("{PLANNED}: the executor refuses a task"));
        }
        other => panic!("expected SpawnPanicked, got {other:?}"),
    }
    check_accounting(&abort);
    assert_eq!(dropped_at_return, started.load(Ordering::SeqCst));
}

// A panicking progress callback left the books unbalanced.

#[test]
fn a_panicking_progress_callback_leaves_the_books_balanced() {
    common::quiet_planned_panics();
    for spawned in [false, true] {
        let calls = Arc::new(AtomicUsize::new(0));
        let control = Control::new();
        let pool = Pool::new(2).control(&control).on_progress({
            let calls = Arc::clone(&calls);
            move |_| {
                if calls.fetch_add(1, Ordering::SeqCst) == 2 {
                    panic!("{PLANNED}: the progress callback");
                }
            }
        });
        let source = futures::stream::iter(0..50u32);
        let handler = |n: u32| async move {
            common::yield_times(n as usize % 2).await;
            Ok::<u32, String>(n)
        };
        let abort = smol::block_on(common::watchdog("smol", async {
            if spawned {
                pool.spawn_on(Arc::clone(&SMOL)).run(source, handler).await
            } else {
                pool.run(source, handler).await
            }
        }))
        .unwrap_err();
        match abort.error() {
            Error::ProgressPanicked { message, .. } => {
                assert_eq!(message, &format!("{PLANNED}: the progress callback"));
            }
            other => panic!("spawned = {spawned}: expected ProgressPanicked, got {other:?}"),
        }
        // The item the callback was called for counts as completed.
        assert!(abort.report().completed() >= 3, "spawned = {spawned}");
        check_accounting(&abort);
        assert_progress_is_the_abort(&control.progress(), &abort);
    }
}

// Dropping a spawned run: when the run returns, none of its workers runs;
// when it is dropped, each takes no further item and drops its job as soon
// as the poll it is in returns.

#[test]
fn a_dropped_spawned_run_stops_every_worker_even_one_blocking_its_thread() {
    const WORKERS: usize = 3;
    let jobs = DropCounter::new();
    let started = Gauge::new();
    let blocking = Gauge::new();
    let run = {
        let (jobs, started, blocking) = (jobs.clone(), Arc::clone(&started), Arc::clone(&blocking));
        Pool::new(WORKERS).queue(4).spawn_on(Arc::clone(&SMOL)).run(
            futures::stream::iter(0..1000usize),
            move |n| {
                started.add();
                let guard = jobs.guard();
                let blocking = Arc::clone(&blocking);
                async move {
                    let _guard = guard;
                    if n == 0 {
                        // Blocks its thread, in the middle of a poll.
                        blocking.add();
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    futures::future::pending::<Result<(), String>>().await
                }
            },
        )
    };
    smol::block_on(common::watchdog("smol", async {
        let run = pin!(run);
        let ready = pin!(async {
            blocking.until(1).await;
            started.until(WORKERS).await;
        });
        futures::future::select(run, ready).await;
    }));
    // Dropped while job 0 blocks its worker's thread in a poll.
    let started_at_drop = started.get();
    smol::block_on(common::watchdog(
        "smol",
        jobs.until(|dropped| dropped >= started.get()),
    ));
    let after = started.get() - started_at_drop;
    assert!(
        after <= WORKERS,
        "{after} handler calls began after the drop"
    );
    assert_eq!(jobs.dropped(), started.get());
}

#[test]
fn when_a_spawned_run_returns_no_job_is_alive() {
    for _ in 0..20 {
        let jobs = DropCounter::new();
        let started = Arc::new(AtomicUsize::new(0));
        let (result, dropped) = smol::block_on(common::watchdog("smol", {
            let (jobs, started) = (jobs.clone(), Arc::clone(&started));
            let check = jobs.clone();
            async move {
                let result = Pool::new(4)
                    .queue(4)
                    .spawn_on(Arc::clone(&SMOL))
                    .run(futures::stream::iter(0..1000usize), move |n| {
                        started.fetch_add(1, Ordering::SeqCst);
                        let guard = jobs.guard();
                        async move {
                            let _guard = guard;
                            if n == 3 {
                                common::yield_times(2).await;
                                return Err("item 3 fails");
                            }
                            futures::future::pending::<Result<(), &str>>().await
                        }
                    })
                    .await;
                (result, check.dropped())
            }
        }));
        let abort = result.unwrap_err();
        check_accounting(&abort);
        assert_eq!(
            dropped,
            started.load(Ordering::SeqCst),
            "a job was alive when the run returned"
        );
    }
}
