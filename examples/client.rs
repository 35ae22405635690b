//! python-engineio's client guide with the blocking [`Client`]: connect, handle the
//! three events, send text, bytes and JSON, disconnect.
//!
//! ```text
//! cargo run --example client                        # starts an embedded echo server first
//! cargo run --example client -- http://127.0.0.1:3000
//! cargo run --example client -- http://127.0.0.1:3000 --stay   # until Ctrl-C or the server ends it
//! RUST_LOG=info cargo run --example client          # with the client's own logs
//! ```
//!
//! A plain `fn main`: no async runtime anywhere in sight.

mod embedded_server;

use std::sync::mpsc;
use std::time::Duration;

use actix_engineio::{Client, Payload};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(embedded_server::start);
    let stay = args.any(|arg| arg == "--stay");

    let eio = Client::builder().logger(true).build();
    eio.on_connect(|connect| println!("connection established: sid {}", connect.sid));
    let (echoed, echoes) = mpsc::channel();
    eio.on_message(move |data: Payload| {
        println!("message received with {data:?}");
        let _ = echoed.send(());
    });
    eio.on_disconnect(|reason| println!("disconnected from server: {reason}"));

    eio.connect(&url)?;
    println!("my sid is {}", eio.sid().unwrap_or_default());
    eio.send("hello")?;
    eio.send(vec![1u8, 2, 3])?;
    eio.send_json(&serde_json::json!({"response": "my response"}))?;
    for _ in 0..3 {
        echoes.recv_timeout(Duration::from_secs(10))?;
    }
    if stay {
        // Ctrl-C disconnects cleanly (handle_sigint), then ends the program.
        let reason = eio.wait();
        println!("session over: {reason:?}");
        return Ok(());
    }
    eio.disconnect();
    eio.wait();
    Ok(())
}
