//! A stream entry as the handler sees it: [`Entry`], and the per-entry
//! error its accessors return, [`EntryError`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// One entry of the stream: its id and its fields, in the order Redis
/// stores them. Cloning is cheap (the fields are shared).
///
/// The accessors turn bad input into an [`EntryError`] that names the entry
/// and the field: return it from the handler and the entry fails like any
/// other (it is retried, then dead-lettered), while the consumer goes on.
///
/// # Examples
///
/// ```
/// use failfast_redis::{Entry, EntryError};
///
/// let entry = Entry::new("1-0", [("user", "ada"), ("amount", "12")]);
/// assert_eq!(entry.text("user"), Ok("ada"));
/// assert_eq!(entry.parse::<u32>("amount"), Ok(12));
/// assert!(matches!(entry.get("missing"), Err(EntryError::MissingField { .. })));
/// assert_eq!(
///     entry.parse::<u32>("user").unwrap_err().to_string(),
///     "entry 1-0: field \"user\" is invalid: invalid digit found in string"
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    id: Arc<str>,
    fields: Arc<[(Vec<u8>, Vec<u8>)]>,
}

impl Entry {
    /// An entry with this id and these fields, as Redis would deliver it
    /// (to test a handler without a server, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast_redis::Entry;
    ///
    /// let entry = Entry::new("7-1", [("payload", b"\xff\xfe".as_slice())]);
    /// assert_eq!(entry.id(), "7-1");
    /// assert_eq!(entry.get("payload"), Ok(&b"\xff\xfe"[..]));
    /// ```
    pub fn new<K, V>(id: &str, fields: impl IntoIterator<Item = (K, V)>) -> Entry
    where
        K: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let fields: Vec<(Vec<u8>, Vec<u8>)> = fields
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_vec(), v.as_ref().to_vec()))
            .collect();
        Entry {
            id: Arc::from(id),
            fields: fields.into(),
        }
    }

    pub(crate) fn from_parts(id: Arc<str>, fields: Vec<(Vec<u8>, Vec<u8>)>) -> Entry {
        Entry {
            id,
            fields: fields.into(),
        }
    }

    pub(crate) fn shared_id(&self) -> &Arc<str> {
        &self.id
    }

    /// The entry's id, such as `1700000000000-0`.
    ///
    /// # Examples
    ///
    /// ```
    /// let entry = failfast_redis::Entry::new("5-0", [("k", "v")]);
    /// assert_eq!(entry.id(), "5-0");
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Every field and value, in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// let entry = failfast_redis::Entry::new("5-0", [("a", "1"), ("b", "2")]);
    /// let names: Vec<&[u8]> = entry.fields().iter().map(|(name, _)| name.as_slice()).collect();
    /// assert_eq!(names, [b"a".as_slice(), b"b".as_slice()]);
    /// ```
    pub fn fields(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.fields
    }

    /// The value of field `name` (the first one, if it occurs twice).
    ///
    /// # Errors
    ///
    /// [`EntryError::MissingField`] if the entry has no such field.
    ///
    /// # Examples
    ///
    /// ```
    /// let entry = failfast_redis::Entry::new("5-0", [("a", "1")]);
    /// assert_eq!(entry.get("a"), Ok(&b"1"[..]));
    /// assert!(entry.get("b").is_err());
    /// ```
    pub fn get(&self, name: &str) -> Result<&[u8], EntryError> {
        self.fields
            .iter()
            .find(|(field, _)| field.as_slice() == name.as_bytes())
            .map(|(_, value)| value.as_slice())
            .ok_or_else(|| EntryError::MissingField {
                id: self.id.to_string(),
                field: name.to_string(),
            })
    }

    /// The value of field `name` as UTF-8 text.
    ///
    /// # Errors
    ///
    /// [`EntryError::MissingField`] if the entry has no such field,
    /// [`EntryError::NotUtf8`] if its value is not UTF-8.
    ///
    /// # Examples
    ///
    /// ```
    /// use failfast_redis::{Entry, EntryError};
    ///
    /// let entry = Entry::new("5-0", [("name", b"ada".as_slice()), ("blob", b"\xff".as_slice())]);
    /// assert_eq!(entry.text("name"), Ok("ada"));
    /// assert!(matches!(entry.text("blob"), Err(EntryError::NotUtf8 { .. })));
    /// ```
    pub fn text(&self, name: &str) -> Result<&str, EntryError> {
        std::str::from_utf8(self.get(name)?).map_err(|_| EntryError::NotUtf8 {
            id: self.id.to_string(),
            field: name.to_string(),
        })
    }

    /// The value of field `name`, parsed from UTF-8 text with [`FromStr`].
    ///
    /// # Errors
    ///
    /// As for [`text`](Entry::text), and [`EntryError::Invalid`] with the
    /// parser's message if it does not parse.
    ///
    /// # Examples
    ///
    /// ```
    /// let entry = failfast_redis::Entry::new("5-0", [("n", "42"), ("x", "forty")]);
    /// assert_eq!(entry.parse::<u64>("n"), Ok(42));
    /// assert!(entry.parse::<u64>("x").is_err());
    /// ```
    pub fn parse<T>(&self, name: &str) -> Result<T, EntryError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.text(name)?
            .parse()
            .map_err(|error: T::Err| EntryError::Invalid {
                id: self.id.to_string(),
                field: name.to_string(),
                message: error.to_string(),
            })
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(String, String)> = self
            .fields
            .iter()
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(k).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        f.debug_struct("Entry")
            .field("id", &self.id)
            .field("fields", &fields)
            .finish()
    }
}

/// Bad input in one entry: returned by [`Entry`]'s accessors, it names the
/// entry and the field. Returned from a handler, it fails that entry only.
///
/// # Examples
///
/// ```
/// use failfast_redis::{Entry, EntryError};
///
/// let entry = Entry::new("3-0", [("other", "x")]);
/// let error = entry.text("payload").unwrap_err();
/// assert_eq!(error, EntryError::MissingField { id: "3-0".into(), field: "payload".into() });
/// assert_eq!(error.to_string(), "entry 3-0 has no field \"payload\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The entry has no field of this name.
    #[error("entry {id} has no field {field:?}")]
    MissingField {
        /// The entry's id.
        id: String,
        /// The field's name.
        field: String,
    },
    /// The field's value is not UTF-8.
    #[error("entry {id}: field {field:?} is not UTF-8")]
    NotUtf8 {
        /// The entry's id.
        id: String,
        /// The field's name.
        field: String,
    },
    /// The field's value did not parse.
    #[error("entry {id}: field {field:?} is invalid: {message}")]
    Invalid {
        /// The entry's id.
        id: String,
        /// The field's name.
        field: String,
        /// What the parser said.
        message: String,
    },
}
