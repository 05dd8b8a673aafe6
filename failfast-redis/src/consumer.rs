//! The consumer: [`Consumer`], its settings, and the run that reads the
//! stream into a failfast pool.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use event_listener::Event;
use failfast::{Control, Outputs, Pool};
use futures_util::FutureExt as _;
use futures_util::future::{Either, join, select};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Value};

use crate::entry::Entry;
use crate::error::Error;
use crate::reply::{self, RawEntry};
use crate::report::{Abort, Failure, Report};

/// How long a released entry looks idle: a year, longer than any sensible
/// claim idle time, so the next claim by any consumer takes it at once.
const RELEASED_IDLE_MS: u64 = 365 * 24 * 60 * 60 * 1000;

/// Acknowledges an entry and, when that removed it from the pending list,
/// counts it in the audit hash, atomically.
const AUDITED_ACK: &str = "local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) \
     if n == 1 then redis.call('HINCRBY', KEYS[2], ARGV[2], 1) end return n";

/// A consumer of a Redis stream through a consumer group, which feeds the
/// entries to a failfast [`Pool`] and acknowledges each one only after its
/// handler succeeded.
///
/// # Delivery
///
/// At least once. An entry is acknowledged (`XACK`) only after its handler
/// returned `Ok`; if the process dies in between, or the acknowledgement
/// is lost, the entry is delivered again, to this consumer's next run or to
/// another consumer. **Handlers must be idempotent.** Exactly once is not
/// promised because the handler's effects and the acknowledgement are two
/// writes to two systems, with no transaction spanning both: whichever
/// comes first, a crash between them either repeats the effect or loses it,
/// and this crate chooses to repeat. (A handler whose effects live in the
/// same Redis can make them idempotent itself, keyed by
/// [`Entry::id`].) An entry whose handler runs longer than the
/// [claim idle time](Consumer::claim_idle) may be claimed and handled by
/// another consumer meanwhile.
///
/// # What a run does
///
/// 1. Connects (two connections: one for the blocking reads, one for
///    everything else) and creates the group if it does not exist
///    (`XGROUP CREATE ... 0 MKSTREAM`: a new group reads the stream from its
///    start).
/// 2. Reads this consumer's own pending entries (`XREADGROUP` from ID `0`):
///    what a previous run of the same consumer name left unacknowledged.
/// 3. Claims the entries idle longer than the [claim idle
///    time](Consumer::claim_idle) from any consumer of the group
///    (`XAUTOCLAIM`): those of consumers that died, released ones, and
///    failed ones due for a retry.
/// 4. Reads new entries (`XREADGROUP ... >`), blocking up to the
///    [block time](Consumer::block) when there are none, and claims again
///    each time the claim idle time has passed.
///
/// It never holds more than `workers + queue` entries (in the pool's queue,
/// in flight, or read ahead): it reads only as many as there is room for,
/// so a slow pool leaves the rest in Redis.
///
/// Each entry's handler returns `Ok` (the entry is acknowledged) or an
/// error (or panics): the entry then stays pending and is delivered again
/// once idle for the claim idle time, up to the
/// [maximum number of deliveries](Consumer::max_deliveries); the failure on
/// the last one moves it to the [dead-letter
/// stream](Consumer::dead_letter) and acknowledges it. Handler errors never
/// stop the run. A Redis failure does: the run aborts (failfast), and
/// everything it held is released.
///
/// # Ending
///
/// A run goes on until it is closed or aborted through its
/// [`Control`](Consumer::control), until Redis fails, or, with
/// [`until_drained`](Consumer::until_drained), until nothing is left to do.
/// Closed, it finishes the entries that entered the pool and releases the
/// ones it had read ahead; aborted, it also releases those in flight and
/// queued. A released entry stays pending but looks idle for a year, so the
/// next claim of any consumer (whatever its claim idle time) takes it at
/// once: Redis has no negative acknowledgement. An entry whose handler
/// never started gets its delivery back (its delivery count is lowered by
/// one), so the claim that follows does not use up one of its deliveries;
/// an entry cancelled in flight keeps the delivery it used.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), failfast_redis::Abort> {
/// use std::time::Duration;
/// use failfast_redis::Consumer;
///
/// let report = Consumer::new("redis://127.0.0.1:6379", "orders", "billing", "worker-1")
///     .workers(8)
///     .queue(32)
///     .claim_idle(Duration::from_secs(30))
///     .max_deliveries(5)
///     .run(|entry| async move {
///         let amount: u64 = entry.parse("amount")?;
///         println!("{}: charging {amount}", entry.id());
///         Ok::<(), failfast_redis::EntryError>(())
///     })
///     .await?;
/// println!("{} entries handled", report.completed().len());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a consumer does nothing until `run` is called and awaited"]
pub struct Consumer {
    url: String,
    stream: String,
    group: String,
    name: String,
    workers: usize,
    queue: usize,
    claim_idle: Duration,
    max_deliveries: u64,
    dead_letter: String,
    block: Duration,
    connect_timeout: Duration,
    response_timeout: Duration,
    until_drained: bool,
    create_group: bool,
    audit: Option<String>,
    control: Option<Control>,
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("url", &self.url)
            .field("stream", &self.stream)
            .field("group", &self.group)
            .field("name", &self.name)
            .field("workers", &self.workers)
            .field("queue", &self.queue)
            .field("claim_idle", &self.claim_idle)
            .field("max_deliveries", &self.max_deliveries)
            .field("dead_letter", &self.dead_letter)
            .field("block", &self.block)
            .field("until_drained", &self.until_drained)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// A consumer named `consumer` in group `group` of the stream at key
    /// `stream`, on the server at `url` (`redis://host:port/db`).
    ///
    /// Defaults: 4 workers, a queue of 4, a claim idle time of 30 s, 5
    /// deliveries, dead-letter stream `<stream>:dead`, reads blocking 1 s,
    /// connect and response timeouts of 5 s, the group created if missing,
    /// running until closed.
    ///
    /// # Panics
    ///
    /// Panics if `stream`, `group` or `consumer` is empty. (A bad URL is an
    /// [`Error::InvalidUrl`] from [`run`](Consumer::run).)
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast_redis::Consumer;
    ///
    /// let consumer = Consumer::new("redis://127.0.0.1:6379", "orders", "billing", "worker-1");
    /// assert_eq!(consumer.dead_letter_stream(), "orders:dead");
    /// ```
    pub fn new(url: &str, stream: &str, group: &str, consumer: &str) -> Consumer {
        for (what, value) in [("stream", stream), ("group", group), ("consumer", consumer)] {
            assert!(
                !value.is_empty(),
                "failfast-redis: the {what} name must not be empty"
            );
        }
        Consumer {
            url: url.to_string(),
            stream: stream.to_string(),
            group: group.to_string(),
            name: consumer.to_string(),
            workers: 4,
            queue: 4,
            claim_idle: Duration::from_secs(30),
            max_deliveries: 5,
            dead_letter: format!("{stream}:dead"),
            block: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(5),
            until_drained: false,
            create_group: true,
            audit: None,
            control: None,
        }
    }

