//! Every external program the engine runs (qemu-img, qemu-io, debugfs, mke2fs) runs through
//! `Tool`: inside a bubblewrap sandbox that sees only `/usr` and the folders the call names,
//! with a cleared environment, CPU-time and memory limits, a wall-clock deadline, and its
//! output read with a size cap. A file a tenant made (a backing file, a VMDK extent) can
//! therefore name any host path it likes: the tool cannot open it.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SANDBOX: &str = "/usr/bin/bwrap";
/// What a tool may print on stderr before the rest is dropped (it only goes to the log).
const STDERR_CAP: usize = 64 * 1024;
/// What a tool may print on stdout unless the call says otherwise.
const STDOUT_CAP: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessLimits {
    pub cpu_seconds: u64,
    pub memory_bytes: u64,
    pub wall_seconds: u64,
}

impl ProcessLimits {
    /// For short calls: reading a header, a few blocks or one file.
    pub const QUICK: ProcessLimits = ProcessLimits { cpu_seconds: 60, memory_bytes: 1 << 30, wall_seconds: 120 };
}

impl Default for ProcessLimits {
    /// For whole-disk conversions (up to 1 TiB).
    fn default() -> Self {
        ProcessLimits { cpu_seconds: 3600, memory_bytes: 2 << 30, wall_seconds: 4 * 3600 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The tool's own words stay in `stderr` for the log; the message names only the tool.
    #[error("{program} failed ({status})")]
    Failed { program: &'static str, status: ExitStatus, stderr: String },
    #[error("{program} ran past its time limit of {seconds} s")]
    TimedOut { program: &'static str, seconds: u64 },
    #[error("{program} printed more than {cap} bytes")]
    OutputTooLarge { program: &'static str, cap: usize },
    #[error("stopped")]
    Cancelled,
    #[error("{program} ran out of disk space")]
    NoSpace { program: &'static str },
    #[error("the disk tools' sandbox (bubblewrap, {SANDBOX}) is not installed")]
    NoSandbox,
    #[error("could not run {program}: {source}")]
    Io { program: &'static str, source: std::io::Error },
}

/// `path` made absolute (against the current folder), as the sandbox starts in `/`.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// What a finished tool printed.
pub struct ToolOutput {
    pub stdout: Vec<u8>,
    pub stderr: String,
}

pub struct Tool {
    program: &'static str,
    args: Vec<OsString>,
    folders: Vec<PathBuf>,
    limits: ProcessLimits,
    stdout_cap: usize,
}

impl Tool {
    pub fn new(program: &'static str, limits: ProcessLimits) -> Tool {
        Tool { program, args: Vec::new(), folders: Vec::new(), limits, stdout_cap: STDOUT_CAP }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Tool {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Tool {
        self.args.extend(args.into_iter().map(|arg| arg.as_ref().to_os_string()));
        self
    }

    /// A file argument; the folder it is in becomes visible (and writable) in the sandbox.
    pub fn file(self, path: &Path) -> Tool {
        let path = absolute(path);
        self.folder_of(&path).arg(path)
    }

    /// Makes the folder holding `path` visible in the sandbox, for arguments that name a file
    /// inside a longer text (`if=...`, `file?offset=...`).
    pub fn folder_of(mut self, path: &Path) -> Tool {
        let path = absolute(path);
        self.folders.push(path.parent().unwrap_or(Path::new("/")).to_path_buf());
        self
    }

    /// Makes a whole folder visible (mke2fs's `-d` tree).
    pub fn folder(mut self, path: &Path) -> Tool {
        self.folders.push(absolute(path));
        self
    }

    pub fn stdout_cap(mut self, bytes: usize) -> Tool {
        self.stdout_cap = bytes;
        self
    }

    /// Runs the tool to the end; its stdout if it succeeded.
    pub fn run(self) -> Result<Vec<u8>, ToolError> {
        Ok(self.run_with(&AtomicBool::new(false), |_| {})?.stdout)
    }

    /// Runs the tool, handing each stdout line (split at `\r` or `\n`) to `on_line` as it
    /// comes, and stopping it when `cancel` is set or its time runs out.
    pub fn run_with(self, cancel: &AtomicBool, mut on_line: impl FnMut(&[u8])) -> Result<ToolOutput, ToolError> {
        let program = self.program;
        let io = |source| ToolError::Io { program, source };
        let mut child = self.command()?.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(io)?;
        let lines = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let stdout = read_capped(child.stdout.take(), self.stdout_cap, Some(lines.clone()));
        let stderr = read_capped(child.stderr.take(), STDERR_CAP, None);
        let deadline = Instant::now() + Duration::from_secs(self.limits.wall_seconds);
        let status = loop {
            for line in std::mem::take(&mut *lines.lock().unwrap_or_else(|e| e.into_inner())) {
                on_line(&line);
            }
            if let Some(status) = child.try_wait().map_err(io)? {
                break status;
            }
            let stop = if cancel.load(Ordering::Relaxed) {
                Some(ToolError::Cancelled)
            } else if Instant::now() > deadline {
                Some(ToolError::TimedOut { program, seconds: self.limits.wall_seconds })
            } else if stdout.overflowed.load(Ordering::Relaxed) {
                Some(ToolError::OutputTooLarge { program, cap: self.stdout_cap })
            } else {
                None
            };
            if let Some(error) = stop {
                kill(&mut child);
                return Err(error);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let (stdout_bytes, stdout_overflowed) = stdout.finish();
        for line in std::mem::take(&mut *lines.lock().unwrap_or_else(|e| e.into_inner())) {
            on_line(&line);
        }
        let (stderr_bytes, _) = stderr.finish();
        let stderr = String::from_utf8_lossy(&stderr_bytes).trim().to_string();
        if stdout_overflowed {
            return Err(ToolError::OutputTooLarge { program, cap: self.stdout_cap });
        }
        if !status.success() {
            tracing::warn!(program, %status, stderr = %stderr, "disk tool failed");
            if stderr.contains("No space left on device") {
                return Err(ToolError::NoSpace { program });
            }
            return Err(ToolError::Failed { program, status, stderr });
        }
        Ok(ToolOutput { stdout: stdout_bytes, stderr })
    }

    // The crate denies unsafe code; this is its one use, reviewed: setrlimit in the child.
    #[allow(unsafe_code)]
    fn command(&self) -> Result<Command, ToolError> {
        if !Path::new(SANDBOX).exists() {
            return Err(ToolError::NoSandbox);
        }
        let mut command = Command::new(SANDBOX);
        command.env_clear().env("PATH", "/usr/bin:/usr/sbin").env("LC_ALL", "C").stdin(Stdio::null());
        command
            .args(["--ro-bind", "/usr", "/usr"])
            .args(["--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64"])
            .args(["--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin"])
            .args(["--ro-bind-try", "/etc/mke2fs.conf", "/etc/mke2fs.conf"])
            .args(["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]);
        let mut folders = self.folders.clone();
        folders.sort();
        folders.dedup();
        for folder in &folders {
            // Bound where the arguments name it; the real folder, so a link cannot widen it.
            let real = folder.canonicalize().map_err(|source| ToolError::Io { program: self.program, source })?;
            command.arg("--bind").arg(&real).arg(folder);
        }
        command.args(["--unshare-all", "--die-with-parent", "--new-session", "--"]).arg(self.program).args(&self.args);
        let limits = self.limits;
        // SAFETY: only async-signal-safe setrlimit calls run between fork and exec.
        unsafe {
            command.pre_exec(move || {
                let cpu = libc::rlimit { rlim_cur: limits.cpu_seconds, rlim_max: limits.cpu_seconds };
                let memory = libc::rlimit { rlim_cur: limits.memory_bytes, rlim_max: limits.memory_bytes };
                if libc::setrlimit(libc::RLIMIT_CPU, &cpu) != 0 || libc::setrlimit(libc::RLIMIT_AS, &memory) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(command)
    }
}

/// Bytes free for an unprivileged writer on the file system holding `path`.
// The crate denies unsafe code; this is its second use, reviewed: one statvfs call.
#[allow(unsafe_code)]
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: statvfs is plain old data; all zeroes is a valid value of it.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is NUL-terminated and outlives the call; stat is a valid out pointer.
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

/// Kills the sandbox; `--die-with-parent` and its own PID namespace take the tool with it.
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A pipe read on a thread of its own, keeping at most `cap` bytes.
struct CappedReader {
    thread: Option<std::thread::JoinHandle<Vec<u8>>>,
    overflowed: Arc<AtomicBool>,
}

impl CappedReader {
    fn finish(self) -> (Vec<u8>, bool) {
        let bytes = self.thread.and_then(|thread| thread.join().ok()).unwrap_or_default();
        (bytes, self.overflowed.load(Ordering::Relaxed))
    }
}

fn read_capped(
    pipe: Option<impl Read + Send + 'static>,
    cap: usize,
    lines: Option<Arc<Mutex<Vec<Vec<u8>>>>>,
) -> CappedReader {
    let overflowed = Arc::new(AtomicBool::new(false));
    let flag = overflowed.clone();
    let thread = pipe.map(|mut pipe| {
        std::thread::spawn(move || {
            let (mut kept, mut line, mut buffer) = (Vec::new(), Vec::new(), [0u8; 8192]);
            while let Ok(read) = pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                let chunk = &buffer[..read];
                if kept.len() + chunk.len() > cap {
                    // Keep draining so the tool is not blocked; the caller stops it.
                    flag.store(true, Ordering::Relaxed);
                } else {
                    kept.extend_from_slice(chunk);
                }
                if let Some(lines) = &lines {
                    for byte in chunk {
                        if *byte == b'\r' || *byte == b'\n' {
                            lines.lock().unwrap_or_else(|e| e.into_inner()).push(std::mem::take(&mut line));
                        } else if line.len() < 256 {
                            line.push(*byte);
                        }
                    }
                }
            }
            kept
        })
    });
    CappedReader { thread, overflowed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!("ims-tool-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    #[test]
    fn a_tool_sees_only_the_folders_it_is_given() {
        let (inside, outside) = (folder("inside"), folder("outside"));
        std::fs::write(inside.join("a.txt"), "seen").unwrap();
        std::fs::write(outside.join("b.txt"), "hidden").unwrap();
        let seen = Tool::new("cat", ProcessLimits::QUICK).file(&inside.join("a.txt")).run().unwrap();
        assert_eq!(seen, b"seen");
        let hidden =
            Tool::new("cat", ProcessLimits::QUICK).file(&inside.join("a.txt")).arg(outside.join("b.txt")).run();
        assert!(matches!(hidden, Err(ToolError::Failed { .. })), "{:?}", hidden.err());
        let environment = Tool::new("env", ProcessLimits::QUICK).run().unwrap();
        // Nothing of ours (HOME, CARGO_*, DATABASE_URL, ...) reaches the tool.
        assert_eq!(String::from_utf8_lossy(&environment), "LC_ALL=C\nPATH=/usr/bin:/usr/sbin\nPWD=/\n");
        for dir in [inside, outside] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn time_output_and_cancel_are_bounded() {
        let slow = ProcessLimits { wall_seconds: 1, ..ProcessLimits::QUICK };
        let started = Instant::now();
        assert!(matches!(Tool::new("sleep", slow).arg("30").run(), Err(ToolError::TimedOut { .. })));
        assert!(started.elapsed() < Duration::from_secs(10));
        let chatty = Tool::new("yes", ProcessLimits::QUICK).stdout_cap(4096).run();
        assert!(matches!(chatty, Err(ToolError::OutputTooLarge { cap: 4096, .. })));
        let cancelled = Tool::new("sleep", ProcessLimits::QUICK).arg("30").run_with(&AtomicBool::new(true), |_| {});
        assert!(matches!(cancelled, Err(ToolError::Cancelled)));
    }

    /// A tool that fills its disk says so (the job's reason), instead of a bare failure.
    #[test]
    fn a_full_disk_is_named() {
        let full =
            Tool::new("dd", ProcessLimits::QUICK).args(["if=/dev/zero", "of=/dev/full", "bs=1k", "count=1"]).run();
        assert!(matches!(full, Err(ToolError::NoSpace { program: "dd" })), "{:?}", full.err());
        assert!(free_bytes(Path::new("/")).unwrap() > 0);
    }

    #[test]
    fn lines_arrive_as_they_are_printed() {
        let mut lines = Vec::new();
        Tool::new("printf", ProcessLimits::QUICK)
            .arg("one\rtwo\nthree\n")
            .run_with(&AtomicBool::new(false), |line| lines.push(String::from_utf8_lossy(line).into_owned()))
            .unwrap();
        assert_eq!(lines, ["one", "two", "three"]);
    }
}
