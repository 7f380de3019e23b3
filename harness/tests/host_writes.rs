//! Root in a container writes only to its own overlay, tmpfs mounts and
//! harmless device nodes: never to a host path. Checked the same way as
//! root and rootless (where container root is the invoking user on the
//! host's files, so any host path it reached would be writable).
//!
//! What it tries, from inside, as root with the case's capabilities:
//! writing to host paths it knows (a directory open to all, one private
//! to the user the harness runs as, the image's extracted root that is
//! the overlay's lower layer, the case and run directories) directly and
//! through every `/proc/<pid>/root` and `/proc/<pid>/cwd` it can see (the
//! latter land in the container; pid 1's is out of reach, it is not
//! dumpable); and
//! creating a file on every mount point it sees. The host side then
//! checks that none of those host paths changed, and the inside reports
//! which mount points took a write: only the container's own.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The script root runs in the container. `$@` are host paths.
const SCRIPT: &str = r#"
for p in "$@"; do
  echo x > "$p/escape" 2>/dev/null && echo "wrote $p/escape"
  for d in /proc/[0-9]*; do
    echo x > "$d/root$p/escape" 2>/dev/null && echo "wrote $d/root$p/escape"
  done
done
# Working directories of every process it sees are the container's own.
for d in /proc/[0-9]*; do echo x > "$d/cwd/escape" 2>/dev/null; done
if [ -f /escape ]; then echo "pid 1's cwd is the container's /"
elif ! ls /proc/1/cwd/ >/dev/null 2>&1; then echo "pid 1's cwd is out of reach"; fi
while read -r _ _ _ _ mp _; do
  touch "$mp/.wrtest-escape" 2>/dev/null && echo "mount $mp"
done < /proc/self/mountinfo
# The same host paths, made inside: they must land in the overlay.
for p in "$@"; do mkdir -p "$p" && echo inside > "$p/escape"; done
cat "$1/escape"
"#;

#[test]
fn container_root_cannot_write_host_paths() {
    let scratch = tempfile::tempdir().unwrap();
    let open = dir_with_mode(scratch.path(), "open", 0o777);
    let own = dir_with_mode(scratch.path(), "own", 0o700);
    std::fs::write(own.join("file"), "host\n").unwrap();

    let mut bed = common::bed(common::IMAGE);
    let lower_etc = bed.image().rootfs.join("etc");
    let case_dir = bed.container_ref().case_dir().unwrap().to_owned();
    let run_dir = case_dir.parent().unwrap().to_owned();
    let targets = [&open, &own, &lower_etc, &case_dir, &run_dir];
    let mut line = format!("set -- {}\n", quoted(&targets));
    line.push_str(SCRIPT);
    let out = bed.sh(&line).unwrap();
    let text = out.stdout_text();
    assert_eq!(out.code(), Some(0), "{text}{}", out.stderr_text());

    // Inside, nothing host-side took a write; the paths were made afresh
    // in the overlay, and only the container's own mounts are writable.
    assert!(!text.contains("wrote"), "{text}");
    // pid 1 is not dumpable, so its cwd is out of reach; were it not, it
    // would be the container's own /.
    assert!(
        text.contains("pid 1's cwd is out of reach")
            || text.contains("pid 1's cwd is the container's /"),
        "{text}"
    );
    assert!(text.ends_with("inside\n"), "{text}");
    let mounts: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("mount "))
        .collect();
    for mp in &mounts {
        assert!(
            ["/", "/tmp", "/dev", "/dev/shm"].contains(mp),
            "{mp} took a write: {text}"
        );
    }
    assert!(mounts.contains(&"/"), "{text}");

    // On the host, every target is as it was.
    for target in targets {
        assert!(
            !target.join("escape").exists(),
            "{} changed",
            target.display()
        );
    }
    let listed: Vec<_> = std::fs::read_dir(&own).unwrap().flatten().collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(std::fs::read_to_string(own.join("file")).unwrap(), "host\n");
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0);
    drop(bed);
}

fn dir_with_mode(parent: &Path, name: &str, mode: u32) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
    dir
}

fn quoted(paths: &[&PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("'{}'", p.display()))
        .collect::<Vec<_>>()
        .join(" ")
}
