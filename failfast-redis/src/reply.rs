//! Reading the raw replies of the stream commands, leniently per entry: an
//! entry whose fields Redis could not give (deleted while pending) comes
//! back as such, never as an error for the whole reply.

use std::sync::Arc;

use redis::Value;

use crate::error::Error;

/// One entry of a reply: its id and its fields, or `None` when it was
/// deleted from the stream while pending.
pub(crate) type RawEntry = (Arc<str>, Option<Vec<(Vec<u8>, Vec<u8>)>>);

fn unexpected(command: &'static str, value: &Value) -> Error {
    let mut reply = format!("{value:?}");
    if reply.len() > 200 {
        let mut end = 200;
        while !reply.is_char_boundary(end) {
            end -= 1;
        }
        reply.truncate(end);
        reply.push_str("...");
    }
    Error::Reply { command, reply }
}

/// The elements of an array (or set) reply.
fn items(value: Value) -> Option<Vec<Value>> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

/// The bytes of a string reply.
pub(crate) fn bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.into_bytes()),
        Value::VerbatimString { text, .. } => Some(text.into_bytes()),
        _ => None,
    }
}

/// A string reply as text.
pub(crate) fn text(value: Value) -> Option<String> {
    bytes(value).and_then(|b| String::from_utf8(b).ok())
}

/// An integer reply (also given as text by some commands).
pub(crate) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

/// The entries of a list of `[id, [field, value, ...]]` (a stream range).
fn entries(command: &'static str, value: Value) -> Result<Vec<RawEntry>, Error> {
    let list = items(value.clone()).ok_or_else(|| unexpected(command, &value))?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let bad = || unexpected(command, &item);
        let mut parts = items(item.clone()).ok_or_else(bad)?.into_iter();
        let id = parts.next().and_then(text).ok_or_else(bad)?;
        let fields = match parts.next() {
            None | Some(Value::Nil) => None,
            Some(Value::Map(pairs)) => Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| Some((bytes(k)?, bytes(v)?)))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(bad)?,
            ),
            Some(flat) => {
                let flat = items(flat).ok_or_else(bad)?;
                let mut fields = Vec::with_capacity(flat.len() / 2);
                let mut flat = flat.into_iter();
                while let Some(k) = flat.next() {
                    let v = flat.next().ok_or_else(bad)?;
                    fields.push((bytes(k).ok_or_else(bad)?, bytes(v).ok_or_else(bad)?));
                }
                Some(fields)
            }
        };
        out.push((Arc::from(id), fields));
    }
    Ok(out)
}

/// The entries of an `XREADGROUP` reply for one stream (none on a timeout).
pub(crate) fn read_group(value: Value) -> Result<Vec<RawEntry>, Error> {
    const COMMAND: &str = "XREADGROUP";
    match value {
        Value::Nil => Ok(Vec::new()),
        Value::Map(streams) => match streams.into_iter().next() {
            Some((_, list)) => entries(COMMAND, list),
            None => Ok(Vec::new()),
        },
        other => {
            let streams = items(other.clone()).ok_or_else(|| unexpected(COMMAND, &other))?;
            let Some(stream) = streams.into_iter().next() else {
                return Ok(Vec::new());
            };
            let mut parts = items(stream.clone())
                .ok_or_else(|| unexpected(COMMAND, &stream))?
                .into_iter();
            match parts.nth(1) {
                Some(list) => entries(COMMAND, list),
                None => Err(unexpected(COMMAND, &stream)),
            }
        }
    }
}

/// An `XAUTOCLAIM` reply: the cursor to go on from, the claimed entries,
/// and the ids that were deleted from the stream (Redis dropped them from
/// the pending list itself).
pub(crate) fn auto_claim(value: Value) -> Result<(String, Vec<RawEntry>, Vec<String>), Error> {
    const COMMAND: &str = "XAUTOCLAIM";
    let bad = || unexpected(COMMAND, &value);
    let mut parts = items(value.clone()).ok_or_else(bad)?.into_iter();
    let cursor = parts.next().and_then(text).ok_or_else(bad)?;
    let claimed = entries(COMMAND, parts.next().ok_or_else(bad)?)?;
    let deleted = match parts.next() {
        None => Vec::new(),
        Some(list) => items(list)
            .ok_or_else(bad)?
            .into_iter()
            .map(text)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?,
    };
    Ok((cursor, claimed, deleted))
}

