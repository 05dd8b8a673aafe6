//! A real `redis-server` for the tests: started on a free loopback port in
//! a temporary directory, ready once it answers PING, killed on drop.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::Value;

/// How long a server may take to answer its first PING.
const STARTUP: Duration = Duration::from_secs(20);

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    persistent: bool,
}

impl RedisServer {
    /// A server that keeps nothing on disk.
    pub fn start() -> RedisServer {
        RedisServer::launch(free_port(), tempfile::tempdir().unwrap(), false)
    }

    /// A server that writes every change to its append-only file before
    /// replying, so a SIGKILL loses nothing it acknowledged.
    pub fn start_persistent() -> RedisServer {
        RedisServer::launch(free_port(), tempfile::tempdir().unwrap(), true)
    }

    fn launch(port: u16, dir: tempfile::TempDir, persistent: bool) -> RedisServer {
        let mut server = RedisServer {
            child: None,
            port,
            dir,
            persistent,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.log_path()).unwrap();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--save", ""]);
        if self.persistent {
            command.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            command.args(["--appendonly", "no"]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): the failfast-redis tests need a real server; \
                     install it with `apt-get install redis-server` (Debian package redis-server)"
                )
            });
        self.child = Some(child);
        self.wait_ready();
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
                panic!("redis-server exited with {status} before answering PING:\n{log}");
            }
            if let Ok(mut con) = redis::Client::open(self.url()).and_then(|c| c.get_connection()) {
                if let Ok(pong) = redis::cmd("PING").query::<String>(&mut con) {
                    assert_eq!(pong, "PONG");
                    return;
                }
            }
            assert!(
                started.elapsed() < STARTUP,
                "redis-server on port {} did not answer PING within {STARTUP:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn con(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// SIGKILL: no shutdown, no save.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart a killed server only");
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Adds `n` entries `{n: i}` to `stream`, returns their ids.
pub fn add_numbered(con: &mut redis::Connection, stream: &str, n: usize) -> Vec<String> {
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("XADD").arg(stream).arg("*").arg("n").arg(i);
    }
    pipe.query(con).unwrap()
}

/// Creates `group` on `stream` (from its start) and delivers every entry
/// to `consumer`, which acknowledges none: a consumer that died after
/// reading.
pub fn deliver_all_to(con: &mut redis::Connection, stream: &str, group: &str, consumer: &str) {
    let _: Value = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg("0")
        .query(con)
        .unwrap();
    let _: Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(group)
        .arg(consumer)
        .arg("STREAMS")
        .arg(stream)
        .arg(">")
        .query(con)
        .unwrap();
}

/// Entries pending in the group (the XPENDING summary's count).
pub fn pending(con: &mut redis::Connection, stream: &str, group: &str) -> i64 {
    let summary: Vec<Value> = redis::cmd("XPENDING")
        .arg(stream)
        .arg(group)
        .query(con)
        .unwrap();
    match summary.first() {
        Some(Value::Int(n)) => *n,
        other => panic!("unexpected XPENDING summary {other:?}"),
    }
}

/// Polls `condition` every 10 ms until it holds; panics after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
