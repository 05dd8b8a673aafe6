//! What stops a consumer's run: [`Error`], an infrastructure failure (not a
//! handler's error, which fails one entry only).

use redis::RedisError;

/// Why a run stopped before the stream was drained or the run was closed.
///
/// A handler's error is never one of these: it fails its entry, which is
/// retried and then dead-lettered, and the run goes on. These are the
/// failures of the infrastructure (Redis unreachable, gone, or answering
/// what this crate cannot read) and an abort from outside; each stops the
/// run, and the entries it held are released (see
/// [`Abort`](crate::Abort)).
///
/// # Examples
///
/// ```
/// use failfast_redis::Error;
///
/// let error = Error::Aborted;
/// assert_eq!(error.to_string(), "the run was aborted from outside");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Redis URL does not parse.
    #[error("invalid Redis URL {url:?}: {source}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What the `redis` crate said.
        source: RedisError,
    },
    /// No connection could be made (refused, or timed out after the
    /// connect timeout).
    #[error("cannot connect to Redis at {url}: {source}")]
    Connect {
        /// The URL as given.
        url: String,
        /// What the `redis` crate said.
        source: RedisError,
    },
    /// A command on the stream failed: the connection broke, a reply timed
    /// out, or the server refused it.
    #[error("{command} on stream {stream:?} failed: {source}")]
    Command {
        /// The command's name.
        command: &'static str,
        /// The stream's key.
        stream: String,
        /// What the `redis` crate said.
        source: RedisError,
    },
    /// Acknowledging a handled entry failed: it stays pending and is
    /// delivered again.
    #[error("acknowledging entry {id} of stream {stream:?} failed: {source}")]
    Ack {
        /// The entry's id.
        id: String,
        /// The stream's key.
        stream: String,
        /// What the `redis` crate said.
        source: RedisError,
    },
    /// Moving an entry to the dead-letter stream failed: it stays pending
    /// and is delivered again.
    #[error("moving entry {id} to dead-letter stream {dead_letter:?} failed: {source}")]
    DeadLetter {
        /// The entry's id.
        id: String,
        /// The dead-letter stream's key.
        dead_letter: String,
        /// What the `redis` crate said.
        source: RedisError,
    },
    /// Redis answered a command with a reply of a shape this crate does not
    /// read.
    #[error("unexpected reply to {command}: {reply}")]
    Reply {
        /// The command's name.
        command: &'static str,
        /// The reply, printed.
        reply: String,
    },
    /// The run was aborted with [`Control::abort`](failfast::Control::abort)
    /// (or a deadline given to
    /// [`Control::close_with_deadline`](failfast::Control::close_with_deadline)).
    #[error("the run was aborted from outside")]
    Aborted,
    /// The pool stopped for another reason (its message).
    #[error("the pool stopped: {0}")]
    Pool(String),
}
