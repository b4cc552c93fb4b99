//! A TCP relay in front of a database server, which a test can cut (the server goes down: connections are
//! closed and refused) or freeze (the network drops every packet: connections stay open and nothing arrives).

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Open,
    Frozen,
    Cut,
}

/// Relays 127.0.0.1:PORT to a server until cut or dropped.
pub struct Relay {
    address: SocketAddr,
    mode: watch::Sender<Mode>,
    task: JoinHandle<()>,
}

impl Relay {
    /// A relay to `target`, listening on 127.0.0.1 at a port of its own.
    pub async fn to(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding 127.0.0.1:0");
        let address = listener.local_addr().unwrap();
        let (mode, watched) = watch::channel(Mode::Open);
        let task = tokio::spawn(accept(listener, target, watched));
        Self { address, mode, task }
    }

    /// A relay to the server of the `postgres://` URL `url`, and the same URL through the relay.
    pub async fn in_front_of(url: &str) -> (Self, String) {
        let mut url = url::Url::parse(url).unwrap();
        let host = url.host_str().unwrap().to_owned();
        let port = url.port().unwrap_or(5432);
        let target = tokio::net::lookup_host((host.as_str(), port)).await.unwrap().next().unwrap();
        let relay = Self::to(target).await;
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(relay.address.port())).unwrap();
        (relay, url.to_string())
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The server goes away: every relayed connection is closed and new ones are refused.
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    /// The network stops carrying anything: connections stay open, new ones are accepted, and not a byte
    /// goes through in either direction, so whoever waits for an answer waits until their own timeout.
    pub fn freeze(&self) {
        self.mode.send_replace(Mode::Frozen);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Cut);
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, target: SocketAddr, mode: watch::Receiver<Mode>) {
    let mut cut = mode.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { return };
                tokio::spawn(relay(client, target, mode.clone()));
            }
            // Returning drops the listener: connections are refused from now on.
            _ = cut.wait_for(|mode| *mode == Mode::Cut) => return,
        }
    }
}

async fn relay(mut client: TcpStream, target: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let frozen_or_cut = {
        let mut watched = mode.clone();
        async move {
            let _ = watched.wait_for(|mode| *mode != Mode::Open).await;
        }
    };
    let connected = async {
        let Ok(mut server) = TcpStream::connect(target).await else { return };
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    };
    tokio::select! {
        () = connected => {}
        // Frozen: the sockets are held, unread, until the relay is cut; cut: they close now.
        () = frozen_or_cut => {
            let _ = mode.wait_for(|mode| *mode == Mode::Cut).await;
        }
    }
}
