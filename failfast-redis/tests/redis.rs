//! The consumer against a real `redis-server` (no mock): each test starts
//! its own on a free loopback port.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use failfast::Control;
use failfast_redis::{Consumer, Entry, EntryError, Error};
use redis::Value;
use support::{RedisServer, add_numbered, deliver_all_to, pending};

const STREAM: &str = "jobs";
const GROUP: &str = "workers";

/// A consumer for tests: short blocking reads, ends when drained.
fn consumer(server: &RedisServer, name: &str) -> Consumer {
    Consumer::new(&server.url(), STREAM, GROUP, name)
        .block(Duration::from_millis(50))
        .until_drained()
}

/// Each pending entry's delivery count.
fn deliveries(con: &mut redis::Connection) -> HashMap<String, u64> {
    let rows: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(STREAM)
        .arg(GROUP)
        .arg("-")
        .arg("+")
        .arg(10_000)
        .query(con)
        .unwrap();
    rows.into_iter().map(|(id, _, _, n)| (id, n)).collect()
}

fn set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_drains_the_stream_and_leaves_nothing_pending() {
    let server = RedisServer::start();
    let mut con = server.con();
    let ids = add_numbered(&mut con, STREAM, 300);
    let seen = Mutex::new(Vec::new());
    let report = consumer(&server, "c1")
        .workers(4)
        .queue(8)
        .run(|entry: Entry| {
            let seen = &seen;
            async move {
                let n: usize = entry.parse("n")?;
                seen.lock().unwrap().push((entry.id().to_string(), n));
                Ok::<(), EntryError>(())
            }
        })
        .await
        .unwrap();
    assert_eq!(set(report.completed()), set(&ids));
    assert_eq!(report.completed().len(), ids.len(), "each entry acked once");
    assert!(report.failed().is_empty() && report.released().is_empty());
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), ids.len());
    // Each handler saw its own entry's field.
    let by_id: HashMap<&String, usize> = ids.iter().zip(0..).collect();
    assert!(seen.iter().all(|(id, n)| by_id[id] == *n));
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}

#[test]
fn success_under_smol() {
    let server = RedisServer::start();
    let mut con = server.con();
    let ids = add_numbered(&mut con, STREAM, 100);
    let report = smol::block_on(consumer(&server, "c1").workers(3).run(
        |entry: Entry| async move {
            smol::Timer::after(Duration::from_millis(1)).await;
            entry.parse::<u32>("n").map(drop)
        },
    ))
    .unwrap();
    assert_eq!(set(report.completed()), set(&ids));
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}

#[tokio::test]
async fn prefetch_never_exceeds_queue_plus_workers() {
    let server = RedisServer::start();
    let mut con = server.con();
    add_numbered(&mut con, STREAM, 200);
    let (workers, queue) = (3, 2);
    let most_pending = AtomicUsize::new(0);
    let watcher = Mutex::new(server.con());
    let report = consumer(&server, "c1")
        .workers(workers)
        .queue(queue)
        .run(|_entry: Entry| {
            // The only consumer: what is pending is what it holds.
            let now = pending(&mut watcher.lock().unwrap(), STREAM, GROUP) as usize;
            most_pending.fetch_max(now, Ordering::SeqCst);
            async { Ok::<(), String>(()) }
        })
        .await
        .unwrap();
    assert_eq!(report.completed().len(), 200);
    let most = most_pending.load(Ordering::SeqCst);
    assert!(most >= workers, "it read ahead: {most}");
    assert!(most <= workers + queue, "held {most} > {}", workers + queue);
}

#[tokio::test]
async fn a_failing_entry_is_retried_then_dead_lettered_and_acked() {
    let server = RedisServer::start();
    let mut con = server.con();
    let good = add_numbered(&mut con, STREAM, 5);
    let bad: String = redis::cmd("XADD")
        .arg(STREAM)
        .arg("*")
        .arg("n")
        .arg("99")
        .arg("poison")
        .arg("yes")
        .query(&mut con)
        .unwrap();
    let calls = AtomicUsize::new(0);
    let report = consumer(&server, "c1")
        .claim_idle(Duration::from_millis(50))
        .max_deliveries(3)
        .run(|entry: Entry| {
            let calls = &calls;
            async move {
                if entry.get("poison").is_ok() {
                    calls.fetch_add(1, Ordering::SeqCst);
                    return Err(format!("cannot process {}", entry.id()));
                }
                Ok(())
            }
        })
        .await
        .unwrap();
    assert_eq!(set(report.completed()), set(&good));
    assert_eq!(calls.load(Ordering::SeqCst), 3, "three deliveries");
    let deliveries: Vec<u64> = report.failed().iter().map(|f| f.deliveries).collect();
    assert_eq!(deliveries, [1, 2]);
    assert!(report.failed().iter().all(|f| f.id == bad));
    let dead = report.dead_lettered();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].id.as_str(), dead[0].deliveries), (bad.as_str(), 3));

    let entries: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
        .arg(format!("{STREAM}:dead"))
        .arg("-")
        .arg("+")
        .query(&mut con)
        .unwrap();
    assert_eq!(entries.len(), 1);
    let fields = &entries[0].1;
    assert_eq!(fields["source-id"], bad);
    assert_eq!(fields["error"], format!("cannot process {bad}"));
    assert_eq!(fields["deliveries"], "3");
    assert_eq!(fields["consumer"], "c1");
    assert_eq!(
        (fields["n"].as_str(), fields["poison"].as_str()),
        ("99", "yes")
    );
    assert_eq!(
        pending(&mut con, STREAM, GROUP),
        0,
        "the dead entry was acked"
    );
}

