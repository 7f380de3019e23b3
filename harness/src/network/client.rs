//! The harness's side of the hub: the one hub process of this run, started
//! on first use, and each case's [`Link`] to it.

use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::Duration;

use super::hub::{FILES_PORT, HUB_ARG};
use super::protocol::{self, Answer, LinkInfo, Request};
use crate::container::rundir::RunDir;
use crate::container::Container;

/// A network problem: the hub could not start, or refused a request.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The hub process did not come up.
    #[error("failed to start the network hub {exe}: {message}")]
    Start {
        /// The executable started as the hub.
        exe: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Talking to the hub failed.
    #[error("failed to talk to the network hub")]
    Io(#[from] std::io::Error),
    /// The hub answered with a failure.
    #[error("{0}")]
    Refused(String),
}

type Result<T> = std::result::Result<T, NetworkError>;

/// The running hub: its socket, and the pipe whose closing ends it.
struct Hub {
    child: Child,
    socket: PathBuf,
}

static HUB: Mutex<Option<Hub>> = Mutex::new(None);

/// The hub's socket, starting the hub with `exe` if it is not running.
fn hub_socket(exe: &Path) -> Result<PathBuf> {
    let mut hub = HUB.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(running) = hub.as_ref() {
        return Ok(running.socket.clone());
    }
    let started = start(exe)?;
    let socket = started.socket.clone();
    *hub = Some(started);
    Ok(socket)
}

fn start(exe: &Path) -> Result<Hub> {
    let failed = |message: String| NetworkError::Start {
        exe: exe.to_owned(),
        message,
    };
    let run = RunDir::current().map_err(failed)?;
    let socket = run.path().join("hub.sock");
    let mut command = Command::new(exe);
    // Rootless: the hub enters the run's user namespace, which the
    // containers' own are nested in, so it may reach their network
    // namespaces.
    if crate::container::userns::rootless() {
        let userns = crate::container::userns::RunUserNs::current(exe).map_err(failed)?;
        command.env(crate::container::userns::USERNS_ENV, userns.path());
    }
    command.arg(HUB_ARG).arg(&socket);
    let child = crate::container::helper::spawn_until_ready(&mut command).map_err(failed)?;
    Ok(Hub { child, socket })
}

/// End the hub, if one runs, and wait for it: its namespace and every link
/// in it are gone when this returns. Called when a run finishes.
pub fn shutdown() {
    let hub = HUB.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(mut hub) = hub {
        drop(hub.child.stdin.take());
        let _ = hub.child.wait();
        let _ = std::fs::remove_file(&hub.socket);
    }
}

/// A case's link to the hub. Dropping it removes the link.
#[derive(Debug)]
pub struct Link {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    info: LinkInfo,
}

impl Link {
    /// Link `container` to the hub, which is started with `exe` (a binary
    /// whose `main` calls `wrtest::container::enter_if_requested`) if
    /// needed.
    pub fn attach(container: &Container, exe: &Path) -> Result<Link> {
        let pid = container
            .namespace_pid()
            .ok_or_else(|| NetworkError::Refused("the container has already ended".into()))?;
        let mut writer = UnixStream::connect(hub_socket(exe)?)?;
        let mut reader = BufReader::new(writer.try_clone()?);
        match exchange(&mut writer, &mut reader, &Request::Attach { pid })? {
            Answer::Attached(info) => Ok(Link {
                reader,
                writer,
                info,
            }),
            other => Err(unexpected(other)),
        }
    }

    /// The link's addresses.
    pub fn info(&self) -> LinkInfo {
        self.info
    }

    /// Serve the files in `dir` over HTTP from the hub, for as long as the
    /// link lives; returns the URL the case reaches them at.
    pub fn serve(&mut self, dir: &Path) -> Result<String> {
        match self.ask(&Request::Serve {
            dir: dir.to_owned(),
        })? {
            Answer::Serving(path) => Ok(format!("http://{}:{FILES_PORT}{path}", self.info.hub)),
            other => Err(unexpected(other)),
        }
    }

    /// One `GET path` from the hub to the case's `port`: status and body.
    pub fn http(&mut self, port: u16, path: &str, timeout: Duration) -> Result<(u16, String)> {
        let request = Request::Http {
            port,
            path: path.to_owned(),
            timeout_ms: millis(timeout),
        };
        match self.ask(&request)? {
            Answer::Http { status, body } => Ok((status, body)),
            other => Err(unexpected(other)),
        }
    }

    /// One TCP connection from the hub to the case's `port`.
    pub fn tcp(&mut self, port: u16, timeout: Duration) -> Result<()> {
        let request = Request::Tcp {
            port,
            timeout_ms: millis(timeout),
        };
        match self.ask(&request)? {
            Answer::Connected => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// One DNS query (A records of `name`) from the hub to the case's port
    /// 53: the response code and the answer records.
    pub fn dns(&mut self, name: &str, timeout: Duration) -> Result<(String, Vec<String>)> {
        let request = Request::Dns {
            name: name.to_owned(),
            timeout_ms: millis(timeout),
        };
        match self.ask(&request)? {
            Answer::Dns { code, records } => Ok((code, records)),
            other => Err(unexpected(other)),
        }
    }

    fn ask(&mut self, request: &Request) -> Result<Answer> {
        exchange(&mut self.writer, &mut self.reader, request)
    }
}

/// Send one request on a link's connection and read the hub's answer.
fn exchange(
    writer: &mut UnixStream,
    reader: &mut BufReader<UnixStream>,
    request: &Request,
) -> Result<Answer> {
    protocol::send(writer, request)?;
    protocol::receive(reader)?.ok_or_else(|| {
        NetworkError::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the hub closed the connection",
        ))
    })
}

fn millis(d: Duration) -> u64 {
    d.as_millis().clamp(1, u128::from(u64::MAX)) as u64
}

fn unexpected(answer: Answer) -> NetworkError {
    match answer {
        Answer::Failed(message) => NetworkError::Refused(message),
        other => NetworkError::Refused(format!("unexpected answer from the hub: {other:?}")),
    }
}
