//! Every job in its own `tracing` span, printed by `tracing-subscriber`.
//!
//! The motivating scenario (3 workers, a queue of 19, 30 requests, every
//! request above 10 fails) with short jobs, each wrapped in a `job` span
//! carrying its index and worker (`JobSpans`), so what a handler logs says
//! which item it is about. The run's own events follow: `run aborted`, with
//! its cause and counts.
//!
//! ```text
//! cargo run --example tracing --features tracing
//! ```

use std::time::Duration;

use failfast::{JobSpans, Pool};

fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .without_time()
        .with_ansi(false)
        .init();

    let import = tracing::info_span!("import", requests = 30);
    let pool = import.in_scope(|| Pool::new(3).queue(19).wrap(JobSpans::new()));
    let result = smol::block_on(
        pool.run(futures::stream::iter(0..30u32), |request| async move {
            tracing::info!(request, "fetching");
            smol::Timer::after(Duration::from_millis(20)).await;
            if request > 10 {
                tracing::warn!(request, "broke");
                return Err(format!("request {request} broke"));
            }
            Ok(request)
        }),
    );
    match result {
        Ok(report) => println!("done: {} completed", report.completed()),
        Err(abort) => println!("run aborted: {abort}"),
    }
}
