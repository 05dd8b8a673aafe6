//! Writes BENCHMARKS.md and docs/benchmarks.svg from the results of the other
//! benches: the overhead processes' figures (`target/failfast-bench/overhead.json`),
//! the instruction counts from callgrind (`callgrind.json`, written by
//! `scripts/bench.sh`), the cpu processes' figures (`cpu.json`) and the
//! custom harnesses' JSON (`abort.json`, `memory.json`).
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

const TRIVIAL: &str = "overhead-trivial";
const YIELD: &str = "overhead-yield";

/// Where a design runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// Single-threaded, under `block_on` on the bench's main thread.
    Inline,
    /// Workers spawned on the 2-thread smol executor.
    Smol,
    /// Workers spawned on the 2-worker tokio runtime.
    Tokio,
}

/// The designs, in the order of the tables: (id, label, where it runs).
const DESIGNS: [(&str, &str, Runs); 9] = [
    (
        "failfast-inline",
        "failfast, inline (`block_on`)",
        Runs::Inline,
    ),
    (
        "hand-inline",
        "hand-written pool, inline (`block_on`)",
        Runs::Inline,
    ),
    (
        "try_for_each_concurrent",
        "futures `try_for_each_concurrent` (`block_on`)",
        Runs::Inline,
    ),
    (
        "buffer_unordered",
        "futures `buffer_unordered` (`block_on`)",
        Runs::Inline,
    ),
    ("failfast-smol", "failfast on smol", Runs::Smol),
    ("hand-smol", "hand-written pool on smol", Runs::Smol),
    ("failfast-tokio", "failfast on tokio", Runs::Tokio),
    ("hand-tokio", "hand-written pool on tokio", Runs::Tokio),
    (
        "joinset-semaphore",
        "tokio `JoinSet` + `Semaphore`",
        Runs::Tokio,
    ),
];

/// What the benches ran: a design and, for a multi-threaded one, whether
/// its run's own future was driven from the main thread (the caller's
/// thread) instead of spawned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Config {
    design: usize,
    main_thread: bool,
}

impl Config {
    fn of(id: &str, main_thread: bool) -> Config {
        let design = DESIGNS
            .iter()
            .position(|(d, _, _)| *d == id)
            .unwrap_or_else(|| panic!("unknown design {id}"));
        Config {
            design,
            main_thread,
        }
    }

    fn runs(self) -> Runs {
        DESIGNS[self.design].2
    }

    /// The id the benches use (`failfast-smol-main-thread`).
    fn id(self) -> String {
        let id = DESIGNS[self.design].0;
        if self.main_thread {
            format!("{id}-main-thread")
        } else {
            id.to_owned()
        }
    }

    fn label(self) -> String {
        let label = DESIGNS[self.design].1;
        match (self.runs(), self.main_thread) {
            (Runs::Inline, _) => label.to_owned(),
            (_, false) => format!("{label}, run spawned"),
            (_, true) => format!("{label}, run on the caller's thread"),
        }
    }

    /// The failfast configuration this one is compared with: failfast where
    /// it runs (inline, or on the same executor with the same placement).
    fn failfast(self) -> Config {
        let id = match self.runs() {
            Runs::Inline => "failfast-inline",
            Runs::Smol => "failfast-smol",
            Runs::Tokio => "failfast-tokio",
        };
        Config::of(id, self.main_thread)
    }

    fn is_failfast(self) -> bool {
        self.failfast() == self
    }
}

/// The single-threaded designs.
fn inline_configs() -> Vec<Config> {
    (0..DESIGNS.len())
        .filter(|&design| DESIGNS[design].2 == Runs::Inline)
        .map(|design| Config {
            design,
            main_thread: false,
        })
        .collect()
}

/// The multi-threaded configurations, by executor, then placement.
fn threaded_configs() -> Vec<Config> {
    let mut configs = Vec::new();
    for runs in [Runs::Smol, Runs::Tokio] {
        for main_thread in [false, true] {
            for design in (0..DESIGNS.len()).filter(|&d| DESIGNS[d].2 == runs) {
                configs.push(Config {
                    design,
                    main_thread,
                });
            }
        }
    }
    configs
}

/// Every configuration, in the order of the tables.
fn all_configs() -> Vec<Config> {
    let mut configs = inline_configs();
    configs.extend(threaded_configs());
    configs
}

/// Every design where it runs by default (the abort latency rows).
fn default_configs() -> Vec<Config> {
    all_configs()
        .into_iter()
        .filter(|c| !c.main_thread)
        .collect()
}