    /// Sets the number of workers (entries handled at once).
    ///
    /// # Panics
    ///
    /// Panics if `workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c").workers(16);
    /// assert_eq!(consumer.prefetch_bound(), 16 + 4);
    /// ```
    pub fn workers(self, workers: usize) -> Consumer {
        assert!(
            workers > 0,
            "failfast-redis: a consumer needs at least one worker, got 0"
        );
        Consumer { workers, ..self }
    }

    /// Sets the pool's queue capacity: how many entries may wait for a free
    /// worker. With the workers, it bounds how many entries the consumer
    /// holds ([`prefetch_bound`](Consumer::prefetch_bound)).
    ///
    /// # Panics
    ///
    /// Panics if `queue` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c").queue(60);
    /// assert_eq!(consumer.prefetch_bound(), 4 + 60);
    /// ```
    pub fn queue(self, queue: usize) -> Consumer {
        assert!(
            queue > 0,
            "failfast-redis: the queue capacity must be at least 1, got 0"
        );
        Consumer { queue, ..self }
    }

    /// Sets how long an entry must have been idle (delivered and not
    /// acknowledged) before this consumer claims it from another consumer,
    /// or takes it again after a failure; also how often it looks for such
    /// entries while it runs. Pick it longer than a handler takes: an entry
    /// still in flight that long may be claimed by another consumer.
    ///
    /// # Panics
    ///
    /// Panics if `idle` is below one millisecond (every consumer would claim
    /// every other's entries in flight).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let _consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .claim_idle(Duration::from_secs(60));
    /// ```
    pub fn claim_idle(self, idle: Duration) -> Consumer {
        assert!(
            idle >= Duration::from_millis(1),
            "failfast-redis: the claim idle time must be at least 1 ms, got {idle:?}"
        );
        Consumer {
            claim_idle: idle,
            ..self
        }
    }

    /// Sets how many deliveries an entry gets: when its handler fails on
    /// delivery `max` (or later), the entry is moved to the dead-letter
    /// stream and acknowledged. 1 means no retry.
    ///
    /// An entry that comes back (from this consumer's own pending list, or
    /// claimed) with more than `max` deliveries, none of which ended in a
    /// failure (its consumers died or were stopped while handling it, each
    /// time: a handler that crashes the process, say), is dead-lettered
    /// without calling the handler, with an error saying so.
    ///
    /// # Panics
    ///
    /// Panics if `max` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let _consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .max_deliveries(3);
    /// ```
    pub fn max_deliveries(self, max: u64) -> Consumer {
        assert!(
            max > 0,
            "failfast-redis: an entry needs at least one delivery, got 0"
        );
        Consumer {
            max_deliveries: max,
            ..self
        }
    }

