//! `vitalcheck config check FILE`: validate a config file and print the effective config.

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use vitalcheck_monitor::config::Config;

const EXAMPLES: &str = "\
Examples:
  vitalcheck config check vitalcheck.toml
  vitalcheck config check -o json vitalcheck.toml | jq '.targets[].name'

Output: the effective config on stdout, as TOML (or JSON): every default filled in,
${VAR} references shown unexpanded, passwords, secret query values and sensitive
header values shown as ***. On a mistake, the error on stderr:
  error: vitalcheck.toml:14:12: targets[2].interval: must be greater than zero

Exit status:
  0 the config is valid
  2 it is not (or cannot be read), or bad usage";

/// `vitalcheck config ...`.
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate FILE and print the effective config (defaults applied, secrets redacted).
    #[command(after_help = EXAMPLES)]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The config file (vitalcheck.toml).
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Output format of the effective config.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Toml)]
    output: Format,

    /// Print nothing on success; only the exit status (and errors) tell.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Toml,
    Json,
}

/// Runs `vitalcheck config ...`.
pub(crate) fn run(args: ConfigArgs) -> Result<ExitCode> {
    match args.command {
        ConfigCommand::Check(args) => check(&args),
    }
}

fn check(args: &CheckArgs) -> Result<ExitCode> {
    let config = match Config::load(&args.file) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(2));
        }
    };
    if !args.quiet {
        let effective = config.effective();
        let text = match args.output {
            Format::Toml => effective.to_toml(),
            Format::Json => serde_json::to_string_pretty(&effective)? + "\n",
        };
        std::io::stdout().lock().write_all(text.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
