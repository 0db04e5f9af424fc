//! The cancellable `$/progress` of a job the user started (documenting, reviewing, planning):
//! created with `window/workDoneProgress/create` (with a timeout), its `CancellationToken`
//! registered under the progress token so that `window/workDoneProgress/cancel` stops the job,
//! and unregistered when the job ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tower_lsp_server::ls_types::NumberOrString;
use tower_lsp_server::{Bounded, Cancellable, Client, OngoingProgress};

use super::server::ServerState;

/// How long the client may take to create a progress token.
const CREATE_TIMEOUT: Duration = Duration::from_secs(10);

/// Clones share one progress (a forwarding task reports while the job runs); whichever calls
/// `end` finishes it, and reports after that are dropped.
#[derive(Clone)]
pub(super) struct JobProgress {
    token: String,
    ongoing: Arc<tokio::sync::Mutex<Option<OngoingProgress<Bounded, Cancellable>>>>,
}

impl JobProgress {
    /// Starts a progress titled `title` with a cancel button, or `None` when the client does
    /// not show progress (the job then runs without it). `kind` names the token
    /// (`tandem/<kind>/<n>`).
    pub(super) async fn begin(
        client: &Client,
        state: &Arc<ServerState>,
        cancel: &CancellationToken,
        kind: &str,
        title: &str,
        message: String,
    ) -> Option<JobProgress> {
        if !state.client_supports_progress.load(Ordering::SeqCst) {
            return None;
        }
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let token = format!("tandem/{kind}/{}", NEXT.fetch_add(1, Ordering::SeqCst));
        let created = tokio::time::timeout(
            CREATE_TIMEOUT,
            client.create_work_done_progress(NumberOrString::String(token.clone())),
        )
        .await;
        if !matches!(created, Ok(Ok(()))) {
            return None;
        }
        state.progress_cancels.insert(token.clone(), cancel.clone());
        let ongoing = client
            .progress(NumberOrString::String(token.clone()), title)
            .with_message(message)
            .with_percentage(0)
            .with_cancel_button()
            .begin()
            .await;
        Some(JobProgress {
            token,
            ongoing: Arc::new(tokio::sync::Mutex::new(Some(ongoing))),
        })
    }

    /// Reports a step; `done` of `total` gives the percentage when known.
    pub(super) async fn report(&self, message: String, done: usize, total: usize) {
        let percentage = (done * 100).checked_div(total).unwrap_or(0) as u32;
        if let Some(ongoing) = self.ongoing.lock().await.as_ref() {
            ongoing.report_with_message(message, percentage, None).await;
        }
    }

    /// Ends the progress with `message` and unregisters the job's cancellation.
    pub(super) async fn end(self, state: &ServerState, message: String) {
        state.progress_cancels.remove(&self.token);
        let ongoing = self.ongoing.lock().await.take();
        if let Some(ongoing) = ongoing {
            ongoing.finish_with_message(message).await;
        }
    }
}

/// A sender for a job's synchronous progress callback and the spawned task that reports what
/// it sends (`describe` gives the message and `done` of `total`); `None` for the task when the
/// client shows no progress. Drop the sender, then await the task, so that every step sent is
/// reported before the progress ends.
pub(super) fn forward_reports<T: Send + 'static>(
    progress: &Option<JobProgress>,
    describe: impl Fn(T) -> (String, usize, usize) + Send + 'static,
) -> (
    tokio::sync::mpsc::UnboundedSender<T>,
    Option<tokio::task::JoinHandle<()>>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<T>();
    let forward = progress.clone().map(|p| {
        tokio::spawn(async move {
            while let Some(step) = rx.recv().await {
                let (message, done, total) = describe(step);
                p.report(message, done, total).await;
            }
        })
    });
    (tx, forward)
}
