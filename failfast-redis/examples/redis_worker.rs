//! A worker process of a Redis stream consumer group: run several, kill
//! one, and the others take over its entries.
//!
//! ```sh
//! redis-server --port 6379 &
//! cargo run -p failfast-redis --example redis_worker --features tokio -- --fill 1000
//! cargo run -p failfast-redis --example redis_worker --features tokio -- --name w1 --work-ms 5 &
//! cargo run -p failfast-redis --example redis_worker --features tokio -- --name w2 --work-ms 5 &
//! ```
//!
//! Ctrl-C closes the run: the entries that entered the pool are finished
//! and acknowledged, the ones read ahead are released for the other
//! workers; a second Ctrl-C aborts (in-flight entries are released too).
//! An entry with a field `fail` fails (and ends in the dead-letter stream
//! after its last delivery). A lost Redis aborts the worker with exit
//! status 1.
//!
//! Options: `--url URL` (redis://127.0.0.1:6379/), `--stream KEY` (jobs),
//! `--group NAME` (workers), `--name NAME` (worker-<pid>), `--workers N`
//! (8), `--queue N` (8), `--claim-idle-ms MS` (30000), `--max-deliveries
//! N` (5), `--work-ms MS` (0: how long each entry takes), `--record KEY`
//! (count each handled id in hash KEY), `--audit KEY` (count each
//! acknowledgement in hash KEY), `--until-drained` (stop when nothing is
//! left), `--fill N` (add N entries to the stream and exit).

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use failfast::Control;
use failfast_redis::{Consumer, Entry};

struct Options {
    url: String,
    stream: String,
    group: String,
    name: String,
    workers: usize,
    queue: usize,
    claim_idle: Duration,
    max_deliveries: u64,
    work: Duration,
    record: Option<String>,
    audit: Option<String>,
    until_drained: bool,
    fill: Option<usize>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        url: "redis://127.0.0.1:6379/".into(),
        stream: "jobs".into(),
        group: "workers".into(),
        name: format!("worker-{}", std::process::id()),
        workers: 8,
        queue: 8,
        claim_idle: Duration::from_secs(30),
        max_deliveries: 5,
        work: Duration::ZERO,
        record: None,
        audit: None,
        until_drained: false,
        fill: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--until-drained" {
            o.until_drained = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| -> Result<u64, String> {
            value.parse().map_err(|e| format!("{what} {value:?}: {e}"))
        };
        match flag.as_str() {
            "--url" => o.url = value,
            "--stream" => o.stream = value,
            "--group" => o.group = value,
            "--name" => o.name = value,
            "--workers" => o.workers = number("--workers")? as usize,
            "--queue" => o.queue = number("--queue")? as usize,
            "--claim-idle-ms" => o.claim_idle = Duration::from_millis(number("--claim-idle-ms")?),
            "--max-deliveries" => o.max_deliveries = number("--max-deliveries")?,
            "--work-ms" => o.work = Duration::from_millis(number("--work-ms")?),
            "--record" => o.record = Some(value),
            "--audit" => o.audit = Some(value),
            "--fill" => o.fill = Some(number("--fill")? as usize),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.workers == 0 || o.queue == 0 || o.max_deliveries == 0 || o.claim_idle.is_zero() {
        return Err(
            "--workers, --queue, --max-deliveries and --claim-idle-ms must be positive".into(),
        );
    }
    Ok(o)
}

async fn connect(url: &str) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await
}

async fn fill(o: &Options, n: usize) -> redis::RedisResult<()> {
    let mut con = connect(&o.url).await?;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("XADD")
                .arg(&o.stream)
                .arg("*")
                .arg("n")
                .arg(i)
                .ignore();
        }
        pipe.query_async::<()>(&mut con).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("redis_worker: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(n) = o.fill {
        return match fill(&o, n).await {
            Ok(()) => {
                println!("added {n} entries to {}", o.stream);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("redis_worker: {e}");
                ExitCode::FAILURE
            }
        };
    }

    // Ctrl-C: close (finish what entered, release the rest); again: abort.
    let control = Control::new();
    let on_signal = control.clone();
    let presses = AtomicUsize::new(0);
    ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("closing: finishing the entries in the pool, releasing the rest");
            on_signal.close();
        } else {
            on_signal.abort();
        }
    })
    .expect("a Ctrl-C handler");

    // A connection of its own for the handler's writes.
    let recorder = match &o.record {
        None => None,
        Some(key) => match connect(&o.url).await {
            Ok(con) => Some((con, key.clone())),
            Err(e) => {
                eprintln!("redis_worker: cannot connect to {}: {e}", o.url);
                return ExitCode::FAILURE;
            }
        },
    };

    let mut consumer = Consumer::new(&o.url, &o.stream, &o.group, &o.name)
        .workers(o.workers)
        .queue(o.queue)
        .claim_idle(o.claim_idle)
        .max_deliveries(o.max_deliveries)
        .block(Duration::from_millis(100))
        .control(&control);
    if let Some(key) = &o.audit {
        consumer = consumer.audit(key);
    }
    if o.until_drained {
        consumer = consumer.until_drained();
    }

    let clock = Instant::now();
    let work = o.work;
    let result = consumer
        .run(|entry: Entry| {
            let recorder = recorder.clone();
            async move {
                if entry.get("fail").is_ok() {
                    return Err(format!("entry {} asked to fail", entry.id()));
                }
                if !work.is_zero() {
                    tokio::time::sleep(work).await;
                }
                if let Some((mut con, key)) = recorder {
                    redis::cmd("HINCRBY")
                        .arg(&key)
                        .arg(entry.id())
                        .arg(1)
                        .query_async::<i64>(&mut con)
                        .await
                        .map_err(|e| format!("recording {}: {e}", entry.id()))?;
                }
                Ok(())
            }
        })
        .await;
    let seconds = clock.elapsed().as_secs_f64();
    let (report, failure) = match &result {
        Ok(report) => (report, None),
        Err(abort) => (abort.report(), Some(abort)),
    };
    println!(
        "{}: completed {}, acked elsewhere {}, failed {}, dead-lettered {}, released {} in {seconds:.2} s",
        o.name,
        report.completed().len(),
        report.acked_elsewhere().len(),
        report.failed().len(),
        report.dead_lettered().len(),
        report.released().len(),
    );
    match failure {
        None => ExitCode::SUCCESS,
        Some(abort) => {
            eprintln!("{}: aborted: {abort}", o.name);
            if let Some(e) = report.release_error() {
                eprintln!("{}: could not release the entries it held: {e}", o.name);
            }
            ExitCode::FAILURE
        }
    }
}
