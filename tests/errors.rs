//! Errors in application code: `?` from a run into `anyhow::Result`,
//! `eyre::Result`, `Result<_, Box<dyn Error + Send + Sync>>` and
//! `Result<_, Box<dyn Error>>`, for handlers whose error is a typed error
//! (with and without a chain of its own), `anyhow::Error`, `eyre::Report`,
//! `Box<dyn Error + Send + Sync>`, `String` or `&str`; inline and spawned.
//! Every cause is printed once: the message names the item, the handler's
//! error and its own chain follow through `source()`.

#![cfg(all(
    feature = "smol",
    feature = "tokio",
    feature = "futures-executor",
    feature = "anyhow",
    feature = "eyre"
))]

mod common;

use std::error::Error as StdError;
use std::fmt;

use common::exec::{Exec, Inline, Smol, Spawn};
use failfast::{AbortError, Pool};

type BoxError = Box<dyn StdError + Send + Sync>;

/// A typed error with a chain of its own, as thiserror makes them.
#[derive(Debug)]
struct ReadFailed(std::io::Error);

impl fmt::Display for ReadFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("reading config")
    }
}

impl StdError for ReadFailed {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

fn not_found() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")
}

/// Runs 5 items; item 2's handler fails with `make()`.
async fn run<X: Exec, E>(x: X, make: fn() -> E) -> Result<usize, failfast::Abort<usize, usize, E>>
where
    E: Send + 'static,
{
    let report = x
        .run(
            Pool::new(2),
            futures::stream::iter(0..5usize),
            move |n| async move { if n == 2 { Err(make()) } else { Ok(n) } },
        )
        .await?;
    Ok(report.completed())
}

async fn into_anyhow<X: Exec, E>(x: X, make: fn() -> E) -> anyhow::Result<usize>
where
    E: Into<BoxError> + Send + 'static,
{
    Ok(run(x, make).await?)
}

async fn into_eyre<X: Exec, E>(x: X, make: fn() -> E) -> eyre::Result<usize>
where
    E: Into<BoxError> + Send + 'static,
{
    Ok(run(x, make).await?)
}

async fn into_box_send_sync<X: Exec, E>(x: X, make: fn() -> E) -> Result<usize, BoxError>
where
    E: Into<BoxError> + Send + 'static,
{
    Ok(run(x, make).await?)
}

async fn into_box<X: Exec, E>(x: X, make: fn() -> E) -> Result<usize, Box<dyn StdError>>
where
    E: Into<BoxError> + Send + 'static,
{
    Ok(run(x, make).await?)
}

