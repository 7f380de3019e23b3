//! Booted, networked cases side by side: 2 workers x 20 cases, each with
//! its own procd, its own link and its own page; the hub must reach each
//! case's own service, and nothing may be left once the run ends.

mod common;

use std::collections::HashSet;
use std::process::Command;

const CASES: usize = 20;

fn suite() -> String {
    let mut text = String::from("images = [\"openwrt-19.07.5-x86-64\"]\ntimeout = 30\n");
    for n in 0..CASES {
        text.push_str(&format!(
            r#"
[[case]]
name = "booted_{n}"
needs = ["procd", "network"]
  [[case.step]]
  install = ["fixture:procd-demo"]
  [[case.step]]
  run = "echo case-{n} > /www/procd-demo/index.html"
  [[case.step]]
  wait = ["service:procd-demo", "service:dropbear", "port:8081"]
  [[case.step]]
  http = "/"
  port = 8081
  body = "case-{n}\n"
  [[case.step]]
  logread = true
  stdout = {{ contains = "procd-demo: starting on port 8081" }}
"#
        ));
    }
    text
}

#[test]
fn two_workers_run_twenty_booted_networked_cases_without_interfering() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("parallel.toml");
    std::fs::write(&file, suite()).unwrap();
    let events = dir.path().join("events.jsonl");
    let links_before = host_links();
    let child = Command::new(common::wrtest_bin())
        .args(["run", "-j", "2", "--no-progress", "--events"])
        .arg(&events)
        .arg(&file)
        .current_dir(common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run = format!("run-{}", child.id());
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("{CASES} passed, 0 failed")),
        "{text}"
    );
    // Every case reports its address; addresses are reused once a case
    // ends, and each case's page proves the hub reached that case alone.
    let addresses = case_addresses(&std::fs::read_to_string(&events).unwrap());
    assert_eq!(addresses.len(), CASES, "{addresses:?}");
    let distinct: HashSet<&String> = addresses.iter().collect();
    assert!((2..CASES).contains(&distinct.len()), "{distinct:?}");
    // The run is over: its hub, links and run directory are gone (and with
    // the run directory every container, whose pid 1 ended its processes).
    assert_eq!(host_links(), links_before);
    assert!(common::processes_with(&format!("{run}/hub.sock")).is_empty());
    let run_dir = wrtest::container::rundir::base_dir().join(&run);
    assert!(!run_dir.exists(), "{} is left", run_dir.display());
}

/// The case addresses in the events' notes, one per case that had a link.
fn case_addresses(events: &str) -> Vec<String> {
    events
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "case-finished")
        .flat_map(|e| e["notes"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| {
            let note = n.as_str()?.to_owned();
            let address = note
                .strip_prefix("network: case ")?
                .split('/')
                .next()?
                .to_owned();
            Some(address)
        })
        .collect()
}

fn host_links() -> Vec<String> {
    let mut links: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    links.sort();
    links
}
