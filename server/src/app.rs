//! The running service: shared state, start-up (first-run set-up included) and the serve loop.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

use crate::assets::Assets;
use crate::clock::Clock;
use crate::hub::{self, HubHandle};
use crate::limits::{Rate, RateLimits};
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::{NewAgent, Store};

/// What every request handler and connection task shares.
pub struct AppState {
    pub settings: Settings,
    pub store: Store,
    pub assets: Assets,
    pub hub: HubHandle,
    pub metrics: Arc<Metrics>,
    /// The service's clock: the system clock, or a manual one in tests.
    pub clock: Clock,
    /// Customers' frame rate limits.
    pub rate_limits: RateLimits,
}

/// Now on the system clock, in unix milliseconds, for the command line and start-up. The
/// running service reads time only through its [`Clock`] (see [`AppState::clock`]).
pub fn now_ms() -> i64 {
    crate::clock::system_now_ms()
}

/// How `kefu serve` was asked to run.
pub struct ServeOptions {
    pub data_dir: PathBuf,
    pub listen: Option<std::net::SocketAddr>,
    pub assets: Option<PathBuf>,
    /// Where time comes from ([`Clock::System`] except in tests).
    pub clock: Clock,
}

/// Opens everything under the data directory (creating it on first run, with the first
/// admin, `demo`, whose password is printed once).
pub async fn open(options: &ServeOptions) -> Result<(Arc<AppState>, FirstRun)> {
    let (mut settings, created) = Settings::load_or_create(&options.data_dir)?;
    if let Some(listen) = options.listen {
        settings.listen = listen;
    }
    let store = Store::open(&resolve(&options.data_dir, Path::new(&settings.database))).await?;
    let mut first_run = FirstRun {
        created,
        demo_password: None,
    };
    if store.list_agents().await?.is_empty() {
        let password = crate::auth::random_token()[..12].to_owned();
        let groups = vec![
            kefu_core::config::Config::demo().skill_groups[0]
                .name
                .clone(),
        ];
        store
            .add_agent(
                NewAgent {
                    login: "demo",
                    display_name: "小美 Mei",
                    password: &password,
                    max_chats: 5,
                    groups: &groups,
                    is_admin: true,
                },
                options.clock.now_ms(),
            )
            .await?;
        first_run.demo_password = Some(password);
    }
    let assets_dir = options.assets.clone().or_else(|| {
        settings
            .assets
            .as_ref()
            .map(|dir| resolve(&options.data_dir, dir))
    });
    let assets = Assets::load(assets_dir.as_deref());
    let metrics = Arc::new(Metrics::default());
    let hub = hub::start(
        store.clone(),
        settings.clone(),
        metrics.clone(),
        options.clock.clone(),
    )
    .await?;
    let rate_limits = RateLimits::new(
        Rate {
            per_second: settings.visitor_frames_per_second,
            burst: settings.visitor_frame_burst,
        },
        Rate {
            per_second: settings.ip_frames_per_second,
            burst: settings.ip_frame_burst,
        },
    );
    Ok((
        Arc::new(AppState {
            settings,
            store,
            assets,
            hub,
            metrics,
            clock: options.clock.clone(),
            rate_limits,
        }),
        first_run,
    ))
}

/// What happened on the first run, to print once.
pub struct FirstRun {
    pub created: bool,
    pub demo_password: Option<String>,
}

fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}

/// Binds and serves until Ctrl-C, printing where everything is.
pub async fn serve(options: ServeOptions) -> Result<()> {
    let (state, first_run) = open(&options).await?;
    let listener = TcpListener::bind(state.settings.listen)
        .await
        .with_context(|| format!("listening on {}", state.settings.listen))?;
    let url = state.settings.public_url();
    println!("Kefu is running.");
    println!("  Demo page (a host page with the pasted tag): {url}/demo");
    println!("  Agent workspace:                             {url}/agent");
    println!("  Site owners paste: {}", crate::pages::embed_snippet(&url));
    match &first_run.demo_password {
        Some(password) => println!(
            "  First admin created: login \"demo\", password \"{password}\" (shown once; change it with `kefu agent passwd --login demo`).\n  Admins reach the settings from the agent workspace: {url}/agent, then Settings."
        ),
        None => println!(
            "  Agents: `kefu agent list`; reset a password with `kefu agent passwd --login NAME`"
        ),
    }
    if !state.assets.has_widget() {
        println!("  Warning: the widget is not built; `cargo xtask run` builds it.");
    }
    if first_run.created {
        println!(
            "  Settings written to {}",
            options.data_dir.join("kefu.toml").display()
        );
    }
    let app = crate::http::router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving")
}
