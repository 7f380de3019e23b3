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
    let addr = bed.sh("ip -4 addr show dev hub0 2>&1 || ifconfig hub0").unwrap();
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
    assert!(body.contains("cgi-bin/luci") || body.contains("<html"), "{body}");
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
    assert_ne!(cross.code(), Some(0), "case a reached case b: {}", cross.stdout_text());
}

#[test]
fn the_link_is_gone_with_the_case_and_never_on_the_host() {
    let mut bed = common::bed(common::IMAGE);
    let info = bed.attach_network().unwrap();
    let subnet = std::net::Ipv4Addr::from(u32::from(info.hub) - 1);
    assert!(hub_routes().contains(&subnet), "the hub routes {subnet}/30");
    for name in host_links() {
        assert!(!name.starts_with("wrh") && !name.starts_with("wrc"), "{name} on the host");
    }
    drop(bed);
    assert!(!hub_routes().contains(&subnet), "{subnet}/30 still in the hub");
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
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
        let parent = status.lines().find_map(|l| l.strip_prefix("PPid:"))?.trim().to_owned();
        let is_hub = String::from_utf8_lossy(&cmdline).contains(wrtest::network::HUB_ARG);
        (is_hub && parent == me).then_some(pid)
    })
}
