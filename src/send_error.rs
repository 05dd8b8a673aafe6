//! The errors that hand a refused item back: [`SendError`] and
//! [`TrySendError`].

use std::fmt;

/// The error of [`Sender::send`](crate::Sender::send): the pool no longer accepts items. Holds the
/// item that could not be sent.
#[derive(PartialEq, Eq, Clone, Copy, thiserror::Error)]
#[error("sending into a stopped pool")]
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Pool, SendError};
///
/// Pool::new(1)
///     .run_with(
///         |tx| async move {
///             tx.close();
///             // The refused item comes back in the error.
///             assert_eq!(tx.send("late").await, Err(SendError("late")));
///             Ok::<(), std::convert::Infallible>(())
///         },
///         |s| async move { Ok::<&str, String>(s) },
///     )
///     .await
///     .unwrap();
/// # });
/// ```
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// Returns the item that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// Pool::new(1)
    ///     .run_with(
    ///         |tx| async move {
    ///             tx.close();
    ///             let refused = tx.send(String::from("late")).await.unwrap_err();
    ///             assert_eq!(refused.into_inner(), "late");
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |s: String| async move { Ok::<usize, String>(s.len()) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

/// The error of [`Sender::try_send`](crate::Sender::try_send). Holds the item that could not be sent.
#[derive(PartialEq, Eq, Clone, Copy, thiserror::Error)]
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use failfast::{Pool, TrySendError};
///
/// Pool::new(1)
///     .queue(1)
///     .run_with(
///         |tx| async move {
///             tx.try_send(0).unwrap();
///             assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
///             tx.close();
///             assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
///             Ok::<(), std::convert::Infallible>(())
///         },
///         |n: u32| async move { Ok::<u32, String>(n) },
///     )
///     .await
///     .unwrap();
/// # });
/// ```
pub enum TrySendError<T> {
    /// The queue is full right now.
    #[error("sending into a full queue")]
    Full(T),
    /// The pool no longer accepts items.
    #[error("sending into a stopped pool")]
    Closed(T),
}

impl<T> TrySendError<T> {
    /// Returns the item that could not be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// Pool::new(1)
    ///     .queue(1)
    ///     .run_with(
    ///         |tx| async move {
    ///             tx.try_send(String::from("first")).unwrap();
    ///             let refused = tx.try_send(String::from("second")).unwrap_err();
    ///             let second = refused.into_inner(); // not lost: send it again
    ///             tx.send(second).await.unwrap();
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |s: String| async move { Ok::<usize, String>(s.len()) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(item) | TrySendError::Closed(item) => item,
        }
    }

    /// Whether the queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// Pool::new(1)
    ///     .queue(1)
    ///     .run_with(
    ///         |tx| async move {
    ///             tx.try_send(0).unwrap();
    ///             let refused = tx.try_send(1).unwrap_err();
    ///             assert!(refused.is_full());
    ///             assert!(!refused.is_closed());
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n: u32| async move { Ok::<u32, String>(n) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the pool no longer accepts items.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// Pool::new(1)
    ///     .run_with(
    ///         |tx| async move {
    ///             tx.close();
    ///             let refused = tx.try_send(0).unwrap_err();
    ///             assert!(refused.is_closed());
    ///             assert!(!refused.is_full());
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n: u32| async move { Ok::<u32, String>(n) },
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}
