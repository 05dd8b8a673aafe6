//! `Pool::wrap`: every job's future goes through the wrapper, under the
//! job's identity and panic guard, and a wrapped job keeps every guarantee
//! (cancelled and counted when dropped, a panic in the wrapper is the job's
//! panic); on every executor (see `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::future::Future;
use std::sync::{Arc, Mutex};

use common::exec::Exec;
use common::{Gauge, IndexSet, LiveCounter, PLANNED, check_accounting};
use failfast::{Error, Job, Pool, Wrap};

on_every_executor!(
    every_job_goes_through_the_wrapper,
    a_panic_in_the_wrapper_is_the_jobs_panic,
    a_dropped_wrapped_job_is_cancelled_and_counted,
    a_generic_wrapper_type_works,
);

/// The wrapper gets each job once with its own index and worker, and its
/// future runs as the job: `Job::current` inside it is that job.
fn every_job_goes_through_the_wrapper<X: Exec>(x: X) {
    let seen = IndexSet::new();
    let mismatches = Arc::new(Mutex::new(Vec::new()));
    let report = x
        .block_on({
            let (seen, mismatches) = (seen.clone(), Arc::clone(&mismatches));
            x.run(
                Pool::new(3).queue(5).wrap(move |job: Job, fut| {
                    seen.insert_once(job.index());
                    if Job::current() != Some(job) {
                        mismatches.lock().unwrap().push(job.index());
                    }
                    let mismatches = Arc::clone(&mismatches);
                    async move {
                        if Job::current() != Some(job) {
                            mismatches.lock().unwrap().push(job.index());
                        }
                        fut.await
                    }
                }),
                futures::stream::iter(0..40u32),
                |n| async move {
                    common::yield_times(n as usize % 3).await;
                    Ok::<_, String>((n, Job::current()))
                },
            )
        })
        .unwrap();
    assert_eq!(seen.len(), 40);
    assert!(mismatches.lock().unwrap().is_empty(), "{mismatches:?}");
    common::check_all_once(&report, 40);
    for (index, (n, job)) in report.outputs() {
        assert_eq!(*n as usize, *index);
        let job = job.expect("inside the job");
        assert_eq!(job.index(), *index);
        assert!(job.worker() < 3);
    }
}

/// A wrapper that panics, when it makes the future or when it is polled, is
/// the job's panic: the run aborts with the item's index, and the caller
/// does not unwind.
fn a_panic_in_the_wrapper_is_the_jobs_panic<X: Exec>(x: X) {
    common::quiet_planned_panics();
    for in_poll in [false, true] {
        let abort = x
            .block_on(x.run(
                Pool::new(2).queue(2).wrap(move |job: Job, fut| {
                    if !in_poll && job.index() == 5 {
                        panic!("{PLANNED}: wrapping item 5");
                    }
                    async move {
                        if in_poll && job.index() == 5 {
                            panic!("{PLANNED}: polling item 5");
                        }
                        fut.await
                    }
                }),
                futures::stream::iter(0..30u32),
                |n| async move { Ok::<_, String>(n) },
            ))
            .unwrap_err();
        check_accounting(&abort);
        match abort.error() {
            Error::Panicked { index, message, .. } => {
                assert_eq!(*index, 5);
                assert!(message.contains("item 5"), "{message}");
            }
            other => panic!("expected item 5's panic, got {other:?}"),
        }
        assert_eq!(abort.failed(), vec![5]);
    }
}

/// Jobs whose wrapped futures never finish are dropped when another item
/// fails: each wrapped future (and the handler's inside it) is dropped, and
/// each item is counted as cancelled.
fn a_dropped_wrapped_job_is_cancelled_and_counted<X: Exec>(x: X) {
    let live = LiveCounter::new();
    let started = Gauge::new();
    let abort = x
        .block_on({
            let (live, started) = (Arc::clone(&live), Arc::clone(&started));
            x.run(
                Pool::new(3).queue(3).wrap(move |job: Job, fut| {
                    // Alive as long as the wrapped future is.
                    let guard = common::Live::new(job.index(), &live);
                    async move {
                        let out = fut.await;
                        drop(guard);
                        out
                    }
                }),
                futures::stream::iter(0..20usize),
                move |n| {
                    let started = Arc::clone(&started);
                    async move {
                        started.add();
                        if n == 2 {
                            started.until(3).await;
                            return Err(format!("{n} failed"));
                        }
                        futures::future::pending::<()>().await;
                        Ok(n)
                    }
                },
            )
        })
        .unwrap_err();
    check_accounting(&abort);
    assert_eq!(abort.failed(), vec![2]);
    assert_eq!(abort.cancelled(), &[0, 1]);
    assert_eq!(live.live(), 0, "every wrapped future was dropped");
    assert_eq!(live.created(), 3);
}

/// A wrapper type of its own, generic over every handler's future.
struct CountPolls(Arc<Gauge>);

struct Counted<Fut> {
    fut: std::pin::Pin<Box<Fut>>,
    polls: Arc<Gauge>,
}

impl<Fut: Future> Future for Counted<Fut> {
    type Output = Fut::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Fut::Output> {
        self.polls.add();
        self.fut.as_mut().poll(cx)
    }
}

impl<Fut: Future> Wrap<Fut> for CountPolls {
    type Wrapped = Counted<Fut>;

    fn wrap(&self, _: Job, fut: Fut) -> Counted<Fut> {
        Counted {
            fut: Box::pin(fut),
            polls: Arc::clone(&self.0),
        }
    }
}

fn a_generic_wrapper_type_works<X: Exec>(x: X) {
    let polls = Gauge::new();
    let report = x
        .block_on(x.run(
            Pool::new(2).wrap(CountPolls(Arc::clone(&polls))),
            futures::stream::iter(0..10usize),
            |n| async move {
                common::yield_times(2).await;
                Ok::<_, String>(n)
            },
        ))
        .unwrap();
    common::check_all_once(&report, 10);
    // Each job is polled three times: twice it yields, then it is done.
    assert_eq!(polls.get(), 30);
}

/// Inline, the wrapper may hold what is neither `Send` nor `'static`.
#[test]
fn an_inline_wrapper_needs_no_send_or_static() {
    let polled = std::rc::Rc::new(std::cell::Cell::new(0));
    let borrowed = &polled;
    let report = futures::executor::block_on(
        Pool::new(2)
            .wrap(|_: Job, fut| {
                let counter = std::rc::Rc::clone(borrowed);
                async move {
                    counter.set(counter.get() + 1);
                    fut.await
                }
            })
            .run(futures::stream::iter(0..5u32), |n| async move {
                Ok::<_, String>(n)
            }),
    )
    .unwrap();
    assert_eq!(report.completed(), 5);
    assert_eq!(polled.get(), 5);
}
