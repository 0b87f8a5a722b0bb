//! Running the `geounify` binary as a user runs it (feature `cli`): with stdin piped in and
//! stdout/stderr captured ([`run`], [`run_with`], [`spawn`]), or in a folder with stdin closed
//! ([`run_in`]). Every runner panics if the binary cannot start, is killed by a signal (a panic
//! abort, a stack overflow) or writes stderr that is not UTF-8: each of those is a failure of
//! the CLI's contract, whatever the test checks next.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_geounify");

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// The exit status.
    pub code: i32,
    /// Stdout, byte for byte.
    pub stdout: Vec<u8>,
    /// Stderr (UTF-8).
    pub stderr: String,
}

impl Run {
    /// Stdout as text; panics if it is not UTF-8.
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
}

/// Starts `geounify args` with stdin, stdout and stderr piped.
pub fn spawn(args: &[&str]) -> Child {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the geounify binary starts")
}

/// Runs `geounify args`, with stdin fed by `feed` from a thread (so a large input streams and
/// cannot deadlock against a full stdout pipe; a write error means the binary stopped reading,
/// e.g. after a bad id, and is the feeder's to ignore).
pub fn run_with(args: &[&str], feed: impl FnOnce(&mut dyn Write) + Send + 'static) -> Run {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || feed(&mut stdin));
    let output = child.wait_with_output().expect("the geounify binary runs");
    writer.join().expect("the stdin writer thread does not panic");
    Run {
        code: output.status.code().expect("exited normally, not by a signal (no panic abort)"),
        stdout: output.stdout,
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `geounify args` with `input` on stdin (the binary may exit without reading it all).
pub fn run(args: &[&str], input: &[u8]) -> Run {
    let input = input.to_vec();
    run_with(args, move |stdin| {
        let _ = stdin.write_all(&input);
    })
}

/// Runs `geounify args` in `cwd` with stdin closed and stdout/stderr piped (so no progress
/// bar); (exit status, stderr).
pub fn run_in(args: &[&str], cwd: &Path) -> (i32, String) {
    let out = Command::new(BIN).args(args).current_dir(cwd).output().unwrap();
    let code = out.status.code().expect("exited normally, not by a signal (no panic abort)");
    (code, String::from_utf8(out.stderr).expect("stderr is UTF-8"))
}

/// Starts `geounify args` in `cwd` (stderr discarded, stdin and stdout inherited) and polls
/// `ready` every 5 ms until it holds, e.g. until the conversion's temporary file appears; the
/// running child, for the test to interrupt or kill. If the process ends first, or `ready`
/// does not hold within 60 s, the child is killed and the test panics naming `what`.
pub fn spawn_in_until(
    args: &[&str],
    cwd: &Path,
    what: &str,
    mut ready: impl FnMut() -> bool,
) -> Child {
    let mut child =
        Command::new(BIN).args(args).current_dir(cwd).stderr(Stdio::null()).spawn().unwrap();
    let start = std::time::Instant::now();
    while !ready() {
        let ended = child.try_wait().unwrap().is_some();
        if ended || start.elapsed().as_secs() > 60 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("geounify {args:?} {} before {what}", if ended { "ended" } else { "ran 60 s" });
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child
}

/// Runs the binary in `cwd` with `args`, stdin closed, stdout discarded, its address space
/// limited to 200,000 KiB (`ulimit -v 200000`) if `limit_as`; killed after 120 s (a hang is a
/// failure, reported as such, not a stuck test). (exit status, stderr); unlike the other
/// runners it returns a death by signal, for the test to judge.
pub fn run_guarded(
    args: &[&str],
    cwd: &Path,
    limit_as: bool,
) -> (std::process::ExitStatus, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(cwd).stdin(Stdio::null()).stdout(Stdio::null());
    cmd.stderr(Stdio::piped());
    if limit_as {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let limit = libc::rlimit { rlim_cur: 200_000 << 10, rlim_max: 200_000 << 10 };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("geounify {args:?} did not return within 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, reader.join().unwrap())
}