/// The messages along an error's `source()` chain.
fn chain(error: &(dyn StdError + 'static)) -> Vec<String> {
    let mut messages = vec![error.to_string()];
    let mut next = error.source();
    while let Some(error) = next {
        messages.push(error.to_string());
        next = error.source();
    }
    messages
}

/// Runs every conversion for one handler error type, on `x`, and checks the
/// chain each one gives: "item 2 failed", then `expected`.
fn check<X: Exec, E>(x: X, make: fn() -> E, expected: &[&str])
where
    E: Into<BoxError> + Send + 'static,
{
    let mut want = vec!["item 2 failed".to_owned()];
    want.extend(expected.iter().map(|s| s.to_string()));

    let error = x.block_on(into_anyhow(x, make)).unwrap_err();
    let got: Vec<String> = error.chain().map(|e| e.to_string()).collect();
    assert_eq!(got, want, "anyhow, {}", X::NAME);
    assert_eq!(format!("{error}"), "item 2 failed");
    assert_eq!(format!("{error:#}"), want.join(": "), "each cause once");
    let debug = format!("{error:?}");
    for message in &want {
        assert_eq!(debug.matches(message.as_str()).count(), 1, "{debug}");
    }
    assert_eq!(
        error
            .downcast_ref::<AbortError>()
            .and_then(AbortError::index),
        Some(2)
    );

    let error = x.block_on(into_eyre(x, make)).unwrap_err();
    let got: Vec<String> = error.chain().map(|e| e.to_string()).collect();
    assert_eq!(got, want, "eyre, {}", X::NAME);

    let error = x.block_on(into_box_send_sync(x, make)).unwrap_err();
    assert_eq!(
        chain(&*error),
        want,
        "Box<dyn Error + Send + Sync>, {}",
        X::NAME
    );
    assert_eq!(
        error
            .downcast_ref::<AbortError>()
            .and_then(AbortError::index),
        Some(2)
    );

    let error = x.block_on(into_box(x, make)).unwrap_err();
    assert_eq!(chain(&*error), want, "Box<dyn Error>, {}", X::NAME);
}

fn every_handler_error<X: Exec>(x: X) {
    check(
        x,
        || std::io::Error::other("disk on fire"),
        &["disk on fire"],
    );
    check(
        x,
        || ReadFailed(not_found()),
        &["reading config", "no such file"],
    );
    check(
        x,
        || anyhow::Error::new(not_found()).context("reading config"),
        &["reading config", "no such file"],
    );
    check(
        x,
        || eyre::Report::new(not_found()).wrap_err("reading config"),
        &["reading config", "no such file"],
    );
    check(
        x,
        || -> BoxError { Box::new(ReadFailed(not_found())) },
        &["reading config", "no such file"],
    );
    check(x, || String::from("bad input"), &["bad input"]);
    check(x, || "bad input", &["bad input"]);
}

#[test]
fn question_mark_works_for_every_handler_error_inline() {
    every_handler_error(Inline);
}

#[test]
fn question_mark_works_for_every_handler_error_spawned() {
    every_handler_error(Spawn(Smol::<2>));
}

/// What a failed run prints, the three ways application code prints it:
/// the abort itself (`{}`), and anyhow's `{}`, `{:#}` and `{:?}`.
#[test]
fn what_a_failed_run_prints() {
    let abort = futures::executor::block_on(run(Inline, || {
        anyhow::Error::new(not_found()).context("reading config")
    }))
    .unwrap_err();
    assert_eq!(
        abort.to_string(),
        "item 2 failed: reading config",
        "the abort shows the cause and the handler's message"
    );
    assert_eq!(abort.error().to_string(), "item 2 failed");
    let error = anyhow::Error::from(abort);
    assert_eq!(format!("{error}"), "item 2 failed");
    assert_eq!(
        format!("{error:#}"),
        "item 2 failed: reading config: no such file"
    );
    let debug = format!("{error:?}");
    assert!(
        debug
            .starts_with("item 2 failed\n\nCaused by:\n    0: reading config\n    1: no such file"),
        "{debug}"
    );
}

/// A source's error is chained the same way as a handler's.
#[test]
fn a_source_error_is_chained_once() {
    let result: anyhow::Result<usize> = futures::executor::block_on(async {
        let source = futures::stream::iter(vec![Ok(1u32), Err(not_found())]);
        let report = Pool::new(1)
            .try_run(source, |n| async move { Ok::<u32, String>(n) })
            .await?;
        Ok(report.completed())
    });
    let error = result.unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        "source failed after 1 items: no such file"
    );
    assert_eq!(
        error.downcast_ref::<AbortError>().map(AbortError::entered),
        Some(1)
    );
}

/// `?` needs nothing of the items: they stay in the `Abort`, which may hold
/// values that are not `Send` (an `Rc` here).
#[test]
fn question_mark_does_not_need_sendable_items() {
    fn run_rc() -> anyhow::Result<usize> {
        let items = (0..4).map(std::rc::Rc::new);
        let report = futures::executor::block_on(Pool::new(2).run(
            futures::stream::iter(items),
            |n| async move {
                if *n == 1 {
                    Err(anyhow::anyhow!("one"))
                } else {
                    Ok(*n)
                }
            },
        ))?;
        Ok(report.completed())
    }
    assert_eq!(format!("{:#}", run_rc().unwrap_err()), "item 1 failed: one");
}
