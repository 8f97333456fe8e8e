//! The command line: `serve`, `migrate`, `health`, `user create`, `account ...` and
//! `secrets rotate`.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::auth::password;
use crate::config::Config;
use crate::model::Role;
use crate::store::users::NewUser;
use crate::store::{accounts, users, Db};

/// Environment variable that carries a new user's password for `user create`.
pub const PASSWORD_ENV: &str = "SWITCHBOARD_USER_PASSWORD";

/// Switchboard: a realtime messaging hub for support teams.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP and WebSocket until SIGINT/SIGTERM.
    Serve,
    /// Apply pending database migrations and exit (safe to run repeatedly).
    Migrate,
    /// Ask the hub serving on this machine (BIND_ADDR, PORT) whether it is healthy; exit 0
    /// when it is (for container health checks).
    Health,
    /// Manage users.
    User {
        /// What to do with users.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the secrets sealed under SECRETS_KEY.
    Secrets {
        /// What to do with the secrets.
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Manage the installation's accounts (businesses), as the platform API does.
    Account {
        /// What to do with accounts.
        #[command(subcommand)]
        command: AccountCommand,
    },
}

/// The `secrets` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Seal every stored secret again under SECRETS_KEY, opening those sealed under
    /// SECRETS_KEY_OLD, in one transaction (nothing changes if any cannot be opened).
    Rotate,
}

impl Command {
    /// Whether the command prints data on stdout (so logs go to stderr).
    pub fn prints_data(&self) -> bool {
        matches!(self, Self::Account { .. })
    }
}

/// The `account` subcommands.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and mail its first admin an invitation.
    Create {
        /// The business's name.
        #[arg(long)]
        name: String,
        /// The first admin's email.
        #[arg(long)]
        admin_email: String,
        /// The first admin's display name.
        #[arg(long)]
        admin_name: Option<String>,
        /// IANA time zone, e.g. Europe/Berlin.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// List every account as JSON lines.
    List,
    /// Suspend an account: its people are signed out and cannot sign in, nothing is sent, the
    /// AI is off; inbound messages are still stored.
    Suspend {
        /// The account's id.
        id: i64,
    },
    /// Resume a suspended account.
    Resume {
        /// The account's id.
        id: i64,
    },
    /// Erase an account and everything in it; prints what was removed.
    Delete {
        /// The account's id.
        id: i64,
        /// Confirms the erasure (it cannot be undone).
        #[arg(long)]
        yes: bool,
    },
}

/// The `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from SWITCHBOARD_USER_PASSWORD, or asked for.
    Create {
        /// Login email (unique, case-insensitive).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// admin, supervisor or agent.
        #[arg(long, default_value = "agent")]
        role: Role,
        /// Account to add the user to (default: the first account).
        #[arg(long)]
        account_id: Option<i64>,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[Role::Admin, Role::Supervisor, Role::Agent]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// Runs a parsed command line with a loaded configuration.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve => crate::server::serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Health => health(&config).await,
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    name,
                    role,
                    account_id,
                },
        } => create_user(config, email, name, role, account_id).await,
        Command::Secrets {
            command: SecretsCommand::Rotate,
        } => rotate_secrets(config).await,
        Command::Account { command } => account(config, command).await,
    }
}

