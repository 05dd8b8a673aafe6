//! Peak memory: each configuration runs in a child process of its own (this
//! binary, re-run with `--child <config> <items>`), which reports its peak
//! resident set size (`VmHWM` in `/proc/self/status`) once the run is over.
//!
//! Every configuration handles a source of `items` integers with 8 workers
//! (or 8 concurrent jobs), a queue of 1,000, and the yielding job; the
//! sources are 1,000,000 and 10,000,000 items long (override with
//! `FAILFAST_BENCH_MEMORY_ITEMS=1000000,10000000`). A bounded design's peak
//! does not depend on the source's length; a design that spawns one task per
//! item up front grows with it. Results go to
//! `target/failfast-bench/memory.json`.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use common::{Env, Fail, Peer, WORKERS, results_dir, yielding};
use futures::stream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const QUEUE: usize = 1_000;

const CONFIGS: [&str; 5] = [
    "baseline",
    "failfast-inline",
    "failfast-smol",
    "failfast-tokio",
    "task-per-item",
];

/// One task per item, all spawned up front on tokio (each waits for one of
/// [`WORKERS`] semaphore permits before it runs), then joined; the first
/// error aborts the rest.
async fn task_per_item(n: u64) -> Result<usize, Fail> {
    let semaphore = Arc::new(Semaphore::new(WORKERS));
    let mut tasks = JoinSet::new();
    for x in 0..n {
        let semaphore = Arc::clone(&semaphore);
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("never closed");
            yielding(x).await
        });
    }
    let mut completed = 0;
    while let Some(joined) = tasks.join_next().await {
        if let Err(fail) = joined.expect("no job panics") {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
            return Err(fail);
        }
        completed += 1;
    }
    Ok(completed)
}

/// Runs one configuration in this process and prints its peak memory.
fn child(config: &str, n: u64) {
    let env = Env::new();
    let source = stream::iter(0..n);
    let completed = match config {
        "baseline" => None,
        "failfast-inline" => {
            Peer::FailfastInline
                .run(&env, QUEUE, source, yielding)
                .completed
        }
        "failfast-smol" => {
            Peer::FailfastSmol
                .run(&env, QUEUE, source, yielding)
                .completed
        }
        "failfast-tokio" => {
            Peer::FailfastTokio
                .run(&env, QUEUE, source, yielding)
                .completed
        }
        "task-per-item" => Some(env.tokio.block_on(task_per_item(n)).expect("no job fails")),
        other => panic!("unknown configuration {other}"),
    };
    if let Some(completed) = completed {
        assert_eq!(completed as u64, n, "{config}: every job completes");
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let peak_kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    println!("vmhwm_kb={peak_kb}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let config = &args[at + 1];
        let n = args[at + 2].parse().expect("item count");
        child(config, n);
        return;
    }
    let sizes: Vec<u64> = std::env::var("FAILFAST_BENCH_MEMORY_ITEMS")
        .ok()
        .map(|list| {
            list.split(',')
                .map(|n| n.trim().parse().expect("item count"))
                .collect()
        })
        .unwrap_or_else(|| vec![1_000_000, 10_000_000]);
    let exe = std::env::current_exe().expect("this binary");
    println!("peak memory (VmHWM), {WORKERS} workers, queue {QUEUE}, one child process per row");
    let mut json = Vec::new();
    for config in CONFIGS {
        for &n in &sizes {
            let n = if config == "baseline" { 0 } else { n };
            let start = Instant::now();
            let output = Command::new(&exe)
                .args(["--child", config, &n.to_string()])
                .output()
                .expect("run a child");
            let seconds = start.elapsed().as_secs_f64();
            assert!(
                output.status.success(),
                "{config} with {n} items failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let stdout = String::from_utf8_lossy(&output.stdout);
            let peak_kb: u64 = stdout
                .lines()
                .find_map(|line| line.strip_prefix("vmhwm_kb="))
                .and_then(|kb| kb.parse().ok())
                .expect("the child's peak");
            println!(
                "{config:<18} {n:>11} items  {:>9.1} MiB  ({seconds:.1} s)",
                peak_kb as f64 / 1024.0
            );
            json.push(format!(
                "  {{\"config\": \"{config}\", \"items\": {n}, \"peak_kb\": {peak_kb}, \"seconds\": {seconds:.3}}}"
            ));
            if config == "baseline" {
                break;
            }
        }
    }
    let path = results_dir().join("memory.json");
    std::fs::write(&path, format!("[\n{}\n]\n", json.join(",\n"))).expect("write memory.json");
    println!("wrote {}", path.display());
}
