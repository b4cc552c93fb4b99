use std::collections::HashMap;

use async_trait::async_trait;
use portcullis_core::model::{NewUser, User, normalize_login};
use portcullis_core::secret::new_id;
use portcullis_core::store::{StoreError, StoreResult, UserStore};
use time::OffsetDateTime;

use super::SqlStore;
use crate::backend::{Backend, Statement};
use crate::rows::{UserRoleRow, UserRow, stored_time, to_db_time, user_columns};

impl<B: Backend> SqlStore<B> {
    async fn roles_of(&self, user_id: &str) -> StoreResult<Vec<String>> {
        let statement = Statement::new(
            "SELECT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
             WHERE ur.user_id = $1 ORDER BY r.name",
        )
        .bind(user_id);
        let rows = self.backend().fetch_all::<UserRoleRow>(statement).await?;
        Ok(rows.into_iter().map(|row| row.name).collect())
    }

    async fn with_roles(&self, row: Option<UserRow>) -> StoreResult<Option<User>> {
        match row {
            Some(row) => {
                let roles = self.roles_of(&row.id).await?;
                row.into_user(roles).map(Some)
            }
            None => Ok(None),
        }
    }
}

fn user_not_found(user_id: &str) -> StoreError {
    StoreError::NotFound(format!("user '{user_id}'"))
}

#[async_trait]
impl<B: Backend> UserStore for SqlStore<B> {
    async fn create_user(&self, user: NewUser, now: OffsetDateTime) -> StoreResult<User> {
        let user = User {
            normalized_username: normalize_login(&user.username),
            normalized_email: user.email.as_deref().map(normalize_login),
            id: user.id,
            username: user.username,
            name: user.name,
            email: user.email,
            email_confirmed: user.email_confirmed,
            phone: user.phone,
            phone_confirmed: user.phone_confirmed,
            password_hash: user.password_hash,
            security_stamp: user.security_stamp,
            lockout_end: None,
            failed_count: 0,
            disabled: false,
            roles: Vec::new(),
            created_at: stored_time(now),
        };
        let statement = Statement::new(concat!(
            "INSERT INTO users (",
            user_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(user.id.as_str())
        .bind(user.username.as_str())
        .bind(user.normalized_username.as_str())
        .bind(user.name.clone())
        .bind(user.email.clone())
        .bind(user.normalized_email.clone())
        .bind(user.email_confirmed)
        .bind(user.phone.clone())
        .bind(user.phone_confirmed)
        .bind(user.password_hash.as_str())
        .bind(user.security_stamp.as_str())
        .bind(None::<i64>)
        .bind(i64::from(user.failed_count))
        .bind(user.disabled)
        .bind(to_db_time(user.created_at));
        self.backend().execute(statement).await.map_err(|error| {
            error.into_store(
                |error| {
                    if error.unique_on("normalized_email") {
                        format!("email '{}'", user.email.as_deref().unwrap_or_default())
                    } else if error.unique_on("normalized_username") {
                        format!("user name '{}'", user.username)
                    } else {
                        format!("user id '{}'", user.id)
                    }
                },
                || "the user".to_owned(),
            )
        })?;
        Ok(user)
    }

    async fn find_user(&self, id: &str) -> StoreResult<Option<User>> {
        let statement = Statement::new(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1")).bind(id);
        let row = self.backend().fetch_optional::<UserRow>(statement).await?;
        self.with_roles(row).await
    }

    async fn find_user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        // One person's email may be another's user name; the user name wins, so nobody can take over a
        // sign-in by registering someone else's user name as their email.
        let statement = Statement::new(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE normalized_username = $1 OR normalized_email = $1 \
             ORDER BY CASE WHEN normalized_username = $1 THEN 0 ELSE 1 END LIMIT 1"
        ))
        .bind(normalize_login(login));
        let row = self.backend().fetch_optional::<UserRow>(statement).await?;
        self.with_roles(row).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let users = self
            .backend()
            .fetch_all::<UserRow>(Statement::new(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users ORDER BY normalized_username"
            )))
            .await?;
        let role_rows = self
            .backend()
            .fetch_all::<UserRoleRow>(Statement::new(
                "SELECT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
                 ORDER BY r.name",
            ))
            .await?;
        let mut roles: HashMap<String, Vec<String>> = HashMap::new();
        for row in role_rows {
            roles.entry(row.user_id).or_default().push(row.name);
        }
        users
            .into_iter()
            .map(|user| {
                let user_roles = roles.remove(&user.id).unwrap_or_default();
                user.into_user(user_roles)
            })
            .collect()
    }

