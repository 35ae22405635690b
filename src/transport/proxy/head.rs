//! The bytes of a `CONNECT` exchange (RFC 9110, section 9.3.6), without I/O: the request
//! a tunnel starts with, and the reading of the proxy's answer head.

/// The largest answer head accepted from a proxy: a status line and a few headers.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// The `CONNECT` request for `target` (`host:port`, an IPv6 host in brackets), with
/// `Proxy-Authorization` when `authorization` is given.
pub(crate) fn connect_request(target: &str, authorization: Option<&str>) -> String {
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(authorization) = authorization {
        request.push_str("Proxy-Authorization: ");
        request.push_str(authorization);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request
}

/// The `host:port` a tunnel to `host` (as awc gives it: an IPv6 address may come with
/// or without brackets) on `port` is asked for.
pub(crate) fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Whether `head` (the bytes read so far) ends with the blank line that ends an answer
/// head. The head is read one byte at a time, so the end is only ever checked for last.
pub(crate) fn is_complete(head: &[u8]) -> bool {
    head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n")
}

/// The status code of a complete answer head: `HTTP/1.x SSS reason`.
pub(crate) fn status(head: &[u8]) -> Result<u16, String> {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..line_end]);
    let line = line.trim_end();
    let mut parts = line.splitn(3, ' ');
    let shown = || format!("{:?}", line.chars().take(80).collect::<String>());
    match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") && code.len() == 3 => code
            .parse::<u16>()
            .ok()
            .filter(|c| (100..600).contains(c))
            .ok_or_else(|| format!("bad status line {}", shown())),
        _ => Err(format!("not an HTTP answer: {}", shown())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_target_twice_and_carries_the_credentials() {
        assert_eq!(
            connect_request("example.com:443", None),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        );
        assert_eq!(
            connect_request("[::1]:80", Some("Basic dTpw")),
            "CONNECT [::1]:80 HTTP/1.1\r\nHost: [::1]:80\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
    }

    #[test]
    fn ipv6_hosts_get_brackets_once() {
        assert_eq!(authority("::1", 80), "[::1]:80");
        assert_eq!(authority("[::1]", 80), "[::1]:80");
        assert_eq!(authority("example.com", 8080), "example.com:8080");
    }

    #[test]
    fn a_head_ends_at_the_blank_line() {
        assert!(!is_complete(b"HTTP/1.1 200 OK\r\n"));
        assert!(is_complete(b"HTTP/1.1 200 OK\r\n\r\n"));
        assert!(is_complete(b"HTTP/1.0 200 OK\n\n"));
    }

    #[test]
    fn status_lines_parse_and_garbage_is_refused() {
        assert_eq!(
            status(b"HTTP/1.0 200 Connection established\r\n\r\n"),
            Ok(200)
        );
        assert_eq!(
            status(b"HTTP/1.1 407 Proxy Authentication Required\r\nX: y\r\n\r\n"),
            Ok(407)
        );
        assert_eq!(status(b"HTTP/1.1 204\r\n\r\n"), Ok(204));
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 999 OK\r\n\r\n",
            b"HTTP/2 200\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert!(status(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
