//! Reports of a run for people and CI systems: a JSON-lines event stream
//! written as cases start and end, JUnit XML (one testcase per case and
//! image), a short summary with failures first, and artifacts of failed
//! cases. The runner feeds [`Recorder`]; results only leave through here.

mod artifacts;
mod junit;
mod progress;

use serde::Serialize;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use artifacts::write_case_artifacts;
pub use progress::Progress;

/// Where reports go; all optional.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// JUnit XML file.
    pub junit: Option<PathBuf>,
    /// JSON-lines event stream file.
    pub events: Option<PathBuf>,
    /// Directory for the artifacts of failed cases.
    pub artifacts: Option<PathBuf>,
    /// Show a progress line on stderr (a terminal) or progress lines (not).
    pub progress: bool,
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It failed, with the message.
    Failed(String),
    /// It was skipped, with the reason.
    Skipped(String),
}

/// One finished case.
#[derive(Debug, Clone)]
pub struct Record {
    /// `suite::case::image`.
    pub name: String,
    /// The suite.
    pub suite: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
    /// What else the report says about it (its network addresses, its
    /// boot time).
    pub notes: Vec<String>,
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum Event<'a> {
    RunStarted {
        cases: usize,
        time: f64,
    },
    CaseStarted {
        name: &'a str,
        time: f64,
    },
    CaseFinished {
        name: &'a str,
        outcome: &'a Outcome,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        notes: &'a [String],
        seconds: f64,
        time: f64,
    },
    RunFinished {
        passed: usize,
        failed: usize,
        skipped: usize,
        seconds: f64,
        time: f64,
    },
}

/// Collects results while trials run, from any thread.
#[derive(Debug)]
pub struct Recorder {
    options: ReportOptions,
    events: Option<Mutex<File>>,
    records: Mutex<Vec<Record>>,
    progress: Option<Progress>,
    started: Instant,
}

/// A report file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("failed to write {}", path.display())]
pub struct ReportError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

fn unix_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Recorder {
    /// Open the event stream (if asked) for a run of `cases` cases.
    pub fn start(options: ReportOptions, cases: usize) -> Result<Recorder, ReportError> {
        let events = match &options.events {
            Some(path) => Some(Mutex::new(File::create(path).map_err(|source| {
                ReportError {
                    path: path.clone(),
                    source,
                }
            })?)),
            None => None,
        };
        let progress = options.progress.then(|| Progress::new(cases));
        let recorder = Recorder {
            options,
            events,
            records: Mutex::new(Vec::new()),
            progress,
            started: Instant::now(),
        };
        recorder.emit(&Event::RunStarted {
            cases,
            time: unix_time(),
        });
        Ok(recorder)
    }

    fn emit(&self, event: &Event<'_>) {
        let Some(file) = &self.events else { return };
        let Ok(mut line) = serde_json::to_vec(event) else {
            return;
        };
        line.push(b'\n');
        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(&line) {
            tracing::warn!("failed to write an event: {e}");
        }
    }

    /// A case starts.
    pub fn case_started(&self, name: &str) {
        self.emit(&Event::CaseStarted {
            name,
            time: unix_time(),
        });
        if let Some(p) = &self.progress {
            p.started();
        }
    }

    /// A case ended.
    pub fn case_finished(&self, record: Record) {
        let seconds = record.duration.as_secs_f64();
        self.emit(&Event::CaseFinished {
            name: &record.name,
            outcome: &record.outcome,
            notes: &record.notes,
            seconds,
            time: unix_time(),
        });
        if let Some(p) = &self.progress {
            p.finished(matches!(record.outcome, Outcome::Failed(_)));
        }
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }

    /// Where failed cases' artifacts go, if anywhere.
    pub fn artifacts_dir(&self) -> Option<&PathBuf> {
        self.options.artifacts.as_ref()
    }

    /// Close the run: the last event, the JUnit file and the summary text.
    pub fn finish(&self) -> Result<String, ReportError> {
        if let Some(p) = &self.progress {
            p.clear();
        }
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        records.sort_by(|a, b| a.name.cmp(&b.name));
        let count = |f: fn(&Outcome) -> bool| records.iter().filter(|r| f(&r.outcome)).count();
        let (passed, failed, skipped) = (
            count(|o| *o == Outcome::Passed),
            count(|o| matches!(o, Outcome::Failed(_))),
            count(|o| matches!(o, Outcome::Skipped(_))),
        );
        self.emit(&Event::RunFinished {
            passed,
            failed,
            skipped,
            seconds: self.started.elapsed().as_secs_f64(),
            time: unix_time(),
        });
        if let Some(path) = &self.options.junit {
            junit::write(path, &records, self.started.elapsed()).map_err(|source| ReportError {
                path: path.clone(),
                source,
            })?;
        }
        Ok(summary(&records))
    }
}

/// Where and why, in one line: the message's first line (the step and its
/// place) and its first listed mismatch.
pub fn headline(message: &str) -> String {
    let first = message.lines().next().unwrap_or("").trim_end_matches(':');
    match message.lines().find_map(|l| l.strip_prefix("- ")) {
        Some(why) => format!("{first}: {why}"),
        None => first.to_owned(),
    }
}

/// Failed cases first, then skipped ones, then the counts.
pub fn summary(records: &[Record]) -> String {
    let mut text = String::new();
    let failed: Vec<&Record> = records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .collect();
    if !failed.is_empty() {
        text.push_str("wrtest: failed:\n");
        for r in &failed {
            if let Outcome::Failed(message) = &r.outcome {
                text.push_str(&format!("  {}: {}\n", r.name, headline(message)));
            }
        }
    }
    let skipped: Vec<&Record> = records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
        .collect();
    if !skipped.is_empty() {
        text.push_str("wrtest: skipped:\n");
        for r in &skipped {
            if let Outcome::Skipped(reason) = &r.outcome {
                text.push_str(&format!("  {}: {reason}\n", r.name));
            }
        }
    }
    let passed = records.len() - failed.len() - skipped.len();
    text.push_str(&format!(
        "wrtest: {passed} passed, {} failed, {} skipped\n",
        failed.len(),
        skipped.len()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, outcome: Outcome) -> Record {
        Record {
            name: name.into(),
            suite: "s".into(),
            outcome,
            duration: Duration::from_millis(5),
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_summary_puts_failures_first() {
        let text = summary(&[record("s::a::i", Outcome::Passed), record("s::b::i", Outcome::Failed("step 2 (run `x`) at s.toml:3:1 on i:\n- expected exit status 0, got 1\n--- stdout".into())), record("s::c::i", Outcome::Skipped("no wifi".into()))]);
        assert_eq!(text, "wrtest: failed:\n  s::b::i: step 2 (run `x`) at s.toml:3:1 on i: expected exit status 0, got 1\nwrtest: skipped:\n  s::c::i: no wifi\nwrtest: 1 passed, 1 failed, 1 skipped\n");
    }

    #[test]
    fn events_are_one_json_object_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.jsonl");
        let options = ReportOptions {
            events: Some(events.clone()),
            ..ReportOptions::default()
        };
        let recorder = Recorder::start(options, 1).unwrap();
        recorder.case_started("s::a::i");
        recorder.case_finished(record("s::a::i", Outcome::Failed("boom".into())));
        recorder.finish().unwrap();
        let text = std::fs::read_to_string(events).unwrap();
        let kinds: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "run-started",
                "case-started",
                "case-finished",
                "run-finished"
            ]
        );
        assert!(text.contains(r#""outcome":{"failed":"boom"}"#), "{text}");
    }
}
