//! `symbolon config`: the server's settings, for an operator starting a
//! config file (`default`) and checking one before a restart (`check`).

use clap::Subcommand;
use std::path::PathBuf;
use symbolon_server::config::settings;

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print a commented TOML file with every setting at its default, its environment
    /// variable and its flag.
    Default,
    /// Check a TOML config file: every key a setting, every value of its type and in range.
    /// Exits 1 naming the bad key.
    Check {
        /// The file to check.
        file: PathBuf,
    },
}

/// What `config check` found.
#[derive(serde::Serialize)]
struct Checked {
    file: String,
    valid: bool,
    /// The settings the file sets.
    sets: Vec<String>,
}

pub fn run(cmd: ConfigCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Default => {
            print!("{}", settings::default_toml());
            Ok(())
        }
        ConfigCommand::Check { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            settings::check(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let table: toml::Table = toml::from_str(&text)?;
            let checked = Checked {
                file: file.display().to_string(),
                valid: true,
                sets: table.keys().cloned().collect(),
            };
            if json {
                crate::output::print_json(&checked);
            } else if checked.sets.is_empty() {
                println!(
                    "{}: valid (sets nothing; every setting at its default)",
                    checked.file
                );
            } else {
                println!("{}: valid; sets {}", checked.file, checked.sets.join(", "));
            }
            Ok(())
        }
    }
}
