//! `vitalcheck reload`: validate the config, then tell the running `vitalcheck run` to
//! reload it (SIGHUP).

use super::status::{Reported, StoreArgs};
use crate::instance::{self, InstanceError};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  vitalcheck reload
  vitalcheck reload -c /etc/vitalcheck.toml
  vitalcheck reload --db /var/lib/vitalcheck/vitalcheck.db

The config is validated first, as `vitalcheck config check` does: a bad one is printed
and nothing is signalled, so the running instance keeps its current config. The running
instance is the one holding the lock beside the database (<database>.pid); with --db no
config is read or checked, and the instance reloads the file it was started with.

On success, on stdout:
  sent SIGHUP to vitalcheck run (pid 1234); it reloads vitalcheck.toml

Exit status:
  0 the signal was sent
  1 no `vitalcheck run` is running with this database
  2 bad usage, a bad config, or the signal could not be sent";

/// Validate the config, then make the running `vitalcheck run` reload it (SIGHUP).
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct ReloadArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs `vitalcheck reload`.
pub(crate) fn run(args: ReloadArgs) -> Result<ExitCode> {
    let located = match args.store.locate() {
        Ok(located) => located,
        Err(Reported(code)) => return Ok(code),
    };
    match instance::reload(&located.db) {
        Ok(pid) => {
            let file = located.config.map_or_else(|| "the config it was started with".to_string(), |c| c.file);
            println!("sent SIGHUP to vitalcheck run (pid {pid}); it reloads {file}");
            Ok(ExitCode::SUCCESS)
        }
        Err(err @ InstanceError::NotRunning { .. }) => {
            eprintln!("vitalcheck: {err}");
            Ok(ExitCode::from(1))
        }
        Err(err) => Err(err.into()),
    }
}
