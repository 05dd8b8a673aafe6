//! A bounded queue served by N async workers, in which the first error or
//! panic stops everything.
//!
//! A producer feeds a bounded queue; workers take items from it. Written by
//! hand, a failing worker ends, the queue fills up, and the producer's
//! `send(..).await` waits forever. A [`Pool`] makes the right behaviour the
//! default:
//!
//! - **No hang.** Whatever the source, failure pattern, sequence of
//!   [`Control`] commands or executor, a run never waits on itself: it ends
//!   once its jobs do, and an abort ends it promptly, however long its jobs
//!   would take. The first handler error, handler panic or source error
//!   aborts the run; a producer waiting on a full queue is released at once,
//!   with its item handed back in a [`SendError`]. An executor that drops a
//!   worker, runs it inside [`Executor::spawn`] or panics there ends the run
//!   with an error.
//! - **Fail fast.** The abort is decided as soon as the failing job's poll
//!   returns its error (or panics), before its future, which is user code, is
//!   dropped. No handler is called for an item that a worker takes after the
//!   decision is visible to it; a worker that had already taken its item may
//!   still start it, so at most one job per other worker begins after the
//!   decision (inline, none). Jobs in flight are dropped at their next await
//!   point, however long they would have taken.
//! - **Nothing lost.** Items are numbered 0, 1, 2, … as they enter, and every
//!   index the books name is below `entered()`. A [`Report`] or an [`Abort`]
//!   accounts for each item exactly once: completed, failed (with its error),
//!   cancelled in flight (by index), or handed back unprocessed (by value).
//!   Once the run has ended, [`Control::progress`] equals the books.
//! - **Clean success.** Otherwise every item is handled exactly once and the
//!   run returns a [`Report`].
//! - **Structured.** When the run's future returns, none of its workers is
//!   running and no job future is alive, on any executor. When it is
//!   dropped, inline, everything is dropped on the spot; spawned, every
//!   worker is told to stop, takes no further item, and drops its job as soon
//!   as the poll it is in returns (see [`Pool::spawn_on`]).
//! - **Bounded.** At most `queue + workers` items are held at once, whatever
//!   the length of the source.
//! - **Panics are errors.** A panicking handler, source, progress callback or
//!   executor `spawn` aborts the run with an error carrying the message and
//!   the payload (to inspect, or to resume with
//!   [`Error::into_panic`]); the caller does not unwind.
//! - **Any executor.** Workers run inside the run's own future, so it works
//!   under any executor, even `futures::executor::block_on`, with no `Send` or
//!   `'static` bounds.
//!
//! # Examples
//!
//! ```
//! # futures::executor::block_on(async {
//! use failfast::Pool;
//! use futures::stream;
//!
//! let result = Pool::new(3)
//!     .queue(19)
//!     .run(stream::iter(0..30u32), |request| async move {
//!         if request > 10 {
//!             return Err(format!("request {request} broke"));
//!         }
//!         Ok(request)
//!     })
//!     .await;
//!
//! let abort = result.unwrap_err();
//! assert_eq!(abort.to_string(), "item 11 failed: request 11 broke");
//! assert!(abort.unprocessed().iter().all(|(index, request)| *index == *request as usize));
//! # });
//! ```
//!
//! # Runtime support
//!
//! A [`Pool`] runs its workers *inline* by default: inside the run's own
//! future, so under any executor and with no `Send` or `'static` bounds, but
//! on one thread. [`Pool::spawn_on`] runs each worker as a task on an
//! [`Executor`] instead, for real parallelism, with the same guarantees: when
//! the run ends, no worker of it is running; when its future is dropped, every
//! worker is told to stop, takes no further item, and drops its job as soon
//! as the poll it is in returns.
//!
//! ```
//! # futures::executor::block_on(async {
//! use failfast::{Pool, Task};
//!
//! // Any executor, through a closure: here a thread per worker.
//! let spawn = |task: Task| {
//!     std::thread::spawn(move || futures::executor::block_on(task));
//! };
//! let report = Pool::new(2)
//!     .spawn_on(spawn)
//!     .run(futures::stream::iter(1..=100u64), |n| async move {
//!         Ok::<u64, std::io::Error>((1..=n).sum())
//!     })
//!     .await
//!     .unwrap();
//! assert_eq!(report.completed(), 100);
//! # });
//! ```
//!
//! # Using with anyhow
//!
//! `?` turns a failed run into an `anyhow::Error` (feature `anyhow`), an
//! `eyre::Report` (feature `eyre`) or a `Box<dyn Error + Send + Sync>`,
//! whatever the handler's error type. The message names what failed ("item
//! 1 failed"); the handler's error, with its own chain, is the `source()`:
//! `{:#}` prints each cause once. See [`Abort`] (section "With `?`") and
//! [`AbortError`] for what the conversion keeps.
//!
//! ```
//! # #[cfg(feature = "anyhow")]
//! # futures::executor::block_on(async {
//! use anyhow::Context as _;
//! use failfast::Pool;
//!
//! async fn parse_all(lines: Vec<&str>) -> anyhow::Result<u64> {
//!     let report = Pool::new(4)
//!         .run(futures::stream::iter(lines), |line| async move {
//!             line.parse::<u64>().with_context(|| format!("parsing {line:?}"))
//!         })
//!         .await?;
//!     Ok(report.outputs().iter().map(|(_, n)| n).sum())
//! }
//!
//! let error = parse_all(vec!["1", "two", "3"]).await.unwrap_err();
//! assert_eq!(format!("{error}"), "item 1 failed");
//! assert_eq!(
//!     format!("{error:#}"),
//!     "item 1 failed: parsing \"two\": invalid digit found in string"
//! );
//! # });
//! ```
//!
//! # Feature flags
//!
//! None is on by default.
//!
//! - `smol`: [`Executor`] for `smol::Executor` (owned, in an `Arc`, or
//!   `&'static`) and for smol's global executor, `SmolGlobal`.
//! - `tokio`: [`Executor`] for `tokio::runtime::Handle` (current-thread and
//!   multi-thread runtimes).
//! - `futures-executor`: [`Executor`] for `futures::executor::ThreadPool`.
//! - `anyhow`: `?` from an [`Abort`] into `anyhow::Error`.
//! - `eyre`: `?` from an [`Abort`] into `eyre::Report`.
//! - `tracing`: `JobSpans`, a [`Wrap`] that runs every job in a `job` span
//!   with its index and worker, and events when a run is closed or ends.
//!
//! Any other executor (async-std, say) plugs in with an `Fn(Task)` closure.
//!
//! # Outcomes
//!
//! | what happens                  | the run returns                                  |
//! |-------------------------------|--------------------------------------------------|
//! | every job succeeds            | `Ok(Report)`: counts and outputs                 |
//! | a job returns `Err`           | `Err(Abort)` with [`Error::Failed`]              |
//! | a job panics                  | `Err(Abort)` with [`Error::Panicked`]            |
//! | the source returns `Err`      | `Err(Abort)` with [`Error::Source`]              |
//! | an executor drops a worker    | `Err(Abort)` with [`Error::WorkerLost`]          |
//! | an executor runs a worker inside `spawn` | `Err(Abort)` with [`Error::SpawnedInline`] |
//! | an executor panics in `spawn` | `Err(Abort)` with [`Error::SpawnPanicked`]       |
//! | the progress callback panics  | `Err(Abort)` with [`Error::ProgressPanicked`]    |
//! | a job outlives [`Pool::timeout`] | its item fails with [`Error::TimedOut`]       |
//! | a [`Pool::custom_policy`] says abort | `Err(Abort)`, with [`Error::Stopped`] if no item failed |
//! | the custom policy panics      | `Err(Abort)` with [`Error::PolicyPanicked`]      |
//! | [`Control::close`]            | `Ok(Report)` with `closed_early()`               |
//! | [`Control::abort`], deadline  | `Err(Abort)` with [`Error::Aborted`]             |
//! | the run's future is dropped   | nothing: workers, jobs and source are dropped    |
//!
//! [`Policy`] decides when item errors stop the run: the first one (the
//! default), the `n`-th, or never (every item is tried and every error comes
//! back in the [`Abort`]); [`Pool::custom_policy`] decides with a closure of
//! your own (stop at the first success, abort past a failure ratio).
//!
//! # Per job
//!
//! - [`Pool::wrap`] decorates every job's future (instrument, time, log)
//!   without touching the handler; with the `tracing` feature, `JobSpans`
//!   puts each job in its own span.
//! - [`Pool::timeout`] fails an item whose job runs too long, with the
//!   executor's own timer.
//! - [`Control::in_flight`] lists the jobs running now, with their worker and
//!   how long each has been running: a watchdog's view of stuck jobs.
//!
//! # Retrying an item
//!
//! A job that fails or times out is not retried by the pool: the item was
//! moved into the handler, which is where a retry belongs. Retry inside the
//! handler, with a delay from your executor's timer; the pool sees one job,
//! and a timeout (if any) bounds all its attempts together.
//!
//! ```
//! use std::time::Duration;
//! use failfast::Pool;
//!
//! /// Tries `attempt` up to `tries` times, waiting `delay(n)` after the
//! /// n-th failure.
//! async fn retry<T, E, Fut, D>(
//!     tries: usize,
//!     mut attempt: impl FnMut() -> Fut,
//!     delay: impl Fn(usize) -> D,
//! ) -> Result<T, E>
//! where
//!     Fut: Future<Output = Result<T, E>>,
//!     D: Future,
//! {
//!     let mut n = 1;
//!     loop {
//!         match attempt().await {
//!             Err(_) if n < tries => {
//!                 delay(n).await;
//!                 n += 1;
//!             }
//!             result => return result,
//!         }
//!     }
//! }
//!
//! let report = smol::block_on(Pool::new(4).run(futures::stream::iter(0..8u32), |n| async move {
//!     // Odd items fail twice, then succeed: three tries are enough.
//!     let tries = std::cell::Cell::new(0);
//!     let attempt = || {
//!         tries.set(tries.get() + 1);
//!         let failing = n % 2 == 1 && tries.get() < 3;
//!         async move { if failing { Err(format!("item {n}: flaky")) } else { Ok(n) } }
//!     };
//!     let backoff = |n: usize| smol::Timer::after(Duration::from_millis(2 << n));
//!     retry(3, attempt, backoff).await
//! }))
//! .unwrap();
//! assert_eq!(report.completed(), 8);
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod abort;
mod books;
mod config;
mod control;
mod convert;
mod drive;
mod error;
mod executor;
mod ext;
mod job;
mod keep;
mod mode;
mod panic;
mod pool;
mod pooled;
mod progress;
mod queue;
mod report;
mod run;
mod running;
mod send_error;
mod sender;
mod spawn;
mod state;
mod stream;
mod sync;
#[cfg(feature = "tracing")]
mod trace;
mod unfinished;
mod verdict;
mod worker;
mod wrap;

pub use abort::Abort;
pub use config::{Outputs, Policy};
pub use control::Control;
pub use convert::AbortError;
pub use error::Error;
#[cfg(feature = "smol")]
pub use executor::SmolGlobal;
pub use executor::{Executor, Task};
pub use ext::PooledExt;
pub use job::Job;
pub use keep::{Keeper, KeptJob};
pub use mode::{Inline, Mode, Spawned};
pub use panic::PanicPayload;
pub use pool::Pool;
pub use pooled::{Fallible, Pooled};
pub use progress::{NoProgress, OnProgress, Progress};
pub use report::Report;
pub use running::Running;
pub use send_error::{SendError, TrySendError};
pub use sender::Sender;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use trace::JobSpans;
pub use unfinished::{Fate, Unfinished};
pub use verdict::{Finished, Outcome, Verdict};
pub use wrap::{NoWrap, Wrap};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
