//! The run methods, one family for every [`Mode`]: each sets up a run's
//! shared state and returns the future (or stream) that does it.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use futures_core::{Stream, TryStream};
use futures_util::TryStreamExt as _;

use crate::abort::Abort;
use crate::books::Shared;
use crate::drive::{drive, feed};
use crate::mode::Mode;
use crate::pool::Pool;
use crate::progress::OnProgress;
use crate::report::Report;
use crate::sender::Sender;
use crate::stream::OutputStream;
use crate::worker::{Hooks, worker};
use crate::wrap::Wrap;

impl<M, C: OnProgress, V> Pool<M, C, V> {
    /// Handles every item of `source` with `handler`, on the pool's workers.
    ///
    /// Items are pulled from `source` only when the queue has room, numbered
    /// 0, 1, 2, … as they enter, and handled by `handler(item)`. The
    /// [`Mode`] bound says what the types must be: anything inline;
    /// `Send + 'static` (and a `Sync` handler) with spawned workers, in which
    /// case the returned future is `Send` whenever the source is, so it can
    /// itself be spawned.
    ///
    /// To keep the rest of a stream after the run (it stops pulling when the
    /// run ends early), pass `&mut stream` (a `Unpin` stream, or one pinned
    /// with `std::pin::pin!`) and use it afterwards.
    ///
    /// # Errors
    ///
    /// Returns an [`Abort`], whose [`error`](Abort::error) is the first of
    /// these to happen:
    /// - a handler returns an error ([`Error::Failed`](crate::Error::Failed))
    ///   or panics ([`Error::Panicked`](crate::Error::Panicked)): at the first
    ///   one by default, at the `n`-th with
    ///   [`Policy::AbortAfter(n)`](crate::Policy::AbortAfter), and with
    ///   [`Policy::Continue`](crate::Policy::Continue) once every item was
    ///   tried, if any failed;
    /// - the pool's [`Control`](crate::Control) aborts, or the deadline given
    ///   to [`close_with_deadline`](crate::Control::close_with_deadline)
    ///   fires ([`Error::Aborted`](crate::Error::Aborted));
    /// - the progress callback panics
    ///   ([`Error::ProgressPanicked`](crate::Error::ProgressPanicked));
    /// - the source panics
    ///   ([`Error::SourcePanicked`](crate::Error::SourcePanicked));
    /// - with spawned workers, the executor drops a worker unfinished
    ///   ([`Error::WorkerLost`](crate::Error::WorkerLost)), runs one inside
    ///   [`Executor::spawn`](crate::Executor::spawn)
    ///   ([`Error::SpawnedInline`](crate::Error::SpawnedInline)) or panics
    ///   there ([`Error::SpawnPanicked`](crate::Error::SpawnPanicked)).
    ///
    /// # Panics
    ///
    /// Panics if the pool's [`Control`](crate::Control) has already been
    /// given to another run: a `Control` is for one run.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels the run: the source is dropped,
    /// items in the queue are dropped unhandled, and every job in flight is
    /// dropped (inline: with the future; spawned: as soon as the poll it is
    /// in returns, see [`spawn_on`](Pool::spawn_on)).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Outputs, Pool};
    ///
    /// let report = Pool::new(2)
    ///     .queue(4)
    ///     .outputs(Outputs::InputOrder)
    ///     .run(futures::stream::iter(0..10u32), |n| async move { Ok::<u32, String>(n * 2) })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(report.completed(), 10);
    /// assert_eq!(report.outputs()[..3], [(0, 0), (1, 2), (2, 4)]);
    /// # });
    /// ```
    pub fn run<T, S, F, Fut, R, E>(
        self,
        source: S,
        handler: F,
    ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E>>>
    where
        S: Stream<Item = T>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        V: Wrap<Fut>,
        M: Mode<T, R, E, Infallible, F, C, V>,
    {
        self.try_run(futures_util::StreamExt::map(source, Ok), handler)
    }

    /// Like [`run`](Pool::run), for a fallible source: an `Err` from `source`
    /// aborts the run with [`Error::Source`](crate::Error::Source).
    ///
    /// # Errors
    ///
    /// As for [`run`](Pool::run), and if the source returns an error or
    /// panics.
    ///
    /// # Panics
    ///
    /// As for [`run`](Pool::run).
    ///
    /// # Cancel safety
    ///
    /// As for [`run`](Pool::run).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Error, Pool};
    ///
    /// let lines = futures::stream::iter(vec![Ok("1"), Ok("2"), Err("disk error"), Ok("4")]);
    /// let abort = Pool::new(2)
    ///     .try_run(lines, |line: &str| async move { line.parse::<u32>() })
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(abort.error(), Error::Source { entered: 2, source: "disk error" }));
    /// assert_eq!(abort.entered(), 2);
    /// # });
    /// ```
    pub fn try_run<T, SE, S, F, Fut, R, E>(
        self,
        source: S,
        handler: F,
    ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>
    where
        S: TryStream<Ok = T, Error = SE>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        V: Wrap<Fut>,
        M: Mode<T, R, E, SE, F, C, V>,
    {
        let in_run = <M as Mode<T, R, E, SE, F, C, V>>::IN_RUN;
        self.run_with(move |tx| feed(source.into_stream(), tx, in_run), handler)
    }

    /// Runs `producer` and the workers together: the producer gets a
    /// [`Sender`] and puts items in the queue with
    /// [`send(item).await`](Sender::send), which waits while the queue is full.
    /// The producer runs in the run's own future, whatever the mode.
    ///
    /// Intake ends when the producer's future returns (with its [`Sender`])
    /// and every clone of the sender it handed out is dropped. If the run
    /// aborts or is closed first, the producer's pending and later sends fail
    /// at once with a [`SendError`](crate::SendError) that hands the item
    /// back; a producer that is not sending when the workers have all stopped
    /// is dropped. An `Err` returned by the producer aborts the run with
    /// [`Error::Source`](crate::Error::Source) (or, if the run had already
    /// aborted, is kept among [`other_errors`](Abort::other_errors)).
    ///
    /// # Errors
    ///
    /// As for [`run`](Pool::run), and if the producer returns an error or
    /// panics.
    ///
    /// # Panics
    ///
    /// As for [`run`](Pool::run).
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future cancels the run: the producer and every
    /// queued item are dropped, and every job in flight is dropped as
    /// [`run`](Pool::run) says.
    ///
    /// # Examples
    ///
    /// A producer blocked on a full queue is released when the run aborts:
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    ///
    /// let abort = Pool::new(2)
    ///     .queue(1)
    ///     .run_with(
    ///         |tx| async move {
    ///             for n in 0.. {
    ///                 if let Err(refused) = tx.send(n).await {
    ///                     assert!(refused.into_inner() >= 3);
    ///                     break;
    ///                 }
    ///             }
    ///             Ok::<(), std::convert::Infallible>(())
    ///         },
    ///         |n: u64| async move {
    ///             if n == 2 { Err("two is too many") } else { Ok(n) }
    ///         },
    ///     )
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(abort.error().index(), Some(2));
    /// # });
    /// ```
    pub fn run_with<T, SE, P, PF, F, Fut, R, E>(
        self,
        producer: P,
        handler: F,
    ) -> impl Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>
    where
        P: FnOnce(Sender<T>) -> PF,
        PF: Future<Output = Result<(), SE>>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        V: Wrap<Fut>,
        M: Mode<T, R, E, SE, F, C, V>,
    {
        self.start(producer, handler).1
    }

    /// Like [`run`](Pool::run), but hands out each output as its item
    /// completes, as a stream of `Ok((index, output))`, instead of collecting
    /// them. If the run aborts, the stream's last item is `Err(abort)` (whose
    /// report has no outputs: they all went through the stream). Nothing
    /// runs unless the stream is polled.
    ///
    /// Memory: the queue, the items in flight, and the outputs the consumer
    /// has not taken yet.
    ///
    /// # Panics
    ///
    /// As for [`run`](Pool::run).
    ///
    /// # Cancel safety
    ///
    /// Dropping the stream cancels the run as dropping [`run`](Pool::run)'s
    /// future does; outputs not taken yet are dropped with it.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::Pool;
    /// use futures::StreamExt as _;
    ///
    /// let mut outputs = Pool::new(3).stream(futures::stream::iter(0..10u32), |n| async move {
    ///     if n == 7 { Err("seven") } else { Ok(n * 10) }
    /// });
    /// let mut seen = Vec::new();
    /// while let Some(next) = outputs.next().await {
    ///     match next {
    ///         Ok((index, output)) => seen.push((index, output)),
    ///         Err(abort) => assert_eq!(abort.error().index(), Some(7)),
    ///     }
    /// }
    /// assert!(seen.iter().all(|(index, output)| *output == *index as u32 * 10));
    /// # });
    /// ```
    pub fn stream<T, S, F, Fut, R, E>(
        self,
        source: S,
        handler: F,
    ) -> impl Stream<Item = Result<(usize, R), Abort<T, R, E>>>
    where
        S: Stream<Item = T>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        V: Wrap<Fut>,
        M: Mode<T, R, E, Infallible, F, C, V>,
    {
        let in_run = <M as Mode<T, R, E, Infallible, F, C, V>>::IN_RUN;
        self.stream_with(
            move |tx| feed(futures_util::StreamExt::map(source, Ok), tx, in_run),
            handler,
        )
    }

    /// Like [`run_with`](Pool::run_with), with the outputs handed out as a
    /// stream, as [`stream`](Pool::stream) describes.
    ///
    /// # Panics
    ///
    /// As for [`run`](Pool::run).
    ///
    /// # Cancel safety
    ///
    /// As for [`stream`](Pool::stream): the producer goes with the run.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use failfast::{Pool, SendError};
    /// use futures::TryStreamExt as _;
    ///
    /// let outputs: Vec<(usize, u32)> = Pool::new(2)
    ///     .stream_with(
    ///         |tx| async move {
    ///             for n in 0..4 {
    ///                 tx.send(n).await?;
    ///             }
    ///             Ok::<(), SendError<u32>>(())
    ///         },
    ///         |n| async move { Ok::<u32, std::io::Error>(n + 1) },
    ///     )
    ///     .try_collect()
    ///     .await
    ///     .unwrap();
    /// assert_eq!(outputs.len(), 4);
    /// # });
    /// ```
    pub fn stream_with<T, SE, P, PF, F, Fut, R, E>(
        self,
        producer: P,
        handler: F,
    ) -> impl Stream<Item = Result<(usize, R), Abort<T, R, E, SE>>>
    where
        P: FnOnce(Sender<T>) -> PF,
        PF: Future<Output = Result<(), SE>>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        V: Wrap<Fut>,
        M: Mode<T, R, E, SE, F, C, V>,
    {
        let (shared, run) = self.streaming().start(producer, handler);
        OutputStream::new(shared, run)
    }

    /// Sets up a run: its shared state, and the future that does it.
    // The future's type cannot be named in a type alias on stable Rust.
    #[allow(clippy::type_complexity)]
    fn start<T, SE, P, PF, F, Fut, R, E>(
        self,
        producer: P,
        handler: F,
    ) -> (
        Arc<Shared<T, R, E, SE>>,
        impl Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>,
    )
    where
        P: FnOnce(Sender<T>) -> PF,
        PF: Future<Output = Result<(), SE>>,
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        V: Wrap<Fut>,
        M: Mode<T, R, E, SE, F, C, V>,
    {
        let (shared, sender) = Shared::new(&self.settings, self.workers, C::ON);
        let shared = Arc::new(shared);
        let run = {
            let shared = Arc::clone(&shared);
            let (mode, workers) = (self.mode, self.workers);
            let hooks = Hooks {
                handler,
                progress: self.progress,
                wrap: self.wrap,
            };
            async move {
                let workers = mode.start(workers, &shared, hooks, worker);
                drive(&shared, producer(sender), workers).await
            }
        };
        (shared, run)
    }
}
