//! The `hongshu` command: serve the site, migrate the database, move an install between
//! databases, back it up, print the configuration, and administer accounts.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use app::config::{Config, Overrides};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hongshu",
    version,
    about = "Hongshu: a self-hosted community for notes and shopping"
)]
struct Cli {
    /// Configuration file (TOML); read when present.
    #[arg(
        long,
        global = true,
        default_value = "hongshu.toml",
        env = "HONGSHU_CONFIG"
    )]
    config: PathBuf,
    /// Folder for the SQLite database and media [default: ./data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…` [default: SQLite inside the data folder].
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve {
        /// Address and port to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Fill an empty database with a demo community (never touches one in use).
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Fill an empty database with content.
    Seed {
        /// A demo community: members, brands, notes with pictures, follows, likes, comments.
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Rebuild the search index from the database beside the live one; a running server
    /// switches to it when it is complete, answering searches throughout.
    Reindex,
    /// Show the change log: how many entries it keeps, and where each subscriber stands.
    Changes,
    /// Write the whole install (every table and media object) into a portable archive; the
    /// database may be in use.
    Export { file: PathBuf },
    /// Load an archive made by `export` into an empty database and media store, then check it.
    Import { file: PathBuf },
    /// Copy a live SQLite database into a new file, without stopping the server.
    Backup { file: PathBuf },
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Administer accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator. The password is read from the terminal, or from the first line
    /// of standard input when it is not a terminal.
    Create {
        handle: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set a member's platform role: member, moderator or admin.
    SetRole { handle: String, role: String },
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hongshu: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut overrides = Overrides {
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        ..Overrides::default()
    };
    let command = cli.command.unwrap_or(Command::Serve {
        bind: None,
        demo: false,
    });
    if let Command::Serve { bind, .. } = &command {
        overrides.bind = *bind;
    }
    let config = Config::load(&cli.config, &overrides).context("invalid configuration")?;
    init_logging(&config);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(execute(command, config))
}

async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo, .. } => serve(config, demo).await,
        Command::Migrate => {
            app::open_command(config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed { .. } => {
            clear_interrupted_demo(&config).await?;
            let state = app::open_command(config).await?;
            seed_demo(&state).await?;
            state.close().await;
            Ok(())
        }
        Command::Reindex => reindex(config).await,
        Command::Changes => changes(config).await,
        Command::Export { file } => export(config, &file).await,
        Command::Import { file } => import(config, &file).await,
        Command::Backup { file } => backup(config, &file).await,
        Command::Config => {
            println!("{}", config.to_toml()?);
            Ok(())
        }
        Command::Admin { command } => admin(command, config).await,
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let bind = config.server.bind;
    if demo {
        clear_interrupted_demo(&config).await?;
    }
    let state = app::open(config).await?;
    if demo {
        seed_demo(&state).await?;
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    println!(
        "Hongshu is running at http://{address} ({} database)",
        state.db.backend().name()
    );
    tracing::info!(%address, "listening");
    app::run(listener, state, shutdown_signal()).await
}

/// A demo seed that was interrupted is started again from an empty database.
async fn clear_interrupted_demo(config: &Config) -> anyhow::Result<()> {
    if app::demo::clear_interrupted(config).await? {
        println!("An earlier demo seed was interrupted; starting it again from an empty database.");
    }
    Ok(())
}

/// Seeds the demo community with a progress bar, and says how to sign in.
async fn seed_demo(state: &app::state::AppState) -> anyhow::Result<()> {
    let size = app::demo::DemoSize::FULL;
    let bar = indicatif::ProgressBar::new(size.notes as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "Seeding the demo {bar:40} {pos}/{len} notes ({eta})",
        )
        .expect("a valid template"),
    );
    let seeded = app::demo::seed(state, size, &|done, _| bar.set_position(done as u64)).await;
    bar.finish_and_clear();
    match seeded.map_err(describe)? {
        Some(accounts) => println!(
            "Demo community created. Sign in as any of @{} with the password {}",
            accounts.handles.join(", @"),
            accounts.password
        ),
        None => println!("The database already has members; the demo was not added."),
    }
    Ok(())
}

async fn reindex(config: Config) -> anyhow::Result<()> {
    let state = app::open_command(config).await?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "Indexing {bar:40} {pos}/{len} notes and members ({per_sec}, {eta})",
        )
        .expect("a valid template"),
    );
    let started = std::time::Instant::now();
    let rebuilt = app::search::indexer::rebuild(&state, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    println!(
        "Search index {} built: {} documents in {:.1} s. A running server switches to it within a second.",
        rebuilt.generation,
        rebuilt.documents,
        started.elapsed().as_secs_f64()
    );
    state.close().await;
    Ok(())
}

/// A progress bar over rows and media objects, and what moves it.
fn progress_bar(verb: &str) -> (indicatif::ProgressBar, impl Fn(u64, u64)) {
    let template =
        format!("{verb} {{bar:40}} {{pos}}/{{len}} rows and media objects ({{per_sec}}, {{eta}})");
    let bar = indicatif::ProgressBar::new(0)
        .with_style(indicatif::ProgressStyle::with_template(&template).expect("a valid template"));
    let moved = bar.clone();
    let report = move |done, total| {
        moved.set_length(total);
        moved.set_position(done);
    };
    (bar, report)
}

async fn open_db(config: &Config) -> anyhow::Result<store::Db> {
    let url = config.database_url();
    store::Db::connect(&url, 4).await.with_context(|| {
        format!(
            "cannot open the database {}",
            app::config::redact_url_password(&url)
        )
    })
}

async fn export(config: Config, file: &std::path::Path) -> anyhow::Result<()> {
    let db = open_db(&config).await?;
    let objects = app::media::service::open_objects(&config)?;
    let (bar, report) = progress_bar("Exporting");
    let started = std::time::Instant::now();
    let manifest = app::moving::export(&db, &objects, file, &report).await?;
    bar.finish_and_clear();
    println!(
        "Exported {} rows of {} tables and {} media objects to {} in {:.1} s.",
        manifest.rows(),
        manifest.tables.len(),
        manifest.media.len(),
        file.display(),
        started.elapsed().as_secs_f64()
    );
    db.close().await;
    Ok(())
}

async fn import(config: Config, file: &std::path::Path) -> anyhow::Result<()> {
    app::make_folders(&config)?;
    let db = open_db(&config).await?;
    db.migrate()
        .await
        .context("cannot apply database migrations")?;
    let objects = app::media::service::open_objects(&config)?;
    let (bar, report) = progress_bar("Importing");
    let started = std::time::Instant::now();
    let imported = app::moving::import(&db, &objects, file, &report).await?;
    bar.finish_and_clear();
    // The search index is derived: the next server builds it from the imported tables.
    let index = config.storage.data_dir.join("search");
    if index.exists() {
        std::fs::remove_dir_all(&index)
            .with_context(|| format!("cannot remove the old search index {}", index.display()))?;
    }
    println!(
        "Imported {} rows of {} tables and {} media objects ({} bytes) in {:.1} s. Checked: row \
         counts, the ledger's audit and trial balance, the orders' money, every object's digest.",
        imported.manifest.rows(),
        imported.manifest.tables.len(),
        imported.manifest.media.len(),
        imported.media_bytes,
        started.elapsed().as_secs_f64()
    );
    db.close().await;
    Ok(())
}

async fn backup(config: Config, file: &std::path::Path) -> anyhow::Result<()> {
    let db = open_db(&config).await?;
    let bytes = app::moving::backup(&db, file).await?;
    println!(
        "Backed the database up to {} ({bytes} bytes). Media are not in it: copy {} as well \
         (its files never change once written, so copying it while the server runs is safe).",
        file.display(),
        config.media_dir().display()
    );
    db.close().await;
    Ok(())
}

async fn changes(config: Config) -> anyhow::Result<()> {
    let state = app::open_command(config).await?;
    let (entries, standings) = app::changes::service::standings(&state.db).await?;
    println!("{entries} entries in the change log");
    println!(
        "{:<28} {:>24} {:>10} {:>10} {:>16}",
        "subscriber", "position", "behind", "lag (s)", "saved (s ago)"
    );
    for s in standings {
        println!(
            "{:<28} {:>24} {:>10} {:>10.1} {:>16.1}",
            s.subscriber,
            s.position,
            s.behind,
            s.lag_ms as f64 / 1000.0,
            s.saved_ago_ms as f64 / 1000.0
        );
    }
    state.close().await;
    Ok(())
}

async fn admin(command: AdminCommand, config: Config) -> anyhow::Result<()> {
    let state = app::open_command(config).await?;
    match command {
        AdminCommand::Create {
            handle,
            display_name,
        } => {
            let password = read_password()?;
            let display_name = display_name.unwrap_or_else(|| handle.clone());
            let user =
                app::accounts::service::create_admin(&state, &handle, &display_name, &password)
                    .await
                    .map_err(describe)?;
            println!("administrator @{} created", user.handle);
        }
        AdminCommand::SetRole { handle, role } => {
            let role: app::accounts::types::Role =
                serde_json::from_value(serde_json::Value::String(role))
                    .context("role must be member, moderator or admin")?;
            app::accounts::store::set_role(&state.db, &handle.to_ascii_lowercase(), role)
                .await?
                .then_some(())
                .context("no such member")?;
            println!("@{handle} is now {}", role.as_str());
        }
    }
    state.close().await;
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password for the new administrator: ")
            .context("cannot read the password");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// An application error as one line for the terminal, with each field at fault.
fn describe(err: app::error::AppError) -> anyhow::Error {
    let problem = err.to_problem();
    let fields: Vec<String> = problem
        .errors
        .iter()
        .map(|e| format!("{} {}", e.field, e.detail))
        .collect();
    if fields.is_empty() {
        anyhow::anyhow!(problem.detail)
    } else {
        anyhow::anyhow!(fields.join("; "))
    }
}

/// The configuration as sections of `key = value` lines, the shape of `hongshu.toml`.
fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
