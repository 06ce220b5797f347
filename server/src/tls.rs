//! TLS with rustls (ring provider, no OpenSSL): certificate files or a self-signed
//! certificate made at start for this machine's names, so a phone on the same network can
//! open the camera page over https. ALPN offers h2 and http/1.1.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket},
    path::PathBuf,
};

use axum_server::tls_rustls::RustlsConfig;
use thiserror::Error;

/// Where the certificate comes from.
pub enum TlsSource {
    Files { cert: PathBuf, key: PathBuf },
    SelfSigned,
}

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot load the TLS certificate or key: {0}")]
    Load(#[from] std::io::Error),
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// The rustls configuration for `source`; `listen` adds its IP to a self-signed certificate.
pub async fn config(source: &TlsSource, listen: SocketAddr) -> Result<RustlsConfig, TlsError> {
    // A second install (tests, repeated starts) finds one already there, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match source {
        TlsSource::Files { cert, key } => Ok(RustlsConfig::from_pem_file(cert, key).await?),
        TlsSource::SelfSigned => {
            let names = machine_names(listen);
            tracing::info!(names = ?names, "self-signed certificate");
            let made = rcgen::generate_simple_self_signed(names)?;
            Ok(RustlsConfig::from_pem(
                made.cert.pem().into_bytes(),
                made.signing_key.serialize_pem().into_bytes(),
            )
            .await?)
        }
    }
}

/// Names a browser may use to reach this machine: localhost, the host name (also with
/// `.local` for mDNS), loopback, the listen address and the address of the default route.
pub fn machine_names(listen: SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_owned()];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.push(host.to_owned());
            names.push(format!("{host}.local"));
        }
    }
    let mut ips: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into()];
    if !listen.ip().is_unspecified() {
        ips.push(listen.ip());
    }
    // Connecting a UDP socket sends nothing; it only asks the kernel which local address
    // the default route would use, i.e. the one other devices on the network see.
    if let Some(ip) = UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .ok()
        .map(|a| a.ip())
    {
        ips.push(ip);
    }
    for ip in ips {
        let ip = ip.to_string();
        if !names.contains(&ip) {
            names.push(ip);
        }
    }
    names
}
