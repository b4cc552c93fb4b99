//! `portcullis scopes`: add and list the scopes clients may request.

use clap::Subcommand;
use portcullis_core::model::Scope;

use crate::admin;
use crate::failure::Failure;

#[derive(Debug, Subcommand)]
pub(super) enum ScopesCommand {
    Add {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Audience (resource server) of access tokens with this scope. Repeat for several.
        #[arg(long = "resource")]
        resources: Vec<String>,
    },
    List,
}

pub(super) async fn run(store: &dyn portcullis_core::store::Store, command: ScopesCommand) -> Result<(), Failure> {
    match command {
        ScopesCommand::Add { name, display_name, description, resources } => {
            let scope =
                Scope { display_name: display_name.unwrap_or_else(|| name.clone()), name, description, resources };
            let scope = admin::add_scope(store, scope).await?;
            println!("created scope {}", scope.name);
            Ok(())
        }
        ScopesCommand::List => {
            for scope in store.list_scopes().await? {
                let resources = if scope.resources.is_empty() { "-".to_string() } else { scope.resources.join(",") };
                println!("{}\t{}\t{}", scope.name, resources, scope.display_name);
            }
            Ok(())
        }
    }
}
