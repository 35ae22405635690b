//! The HTTP proxy setting: an explicit proxy URL, none at all, or (the default) the
//! environment's `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`, as curl and
//! reqwest read them.
//!
//! Everything here is pure: the environment is passed in as a lookup function, so the
//! resolution is tested without touching the process environment. [`hosts`] says which
//! servers the environment's proxy is not for.

mod hosts;

use std::fmt;

use base64::Engine as _;
use url::Url;

use self::hosts::{is_loopback, no_proxy_matches};
use crate::error::ConfigError;
use crate::protocol::REDACTED;

/// Which proxy a session goes through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum ProxySetting {
    /// The environment's proxy variables, if any (never for a loopback target).
    #[default]
    FromEnvironment,
    /// This proxy, for every target (loopback included).
    Url(ProxyUrl),
    /// No proxy, whatever the environment says.
    Direct,
}

/// A proxy's address, `http://[user:pass@]host:port`, with its credentials
/// percent-decoded. Its `Debug` and `Display` forms never show the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct ProxyUrl {
    /// The host as it goes in a URL (an IPv6 address in brackets).
    host: String,
    port: u16,
    credentials: Option<Credentials>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Credentials {
    user: String,
    password: String,
    /// The user name as the URL spells it (percent-encoded), for display.
    shown_user: String,
}

/// The port of a proxy URL that names none, as reqwest and Go assume for `http://`.
const DEFAULT_PROXY_PORT: u16 = 80;

/// A proxy URL as an error shows it: with credentials, only what follows their last `@`.
/// Not through the URL parser: a URL that does not parse, or parses wrongly (a password
/// with a raw `?` or `/` in it), must not show any of its password either.
fn shown(text: &str) -> String {
    match text.rfind('@') {
        Some(at) => {
            let start = text.find("://").map_or(0, |i| i + 3).min(at);
            format!(
                "{}{}@{}",
                &text[..start],
                crate::protocol::REDACTED,
                &text[at + 1..]
            )
        }
        None => crate::protocol::redact_url(text),
    }
}

impl ProxyUrl {
    /// Parses `http://[user:pass@]host[:port]`; a URL without scheme is taken as
    /// `http://` (as curl does). Other schemes (`https://`, `socks5://`), a path, a
    /// query or a fragment are refused: they would mean something this client does not do.
    pub fn parse(text: &str) -> Result<ProxyUrl, ConfigError> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        // The error names the URL with its password hidden: it may end up in a log.
        let invalid =
            |reason: &str| ConfigError::Proxy(format!("{}: {reason}", shown(&with_scheme)));
        let url = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(invalid(&format!(
                "unsupported proxy scheme {:?}: only http:// proxies are supported",
                url.scheme()
            )));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a proxy URL has no path, query or fragment"));
        }
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host.to_owned(),
            _ => return Err(invalid("no host")),
        };
        let decode = |part: &str| {
            percent_decode(part).ok_or_else(|| invalid("credentials are not valid UTF-8"))
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, password) => Some(Credentials {
                shown_user: user.to_owned(),
                user: decode(user)?,
                password: decode(password.unwrap_or(""))?,
            }),
        };
        Ok(ProxyUrl {
            host,
            port: url.port().unwrap_or(DEFAULT_PROXY_PORT),
            credentials,
        })
    }

    /// The host to dial (without the brackets of an IPv6 address).
    pub fn host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The port to dial.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether credentials were given.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The `Proxy-Authorization` value, `Basic base64(user:password)`, when credentials
    /// were given.
    pub fn authorization(&self) -> Option<String> {
        self.credentials.as_ref().map(|c| {
            let pair = format!("{}:{}", c.user, c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        })
    }
}

