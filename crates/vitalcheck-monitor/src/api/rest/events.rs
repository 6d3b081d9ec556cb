//! `GET /api/v1/events`: every transition from now on as Server-Sent Events
//! (`event: transition`, `data:` the [`TransitionEvent`](crate::engine::TransitionEvent)
//! as JSON). A client too slow to keep up gets `event: lagged` with how many it missed.

use super::super::ApiState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::convert::Infallible;
use tokio_stream::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

pub(super) async fn events(State(state): State<ApiState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(state.engine.subscribe()).filter_map(|item| {
        let event = match item {
            Ok(transition) => Event::default().event("transition").json_data(&transition).ok()?,
            Err(BroadcastStreamRecvError::Lagged(missed)) => Event::default().event("lagged").data(missed.to_string()),
        };
        Some(Ok(event))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
