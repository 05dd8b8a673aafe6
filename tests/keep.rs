//! `Keeper`: the items of failed, panicked and cancelled jobs come back by
//! value, so every item that did not complete can be retried; on every
//! executor (see `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use std::sync::Arc;

use common::exec::Exec;
use common::{Gauge, PLANNED, check_accounting};
use failfast::{Fate, Keeper, Policy, Pool};

on_every_executor!(
    every_unfinished_item_comes_back_by_value,
    a_successful_run_keeps_nothing,
    every_failed_item_is_kept_under_continue,
);

fn name(n: usize) -> String {
    format!("item-{n}")
}

/// Items 0 and 1 never finish; item 2 fails (or panics) once they run; the
/// rest wait in the queue. Every one that did not complete comes back, by
/// value, with its fate.
fn every_unfinished_item_comes_back_by_value<X: Exec>(x: X) {
    common::quiet_planned_panics();
    for panics in [false, true] {
        let keeper = Keeper::new();
        let started = Gauge::new();
        let abort = x
            .block_on({
                let started = Arc::clone(&started);
                x.run(
                    Pool::new(3).queue(4),
                    futures::stream::iter((0..50).map(name)),
                    keeper.wrap(move |item: String| {
                        let started = Arc::clone(&started);
                        async move {
                            started.add();
                            if item == name(2) {
                                started.until(3).await;
                                if panics {
                                    panic!("{PLANNED}: {item}");
                                }
                                return Err(format!("{item} failed"));
                            }
                            futures::future::pending::<()>().await;
                            Ok::<usize, String>(item.len())
                        }
                    }),
                )
            })
            .unwrap_err();
        check_accounting(&abort);
        assert_eq!(abort.failed(), vec![2]);
        assert_eq!(abort.cancelled(), &[0, 1]);
        let indices: Vec<(usize, Fate)> = abort
            .unfinished()
            .iter()
            .map(|u| (u.index, u.fate))
            .collect();
        let unfinished = keeper.unfinished(abort);
        assert_eq!(
            unfinished
                .iter()
                .map(|u| (u.index, u.fate))
                .collect::<Vec<_>>(),
            indices
        );
        for u in &unfinished {
            assert_eq!(u.item.as_deref(), Some(name(u.index).as_str()), "{u:?}");
        }
        assert_eq!(
            unfinished[..3].iter().map(|u| u.fate).collect::<Vec<_>>(),
            [Fate::Cancelled, Fate::Cancelled, Fate::Failed]
        );
        assert!(keeper.take().is_empty(), "taken by unfinished()");
    }
}

fn a_successful_run_keeps_nothing<X: Exec>(x: X) {
    let keeper = Keeper::new();
    let report = x
        .block_on(x.run(
            Pool::new(3).queue(2),
            futures::stream::iter((0..100).map(name)),
            keeper.wrap(|item: String| async move {
                common::yield_times(item.len() % 3).await;
                Ok::<usize, String>(item.len())
            }),
        ))
        .unwrap();
    assert_eq!(report.completed(), 100);
    assert!(keeper.take().is_empty());
}

fn every_failed_item_is_kept_under_continue<X: Exec>(x: X) {
    let keeper = Keeper::new();
    let abort = x
        .block_on(x.run(
            Pool::new(3).queue(2).policy(Policy::Continue),
            futures::stream::iter(0..60usize),
            keeper.wrap(|n: usize| async move {
                common::yield_times(n % 3).await;
                if n % 7 == 2 { Err(n) } else { Ok(n) }
            }),
        ))
        .unwrap_err();
    let failed = abort.failed();
    assert_eq!(failed, (0..60).filter(|n| n % 7 == 2).collect::<Vec<_>>());
    let kept = keeper.take();
    assert_eq!(kept.iter().map(|(i, _)| *i).collect::<Vec<_>>(), failed);
    assert!(kept.iter().all(|(index, item)| index == item));
}
