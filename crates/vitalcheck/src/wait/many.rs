//! Waiting on several targets at once: all of them, or any one.

use super::{HealthPoller, WaitError};
use crate::probe::Observation;
use tokio::task::JoinSet;

/// Waits on every poller concurrently until all are healthy. Each runs to its own end, so
/// when some give up the error lists every one that did ([`WaitError::Several`], or the
/// single error). The observations come back in the pollers' order.
pub async fn wait_all(pollers: Vec<HealthPoller>) -> Result<Vec<Observation>, WaitError> {
    let count = pollers.len();
    let mut set = JoinSet::new();
    for (index, poller) in pollers.into_iter().enumerate() {
        set.spawn(async move { (index, poller.poll().await) });
    }
    let mut healthy: Vec<Option<Observation>> = vec![None; count];
    let mut failed: Vec<(usize, WaitError)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, Ok(obs))) => healthy[index] = Some(obs),
            Ok((index, Err(err))) => failed.push((index, err)),
            Err(join_err) => failed.push((count, WaitError::InvalidOption(format!("a wait task failed: {join_err}")))),
        }
    }
    if failed.is_empty() {
        return Ok(healthy.into_iter().flatten().collect());
    }
    failed.sort_by_key(|(index, _)| *index);
    Err(combine(failed.into_iter().map(|(_, e)| e).collect()))
}

/// Waits on every poller concurrently until one is healthy; the others are cancelled.
/// Returns the index of the healthy one and its observation, or every error when none
/// became healthy.
pub async fn wait_any(pollers: Vec<HealthPoller>) -> Result<(usize, Observation), WaitError> {
    let mut set = JoinSet::new();
    let count = pollers.len();
    for (index, poller) in pollers.into_iter().enumerate() {
        set.spawn(async move { (index, poller.poll().await) });
    }
    let mut failed: Vec<(usize, WaitError)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, Ok(obs))) => return Ok((index, obs)),
            Ok((index, Err(err))) => failed.push((index, err)),
            Err(join_err) => failed.push((count, WaitError::InvalidOption(format!("a wait task failed: {join_err}")))),
        }
    }
    if failed.is_empty() {
        return Err(WaitError::InvalidOption("nothing to wait for: no targets".to_string()));
    }
    failed.sort_by_key(|(index, _)| *index);
    Err(combine(failed.into_iter().map(|(_, e)| e).collect()))
}

fn combine(mut errors: Vec<WaitError>) -> WaitError {
    match errors.len() {
        1 => errors.remove(0),
        _ => WaitError::Several(errors),
    }
}