/// `http://user:<redacted>@host:port`: fit for logs and error messages.
impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("http://")?;
        if let Some(credentials) = &self.credentials {
            write!(f, "{}:{REDACTED}@", credentials.shown_user)?;
        }
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The proxy to reach `target` (a server URL: `http`, `https`, `ws` or `wss`) through,
/// given the setting and the environment (`env` looks a variable up; empty counts as unset).
///
/// * An explicit URL applies to every target; [`ProxySetting::Direct`] to none.
/// * From the environment: `http_proxy`/`HTTP_PROXY` for `http` and `ws` targets,
///   `https_proxy`/`HTTPS_PROXY` for `https` and `wss`, then `all_proxy`/`ALL_PROXY`
///   (the lower-case form first, as curl reads them); none for a loopback target
///   (`localhost`, `127.0.0.0/8`, `::1`), as Go's `net/http`, nor for a host that
///   `no_proxy`/`NO_PROXY` lists (see [`no_proxy_matches`]). A variable that does not
///   hold a usable proxy URL is a [`ConfigError`] naming it: a silently ignored proxy
///   would be a direct connection the network may not allow.
pub(crate) fn proxy_for(
    setting: &ProxySetting,
    target: &Url,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ProxyUrl>, ConfigError> {
    match setting {
        ProxySetting::Direct => return Ok(None),
        ProxySetting::Url(proxy) => return Ok(Some(proxy.clone())),
        ProxySetting::FromEnvironment => {}
    }
    let Some(host) = target.host_str() else {
        return Ok(None);
    };
    let port = target.port_or_known_default().unwrap_or(0);
    if is_loopback(host) {
        return Ok(None);
    }
    let var = |name: &str| {
        [name.to_ascii_lowercase(), name.to_owned()]
            .into_iter()
            .find_map(|n| env(&n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
    };
    if let Some((_, list)) = var("NO_PROXY") {
        if no_proxy_matches(&list, host, port) {
            return Ok(None);
        }
    }
    let scheme_var = match target.scheme() {
        "https" | "wss" => "HTTPS_PROXY",
        _ => "HTTP_PROXY",
    };
    match var(scheme_var).or_else(|| var("ALL_PROXY")) {
        None => Ok(None),
        Some((name, value)) => ProxyUrl::parse(&value).map(Some).map_err(|e| match e {
            ConfigError::Proxy(why) => ConfigError::Proxy(format!("{name}: {why}")),
            other => other,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn resolve(target: &str, vars: &[(&str, &str)]) -> Option<String> {
        let target = Url::parse(target).unwrap();
        proxy_for(&ProxySetting::FromEnvironment, &target, env(vars))
            .unwrap()
            .map(|p| p.to_string())
    }

    /// A raw `?` or `/` in a password makes the URL unparsable, or parse as a path:
    /// the error still shows none of the password.
    #[test]
    fn errors_show_no_part_of_a_password_the_url_parser_misreads() {
        for url in [
            "http://u:XQZ?XQZ@h:3128",
            "http://user:1234/XQZ@proxy",
            "u:XQZ#XQZ@h:3128",
        ] {
            let error = ProxyUrl::parse(url).expect_err(url).to_string();
            assert!(
                !error.contains("XQZ") && !error.contains("1234"),
                "{url}: {error}"
            );
            assert!(error.contains("<redacted>@"), "{url}: {error}");
        }
    }

    #[test]
    fn a_proxy_url_parses_with_credentials_decoded() {
        let proxy = ProxyUrl::parse("http://al%40ice:p%3Ass@proxy.corp:3128").unwrap();
        assert_eq!((proxy.host(), proxy.port()), ("proxy.corp", 3128));
        // base64("al@ice:p:ss")
        assert_eq!(
            proxy.authorization().as_deref(),
            Some("Basic YWxAaWNlOnA6c3M=")
        );
        assert_eq!(
            proxy.to_string(),
            "http://al%40ice:<redacted>@proxy.corp:3128"
        );
    }

    #[test]
    fn a_proxy_url_without_scheme_or_port_gets_the_defaults() {
        let proxy = ProxyUrl::parse("proxy.corp").unwrap();
        assert_eq!((proxy.host(), proxy.port()), ("proxy.corp", 80));
        assert_eq!(proxy.authorization(), None);
        let v6 = ProxyUrl::parse("http://[::1]:8080/").unwrap();
        assert_eq!((v6.host(), v6.port()), ("::1", 8080));
        assert_eq!(v6.to_string(), "http://[::1]:8080");
    }

    #[test]
    fn unusable_proxy_urls_are_config_errors_without_the_password() {
        for bad in [
            "socks5://u:hunter2@h:1080",
            "https://u:hunter2@h:443",
            "http://u:hunter2@h:8080/path",
            "http://u:hunter2@:8080",
            "http://u:hunter2@h:99999",
        ] {
            let err = ProxyUrl::parse(bad).unwrap_err();
            assert!(matches!(err, ConfigError::Proxy(_)), "{bad}: {err:?}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn debug_and_display_never_show_the_password() {
        let proxy = ProxyUrl::parse("http://user:hunter2@h:1").unwrap();
        assert!(!format!("{proxy:?} {proxy}").contains("hunter2"));
        let setting = ProxySetting::Url(proxy);
        assert!(!format!("{setting:?}").contains("hunter2"));
    }

    #[test]
    fn the_scheme_picks_the_variable_lower_case_first() {
        let vars = [
            ("http_proxy", "http://lower:1"),
            ("HTTP_PROXY", "http://upper:2"),
            ("HTTPS_PROXY", "http://secure:3"),
        ];
        assert_eq!(
            resolve("http://example.com", &vars).as_deref(),
            Some("http://lower:1")
        );
        assert_eq!(
            resolve("ws://example.com", &vars).as_deref(),
            Some("http://lower:1")
        );
        assert_eq!(
            resolve("https://example.com", &vars).as_deref(),
            Some("http://secure:3")
        );
        assert_eq!(
            resolve("wss://example.com", &vars).as_deref(),
            Some("http://secure:3")
        );
        assert_eq!(
            resolve("http://example.com", &[("HTTP_PROXY", "http://upper:2")]).as_deref(),
            Some("http://upper:2")
        );
    }

    #[test]
    fn all_proxy_is_the_fallback_and_empty_values_are_unset() {
        let vars = [("http_proxy", ""), ("ALL_PROXY", "http://all:9")];
        assert_eq!(
            resolve("http://example.com", &vars).as_deref(),
            Some("http://all:9")
        );
        assert_eq!(
            resolve("wss://example.com", &vars).as_deref(),
            Some("http://all:9")
        );
        assert_eq!(resolve("http://example.com", &[]), None);
    }

    #[test]
    fn environment_proxies_skip_loopback_targets() {
        let vars = [("ALL_PROXY", "http://all:9")];
        for target in [
            "http://localhost:3000",
            "ws://127.0.0.1:3000",
            "https://127.8.9.10",
            "http://[::1]:3000",
            "http://LOCALHOST.:1",
        ] {
            assert_eq!(resolve(target, &vars), None, "{target}");
        }
        assert!(resolve("http://localhost.example.com", &vars).is_some());
    }

    #[test]
    fn an_explicit_proxy_applies_to_loopback_and_direct_to_nothing() {
        let target = Url::parse("http://127.0.0.1:3000").unwrap();
        let vars = env(&[("ALL_PROXY", "http://all:9")]);
        let explicit = ProxySetting::Url(ProxyUrl::parse("http://p:1").unwrap());
        let chosen = proxy_for(&explicit, &target, &vars).unwrap();
        assert_eq!(chosen.map(|p| p.to_string()).as_deref(), Some("http://p:1"));
        let remote = Url::parse("http://example.com").unwrap();
        assert_eq!(
            proxy_for(&ProxySetting::Direct, &remote, &vars).unwrap(),
            None
        );
    }

    #[test]
    fn no_proxy_bypasses_the_environment_proxy() {
        let vars = [
            ("HTTP_PROXY", "http://p:1"),
            ("NO_PROXY", "internal.corp, 10.0.0.0/8"),
        ];
        assert_eq!(resolve("http://api.internal.corp", &vars), None);
        assert_eq!(resolve("http://10.1.2.3:8080", &vars), None);
        assert!(resolve("http://example.com", &vars).is_some());
        assert!(resolve("http://11.1.2.3", &vars).is_some());
        let lower = [("HTTP_PROXY", "http://p:1"), ("no_proxy", "*")];
        assert_eq!(resolve("http://example.com", &lower), None);
    }

    #[test]
    fn a_bad_environment_proxy_names_its_variable() {
        let target = Url::parse("http://example.com").unwrap();
        let err = proxy_for(
            &ProxySetting::FromEnvironment,
            &target,
            env(&[("http_proxy", "socks5://u:hunter2@h:1080")]),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("http_proxy") && text.contains("socks5"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
}
