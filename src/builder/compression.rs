//! The websocket compression setting.

use super::Builder;

impl<A> Builder<A> {
    /// Whether websockets offer permessage-deflate (RFC 7692) in their handshake
    /// (default: on, as Node's and python's clients do). When the server accepts it,
    /// messages of 16 bytes and more are sent compressed, and compressed messages are
    /// inflated, each within [`max_frame_size`](Self::max_frame_size); a server that
    /// does not accept it gets plain frames. Polling is not concerned.
    ///
    /// Turn it off when messages mix secrets with data an attacker chooses: compressed
    /// in one context, the size of what is sent can tell the secret (CRIME/BREACH), and
    /// the context is the whole socket. Off, the handshake offers nothing.
    ///
    /// ```
    /// use actix_engineio::Session;
    ///
    /// // Session tokens travel in the messages, next to user input: no compression.
    /// let builder = Session::builder("http://127.0.0.1:3000").per_message_deflate(false);
    /// assert!(format!("{:?}", builder.client_config()).contains("per_message_deflate: false"));
    /// ```
    pub fn per_message_deflate(mut self, on: bool) -> Self {
        self.config.per_message_deflate = on;
        self
    }
}
