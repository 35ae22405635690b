//! python-engineio's client guide with [`AsyncClient`], under a plain Tokio runtime:
//! connect, handle the three events (async handlers), send text, bytes and JSON, run
//! a background task, sleep, disconnect.
//!
//! ```text
//! cargo run --example async_client                  # starts an embedded echo server first
//! cargo run --example async_client -- http://127.0.0.1:3000
//! RUST_LOG=info cargo run --example async_client    # with the client's own logs
//! ```

mod embedded_server;

use std::time::Duration;

use actix_engineio::{AsyncClient, Payload};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => embedded_server::start(),
    };

    let eio = AsyncClient::builder().logger(true).build();
    eio.on_connect(|connect| async move {
        println!("connection established: sid {}", connect.sid);
    });
    let (echoed, mut echoes) = tokio::sync::mpsc::unbounded_channel();
    eio.on_message(move |data: Payload| {
        let echoed = echoed.clone();
        async move {
            println!("message received with {data:?}");
            let _ = echoed.send(());
        }
    });
    eio.on_disconnect(|reason| async move { println!("disconnected from server: {reason}") });

    eio.connect(&url).await?;
    println!("my sid is {}", eio.sid().unwrap_or_default());
    eio.send("hello").await?;
    eio.send(vec![1u8, 2, 3]).await?;
    eio.send_json(&serde_json::json!({"response": "my response"}))
        .await?;

    // A background task that sends a tick a little later.
    let ticker = eio.start_background_task(
        |eio: AsyncClient| async move {
            eio.sleep(Duration::from_millis(100)).await;
            eio.send("tick").await
        },
        eio.clone(),
    );
    ticker.await??;

    for _ in 0..4 {
        tokio::time::timeout(Duration::from_secs(10), echoes.recv()).await?;
    }
    eio.disconnect().await;
    eio.wait().await;
    Ok(())
}