#[tokio::test]
async fn bad_input_is_a_per_entry_error_and_a_panic_too() {
    let server = RedisServer::start();
    let mut con = server.con();
    let good = add_numbered(&mut con, STREAM, 3);
    let mut add = |fields: &[(&str, &[u8])]| -> String {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(STREAM).arg("*");
        for (k, v) in fields {
            cmd.arg(*k).arg(*v);
        }
        cmd.query(&mut con).unwrap()
    };
    let missing = add(&[("other", b"1")]);
    let not_utf8 = add(&[("n", b"\xff\xfe")]);
    let not_a_number = add(&[("n", b"seven")]);
    let panics = add(&[("n", b"13")]);
    let report = consumer(&server, "c1")
        .max_deliveries(1)
        .run(|entry: Entry| async move {
            let n: u64 = entry.parse("n")?;
            assert_ne!(n, 13, "thirteen is unlucky");
            Ok::<(), EntryError>(())
        })
        .await
        .unwrap();
    assert_eq!(set(report.completed()), set(&good));
    let errors: HashMap<&str, &str> = report
        .dead_lettered()
        .iter()
        .map(|f| (f.id.as_str(), f.error.as_str()))
        .collect();
    assert_eq!(errors.len(), 4);
    assert_eq!(
        errors[missing.as_str()],
        format!("entry {missing} has no field \"n\"")
    );
    assert_eq!(
        errors[not_utf8.as_str()],
        format!("entry {not_utf8}: field \"n\" is not UTF-8")
    );
    assert_eq!(
        errors[not_a_number.as_str()],
        format!("entry {not_a_number}: field \"n\" is invalid: invalid digit found in string")
    );
    assert!(
        errors[panics.as_str()].starts_with(
            "the handler panicked: assertion `left != right` failed: thirteen is unlucky"
        ),
        "{}",
        errors[panics.as_str()]
    );
    let mut con = server.con();
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_releases_in_flight_and_prefetched_entries_to_another_consumer_at_once() {
    let server = RedisServer::start();
    let mut con = server.con();
    let ids = add_numbered(&mut con, STREAM, 40);
    let (workers, queue) = (2, 3);
    let control = Control::new();
    let started = AtomicUsize::new(0);
    let abort = Consumer::new(&server.url(), STREAM, GROUP, "doomed")
        .workers(workers)
        .queue(queue)
        .claim_idle(Duration::from_secs(60))
        .control(&control)
        .run(|_entry: Entry| {
            let (started, control) = (&started, &control);
            async move {
                if started.fetch_add(1, Ordering::SeqCst) + 1 == workers {
                    control.abort();
                }
                std::future::pending::<Result<(), String>>().await
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(abort.error(), Error::Aborted), "{abort}");
    let report = abort.report();
    assert!(report.completed().is_empty());
    let released = set(report.released());
    assert!(
        released.len() >= workers && released.len() <= workers + queue,
        "released {released:?}"
    );
    assert!(released.is_subset(&set(&ids)));
    assert_eq!(pending(&mut con, STREAM, GROUP) as usize, released.len());
    // The entries in flight used up a delivery; those never started got
    // theirs back.
    let counts = deliveries(&mut con);
    let used: Vec<u64> = released.iter().map(|id| counts[id]).collect();
    assert_eq!(
        used.iter().filter(|&&n| n == 1).count(),
        workers,
        "{used:?}"
    );
    assert_eq!(
        used.iter().filter(|&&n| n == 0).count(),
        released.len() - workers
    );

    // Another consumer, whose claim idle time is a minute, takes them at once.
    let clock = Instant::now();
    let rescue = consumer(&server, "rescuer")
        .claim_idle(Duration::from_secs(60))
        .run(|_entry: Entry| async { Ok::<(), String>(()) })
        .await
        .unwrap();
    assert!(
        clock.elapsed() < Duration::from_secs(20),
        "took {:?}",
        clock.elapsed()
    );
    assert_eq!(set(rescue.completed()), set(&ids));
    assert!(released.is_subset(&set(rescue.completed())));
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_finishes_what_entered_and_releases_what_was_read_ahead() {
    let server = RedisServer::start();
    let mut con = server.con();
    let ids = add_numbered(&mut con, STREAM, 100);
    let control = Control::new();
    let handled = Mutex::new(Vec::new());
    let report = Consumer::new(&server.url(), STREAM, GROUP, "closing")
        .workers(2)
        .queue(4)
        .block(Duration::from_millis(50))
        .claim_idle(Duration::from_secs(60))
        .control(&control)
        .run(|entry: Entry| {
            let (handled, control) = (&handled, &control);
            async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                let mut handled = handled.lock().unwrap();
                handled.push(entry.id().to_string());
                if handled.len() == 10 {
                    control.close();
                }
                Ok::<(), String>(())
            }
        })
        .await
        .unwrap();
    assert!(report.closed_early());
    let handled = handled.into_inner().unwrap();
    // Everything that entered the pool was finished and acknowledged.
    assert_eq!(set(report.completed()), set(&handled));
    assert!(handled.len() >= 10);
    let (completed, released) = (set(report.completed()), set(report.released()));
    assert!(completed.is_disjoint(&released));
    assert_eq!(pending(&mut con, STREAM, GROUP) as usize, released.len());

    let rest = consumer(&server, "next")
        .claim_idle(Duration::from_secs(60))
        .run(|_entry: Entry| async { Ok::<(), String>(()) })
        .await
        .unwrap();
    let all: BTreeSet<String> = completed.union(&set(rest.completed())).cloned().collect();
    assert_eq!(all, set(&ids));
    assert!(completed.is_disjoint(&set(rest.completed())));
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}

#[tokio::test]
async fn a_restart_reads_its_own_pending_entries_first() {
    let server = RedisServer::start();
    let mut con = server.con();
    let ids = add_numbered(&mut con, STREAM, 20);
    // A previous run of "c1" read them all and died before acknowledging.
    deliver_all_to(&mut con, STREAM, GROUP, "c1");
    assert_eq!(pending(&mut con, STREAM, GROUP), 20);
    // Claiming from others would wait a minute: these come from its own list.
    let clock = Instant::now();
    let report = consumer(&server, "c1")
        .claim_idle(Duration::from_secs(60))
        .run(|_entry: Entry| async { Ok::<(), String>(()) })
        .await
        .unwrap();
    assert!(clock.elapsed() < Duration::from_secs(20));
    assert_eq!(set(report.completed()), set(&ids));
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_in_bounded_time() {
    let port = support::free_port();
    let clock = Instant::now();
    let abort = Consumer::new(&format!("redis://127.0.0.1:{port}/"), STREAM, GROUP, "c1")
        .timeouts(Duration::from_secs(2), Duration::from_secs(2))
        .run(|_entry: Entry| async { Ok::<(), String>(()) })
        .await
        .unwrap_err();
    assert!(clock.elapsed() < Duration::from_secs(10));
    assert!(matches!(abort.error(), Error::Connect { .. }), "{abort}");
    let message = abort.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot connect to Redis at redis://127.0.0.1:{port}/: "
        )),
        "{message}"
    );

    let abort = Consumer::new("http://nowhere", STREAM, GROUP, "c1")
        .run(|_entry: Entry| async { Ok::<(), String>(()) })
        .await
        .unwrap_err();
    assert!(matches!(abort.error(), Error::InvalidUrl { .. }), "{abort}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_run_aborts_and_a_restart_finds_every_unacked_entry_pending() {
    let server = Mutex::new(RedisServer::start_persistent());
    let url = server.lock().unwrap().url();
    let ids = add_numbered(&mut server.lock().unwrap().con(), STREAM, 200);
    let handled = Mutex::new(Vec::new());
    let clock = Instant::now();
    let abort = Consumer::new(&url, STREAM, GROUP, "c1")
        .workers(2)
        .queue(2)
        .block(Duration::from_millis(50))
        .timeouts(Duration::from_secs(2), Duration::from_secs(2))
        .run(|entry: Entry| {
            let (handled, server) = (&handled, &server);
            async move {
                let count = {
                    let mut handled = handled.lock().unwrap();
                    handled.push(entry.id().to_string());
                    handled.len()
                };
                if count == 30 {
                    server.lock().unwrap().kill();
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                Ok::<(), String>(())
            }
        })
        .await
        .unwrap_err();
    assert!(
        clock.elapsed() < Duration::from_secs(20),
        "took {:?}",
        clock.elapsed()
    );
    assert!(
        matches!(abort.error(), Error::Ack { .. } | Error::Command { .. }),
        "{abort}"
    );
    assert!(abort.to_string().contains("failed"), "{abort}");
    let first = abort.report();
    assert!(first.release_error().is_some(), "the server was gone");
    let acked = set(first.completed());
    assert!(!acked.is_empty() && acked.len() < ids.len());

    let mut server = server.into_inner().unwrap();
    server.restart();
    let mut con = server.con();
    // Every acknowledgement the run saw survived; every delivered entry it
    // did not see acknowledged is still pending.
    let pending_ids: BTreeSet<String> = {
        let rows: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
            .arg(STREAM)
            .arg(GROUP)
            .arg("-")
            .arg("+")
            .arg(1000)
            .query(&mut con)
            .unwrap();
        rows.into_iter().map(|row| row.0).collect()
    };
    assert!(pending_ids.is_disjoint(&acked));
    let handled = set(&handled.into_inner().unwrap());
    // At most one acknowledgement per worker can have been written without
    // its reply arriving.
    let unseen_acks = handled
        .difference(&acked)
        .filter(|id| !pending_ids.contains(*id))
        .count();
    assert!(unseen_acks <= 2, "{unseen_acks}");

    let second = consumer(&server, "c1")
        .run(|_entry: Entry| async { Ok::<(), String>(()) })
        .await
        .unwrap();
    let again = set(second.completed());
    assert!(again.is_disjoint(&acked), "acknowledged once");
    assert!(
        pending_ids.is_subset(&again),
        "the restart found every pending entry"
    );
    let all: BTreeSet<String> = acked.union(&again).cloned().collect();
    assert_eq!(set(&ids).difference(&all).count(), unseen_acks);
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}

#[test]
fn an_entry_deleted_while_pending_is_acknowledged_not_handled() {
    let server = RedisServer::start();
    let mut con = server.con();
    let ids = add_numbered(&mut con, STREAM, 5);
    // Delivered to "c1" (which then died), then deleted from the stream.
    deliver_all_to(&mut con, STREAM, GROUP, "c1");
    let _: i64 = redis::cmd("XDEL")
        .arg(STREAM)
        .arg(&ids[2])
        .query(&mut con)
        .unwrap();
    let handled = Mutex::new(Vec::new());
    let report = smol::block_on(consumer(&server, "c1").run(|entry: Entry| {
        handled.lock().unwrap().push(entry.id().to_string());
        async { Ok::<(), String>(()) }
    }))
    .unwrap();
    assert_eq!(report.deleted(), [ids[2].clone()]);
    let mut rest = ids.clone();
    rest.remove(2);
    assert_eq!(set(report.completed()), set(&rest));
    assert_eq!(set(&handled.into_inner().unwrap()), set(&rest));
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}

#[tokio::test]
async fn an_entry_whose_consumers_keep_dying_is_dead_lettered_without_handling() {
    let server = RedisServer::start();
    let mut con = server.con();
    let ids = add_numbered(&mut con, STREAM, 4);
    // "c1" read them all, then the first one was claimed three more times
    // by consumers that died handling it: four deliveries, none finished.
    deliver_all_to(&mut con, STREAM, GROUP, "c1");
    for _ in 0..3 {
        let _: Value = redis::cmd("XCLAIM")
            .arg(STREAM)
            .arg(GROUP)
            .arg("c1")
            .arg(0)
            .arg(&ids[0])
            .query(&mut con)
            .unwrap();
    }
    assert_eq!(deliveries(&mut con)[&ids[0]], 4);
    let handled = Mutex::new(Vec::new());
    let report = consumer(&server, "c1")
        .max_deliveries(4)
        .run(|entry: Entry| {
            handled.lock().unwrap().push(entry.id().to_string());
            async { Ok::<(), String>(()) }
        })
        .await
        .unwrap();
    // Read again from its own pending list: the fifth delivery, one too many.
    let dead = report.dead_lettered();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].id.as_str(), dead[0].deliveries),
        (ids[0].as_str(), 5)
    );
    assert!(
        dead[0]
            .error
            .starts_with("delivered 5 times without its handler finishing")
    );
    let handled = handled.into_inner().unwrap();
    assert!(!handled.contains(&ids[0]), "its handler was not called");
    assert_eq!(set(&handled), set(&ids[1..]));
    assert_eq!(set(report.completed()), set(&ids[1..]));
    let dead_letters: i64 = redis::cmd("XLEN")
        .arg(format!("{STREAM}:dead"))
        .query(&mut con)
        .unwrap();
    assert_eq!(dead_letters, 1);
    assert_eq!(pending(&mut con, STREAM, GROUP), 0);
}