    /// Sets the dead-letter stream's key (by default `<stream>:dead`). Each
    /// dead-lettered entry is added to it with the fields `source-id` (the
    /// entry's id), `error` (the last error's text), `deliveries` (how many
    /// times it was delivered) and `consumer` (who gave up on it), followed
    /// by the entry's own fields.
    ///
    /// # Panics
    ///
    /// Panics if `key` is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "orders", "g", "c")
    ///     .dead_letter("orders:poison");
    /// assert_eq!(consumer.dead_letter_stream(), "orders:poison");
    /// ```
    pub fn dead_letter(self, key: &str) -> Consumer {
        assert!(
            !key.is_empty(),
            "failfast-redis: the dead-letter stream's name must not be empty"
        );
        Consumer {
            dead_letter: key.to_string(),
            ..self
        }
    }

    /// Sets how long a read waits for new entries when there are none
    /// (`XREADGROUP ... BLOCK`). A close takes effect at once; in a rare
    /// race with a read that is just starting, it may wait this long.
    ///
    /// # Panics
    ///
    /// Panics if `block` is below one millisecond (`BLOCK 0` would wait
    /// forever).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let _consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .block(Duration::from_millis(200));
    /// ```
    pub fn block(self, block: Duration) -> Consumer {
        assert!(
            block >= Duration::from_millis(1),
            "failfast-redis: the block time must be at least 1 ms, got {block:?}"
        );
        Consumer { block, ..self }
    }

    /// Sets how long connecting may take before the run fails with
    /// [`Error::Connect`], and how long a reply may take before the command
    /// fails (a blocking read gets its block time on top).
    ///
    /// # Panics
    ///
    /// Panics if either is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let _consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .timeouts(Duration::from_secs(2), Duration::from_secs(10));
    /// ```
    pub fn timeouts(self, connect: Duration, response: Duration) -> Consumer {
        assert!(
            !connect.is_zero() && !response.is_zero(),
            "failfast-redis: timeouts must not be zero"
        );
        Consumer {
            connect_timeout: connect,
            response_timeout: response,
            ..self
        }
    }

    /// Makes the run end by itself once there is nothing left to do: no new
    /// entry, nothing held, and no entry pending in the group (for any
    /// consumer: failed entries waiting for a retry and entries of dead
    /// consumers keep it going until they are claimed and settled). For
    /// batch jobs and tests; a service runs until closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let _consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .until_drained();
    /// ```
    pub fn until_drained(self) -> Consumer {
        Consumer {
            until_drained: true,
            ..self
        }
    }

    /// Whether the run creates the group if it does not exist (the
    /// default). Without it, a missing group fails the run with
    /// [`Error::Command`] (`NOGROUP`).
    ///
    /// # Examples
    ///
    /// ```
    /// let _consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .create_group(false);
    /// ```
    pub fn create_group(self, create: bool) -> Consumer {
        Consumer {
            create_group: create,
            ..self
        }
    }

    /// Counts every acknowledgement of a handled entry in the hash at
    /// `key`: `HINCRBY key <id> 1`, in the same atomic script as the
    /// `XACK`, and only when the `XACK` removed the entry from the pending
    /// list. Every consumer of the group that sets the same key writes to
    /// the same hash, so each id should show 1 there: a check that no entry
    /// was acknowledged twice, across processes, even those killed midway.
    /// (Dead-lettered entries are not counted: they are in the dead-letter
    /// stream.)
    ///
    /// # Panics
    ///
    /// Panics if `key` is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let _consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .audit("s:acks");
    /// ```
    pub fn audit(self, key: &str) -> Consumer {
        assert!(
            !key.is_empty(),
            "failfast-redis: the audit hash's name must not be empty"
        );
        Consumer {
            audit: Some(key.to_string()),
            ..self
        }
    }

    /// Lets `control` close or abort the run from outside (a Ctrl-C
    /// handler, say) and read the pool's progress. A `Control` is for one
    /// run: a second run with the same one panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let control = failfast::Control::new();
    /// let _consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .control(&control);
    /// // Elsewhere, on Ctrl-C: finish what entered, release the rest.
    /// control.close();
    /// ```
    pub fn control(self, control: &Control) -> Consumer {
        Consumer {
            control: Some(control.clone()),
            ..self
        }
    }

