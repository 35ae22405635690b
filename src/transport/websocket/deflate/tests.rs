//! The codec under permessage-deflate, bytes in and bytes out: what a server writes is
//! read back as the messages it compressed, and what the client writes inflates back
//! on the server's side.

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{Frame as WsFrame, Item, Message as WsMessage, OpCode, Parser};
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use std::time::{Duration, Instant};

use super::compress::{Deflater, THRESHOLD};
use super::inflate::Inflater;
use super::{Agreed, PerMessageDeflate, DEFLATE_IDLE, RSV1};
use crate::transport::websocket::frames::LimitedCodec;

const LIMIT: usize = 1 << 20;

fn agreed() -> Agreed {
    Agreed {
        server_max_window_bits: 15,
        ..Agreed::default()
    }
}

fn client() -> LimitedCodec {
    LimitedCodec::new(LIMIT).with_deflate(Some(agreed()))
}

/// A frame as a server writes it: unmasked.
fn server_frame(fin: bool, rsv1: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    Parser::write_message(&mut out, payload, opcode, fin, false);
    if rsv1 {
        out[0] |= RSV1;
    }
    out.to_vec()
}

/// Every frame `src` holds, read by `codec` in pieces of `step` bytes.
fn read_all(
    codec: &mut LimitedCodec,
    bytes: &[u8],
    step: usize,
) -> Result<Vec<WsFrame>, actix_http::ws::ProtocolError> {
    let mut src = BytesMut::new();
    let mut frames = Vec::new();
    for piece in bytes.chunks(step.max(1)) {
        src.extend_from_slice(piece);
        while let Some(frame) = codec.decode(&mut src)? {
            frames.push(frame);
        }
    }
    assert!(src.is_empty(), "{} bytes left unread", src.len());
    Ok(frames)
}

/// The server's side of a client frame: (RSV1, opcode, unmasked payload), or `None`
/// when `src` holds no whole frame.
fn server_read(src: &mut BytesMut) -> Option<(bool, OpCode, Vec<u8>)> {
    let rsv1 = src.first()? & RSV1 != 0;
    src[0] &= !RSV1;
    let (fin, opcode, payload) = Parser::parse(src, true, usize::MAX).unwrap()?;
    assert!(fin);
    Some((
        rsv1,
        opcode,
        payload.map(|p| p.to_vec()).unwrap_or_default(),
    ))
}

fn text(frame: &WsFrame) -> String {
    match frame {
        WsFrame::Text(data) => String::from_utf8(data.to_vec()).unwrap(),
        other => panic!("not a text frame: {other:?}"),
    }
}

#[test]
fn compressed_server_messages_are_read_with_context_taken_over() {
    let mut server = Deflater::new(false);
    let messages: Vec<String> = (0..50)
        .map(|i| format!("4{{\"n\":{i},\"text\":\"the same words again and again\"}}"))
        .collect();
    let mut wire = Vec::new();
    for message in &messages {
        wire.extend(server_frame(
            true,
            true,
            OpCode::Text,
            &server.compress(message.as_bytes()),
        ));
    }
    // Also byte by byte: the RSV1 of a header read in pieces is taken once.
    for step in [1, 7, wire.len()] {
        let mut codec = client();
        let frames = read_all(&mut codec, &wire, step).unwrap();
        let read: Vec<String> = frames.iter().map(text).collect();
        assert_eq!(read, messages);
    }
}

