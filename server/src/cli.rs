//! The `kefu` command line: `serve` and the operator's commands. Each subcommand is a plain
//! async function over the [`Store`]; `main` is a thin shell around [`run`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::app::{self, ServeOptions};
use crate::settings::Settings;
use crate::store::{NewAgent, Store};

#[derive(Parser)]
#[command(
    name = "kefu",
    version,
    about = "Kefu: online customer service — widget, knowledge robot, human agents."
)]
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
        /// Directory of the built widget (`cargo xtask build-widget`); overrides `assets` in kefu.toml.
        #[arg(long)]
        assets: Option<PathBuf>,
    },
    /// Manage agents.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Manage the knowledge base the robot answers from.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
    /// Check the service configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum KbCommand {
    /// Add or replace knowledge items from a JSON or CSV file (by its extension), all or
    /// nothing: a file with any problem imports nothing and each problem names its line.
    Import {
        #[command(flatten)]
        data: DataDir,
        /// JSON: an array of {"id","category","question","similar":[..],"answer"}; CSV: the
        /// same columns (a header row), similar questions separated by `|`.
        file: PathBuf,
    },
    /// Print the knowledge base.
    Export {
        #[command(flatten)]
        data: DataDir,
        #[arg(long, value_enum, default_value = "json")]
        format: crate::knowledge::Format,
    },
    /// Ask the robot a question, as a customer would.
    Ask {
        #[command(flatten)]
        data: DataDir,
        /// Answer from this knowledge file alone (nothing is read or written in the data dir).
        #[arg(long)]
        kb: Option<PathBuf>,
        /// Print one JSON line: {"hit", "id", "score", "suggestions"}.
        #[arg(long)]
        json: bool,
        question: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the stored service configuration (with its knowledge base), or `--file`
    /// (JSON, or TOML by extension); prints every problem with its path, fails on any.
    Check {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        file: Option<PathBuf>,
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
    /// Disable an agent: no more logins, and every session of theirs is revoked (connections
    /// already open end when they next reconnect).
    Disable {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled agent again (they log in anew).
    Enable {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        login: String,
    },
}

/// Parses the command line and runs it.
pub async fn run() -> Result<()> {
    match Cli::parse().command {
        Command::Serve {
            data,
            listen,
            assets,
        } => {
            app::serve(ServeOptions {
                data_dir: data.data_dir,
                listen,
                assets,
                clock: crate::clock::Clock::System,
            })
            .await
        }
        Command::Agent { command } => agent(command).await,
        Command::Kb { command } => kb(command).await,
        Command::Config {
            command: ConfigCommand::Check { data, file },
        } => config_check(&data.data_dir, file.as_deref()).await,
    }
}

async fn kb(command: KbCommand) -> Result<()> {
    match command {
        KbCommand::Import { data, file } => {
            let items = read_knowledge_file(&file)?;
            let store = open_store(&data.data_dir).await?;
            let (added, replaced) = store.import_knowledge(&items, app::now_ms()).await?;
            println!(
                "imported {} knowledge items from {} ({added} added, {replaced} replaced)",
                items.len(),
                file.display()
            );
            Ok(())
        }
        KbCommand::Export { data, format } => {
            let store = open_store(&data.data_dir).await?;
            let items: Vec<_> = stored_knowledge(&store).await?;
            print!("{}", crate::knowledge::write(&items, format)?);
            Ok(())
        }
        KbCommand::Ask {
            data,
            kb,
            json,
            question,
        } => {
            let items = match kb {
                Some(file) => read_knowledge_file(&file)?,
                None => stored_knowledge(&open_store(&data.data_dir).await?).await?,
            };
            let enabled: Vec<_> = items.into_iter().filter(|item| item.enabled).collect();
            let index = kefu_core::robot::KnowledgeIndex::new(&enabled);
            if json {
                println!("{}", crate::knowledge::ask_json(&index, &question));
                return Ok(());
            }
            let result = index.ask(&question);
            match &result.best {
                Some(hit) => println!("{} (score {:.3}): {}", hit.id, hit.score, hit.answer),
                None => println!("no answer"),
            }
            for hit in &result.suggestions {
                println!(
                    "  suggestion {} (score {:.3}): {}",
                    hit.id, hit.score, hit.question
                );
            }
            Ok(())
        }
    }
}

/// Reads a knowledge file, printing each problem as `file:line: message` on stderr.
fn read_knowledge_file(file: &Path) -> Result<Vec<kefu_core::config::KnowledgeItem>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    match crate::knowledge::parse(&text, crate::knowledge::Format::of_path(file), &name) {
        Ok(items) => Ok(items),
        Err(errors) => {
            eprintln!("{errors}");
            bail!(
                "{} has {} problem(s); nothing was imported",
                file.display(),
                errors.problems.len()
            )
        }
    }
}

/// The knowledge base as the server uses it: the table once seeded, else what the first
/// `kefu serve` would seed it with.
async fn stored_knowledge(store: &Store) -> Result<Vec<kefu_core::config::KnowledgeItem>> {
    if store.knowledge_version().await? > 0 {
        return Ok(store
            .knowledge()
            .await?
            .into_iter()
            .map(|(item, _)| item)
            .collect());
    }
    Ok(store
        .service_config()
        .await?
        .unwrap_or_else(crate::demo::service_config)
        .knowledge)
}

async fn config_check(data_dir: &Path, file: Option<&Path>) -> Result<()> {
    let (config, source) = match file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let is_toml = file
                .extension()
                .is_some_and(|extension| extension.eq_ignore_ascii_case("toml"));
            let config: kefu_core::config::Config = if is_toml {
                toml::from_str(&text)
                    .with_context(|| format!("{} is not a service configuration", file.display()))?
            } else {
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a service configuration", file.display()))?
            };
            (config, file.display().to_string())
        }
        None => {
            let store = open_store(data_dir).await?;
            let mut config = store
                .service_config()
                .await?
                .unwrap_or_else(crate::demo::service_config);
            config.knowledge = stored_knowledge(&store).await?;
            (
                config,
                format!("the service configuration in {}", data_dir.display()),
            )
        }
    };
    match config.validate() {
        Ok(()) => {
            println!("{source}: ok");
            Ok(())
        }
        Err(errors) => {
            for problem in &errors.problems {
                println!("{}: {}", problem.path, problem.message);
            }
            bail!("{source} has {} problem(s)", errors.problems.len())
        }
    }
}

