//! Bad configuration is refused at construction with a clear message,
//! and the defaults are what the docs say.

mod common;

use std::convert::Infallible;

use common::on_each_executor;
use failfast::{Outputs, Pool};
use futures::stream;

#[test]
#[should_panic(expected = "failfast: a pool needs at least one worker, got 0")]
fn zero_workers_is_refused() {
    let _ = Pool::new(0);
}

#[test]
#[should_panic(expected = "failfast: the queue capacity must be at least 1, got 0")]
fn zero_capacity_is_refused() {
    let _ = Pool::new(3).queue(0);
}

#[test]
fn defaults() {
    let pool = Pool::new(4);
    assert_eq!(pool.workers(), 4);
    assert_eq!(pool.capacity(), 4, "the queue defaults to the worker count");
    assert_eq!(Outputs::default(), Outputs::CompletionOrder);
    // Pools compare by their settings, as their `Debug` shows them.
    let same = |a: &Pool, b: &Pool| format!("{a:?}") == format!("{b:?}");
    assert!(same(
        &pool,
        &Pool::new(4).queue(4).outputs(Outputs::CompletionOrder)
    ));
    assert!(!same(&pool, &pool.clone().outputs(Outputs::Discard)));
}

#[test]
fn settings_are_kept() {
    let pool = Pool::new(7).queue(1).outputs(Outputs::Discard);
    assert_eq!(pool.workers(), 7);
    assert_eq!(pool.capacity(), 1);
    let pool = pool.queue(1000).outputs(Outputs::CompletionOrder);
    assert_eq!(pool.capacity(), 1000);
    assert_eq!(
        format!("{pool:?}"),
        format!("{:?}", Pool::new(7).queue(1000))
    );
}

#[test]
fn the_smallest_pool_works() {
    on_each_executor(|| async {
        let report = Pool::new(1)
            .queue(1)
            .run(
                stream::iter(0..10u8),
                |n| async move { Ok::<u8, Infallible>(n) },
            )
            .await
            .expect("nothing fails");
        common::check_all_once(&report, 10);
    });
}

#[test]
fn the_sender_reports_the_configured_capacity() {
    on_each_executor(|| async {
        let report = Pool::new(2)
            .queue(5)
            .run_with(
                |tx| async move {
                    assert_eq!(tx.capacity(), 5);
                    assert!(!tx.is_closed());
                    Ok::<(), Infallible>(())
                },
                |n: u8| async move { Ok::<u8, Infallible>(n) },
            )
            .await
            .expect("nothing fails");
        assert_eq!(report.entered(), 0);
    });
}
