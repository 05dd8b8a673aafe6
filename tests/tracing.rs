//! The `tracing` feature: `JobSpans` puts every job in a `job` span with its
//! index and worker, under the caller's span, and what a handler logs nests
//! under its job's span; a run emits `run aborted` (cause and counts),
//! `run closed` and `run finished`. Collected by a test layer, inline and
//! spawned on smol and tokio.
//!
//! One test function runs every scenario in turn: the collector is the
//! process's global subscriber (spawned workers log from other threads).

#![cfg(all(feature = "tracing", feature = "smol", feature = "tokio"))]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use failfast::{Control, JobSpans, Pool};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

/// A span as it was created.
#[derive(Debug, Clone)]
struct SpanRecord {
    name: &'static str,
    fields: BTreeMap<String, String>,
    /// Its parent's record, if any.
    parent: Option<usize>,
}

/// An event, with the record of the span it happened in.
#[derive(Debug, Clone)]
struct EventRecord {
    target: String,
    fields: BTreeMap<String, String>,
    span: Option<usize>,
}

#[derive(Debug, Default)]
struct Log {
    spans: Vec<SpanRecord>,
    /// Live span ids to their records (the registry reuses ids).
    by_id: HashMap<u64, usize>,
    events: Vec<EventRecord>,
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Log>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Collect {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let mut log = self.0.lock().unwrap();
        let parent = ctx
            .span(id)
            .and_then(|span| span.parent())
            .and_then(|parent| log.by_id.get(&parent.id().into_u64()).copied());
        log.spans.push(SpanRecord {
            name: attrs.metadata().name(),
            fields: fields.0,
            parent,
        });
        let record = log.spans.len() - 1;
        log.by_id.insert(id.into_u64(), record);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut log = self.0.lock().unwrap();
        let span = ctx
            .event_span(event)
            .and_then(|span| log.by_id.get(&span.id().into_u64()).copied());
        log.events.push(EventRecord {
            target: event.metadata().target().to_owned(),
            fields: fields.0,
            span,
        });
    }
}

impl Collect {
    fn take(&self) -> Log {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The events with `message`, from target `failfast`.
fn run_events<'a>(log: &'a Log, message: &str) -> Vec<&'a EventRecord> {
    log.events
        .iter()
        .filter(|e| {
            e.target == "failfast" && e.fields.get("message").map(String::as_str) == Some(message)
        })
        .collect()
}

fn field(record: &BTreeMap<String, String>, name: &str) -> usize {
    record[name]
        .parse()
        .unwrap_or_else(|_| panic!("{name} = {:?}", record[name]))
}

#[test]
fn job_spans_and_run_events() {
    let collect = Collect::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(collect.clone()))
        .expect("the only subscriber of this test binary");
    let smol = common::smol_executor(2);
    let tokio = common::tokio_multi_thread(2);

    type Run = Box<dyn Fn(Pool<failfast::Inline, failfast::NoProgress, JobSpans>) -> Abort>;
    type Abort = failfast::Abort<u32, u32, String>;
    let handler = |n: u32| async move {
        tracing::info!(item = n, "handling");
        common::yield_times(1).await;
        if n == 11 {
            return Err(format!("request {n} broke"));
        }
        tracing::info!(item = n, "handled");
        Ok(n)
    };
    let source = || futures::stream::iter(0..30u32);
    let runs: Vec<(&str, Run)> = vec![
        (
            "inline",
            Box::new(move |pool| {
                futures::executor::block_on(common::watchdog("inline", pool.run(source(), handler)))
                    .unwrap_err()
            }),
        ),
        (
            "smol",
            Box::new(move |pool| {
                let pool = pool.spawn_on(Arc::clone(&smol));
                smol::block_on(common::watchdog("smol", pool.run(source(), handler))).unwrap_err()
            }),
        ),
        (
            "tokio",
            Box::new(move |pool| {
                let pool = pool.spawn_on(tokio.handle().clone());
                tokio
                    .block_on(common::watchdog("tokio", pool.run(source(), handler)))
                    .unwrap_err()
            }),
        ),
    ];

    for (name, run) in &runs {
        collect.take();
        let scenario = tracing::info_span!("scenario", name);
        let pool = scenario.in_scope(|| Pool::new(3).queue(4).wrap(JobSpans::new()));
        let abort = run(pool);
        let log = collect.take();

        // One `job` span per job that started, with its index and worker,
        // under the scenario's span.
        let scenario_record = log
            .spans
            .iter()
            .position(|s| {
                s.name == "scenario" && s.fields.get("name").map(String::as_str) == Some(*name)
            })
            .expect("the scenario's span");
        let jobs: Vec<(usize, &SpanRecord)> = log
            .spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name == "job")
            .collect();
        let indices: BTreeSet<usize> = jobs
            .iter()
            .map(|(_, s)| field(&s.fields, "index"))
            .collect();
        assert_eq!(indices.len(), jobs.len(), "{name}: one span per job");
        let started = abort.report().completed() + 1 + abort.cancelled().len();
        assert_eq!(
            jobs.len(),
            started,
            "{name}: a span for every job that started"
        );
        for (_, span) in &jobs {
            assert!(field(&span.fields, "worker") < 3, "{name}: {span:?}");
            assert_eq!(
                span.parent,
                Some(scenario_record),
                "{name}: under the caller's span"
            );
        }

        // What the handlers log nests under their own job's span.
        let handling: Vec<&EventRecord> = log
            .events
            .iter()
            .filter(|e| {
                e.fields
                    .get("message")
                    .is_some_and(|m| m == "handling" || m == "handled")
            })
            .collect();
        assert!(handling.len() >= started, "{name}");
        for event in handling {
            let span = &log.spans[event.span.expect("inside a span")];
            assert_eq!(span.name, "job", "{name}: {event:?}");
            assert_eq!(
                field(&span.fields, "index"),
                field(&event.fields, "item"),
                "{name}"
            );
        }

        // One `run aborted`, with the cause and the abort's own counts.
        let aborted = run_events(&log, "run aborted");
        assert_eq!(aborted.len(), 1, "{name}: {aborted:?}");
        let fields = &aborted[0].fields;
        assert_eq!(fields["cause"], "item 11 failed", "{name}");
        assert_eq!(field(fields, "entered"), abort.entered(), "{name}");
        assert_eq!(
            field(fields, "completed"),
            abort.report().completed(),
            "{name}"
        );
        assert_eq!(field(fields, "failed"), 1, "{name}");
        assert_eq!(
            field(fields, "cancelled"),
            abort.cancelled().len(),
            "{name}"
        );
        assert_eq!(
            field(fields, "unprocessed"),
            abort.unprocessed().len(),
            "{name}"
        );
        assert!(run_events(&log, "run finished").is_empty());
    }

    // A closed run that then succeeds: `run closed`, then `run finished`.
    collect.take();
    let control = Control::new();
    let closer = control.clone();
    let report = futures::executor::block_on(common::watchdog(
        "inline, closed",
        Pool::new(2).control(&control).wrap(JobSpans::new()).run(
            futures::stream::iter(0..1000u32),
            move |n| {
                if n == 5 {
                    closer.close();
                }
                async move { Ok::<_, String>(n) }
            },
        ),
    ))
    .unwrap();
    let log = collect.take();
    let closed = run_events(&log, "run closed");
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert!(field(&closed[0].fields, "entered") <= report.entered());
    let finished = run_events(&log, "run finished");
    assert_eq!(finished.len(), 1);
    assert_eq!(field(&finished[0].fields, "entered"), report.entered());
    assert_eq!(field(&finished[0].fields, "completed"), report.completed());
}
