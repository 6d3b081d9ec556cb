//! Surfaces that tell the world a service's own health, all answering from one
//! [`HealthService`](crate::HealthService).

#[cfg(feature = "grpc")]
pub mod grpc;
#[cfg(feature = "ipc")]
pub mod ipc;
