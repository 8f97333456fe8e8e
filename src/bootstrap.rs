//! The first start on an empty database: create the first account and its admin.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;

use crate::auth::password;
use crate::config::Config;
use crate::model::Role;
use crate::store::users::NewUser;
use crate::store::{accounts, Db};
use crate::tokens;

/// Creates the first account and an admin from `ADMIN_EMAIL`/`ADMIN_PASSWORD` when no account
/// exists yet; a generated password is logged once. Does nothing on later starts.
pub async fn ensure_first_admin(db: &Db, config: &Config) -> anyhow::Result<()> {
    let email = config.admin_email.clone();
    let given = config.admin_password.clone();
    let created = db
        .run(
            move |conn| -> Result<Option<(String, bool)>, crate::error::AppError> {
                if accounts::count(conn)? > 0 {
                    return Ok(None);
                }
                let (plain, generated) = match given {
                    Some(p) => (p.expose().to_string(), false),
                    None => (tokens::random_password(20), true),
                };
                let hash = password::hash(&plain).map_err(|e| {
                    crate::error::AppError::internal(format!("ADMIN_PASSWORD: {e}"))
                })?;
                let outcome = conn.transaction(|conn| {
                    let account_id = accounts::create(conn, "Switchboard")?;
                    crate::store::users::create(
                        conn,
                        &NewUser {
                            account_id,
                            email: email.clone(),
                            name: "Administrator".to_string(),
                            role: Role::Admin,
                            password_hash: Some(hash),
                        },
                    )
                });
                match outcome {
                    Ok(_) => Ok(Some((plain, generated))),
                    // Another hub process bootstrapped the same database at the same moment.
                    Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                        Ok(None)
                    }
                    Err(e) => Err(e.into()),
                }
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the first admin failed: {e}"))?;
    match created {
        Some((plain, true)) => tracing::warn!(
            email = %config.admin_email,
            "created the first admin with the generated password {plain} (shown once; change it after logging in)"
        ),
        Some((_, false)) => tracing::info!(email = %config.admin_email, "created the first admin"),
        None => {}
    }
    Ok(())
}
