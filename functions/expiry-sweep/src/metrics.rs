//! The sweep's CloudWatch metrics in embedded metric format (EMF): one JSON object per
//! sweep, written as one line to standard output, from which CloudWatch Logs extracts the
//! metrics. The metrics have no dimensions.
//!
//! The names are those the stack's alarms read: `SweepSucceeded` (1 per finished sweep),
//! `TokensExpired`, `TokensRejected` and `TokensTermsNotAccepted`.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use deptoken_shared::usecases::SweepReport;
use serde_json::{Map, Value, json};

/// The namespace when `DEPTOKEN_METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "deptoken";

/// Lists every metric of a sweep by name, with its value taken from the report.
pub fn sweep_metrics(report: &SweepReport) -> Vec<(&'static str, usize)> {
    let statuses = &report.statuses;
    let outcomes = &report.outcomes;
    vec![
        ("SweepSucceeded", 1),
        ("SweepEntries", report.entries),
        ("SweepUpdated", outcomes.updated),
        ("SweepConflicts", outcomes.conflict),
        ("SweepFailures", outcomes.failed),
        ("AppleChecks", outcomes.apple_checked),
        ("AppleCheckFailures", outcomes.apple_failed),
        ("AppleChecksDeferred", outcomes.apple_deferred),
        ("TokensOk", statuses.ok),
        ("TokensExpiring", statuses.expiring),
        ("TokensExpired", statuses.expired),
        ("TokensRejected", statuses.token_rejected),
        ("TokensTermsNotAccepted", statuses.terms_not_accepted),
        ("TokensCheckFailed", statuses.check_failed),
        ("EntriesWithoutToken", statuses.no_token),
    ]
}

/// Builds the EMF document of `report`: the `_aws` metadata naming each metric as a count
/// in `namespace`, with no dimensions, and each value at the root, timestamped with the
/// sweep's instant.
pub fn emf_document(report: &SweepReport, namespace: &str) -> Value {
    let metrics = sweep_metrics(report);

    let definitions: Vec<Value> = metrics.iter().map(|(name, _)| json!({"Name": name, "Unit": "Count"})).collect();
    let mut document = Map::new();
    document.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": report.now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[]],
                "Metrics": definitions,
            }],
        }),
    );
    for (name, value) in metrics {
        document.insert(name.to_owned(), json!(value));
    }
    Value::Object(document)
}

/// Writes one EMF line per sweep to a shared writer: standard output on Lambda, a buffer in tests.
#[derive(Clone)]
pub struct EmfWriter {
    namespace: String,
    out: Arc<Mutex<dyn Write + Send>>,
}

impl std::fmt::Debug for EmfWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmfWriter").field("namespace", &self.namespace).finish_non_exhaustive()
    }
}

impl EmfWriter {
    /// Writes to standard output, where Lambda sends each line to CloudWatch Logs as one event.
    pub fn stdout(namespace: impl Into<String>) -> Self {
        Self::new(namespace, Arc::new(Mutex::new(std::io::stdout())))
    }

    pub fn new(namespace: impl Into<String>, out: Arc<Mutex<dyn Write + Send>>) -> Self {
        Self {
            namespace: namespace.into(),
            out,
        }
    }

    /// Writes the EMF document of `report` as one line.
    pub fn write(&self, report: &SweepReport) -> std::io::Result<()> {
        let mut line = emf_document(report, &self.namespace).to_string();
        line.push('\n');

        // One write of the whole line, so that no other output lands inside it.
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(line.as_bytes())?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use deptoken_shared::usecases::{OutcomeCounts, StatusCounts};

    use super::*;

    fn report() -> SweepReport {
        SweepReport {
            now: chrono::DateTime::from_timestamp(1_796_342_400, 0).expect("valid instant"),
            entries: 12,
            statuses: StatusCounts {
                ok: 5,
                expiring: 2,
                expired: 1,
                token_rejected: 1,
                terms_not_accepted: 1,
                check_failed: 1,
                no_token: 1,
            },
            outcomes: OutcomeCounts {
                unchanged: 8,
                updated: 2,
                conflict: 1,
                failed: 1,
                apple_checked: 9,
                apple_failed: 1,
                apple_deferred: 3,
            },
            ..SweepReport::default()
        }
    }

    #[test]
    fn emf_document_has_metadata() {
        let document = emf_document(&report(), "deptoken/test");

        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(document["_aws"]["Timestamp"], 1_796_342_400_000i64);
        assert_eq!(directive["Namespace"], "deptoken/test");
        assert_eq!(directive["Dimensions"], json!([[]]));
        assert_eq!(directive["Metrics"].as_array().map(Vec::len), Some(sweep_metrics(&report()).len()));
    }

    #[test]
    fn emf_document_values_follow_report() {
        let document = emf_document(&report(), DEFAULT_NAMESPACE);

        let cases = [
            ("SweepSucceeded", 1),
            ("SweepEntries", 12),
            ("SweepUpdated", 2),
            ("SweepConflicts", 1),
            ("SweepFailures", 1),
            ("AppleChecks", 9),
            ("AppleCheckFailures", 1),
            ("AppleChecksDeferred", 3),
            ("TokensOk", 5),
            ("TokensExpiring", 2),
            ("TokensExpired", 1),
            ("TokensRejected", 1),
            ("TokensTermsNotAccepted", 1),
            ("TokensCheckFailed", 1),
            ("EntriesWithoutToken", 1),
        ];
        for (name, expected) in cases {
            assert_eq!(document[name], expected, "{name}");
        }
    }

    #[test]
    fn every_defined_metric_has_a_value() {
        let document = emf_document(&report(), DEFAULT_NAMESPACE);

        let definitions = document["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().cloned().unwrap_or_default();

        for definition in definitions {
            let name = definition["Name"].as_str().unwrap_or_default();
            assert!(document[name].is_u64(), "{name}");
            assert_eq!(definition["Unit"], "Count", "{name}");
        }
    }

    /// Every metric that an alarm of the stack reads in the sweep's namespace
    /// (`deptoken/<stack>`) is one the sweep writes.
    #[test]
    fn template_alarms_read_written_metrics() {
        let template = include_str!("../../../infra/template.yaml");
        let lines: Vec<&str> = template.lines().map(str::trim).collect();
        let written: Vec<&str> = sweep_metrics(&report()).into_iter().map(|(name, _)| name).collect();

        let read: Vec<&str> = lines
            .windows(2)
            .filter(|pair| pair[0].starts_with("Namespace:") && pair[0].contains("deptoken/"))
            .filter_map(|pair| pair[1].strip_prefix("MetricName:").map(str::trim))
            .collect();

        assert!(read.len() >= 4, "the template's alarms read the sweep's metrics: {read:?}");
        for name in read {
            assert!(written.contains(&name), "{name} is read by an alarm but not written");
        }
    }

    #[test]
    fn emf_writer_writes_one_line() {
        let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = EmfWriter::new("deptoken", buffer.clone());

        writer.write(&report()).expect("written");
        writer.write(&report()).expect("written");

        let text = String::from_utf8(buffer.lock().unwrap().clone()).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let parsed: Value = serde_json::from_str(lines[0]).expect("one JSON object per line");
        assert_eq!(parsed["TokensExpired"], 1);
    }
}
