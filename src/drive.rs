//! The run's own task: the feeder that pulls a stream into the queue, and
//! the driver that polls the producer together with the workers, obeys the
//! control, and settles the books.
//!
//! The same code serves every mode: the workers are futures in a
//! `FuturesUnordered`, whether they are the worker loops themselves (inline)
//! or handles of tasks that run them elsewhere.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

use crate::abort::Abort;
use crate::books::Shared;
use crate::error::Error;
use crate::panic::catch;
use crate::queue::Queue;
use crate::report::Report;
use crate::send_error::TrySendError;
use crate::sender::Sender;
use crate::state::{Level, State, Watch};
use crate::worker::WorkerExit;

/// Feeds a stream into the queue. It waits for room before pulling the next
/// item, so the pool never holds more than the queue plus the items in flight.
/// Once intake has stopped, a source waiting for its next item is not polled
/// again: nothing was taken from it, so nothing is lost. (Intake is closed by
/// the run's own task, which polls this feeder: a close never lands between a
/// pulled item and its send.)
///
/// `in_run` says the workers run in the run's own task (inline): room can
/// then only be freed while the run polls them, and the run polls the feeder
/// again when it was, so the feeder waits without an event.
pub(crate) async fn feed<T, SE, S>(source: S, tx: Sender<T>, in_run: bool) -> Result<(), SE>
where
    S: Stream<Item = Result<T, SE>>,
{
    let source = pin!(source);
    // The feeder's sender is the queue's only one.
    let tx = tx.into_sole();
    match in_run {
        true => feed_in_run(source, &tx).await,
        false => feed_beside(source, &tx).await,
    }
}

/// [`feed`] for a run whose workers run in its own task: one poll fills the
/// queue (room, an item, its send, again), in a loop that waits nowhere but
/// for room or for the source, so an item is never held across a wait.
async fn feed_in_run<T, SE, S>(mut source: Pin<&mut S>, tx: &Sender<T>) -> Result<(), SE>
where
    S: Stream<Item = Result<T, SE>>,
{
    poll_fn(|cx| {
        loop {
            if tx.is_closed() {
                return Poll::Ready(Ok(()));
            }
            if tx.is_full() {
                tx.park();
                return Poll::Pending;
            }
            let item = match source.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(error)),
                Poll::Ready(Some(Ok(item))) => item,
            };
            match tx.try_send_in_run(item) {
                Ok(()) => {}
                Err(TrySendError::Closed(item)) => {
                    // Aborted meanwhile (by a handler the source called into,
                    // say): the item entered, and goes back with the abort.
                    tx.hand_back_late(item);
                    return Poll::Ready(Ok(()));
                }
                Err(TrySendError::Full(_)) => {
                    unreachable!("only the feeder fills the queue, and it had room")
                }
            }
        }
    })
    .await
}

