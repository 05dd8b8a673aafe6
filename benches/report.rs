//! Writes BENCHMARKS.md and docs/benchmarks.svg from the results of the other
//! benches: criterion's estimates (`target/criterion/**/new/estimates.json`)
//! and the custom harnesses' JSON (`target/failfast-bench/*.json`).
//!
//! Run by `scripts/bench.sh` as `cargo bench --bench report -- --write`;
//! without `--write` (a plain `cargo bench`) it does nothing. The script sets
//! `FAILFAST_BENCH_SINCE` (when the run started, in Unix seconds; older
//! results are refused as stale) and `FAILFAST_BENCH_SECONDS` (how long the
//! run took), `FAILFAST_BENCH_DATE` (when it started) and
//! `FAILFAST_BENCH_LOAD_BEFORE`/`_AFTER` (the load averages around it).
//!
//! A section of BENCHMARKS.md between `<!-- notes:start -->` and
//! `<!-- notes:end -->` is written by hand (profiles, remarks) and kept as it
//! is when the file is regenerated.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const NOTES_START: &str = "<!-- notes:start -->";
const NOTES_END: &str = "<!-- notes:end -->";

/// The peers, in the order of the benches, with their labels.
const PEERS: [(&str, &str); 8] = [
    ("failfast-inline", "failfast, inline (`block_on`)"),
    ("failfast-smol", "failfast, spawned on smol"),
    ("failfast-tokio", "failfast, spawned on tokio"),
    (
        "try_for_each_concurrent",
        "futures `try_for_each_concurrent` (`block_on`)",
    ),
    (
        "buffer_unordered",
        "futures `buffer_unordered` (`block_on`)",
    ),
    ("joinset-semaphore", "tokio `JoinSet` + `Semaphore`"),
    ("hand-smol", "hand-written pool on smol"),
    ("hand-tokio", "hand-written pool on tokio"),
];

fn label(id: &str) -> &str {
    PEERS
        .iter()
        .chain(&[
            ("sequential", "sequential loop"),
            (
                "failfast-smol-main-thread",
                "(reference) failfast on smol, run driven from the main thread",
            ),
            ("baseline", "process baseline (executors started, no run)"),
            ("task-per-item", "one tokio task per item, spawned up front"),
        ])
        .find(|(peer, _)| *peer == id)
        .map_or(id, |(_, label)| label)
}

struct Inputs {
    target: PathBuf,
    since: Option<SystemTime>,
}

impl Inputs {
    fn read(&self, path: &Path) -> Value {
        let modified = fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/bench.sh)", path.display()));
        if let Some(since) = self.since {
            assert!(
                modified >= since,
                "{} is older than this run: its bench did not run",
                path.display()
            );
        }
        let text = fs::read_to_string(path).expect("readable results");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Criterion's median for `group/function`, in ns per element (or per
    /// iteration when no throughput was set).
    fn criterion(&self, group: &str, function: &str) -> f64 {
        let dir = self
            .target
            .join("criterion")
            .join(group)
            .join(function)
            .join("new");
        let estimates = self.read(&dir.join("estimates.json"));
        let benchmark = self.read(&dir.join("benchmark.json"));
        let median = estimates["median"]["point_estimate"]
            .as_f64()
            .expect("a median");
        let elements = benchmark["throughput"]["Elements"].as_f64().unwrap_or(1.0);
        median / elements
    }

