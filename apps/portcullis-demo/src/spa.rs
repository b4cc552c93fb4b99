//! The Angular SPA: built when its bundle is missing or older than its sources, then served with
//! `index.html` for every path that is not a file, so `/callback` and deep links load the app.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// Where the SPA's sources and bundle live, relative to the repository.
pub struct Spa {
    root: PathBuf,
}

impl Spa {
    pub fn new(repository: &Path) -> Self {
        Self { root: repository.join("clients").join("angular") }
    }

    /// The production bundle `npm run build` writes (`outputPath` in angular.json).
    pub fn bundle(&self) -> PathBuf {
        self.root.join("dist").join("portcullis-spa").join("browser")
    }

    /// Runs `npm ci` when the installed packages are missing or older than the lock file, and `npm run build`
    /// when the bundle is missing or a source is newer than it. npm's own output goes to the terminal, so a
    /// first start shows its progress.
    pub fn build_if_needed(&self) -> Result<(), String> {
        // npm ci rewrites node_modules/.package-lock.json, so it is newer than the lock file it installed.
        let installed = self.root.join("node_modules").join(".package-lock.json");
        if is_stale(&installed, &[self.root.join("package-lock.json")]) {
            tracing::info!("installing the SPA's packages: npm ci in {}", self.root.display());
            npm(&self.root, &["ci", "--no-audit", "--no-fund"])?;
        }
        let index = self.bundle().join("index.html");
        let sources = [
            "src",
            "public",
            "angular.json",
            "package.json",
            "package-lock.json",
            "tsconfig.json",
            "tsconfig.app.json",
        ]
        .map(|name| self.root.join(name));
        if is_stale(&index, &sources) {
            tracing::info!("building the SPA: npm run build in {}", self.root.display());
            npm(&self.root, &["run", "build"])?;
        }
        if !index.is_file() {
            return Err(format!("the SPA build did not produce {}", index.display()));
        }
        Ok(())
    }

    /// Files from the bundle; any other path gets `index.html` (200), so the SPA's router handles it.
    pub fn router(&self) -> Router {
        let bundle = self.bundle();
        let index = ServeFile::new(bundle.join("index.html"));
        Router::new().fallback_service(ServeDir::new(bundle).fallback(index))
    }
}

/// npm's launcher is a batch file on Windows, which `Command` does not find without its extension.
const NPM: &str = if cfg!(windows) { "npm.cmd" } else { "npm" };

fn npm(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new(NPM)
        .args(args)
        .current_dir(dir)
        .env("NG_CLI_ANALYTICS", "false")
        .status()
        .map_err(|error| format!("cannot run npm (is Node.js 20.19+ installed and on PATH?): {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`npm {}` failed in {} ({status})", args.join(" "), dir.display()))
    }
}

/// Whether `output` is missing or older than the newest of `inputs`.
fn is_stale(output: &Path, inputs: &[PathBuf]) -> bool {
    match modified(output) {
        None => true,
        Some(built) => newest(inputs).is_some_and(|source| source > built),
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|metadata| metadata.modified()).ok()
}

/// The newest modification time of the files given and of the files inside the folders given.
fn newest(paths: &[PathBuf]) -> Option<SystemTime> {
    let mut newest = None;
    let mut pending: Vec<PathBuf> = paths.to_vec();
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.flatten().map(|entry| entry.path()));
            }
        } else if let Some(time) = modified(&path) {
            newest = newest.max(Some(time));
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn touch(path: &Path, at: SystemTime) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x").unwrap();
        std::fs::File::options().write(true).open(path).unwrap().set_modified(at).unwrap();
    }

    #[test]
    fn a_missing_bundle_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("src/main.ts"), SystemTime::now());
        assert!(is_stale(&dir.path().join("dist/index.html"), &[dir.path().join("src")]));
    }

    #[test]
    fn a_bundle_older_than_a_nested_source_is_stale_and_a_newer_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let index = dir.path().join("dist/index.html");
        touch(&dir.path().join("src/app/deep/page.ts"), now);
        touch(&index, now - Duration::from_secs(60));
        assert!(is_stale(&index, &[dir.path().join("src")]));
        touch(&index, now + Duration::from_secs(60));
        assert!(!is_stale(&index, &[dir.path().join("src"), dir.path().join("missing.json")]));
    }
}
