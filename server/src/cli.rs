//! The `kefu` command line: `serve` and the operator's commands. Each subcommand is a plain
//! async function over the [`Store`]; `main` is a thin shell around [`run`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::app::{self, ServeOptions};
use crate::settings::Settings;
use crate::store::{NewAgent, Store};

#[derive(Parser)]
#[command(name = "kefu", version, about = "Kefu: online customer service — widget, knowledge robot, human agents.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (writes kefu.toml and a demo agent on first run).
    Serve {
        #[command(flatten)]
        data: DataDir,
        /// Address to listen on; overrides `listen` in kefu.toml.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Directory of the built widget (Trunk's output); overrides `assets` in kefu.toml.
        #[arg(long)]
        assets: Option<PathBuf>,
    },
    /// Manage agents.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
}

#[derive(Args)]
struct DataDir {
    /// Directory holding kefu.toml and the database.
    #[arg(long, default_value = "kefu-data", env = "KEFU_DATA_DIR")]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Add an agent (a password is generated and printed when none is given).
    Add {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        login: String,
        /// Name shown to customers.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        password: Option<String>,
        /// Most chats at once (在线最大接单人数).
        #[arg(long, default_value_t = 5)]
        max_chats: u32,
        /// Skill groups to take chats from, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "support")]
        groups: Vec<String>,
        /// May change the service's settings.
        #[arg(long)]
        admin: bool,
    },
    /// List agents.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Set an agent's password (a new one is generated and printed when none is given).
    Passwd {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        login: String,
        #[arg(long)]
        password: Option<String>,
    },
}

/// Parses the command line and runs it.
pub async fn run() -> Result<()> {
    match Cli::parse().command {
        Command::Serve { data, listen, assets } => {
            app::serve(ServeOptions { data_dir: data.data_dir, listen, assets, clock: crate::clock::Clock::System }).await
        }
        Command::Agent { command } => agent(command).await,
    }
}

async fn open_store(data_dir: &Path) -> Result<Store> {
    let (settings, _) = Settings::load_or_create(data_dir)?;
    let path = data_dir.join(&settings.database);
    Store::open(&path).await.with_context(|| format!("opening {}", path.display()))
}

async fn agent(command: AgentCommand) -> Result<()> {
    match command {
        AgentCommand::Add { data, login, name, password, max_chats, groups, admin } => {
            let login = login.trim();
            if login.is_empty() {
                bail!("--login must not be empty");
            }
            let store = open_store(&data.data_dir).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| crate::auth::random_token()[..12].to_owned());
            let display_name = name.unwrap_or_else(|| login.to_owned());
            let groups: Vec<String> = groups.into_iter().map(|group| group.trim().to_owned()).filter(|g| !g.is_empty()).collect();
            let agent = store
                .add_agent(
                    NewAgent { login, display_name: &display_name, password: &password, max_chats, groups: &groups, is_admin: admin },
                    app::now_ms(),
                )
                .await?;
            println!("added agent {} ({}), groups {}, max {} chats", agent.login, agent.display_name, agent.groups.join(","), agent.max_chats);
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        AgentCommand::List { data } => {
            let store = open_store(&data.data_dir).await?;
            for agent in store.list_agents().await? {
                println!(
                    "{}\t{}\tgroups={}\tmax_chats={}{}{}",
                    agent.login,
                    agent.display_name,
                    agent.groups.join(","),
                    agent.max_chats,
                    if agent.is_admin { "\tadmin" } else { "" },
                    if agent.disabled { "\tdisabled" } else { "" },
                );
            }
            Ok(())
        }
        AgentCommand::Passwd { data, login, password } => {
            let store = open_store(&data.data_dir).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| crate::auth::random_token()[..12].to_owned());
            if !store.set_agent_password(&login, &password).await? {
                bail!("no agent with login {login:?}");
            }
            println!("password of {login} changed");
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
    }
}