    fn harness(&self, name: &str) -> Value {
        self.read(&self.target.join("failfast-bench").join(name))
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The commit benchmarked, and whether the library's sources differ from it.
fn library_version(root: &Path) -> String {
    let root = root.to_str().unwrap_or(".");
    let commit = command_output("git", &["-C", root, "rev-parse", "--short", "HEAD"]);
    let changed = Command::new("git")
        .args(["-C", root, "status", "--porcelain", "--", "src"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    if changed {
        format!("commit {commit}, with uncommitted changes in src/")
    } else {
        format!("commit {commit}")
    }
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A target: a measured value, the bound, and whether lower is better.
struct Target {
    what: String,
    measured: String,
    bound: String,
    met: bool,
}

fn ratio(x: f64) -> String {
    format!("{x:.2}x")
}

fn ns(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} ms", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} µs", x / 1e3)
    } else {
        format!("{x:.0} ns")
    }
}

/// 1000000 as 1,000,000.
fn thousands(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kb: f64) -> String {
    format!("{:.1} MiB", kb / 1024.0)
}

fn yes(met: bool) -> &'static str {
    if met { "**met**" } else { "**missed**" }
}

/// A horizontal bar chart panel: rows of (label, bars of (value, text)).
struct Panel {
    title: String,
    unit: String,
    log: bool,
    series: Vec<(String, &'static str)>, // (name, colour)
    rows: Vec<(String, Vec<(f64, String)>)>,
    /// Dashed vertical lines: targets, references.
    marks: Vec<(f64, String)>,
}

const SVG_WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 330.0;
const BAR_HEIGHT: f64 = 13.0;
const ROW_GAP: f64 = 8.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "")
}

impl Panel {
    fn height(&self) -> f64 {
        let per_row = BAR_HEIGHT * self.series.len() as f64 + ROW_GAP;
        50.0 + per_row * self.rows.len() as f64 + 10.0
    }

    fn render(&self, svg: &mut String, top: f64) {
        let plot_width = SVG_WIDTH - LABEL_WIDTH - 110.0;
        let values = self
            .rows
            .iter()
            .flat_map(|(_, bars)| bars.iter().map(|b| b.0));
        let marks = self.marks.iter().map(|m| m.0);
        let max = values.clone().chain(marks.clone()).fold(f64::MIN, f64::max);
        let min = values
            .chain(marks)
            .filter(|v| *v > 0.0)
            .fold(f64::MAX, f64::min);
        // Linear axes step by 1, 2 or 5 times a power of ten.
        let step = {
            let raw = max / 5.0;
            let magnitude = 10f64.powf(raw.log10().floor());
            [1.0, 2.0, 5.0, 10.0]
                .iter()
                .map(|m| m * magnitude)
                .find(|s| *s >= raw)
                .unwrap_or(raw)
        };
        let (lo, hi) = if self.log {
            let lo = 10f64.powf(min.log10().floor());
            (lo, 10f64.powf(max.log10().ceil()).max(lo * 10.0))
        } else {
            (0.0, (max / step).ceil() * step)
        };
        let x = |v: f64| {
            let share = if self.log {
                (v.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10())
            } else {
                v / hi
            };
            LABEL_WIDTH + share * plot_width
        };
        let scale = if self.log { "log scale" } else { "linear" };
        writeln!(
            svg,
            r##"<text x="10" y="{}" font-size="15" font-weight="bold">{}</text><text x="{}" y="{}" font-size="11" fill="#555" text-anchor="end">{}, {}</text>"##,
            top + 20.0,
            escape(&self.title),
            SVG_WIDTH - 10.0,
            top + 20.0,
            escape(&self.unit),
            scale
        )
        .unwrap();
        let mut legend_x = LABEL_WIDTH;
        for (name, colour) in &self.series {
            writeln!(
                svg,
                r#"<rect x="{legend_x}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
                top + 29.0,
                legend_x + 14.0,
                top + 38.0,
                escape(name)
            )
            .unwrap();
            legend_x += 20.0 + 7.0 * name.len() as f64;
        }
        let mut y = top + 50.0;
        let plot_bottom = top + self.height() - 10.0;
        // Grid lines: decades on a log scale, round steps on a linear one.
        let ticks: Vec<f64> = if self.log {
            let mut t = lo;
            let mut ticks = Vec::new();
            while t <= hi * 1.0001 {
                ticks.push(t);
                t *= 10.0;
            }
            ticks
        } else {
            (0..=(hi / step).round() as u32)
                .map(|i| step * f64::from(i))
                .collect()
        };
        for t in ticks {
            writeln!(
                svg,
                r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="#ddd"/><text x="{0:.1}" y="{3}" font-size="9" fill="#777" text-anchor="middle">{4}</text>"##,
                x(t),
                y - 4.0,
                plot_bottom,
                plot_bottom + 9.0,
                short(t)
            )
            .unwrap();
        }
        for (value, text) in &self.marks {
            writeln!(
                svg,
                r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="#333" stroke-dasharray="4 3"/><text x="{3:.1}" y="{4}" font-size="9" fill="#333">{5}</text>"##,
                x(*value),
                y - 8.0,
                plot_bottom,
                x(*value) + 3.0,
                y - 1.0,
                escape(text)
            )
            .unwrap();
        }
        for (row_label, bars) in &self.rows {
            let row_height = BAR_HEIGHT * self.series.len() as f64;
            writeln!(
                svg,
                r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#,
                LABEL_WIDTH - 8.0,
                y + row_height / 2.0 + 4.0,
                escape(row_label)
            )
            .unwrap();
            for (i, (value, text)) in bars.iter().enumerate() {
                let colour = self.series[i].1;
                let bar_y = y + BAR_HEIGHT * i as f64;
                let end = x(*value);
                writeln!(
                    svg,
                    r#"<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{:.1}" height="{}" fill="{colour}"/><text x="{:.1}" y="{}" font-size="10">{}</text>"#,
                    (end - LABEL_WIDTH).max(1.0),
                    BAR_HEIGHT - 2.0,
                    end + 4.0,
                    bar_y + BAR_HEIGHT - 3.0,
                    escape(text)
                )
                .unwrap();
            }
            y += row_height + ROW_GAP;
        }
    }
}

