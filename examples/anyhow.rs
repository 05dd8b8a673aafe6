//! An application that uses anyhow: the handler returns `anyhow::Result`,
//! and `?` passes a failed run on, with its whole cause chain.
//!
//!     cargo run --example anyhow --features anyhow
//!
//! It reads three "files" (one is missing) and prints the run's error the
//! ways an application would: `{}`, `{:#}` and `{:?}`.

use anyhow::Context as _;
use failfast::Pool;

/// Pretends to read a file: `missing.txt` does not exist.
async fn read(name: &str) -> anyhow::Result<usize> {
    if name == "missing.txt" {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        return Err(io).with_context(|| format!("reading {name}"));
    }
    Ok(name.len())
}

async fn total_size(names: Vec<&'static str>) -> anyhow::Result<usize> {
    let report = Pool::new(2).run(futures::stream::iter(names), read).await?;
    Ok(report.outputs().iter().map(|(_, size)| size).sum())
}

fn main() -> anyhow::Result<()> {
    let ok = futures::executor::block_on(total_size(vec!["a.txt", "bb.txt"]))?;
    println!("total size: {ok}");
    let failed = futures::executor::block_on(total_size(vec!["a.txt", "missing.txt", "c.txt"]));
    let error = failed.expect_err("missing.txt is missing");
    println!("{{}}:   {error}");
    println!("{{:#}}: {error:#}");
    println!("{{:?}}:\n{error:?}");
    Ok(())
}