    /// The most entries this consumer holds at once: workers plus queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "s", "g", "c")
    ///     .workers(3)
    ///     .queue(5);
    /// assert_eq!(consumer.prefetch_bound(), 8);
    /// ```
    pub fn prefetch_bound(&self) -> usize {
        self.workers + self.queue
    }

    /// The dead-letter stream's key.
    ///
    /// # Examples
    ///
    /// ```
    /// let consumer = failfast_redis::Consumer::new("redis://127.0.0.1", "jobs", "g", "c");
    /// assert_eq!(consumer.dead_letter_stream(), "jobs:dead");
    /// ```
    pub fn dead_letter_stream(&self) -> &str {
        &self.dead_letter
    }

    /// Runs the consumer: reads the stream as the type's docs describe and
    /// calls `handler` on each entry, on the pool's workers, inside this
    /// future (so under any executor; the `redis` connection itself needs
    /// the runtime named by this crate's feature, `tokio` or `smol`).
    ///
    /// The handler's `Ok` value is dropped; its error (any `Display`) is
    /// the entry's failure, kept as text in the [`Report`] and in the
    /// dead-letter stream. A panicking handler fails its entry the same
    /// way (the panic's message is the error) and does not stop the run.
    ///
    /// # Errors
    ///
    /// An [`Abort`] with the [`Report`] of what was done, when:
    /// - the URL does not parse ([`Error::InvalidUrl`]) or no connection can
    ///   be made within the connect timeout ([`Error::Connect`]);
    /// - a stream command fails ([`Error::Command`]), an acknowledgement
    ///   ([`Error::Ack`]) or a dead-lettering ([`Error::DeadLetter`]) fails,
    ///   or Redis replies what this crate cannot read ([`Error::Reply`]):
    ///   the server went away, say;
    /// - the run is aborted through its [`Control`] ([`Error::Aborted`]).
    ///
    /// # Panics
    ///
    /// Panics if the [`Control`] given to [`control`](Consumer::control)
    /// was already used by another run.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops everything at once, without releasing: the
    /// entries it held stay pending for this consumer, read again by its
    /// next run and claimed by others after the claim idle time. Close or
    /// abort through a [`Control`] to release them promptly.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() {
    /// use failfast_redis::{Consumer, EntryError};
    ///
    /// let result = Consumer::new("redis://127.0.0.1:6379", "events", "indexer", "indexer-1")
    ///     .until_drained()
    ///     .run(|entry| async move {
    ///         let text = entry.text("body").map_err(|e| e.to_string())?;
    ///         if text.is_empty() {
    ///             return Err(format!("entry {}: empty body", entry.id()));
    ///         }
    ///         Ok(())
    ///     })
    ///     .await;
    /// match result {
    ///     Ok(report) => println!(
    ///         "{} done, {} dead-lettered",
    ///         report.completed().len(),
    ///         report.dead_lettered().len()
    ///     ),
    ///     Err(abort) => eprintln!("stopped: {abort}; released {:?}", abort.report().released()),
    /// }
    /// # }
    /// ```
    pub async fn run<F, Fut, R, E>(self, handler: F) -> Result<Report, Abort>
    where
        F: Fn(Entry) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        E: fmt::Display,
    {
        let abort = |error| Abort {
            error,
            report: Report::default(),
        };
        let (reader, writer) = self.connect().await.map_err(abort)?;
        if self.create_group {
            self.ensure_group(&mut writer.clone())
                .await
                .map_err(abort)?;
        }
        let mut reader = reader;
        let reader_id = reply::int(
            &redis::cmd("CLIENT")
                .arg("ID")
                .query_async::<Value>(&mut reader)
                .await
                .map_err(|source| self.command_error("CLIENT ID", source))
                .map_err(abort)?,
        );

        let books = Books::default();
        let bound = self.prefetch_bound();
        let (entries_tx, entries_rx) = async_channel::bounded::<Option<Entry>>(bound + 1);
        let control = self.control.clone().unwrap_or_default();
        let pool = Pool::new(self.workers)
            .queue(self.queue)
            .outputs(Outputs::Discard)
            .control(&control);

        let stop = |writer: MultiplexedConnection| {
            let books = &books;
            async move {
                books.stop();
                if let Some(id) = reader_id {
                    let mut writer = writer;
                    // Ends a blocking read at once; harmless if none is on.
                    let _ = redis::cmd("CLIENT")
                        .arg("UNBLOCK")
                        .arg(id)
                        .query_async::<Value>(&mut writer)
                        .await;
                }
            }
        };

        let read = async {
            let result = self.read_loop(&mut reader, &books, &entries_tx).await;
            if result.is_err() {
                // Tells the producer, which aborts the run.
                let _ = entries_tx.try_send(None);
            }
            entries_tx.close();
            result
        };

        let producer = |tx: failfast::Sender<Entry>| {
            let stop = &stop;
            let writer = writer.clone();
            let entries_rx = entries_rx.clone();
            async move {
                let result = loop {
                    // `None`: intake closed (the run was closed or aborted).
                    let next = {
                        let (recv, closed) = (pin!(entries_rx.recv()), pin!(tx.closed()));
                        match select(recv, closed).await {
                            Either::Left((received, _)) => Some(received),
                            Either::Right(_) => None,
                        }
                    };
                    match next {
                        Some(Ok(Some(entry))) => {
                            // Refused: the run closed or aborted; the entry is
                            // still held, and released at the end.
                            if tx.send(entry).await.is_err() {
                                break Ok(());
                            }
                        }
                        Some(Ok(None)) => {
                            break Err(Error::Pool("the reader failed".into()));
                        }
                        // The reader ended (drained or stopped), or intake closed.
                        Some(Err(_)) | None => break Ok(()),
                    }
                };
                stop(writer).await;
                result
            }
        };

        let settle = Settle {
            consumer: &self,
            books: &books,
        };
        let (handler, settle) = (&handler, &settle);
        let job = |entry: Entry| {
            let mut writer = writer.clone();
            settle.books.start(entry.shared_id());
            let started = std::panic::catch_unwind(AssertUnwindSafe(|| handler(entry.clone())));
            async move {
                let outcome = match started {
                    Err(panic) => Err(panic_message(panic.as_ref())),
                    Ok(fut) => match AssertUnwindSafe(fut).catch_unwind().await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(error)) => Err(error.to_string()),
                        Err(panic) => Err(panic_message(panic.as_ref())),
                    },
                };
                settle.entry(&mut writer, entry, outcome).await
            }
        };

        let run = async {
            let result = pool.run_with(producer, job).await;
            stop(writer.clone()).await;
            result
        };
        let (read_result, run_result) = join(read, run).await;

        let (error, closed_early) = match run_result {
            Ok(pool_report) => (read_result.err(), pool_report.closed_early()),
            Err(pool_abort) => {
                let error = match pool_abort.into_error() {
                    failfast::Error::Failed { source, .. } => source,
                    failfast::Error::Source { source, .. } => read_result.err().unwrap_or(source),
                    failfast::Error::Aborted { .. } => Error::Aborted,
                    other => Error::Pool(other.to_string()),
                };
                (Some(error), false)
            }
        };
        let mut report = books.take_report();
        report.closed_early = closed_early;
        let held = books.take_held();
        if !held.is_empty() {
            match self.release(&mut writer.clone(), held).await {
                Ok(released) => report.released = released,
                Err(e) => report.release_error = Some(e.to_string()),
            }
        }
        match error {
            None => Ok(report),
            Some(error) => Err(Abort { error, report }),
        }
    }

    async fn connect(&self) -> Result<(MultiplexedConnection, MultiplexedConnection), Error> {
        let client = Client::open(self.url.as_str()).map_err(|source| Error::InvalidUrl {
            url: self.url.clone(),
            source,
        })?;
        let config = |response: Duration| {
            AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.connect_timeout))
                .set_response_timeout(Some(response))
        };
        let connect = |source| Error::Connect {
            url: self.url.clone(),
            source,
        };
        let writer = client
            .get_multiplexed_async_connection_with_config(&config(self.response_timeout))
            .await
            .map_err(connect)?;
        let reader = client
            .get_multiplexed_async_connection_with_config(&config(
                self.response_timeout + self.block,
            ))
            .await
            .map_err(connect)?;
        Ok((reader, writer))
    }

    async fn ensure_group(&self, conn: &mut MultiplexedConnection) -> Result<(), Error> {
        let created = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async::<Value>(conn)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(source) => Err(self.command_error("XGROUP CREATE", source)),
        }
    }

    fn command_error(&self, command: &'static str, source: redis::RedisError) -> Error {
        Error::Command {
            command,
            stream: self.stream.clone(),
            source,
        }
    }

    /// Reads entries into `tx` until stopped, drained, or Redis fails.
    async fn read_loop(
        &self,
        conn: &mut MultiplexedConnection,
        books: &Books,
        tx: &async_channel::Sender<Option<Entry>>,
    ) -> Result<(), Error> {
        enum Phase {
            Own(String),
            Claim(String),
            New,
        }
        let bound = self.prefetch_bound();
        let mut phase = Phase::Own("0".to_string());
        let mut last_claim = Instant::now();
        loop {
            if books.stopped() {
                return Ok(());
            }
            let free = bound.saturating_sub(books.held());
            if free == 0 {
                let listener = books.freed.listen();
                if books.stopped() || bound > books.held() {
                    continue;
                }
                listener.await;
                continue;
            }
            match &phase {
                Phase::Own(after) => {
                    let value = self.read_group(conn, free, after, None).await?;
                    let entries = reply::read_group(value)?;
                    match entries.last() {
                        None => phase = Phase::Claim("0-0".to_string()),
                        Some((last, _)) => {
                            let next = last.to_string();
                            self.deliver(conn, books, tx, entries, Redelivered::Own)
                                .await?;
                            phase = Phase::Own(next);
                        }
                    }
                }
                Phase::Claim(cursor) => {
                    let value = redis::cmd("XAUTOCLAIM")
                        .arg(&self.stream)
                        .arg(&self.group)
                        .arg(&self.name)
                        .arg(millis(self.claim_idle))
                        .arg(cursor)
                        .arg("COUNT")
                        .arg(free)
                        .query_async::<Value>(conn)
                        .await
                        .map_err(|source| self.command_error("XAUTOCLAIM", source))?;
                    let (next, entries, deleted) = reply::auto_claim(value)?;
                    books.lock().report.deleted.extend(deleted);
                    self.deliver(conn, books, tx, entries, Redelivered::Claimed)
                        .await?;
                    if next == "0-0" {
                        last_claim = Instant::now();
                        phase = Phase::New;
                    } else {
                        phase = Phase::Claim(next);
                    }
                }
                Phase::New => {
                    if last_claim.elapsed() >= self.claim_idle {
                        phase = Phase::Claim("0-0".to_string());
                        continue;
                    }
                    let value = self.read_group(conn, free, ">", Some(self.block)).await?;
                    let entries = reply::read_group(value)?;
                    if entries.is_empty() {
                        if self.until_drained && books.held() == 0 && self.pending(conn).await? == 0
                        {
                            return Ok(());
                        }
                    } else {
                        self.deliver(conn, books, tx, entries, Redelivered::No)
                            .await?;
                    }
                }
            }
        }
    }

    async fn read_group(
        &self,
        conn: &mut MultiplexedConnection,
        count: usize,
        id: &str,
        block: Option<Duration>,
    ) -> Result<Value, Error> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&self.group)
            .arg(&self.name)
            .arg("COUNT")
            .arg(count);
        if let Some(block) = block {
            cmd.arg("BLOCK").arg(millis(block));
        }
        cmd.arg("STREAMS").arg(&self.stream).arg(id);
        cmd.query_async::<Value>(conn)
            .await
            .map_err(|source| self.command_error("XREADGROUP", source))
    }

    async fn pending(&self, conn: &mut MultiplexedConnection) -> Result<u64, Error> {
        let value = redis::cmd("XPENDING")
            .arg(&self.stream)
            .arg(&self.group)
            .query_async::<Value>(conn)
            .await
            .map_err(|source| self.command_error("XPENDING", source))?;
        reply::pending_count(value)
    }

    /// Hands read or claimed entries to the producer, skipping those this
    /// run holds already (its own, claimed back after a long idle time).
    /// Entries deleted from the stream while pending are acknowledged.
    /// Redelivered entries (`redelivered`: its own pending ones, or claimed)
    /// delivered more times than allowed without their handler ever failing
    /// (their consumers died or stopped while handling them, each time) are
    /// dead-lettered without calling the handler.
    async fn deliver(
        &self,
        conn: &mut MultiplexedConnection,
        books: &Books,
        tx: &async_channel::Sender<Option<Entry>>,
        entries: Vec<RawEntry>,
        redelivered: Redelivered,
    ) -> Result<(), Error> {
        let mut fresh = Vec::with_capacity(entries.len());
        for (id, fields) in entries {
            match fields {
                Some(fields) => {
                    if !books.lock().held.contains(&id) {
                        fresh.push(Entry::from_parts(id, fields));
                    }
                }
                None => {
                    // XAUTOCLAIM drops deleted entries from the pending list
                    // itself; a read of the own pending list does not.
                    if redelivered == Redelivered::Own {
                        redis::cmd("XACK")
                            .arg(&self.stream)
                            .arg(&self.group)
                            .arg(&*id)
                            .query_async::<Value>(conn)
                            .await
                            .map_err(|source| Error::Ack {
                                id: id.to_string(),
                                stream: self.stream.clone(),
                                source,
                            })?;
                    }
                    books.lock().report.deleted.push(id.to_string());
                }
            }
        }
        let counts = if redelivered == Redelivered::No || fresh.is_empty() {
            vec![None; fresh.len()]
        } else {
            let ids: Vec<&str> = fresh.iter().map(Entry::id).collect();
            self.deliveries(conn, &ids).await?
        };
        for (entry, count) in fresh.into_iter().zip(counts) {
            if let Some(deliveries) = count.filter(|&n| n > self.max_deliveries) {
                let failure = Failure {
                    id: entry.id().to_string(),
                    deliveries,
                    error: format!(
                        "delivered {deliveries} times without its handler finishing \
                         (its consumers stopped or died while handling it); at most {} allowed",
                        self.max_deliveries
                    ),
                };
                self.dead_letter_entry(conn, &entry, &failure).await?;
                books.lock().report.dead_lettered.push(failure);
                continue;
            }
            books.lock().held.insert(Arc::clone(entry.shared_id()));
            if tx.send(Some(entry)).await.is_err() {
                // The run has ended: the entry stays held and is released.
                return Ok(());
            }
        }
        Ok(())
    }

    /// How many times each of `ids` was delivered, `None` for those no
    /// longer pending: one pipelined `XPENDING` per id.
    async fn deliveries(
        &self,
        conn: &mut MultiplexedConnection,
        ids: &[&str],
    ) -> Result<Vec<Option<u64>>, Error> {
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("XPENDING")
                .arg(&self.stream)
                .arg(&self.group)
                .arg(*id)
                .arg(*id)
                .arg(1);
        }
        let replies = pipe
            .query_async::<Vec<Value>>(conn)
            .await
            .map_err(|source| self.command_error("XPENDING", source))?;
        replies.into_iter().map(reply::pending_deliveries).collect()
    }

    /// Copies `entry` to the dead-letter stream with its failure and
    /// acknowledges it, atomically.
    async fn dead_letter_entry(
        &self,
        conn: &mut MultiplexedConnection,
        entry: &Entry,
        failure: &Failure,
    ) -> Result<(), Error> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        let add = pipe
            .cmd("XADD")
            .arg(&self.dead_letter)
            .arg("*")
            .arg("source-id")
            .arg(entry.id())
            .arg("error")
            .arg(&failure.error)
            .arg("deliveries")
            .arg(failure.deliveries)
            .arg("consumer")
            .arg(&self.name);
        for (name, value) in entry.fields() {
            add.arg(name.as_slice()).arg(value.as_slice());
        }
        add.ignore();
        pipe.cmd("XACK")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(entry.id())
            .ignore();
        pipe.query_async::<()>(conn)
            .await
            .map_err(|source| Error::DeadLetter {
                id: entry.id().to_string(),
                dead_letter: self.dead_letter.clone(),
                source,
            })
    }

    /// Makes the `held` entries claimable by any consumer at once: they
    /// stay pending, owned by this consumer, but look idle for a year. An
    /// entry whose handler never started gets its delivery back (its
    /// delivery count is lowered by one). Returns the ids that were still
    /// pending (the others were acknowledged meanwhile).
    async fn release(
        &self,
        conn: &mut MultiplexedConnection,
        mut held: Vec<(Arc<str>, bool)>,
    ) -> Result<Vec<String>, Error> {
        held.sort_unstable_by(|a, b| stream_id_order(&a.0, &b.0));
        let unstarted: Vec<&str> = held
            .iter()
            .filter(|(_, started)| !started)
            .map(|(id, _)| &**id)
            .collect();
        let counts = if unstarted.is_empty() {
            Vec::new()
        } else {
            self.deliveries(conn, &unstarted).await?
        };
        let mut counts = unstarted.iter().copied().zip(counts);
        let mut pipe = redis::pipe();
        for (id, started) in &held {
            pipe.cmd("XCLAIM")
                .arg(&self.stream)
                .arg(&self.group)
                .arg(&self.name)
                .arg(0)
                .arg(&**id)
                .arg("IDLE")
                .arg(RELEASED_IDLE_MS);
            if !started {
                let count = counts
                    .next()
                    .filter(|(unstarted, _)| unstarted == &&**id)
                    .and_then(|(_, count)| count);
                if let Some(count) = count {
                    pipe.arg("RETRYCOUNT").arg(count.saturating_sub(1));
                }
            }
            pipe.arg("JUSTID");
        }
        let replies = pipe
            .query_async::<Vec<Value>>(conn)
            .await
            .map_err(|source| self.command_error("XCLAIM", source))?;
        let mut released = Vec::with_capacity(held.len());
        for value in replies {
            released.extend(reply::ids("XCLAIM", value)?);
        }
        Ok(released)
    }
}

