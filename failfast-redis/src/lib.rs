//! Feed a [`failfast`] pool from a Redis stream through a consumer
//! group, so that an abort loses nothing, across processes.
//!
//! A [`Consumer`] reads entries with `XREADGROUP` (first its own pending
//! ones, then entries claimed from dead consumers with `XAUTOCLAIM`, then
//! new ones), never holding more than the pool's queue plus its workers,
//! and hands them to a [`failfast::Pool`]. Each entry is acknowledged
//! (`XACK`) only after its handler succeeded; a failed entry stays pending
//! and is retried, up to a number of deliveries, then moved to a dead-letter
//! stream. When the run is closed or aborts, the entries it had not
//! finished are released for prompt redelivery to other consumers, and its
//! [`Report`] says which ids were completed, failed, dead-lettered and
//! released.
//!
//! Delivery is at least once: **handlers must be idempotent** (see
//! [`Consumer`], section "Delivery", for why exactly once is not promised).
//!
//! # Examples
//!
//! ```no_run
//! # async fn run() -> Result<(), failfast_redis::Abort> {
//! use failfast::Control;
//! use failfast_redis::{Consumer, EntryError};
//!
//! let control = Control::new(); // close it on Ctrl-C: finish what entered, release the rest
//! let report = Consumer::new("redis://127.0.0.1:6379", "orders", "billing", "worker-1")
//!     .workers(8)
//!     .queue(16)
//!     .control(&control)
//!     .run(|entry| async move {
//!         let order: u64 = entry.parse("order")?;
//!         let _ = order; // bill it, idempotently
//!         Ok::<(), EntryError>(())
//!     })
//!     .await?;
//! println!("handled {}, released {}", report.completed().len(), report.released().len());
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! One of them is needed, for the `redis` crate's connections:
//!
//! - `tokio`: connect through tokio (the `redis` crate's `tokio-comp`);
//! - `smol`: connect through smol (`smol-comp`).
//!
//! With both, a connection made inside a tokio runtime uses tokio, any
//! other smol.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

#[cfg(not(any(feature = "tokio", feature = "smol")))]
compile_error!(
    "failfast-redis needs a runtime for its Redis connections: enable feature `tokio` or `smol`"
);

mod consumer;
mod entry;
mod error;
mod reply;
mod report;

pub use consumer::Consumer;
pub use entry::{Entry, EntryError};
pub use error::Error;
pub use report::{Abort, Failure, Report};

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
