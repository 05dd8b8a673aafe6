//! Outputs as a stream while the pool runs: the stream of
//! [`Pool::stream`](crate::Pool::stream) and
//! [`Pool::stream_with`](crate::Pool::stream_with).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_core::stream::FusedStream;

use crate::abort::Abort;
use crate::books::Shared;
use crate::report::Report;

/// The stream of [`Pool::stream`](crate::Pool::stream) and
/// [`Pool::stream_with`](crate::Pool::stream_with): it drives the
/// run when polled and yields each output as its item completes.
pub(crate) struct OutputStream<Run, T, R, E, SE> {
    shared: Arc<Shared<T, R, E, SE>>,
    /// The run, until it has returned.
    run: Option<Pin<Box<Run>>>,
    /// The run's abort, yielded once every output has been.
    abort: Option<Abort<T, R, E, SE>>,
}

impl<Run, T, R, E, SE> OutputStream<Run, T, R, E, SE> {
    pub(crate) fn new(shared: Arc<Shared<T, R, E, SE>>, run: Run) -> Self {
        OutputStream {
            shared,
            run: Some(Box::pin(run)),
            abort: None,
        }
    }
}

impl<Run, T, R, E, SE> Stream for OutputStream<Run, T, R, E, SE>
where
    Run: Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>,
{
    type Item = Result<(usize, R), Abort<T, R, E, SE>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(output) = this.shared.next_output(cx.waker()) {
            return Poll::Ready(Some(Ok(output)));
        }
        if let Some(run) = this.run.as_mut() {
            let Poll::Ready(result) = run.as_mut().poll(cx) else {
                // The run made progress: hand out what it produced meanwhile.
                return match this.shared.next_output(cx.waker()) {
                    Some(output) => Poll::Ready(Some(Ok(output))),
                    None => Poll::Pending,
                };
            };
            this.run = None;
            this.abort = result.err();
            if let Some(output) = this.shared.next_output(cx.waker()) {
                return Poll::Ready(Some(Ok(output)));
            }
        }
        Poll::Ready(this.abort.take().map(Err))
    }
}

impl<Run, T, R, E, SE> FusedStream for OutputStream<Run, T, R, E, SE>
where
    Run: Future<Output = Result<Report<T, R>, Abort<T, R, E, SE>>>,
{
    fn is_terminated(&self) -> bool {
        self.run.is_none() && self.abort.is_none()
    }
}

impl<Run, T, R, E, SE> fmt::Debug for OutputStream<Run, T, R, E, SE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputStream")
            .field("running", &self.run.is_some())
            .finish_non_exhaustive()
    }
}
