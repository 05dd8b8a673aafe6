//! A bounded queue served by N async workers, in which the first error or
//! panic stops everything.
//!
//! A producer feeds a bounded queue; workers take items from it. Written by
//! hand, a failing worker ends, the queue fills up, and the producer's
//! `send(..).await` waits forever. A [`Pool`] makes the right behaviour the
//! default:
//!
//! - **No hang.** The first handler error, handler panic or source error
//!   aborts the run. A producer waiting on a full queue is released at once,
//!   with its item handed back in a [`SendError`].
//! - **Fail fast.** After the abort no new job starts; jobs in flight are
//!   dropped at their next await point, however long they would have taken.
//! - **Nothing lost.** Items are numbered 0, 1, 2, … as they enter. An
//!   [`Abort`] accounts for each one exactly once: completed, failed (with its
//!   error), cancelled in flight (by index), or handed back unprocessed (by
//!   value).
//! - **Clean success.** Otherwise every item is handled exactly once and the
//!   run returns a [`Report`].
//! - **Bounded.** At most `queue + workers` items are held at once, whatever
//!   the length of the source.
//! - **Panics are errors.** A panicking handler aborts the run with
//!   [`Error::Panicked`]; the caller does not unwind.
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
//! the run ends or its future is dropped, no worker is left running.
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
//! # Feature flags
//!
//! None is on by default.
//!
//! - `smol`: [`Executor`] for `smol::Executor` (owned, in an `Arc`, or
//!   `&'static`) and for smol's global executor, `SmolGlobal`.
//! - `tokio`: [`Executor`] for `tokio::runtime::Handle` (current-thread and
//!   multi-thread runtimes).
//! - `futures-executor`: [`Executor`] for `futures::executor::ThreadPool`.
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
//! | [`Control::close`]            | `Ok(Report)` with `closed_early()`               |
//! | [`Control::abort`], deadline  | `Err(Abort)` with [`Error::Aborted`]             |
//!
//! [`Policy`] decides when item errors stop the run: the first one (the
//! default), the `n`-th, or never (every item is tried and every error comes
//! back in the [`Abort`]).
//! | the run's future is dropped   | nothing: workers, jobs and source are dropped    |

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod control;
mod executor;
mod job;
mod pool;
mod queue;
mod report;
mod run;
mod signal;
mod spawn;
mod stream;
mod sync;

pub use control::{Control, Policy, Progress};
#[cfg(feature = "smol")]
pub use executor::SmolGlobal;
pub use executor::{Executor, Task};
pub use job::Job;
pub use pool::{Inline, Pool};
pub use queue::{SendError, Sender, TrySendError};
pub use report::{Abort, Error, Report};
pub use run::Outputs;
pub use spawn::Spawned;
pub use stream::{Fallible, Pooled, PooledExt};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
