//! The hub: a freshly executed wrtest process in a network namespace of its
//! own, one per run, started when the first case asks for a network.
//!
//! It owns everything networked: the veth link of each case (made with
//! rtnetlink), the run's private addresses, the HTTP file server for feeds
//! and the probes (HTTP, TCP, DNS) test code sends to a case. Its namespace
//! is anonymous (nothing under /run/netns) and nothing is added to the
//! host's, so when the hub ends, the kernel removes every link with it. It
//! ends when the harness closes its standard input, which includes the
//! harness dying. In a rootless run it first enters the run's user
//! namespace (see `container::userns`).

mod files;
pub(crate) mod links;
mod probes;

use std::io::{BufReader, Read};
use std::net::Ipv4Addr;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::addresses::{self, LinkAddresses, Numbers};
use super::protocol::{self, Answer, LinkInfo, Request};

pub use files::PORT as FILES_PORT;

/// The hidden first argument that makes a wrtest binary act as the hub;
/// the second is the path of the socket to listen on.
pub const HUB_ARG: &str = "__wrtest-hub";

/// What every connection shares.
struct Hub {
    network: Ipv4Addr,
    numbers: Mutex<Numbers>,
    files: files::Files,
}

/// Become the hub, listening on `socket`; never returns.
pub(crate) fn run(socket: &Path) -> ! {
    let _ = nix::sys::prctl::set_name(c"wrtest-hub");
    match start(socket) {
        Ok(listener) => serve(listener),
        Err(message) => {
            eprintln!("wrtest hub: {message}");
            std::process::exit(125)
        }
    }
}

/// Enter a new network namespace (this process is freshly executed and
/// still has one thread), bring up its loopback, start the file server,
/// listen, and tell the harness.
fn start(socket: &Path) -> Result<(UnixListener, Arc<Hub>), String> {
    // Rootless: the run's user namespace first, so the network namespace
    // made next is owned by it, and so are (through their own) the cases'.
    if let Some(path) = std::env::var_os(crate::container::userns::USERNS_ENV) {
        crate::container::userns::join(&path.to_string_lossy())?;
    }
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("failed to create the hub's network namespace: {e}"))?;
    crate::syscall::interface_up("lo").map_err(|e| format!("failed to bring up lo: {e}"))?;
    let files = files::Files::start()?;
    let listener = UnixListener::bind(socket)
        .map_err(|e| format!("failed to listen on {}: {e}", socket.display()))?;
    let hub = Hub {
        network: addresses::run_network(std::os::unix::process::parent_id()),
        numbers: Mutex::default(),
        files,
    };
    std::thread::spawn(end_with_stdin);
    println!("ready");
    Ok((listener, Arc::new(hub)))
}

/// The harness holds the other end of stdin; when it closes, so does the hub.
fn end_with_stdin() {
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::exit(0);
}

fn serve((listener, hub): (UnixListener, Arc<Hub>)) -> ! {
    for stream in listener.incoming().flatten() {
        let hub = hub.clone();
        std::thread::spawn(move || Connection::new(hub).serve(stream));
    }
    std::process::exit(0)
}

/// One case's connection, and what it holds in the hub.
struct Connection {
    hub: Arc<Hub>,
    link: Option<(u32, LinkAddresses)>,
    served: Vec<String>,
}

impl Connection {
    fn new(hub: Arc<Hub>) -> Connection {
        Connection {
            hub,
            link: None,
            served: Vec::new(),
        }
    }

    fn serve(mut self, stream: UnixStream) {
        let Ok(mut writer) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        while let Ok(Some(request)) = protocol::receive::<Request>(&mut reader) {
            let answer = self.answer(request);
            if protocol::send(&mut writer, &answer).is_err() {
                break;
            }
        }
        self.release();
    }

    fn answer(&mut self, request: Request) -> Answer {
        let ms = Duration::from_millis;
        match request {
            Request::Attach { pid } => self.attach(pid),
            Request::Serve { dir } => match self.hub.files.add(&dir) {
                Ok(path) => {
                    self.served.push(path.clone());
                    Answer::Serving(path)
                }
                Err(e) => Answer::Failed(e),
            },
            Request::Http {
                port,
                path,
                timeout_ms,
            } => self.probe(|case| probes::http(case, port, &path, ms(timeout_ms))),
            Request::Tcp { port, timeout_ms } => {
                self.probe(|case| probes::tcp(case, port, ms(timeout_ms)))
            }
            Request::Dns { name, timeout_ms } => {
                self.probe(|case| probes::dns(case, &name, ms(timeout_ms)))
            }
        }
    }

    fn attach(&mut self, pid: u32) -> Answer {
        if self.link.is_some() {
            return Answer::Failed("this connection already has a link".into());
        }
        let number = match self.hub.numbers.lock().map(|mut n| n.take()) {
            Ok(Some(number)) => number,
            _ => return Answer::Failed("no free link address left in the hub".into()),
        };
        let addrs = addresses::link(self.hub.network, number);
        if let Err(e) = links::attach(pid, number, addrs) {
            self.give_back(number);
            return Answer::Failed(e);
        }
        self.link = Some((number, addrs));
        Answer::Attached(LinkInfo {
            hub: addrs.hub,
            case: addrs.case,
            prefix: addrs.prefix,
        })
    }

    fn probe(&self, send: impl FnOnce(Ipv4Addr) -> Answer) -> Answer {
        match self.link {
            Some((_, addrs)) => send(addrs.case),
            None => Answer::Failed("the case has no link to the hub".into()),
        }
    }

    fn give_back(&self, number: u32) {
        if let Ok(mut numbers) = self.hub.numbers.lock() {
            numbers.give_back(number);
        }
    }

    /// Undo everything this connection made.
    fn release(&mut self) {
        for path in self.served.drain(..) {
            self.hub.files.remove(&path);
        }
        if let Some((number, _)) = self.link.take() {
            if let Err(e) = links::remove(number) {
                eprintln!("wrtest hub: {e}");
            }
            self.give_back(number);
        }
    }
}