/// Where a batch of entries comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Redelivered {
    /// New entries (`XREADGROUP ... >`): delivered for the first time.
    No,
    /// This consumer's own pending entries (`XREADGROUP ... 0`).
    Own,
    /// Entries claimed from any consumer (`XAUTOCLAIM`).
    Claimed,
}

/// Settles each entry after its handler: acknowledges, records a failure,
/// or dead-letters.
struct Settle<'a> {
    consumer: &'a Consumer,
    books: &'a Books,
}

impl Settle<'_> {
    async fn entry(
        &self,
        conn: &mut MultiplexedConnection,
        entry: Entry,
        outcome: Result<(), String>,
    ) -> Result<(), Error> {
        let c = self.consumer;
        let id = entry.shared_id();
        match outcome {
            Ok(()) => {
                let mut cmd = match &c.audit {
                    Some(audit) => {
                        let mut cmd = redis::cmd("EVAL");
                        cmd.arg(AUDITED_ACK).arg(2).arg(&c.stream).arg(audit);
                        cmd
                    }
                    None => {
                        let mut cmd = redis::cmd("XACK");
                        cmd.arg(&c.stream);
                        cmd
                    }
                };
                let acked = cmd
                    .arg(&c.group)
                    .arg(&**id)
                    .query_async::<i64>(conn)
                    .await
                    .map_err(|source| Error::Ack {
                        id: id.to_string(),
                        stream: c.stream.clone(),
                        source,
                    })?;
                self.books.settle(id, |report| {
                    if acked == 1 {
                        report.completed.push(id.to_string());
                    } else {
                        report.acked_elsewhere.push(id.to_string());
                    }
                });
            }
            Err(error) => {
                // Not pending any more (0): another consumer settled it.
                let deliveries = c.deliveries(conn, &[id]).await?[0].unwrap_or(0);
                let failure = Failure {
                    id: id.to_string(),
                    deliveries,
                    error,
                };
                if deliveries >= c.max_deliveries {
                    c.dead_letter_entry(conn, &entry, &failure).await?;
                    self.books
                        .settle(id, |report| report.dead_lettered.push(failure));
                } else {
                    self.books.settle(id, |report| report.failed.push(failure));
                }
            }
        }
        Ok(())
    }
}

