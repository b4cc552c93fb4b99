//! `portcullis users`: create users, set their passwords and roles, list and remove them.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use portcullis_core::SystemClock;
use portcullis_core::model::User;

use crate::admin::{self, UserSpec};
use crate::failure::Failure;

#[derive(Debug, Subcommand)]
pub(super) enum UsersCommand {
    /// Create a user. The password is read from standard input unless --password is given.
    Add {
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Mark the email as verified.
        #[arg(long)]
        email_confirmed: bool,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        /// The password (visible to other local users in the process list; prefer standard input).
        #[arg(long)]
        password: Option<String>,
    },
    List,
    /// Set a new password (read from standard input unless --password is given); ends the user's sessions.
    SetPassword {
        user: String,
        #[arg(long)]
        password: Option<String>,
    },
    AddRole {
        user: String,
        role: String,
    },
    RemoveRole {
        user: String,
        role: String,
    },
    /// Remove a user with their sessions, authorizations and tokens.
    Remove {
        user: String,
    },
}

pub(super) async fn run(
    store: &dyn portcullis_core::store::Store,
    clock: &SystemClock,
    command: UsersCommand,
) -> Result<(), Failure> {
    match command {
        UsersCommand::Add { username, email, email_confirmed, name, phone, roles, password } => {
            let password = password_from(password)?;
            let spec =
                UserSpec { username, password, name, email, email_confirmed, phone, phone_confirmed: false, roles };
            let user = admin::add_user(store, clock, spec).await?;
            println!("created user {} (id {})", user.username, user.id);
            Ok(())
        }
        UsersCommand::List => {
            for user in store.list_users().await? {
                print_user(&user);
            }
            Ok(())
        }
        UsersCommand::SetPassword { user, password } => {
            let password = password_from(password)?;
            let user = admin::set_password(store, &user, password).await?;
            println!("set a new password for {}; their sessions and tokens have ended", user.username);
            Ok(())
        }
        UsersCommand::AddRole { user, role } => {
            let user = admin::add_role(store, &user, &role).await?;
            println!("{} has the role {role}", user.username);
            Ok(())
        }
        UsersCommand::RemoveRole { user, role } => {
            let found = admin::find_user(store, &user).await?;
            if store.remove_role(&found.id, &role).await? {
                println!("{} no longer has the role {role}", found.username);
                Ok(())
            } else {
                Err(Failure::new(format!("{} does not have the role {role:?}", found.username)))
            }
        }
        UsersCommand::Remove { user } => {
            let user = admin::remove_user(store, &user).await?;
            println!("removed user {} with their sessions, authorizations and tokens", user.username);
            Ok(())
        }
    }
}

fn print_user(user: &User) {
    println!(
        "{}\t{}\t{}\t{}",
        user.username,
        user.email.as_deref().unwrap_or("-"),
        if user.roles.is_empty() { "-".to_string() } else { user.roles.join(",") },
        user.id
    );
}

/// The password from the flag, or one line of standard input (so it stays out of the process list).
fn password_from(flag: Option<String>) -> Result<String, Failure> {
    if let Some(password) = flag {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|error| Failure::new(format!("cannot read the password from standard input: {error}")))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(Failure::new("no password given: pass --password or write it to standard input"));
    }
    Ok(password)
}
