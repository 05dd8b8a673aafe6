//! Progress reported per item through `Pool::on_progress`, on every executor
//! (see `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::check_all_once;
use common::exec::Exec;
use failfast::{Pool, Progress};

on_every_executor!(progress_is_reported_per_item);

fn progress_is_reported_per_item<X: Exec>(x: X) {
    let calls = Arc::new(AtomicUsize::new(0));
    let last_completed = Arc::new(AtomicUsize::new(0));
    let report = x
        .block_on({
            let (calls, last) = (Arc::clone(&calls), Arc::clone(&last_completed));
            let pool = Pool::new(4)
                .queue(4)
                .on_progress(move |progress: &Progress| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    last.fetch_max(progress.completed, Ordering::SeqCst);
                    assert!(progress.completed <= progress.entered);
                });
            x.run(pool, futures::stream::iter(0..200usize), |n| async move {
                common::yield_times(n % 2).await;
                Ok::<usize, String>(n)
            })
        })
        .unwrap();
    check_all_once(&report, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 200);
    assert_eq!(last_completed.load(Ordering::SeqCst), 200);
}

/// Inline, the callback needs no `Send`, `Sync` or `'static`: an `Rc`
/// counter, and a closure that borrows from the caller.
#[test]
fn an_inline_progress_callback_may_be_rc_and_borrow() {
    use std::cell::Cell;
    use std::rc::Rc;

    let calls = Rc::new(Cell::new(0usize));
    let mut last = Vec::new();
    let seen = std::cell::RefCell::new(&mut last);
    let report = futures::executor::block_on({
        let calls = Rc::clone(&calls);
        Pool::new(3)
            .on_progress(move |progress: &Progress| {
                calls.set(calls.get() + 1);
                seen.borrow_mut().push(progress.completed);
            })
            .run(futures::stream::iter(0..50u32), |n| async move {
                Ok::<u32, String>(n)
            })
    })
    .unwrap();
    assert_eq!(report.completed(), 50);
    assert_eq!(calls.get(), 50);
    assert_eq!(last.iter().max(), Some(&50));
}
