//! Abort latency: the time from a job's `Err` to the run returning.
//!
//! An endless producer feeds jobs that sleep 10 s. Once the pipeline is full
//! (every worker busy, the queue full, the producer blocked on its next send),
//! job 0 returns `Err`, stamping the moment just before it does. The latency
//! is the time from that stamp to the run's future returning, stamped where
//! that future runs (the main thread under `block_on`, an executor thread for
//! the spawned designs, whose run is spawned too). Each run also counts
//! whether the producer was released (its `send` refused, or for designs
//! without a producer, the source dropped) and whether no job was left
//! running (every job's future holds a drop guard).
//!
//! `FAILFAST_BENCH_ABORT_RUNS` sets the number of measured runs per peer
//! (default 500, at least 200), and `FAILFAST_BENCH_ABORT_PEERS` (ids,
//! comma-separated) runs only some peers, for profiling; results go to
//! `target/failfast-bench/abort.json`.

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Env, Fail, PEERS, Peer, QUEUE, WORKERS, on_tokio, results_dir};
use failfast::{Outputs, Pool};
use futures::executor::block_on;
use futures::{Stream, StreamExt as _, stream};

const WARM_UP_RUNS: usize = 20;

type Sleep = fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;

fn smol_sleep(d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        smol::Timer::after(d).await;
    })
}

fn tokio_sleep(d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(tokio::time::sleep(d))
}

/// What one run observes.
#[derive(Default)]
struct Probe {
    /// Items pulled from the source so far.
    pulled: AtomicUsize,
    /// Jobs whose future exists (created, not yet dropped).
    live: AtomicUsize,
    /// When job 0 returned its error.
    failed_at: Mutex<Option<Instant>>,
    /// The producer's `send` was refused.
    refused: AtomicBool,
    /// The source stream was dropped.
    source_dropped: AtomicBool,
}

struct Live(Arc<Probe>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

struct SourceGuard(Arc<Probe>);

impl Drop for SourceGuard {
    fn drop(&mut self) {
        self.0.source_dropped.store(true, Ordering::SeqCst);
    }
}

/// 0, 1, 2, … forever, counting what is pulled; flags its own drop.
fn endless(probe: &Arc<Probe>) -> impl Stream<Item = u64> + Send + 'static {
    let guard = SourceGuard(Arc::clone(probe));
    stream::iter(0u64..).map(move |x| {
        guard.0.pulled.fetch_add(1, Ordering::SeqCst);
        x
    })
}

/// The handler: job 0 waits until `full` items have been pulled (the pipeline
/// is full), gives the producer 1 ms to block, then fails; every other job
/// sleeps 10 s.
fn handler(
    probe: &Arc<Probe>,
    full: usize,
    sleep: Sleep,
) -> impl Fn(u64) -> Pin<Box<dyn Future<Output = Result<u64, Fail>> + Send>> + Send + Sync + 'static
{
    let probe = Arc::clone(probe);
    move |x| {
        probe.live.fetch_add(1, Ordering::SeqCst);
        let live = Live(Arc::clone(&probe));
        Box::pin(async move {
            if x == 0 {
                while live.0.pulled.load(Ordering::SeqCst) < full {
                    sleep(Duration::from_micros(200)).await;
                }
                sleep(Duration::from_millis(1)).await;
                *live.0.failed_at.lock().unwrap() = Some(Instant::now());
                return Err(Fail(x));
            }
            sleep(Duration::from_secs(10)).await;
            Ok(x)
        })
    }
}

/// The endless producer of the designs that have one: pulls from the source
/// and sends until a send is refused.
async fn produce<Src, Fut>(probe: Arc<Probe>, source: Src, send: impl Fn(u64) -> Fut) -> bool
where
    Src: Stream<Item = u64>,
    Fut: Future<Output = bool>,
{
    let mut source = pin!(source);
    while let Some(item) = source.next().await {
        if !send(item).await {
            probe.refused.store(true, Ordering::SeqCst);
            return true;
        }
    }
    false
}

/// The endless producer, for failfast's `run_with`.
async fn failfast_producer<Src: Stream<Item = u64>>(
    probe: Arc<Probe>,
    source: Src,
    tx: failfast::Sender<u64>,
) -> Result<(), Infallible> {
    let tx = &tx;
    produce(
        probe,
        source,
        |item| async move { tx.send(item).await.is_ok() },
    )
    .await;
    Ok(())
}