async fn open_store(data_dir: &Path) -> Result<Store> {
    let (settings, _) = Settings::load_or_create(data_dir)?;
    let path = data_dir.join(&settings.database);
    Store::open(&path)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

async fn agent(command: AgentCommand) -> Result<()> {
    match command {
        AgentCommand::Add {
            data,
            login,
            name,
            password,
            max_chats,
            groups,
            admin,
        } => {
            let login = login.trim();
            if login.is_empty() {
                bail!("--login must not be empty");
            }
            let store = open_store(&data.data_dir).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| crate::auth::random_token()[..12].to_owned());
            let display_name = name.unwrap_or_else(|| login.to_owned());
            let groups: Vec<String> = groups
                .into_iter()
                .map(|group| group.trim().to_owned())
                .filter(|g| !g.is_empty())
                .collect();
            let agent = store
                .add_agent(
                    NewAgent {
                        login,
                        display_name: &display_name,
                        password: &password,
                        max_chats,
                        groups: &groups,
                        is_admin: admin,
                    },
                    app::now_ms(),
                )
                .await?;
            store
                .add_cli_audit(
                    &agent.id,
                    &format!("agent.add {}", agent.login),
                    &crate::admin_api::agent_added_summary(&agent),
                    app::now_ms(),
                )
                .await?;
            println!(
                "added agent {} ({}), groups {}, max {} chats",
                agent.login,
                agent.display_name,
                agent.groups.join(","),
                agent.max_chats
            );
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
        AgentCommand::Passwd {
            data,
            login,
            password,
        } => {
            let store = open_store(&data.data_dir).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| crate::auth::random_token()[..12].to_owned());
            if !store.set_agent_password(&login, &password).await? {
                bail!("no agent with login {login:?}");
            }
            audit_cli(&store, &login, &format!("agent.password {login}"), "").await?;
            println!("password of {login} changed");
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        AgentCommand::Disable { data, login } => set_disabled(&data.data_dir, &login, true).await,
        AgentCommand::Enable { data, login } => set_disabled(&data.data_dir, &login, false).await,
    }
}

/// Records a change the command line made to the agent `login` in the audit log.
async fn audit_cli(store: &Store, login: &str, action: &str, summary: &str) -> Result<()> {
    if let Some(agent) = store.agent_by_login(login).await? {
        store
            .add_cli_audit(&agent.id, action, summary, app::now_ms())
            .await?;
    }
    Ok(())
}

async fn set_disabled(data_dir: &Path, login: &str, disabled: bool) -> Result<()> {
    let store = open_store(data_dir).await?;
    if !store.set_agent_disabled(login, disabled).await? {
        bail!("no agent with login {login:?}");
    }
    let (action, summary) = if disabled {
        ("agent.disable", "disabled; sessions revoked")
    } else {
        ("agent.enable", "enabled")
    };
    audit_cli(&store, login, &format!("{action} {login}"), summary).await?;
    println!(
        "{login} {}",
        if disabled {
            "disabled; their sessions are revoked"
        } else {
            "enabled"
        }
    );
    Ok(())
}
