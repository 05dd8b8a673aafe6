//! Checksum every file under a directory with N workers, on smol and
//! async-fs, with a progress bar. The first unreadable file aborts the run,
//! and the program lists what was not checked.
//!
//! ```text
//! cargo run --example checksum -- some/directory
//! cargo run --example checksum            # a demo directory with one dangling link
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use failfast::{Pool, SendError};
use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};

/// FNV-1a, 64 bits: enough to tell files apart in a demo.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A file that could not be checked.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
struct Unreadable {
    path: PathBuf,
    source: io::Error,
}

/// Sends every file under `dir` (depth first) into the pool. If the pool
/// stops taking files, returns the file it refused and the directories not
/// walked yet.
async fn walk(dir: PathBuf, tx: &failfast::Sender<PathBuf>) -> Vec<PathBuf> {
    let mut pending = vec![dir];
    while let Some(dir) = pending.pop() {
        let Ok(mut entries) = async_fs::read_dir(&dir).await else {
            continue;
        };
        while let Some(Ok(entry)) = entries.next().await {
            let path = entry.path();
            match entry.file_type().await {
                Ok(kind) if kind.is_dir() => pending.push(path),
                _ => {
                    if let Err(SendError(refused)) = tx.send(path).await {
                        pending.push(dir);
                        pending.insert(0, refused);
                        return pending;
                    }
                }
            }
        }
    }
    Vec::new()
}

/// A directory of 300 small files and one link to nowhere, for the demo.
fn demo_directory() -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("failfast-checksum-demo-{}", std::process::id()));
    for i in 0..300 {
        let sub = dir.join(format!("part-{}", i % 5));
        std::fs::create_dir_all(&sub)?;
        std::fs::write(
            sub.join(format!("file-{i:03}.txt")),
            format!("file {i}\n").repeat(i + 1),
        )?;
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        dir.join("nowhere"),
        dir.join("part-2").join("dangling-link"),
    )?;
    Ok(dir)
}

fn main() -> io::Result<()> {
    let (dir, demo) = match std::env::args_os().nth(1) {
        Some(dir) => (PathBuf::from(dir), false),
        None => (demo_directory()?, true),
    };
    let cleanup = demo.then(|| dir.clone());
    println!("checksumming every file under {}", dir.display());

    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} files checked, {msg}")
            .expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let progress_bar = bar.clone();
    let not_reached = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let walker_report = std::sync::Arc::clone(&not_reached);

    let result = smol::block_on(
        Pool::new(8)
            .queue(32)
            .on_progress(move |progress| {
                progress_bar.set_position((progress.completed + progress.failed) as u64);
                progress_bar.set_message(format!(
                    "{} queued, {} in flight",
                    progress.queued, progress.in_flight
                ));
            })
            .run_with(
                |tx| async move {
                    *walker_report.lock().expect("not poisoned") = walk(dir, &tx).await;
                    Ok::<(), std::convert::Infallible>(())
                },
                |path: PathBuf| async move {
                    match async_fs::read(&path).await {
                        Ok(bytes) => Ok((path, fnv1a(&bytes))),
                        Err(source) => Err(Unreadable { path, source }),
                    }
                },
            ),
    );
    bar.finish_and_clear();

    match result {
        Ok(report) => {
            println!("{} files checked", report.completed());
            let mut sums = report.into_outputs();
            sums.sort_by(|a, b| a.1.0.cmp(&b.1.0));
            for (_, (path, sum)) in sums.iter().take(5) {
                println!("  {sum:016x}  {}", path.display());
            }
        }
        Err(abort) => {
            println!("aborted: {abort}");
            println!("  checked before the abort: {}", abort.report().completed());
            let not_checked = abort.unprocessed().iter().map(|(_, path)| path.as_path());
            let cancelled = abort.cancelled().len();
            let listed: Vec<&Path> = not_checked.collect();
            println!(
                "  not checked: {} queued, {cancelled} cancelled in flight",
                listed.len()
            );
            for path in listed.iter().take(10) {
                println!("    {}", path.display());
            }
            if listed.len() > 10 {
                println!("    … and {} more", listed.len() - 10);
            }
            let not_reached = not_reached.lock().expect("not poisoned");
            if let Some((refused, dirs)) = not_reached.split_first() {
                println!("  refused as the pool stopped: {}", refused.display());
                println!(
                    "  directories not walked (partly or at all): {}",
                    dirs.len()
                );
                for dir in dirs {
                    println!("    {}", dir.display());
                }
            }
        }
    }
    if let Some(demo) = cleanup {
        std::fs::remove_dir_all(demo)?;
    }
    Ok(())
}
