//! The synchronisation the crate itself does, in one place: atomics, mutexes
//! and thread-locals. Built with `--cfg shuttle`, they are the `shuttle`
//! crate's, so its schedulers can explore every interleaving of the crate's
//! own code (the interleaving suite, `tests/shuttle.rs`). The channel and
//! the events (async-channel, event-listener) stay as they are.

#[cfg(not(shuttle))]
pub(crate) use std::sync::{Mutex, MutexGuard, atomic};
#[cfg(not(shuttle))]
pub(crate) use std::thread_local;

#[cfg(shuttle)]
pub(crate) use shuttle::sync::{Mutex, MutexGuard, atomic};
#[cfg(shuttle)]
pub(crate) use shuttle::thread_local;

/// Locks a mutex whose data stays consistent even if a holder panicked (every
/// critical section here is a few plain assignments).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
