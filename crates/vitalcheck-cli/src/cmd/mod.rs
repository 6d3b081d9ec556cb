//! One module per subcommand, plus the flags they share.

pub(crate) mod check;
pub(crate) mod config;
pub(crate) mod history;
pub(crate) mod probe_args;
pub(crate) mod reload;
pub(crate) mod run;
pub(crate) mod status;
pub(crate) mod supervise;
pub(crate) mod wait;
