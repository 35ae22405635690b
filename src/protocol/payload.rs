//! Application data: what a message carries.

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;

/// Application data: what a `message` packet carries, either text or binary.
///
/// Conversions make sending natural: `&str` and `String` give text,
/// `Vec<u8>`, `&'static [u8]` and [`Bytes`] give binary, and [`Payload::json`]
/// encodes any [`Serialize`] value compactly as text.
///
/// ```
/// use actix_engineio::Payload;
///
/// assert_eq!(Payload::from("hi").as_text(), Some("hi"));
/// assert_eq!(Payload::from(vec![1u8, 2]).as_binary().map(|b| b.len()), Some(2));
/// let json = Payload::json(&serde_json::json!({"a": 1})).unwrap();
/// assert_eq!(json.as_text(), Some(r#"{"a":1}"#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payload {
    /// A UTF-8 text message.
    Text(ByteString),
    /// A binary message, delivered byte for byte.
    Binary(Bytes),
}

impl Payload {
    /// Encodes `value` as compact JSON text.
    ///
    /// ```
    /// use actix_engineio::Payload;
    ///
    /// let payload = Payload::json(&("move", 3)).unwrap();
    /// assert_eq!(payload, Payload::from(r#"["move",3]"#));
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(Self::from)
    }

    /// The text, if this is a text message.
    ///
    /// ```
    /// use actix_engineio::Payload;
    ///
    /// assert_eq!(Payload::from("hi").as_text(), Some("hi"));
    /// assert_eq!(Payload::from(vec![104, 105]).as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Payload::Text(text) => Some(text),
            Payload::Binary(_) => None,
        }
    }

    /// The bytes, if this is a binary message.
    ///
    /// ```
    /// use actix_engineio::Payload;
    ///
    /// let payload = Payload::from(vec![1, 2, 3]);
    /// assert_eq!(payload.as_binary().map(|data| &data[..]), Some(&[1, 2, 3][..]));
    /// assert_eq!(Payload::from("123").as_binary(), None);
    /// ```
    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Payload::Text(_) => None,
            Payload::Binary(data) => Some(data),
        }
    }

    /// Parses the message as JSON into `T`: a text message, or a binary one holding
    /// UTF-8 JSON.
    ///
    /// ```
    /// use actix_engineio::Payload;
    ///
    /// let n: Vec<u8> = Payload::from("[1,2]").parse_json().unwrap();
    /// assert_eq!(n, [1, 2]);
    /// let n: Vec<u8> = Payload::from(b"[3]".to_vec()).parse_json().unwrap();
    /// assert_eq!(n, [3]);
    /// ```
    pub fn parse_json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self {
            Payload::Text(text) => serde_json::from_str(text),
            Payload::Binary(data) => serde_json::from_slice(data),
        }
    }

    /// Length of the data in bytes (UTF-8 bytes for text).
    ///
    /// ```
    /// use actix_engineio::Payload;
    ///
    /// assert_eq!(Payload::from("€").len(), 3);
    /// assert_eq!(Payload::from(vec![0; 10]).len(), 10);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Payload::Text(text) => text.len(),
            Payload::Binary(data) => data.len(),
        }
    }

    /// Whether the message carries no data at all (an empty text or binary message is valid).
    ///
    /// ```
    /// use actix_engineio::Payload;
    ///
    /// assert!(Payload::from("").is_empty());
    /// assert!(!Payload::from(vec![0]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Self {
        Payload::Text(text.into())
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Payload::Text(text.into())
    }
}

impl From<ByteString> for Payload {
    fn from(text: ByteString) -> Self {
        Payload::Text(text)
    }
}

impl From<Vec<u8>> for Payload {
    fn from(data: Vec<u8>) -> Self {
        Payload::Binary(data.into())
    }
}

impl From<&'static [u8]> for Payload {
    fn from(data: &'static [u8]) -> Self {
        Payload::Binary(Bytes::from_static(data))
    }
}

impl From<Bytes> for Payload {
    fn from(data: Bytes) -> Self {
        Payload::Binary(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_conversions() {
        assert_eq!(Payload::from(String::from("a")), Payload::Text("a".into()));
        assert_eq!(
            Payload::from(&b"\x01"[..]),
            Payload::Binary(Bytes::from_static(b"\x01"))
        );
        assert!(Payload::from("").is_empty());
        assert_eq!(Payload::from("€").len(), 3);
        let v: serde_json::Value = Payload::from(r#"{"k":[1]}"#).parse_json().unwrap();
        assert_eq!(v["k"][0], 1);
    }
}