/// One abort, through `peer`: returns the latency, whether the producer was
/// released, and whether no job was left alive when the run returned.
fn one_run(env: &Env, peer: Peer) -> (Duration, bool, bool) {
    let probe = Arc::new(Probe::default());
    let sleep: Sleep = if peer.on_tokio() {
        tokio_sleep
    } else {
        smol_sleep
    };
    // Items pulled once the pipeline is full: with a queue, every worker
    // holds one, the queue is full, and the producer holds the next; without,
    // every one of the WORKERS concurrent jobs holds one.
    let queued = WORKERS + QUEUE + 1;
    let full = match peer {
        Peer::FailfastInline | Peer::FailfastSmol | Peer::FailfastTokio => queued,
        Peer::HandInline | Peer::HandSmol | Peer::HandTokio => queued,
        Peer::TryForEachConcurrent | Peer::BufferUnordered | Peer::JoinSetSemaphore => WORKERS,
    };
    let source = endless(&probe);
    let handler = handler(&probe, full, sleep);
    let pool = Pool::new(WORKERS).queue(QUEUE).outputs(Outputs::Discard);
    let producer = |source| {
        let probe = Arc::clone(&probe);
        move |tx| failfast_producer(probe, source, tx)
    };
    // The failed item's index, and when the run's future returned (stamped
    // where it ran).
    let failed = |result: Result<_, failfast::Abort<u64, u64, Fail>>| {
        let returned_at = Instant::now();
        (result.err().and_then(|a| a.error().index()), returned_at)
    };
    let (error, returned_at) = match peer {
        Peer::FailfastInline => failed(block_on(pool.run_with(producer(source), handler))),
        Peer::FailfastSmol => {
            let run = pool
                .spawn_on(Arc::clone(&env.smol.executor))
                .run_with(producer(source), handler);
            env.smol.run(async move { failed(run.await) })
        }
        Peer::FailfastTokio => {
            let run = pool
                .spawn_on(env.tokio.handle().clone())
                .run_with(producer(source), handler);
            on_tokio(env, async move { failed(run.await) })
        }
        _ => {
            let outcome = peer.run(env, QUEUE, source, handler);
            if let Some(released) = outcome.released {
                probe.refused.store(released, Ordering::SeqCst);
            }
            (outcome.error.map(|f| f.0 as usize), outcome.returned_at)
        }
    };
    assert_eq!(error, Some(0), "{}: the run fails with job 0", peer.id());
    let failed_at = probe.failed_at.lock().unwrap().expect("job 0 failed");
    let no_job_left = probe.live.load(Ordering::SeqCst) == 0;
    assert!(
        probe.pulled.load(Ordering::SeqCst) >= full,
        "{}: the pipeline was full",
        peer.id()
    );
    let released = match peer {
        Peer::FailfastInline
        | Peer::FailfastSmol
        | Peer::FailfastTokio
        | Peer::HandInline
        | Peer::HandSmol
        | Peer::HandTokio => probe.refused.load(Ordering::SeqCst),
        _ => probe.source_dropped.load(Ordering::SeqCst),
    };
    (returned_at - failed_at, released, no_job_left)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn main() {
    let runs: usize = std::env::var("FAILFAST_BENCH_ABORT_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500)
        .max(200);
    let env = Env::new();
    let mut json = Vec::new();
    println!(
        "abort latency: {runs} runs per peer, {WORKERS} workers, queue {QUEUE}, jobs sleep 10 s"
    );
    println!(
        "{:<26} {:>10} {:>10} {:>10} {:>10}  released, no job left",
        "peer", "min", "median", "p99", "max"
    );
    let only = std::env::var("FAILFAST_BENCH_ABORT_PEERS").ok();
    let chosen = |peer: &Peer| {
        only.as_ref()
            .is_none_or(|ids| ids.split(',').any(|id| id == peer.id()))
    };
    for peer in PEERS.into_iter().filter(chosen) {
        for _ in 0..WARM_UP_RUNS {
            one_run(&env, peer);
        }
        let mut latencies = Vec::with_capacity(runs);
        let (mut released, mut no_job_left) = (0, 0);
        for _ in 0..runs {
            let (latency, was_released, none_left) = one_run(&env, peer);
            latencies.push(latency);
            released += usize::from(was_released);
            no_job_left += usize::from(none_left);
        }
        latencies.sort_unstable();
        let (min, median, p99, max) = (
            latencies[0],
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies[runs - 1],
        );
        println!(
            "{:<26} {:>10.1?} {:>10.1?} {:>10.1?} {:>10.1?}  {released}/{runs}, {no_job_left}/{runs}",
            peer.id(),
            min,
            median,
            p99,
            max
        );
        json.push(format!(
            "  {{\"peer\": \"{}\", \"runs\": {runs}, \"min_ns\": {}, \"median_ns\": {}, \"p99_ns\": {}, \"max_ns\": {}, \"released\": {released}, \"no_job_left\": {no_job_left}}}",
            peer.id(),
            min.as_nanos(),
            median.as_nanos(),
            p99.as_nanos(),
            max.as_nanos()
        ));
    }
    if only.is_some() {
        println!("some peers only: abort.json left as it was");
        return;
    }
    let path = results_dir().join("abort.json");
    std::fs::write(&path, format!("[\n{}\n]\n", json.join(",\n"))).expect("write abort.json");
    println!("wrote {}", path.display());
}
