//! The web server's listeners (Network Setting > Basic): HTTP and, when
//! enabled, HTTPS, both behind IP Permissions where connections are
//! accepted. A change binds the new sockets first ([`WebServer::prepare`]:
//! a port in use is an error and nothing changes), then switches
//! ([`WebServer::commit`]); the old listeners finish their requests.

use std::{
    future::{ready, Ready},
    io,
    net::{SocketAddr, TcpListener},
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use axum::{
    extract::{Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    Extension, Router,
};
use axum_server::{
    accept::Accept,
    tls_rustls::{RustlsAcceptor, RustlsConfig},
    Handle,
};
use std::{
    pin::Pin,
    task::{Context, Poll},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    task::JoinHandle,
};

use crate::{
    http::host::HostPolicy,
    network::{
        conn_limit::{ConnLimits, ConnSlot},
        ip_filter::IpFilter,
    },
};

/// The device's own address of a request's connection (a request
/// extension): where ONVIF's answers point the client.
#[derive(Clone, Copy, Debug)]
pub struct LocalAddr(pub SocketAddr);

/// Whether a request came over HTTPS (a request extension).
#[derive(Clone, Copy, Debug)]
pub struct Secure(pub bool);

/// Drops connections the IP Permissions refuse before a byte is read (and
/// before a TLS handshake); sets TCP_NODELAY on the others, since pages are
/// streamed in parts and would otherwise wait for delayed ACKs.
#[derive(Clone)]
pub struct FilterAcceptor {
    filter: Arc<IpFilter>,
    limits: ConnLimits,
}

impl<S> Accept<TcpStream, S> for FilterAcceptor {
    type Stream = Held<TcpStream>;
    type Service = axum::middleware::AddExtension<S, LocalAddr>;
    type Future = Ready<io::Result<(Held<TcpStream>, Self::Service)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let peer = match stream.peer_addr() {
            Ok(a) => a.ip().to_canonical(),
            Err(e) => return ready(Err(e)),
        };
        if !self.filter.allows(peer) {
            return ready(Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "refused by IP Permissions",
            )));
        }
        // One address (or IPv6 /64) cannot take every connection.
        let Some(slot) = self.limits.try_acquire(peer) else {
            tracing::debug!(%peer, "web connection refused: too many from this address");
            crate::network::conn_limit::reset(stream);
            return ready(Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "too many connections from this address",
            )));
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
        let local = match stream.local_addr() {
            Ok(a) => a,
            Err(e) => return ready(Err(e)),
        };
        let service = tower::Layer::layer(&Extension(LocalAddr(local)), service);
        ready(Ok((
            Held {
                stream,
                _slot: slot,
            },
            service,
        )))
    }
}

/// A connection with its place in the limits, freed when it closes.
pub struct Held<S> {
    stream: S,
    _slot: ConnSlot,
}

impl<S: AsyncRead + Unpin> AsyncRead for Held<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Held<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Web connections from one address: a browser opens about 6, a few tabs
/// and scripts stay well under this.
pub const HTTP_PER_ADDR: usize = 64;
/// Web connections in all.
pub const HTTP_TOTAL: usize = 512;

/// What one client may hold of the web server.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// How long a connection may take to send a request head, counted
    /// from when the server waits for one (so also how long an idle
    /// keep-alive connection lives).
    pub header_timeout: Duration,
    /// Connections from one address (IPv6: one /64), and in all.
    pub per_addr: usize,
    pub total: usize,
}

/// What the listeners should be.
pub struct Plan {
    pub http: SocketAddr,
    pub https: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
}

/// New sockets, bound and not yet serving.
pub struct Prepared {
    http: Option<TcpListener>,
    https: Option<(Option<TcpListener>, Arc<rustls::ServerConfig>)>,
}

