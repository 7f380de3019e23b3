//! Tests of whole suites: a complete valid suite checked against the full
//! model, the defaults, and the positions of errors that need context
//! beyond one file of the bad-spec corpus.

use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;

use super::*;

const PATH: &str = "suites/hello.toml";

const FULL: &str = r#"name = "hello"
images = ["openwrt-19.07.5-x86-64"]
install = ["fixture:hello-lib"]
timeout = 30

[[case]]
name = "prints_greeting"
install = ["fixture:hello", "pkgs/extra_1.0_all.ipk"]
hostname = "OpenWrt"
timeout = 10

  [[case.step]]
  run = "hello world"
  stdin = "text"
  timeout = 5
  exit = 3
  stdout = "exact\n"
  stderr = { contains = ["warn", "again"], not_contains = "fatal", matches = '^w' }
  snapshot = true

  [[case.step]]
  install = ["fixture:hello", "name:hello-doc"]
  force_reinstall = true
  errors = ["missing-dependency", "file-clash"]
  output = { contains = "Collected errors" }
  snapshot = "install-clash"

  [[case.step]]
  remove = ["hello"]
  autoremove = true
  expect = "failure"
  installed = ["hello"]
  not_installed = ["hello-lib"]
  [[case.step.file]]
    path = "/etc/config/hello"
    kind = "file"
    mode = "0644"
    content = { contains = "option" }
  [[case.step.file]]
    path = "/tmp/gone"
    exists = false

[[case]]
name = "other"
images = ["a", "b"]
ignore = true
expect_fail = "bug 42: the pid file stays"
needs = ["procd", "arch:x86_64"]
feed = ["fixture:hello", "pkgs/"]
install = ["name:hello"]

  [[case.step]]
  installed = ["hello-lib"]
  timeout = 0.25

  [[case.step]]
  lifecycle = ["fixture:hello-lib", "pkgs/hello_1.0_x86_64.ipk"]
  leftovers_ignore = ["/etc/hello.log", "/var/log/**"]
  snapshot = true
  not_installed = ["hello"]
"#;

fn loc(line: usize, col: usize) -> Location {
    Location {
        file: PathBuf::from(PATH),
        line,
        col,
    }
}

