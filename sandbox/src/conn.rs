//! The HTTPS listener, and its connections that a handler can cut without answering, so a
//! fault can play an endpoint that cannot be reached: the client sees its connection reset,
//! never a status.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::tls::HANDSHAKE_TIMEOUT;

/// One accepted TLS connection with a switch that ends it.
pub(crate) struct Conn {
    inner: TlsStream<TcpStream>,
    cut: Arc<AtomicBool>,
}

/// Handed to handlers (as `ConnectInfo<Cutter>`): cutting makes every further read and
/// write of the connection fail, so the response is never sent.
#[derive(Clone, Debug)]
pub(crate) struct Cutter(Arc<AtomicBool>);

impl Cutter {
    pub(crate) fn cut(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Conn {
    pub(crate) fn new(inner: TlsStream<TcpStream>) -> Self {
        Self {
            inner,
            cut: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Once cut, the socket is closed with a reset (zero linger) rather than a TLS
    /// close_notify, as a vanished server or a middlebox would.
    fn check(&self) -> io::Result<()> {
        if !self.cut.load(Ordering::SeqCst) {
            return Ok(());
        }
        let _ = self.inner.get_ref().0.set_zero_linger();
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection cut by a sandbox fault",
        ))
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Cutter {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Cutter(stream.io().cut.clone())
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A TLS listener for `axum::serve`: handshakes run in their own tasks so one slow client
/// cannot hold up the others.
pub(crate) struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accept_task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub(crate) fn new(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let accept_task = tokio::spawn(async move {
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
                    match handshake.await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        _ => tracing::debug!("https: TLS handshake failed or timed out"),
                    }
                });
            }
        });
        Ok(Self {
            rx,
            local,
            accept_task,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some((tls, peer)) => (Conn::new(tls), peer),
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
