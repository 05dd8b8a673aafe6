//! Source errors: a fallible stream or a producer that returns `Err` aborts
//! the run with `Error::Source`; a producer that goes on sending after an
//! abort is refused at once, every time; and `Abort` is a proper
//! `std::error::Error`.

mod common;

use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{check_accounting, on_each_executor, yield_times};
use failfast::{AbortError, Error, Pool, SendError};
use futures::stream;

#[derive(Debug, Clone, PartialEq, Eq)]
struct SourceBroke(&'static str);

impl fmt::Display for SourceBroke {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "source broke: {}", self.0)
    }
}

impl std::error::Error for SourceBroke {}

#[test]
fn try_stream_error_aborts_with_source_error() {
    for (workers, queue) in [(1, 1), (2, 3), (4, 16)] {
        on_each_executor(|| async {
            let source = stream::iter((0..10usize).map(|n| {
                if n == 4 {
                    Err(SourceBroke("fifth item"))
                } else {
                    Ok(n)
                }
            }));
            let result = Pool::new(workers)
                .queue(queue)
                .try_run(source, |n| async move {
                    yield_times(n % 3).await;
                    Ok::<usize, Infallible>(n)
                })
                .await;
            let abort = result.expect_err("the fifth item is an error");
            match abort.error() {
                Error::Source { entered, source } => {
                    assert_eq!(*entered, 4);
                    assert_eq!(*source, SourceBroke("fifth item"));
                }
                e => panic!("expected Error::Source, got {e:?}"),
            }
            assert_eq!(abort.error().index(), None);
            assert!(abort.error().handler_error().is_none());
            assert!(abort.error().panic_message().is_none());
            assert_eq!(
                abort.to_string(),
                "source failed after 4 items: source broke: fifth item"
            );
            assert_eq!(abort.entered(), 4);
            check_accounting(&abort);
            assert!(abort.unprocessed().iter().all(|(i, n)| i == n));
            assert!(abort.report().outputs().iter().all(|(i, n)| i == n));
            // The cause names what failed, and its `source()` is the
            // source's own error.
            assert_eq!(abort.error().to_string(), "source failed after 4 items");
            let source = std::error::Error::source(abort.error()).expect("a source error");
            assert_eq!(source.to_string(), "source broke: fifth item");
        });
    }
}

#[test]
fn try_stream_without_errors_succeeds() {
    on_each_executor(|| async {
        let source = stream::iter((0..25usize).map(Ok::<usize, SourceBroke>));
        let report = Pool::new(3)
            .queue(2)
            .try_run(source, |n| async move { Ok::<usize, Infallible>(n + 1) })
            .await
            .expect("nothing fails");
        common::check_all_once(&report, 25);
        assert!(report.outputs().iter().all(|(i, n)| *n == i + 1));
    });
}

#[test]
fn producer_error_aborts_with_source_error() {
    on_each_executor(|| async {
        let result = Pool::new(2)
            .queue(2)
            .run_with(
                |tx| async move {
                    for n in 0..6usize {
                        tx.send(n).await.expect("the run is still going");
                    }
                    Err(SourceBroke("producer gave up"))
                },
                |n: usize| async move {
                    yield_times(n % 2).await;
                    Ok::<usize, Infallible>(n)
                },
            )
            .await;
        let abort = result.expect_err("the producer fails");
        assert!(
            matches!(abort.error(), Error::Source { entered: 6, source }
                if *source == SourceBroke("producer gave up")),
            "{:?}",
            abort.error()
        );
        assert_eq!(
            abort.to_string(),
            "source failed after 6 items: source broke: producer gave up"
        );
        assert_eq!(abort.entered(), 6);
        check_accounting(&abort);
    });
}

/// A producer error type that also takes refused sends, so `?` works on both.
#[derive(Debug)]
enum ProducerError {
    Refused(usize),
}

impl From<SendError<usize>> for ProducerError {
    fn from(error: SendError<usize>) -> Self {
        ProducerError::Refused(error.into_inner())
    }
}