    async fn set_password(&self, user_id: &str, password_hash: &str, security_stamp: &str) -> StoreResult<()> {
        let statement = Statement::new(
            "UPDATE users SET password_hash = $2, security_stamp = $3, lockout_end = NULL, \
             failed_count = 0 WHERE id = $1",
        )
        .bind(user_id)
        .bind(password_hash)
        .bind(security_stamp);
        match self.backend().execute(statement).await? {
            0 => Err(user_not_found(user_id)),
            _ => Ok(()),
        }
    }

    async fn add_role(&self, user_id: &str, role: &str) -> StoreResult<()> {
        self.backend()
            .execute_in_transaction(vec![
                Statement::new("INSERT INTO roles (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(new_id())
                    .bind(role),
                Statement::new(
                    "INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = $2 \
                     ON CONFLICT (user_id, role_id) DO NOTHING",
                )
                .bind(user_id)
                .bind(role),
            ])
            .await
            .map_err(|error| error.into_store(|_| format!("role '{role}'"), || format!("user '{user_id}'")))?;
        Ok(())
    }

    async fn remove_role(&self, user_id: &str, role: &str) -> StoreResult<bool> {
        let statement = Statement::new(
            "DELETE FROM user_roles WHERE user_id = $1 \
             AND role_id IN (SELECT id FROM roles WHERE name = $2)",
        )
        .bind(user_id)
        .bind(role);
        Ok(self.backend().execute(statement).await? > 0)
    }

    async fn remove_user(&self, user_id: &str) -> StoreResult<bool> {
        // Tokens are matched by subject as well as through authorizations: a token need not have one.
        let changed = self
            .backend()
            .execute_in_transaction(vec![
                Statement::new(
                    "DELETE FROM tokens WHERE subject = $1 \
                     OR authorization_id IN (SELECT id FROM authorizations WHERE subject = $1)",
                )
                .bind(user_id),
                Statement::new("DELETE FROM authorizations WHERE subject = $1").bind(user_id),
                Statement::new("DELETE FROM sessions WHERE subject = $1").bind(user_id),
                Statement::new("DELETE FROM user_roles WHERE user_id = $1").bind(user_id),
                Statement::new("DELETE FROM users WHERE id = $1").bind(user_id),
            ])
            .await?;
        Ok(changed.last().is_some_and(|&removed| removed > 0))
    }

    async fn record_failed_login(
        &self,
        user_id: &str,
        now: OffsetDateTime,
        max_failures: i32,
        lockout: time::Duration,
    ) -> StoreResult<User> {
        // One statement reads and writes the count, so concurrent failures are all counted and exactly one of
        // them trips the lock.
        let statement = Statement::new(concat!(
            "UPDATE users SET \
             failed_count = CASE WHEN failed_count + 1 >= $2 THEN 0 ELSE failed_count + 1 END, \
             lockout_end = CASE WHEN failed_count + 1 >= $2 THEN $3 ELSE lockout_end END \
             WHERE id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(user_id)
        .bind(i64::from(max_failures))
        .bind(to_db_time(now + lockout));
        let row = self.backend().fetch_optional::<UserRow>(statement).await?;
        self.with_roles(row).await?.ok_or_else(|| user_not_found(user_id))
    }

    async fn record_successful_login(&self, user_id: &str) -> StoreResult<()> {
        let statement = Statement::new("UPDATE users SET failed_count = 0 WHERE id = $1").bind(user_id);
        match self.backend().execute(statement).await? {
            0 => Err(user_not_found(user_id)),
            _ => Ok(()),
        }
    }
}
