//! When item errors stop a run: `Policy::Continue` and
//! `Policy::AbortAfter(k)`, on every executor (see `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use common::check_accounting;
use common::exec::Exec;
use failfast::{Policy, Pool};

on_every_executor!(
    policy_continue_tries_every_item,
    policy_abort_after_k_errors
);

fn policy_continue_tries_every_item<X: Exec>(x: X) {
    let abort = x
        .block_on(x.run(
            Pool::new(3).queue(4).policy(Policy::Continue),
            futures::stream::iter(0..50usize),
            |n| async move {
                common::yield_times(n % 3).await;
                if n % 7 == 3 {
                    Err(format!("item {n} fails"))
                } else {
                    Ok(n)
                }
            },
        ))
        .unwrap_err();
    let mut failed: Vec<usize> = std::iter::once(abort.error())
        .chain(abort.other_errors())
        .filter_map(|e| e.index())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, (0..50).filter(|n| n % 7 == 3).collect::<Vec<_>>());
    assert_eq!(abort.report().completed(), 50 - failed.len());
    assert!(abort.cancelled().is_empty() && abort.unprocessed().is_empty());
    check_accounting(&abort);
}

fn policy_abort_after_k_errors<X: Exec>(x: X) {
    for workers in [1, 3] {
        let abort = x
            .block_on(x.run(
                Pool::new(workers).queue(2).policy(Policy::AbortAfter(3)),
                futures::stream::iter(0..1000usize),
                |n| async move {
                    common::yield_times(n % 2).await;
                    if n % 5 == 0 {
                        Err(format!("item {n} fails"))
                    } else {
                        Ok(n)
                    }
                },
            ))
            .unwrap_err();
        let errors = 1 + abort.other_errors().len();
        // The third error aborts; the other workers may fail meanwhile.
        assert!((3..3 + workers).contains(&errors), "{errors} errors");
        assert!(abort.entered() < 1000, "the run stopped early");
        check_accounting(&abort);
    }
}
