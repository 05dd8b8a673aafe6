//! Panics are errors: a panicking handler or source aborts the run with
//! an error that carries the panic message; the caller does not unwind and
//! the run does not hang.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{PLANNED, check_accounting, on_each_executor, quiet_planned_panics, yield_times};
use failfast::{Error, Pool};
use futures::stream::{self, StreamExt as _};

#[test]
fn panic_in_the_handlers_future_aborts_with_its_message() {
    quiet_planned_panics();
    on_each_executor(|| async {
        let result = Pool::new(3)
            .queue(4)
            .run(stream::iter(0..20usize), |n| async move {
                yield_times(n % 3).await;
                if n == 7 {
                    panic!("{PLANNED}: item {n} exploded");
                }
                Ok::<usize, Infallible>(n)
            })
            .await;
        let abort = result.expect_err("item 7 panics");
        match abort.error() {
            Error::Panicked { index, message, .. } => {
                assert_eq!(*index, 7);
                assert_eq!(message, &format!("{PLANNED}: item 7 exploded"));
            }
            e => panic!("expected Error::Panicked, got {e:?}"),
        }
        assert_eq!(abort.error().index(), Some(7));
        assert_eq!(
            abort.error().panic_message(),
            Some(format!("{PLANNED}: item 7 exploded").as_str())
        );
        assert!(abort.error().handler_error().is_none());
        assert_eq!(
            abort.to_string(),
            format!("item 7 panicked: {PLANNED}: item 7 exploded")
        );
        check_accounting(&abort);
    });
}

#[test]
fn panic_in_the_call_that_creates_the_future_aborts_with_its_message() {
    quiet_planned_panics();
    on_each_executor(|| async {
        let started = Arc::new(AtomicUsize::new(0));
        let result = Pool::new(2)
            .queue(2)
            .run(stream::iter(0..20usize), {
                let started = Arc::clone(&started);
                move |n| {
                    if n == 4 {
                        panic!("{PLANNED}: no future for item {n}");
                    }
                    started.fetch_add(1, Ordering::SeqCst);
                    async move {
                        yield_times(1).await;
                        Ok::<usize, Infallible>(n)
                    }
                }
            })
            .await;
        let abort = result.expect_err("item 4 panics");
        assert!(
            matches!(abort.error(), Error::Panicked { index: 4, message, .. }
                if *message == format!("{PLANNED}: no future for item 4")),
            "{:?}",
            abort.error()
        );
        check_accounting(&abort);
        // Items 0..=3 started before item 4; nothing after it.
        assert_eq!(started.load(Ordering::SeqCst), 4);
    });
}

#[test]
fn panic_with_a_non_string_payload_is_reported_as_box_dyn_any() {
    quiet_planned_panics();
    on_each_executor(|| async {
        let result = Pool::new(2)
            .run(stream::iter(0..5u32), |n| async move {
                if n == 2 {
                    std::panic::panic_any(42u32);
                }
                Ok::<u32, Infallible>(n)
            })
            .await;
        let abort = result.expect_err("item 2 panics");
        assert!(
            matches!(abort.error(), Error::Panicked { index: 2, message, .. } if message == "Box<dyn Any>"),
            "{:?}",
            abort.error()
        );
        assert_eq!(abort.to_string(), "item 2 panicked: Box<dyn Any>");
        check_accounting(&abort);
        // The payload itself is kept: inspected, then resumed as it was.
        let Error::Panicked { payload, .. } = abort.error() else {
            unreachable!()
        };
        let taken = payload.take().expect("the payload");
        assert_eq!(taken.downcast_ref::<u32>(), Some(&42));
        assert!(payload.take().is_none(), "taken once");
        assert!(abort.into_error().into_panic().is_none(), "already taken");
    });
}

/// A payload that is not a string, on every kind of panic the run catches
/// (a handler's, the source's, the progress callback's, an executor's
/// `spawn`), comes back as it was thrown and can be resumed.
#[test]
fn every_panic_keeps_its_payload_for_resume_unwind() {
    #[derive(Debug, PartialEq)]
    struct Fault(&'static str);
    quiet_planned_panics();
    fn resumed(payload: Option<Box<dyn std::any::Any + Send>>) -> &'static str {
        let payload = payload.expect("a payload");
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::panic::resume_unwind(payload)
        }))
        .expect_err("resumed");
        unwound.downcast_ref::<Fault>().expect("the thrown value").0
    }

    let handler =
        futures::executor::block_on(Pool::new(2).run(stream::iter(0..4u32), |n| async move {
            if n == 1 {
                std::panic::panic_any(Fault("handler"));
            }
            Ok::<u32, Infallible>(n)
        }))
        .unwrap_err();
    assert_eq!(resumed(handler.into_error().into_panic()), "handler");

    let source = stream::iter(0..4u32).map(|n| {
        if n == 2 {
            std::panic::panic_any(Fault("source"));
        }
        n
    });
    let source = futures::executor::block_on(
        Pool::new(2).run(source, |n| async move { Ok::<u32, Infallible>(n) }),
    )
    .unwrap_err();
    assert!(matches!(source.error(), Error::SourcePanicked { .. }));
    assert_eq!(resumed(source.into_error().into_panic()), "source");

    let progress = futures::executor::block_on(
        Pool::new(1)
            .on_progress(|_| std::panic::panic_any(Fault("progress")))
            .run(stream::iter(0..4u32), |n| async move {
                Ok::<u32, Infallible>(n)
            }),
    )
    .unwrap_err();
    assert!(matches!(progress.error(), Error::ProgressPanicked { .. }));
    assert_eq!(resumed(progress.into_error().into_panic()), "progress");

    let spawn = |_task: failfast::Task| std::panic::panic_any(Fault("spawn"));
    let spawn = futures::executor::block_on(
        Pool::new(1)
            .spawn_on(spawn)
            .run(stream::iter(0..4u32), |n| async move {
                Ok::<u32, Infallible>(n)
            }),
    )
    .unwrap_err();
    assert!(matches!(spawn.error(), Error::SpawnPanicked { .. }));
    assert_eq!(resumed(spawn.into_error().into_panic()), "spawn");
}

