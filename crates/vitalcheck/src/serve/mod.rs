#[cfg(feature = "grpc")]
pub mod grpc;
