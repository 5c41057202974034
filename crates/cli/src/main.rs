//! `symbolon`: serve the exchange, run the demo, and call every API operation.

mod agent;
mod backup;
mod bench_delivery;
mod bench_history;
mod bench_load;
mod bench_market;
mod bench_plot;
mod bench_servers;
mod commands;
mod config_cmd;
mod demo;
mod embedded;
mod follower;
mod healthcheck;
mod keystore;
mod open_loop;
mod output;
mod sealing;
mod verify;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use symbolon_server::config::settings::flag_help;
use symbolon_server::{ConfigLayer, ServerConfig};

#[derive(Parser, Debug)]
#[command(
    name = "symbolon",
    version,
    about = "Symbolon: demands met by at least two trustworthy holders with provider-signed passes"
)]
struct Cli {
    /// Server URL for API commands.
    #[arg(
        long,
        global = true,
        env = "SYMBOLON_SERVER",
        default_value = "http://127.0.0.1:7878",
        help_heading = "Global options"
    )]
    server: String,
    /// API key for API commands.
    #[arg(
        long,
        global = true,
        env = "SYMBOLON_KEY",
        hide_env_values = true,
        help_heading = "Global options"
    )]
    key: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the exchange server.
    Serve(Box<ServeArgs>),
    /// Administer the exchange on its store directly (no HTTP; beside or without a server).
    #[command(subcommand)]
    Admin(Admin),
    /// Copy a SQLite store online (a running server keeps writing) into a backup file.
    Backup(backup::BackupArgs),
    /// Restore a backup into a data directory, after checking its integrity and schema version.
    Restore(backup::RestoreArgs),
    /// Start an embedded server in a temp dir and narrate the whole story.
    Demo(demo::DemoArgs),
    /// Print the OpenAPI 3.1 document.
    Openapi,
    /// Ask a server on this machine whether it is ready (`/readyz`; `--live`: alive, `/healthz`);
    /// exits 1 when not. For container health checks.
    Healthcheck(healthcheck::HealthcheckArgs),
    /// The server's settings: print a commented default config file, or check one.
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Benchmarks: the matching engine against SQL full-text baselines, relevance, and
    /// event delivery.
    #[command(subcommand)]
    Bench(Bench),
    #[command(flatten)]
    Api(commands::ApiCommand),
}

#[derive(Subcommand, Debug)]
enum Bench {
    #[command(flatten)]
    Engine(symbolon_bench::BenchCommand),
    /// Event delivery by SSE and webhook: latency from the write to the party, and
    /// throughput under a burst, on SQLite (and two PostgreSQL replicas with --postgres-url).
    Delivery(bench_delivery::DeliveryArgs),
    /// A real server under open-loop load over HTTP: a market built over the API, holders
    /// answering on SSE, requesters sending demands at stepped rates; latency per rate, the
    /// maximum sustainable rate, and an SVG plot.
    Load(bench_load::LoadArgs),
}

