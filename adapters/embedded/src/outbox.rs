//! [`OutboxNotifier`]: the [`Notifier`] port of the local runner. Each notification becomes
//! one JSON line in the outbox file, where a developer or a test reads what would have been
//! sent by email and SMS.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use deptoken_shared::ports::{Notification, Notifier, NotifyError};

/// Errors of opening the outbox file.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the outbox file {path}")]
pub struct OutboxOpenError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// Appends notifications to a JSON lines file (one [`Notification`] as JSON per line) and
/// logs each at info level with tenant, server, kind and severity, never the text.
#[derive(Clone)]
pub struct OutboxNotifier {
    file: Arc<Mutex<File>>,
    path: PathBuf,
}

impl fmt::Debug for OutboxNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxNotifier").field("path", &self.path).finish_non_exhaustive()
    }
}

impl OutboxNotifier {
    /// Opens the outbox at `path` for appending, creating it with mode 0600 when missing.
    /// The messages name the tenant's servers and admins, so others may not read them.
    pub fn open(path: &Path) -> Result<Self, OutboxOpenError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| OutboxOpenError {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self {
            file: Arc::new(Mutex::new(file)),
            path: path.to_owned(),
        })
    }

    /// Returns the outbox file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl Notifier for OutboxNotifier {
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError> {
        let mut line = serde_json::to_vec(notification).map_err(|error| NotifyError::Failed(Box::new(error)))?;
        line.push(b'\n');

        let file = Arc::clone(&self.file);
        tokio::task::spawn_blocking(move || {
            // One write call on a file opened for appending, so lines from concurrent calls
            // (and other processes) do not interleave.
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            file.write_all(&line)
        })
        .await
        .map_err(|error| NotifyError::Failed(Box::new(error)))?
        .map_err(|error| {
            tracing::error!(
                path = %self.path.display(),
                tenant = %notification.tenant,
                server = %notification.server,
                error = &error as &dyn std::error::Error,
                "failed to append a notification to the outbox"
            );
            NotifyError::Failed(Box::new(error))
        })?;

        tracing::info!(
            tenant = %notification.tenant,
            server = %notification.server,
            kind = %notification.kind,
            severity = %notification.severity,
            "notification written to the outbox"
        );
        Ok(())
    }
}
