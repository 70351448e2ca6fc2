//! A throwaway PostgreSQL: `initdb` into a temporary directory and
//! `pg_ctl start` on a free loopback port, stopped and removed on drop.
//! The server refuses to run as root, so as root it runs as `postgres`.

use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

pub struct Postgres {
    dir: PathBuf,
    /// `host=127.0.0.1 port=... user=postgres dbname=postgres`
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
            check(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
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
                server.url = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");
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

/// `program` from the PostgreSQL binaries, as `postgres` when we are root.
fn as_postgres(program: &str) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", program]);
        command
    } else {
        Command::new(program)
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
