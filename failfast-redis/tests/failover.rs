//! Three `redis_worker` processes share one stream; one is killed with
//! SIGKILL midway; the other two take over its entries.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{RedisServer, add_numbered, pending, wait_until};

const ENTRIES: usize = 10_000;
const WORKERS: usize = 8;
const QUEUE: usize = 8;

/// The example binary, which `cargo test` builds beside the tests.
fn worker_binary() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let path = deps
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("examples").join("redis_worker"))
        .unwrap();
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo test -p failfast-redis --all-features` \
         (which builds the examples) or `cargo build -p failfast-redis --example redis_worker --features tokio`",
        path.display()
    );
    path
}

fn spawn_worker(server: &RedisServer, name: &str) -> Child {
    Command::new(worker_binary())
        .args([
            "--url",
            &server.url(),
            "--stream",
            "jobs",
            "--group",
            "workers",
        ])
        .args(["--name", name, "--workers", &WORKERS.to_string()])
        .args(["--queue", &QUEUE.to_string(), "--claim-idle-ms", "300"])
        .args([
            "--work-ms",
            "1",
            "--record",
            "processed",
            "--audit",
            "acked",
        ])
        .arg("--until-drained")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the redis_worker example starts")
}

#[test]
fn a_killed_worker_loses_nothing_and_duplicates_at_most_what_it_held() {
    let server = RedisServer::start();
    let mut con = server.con();
    let ids = add_numbered(&mut con, "jobs", ENTRIES);
    let clock = Instant::now();
    let mut workers: Vec<Child> = ["w1", "w2", "w3"]
        .iter()
        .map(|name| spawn_worker(&server, name))
        .collect();

    // Kill w1 in the middle of the run.
    wait_until("3000 entries processed", Duration::from_secs(60), || {
        redis::cmd("HLEN")
            .arg("processed")
            .query::<usize>(&mut con)
            .unwrap()
            >= 3000
    });
    workers[0].kill().unwrap();
    let killed = workers.remove(0).wait_with_output().unwrap();
    assert!(!killed.status.success(), "w1 was killed");
    let killed_at = clock.elapsed();
    // What w1 left pending: the survivors must claim it.
    type Summary = (u64, Option<String>, Option<String>, Vec<(String, String)>);
    let summary: Summary = redis::cmd("XPENDING")
        .arg("jobs")
        .arg("workers")
        .query(&mut con)
        .unwrap();
    let orphaned: u64 = summary
        .3
        .iter()
        .find(|(name, _)| name == "w1")
        .map_or(0, |(_, n)| n.parse().unwrap());
    assert!(orphaned > 0, "w1 was killed holding entries");
    assert!(orphaned as usize <= WORKERS + QUEUE, "w1 held {orphaned}");

    for worker in workers {
        let watchdog = Instant::now();
        let mut worker = worker;
        wait_until(
            "the survivors to drain the stream",
            Duration::from_secs(120),
            || worker.try_wait().unwrap().is_some(),
        );
        let output = worker.wait_with_output().unwrap();
        assert!(output.status.success(), "a survivor failed: {output:?}");
        eprintln!(
            "{} (after {:?})",
            String::from_utf8_lossy(&output.stdout).trim(),
            watchdog.elapsed()
        );
    }
    let took = clock.elapsed();

    let processed: HashMap<String, u64> = redis::cmd("HGETALL")
        .arg("processed")
        .query(&mut con)
        .unwrap();
    let acked: HashMap<String, u64> = redis::cmd("HGETALL").arg("acked").query(&mut con).unwrap();
    // No entry lost: each processed at least once, acknowledged exactly once.
    assert!(
        ids.iter()
            .all(|id| processed.get(id).is_some_and(|&n| n >= 1))
    );
    assert_eq!(processed.len(), ENTRIES);
    assert!(ids.iter().all(|id| acked.get(id) == Some(&1)));
    assert_eq!(acked.len(), ENTRIES);
    assert_eq!(pending(&mut con, "jobs", "workers"), 0);
    let duplicates: u64 = processed.values().map(|n| n - 1).sum();
    eprintln!(
        "failover: {ENTRIES} entries, {duplicates} processed twice, w1 killed after {killed_at:?} holding {orphaned}, all done in {took:?}"
    );
    assert!(
        duplicates as usize <= WORKERS + QUEUE,
        "{duplicates} duplicates, more than the killed worker could hold"
    );
}
