//! The `Stream` extension (`pooled`, `try_pooled`) as a drop-in for
//! `try_for_each_concurrent` and `buffer_unordered`, on every executor (see
//! `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use common::check_counts;
use common::exec::Exec;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use failfast::{Control, Error, PooledExt as _};
use futures::TryStreamExt as _;

on_every_executor!(
    pooled_extension_is_a_drop_in,
    pooled_takes_a_control_and_a_progress_callback,
);

fn pooled_extension_is_a_drop_in<X: Exec>(x: X) {
    let sum = x
        .block_on(
            x.try_map(
                futures::stream::iter(1..=100usize).pooled(4),
                |n| async move { Ok::<usize, String>(n) },
            )
            .try_fold(0, |sum, n| async move { Ok(sum + n) }),
        )
        .unwrap();
    assert_eq!(sum, 5050);
    let abort = x
        .block_on(x.try_for_each(
            futures::stream::iter(0..100usize).pooled(4),
            |n| async move { if n == 10 { Err("ten") } else { Ok(()) } },
        ))
        .unwrap_err();
    assert_eq!(abort.error().index(), Some(10));
    check_counts(&abort);
    let lines = futures::stream::iter((0..100usize).map(|n| {
        if n == 50 {
            Err("unreadable".to_owned())
        } else {
            Ok(n)
        }
    }));
    let abort = x
        .block_on(
            x.try_for_each_fallible(lines.try_pooled(4), |n| async move {
                common::yield_times(n % 2).await;
                Ok::<(), String>(())
            }),
        )
        .unwrap_err();
    assert_eq!(
        abort.to_string(),
        "source failed after 50 items: unreadable"
    );
    assert_eq!(
        abort.report().completed() + abort.unprocessed().len() + abort.cancelled().len(),
        50
    );
}

/// The drop-in with a control (a close, then an abort) and a progress
/// callback, as `Pool` has them.
fn pooled_takes_a_control_and_a_progress_callback<X: Exec>(x: X) {
    let control = Control::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let closed = x.block_on({
        let (stop, calls) = (control.clone(), Arc::clone(&calls));
        let pooled = futures::stream::iter(0..usize::MAX)
            .pooled(3)
            .queue(4)
            .control(&control)
            .on_progress(move |_| {
                calls.fetch_add(1, Ordering::SeqCst);
            });
        x.try_for_each(pooled, move |n| {
            if n == 20 {
                stop.close();
            }
            async move {
                common::yield_times(n % 2).await;
                Ok::<(), String>(())
            }
        })
    });
    assert!(closed.is_ok(), "a close finishes what entered");
    let progress = control.progress();
    assert!(progress.completed > 20 && progress.completed == progress.entered);
    assert_eq!(calls.load(Ordering::SeqCst), progress.completed);

    let control = Control::new();
    let abort = x
        .block_on({
            let stop = control.clone();
            let pooled = futures::stream::iter(0..100usize)
                .pooled(2)
                .control(&control);
            x.try_for_each(pooled, move |n| {
                if n == 5 {
                    stop.abort();
                }
                async move {
                    if n >= 5 {
                        futures::future::pending::<()>().await;
                    }
                    Ok::<(), String>(())
                }
            })
        })
        .unwrap_err();
    assert!(matches!(abort.error(), Error::Aborted { .. }));
    check_counts(&abort);
}
