//! Opening a websocket: for a websocket-only session (whose first frame is the
//! handshake) or for the upgrade of a polling one; and what awc's errors mean.

use std::rc::Rc;

use awc::error::{WsClientError, WsProtocolError};
use awc::http::header::SEC_WEBSOCKET_EXTENSIONS;
use awc::ws::{CloseReason, Frame as WsFrame};
use futures::stream::StreamExt;

use super::deflate::{negotiate, DeflateError};
use super::frames::{HttpAfterUpgrade, LimitedCodec, Reassembly};
use super::WsFramed;
use crate::protocol::{Handshake, Packet, ProtocolError, ProtocolVersion, TransportError};
use crate::transport::http::{refusal_of_v4, send_error, Http};
use crate::transport::within;

/// Opens a websocket: a websocket-only session when `sid` is `None`, else the
/// upgrade socket of session `sid`. permessage-deflate is offered unless turned off;
/// the handshake stays awc's, and the codec is swapped for one that speaks the
/// extension the server accepted: the socket and the bytes already read stay.
pub(crate) async fn open(http: Rc<Http>, sid: Option<String>) -> Result<WsFramed, TransportError> {
    let limit = http.config().max_frame_size;
    let offer = http.config().per_message_deflate;
    let mut request = http.websocket(sid.as_deref()).max_frame_size(limit);
    if offer {
        request = request.set_header(SEC_WEBSOCKET_EXTENSIONS, negotiate::OFFER);
    }
    let connect = request.connect();
    let connect = async { connect.await.map_err(|e| client_error(e, limit)) };
    let (response, framed) = within(http.config().request_timeout, connect).await?;
    http.store_cookies(response.headers());
    // A value that is not text cannot name what was offered: it is refused as one
    // that names something else.
    let answers = response
        .headers()
        .get_all(SEC_WEBSOCKET_EXTENSIONS)
        .map(|value| value.to_str().unwrap_or("\u{fffd}"));
    let agreed = negotiate::answer(answers, offer)
        .map_err(|refused| TransportError::WebSocket(refused.to_string()))?;
    if let Some(agreed) = agreed {
        log::debug!("websocket: permessage-deflate agreed: {agreed:?}");
    }
    Ok(framed.into_map_codec(|_| LimitedCodec::new(limit).with_deflate(agreed)))
}

/// Opens a websocket-only session and reads its handshake from the first frame.
pub(crate) async fn handshake(http: Rc<Http>) -> Result<(Handshake, WsFramed), TransportError> {
    let mut framed = match open(http.clone(), None).await {
        Ok(framed) => framed,
        // A refusal without its body: read it, it may say the server speaks v3 only.
        Err(TransportError::Http { status: 400, body }) if body.is_empty() => {
            let refusal = http
                .websocket_refusal()
                .await
                .unwrap_or(TransportError::Http { status: 400, body });
            return Err(refusal_of_v4(http.version(), refusal));
        }
        Err(error) => return Err(error),
    };
    let config = http.config();
    let first = within(
        config.request_timeout,
        first_packet(&mut framed, http.version(), config.max_frame_size),
    )
    .await?;
    match first {
        Packet::Open(handshake) => Ok((*handshake, framed)),
        other => Err(ProtocolError::InvalidHandshake(format!(
            "expected an open packet, got {:?}",
            other.packet_type()
        ))
        .into()),
    }
}

/// The first packet: of the first data frame, or of the first message put together
/// from its fragments; control frames before it are skipped.
async fn first_packet(
    framed: &mut WsFramed,
    version: ProtocolVersion,
    limit: usize,
) -> Result<Packet, TransportError> {
    let mut messages = Reassembly::new(version, limit);
    loop {
        let frame = framed
            .next()
            .await
            .ok_or_else(|| TransportError::ConnectionLost("closed before the handshake".into()))?
            .map_err(|e| protocol_error(e, limit))?;
        if let WsFrame::Close(reason) = frame {
            return Err(close_error(reason));
        }
        if let Some(packet) = messages.push(frame) {
            return packet;
        }
    }
}

/// Close codes that end a session normally: normal, going away, no status (Node's 1005).
pub(super) fn is_normal(code: u16) -> bool {
    matches!(code, 1000 | 1001 | 1005)
}

pub(super) fn close_error(reason: Option<CloseReason>) -> TransportError {
    let (code, description) = match reason {
        Some(reason) => (
            u16::from(reason.code),
            reason.description.unwrap_or_default(),
        ),
        None => (1005, String::new()),
    };
    TransportError::WebSocketClosed {
        code,
        reason: description,
    }
}

pub(super) fn protocol_error(error: WsProtocolError, limit: usize) -> TransportError {
    match error {
        WsProtocolError::Overflow => TransportError::FrameTooLarge { limit },
        WsProtocolError::Io(e) => match (refusal(&e), deflate_error(&e)) {
            (Some(refusal), _) => TransportError::Http {
                status: refusal.status,
                body: refusal.body.clone(),
            },
            (None, Some(invalid)) => TransportError::WebSocket(invalid.to_string()),
            (None, None) => TransportError::ConnectionLost(e.to_string()),
        },
        other => TransportError::WebSocket(other.to_string()),
    }
}

/// The HTTP refusal a server wrote after accepting the websocket, if that is the error.
fn refusal(error: &std::io::Error) -> Option<&HttpAfterUpgrade> {
    error.get_ref()?.downcast_ref::<HttpAfterUpgrade>()
}

/// A compressed frame that could not be read, if that is the error.
fn deflate_error(error: &std::io::Error) -> Option<&DeflateError> {
    error.get_ref()?.downcast_ref::<DeflateError>()
}

fn client_error(error: WsClientError, limit: usize) -> TransportError {
    match error {
        WsClientError::InvalidResponseStatus(status) => TransportError::Http {
            status: status.as_u16(),
            body: String::new(),
        },
        WsClientError::SendRequest(error) => send_error(error),
        WsClientError::Protocol(error) => protocol_error(error, limit),
        other => TransportError::WebSocket(other.to_string()),
    }
}