/// [`feed`] for a run whose workers run elsewhere (spawned): it waits for
/// room on the queue's event for the feeder. Workers on other threads may
/// free places as fast as it fills them, so after a queue's worth of items
/// within one poll it lets the run's task go round once: a close (which the
/// run's task carries out between two polls) is obeyed within that many
/// items, and the thread is not held by one poll.
async fn feed_beside<T, SE, S>(mut source: Pin<&mut S>, tx: &Sender<T>) -> Result<(), SE>
where
    S: Stream<Item = Result<T, SE>>,
{
    let budget = tx.capacity();
    let mut sent = 0;
    loop {
        // Whether waiting for room suspended this future: a new poll, so
        // the count of items sent within one starts again.
        let mut room = pin!(tx.room());
        let mut suspended = false;
        let open = poll_fn(|cx| {
            let poll = room.as_mut().poll(cx);
            suspended |= poll.is_pending();
            poll
        })
        .await;
        if !open {
            break;
        }
        if suspended {
            sent = 0;
        }
        if sent == budget {
            sent = 0;
            yield_once().await;
            continue;
        }
        sent += 1;
        let next = poll_fn(|cx| match tx.is_closed() {
            true => Poll::Ready(None),
            false => source.as_mut().poll_next(cx),
        });
        match next.await {
            None => break,
            Some(Err(error)) => return Err(error),
            Some(Ok(item)) => {
                if let Err(refused) = tx.send(item).await {
                    // Aborted by a worker on another thread since: the item
                    // entered, and goes back with the abort.
                    tx.hand_back_late(refused.into_inner());
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Returns `Pending` once, asking to be polled again at once.
async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// Polls the producer together with the workers until both are done, then
/// settles the books.
///
/// The producer is polled first on every wake-up, so one blocked on a full
/// queue sees an abort as soon as the workers do. When the run has aborted and
/// every worker has stopped, the producer gets one more poll (enough for a
/// refused send to reach it) and is dropped if it still has not returned.
pub(crate) async fn drive<T, R, E, SE, P, W>(
    shared: &Shared<T, R, E, SE>,
    producer: P,
    workers: FuturesUnordered<W>,
) -> Result<Report<T, R>, Abort<T, R, E, SE>>
where
    P: Future<Output = Result<(), SE>>,
    W: Future<Output = WorkerExit>,
{
    // If the run's future is dropped mid-run, every worker is told to stop,
    // wherever it runs.
    let _stop = StopOnDrop(&shared.state, &shared.queue);
    let mut producer = pin!(Some(producer));
    let mut workers = workers;
    let mut control = shared
        .controlled
        .then(|| Watch::new(&shared.control.state.commands));
    let mut obeyed = Level::Open;
    let mut verdicts = shared.judge.is_some().then(|| Watch::new(&shared.verdicts));
    poll_fn(|cx| {
        obey(&mut control, &mut obeyed, shared, cx);
        obey_policy(&mut verdicts, shared, cx);
        poll_producer(producer.as_mut(), shared, cx);
        loop {
            match workers.poll_next_unpin(cx) {
                Poll::Ready(Some(WorkerExit::Finished)) => {}
                Poll::Ready(Some(WorkerExit::Lost(worker))) => {
                    shared.fail(Error::WorkerLost { worker });
                }
                Poll::Ready(Some(WorkerExit::SpawnedInline(worker))) => {
                    shared.fail(Error::SpawnedInline { worker });
                }
                Poll::Ready(None) => break,
                Poll::Pending => {
                    if shared.queue.take_repoll() {
                        // A parked inline feeder has room again: have the
                        // executor poll the run again (rather than loop here,
                        // so other tasks, timers and the control get a turn).
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
            }
        }
        // Every worker has ended, maybe within this very poll: a command
        // given meanwhile (by a handler, say) is obeyed before the books are
        // settled.
        obey(&mut control, &mut obeyed, shared, cx);
        obey_policy(&mut verdicts, shared, cx);
        if producer.is_some() {
            if !shared.intake_stopped() {
                // The producer dropped its sender but has more to do: wait.
                return Poll::Pending;
            }
            poll_producer(producer.as_mut(), shared, cx);
            if producer.is_some() {
                if let Err(panic) = catch(|| producer.set(None)) {
                    let entered = shared.queue.entered();
                    shared.fail(Error::source_panicked(entered, panic));
                }
            }
        }
        Poll::Ready(())
    })
    .await;
    shared.finish()
}

/// Reads the control, if any, and carries out a command not yet obeyed;
/// arranges for `cx` to be woken by the next command, or when the deadline
/// fires.
fn obey<T, R, E, SE>(
    control: &mut Option<Watch<'_>>,
    obeyed: &mut Level,
    shared: &Shared<T, R, E, SE>,
    cx: &mut std::task::Context<'_>,
) {
    let Some(watch) = control else {
        return;
    };
    // Listening from here on: a deadline set before the last command is
    // visible below, and one set later wakes `cx`.
    let mut command = watch.poll(cx);
    if shared.control.poll_deadline(cx) {
        command = watch.poll(cx);
    }
    if command != *obeyed {
        *obeyed = command;
        if command == Level::Aborted {
            let entered = shared.queue.entered();
            shared.fail(Error::Aborted { entered });
        } else {
            shared.close();
        }
    }
}

/// Aborts the run's state and closes the queue when dropped.
/// Closes the run once the custom policy has said so.
fn obey_policy<T, R, E, SE>(
    verdicts: &mut Option<Watch<'_>>,
    shared: &Shared<T, R, E, SE>,
    cx: &mut std::task::Context<'_>,
) {
    if let Some(watch) = verdicts {
        if watch.poll(cx) != Level::Open {
            *verdicts = None;
            shared.close();
        }
    }
}

struct StopOnDrop<'a, T>(&'a State, &'a Queue<T>);

impl<T> Drop for StopOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.raise(Level::Aborted);
        self.1.close();
    }
}

/// Polls the producer if it is still running, and records its end.
fn poll_producer<T, R, E, SE, P>(
    mut producer: std::pin::Pin<&mut Option<P>>,
    shared: &Shared<T, R, E, SE>,
    cx: &mut std::task::Context<'_>,
) where
    P: Future<Output = Result<(), SE>>,
{
    let Some(running) = producer.as_mut().as_pin_mut() else {
        return;
    };
    let result = match catch(|| running.poll(cx)) {
        Ok(Poll::Pending) => return,
        Ok(Poll::Ready(result)) => Ok(result),
        Err(panic) => Err(panic),
    };
    let dropped = catch(|| producer.set(None));
    shared.producer_done(dropped.and(result));
}
