#![cfg_attr(not(test), deny(clippy::unwrap_used))]

use std::{net::SocketAddr, path::PathBuf};

use clap::Parser;

#[derive(Parser)]
#[command(name = "lenscast-server", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "LENSCAST_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Folder of the built frontend.
    #[arg(long, env = "LENSCAST_DIST", default_value = "dist")]
    dist: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    println!("lenscast listening on http://{}", listener.local_addr()?);
    server::run(listener, server::app(args.dist), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
