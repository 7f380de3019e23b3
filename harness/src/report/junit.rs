//! JUnit XML through quick-junit (the data model nextest uses): one
//! testsuite per suite, one testcase per (case, image), failures with their
//! message and full text, skips with their reason.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::{Outcome, Record};

/// Write `records` to `path`.
pub fn write(path: &Path, records: &[Record], total: Duration) -> std::io::Result<()> {
    let mut report = Report::new("wrtest");
    report.set_time(total);
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for record in records {
        let suite = suites
            .entry(&record.suite)
            .or_insert_with(|| TestSuite::new(record.suite.clone()));
        suite.add_test_case(case(record));
    }
    report.add_test_suites(suites.into_values());
    let xml = report.to_string().map_err(std::io::Error::other)?;
    std::fs::write(path, xml)
}

fn case(record: &Record) -> TestCase {
    let status = match &record.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed(message) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(super::headline(message));
            status.set_description(message.clone());
            status
        }
        Outcome::Skipped(reason) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason.clone());
            status
        }
    };
    // suite::case::image: the class is the suite, the name case::image.
    let name = record
        .name
        .split_once("::")
        .map_or(record.name.as_str(), |(_, rest)| rest);
    let mut case = TestCase::new(name.to_owned(), status);
    case.set_classname(record.suite.clone());
    case.set_time(record.duration);
    if !record.notes.is_empty() {
        case.set_system_out(record.notes.join("\n"));
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_and_a_skip_are_written_as_junit_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junit.xml");
        let records = [
            Record {
                name: "hello::a::img".into(),
                suite: "hello".into(),
                outcome: Outcome::Failed("step 1 <broke> & died\ndetails".into()),
                duration: Duration::from_millis(20),
                notes: Vec::new(),
            },
            Record {
                name: "hello::b::img".into(),
                suite: "hello".into(),
                outcome: Outcome::Skipped("exit 77".into()),
                duration: Duration::ZERO,
                notes: Vec::new(),
            },
            Record {
                name: "other::c::img".into(),
                suite: "other".into(),
                outcome: Outcome::Passed,
                duration: Duration::ZERO,
                notes: vec!["network: case 10.64.0.2/30 on hub0, hub 10.64.0.1".into()],
            },
        ];
        write(&path, &records, Duration::from_secs(1)).unwrap();
        let xml = std::fs::read_to_string(&path).unwrap();
        assert!(
            xml.contains(
                r#"<testsuites name="wrtest" tests="3" skipped="1" failures="1" errors="0""#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase name="a::img" classname="hello""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure message="step 1 &lt;broke&gt; &amp; died""#),
            "{xml}"
        );
        assert!(xml.contains(r#"<skipped message="exit 77"/>"#), "{xml}");
        assert!(
            xml.contains(
                "<system-out>network: case 10.64.0.2/30 on hub0, hub 10.64.0.1</system-out>"
            ),
            "{xml}"
        );
    }
}