#[test]
fn panic_with_a_static_str_payload_keeps_its_message() {
    quiet_planned_panics();
    on_each_executor(|| async {
        let result = Pool::new(1)
            .run(stream::iter(0..3u32), |n| async move {
                if n == 1 {
                    std::panic::panic_any("planned panic: a &'static str");
                }
                Ok::<u32, Infallible>(n)
            })
            .await;
        let abort = result.expect_err("item 1 panics");
        assert_eq!(
            abort.error().panic_message(),
            Some("planned panic: a &'static str")
        );
        check_accounting(&abort);
    });
}

#[test]
fn panicking_stream_aborts_with_source_panicked() {
    quiet_planned_panics();
    on_each_executor(|| async {
        let source = stream::iter(0..10usize).map(|n| {
            if n == 5 {
                panic!("{PLANNED}: the stream broke at {n}");
            }
            n
        });
        let result = Pool::new(2)
            .queue(3)
            .run(source, |n| async move {
                yield_times(n % 2).await;
                Ok::<usize, Infallible>(n)
            })
            .await;
        let abort = result.expect_err("the stream panics");
        match abort.error() {
            Error::SourcePanicked {
                entered, message, ..
            } => {
                assert_eq!(*entered, 5);
                assert_eq!(message, &format!("{PLANNED}: the stream broke at 5"));
            }
            e => panic!("expected Error::SourcePanicked, got {e:?}"),
        }
        assert_eq!(abort.error().index(), None);
        assert_eq!(
            abort.to_string(),
            format!("source panicked after 5 items: {PLANNED}: the stream broke at 5")
        );
        assert_eq!(abort.entered(), 5);
        check_accounting(&abort);
    });
}

#[test]
fn panicking_producer_aborts_with_source_panicked() {
    quiet_planned_panics();
    on_each_executor(|| async {
        let result = Pool::new(2)
            .queue(8)
            .run_with(
                |tx| async move {
                    for n in 0..3usize {
                        tx.send(n).await.unwrap();
                    }
                    yield_times(2).await;
                    if tx.len() < 100 {
                        panic!("{PLANNED}: the producer broke");
                    }
                    Ok::<(), Infallible>(())
                },
                |n: usize| async move {
                    yield_times(1).await;
                    Ok::<usize, Infallible>(n)
                },
            )
            .await;
        let abort = result.expect_err("the producer panics");
        assert!(
            matches!(abort.error(), Error::SourcePanicked { entered: 3, message, .. }
                if *message == format!("{PLANNED}: the producer broke")),
            "{:?}",
            abort.error()
        );
        assert_eq!(abort.entered(), 3);
        check_accounting(&abort);
    });
}

#[test]
fn producer_panicking_with_a_non_string_payload() {
    quiet_planned_panics();
    on_each_executor(|| async {
        let result = Pool::new(1)
            .run_with(
                |tx| async move {
                    tx.send(1u8).await.unwrap();
                    std::panic::panic_any(vec![1u8, 2, 3]);
                    #[allow(unreachable_code)]
                    Ok::<(), Infallible>(())
                },
                |n: u8| async move { Ok::<u8, Infallible>(n) },
            )
            .await;
        let abort = result.expect_err("the producer panics");
        assert_eq!(abort.error().panic_message(), Some("Box<dyn Any>"));
        assert!(matches!(
            abort.error(),
            Error::SourcePanicked { entered: 1, .. }
        ));
        check_accounting(&abort);
    });
}

#[test]
fn the_caller_does_not_unwind() {
    quiet_planned_panics();
    // Whatever panics inside the run, block_on returns normally.
    let outcome = std::panic::catch_unwind(|| {
        on_each_executor(|| async {
            let result = Pool::new(4)
                .queue(4)
                .run(stream::iter(0..100usize), |n| async move {
                    yield_times(n % 5).await;
                    if n % 10 == 9 {
                        panic!("{PLANNED}: item {n}");
                    }
                    Ok::<usize, Infallible>(n)
                })
                .await;
            let abort = result.expect_err("items panic");
            assert!(matches!(abort.error(), Error::Panicked { .. }));
            check_accounting(&abort);
        });
    });
    assert!(outcome.is_ok(), "a handler's panic reached the caller");
}
