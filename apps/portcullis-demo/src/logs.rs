//! One log stream for the three servers, each line starting with the one it came from.
//!
//! Each server runs on its own Tokio runtime whose threads carry its name (see `main.rs`), so the label is the
//! current thread's name. Spans would not do: axum spawns a task per connection, and a spawned task does not
//! inherit the span of the code that spawned it, so request logs would lose their label.

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The labels, which are also the names of the threads of each server's runtime.
pub const PROVIDER: &str = "provider";
pub const API: &str = "api";
pub const SPA: &str = "spa";
/// Lines from the launcher itself (the main thread).
const LAUNCHER: &str = "demo";

/// `RUST_LOG` when set, else `info` with the database driver's per-statement logs left out.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .event_format(Labelled(tracing_subscriber::fmt::format()))
        .try_init();
}

fn label() -> &'static str {
    match std::thread::current().name() {
        Some(PROVIDER) => PROVIDER,
        Some(API) => API,
        Some(SPA) => SPA,
        _ => LAUNCHER,
    }
}

/// Writes `provider | ` (padded so the lines align) before the usual format.
struct Labelled<F>(F);

impl<S, N, F> FormatEvent<S, N> for Labelled<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        write!(writer, "{:<8} | ", label())?;
        self.0.format_event(ctx, writer, event)
    }
}
