//! `Content-Encoding: deflate` (docs/protocol.md section 4) is zlib-wrapped deflate by
//! HTTP's definition (RFC 9110 section 8.4.1.2), but some servers send raw deflate. The
//! client tells them apart by the zlib header (RFC 1950 section 2.2): CM = 8 in the low
//! four bits of the first byte, CINFO <= 7 in its high four, and the first two bytes,
//! read as a big-endian number, a multiple of 31. The low four bits alone are not enough:
//! a raw stream can have them too, and was then fed to the zlib decoder, which failed.

use std::io::{Read, Write};

use actix_engineio::{Payload, Session};
use flate2::read::{DeflateDecoder, ZlibDecoder};
use flate2::write::{DeflateEncoder, ZlibEncoder};
use flate2::Compression;

use super::polling_server;
use crate::support::client::{assert_payloads, Client, DEADLINE};
use crate::support::scripted::Reply;

/// The payload of the poll answer: two text messages.
const PAYLOAD: &str = "4deflated, raw or not\x1e4the second message";

/// A raw deflate stream of `data` whose first byte has the low four bits of a zlib header
/// (8) though its first two bytes fail the `% 31` check.
///
/// No encoder writes one by itself: the low three bits of a raw stream's first byte are
/// BFINAL and BTYPE, so a low nibble of 8 means a stored block that is not the last one
/// (BTYPE 00), whose header is padded to the byte boundary with bits that encoders set to
/// 0 and decoders ignore (RFC 1951 section 3.2.4). So: flate2's stored blocks (level 0,
/// flushed so that the data block is not the final one), with padding bit 3 set.
fn raw_deflate_looking_like_zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::none());
    encoder.write_all(data).unwrap();
    encoder.flush().unwrap();
    let mut raw = encoder.finish().unwrap();
    assert_eq!(
        raw[0], 0x00,
        "flate2 should start with a stored, not final block"
    );
    raw[0] |= 0x08;
    raw
}

/// A zlib-wrapped deflate stream of `data`.
fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A polling session whose first poll is answered with `body` as `Content-Encoding:
/// deflate` must deliver the two messages of [`PAYLOAD`] and stay open.
async fn delivered(label: &str, body: Vec<u8>) {
    let server = polling_server("deflate", move |n| match n {
        0 => Reply::Http {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/plain; charset=UTF-8".into()),
                ("content-encoding".into(), "deflate".into()),
            ],
            body: body.clone(),
        },
        _ => Reply::Hang,
    });
    let client = Client::connect(
        label,
        Session::builder(server.url()).transports(["polling"]),
    )
    .await;
    let got = client.wait_messages(2, DEADLINE).await;
    client.assert_alive();
    assert_payloads(
        label,
        &got,
        &[
            Payload::from("deflated, raw or not"),
            Payload::from("the second message"),
        ],
    );
    client.close().await;
}

/// Raw deflate whose first byte's low four bits are 8, as a zlib header's, and whose first
/// two bytes are not a multiple of 31: it is decoded as raw deflate and delivered.
#[actix_rt::test]
async fn raw_deflate_that_looks_like_zlib_in_its_low_bits_is_delivered() {
    let body = raw_deflate_looking_like_zlib(PAYLOAD.as_bytes());
    // The body is what this test says it is: a valid raw stream of the payload, that the
    // low-four-bits check took for zlib, that fails the % 31 check, and that a zlib
    // decoder refuses.
    let mut decoded = String::new();
    DeflateDecoder::new(&body[..])
        .read_to_string(&mut decoded)
        .expect("a valid raw deflate stream");
    assert_eq!(decoded, PAYLOAD);
    assert_eq!(body[0] & 0x0f, 8, "low four bits of the first byte");
    assert_ne!(
        (u16::from(body[0]) << 8 | u16::from(body[1])) % 31,
        0,
        "the first two bytes must fail the zlib check"
    );
    assert!(
        ZlibDecoder::new(&body[..])
            .read_to_end(&mut Vec::new())
            .is_err(),
        "a zlib decoder must refuse the body"
    );
    delivered("[scripted, raw deflate, low bits of a zlib header]", body).await;
}

/// Zlib-wrapped deflate, as HTTP defines `deflate`: decoded and delivered.
#[actix_rt::test]
async fn zlib_wrapped_deflate_is_delivered() {
    let body = zlib(PAYLOAD.as_bytes());
    assert_eq!(
        (u16::from(body[0]) << 8 | u16::from(body[1])) % 31,
        0,
        "a zlib header"
    );
    delivered("[scripted, zlib-wrapped deflate]", body).await;
}
