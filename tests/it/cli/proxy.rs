//! Proxies from the command line: `--proxy URL` sends the session through it; without it
//! `eio` honours the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, set on the
//! child only); `--no-proxy` turns the environment's proxy off. Each case runs for each
//! API, through a tinyproxy of its own ([`crate::support::tinyproxy`]), whose log shows
//! which tunnels it was asked for.
//!
//! The environment's proxies never apply to a loopback server (as Go's `net/http`), so
//! the environment cases aim at a host that does not exist, `<api>.eio-unreachable.invalid`
//! (`.invalid` never resolves, RFC 6761): through the proxy, the proxy's log has the
//! `CONNECT` to it and `eio` fails with the proxy's refusal; bypassing the proxy, `eio`
//! fails to resolve the name itself and the proxy's log has nothing.

use super::api::{each_api, Api};
use super::harness::{assert_cannot_connect, run, run_with_env, text, Finished};
use crate::support::net::refused_url;
use crate::support::peers::{all_peers, Peer, PeerOptions};
use crate::support::tinyproxy::{ProxyOptions, Tinyproxy};

#[test]
fn proxy_option_sends_the_session_through_the_proxy() {
    let kind = all_peers()[0];
    each_api(|api| {
        let Some(proxy) = Tinyproxy::start_or_skip(ProxyOptions::default()) else {
            return;
        };
        let peer = Peer::start(kind, PeerOptions::default());
        let out = run(
            api,
            &[
                "--json",
                "--proxy",
                &proxy.url(),
                "--send",
                "proxied",
                "--count",
                "1",
                &peer.url(),
            ],
        )
        .context(format!("{kind} peer, --proxy {}", proxy.url()));
        out.assert_session("polling", &[text("proxied")], "client disconnect");
        assert!(
            proxy.tunnels_to(peer.port()) >= 1,
            "no CONNECT to the peer's port {} in the proxy's log:\n{}\n{out}",
            peer.port(),
            proxy.log()
        );
    });
}

/// The name a run of `api` aims at: one per API, as the three run at once through one proxy.
fn missing_host(api: Api) -> String {
    format!("{api}.eio-unreachable.invalid")
}

/// The environment of `eio`: `HTTP_PROXY` and `HTTPS_PROXY` set to `proxy`, the lower-case
/// forms (which curl reads first, and the test process may have) emptied, and `NO_PROXY`.
fn proxy_env<'a>(proxy: &'a str, no_proxy: &'a str) -> [(&'static str, &'a str); 8] {
    [
        ("HTTP_PROXY", proxy),
        ("http_proxy", ""),
        ("HTTPS_PROXY", proxy),
        ("https_proxy", ""),
        ("ALL_PROXY", ""),
        ("all_proxy", ""),
        ("NO_PROXY", no_proxy),
        ("no_proxy", ""),
    ]
}

/// `eio` failed through the proxy, saying so.
fn assert_refused_by_proxy(out: &Finished) {
    assert_cannot_connect(out);
    assert!(
        out.stderr.contains("proxy") && out.stderr.contains("refused the tunnel"),
        "not the proxy's refusal: {out}"
    );
}

#[test]
fn the_environment_proxy_is_used_and_no_proxy_bypasses_it() {
    let Some(proxy) = Tinyproxy::start_or_skip(ProxyOptions::default()) else {
        return;
    };
    let port = refused_url().rsplit(':').next().unwrap().to_string();
    each_api(|api| {
        let host = missing_host(api);
        // The tunnels the proxy was asked for to `host`.
        let connects = || {
            let line = format!("CONNECT {host}:{port} ");
            proxy
                .requests()
                .iter()
                .filter(|r| r.starts_with(&line))
                .count()
        };
        for scheme in ["http", "https"] {
            let url = format!("{scheme}://{host}:{port}");
            let what = format!("{url}, HTTP(S)_PROXY={}", proxy.url());
            let before = connects();
            let out =
                run_with_env(api, &["--json", &url], &proxy_env(&proxy.url(), "")).context(&what);
            assert_refused_by_proxy(&out);
            assert_eq!(
                connects(),
                before + 1,
                "{what}: the proxy's log:\n{}",
                proxy.log()
            );

            let what = format!("{what}, NO_PROXY=.invalid");
            let out = run_with_env(api, &["--json", &url], &proxy_env(&proxy.url(), ".invalid"))
                .context(&what);
            assert_cannot_connect(&out);
            assert!(
                !out.stderr.contains("proxy"),
                "{what}: through the proxy: {out}"
            );

            let what = format!("{url}, HTTP(S)_PROXY={}, --no-proxy", proxy.url());
            let out = run_with_env(
                api,
                &["--json", "--no-proxy", &url],
                &proxy_env(&proxy.url(), ""),
            )
            .context(&what);
            assert_cannot_connect(&out);
            assert!(
                !out.stderr.contains("proxy"),
                "{what}: through the proxy: {out}"
            );
            assert_eq!(
                connects(),
                before + 1,
                "{url}: bypassing runs reached the proxy:\n{}",
                proxy.log()
            );
        }
    });
}

/// Everything `eio` printed (its command line, which holds the password, aside).
fn printed(out: &Finished) -> String {
    format!("{}\n{}", out.stdout.join("\n"), out.stderr)
}

#[test]
fn the_proxy_password_is_never_printed_even_at_trace_level() {
    const PASSWORD: &str = "pw-hunter2-xyz";
    let kind = all_peers()[0];
    each_api(|api| {
        let Some(proxy) = Tinyproxy::start_or_skip(ProxyOptions {
            basic_auth: Some(("alice".into(), PASSWORD.into())),
            ..ProxyOptions::default()
        }) else {
            return;
        };
        let peer = Peer::start(kind, PeerOptions::default());
        let trace = [("RUST_LOG", "trace")];
        let good = proxy.url_with("alice", PASSWORD);
        let out = run_with_env(
            api,
            &[
                "--json",
                "--proxy",
                &good,
                "--send",
                "x",
                "--count",
                "1",
                &peer.url(),
            ],
            &trace,
        )
        .context(format!(
            "{kind} peer, --proxy with credentials, RUST_LOG=trace"
        ));
        out.assert_session("polling", &[text("x")], "client disconnect");
        // The proxy is logged (so the check below looks at text that names it)...
        assert!(
            out.stderr
                .contains("through proxy http://alice:<redacted>@"),
            "{out}"
        );
        // ...and its password never is.
        assert!(
            !printed(&out).contains(PASSWORD),
            "the password printed: {out}"
        );

        let wrong = format!("{PASSWORD}-wrong");
        let bad = proxy.url_with("alice", &wrong);
        let out = run_with_env(api, &["--json", "--proxy", &bad, &peer.url()], &trace).context(
            format!("{kind} peer, --proxy with a wrong password, RUST_LOG=trace"),
        );
        assert_cannot_connect(&out);
        assert!(
            out.stderr.contains("proxy authentication required"),
            "{out}"
        );
        assert!(
            !printed(&out).contains(PASSWORD),
            "the password printed: {out}"
        );
    });
}
