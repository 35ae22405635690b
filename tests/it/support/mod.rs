//! What the tests share, by concern:
//!
//! * [`peers`]: the real servers (node `engine.io`, `python-engineio`, in-process
//!   `engineioxide`): starting them, which of them run (`EIO_TEST_PEERS`), and what they
//!   logged;
//! * [`client`]: the client side: the event recorder, [`client::Client`], the transport
//!   [`client::Mode`]s, waits with deadlines and assertions on messages;
//! * [`scripted`]: a scripted HTTP/websocket server for what real servers never do on demand
//!   (malformed packets, missing pings, stalled bodies), and [`scripted_echo`], a scripted
//!   long-polling echo server that records POST bodies and websocket frames;
//! * [`examples`]: the crate's example binaries, built once for the tests that run them;
//! * [`net`]: listeners nobody may connect to, refused ports, request parsing;
//! * [`fault_proxy`]: a TCP proxy that cuts, stalls, refuses or slows connections on command,
//!   or records what goes through, parsed by [`wire`] into HTTP messages, websocket
//!   messages and Engine.IO packets;
//! * [`pki`]: a throw-away certificate authority for the TLS tests, and temporary files and
//!   directories that hand its PEMs to a client or a peer process;
//! * [`tinyproxy`]: a real HTTP proxy (Debian's `tinyproxy`) for the proxy tests, with
//!   its log of the tunnels it opened;
//! * [`chaos`]: a server playing hostile but plausible Engine.IO from a seed, logging
//!   what the client may and may not deliver.

pub mod chaos;
pub mod client;
pub mod examples;
pub mod fault_proxy;
pub mod net;
pub mod peers;
pub mod pki;
pub mod scripted;
pub mod scripted_echo;
pub mod tinyproxy;
pub mod wire;
