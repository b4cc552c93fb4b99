//! Serving a router on 127.0.0.1 for the length of a test, and an address where nothing is served.

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A listener on 127.0.0.1 at a port of its own, bound before the router exists so that the router (or the
/// provider's issuer) can name its own address.
pub struct Loopback {
    listener: TcpListener,
    base: String,
}

impl Loopback {
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        Self { listener, base }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Serves `router` in a task of its own until the answer is dropped.
    pub fn serve(self, router: Router) -> Served {
        let Self { listener, base } = self;
        let task = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Served { base, task }
    }
}

/// A router being served on 127.0.0.1; dropping this stops the server.
pub struct Served {
    base: String,
    task: JoinHandle<()>,
}

impl Served {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `http://127.0.0.1:PORT` where nothing listens (a port bound, then released): a server that is down.
pub async fn nowhere() -> String {
    Loopback::bind().await.base
}
