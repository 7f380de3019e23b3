//! Boot mode on the real images: procd manages services, init scripts
//! and logread work, and services answer through the case's link.

mod common;

use std::time::Duration;

const BOOT: Duration = Duration::from_secs(60);

fn booted(image: &str) -> wrtest::Testbed {
    let mut bed = common::bed(image);
    let booted = bed.boot(BOOT).expect("boots");
    eprintln!(
        "{image}: booted in {:?}; scripts {}; failed: {:#?}",
        booted.took,
        booted.scripts.len(),
        booted.failures()
    );
    for s in &booted.scripts {
        eprintln!("  {} {:?}", s.name, s.took);
    }
    assert!(
        booted.scripts.iter().any(|s| s.name.ends_with("log")),
        "{booted:?}"
    );
    bed
}

#[test]
fn services_run_under_procd_on_19_07() {
    let mut bed = booted("openwrt-19.07.5-x86-64");
    let list = bed.sh("ubus call service list").unwrap();
    let text = list.stdout_text();
    assert!(text.contains("\"dropbear\""), "{text}");
    assert!(text.contains("\"running\": true"), "{text}");
    let running = bed.sh("/etc/init.d/dropbear running && echo yes").unwrap();
    assert_eq!(running.stdout_text().trim(), "yes");
    let log = bed.sh("logread").unwrap();
    assert!(!log.stdout_text().is_empty(), "logread printed nothing");
}

/// A condition that cannot be checked (no ubus in an unbooted case) is not
/// met, negated or not: `!service:x` must not pass by accident.
#[test]
fn an_unchecked_condition_is_never_met() {
    use wrtest::services::{Condition, Protocol};
    let mut bed = common::bed(common::IMAGE);
    let not_running = Condition::Not(Box::new(Condition::Service("uhttpd".into())));
    let unmet = wrtest::services::wait(bed.container(), &[not_running], Duration::from_millis(300))
        .unwrap()
        .unwrap_err();
    assert!(unmet[0].contains("could not check"), "{unmet:?}");
    // Without tools in the image the port check still works: pid 1 reads
    // the socket tables itself.
    bed.sh("rm /bin/cat; uhttpd -p 0.0.0.0:8080 -h /www")
        .unwrap();
    let closed = Condition::Not(Box::new(Condition::Port(Protocol::Tcp, 8080)));
    let open = Condition::Port(Protocol::Tcp, 8080);
    let wait = |bed: &mut wrtest::Testbed, c: Condition| {
        wrtest::services::wait(bed.container(), &[c], Duration::from_secs(2)).unwrap()
    };
    assert!(wait(&mut bed, open).is_ok());
    assert!(wait(&mut bed, closed).is_err());
}
