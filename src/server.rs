//! Starting and stopping the hub: connect, migrate, bootstrap, serve, shut down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::{App, AppState};
use crate::bus::Bus;
use crate::config::Config;
use crate::store::Db;

/// Connects to the database, applies migrations and creates the first admin if needed.
pub async fn prepare(config: Config) -> anyhow::Result<AppState> {
    let db = Db::connect(&config.database_url, config.database_pool_size).await?;
    let applied = db.migrate().await?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    crate::bootstrap::ensure_first_admin(&db, &config).await?;
    let relay = match &config.redis_url {
        Some(url) => Some(
            crate::relay::Relay::start(
                url.expose(),
                crate::relay::wire::RelayKey::new(
                    config
                        .relay_secret
                        .as_ref()
                        .map(crate::config::Secret::expose),
                    config.jwt_secret.expose(),
                ),
                &db,
            )
            .await
            .context("cannot start the relay (REDIS_URL)")?,
        ),
        None => None,
    };
    let (bus, commands, publisher) = match &relay {
        Some(relay) => Bus::with_broker(relay.broker()),
        None => Bus::new(),
    };
    crate::engine::spawn(
        &db,
        move |event| publisher.publish(event),
        commands,
        config.store_max_batch,
        config.store_writers,
    )
    .context("cannot start the store writer")?;
    let state = AppState(Arc::new(App::build(config, db, bus, relay).await?));
    crate::workers::spawn_all(&state)?;
    Ok(state)
}

/// Serves on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::ListenerExt;
    let router = crate::router::build(state);
    // Small WebSocket frames go out at once instead of waiting on the peer's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the HTTP server stopped with an error")
}

/// `switchboard serve`: everything above, on the configured address, until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.bind_addr;
    tracing::info!(
        database = %config.database_url.display_safe(),
        environment = ?config.environment,
        "starting"
    );
    let state = prepare(config).await?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (BIND_ADDR/PORT)"))?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    run(state, listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