/// The delivery count of the one entry an extended `XPENDING` was asked
/// about, or `None` if it is no longer pending.
pub(crate) fn pending_deliveries(value: Value) -> Result<Option<u64>, Error> {
    const COMMAND: &str = "XPENDING";
    let bad = || unexpected(COMMAND, &value);
    let Some(first) = items(value.clone()).ok_or_else(bad)?.into_iter().next() else {
        return Ok(None);
    };
    let parts = items(first).ok_or_else(bad)?;
    let count = parts.get(3).and_then(int).ok_or_else(bad)?;
    Ok(Some(u64::try_from(count).unwrap_or(0)))
}

/// The number of pending entries in an `XPENDING` summary.
pub(crate) fn pending_count(value: Value) -> Result<u64, Error> {
    const COMMAND: &str = "XPENDING";
    let bad = || unexpected(COMMAND, &value);
    let parts = items(value.clone()).ok_or_else(bad)?;
    let count = parts.first().and_then(int).ok_or_else(bad)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The ids an `XCLAIM ... JUSTID` reply lists.
pub(crate) fn ids(command: &'static str, value: Value) -> Result<Vec<String>, Error> {
    let bad = || unexpected(command, &value);
    items(value.clone())
        .ok_or_else(bad)?
        .into_iter()
        .map(text)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn a_read_reply_keeps_deleted_entries_apart() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("s"),
            Value::Array(vec![
                Value::Array(vec![bulk("1-0"), Value::Array(vec![bulk("a"), bulk("1")])]),
                Value::Array(vec![bulk("2-0"), Value::Nil]),
            ]),
        ])]);
        let entries = read_group(reply).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(&*entries[0].0, "1-0");
        assert_eq!(entries[0].1, Some(vec![(b"a".to_vec(), b"1".to_vec())]));
        assert_eq!((&*entries[1].0, &entries[1].1), ("2-0", &None));
        assert!(read_group(Value::Nil).unwrap().is_empty());
    }

    #[test]
    fn an_odd_field_list_is_an_unexpected_reply() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("s"),
            Value::Array(vec![Value::Array(vec![
                bulk("1-0"),
                Value::Array(vec![bulk("a")]),
            ])]),
        ])]);
        let error = read_group(reply).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("unexpected reply to XREADGROUP")
        );
    }

    #[test]
    fn an_auto_claim_reply_has_a_cursor_entries_and_deleted_ids() {
        let reply = Value::Array(vec![
            bulk("5-0"),
            Value::Array(vec![Value::Array(vec![
                bulk("3-0"),
                Value::Array(vec![bulk("k"), bulk("v")]),
            ])]),
            Value::Array(vec![bulk("4-0")]),
        ]);
        let (cursor, claimed, deleted) = auto_claim(reply).unwrap();
        assert_eq!(cursor, "5-0");
        assert_eq!(&*claimed[0].0, "3-0");
        assert_eq!(deleted, ["4-0"]);
    }

    #[test]
    fn pending_replies() {
        let one = Value::Array(vec![Value::Array(vec![
            bulk("1-0"),
            bulk("c"),
            Value::Int(10),
            Value::Int(3),
        ])]);
        assert_eq!(pending_deliveries(one).unwrap(), Some(3));
        assert_eq!(pending_deliveries(Value::Array(vec![])).unwrap(), None);
        let summary = Value::Array(vec![Value::Int(7), Value::Nil, Value::Nil, Value::Nil]);
        assert_eq!(pending_count(summary).unwrap(), 7);
    }
}