#[test]
fn producer_error_after_a_refused_send_is_kept_in_other_errors() {
    on_each_executor(|| async {
        let result = Pool::new(1)
            .queue(1)
            .run_with(
                |tx| async move {
                    for n in 0..100usize {
                        tx.send(n).await?;
                    }
                    Ok::<(), ProducerError>(())
                },
                |n: usize| async move {
                    yield_times(2).await;
                    if n == 0 {
                        return Err("item 0 fails");
                    }
                    Ok(n)
                },
            )
            .await;
        let abort = result.expect_err("item 0 fails");
        assert_eq!(abort.error().index(), Some(0));
        // The producer's `?` turned the refused send into its own error.
        assert_eq!(abort.other_errors().len(), 1, "{abort:?}");
        match &abort.other_errors()[0] {
            Error::Source {
                entered,
                source: ProducerError::Refused(item),
            } => {
                assert_eq!(*entered, abort.entered());
                // The refused item is the first one that did not enter.
                assert_eq!(*item, abort.entered());
            }
            e => panic!("expected the producer's error, got {e:?}"),
        }
        check_accounting(&abort);
    });
}

#[test]
fn producer_sending_after_an_abort_is_refused_at_once_every_time() {
    const ATTEMPTS: usize = 1000;
    on_each_executor(|| async {
        let accepted = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let finished = Arc::new(AtomicBool::new(false));
        let result = Pool::new(2)
            .queue(3)
            .run_with(
                {
                    let accepted = Arc::clone(&accepted);
                    let refused = Arc::clone(&refused);
                    let finished = Arc::clone(&finished);
                    move |tx| async move {
                        for n in 0..ATTEMPTS {
                            match tx.send(n).await {
                                Ok(()) => {
                                    accepted.fetch_add(1, Ordering::SeqCst);
                                }
                                Err(error) => {
                                    assert!(tx.is_closed());
                                    refused.lock().unwrap().push(error.into_inner());
                                }
                            }
                        }
                        finished.store(true, Ordering::SeqCst);
                        Ok::<(), Infallible>(())
                    }
                },
                |n: usize| async move {
                    yield_times(1).await;
                    if n == 3 {
                        return Err("item 3 fails");
                    }
                    Ok(n)
                },
            )
            .await;
        let abort = result.expect_err("item 3 fails");
        assert_eq!(abort.error().index(), Some(3));
        // The producer was not dropped mid-way: every send after the abort
        // returned at once, so it got through all its attempts.
        assert!(
            finished.load(Ordering::SeqCst),
            "the producer did not finish"
        );
        let accepted = accepted.load(Ordering::SeqCst);
        assert_eq!(accepted, abort.entered());
        let refused = refused.lock().unwrap();
        assert_eq!(*refused, (accepted..ATTEMPTS).collect::<Vec<_>>());
        assert!(abort.other_errors().is_empty());
        check_accounting(&abort);
    });
}

async fn run_with_question_mark() -> Result<usize, Box<dyn std::error::Error>> {
    let report = Pool::new(2)
        .queue(2)
        .run(stream::iter(0..10u32), |n| async move {
            if n == 3 {
                return Err(std::io::Error::other("disk on fire"));
            }
            Ok(n)
        })
        .await?;
    Ok(report.completed())
}

#[test]
fn question_mark_boxes_an_abort_with_its_cause_once() {
    on_each_executor(|| async {
        let error = run_with_question_mark().await.expect_err("item 3 fails");
        // The message names what failed; the handler's error is the source,
        // not repeated in the message.
        assert_eq!(error.to_string(), "item 3 failed");
        let source = error.source().expect("the handler's error");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("an io::Error");
        assert_eq!(io.to_string(), "disk on fire");
        assert_eq!(io.kind(), std::io::ErrorKind::Other);
        assert!(source.source().is_none());
        // The box holds an `AbortError`, with the index and the count.
        let abort = error.downcast_ref::<AbortError>().expect("an AbortError");
        assert_eq!(abort.index(), Some(3));
        assert!(abort.entered() >= 4);
    });
}

#[test]
fn error_enum_is_a_std_error_with_the_handler_error_as_source() {
    on_each_executor(|| async {
        let abort = Pool::new(1)
            .run(stream::iter(0..3u32), |n| async move {
                if n == 1 {
                    return Err(std::io::Error::other("bad item"));
                }
                Ok(n)
            })
            .await
            .expect_err("item 1 fails");
        let error = abort.into_error();
        let source = std::error::Error::source(&error).expect("a source");
        assert_eq!(source.to_string(), "bad item");
        assert!(matches!(error, Error::Failed { index: 1, .. }));
    });
}