struct Serving {
    addr: SocketAddr,
    handle: Handle<SocketAddr>,
    /// A second handle on the socket: a reboot hands it to the next process.
    socket: TcpListener,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Running {
    http: Option<Serving>,
    https: Option<(Serving, RustlsConfig)>,
}

pub struct WebServer {
    /// Taken at shutdown: it holds the device, which holds this server.
    router: Mutex<Option<Router>>,
    filter: Arc<IpFilter>,
    /// Checked before the redirect to HTTPS too (it names the Host).
    hosts: Arc<HostPolicy>,
    limits: HttpLimits,
    /// Shared by the HTTP and HTTPS listeners.
    conns: ConnLimits,
    /// The HTTPS port plain HTTP is sent to, while HTTPS runs.
    redirect: Arc<RwLock<Option<u16>>>,
    running: Mutex<Running>,
}

/// How long old listeners keep serving after a switch, so the answer to the
/// save reaches the browser.
const RETIRE_AFTER: Duration = Duration::from_secs(1);
const GRACE: Duration = Duration::from_secs(5);

/// Whether a socket bound at `now` serves `want` (port 0: any port).
pub fn satisfies(now: SocketAddr, want: SocketAddr) -> bool {
    now == want || (want.port() == 0 && now.ip() == want.ip())
}

pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let l = TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

fn port_error(field: &'static str, addr: SocketAddr, e: &io::Error) -> (&'static str, String) {
    if e.kind() == io::ErrorKind::AddrNotAvailable {
        return (
            "listen-address",
            format!("{} is not an address of this host", addr.ip()),
        );
    }
    let why = match e.kind() {
        io::ErrorKind::AddrInUse => "the port is in use".to_string(),
        io::ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need the CAP_NET_BIND_SERVICE capability)"
                .to_string()
        }
        _ => e.to_string(),
    };
    (field, format!("Cannot listen on {addr}: {why}"))
}

impl WebServer {
    pub fn new(
        router: Router,
        filter: Arc<IpFilter>,
        hosts: Arc<HostPolicy>,
        limits: HttpLimits,
    ) -> Arc<Self> {
        Arc::new(Self {
            router: Mutex::new(Some(router)),
            filter,
            hosts,
            conns: ConnLimits::new(limits.per_addr, limits.total),
            limits,
            redirect: Arc::new(RwLock::new(None)),
            running: Mutex::new(Running::default()),
        })
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Running> {
        // A panic elsewhere must not stop the listeners from being managed.
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn router(&self) -> io::Result<Router> {
        self.router
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| io::Error::other("the web server is shutting down"))
    }

    /// Where it listens now: HTTP, and HTTPS when it runs.
    pub fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        let r = self.running();
        (
            r.http.as_ref().map(|s| s.addr),
            r.https.as_ref().map(|(s, _)| s.addr),
        )
    }

    /// Binds what `plan` needs that is not running yet.
    pub fn prepare(&self, plan: Plan) -> Result<Prepared, (&'static str, String)> {
        let (http_now, https_now) = self.addresses();
        let http = if http_now.is_some_and(|now| satisfies(now, plan.http)) {
            None
        } else {
            Some(bind(plan.http).map_err(|e| port_error("http-port", plan.http, &e))?)
        };
        let https = match plan.https {
            None => None,
            Some((addr, config)) if Some(addr) == https_now => Some((None, config)),
            Some((addr, config)) => Some((
                Some(bind(addr).map_err(|e| port_error("https-port", addr, &e))?),
                config,
            )),
        };
        Ok(Prepared { http, https })
    }

    /// Serves what was prepared; retires what it replaces.
    pub fn commit(&self, prepared: Prepared) -> io::Result<()> {
        let mut running = self.running();
        if let Some(l) = prepared.http {
            let new = self.serve(l, None)?;
            tracing::info!(addr = %new.addr, "web server (HTTP) listening");
            retire(running.http.replace(new));
        }
        match prepared.https {
            None => retire(running.https.take().map(|(s, _)| s)),
            Some((None, config)) => {
                if let Some((_, live)) = &running.https {
                    live.reload_from_config(config);
                }
            }
            Some((Some(l), config)) => {
                let rustls = RustlsConfig::from_config(config);
                let new = self.serve(l, Some(rustls.clone()))?;
                tracing::info!(addr = %new.addr, "web server (HTTPS) listening");
                retire(running.https.replace((new, rustls)).map(|(s, _)| s));
            }
        }
        let https_port = running.https.as_ref().map(|(s, _)| s.addr.port());
        *self.redirect.write().unwrap_or_else(|p| p.into_inner()) = https_port;
        Ok(())
    }

    fn serve(&self, listener: TcpListener, tls: Option<RustlsConfig>) -> io::Result<Serving> {
        let addr = listener.local_addr()?;
        let socket = listener.try_clone()?;
        let handle = Handle::new();
        let acceptor = FilterAcceptor {
            filter: self.filter.clone(),
            limits: self.conns.clone(),
        };
        let router = self.router()?;
        // HTTP/1 only (the TLS side offers nothing else): protocol
        // detection would wait for a silent client's first bytes forever.
        let mut server = axum_server::from_tcp(listener)?
            .handle(handle.clone())
            .http1_only();
        // The clock runs while hyper waits for a request head: a silent
        // keep-alive connection and a head sent a byte at a time
        // (slowloris) are both closed after it.
        server
            .http_builder()
            .http1()
            .header_read_timeout(Some(self.limits.header_timeout));
        let task = match tls {
            None => {
                let app = router
                    .layer(middleware::from_fn_with_state(
                        (self.redirect.clone(), self.hosts.clone()),
                        to_https,
                    ))
                    .layer(Extension(Secure(false)))
                    .into_make_service_with_connect_info::<SocketAddr>();
                let server = server.acceptor(acceptor);
                tokio::spawn(async move {
                    if let Err(e) = server.serve(app).await {
                        tracing::error!(%addr, error = %e, "HTTP server");
                    }
                })
            }
            Some(config) => {
                let app = router
                    .layer(Extension(Secure(true)))
                    .into_make_service_with_connect_info::<SocketAddr>();
                let server = server.acceptor(
                    RustlsAcceptor::new(config)
                        .handshake_timeout(Duration::from_secs(10))
                        .acceptor(acceptor),
                );
                tokio::spawn(async move {
                    if let Err(e) = server.serve(app).await {
                        tracing::error!(%addr, error = %e, "HTTPS server");
                    }
                })
            }
        };
        Ok(Serving {
            addr,
            handle,
            socket,
            task,
        })
    }

