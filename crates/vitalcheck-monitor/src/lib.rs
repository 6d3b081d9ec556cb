//! The vitalcheck engine: many targets on schedules, the probe state machine, history and
//! supervision. Built in later issues; today it only re-exports the core library.

pub use vitalcheck;