/// A compact tick label.
fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{}k", v / 1e3)
    } else if v >= 1.0 || v == 0.0 {
        format!("{}", (v * 100.0).round() / 100.0)
    } else {
        format!("{v}")
    }
}

fn svg(panels: &[Panel], subtitle: &str) -> String {
    let height: f64 = 50.0 + panels.iter().map(|p| p.height() + 20.0).sum::<f64>();
    let mut svg = String::new();
    writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height}" viewBox="0 0 {SVG_WIDTH} {height}" font-family="Helvetica, Arial, sans-serif">"#
    )
    .unwrap();
    writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="18" font-weight="bold">failfast benchmarks</text><text x="10" y="40" font-size="11" fill="#555">{}</text>"##,
        escape(subtitle)
    )
    .unwrap();
    let mut top = 50.0;
    for panel in panels {
        panel.render(&mut svg, top);
        top += panel.height() + 20.0;
    }
    svg.push_str("</svg>\n");
    svg
}

fn main() {
    if !std::env::args().any(|a| a == "--write") {
        println!("report: nothing to do (scripts/bench.sh runs this with --write)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let since = std::env::var("FAILFAST_BENCH_SINCE")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(|secs| UNIX_EPOCH + Duration::from_secs(secs));
    let inputs = Inputs { target, since };
    let elapsed: Option<u64> = std::env::var("FAILFAST_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());

    // Overhead, ns per item.
    let trivial: Vec<f64> = PEERS
        .iter()
        .map(|(id, _)| inputs.criterion("overhead-trivial", id))
        .collect();
    let yielding: Vec<f64> = PEERS
        .iter()
        .map(|(id, _)| inputs.criterion("overhead-yield", id))
        .collect();
    let items = {
        let path = inputs
            .target
            .join("criterion/overhead-trivial/failfast-inline/new/benchmark.json");
        inputs.read(&path)["throughput"]["Elements"]
            .as_u64()
            .unwrap_or(0)
    };
    let items_n = thousands(items);
    let at = |id: &str| PEERS.iter().position(|(p, _)| *p == id).expect("a peer");

    // CPU: ns per job; speedup over the sequential loop.
    let sequential = inputs.criterion("cpu", "sequential");
    let cpu: Vec<f64> = PEERS
        .iter()
        .map(|(id, _)| inputs.criterion("cpu", id))
        .collect();
    let cpu_info = inputs.harness("cpu.json");
    let jobs = cpu_info["jobs"].as_f64().unwrap_or(0.0);
    let jobs_n = thousands(jobs as u64);
    let speedup = |i: usize| sequential / cpu[i];

    // Abort latency and memory.
    let abort = inputs.harness("abort.json");
    let abort = abort.as_array().expect("a list");
    let abort_of = |id: &str| {
        abort
            .iter()
            .find(|a| a["peer"] == id)
            .unwrap_or_else(|| panic!("abort latency of {id}"))
    };
    let memory = inputs.harness("memory.json");
    let memory = memory.as_array().expect("a list");
    let mut sizes: Vec<u64> = memory
        .iter()
        .filter_map(|m| m["items"].as_u64())
        .filter(|n| *n > 0)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let (small, large) = (sizes[0], *sizes.last().expect("sizes"));
    let (small_n, large_n) = (thousands(small), thousands(large));
    let peak = |config: &str, n: u64| {
        memory
            .iter()
            .find(|m| m["config"] == config && m["items"].as_u64() == Some(n))
            .and_then(|m| m["peak_kb"].as_f64())
            .unwrap_or_else(|| panic!("peak of {config} with {n} items"))
    };

    // The targets.
    let mut targets = Vec::new();
    let r = yielding[at("failfast-inline")] / yielding[at("try_for_each_concurrent")];
    targets.push(Target {
        what: "overhead, yield job: failfast inline / `try_for_each_concurrent`".into(),
        measured: ratio(r),
        bound: "≤ 1.30x".into(),
        met: r <= 1.3,
    });
    for (workload, values) in [("trivial", &trivial), ("yield", &yielding)] {
        for (ours, hand) in [
            ("failfast-smol", "hand-smol"),
            ("failfast-tokio", "hand-tokio"),
        ] {
            let r = values[at(ours)] / values[at(hand)];
            let executor = if ours.ends_with("smol") {
                "smol"
            } else {
                "tokio"
            };
            targets.push(Target {
                what: format!(
                    "overhead, {workload} job: failfast spawned / hand-written pool, on {executor}"
                ),
                measured: ratio(r),
                bound: "≤ 1.00x".into(),
                met: r <= 1.0,
            });
        }
        let r = values[at("failfast-tokio")] / values[at("joinset-semaphore")];
        targets.push(Target {
            what: format!(
                "overhead, {workload} job: failfast spawned on tokio / `JoinSet` + `Semaphore`"
            ),
            measured: ratio(r),
            bound: "≤ 0.70x".into(),
            met: r <= 0.7,
        });
    }
    for id in ["failfast-smol", "failfast-tokio"] {
        let s = speedup(at(id));
        targets.push(Target {
            what: format!("cpu: speedup of {} over sequential", label(id)),
            measured: ratio(s),
            bound: "≥ 1.85x".into(),
            met: s >= 1.85,
        });
    }
    for id in ["failfast-inline", "try_for_each_concurrent"] {
        let s = speedup(at(id));
        targets.push(Target {
            what: format!("cpu: speedup of {} (one thread)", label(id)),
            measured: ratio(s),
            bound: "~1x (0.85x to 1.15x)".into(),
            met: (0.85..=1.15).contains(&s),
        });
    }
    for (id, bound_us) in [
        ("failfast-inline", 10.0),
        ("failfast-smol", 100.0),
        ("failfast-tokio", 100.0),
    ] {
        let p99 = abort_of(id)["p99_ns"].as_f64().expect("p99");
        targets.push(Target {
            what: format!("abort latency p99: {}", label(id)),
            measured: ns(p99),
            bound: format!("≤ {bound_us} µs"),
            met: p99 <= bound_us * 1e3,
        });
    }
    for id in ["failfast-inline", "failfast-smol", "failfast-tokio"] {
        let r = peak(id, large) / peak(id, small);
        targets.push(Target {
            what: format!(
                "memory: peak with {large_n} items / with {small_n} items, {}",
                label(id)
            ),
            measured: ratio(r),
            bound: "< 1.10x".into(),
            met: r < 1.1,
        });
    }

    // BENCHMARKS.md
    let md_path = root.join("BENCHMARKS.md");
    let notes = fs::read_to_string(&md_path)
        .ok()
        .and_then(|old| {
            let start = old.find(NOTES_START)?;
            let end = old.find(NOTES_END)?;
            Some(old[start..end + NOTES_END.len()].to_owned())
        })
        .unwrap_or_else(|| {
            format!(
                "{NOTES_START}\n_No notes yet: profiles of missed targets go here._\n{NOTES_END}"
            )
        });
    let date = std::env::var("FAILFAST_BENCH_DATE")
        .unwrap_or_else(|_| command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    let nproc = command_output("nproc", &[]);
    let rustc = command_output("rustc", &["--version"]);
    let mut md = String::new();
    let w = &mut md;
    writeln!(w, "# Benchmarks\n").unwrap();
    writeln!(
        w,
        "Generated by `scripts/bench.sh`, which runs every bench below and rewrites this file \
         and [docs/benchmarks.svg](docs/benchmarks.svg); only the notes section at the end is \
         written by hand.\n"
    )
    .unwrap();
    writeln!(
        w,
        "**Absolute figures vary between machines (and between runs on a shared machine); \
         the ratios, measured against peers in the same run, are what to compare.**\n"
    )
    .unwrap();
    writeln!(w, "## Machine and run\n").unwrap();
    writeln!(w, "| | |\n|---|---|").unwrap();
    writeln!(w, "| CPU | {} |", cpu_model()).unwrap();
    writeln!(w, "| `nproc` | {nproc} |").unwrap();
    writeln!(w, "| rustc | `{rustc}` |").unwrap();
    writeln!(w, "| date (start of the run) | {date} |").unwrap();
    writeln!(w, "| failfast | {} |", library_version(root)).unwrap();
    writeln!(w, "| command | `scripts/bench.sh` |").unwrap();
    if let Some(secs) = elapsed {
        writeln!(w, "| run time | {} min {} s |", secs / 60, secs % 60).unwrap();
    }
    if let (Ok(before), Ok(after)) = (
        std::env::var("FAILFAST_BENCH_LOAD_BEFORE"),
        std::env::var("FAILFAST_BENCH_LOAD_AFTER"),
    ) {
        writeln!(
            w,
            "| load average (1, 5, 15 min) | before: {before}; after: {after} |"
        )
        .unwrap();
    }
    writeln!(w).unwrap();
    writeln!(
        w,
        "Setup, the same for every design: 8 workers (or a concurrency limit of 8), a queue \
         of 64 where the design has one (1,000 for the memory runs); multi-threaded \
         executors have 2 threads (a smol `Executor` in an `Arc` run by 2 threads; a tokio \
         multi-thread runtime with 2 workers). The single-threaded designs (failfast inline, \
         the `futures` combinators) run under `futures::executor::block_on` on the bench's \
         main thread. The multi-threaded designs run entirely on their executor: the run's \
         own future (failfast's producer and driver, the hand-written pool's producer, the \
         `JoinSet` loop) is spawned there too and the main thread only waits for its end, so \
         the 2 cores are not shared with a third busy thread (the CPU table shows what \
         driving the run from the main thread costs). failfast discards outputs \
         (`Outputs::Discard`), as the peers do. The hand-written pool is an \
         `async_channel::bounded` queue, spawned workers, and an abort flag (`AtomicBool` + \
         `event_listener::Event`, one listener per worker) that every worker races its job \
         against; `JoinSet` + `Semaphore` takes a permit, pulls an item, spawns a task per \
         item, reaps finished tasks as it goes, and on the first error calls `abort_all` and \
         awaits the aborted tasks. Sources are `futures::stream::iter` ranges. The code is \
         in `benches/` (`common/mod.rs` has every design).\n"
    )
    .unwrap();
    writeln!(w, "![benchmarks](docs/benchmarks.svg)\n").unwrap();

    writeln!(w, "## Targets\n").unwrap();
    writeln!(w, "| target | measured | bound | |\n|---|---:|---:|---|").unwrap();
    for t in &targets {
        writeln!(
            w,
            "| {} | {} | {} | {} |",
            t.what,
            t.measured,
            t.bound,
            yes(t.met)
        )
        .unwrap();
    }
    let missed = targets.iter().filter(|t| !t.met).count();
    writeln!(
        w,
        "\n{} of {} targets met in this run. What the profiles show for the misses is in \
         the notes at the end.\n",
        targets.len() - missed,
        targets.len()
    )
    .unwrap();

    writeln!(w, "## Overhead\n").unwrap();
    writeln!(
        w,
        "Trivial jobs (`async move {{ Ok(x) }}`) and the same with one \
         `yield_now().await` (futures-lite's, identical on every executor). The brief's \
         figure is 1,000,000 jobs; to keep criterion's sampling affordable each iteration \
         handles {items_n} items, with throughput set in elements so the figure is the median \
         time **per item** (criterion, 10 samples). Ratios are this design's time over \
         failfast's in the same column: above 1, failfast is faster.\n"
    )
    .unwrap();
    writeln!(
        w,
        "| design | trivial: ns/item | ratio to failfast | yield: ns/item | ratio to failfast |\n|---|---:|---:|---:|---:|"
    )
    .unwrap();
    for (i, (id, name)) in PEERS.iter().enumerate() {
        let ours = if *id == "failfast-smol" || *id == "hand-smol" {
            at("failfast-smol")
        } else if id.ends_with("tokio") || *id == "joinset-semaphore" {
            at("failfast-tokio")
        } else {
            at("failfast-inline")
        };
        let reference = |v: &[f64]| {
            if id.starts_with("failfast") {
                "".to_owned()
            } else {
                format!("{} {}", ratio(v[i] / v[ours]), PEERS[ours].0)
            }
        };
        writeln!(
            w,
            "| {name} | {:.0} | {} | {:.0} | {} |",
            trivial[i],
            reference(&trivial),
            yielding[i],
            reference(&yielding)
        )
        .unwrap();
    }
    writeln!(
        w,
        "\nEach peer is compared with the failfast mode that runs where it does: the \
         `block_on` designs with inline, the smol pool with failfast on smol, the tokio \
         designs with failfast on tokio.\n"
    )
    .unwrap();

    writeln!(w, "## CPU-bound jobs\n").unwrap();
    writeln!(
        w,
        "{jobs_n} jobs that each burn about {} µs of CPU (a deterministic mixing loop of {} \
         rounds, calibrated at start-up), on a machine with {nproc} cores. Median wall time \
         per run (criterion, 10 samples, flat sampling) and speedup over a plain sequential \
         loop over the same jobs.\n",
        cpu_info["target_ns"].as_f64().unwrap_or(0.0) / 1e3,
        cpu_info["rounds"]
    )
    .unwrap();
    writeln!(
        w,
        "| design | wall time | per job | speedup |\n|---|---:|---:|---:|"
    )
    .unwrap();
    writeln!(
        w,
        "| {} | {} | {} | 1.00x |",
        label("sequential"),
        ns(sequential * jobs),
        ns(sequential)
    )
    .unwrap();
    for (i, (_, name)) in PEERS.iter().enumerate() {
        writeln!(
            w,
            "| {name} | {} | {} | {} |",
            ns(cpu[i] * jobs),
            ns(cpu[i]),
            ratio(speedup(i))
        )
        .unwrap();
    }
    let reference = "failfast-smol-main-thread";
    let main_thread = inputs.criterion("cpu", reference);
    writeln!(
        w,
        "| {} | {} | {} | {} |",
        label(reference),
        ns(main_thread * jobs),
        ns(main_thread),
        ratio(sequential / main_thread)
    )
    .unwrap();
    writeln!(w).unwrap();

    writeln!(w, "## Abort latency\n").unwrap();
    let runs = abort_of("failfast-inline")["runs"].as_u64().unwrap_or(0);
    writeln!(
        w,
        "An endless producer; jobs sleep 10 s (smol's `Timer` for the `block_on` and smol \
         designs, tokio's `sleep` for the tokio ones). Once the pipeline is full (every \
         worker busy, the queue full, the producer blocked on its next send; for the designs \
         without a queue, 8 jobs in flight), job 0 stamps the time and returns `Err`; the \
         latency runs from that stamp to the run's future returning, stamped where that \
         future runs (the main thread for the `block_on` designs, an executor thread for the \
         spawned ones, whose run is spawned too), so it does not include waking the bench's \
         main thread. {runs} measured runs per design after 20 warm-up runs. Every run checks \
         that the producer was released (its `send` refused; for the designs without a \
         producer, the source dropped) and that no job future was left alive when the run \
         returned (drop guards); the last two columns count the runs that passed. The \
         `JoinSet` loop awaits the aborted tasks before returning, so none is left running \
         either; the `futures` combinators drop theirs when they return.\n"
    )
    .unwrap();
    writeln!(
        w,
        "| design | min | median | p99 | max | producer released | no job left |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for (id, name) in PEERS {
        let a = abort_of(id);
        let f = |key: &str| ns(a[key].as_f64().unwrap_or(f64::NAN));
        writeln!(
            w,
            "| {name} | {} | {} | {} | {} | {}/{runs} | {}/{runs} |",
            f("min_ns"),
            f("median_ns"),
            f("p99_ns"),
            f("max_ns"),
            a["released"],
            a["no_job_left"]
        )
        .unwrap();
    }
    writeln!(w).unwrap();

    writeln!(w, "## Memory\n").unwrap();
    writeln!(
        w,
        "Peak resident memory (`VmHWM` from `/proc/self/status`), each configuration in a \
         child process of its own, with a source of {small_n} and of {large_n} items, queue \
         1,000, 8 workers, the yield job. The baseline is a child that starts the same \
         executors and runs nothing. The one-task-per-item design spawns every item's task \
         on tokio up front (each waits for one of 8 semaphore permits) and then joins them.\n"
    )
    .unwrap();
    writeln!(
        w,
        "| design | {small_n} items | {large_n} items | ratio |\n|---|---:|---:|---:|"
    )
    .unwrap();
    let baseline = memory
        .iter()
        .find(|m| m["config"] == "baseline")
        .and_then(|m| m["peak_kb"].as_f64());
    if let Some(kb) = baseline {
        writeln!(w, "| {} | {} | | |", label("baseline"), mib(kb)).unwrap();
    }
    for id in [
        "failfast-inline",
        "failfast-smol",
        "failfast-tokio",
        "task-per-item",
    ] {
        let (a, b) = (peak(id, small), peak(id, large));
        writeln!(
            w,
            "| {} | {} | {} | {} |",
            label(id),
            mib(a),
            mib(b),
            ratio(b / a)
        )
        .unwrap();
    }
    writeln!(w).unwrap();

    writeln!(w, "## Regenerating\n").unwrap();
    writeln!(
        w,
        "```sh\nscripts/bench.sh\n```\n\nIt builds the benches, runs `cargo bench \
         --all-features` for `overhead`, `cpu` (criterion; HTML reports in \
         `target/criterion/report/index.html`), `abort` and `memory` (custom harnesses, \
         results in `target/failfast-bench/`), then `report`, which writes this file and \
         the chart. Knobs: `FAILFAST_BENCH_ITEMS` (items per overhead iteration), \
         `FAILFAST_BENCH_ABORT_RUNS` (runs per design, at least 200), \
         `FAILFAST_BENCH_MEMORY_ITEMS` (comma-separated source lengths), \
         `FAILFAST_BENCH_ABORT_PEERS` (some designs only, for profiling; leaves the results \
         alone). To profile one overhead configuration: `scripts/profile.sh \
         overhead-yield/failfast-inline [perf|callgrind|all]` (CPU time, context switches \
         and top symbols per item with perf; instructions per item by function with \
         callgrind; built with line tables in `target/profile`).\n"
    )
    .unwrap();
    writeln!(w, "## Notes\n").unwrap();
    writeln!(w, "{notes}").unwrap();
    fs::write(&md_path, md).expect("write BENCHMARKS.md");

    // The chart.
    let peers_rows = |values: &[&[f64]], text: &dyn Fn(f64) -> String| {
        PEERS
            .iter()
            .enumerate()
            .map(|(i, (_, name))| {
                let bars = values.iter().map(|v| (v[i], text(v[i]))).collect();
                ((*name).to_owned(), bars)
            })
            .collect()
    };
    let ns_text = |v: f64| format!("{v:.0} ns");
    let mut panels = vec![
        Panel {
            title: format!(
                "Overhead per item ({} items per iteration, median)",
                thousands(items)
            ),
            unit: "ns per item, lower is better".into(),
            log: true,
            series: vec![
                ("trivial job".into(), "#4c78a8"),
                ("with one yield".into(), "#f58518"),
            ],
            rows: peers_rows(&[&trivial, &yielding], &ns_text),
            marks: vec![],
        },
        Panel {
            title: format!("CPU-bound: speedup over a sequential loop ({nproc} cores)"),
            unit: "speedup, higher is better".into(),
            log: false,
            series: vec![("speedup".into(), "#54a24b")],
            marks: vec![(1.85, "target 1.85x".into())],
            rows: PEERS
                .iter()
                .enumerate()
                .map(|(i, (_, name))| {
                    let s = speedup(i);
                    ((*name).to_owned(), vec![(s, format!("{s:.2}x"))])
                })
                .collect(),
        },
    ];
    let medians: Vec<f64> = PEERS
        .iter()
        .map(|(id, _)| abort_of(id)["median_ns"].as_f64().unwrap_or(0.0))
        .collect();
    let p99s: Vec<f64> = PEERS
        .iter()
        .map(|(id, _)| abort_of(id)["p99_ns"].as_f64().unwrap_or(0.0))
        .collect();
    panels.push(Panel {
        title: format!("Abort latency, from the job's Err to the run returning ({runs} runs)"),
        unit: "ns, lower is better".into(),
        log: true,
        series: vec![("median".into(), "#4c78a8"), ("p99".into(), "#e45756")],
        rows: peers_rows(&[&medians, &p99s], &|v| ns(v)),
        marks: vec![
            (10e3, "inline target 10 µs".into()),
            (100e3, "spawned target 100 µs".into()),
        ],
    });
    panels.push(Panel {
        title: "Peak resident memory by source length".into(),
        unit: "MiB, lower is better".into(),
        log: true,
        series: vec![
            (format!("{} items", thousands(small)), "#72b7b2"),
            (format!("{} items", thousands(large)), "#b279a2"),
        ],
        marks: vec![],
        rows: [
            "failfast-inline",
            "failfast-smol",
            "failfast-tokio",
            "task-per-item",
        ]
        .iter()
        .map(|id| {
            let bars = [small, large]
                .iter()
                .map(|n| {
                    let m = peak(id, *n) / 1024.0;
                    (m, format!("{m:.1} MiB"))
                })
                .collect();
            (label(id).to_owned(), bars)
        })
        .collect(),
    });
    let subtitle = format!(
        "{} ({nproc} cores), {rustc}, {date}. Absolute figures vary between machines; compare the ratios.",
        cpu_model()
    );
    let docs = root.join("docs");
    fs::create_dir_all(&docs).expect("create docs/");
    fs::write(docs.join("benchmarks.svg"), svg(&panels, &subtitle)).expect("write the chart");
    println!(
        "wrote {} and {} ({} of {} targets met)",
        md_path.display(),
        docs.join("benchmarks.svg").display(),
        targets.len() - missed,
        targets.len()
    );
}