/// Labels of the rows that are not configurations.
fn label(id: &str) -> String {
    match id {
        "sequential" => "sequential loop".to_owned(),
        "baseline" => "process baseline (executors started, no run)".to_owned(),
        "task-per-item" => "one tokio task per item, spawned up front".to_owned(),
        _ => {
            let main_thread = id.ends_with("-main-thread");
            Config::of(id.trim_end_matches("-main-thread"), main_thread).label()
        }
    }
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

    fn harness(&self, name: &str) -> Value {
        self.read(&self.target.join("failfast-bench").join(name))
    }
}

/// A median over processes, with the lowest and highest.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
    /// How many figures.
    count: usize,
}

impl Spread {
    fn of(values: &[f64]) -> Spread {
        assert!(!values.is_empty(), "no figures");
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            count: n,
        }
    }

    /// `104 (98–110)`.
    fn cell(self) -> String {
        format!("{:.0} ({:.0}–{:.0})", self.median, self.min, self.max)
    }

    /// Nanoseconds as milliseconds: `405.1 (399.8–415.0)`.
    fn ms_cell(self) -> String {
        format!(
            "{:.1} ({:.1}–{:.1})",
            self.median / 1e6,
            self.min / 1e6,
            self.max / 1e6
        )
    }
}

/// Every result of the run.
struct Results {
    overhead: Vec<Value>,
    callgrind: Vec<Value>,
    cpu: Value,
    abort: Vec<Value>,
    memory: Vec<Value>,
}

impl Results {
    fn load(inputs: Inputs) -> Results {
        let list = |name: &str| match inputs.harness(name) {
            Value::Array(list) => list,
            _ => panic!("{name}: a list"),
        };
        Results {
            overhead: list("overhead.json"),
            callgrind: list("callgrind.json"),
            cpu: inputs.harness("cpu.json"),
            abort: list("abort.json"),
            memory: list("memory.json"),
        }
    }

    fn overhead_entry(&self, group: &str, id: &str) -> &Value {
        self.overhead
            .iter()
            .find(|o| o["group"] == group && o["config"] == id)
            .unwrap_or_else(|| panic!("overhead of {group}/{id}"))
    }

    /// Wall time per item, over the processes that ran `group/config`.
    fn ns_per_item(&self, group: &str, config: Config) -> Spread {
        let figures: Vec<f64> = self.overhead_entry(group, &config.id())["ns_per_item"]
            .as_array()
            .expect("figures")
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        Spread::of(&figures)
    }

    /// Instructions per item (callgrind): the difference between the runs
    /// at two item counts over the difference in items handled.
    fn instructions(&self, group: &str, config: Config) -> f64 {
        let id = config.id();
        let entry = self
            .callgrind
            .iter()
            .find(|c| c["group"] == group && c["config"] == id.as_str())
            .unwrap_or_else(|| panic!("instructions of {group}/{id}"));
        let pair = |key: &str| {
            let list = entry[key].as_array().expect("two figures");
            (
                list[0].as_f64().expect("a number"),
                list[1].as_f64().expect("a number"),
            )
        };
        let ((n1, n2), (ir1, ir2)) = (pair("items"), pair("instructions"));
        let passes = entry["passes"].as_f64().expect("passes");
        (ir2 - ir1) / ((n2 - n1) * passes)
    }

    /// Wall time per run of the cpu bench (`sequential` or a configuration
    /// id), over the processes that ran it.
    fn cpu(&self, id: &str) -> Spread {
        let figures: Vec<f64> = self.cpu["configs"]
            .as_array()
            .expect("cpu configurations")
            .iter()
            .find(|c| c["config"] == id)
            .unwrap_or_else(|| panic!("cpu figures of {id}"))["ns_per_run"]
            .as_array()
            .expect("figures")
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        Spread::of(&figures)
    }

    /// The median over processes of the sequential loop over the median of
    /// `config`'s.
    fn speedup(&self, config: Config) -> f64 {
        self.cpu("sequential").median / self.cpu(&config.id()).median
    }

    fn abort(&self, config: Config) -> &Value {
        let id = config.id();
        self.abort
            .iter()
            .find(|a| a["peer"] == id.as_str())
            .unwrap_or_else(|| panic!("abort latency of {id}"))
    }

    fn p99(&self, config: Config) -> f64 {
        self.abort(config)["p99_ns"].as_f64().expect("p99")
    }

