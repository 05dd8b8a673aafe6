//! Outputs handed out as a stream while the pool runs (`Pool::stream`), on
//! every executor (see `tests/conformance.rs`).

#![cfg(all(feature = "smol", feature = "tokio", feature = "futures-executor"))]

mod common;

use common::exec::Exec;
use failfast::Pool;
use futures::StreamExt as _;

on_every_executor!(
    streamed_outputs_come_while_the_pool_runs,
    a_streamed_run_ends_with_its_abort_and_loses_nothing,
);

fn streamed_outputs_come_while_the_pool_runs<X: Exec>(x: X) {
    let outputs: Vec<_> = x.block_on(
        x.stream(
            Pool::new(3).queue(4),
            futures::stream::iter(0..300usize),
            |n| async move {
                common::yield_times(n % 3).await;
                Ok::<usize, String>(n * 2)
            },
        )
        .collect::<Vec<_>>(),
    );
    let mut indices: Vec<usize> = outputs
        .into_iter()
        .map(|next| {
            let (index, output) = next.expect("no failure");
            assert_eq!(output, index * 2);
            index
        })
        .collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..300).collect::<Vec<_>>());
}

fn a_streamed_run_ends_with_its_abort_and_loses_nothing<X: Exec>(x: X) {
    let items: Vec<_> = x.block_on(
        x.stream(
            Pool::new(3).queue(4),
            futures::stream::iter(0..300usize),
            |n| async move {
                common::yield_times(n % 3).await;
                if n == 120 {
                    Err(format!("item {n} fails"))
                } else {
                    Ok(n)
                }
            },
        )
        .collect::<Vec<_>>(),
    );
    let (last, outputs) = items.split_last().expect("at least the abort");
    let abort = last.as_ref().expect_err("the stream ends with the abort");
    assert_eq!(abort.error().index(), Some(120));
    assert!(
        abort.report().outputs().is_empty(),
        "outputs went through the stream"
    );
    let mut place = vec![0usize; abort.entered()];
    for next in outputs {
        place[next.as_ref().expect("only the last item is an error").0] += 1;
    }
    let failed = abort.other_errors().iter().filter_map(|e| e.index());
    for index in abort.error().index().into_iter().chain(failed) {
        place[index] += 1;
    }
    for &index in abort.cancelled() {
        place[index] += 1;
    }
    for (index, _) in abort.unprocessed() {
        place[*index] += 1;
    }
    assert!(
        place.iter().all(|&n| n == 1),
        "every item exactly once: {place:?}"
    );
    assert_eq!(outputs.len(), abort.report().completed());
}
