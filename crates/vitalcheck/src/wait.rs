//! Waiting until targets are healthy.
