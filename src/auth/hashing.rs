//! Password hashing off the async threads, behind a semaphore sized to the cores.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::password;
use crate::error::{AppError, AppResult};

/// Runs Argon2 on the blocking pool, a bounded number at a time; a caller that cannot get
/// a slot within `wait` is answered 503 with Retry-After instead of piling up.
#[derive(Debug)]
pub struct HashingPool {
    permits: Arc<Semaphore>,
    wait: Duration,
    /// A real hash of a random password, verified against when the email is unknown so that
    /// unknown and known emails cost the same time.
    decoy: String,
}

impl HashingPool {
    /// A pool of `concurrency` slots; prepares the decoy hash (one Argon2 run).
    pub async fn new(concurrency: usize, wait: Duration) -> anyhow::Result<Self> {
        let decoy =
            tokio::task::spawn_blocking(|| password::hash(&crate::tokens::random_password(24)))
                .await?
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            wait,
            decoy,
        })
    }

    /// Checks a password; with no stored hash, spends the same time and answers false.
    pub async fn verify(&self, password: String, phc: Option<String>) -> AppResult<bool> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.decoy.clone());
        let ok = self.run(move || password::verify(&password, &phc)).await?;
        Ok(ok && known)
    }

    /// Hashes a new password (its length is checked first, without taking a slot).
    pub async fn hash(&self, password: String) -> AppResult<String> {
        password::validate(&password)
            .map_err(|e| AppError::unprocessable("invalid_password", e.to_string()))?;
        self.run(move || password::hash(&password))
            .await?
            .map_err(AppError::internal)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                tracing::warn!("password hashing is saturated; answering 503");
                AppError::unavailable("busy", "too many logins at once; try again in a moment")
            })?
            .map_err(AppError::internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(AppError::internal)
    }
}
