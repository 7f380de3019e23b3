//! Requests from the hub to a case's address: HTTP (ureq), a TCP connect,
//! a DNS query (simple-dns). One attempt each; callers retry until their
//! deadline.

use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use crate::network::protocol::Answer;

/// The largest response body kept.
const BODY_LIMIT: u64 = 1 << 20;

/// `GET http://case:port/path`.
pub fn http(case: Ipv4Addr, port: u16, path: &str, timeout: Duration) -> Answer {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        // A redirect is the answer to check, and following one could leave
        // the case's own address for another case's.
        .max_redirects(0)
        // Never a proxy from the environment: the request stays in the hub.
        .proxy(None)
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let url = format!("http://{case}:{port}{path}");
    let mut response = match agent.get(&url).call() {
        Ok(response) => response,
        Err(e) => return Answer::Failed(format!("GET {url}: {e}")),
    };
    let status = response.status().as_u16();
    match response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
    {
        Ok(body) => Answer::Http {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        },
        Err(e) => Answer::Failed(format!("GET {url}: reading the body: {e}")),
    }
}

/// Connect to `case:port`.
pub fn tcp(case: Ipv4Addr, port: u16, timeout: Duration) -> Answer {
    let address = SocketAddr::from((case, port));
    match TcpStream::connect_timeout(&address, timeout) {
        Ok(_) => Answer::Connected,
        Err(e) => Answer::Failed(format!("connecting to {address}: {e}")),
    }
}

/// Ask the DNS server at `case:53` for `name`'s A records.
pub fn dns(case: Ipv4Addr, name: &str, timeout: Duration) -> Answer {
    match dns_query(case, name, timeout) {
        Ok(answer) => answer,
        Err(e) => Answer::Failed(format!("DNS query for {name} to {case}:53: {e}")),
    }
}

fn dns_query(case: Ipv4Addr, name: &str, timeout: Duration) -> Result<Answer, String> {
    use simple_dns::{Name, Packet, Question, CLASS, TYPE};
    let qname = Name::new(name).map_err(|e| format!("invalid name: {e}"))?;
    let id = std::process::id() as u16;
    let mut query = Packet::new_query(id);
    query.set_flags(simple_dns::PacketFlag::RECURSION_DESIRED);
    query.questions.push(Question::new(
        qname,
        TYPE::A.into(),
        CLASS::IN.into(),
        false,
    ));
    let bytes = query.build_bytes_vec().map_err(|e| e.to_string())?;
    let socket = UdpSocket::bind(("0.0.0.0", 0)).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    socket.connect((case, 53)).map_err(|e| e.to_string())?;
    socket.send(&bytes).map_err(|e| e.to_string())?;
    let mut buffer = [0u8; 4096];
    let n = socket.recv(&mut buffer).map_err(|e| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("no reply within {timeout:?}")
        }
        _ => e.to_string(),
    })?;
    let reply = Packet::parse(&buffer[..n]).map_err(|e| format!("bad reply: {e}"))?;
    Ok(Answer::Dns {
        code: format!("{:?}", reply.rcode()).to_uppercase(),
        records: reply.answers.iter().map(record_line).collect(),
    })
}

fn record_line(record: &simple_dns::ResourceRecord<'_>) -> String {
    match &record.rdata {
        simple_dns::rdata::RData::A(a) => {
            format!("{} A {}", record.name, Ipv4Addr::from(a.address))
        }
        other => format!("{} {:?}", record.name, other.type_code()),
    }
}
