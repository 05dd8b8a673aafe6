//! Panics caught on the run's behalf: [`PanicPayload`], which keeps what
//! the code panicked with, and `catch`, which turns a panic into a message
//! and its payload.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

/// What a handler, a source, an executor's `spawn` or a progress callback
/// panicked with, kept so the caller can inspect it or resume the panic
/// (as with tokio's `JoinError::into_panic`). The message beside it in
/// [`Error`](crate::Error) is for display.
///
/// It can be taken once: by [`take`](PanicPayload::take) through a shared
/// reference, or by [`Error::into_panic`](crate::Error::into_panic). (The
/// payload is `Send` but not `Sync`; holding it behind a lock keeps
/// [`Error`](crate::Error) `Sync`, as `anyhow` and `Box<dyn Error + Send +
/// Sync>` need.)
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Error, Pool};
///
/// #[derive(Debug, PartialEq)]
/// struct Fault(u32);
///
/// let abort = Pool::new(1)
///     .run(futures::stream::iter(0..3u32), |n| async move {
///         if n == 1 {
///             std::panic::panic_any(Fault(n));
///         }
///         Ok::<u32, String>(n)
///     })
///     .await
///     .unwrap_err();
/// let Error::Panicked { index, message, payload } = abort.error() else { unreachable!() };
/// assert_eq!((*index, message.as_str()), (1, "Box<dyn Any>"));
/// let payload = payload.take().expect("not taken yet");
/// assert_eq!(payload.downcast_ref::<Fault>(), Some(&Fault(1)));
/// assert!(payload.is::<Fault>());
/// # });
/// ```
pub struct PanicPayload(Mutex<Option<Box<dyn Any + Send>>>);

impl PanicPayload {
    /// Takes the payload out; `None` once it has been taken.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let abort = failfast::Pool::new(1)
    ///     .run(futures::stream::iter(0..2u32), |n| async move {
    ///         if n == 0 { panic!("zero") }
    ///         Ok::<u32, String>(n)
    ///     })
    ///     .await
    ///     .unwrap_err();
    /// let failfast::Error::Panicked { payload, .. } = abort.error() else { unreachable!() };
    /// let taken = payload.take().unwrap();
    /// assert_eq!(taken.downcast_ref::<&str>(), Some(&"zero"));
    /// assert!(payload.take().is_none());
    /// # });
    /// ```
    pub fn take(&self) -> Option<Box<dyn Any + Send>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// The payload, unless it was taken.
    pub(crate) fn into_inner(self) -> Option<Box<dyn Any + Send>> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PanicPayload(..)")
    }
}

/// A panic caught by [`catch`]: its payload, as small as a pointer pair, so
/// that a `Result` carrying it costs the hot path nothing.
pub(crate) struct Caught(Box<dyn Any + Send>);

impl Caught {
    /// The panic's message (or `Box<dyn Any>` if it was not a string), and
    /// its payload.
    pub(crate) fn into_parts(self) -> (String, PanicPayload) {
        let payload = self.0;
        let message = if let Some(message) = payload.downcast_ref::<String>() {
            message.clone()
        } else if let Some(message) = payload.downcast_ref::<&'static str>() {
            (*message).to_owned()
        } else {
            "Box<dyn Any>".to_owned()
        };
        (message, PanicPayload(Mutex::new(Some(payload))))
    }
}

/// Runs `f`, catching a panic.
pub(crate) fn catch<O>(f: impl FnOnce() -> O) -> Result<O, Caught> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(Caught)
}
