//! `POST /v1/sweep`: the local runner's on-demand sweep. Only [`crate::local_router`] serves
//! it; on AWS the schedule runs the sweep.

use axum::extract::State;
use axum::{Extension, Json};
use deptoken_shared::usecases::{LocalSweep, SweepRunner};

use crate::AppState;
use crate::error::ApiError;
use crate::identity::Authenticated;

/// Sweeps every entry now, publishes the messages it made due, and returns the report.
/// Requires a caller who may write.
pub async fn run(
    State(state): State<AppState>,
    Extension(runner): Extension<SweepRunner>,
    Authenticated(caller): Authenticated,
) -> Result<Json<LocalSweep>, ApiError> {
    caller.require_write()?;

    Ok(Json(runner.run(&state.services).await?))
}