/// Runs an `account` subcommand against the configured database, printing JSON.
async fn account(config: Config, command: AccountCommand) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url, 1).await?;
    db.migrate().await?;
    let fail = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let printed = match command {
        AccountCommand::Create {
            name,
            admin_email,
            admin_name,
            time_zone,
        } => {
            let input = crate::accounts::CreateAccount {
                name,
                admin_email,
                admin_name,
                time_zone: Some(time_zone),
                language: None,
            };
            let (account, admin) = crate::accounts::create(&db, input).await.map_err(fail)?;
            let mail = crate::auth::reset::issue_link(
                &db,
                &config,
                &admin,
                crate::store::password_tokens::Purpose::Invite,
            )
            .await
            .map_err(fail)?;
            crate::mail::Mailer::from_config(&config)?
                .send(&mail)
                .await
                .context("mailing the invitation")?;
            serde_json::to_value(crate::accounts::CreatedAccount {
                account,
                admin: admin.into(),
            })?
        }
        AccountCommand::List => {
            for account in crate::accounts::list(&db).await.map_err(fail)? {
                println!("{}", serde_json::to_string(&account)?);
            }
            return Ok(());
        }
        AccountCommand::Suspend { id } => {
            let (account, _) = crate::accounts::suspend(&db, id).await.map_err(fail)?;
            serde_json::to_value(account)?
        }
        AccountCommand::Resume { id } => {
            serde_json::to_value(crate::accounts::resume(&db, id).await.map_err(fail)?)?
        }
        AccountCommand::Delete { id, yes } => {
            if !yes {
                bail!("erasing account {id} cannot be undone: add --yes to confirm");
            }
            let media = crate::media::store::MediaStore::open(&config.media)?;
            serde_json::to_value(
                crate::accounts::erase(&db, &media, id)
                    .await
                    .map_err(fail)?,
            )?
        }
    };
    println!("{}", serde_json::to_string_pretty(&printed)?);
    Ok(())
}

/// `secrets rotate`.
async fn rotate_secrets(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url, 1).await?;
    db.migrate().await?;
    let keyring = config.secrets.clone();
    let rotation = db
        .run(move |conn| crate::ai::settings::rotate_keys(conn, &keyring))
        .await
        .map_err(|e| anyhow::anyhow!("nothing was changed: {e}"))?;
    println!(
        "resealed {} secret(s) under SECRETS_KEY; {} already were",
        rotation.resealed, rotation.current
    );
    Ok(())
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url, 1).await?;
    let applied = db.migrate().await?;
    if applied.is_empty() {
        tracing::info!("database is up to date");
    } else {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    Ok(())
}

/// `GET /api/health` on the local listener, with a short timeout.
async fn health(config: &Config) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = config.bind_addr.port();
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /api/health HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(5), ask)
        .await
        .context("no answer within 5 s")?
        .with_context(|| format!("asking 127.0.0.1:{port}"))?;
    let status = answer.lines().next().unwrap_or_default().to_string();
    if !status.contains(" 200 ") {
        bail!("unhealthy: {status}");
    }
    println!("healthy");
    Ok(())
}

async fn create_user(
    config: Config,
    email: String,
    name: String,
    role: Role,
    account_id: Option<i64>,
) -> anyhow::Result<()> {
    if !email.contains('@') || email.trim().len() > 254 {
        bail!("--email: '{email}' is not an email address");
    }
    if name.trim().is_empty() {
        bail!("--name: must not be empty");
    }
    let plain = read_password()?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&plain))
        .await?
        .map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let db = Db::connect(&config.database_url, 1).await?;
    db.migrate().await?;
    let id = db
        .run(
            move |conn| -> Result<Result<i64, String>, crate::error::AppError> {
                let account = match account_id {
                    Some(id) => accounts::find(conn, id).map_err(|_| format!("no account {id}")),
                    None => accounts::first(conn)?.ok_or_else(|| {
                        "no account yet: run `switchboard serve` once to create it".to_string()
                    }),
                };
                let account = match account {
                    Ok(a) => a,
                    Err(problem) => return Ok(Err(problem)),
                };
                if users::find_by_email(conn, &email)?.is_some() {
                    return Ok(Err(format!("a user with email {email} already exists")));
                }
                let id = users::create(
                    conn,
                    &NewUser {
                        account_id: account.id,
                        email,
                        name,
                        role,
                        password_hash: Some(hash),
                    },
                )?;
                Ok(Ok(id))
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map_err(|problem| anyhow::anyhow!(problem))?;
    println!("created user {id}");
    Ok(())
}

/// The new password: from the environment, a prompt on a terminal, or one line of stdin.
fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let second = rpassword::prompt_password("Repeat: ").context("reading the password")?;
        if first != second {
            bail!("the passwords do not match");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    if line.is_empty() {
        bail!("no password: set {PASSWORD_ENV} or type it at the prompt");
    }
    Ok(line)
}