    /// Starts serving at boot: `http` is bound already; HTTPS that cannot
    /// start is logged and left off, so the device stays reachable.
    pub fn start(
        &self,
        http: TcpListener,
        https: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
    ) -> io::Result<()> {
        let https = https.and_then(|(addr, config)| match bind(addr) {
            Ok(l) => Some((Some(l), config)),
            Err(e) => {
                tracing::error!(%addr, error = %e, "HTTPS not started");
                None
            }
        });
        self.commit(Prepared {
            http: Some(http),
            https,
        })
    }

    /// The HTTP socket, for a reboot to hand over.
    pub fn handover(&self) -> Option<TcpListener> {
        self.running()
            .http
            .as_ref()
            .and_then(|s| s.socket.try_clone().ok())
    }

    /// Stops accepting, lets open requests finish (up to 5 s), and lets go
    /// of the router.
    pub async fn shutdown(&self) {
        let serving: Vec<Serving> = {
            let mut r = self.running();
            r.http
                .take()
                .into_iter()
                .chain(r.https.take().map(|(s, _)| s))
                .collect()
        };
        self.router.lock().unwrap_or_else(|p| p.into_inner()).take();
        for s in &serving {
            s.handle.graceful_shutdown(Some(GRACE));
        }
        for s in serving {
            if tokio::time::timeout(GRACE + Duration::from_secs(1), s.task)
                .await
                .is_err()
            {
                tracing::warn!(addr = %s.addr, "connections still open after 5 s; stopping anyway");
            }
        }
    }
}

/// Stops a replaced listener after the answer that replaced it went out.
fn retire(old: Option<Serving>) {
    if let Some(old) = old {
        tokio::spawn(async move {
            tokio::time::sleep(RETIRE_AFTER).await;
            old.handle.graceful_shutdown(Some(GRACE));
            drop(old.socket);
            let _ = old.task.await;
            tracing::info!(addr = %old.addr, "old listener closed");
        });
    }
}

/// The HTTPS port plain HTTP is sent to, while HTTPS runs.
type RedirectPort = Arc<RwLock<Option<u16>>>;

/// With HTTPS on, plain HTTP is sent there (308 keeps the method).
async fn to_https(
    State((redirect, hosts)): State<(RedirectPort, Arc<HostPolicy>)>,
    req: Request,
    next: Next,
) -> Response {
    let port = *redirect.read().unwrap_or_else(|p| p.into_inner());
    let Some(port) = port else {
        return next.run(req).await;
    };
    let host = req
        .headers()
        .get(http::header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}"));
    if !hosts.allows(host) {
        return crate::http::guard::misdirected();
    }
    let Some(host) = crate::http::guard::plain_host(req.headers()) else {
        return (
            http::StatusCode::BAD_REQUEST,
            "HTTPS is required: use https:// with the device's address",
        )
            .into_response();
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    Redirect::permanent(&format!("{}{path}", https_origin(&host, port))).into_response()
}

/// `https://host[:port]` for a Host header value (its port replaced).
pub fn https_origin(host: &str, port: u16) -> String {
    let name = host_name_part(host);
    if port == 443 {
        format!("https://{name}")
    } else {
        format!("https://{name}:{port}")
    }
}

/// The host of a Host header without its port (`[::1]` stays bracketed).
pub fn host_name_part(host: &str) -> &str {
    if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(https_origin("10.0.0.5:8080", 8443), "https://10.0.0.5:8443");
        assert_eq!(https_origin("10.0.0.5", 443), "https://10.0.0.5");
        assert_eq!(https_origin("[::1]:80", 8443), "https://[::1]:8443");
        assert_eq!(https_origin("vto.local", 8443), "https://vto.local:8443");
    }
}
