//! The long-polling transport (docs/protocol.md section 4), against the three real peers
//! (node `engine.io`, `python-engineio`, `engineioxide`) and scripted servers:
//!
//! * [`batching`]: batching under `maxPayload` and the 16-packet cap, the POST content type;
//! * [`bodies`]: compressed responses, bounded and stalled response bodies;
//! * [`endings`]: HTTP errors that end the session, and the client's close.

mod batching;
mod bodies;
mod endings;

use actix_engineio::Session;

use crate::support::client::Client;
use crate::support::scripted::{open_packet_with, Reply, Scripted};

/// The content type of every POST.
const CONTENT_TYPE: &str = "text/plain;charset=UTF-8";

/// A session opened on `server` (polling only) against a scripted server.
async fn scripted_client(label: &str, server: &Scripted) -> Client {
    Client::connect(
        label,
        Session::builder(server.url()).transports(["polling"]),
    )
    .await
}

/// A handshake reply from a scripted server offering no upgrade.
fn handshake(sid: &str) -> Reply {
    Reply::text(200, open_packet_with(sid, &[], 25_000, 20_000, 1_000_000))
}
