//! Entries per second through a `Consumer` with one and three consumers,
//! against a plain hand-written `XREADGROUP`/`XACK` loop, in the same run,
//! on a `redis-server` of its own (which must be installed).
//!
//! ```sh
//! cargo bench -p failfast-redis --bench throughput --features tokio
//! ```
//!
//! Each configuration drains a fresh stream of `ENTRIES` entries with a
//! handler that does nothing, `RUNS` times; the median is printed.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use failfast_redis::{Consumer, Entry};
use redis::Value;
use support::{RedisServer, add_numbered};

const ENTRIES: usize = 20_000;
const RUNS: usize = 5;
const WORKERS: usize = 8;
const QUEUE: usize = 8;

/// Drains `stream` with `consumers` failfast consumers at once.
async fn failfast(url: &str, stream: &str, consumers: usize) -> usize {
    let mut runs = Vec::new();
    for c in 0..consumers {
        let consumer = Consumer::new(url, stream, "bench", &format!("c{c}"))
            .workers(WORKERS)
            .queue(QUEUE)
            .block(Duration::from_millis(10))
            .until_drained();
        runs.push(tokio::spawn(async move {
            consumer
                .run(|_entry: Entry| async { Ok::<(), String>(()) })
                .await
                .expect("the run drains the stream")
                .completed()
                .len()
        }));
    }
    let mut done = 0;
    for run in runs {
        done += run.await.unwrap();
    }
    done
}

/// Drains `stream` with `consumers` hand-written loops at once: read up to
/// `WORKERS + QUEUE` new entries, handle each, acknowledge each.
async fn hand_loop(url: &str, stream: &str, consumers: usize) -> usize {
    let client = redis::Client::open(url).unwrap();
    let mut setup = client.get_multiplexed_async_connection().await.unwrap();
    let _: Value = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg("bench")
        .arg("0")
        .query_async(&mut setup)
        .await
        .unwrap();
    let mut loops = Vec::new();
    for c in 0..consumers {
        let client = client.clone();
        let stream = stream.to_string();
        loops.push(tokio::spawn(async move {
            let mut con = client.get_multiplexed_async_connection().await.unwrap();
            let name = format!("h{c}");
            let mut done = 0;
            loop {
                let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg("bench")
                    .arg(&name)
                    .arg("COUNT")
                    .arg(WORKERS + QUEUE)
                    .arg("STREAMS")
                    .arg(&stream)
                    .arg(">")
                    .query_async(&mut con)
                    .await
                    .unwrap();
                let Some(key) = reply.keys.into_iter().next() else {
                    return done;
                };
                if key.ids.is_empty() {
                    return done;
                }
                for entry in key.ids {
                    let acked: i64 = redis::cmd("XACK")
                        .arg(&stream)
                        .arg("bench")
                        .arg(&entry.id)
                        .query_async(&mut con)
                        .await
                        .unwrap();
                    done += acked as usize;
                }
            }
        }));
    }
    let mut done = 0;
    for l in loops {
        done += l.await.unwrap();
    }
    done
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn main() {
    let server = RedisServer::start();
    let url = server.url();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut con = server.con();
    let mut results = Vec::new();
    for consumers in [1, 3] {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for run in 0..RUNS {
            for hand in [false, true] {
                let stream = format!("bench-{consumers}-{run}-{hand}");
                add_numbered(&mut con, &stream, ENTRIES);
                let clock = Instant::now();
                let done = runtime.block_on(async {
                    if hand {
                        hand_loop(&url, &stream, consumers).await
                    } else {
                        failfast(&url, &stream, consumers).await
                    }
                });
                let rate = ENTRIES as f64 / clock.elapsed().as_secs_f64();
                assert_eq!(done, ENTRIES, "every entry handled and acknowledged once");
                if hand { &mut theirs } else { &mut ours }.push(rate);
                let _: i64 = redis::cmd("DEL").arg(&stream).query(&mut con).unwrap();
            }
        }
        let (ours, theirs) = (median(ours), median(theirs));
        println!(
            "{consumers} consumer(s): failfast-redis {ours:.0} entries/s, hand loop {theirs:.0} entries/s, ratio {:.2}",
            ours / theirs
        );
        results.push((consumers, ours, theirs));
    }
    println!(
        "({ENTRIES} entries per run, medians of {RUNS} runs; failfast-redis with {WORKERS} workers and a queue of {QUEUE}, the hand loop reading {} at a time)",
        WORKERS + QUEUE
    );
}
