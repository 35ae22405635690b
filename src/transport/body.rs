//! Polling response bodies: whole (as long as announced), and decompressed within a
//! bound, off the arbiter thread, so that a large body does not stall the other
//! sessions that share it.

use std::io::Read;

use awc::http::header::HeaderValue;
use bytes::Bytes;

use crate::protocol::TransportError;

/// Fails when the body is shorter than its `Content-Length`: the connection closed
/// before the whole response arrived, and a cut payload must not pass for a whole one.
pub(crate) fn check_length(
    body: &Bytes,
    announced: Option<&HeaderValue>,
) -> Result<(), TransportError> {
    let Some(announced) = announced.and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok())
    else {
        return Ok(());
    };
    if body.len() < announced {
        return Err(TransportError::ConnectionLost(format!(
            "the response was cut short: {} of {announced} bytes",
            body.len()
        )));
    }
    Ok(())
}

/// Decompresses a body by its `Content-Encoding`, never to more than `limit` bytes; the
/// work runs on the runtime's blocking threads.
pub(crate) async fn decode(
    raw: Bytes,
    encoding: Option<String>,
    limit: usize,
) -> Result<Bytes, TransportError> {
    let identity = encoding
        .as_deref()
        .is_none_or(|e| matches!(e.trim(), "" | "identity"));
    if identity {
        return Ok(raw);
    }
    actix_rt::task::spawn_blocking(move || decode_body(raw, encoding.as_deref(), limit))
        .await
        .unwrap_or_else(|e| {
            Err(TransportError::ConnectionLost(format!(
                "cannot decompress the body: {e}"
            )))
        })
}

/// Whether `raw` starts with a zlib header (RFC 1950): deflate with a window of at most
/// 32 KiB, and the two header bytes a multiple of 31. HTTP's `deflate` is zlib, but some
/// servers send raw deflate, whose first bytes rarely pass this check.
fn is_zlib(raw: &[u8]) -> bool {
    match raw {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Decompresses a body by its `Content-Encoding`, never to more than `limit` bytes.
fn decode_body(raw: Bytes, encoding: Option<&str>, limit: usize) -> Result<Bytes, TransportError> {
    let encoding = encoding.map(|e| e.trim().to_ascii_lowercase());
    let decoder: Box<dyn Read + '_> = match encoding.as_deref() {
        None | Some("identity") | Some("") => return Ok(raw),
        Some("gzip") | Some("x-gzip") => Box::new(flate2::read::GzDecoder::new(&raw[..])),
        // HTTP's "deflate" is zlib-wrapped; some servers send it raw.
        Some("deflate") if is_zlib(&raw) => Box::new(flate2::read::ZlibDecoder::new(&raw[..])),
        Some("deflate") => Box::new(flate2::read::DeflateDecoder::new(&raw[..])),
        Some(other) => {
            return Err(TransportError::ConnectionLost(format!(
                "unsupported content-encoding {other:?}"
            )))
        }
    };
    let mut out = Vec::new();
    decoder
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| TransportError::ConnectionLost(format!("cannot decompress the body: {e}")))?;
    if out.len() > limit {
        return Err(TransportError::BodyTooLarge { limit });
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;

    use super::*;

    fn compress<W: Write>(mut encoder: W, data: &[u8]) -> W {
        encoder.write_all(data).unwrap();
        encoder
    }

    #[test]
    fn gzip_and_both_deflates_decode() {
        let data = b"4hello\x1e4world".repeat(100);
        let gz = compress(GzEncoder::new(Vec::new(), Compression::default()), &data)
            .finish()
            .unwrap();
        let zlib = compress(ZlibEncoder::new(Vec::new(), Compression::default()), &data)
            .finish()
            .unwrap();
        let raw = compress(
            DeflateEncoder::new(Vec::new(), Compression::default()),
            &data,
        )
        .finish()
        .unwrap();
        assert_eq!(decode_body(gz.into(), Some("gzip"), 1 << 20).unwrap(), data);
        assert_eq!(
            decode_body(zlib.into(), Some("deflate"), 1 << 20).unwrap(),
            data
        );
        assert_eq!(
            decode_body(raw.into(), Some("Deflate"), 1 << 20).unwrap(),
            data
        );
    }

    #[test]
    fn decompression_is_bounded() {
        let bomb = compress(
            GzEncoder::new(Vec::new(), Compression::best()),
            &vec![b'4'; 10 << 20],
        )
        .finish()
        .unwrap();
        assert!(bomb.len() < 64 * 1024);
        assert_eq!(
            decode_body(bomb.into(), Some("gzip"), 1 << 20),
            Err(TransportError::BodyTooLarge { limit: 1 << 20 })
        );
    }

    #[test]
    fn plain_and_unknown_encodings() {
        assert_eq!(decode_body("4a".into(), None, 10).unwrap(), "4a");
        assert!(decode_body("4a".into(), Some("br"), 10).is_err());
        assert!(decode_body("not gzip".into(), Some("gzip"), 10).is_err());
    }

    #[test]
    fn raw_deflate_that_looks_like_zlib_in_its_low_bits_still_decodes() {
        // A stored, not final block whose header byte has padding bit 3 set: its low
        // four bits are 8, as a zlib header's are; then a final empty stored block.
        let mut raw = vec![0x08, 5, 0, 0xfa, 0xff];
        raw.extend_from_slice(b"hello");
        raw.extend_from_slice(&[0x01, 0, 0, 0xff, 0xff]);
        assert!(!is_zlib(&raw));
        assert_eq!(
            decode_body(raw.into(), Some("deflate"), 1 << 20).unwrap(),
            "hello"
        );
    }

    #[test]
    fn zlib_headers_are_recognised() {
        let zlib = compress(ZlibEncoder::new(Vec::new(), Compression::default()), b"x")
            .finish()
            .unwrap();
        assert!(is_zlib(&zlib));
        assert!(!is_zlib(&[0x78]));
    }

    #[test]
    fn a_body_shorter_than_announced_is_an_error() {
        let body = Bytes::from_static(b"4hello");
        assert!(check_length(&body, Some(&HeaderValue::from_static("6"))).is_ok());
        assert!(check_length(&body, None).is_ok());
        assert!(check_length(&body, Some(&HeaderValue::from_static("60"))).is_err());
    }
}