#[test]
fn a_fragmented_compressed_message_is_inflated_across_its_frames() {
    let message = "4".to_string() + &"{\"a\":[1,2,3],\"b\":\"xyz\"}".repeat(500);
    let compressed = Deflater::new(false).compress(message.as_bytes());
    let third = compressed.len() / 3;
    let mut wire = server_frame(false, true, OpCode::Text, &compressed[..third]);
    // A control frame between fragments stays plain.
    wire.extend(server_frame(true, false, OpCode::Ping, b"p"));
    wire.extend(server_frame(
        false,
        false,
        OpCode::Continue,
        &compressed[third..2 * third],
    ));
    wire.extend(server_frame(
        true,
        false,
        OpCode::Continue,
        &compressed[2 * third..],
    ));
    // Then a plain message: RSV1 clear is read as it is.
    wire.extend(server_frame(true, false, OpCode::Text, b"4plain"));
    let frames = read_all(&mut client(), &wire, 100).unwrap();
    let mut whole = Vec::new();
    for frame in &frames[..4] {
        match frame {
            WsFrame::Continuation(
                Item::FirstText(data) | Item::Continue(data) | Item::Last(data),
            ) => whole.extend_from_slice(data),
            WsFrame::Ping(data) => assert_eq!(&data[..], b"p"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(String::from_utf8(whole).unwrap(), message);
    assert_eq!(text(&frames[4]), "4plain");
}

#[test]
fn rsv1_where_rfc_7692_forbids_it_is_refused() {
    let ping = server_frame(true, true, OpCode::Ping, b"x");
    assert!(read_all(&mut client(), &ping, 64).is_err());
    let mut wire = server_frame(false, false, OpCode::Text, b"4a");
    wire.extend(server_frame(true, true, OpCode::Continue, b"b"));
    assert!(read_all(&mut client(), &wire, 64).is_err());
    // Without the extension, RSV1 is refused outright.
    let compressed = Deflater::new(false).compress(&[b'a'; 100]);
    let frame = server_frame(true, true, OpCode::Text, &compressed);
    assert!(read_all(&mut LimitedCodec::new(LIMIT), &frame, 64).is_err());
}

#[test]
fn an_inflated_message_past_the_limit_is_an_overflow() {
    let big = vec![b'a'; 10_000];
    let frame = server_frame(
        true,
        true,
        OpCode::Binary,
        &Deflater::new(false).compress(&big),
    );
    let mut codec = LimitedCodec::new(9_999).with_deflate(Some(agreed()));
    let result = read_all(&mut codec, &frame, frame.len());
    assert!(
        matches!(result, Err(actix_http::ws::ProtocolError::Overflow)),
        "{result:?}"
    );
}

#[test]
fn short_messages_go_plain_and_allocate_nothing() {
    let mut codec = client();
    let mut dst = BytesMut::new();
    for message in ["2", "3", "4hello", "2probe"] {
        codec
            .encode(WsMessage::Text(message.into()), &mut dst)
            .unwrap();
    }
    codec
        .encode(
            WsMessage::Ping(Bytes::from_static(
                b"a long enough ping payload, no compression",
            )),
            &mut dst,
        )
        .unwrap();
    let plain = server_frame(true, false, OpCode::Text, b"3");
    read_all(&mut codec, &plain, 1).unwrap();
    assert_eq!(codec.deflate_allocated(), Some((false, false)));
    while let Some((rsv1, _, _)) = server_read(&mut dst) {
        assert!(!rsv1);
    }
    codec
        .encode(WsMessage::Text("4".repeat(THRESHOLD).into()), &mut dst)
        .unwrap();
    assert_eq!(codec.deflate_allocated(), Some((true, false)));
    assert!(server_read(&mut dst).unwrap().0);
}

#[test]
fn an_idle_deflate_state_is_dropped_and_the_server_reads_on() {
    let mut deflate = PerMessageDeflate::new(agreed());
    let mut server = Inflater::new();
    let message = b"4{\"event\":\"chat\",\"text\":\"hello there, hello there\"}";
    let start = Instant::now();
    let mut send = |deflate: &mut PerMessageDeflate, at| {
        let compressed = deflate.outgoing(message, at).unwrap();
        assert_eq!(server.inflate(&compressed, true, LIMIT).unwrap(), message);
        compressed.len()
    };
    let first = send(&mut deflate, start);
    let warm = send(&mut deflate, start);
    assert!(warm < first, "context taken over: {warm} < {first}");
    deflate.release_idle(start + DEFLATE_IDLE - Duration::from_millis(1));
    assert_eq!(deflate.allocated(), (true, false));
    deflate.release_idle(start + DEFLATE_IDLE);
    assert_eq!(deflate.allocated(), (false, false));
    // A fresh deflate stream: the server's inflater, which kept its window, reads on.
    let later = start + 2 * DEFLATE_IDLE;
    assert_eq!(send(&mut deflate, later), first);
    assert_eq!(send(&mut deflate, later), warm);
}

#[test]
fn without_server_context_takeover_the_inflate_state_is_dropped_after_each_message() {
    let agreed = Agreed {
        server_no_context_takeover: true,
        ..agreed()
    };
    let mut codec = LimitedCodec::new(LIMIT).with_deflate(Some(agreed));
    let mut server = Deflater::new(true);
    for i in 0..5 {
        let message = format!("4{{\"n\":{i},\"text\":\"the same words again and again\"}}");
        let frame = server_frame(
            true,
            true,
            OpCode::Text,
            &server.compress(message.as_bytes()),
        );
        let frames = read_all(&mut codec, &frame, 5).unwrap();
        assert_eq!(text(&frames[0]), message);
        assert_eq!(codec.deflate_allocated(), Some((false, false)));
    }
}

/// The server's inflater for what the client sends, and the client's codec for what
/// the server sends, over many messages: every one comes out as it went in.
fn round_trip(messages: &[(bool, Vec<u8>)], no_takeover: bool, step: usize) {
    let agreed = Agreed {
        client_no_context_takeover: no_takeover,
        server_no_context_takeover: no_takeover,
        server_max_window_bits: 15,
    };
    let mut codec = LimitedCodec::new(LIMIT).with_deflate(Some(agreed));
    // Client to server.
    let mut dst = BytesMut::new();
    for (binary, data) in messages {
        let message = if *binary {
            WsMessage::Binary(Bytes::from(data.clone()))
        } else {
            WsMessage::Text(String::from_utf8(data.clone()).unwrap().into())
        };
        codec.encode(message, &mut dst).unwrap();
    }
    let mut inflater = Inflater::new();
    for (binary, data) in messages {
        let (rsv1, opcode, payload) = server_read(&mut dst).unwrap();
        assert_eq!(
            opcode,
            if *binary {
                OpCode::Binary
            } else {
                OpCode::Text
            }
        );
        assert_eq!(rsv1, data.len() >= THRESHOLD);
        let received = if rsv1 {
            inflater.inflate(&payload, true, LIMIT).unwrap()
        } else {
            payload
        };
        assert_eq!(&received, data);
    }
    // Server to client, each message in up to three fragments.
    let mut server = Deflater::new(no_takeover);
    let mut wire = Vec::new();
    for (binary, data) in messages {
        let opcode = if *binary {
            OpCode::Binary
        } else {
            OpCode::Text
        };
        let compressed = server.compress(data);
        let cut = compressed.len() / 2;
        if data.len() % 2 == 0 {
            wire.extend(server_frame(true, true, opcode, &compressed));
        } else {
            wire.extend(server_frame(false, true, opcode, &compressed[..cut]));
            wire.extend(server_frame(
                true,
                false,
                OpCode::Continue,
                &compressed[cut..],
            ));
        }
    }
    let frames = read_all(&mut codec, &wire, step).unwrap();
    let mut read = Vec::new();
    let mut partial = Vec::new();
    for frame in frames {
        match frame {
            WsFrame::Text(data) | WsFrame::Binary(data) => read.push(data.to_vec()),
            WsFrame::Continuation(
                Item::FirstText(data) | Item::FirstBinary(data) | Item::Continue(data),
            ) => partial.extend_from_slice(&data),
            WsFrame::Continuation(Item::Last(data)) => {
                partial.extend_from_slice(&data);
                read.push(std::mem::take(&mut partial));
            }
            other => panic!("{other:?}"),
        }
    }
    let sent: Vec<Vec<u8>> = messages.iter().map(|(_, data)| data.clone()).collect();
    assert_eq!(read, sent);
}

fn message() -> impl Strategy<Value = (bool, Vec<u8>)> {
    prop_oneof![
        // JSON-like text from a small vocabulary, so that back-references happen.
        prop::collection::vec(
            prop::sample::select(vec![
                "{\"user\":",
                "\"text\":",
                "42",
                "[1,2]",
                "hello ",
                "é",
                "}"
            ]),
            0..200
        )
        .prop_map(|words| (false, words.concat().into_bytes())),
        prop::collection::vec(any::<u8>(), 0..3000).prop_map(|data| (true, data)),
    ]
}

proptest! {
    #[test]
    fn compress_then_inflate_round_trips_across_many_messages(
        messages in prop::collection::vec(message(), 1..40),
        no_takeover in any::<bool>(),
        step in 1usize..2000,
    ) {
        round_trip(&messages, no_takeover, step);
    }
}

proptest! {
    /// Whatever a server writes under permessage-deflate (RSV1 anywhere, payloads that
    /// are rarely valid deflate, fragments in any order), the codec never panics, and no
    /// data frame it returns holds more than the limit.
    #[test]
    fn arbitrary_server_frames_never_panic_nor_pass_the_limit(
        frames in prop::collection::vec(
            (any::<bool>(), any::<bool>(), 0u8..3, prop::collection::vec(any::<u8>(), 0..300)),
            0..20,
        ),
        valid in prop::collection::vec("[a-z]{0,2000}", 0..4),
    ) {
        let limit = 1000;
        let mut wire = Vec::new();
        let mut server = Deflater::new(false);
        for text in &valid {
            wire.extend(server_frame(true, true, OpCode::Text, &server.compress(text.as_bytes())));
        }
        for (fin, rsv1, opcode, payload) in &frames {
            let opcode = match opcode {
                0 => OpCode::Continue,
                1 => OpCode::Text,
                _ => OpCode::Binary,
            };
            wire.extend(server_frame(*fin, *rsv1, opcode, payload));
        }
        let mut codec = LimitedCodec::new(limit).with_deflate(Some(agreed()));
        let mut src = BytesMut::from(&wire[..]);
        while let Ok(Some(frame)) = codec.decode(&mut src) {
            let len = match &frame {
                WsFrame::Text(data) | WsFrame::Binary(data) => data.len(),
                WsFrame::Continuation(
                    Item::FirstText(data) | Item::FirstBinary(data) | Item::Continue(data) | Item::Last(data),
                ) => data.len(),
                _ => 0,
            };
            prop_assert!(len <= limit, "{len} bytes");
        }
    }
}
