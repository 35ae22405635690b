//! Fragmented websocket messages (RFC 6455 section 5.4; docs/protocol.md section 5): a
//! message split over a first frame without FIN and continuation frames, with control
//! frames allowed in between, is one message, for the handshake as for any later one.

use actix_engineio::{Close, Payload, Session, TransportKind};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::support::client::{assert_payloads, Client, DEADLINE};
use crate::support::scripted::{open_packet, Reply, Scripted, ScriptedRequest};

/// One frame of a fragmented message: the first (text or binary) or a continuation.
fn fragment(data: impl Into<Vec<u8>>, data_kind: Data, fin: bool) -> WsMessage {
    WsMessage::Frame(Frame::message(data.into(), OpCode::Data(data_kind), fin))
}

/// A websocket-only server playing `frames` once the socket is open, then waiting for
/// the client to go.
fn ws_server(frames: Vec<WsMessage>) -> Scripted {
    Scripted::start(move |req: ScriptedRequest| {
        let frames = frames.clone();
        async move {
            if !req.is_websocket() {
                return Reply::text(404, "");
            }
            Reply::websocket(move |mut ws| async move {
                for frame in frames {
                    ws.send(frame).await;
                }
                while ws.recv().await.is_some() {}
            })
        }
    })
}

/// The open packet in three fragments (a text frame without FIN, then two continuations,
/// a ping between them), then a plain text frame: the session opens with the sid of the
/// reassembled packet, and the frame after it is the first message, not the handshake.
/// (Taking the first whole text frame as the handshake fails `connect()`: `4after-open`
/// is not an open packet.)
#[actix_rt::test]
async fn fragmented_open_packet_opens_the_session_and_the_next_frame_is_a_message() {
    let label = "[scripted, open packet in fragments]";
    let open = open_packet("fragmented-sid", &[], 25_000, 20_000);
    // Cut inside the sid string and inside the JSON object.
    let (first, rest) = open.split_at(6);
    let (second, third) = rest.split_at(rest.len() / 2);
    let server = ws_server(vec![
        fragment(first, Data::Text, false),
        WsMessage::Ping(b"between".to_vec().into()),
        fragment(second, Data::Continue, false),
        fragment(third, Data::Continue, true),
        WsMessage::text("4after-open"),
    ]);
    let client = Client::connect(
        label,
        Session::builder(server.url()).transports(["websocket"]),
    )
    .await;
    assert_eq!(client.sid, "fragmented-sid", "{label}: sid");
    assert_eq!(client.transport, TransportKind::WebSocket, "{label}");
    let got = client.wait_messages(1, DEADLINE).await;
    client.assert_alive();
    assert_payloads(label, &got, &[Payload::from("after-open")]);
    client.close().await;
}

/// Once the session is open: a text message in three fragments with a ping among them,
/// a binary message in two, then a plain text frame: two whole messages, then the third,
/// in order, and nothing else.
#[actix_rt::test]
async fn a_message_fragmented_later_arrives_whole() {
    let label = "[scripted, fragmented messages]";
    let server = ws_server(vec![
        WsMessage::text(open_packet("fragments", &[], 25_000, 20_000)),
        fragment("4a fragm", Data::Text, false),
        fragment("ented text ", Data::Continue, false),
        WsMessage::Ping(b"in the middle".to_vec().into()),
        fragment("message", Data::Continue, true),
        fragment(vec![1u8, 2, 3], Data::Binary, false),
        fragment(vec![4u8, 5], Data::Continue, true),
        WsMessage::text("4whole"),
    ]);
    let client = Client::connect(
        label,
        Session::builder(server.url()).transports(["websocket"]),
    )
    .await;
    let got = client.wait_messages(3, DEADLINE).await;
    client.assert_alive();
    assert_payloads(
        label,
        &got,
        &[
            Payload::from("a fragmented text message"),
            Payload::from(vec![1u8, 2, 3, 4, 5]),
            Payload::from("whole"),
        ],
    );
    client.session.do_send(Close);
    client.events.disconnect().await;
}