/// What the reader and the workers share: the entries held, the report,
/// and the signals between them.
#[derive(Default)]
struct Books {
    state: Mutex<State>,
    /// Notified when an entry is settled (room to read more) or on stop.
    freed: Event,
    stop: AtomicBool,
}

#[derive(Default)]
struct State {
    /// Entries read and not settled yet: read ahead, queued, or in flight.
    held: HashSet<Arc<str>>,
    /// The held entries whose handler was called.
    started: HashSet<Arc<str>>,
    report: Report,
}

impl Books {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held cannot leave the books half
        // written (each change is one push or one remove): go on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn held(&self) -> usize {
        self.lock().held.len()
    }

    fn settle(&self, id: &Arc<str>, record: impl FnOnce(&mut Report)) {
        {
            let mut state = self.lock();
            state.held.remove(id);
            state.started.remove(id);
            record(&mut state.report);
        }
        self.freed.notify(usize::MAX);
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.freed.notify(usize::MAX);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn take_report(&self) -> Report {
        std::mem::take(&mut self.lock().report)
    }

    fn start(&self, id: &Arc<str>) {
        self.lock().started.insert(Arc::clone(id));
    }

    /// The entries still held, each with whether its handler was called.
    fn take_held(&self) -> Vec<(Arc<str>, bool)> {
        let mut state = self.lock();
        let started = std::mem::take(&mut state.started);
        let held = state.held.drain().collect::<Vec<_>>();
        held.into_iter()
            .map(|id| {
                let started = started.contains(&id);
                (id, started)
            })
            .collect()
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Orders stream ids (`ms-seq`) numerically.
fn stream_id_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |id: &str| {
        let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
        (
            ms.parse::<u64>().unwrap_or(0),
            seq.parse::<u64>().unwrap_or(0),
        )
    };
    key(a).cmp(&key(b))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_string());
    format!("the handler panicked: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_sort_numerically() {
        let mut ids = vec!["10-0", "9-1", "9-0", "100-0"];
        ids.sort_by(|a, b| stream_id_order(a, b));
        assert_eq!(ids, ["9-0", "9-1", "10-0", "100-0"]);
    }

    #[test]
    #[should_panic(expected = "at least one worker")]
    fn zero_workers_panic_at_construction() {
        let _ = Consumer::new("redis://127.0.0.1", "s", "g", "c").workers(0);
    }

    #[test]
    #[should_panic(expected = "stream name must not be empty")]
    fn an_empty_stream_name_panics_at_construction() {
        let _ = Consumer::new("redis://127.0.0.1", "", "g", "c");
    }

    #[test]
    fn a_panic_message_is_kept() {
        let payload: Box<dyn std::any::Any + Send> = Box::new("boom");
        assert_eq!(
            panic_message(payload.as_ref()),
            "the handler panicked: boom"
        );
    }
}
