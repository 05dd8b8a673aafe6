//! The `Stream` extension (`pooled`, `try_pooled`) as a drop-in for
//! `try_for_each_concurrent` and `buffer_unordered`, on every executor (see
//! `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use common::check_counts;
use common::exec::Exec;
use failfast::PooledExt as _;
use futures::TryStreamExt as _;

on_every_executor!(pooled_extension_is_a_drop_in);

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
