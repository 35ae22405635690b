//! The shape of the request URLs beyond the path and query: the name of the cache-buster
//! parameter and the trailing slash of the path (Node's `timestampParam` and
//! `addTrailingSlash`).

use crate::error::ConfigError;

/// The cache-buster's name unless set: `t`, as every Engine.IO client sends it.
pub(crate) const DEFAULT_TIMESTAMP_PARAM: &str = "t";

/// How request URLs are spelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlShape {
    /// The name of the cache-buster query parameter.
    pub timestamp_param: String,
    /// Whether the engine.io path ends with `/`.
    pub trailing_slash: bool,
}

impl Default for UrlShape {
    fn default() -> Self {
        UrlShape {
            timestamp_param: DEFAULT_TIMESTAMP_PARAM.to_owned(),
            trailing_slash: true,
        }
    }
}

/// A cache-buster name that goes in a query as it is: non-empty, of the characters
/// that need no percent-encoding (letters, digits, `-`, `.`, `_`, `~`), and not one of
/// the names Engine.IO itself sends.
pub(crate) fn check_timestamp_param(name: &str) -> Result<(), ConfigError> {
    let refuse = |why: &str| {
        Err(ConfigError::TimestampParam {
            name: name.to_owned(),
            reason: why.to_owned(),
        })
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return refuse("only letters, digits, '-', '.', '_' and '~' go in a query unencoded");
    }
    if ["EIO", "transport", "sid"].contains(&name) {
        return refuse("Engine.IO sends this parameter itself");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_param_names() {
        for good in ["t", "ts", "cache_buster", "x-1.2~"] {
            assert_eq!(check_timestamp_param(good), Ok(()), "{good}");
        }
        for bad in ["", "a b", "t&x=1", "é", "t=", "sid", "EIO", "transport"] {
            assert!(check_timestamp_param(bad).is_err(), "{bad:?}");
        }
    }
}
