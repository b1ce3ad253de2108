//! JSON logs on stdout, one object per line, for CloudWatch Logs.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging controls),
//! else from `RUST_LOG` (full `EnvFilter` directives), else `info`. Whatever these variables
//! set, the dependencies in [`CAPPED_TARGETS`] never log below DEBUG.

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// The log level variable that Lambda's advanced logging controls set (`TRACE` … `FATAL`).
pub const LAMBDA_LOG_LEVEL_VARIABLE: &str = "AWS_LAMBDA_LOG_LEVEL";
/// The usual `tracing` filter variable, such as `info,deptoken_shared=debug`.
pub const RUST_LOG_VARIABLE: &str = "RUST_LOG";

/// Dependencies that never log below DEBUG. At TRACE, lambda_runtime 1.5 logs every raw
/// event ("raw JSON event received from Lambda"), which contains the caller's JWT in the
/// `authorization` header and the uploaded file.
pub const CAPPED_TARGETS: [&str; 1] = ["lambda_runtime"];

/// Returns the filter directives from the variables `lookup` returns: the Lambda log level,
/// else `RUST_LOG`, else `info`.
pub fn log_directives(lookup: impl Fn(&str) -> Option<String>) -> String {
    let set = |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
    match set(LAMBDA_LOG_LEVEL_VARIABLE) {
        // Lambda's level names are upper case and include FATAL, which `tracing` calls ERROR.
        Some(level) if level.eq_ignore_ascii_case("fatal") => "error".to_owned(),
        Some(level) => level.to_ascii_lowercase(),
        None => set(RUST_LOG_VARIABLE).unwrap_or_else(|| "info".to_owned()),
    }
}

/// Builds the function's log layer: JSON lines without ANSI colours, with the span list (the
/// runtime's span carries the request id), filtered by `directives` and capped for
/// [`CAPPED_TARGETS`]. Invalid directives are skipped, and `info` applies when none is valid.
pub fn json_layer<S, W>(directives: &str, writer: W) -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let levels = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse_lossy(directives);
    let cap = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED_TARGETS.map(|target| (target, LevelFilter::DEBUG)));

    fmt::layer()
        .json()
        .with_ansi(false)
        .without_time()
        .with_current_span(false)
        .with_writer(writer)
        .with_filter(levels.and(cap))
}

/// Installs [`json_layer`] on stdout as the process's subscriber. Call it once, first thing at
/// cold start.
pub fn init_logging(directives: &str) {
    tracing_subscriber::registry()
        .with(json_layer(directives, std::io::stdout))
        .init();
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).into_owned()
        }
    }

    /// Emits `emit`'s events through [`json_layer`] with `directives` and returns the output.
    fn logged(directives: &str, emit: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(json_layer(directives, move || writer.clone()));

        tracing::subscriber::with_default(subscriber, emit);

        buffer.text()
    }

    #[test]
    fn log_directives_prefer_lambda_level() {
        let cases = [
            ("nothing set", None, None, "info"),
            ("RUST_LOG only", None, Some("info,deptoken_shared=debug"), "info,deptoken_shared=debug"),
            ("Lambda level wins", Some("DEBUG"), Some("warn"), "debug"),
            ("Lambda FATAL", Some("FATAL"), None, "error"),
            ("blank Lambda level", Some(" "), Some("warn"), "warn"),
        ];

        for (label, lambda_level, rust_log, expected) in cases {
            let lookup = |name: &str| match name {
                LAMBDA_LOG_LEVEL_VARIABLE => lambda_level.map(str::to_owned),
                RUST_LOG_VARIABLE => rust_log.map(str::to_owned),
                _ => None,
            };

            assert_eq!(log_directives(lookup), expected, "{label}");
        }
    }

    #[test]
    fn json_layer_writes_json_lines() {
        let output = logged("info", || tracing::info!(server = "tokyo", "upload accepted"));

        let line: serde_json::Value = serde_json::from_str(output.trim()).expect("one JSON object");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["message"], "upload accepted");
        assert_eq!(line["fields"]["server"], "tokyo");
        assert!(!output.contains('\u{1b}'), "no ANSI escape codes: {output:?}");
    }

    #[test]
    fn json_layer_caps_lambda_runtime() {
        let output = logged("trace", || {
            tracing::trace!(target: "lambda_runtime::layers::api_response", "raw JSON event received");
            tracing::debug!(target: "lambda_runtime::runtime", "runtime debug event");
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "SDK trace event");
            tracing::trace!(target: "deptoken_shared::usecases", "own trace event");
        });

        assert!(!output.contains("raw JSON event received"), "{output}");
        assert!(output.contains("runtime debug event"), "{output}");
        assert!(output.contains("SDK trace event"), "{output}");
        assert!(output.contains("own trace event"), "{output}");
    }

    #[test]
    fn json_layer_cap_beats_specific_directive() {
        let output = logged("lambda_runtime::layers::api_response=trace", || {
            tracing::trace!(target: "lambda_runtime::layers::api_response", "raw JSON event received");
        });

        assert_eq!(output, "");
    }

    #[test]
    fn json_layer_invalid_directives_mean_info() {
        let output = logged("deptoken_shared=loud", || {
            tracing::debug!("debug event");
            tracing::info!("info event");
        });

        assert!(!output.contains("debug event"), "{output}");
        assert!(output.contains("info event"), "{output}");
    }
}