    /// The memory runs' source lengths, smallest first.
    fn memory_sizes(&self) -> (u64, u64) {
        let mut sizes: Vec<u64> = self
            .memory
            .iter()
            .filter_map(|m| m["items"].as_u64())
            .filter(|n| *n > 0)
            .collect();
        sizes.sort_unstable();
        (sizes[0], *sizes.last().expect("sizes"))
    }

    /// Peak resident memory in kB of a memory configuration.
    fn peak(&self, config: &str, n: u64) -> f64 {
        self.memory
            .iter()
            .find(|m| m["config"] == config && m["items"].as_u64() == Some(n))
            .and_then(|m| m["peak_kb"].as_f64())
            .unwrap_or_else(|| panic!("peak of {config} with {n} items"))
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

/// A target: what is measured, the value, the bound, and whether it is met.
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

/// The targets, each measured against its peer in this run.
fn targets(r: &Results) -> Vec<Target> {
    let mut targets = Vec::new();
    let inline = Config::of("failfast-inline", false);
    for (group, workload, peer, bound) in [
        (TRIVIAL, "trivial", "hand-inline", 1.0),
        (YIELD, "yield", "try_for_each_concurrent", 1.3),
    ] {
        let peer = Config::of(peer, false);
        let r_ir = r.instructions(group, inline) / r.instructions(group, peer);
        let r_ns = r.ns_per_item(group, inline).median / r.ns_per_item(group, peer).median;
        targets.push(Target {
            what: format!(
                "overhead, {workload} job: failfast inline / {}, instructions per item (callgrind)",
                DESIGNS[peer.design].1.trim_end_matches(" (`block_on`)")
            ),
            measured: format!("{} (wall time {})", ratio(r_ir), ratio(r_ns)),
            bound: format!("≤ {bound:.2}x"),
            met: r_ir <= bound,
        });
    }
    for (group, workload) in [(TRIVIAL, "trivial"), (YIELD, "yield")] {
        let median =
            |id: &str, main_thread| r.ns_per_item(group, Config::of(id, main_thread)).median;
        for executor in ["smol", "tokio"] {
            let x = median(&format!("failfast-{executor}"), false)
                / median(&format!("hand-{executor}"), false);
            targets.push(Target {
                what: format!(
                    "overhead, {workload} job: failfast / hand-written pool, on {executor}, run spawned"
                ),
                measured: ratio(x),
                bound: "≤ 1.00x".into(),
                met: x <= 1.0,
            });
        }
        let x = median("failfast-tokio", false) / median("joinset-semaphore", false);
        targets.push(Target {
            what: format!(
                "overhead, {workload} job: failfast on tokio / `JoinSet` + `Semaphore`, run spawned"
            ),
            measured: ratio(x),
            bound: "≤ 0.70x".into(),
            met: x <= 0.7,
        });
    }
    for executor in ["smol", "tokio"] {
        let id = format!("failfast-{executor}");
        let x = r.ns_per_item(YIELD, Config::of(&id, true)).median
            / r.ns_per_item(YIELD, Config::of(&id, false)).median;
        targets.push(Target {
            what: format!(
                "overhead, yield job: failfast on {executor}, run on the caller's thread / run spawned"
            ),
            measured: ratio(x),
            bound: "≤ 1.10x".into(),
            met: x <= 1.1,
        });
    }
    for (main_thread, bound) in [(false, 1.85), (true, 1.9)] {
        for id in ["failfast-smol", "failfast-tokio"] {
            let config = Config::of(id, main_thread);
            let s = r.speedup(config);
            targets.push(Target {
                what: format!("cpu: speedup over sequential, {}", config.label()),
                measured: ratio(s),
                bound: format!("≥ {bound:.2}x"),
                met: s >= bound,
            });
        }
    }
    for id in ["failfast-inline", "try_for_each_concurrent"] {
        let config = Config::of(id, false);
        let s = r.speedup(config);
        targets.push(Target {
            what: format!(
                "cpu: speedup over sequential, {} (one thread)",
                config.label()
            ),
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
        let config = Config::of(id, false);
        let p99 = r.p99(config);
        targets.push(Target {
            what: format!("abort latency p99: {}", config.label()),
            measured: ns(p99),
            bound: format!("≤ {bound_us} µs"),
            met: p99 <= bound_us * 1e3,
        });
    }
    let (ours, hand) = (r.p99(inline), r.p99(Config::of("hand-inline", false)));
    targets.push(Target {
        what: "abort latency p99: failfast inline / hand-written pool inline".into(),
        measured: format!("{} ({} / {})", ratio(ours / hand), ns(ours), ns(hand)),
        bound: "≤ 1.00x".into(),
        met: ours <= hand,
    });
    let (small, large) = r.memory_sizes();
    for id in ["failfast-inline", "failfast-smol", "failfast-tokio"] {
        let x = r.peak(id, large) / r.peak(id, small);
        targets.push(Target {
            what: format!(
                "memory: peak with {} items / with {} items, {}",
                thousands(large),
                thousands(small),
                label(id)
            ),
            measured: ratio(x),
            bound: "< 1.10x".into(),
            met: x < 1.1,
        });
    }
    targets
}

/// What the run was: where, when, how long.
struct Run {
    date: String,
    nproc: String,
    rustc: String,
    elapsed: Option<u64>,
}

/// How the overhead figures were taken: (items per iteration, iterations per
/// process, processes), and callgrind's (smaller, larger item count, passes).
struct Methods {
    items: u64,
    iterations: u64,
    processes: usize,
    callgrind_items: (u64, u64),
    passes: u64,
}

impl Methods {
    fn of(r: &Results) -> Methods {
        let first = &r.overhead[0];
        let number = |v: &Value| v.as_u64().expect("a count");
        let cg = &r.callgrind[0];
        Methods {
            items: number(&first["items"]),
            iterations: number(&first["iterations"]),
            processes: first["ns_per_item"].as_array().map_or(0, Vec::len),
            callgrind_items: (number(&cg["items"][0]), number(&cg["items"][1])),
            passes: number(&cg["passes"]),
        }
    }
}

fn markdown(r: &Results, targets: &[Target], root: &Path, run: &Run, notes: &str) -> String {
    let m = Methods::of(r);
    let (items_n, processes) = (thousands(m.items), m.processes);
    let (cg1, cg2) = (
        thousands(m.callgrind_items.0),
        thousands(m.callgrind_items.1),
    );
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
    writeln!(w, "| `nproc` | {} |", run.nproc).unwrap();
    writeln!(w, "| rustc | `{}` |", run.rustc).unwrap();
    writeln!(w, "| date (start of the run) | {} |", run.date).unwrap();
    writeln!(w, "| failfast | {} |", library_version(root)).unwrap();
    writeln!(w, "| command | `scripts/bench.sh` |").unwrap();
    if let Some(secs) = run.elapsed {
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
         the hand-written inline pool, the `futures` combinators) run under \
         `futures::executor::block_on` on the bench's main thread. Each multi-threaded \
         design runs in two placements. **Run spawned**: the run's own future (failfast's \
         producer and driver, the hand-written pool's producer, the `JoinSet` loop) is \
         spawned onto the executor too and the main thread only waits for its end, so the 2 \
         cores are not shared with a third busy thread. **Run on the caller's thread**: the \
         run's own future is driven from the bench's main thread, as code that simply \
         awaits the run does (smol: `futures::executor::block_on(run)`; tokio: \
         `Runtime::block_on(run)`, as `#[tokio::main]` does), and only the workers (or \
         tasks) are spawned. failfast discards outputs (`Outputs::Discard`), as the peers \
         do. The hand-written pool is an `async_channel::bounded` queue, workers, and an \
         abort flag (`AtomicBool` + `event_listener::Event`, one listener per worker) that \
         every worker races its job against, the first error closing the channel; on smol \
         and tokio its workers are spawned, inline its producer and 8 worker futures are \
         joined in the one future that `block_on` runs (`join(producer, join_all(workers))`). \
         `JoinSet` + `Semaphore` takes a permit, pulls an item, spawns a task per item, reaps \
         finished tasks as it goes, and on the first error calls `abort_all` and awaits the \
         aborted tasks. Sources are `futures::stream::iter` ranges. The code is in \
         `benches/` (`common/mod.rs` has every design).\n"
    )
    .unwrap();
    writeln!(w, "![benchmarks](docs/benchmarks.svg)\n").unwrap();

    writeln!(w, "## Targets\n").unwrap();
    writeln!(w, "| target | measured | bound | |\n|---|---:|---:|---|").unwrap();
    for t in targets {
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
        "\n{} of {} targets met in this run. Overhead ratios of wall times are ratios of the \
         medians over processes (see below); the inline overhead targets use instruction \
         counts, which do not move with the machine's load, and show the ratio of wall times \
         beside them. What the profiles show for the misses is in the notes at the end.\n",
        targets.len() - missed,
        targets.len()
    )
    .unwrap();

    writeln!(w, "## Overhead\n").unwrap();
    writeln!(
        w,
        "Trivial jobs (`async move {{ Ok(x) }}`) and the same with one \
         `yield_now().await` (futures-lite's, identical on every executor). Two methods:\n\n\
         - **ns/item, median of {processes} processes** (every column headed ns/item): each \
         configuration runs in {processes} separate processes, taken in turn (one process \
         of every configuration, then the next round), each handling {} iterations of \
         {items_n} items after one warm-up iteration; a cell is the median over the \
         processes, with the fastest and the slowest process in parentheses. One process of \
         a multi-threaded design can stay fast or slow for its whole life (depending on \
         where its threads land on the 2 cores), so a single process, or many samples \
         taken inside one as criterion does, can be off by a factor of several; a median \
         over processes is not.\n\
         - **instructions/item, callgrind** (single-threaded designs only): `valgrind \
         --tool=callgrind` counts the instructions of the same program with {cg1} and with \
         {cg2} items ({} passes over the items each: the warm-up and one measured \
         iteration); the difference divided by the difference in items handled is the cost \
         per item, with start-up, the idle executors' threads and one-off allocations \
         cancelled out. Callgrind simulates the CPU, so these counts repeat from run to run \
         whatever the machine's load. They are not time (no cache misses, no contention \
         between threads), which is why the multi-threaded designs have none.\n\n\
         Ratios are this design's figure over failfast's where it runs (inline, or on the \
         same executor with the same placement): above 1, failfast is cheaper.\n",
        m.iterations, m.passes
    )
    .unwrap();
    writeln!(w, "### Single-threaded designs\n").unwrap();
    writeln!(
        w,
        "| design | trivial: ns/item | trivial: instructions/item | ratio to failfast (instructions) | yield: ns/item | yield: instructions/item | ratio to failfast (instructions) |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for config in inline_configs() {
        let mut row = format!("| {} |", config.label());
        for group in [TRIVIAL, YIELD] {
            let ir = r.instructions(group, config);
            let vs = if config.is_failfast() {
                String::new()
            } else {
                ratio(ir / r.instructions(group, config.failfast()))
            };
            write!(
                row,
                " {} | {ir:.0} | {vs} |",
                r.ns_per_item(group, config).cell()
            )
            .unwrap();
        }
        writeln!(w, "{row}").unwrap();
    }
    writeln!(w, "\n### Multi-threaded designs\n").unwrap();
    writeln!(
        w,
        "| design | trivial: ns/item | ratio to failfast | yield: ns/item | ratio to failfast | yield: caller's thread / run spawned |\n|---|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for config in threaded_configs() {
        let mut row = format!("| {} |", config.label());
        for group in [TRIVIAL, YIELD] {
            let ns = r.ns_per_item(group, config);
            let vs = if config.is_failfast() {
                String::new()
            } else {
                ratio(ns.median / r.ns_per_item(group, config.failfast()).median)
            };
            write!(row, " {} | {vs} |", ns.cell()).unwrap();
        }
        let placement = if config.main_thread {
            let spawned = Config {
                main_thread: false,
                ..config
            };
            ratio(r.ns_per_item(YIELD, config).median / r.ns_per_item(YIELD, spawned).median)
        } else {
            String::new()
        };
        writeln!(w, "{row} {placement} |").unwrap();
    }
    writeln!(w).unwrap();

    writeln!(w, "## CPU-bound jobs\n").unwrap();
    let cpu = &r.cpu;
    let jobs = cpu["jobs"].as_f64().unwrap_or(0.0);
    let cpu_processes = r.cpu("sequential").count;
    writeln!(
        w,
        "{} jobs that each burn about {} µs of CPU (a deterministic mixing loop of {} \
         rounds, calibrated once before the processes start), on a machine with {} cores. \
         The sequential loop and every configuration run in {cpu_processes} separate \
         processes each, taken in turn (one process of every configuration, then the next \
         round), every process burning the same rounds per job; each process does one \
         warm-up run, then {} timed runs, and reports their median. Wall time is the median \
         over the processes, with the fastest and the slowest process in parentheses; the \
         speedup is the sequential loop's median over the design's median. As with the \
         overhead, one process of a multi-threaded design can stay fast or slow for its \
         whole life, and the machine's speed drifts between processes, so only the median \
         over processes is compared. The multi-threaded designs run in both placements: \
         with the run on the caller's thread, the main thread is a third thread competing \
         for the 2 cores whenever the run's own future has work.\n",
        thousands(jobs as u64),
        cpu["target_ns"].as_f64().unwrap_or(0.0) / 1e3,
        cpu["rounds"],
        run.nproc,
        cpu["runs"]
    )
    .unwrap();
    writeln!(
        w,
        "| design | wall time, ms | per job | speedup |\n|---|---:|---:|---:|"
    )
    .unwrap();
    let sequential = r.cpu("sequential");
    writeln!(
        w,
        "| {} | {} | {} | 1.00x |",
        label("sequential"),
        sequential.ms_cell(),
        ns(sequential.median / jobs)
    )
    .unwrap();
    for config in all_configs() {
        let wall = r.cpu(&config.id());
        writeln!(
            w,
            "| {} | {} | {} | {} |",
            config.label(),
            wall.ms_cell(),
            ns(wall.median / jobs),
            ratio(sequential.median / wall.median)
        )
        .unwrap();
    }
    writeln!(w).unwrap();

    writeln!(w, "## Abort latency\n").unwrap();
    let runs = r.abort(Config::of("failfast-inline", false))["runs"]
        .as_u64()
        .unwrap_or(0);
    writeln!(
        w,
        "An endless producer; jobs sleep 10 s (smol's `Timer` for the `block_on` and smol \
         designs, tokio's `sleep` for the tokio ones). Once the pipeline is full (every \
         worker busy, the queue full, the producer blocked on its next send; for the designs \
         without a queue, 8 jobs in flight), job 0 stamps the time and returns `Err`; the \
         latency runs from that stamp to the run's future returning, stamped where that \
         future runs (the main thread for the `block_on` designs, an executor thread for the \
         multi-threaded ones, whose run is spawned), so it does not include waking the \
         bench's main thread. {runs} measured runs per design after 20 warm-up runs. Every \
         run checks that the producer was released (its `send` refused; for the designs \
         without a producer, the source dropped) and that no job future was left alive when \
         the run returned (drop guards); the last two columns count the runs that passed. \
         The `JoinSet` loop awaits the aborted tasks before returning, so none is left \
         running either; the `futures` combinators drop theirs when they return.\n"
    )
    .unwrap();
    writeln!(
        w,
        "| design | min | median | p99 | max | producer released | no job left |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for config in default_configs() {
        let a = r.abort(config);
        let f = |key: &str| ns(a[key].as_f64().unwrap_or(f64::NAN));
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {}/{runs} | {}/{runs} |",
            config.label(),
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
    let (small, large) = r.memory_sizes();
    let (small_n, large_n) = (thousands(small), thousands(large));
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
    let baseline = r
        .memory
        .iter()
        .find(|m| m["config"] == "baseline")
        .and_then(|m| m["peak_kb"].as_f64());
    if let Some(kb) = baseline {
        writeln!(w, "| {} | {} | | |", label("baseline"), mib(kb)).unwrap();
    }
    for id in MEMORY_ROWS {
        let (a, b) = (r.peak(id, small), r.peak(id, large));
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
        "```sh\nscripts/bench.sh\n```\n\nIt builds the benches and runs, each step's output \
         in `target/failfast-bench/<step>.log`: `overhead -- --processes` (the overhead \
         bench's processes mode; per-process figures in \
         `target/failfast-bench/overhead.json`), `valgrind --tool=callgrind` on the overhead \
         bench's profile mode for the single-threaded designs (`callgrind.json`, and the \
         callgrind profiles in `target/failfast-bench/callgrind/`), `cpu -- --processes` \
         (the cpu bench's processes mode; per-process figures in `cpu.json`), `abort` and \
         `memory` (custom harnesses, results in `target/failfast-bench/`), then `report`, \
         which writes this file and the chart, and refuses results older than the run. It needs `valgrind` \
         and `jq`, and takes about 5 minutes on 2 cores. Knobs: `FAILFAST_BENCH_ITEMS` \
         (items per overhead iteration, default 100,000), `FAILFAST_BENCH_PROCESSES` \
         (processes per overhead and per cpu configuration, default 5), \
         `FAILFAST_BENCH_PROCESS_ITERS` (measured overhead iterations per process, default \
         10), `FAILFAST_BENCH_CPU_RUNS` (timed cpu runs per process, default 3), `FAILFAST_BENCH_CALLGRIND_ITEMS` \
         (the two item counts under callgrind, default `10000,30000`), \
         `FAILFAST_BENCH_ABORT_RUNS` (runs per design, at least 200), \
         `FAILFAST_BENCH_MEMORY_ITEMS` (comma-separated source lengths), \
         `FAILFAST_BENCH_ABORT_PEERS` (some designs only, for profiling; leaves the results \
         alone). `cargo bench --bench overhead` and `cargo bench --bench cpu` alone run \
         every configuration of that bench under criterion instead (one process; HTML \
         reports in `target/criterion/report/index.html`). To profile one overhead \
         configuration: `scripts/profile.sh overhead-yield/failfast-inline \
         [perf|callgrind|all]` (CPU time, context switches and top symbols per item with \
         perf; instructions per item by function with callgrind; built with line tables in \
         `target/profile`); the ids are those of the benches, e.g. `hand-inline` or \
         `failfast-tokio-main-thread`.\n"
    )
    .unwrap();
    writeln!(w, "## Notes\n").unwrap();
    writeln!(w, "{notes}").unwrap();
    md
}

/// The memory bench's configurations shown, besides the baseline.
const MEMORY_ROWS: [&str; 4] = [
    "failfast-inline",
    "failfast-smol",
    "failfast-tokio",
    "task-per-item",
];

/// A bar: its value, its text, and optionally a range drawn as a whisker
/// (the fastest and slowest process).
struct Bar {
    value: f64,
    text: String,
    range: Option<(f64, f64)>,
}

impl Bar {
    fn new(value: f64, text: String) -> Bar {
        Bar {
            value,
            text,
            range: None,
        }
    }

    /// A median over processes, with its range.
    fn spread(s: Spread) -> Bar {
        Bar {
            value: s.median,
            text: format!("{:.0} ns", s.median),
            range: Some((s.min, s.max)),
        }
    }
}

/// A horizontal bar chart panel: rows of (label, bars).
struct Panel {
    title: String,
    unit: String,
    log: bool,
    series: Vec<(String, &'static str)>, // (name, colour)
    rows: Vec<(String, Vec<Bar>)>,
    /// Dashed vertical lines: targets, references.
    marks: Vec<(f64, String)>,
}

const SVG_WIDTH: f64 = 1000.0;
const LABEL_WIDTH: f64 = 370.0;
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
            .flat_map(|(_, bars)| bars.iter())
            .flat_map(|b| [Some(b.value), b.range.map(|r| r.0), b.range.map(|r| r.1)])
            .flatten();
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
            top + 38.0,
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
            // A label goes left of its line when another mark is close on
            // its right.
            let crowded = self
                .marks
                .iter()
                .any(|(other, _)| x(*other) > x(*value) && x(*other) - x(*value) < 80.0);
            let (text_x, anchor) = if crowded {
                (x(*value) - 3.0, "end")
            } else {
                (x(*value) + 3.0, "start")
            };
            writeln!(
                svg,
                r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="#333" stroke-dasharray="4 3"/><text x="{3:.1}" y="{4}" font-size="9" fill="#333" text-anchor="{anchor}">{5}</text>"##,
                x(*value),
                y - 8.0,
                plot_bottom,
                text_x,
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
            for (i, bar) in bars.iter().enumerate() {
                let colour = self.series[i].1;
                let bar_y = y + BAR_HEIGHT * i as f64;
                let end = x(bar.value);
                writeln!(
                    svg,
                    r#"<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{:.1}" height="{}" fill="{colour}"/>"#,
                    (end - LABEL_WIDTH).max(1.0),
                    BAR_HEIGHT - 2.0,
                )
                .unwrap();
                let mut text_x = end;
                if let Some((lo, hi)) = bar.range {
                    let (mid, top, bottom) = (
                        bar_y + (BAR_HEIGHT - 2.0) / 2.0,
                        bar_y + 2.0,
                        bar_y + BAR_HEIGHT - 4.0,
                    );
                    writeln!(
                        svg,
                        r##"<path d="M{0:.1} {top}V{bottom}M{0:.1} {mid}H{1:.1}M{1:.1} {top}V{bottom}" stroke="#222" fill="none"/>"##,
                        x(lo),
                        x(hi)
                    )
                    .unwrap();
                    text_x = text_x.max(x(hi));
                }
                writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{}" font-size="10">{}</text>"#,
                    text_x + 4.0,
                    bar_y + BAR_HEIGHT - 3.0,
                    escape(&bar.text)
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

/// The chart's panels.
fn panels(r: &Results, nproc: &str) -> Vec<Panel> {
    let m = Methods::of(r);
    let overhead_series = || {
        vec![
            ("trivial job".to_owned(), "#4c78a8"),
            ("with one yield".to_owned(), "#f58518"),
        ]
    };
    let mut panels = vec![
        Panel {
            title: format!(
                "Overhead per item: median of {} processes (whiskers: the fastest and slowest)",
                m.processes
            ),
            unit: "ns per item, lower is better".into(),
            log: true,
            series: overhead_series(),
            rows: all_configs()
                .into_iter()
                .map(|c| {
                    let bars = [TRIVIAL, YIELD]
                        .iter()
                        .map(|g| Bar::spread(r.ns_per_item(g, c)))
                        .collect();
                    (c.label(), bars)
                })
                .collect(),
            marks: vec![],
        },
        Panel {
            title: "Instructions per item, single-threaded designs (callgrind)".into(),
            unit: "instructions per item, lower is better".into(),
            log: false,
            series: overhead_series(),
            rows: inline_configs()
                .into_iter()
                .map(|c| {
                    let bars = [TRIVIAL, YIELD]
                        .iter()
                        .map(|g| {
                            let ir = r.instructions(g, c);
                            Bar::new(ir, format!("{ir:.0}"))
                        })
                        .collect();
                    (c.label(), bars)
                })
                .collect(),
            marks: vec![],
        },
        Panel {
            title: format!("CPU-bound: speedup over a sequential loop ({nproc} cores)"),
            unit: "speedup, higher is better".into(),
            log: false,
            series: vec![("speedup".into(), "#54a24b")],
            marks: vec![
                (1.85, "target 1.85x (run spawned)".into()),
                (1.9, "1.9x (caller's thread)".into()),
            ],
            rows: all_configs()
                .into_iter()
                .map(|c| {
                    let s = r.speedup(c);
                    (c.label(), vec![Bar::new(s, format!("{s:.2}x"))])
                })
                .collect(),
        },
    ];
    let runs = r.abort(Config::of("failfast-inline", false))["runs"]
        .as_u64()
        .unwrap_or(0);
    panels.push(Panel {
        title: format!("Abort latency, from the job's Err to the run returning ({runs} runs)"),
        unit: "ns, lower is better".into(),
        log: true,
        series: vec![("median".into(), "#4c78a8"), ("p99".into(), "#e45756")],
        rows: default_configs()
            .into_iter()
            .map(|c| {
                let a = r.abort(c);
                let bars = ["median_ns", "p99_ns"]
                    .iter()
                    .map(|key| {
                        let v = a[*key].as_f64().unwrap_or(0.0);
                        Bar::new(v, ns(v))
                    })
                    .collect();
                (c.label(), bars)
            })
            .collect(),
        marks: vec![
            (10e3, "inline target 10 µs".into()),
            (100e3, "spawned target 100 µs".into()),
        ],
    });
    let (small, large) = r.memory_sizes();
    panels.push(Panel {
        title: "Peak resident memory by source length".into(),
        unit: "MiB, lower is better".into(),
        log: true,
        series: vec![
            (format!("{} items", thousands(small)), "#72b7b2"),
            (format!("{} items", thousands(large)), "#b279a2"),
        ],
        marks: vec![],
        rows: MEMORY_ROWS
            .iter()
            .map(|id| {
                let bars = [small, large]
                    .iter()
                    .map(|n| {
                        let m = r.peak(id, *n) / 1024.0;
                        Bar::new(m, format!("{m:.1} MiB"))
                    })
                    .collect();
                (label(id), bars)
            })
            .collect(),
    });
    panels
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
    let results = Results::load(Inputs { target, since });
    let run = Run {
        date: std::env::var("FAILFAST_BENCH_DATE")
            .unwrap_or_else(|_| command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])),
        nproc: command_output("nproc", &[]),
        rustc: command_output("rustc", &["--version"]),
        elapsed: std::env::var("FAILFAST_BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok()),
    };
    let targets = targets(&results);

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
    let md = markdown(&results, &targets, root, &run, &notes);
    fs::write(&md_path, md).expect("write BENCHMARKS.md");

    let subtitle = format!(
        "{} ({} cores), {}, {}. Absolute figures vary between machines; compare the ratios.",
        cpu_model(),
        run.nproc,
        run.rustc,
        run.date
    );
    let docs = root.join("docs");
    fs::create_dir_all(&docs).expect("create docs/");
    let chart = svg(&panels(&results, &run.nproc), &subtitle);
    fs::write(docs.join("benchmarks.svg"), chart).expect("write the chart");
    let missed = targets.iter().filter(|t| !t.met).count();
    println!(
        "wrote {} and {} ({} of {} targets met)",
        md_path.display(),
        docs.join("benchmarks.svg").display(),
        targets.len() - missed,
        targets.len()
    );
}
