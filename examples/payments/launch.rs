//! Each service runs as its own process with its own environment, on a
//! port the OS picks; the child prints that address as its first line and
//! exits when its standard input closes, so no service outlives its parent.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// A service process, stopped on drop.
pub struct Running {
    _child: testkit::KillOnDrop,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

/// Starts `exe serve NAME` with only `env` for keys: no
/// `ENCRYPTED_FIELDS_*` variable of this process leaks into the child. Its
/// log (refused requests, with their causes) goes to this process's stderr.
pub fn start<K, V>(exe: &Path, name: &str, env: &[(K, V)]) -> io::Result<Running>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    start_logging(exe, name, env, Stdio::inherit())
}

/// [`start`], with the service's log going to `log`.
pub fn start_logging<K, V>(
    exe: &Path,
    name: &str,
    env: &[(K, V)],
    log: impl Into<Stdio>,
) -> io::Result<Running>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut command = Command::new(exe);
    command.args(["serve", name]);
    start_command(command, name, env, log)
}

/// Starts `command`, a service that speaks the same protocol (the Python
/// `web` of `python/examples/web.py`), as [`start_logging`] starts ours.
pub fn start_command<K, V>(
    mut command: Command,
    name: &str,
    env: &[(K, V)],
    log: impl Into<Stdio>,
) -> io::Result<Running>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log);
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("ENCRYPTED_FIELDS_") {
            command.env_remove(var);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    // Stopped on every way out, a failed start included.
    let mut child = testkit::KillOnDrop(command.spawn()?);
    let mut line = String::new();
    if let Some(stdout) = child.0.stdout.take() {
        BufReader::new(stdout).read_line(&mut line)?;
    }
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| io::Error::other(format!("{name} did not start")))?;
    Ok(Running {
        _child: child,
        url: url.to_owned(),
    })
}