fn at<T>(value: T, line: usize, col: usize) -> Located<T> {
    Located {
        value,
        location: loc(line, col),
    }
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_ok(text: &str) -> Suite {
    parse(text, Path::new(PATH)).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> String {
    match parse(text, Path::new(PATH)) {
        Ok(suite) => panic!("expected an error, got {suite:?}"),
        Err(err) => err.to_string(),
    }
}

fn expected_first_case() -> Case {
    Case {
        name: "prints_greeting".into(),
        location: loc(6, 1),
        images: vec![at("openwrt-19.07.5-x86-64".to_string(), 2, 11)],
        feed: vec![],
        feed_options: Default::default(),
        install: vec![
            at(PackageRef::Fixture("hello-lib".into()), 3, 12),
            at(PackageRef::Fixture("hello".into()), 8, 12),
            at(
                PackageRef::File("suites/pkgs/extra_1.0_all.ipk".into()),
                8,
                29,
            ),
        ],
        steps: vec![run_step(), install_step(), remove_step()],
        ignore: false,
        hostname: Some("OpenWrt".into()),
        expect_fail: None,
        needs: vec![],
        limits: LimitsSpec::default(),
    }
}

fn run_step() -> Step {
    let stderr = Matcher::new(vec![
        Rule::Contains("warn".into()),
        Rule::Contains("again".into()),
        Rule::NotContains("fatal".into()),
        Rule::Matches(regex("^w")),
    ]);
    Step {
        index: 1,
        location: loc(12, 3),
        action: Action::Run {
            command: "hello world".into(),
            stdin: Some("text".into()),
            exit: 3,
            stdout: Some(Matcher::equals("exact\n")),
            stderr: Some(stderr),
        },
        timeout: Duration::from_secs(5),
        snapshot: Some("prints_greeting-1".into()),
        checks: Checks::default(),
    }
}

fn install_step() -> Step {
    Step {
        index: 2,
        location: loc(21, 3),
        action: Action::Install {
            packages: vec![
                at(PackageRef::Fixture("hello".into()), 22, 14),
                at(PackageRef::Name("hello-doc".into()), 22, 31),
            ],
            force_reinstall: true,
            outcome: Outcome {
                success: false,
                error_kinds: vec!["missing-dependency".into(), "file-clash".into()],
                output: Some(Matcher::new(vec![Rule::Contains(
                    "Collected errors".into(),
                )])),
            },
        },
        timeout: Duration::from_secs(10),
        snapshot: Some("install-clash".into()),
        checks: Checks::default(),
    }
}

fn remove_step() -> Step {
    let config = FileCheck {
        location: loc(34, 3),
        path: "/etc/config/hello".into(),
        exists: true,
        kind: Some(FileKind::File),
        mode: Some(0o644),
        content: Some(Matcher::new(vec![Rule::Contains("option".into())])),
    };
    let gone = FileCheck {
        location: loc(39, 3),
        path: "/tmp/gone".into(),
        exists: false,
        kind: None,
        mode: None,
        content: None,
    };
    Step {
        index: 3,
        location: loc(28, 3),
        action: Action::Remove {
            names: vec!["hello".into()],
            autoremove: true,
            outcome: Outcome {
                success: false,
                error_kinds: vec![],
                output: None,
            },
        },
        timeout: Duration::from_secs(10),
        snapshot: None,
        checks: Checks {
            installed: vec!["hello".into()],
            not_installed: vec!["hello-lib".into()],
            files: vec![config, gone],
        },
    }
}

fn expected_second_case() -> Case {
    let check = Step {
        index: 1,
        location: loc(52, 3),
        action: Action::Check,
        timeout: Duration::from_millis(250),
        snapshot: None,
        checks: Checks {
            installed: vec!["hello-lib".into()],
            ..Checks::default()
        },
    };
    Case {
        name: "other".into(),
        location: loc(43, 1),
        images: vec![at("a".to_string(), 45, 11), at("b".to_string(), 45, 16)],
        feed: vec![
            at(PackageRef::Fixture("hello".into()), 49, 9),
            at(PackageRef::File("suites/pkgs/".into()), 49, 26),
        ],
        feed_options: Default::default(),
        install: vec![
            at(PackageRef::Fixture("hello-lib".into()), 3, 12),
            at(PackageRef::Name("hello".into()), 50, 12),
        ],
        steps: vec![check, lifecycle_step()],
        ignore: true,
        hostname: None,
        expect_fail: Some("bug 42: the pid file stays".into()),
        needs: vec![
            at("procd".to_string(), 48, 10),
            at("arch:x86_64".to_string(), 48, 19),
        ],
        limits: LimitsSpec::default(),
    }
}

fn lifecycle_step() -> Step {
    let hello = PackageRef::File("suites/pkgs/hello_1.0_x86_64.ipk".into());
    Step {
        index: 2,
        location: loc(56, 3),
        action: Action::Lifecycle {
            packages: vec![
                at(PackageRef::Fixture("hello-lib".into()), 57, 16),
                at(hello, 57, 37),
            ],
            leftovers_ignore: vec!["/etc/hello.log".into(), "/var/log/**".into()],
        },
        timeout: Duration::from_secs(30),
        snapshot: Some("other-2".into()),
        checks: Checks {
            not_installed: vec!["hello".into()],
            ..Checks::default()
        },
    }
}

#[test]
fn full_suite_builds_the_whole_model() {
    let suite = parse_ok(FULL);
    assert_eq!(suite.name, "hello");
    assert_eq!(suite.path, PathBuf::from(PATH));
    assert_eq!(suite.cases.len(), 2);
    assert_eq!(suite.cases[0], expected_first_case());
    assert_eq!(suite.cases[1], expected_second_case());
}

#[test]
fn defaults_are_filled_in() {
    let suite = parse_ok(
        "images = [\"x\"]\n[[case]]\nname = \"c\"\n[[case.step]]\nrun = \"true\"\nsnapshot = true\n\
         [[case.step]]\ninstall = [\"fixture:f\"]\n",
    );
    assert_eq!(suite.name, "hello", "the file stem");
    let case = &suite.cases[0];
    assert!(!case.ignore && case.hostname.is_none() && case.install.is_empty());
    let step = &case.steps[0];
    assert_eq!(step.timeout, DEFAULT_TIMEOUT);
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(60));
    assert_eq!(step.snapshot.as_deref(), Some("c-1"));
    let Action::Run {
        exit,
        stdin,
        stdout,
        stderr,
        ..
    } = &step.action
    else {
        panic!("not a run step: {:?}", step.action);
    };
    assert_eq!((*exit, stdin, stdout, stderr), (0, &None, &None, &None));
    let Action::Install {
        force_reinstall,
        outcome,
        ..
    } = &case.steps[1].action
    else {
        panic!("not an install step: {:?}", case.steps[1].action);
    };
    assert!(!force_reinstall && outcome.success && outcome.error_kinds.is_empty());
}

#[test]
fn timeouts_inherit_from_case_then_suite() {
    let suite = parse_ok(
        "images = [\"x\"]\ntimeout = 7\n[[case]]\nname = \"a\"\n[[case.step]]\nrun = \"true\"\n\
         [[case]]\nname = \"b\"\ntimeout = 2.5\n[[case.step]]\nrun = \"true\"\n",
    );
    assert_eq!(suite.cases[0].steps[0].timeout, Duration::from_secs(7));
    assert_eq!(suite.cases[1].steps[0].timeout, Duration::from_millis(2500));
}

#[test]
fn inline_and_dotted_forms_are_accepted() {
    let suite = parse_ok(
        r#"images = ["x"]
case = [{ name = "a", step = [{ run = "true", stdout.contains = "t" }] }]
"#,
    );
    let Action::Run { stdout, .. } = &suite.cases[0].steps[0].action else {
        panic!("not a run step");
    };
    assert_eq!(
        stdout,
        &Some(Matcher::new(vec![Rule::Contains("t".into())]))
    );
}

#[test]
fn snapshot_names_are_unique_across_the_suite() {
    let err = parse_err(
        r#"images = ["x"]
[[case]]
name = "a"
[[case.step]]
run = "true"
snapshot = "s"
[[case]]
name = "b"
[[case.step]]
run = "true"
snapshot = "s"
"#,
    );
    assert_eq!(
        err,
        "suites/hello.toml:11:12: duplicate snapshot name `s`; it is already used at \
         suites/hello.toml:6:12"
    );
}

#[test]
fn errors_point_into_nested_tables() {
    let err = parse_err(
        "images = [\"x\"]\n[[case]]\nname = \"a\"\n[[case.step]]\nrun = \"true\"\n\
         [[case.step.file]]\npath = \"/x\"\nkind = \"pipe\"\n",
    );
    assert!(
        err.starts_with("suites/hello.toml:8:8: invalid kind \"pipe\""),
        "{err}"
    );
}

#[test]
fn options_without_an_action_are_rejected() {
    let err = parse_err(
        "images = [\"x\"]\n[[case]]\nname = \"a\"\n[[case.step]]\n\
         installed = [\"p\"]\nstdin = \"x\"\n",
    );
    assert_eq!(
        err,
        "suites/hello.toml:6:1: `stdin` is only allowed with `run`, but this step has no action"
    );
}

#[test]
fn empty_steps_and_missing_names_are_rejected() {
    let err = parse_err("images = [\"x\"]\n[[case]]\nname = \"a\"\n[[case.step]]\ntimeout = 1\n");
    assert!(
        err.starts_with("suites/hello.toml:4:1: empty step"),
        "{err}"
    );
    let err = parse_err("images = [\"x\"]\n[[case]]\n[[case.step]]\nrun = \"x\"\n");
    assert_eq!(err, "suites/hello.toml:2:1: a case needs a `name`");
}

/// A one-case suite: `case_lines` go in the `[[case]]` table (from line 4
/// on), `step_lines` in its one step (after a line holding the step header).
fn one_case(case_lines: &str, step_lines: &str) -> String {
    format!("images = [\"x\"]\n[[case]]\nname = \"a\"\n{case_lines}\n[[case.step]]\n{step_lines}\n")
}

#[test]
fn new_case_keys_default_to_unset() {
    let suite = parse_ok(&one_case("", "run = \"true\""));
    assert_eq!(suite.cases[0].expect_fail, None);
    assert!(suite.cases[0].needs.is_empty());
}

#[test]
fn expect_fail_needs_a_reason() {
    let text = one_case("expect_fail = \"known bug\"", "run = \"true\"");
    let reason = parse_ok(&text).cases[0].expect_fail.clone();
    assert_eq!(reason.as_deref(), Some("known bug"));
    for blank in ["\"\"", "\"  \""] {
        let err = parse_err(&one_case(
            &format!("expect_fail = {blank}"),
            "run = \"true\"",
        ));
        assert!(
            err.starts_with("suites/hello.toml:4:15: empty `expect_fail` reason"),
            "{blank}: {err}"
        );
    }
    let err = parse_err(&one_case("expect_fail = true", "run = \"true\""));
    assert_eq!(
        err,
        "suites/hello.toml:4:15: expected a string for `expect_fail`, found a boolean"
    );
}

#[test]
fn expect_fail_and_needs_are_case_keys_only() {
    let err = parse_err(&format!(
        "expect_fail = \"bug\"\n{}",
        one_case("", "run = \"x\"")
    ));
    assert!(
        err.starts_with("suites/hello.toml:1:1: unknown key `expect_fail` in the suite"),
        "{err}"
    );
    let err = parse_err(&one_case("", "run = \"x\"\nneeds = [\"procd\"]"));
    assert!(
        err.starts_with("suites/hello.toml:7:1: unknown key `needs` in a step"),
        "{err}"
    );
}

#[test]
fn lifecycle_defaults_to_ignoring_nothing() {
    let suite = parse_ok(&one_case("", "lifecycle = [\"fixture:f\"]"));
    let step = &suite.cases[0].steps[0];
    let Action::Lifecycle {
        packages,
        leftovers_ignore,
    } = &step.action
    else {
        panic!("not a lifecycle step: {:?}", step.action);
    };
    assert_eq!(packages, &[at(PackageRef::Fixture("f".into()), 6, 14)]);
    assert!(leftovers_ignore.is_empty());
    assert_eq!(step.timeout, DEFAULT_TIMEOUT);
}

#[test]
fn lifecycle_needs_packages() {
    let err = parse_err(&one_case("", "lifecycle = []"));
    assert_eq!(
        err,
        "suites/hello.toml:6:13: `lifecycle` needs at least one package"
    );
    let err = parse_err(&one_case("", "lifecycle = [\"fixture:\"]"));
    assert!(
        err.starts_with("suites/hello.toml:6:14: invalid fixture name \"\""),
        "{err}"
    );
}

#[test]
fn lifecycle_options_belong_to_lifecycle_alone() {
    let err = parse_err(&one_case(
        "",
        "remove = [\"p\"]\nleftovers_ignore = [\"/x\"]",
    ));
    assert_eq!(
        err,
        "suites/hello.toml:7:1: `leftovers_ignore` is only allowed with `lifecycle`, \
         but this step's action is `remove`"
    );
    let err = parse_err(&one_case("", "installed = [\"p\"]\nleftovers_ignore = []"));
    assert!(err.ends_with("but this step has no action"), "{err}");
    let err = parse_err(&one_case(
        "",
        "lifecycle = [\"fixture:f\"]\nexpect = \"failure\"",
    ));
    assert!(
        err.starts_with(
            "suites/hello.toml:7:1: `expect` is only allowed with `install`, `remove` or `update`, \
             but this step's action is `lifecycle`"
        ),
        "{err}"
    );
    let err = parse_err(&one_case("", "lifecycle = [\"fixture:f\"]\nrun = \"true\""));
    assert!(err.contains("has both `lifecycle` and `run`"), "{err}");
}

/// The feed of each case of a suite whose top holds `suite_lines` and
/// whose cases `a` and `b` hold `a_lines` and `b_lines`, as the values.
fn feeds(suite_lines: &str, a_lines: &str, b_lines: &str) -> Vec<Vec<PackageRef>> {
    let text = format!(
        "images = [\"x\"]\n{suite_lines}\n\
         [[case]]\nname = \"a\"\n{a_lines}\n[[case.step]]\nrun = \"true\"\n\
         [[case]]\nname = \"b\"\n{b_lines}\n[[case.step]]\nrun = \"true\"\n"
    );
    let suite = parse_ok(&text);
    let feed_of = |case: &Case| case.feed.iter().map(|r| r.value.clone()).collect();
    suite.cases.iter().map(feed_of).collect()
}

fn fixture(name: &str) -> PackageRef {
    PackageRef::Fixture(name.into())
}

#[test]
fn feeds_default_to_none() {
    assert_eq!(feeds("", "", ""), [vec![], vec![]]);
    assert_eq!(feeds("feed = []", "", ""), [vec![], vec![]]);
}

#[test]
fn case_feeds_follow_the_suite_feed() {
    let got = feeds(
        "feed = [\"fixture:base\", \"pkgs\"]",
        "feed = [\"fixture:extra\"]",
        "",
    );
    let pkgs = PackageRef::File("suites/pkgs".into());
    let expected = [
        vec![fixture("base"), pkgs.clone(), fixture("extra")],
        vec![fixture("base"), pkgs],
    ];
    assert_eq!(got, expected);
    let got = feeds("", "feed = [\"fixture:own\"]", "");
    assert_eq!(got, [vec![fixture("own")], vec![]]);
}

#[test]
fn an_empty_case_feed_turns_the_suite_feed_off() {
    let got = feeds("feed = [\"fixture:base\"]", "feed = []", "");
    assert_eq!(got, [vec![], vec![fixture("base")]]);
}

#[test]
fn feed_entries_keep_their_locations() {
    let text = format!(
        "feed = [\"fixture:base\"]\n{}",
        one_case("feed = [\"x.ipk\"]", "run = \"x\"")
    );
    let suite = parse_ok(&text);
    assert_eq!(
        suite.cases[0].feed,
        [
            at(fixture("base"), 1, 9),
            at(PackageRef::File("suites/x.ipk".into()), 5, 9),
        ]
    );
}

#[test]
fn name_refs_install_at_every_level_but_never_feed() {
    let text = format!(
        "install = [\"name:top\"]\n{}",
        one_case("install = [\"name:case\"]", "install = [\"name:step\"]")
    );
    let case = &parse_ok(&text).cases[0];
    let install: Vec<&PackageRef> = case.install.iter().map(|r| &r.value).collect();
    let names = [
        PackageRef::Name("top".into()),
        PackageRef::Name("case".into()),
    ];
    assert_eq!(install, names.iter().collect::<Vec<_>>());
    let Action::Install { packages, .. } = &case.steps[0].action else {
        panic!("not an install step: {:?}", case.steps[0].action);
    };
    assert_eq!(packages, &[at(PackageRef::Name("step".into()), 7, 12)]);
    let lifecycle = parse_ok(&one_case("", "lifecycle = [\"name:p\"]"));
    let Action::Lifecycle { packages, .. } = &lifecycle.cases[0].steps[0].action else {
        panic!("not a lifecycle step");
    };
    assert_eq!(packages, &[at(PackageRef::Name("p".into()), 6, 14)]);
    let err = parse_err(&format!(
        "feed = [\"name:p\"]\n{}",
        one_case("", "run = \"x\"")
    ));
    assert!(
        err.starts_with("suites/hello.toml:1:9: \"name:p\" cannot go in `feed`"),
        "{err}"
    );
}

#[test]
fn feed_is_a_suite_and_case_key_only() {
    let err = parse_err(&one_case("", "run = \"x\"\nfeed = [\"pkgs\"]"));
    assert!(
        err.starts_with("suites/hello.toml:7:1: unknown key `feed` in a step"),
        "{err}"
    );
    let err = parse_err(&one_case("feed = [1]", "run = \"x\""));
    assert_eq!(
        err,
        "suites/hello.toml:4:9: expected a string for `feed`, found an integer"
    );
}

#[test]
fn invalid_file_stems_need_an_explicit_name() {
    let text = "images = [\"x\"]\n[[case]]\nname = \"a\"\n[[case.step]]\nrun = \"x\"\n";
    let err = parse(text, Path::new("my suite.toml")).map_err(|e| e.to_string());
    assert!(err.unwrap_err().contains("rename the file or set `name`"));
    let named = format!("name = \"ok\"\n{text}");
    assert_eq!(
        parse(&named, Path::new("my suite.toml")).map(|s| s.name),
        Ok("ok".into())
    );
}

#[test]
fn single_tables_where_arrays_belong_are_rejected() {
    let err = parse_err("images = [\"x\"]\n[case]\nname = \"a\"\n");
    assert_eq!(
        err,
        "suites/hello.toml:2:2: expected an array of tables (`[[case]]`) for `case`, found a table"
    );
    let err = parse_err("images = [\"x\"]\n[[case]]\nname = \"a\"\n[case.step]\nrun = \"x\"\n");
    assert!(
        err.contains("(`[[case.step]]`) for `step`, found a table"),
        "{err}"
    );
}

#[test]
fn unreadable_files_are_reported_at_the_start() {
    let err = load(Path::new("/nonexistent/wrtest/s.toml")).map_err(|e| e.to_string());
    let err = err.unwrap_err();
    assert!(
        err.starts_with("/nonexistent/wrtest/s.toml:1:1: cannot read: "),
        "{err}"
    );
}

#[test]
fn arbitrary_input_never_panics() {
    let samples = [
        "",
        "\u{feff}",
        "=",
        "[[case]]\n[[case.step]]",
        "case = 1",
        "case = [1]",
        "images = [[]]",
        "x.y.z = 1",
        "[a]\n[a.b]\nc = 1",
        "\"\" = 1",
        "images = [\"é\"]\n[[case]]\nname = \"é\"",
        "limits = []",
        "[limits]\nmemory = \"é\"\ntmp = \"ééG\"",
        "limits.cpus = 1e308\nlimits.pids = -9223372036854775808",
        "images = [\"x\"]\n[[case]]\nname = \"a\"\nneeds = [\"arch:é\", \"é\"]",
        "feed = [\"name:é\", \"\"]\nimages = [\"x\"]\ncase = [{ name = \"a\", feed = [\"é/\"] }]",
        "case = [{ name = \"a\", \
         step = [{ lifecycle = [\"/\"], leftovers_ignore = [\"/**é\"] }] }]",
    ];
    for text in samples {
        let _ = parse(text, Path::new(PATH));
    }
}

#[test]
fn service_steps_read_their_forms() {
    use crate::services::{Condition, Protocol};
    let suite = parse_ok(&one_case(
        "needs = [\"procd\", \"network\"]\nfeed = [\"a_1_all.ipk\"]",
        "wait = [\"service:uhttpd\", \"process:dnsmasq\", \"port:22\", \"port:udp:53\", \"!port:tcp:80\"]\n\
         [[case.step]]\nhttp = \"/cgi-bin/luci\"\nport = 8080\nstatus = 403\nbody = { contains = \"x\" }\n\
         [[case.step]]\ndns = \"printer.lan\"\nanswer = \"printer.lan A 192.0.2.7\\n\"\n\
         [[case.step]]\nlogread = \"dropbear\"\n[[case.step]]\nupdate = true\nerrors = [\"bad-signature\"]",
    ));
    let steps = &suite.cases[0].steps;
    let Action::Wait { conditions } = &steps[0].action else {
        panic!("{:?}", steps[0])
    };
    assert_eq!(
        conditions,
        &[
            Condition::Service("uhttpd".into()),
            Condition::Process("dnsmasq".into()),
            Condition::Port(Protocol::Tcp, 22),
            Condition::Port(Protocol::Udp, 53),
            Condition::Not(Box::new(Condition::Port(Protocol::Tcp, 80))),
        ]
    );
    let Action::Http {
        port,
        path,
        status,
        body,
    } = &steps[1].action
    else {
        panic!()
    };
    assert_eq!(
        (*port, path.as_str(), *status, body.is_some()),
        (8080, "/cgi-bin/luci", 403, true)
    );
    assert!(
        matches!(&steps[2].action, Action::Dns { name, answer: Some(_), .. } if name == "printer.lan")
    );
    assert!(matches!(&steps[3].action, Action::Logread { filter: Some(f), .. } if f == "dropbear"));
    let Action::Update { outcome } = &steps[4].action else {
        panic!()
    };
    assert_eq!(outcome.error_kinds, ["bad-signature"]);
}

#[test]
fn service_step_mistakes_are_named() {
    let cases = [
        ("needs = [\"procd\"]", "wait = [\"port:http\"]", "invalid wait condition \"port:http\""),
        ("needs = [\"procd\"]", "wait = [\"socket:1\"]", "invalid wait condition \"socket:1\""),
        ("needs = [\"procd\"]", "wait = []", "`wait` needs at least one condition"),
        ("needs = [\"network\"]", "http = \"index.html\"", "invalid `http` path \"index.html\""),
        ("needs = [\"network\"]", "http = \"/\"\nport = 0", "`port` must be between 1 and 65535"),
        ("needs = [\"network\"]", "dns = \"a b\"", "invalid `dns` name \"a b\""),
        ("", "http = \"/\"", "step 1 at suites/hello.toml:5:1 probes the case from the hub, so the case needs `needs = [\"network\"]`"),
        ("", "logread = true", "reads the log of a booted system, so the case needs `needs = [\"procd\"]`"),
        ("", "wait = [\"service:x\"]", "waits for a procd service, so the case needs `needs = [\"procd\"]`"),
        ("feed = [\"a.ipk\"]\nfeed_options = { transport = \"http\" }", "run = \"true\"", "serves the feed over HTTP from the hub, so the case needs `needs = [\"network\"]`"),
        ("feed = [\"a.ipk\"]\nfeed_options = { signing = \"gpg\" }", "run = \"true\"", "invalid `signing` \"gpg\": expected \"none\", \"usign\" or \"usign-wrong-key\""),
        ("feed_options = { via = \"http\" }", "run = \"true\"", "via"),
        ("needs = [\"network\"]", "status = 200", "`status` is only allowed with `http`, but this step has no action"),
        ("", "update = true", "runs `opkg update` against the case's feed, but the case has no `feed`"),
        ("feed_options = { signing = \"usign\" }", "run = \"true\"", "`feed_options` say how the case's feed is published, but the case has no `feed`"),
        ("needs = [\"network\"]", "dns = \"a..b\"", "invalid `dns` name \"a..b\""),
        ("needs = [\"network\"]", "dns = \"a\"\nrcode = \"GONE\"", "invalid `rcode` \"GONE\""),
        ("", "wait = [\"!service:x\"]", "waits for a procd service, so the case needs `needs = [\"procd\"]`"),
    ];
    for (case_lines, step_lines, expected) in cases {
        let err = parse_err(&one_case(case_lines, step_lines));
        assert!(
            err.contains(expected),
            "{case_lines} / {step_lines}:\n{err}\nexpected: {expected}"
        );
    }
}

#[test]
fn feed_options_of_a_case_override_the_suites_key_by_key() {
    use crate::feed::{Signing, Transport};
    let text = "images = [\"x\"]\nfeed = [\"a_1_all.ipk\"]\n\
                feed_options = { transport = \"http\", signing = \"usign\" }\n\
                [[case]]\nname = \"a\"\nneeds = [\"network\"]\nfeed_options = { update = false }\n\
                [[case.step]]\nrun = \"true\"\n\
                [[case]]\nname = \"b\"\nneeds = [\"network\"]\nfeed_options = { signing = \"none\" }\n\
                [[case.step]]\nrun = \"true\"\n";
    let suite = parse_ok(text);
    let (a, b) = (&suite.cases[0].feed_options, &suite.cases[1].feed_options);
    assert_eq!(
        (a.transport, a.signing, a.no_update),
        (Transport::Http, Signing::Usign, true)
    );
    assert_eq!(
        (b.transport, b.signing, b.no_update),
        (Transport::Http, Signing::None, false)
    );
}
