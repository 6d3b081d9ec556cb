//! Surfaces that tell the world a service's own health, all answering from one
//! [`HealthService`](crate::HealthService).

#[cfg(feature = "ipc")]
pub mod ipc;