#[derive(Subcommand, Debug)]
enum Admin {
    /// Create an operator account (it resolves disputes; registration never grants the role)
    /// and print its API key, shown once.
    CreateOperator {
        /// Display name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the store is: the same settings, files and environment as `serve`.
#[derive(Args, Debug)]
struct StoreArgs {
    /// Data directory (SQLite database). [default: ./symbolon-data]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database: `sqlite://PATH` or `postgres://USER@HOST/DB`. [default: SQLite in --data-dir]
    #[arg(long)]
    database_url: Option<String>,
    /// TOML config file, as for `serve` (data_dir, database_url, master_key, …).
    #[arg(long, env = "SYMBOLON_CONFIG")]
    config: Option<PathBuf>,
}

/// `serve`'s flags: one per setting of the settings table that may be a flag
/// (`symbolon_server::config::settings`), its help taken from there.
#[derive(Args, Debug)]
struct ServeArgs {
    #[arg(long, help = flag_help("listen"))]
    listen: Option<String>,
    #[arg(long, help = flag_help("data_dir"))]
    data_dir: Option<PathBuf>,
    #[arg(long, help = flag_help("public_url"))]
    public_url: Option<String>,
    #[arg(long, help = flag_help("database_url"))]
    database_url: Option<String>,
    #[arg(long, help = flag_help("registration_open"))]
    registration_open: Option<bool>,
    #[arg(long, help = flag_help("allow_private_webhooks"))]
    allow_private_webhooks: bool,
    #[arg(long, help = flag_help("mail_from"))]
    mail_from: Option<String>,
    #[arg(long, help = flag_help("mail_retry_schedule"))]
    mail_retry_schedule: Option<String>,
    #[arg(long, help = flag_help("webhook_retry_schedule"))]
    webhook_retry_schedule: Option<String>,
    #[arg(long, help = flag_help("event_poll"))]
    event_poll: Option<String>,
    #[arg(long, help = flag_help("header_read_timeout"))]
    header_read_timeout: Option<String>,
    #[arg(long, help = flag_help("body_read_timeout"))]
    body_read_timeout: Option<String>,
    #[arg(long, help = flag_help("idle_timeout"))]
    idle_timeout: Option<String>,
    #[arg(long, help = flag_help("max_connections"))]
    max_connections: Option<usize>,
    #[arg(long, help = flag_help("shutdown_grace"))]
    shutdown_grace: Option<String>,
    #[arg(long, help = flag_help("drain_delay"))]
    drain_delay: Option<String>,
    #[arg(long, help = flag_help("metrics_listen"))]
    metrics_listen: Option<String>,
    #[arg(long, help = flag_help("registrations_per_ip_per_hour"))]
    registrations_per_ip_per_hour: Option<u32>,
    #[arg(long, help = flag_help("rate_limit_per_second"))]
    rate_limit_per_second: Option<u32>,
    #[arg(long, help = flag_help("rate_limit_burst"))]
    rate_limit_burst: Option<u32>,
    #[arg(long, help = flag_help("ip_rate_limit_per_second"))]
    ip_rate_limit_per_second: Option<u32>,
    #[arg(long, help = flag_help("ip_rate_limit_burst"))]
    ip_rate_limit_burst: Option<u32>,
    #[arg(long, help = flag_help("trusted_proxies"))]
    trusted_proxies: Option<String>,
    #[arg(long, help = flag_help("unpaid_order_ttl"))]
    unpaid_order_ttl: Option<String>,
    #[arg(long, help = flag_help("auto_deliver_after"))]
    auto_deliver_after: Option<String>,
    #[arg(long, help = flag_help("return_window"))]
    return_window: Option<String>,
    /// TOML config file; `symbolon config default` prints one with every setting.
    #[arg(long, env = "SYMBOLON_CONFIG")]
    config: Option<PathBuf>,
}

/// `serve`'s default log filter: our own INFO lines; the index's, the
/// HTTP layer's and the database driver's only from WARN up.
const SERVE_LOG: &str = "info,tantivy=warn,tower_http=warn,sqlx=warn";

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SYMBOLON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

/// The server's configuration: the config file, then the environment, then
/// the flags, each over the one before.
fn layered_config(
    file: Option<&std::path::Path>,
    flags: ConfigLayer,
) -> anyhow::Result<ServerConfig> {
    let mut layers: Vec<(String, ConfigLayer)> = Vec::new();
    if let Some(path) = file {
        layers.push((
            format!("config file {}", path.display()),
            ConfigLayer::from_file(path)?,
        ));
    }
    layers.push((
        "environment".into(),
        ConfigLayer::from_env(std::env::vars())?,
    ));
    layers.push(("flags".into(), flags));
    let refs: Vec<(&str, ConfigLayer)> = layers
        .iter()
        .map(|(o, l)| (o.as_str(), l.clone()))
        .collect();
    Ok(ServerConfig::layered(&refs)?)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing(SERVE_LOG);
    for var in symbolon_server::config::settings::unknown_env(std::env::vars()) {
        let name = var.trim_start_matches("SYMBOLON_").to_ascii_lowercase();
        match symbolon_server::config::settings::suggest(&name) {
            Some(s) => {
                tracing::warn!(%var, did_you_mean = %format!("SYMBOLON_{}", s.to_ascii_uppercase()), "not a setting; ignored")
            }
            None => tracing::warn!(%var, "not a setting; ignored"),
        }
    }
    let config = layered_config(
        args.config.as_deref(),
        ConfigLayer {
            listen: args.listen,
            data_dir: args.data_dir,
            public_url: args.public_url,
            registration_open: args.registration_open,
            seed: None,
            database_url: args.database_url,
            // Secrets come from the environment or the config file, never from flags (they would show in `ps`).
            master_key: None,
            allow_private_webhooks: args.allow_private_webhooks.then_some(true),
            webhook_retry_schedule: args.webhook_retry_schedule,
            event_poll: args.event_poll,
            header_read_timeout: args.header_read_timeout,
            body_read_timeout: args.body_read_timeout,
            idle_timeout: args.idle_timeout,
            max_connections: args.max_connections,
            shutdown_grace: args.shutdown_grace,
            drain_delay: args.drain_delay,
            metrics_listen: args.metrics_listen,
            registrations_per_ip_per_hour: args.registrations_per_ip_per_hour,
            rate_limit_per_second: args.rate_limit_per_second,
            rate_limit_burst: args.rate_limit_burst,
            ip_rate_limit_per_second: args.ip_rate_limit_per_second,
            ip_rate_limit_burst: args.ip_rate_limit_burst,
            trusted_proxies: args
                .trusted_proxies
                .map(symbolon_server::client_ip::AddressList::Text),
            unpaid_order_ttl: args.unpaid_order_ttl,
            auto_deliver_after: args.auto_deliver_after,
            return_window: args.return_window,
            // The SMTP URL may carry a password: environment or config file only.
            smtp_url: None,
            mail_from: args.mail_from,
            mail_retry_schedule: args.mail_retry_schedule,
        },
    )?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    // Announce only once the store is open and migrated.
    let server = symbolon_server::prepare(
        listener,
        config,
        std::sync::Arc::new(symbolon_core::SystemClock),
    )
    .await?;
    println!("listening on http://{}", server.local_addr()?);
    if let Some(m) = server.metrics_addr() {
        println!("metrics on http://{m}/metrics");
    }
    server.run(symbolon_server::shutdown_signal()).await?;
    Ok(())
}

async fn admin(cmd: Admin, json: bool) -> anyhow::Result<()> {
    match cmd {
        Admin::CreateOperator { name, store } => {
            let config = layered_config(
                store.config.as_deref(),
                ConfigLayer {
                    data_dir: store.data_dir,
                    database_url: store.database_url,
                    ..Default::default()
                },
            )?;
            let created = symbolon_server::admin::create_operator(&config, &name)
                .await
                .context("creating the operator")?;
            if json {
                output::print_json(&created);
            } else {
                output::Fields::new()
                    .add("id", &created.id)
                    .add("name", &created.name)
                    .add("roles", output::roles(&created.roles))
                    .add("api_key", &created.api_key)
                    .print();
                println!();
                println!("The key is shown only once. Use it with:");
                println!("  export SYMBOLON_KEY={}", created.api_key);
            }
        }
    }
    Ok(())
}

async fn run_backup(args: backup::BackupArgs, json: bool) -> anyhow::Result<()> {
    let config = layered_config(
        args.store.config.as_deref(),
        ConfigLayer {
            data_dir: args.store.data_dir.clone(),
            database_url: args.store.database_url.clone(),
            ..Default::default()
        },
    )?;
    if args.include_master_key {
        eprintln!(
            "warning: {} will hold the master key: with the backup it opens every sealed \
             signing key; keep it apart and as secret as the key itself",
            backup::key_path(&args.to).display()
        );
    }
    let report = backup::backup(&config, &args).await?;
    if json {
        output::print_json(&report);
    } else {
        let mut f = output::Fields::new();
        f.add("file", &report.file)
            .add("bytes", report.bytes.to_string())
            .add("schema_version", report.schema_version.to_string())
            .add("took", format!("{} ms", report.millis));
        if let Some(k) = &report.master_key_file {
            f.add("master_key", k);
        }
        f.print();
    }
    Ok(())
}

async fn run_restore(args: backup::RestoreArgs, json: bool) -> anyhow::Result<()> {
    let (report, notes) = backup::restore(&args).await?;
    for n in &notes {
        eprintln!("{n}");
    }
    if json {
        output::print_json(&report);
    } else {
        let mut f = output::Fields::new();
        f.add("database", &report.database)
            .add("bytes", report.bytes.to_string())
            .add("schema_version", report.schema_version.to_string())
            .add(
                "master_key",
                if report.master_key_restored {
                    "restored"
                } else {
                    "not in the backup"
                },
            );
        if let Some(r) = &report.replaced {
            f.add("old_files", r);
        }
        f.print();
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    // `bench load` drives a running server only when `--server` is on the command line.
    let server_given =
        matches.value_source("server") == Some(clap::parser::ValueSource::CommandLine);
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Admin(cmd) => {
            init_tracing("warn");
            admin(cmd, cli.json).await
        }
        Command::Backup(args) => {
            init_tracing("warn");
            run_backup(args, cli.json).await
        }
        Command::Restore(args) => {
            init_tracing("warn");
            run_restore(args, cli.json).await
        }
        Command::Demo(args) => {
            init_tracing("warn");
            demo::run(args).await
        }
        Command::Openapi => {
            println!("{}", symbolon_server::openapi::openapi_json());
            Ok(())
        }
        Command::Config(cmd) => config_cmd::run(cmd, cli.json),
        Command::Healthcheck(args) => {
            init_tracing("warn");
            let file = std::env::var_os("SYMBOLON_CONFIG").map(PathBuf::from);
            match layered_config(file.as_deref(), ConfigLayer::default()) {
                Ok(config) => healthcheck::run(args, config.listen, cli.json).await,
                Err(e) => Err(e),
            }
        }
        Command::Bench(Bench::Engine(cmd)) => {
            init_tracing("warn");
            symbolon_bench::run(cmd, cli.json).await
        }
        Command::Bench(Bench::Delivery(args)) => {
            init_tracing("warn");
            let progress = symbolon_bench::progress::Progress { show: !cli.json };
            bench_delivery::run(&args, progress).await.map(|report| {
                if cli.json {
                    output::print_json(&report);
                } else {
                    println!("{}", bench_delivery::render(&report));
                }
            })
        }
        Command::Bench(Bench::Load(mut args)) => {
            init_tracing("warn");
            args.server = server_given.then(|| cli.server.clone());
            let progress = symbolon_bench::progress::Progress { show: !cli.json };
            bench_load::run(&args, progress).await.map(|report| {
                if cli.json {
                    output::print_json(&report);
                } else {
                    println!("{}", bench_load::render(&report));
                }
            })
        }
        Command::Api(cmd) => {
            init_tracing("warn");
            commands::run(
                cmd,
                &commands::Context {
                    server: cli.server,
                    key: cli.key,
                    json: cli.json,
                },
            )
            .await
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[test]
    fn the_command_tree_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_logs_quiet_the_index_and_the_driver() {
        let f = SERVE_LOG;
        assert!(f.contains("tantivy=warn") && f.contains("sqlx=warn"), "{f}");
        assert!(tracing_subscriber::EnvFilter::try_new(f).is_ok());
    }

    /// A command's help lists its own flags first, the global ones apart.
    #[test]
    fn global_flags_are_apart_from_a_commands_own() {
        let mut c = Cli::command();
        c.build();
        let help = c
            .find_subcommand_mut("order")
            .and_then(|o| o.find_subcommand_mut("create"))
            .expect("order create")
            .render_long_help()
            .to_string();
        let global = help.find("Global options:").expect("a global section");
        let offer = help.find("--offer").expect("--offer");
        let server = help.find("--server").expect("--server");
        assert!(offer < global && global < server, "{help}");
    }

    /// Every flag and argument of every command says what it is for.
    #[test]
    fn every_flag_says_what_it_does() {
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in c.get_arguments() {
                let id = a.get_id().as_str();
                if a.is_hide_set() || id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in c.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "symbolon", &mut missing);
        assert!(missing.is_empty(), "undocumented: {missing:#?}");
    }

    /// `serve` has one flag per setting that may be a flag, named after it.
    #[test]
    fn serve_flags_are_the_settings_table() {
        use symbolon_server::config::settings::SETTINGS;
        let cli = Cli::command();
        let serve = cli.find_subcommand("serve").expect("serve");
        let flags: std::collections::BTreeSet<String> = serve
            .get_arguments()
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "config"))
            .filter(|a| !a.is_global_set())
            .map(|a| a.get_long().expect("a long flag").to_string())
            .collect();
        let table: std::collections::BTreeSet<String> = SETTINGS
            .iter()
            .filter(|s| s.flag)
            .map(|s| s.flag_name())
            .collect();
        assert_eq!(flags, table);
    }

    #[test]
    fn admin_create_operator_takes_the_store_settings() {
        let cli = Cli::try_parse_from([
            "symbolon",
            "admin",
            "create-operator",
            "--name",
            "Ops",
            "--data-dir",
            "/tmp/x",
            "--database-url",
            "sqlite:///tmp/x/db.sqlite",
        ])
        .unwrap();
        let Command::Admin(Admin::CreateOperator { name, store }) = cli.command else {
            panic!("not admin create-operator")
        };
        assert_eq!(name, "Ops");
        assert_eq!(
            store.data_dir.as_deref(),
            Some(std::path::Path::new("/tmp/x"))
        );
        assert_eq!(
            store.database_url.as_deref(),
            Some("sqlite:///tmp/x/db.sqlite")
        );
        assert!(Cli::try_parse_from(["symbolon", "admin", "create-operator"]).is_err());
    }
}
