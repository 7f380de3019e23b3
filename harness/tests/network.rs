//! Case networks on the real images: a veth link to the run's hub with
//! private addresses, reachable from the hub, gone after the case.

mod common;

use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn a_linked_case_has_hub0_and_the_hub_reaches_its_http_server() {
    let mut bed = common::bed(common::IMAGE);
    let info = bed.attach_network().expect("attach");
    assert_eq!(info.prefix, 30);
    let addr = bed
        .sh("ip -4 addr show dev hub0 2>&1 || ifconfig hub0")
        .unwrap();
    assert!(
        addr.stdout_text().contains(&info.case.to_string()),
        "{}",
        addr.stdout_text()
    );
    let ping = bed.sh(&format!("ping -c 1 -W 2 {}", info.hub)).unwrap();
    assert_eq!(ping.code(), Some(0), "{}", ping.stdout_text());
    bed.sh("uhttpd -p 0.0.0.0:8080 -h /www").unwrap();
    let link = bed.link().unwrap();
    let (status, body) = link.http(8080, "/", SECOND).expect("GET /");
    assert_eq!(status, 200);
    assert!(
        body.contains("cgi-bin/luci") || body.contains("<html"),
        "{body}"
    );
    let (status, _) = link.http(8080, "/no-such-page", SECOND).unwrap();
    assert_eq!(status, 404);
    assert!(link.tcp(8080, SECOND).is_ok());
    assert!(link.tcp(8081, SECOND).is_err(), "nothing listens on 8081");
}

#[test]
fn parallel_cases_get_distinct_subnets_and_cannot_reach_each_other() {
    let mut a = common::bed(common::IMAGE);
    let mut b = common::bed(common::IMAGE);
    let (ia, ib) = (a.attach_network().unwrap(), b.attach_network().unwrap());
    assert_ne!(ia.case, ib.case);
    assert_ne!(ia.hub, ib.hub);
    let cross = a.sh(&format!("ping -c 1 -W 1 {}", ib.case)).unwrap();
    assert_ne!(
        cross.code(),
        Some(0),
        "case a reached case b: {}",
        cross.stdout_text()
    );
}

#[test]
fn the_link_is_gone_with_the_case_and_never_on_the_host() {
    let mut bed = common::bed(common::IMAGE);
    let info = bed.attach_network().unwrap();
    let subnet = std::net::Ipv4Addr::from(u32::from(info.hub) - 1);
    assert!(hub_routes().contains(&subnet), "the hub routes {subnet}/30");
    for name in host_links() {
        assert!(
            !name.starts_with("wrh") && !name.starts_with("wrc"),
            "{name} on the host"
        );
    }
    drop(bed);
    assert!(
        !hub_routes().contains(&subnet),
        "{subnet}/30 still in the hub"
    );
}

/// The network interfaces of the host's namespace.
fn host_links() -> Vec<String> {
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap();
    dev.lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_owned())
        .collect()
}

/// The destinations of the routes in the hub's namespace (seen through
/// the hub process's /proc entry).
fn hub_routes() -> Vec<std::net::Ipv4Addr> {
    let hub = hub_pid().expect("this test process started a hub");
    let table = std::fs::read_to_string(format!("/proc/{hub}/net/route")).unwrap();
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter_map(|hex| u32::from_str_radix(hex, 16).ok())
        .map(|le| std::net::Ipv4Addr::from(le.swap_bytes()))
        .collect()
}

/// The hub this test process started.
fn hub_pid() -> Option<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
            let parent = status
                .lines()
                .find_map(|l| l.strip_prefix("PPid:"))?
                .trim()
                .to_owned();
            let is_hub = String::from_utf8_lossy(&cmdline).contains(wrtest::network::HUB_ARG);
            (is_hub && parent == me).then_some(pid)
        })
}

/// A redirect is an answer to check, not a hop to follow: following it
/// could fetch another case's page.
#[test]
fn http_probes_report_redirects_instead_of_following_them() {
    let mut bed = common::bed(common::IMAGE);
    bed.attach_network().unwrap();
    let cgi = "#!/bin/sh\nprintf 'Status: 302 Found\\r\\nLocation: http://10.0.0.1/elsewhere\\r\\n\\r\\n'\n";
    bed.container()
        .write_file("/www/cgi-bin/redir", cgi.as_bytes(), 0o755)
        .unwrap();
    bed.sh("uhttpd -p 0.0.0.0:8080 -h /www -x /cgi-bin")
        .unwrap();
    let link = bed.link().unwrap();
    let mut status = 0;
    for _ in 0..20 {
        if let Ok((s, _)) = link.http(8080, "/cgi-bin/redir", SECOND) {
            status = s;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, 302);
}

/// A case that stops reading a large feed file holds up nobody else.
#[test]
fn a_stalled_download_does_not_hold_up_another_cases_feed() {
    use wrtest::feed::{FeedOptions, Transport};
    let options = FeedOptions {
        transport: Transport::Http,
        ..FeedOptions::default()
    };
    let hello = [wrtest::PackageRef::Fixture("hello".into())];
    let mut staller = common::bed(common::IMAGE);
    staller.attach_network().unwrap();
    let published = staller
        .publish_feed_with(&hello, &options, SECOND * 60)
        .unwrap();
    let dir = published.host_dir.unwrap();
    std::fs::write(dir.join("big"), vec![7u8; 64 << 20]).unwrap();
    let stall = format!(
        "(wget -q -O- {}/big | sleep 30) >/dev/null 2>&1 & sleep 1",
        published.url
    );
    staller.sh(&stall).unwrap();
    let mut other = common::bed(common::IMAGE);
    other.attach_network().unwrap();
    let started = std::time::Instant::now();
    let published = other
        .publish_feed_with(&hello, &options, SECOND * 20)
        .unwrap();
    assert!(published.update.unwrap().succeeded());
    assert!(
        started.elapsed() < SECOND * 10,
        "took {:?}",
        started.elapsed()
    );
}
